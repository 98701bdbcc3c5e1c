/* The shared grid of gradient test cases (see grid.h). */
#include "grid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t grid_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double grid_rng_uniform(uint64_t *state)
{
    return (double)(grid_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

size_t grid_rng_below(uint64_t *state, size_t n)
{
    return (size_t)(grid_rng_uniform(state) * (double)n);
}

/* Widths 1..64, log-uniform so that small layers (and width 1) are common
 * and the whole grid stays fast; the fixed cases below add the extremes. */
static size_t draw_width(uint64_t *rng, size_t lo)
{
    size_t w = (size_t)exp(grid_rng_uniform(rng) * log(65.0));
    if (w < lo) w = lo;
    return w > 64 ? 64 : w;
}

static void draw_shape(grid_case *c, uint64_t *rng)
{
    size_t out_lo = c->loss == MLP_LOSS_SOFTMAX_CE ? 2 : 1; /* one class proves nothing */
    c->n_layers = 1 + grid_rng_below(rng, GRID_MAX_LAYERS);
    c->batch = 1 + grid_rng_below(rng, 32);
    /* Fixed extremes: depth 1 and 4, batch 1 and 32, widths 1 and 64. */
    switch (c->arch) {
    case 0: c->n_layers = 1; break;
    case 1: c->n_layers = 4; break;
    case 2: c->batch = 1; break;
    case 3: c->batch = 32; break;
    default: break;
    }
    for (size_t l = 0; l <= c->n_layers; l++) c->sizes[l] = draw_width(rng, l == c->n_layers ? out_lo : 1);
    if (c->arch == 4) {
        c->n_layers = 2;
        c->sizes[0] = 64, c->sizes[1] = 64, c->sizes[2] = c->loss == MLP_LOSS_SOFTMAX_CE ? 10 : 3;
        c->batch = 8;
    }
    if (c->arch == 5) {
        c->n_layers = 3; /* width-1 bottleneck */
        c->sizes[0] = 5, c->sizes[1] = 1, c->sizes[2] = 7, c->sizes[3] = out_lo;
    }
    if (c->arch == 6) {
        c->n_layers = 1;
        c->sizes[0] = 64, c->sizes[1] = c->loss == MLP_LOSS_SOFTMAX_CE ? 64 : 40;
        c->batch = 4;
    }
    /* Every layer uses the activation under test; on odd architectures the
     * output layer is the identity instead (the usual choice before a loss). */
    for (size_t l = 0; l < c->n_layers; l++) c->acts[l] = c->act;
    if (c->arch % 2 == 1 && c->n_layers > 1) c->acts[c->n_layers - 1] = MLP_ACT_IDENTITY;
    c->l2 = c->arch % 2 == 1 ? (double)(float)(0.01 + 0.19 * grid_rng_uniform(rng)) : 0.0;
}

static float draw_float(uint64_t *rng, double lo, double hi)
{
    return (float)(lo + (hi - lo) * grid_rng_uniform(rng));
}

static void draw_values(grid_case *c, uint64_t *rng)
{
    ref_net rn = grid_ref_net(c);
    size_t n_out = c->sizes[c->n_layers];
    int kink = ref_act_has_kink(c->act);
    for (size_t l = 0; l < c->n_layers; l++) {
        /* Variance-preserving uniform weights; relu-family biases positive so
         * that fewer units are dead for the whole batch. */
        double s = sqrt(3.0 / (double)c->sizes[l]);
        float *W = c->params + ref_weights_offset(&rn, l);
        float *b = c->params + ref_bias_offset(&rn, l);
        for (size_t i = 0; i < c->sizes[l] * c->sizes[l + 1]; i++) W[i] = draw_float(rng, -s, s);
        for (size_t i = 0; i < c->sizes[l + 1]; i++)
            b[i] = kink ? draw_float(rng, 0.05, 0.5) : draw_float(rng, -0.5, 0.5);
    }
    for (size_t i = 0; i < c->batch * c->sizes[0]; i++) c->X[i] = draw_float(rng, -1.5, 1.5);
    if (c->loss == MLP_LOSS_SOFTMAX_CE) {
        for (size_t r = 0; r < c->batch; r++) c->classes[r] = (int32_t)grid_rng_below(rng, n_out);
    } else {
        double lo = c->loss == MLP_LOSS_MSE ? -1.0 : 0.0;
        for (size_t i = 0; i < c->batch * n_out; i++) c->Y[i] = draw_float(rng, lo, 1.0);
    }
    for (size_t i = 0; i < c->n_params; i++) c->dparams[i] = c->params[i];
    for (size_t i = 0; i < c->batch * c->sizes[0]; i++) c->dX[i] = c->X[i];
    if (c->Y != NULL)
        for (size_t i = 0; i < c->batch * n_out; i++) c->dY[i] = c->Y[i];
}

static int has_zero_block(const grid_case *c)
{
    ref_net rn = grid_ref_net(c);
    for (size_t l = 0; l < c->n_layers; l++) {
        size_t wo = ref_weights_offset(&rn, l), bo = ref_bias_offset(&rn, l);
        size_t end = bo + c->sizes[l + 1];
        int wz = 1, bz = 1;
        for (size_t i = wo; i < bo; i++) wz &= c->ref_grads[i] == 0.0;
        for (size_t i = bo; i < end; i++) bz &= c->ref_grads[i] == 0.0;
        if (wz || bz) return 1;
    }
    return 0;
}

ref_net grid_ref_net(const grid_case *c)
{
    ref_net rn;
    rn.n_layers = c->n_layers;
    rn.sizes = c->sizes;
    rn.acts = c->acts;
    rn.loss = c->loss;
    rn.l2 = c->l2;
    return rn;
}

int grid_case_init(grid_case *c, mlp_activation act, mlp_loss loss, size_t arch)
{
    memset(c, 0, sizeof *c);
    c->act = act;
    c->loss = loss;
    c->arch = arch;
    uint64_t rng = 0x6D6C7067726964ull ^ ((uint64_t)act << 40) ^ ((uint64_t)loss << 32) ^ arch;
    grid_rng_next(&rng);
    draw_shape(c, &rng);
    ref_net rn = grid_ref_net(c);
    c->n_params = ref_num_params(&rn);
    size_t n_in = c->sizes[0], n_out = c->sizes[c->n_layers];
    c->params = malloc(sizeof(float) * c->n_params);
    c->dparams = malloc(sizeof(double) * c->n_params);
    c->ref_grads = malloc(sizeof(double) * c->n_params);
    c->X = malloc(sizeof(float) * c->batch * n_in);
    c->dX = malloc(sizeof(double) * c->batch * n_in);
    if (loss == MLP_LOSS_SOFTMAX_CE) {
        c->classes = malloc(sizeof(int32_t) * c->batch);
    } else {
        c->Y = malloc(sizeof(float) * c->batch * n_out);
        c->dY = malloc(sizeof(double) * c->batch * n_out);
    }
    if (!c->params || !c->dparams || !c->ref_grads || !c->X || !c->dX ||
        (loss == MLP_LOSS_SOFTMAX_CE ? !c->classes : (!c->Y || !c->dY))) {
        grid_case_free(c);
        return -1;
    }
    /* A draw where a whole block's true gradient is zero (dead relu units
     * over the batch) would make the check vacuous: draw again, and count. */
    for (c->redraws = 0; c->redraws <= GRID_MAX_REDRAWS; c->redraws++) {
        draw_values(c, &rng);
        c->ref_J = ref_loss_grad(&rn, c->dparams, c->dX, c->batch, c->dY, c->classes, c->ref_grads);
        if (isnan(c->ref_J)) break;
        if (!has_zero_block(c)) return 0;
    }
    grid_case_free(c);
    return -1;
}

void grid_case_free(grid_case *c)
{
    free(c->params);
    free(c->dparams);
    free(c->ref_grads);
    free(c->X);
    free(c->dX);
    free(c->Y);
    free(c->dY);
    free(c->classes);
    c->params = c->X = c->Y = NULL;
    c->dparams = c->dX = c->dY = c->ref_grads = NULL;
    c->classes = NULL;
}

/* Names spelled as in mlp.h, kept here so that the reference suite needs
 * nothing from the library. */
static const char *const act_names[] = {"identity", "sigmoid", "tanh", "relu",
                                        "leaky_relu", "gelu", "softplus"};
static const char *const loss_names[] = {"mse", "softmax_cross_entropy", "sigmoid_cross_entropy"};

const char *grid_case_describe(const grid_case *c, char *buf, size_t cap)
{
    char shape[128];
    size_t pos = 0;
    for (size_t l = 0; l <= c->n_layers && pos < sizeof shape; l++)
        pos += (size_t)snprintf(shape + pos, sizeof shape - pos, "%s%zu", l ? "-" : "", c->sizes[l]);
    snprintf(buf, cap, "%s/%s/arch %zu [%s] batch %zu l2 %g", act_names[c->act],
             loss_names[c->loss], c->arch, shape, c->batch, c->l2);
    return buf;
}

double grid_rel_err(const double *a, const double *b, size_t n)
{
    double d = 0.0, na = 0.0, nb = 0.0;
    for (size_t i = 0; i < n; i++) {
        d += (a[i] - b[i]) * (a[i] - b[i]);
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    double den = sqrt(na > nb ? na : nb);
    return den == 0.0 ? 0.0 : sqrt(d) / den;
}

double grid_rel_err_f(const float *a, const double *b, size_t n)
{
    double d = 0.0, na = 0.0, nb = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = (double)a[i];
        d += (x - b[i]) * (x - b[i]);
        na += x * x;
        nb += b[i] * b[i];
    }
    double den = sqrt(na > nb ? na : nb);
    return den == 0.0 ? 0.0 : sqrt(d) / den;
}
