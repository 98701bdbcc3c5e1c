/* mlp_trainer_step and mlp_train, whose callback runs more of the program.
 * Both read all their arguments before deciding to skip, so that a
 * program reads the same whether the call rule is on or off. */
#include "api.h"

#include <stdlib.h>
#include <string.h>

/* A trainer slot, its network (NULL once detached) and what the call must
 * return: refused when it is running, a failure when detached. *skip: no
 * trainer there, training nested too deep, or (rule off) running. */
static int api_runnable(api_state *s, mlp_network **net, int *want, int *skip)
{
    int j = (int)api_pick(s, API_TRAINERS);
    *net = s->tr[j] && s->tr_net[j] >= 0 ? s->net[s->tr_net[j]] : NULL;
    *skip = !s->tr[j] || s->depth >= API_MAX_DEPTH || (s->tr_running[j] && !API_CALL_RULE);
    *want = s->tr_running[j] ? (int)API_ERR_BUSY : !*net ? API_ANY_FAIL : API_ANY;
    return j;
}

void api_op_step(api_state *s)
{
    int want, skip, j;
    mlp_network *net;
    size_t rows;
    double J;
    api_snap sn;
    mlp_status st;
    j = api_runnable(s, &net, &want, &skip);
    rows = 1 + api_pick(s, API_ROWS);
    if (net) {
        api_fill(s, s->X, rows * mlp_input_size(net));
        api_targets(s, net, rows);
    }
    if (skip) return;
    if (net) api_snap_take(net, &sn);
    memset(&J, 0xA5, sizeof J);
    st = mlp_trainer_step(s->tr[j], s->X, rows, &s->T, &J);
    if (net) api_after(net, &sn, st, want, "mlp_trainer_step");
    else api_check(st, want, "mlp_trainer_step");
    if (st != MLP_OK && st != MLP_ERR_DIVERGED) api_untouched(&J, sizeof J, 0xA5, "mlp_trainer_step");
}

/* The data stays the caller's and unchanged while training runs, so it
 * is copied out of s->X and s->T, which the callback's ops rewrite. */
void api_op_train(api_state *s)
{
    int want, skip, j, slot, val;
    mlp_network *net;
    mlp_trainer *tr;
    size_t rows;
    float *X, *T;
    api_snap sn;
    mlp_status st;
    j = api_runnable(s, &net, &want, &skip);
    val = (int)(api_byte(s) % 4);
    rows = api_byte(s) % 16 ? 1 + api_pick(s, API_ROWS) : 0;
    if (net) {
        api_fill(s, s->X, rows * mlp_input_size(net));
        api_targets(s, net, rows);
    }
    if (skip) return;
    X = malloc(sizeof s->X), T = malloc(sizeof s->T);
    if (!X || !T) api_fail("malloc", "out of memory");
    memcpy(X, s->X, sizeof s->X);
    memcpy(T, &s->T, sizeof s->T);
    tr = s->tr[j], slot = s->tr_net[j];
    if (net) api_snap_take(net, &sn);
    s->tr_running[j]++;
    st = mlp_train(tr, X, T, rows, val == 1 ? X : NULL, val == 1 ? T : NULL, val == 1 ? rows / 2 : 0);
    s->tr_running[j]--;
    if (!net) api_check(st, want, "mlp_train");
    else if (s->tr_net[j] == slot && s->net[slot] == net) api_after(net, &sn, st, want, "mlp_train");
    else api_check(st, want, "mlp_train"), api_snap_free(&sn); /* destroyed by the callback */
    if (s->tr[j] == tr && st == MLP_OK && mlp_trainer_stop_reason(tr) == 3)
        api_fail("mlp_train", "stop reason 'diverged' with MLP_OK");
    if (s->tr[j] != tr) s->tr_net[j] = -1; /* destroyed by the callback: gone now */
    free(X);
    free(T);
}
