/* Ops on networks: create, clone, destroy, the setters, reserve, getters. */
#include "api.h"

#include <math.h>
#include <string.h>

static void api_check_shape(const mlp_network *net, size_t L, const size_t *sizes,
                            const mlp_activation *acts)
{
    size_t l;
    if (mlp_num_layers(net) != L || mlp_input_size(net) != sizes[0] ||
        mlp_output_size(net) != sizes[L] || mlp_get_loss(net) != MLP_LOSS_MSE ||
        mlp_get_l2(net) != 0.0f || mlp_has_input_scaling(net) || mlp_capacity(net) < 1)
        api_fail("mlp_create", "the new network does not have the shape or defaults asked for");
    for (l = 0; l < L; l++)
        if (mlp_layer_size(net, l + 1) != sizes[l + 1] || mlp_layer_activation(net, l) != acts[l])
            api_fail("mlp_create", "a layer's size or activation differs");
    if (mlp_layer_size(net, L + 1) != 0 || mlp_layer_activation(net, L) != MLP_ACT_COUNT_)
        api_fail("accessors", "an out-of-range index does not give 0 / MLP_ACT_COUNT_");
}

/* Small shapes, or (one time in eight) one broken in a way it must refuse. */
void api_op_create(api_state *s)
{
    size_t sizes[6], L = 1 + api_pick(s, 4), l;
    mlp_activation acts[5];
    mlp_network *sentinel = (mlp_network *)&sizes, *net = sentinel;
    int slot = (int)api_pick(s, API_NETS), bad = 0, nul = 0;
    unsigned how = api_byte(s);
    mlp_status st;
    for (l = 0; l <= L; l++) sizes[l] = 1 + api_pick(s, API_WIDTH);
    for (l = 0; l < L; l++) acts[l] = (mlp_activation)api_pick(s, MLP_ACT_COUNT_);
    if (how % 8 == 0) {
        bad = (int)MLP_ERR_SIZE;
        switch (api_byte(s) % 6) {
        case 0: L = 0; break;
        case 1: sizes[api_pick(s, L + 1)] = 0; break;
        case 2: sizes[api_pick(s, L + 1)] = MLP_MAX_DIM + 1; break;
        case 3: acts[api_pick(s, L)] = (mlp_activation)(MLP_ACT_COUNT_ + api_pick(s, 3)); bad = MLP_ERR_ACTIVATION; break;
        case 4: nul = 1 + (int)api_pick(s, 3); bad = MLP_ERR_NULL; break;
        default: acts[api_pick(s, L)] = (mlp_activation)-1; bad = MLP_ERR_ACTIVATION; break;
        }
    }
    if (s->net[slot] && !bad) return; /* the slot is taken: nothing to do */
    st = mlp_create(nul == 1 ? NULL : &net, L, nul == 2 ? NULL : sizes, nul == 3 ? NULL : acts,
                    api_byte(s));
    api_check(st, bad ? bad : MLP_OK, "mlp_create");
    if (st != MLP_OK) {
        if (net != sentinel) api_fail("mlp_create", "wrote *out although it failed");
        return;
    }
    api_check_shape(net, L, sizes, acts);
    s->net[slot] = net;
}

void api_op_clone(api_state *s)
{
    int from, to = (int)api_pick(s, API_NETS);
    mlp_network *net = api_net(s, &from), *sentinel = (mlp_network *)s, *copy = sentinel;
    mlp_status st;
    if (s->net[to]) return;
    st = mlp_clone(net, &copy);
    api_check(st, net ? MLP_OK : MLP_ERR_NULL, "mlp_clone");
    if (st != MLP_OK) {
        if (copy != sentinel) api_fail("mlp_clone", "wrote *out although it failed");
        return;
    }
    if (mlp_num_params(copy) != mlp_num_params(net) ||
        memcmp(mlp_params_const(copy), mlp_params_const(net), mlp_num_params(net) * 4) != 0 ||
        mlp_get_loss(copy) != mlp_get_loss(net) || mlp_seed(copy) != mlp_seed(net))
        api_fail("mlp_clone", "the copy differs");
    s->net[to] = copy;
}

/* Rule on: destroying a network in training is deferred, and one with an
 * idle trainer detaches it. Rule off: such networks are left alone. */
void api_op_destroy(api_state *s)
{
    int slot, j;
    mlp_network *net = api_net(s, &slot);
    if (!net) {
        mlp_destroy(NULL);
        return;
    }
    if (!API_CALL_RULE && (api_net_trainer(s, slot) >= 0 || api_net_running(s, slot))) return;
    mlp_destroy(net);
    s->net[slot] = NULL;
    for (j = 0; j < API_TRAINERS; j++)
        if (s->tr_net[j] == slot) s->tr_net[j] = -1;
}
