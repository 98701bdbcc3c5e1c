/* reserve, and the getters with OUT parameters that a failure must not
 * touch. */
#include "api.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Capacities the sanitizers' allocator can hold, or ones past the limit
 * that must be refused before anything is allocated. */
static size_t api_capacity(api_state *s)
{
    size_t n = api_size(s);
    return n > 4096 && n <= MLP_MAX_DIM ? 4096 : n;
}

void api_op_reserve(api_state *s)
{
    int slot, use;
    mlp_network *net = api_net(s, &slot);
    size_t n = api_capacity(s), before;
    api_snap sn;
    mlp_status st;
    if (!net || (use = api_use(s, slot)) == API_SKIP) return;
    before = mlp_capacity(net);
    api_snap_take(net, &sn);
    st = mlp_reserve(net, n);
    api_after(net, &sn, st, api_want(use, n > MLP_MAX_DIM ? API_ANY_FAIL : 0),
              "mlp_reserve");
    if (st == MLP_OK && mlp_capacity(net) < n && mlp_capacity(net) < before)
        api_fail("mlp_reserve", "the capacity shrank below what was asked");
}

size_t api_ws_capacity(api_state *s) { return api_capacity(s); }

static void api_get_block(api_state *s, mlp_network *net)
{
    size_t layer = api_pick(s, 5), len = api_size(s), L = mlp_num_layers(net), right = 0;
    int bias = (int)(api_byte(s) & 1);
    float out[API_BUF + 1];
    mlp_status st;
    if (layer < L) right = mlp_layer_size(net, layer + 1) * (bias ? 1 : mlp_layer_size(net, layer));
    if (api_byte(s) & 1) len = right;
    if (len > API_BUF) len = API_BUF + 1;
    memset(out, 0xA5, sizeof out);
    st = bias ? mlp_get_bias(net, layer, out, len) : mlp_get_weights(net, layer, out, len);
    api_check(st, layer >= L ? MLP_ERR_LAYER : len != right ? API_ANY_FAIL : MLP_OK, "mlp_get_weights");
    if (st != MLP_OK) {
        api_untouched(out, sizeof out, 0xA5, "mlp_get_weights");
        return;
    }
    if (memcmp(out, mlp_params_const(net) + (bias ? mlp_bias_offset(net, layer)
                                                  : mlp_weights_offset(net, layer)),
               len * sizeof(float)) != 0)
        api_fail("mlp_get_weights", "differs from mlp_params at the layer's offset");
}

void api_op_getters(api_state *s)
{
    int slot;
    mlp_network *net = api_net(s, &slot);
    float off[API_WIDTH], scale[API_WIDTH];
    size_t need = 7;
    mlp_status st;
    if (!net) {
        api_expect(mlp_get_input_scaling(NULL, off, scale), MLP_ERR_NULL, "mlp_get_input_scaling");
        return;
    }
    api_get_block(s, net);
    memset(off, 0xA5, sizeof off);
    memset(scale, 0xA5, sizeof scale);
    st = mlp_get_input_scaling(net, off, scale);
    api_check(st, mlp_has_input_scaling(net) ? MLP_OK : MLP_ERR_ARGUMENT, "mlp_get_input_scaling");
    if (st != MLP_OK) {
        api_untouched(off, sizeof off, 0xA5, "mlp_get_input_scaling");
        api_untouched(scale, sizeof scale, 0xA5, "mlp_get_input_scaling");
    }
    api_expect(mlp_graph_dot(net, NULL, 0, &need), MLP_ERR_BUFFER, "mlp_graph_dot");
    if (need < 2) api_fail("mlp_graph_dot", "needs no room");
    if (!(mlp_penalty(net) >= 0.0) && api_finite(mlp_params_const(net), mlp_num_params(net)) &&
        isfinite(mlp_get_l2(net)))
        api_fail("mlp_penalty", "negative or NaN for finite weights");
}
