/* Checks of caller data shared by the passes and the trainer: finiteness
 * and class indices. */
#include "checks.h"
#include "network.h"
#include "vec.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

MLP__VEC_CLONES static int all_finite(const float *x, size_t n)
{
    /* x - x is 0 exactly for finite x and NaN otherwise; with no early
     * exit the integer AND vectorises (a step checks its whole batch). */
    size_t i;
    int ok = 1;
    for (i = 0; i < n; i++) {
        float d = x[i] - x[i];
        ok &= d == 0.0f;
    }
    return ok;
}

int mlp__all_finite(const float *x, size_t n) { return all_finite(x, n); }

/* The largest |x[i]|, or INFINITY when some x[i] is not finite. On the
 * bits: with the sign cleared, IEEE floats order as integers, NaN and
 * infinity above every finite value; the integer max vectorises, a float
 * max (NaN-aware) does not. */
MLP__VEC_CLONES static float max_abs(const float *x, size_t n)
{
    size_t i;
    uint32_t m = 0;
    float f;
    for (i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        u &= 0x7fffffffu;
        m = u > m ? u : m;
    }
    if (m >= 0x7f800000u) return INFINITY;
    memcpy(&f, &m, sizeof f);
    return f;
}

float mlp__max_abs(const float *x, size_t n) { return max_abs(x, n); }

mlp_status mlp__check_finite(const float *x, size_t n, const char *what)
{
    size_t i;
    if (mlp__all_finite(x, n)) return MLP_OK;
    for (i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return mlp__fail(MLP_ERR_NONFINITE, "%s[%zu] is %g", what, i, (double)x[i]);
    return MLP_OK;
}

mlp_status mlp__check_targets(const mlp_network *net, const void *targets, size_t batch)
{
    size_t n_out = net->sizes[net->n_layers], i, count;
    if (net->loss == MLP_LOSS_SOFTMAX_CE) {
        const int32_t *y = targets;
        for (i = 0; i < batch; i++)
            if (y[i] < 0 || (size_t)y[i] >= n_out)
                return mlp__fail(MLP_ERR_LABEL, "class index %ld of row %zu is outside 0..%zu",
                                 (long)y[i], i, n_out - 1);
        return MLP_OK;
    }
    if (!mlp__mul_ok(batch, n_out, &count))
        return mlp__fail(MLP_ERR_SIZE, "batch %zu x %zu outputs overflows", batch, n_out);
    return mlp__check_finite(targets, count, "targets");
}
