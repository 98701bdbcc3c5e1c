/* Fitting the input scaling x' = (x - offset) * scale that a network
 * carries (mlp_set_input_scaling), so a saved model predicts on raw data. */
#include "checks.h"
#include "guard.h"
#include "network.h"

#include <math.h>

static mlp_status fit_input_scaling(mlp_network *net, const float *X, size_t n, mlp_scaling kind)
{
    float *offset = NULL, *scale = NULL;
    double *acc = NULL;
    size_t d, i, j, bytes;
    mlp_status st;

    MLP__CHECK_NULL(net);
    if ((unsigned)kind >= MLP_SCALE_COUNT_)
        return mlp__fail(MLP_ERR_ARGUMENT, "unknown scaling kind %d", (int)kind);
    if (kind == MLP_SCALE_NONE) return mlp__set_input_scaling(net, NULL, NULL);
    MLP__CHECK_NULL(X);
    if (n == 0) return mlp__fail(MLP_ERR_SIZE, "fitting a scaling needs at least one row");
    d = mlp_input_size(net);
    if (!mlp__mul_ok(n, d, &bytes)) return mlp__fail(MLP_ERR_SIZE, "%zu x %zu overflows", n, d);
    st = mlp__check_finite(X, bytes, "X");
    if (st != MLP_OK) return st;
    if (!mlp__mul_ok(d, 2 * sizeof(double), &bytes))
        return mlp__fail(MLP_ERR_SIZE, "%zu inputs overflow", d);

    offset = mlp__malloc(d * sizeof(float));
    scale = mlp__malloc(d * sizeof(float));
    acc = mlp__calloc(2 * d, sizeof(double));
    if (offset == NULL || scale == NULL || acc == NULL) {
        st = mlp__fail(MLP_ERR_NOMEM, "scaling of %zu inputs", d);
        goto done;
    }
    if (kind == MLP_SCALE_MINMAX) {
        /* acc[j] = min, acc[d + j] = max */
        for (j = 0; j < d; j++) acc[j] = acc[d + j] = X[j];
        for (i = 1; i < n; i++)
            for (j = 0; j < d; j++) {
                double v = X[i * d + j];
                if (v < acc[j]) acc[j] = v;
                if (v > acc[d + j]) acc[d + j] = v;
            }
        for (j = 0; j < d; j++) {
            double range = acc[d + j] - acc[j];
            offset[j] = (float)acc[j];
            scale[j] = range > 0 ? (float)(1.0 / range) : 1.0f;
        }
    } else {
        /* Two passes: acc[j] = mean, acc[d + j] = sum of squared deviations. */
        for (i = 0; i < n; i++)
            for (j = 0; j < d; j++) acc[j] += X[i * d + j];
        for (j = 0; j < d; j++) acc[j] /= (double)n;
        for (i = 0; i < n; i++)
            for (j = 0; j < d; j++) {
                double dev = X[i * d + j] - acc[j];
                acc[d + j] += dev * dev;
            }
        for (j = 0; j < d; j++) {
            double sd = sqrt(acc[d + j] / (double)n);
            /* Rounding leaves a constant feature a deviation of ~1e-16 * mean. */
            int constant = sd <= 1e-7 * fabs(acc[j]) || !((float)(1.0 / sd) < INFINITY);
            offset[j] = (float)acc[j];
            scale[j] = constant ? 1.0f : (float)(1.0 / sd);
        }
    }
    st = mlp__set_input_scaling(net, offset, scale);

done:
    mlp__free(offset);
    mlp__free(scale);
    mlp__free(acc);
    return st;
}

mlp_status mlp_fit_input_scaling(mlp_network *net, const float *X, size_t n, mlp_scaling kind)
{
    MLP__GUARDED(net, MLP__CHANGE, "network", fit_input_scaling(net, X, n, kind));
}
