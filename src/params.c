/* Parameter access and initialisation. */
#include "checks.h"
#include "guard.h"
#include "network.h"
#include "rng.h"
#include "vec.h"

#include <math.h>
#include <string.h>

static mlp_status check_block(const mlp_network *net, size_t layer, const void *p, size_t len,
                              int weights)
{
    size_t want;
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(p);
    if (layer >= net->n_layers)
        return mlp__fail(MLP_ERR_LAYER, "layer %zu out of range (the network has %zu)", layer,
                         net->n_layers);
    want = net->layers[layer].n_out * (weights ? net->layers[layer].n_in : 1);
    if (len != want)
        return mlp__fail(MLP_ERR_MISMATCH, "layer %zu: %s needs %zu floats, got %zu", layer,
                         weights ? "weights" : "bias", want, len);
    return MLP_OK;
}

mlp_status mlp_get_weights(const mlp_network *net, size_t layer, float *W, size_t len)
{
    mlp_status st = check_block(net, layer, W, len, 1);
    if (st != MLP_OK) return st;
    memcpy(W, net->params + net->layers[layer].w_off, len * sizeof *W);
    return MLP_OK;
}

static mlp_status set_weights(mlp_network *net, size_t layer, const float *W, size_t len)
{
    mlp_status st = check_block(net, layer, W, len, 1);
    if (st != MLP_OK) return st;
    st = mlp__check_finite(W, len, "weights");
    if (st != MLP_OK) return st;
    memcpy(net->params + net->layers[layer].w_off, W, len * sizeof *W);
    return MLP_OK;
}

mlp_status mlp_get_bias(const mlp_network *net, size_t layer, float *b, size_t len)
{
    mlp_status st = check_block(net, layer, b, len, 0);
    if (st != MLP_OK) return st;
    memcpy(b, net->params + net->layers[layer].b_off, len * sizeof *b);
    return MLP_OK;
}

static mlp_status set_bias(mlp_network *net, size_t layer, const float *b, size_t len)
{
    mlp_status st = check_block(net, layer, b, len, 0);
    if (st != MLP_OK) return st;
    st = mlp__check_finite(b, len, "bias");
    if (st != MLP_OK) return st;
    memcpy(net->params + net->layers[layer].b_off, b, len * sizeof *b);
    return MLP_OK;
}

static int relu_family(mlp_activation act)
{
    return act == MLP_ACT_RELU || act == MLP_ACT_LEAKY_RELU || act == MLP_ACT_GELU;
}

static mlp_status init_params(mlp_network *net, mlp_init scheme, uint64_t seed)
{
    size_t l, i;
    MLP__CHECK_NULL(net);
    if ((unsigned)scheme >= MLP_INIT_COUNT_)
        return mlp__fail(MLP_ERR_ARGUMENT, "unknown initialisation scheme %d", (int)scheme);
    mlp__rng_seed(&net->rng, seed);
    net->seed = seed;
    for (l = 0; l < net->n_layers; l++) {
        const mlp__layer *ly = &net->layers[l];
        mlp_init s = scheme;
        float *W = net->params + ly->w_off;
        size_t count = ly->n_in * ly->n_out;
        double fan_in = (double)ly->n_in, fan_avg = 0.5 * (double)(ly->n_in + ly->n_out);
        if (s == MLP_INIT_AUTO) s = relu_family(ly->act) ? MLP_INIT_HE_NORMAL : MLP_INIT_GLOROT_UNIFORM;
        /* Glorot: Var = 1/fan_avg; He: Var = 2/fan_in. Uniform on [-a, a] has Var a^2/3. */
        switch (s) {
        case MLP_INIT_GLOROT_UNIFORM: {
            double a = sqrt(3.0 / fan_avg);
            for (i = 0; i < count; i++) W[i] = (float)(a * (2.0 * mlp__rng_uniform(&net->rng) - 1.0));
            break;
        }
        case MLP_INIT_GLOROT_NORMAL: {
            double sd = sqrt(1.0 / fan_avg);
            for (i = 0; i < count; i++) W[i] = (float)(sd * mlp__rng_normal(&net->rng));
            break;
        }
        case MLP_INIT_HE_UNIFORM: {
            double a = sqrt(6.0 / fan_in);
            for (i = 0; i < count; i++) W[i] = (float)(a * (2.0 * mlp__rng_uniform(&net->rng) - 1.0));
            break;
        }
        default: {
            double sd = sqrt(2.0 / fan_in);
            for (i = 0; i < count; i++) W[i] = (float)(sd * mlp__rng_normal(&net->rng));
            break;
        }
        }
        memset(net->params + ly->b_off, 0, ly->n_out * sizeof(float));
    }
    memset(net->grads, 0, net->n_params * sizeof(float));
    return MLP_OK;
}

/* x[i]^2 into the lanes of vec.h (one running sum took about 4 cycles a
 * weight: a millisecond a step for a million weights). */
MLP__VEC_CLONES static void add_squares(const float *restrict x, size_t n, double *restrict lane)
{
    size_t i = 0, j;
    for (; i + MLP__LANES <= n; i += MLP__LANES)
        for (j = 0; j < MLP__LANES; j++) lane[j] += (double)x[i + j] * x[i + j];
    for (j = 0; i < n; i++, j++) lane[j] += (double)x[i] * x[i];
}

/* lambda/2 sum |W|^2, in double, the same bits on every machine. */
double mlp_penalty(const mlp_network *net)
{
    double lane[MLP__LANES] = {0};
    size_t l;
    if (!net || net->l2 == 0.0f) return 0.0;
    for (l = 0; l < net->n_layers; l++)
        add_squares(net->params + net->layers[l].w_off,
                    net->layers[l].n_in * net->layers[l].n_out, lane);
    return 0.5 * (double)net->l2 * mlp__lanes_total(lane);
}

/* The setters under the call rule (guard.h). */
mlp_status mlp_set_weights(mlp_network *net, size_t layer, const float *W, size_t len)
{
    MLP__GUARDED(net, MLP__CHANGE, "network", set_weights(net, layer, W, len));
}

mlp_status mlp_set_bias(mlp_network *net, size_t layer, const float *b, size_t len)
{
    MLP__GUARDED(net, MLP__CHANGE, "network", set_bias(net, layer, b, len));
}

mlp_status mlp_init_params(mlp_network *net, mlp_init scheme, uint64_t seed)
{
    MLP__GUARDED(net, MLP__CHANGE, "network", init_params(net, scheme, seed));
}
