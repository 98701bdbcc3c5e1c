/* The header's promises, checked after every call; a broken one aborts
 * with a message (this is a fuzzer: abort is how it reports). */
#include "api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_api: broken promise: %s: %s (last error: \"%s\")\n", what,
            detail ? detail : "", mlp_last_error());
    abort();
}

/* A known status; after a failure, mlp_last_error says something. */
void api_status(mlp_status st, const char *call)
{
    if ((unsigned)st >= (unsigned)MLP_STATUS_END_ || (API_CALL_RULE == 0 && st == API_ERR_BUSY))
        api_fail(call, "unknown status");
    if (st != MLP_OK && mlp_last_error()[0] == '\0') api_fail(call, "failed with no message");
}

void api_expect(mlp_status st, mlp_status want, const char *call)
{
    char msg[96];
    api_status(st, call);
    if (st == want) return;
    snprintf(msg, sizeof msg, "returned %s, expected %s", mlp_status_name(st),
             mlp_status_name(want));
    api_fail(call, msg);
}

/* An OUT buffer pre-filled with `fill` that a failing call must not touch. */
void api_untouched(const void *p, size_t bytes, unsigned char fill, const char *call)
{
    const unsigned char *b = p;
    size_t i;
    for (i = 0; i < bytes; i++)
        if (b[i] != fill) api_fail(call, "wrote an OUT parameter although it failed");
}

void api_snap_take(const mlp_network *net, api_snap *sn)
{
    size_t l, L = mlp_num_layers(net);
    memset(sn, 0, sizeof *sn);
    sn->n_params = mlp_num_params(net);
    sn->params = malloc(sn->n_params * sizeof(float) + 1);
    if (!sn->params) api_fail("snapshot", "out of memory");
    memcpy(sn->params, mlp_params_const(net), sn->n_params * sizeof(float));
    sn->cap = mlp_capacity(net);
    sn->loss = mlp_get_loss(net);
    sn->l2 = mlp_get_l2(net);
    for (l = 0; l < L && l < 5; l++) sn->dropout[l] = mlp_get_dropout(net, l);
    sn->scaled = mlp_has_input_scaling(net);
    if (sn->scaled && mlp_input_size(net) <= API_WIDTH &&
        mlp_get_input_scaling(net, sn->off, sn->scale) != MLP_OK)
        api_fail("mlp_get_input_scaling", "fails although mlp_has_input_scaling says 1");
}

void api_snap_same(const mlp_network *net, api_snap *sn, const char *call)
{
    api_snap now;
    size_t l;
    api_snap_take(net, &now);
    if (now.n_params != sn->n_params ||
        memcmp(now.params, sn->params, sn->n_params * sizeof(float)) != 0)
        api_fail(call, "failed but changed the parameters");
    if (now.loss != sn->loss || memcmp(&now.l2, &sn->l2, sizeof now.l2) != 0 ||
        now.scaled != sn->scaled || now.cap != sn->cap)
        api_fail(call, "failed but changed the loss, l2, input scaling or capacity");
    for (l = 0; l < 5; l++)
        if (memcmp(&now.dropout[l], &sn->dropout[l], sizeof(float)) != 0)
            api_fail(call, "failed but changed a dropout rate");
    if (memcmp(now.off, sn->off, sizeof now.off) || memcmp(now.scale, sn->scale, sizeof now.scale))
        api_fail(call, "failed but changed the input scaling");
    api_snap_free(&now);
}

void api_snap_free(api_snap *sn)
{
    free(sn->params);
    sn->params = NULL;
}

void api_check(mlp_status st, int want, const char *call)
{
    if (want == API_ANY) api_status(st, call);
    else if (want == API_ANY_FAIL && st == MLP_OK) api_fail(call, "succeeded on bad arguments");
    else if (want >= 0) api_expect(st, (mlp_status)want, call);
    else api_status(st, call);
}

int api_want(int use, int bad)
{
    if (use == API_REFUSED) return bad ? API_ANY_FAIL : (int)API_ERR_BUSY;
    return bad;
}

void api_after(mlp_network *net, api_snap *sn, mlp_status st, int want, const char *call)
{
    api_check(st, want, call);
    if (st != MLP_OK && st != MLP_ERR_DIVERGED) api_snap_same(net, sn, call);
    api_snap_free(sn);
}

int api_finite(const float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

int api_tame(const float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!(fabsf(x[i]) <= 1e3f)) return 0;
    return 1;
}

/* Finite, moderate inputs, parameters and scaling through at most four
 * layers of width 16 cannot overflow a float: the output must be finite. */
void api_finite_out(mlp_network *net, const float *X, size_t rows, const float *Y,
                    const char *call)
{
    size_t n_in = mlp_input_size(net), i, n = rows * mlp_output_size(net);
    float off[API_WIDTH], scale[API_WIDTH];
    if (!api_tame(X, rows * n_in) || !api_tame(mlp_params_const(net), mlp_num_params(net)))
        return;
    if (mlp_has_input_scaling(net)) {
        if (n_in > API_WIDTH || mlp_get_input_scaling(net, off, scale) != MLP_OK) return;
        if (!api_tame(off, n_in) || !api_tame(scale, n_in)) return;
    }
    for (i = 0; i < n; i++)
        if (!isfinite(Y[i])) api_fail(call, "non-finite output for finite inputs and weights");
}

/* What a loaded data set must satisfy whatever the file held. */
void api_check_dataset(const mlp_dataset *ds, const char *call)
{
    size_t rows = mlp_dataset_rows(ds), cols = mlp_dataset_cols(ds), i, k = 0;
    const float *F = mlp_dataset_features(ds), *V = mlp_dataset_values(ds);
    const int32_t *C = mlp_dataset_classes(ds);
    size_t nc = mlp_dataset_num_classes(ds), tc = mlp_dataset_target_cols(ds);
    int32_t top = -1;
    if (rows == 0 || cols == 0 || !F) api_fail(call, "an empty data set loaded");
    for (i = 0; i < rows * cols; i++)
        if (!isfinite(F[i])) api_fail(call, "a non-finite feature");
    if (C) {
        for (i = 0; i < rows; i++) {
            if (C[i] < 0 || (size_t)C[i] >= nc) api_fail(call, "a class outside 0..num_classes");
            if (C[i] > top) top = C[i];
        }
        if ((size_t)top + 1 != nc) api_fail(call, "num_classes is not 1 + the largest class");
    } else if (nc != 0) {
        api_fail(call, "num_classes without classes");
    }
    if (V) {
        if (tc == 0) api_fail(call, "values without target columns");
        for (k = 0; k < rows * tc; k++)
            if (!isfinite(V[k])) api_fail(call, "a non-finite target value");
    } else if (tc != 0) {
        api_fail(call, "target columns without values");
    }
}
