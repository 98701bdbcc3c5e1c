/* Names of the training enums, and the trainer options' names, defaults
 * and valid ranges. The CLI, the Python binding and the trainer itself all
 * read these, so that adding an optimiser, a schedule or an option changes
 * include/mlp.h and src/ alone. */
#include "options.h"

#include <math.h>
#include <string.h>

/* Integer options must be exact in a double. */
#define MAX_INT_OPTION 9007199254740992.0 /* 2^53 */
#define INF HUGE_VAL
#define INT MLP_OPTINFO_INTEGER
#define OPEN (MLP_OPTINFO_MIN_OPEN | MLP_OPTINFO_MAX_OPEN) /* (min, max) */
#define HI_OPEN MLP_OPTINFO_MAX_OPEN                        /* [min, max) */
#define LO_OPEN MLP_OPTINFO_MIN_OPEN                        /* (min, max] */

/* X(enum suffix, name, default, min, max, flags): one line per mlp_option. */
#define MLP__OPTION_LIST(X)                                                              \
    X(OPTIMIZER, "optimizer", MLP_OPT_ADAM, 0, MLP_OPT_COUNT_ - 1, INT)                   \
    X(LEARNING_RATE, "learning_rate", 1e-3, 0, INF, OPEN)                                 \
    X(MOMENTUM, "momentum", 0.9, 0, 1, HI_OPEN)                                           \
    X(BETA1, "beta1", 0.9, 0, 1, HI_OPEN)                                                 \
    X(BETA2, "beta2", 0.999, 0, 1, HI_OPEN)                                               \
    X(EPSILON, "epsilon", 1e-8, 0, INF, OPEN)                                             \
    X(WEIGHT_DECAY, "weight_decay", 0.01, 0, INF, HI_OPEN)                                \
    X(RHO, "rho", 0.99, 0, 1, HI_OPEN)                                                    \
    X(SCHEDULE, "schedule", MLP_SCHED_CONSTANT, 0, MLP_SCHED_COUNT_ - 1, INT)             \
    X(WARMUP_STEPS, "warmup_steps", 0, 0, MAX_INT_OPTION, INT)                            \
    X(STEP_EPOCHS, "step_epochs", 10, 1, MAX_INT_OPTION, INT)                             \
    X(GAMMA, "gamma", 0.1, 0, 1, LO_OPEN)                                                 \
    X(MIN_LR, "min_lr", 0, 0, INF, HI_OPEN)                                               \
    X(CLIP_NORM, "clip_norm", 0, 0, INF, HI_OPEN)                                         \
    X(BATCH_SIZE, "batch_size", 128, 1, (double)MLP_MAX_DIM, INT)                         \
    X(EPOCHS, "epochs", 10, 1, 4294967295.0, INT)                                         \
    X(VALIDATION_FRACTION, "validation_fraction", 0, 0, 1, HI_OPEN)                       \
    X(PATIENCE, "patience", 0, 0, 4294967295.0, INT)                                      \
    X(MIN_DELTA, "min_delta", 0, 0, INF, HI_OPEN)                                         \
    X(SHUFFLE, "shuffle", 1, 0, 1, INT)                                                   \
    X(CALLBACK_EVERY_BATCH, "callback_every_batch", 0, 0, 1, INT)                        \
    X(TOL, "tol", 1e-4, 0, INF, HI_OPEN)                                                  \
    X(MAX_FUN, "max_fun", 15000, 1, MAX_INT_OPTION, INT)                                  \
    X(RPROP_INCREASE, "rprop_increase", 1.2, 1, INF, OPEN)                                \
    X(RPROP_DECREASE, "rprop_decrease", 0.5, 0, 1, OPEN)                                  \
    X(RPROP_DELTA_MIN, "rprop_delta_min", 0, 0, INF, HI_OPEN)                             \
    X(RPROP_DELTA_MAX, "rprop_delta_max", 50, 0, INF, OPEN)                               \
    X(RPROP_DELTA_INIT, "rprop_delta_init", 0.1, 0, INF, OPEN)

typedef struct option_row {
    const char *name;
    double def, lo, hi;
    int flags;
} option_row;

#define ROW(id, name, def, lo, hi, flags) [MLP_OPTION_##id] = {name, def, lo, hi, flags},
static const option_row options[MLP_OPTION_COUNT_] = {MLP__OPTION_LIST(ROW)};
#undef ROW

/* The list has exactly one line per enum value (a missing one would leave
 * a hole the designated initialisers hide). */
#define ONE(id, name, def, lo, hi, flags) +1
typedef char mlp__option_list_complete[(0 MLP__OPTION_LIST(ONE)) == MLP_OPTION_COUNT_ ? 1 : -1];
#undef ONE

static const char *const optimizer_names[MLP_OPT_COUNT_] = {
    "sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "lbfgs", "irprop",
};
static const char *const schedule_names[MLP_SCHED_COUNT_] = {"constant", "step", "cosine"};
static const char *const stop_reason_names[MLP_STOP_COUNT_] = {
    "completed", "early_stopping", "callback", "diverged", "converged", "max_fun",
};

/* The index of name in names[0..n), or -1. */
static int find(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* Looks name up in names[0..n): its index in *i, or `fail` naming `what`. */
static mlp_status lookup(const char *const *names, int n, const char *name, const char *what,
                         mlp_status fail, int *i)
{
    MLP__CHECK_NULL(name);
    if ((*i = find(names, n, name)) < 0)
        return mlp__fail(fail, "unknown %s \"%s\"", what, name);
    return MLP_OK;
}

const char *mlp_optimizer_name(mlp_optimizer opt)
{
    return (unsigned)opt < MLP_OPT_COUNT_ ? optimizer_names[opt] : NULL;
}

mlp_status mlp_optimizer_parse(const char *name, mlp_optimizer *out)
{
    int i;
    mlp_status st;
    MLP__CHECK_NULL(out);
    if ((st = lookup(optimizer_names, MLP_OPT_COUNT_, name, "optimizer", MLP_ERR_OPTION, &i)) == MLP_OK)
        *out = (mlp_optimizer)i;
    return st;
}

const char *mlp_schedule_name(mlp_schedule sched)
{
    return (unsigned)sched < MLP_SCHED_COUNT_ ? schedule_names[sched] : NULL;
}

mlp_status mlp_schedule_parse(const char *name, mlp_schedule *out)
{
    int i;
    mlp_status st;
    MLP__CHECK_NULL(out);
    if ((st = lookup(schedule_names, MLP_SCHED_COUNT_, name, "schedule", MLP_ERR_OPTION, &i)) == MLP_OK)
        *out = (mlp_schedule)i;
    return st;
}

const char *mlp_stop_reason_name(mlp_stop_reason reason)
{
    return (unsigned)reason < MLP_STOP_COUNT_ ? stop_reason_names[reason] : NULL;
}

mlp_status mlp_stop_reason_parse(const char *name, mlp_stop_reason *out)
{
    int i;
    mlp_status st;
    MLP__CHECK_NULL(out);
    if ((st = lookup(stop_reason_names, MLP_STOP_COUNT_, name, "stop reason", MLP_ERR_ARGUMENT, &i)) == MLP_OK)
        *out = (mlp_stop_reason)i;
    return st;
}

const char *mlp_option_name(mlp_option option)
{
    return (unsigned)option < MLP_OPTION_COUNT_ ? options[option].name : NULL;
}

mlp_status mlp_option_parse(const char *name, mlp_option *out)
{
    MLP__CHECK_NULL(name);
    MLP__CHECK_NULL(out);
    for (int i = 0; i < MLP_OPTION_COUNT_; i++) {
        if (strcmp(name, options[i].name) == 0) {
            *out = (mlp_option)i;
            return MLP_OK;
        }
    }
    return mlp__fail(MLP_ERR_OPTION, "unknown trainer option \"%s\"", name);
}

mlp_status mlp_option_info(mlp_option option, double *default_value, double *min, double *max,
                           int *flags)
{
    const option_row *o;
    if ((unsigned)option >= MLP_OPTION_COUNT_)
        return mlp__fail(MLP_ERR_OPTION, "unknown trainer option %d", (int)option);
    o = &options[option];
    if (default_value)
        *default_value = o->def;
    if (min)
        *min = o->lo;
    if (max)
        *max = o->hi;
    if (flags)
        *flags = o->flags;
    return MLP_OK;
}

double mlp__option_default(mlp_option option)
{
    assert((unsigned)option < MLP_OPTION_COUNT_);
    return options[option].def;
}

mlp_status mlp__option_check(mlp_option option, double v)
{
    const option_row *o;
    int lo_open, hi_open;
    if ((unsigned)option >= MLP_OPTION_COUNT_)
        return mlp__fail(MLP_ERR_OPTION, "unknown trainer option %d", (int)option);
    o = &options[option];
    lo_open = (o->flags & MLP_OPTINFO_MIN_OPEN) != 0;
    hi_open = (o->flags & MLP_OPTINFO_MAX_OPEN) != 0;
    if (isnan(v))
        return mlp__fail(MLP_ERR_OPTION, "%s: NaN is not a value", o->name);
    if ((o->flags & MLP_OPTINFO_INTEGER) && v != floor(v))
        return mlp__fail(MLP_ERR_OPTION, "%s takes a whole number, got %g", o->name, v);
    if ((lo_open ? v <= o->lo : v < o->lo) || (hi_open ? v >= o->hi : v > o->hi))
        return mlp__fail(MLP_ERR_OPTION, "%s must be in %c%g, %g%c, got %g", o->name,
                         lo_open ? '(' : '[', o->lo, o->hi, hi_open ? ')' : ']', v);
    return MLP_OK;
}
