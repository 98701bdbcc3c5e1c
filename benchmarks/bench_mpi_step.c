/* The main job's step and epoch on P processes: each process steps on its
 * rows of every global batch alone, then the same with the gradients
 * summed from outside (emulated), then with libmlp_mpi attached when it is
 * built; the difference between the three is the communication and how
 * much of it the library hides behind the backward pass. */
#include "bench_mpi_step.h"

#ifdef MLP_BENCH_HAVE_MPI_LIB
#include "bench_mpi_reducer.h"

#include <mlp_mpi.h>
#endif

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct bctx {
    const bmpi_opts *o;
    const bmpi_data *d;
    MPI_Comm comm;
    int rank, procs;
    size_t lo, n_local, n_batches;
} bctx;

static int agree(MPI_Comm comm, int ok)
{
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, comm);
    return all;
}

static double slowest(MPI_Comm comm, double x)
{
    double m = x;
    MPI_Allreduce(&x, &m, 1, MPI_DOUBLE, MPI_MAX, comm);
    return m;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The CPU the processes got over a wall time, against processes x threads
 * x wall: below 1 when other work held the cores. (A process waiting in
 * MPI polls, so waiting counts as CPU.) */
static double cpu_share(const bctx *c, double cpu, double wall)
{
    double sum = cpu;
    MPI_Allreduce(&cpu, &sum, 1, MPI_DOUBLE, MPI_SUM, c->comm);
    return sum / ((double)c->procs * c->o->threads * wall);
}

static int fail(const char *what, mlp_status s)
{
    fprintf(stderr, "mlp-bench-mpi: %s: %s (%s)\n", what, mlp_strerror(s), mlp_last_error());
    return 0;
}

/* The main job's recipe (scripts/main.sh) on the given layer sizes. */
static int make_trainer(const bctx *c, mlp_network **net, mlp_trainer **tr)
{
    const bmpi_opts *o = c->o;
    mlp_activation acts[BMPI_MAX_LAYERS];
    mlp_status s;
    for (size_t i = 0; i < o->n_layers; i++)
        acts[i] = i + 1 < o->n_layers ? MLP_ACT_RELU : MLP_ACT_IDENTITY;
    if ((s = mlp_create(net, o->n_layers, o->sizes, acts, o->seed)) != MLP_OK ||
        (s = mlp_set_loss(*net, MLP_LOSS_SOFTMAX_CE)) != MLP_OK ||
        (s = mlp_fit_input_scaling(*net, c->d->X, c->d->rows, MLP_SCALE_STANDARD)) != MLP_OK)
        return fail("network", s);
    for (size_t i = 0; i < o->n_layers; i++)
        if ((s = mlp_set_dropout(*net, i, i == 0 ? 0.1f : 0.2f)) != MLP_OK)
            return fail("dropout", s);
    if ((s = mlp_trainer_create(*net, tr)) != MLP_OK ||
        (s = mlp_trainer_set(*tr, MLP_OPTION_OPTIMIZER, MLP_OPT_ADAMW)) != MLP_OK ||
        (s = mlp_trainer_set(*tr, MLP_OPTION_LEARNING_RATE, 2e-3)) != MLP_OK ||
        (s = mlp_trainer_set(*tr, MLP_OPTION_WEIGHT_DECAY, 0.1)) != MLP_OK ||
        (s = mlp_trainer_set(*tr, MLP_OPTION_BATCH_SIZE, o->batch)) != MLP_OK ||
        (s = mlp_trainer_set(*tr, MLP_OPTION_EPOCHS, 1)) != MLP_OK ||
        (s = mlp_trainer_set(*tr, MLP_OPTION_VALIDATION_FRACTION, 0.05)) != MLP_OK)
        return fail("trainer", s);
    return 1;
}

static void free_trainer(mlp_network *net, mlp_trainer *tr)
{
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* Process rank's rows of a global batch: an even split, the first
 * batch % P processes one row more. */
static void slice(bctx *c)
{
    size_t b = (size_t)c->o->batch, p = (size_t)c->procs, r = (size_t)c->rank;
    c->lo = r * (b / p) + (r < b % p ? r : b % p);
    c->n_local = b / p + (r < b % p);
    c->n_batches = c->d->rows / b;
}

/* One step on this process's rows of global batch k. */
static mlp_status local_step(const bctx *c, mlp_trainer *tr, long k)
{
    size_t row = (size_t)(k % (long)c->n_batches) * (size_t)c->o->batch + c->lo;
    if (c->n_local == 0) return MLP_OK;
    return mlp_trainer_step(tr, c->d->X + row * c->d->cols, c->n_local, c->d->y + row, NULL);
}

/* Seconds per step over o->steps steps (after o->warmup), the slowest
 * process's. With reduce, each step ends with a barrier (its wait goes to
 * *imb) and the gradients' MPI_Allreduce (to *comm). */
static double phase_local(const bctx *c, mlp_network *net, mlp_trainer *tr, int reduce,
                          double *comm, double *imb)
{
    float *g = mlp_grads(net);
    int n = (int)mlp_num_params(net), ok = 1;
    double t0 = 0.0, tc = 0.0, tw = 0.0;
    for (long k = 0; k < c->o->warmup + c->o->steps; k++) {
        double a, b;
        if (k == c->o->warmup) MPI_Barrier(c->comm), t0 = MPI_Wtime(), tc = tw = 0.0;
        mlp_status s = ok ? local_step(c, tr, k) : MLP_OK;
        if (s != MLP_OK) ok = fail("step", s);
        if (!reduce) continue;
        a = MPI_Wtime();
        MPI_Barrier(c->comm);
        b = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, g, n, MPI_FLOAT, MPI_SUM, c->comm);
        tw += b - a, tc += MPI_Wtime() - b;
    }
    t0 = MPI_Wtime() - t0;
    if (!agree(c->comm, ok)) return -1.0;
    if (comm) *comm = slowest(c->comm, tc) / c->o->steps;
    if (imb) *imb = slowest(c->comm, tw) / c->o->steps;
    return slowest(c->comm, t0) / c->o->steps;
}

/* The library's own account of the communication it did not hide
 * (mlp_trainer_profile), seconds; NAN from a library without that part. */
static double profile_comm(const mlp_trainer *tr)
{
    double sec[MLP_PROFILE_COUNT_];
    size_t known = mlp_trainer_profile(tr, sec, MLP_PROFILE_COUNT_);
    return known > MLP_PROFILE_COMMUNICATION ? sec[MLP_PROFILE_COMMUNICATION] : NAN;
}

#ifdef MLP_BENCH_HAVE_MPI_LIB
/* Collective under a reducer: a process without rows still calls it. */
static mlp_status attached_step(const bctx *c, mlp_trainer *tr, long k)
{
    size_t row = (size_t)(k % (long)c->n_batches) * (size_t)c->o->batch + c->lo;
    return mlp_trainer_step(tr, c->d->X + row * c->d->cols, c->n_local, c->d->y + row, NULL);
}

/* The data-parallel step of an attached trainer: under a reducer
 * mlp_trainer_step takes each process's own rows, the global batch being
 * theirs in rank order, so every process passes its rows of global batch
 * k (as the alone and emulated phases do). Seconds per
 * step, the slowest process's; *t (may be NULL) is zeroed after the
 * warm-up, so that it holds the timed steps' sums. m[0] and m[1] get the
 * fastest single step and the least time of a step inside the reducer's
 * sums (the unpreempted figures on a loaded machine), m[2] the
 * communication per step by the trainer's own profile. */
static double phase_attached(const bctx *c, mlp_trainer *tr, bench_reducer_times *t, double *m)
{
    int ok = 1;
    double t0 = 0.0, min_step = INFINITY, min_comm = INFINITY;
    for (long k = 0; k < c->o->warmup + c->o->steps; k++) {
        double ts, in = t ? t->start_s + t->wait_s : 0.0;
        mlp_status s;
        if (k == c->o->warmup) {
            if (t) memset(t, 0, sizeof *t), in = 0.0;
            mlp_trainer_set_profile(tr, 1); /* clears the sums */
            MPI_Barrier(c->comm), t0 = MPI_Wtime();
        }
        ts = MPI_Wtime();
        s = ok ? attached_step(c, tr, k) : MLP_OK;
        if (s != MLP_OK) ok = fail("attached step", s);
        if (k < c->o->warmup) continue;
        if (MPI_Wtime() - ts < min_step) min_step = MPI_Wtime() - ts;
        if (t && t->start_s + t->wait_s - in < min_comm) min_comm = t->start_s + t->wait_s - in;
    }
    t0 = MPI_Wtime() - t0;
    if (!agree(c->comm, ok)) return -1.0;
    m[0] = slowest(c->comm, min_step);
    m[1] = slowest(c->comm, min_comm);
    m[2] = slowest(c->comm, profile_comm(tr)) / c->o->steps;
    return slowest(c->comm, t0) / c->o->steps;
}

static int attach(const bctx *c, mlp_trainer *tr)
{
    mlp_status s = mlp_mpi_attach(tr, c->comm, MLP_MPI_REPLICATED);
    return agree(c->comm, s == MLP_OK || fail("mlp_mpi_attach", s));
}

/* Three attached trainers: libmlp_mpi itself, the timing reducer as it
 * overlaps, and the timing reducer blocking. */
typedef struct lib_set {
    mlp_network *net[3];
    mlp_trainer *tr[3];
    bench_reducer_times *t[3];
} lib_set;

static int lib_open(const bctx *c, lib_set *L)
{
    int ok = 1;
    for (int i = 0; i < 3 && ok; i++) {
        mlp_status s = MLP_OK;
        ok = agree(c->comm, make_trainer(c, &L->net[i], &L->tr[i]));
        if (ok && i == 0) ok = attach(c, L->tr[0]);
        else if (ok) s = bench_reducer_attach(L->tr[i], c->comm, i == 2, &L->t[i]);
        if (ok && i > 0) ok = agree(c->comm, s == MLP_OK || fail("timing reducer", s));
    }
    return ok;
}

/* One round of the three; keeps the fastest step of each and the times
 * that go with it. */
static int lib_round(const bctx *c, lib_set *L, int round, bmpi_result *r)
{
    const double n = c->o->steps;
    double ml[3], mo[3], mb[3];
    double lib = phase_attached(c, L->tr[0], NULL, ml);
    double ovl = lib >= 0.0 ? phase_attached(c, L->tr[1], L->t[1], mo) : -1.0;
    double blk = ovl >= 0.0 ? phase_attached(c, L->tr[2], L->t[2], mb) : -1.0;
    if (blk < 0.0) return 0;
    if (round == 0 || lib < r->step_dp_s) r->step_dp_s = lib, r->prof_comm_s = ml[2];
    if (round == 0 || ml[0] < r->step_min_s) r->step_min_s = ml[0];
    if (round == 0 || mo[1] < r->exposed_min_s) r->exposed_min_s = mo[1];
    if (round == 0 || mb[1] < r->comm_min_s) r->comm_min_s = mb[1];
    if (round == 0 || ovl < r->step_overlap_s) {
        r->step_overlap_s = ovl;
        r->exposed_s = slowest(c->comm, L->t[1]->wait_s + L->t[1]->start_s) / n;
        r->stats_s = slowest(c->comm, L->t[1]->doubles_s) / n;
    }
    if (round == 0 || blk < r->step_blocking_s) {
        r->step_blocking_s = blk;
        r->comm_s = slowest(c->comm, L->t[2]->start_s + L->t[2]->wait_s) / n;
    }
    return 1;
}

static void lib_close(lib_set *L)
{
    for (int i = 0; i < 3; i++) free_trainer(L->net[i], L->tr[i]);
}
#endif

/* One epoch with mlp_train (validation and shuffles included): with the
 * library attached when P > 1, alone at P = 1. */
static int epoch_train(const bctx *c, mlp_trainer *tr, bmpi_result *r)
{
    size_t n = c->d->rows;
    mlp_status s = MLP_OK;
    double t0, cpu;
#ifdef MLP_BENCH_HAVE_MPI_LIB
    if (c->procs > 1 && !attach(c, tr)) return 0;
#endif
    mlp_trainer_set_profile(tr, 1);
    MPI_Barrier(c->comm);
    t0 = MPI_Wtime(), cpu = cpu_s();
    s = mlp_train(tr, c->d->X, c->d->y, n, NULL, NULL, 0);
    cpu = cpu_s() - cpu;
    r->epoch_s = slowest(c->comm, MPI_Wtime() - t0);
    r->epoch_cpu_share = cpu_share(c, cpu, r->epoch_s);
    r->epoch_prof_comm_s = slowest(c->comm, profile_comm(tr));
    r->epoch_rows = (double)(n - (size_t)ceil(0.05 * (double)n));
    return agree(c->comm, s == MLP_OK || fail("mlp_train", s));
}

/* One epoch of global batches in order, each process on its rows, the
 * gradients summed after each step (emulated; none at P = 1). */
static int epoch_loop(const bctx *c, mlp_network *net, mlp_trainer *tr, bmpi_result *r)
{
    float *g = mlp_grads(net);
    int n = (int)mlp_num_params(net), ok = 1;
    double t0, cpu;
    MPI_Barrier(c->comm);
    t0 = MPI_Wtime(), cpu = cpu_s();
    for (long k = 0; k < (long)c->n_batches; k++) {
        mlp_status s = ok ? local_step(c, tr, k) : MLP_OK;
        if (s != MLP_OK) ok = fail("step", s);
        if (c->procs > 1) MPI_Allreduce(MPI_IN_PLACE, g, n, MPI_FLOAT, MPI_SUM, c->comm);
    }
    cpu = cpu_s() - cpu;
    r->epoch_s = slowest(c->comm, MPI_Wtime() - t0);
    r->epoch_cpu_share = cpu_share(c, cpu, r->epoch_s);
    r->epoch_rows = (double)(c->n_batches * (size_t)c->o->batch);
    return agree(c->comm, ok);
}

static int run_epoch(const bctx *c, bmpi_result *r)
{
    mlp_network *net = NULL;
    mlp_trainer *tr = NULL;
    int ok = agree(c->comm, make_trainer(c, &net, &tr));
    if (ok)
        ok = c->o->reduction == BMPI_LIBRARY ? epoch_train(c, tr, r) : epoch_loop(c, net, tr, r);
    free_trainer(net, tr);
    return ok;
}

/* Keeps the fastest of the rounds; the emulated round's communication and
 * imbalance go with its step time. */
static void keep_best(int round, double alone, double emul, double comm, double imb, bmpi_result *r)
{
    if (round == 0 || alone < r->step_alone_s) r->step_alone_s = alone;
    if (round == 0 || emul < r->step_emulated_s)
        r->step_emulated_s = emul, r->emu_comm_s = comm, r->imbalance_s = imb;
}

/* The hidden share: with the hook, the time the overlapped step spends in
 * the gradient's sums (starts and the wait at the update) against the
 * blocking sums' time; without it, from outside, the data-parallel step's
 * excess over the same step without reduction against the reduction's own
 * time (a lower bound: the excess also holds the processes' imbalance). */
static void derive(int procs, bmpi_result *r)
{
    double h = 0.0;
    r->hidden_from_hook = isfinite(r->step_overlap_s);
    if (!r->hidden_from_hook) {
        r->comm_s = r->emu_comm_s;
        r->exposed_s = r->step_dp_s > r->step_alone_s ? r->step_dp_s - r->step_alone_s : 0.0;
    }
    if (procs > 1 && r->comm_s > 0.0) h = 1.0 - r->exposed_s / r->comm_s;
    r->hidden_share = h < 0.0 ? 0.0 : h > 1.0 ? 1.0 : h;
    if (r->hidden_from_hook && r->comm_min_s > 0.0) {
        h = 1.0 - r->exposed_min_s / r->comm_min_s;
        r->hidden_share_min = h < 0.0 ? 0.0 : h > 1.0 ? 1.0 : h;
    }
}

static int step_rounds(const bctx *c, bmpi_result *r)
{
    mlp_network *net = NULL;
    mlp_trainer *tr = NULL;
    int ok = agree(c->comm, make_trainer(c, &net, &tr));
    int lib = c->o->reduction == BMPI_LIBRARY && c->procs > 1;
#ifdef MLP_BENCH_HAVE_MPI_LIB
    lib_set L = {{0}, {0}, {0}};
    if (ok && lib) ok = lib_open(c, &L);
#endif
    if (ok) r->n_params = mlp_num_params(net);
    for (int k = 0; ok && k < c->o->rounds; k++) {
        double comm = 0.0, imb = 0.0;
        double alone = phase_local(c, net, tr, 0, NULL, NULL);
        double emul = phase_local(c, net, tr, 1, &comm, &imb);
        ok = alone >= 0.0 && emul >= 0.0;
        if (ok) keep_best(k, alone, emul, comm, imb, r);
        if (ok && !lib) /* one process sums nothing */
            r->step_dp_s = c->procs > 1 ? r->step_emulated_s : r->step_alone_s;
#ifdef MLP_BENCH_HAVE_MPI_LIB
        if (ok && lib) ok = lib_round(c, &L, k, r);
#endif
    }
#ifdef MLP_BENCH_HAVE_MPI_LIB
    if (lib) lib_close(&L);
#endif
    free_trainer(net, tr);
    return ok;
}

int bmpi_run(const bmpi_opts *o, const bmpi_data *d, MPI_Comm comm, bmpi_result *r)
{
    bctx c = {o, d, comm, 0, 1, 0, 0, 0};
    MPI_Comm_rank(comm, &c.rank);
    MPI_Comm_size(comm, &c.procs);
    memset(r, 0, sizeof *r);
    r->step_overlap_s = r->step_blocking_s = r->stats_s = NAN;
    r->step_min_s = r->comm_min_s = r->exposed_min_s = r->hidden_share_min = NAN;
    r->epoch_s = r->epoch_rows = r->epoch_cpu_share = r->epoch_prof_comm_s = NAN;
    r->prof_comm_s = NAN;
    slice(&c);
    if (c.n_batches == 0) {
        if (c.rank == 0) fprintf(stderr, "mlp-bench-mpi: fewer rows than one batch\n");
        return -1;
    }
    if (o->steps > 0 && !step_rounds(&c, r)) return -1;
    derive(c.procs, r);
    if (o->epoch && !run_epoch(&c, r)) return -1;
    return 0;
}
