/* mlp_trainer_step and mlp_train, whose callback runs more of the program. */
#include "api.h"

#include <stdlib.h>
#include <string.h>

/* The trainer slot to run, or -1 to skip: none there, training nested too
 * deep, or (rule off) a trainer already running. *want receives what the
 * call must return: refused when running, a failure when detached. */
static int api_runnable(api_state *s, int *want)
{
    int j = (int)api_pick(s, API_TRAINERS);
    if (!s->tr[j] || s->depth >= API_MAX_DEPTH) return -1;
    if (s->tr_running[j] && !API_CALL_RULE) return -1;
    *want = s->tr_running[j] ? (int)API_ERR_BUSY : s->tr_net[j] < 0 ? API_ANY_FAIL : API_ANY;
    return j;
}

void api_op_step(api_state *s)
{
    int want = API_ANY, j = api_runnable(s, &want), slot;
    mlp_network *net;
    size_t rows;
    double J;
    api_snap sn;
    mlp_status st;
    if (j < 0) return;
    slot = s->tr_net[j];
    net = slot >= 0 ? s->net[slot] : NULL;
    rows = 1 + api_pick(s, API_ROWS);
    if (net) {
        api_fill(s, s->X, rows * mlp_input_size(net));
        api_targets(s, net, rows);
        api_snap_take(net, &sn);
    }
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
    int want = API_ANY, j = api_runnable(s, &want), slot, val = (int)(api_byte(s) % 4);
    mlp_network *net;
    mlp_trainer *tr;
    size_t rows = api_byte(s) % 16 ? 1 + api_pick(s, API_ROWS) : 0;
    float *X = malloc(sizeof s->X), *T = malloc(sizeof s->T);
    api_snap sn;
    mlp_status st;
    if (!X || !T) api_fail("malloc", "out of memory");
    if (j < 0) goto done;
    tr = s->tr[j];
    slot = s->tr_net[j];
    net = slot >= 0 ? s->net[slot] : NULL;
    if (net) {
        api_fill(s, s->X, rows * mlp_input_size(net));
        api_targets(s, net, rows);
        api_snap_take(net, &sn);
    }
    memcpy(X, s->X, sizeof s->X);
    memcpy(T, &s->T, sizeof s->T);
    s->tr_running[j]++;
    st = mlp_train(tr, X, T, rows, val == 1 ? X : NULL, val == 1 ? T : NULL, val == 1 ? rows / 2 : 0);
    s->tr_running[j]--;
    if (!net) api_check(st, want, "mlp_train");
    else if (s->tr_net[j] == slot && s->net[slot] == net) api_after(net, &sn, st, want, "mlp_train");
    else api_check(st, want, "mlp_train"), api_snap_free(&sn); /* destroyed by the callback */
    if (s->tr[j] == tr && st == MLP_OK && mlp_trainer_stop_reason(tr) == 3)
        api_fail("mlp_train", "stop reason 'diverged' with MLP_OK");
done:
    free(X);
    free(T);
}
