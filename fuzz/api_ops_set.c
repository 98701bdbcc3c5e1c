/* The setters, with extreme and invalid values: a failure (or a refusal
 * while the network trains) must leave the network exactly as it was. */
#include "api.h"

#include <math.h>
#include <string.h>

static int api_bad_p(float p) { return !(p >= 0.0f && p < 1.0f); }

void api_op_setter(api_state *s)
{
    int slot, use, bad = 0;
    mlp_network *net = api_net(s, &slot);
    unsigned which = api_byte(s) % 4, v = api_byte(s);
    size_t layer = api_size(s);
    float x = api_float(s);
    api_snap sn;
    mlp_status st;
    if (!net || (use = api_use(s, slot)) == API_SKIP) return;
    api_snap_take(net, &sn);
    if (which == 0) {
        mlp_loss loss = (mlp_loss)(v % 5);
        if (loss >= MLP_LOSS_COUNT_ || (loss == MLP_LOSS_SOFTMAX_CE && mlp_output_size(net) < 2))
            bad = MLP_ERR_LOSS;
        st = mlp_set_loss(net, loss);
        api_after(net, &sn, st, api_want(use, bad), "mlp_set_loss");
    } else if (which == 1) {
        st = mlp_set_l2(net, x);
        api_after(net, &sn, st, api_want(use, !(x >= 0.0f && isfinite(x)) ? MLP_ERR_ARGUMENT : 0),
                  "mlp_set_l2");
    } else if (which == 2) {
        bad = layer >= mlp_num_layers(net) ? MLP_ERR_LAYER : api_bad_p(x) ? MLP_ERR_ARGUMENT : 0;
        st = mlp_set_dropout(net, layer, x);
        api_after(net, &sn, st, api_want(use, bad), "mlp_set_dropout");
    } else {
        mlp_init scheme = (mlp_init)(v % 7);
        st = mlp_init_params(net, scheme, layer);
        api_after(net, &sn, st, api_want(use, scheme >= MLP_INIT_COUNT_ ? API_ANY_FAIL : 0),
                  "mlp_init_params");
    }
}

/* set_weights / set_bias with the right length, a wrong one, or NULL;
 * what was set must read back. */
void api_op_set_params(api_state *s)
{
    int slot, use, bias = (int)(api_byte(s) & 1), bad = 0;
    mlp_network *net = api_net(s, &slot);
    size_t layer = api_pick(s, 5), len = 0, wrong = api_byte(s) % 6;
    float back[API_BUF];
    const float *src = s->X;
    api_snap sn;
    mlp_status st;
    if (!net) return;
    if (layer < mlp_num_layers(net))
        len = mlp_layer_size(net, layer + 1) * (bias ? 1 : mlp_layer_size(net, layer));
    api_fill(s, s->X, len);
    if ((use = api_use(s, slot)) == API_SKIP) return;
    if (layer >= mlp_num_layers(net)) bad = MLP_ERR_LAYER;
    else if (wrong == 1) len += 1, bad = API_ANY_FAIL;
    else if (wrong == 2) len -= 1, bad = API_ANY_FAIL;
    else if (wrong == 3) src = NULL, bad = MLP_ERR_NULL;
    else if (!api_finite(s->X, len)) bad = API_ANY;
    api_snap_take(net, &sn);
    st = bias ? mlp_set_bias(net, layer, src, len) : mlp_set_weights(net, layer, src, len);
    api_after(net, &sn, st, api_want(use, bad), bias ? "mlp_set_bias" : "mlp_set_weights");
    if (st != MLP_OK) return;
    st = bias ? mlp_get_bias(net, layer, back, len) : mlp_get_weights(net, layer, back, len);
    api_expect(st, MLP_OK, "mlp_get_weights");
    if (memcmp(back, s->X, len * sizeof(float)) != 0)
        api_fail("mlp_set_weights", "the values do not read back");
}

void api_op_scaling(api_state *s)
{
    int slot, use, bad = 0;
    mlp_network *net = api_net(s, &slot);
    unsigned how = api_byte(s) % 6;
    size_t n_in, rows = api_pick(s, API_ROWS + 1);
    float off[API_WIDTH], scale[API_WIDTH];
    mlp_scaling kind = MLP_SCALE_MINMAX;
    api_snap sn;
    mlp_status st;
    if (!net) return;
    n_in = mlp_input_size(net);
    api_fill(s, off, n_in);
    api_fill(s, scale, n_in);
    if (how >= 4) api_fill(s, s->X, rows * n_in);
    if (how == 4) kind = (mlp_scaling)api_pick(s, 4);
    if ((use = api_use(s, slot)) == API_SKIP) return;
    api_snap_take(net, &sn);
    if (how < 4) {
        /* both, scale missing, none (removes it), both with zero scales */
        if (how == 3) memset(scale, 0, sizeof scale);
        bad = how == 1 ? API_ANY_FAIL : how == 2 ? 0 : !api_finite(off, n_in) ||
              !api_finite(scale, n_in) ? MLP_ERR_NONFINITE : how == 3 ? API_ANY : 0;
        st = mlp_set_input_scaling(net, how == 2 ? NULL : off, how == 1 || how == 2 ? NULL : scale);
        api_after(net, &sn, st, api_want(use, bad), "mlp_set_input_scaling");
        return;
    }
    st = mlp_fit_input_scaling(net, s->X, rows, kind);
    api_after(net, &sn, st, api_want(use, API_ANY), "mlp_fit_input_scaling");
}
