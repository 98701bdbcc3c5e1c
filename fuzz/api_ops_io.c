/* Saving and loading through buffers, streams and paths: what loads back
 * is the same network, and what fails leaves *out alone. */
#define _POSIX_C_SOURCE 200809L
#include "api.h"

#include <stdio.h>
#include <string.h>

/* A loaded network: the same parameters and settings as the saved one. */
void api_same_net(const mlp_network *a, mlp_network *b, const char *call)
{
    size_t l;
    if (mlp_num_params(a) != mlp_num_params(b) || mlp_num_layers(a) != mlp_num_layers(b) ||
        memcmp(mlp_params_const(a), mlp_params_const(b), mlp_num_params(a) * sizeof(float)) ||
        mlp_get_loss(a) != mlp_get_loss(b) || mlp_has_input_scaling(a) != mlp_has_input_scaling(b) ||
        mlp_steps_trained(a) != mlp_steps_trained(b) ||
        mlp_optimizer_state_kind(a) != mlp_optimizer_state_kind(b))
        api_fail(call, "what loads back differs from what was saved");
    for (l = 0; l <= mlp_num_layers(a); l++)
        if (mlp_layer_size(a, l) != mlp_layer_size(b, l)) api_fail(call, "a size differs");
    mlp_destroy(b);
}

/* Keeps a loaded network in a free slot, else destroys it. */
static void api_keep(api_state *s, mlp_network *net)
{
    int i;
    for (i = 0; i < API_NETS; i++)
        if (!s->net[i]) {
            s->net[i] = net;
            return;
        }
    mlp_destroy(net);
}

static mlp_status api_load_checked(api_state *s, const void *buf, size_t size)
{
    mlp_network *sentinel = (mlp_network *)s, *got = sentinel;
    mlp_status st = mlp_load_buffer(&got, buf, size);
    api_status(st, "mlp_load_buffer");
    if (st != MLP_OK && got != sentinel) api_fail("mlp_load_buffer", "wrote *out although it failed");
    if (st == MLP_OK) api_keep(s, got);
    return st;
}

/* Saving refuses non-finite values: the parameters, which the fuzzer sees,
 * or the optimiser state, which it does not (Adam's second moment can
 * overflow while the weights stay finite). */
int api_saved(const mlp_network *net, mlp_status st, const char *call)
{
    if (!api_finite(mlp_params_const(net), mlp_num_params(net))) {
        api_expect(st, MLP_ERR_NONFINITE, call);
        return 0;
    }
    api_status(st, call);
    return st != MLP_ERR_NONFINITE;
}

void api_op_save_buffer(api_state *s)
{
    int slot;
    mlp_network *net = api_net(s, &slot), *back = NULL;
    size_t need = 0, size = 0, flip = api_size(s);
    unsigned how = api_byte(s) % 4;
    mlp_status st;
    if (!net) return;
    st = mlp_save_buffer(net, NULL, 0, &need);
    if (st == MLP_ERR_NONFINITE) return;
    api_expect(st, MLP_ERR_BUFFER, "mlp_save_buffer");
    if (need > sizeof s->blob) api_fail("mlp_save_buffer", "a small network needs over 64 KiB");
    size = 7;
    st = mlp_save_buffer(net, s->blob, how == 0 ? need - 1 : sizeof s->blob, &size);
    if (how == 0) { /* too small: refused, for its size or for a non-finite value */
        if (st == MLP_ERR_NONFINITE) return;
        api_expect(st, MLP_ERR_BUFFER, "mlp_save_buffer");
        if (size != need) api_fail("mlp_save_buffer", "a too small cap does not report the size");
        return;
    }
    if (!api_saved(net, st, "mlp_save_buffer")) return;
    api_expect(st, MLP_OK, "mlp_save_buffer");
    if (size != need) api_fail("mlp_save_buffer", "the size differs from the size asked before");
    api_expect(mlp_load_buffer(&back, s->blob, size), MLP_OK, "mlp_load_buffer");
    api_same_net(net, back, "mlp_load_buffer");
    if (how == 2) s->blob[flip % size] ^= (unsigned char)(1u << (api_byte(s) % 8));
    if (how == 3) size = flip % size;
    api_load_checked(s, s->blob, size);
}
