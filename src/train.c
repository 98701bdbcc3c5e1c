/* The trainer: options, one optimiser step, and mini-batch epochs with
 * validation, early stopping, divergence recovery and progress reports.
 *
 * Everything a step needs is allocated by mlp_trainer_create or at the
 * start of mlp_train; the steady-state step allocates nothing. Shuffles
 * draw from the network's RNG and dropout masks are a function of the seed
 * and step count (docs/RANDOM.md), so the same seed, data and thread count
 * give bit-identical weights, and training in
 * two calls (2 + 2 epochs) equals one call (4 epochs): the optimiser state
 * and step count live in the network too.
 */
#include "buffers.h"
#include "checks.h"
#include "fpmode.h"
#include "guard.h"
#include "lbfgs.h"
#include "network.h"
#include "optim.h"
#include "options.h"
#include "par.h"
#include "pass.h"
#include "profile.h"
#include "replica.h"
#include "rng.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* Seeds the validation split apart from the training RNG (splitmix's
 * golden-ratio constant), so the held-out rows stay the same when training
 * resumes and the split consumes nothing from net->rng. */
/* History entries reserved before the first epoch. */
#define MLP__HISTORY_START 1024
#define MLP__SPLIT_SALT 0x9E3779B97F4A7C15ull

struct mlp_trainer {
    mlp_network *net;
    double opt[MLP_OPTION_COUNT_];
    mlp_callback cb;
    void *user;

    /* Schedule position: steps and epochs since the last mlp_train started
     * (or since create), and the steps that call planned (0: none). */
    uint64_t sched_step;
    uint64_t sched_epoch;
    uint64_t sched_total;

    /* Results of the last mlp_train. */
    mlp_progress *history;
    size_t history_cap;
    size_t epochs_run;
    size_t best_epoch;
    int stop_reason;

    /* The call rule (guard.h); a destroy deferred until mlp_train returns. */
    int use;
    int destroy_pending;
    /* The caller's floating-point mode while training runs (fpmode.h). */
    mlp__fpmode caller_fpmode;

    /* Helper threads for the element-wise work, NULL at one thread. */
    mlp__pool *pool;

    /* mlp_trainer_set_profile: seconds per mlp_profile_part. */
    int profile_on;
    double prof[MLP_PROFILE_COUNT_];

    /* mlp_trainer_set_reducer: the processes this trainer trains with. */
    mlp__replica rep;
};

/* ---- options: names, defaults and ranges live in options.c ------------ */

static size_t opt_size(const mlp_trainer *tr, mlp_option o) { return (size_t)tr->opt[o]; }

static void optim_params(const mlp_trainer *tr, double lr, mlp__optim_params *p)
{
    p->kind = (mlp_optimizer)opt_size(tr, MLP_OPTION_OPTIMIZER);
    p->lr = (float)lr;
    p->momentum = (float)tr->opt[MLP_OPTION_MOMENTUM];
    p->beta1 = (float)tr->opt[MLP_OPTION_BETA1];
    p->beta2 = (float)tr->opt[MLP_OPTION_BETA2];
    p->eps = (float)tr->opt[MLP_OPTION_EPSILON];
    p->weight_decay = (float)tr->opt[MLP_OPTION_WEIGHT_DECAY];
    p->rho = (float)tr->opt[MLP_OPTION_RHO];
    p->rp_inc = (float)tr->opt[MLP_OPTION_RPROP_INCREASE];
    p->rp_dec = (float)tr->opt[MLP_OPTION_RPROP_DECREASE];
    p->rp_min = (float)tr->opt[MLP_OPTION_RPROP_DELTA_MIN];
    p->rp_max = (float)tr->opt[MLP_OPTION_RPROP_DELTA_MAX];
    p->rp_init = (float)tr->opt[MLP_OPTION_RPROP_DELTA_INIT];
}

/* Optimisers that take the whole training set as one batch. */
static int full_batch(mlp_optimizer kind) { return kind == MLP_OPT_LBFGS || kind == MLP_OPT_IRPROP; }

static double current_lr(const mlp_trainer *tr)
{
    mlp__schedule_params s;
    s.kind = (mlp_schedule)opt_size(tr, MLP_OPTION_SCHEDULE);
    s.lr = tr->opt[MLP_OPTION_LEARNING_RATE];
    s.gamma = tr->opt[MLP_OPTION_GAMMA];
    s.step_epochs = (uint64_t)tr->opt[MLP_OPTION_STEP_EPOCHS];
    s.warmup_steps = (uint64_t)tr->opt[MLP_OPTION_WARMUP_STEPS];
    s.min_lr = tr->opt[MLP_OPTION_MIN_LR];
    return mlp__schedule_lr(&s, tr->sched_epoch, tr->sched_step, tr->sched_total);
}

/* ---- the trainer handle ------------------------------------------------- */

/* Options that take effect at the next step without resizing anything: the
 * training callback may change them. */
static int live_option(mlp_option o)
{
    switch (o) {
    case MLP_OPTION_LEARNING_RATE:
    case MLP_OPTION_MOMENTUM:
    case MLP_OPTION_BETA1:
    case MLP_OPTION_BETA2:
    case MLP_OPTION_EPSILON:
    case MLP_OPTION_WEIGHT_DECAY:
    case MLP_OPTION_RHO:
    case MLP_OPTION_GAMMA:
    case MLP_OPTION_MIN_LR:
    case MLP_OPTION_CLIP_NORM:
    case MLP_OPTION_MIN_DELTA:
    case MLP_OPTION_TOL:
    case MLP_OPTION_RPROP_INCREASE:
    case MLP_OPTION_RPROP_DECREASE:
    case MLP_OPTION_RPROP_DELTA_MIN:
    case MLP_OPTION_RPROP_DELTA_MAX:
        return 1;
    default:
        return 0;
    }
}

/* The trainer's network, or NULL with a message when it was destroyed. */
static mlp_network *trainer_net(const mlp_trainer *tr, const char *fn)
{
    if (!tr->net)
        mlp__fail(MLP_ERR_NULL, "%s: the trainer's network has been destroyed", fn);
    return tr->net;
}

static mlp_status trainer_create(mlp_network *net, mlp_trainer **out)
{
    mlp_trainer *tr;
    mlp_status st;
    mlp_optimizer kind = (mlp_optimizer)mlp__option_default(MLP_OPTION_OPTIMIZER);

    if (net->trainer_net)
        return mlp__fail(MLP_ERR_BUSY, "mlp_trainer_create: the network already has a trainer "
                                       "(destroy it first: one trainer per network)");
    tr = mlp__calloc(1, sizeof *tr);
    if (!tr)
        return mlp__fail(MLP_ERR_NOMEM, "trainer: %zu bytes", sizeof *tr);
    tr->net = net;
    for (int i = 0; i < MLP_OPTION_COUNT_; i++)
        tr->opt[i] = mlp__option_default((mlp_option)i);
    /* A network that carries optimiser state (a resumed model) keeps it. */
    if (net->opt_kind >= 0 && net->opt_kind < MLP_OPT_COUNT_)
        kind = (mlp_optimizer)net->opt_kind;
    tr->opt[MLP_OPTION_OPTIMIZER] = (double)kind;

    st = mlp__reserve(net, opt_size(tr, MLP_OPTION_BATCH_SIZE));
    if (st == MLP_OK)
        st = mlp__optim_prepare(net, kind); /* last: nothing fails after it */
    if (st != MLP_OK) {
        mlp__free(tr);
        return st;
    }
    net->trainer_net = &tr->net;
    *out = tr;
    return MLP_OK;
}

mlp_status mlp_trainer_create(mlp_network *net, mlp_trainer **out)
{
    MLP__CHECK_NULL(out);
    MLP__GUARDED(net, MLP__CHANGE, "network", trainer_create(net, out));
}

static void trainer_free(mlp_trainer *tr)
{
    if (tr->net)
        tr->net->trainer_net = NULL;
    mlp__pool_destroy(tr->pool);
    mlp__replica_drop(&tr->rep);
    mlp__free(tr->history);
    mlp__free(tr);
}

void mlp_trainer_destroy(mlp_trainer *tr)
{
    int state;
    if (!tr)
        return;
    state = mlp__use_load(&tr->use);
    if (state == MLP__TRAINING || state == MLP__IN_CALLBACK) {
        tr->destroy_pending = 1; /* from the callback: mlp_train frees it */
        return;
    }
    trainer_free(tr);
}

static mlp_status trainer_set(mlp_trainer *tr, mlp_option option, double value)
{
    mlp_status st = mlp__option_check(option, value);
    mlp_network *net;
    int in_net = 0;
    if (st != MLP_OK)
        return st;
    if (!(net = trainer_net(tr, "mlp_trainer_set")))
        return MLP_ERR_NULL;
    if (option == MLP_OPTION_OPTIMIZER) {
        /* The state is (re)allocated here, never inside a step. */
        st = mlp__enter(&net->use, MLP__CHANGE, "mlp_trainer_set", "network", &in_net);
        if (st == MLP_OK)
            st = mlp__optim_prepare(net, (mlp_optimizer)(int)value);
        mlp__leave(&net->use, in_net);
        if (st != MLP_OK)
            return st;
    }
    tr->opt[option] = value;
    return MLP_OK;
}

mlp_status mlp_trainer_set(mlp_trainer *tr, mlp_option option, double value)
{
    enum mlp__access access = live_option(option) ? MLP__READ : MLP__CHANGE;
    MLP__GUARDED(tr, access, "trainer", trainer_set(tr, option, value));
}

mlp_status mlp_trainer_get(const mlp_trainer *tr, mlp_option option, double *value)
{
    MLP__CHECK_NULL(tr);
    MLP__CHECK_NULL(value);
    if ((int)option < 0 || option >= MLP_OPTION_COUNT_)
        return mlp__fail(MLP_ERR_OPTION, "unknown trainer option %d", (int)option);
    *value = tr->opt[option];
    return MLP_OK;
}

static mlp_status set_callback(mlp_trainer *tr, mlp_callback cb, void *user)
{
    tr->cb = cb;
    tr->user = user;
    return MLP_OK;
}

mlp_status mlp_trainer_set_callback(mlp_trainer *tr, mlp_callback cb, void *user)
{
    MLP__GUARDED(tr, MLP__CHANGE, "trainer", set_callback(tr, cb, user));
}

/* ---- the reducer (replica.h) --------------------------------------------- */

static mlp_status set_reducer(mlp_trainer *tr, const mlp_reducer *r)
{
    mlp_network *net = trainer_net(tr, "mlp_trainer_set_reducer");
    mlp_status st;
    if (!net)
        return MLP_ERR_NULL;
    if (!r) {
        mlp__replica_drop(&tr->rep);
        return MLP_OK;
    }
    if (!r->sum_floats_start || !r->sum_floats_wait || !r->sum_doubles)
        return mlp__fail(MLP_ERR_NULL, "mlp_trainer_set_reducer: a sum callback is NULL");
    if (r->size < 1 || r->rank < 0 || r->rank >= r->size)
        return mlp__fail(MLP_ERR_ARGUMENT, "mlp_trainer_set_reducer: rank %d of %d", r->rank,
                         r->size);
    st = mlp__replica_check(r, net, tr->opt, MLP_OPTION_COUNT_, NULL, MLP_OK,
                            "mlp_trainer_set_reducer");
    if (st == MLP_OK)
        st = mlp__replica_set(&tr->rep, r, net);
    return st;
}

mlp_status mlp_trainer_set_reducer(mlp_trainer *tr, const mlp_reducer *r)
{
    MLP__GUARDED(tr, MLP__CHANGE, "trainer", set_reducer(tr, r));
}

void mlp_trainer_reducer_rank(const mlp_trainer *tr, int *rank, int *size)
{
    int on = tr && tr->rep.on;
    if (rank)
        *rank = on ? tr->rep.r.rank : 0;
    if (size)
        *size = on ? tr->rep.r.size : 1;
}

size_t mlp_trainer_epochs_run(const mlp_trainer *tr) { return tr ? tr->epochs_run : 0; }
size_t mlp_trainer_best_epoch(const mlp_trainer *tr) { return tr ? tr->best_epoch : 0; }
int mlp_trainer_stop_reason(const mlp_trainer *tr) { return tr ? tr->stop_reason : 0; }

mlp_status mlp_trainer_history(const mlp_trainer *tr, size_t epoch, mlp_progress *out)
{
    MLP__CHECK_NULL(tr);
    MLP__CHECK_NULL(out);
    if (epoch < 1 || epoch > tr->epochs_run)
        return mlp__fail(MLP_ERR_ARGUMENT, "epoch %zu: the last training ran %zu epochs", epoch,
                         tr->epochs_run);
    *out = tr->history[epoch - 1];
    return MLP_OK;
}

/* ---- entering and leaving training ------------------------------------------ */

/* Marks the trainer and its network as training, or refuses with
 * MLP_ERR_BUSY when either is in use. */
static mlp_status training_begin(mlp_trainer *tr, const char *fn)
{
    mlp_network *net = trainer_net(tr, fn);
    if (!net)
        return MLP_ERR_NULL;
    if (!mlp__use_swap(&tr->use, MLP__IDLE, MLP__TRAINING))
        return mlp__fail(MLP_ERR_BUSY, "%s: the trainer is in use (training already runs)", fn);
    if (!mlp__use_swap(&net->use, MLP__IDLE, MLP__TRAINING)) {
        mlp__use_store(&tr->use, MLP__IDLE);
        return mlp__fail(MLP_ERR_BUSY, "%s: the network is in use", fn);
    }
    tr->caller_fpmode = mlp__flush_subnormals();
    return MLP_OK;
}

/* Lends the trainer's pool to its network for this training call, with as
 * many threads as BLAS uses (mlp_set_num_threads): made once, or again
 * when that number changed; one thread makes none. */
static mlp_status attach_pool(mlp_trainer *tr)
{
    int threads = mlp__pool_threads_wanted();
    mlp_status st;
    if (mlp__pool_threads(tr->pool) != threads) {
        mlp__pool_destroy(tr->pool);
        tr->pool = NULL;
        if (threads > 1 && (st = mlp__pool_create(threads, &tr->pool)) != MLP_OK)
            return st;
    }
    tr->net->pool = tr->pool;
    tr->net->prof = tr->profile_on ? tr->prof : NULL;
    return MLP_OK;
}

/* Leaves training; carries out the destroys the callback asked for. The
 * trainer is gone afterwards when its destroy was deferred. */
static void training_end(mlp_trainer *tr)
{
    mlp_network *net = tr->net;
    mlp__fpmode_restore(tr->caller_fpmode);
    net->pool = NULL;
    net->prof = NULL;
    mlp__use_store(&net->use, MLP__IDLE);
    mlp__use_store(&tr->use, MLP__IDLE);
    if (net->destroy_pending) {
        tr->net = NULL;
        mlp__network_free(net);
    }
    if (tr->destroy_pending)
        trainer_free(tr);
}

/* Runs the callback with the handles open to reading calls. Returns
 * non-zero when training must stop: the callback asked, or destroyed the
 * trainer or its network. */
static int call_back_local(mlp_trainer *tr, const mlp_progress *pr)
{
    mlp_network *net = tr->net;
    int stop;
    if (!tr->cb)
        return 0;
    mlp__use_store(&net->use, MLP__IN_CALLBACK);
    mlp__use_store(&tr->use, MLP__IN_CALLBACK);
    mlp__fpmode_restore(tr->caller_fpmode); /* the caller's code, the caller's mode */
    stop = tr->cb(pr, tr->user);
    mlp__flush_subnormals();
    mlp__use_store(&tr->use, MLP__TRAINING);
    mlp__use_store(&net->use, MLP__TRAINING);
    return stop || tr->destroy_pending || net->destroy_pending;
}

/* Under a reducer every process takes this turn (with or without a
 * callback of its own) and all stop when any asks. */
static int call_back(mlp_trainer *tr, const mlp_progress *pr)
{
    int stop = call_back_local(tr, pr);
    return tr->rep.on ? mlp__replica_any(&tr->rep, stop) : stop;
}

/* Whether call_back has a turn to take. */
static int has_turn(const mlp_trainer *tr) { return tr->cb || tr->rep.on; }

/* ---- one step ---------------------------------------------------------- */

/* What one step reports. */
typedef struct step_result {
    double loss, J, lr;
    size_t correct;
} step_result;

/* Plain SGD without clipping folds its update into the backward pass:
 * W = (1 - lr l2) W - lr D^T In in one sgemm per layer, with no gradient
 * written and no update pass of its own (costly at batch 1). The rule
 * depends on the options alone: every batch a step sees fits the
 * workspace (mlp_train and mlp_trainer_step reserve it). */
static int fused_sgd(const mlp_trainer *tr)
{
    /* Not under a reducer: the update needs the summed gradient, which the
     * fused path never writes. */
    return (mlp_optimizer)tr->opt[MLP_OPTION_OPTIMIZER] == MLP_OPT_SGD &&
           !(tr->opt[MLP_OPTION_CLIP_NORM] > 0.0) && !tr->rep.on;
}

static int clip_and_update(mlp_trainer *tr, const step_result *r);

/* Gradient, clipping and the optimiser's update; 0 when a parameter became
 * non-finite. Nothing changes when J is not finite (*r tells). */
static int grad_and_update(mlp_trainer *tr, const float *X, size_t rows, const void *targets,
                           const float *w, step_result *r)
{
    mlp_network *net = tr->net;

    mlp__drop_key drop = mlp__drop_key_next(net);
    mlp__loss_grad(net, X, rows, targets, w, &drop, &r->loss, &r->J, &r->correct);
    if (!isfinite(r->J) || !isfinite(r->loss))
        return 1;
    return clip_and_update(tr, r);
}

/* Clipping and the optimiser's update from net->grads; 0 when a parameter
 * became non-finite. */
static int clip_and_update(mlp_trainer *tr, const step_result *r)
{
    mlp_network *net = tr->net;
    mlp__optim_params p;
    float gscale = 1.0f;

    if (tr->opt[MLP_OPTION_CLIP_NORM] > 0.0) /* in "other" when profiled */
        gscale = mlp__clip_factor(mlp__global_norm(net->grads, net->n_params),
                                  tr->opt[MLP_OPTION_CLIP_NORM]);
    optim_params(tr, r->lr, &p);
    {
        double t0 = mlp__prof_start(net);
        int finite = mlp__optim_update(net, &p, gscale);
        mlp__prof_add(net, MLP_PROFILE_OPTIMIZER, t0);
        return finite;
    }
}

/* Under a reducer: this process's rows of the global batch sl, the
 * gradient summed across processes (each layer's sum started while the
 * earlier layers are computed), the loss and correct counts reduced, the
 * l2 term added once, then the same clipping and update on every process.
 * A non-finite loss on any process sets r->J to NaN everywhere. *finite as
 * grad_and_update returns it; a failure of the reducer's engine is its
 * status (message set), with the parameters unchanged. */
static mlp_status replica_update(mlp_trainer *tr, const float *X, size_t rows,
                                 const void *targets, const float *w, const mlp__slice *sl,
                                 step_result *r, int *finite)
{
    mlp_network *net = tr->net;
    mlp__drop_key drop = mlp__drop_key_next(net);
    double v[3], loss_sum = 0.0;
    size_t correct = 0;
    mlp_status st;
    /* the single-process scale of the global batch (mlp__loss_grad's) */
    float scale = w ? (sl->wsum > 0.0 ? (float)(1.0 / sl->wsum) : 0.0f) : 1.0f / (float)sl->rows;

    drop.row0 = sl->row0; /* the masks one process gives these rows */
    st = mlp__replica_grad(&tr->rep, net, X, rows, targets, w, &drop, scale, &loss_sum, &correct);
    if (st != MLP_OK)
        return st;
    v[0] = isfinite(loss_sum) ? loss_sum : 0.0;
    v[1] = (double)correct;
    v[2] = !isfinite(loss_sum);
    if ((st = mlp__replica_sum(&tr->rep, v, 3)) != MLP_OK)
        return st;
    r->loss = sl->wsum > 0.0 ? v[0] / sl->wsum : 0.0;
    r->J = v[2] > 0 ? NAN : r->loss + mlp_penalty(net);
    r->correct = (size_t)v[1];
    *finite = 1;
    if (!isfinite(r->J))
        return MLP_OK;
    if (net->l2 != 0.0f)
        mlp__add_l2_grad(net);
    *finite = clip_and_update(tr, r);
    return MLP_OK;
}

/* Loss, gradient, clipping, update, on a batch already checked that fits
 * the workspace (under a reducer, this process's rows of the global batch
 * sl; else sl is NULL). MLP_ERR_DIVERGED (message set) for a non-finite loss,
 * before any change to the parameters, or for a parameter made non-finite
 * by the update; the reducer engine's status when it fails. */
static mlp_status train_step(mlp_trainer *tr, const float *X, size_t rows, const void *targets,
                             const float *w, const mlp__slice *sl, step_result *r)
{
    mlp_network *net = tr->net;
    int finite;

    r->lr = current_lr(tr);
    r->correct = 0;
    if (fused_sgd(tr)) {
        mlp__drop_key drop = mlp__drop_key_next(net);
        assert(rows <= net->ws.capacity);
        finite = mlp__sgd_step_fused_w(net, X, rows, targets, w, &drop, (float)r->lr, &r->loss,
                                       &r->J, &r->correct);
    } else if (sl) {
        mlp_status st = replica_update(tr, X, rows, targets, w, sl, r, &finite);
        if (st != MLP_OK)
            return st;
    } else {
        finite = grad_and_update(tr, X, rows, targets, w, r); /* chunked: any rows */
    }
    if (!isfinite(r->J) || !isfinite(r->loss))
        return mlp__fail(MLP_ERR_DIVERGED, "step %llu: the objective is %g",
                         (unsigned long long)net->steps + 1, r->J);
    if (fused_sgd(tr))
        mlp__optim_count_step(net);
    tr->sched_step++;
    if (!finite)
        return mlp__fail(MLP_ERR_DIVERGED, "step %llu: a parameter became non-finite (lr %g)",
                         (unsigned long long)net->steps, r->lr);
    return MLP_OK;
}

/* The targets of `rows` rows: bytes per row. */
static size_t target_row_bytes(const mlp_network *net)
{
    if (net->loss == MLP_LOSS_SOFTMAX_CE)
        return sizeof(int32_t);
    return net->sizes[net->n_layers] * sizeof(float);
}

/* pool: the trainer's, for the check of X (NULL: on the caller alone). */
static mlp_status check_data(const mlp_network *net, mlp__pool *pool, const float *X,
                             const void *targets, size_t n, const char *what)
{
    size_t len;
    mlp_status st;
    if (!mlp__mul_ok(n, net->sizes[0], &len) || len > (size_t)-1 / sizeof(float))
        return mlp__fail(MLP_ERR_SIZE, "%s: %zu rows of %zu floats overflow", what, n,
                         net->sizes[0]);
    /* split across the pool; the serial scan only names the culprit */
    st = mlp__par_all_finite(pool, X, len) ? MLP_OK : mlp__check_finite(X, len, what);
    if (st == MLP_OK)
        st = mlp__check_targets(net, targets, n);
    return st;
}

/* Full-batch optimisers need every row in one process (L-BFGS's line
 * search, iRPROP-'s sign test on the whole gradient): refused under a
 * reducer rather than run on a sum they were not written for. */
static mlp_status refuse_full_batch(const mlp_trainer *tr, const char *fn)
{
    mlp_optimizer kind = (mlp_optimizer)opt_size(tr, MLP_OPTION_OPTIMIZER);
    if (tr->rep.on && full_batch(kind))
        return mlp__fail(MLP_ERR_OPTION, "%s: %s is a full-batch optimiser and does not train "
                                         "across processes (choose a mini-batch optimiser)",
                         fn, mlp_optimizer_name(kind));
    return MLP_OK;
}

/* What a step checks and prepares before it changes anything. */
static mlp_status step_prepare(mlp_trainer *tr, const float *X, size_t batch, const void *targets)
{
    mlp_network *net = tr->net;
    mlp_optimizer kind = (mlp_optimizer)opt_size(tr, MLP_OPTION_OPTIMIZER);
    /* the pool of the last step (the first checks on one thread) */
    mlp_status st = check_data(net, tr->pool, X, targets, batch, "X");

    if (st != MLP_OK || (st = refuse_full_batch(tr, "mlp_trainer_step")) != MLP_OK)
        return st;
    if (kind == MLP_OPT_LBFGS)
        return mlp__fail(MLP_ERR_OPTION, "mlp_trainer_step: L-BFGS runs its iterations inside "
                                         "mlp_train (its line search needs the whole set)");
    if (net->opt_kind != (int)kind && (st = mlp__optim_prepare(net, kind)) != MLP_OK)
        return st; /* only when a load replaced the network's state */
    /* A step runs on the whole batch at once, so that its result does not
     * depend on the workspace's history: a batch larger than any before
     * grows the workspace (the one allocation a step can make). */
    if ((st = mlp__reserve(net, batch ? batch : 1)) != MLP_OK)
        return st;
    return attach_pool(tr);
}

static mlp_status trainer_step(mlp_trainer *tr, const float *X, size_t batch, const void *targets,
                               double *J)
{
    mlp_network *net = tr->net;
    step_result r;
    mlp__slice sl;
    mlp_status st = step_prepare(tr, X, batch, targets);

    if (tr->rep.on) { /* the global batch: every process's rows, in rank order */
        int failed = 0;
        mlp_status rs = mlp__replica_counts(&tr->rep, batch, (double)batch, st != MLP_OK, &sl,
                                            &failed);
        if (st == MLP_OK && (st = rs) == MLP_OK && failed)
            st = mlp__fail(MLP_ERR_ARGUMENT, "mlp_trainer_step: another process failed");
        if (st == MLP_OK && sl.rows == 0)
            st = mlp__fail(MLP_ERR_SIZE, "mlp_trainer_step: empty global batch");
    }
    if (st != MLP_OK)
        return st;
    {
        double t0 = mlp__prof_start(net);
        st = train_step(tr, X, batch, targets, NULL, tr->rep.on ? &sl : NULL, &r);
        mlp__prof_add(net, MLP_PROFILE_TOTAL, t0);
    }
    if (st == MLP_OK && J)
        *J = r.J;
    return st;
}

mlp_status mlp_trainer_step(mlp_trainer *tr, const float *X, size_t batch, const void *targets,
                            double *J)
{
    mlp_status st;
    MLP__CHECK_NULL(tr);
    MLP__CHECK_NULL(X);
    MLP__CHECK_NULL(targets);
    if (batch == 0 && !tr->rep.on) /* a process may pass no rows of a global batch */
        return mlp__fail(MLP_ERR_SIZE, "mlp_trainer_step: empty batch");
    if ((st = training_begin(tr, "mlp_trainer_step")) != MLP_OK)
        return st;
    st = trainer_step(tr, X, batch, targets, J);
    training_end(tr);
    return st;
}

/* ---- mini-batch training --------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Copies rows idx[0..rows) of X, targets and weights (w may be NULL)
 * into contiguous buffers. */
static void gather(const mlp_network *net, const float *X, const void *targets, const float *w,
                   const size_t *idx, size_t rows, float *Xb, void *tb, float *wb)
{
    mlp__par_gather(net->pool, X, net->sizes[0] * sizeof(float), idx, rows, Xb);
    mlp__par_gather(NULL, targets, target_row_bytes(net), idx, rows, tb);
    if (w)
        for (size_t r = 0; r < rows; r++) wb[r] = w[idx[r]];
}

static void fisher_yates(size_t *a, size_t n, mlp__rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)mlp__rng_below(rng, i);
        size_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
}

/* What one mlp_train call does, fixed before the first step. */
typedef struct run_plan {
    const float *X;
    const void *targets;
    const float *w;     /* per-row weights, NULL = all ones */
    size_t n, n_hold, n_train, batch, batches, epochs, patience;
    double min_delta, t0;
    int is_mse, every_batch;
    mlp_optimizer kind;
    int full;           /* a full-batch optimiser: one step per epoch on all rows */
    const float *X_val; /* the validation set: the caller's or the held-out rows */
    const void *t_val;
    const float *w_val;
    size_t n_val;
    /* Under a reducer: rep set; sharded when each process has its own rows,
     * and then batch is this shard's part of a global batch and
     * n_val_total the validation rows of all shards. */
    int rep, sharded;
    size_t n_val_total;
} run_plan;

/* Validation rows that decide (all shards' in the sharded mode). */
static size_t val_rows(const run_plan *p) { return p->sharded ? p->n_val_total : p->n_val; }

/* Buffers of one mlp_train call, all allocated before the first step. */
typedef struct run_buffers {
    size_t *base;    /* n: training rows in split order, then held-out rows */
    size_t *order;   /* n_train: this epoch's order */
    float *Xb;       /* batch x n_in */
    void *tb;        /* batch targets */
    float *X_hold;   /* n_hold x n_in, held out of X by the validation fraction */
    void *t_hold;
    float *snap;     /* params then optimiser state, at the epoch start */
    float *best;     /* params of the best epoch (patience > 0) */
    float *wb;       /* batch weights (with weights) */
    float *w_hold;   /* held-out weights */
    /* Full batch: the training rows, X itself or gathered (with a split). */
    const float *X_tr;
    const void *t_tr;
    const float *w_tr;
    float *X_own;
    void *t_own;
    float *w_own;
    double *lb_mem;  /* L-BFGS state */
    mlp__lbfgs lb;
    /* L-BFGS's evaluator: the network, its rows, and the last results. */
    mlp_network *ev_net;
    size_t ev_n;
    double ev_loss, ev_J;
    size_t ev_correct;
} run_buffers;

/* Early stopping's and the epoch loop's running state. */
typedef struct run_state {
    double best_loss;
    size_t since_best;
    uint64_t snap_steps;
    int stop;
} run_state;

static void run_free(run_buffers *b)
{
    mlp__free(b->base);
    mlp__free(b->order);
    mlp__free(b->Xb);
    mlp__free(b->tb);
    mlp__free(b->X_hold);
    mlp__free(b->t_hold);
    mlp__free(b->snap);
    mlp__free(b->best);
    mlp__free(b->wb);
    mlp__free(b->w_hold);
    mlp__free(b->X_own);
    mlp__free(b->t_own);
    mlp__free(b->w_own);
    mlp__free(b->lb_mem);
}

/* count * size bytes, or NULL with *st set and a message naming what. */
static void *run_alloc(size_t count, size_t size, const char *what, mlp_status *st)
{
    size_t bytes;
    void *p;
    if (!mlp__mul_ok(count, size, &bytes)) {
        *st = mlp__fail(MLP_ERR_SIZE, "%s: %zu x %zu bytes overflow", what, count, size);
        return NULL;
    }
    p = mlp__malloc(bytes ? bytes : 1);
    if (!p)
        *st = mlp__fail(MLP_ERR_NOMEM, "%s: %zu bytes", what, bytes);
    return p;
}

/* Appends an epoch's report to the history, doubling it when full. */
static mlp_status history_push(mlp_trainer *tr, const mlp_progress *pr)
{
    if (tr->epochs_run == tr->history_cap) {
        size_t cap = tr->history_cap ? 2 * tr->history_cap : 1;
        mlp_status st = MLP_OK;
        mlp_progress *h = run_alloc(cap, sizeof(mlp_progress), "history", &st);
        if (!h)
            return st;
        if (tr->epochs_run)
            memcpy(h, tr->history, tr->epochs_run * sizeof(mlp_progress));
        mlp__free(tr->history);
        tr->history = h;
        tr->history_cap = cap;
    }
    tr->history[tr->epochs_run++] = *pr;
    return MLP_OK;
}

/* The data of one mlp_train call, as the caller passed it. */
typedef struct run_data {
    const float *X, *w, *X_val, *w_val;
    const void *targets, *targets_val;
    size_t n, n_val;
} run_data;

static mlp_status run_data_check(const mlp_network *net, const run_data *d)
{
    mlp_status st;
    if (d->n == 0)
        return mlp__fail(MLP_ERR_SIZE, "mlp_train: no training rows");
    if (d->n_val > 0 && (!d->X_val || !d->targets_val))
        return mlp__fail(MLP_ERR_NULL, "mlp_train: %zu validation rows but X_val or targets_val "
                                       "is NULL", d->n_val);
    if ((st = check_data(net, net->pool, d->X, d->targets, d->n, "X")) != MLP_OK ||
        (st = mlp__check_weights(d->w, d->n, 1, "weights")) != MLP_OK)
        return st;
    if (d->n_val > 0 &&
        ((st = check_data(net, net->pool, d->X_val, d->targets_val, d->n_val, "X_val")) != MLP_OK ||
         (st = mlp__check_weights(d->w_val, d->n_val, 0, "w_val")) != MLP_OK))
        return st;
    return MLP_OK;
}

/* Checks the data and fixes the plan; nothing changes on failure. */
static mlp_status run_plan_make(const mlp_trainer *tr, const run_data *d, run_plan *p)
{
    const mlp_network *net = tr->net;
    double frac = tr->opt[MLP_OPTION_VALIDATION_FRACTION];
    const float *X = d->X, *X_val = d->X_val;
    const void *targets = d->targets, *targets_val = d->targets_val;
    size_t n = d->n, n_val = d->n_val;
    mlp_status st;

    if ((st = run_data_check(net, d)) != MLP_OK)
        return st;
    memset(p, 0, sizeof *p);
    if (n_val == 0 && frac > 0.0) {
        p->n_hold = (size_t)ceil(frac * (double)n);
        if (p->n_hold >= n)
            return mlp__fail(MLP_ERR_ARGUMENT,
                             "validation fraction %g of %zu rows leaves none to train on", frac, n);
    }
    p->X = X;
    p->targets = targets;
    p->n = n;
    p->n_train = n - p->n_hold;
    p->w = d->w;
    p->w_val = d->w_val;
    p->kind = (mlp_optimizer)opt_size(tr, MLP_OPTION_OPTIMIZER);
    p->full = full_batch(p->kind);
    p->batch = p->full ? p->n_train : opt_size(tr, MLP_OPTION_BATCH_SIZE);
    if (p->batch > p->n_train)
        p->batch = p->n_train;
    p->batches = (p->n_train + p->batch - 1) / p->batch;
    p->epochs = opt_size(tr, MLP_OPTION_EPOCHS);
    p->patience = opt_size(tr, MLP_OPTION_PATIENCE);
    p->min_delta = tr->opt[MLP_OPTION_MIN_DELTA];
    p->every_batch = tr->opt[MLP_OPTION_CALLBACK_EVERY_BATCH] != 0.0 && !p->full;
    p->is_mse = net->loss == MLP_LOSS_MSE;
    p->X_val = X_val;
    p->t_val = targets_val;
    p->n_val = n_val;
    return MLP_OK;
}

/* Full batch: the training rows (gathered after the split when some are
 * held out) and, for L-BFGS, its pairs. liblbfgs would allocate these at
 * each lbfgs() start; here it is once per mlp_train call. */
static mlp_status run_setup_full(mlp_trainer *tr, const run_plan *p, run_buffers *b)
{
    const mlp_network *net = tr->net;
    size_t n_in = net->sizes[0], tbytes = target_row_bytes(net), len;
    mlp_status st = MLP_OK;
    int ok;

    if (p->n_hold > 0 &&
        (!(b->X_own = run_alloc(p->n_train, n_in * sizeof(float), "training inputs", &st)) ||
         !(b->t_own = run_alloc(p->n_train, tbytes, "training targets", &st)) ||
         (p->w && !(b->w_own = run_alloc(p->n_train, sizeof(float), "training weights", &st)))))
        return st;
    if (p->kind == MLP_OPT_LBFGS) {
        len = mlp__lbfgs_len(net->n_params, &ok);
        if (!ok)
            return mlp__fail(MLP_ERR_SIZE, "L-BFGS state for %zu parameters overflows",
                             net->n_params);
        if (!(b->lb_mem = run_alloc(len, sizeof(double), "L-BFGS state", &st)))
            return st;
        mlp__lbfgs_init(&b->lb, b->lb_mem, net->n_params);
    }
    return MLP_OK;
}

static mlp_status run_setup(mlp_trainer *tr, const run_plan *p, run_buffers *b)
{
    const mlp_network *net = tr->net;
    size_t n_in = net->sizes[0], tbytes = target_row_bytes(net), snap_len, chunk;
    mlp_status st = MLP_OK;
    int ok;

    snap_len = mlp__optim_snapshot_len(net, &ok);
    if (!ok)
        return mlp__fail(MLP_ERR_SIZE, "snapshot size overflows");
    if (!(b->base = run_alloc(p->n, sizeof(size_t), "row indices", &st)) ||
        !(b->order = run_alloc(p->n_train, sizeof(size_t), "row order", &st)) ||
        !(b->snap = run_alloc(snap_len, sizeof(float), "weight snapshot", &st)))
        return st;
    if (p->full) {
        if ((st = run_setup_full(tr, p, b)) != MLP_OK)
            return st;
    } else if (!(b->Xb = run_alloc(p->batch, n_in * sizeof(float), "batch inputs", &st)) ||
               !(b->tb = run_alloc(p->batch, tbytes, "batch targets", &st)) ||
               (p->w && !(b->wb = run_alloc(p->batch, sizeof(float), "batch weights", &st)))) {
        return st;
    }
    if (p->n_hold > 0 &&
        (!(b->X_hold = run_alloc(p->n_hold, n_in * sizeof(float), "validation inputs", &st)) ||
         !(b->t_hold = run_alloc(p->n_hold, tbytes, "validation targets", &st)) ||
         (p->w && !(b->w_hold = run_alloc(p->n_hold, sizeof(float), "validation weights", &st)))))
        return st;
    if (p->patience > 0 &&
        !(b->best = run_alloc(net->n_params, sizeof(float), "best weights", &st)))
        return st;
    /* The history grows by doubling past this, between epochs: a huge
     * epoch count must not reserve its whole history up front. */
    if (tr->history_cap < MLP__HISTORY_START) {
        size_t cap = p->epochs < MLP__HISTORY_START ? p->epochs : MLP__HISTORY_START;
        mlp_progress *h = cap > tr->history_cap
                              ? run_alloc(cap, sizeof(mlp_progress), "history", &st)
                              : tr->history;
        if (!h)
            return st;
        if (h != tr->history) {
            mlp__free(tr->history);
            tr->history = h;
            tr->history_cap = cap;
        }
    }
    /* Minibatches keep their size even where a shard holds fewer rows. Full
     * batch runs in chunks of the workspace the batch-size option sets, but
     * never reserves more rows than there are to train on. */
    if (!p->full) return mlp__reserve(tr->net, p->batch);
    chunk = opt_size(tr, MLP_OPTION_BATCH_SIZE);
    return mlp__reserve(tr->net, chunk < p->n_train ? chunk : p->n_train);
}

/* The split: one shuffle from a generator of its own, held-out rows last
 * (seeded apart from the training RNG, so the held-out rows stay the same
 * when training resumes). Without a split the rows keep their order. */
static void run_split(const mlp_network *net, run_plan *p, run_buffers *b)
{
    for (size_t i = 0; i < p->n; i++)
        b->base[i] = i;
    if (p->n_hold > 0) {
        mlp__rng split;
        mlp__rng_seed(&split, net->seed ^ MLP__SPLIT_SALT);
        fisher_yates(b->base, p->n, &split);
        gather(net, p->X, p->targets, p->w, b->base + p->n_train, p->n_hold, b->X_hold, b->t_hold,
               b->w_hold);
        p->X_val = b->X_hold;
        p->t_val = b->t_hold;
        p->w_val = b->w_hold;
        p->n_val = p->n_hold;
    }
    b->X_tr = p->X;
    b->t_tr = p->targets;
    b->w_tr = p->w;
    if (p->full && p->n_hold > 0) {
        gather(net, p->X, p->targets, p->w, b->base, p->n_train, b->X_own, b->t_own, b->w_own);
        b->X_tr = b->X_own;
        b->t_tr = b->t_own;
        b->w_tr = b->w_own;
    }
}

/* The running means of the epoch so far, into pr. */
static void report_batch(const run_plan *p, const mlp_network *net, size_t k, double loss_sum,
                         double J_sum, size_t correct_sum, size_t seen, double lr, mlp_progress *pr)
{
    pr->batch = k + 1;
    pr->step = (size_t)net->steps;
    pr->train_loss = loss_sum / (double)seen;
    pr->objective = J_sum / (double)seen;
    pr->train_accuracy = p->is_mse ? NAN : (double)correct_sum / (double)seen;
    pr->learning_rate = lr;
}

/* Batch k under a reducer: this process's rows of it, the step, and in
 * *grows the global batch's rows. Replicated: the slice of the batch every
 * process draws from the shared order. Sharded: the shard's k-th of
 * `batches` even parts, the global batch being every shard's k-th part
 * (counted per step). */
static mlp_status replica_batch(mlp_trainer *tr, const run_plan *p, run_buffers *b, size_t k,
                                step_result *r, size_t *grows)
{
    mlp_network *net = tr->net;
    size_t start = k * p->batch, lo = 0, hi, rows;
    mlp__slice sl;
    mlp_status st;
    double t0 = mlp__prof_start(net);

    if (p->sharded) { /* part k of the shard */
        mlp__replica_part(p->n_train, k, p->batches, &start, &hi);
        rows = hi - start;
        hi = rows;
    } else {
        rows = p->n_train - start < p->batch ? p->n_train - start : p->batch;
        hi = rows;
        mlp__replica_slice(&tr->rep, rows, &lo, &hi);
        sl.row0 = lo;
        sl.rows = (double)rows;
        sl.wsum = (double)rows;
        if (p->w) { /* summed in the order one process sums it */
            double ws = 0.0;
            for (size_t i = 0; i < rows; i++)
                ws += p->w[b->order[start + i]];
            sl.wsum = ws;
        }
    }
    gather(net, p->X, p->targets, p->w, b->order + start + lo, hi - lo, b->Xb, b->tb, b->wb);
    mlp__prof_add(net, MLP_PROFILE_DATA, t0);
    if (p->sharded) {
        int failed;
        double wsum = p->w ? mlp__weight_sum(b->wb, rows) : (double)rows;
        if ((st = mlp__replica_counts(&tr->rep, rows, wsum, 0, &sl, &failed)) != MLP_OK)
            return st;
    }
    *grows = (size_t)sl.rows;
    if (sl.rows == 0) { /* every shard smaller than the parts: no step */
        memset(r, 0, sizeof *r);
        r->lr = current_lr(tr);
        return MLP_OK;
    }
    return train_step(tr, b->Xb, hi - lo, b->tb, p->w ? b->wb : NULL, &sl, r);
}

/* The batches of epoch e. On a failed step the epoch is undone (the
 * parameters and optimiser state of its start restored). */
static mlp_status run_batches(mlp_trainer *tr, const run_plan *p, run_buffers *b, run_state *rs,
                              mlp_progress *pr)
{
    mlp_network *net = tr->net;
    double loss_sum = 0.0, J_sum = 0.0;
    size_t correct_sum = 0, seen = 0;

    for (size_t k = 0; k < p->batches; k++) {
        size_t start = k * p->batch;
        size_t rows = p->n_train - start < p->batch ? p->n_train - start : p->batch;
        step_result r;
        mlp_status st;

        if (p->rep)
            st = replica_batch(tr, p, b, k, &r, &rows);
        else if (p->full) /* one step on every training row, in place */
            st = train_step(tr, b->X_tr, rows, b->t_tr, b->w_tr, NULL, &r);
        else {
            double t0 = mlp__prof_start(net);
            gather(net, p->X, p->targets, p->w, b->order + start, rows, b->Xb, b->tb, b->wb);
            mlp__prof_add(net, MLP_PROFILE_DATA, t0);
            st = train_step(tr, b->Xb, rows, b->tb, p->w ? b->wb : NULL, NULL, &r);
        }
        if (st != MLP_OK) {
            mlp__optim_snapshot_restore(net, b->snap, rs->snap_steps);
            if (st == MLP_ERR_DIVERGED)
                tr->stop_reason = MLP_STOP_DIVERGED;
            return st;
        }
        loss_sum += r.loss * (double)rows;
        J_sum += r.J * (double)rows;
        correct_sum += r.correct;
        seen += rows;
        report_batch(p, net, k, loss_sum, J_sum, correct_sum, seen, r.lr, pr);
        if (p->every_batch && k + 1 < p->batches && has_turn(tr)) {
            pr->elapsed_s = now_s() - p->t0;
            if (call_back(tr, pr)) {
                /* Stopped mid-epoch: the partial epoch is reported. */
                tr->stop_reason = MLP_STOP_CALLBACK;
                rs->stop = 1;
                return history_push(tr, pr);
            }
        }
    }
    return MLP_OK;
}

/* Early stopping watches the validation loss, else the training loss. */
static void track_best(mlp_trainer *tr, const run_plan *p, run_buffers *b, run_state *rs,
                       const mlp_progress *pr)
{
    double watched = val_rows(p) > 0 ? pr->val_loss : pr->train_loss;
    if (watched < rs->best_loss - p->min_delta) {
        rs->best_loss = watched;
        tr->best_epoch = pr->epoch;
        rs->since_best = 0;
        if (b->best)
            memcpy(b->best, tr->net->params, tr->net->n_params * sizeof(float));
    } else {
        rs->since_best++;
    }
}

/* The sharded mode's validation: every shard's loss and right answers
 * summed (local is this shard's evaluation status). */
static mlp_status shard_validation(mlp_trainer *tr, const run_plan *p, mlp_status local,
                                   mlp_progress *pr)
{
    double v[5] = {0.0, 0.0, 0.0, 0.0, 0.0};
    mlp_status st;
    if (local == MLP_OK && p->n_val > 0) {
        double wsum = mlp__weight_sum(p->w_val, p->n_val);
        v[0] = pr->val_loss * wsum;
        v[1] = p->is_mse ? 0.0 : pr->val_accuracy * (double)p->n_val;
        v[2] = wsum;
        v[3] = (double)p->n_val;
    }
    v[4] = local != MLP_OK;
    if ((st = mlp__replica_sum(&tr->rep, v, 5)) != MLP_OK)
        return st;
    if (local != MLP_OK)
        return local;
    if (v[4] > 0)
        return mlp__fail(MLP_ERR_ARGUMENT, "mlp_train: validation failed on another process");
    pr->val_loss = v[2] > 0.0 ? v[0] / v[2] : 0.0;
    pr->val_accuracy = v[1] / v[3];
    return MLP_OK;
}

/* After an epoch's batches: validation, history, early stopping, callback. */
static mlp_status run_epoch_end(mlp_trainer *tr, const run_plan *p, run_buffers *b, run_state *rs,
                                mlp_progress *pr)
{
    mlp_network *net = tr->net;
    mlp_status st;

    net->epochs_trained++;
    pr->epoch_end = 1;
    if (val_rows(p) > 0) {
        double *prof = net->prof, t0 = mlp__prof_start(net);
        net->prof = NULL; /* validation's passes count as validation */
        st = p->n_val > 0 ? mlp__evaluate_w(net, p->X_val, p->n_val, p->t_val, p->w_val,
                                            &pr->val_loss, &pr->val_accuracy)
                          : MLP_OK;
        if (p->sharded)
            st = shard_validation(tr, p, st, pr);
        net->prof = prof;
        mlp__prof_add(net, MLP_PROFILE_VALIDATION, t0);
        if (st != MLP_OK)
            return st;
    }
    if (p->is_mse)
        pr->val_accuracy = NAN;
    pr->elapsed_s = now_s() - p->t0;
    if ((st = history_push(tr, pr)) != MLP_OK)
        return st;
    track_best(tr, p, b, rs, pr);
    if (has_turn(tr) && call_back(tr, pr)) {
        tr->stop_reason = MLP_STOP_CALLBACK;
        rs->stop = 1;
    } else if (p->patience > 0 && rs->since_best >= p->patience) {
        tr->stop_reason = MLP_STOP_EARLY;
        rs->stop = 1;
    }
    return MLP_OK;
}

/* J and dJ/dp over every training row (the library's full-batch loss and
 * gradient, in chunks of the workspace), at the parameters x. Dropout is
 * off: the line search needs a deterministic J. */
static double lbfgs_eval(void *ctx, const double *x, double *g)
{
    run_buffers *b = ctx;
    mlp_network *net = b->ev_net;
    for (size_t i = 0; i < net->n_params; i++)
        net->params[i] = (float)x[i];
    mlp__loss_grad(net, b->X_tr, b->ev_n, b->t_tr, b->w_tr, NULL, &b->ev_loss, &b->ev_J,
                   &b->ev_correct);
    for (size_t i = 0; i < net->n_params; i++)
        g[i] = net->grads[i];
    if (!isfinite(b->ev_loss))
        return HUGE_VAL;
    return b->ev_J;
}

/* The first evaluation of an L-BFGS run; a non-finite J there diverged. */
static mlp_status lbfgs_begin(mlp_trainer *tr, const run_plan *p, run_buffers *b)
{
    mlp_network *net = tr->net;
    double f;
    b->ev_net = net;
    b->ev_n = p->n_train;
    f = mlp__lbfgs_start(&b->lb, net->params, lbfgs_eval, b);
    if (!isfinite(f)) {
        tr->stop_reason = MLP_STOP_DIVERGED;
        return mlp__fail(MLP_ERR_DIVERGED, "L-BFGS: the objective is %g at the start", f);
    }
    return MLP_OK;
}

/* One L-BFGS iteration as an epoch's single batch, then scikit-learn's
 * stopping tests (scipy's L-BFGS-B as it calls it): max |g| <= tol, a
 * relative decrease of J below MLP__LBFGS_FTOL, max_fun evaluations. */
static mlp_status run_lbfgs(mlp_trainer *tr, const run_plan *p, run_buffers *b, run_state *rs,
                            mlp_progress *pr)
{
    mlp_network *net = tr->net;
    mlp__lbfgs *lb = &b->lb;
    double f_old = lb->f, tol = tr->opt[MLP_OPTION_TOL];
    int res = mlp__lbfgs_iterate(lb, lbfgs_eval, b);

    if (!isfinite(lb->f)) { /* cannot happen from a finite start; kept as a guard */
        mlp__optim_snapshot_restore(net, b->snap, rs->snap_steps);
        tr->stop_reason = MLP_STOP_DIVERGED;
        return mlp__fail(MLP_ERR_DIVERGED, "L-BFGS: the objective is %g", lb->f);
    }
    if (res == MLP__LBFGS_MOVED)
        mlp__optim_count_step(net);
    tr->sched_step++;
    report_batch(p, net, 0, b->ev_loss * (double)p->n_train, b->ev_J * (double)p->n_train,
                 b->ev_correct, p->n_train, 0.0, pr);
    if (res == MLP__LBFGS_STUCK || mlp__lbfgs_gmax(lb) <= tol ||
        (f_old - lb->f) <= MLP__LBFGS_FTOL * fmax(fmax(fabs(f_old), fabs(lb->f)), 1.0))
        tr->stop_reason = MLP_STOP_CONVERGED;
    else if (lb->nfev >= (uint64_t)tr->opt[MLP_OPTION_MAX_FUN])
        tr->stop_reason = MLP_STOP_MAX_FUN;
    return MLP_OK;
}

/* The epoch's order. A shard shuffles its own rows with a generator
 * seeded from one draw of the shared stream and its rank, so that
 * net->rng moves alike on every process (and a model saved by any of them
 * is the same) whatever the shards' sizes. */
static void shuffle(mlp_trainer *tr, const run_plan *p, run_buffers *b)
{
    if (p->sharded) {
        mlp__rng own;
        uint64_t draw = mlp__rng_next(&tr->net->rng);
        mlp__rng_seed(&own, draw ^ ((uint64_t)tr->rep.r.rank + 1) * MLP__SPLIT_SALT);
        fisher_yates(b->order, p->n_train, &own);
    } else {
        fisher_yates(b->order, p->n_train, &tr->net->rng);
    }
}

/* One epoch: snapshot, shuffle, batches, then its end. */
static mlp_status run_epoch(mlp_trainer *tr, const run_plan *p, run_buffers *b, run_state *rs,
                            size_t e)
{
    mlp_network *net = tr->net;
    mlp_progress pr;
    mlp_status st;
    double t0 = mlp__prof_start(net), t1;

    tr->sched_epoch = e;
    mlp__optim_snapshot_take(net, b->snap, &rs->snap_steps);
    t1 = mlp__prof_start(net);
    memcpy(b->order, b->base, p->n_train * sizeof(size_t));
    if (tr->opt[MLP_OPTION_SHUFFLE] != 0.0 && !p->full) /* full batch: order is moot */
        shuffle(tr, p, b);
    mlp__prof_add(net, MLP_PROFILE_DATA, t1);
    memset(&pr, 0, sizeof pr);
    pr.epoch = e + 1;
    pr.epochs = p->epochs;
    pr.batches = p->batches;
    pr.val_loss = NAN;
    pr.val_accuracy = NAN;
    if (p->kind == MLP_OPT_LBFGS)
        st = run_lbfgs(tr, p, b, rs, &pr);
    else
        st = run_batches(tr, p, b, rs, &pr);
    if (st == MLP_OK && !rs->stop)
        st = run_epoch_end(tr, p, b, rs, &pr);
    mlp__prof_add(net, MLP_PROFILE_TOTAL, t0);
    if (st != MLP_OK || rs->stop)
        return st;
    /* L-BFGS's own tests end the run after this epoch's report. */
    if (tr->stop_reason == MLP_STOP_CONVERGED || tr->stop_reason == MLP_STOP_MAX_FUN)
        rs->stop = 1;
    return st;
}

/* Collective: st, or MLP_ERR_ARGUMENT when another process failed. */
static mlp_status agree_status(mlp_trainer *tr, mlp_status st, const char *fn)
{
    int any = mlp__replica_any(&tr->rep, st != MLP_OK);
    if (st == MLP_OK && any)
        st = mlp__fail(MLP_ERR_ARGUMENT, "%s: another process failed to set up training", fn);
    return st;
}

/* Under a reducer: the agreement check (which also carries a local
 * failure to every process), then in the sharded mode the global batches:
 * as many per epoch as the whole set's rows make, each shard split into
 * that many parts. */
static mlp_status replica_plan(mlp_trainer *tr, run_plan *p, mlp_status local)
{
    double sizes[2] = {0.0, 0.0}, v[2];
    size_t B = opt_size(tr, MLP_OPTION_BATCH_SIZE), total;
    mlp_status st;

    p->sharded = tr->rep.r.sharded != 0;
    if (local == MLP_OK) {
        local = refuse_full_batch(tr, "mlp_train");
        sizes[0] = (double)p->n;
        sizes[1] = (double)p->n_val;
    }
    st = mlp__replica_check(&tr->rep.r, tr->net, tr->opt, MLP_OPTION_COUNT_,
                            p->sharded ? NULL : sizes, local, "mlp_train");
    if (st != MLP_OK)
        return st;
    p->rep = 1;
    if (!p->sharded)
        return MLP_OK;
    v[0] = (double)p->n_train;
    v[1] = (double)(p->n_val > 0 ? p->n_val : p->n_hold);
    if ((st = mlp__replica_sum(&tr->rep, v, 2)) != MLP_OK)
        return st;
    total = (size_t)v[0];
    p->n_val_total = (size_t)v[1];
    if (B > total)
        B = total;
    p->batches = (total + B - 1) / B;
    p->batch = (p->n_train + p->batches - 1) / p->batches;
    return MLP_OK;
}

/* Set up, then per epoch: shuffle, batches, validation, early stopping,
 * callback; then the best epoch's weights restored. */
static mlp_status train(mlp_trainer *tr, const run_data *d)
{
    mlp_network *net = tr->net;
    mlp_optimizer kind = (mlp_optimizer)opt_size(tr, MLP_OPTION_OPTIMIZER);
    run_plan p;
    run_buffers b;
    run_state rs = {HUGE_VAL, 0, 0, 0};
    mlp_status st;

    st = run_plan_make(tr, d, &p);
    if (tr->rep.on)
        st = replica_plan(tr, &p, st);
    if (st != MLP_OK)
        return st;
    p.t0 = now_s();
    memset(&b, 0, sizeof b);
    if ((st = mlp__optim_prepare(net, kind)) == MLP_OK && (st = attach_pool(tr)) == MLP_OK) {
        tr->epochs_run = 0;
        tr->best_epoch = 0;
        tr->stop_reason = MLP_STOP_COMPLETED;
        st = run_setup(tr, &p, &b);
    }
    if (tr->rep.on) /* a process that could not set up must not leave the others waiting */
        st = agree_status(tr, st, "mlp_train");
    if (st == MLP_OK) {
        run_split(net, &p, &b);
        tr->sched_step = 0;
        tr->sched_epoch = 0;
        tr->sched_total = (uint64_t)p.epochs * (uint64_t)p.batches;
        if (kind == MLP_OPT_LBFGS)
            st = lbfgs_begin(tr, &p, &b);
        for (size_t e = 0; e < p.epochs && !rs.stop && st == MLP_OK; e++)
            st = run_epoch(tr, &p, &b, &rs, e);
        /* With early stopping on, training ends on the best weights. */
        if (st == MLP_OK && b.best && tr->best_epoch > 0 && tr->best_epoch != tr->epochs_run)
            memcpy(net->params, b.best, net->n_params * sizeof(float));
    }
    run_free(&b);
    return st;
}

mlp_status mlp_train(mlp_trainer *tr, const float *X, const void *targets, size_t n,
                     const float *X_val, const void *targets_val, size_t n_val)
{
    return mlp_train_weighted(tr, X, targets, NULL, n, X_val, targets_val, NULL, n_val);
}

mlp_status mlp_train_weighted(mlp_trainer *tr, const float *X, const void *targets,
                              const float *weights, size_t n, const float *X_val,
                              const void *targets_val, const float *w_val, size_t n_val)
{
    run_data d = {X, weights, X_val, w_val, targets, targets_val, n, n_val};
    mlp_status st;
    MLP__CHECK_NULL(tr);
    MLP__CHECK_NULL(X);
    MLP__CHECK_NULL(targets);
    if ((st = training_begin(tr, "mlp_train")) != MLP_OK)
        return st;
    st = train(tr, &d);
    training_end(tr);
    return st;
}

/* ---- profile ------------------------------------------------------------ */

static mlp_status set_profile(mlp_trainer *tr, int on)
{
    tr->profile_on = on != 0;
    memset(tr->prof, 0, sizeof tr->prof);
    return MLP_OK;
}

mlp_status mlp_trainer_set_profile(mlp_trainer *tr, int on)
{
    MLP__GUARDED(tr, MLP__CHANGE, "trainer", set_profile(tr, on));
}

size_t mlp_trainer_profile(const mlp_trainer *tr, double *seconds, size_t n)
{
    double named = 0.0;
    if (!tr)
        return 0;
    for (int i = 0; i < MLP_PROFILE_OTHER; i++)
        named += tr->prof[i];
    named += tr->prof[MLP_PROFILE_COMMUNICATION];
    for (size_t i = 0; i < n && seconds; i++) {
        if (i == MLP_PROFILE_OTHER)
            seconds[i] = tr->prof[MLP_PROFILE_TOTAL] > named ? tr->prof[MLP_PROFILE_TOTAL] - named
                                                             : 0.0;
        else
            seconds[i] = i < MLP_PROFILE_COUNT_ ? tr->prof[i] : 0.0;
    }
    return MLP_PROFILE_COUNT_;
}

const char *mlp_profile_part_name(mlp_profile_part part)
{
    static const char *const names[MLP_PROFILE_COUNT_] = {
        "products", "elementwise", "dropout", "optimizer", "data", "validation", "other", "total",
        "communication",
    };
    return (unsigned)part < MLP_PROFILE_COUNT_ ? names[part] : NULL;
}
