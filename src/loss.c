/* Losses, each per sample and summed here (callers divide by the batch),
 * fused with their output error terms dL/dZ(L). */
#include "activation.h"
#include "network.h"
#include "pass.h"
#include "scalar.h"
#include "vec.h"

#include <math.h>
#include <string.h>

static size_t argmax(const float *o, size_t n)
{
    size_t k, best = 0;
    for (k = 1; k < n; k++)
        if (o[k] > o[best]) best = k;
    return best;
}

/* x = e^x over n values, all <= 0: one vectorised pass. */
MLP__VEC_CLONES static void exp_nonpos_n(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = mlp__exp_nonpos(x[i]);
}

/* -log softmax(o)_y = logsumexp(o) - o_y; delta = softmax(o) - onehot(y).
 * Subtracting the row's max keeps every exp in (0, 1]. With delta, the
 * exps of the whole batch are one vectorised pass over delta (o - m
 * written there first); without, each row's are summed as they come. The
 * same float exp either way, so evaluation and training agree. */
static double softmax_ce(const float *O, const int32_t *y, const float *w, size_t rows, size_t n,
                         float scale, float *delta, size_t *correct)
{
    double sum = 0.0;
    size_t r, k, right = 0;
    if (delta) {
        for (r = 0; r < rows; r++) {
            const float *o = O + r * n;
            float m = o[argmax(o, n)];
            for (k = 0; k < n; k++) delta[r * n + k] = o[k] - m;
        }
        exp_nonpos_n(delta, rows * n);
    }
    for (r = 0; r < rows; r++) {
        const float *o = O + r * n;
        size_t top = argmax(o, n);
        float m = o[top];
        double s = 0.0, wr = w ? (double)w[r] : 1.0;
        if (delta) {
            float *d = delta + r * n;
            double f;
            for (k = 0; k < n; k++) s += d[k];
            f = (double)scale * wr / s;
            for (k = 0; k < n; k++) d[k] = (float)((double)d[k] * f);
            d[y[r]] -= (float)((double)scale * wr);
        } else {
            for (k = 0; k < n; k++) s += mlp__exp_nonpos(o[k] - m);
        }
        sum += wr * (m + log(s) - o[y[r]]);
        right += (size_t)((int32_t)top == y[r]);
    }
    if (correct) *correct = right;
    return sum;
}

/* sum_k softplus(o_k) - y_k o_k; delta = sigmoid(o) - y. */
static double sigmoid_ce(const float *O, const float *Y, const float *w, size_t rows, size_t n,
                         float scale, float *delta, size_t *correct)
{
    double sum = 0.0;
    size_t r, k, right = 0;
    for (r = 0; r < rows; r++) {
        const float *o = O + r * n, *y = Y + r * n;
        double row = 0.0;
        float sr = w ? scale * w[r] : scale;
        int all = 1;
        for (k = 0; k < n; k++) {
            row += mlp__softplus(o[k]) - (double)y[k] * o[k];
            all &= (o[k] > 0.0f) == (y[k] >= 0.5f);
        }
        sum += w ? (double)w[r] * row : row;
        right += (size_t)all;
        if (delta)
            for (k = 0; k < n; k++) delta[r * n + k] = sr * (mlp__sigmoidf(o[k]) - y[k]);
    }
    if (correct) *correct = right;
    return sum;
}

/* 1/2 |o - y|^2; delta = o - y. */
static double mse(const float *O, const float *Y, size_t rows, size_t n, float scale, float *delta)
{
    double sum = 0.0;
    size_t i, count = rows * n;
    for (i = 0; i < count; i++) {
        float e = O[i] - Y[i];
        sum += 0.5 * (double)e * e;
        if (delta) delta[i] = scale * e;
    }
    return sum;
}

/* mse with row weights: row r's loss and error term times w[r]. */
static double mse_weighted(const float *O, const float *Y, const float *w, size_t rows, size_t n,
                           float scale, float *delta)
{
    double sum = 0.0;
    for (size_t r = 0; r < rows; r++)
        sum += (double)w[r] * mse(O + r * n, Y + r * n, 1, n, scale * w[r],
                                  delta ? delta + r * n : NULL);
    return sum;
}

double mlp__loss_delta(const mlp_network *net, const float *O, const float *Z,
                       const void *targets, size_t rows, float scale, float *delta,
                       size_t *correct)
{
    return mlp__loss_delta_w(net, O, Z, targets, NULL, rows, scale, delta, correct);
}

double mlp__loss_delta_w(const mlp_network *net, const float *O, const float *Z,
                         const void *targets, const float *w, size_t rows, float scale,
                         float *delta, size_t *correct)
{
    const mlp__layer *last = &net->layers[net->n_layers - 1];
    size_t n = last->n_out;
    double sum;
    if (correct) *correct = 0;
    switch (net->loss) {
    case MLP_LOSS_SOFTMAX_CE:
        sum = softmax_ce(O, (const int32_t *)targets, w, rows, n, scale, delta, correct);
        break;
    case MLP_LOSS_SIGMOID_CE:
        sum = sigmoid_ce(O, (const float *)targets, w, rows, n, scale, delta, correct);
        break;
    default:
        sum = w ? mse_weighted(O, (const float *)targets, w, rows, n, scale, delta)
                : mse(O, (const float *)targets, rows, n, scale, delta);
        break;
    }
    /* dL/dZ = dL/dO * f'(Z): a no-op for the usual identity output. */
    if (delta) mlp__act_backward(last->act, Z, O, delta, rows * n);
    return sum;
}

const void *mlp__targets_at(const mlp_network *net, const void *targets, size_t rows)
{
    if (net->loss == MLP_LOSS_SOFTMAX_CE) return (const int32_t *)targets + rows;
    return (const float *)targets + rows * net->sizes[net->n_layers];
}

static const char *const loss_names[MLP_LOSS_COUNT_] = {
    "mse", "softmax_cross_entropy", "sigmoid_cross_entropy",
};

const char *mlp_loss_name(mlp_loss loss)
{
    if ((unsigned)loss >= MLP_LOSS_COUNT_) return NULL;
    return loss_names[loss];
}

mlp_status mlp_loss_parse(const char *name, mlp_loss *out)
{
    int i;
    MLP__CHECK_NULL(name);
    MLP__CHECK_NULL(out);
    for (i = 0; i < MLP_LOSS_COUNT_; i++) {
        if (strcmp(name, loss_names[i]) == 0) {
            *out = (mlp_loss)i;
            return MLP_OK;
        }
    }
    return mlp__fail(MLP_ERR_LOSS, "unknown loss \"%s\"", name);
}
