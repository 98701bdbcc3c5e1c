/* The loss and its gradient, evaluation and the gradient check. */
#include "api.h"

#include <math.h>
#include <string.h>

/* Rows of data and targets for net; 0 rows one time in 16. */
static size_t api_data(api_state *s, const mlp_network *net, size_t max)
{
    size_t rows = api_byte(s) % 16 ? 1 + api_pick(s, max) : 0;
    api_fill(s, s->X, rows * mlp_input_size(net));
    api_targets(s, net, rows);
    return rows;
}

void api_op_loss_grad(api_state *s)
{
    int slot, use, no_J;
    mlp_network *net = api_net(s, &slot);
    size_t rows;
    double J;
    api_snap sn;
    mlp_status st;
    if (!net) return;
    rows = api_data(s, net, API_ROWS);
    no_J = (api_byte(s) & 7) == 0;
    if ((use = api_use(s, slot)) == API_SKIP) return;
    memset(&J, 0xA5, sizeof J);
    api_snap_take(net, &sn);
    st = mlp_loss_grad(net, s->X, rows, &s->T, no_J ? NULL : &J);
    api_after(net, &sn, st, api_want(use, API_ANY), "mlp_loss_grad");
    if (st != MLP_OK) api_untouched(&J, sizeof J, 0xA5, "mlp_loss_grad");
}

void api_op_evaluate(api_state *s)
{
    int slot;
    mlp_network *net = api_net(s, &slot);
    size_t rows;
    double loss, acc;
    unsigned nul = api_byte(s) % 4;
    mlp_status st;
    if (!net) return;
    rows = api_data(s, net, API_ROWS);
    memset(&loss, 0xA5, sizeof loss);
    memset(&acc, 0xA5, sizeof acc);
    st = mlp_evaluate(net, s->X, rows, &s->T, nul == 1 ? NULL : &loss, nul == 2 ? NULL : &acc);
    api_status(st, "mlp_evaluate");
    if (st != MLP_OK) {
        api_untouched(&loss, sizeof loss, 0xA5, "mlp_evaluate");
        api_untouched(&acc, sizeof acc, 0xA5, "mlp_evaluate");
    } else if (nul != 2 && mlp_get_loss(net) != MLP_LOSS_MSE && !(acc >= 0.0 && acc <= 1.0)) {
        api_fail("mlp_evaluate", "an accuracy outside [0, 1]");
    }
}

/* The parameters are left exactly as they were, success or not. */
void api_op_gradcheck(api_state *s)
{
    int slot, use;
    mlp_network *net = api_net(s, &slot);
    mlp_gradcheck_block blocks[10];
    size_t rows, per = api_pick(s, 3);
    double eps = api_double(s);
    unsigned seed;
    api_snap sn;
    mlp_status st;
    if (!net) return;
    rows = api_data(s, net, 2); /* each row costs a pass per difference */
    seed = api_byte(s);
    if ((use = api_use(s, slot)) == API_SKIP) return;
    memset(blocks, 0xA5, sizeof blocks);
    api_snap_take(net, &sn);
    /* Every entry costs two passes or more per parameter: only on tiny
     * networks (a 2-3-1 has 13 parameters). Larger ones check one or two
     * entries per block, which reaches the same code. */
    if (per == 0 && mlp_num_params(net) > 16) per = 2;
    st = mlp_gradcheck(net, s->X, rows, &s->T, eps, per, seed, blocks);
    if (st == MLP_OK || st == MLP_ERR_DEGENERATE) api_snap_same(net, &sn, "mlp_gradcheck");
    api_after(net, &sn, st, api_want(use, API_ANY), "mlp_gradcheck");
    if (st != MLP_OK && st != MLP_ERR_DEGENERATE)
        api_untouched(blocks, sizeof blocks, 0xA5, "mlp_gradcheck");
}
