/* The trainer: options, one optimiser step, and mini-batch epochs with
 * validation, early stopping, divergence recovery and progress reports.
 *
 * Everything a step needs is allocated by mlp_trainer_create or at the
 * start of mlp_train; the steady-state step allocates nothing. The random
 * numbers (shuffling, dropout) come from the network's RNG, so the same
 * seed, data and thread count give bit-identical weights, and training in
 * two calls (2 + 2 epochs) equals one call (4 epochs): the optimiser state
 * and step count live in the network too.
 */
#include "optim.h"

#include <math.h>
#include <string.h>
#include <time.h>

#define MLP__DEFAULT_BATCH 128
/* Integer options must be exact in a double. */
#define MLP__MAX_INT_OPTION 9007199254740992.0 /* 2^53 */
/* Seeds the validation split apart from the training RNG (splitmix's
 * golden-ratio constant), so the held-out rows stay the same when training
 * resumes and the split consumes nothing from net->rng. */
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
};

/* ---- options ---------------------------------------------------------- */

typedef struct option_info {
    const char *name;
    double def;
    int integer;     /* must be a whole number */
    double lo, hi;   /* allowed range */
    int lo_open, hi_open;
} option_info;

#define INF HUGE_VAL
static const option_info option_table[MLP_OPTION_COUNT_] = {
    [MLP_OPTION_OPTIMIZER] = {"optimizer", MLP_OPT_ADAM, 1, 0, MLP_OPT_COUNT_ - 1, 0, 0},
    [MLP_OPTION_LEARNING_RATE] = {"learning_rate", 1e-3, 0, 0, INF, 1, 1},
    [MLP_OPTION_MOMENTUM] = {"momentum", 0.9, 0, 0, 1, 0, 1},
    [MLP_OPTION_BETA1] = {"beta1", 0.9, 0, 0, 1, 0, 1},
    [MLP_OPTION_BETA2] = {"beta2", 0.999, 0, 0, 1, 0, 1},
    [MLP_OPTION_EPSILON] = {"epsilon", 1e-8, 0, 0, INF, 1, 1},
    [MLP_OPTION_WEIGHT_DECAY] = {"weight_decay", 0.01, 0, 0, INF, 0, 1},
    [MLP_OPTION_RHO] = {"rho", 0.99, 0, 0, 1, 0, 1},
    [MLP_OPTION_SCHEDULE] = {"schedule", MLP_SCHED_CONSTANT, 1, 0, MLP_SCHED_COUNT_ - 1, 0, 0},
    [MLP_OPTION_WARMUP_STEPS] = {"warmup_steps", 0, 1, 0, MLP__MAX_INT_OPTION, 0, 0},
    [MLP_OPTION_STEP_EPOCHS] = {"step_epochs", 10, 1, 1, MLP__MAX_INT_OPTION, 0, 0},
    [MLP_OPTION_GAMMA] = {"gamma", 0.1, 0, 0, 1, 1, 0},
    [MLP_OPTION_MIN_LR] = {"min_lr", 0, 0, 0, INF, 0, 1},
    [MLP_OPTION_CLIP_NORM] = {"clip_norm", 0, 0, 0, INF, 0, 1},
    [MLP_OPTION_BATCH_SIZE] = {"batch_size", MLP__DEFAULT_BATCH, 1, 1, (double)MLP_MAX_DIM, 0, 0},
    [MLP_OPTION_EPOCHS] = {"epochs", 10, 1, 1, 4294967295.0, 0, 0},
    [MLP_OPTION_VALIDATION_FRACTION] = {"validation_fraction", 0, 0, 0, 1, 0, 1},
    [MLP_OPTION_PATIENCE] = {"patience", 0, 1, 0, 4294967295.0, 0, 0},
    [MLP_OPTION_MIN_DELTA] = {"min_delta", 0, 0, 0, INF, 0, 1},
    [MLP_OPTION_SHUFFLE] = {"shuffle", 1, 1, 0, 1, 0, 0},
    [MLP_OPTION_CALLBACK_EVERY_BATCH] = {"callback_every_batch", 0, 1, 0, 1, 0, 0},
};
#undef INF

static mlp_status check_option(mlp_option option, double v)
{
    const option_info *o;
    if ((int)option < 0 || option >= MLP_OPTION_COUNT_)
        return mlp__fail(MLP_ERR_OPTION, "unknown trainer option %d", (int)option);
    o = &option_table[option];
    if (isnan(v))
        return mlp__fail(MLP_ERR_OPTION, "%s: NaN is not a value", o->name);
    if (o->integer && v != floor(v))
        return mlp__fail(MLP_ERR_OPTION, "%s takes a whole number, got %g", o->name, v);
    if ((o->lo_open ? v <= o->lo : v < o->lo) || (o->hi_open ? v >= o->hi : v > o->hi))
        return mlp__fail(MLP_ERR_OPTION, "%s must be in %c%g, %g%c, got %g", o->name,
                         o->lo_open ? '(' : '[', o->lo, o->hi, o->hi_open ? ')' : ']', v);
    return MLP_OK;
}

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
}

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

mlp_status mlp_trainer_create(mlp_network *net, mlp_trainer **out)
{
    mlp_trainer *tr;
    mlp_status st;
    mlp_optimizer kind = MLP_OPT_ADAM;

    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(out);
    tr = mlp__calloc(1, sizeof *tr);
    if (!tr)
        return mlp__fail(MLP_ERR_NOMEM, "trainer: %zu bytes", sizeof *tr);
    tr->net = net;
    for (int i = 0; i < MLP_OPTION_COUNT_; i++)
        tr->opt[i] = option_table[i].def;
    /* A network that carries optimiser state (a resumed model) keeps it. */
    if (net->opt_kind >= 0 && net->opt_kind < MLP_OPT_COUNT_)
        kind = (mlp_optimizer)net->opt_kind;
    tr->opt[MLP_OPTION_OPTIMIZER] = (double)kind;

    st = mlp_reserve(net, MLP__DEFAULT_BATCH);
    if (st == MLP_OK)
        st = mlp__optim_prepare(net, kind); /* last: nothing fails after it */
    if (st != MLP_OK) {
        mlp__free(tr);
        return st;
    }
    *out = tr;
    return MLP_OK;
}

void mlp_trainer_destroy(mlp_trainer *tr)
{
    if (!tr)
        return;
    mlp__free(tr->history);
    mlp__free(tr);
}

mlp_status mlp_trainer_set(mlp_trainer *tr, mlp_option option, double value)
{
    mlp_status st;
    MLP__CHECK_NULL(tr);
    st = check_option(option, value);
    if (st != MLP_OK)
        return st;
    if (option == MLP_OPTION_OPTIMIZER) {
        /* The state is (re)allocated here, never inside a step. */
        st = mlp__optim_prepare(tr->net, (mlp_optimizer)(int)value);
        if (st != MLP_OK)
            return st;
    }
    tr->opt[option] = value;
    return MLP_OK;
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

mlp_status mlp_trainer_set_callback(mlp_trainer *tr, mlp_callback cb, void *user)
{
    MLP__CHECK_NULL(tr);
    tr->cb = cb;
    tr->user = user;
    return MLP_OK;
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

/* ---- one step ------------------------------------------------------------ */

/* Plain SGD without clipping on a batch that fits the workspace takes the
 * fused step: W = (1 - lr l2) W - lr D^T In in one sgemm per layer, with no
 * gradient written and no update pass of its own (half of a batch-1 step). */
static int fused_sgd(const mlp_trainer *tr, size_t rows)
{
    return (mlp_optimizer)tr->opt[MLP_OPTION_OPTIMIZER] == MLP_OPT_SGD &&
           !(tr->opt[MLP_OPTION_CLIP_NORM] > 0.0) && rows <= tr->net->ws.capacity;
}

/* Loss, gradient, clipping, update, on a batch already checked. Returns
 * MLP_ERR_DIVERGED (message set) for a non-finite loss, before any change
 * to the parameters, or for a parameter made non-finite by the update. */
static mlp_status train_step(mlp_trainer *tr, const float *X, size_t rows, const void *targets,
                             double *loss, double *J, size_t *correct, double *lr_out)
{
    mlp_network *net = tr->net;
    mlp__optim_params p;
    double lr = current_lr(tr), L = 0.0, obj = 0.0;
    float gscale = 1.0f;
    mlp_status st;

    *correct = 0;
    if (fused_sgd(tr, rows)) {
        /* Plain SGD folds its update into the backward pass (pass.c). */
        st = mlp__sgd_step_fused(net, X, rows, targets, &net->rng, (float)lr, &L, &obj, correct);
        *loss = L;
        *J = obj;
        *lr_out = lr;
        if (!isfinite(obj) || !isfinite(L))
            return mlp__fail(MLP_ERR_DIVERGED, "step %llu: the objective is %g",
                             (unsigned long long)net->steps + 1, obj);
        tr->sched_step++;
        net->steps++;
        if (st != MLP_OK)
            return mlp__fail(MLP_ERR_DIVERGED, "step %llu: a parameter became non-finite (lr %g)",
                             (unsigned long long)net->steps, lr);
        return MLP_OK;
    }
    st = mlp__loss_grad(net, X, rows, targets, &net->rng, &L, &obj, correct);
    if (st != MLP_OK)
        return st;
    if (!isfinite(obj) || !isfinite(L))
        return mlp__fail(MLP_ERR_DIVERGED, "step %llu: the objective is %g",
                         (unsigned long long)net->steps + 1, obj);
    if (tr->opt[MLP_OPTION_CLIP_NORM] > 0.0)
        gscale = mlp__clip_factor(mlp__global_norm(net->grads, net->n_params),
                                  tr->opt[MLP_OPTION_CLIP_NORM]);
    optim_params(tr, lr, &p);
    tr->sched_step++;
    *loss = L;
    *J = obj;
    *lr_out = lr;
    if (!mlp__optim_update(net, &p, gscale))
        return mlp__fail(MLP_ERR_DIVERGED, "step %llu: a parameter became non-finite (lr %g)",
                         (unsigned long long)net->steps, lr);
    return MLP_OK;
}

/* The targets of `rows` rows: bytes per row. */
static size_t target_row_bytes(const mlp_network *net)
{
    if (net->loss == MLP_LOSS_SOFTMAX_CE)
        return sizeof(int32_t);
    return net->sizes[net->n_layers] * sizeof(float);
}

static mlp_status check_data(const mlp_network *net, const float *X, const void *targets, size_t n,
                             const char *what)
{
    size_t len;
    mlp_status st;
    if (!mlp__mul_ok(n, net->sizes[0], &len) || len > (size_t)-1 / sizeof(float))
        return mlp__fail(MLP_ERR_SIZE, "%s: %zu rows of %zu floats overflow", what, n,
                         net->sizes[0]);
    st = mlp__check_finite(X, len, what);
    if (st == MLP_OK)
        st = mlp__check_targets(net, targets, n);
    return st;
}

mlp_status mlp_trainer_step(mlp_trainer *tr, const float *X, size_t batch, const void *targets,
                            double *J)
{
    mlp_status st;
    mlp_optimizer kind;
    double loss, obj, lr;
    size_t correct;

    MLP__CHECK_NULL(tr);
    MLP__CHECK_NULL(X);
    MLP__CHECK_NULL(targets);
    if (batch == 0)
        return mlp__fail(MLP_ERR_SIZE, "mlp_trainer_step: empty batch");
    st = check_data(tr->net, X, targets, batch, "X");
    if (st != MLP_OK)
        return st;
    kind = (mlp_optimizer)opt_size(tr, MLP_OPTION_OPTIMIZER);
    if (tr->net->opt_kind != (int)kind) {
        /* Only when something else replaced the network's state. */
        st = mlp__optim_prepare(tr->net, kind);
        if (st != MLP_OK)
            return st;
    }
    st = train_step(tr, X, batch, targets, &loss, &obj, &correct, &lr);
    if (st == MLP_OK && J)
        *J = obj;
    return st;
}

/* ---- mini-batch training --------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Copies rows idx[0..rows) of X and targets into contiguous buffers. */
static void gather(const mlp_network *net, const float *X, const void *targets, const size_t *idx,
                   size_t rows, float *Xb, void *tb)
{
    size_t n_in = net->sizes[0], tbytes = target_row_bytes(net);
    const char *t = targets;
    char *o = tb;
    for (size_t r = 0; r < rows; r++) {
        memcpy(Xb + r * n_in, X + idx[r] * n_in, n_in * sizeof(float));
        memcpy(o + r * tbytes, t + idx[r] * tbytes, tbytes);
    }
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
} run_buffers;

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

static mlp_status run_setup(mlp_trainer *tr, size_t n, size_t n_hold, size_t epochs,
                            size_t patience, run_buffers *b)
{
    const mlp_network *net = tr->net;
    size_t n_in = net->sizes[0], tbytes = target_row_bytes(net);
    size_t batch = opt_size(tr, MLP_OPTION_BATCH_SIZE), n_train = n - n_hold;
    mlp_status st = MLP_OK;

    if (batch > n_train)
        batch = n_train;
    if (net->n_params > (size_t)-1 - net->opt_state_len)
        return mlp__fail(MLP_ERR_SIZE, "snapshot size overflows");
    if (!(b->base = run_alloc(n, sizeof(size_t), "row indices", &st)) ||
        !(b->order = run_alloc(n_train, sizeof(size_t), "row order", &st)) ||
        !(b->Xb = run_alloc(batch, n_in * sizeof(float), "batch inputs", &st)) ||
        !(b->tb = run_alloc(batch, tbytes, "batch targets", &st)) ||
        !(b->snap = run_alloc(net->n_params + net->opt_state_len, sizeof(float),
                              "weight snapshot", &st)))
        return st;
    if (n_hold > 0 &&
        (!(b->X_hold = run_alloc(n_hold, n_in * sizeof(float), "validation inputs", &st)) ||
         !(b->t_hold = run_alloc(n_hold, tbytes, "validation targets", &st))))
        return st;
    if (patience > 0 && !(b->best = run_alloc(net->n_params, sizeof(float), "best weights", &st)))
        return st;
    if (epochs > tr->history_cap) {
        mlp_progress *h = run_alloc(epochs, sizeof(mlp_progress), "history", &st);
        if (!h)
            return st;
        mlp__free(tr->history);
        tr->history = h;
        tr->history_cap = epochs;
    }
    return mlp_reserve(tr->net, batch);
}

static void snapshot_take(const mlp_network *net, float *snap, uint64_t *steps)
{
    memcpy(snap, net->params, net->n_params * sizeof(float));
    if (net->opt_state_len)
        memcpy(snap + net->n_params, net->opt_state, net->opt_state_len * sizeof(float));
    *steps = net->steps;
}

static void snapshot_restore(mlp_network *net, const float *snap, uint64_t steps)
{
    memcpy(net->params, snap, net->n_params * sizeof(float));
    if (net->opt_state_len)
        memcpy(net->opt_state, snap + net->n_params, net->opt_state_len * sizeof(float));
    net->steps = steps;
}

mlp_status mlp_train(mlp_trainer *tr, const float *X, const void *targets, size_t n,
                     const float *X_val, const void *targets_val, size_t n_val)
{
    mlp_network *net;
    run_buffers b;
    mlp_status st;
    mlp_optimizer kind;
    size_t n_hold = 0, n_train, batch, batches, epochs, patience, since_best = 0;
    const float *Xv;
    const void *tv;
    size_t nv;
    double best_loss = HUGE_VAL, min_delta, t0 = now_s();
    uint64_t snap_steps = 0;
    int is_mse, every_batch, stop = 0;

    MLP__CHECK_NULL(tr);
    MLP__CHECK_NULL(X);
    MLP__CHECK_NULL(targets);
    net = tr->net;
    if (n == 0)
        return mlp__fail(MLP_ERR_SIZE, "mlp_train: no training rows");
    if (n_val > 0 && (!X_val || !targets_val))
        return mlp__fail(MLP_ERR_NULL, "mlp_train: %zu validation rows but X_val or targets_val "
                                       "is NULL", n_val);

    /* Reject bad data before anything changes. */
    if ((st = check_data(net, X, targets, n, "X")) != MLP_OK)
        return st;
    if (n_val > 0 && (st = check_data(net, X_val, targets_val, n_val, "X_val")) != MLP_OK)
        return st;

    if (n_val == 0 && tr->opt[MLP_OPTION_VALIDATION_FRACTION] > 0.0) {
        n_hold = (size_t)ceil(tr->opt[MLP_OPTION_VALIDATION_FRACTION] * (double)n);
        if (n_hold >= n)
            return mlp__fail(MLP_ERR_ARGUMENT,
                             "validation fraction %g of %zu rows leaves none to train on",
                             tr->opt[MLP_OPTION_VALIDATION_FRACTION], n);
    }
    n_train = n - n_hold;
    batch = opt_size(tr, MLP_OPTION_BATCH_SIZE);
    if (batch > n_train)
        batch = n_train;
    batches = (n_train + batch - 1) / batch;
    epochs = opt_size(tr, MLP_OPTION_EPOCHS);
    patience = opt_size(tr, MLP_OPTION_PATIENCE);
    min_delta = tr->opt[MLP_OPTION_MIN_DELTA];
    every_batch = tr->opt[MLP_OPTION_CALLBACK_EVERY_BATCH] != 0.0;
    is_mse = net->loss == MLP_LOSS_MSE;

    kind = (mlp_optimizer)opt_size(tr, MLP_OPTION_OPTIMIZER);
    if ((st = mlp__optim_prepare(net, kind)) != MLP_OK)
        return st;
    tr->epochs_run = 0;
    tr->best_epoch = 0;
    tr->stop_reason = 0;
    memset(&b, 0, sizeof b);
    if ((st = run_setup(tr, n, n_hold, epochs, patience, &b)) != MLP_OK)
        goto done;

    /* The split: one shuffle from a generator of its own, held-out rows
     * last. Without a split the rows keep their order. */
    for (size_t i = 0; i < n; i++)
        b.base[i] = i;
    if (n_hold > 0) {
        mlp__rng split;
        mlp__rng_seed(&split, net->seed ^ MLP__SPLIT_SALT);
        fisher_yates(b.base, n, &split);
        gather(net, X, targets, b.base + n_train, n_hold, b.X_hold, b.t_hold);
    }
    Xv = n_val > 0 ? X_val : b.X_hold;
    tv = n_val > 0 ? targets_val : b.t_hold;
    nv = n_val > 0 ? n_val : n_hold;

    tr->sched_step = 0;
    tr->sched_epoch = 0;
    tr->sched_total = (uint64_t)epochs * (uint64_t)batches;

    for (size_t e = 0; e < epochs && !stop; e++) {
        double loss_sum = 0.0, J_sum = 0.0, lr = 0.0;
        size_t correct_sum = 0, seen = 0;
        mlp_progress pr;

        tr->sched_epoch = e;
        snapshot_take(net, b.snap, &snap_steps);
        memcpy(b.order, b.base, n_train * sizeof(size_t));
        if (tr->opt[MLP_OPTION_SHUFFLE] != 0.0)
            fisher_yates(b.order, n_train, &net->rng);

        memset(&pr, 0, sizeof pr);
        pr.epoch = e + 1;
        pr.epochs = epochs;
        pr.batches = batches;
        pr.val_loss = NAN;
        pr.val_accuracy = NAN;
        for (size_t k = 0; k < batches; k++) {
            size_t start = k * batch, rows = n_train - start < batch ? n_train - start : batch;
            size_t correct;
            double loss, J;

            gather(net, X, targets, b.order + start, rows, b.Xb, b.tb);
            st = train_step(tr, b.Xb, rows, b.tb, &loss, &J, &correct, &lr);
            if (st != MLP_OK) {
                snapshot_restore(net, b.snap, snap_steps);
                if (st == MLP_ERR_DIVERGED)
                    tr->stop_reason = 3;
                goto done;
            }
            loss_sum += loss * (double)rows;
            J_sum += J * (double)rows;
            correct_sum += correct;
            seen += rows;

            pr.batch = k + 1;
            pr.step = (size_t)net->steps;
            pr.train_loss = loss_sum / (double)seen;
            pr.objective = J_sum / (double)seen;
            pr.train_accuracy = is_mse ? NAN : (double)correct_sum / (double)seen;
            pr.learning_rate = lr;
            if (every_batch && k + 1 < batches && tr->cb) {
                pr.elapsed_s = now_s() - t0;
                if (tr->cb(&pr, tr->user)) {
                    /* Stopped mid-epoch: the partial epoch is reported. */
                    tr->history[tr->epochs_run++] = pr;
                    tr->stop_reason = 2;
                    stop = 1;
                    break;
                }
            }
        }
        if (stop)
            break;

        net->epochs_trained++;
        pr.epoch_end = 1;
        if (nv > 0 && (st = mlp_evaluate(net, Xv, nv, tv, &pr.val_loss, &pr.val_accuracy)) != MLP_OK)
            goto done;
        if (is_mse)
            pr.val_accuracy = NAN;
        pr.elapsed_s = now_s() - t0;
        tr->history[tr->epochs_run++] = pr;

        /* Early stopping watches the validation loss, else the training loss. */
        {
            double watched = nv > 0 ? pr.val_loss : pr.train_loss;
            if (watched < best_loss - min_delta) {
                best_loss = watched;
                tr->best_epoch = e + 1;
                since_best = 0;
                if (b.best)
                    memcpy(b.best, net->params, net->n_params * sizeof(float));
            } else {
                since_best++;
            }
        }
        if (tr->cb && tr->cb(&pr, tr->user)) {
            tr->stop_reason = 2;
            stop = 1;
        } else if (patience > 0 && since_best >= patience) {
            tr->stop_reason = 1;
            stop = 1;
        }
    }

    /* With early stopping on, training ends on the best weights. */
    if (b.best && tr->best_epoch > 0 && tr->best_epoch != tr->epochs_run)
        memcpy(net->params, b.best, net->n_params * sizeof(float));
    st = MLP_OK;

done:
    run_free(&b);
    return st;
}
