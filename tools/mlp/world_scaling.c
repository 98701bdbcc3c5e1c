/* Input scaling fitted over the rows of every process. In the sharded mode
 * each process holds only its part of the training set, and the network
 * (scaling included) must be the same everywhere, so the statistics are
 * reduced across processes. The formulas are mlp_fit_input_scaling's
 * (src/scaling.c): min and range, or the mean and the population standard
 * deviation in two passes, a constant feature scaled by 1. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>

static void fit_minmax(const cli_world *w, const float *X, size_t n, size_t d, double *acc,
                       float *offset, float *scale)
{
    size_t i, j;
    /* acc[j] = min, acc[d + j] = max; a process without rows adds nothing. */
    for (j = 0; j < d; j++) {
        acc[j] = INFINITY;
        acc[d + j] = -INFINITY;
    }
    for (i = 0; i < n; i++)
        for (j = 0; j < d; j++) {
            double v = X[i * d + j];
            if (v < acc[j]) acc[j] = v;
            if (v > acc[d + j]) acc[d + j] = v;
        }
    cli_world_reduce_doubles(w, acc, d, -1);
    cli_world_reduce_doubles(w, acc + d, d, 1);
    for (j = 0; j < d; j++) {
        double range = acc[d + j] - acc[j];
        offset[j] = (float)acc[j];
        scale[j] = range > 0 ? (float)(1.0 / range) : 1.0f;
    }
}

static void fit_standard(const cli_world *w, const float *X, size_t n, size_t n_all, size_t d,
                         double *acc, float *offset, float *scale)
{
    size_t i, j;
    for (i = 0; i < n; i++)
        for (j = 0; j < d; j++) acc[j] += X[i * d + j];
    cli_world_reduce_doubles(w, acc, d, 0);
    for (j = 0; j < d; j++) acc[j] /= (double)n_all;
    for (i = 0; i < n; i++)
        for (j = 0; j < d; j++) {
            double dev = X[i * d + j] - acc[j];
            acc[d + j] += dev * dev;
        }
    cli_world_reduce_doubles(w, acc + d, d, 0);
    for (j = 0; j < d; j++) {
        double sd = sqrt(acc[d + j] / (double)n_all);
        int constant = sd <= 1e-7 * fabs(acc[j]) || !((float)(1.0 / sd) < INFINITY);
        offset[j] = (float)acc[j];
        scale[j] = constant ? 1.0f : (float)(1.0 / sd);
    }
}

int cli_world_fit_scaling(const cli_world *w, mlp_network *net, const float *X, size_t n,
                          int minmax, const char *cmd)
{
    size_t d = mlp_input_size(net), n_all = cli_world_sum(w, n);
    double *acc = calloc(2 * d, sizeof *acc);
    float *offset = malloc(d * sizeof *offset), *scale = malloc(d * sizeof *scale);
    /* Every process takes part in the reductions below, so a failure here
     * is agreed first. */
    int rc = cli_world_agree(w, acc == NULL || offset == NULL || scale == NULL ? CLI_FAIL : 0);
    mlp_status st;
    if (rc == 0 && n_all == 0) rc = cli_error(CLI_FAIL, cmd, "no training rows to fit the scaling on");
    if (rc == 0) {
        if (minmax) fit_minmax(w, X, n, d, acc, offset, scale);
        else fit_standard(w, X, n, n_all, d, acc, offset, scale);
        if ((st = mlp_set_input_scaling(net, offset, scale)) != MLP_OK)
            rc = cli_lib_error(cmd, "input scaling", st);
    } else if (acc == NULL || offset == NULL || scale == NULL) {
        rc = cli_error(CLI_FAIL, cmd, "out of memory");
    }
    free(acc);
    free(offset);
    free(scale);
    return rc;
}
