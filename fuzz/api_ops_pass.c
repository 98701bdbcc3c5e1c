/* Forward passes (own workspace or a caller's, from any network), the
 * loss and its gradient, evaluation, the gradient check. */
#include "api.h"

#include <math.h>
#include <string.h>

/* rows of input for net in s->X; 0 rows one time in 16. */
static size_t api_batch(api_state *s, const mlp_network *net, size_t max)
{
    size_t rows = api_byte(s) % 16 ? 1 + api_pick(s, max) : 0;
    api_fill(s, s->X, rows * mlp_input_size(net));
    return rows;
}

void api_op_forward(api_state *s)
{
    int slot;
    mlp_network *net = api_net(s, &slot);
    size_t rows;
    mlp_status st;
    if (!net) return;
    rows = api_batch(s, net, API_ROWS);
    memset(s->Y, 0xA5, sizeof s->Y);
    st = mlp_forward(net, s->X, rows, s->Y);
    api_check(st, rows ? MLP_OK : API_ANY_FAIL, "mlp_forward");
    if (st != MLP_OK) api_untouched(s->Y, sizeof s->Y, 0xA5, "mlp_forward");
    else api_finite_out(net, s->X, rows, s->Y, "mlp_forward");
}

void api_op_workspace(api_state *s)
{
    int slot, k = (int)api_pick(s, API_WS);
    mlp_network *net = api_net(s, &slot);
    mlp_workspace *sentinel = (mlp_workspace *)s, *ws = sentinel;
    size_t cap = api_ws_capacity(s), l;
    mlp_status st;
    mlp_workspace_destroy(s->ws[k].h);
    s->ws[k].h = NULL;
    if (!net || (api_byte(s) & 3) == 0) return; /* a destroy */
    st = mlp_workspace_create(net, cap, &ws);
    api_check(st, cap == 0 || cap > MLP_MAX_DIM ? MLP_ERR_SIZE : MLP_OK, "mlp_workspace_create");
    if (st != MLP_OK) {
        if (ws != sentinel) api_fail("mlp_workspace_create", "wrote *out although it failed");
        return;
    }
    s->ws[k].h = ws;
    s->ws[k].n_layers = mlp_num_layers(net);
    for (l = 0; l <= s->ws[k].n_layers; l++) s->ws[k].sizes[l] = mlp_layer_size(net, l);
}

/* Whether the workspace was made for exactly this network's sizes; *trap
 * says the pre-rule library may not tell it apart (it compared the layer
 * count, the size sum and the widest layer): the known bug the rule's
 * shape check fixes. */
static int api_ws_fits(const api_ws *w, const mlp_network *net, int *trap)
{
    size_t L = mlp_num_layers(net), l, sum_a = 0, sum_b = 0;
    int same = w->n_layers == L;
    for (l = 0; w->n_layers == L && l <= L; l++) {
        same = same && w->sizes[l] == mlp_layer_size(net, l);
        sum_a += w->sizes[l], sum_b += mlp_layer_size(net, l);
    }
    *trap = !same && w->n_layers == L && sum_a == sum_b;
    return same;
}

void api_op_forward_ws(api_state *s)
{
    int slot, trap;
    mlp_network *net = api_net(s, &slot);
    api_ws *w = &s->ws[api_pick(s, API_WS)];
    size_t rows;
    int fits;
    mlp_status st;
    if (!net || !w->h) return;
    fits = api_ws_fits(w, net, &trap);
    rows = api_batch(s, net, API_ROWS);
    if (trap && !API_CALL_RULE) return;
    memset(s->Y, 0xA5, sizeof s->Y);
    st = mlp_forward_ws(net, w->h, s->X, rows, s->Y);
    api_check(st, !fits ? MLP_ERR_MISMATCH : rows ? MLP_OK : API_ANY_FAIL, "mlp_forward_ws");
    if (st != MLP_OK) api_untouched(s->Y, sizeof s->Y, 0xA5, "mlp_forward_ws");
    else api_finite_out(net, s->X, rows, s->Y, "mlp_forward_ws");
}
