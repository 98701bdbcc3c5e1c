/* Trainers: create (one per network), destroy, set and get options. */
#include "api.h"

#include <math.h>
#include <string.h>

/* Options that the rule lets the callback change on a running trainer. */
static int api_scalar_option(mlp_option o)
{
    switch (o) {
    case MLP_OPTION_LEARNING_RATE: case MLP_OPTION_MOMENTUM: case MLP_OPTION_BETA1:
    case MLP_OPTION_BETA2: case MLP_OPTION_EPSILON: case MLP_OPTION_WEIGHT_DECAY:
    case MLP_OPTION_RHO: case MLP_OPTION_GAMMA: case MLP_OPTION_MIN_LR:
    case MLP_OPTION_CLIP_NORM: case MLP_OPTION_MIN_DELTA: case MLP_OPTION_TOL:
    case MLP_OPTION_RPROP_INCREASE: case MLP_OPTION_RPROP_DECREASE:
    case MLP_OPTION_RPROP_DELTA_MIN: case MLP_OPTION_RPROP_DELTA_MAX: return 1;
    default: return 0;
    }
}

void api_op_trainer_create(api_state *s)
{
    int slot, j = (int)api_pick(s, API_TRAINERS), taken;
    mlp_network *net = api_net(s, &slot);
    mlp_trainer *sentinel = (mlp_trainer *)s, *tr = sentinel;
    mlp_status st;
    if (s->tr[j] || s->tr_running[j]) return;
    taken = net && (api_net_trainer(s, slot) >= 0 || api_net_running(s, slot));
    if (taken && !API_CALL_RULE) return; /* two trainers on one network: the known bug */
    st = mlp_trainer_create(net, &tr);
    api_check(st, !net ? MLP_ERR_NULL : taken ? API_ERR_BUSY : MLP_OK, "mlp_trainer_create");
    if (st != MLP_OK) {
        if (tr != sentinel) api_fail("mlp_trainer_create", "wrote *out although it failed");
        return;
    }
    api_callback_install(tr, s);
    s->tr[j] = tr;
    s->tr_net[j] = slot;
}

/* Rule on: destroying the running trainer is deferred until mlp_train
 * returns. Rule off: it is left alone. */
void api_op_trainer_destroy(api_state *s)
{
    int j = (int)api_pick(s, API_TRAINERS);
    if (!s->tr[j]) {
        mlp_trainer_destroy(NULL);
        return;
    }
    if (s->tr_running[j] && !API_CALL_RULE) return;
    mlp_trainer_destroy(s->tr[j]);
    s->tr[j] = NULL;
    /* A running trainer keeps its network in use until mlp_train returns. */
    if (!s->tr_running[j]) s->tr_net[j] = -1;
}

void api_op_trainer_set(api_state *s)
{
    int j = (int)api_pick(s, API_TRAINERS), refused;
    mlp_option o = (mlp_option)api_pick(s, MLP_OPTION_COUNT_ + 2);
    double v = api_double(s), before, after;
    mlp_status st;
    if (!s->tr[j]) {
        api_expect(mlp_trainer_set(NULL, o, v), MLP_ERR_NULL, "mlp_trainer_set");
        return;
    }
    if (API_EPOCHS_CAP > 0 && o == MLP_OPTION_EPOCHS && v > API_EPOCHS_CAP) v = API_EPOCHS_CAP;
    refused = s->tr_running[j] && !api_scalar_option(o);
    if (refused && !API_CALL_RULE) return;
    memset(&before, 0xA5, sizeof before);
    mlp_trainer_get(s->tr[j], o, &before);
    st = mlp_trainer_set(s->tr[j], o, v);
    api_check(st, refused ? API_ANY_FAIL : o >= MLP_OPTION_COUNT_ ? MLP_ERR_OPTION : API_ANY,
              "mlp_trainer_set");
    if (refused && isfinite(v) && o < MLP_OPTION_COUNT_ && st != API_ERR_BUSY && st != MLP_ERR_OPTION)
        api_fail("mlp_trainer_set", "a structural option while training: not refused as busy");
    if (st == MLP_OK || o >= MLP_OPTION_COUNT_) return;
    memset(&after, 0xA5, sizeof after);
    mlp_trainer_get(s->tr[j], o, &after);
    if (memcmp(&before, &after, sizeof after) != 0)
        api_fail("mlp_trainer_set", "failed but changed the option");
}

void api_op_trainer_get(api_state *s)
{
    int j = (int)api_pick(s, API_TRAINERS);
    mlp_option o = (mlp_option)api_pick(s, MLP_OPTION_COUNT_ + 2);
    size_t epoch = api_pick(s, 6);
    double v;
    mlp_progress pr;
    mlp_status st;
    memset(&v, 0xA5, sizeof v);
    memset(&pr, 0xA5, sizeof pr);
    st = mlp_trainer_get(s->tr[j], o, &v);
    api_check(st, !s->tr[j] ? MLP_ERR_NULL : o >= MLP_OPTION_COUNT_ ? MLP_ERR_OPTION : API_ANY,
              "mlp_trainer_get");
    if (st != MLP_OK) api_untouched(&v, sizeof v, 0xA5, "mlp_trainer_get");
    st = mlp_trainer_history(s->tr[j], epoch, &pr);
    api_status(st, "mlp_trainer_history");
    if (st != MLP_OK) api_untouched(&pr, sizeof pr, 0xA5, "mlp_trainer_history");
    else if (!s->tr_running[j] && (epoch < 1 || epoch > mlp_trainer_epochs_run(s->tr[j]) ||
                                   pr.epoch != epoch))
        api_fail("mlp_trainer_history", "an epoch outside those run");
}
