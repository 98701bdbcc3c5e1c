/* The network handle: shape validation, creation, copies, settings. */
#include "network.h"
#include "buffers.h"
#include "guard.h"

#include <math.h>
#include <string.h>

/* Layer counts beyond this are certainly a caller's mistake. */
#define MAX_LAYERS 4096

mlp_status mlp__check_shape(size_t n_layers, const size_t *sizes, const mlp_activation *acts,
                            size_t *n_params)
{
    size_t l, total = 0;
    MLP__CHECK_NULL(sizes);
    MLP__CHECK_NULL(acts);
    if (n_layers == 0 || n_layers > MAX_LAYERS)
        return mlp__fail(MLP_ERR_SIZE, "n_layers is %zu; it must be in 1..%d", n_layers, MAX_LAYERS);
    for (l = 0; l <= n_layers; l++) {
        if (sizes[l] == 0 || sizes[l] > MLP_MAX_DIM)
            return mlp__fail(MLP_ERR_SIZE, "sizes[%zu] is %zu; it must be in 1..%zu", l, sizes[l],
                             MLP_MAX_DIM);
    }
    for (l = 0; l < n_layers; l++) {
        size_t w, wb;
        if ((unsigned)acts[l] >= MLP_ACT_COUNT_)
            return mlp__fail(MLP_ERR_ACTIVATION, "layer %zu: unknown activation %d", l, (int)acts[l]);
        /* W and b of the layer, and the running total, all checked. */
        if (!mlp__mul_ok(sizes[l + 1], sizes[l] + 1, &wb) || wb > SIZE_MAX / sizeof(float) ||
            total > SIZE_MAX / sizeof(float) - wb)
            return mlp__fail(MLP_ERR_SIZE, "layer %zu: %zu x %zu parameters overflow", l,
                             sizes[l + 1], sizes[l]);
        w = wb;
        total += w;
    }
    *n_params = total;
    return MLP_OK;
}

void mlp__network_free(mlp_network *net)
{
    if (!net) return;
    mlp__buffers_free(&net->ws);
    mlp__free(net->sizes);
    mlp__free(net->layers);
    mlp__free(net->params);
    mlp__free(net->grads);
    mlp__free(net->in_offset);
    mlp__free(net->in_scale);
    mlp__free(net->opt_state);
    mlp__free(net);
}

void mlp_destroy(mlp_network *net)
{
    int state;
    if (!net) return;
    state = mlp__use_load(&net->use);
    if (state == MLP__TRAINING || state == MLP__IN_CALLBACK) {
        /* Destroyed from the training callback: mlp_train frees it. */
        net->destroy_pending = 1;
        return;
    }
    if (net->trainer_net) *net->trainer_net = NULL; /* its trainer's calls now fail */
    mlp__network_free(net);
}

mlp_status mlp__network_alloc(size_t n_layers, const size_t *sizes, const mlp_activation *acts,
                              mlp_network **out)
{
    size_t n_params, l, off = 0;
    mlp_network *net;
    mlp_status st = mlp__check_shape(n_layers, sizes, acts, &n_params);
    if (st != MLP_OK) return st;

    net = mlp__calloc(1, sizeof *net);
    if (!net) return mlp__fail(MLP_ERR_NOMEM, "out of memory for the network");
    net->n_layers = n_layers;
    net->n_params = n_params;
    net->opt_kind = -1;
    net->loss = MLP_LOSS_MSE;
    net->sizes = mlp__malloc((n_layers + 1) * sizeof *net->sizes);
    net->layers = mlp__calloc(n_layers, sizeof *net->layers);
    net->params = mlp__calloc(n_params, sizeof(float));
    net->grads = mlp__calloc(n_params, sizeof(float));
    if (!net->sizes || !net->layers || !net->params || !net->grads) {
        mlp__network_free(net);
        return mlp__fail(MLP_ERR_NOMEM, "out of memory for %zu parameters", n_params);
    }
    memcpy(net->sizes, sizes, (n_layers + 1) * sizeof *sizes);
    for (l = 0; l <= n_layers; l++)
        if (sizes[l] > net->max_width) net->max_width = sizes[l];
    for (l = 0; l < n_layers; l++) {
        mlp__layer *ly = &net->layers[l];
        ly->n_in = sizes[l];
        ly->n_out = sizes[l + 1];
        ly->act = acts[l];
        ly->w_off = off;
        off += ly->n_in * ly->n_out;
        ly->b_off = off;
        off += ly->n_out;
    }
    *out = net;
    return MLP_OK;
}

mlp_status mlp_create(mlp_network **out, size_t n_layers, const size_t *sizes,
                      const mlp_activation *acts, uint64_t seed)
{
    mlp_network *net = NULL;
    mlp_status st;
    MLP__CHECK_NULL(out);
    st = mlp__network_alloc(n_layers, sizes, acts, &net);
    if (st != MLP_OK) return st;
    st = mlp_init_params(net, MLP_INIT_AUTO, seed);
    if (st == MLP_OK) st = mlp__buffers_alloc(net, MLP__DEFAULT_CAPACITY, &net->ws);
    if (st != MLP_OK) {
        mlp__network_free(net);
        return st;
    }
    mlp__clear_error();
    *out = net;
    return MLP_OK;
}

static float *dup_floats(const float *src, size_t n, int *failed)
{
    float *p;
    if (!src) return NULL;
    p = mlp__malloc(n * sizeof *p);
    if (!p) {
        *failed = 1;
        return NULL;
    }
    memcpy(p, src, n * sizeof *p);
    return p;
}

mlp_status mlp_clone(const mlp_network *net, mlp_network **out)
{
    mlp_network *c = NULL;
    mlp_activation acts[MAX_LAYERS];
    size_t l, n_in;
    int failed = 0;
    mlp_status st;
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(out);
    for (l = 0; l < net->n_layers; l++) acts[l] = net->layers[l].act;
    st = mlp__network_alloc(net->n_layers, net->sizes, acts, &c);
    if (st != MLP_OK) return st;
    n_in = net->sizes[0];
    memcpy(c->params, net->params, net->n_params * sizeof(float));
    memcpy(c->grads, net->grads, net->n_params * sizeof(float));
    for (l = 0; l < net->n_layers; l++) c->layers[l].dropout = net->layers[l].dropout;
    c->loss = net->loss;
    c->l2 = net->l2;
    c->rng = net->rng;
    c->seed = net->seed;
    c->epochs_trained = net->epochs_trained;
    c->steps = net->steps;
    c->opt_kind = net->opt_kind;
    c->opt_state_len = net->opt_state_len;
    c->in_offset = dup_floats(net->in_offset, n_in, &failed);
    c->in_scale = dup_floats(net->in_scale, n_in, &failed);
    c->opt_state = dup_floats(net->opt_state, net->opt_state_len, &failed);
    if (failed) st = mlp__fail(MLP_ERR_NOMEM, "out of memory copying the network");
    if (st == MLP_OK) st = mlp__buffers_alloc(c, net->ws.capacity, &c->ws);
    if (st != MLP_OK) {
        mlp__network_free(c);
        return st;
    }
    *out = c;
    return MLP_OK;
}

/* ---- accessors ---- */

size_t mlp_num_layers(const mlp_network *net) { return net ? net->n_layers : 0; }

size_t mlp_layer_size(const mlp_network *net, size_t i)
{
    return (net && i <= net->n_layers) ? net->sizes[i] : 0;
}

size_t mlp_input_size(const mlp_network *net) { return net ? net->sizes[0] : 0; }

size_t mlp_output_size(const mlp_network *net) { return net ? net->sizes[net->n_layers] : 0; }

mlp_activation mlp_layer_activation(const mlp_network *net, size_t layer)
{
    return (net && layer < net->n_layers) ? net->layers[layer].act : MLP_ACT_COUNT_;
}

size_t mlp_num_params(const mlp_network *net) { return net ? net->n_params : 0; }

float *mlp_params(mlp_network *net) { return net ? net->params : NULL; }

const float *mlp_params_const(const mlp_network *net) { return net ? net->params : NULL; }

float *mlp_grads(mlp_network *net) { return net ? net->grads : NULL; }

size_t mlp_weights_offset(const mlp_network *net, size_t layer)
{
    return (net && layer < net->n_layers) ? net->layers[layer].w_off : 0;
}

size_t mlp_bias_offset(const mlp_network *net, size_t layer)
{
    return (net && layer < net->n_layers) ? net->layers[layer].b_off : 0;
}

/* ---- settings ---- */

static mlp_status set_loss(mlp_network *net, mlp_loss loss)
{
    if ((unsigned)loss >= MLP_LOSS_COUNT_)
        return mlp__fail(MLP_ERR_LOSS, "unknown loss %d", (int)loss);
    if (loss == MLP_LOSS_SOFTMAX_CE && net->sizes[net->n_layers] < 2)
        return mlp__fail(MLP_ERR_LOSS, "softmax cross-entropy needs at least 2 outputs, not %zu",
                         net->sizes[net->n_layers]);
    net->loss = loss;
    return MLP_OK;
}

mlp_loss mlp_get_loss(const mlp_network *net) { return net ? net->loss : MLP_LOSS_COUNT_; }

static mlp_status set_l2(mlp_network *net, float lambda)
{
    if (!(lambda >= 0.0f) || isinf(lambda))
        return mlp__fail(MLP_ERR_ARGUMENT, "l2 must be finite and >= 0, not %g", (double)lambda);
    net->l2 = lambda;
    return MLP_OK;
}

float mlp_get_l2(const mlp_network *net) { return net ? net->l2 : 0.0f; }

static mlp_status set_dropout(mlp_network *net, size_t layer, float p)
{
    float old;
    mlp_status st;
    if (layer >= net->n_layers)
        return mlp__fail(MLP_ERR_LAYER, "layer %zu out of range (the network has %zu)", layer,
                         net->n_layers);
    if (!(p >= 0.0f && p < 1.0f))
        return mlp__fail(MLP_ERR_ARGUMENT, "dropout must be in [0, 1), not %g", (double)p);
    old = net->layers[layer].dropout;
    net->layers[layer].dropout = p;
    if ((old > 0.0f) != (p > 0.0f)) {
        /* The workspace holds mask storage only for layers with dropout. */
        mlp__buffers fresh;
        st = mlp__buffers_alloc(net, net->ws.capacity, &fresh);
        if (st != MLP_OK) {
            net->layers[layer].dropout = old;
            return st;
        }
        mlp__buffers_free(&net->ws);
        net->ws = fresh;
    }
    return MLP_OK;
}

float mlp_get_dropout(const mlp_network *net, size_t layer)
{
    return (net && layer < net->n_layers) ? net->layers[layer].dropout : 0.0f;
}

mlp_status mlp__set_input_scaling(mlp_network *net, const float *offset, const float *scale)
{
    size_t i, n;
    float *o, *s;
    if (!offset && !scale) {
        mlp__free(net->in_offset);
        mlp__free(net->in_scale);
        net->in_offset = net->in_scale = NULL;
        return MLP_OK;
    }
    MLP__CHECK_NULL(offset);
    MLP__CHECK_NULL(scale);
    n = net->sizes[0];
    for (i = 0; i < n; i++)
        if (!isfinite(offset[i]) || !isfinite(scale[i]))
            return mlp__fail(MLP_ERR_NONFINITE, "input scaling of feature %zu is not finite", i);
    o = net->in_offset ? net->in_offset : mlp__malloc(n * sizeof *o);
    s = net->in_scale ? net->in_scale : mlp__malloc(n * sizeof *s);
    if (!o || !s) {
        if (o != net->in_offset) mlp__free(o);
        if (s != net->in_scale) mlp__free(s);
        return mlp__fail(MLP_ERR_NOMEM, "out of memory for the input scaling");
    }
    memcpy(o, offset, n * sizeof *o);
    memcpy(s, scale, n * sizeof *s);
    net->in_offset = o;
    net->in_scale = s;
    return MLP_OK;
}

/* The setters under the call rule (guard.h). */
mlp_status mlp_set_loss(mlp_network *net, mlp_loss loss)
{
    MLP__GUARDED(net, MLP__CHANGE, "network", set_loss(net, loss));
}

mlp_status mlp_set_l2(mlp_network *net, float lambda)
{
    MLP__GUARDED(net, MLP__CHANGE, "network", set_l2(net, lambda));
}

mlp_status mlp_set_dropout(mlp_network *net, size_t layer, float p)
{
    MLP__GUARDED(net, MLP__CHANGE, "network", set_dropout(net, layer, p));
}

mlp_status mlp_set_input_scaling(mlp_network *net, const float *offset, const float *scale)
{
    MLP__GUARDED(net, MLP__CHANGE, "network", mlp__set_input_scaling(net, offset, scale));
}

mlp_status mlp_get_input_scaling(const mlp_network *net, float *offset, float *scale)
{
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(offset);
    MLP__CHECK_NULL(scale);
    if (!net->in_offset) return mlp__fail(MLP_ERR_ARGUMENT, "the network has no input scaling");
    memcpy(offset, net->in_offset, net->sizes[0] * sizeof *offset);
    memcpy(scale, net->in_scale, net->sizes[0] * sizeof *scale);
    return MLP_OK;
}

int mlp_has_input_scaling(const mlp_network *net) { return net && net->in_offset != NULL; }
