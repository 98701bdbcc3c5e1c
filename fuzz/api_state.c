/* The handle pool: which slot holds what, which handles are in training,
 * and the training callback that runs the next ops of the program. */
#include "api.h"

#include <stdlib.h>

mlp_network *api_net(api_state *s, int *slot)
{
    int i = (int)api_pick(s, API_NETS);
    *slot = i;
    return s->net[i];
}

int api_net_trainer(const api_state *s, int slot)
{
    int j;
    for (j = 0; j < API_TRAINERS; j++)
        if (s->tr[j] && s->tr_net[j] == slot) return j;
    return -1;
}

int api_net_running(const api_state *s, int slot)
{
    int j;
    for (j = 0; j < API_TRAINERS; j++)
        if (s->tr_running[j] && s->tr_net[j] == slot) return 1;
    return 0;
}

int api_use(const api_state *s, int slot)
{
    if (!api_net_running(s, slot)) return API_GO;
    return API_CALL_RULE ? API_REFUSED : API_SKIP;
}

/* Checks what the library reports, runs a few ops of the program (on any
 * handle, the running ones included), and sometimes stops training. */
static int api_callback(const mlp_progress *pr, void *user)
{
    api_state *s = user;
    if (pr->epoch < 1 || pr->epoch > pr->epochs || pr->batch < 1 || pr->batch > pr->batches ||
        (pr->epoch_end != 0 && pr->epoch_end != 1))
        api_fail("mlp_progress", "epoch or batch out of range");
    if (++s->reports > API_MAX_REPORTS) return 1;
    s->depth++;
    api_run(s, api_byte(s) % 4);
    s->depth--;
    return api_byte(s) % 8 == 0;
}

void api_callback_install(mlp_trainer *tr, api_state *s)
{
    api_expect(mlp_trainer_set_callback(tr, api_callback, s), MLP_OK, "mlp_trainer_set_callback");
}

/* Trainers first: on a library without the call rule a trainer must not
 * outlive its network. */
void api_cleanup(api_state *s)
{
    int i;
    for (i = 0; i < API_TRAINERS; i++) mlp_trainer_destroy(s->tr[i]);
    for (i = 0; i < API_NETS; i++) mlp_destroy(s->net[i]);
    for (i = 0; i < API_WS; i++) mlp_workspace_destroy(s->ws[i].h);
    mlp_dataset_destroy(s->ds);
}
