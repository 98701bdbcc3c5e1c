/* Data-parallel training over MPI (libmlp_mpi), run by ctest under
 * `mpirun -np P` for P = 1, 2, 3. Every rank also trains the one-process
 * reference itself (no reducer), so the comparison needs no messages:
 *   - replicated SGD, momentum and Adam, l2 > 0, clipping on, a last global
 *     batch of 1 row (smaller than P), >= 50 steps: ||θ_P - θ_1|| within
 *     1e-4 (1e-3 for Adam) of ||θ_1 - θ_0||; with dropout too;
 *   - parameters and optimiser state bit-identical on every rank (the
 *     saved model's bytes, compared through MPI);
 *   - stop decisions: the callback stopping on one rank, early stopping,
 *     divergence on one rank's shard: the same epochs everywhere;
 *   - shape and option disagreements refused before any step;
 *   - the sharded mode trains; mlp_trainer_step with a slice per rank;
 *   - the gradient's buckets (MLP_MPI_BUCKET_BYTES): per layer, two
 *     buckets, one blocking sum; each equivalent and bit-identical.
 * Prints one line per check on rank 0; exits non-zero on any failure. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "mlp_mpi.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_IN 8
#define N_OUT 3
#define N_ROWS 101 /* batch 10: the last global batch has 1 row */
#define BATCH 10

static int rank, size, failures;
static mlp_activation hidden_act = MLP_ACT_TANH;

static void check(int ok, const char *what)
{
    int all = ok, fail;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    fail = !all;
    if (fail)
        failures++;
    if (rank == 0)
        printf("%s P=%d: %s\n", fail ? "FAIL" : "ok  ", size, what);
    if (!ok)
        fprintf(stderr, "rank %d: failed: %s (last error: %s)\n", rank, what, mlp_last_error());
    fflush(stdout);
}

static float X[N_ROWS * N_IN];
static int32_t Y[N_ROWS];

/* Three classes from a fixed linear rule with noise (an LCG: the same data
 * on every rank). */
static void make_data(void)
{
    uint64_t s = 12345;
    for (size_t i = 0; i < N_ROWS; i++) {
        double score[N_OUT] = {0, 0, 0};
        for (size_t j = 0; j < N_IN; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            X[i * N_IN + j] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
            score[j % N_OUT] += X[i * N_IN + j] * (double)(j + 1);
        }
        Y[i] = score[0] > score[1] ? (score[0] > score[2] ? 0 : 2) : (score[1] > score[2] ? 1 : 2);
    }
}

static mlp_network *make_net(size_t hidden, float dropout)
{
    size_t sizes[3] = {N_IN, hidden, N_OUT};
    mlp_activation acts[2] = {hidden_act, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    if (mlp_create(&net, 2, sizes, acts, 7) != MLP_OK)
        return NULL;
    mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE);
    mlp_set_l2(net, 1e-3f);
    mlp_set_dropout(net, 1, dropout);
    return net;
}

static mlp_trainer *make_trainer(mlp_network *net, mlp_optimizer opt, size_t epochs)
{
    mlp_trainer *tr = NULL;
    if (!net || mlp_trainer_create(net, &tr) != MLP_OK)
        return NULL;
    mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, opt);
    mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, opt == MLP_OPT_ADAM ? 0.01 : 0.1);
    mlp_trainer_set(tr, MLP_OPTION_MOMENTUM, 0.9);
    mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, BATCH);
    mlp_trainer_set(tr, MLP_OPTION_EPOCHS, (double)epochs);
    mlp_trainer_set(tr, MLP_OPTION_CLIP_NORM, 0.5);
    return tr;
}

static double dist(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(s);
}

/* Whether every rank's network saves to the same bytes (parameters,
 * optimiser state, step count, RNG): compared with rank 0's. */
static int same_everywhere(const mlp_network *net)
{
    size_t len = 0, len0;
    unsigned char *buf, *buf0;
    int same;
    mlp_save_buffer(net, NULL, 0, &len);
    buf = malloc(len);
    buf0 = malloc(len);
    if (!buf || !buf0 || mlp_save_buffer(net, buf, len, &len) != MLP_OK)
        return 0;
    len0 = len;
    MPI_Bcast(&len0, sizeof len0, MPI_BYTE, 0, MPI_COMM_WORLD);
    if (rank == 0)
        memcpy(buf0, buf, len);
    MPI_Bcast(buf0, (int)(len0 < len ? len0 : len), MPI_BYTE, 0, MPI_COMM_WORLD);
    same = len0 == len && memcmp(buf, buf0, len) == 0;
    free(buf);
    free(buf0);
    return same;
}

/* Whether v is the same on every rank. */
static int agree(long v)
{
    long lo, hi;
    MPI_Allreduce(&v, &lo, 1, MPI_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&v, &hi, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi;
}

static float W[N_ROWS]; /* row weights for the weighted runs, NULL-like when unused */

static mlp_status train_maybe_weighted(mlp_trainer *tr, int weighted)
{
    return weighted ? mlp_train_weighted(tr, X, Y, W, N_ROWS, NULL, NULL, NULL, 0)
                    : mlp_train(tr, X, Y, N_ROWS, NULL, NULL, 0);
}

static void equivalence_w(mlp_optimizer opt, float dropout, double tol, const char *what,
                          int weighted)
{
    mlp_network *ref = make_net(16, dropout), *par = make_net(16, dropout);
    mlp_trainer *tr_ref = make_trainer(ref, opt, 6), *tr_par = make_trainer(par, opt, 6);
    size_t n = mlp_num_params(ref);
    float *theta0 = malloc(n * sizeof(float));
    char line[160];
    int ok = tr_ref && tr_par && theta0;
    double moved = 0, off = 0;

    if (ok) {
        memcpy(theta0, mlp_params(ref), n * sizeof(float));
        ok = train_maybe_weighted(tr_ref, weighted) == MLP_OK &&
             mlp_mpi_attach(tr_par, MPI_COMM_WORLD, MLP_MPI_REPLICATED) == MLP_OK &&
             train_maybe_weighted(tr_par, weighted) == MLP_OK;
    }
    if (ok) {
        moved = dist(mlp_params(ref), theta0, n);
        off = dist(mlp_params(par), mlp_params(ref), n);
        ok = moved > 0 && off <= tol * moved && mlp_num_params(par) == n;
    }
    snprintf(line, sizeof line, "%s: |θ_P-θ_1| = %.3g of |θ_1-θ_0| = %.3g (limit %g), %llu steps",
             what, off, moved, tol, ok ? (unsigned long long)(6 * ((N_ROWS + BATCH - 1) / BATCH)) : 0ull);
    check(ok, line);
    snprintf(line, sizeof line, "%s: parameters and optimiser state bit-identical on every rank",
             what);
    check(ok && same_everywhere(par), line);
    mlp_trainer_destroy(tr_ref);
    mlp_trainer_destroy(tr_par);
    mlp_destroy(ref);
    mlp_destroy(par);
    free(theta0);
}

static void equivalence(mlp_optimizer opt, float dropout, double tol, const char *what)
{
    equivalence_w(opt, dropout, tol, what, 0);
}

/* The buckets (MLP_MPI_BUCKET_BYTES, read at attach) on 8-16-16-3, whose
 * layers hold 144, 272 and 51 floats: a cap of 0 sums each layer alone;
 * 1000 bytes makes two buckets, the last two layers together (started in
 * the backward pass) and the first (summed at the update with the other in
 * flight); the default sums the whole gradient in one blocking call. Each
 * against the one-process run, bit-identical on every rank. */
static void bucket_run(const char *cap, const char *what)
{
    size_t sizes[4] = {N_IN, 16, 16, N_OUT};
    mlp_activation acts[3] = {MLP_ACT_TANH, MLP_ACT_RELU, MLP_ACT_IDENTITY};
    mlp_network *ref = NULL, *par = NULL;
    mlp_trainer *tr_ref = NULL, *tr_par = NULL;
    float *theta0 = NULL;
    double moved = 0, off = 0;
    char line[200];
    int ok = mlp_create(&ref, 3, sizes, acts, 7) == MLP_OK &&
             mlp_create(&par, 3, sizes, acts, 7) == MLP_OK;
    if (ok) {
        mlp_set_loss(ref, MLP_LOSS_SOFTMAX_CE);
        mlp_set_loss(par, MLP_LOSS_SOFTMAX_CE);
        tr_ref = make_trainer(ref, MLP_OPT_MOMENTUM, 6);
        tr_par = make_trainer(par, MLP_OPT_MOMENTUM, 6);
        theta0 = malloc(mlp_num_params(ref) * sizeof(float));
        ok = tr_ref && tr_par && theta0;
    }
    if (cap)
        setenv("MLP_MPI_BUCKET_BYTES", cap, 1);
    else
        unsetenv("MLP_MPI_BUCKET_BYTES");
    if (ok) {
        memcpy(theta0, mlp_params(ref), mlp_num_params(ref) * sizeof(float));
        ok = mlp_train(tr_ref, X, Y, N_ROWS, NULL, NULL, 0) == MLP_OK &&
             mlp_mpi_attach(tr_par, MPI_COMM_WORLD, MLP_MPI_REPLICATED) == MLP_OK &&
             mlp_train(tr_par, X, Y, N_ROWS, NULL, NULL, 0) == MLP_OK;
    }
    unsetenv("MLP_MPI_BUCKET_BYTES");
    if (ok) {
        moved = dist(mlp_params(ref), theta0, mlp_num_params(ref));
        off = dist(mlp_params(par), mlp_params(ref), mlp_num_params(ref));
        ok = moved > 0 && off <= 1e-4 * moved;
    }
    snprintf(line, sizeof line, "buckets, %s: |θ_P-θ_1| = %.3g of |θ_1-θ_0| = %.3g (limit 1e-4)",
             what, off, moved);
    check(ok, line);
    snprintf(line, sizeof line, "buckets, %s: bit-identical on every rank", what);
    check(ok && same_everywhere(par), line);
    mlp_trainer_destroy(tr_ref);
    mlp_trainer_destroy(tr_par);
    mlp_destroy(ref);
    mlp_destroy(par);
    free(theta0);
}

/* A cap that is not a number is refused on every process. */
static void bucket_refused(void)
{
    mlp_network *net = make_net(16, 0.0f);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_SGD, 1);
    mlp_status st;
    setenv("MLP_MPI_BUCKET_BYTES", "12kB", 1);
    st = tr ? mlp_mpi_attach(tr, MPI_COMM_WORLD, MLP_MPI_REPLICATED) : MLP_ERR_NULL;
    unsetenv("MLP_MPI_BUCKET_BYTES");
    check(st == MLP_ERR_ARGUMENT, "buckets: MLP_MPI_BUCKET_BYTES=12kB refused at attach");
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

static int stop_on_epoch(const mlp_progress *pr, void *user)
{
    (void)user;
    return pr->epoch_end && pr->epoch == 3 && rank == size - 1;
}

/* The callback stops on one rank only: every rank stops after epoch 3. */
static void callback_stop(void)
{
    mlp_network *net = make_net(16, 0.0f);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 10);
    mlp_status st = MLP_ERR_NULL;
    if (tr && rank == size - 1)
        mlp_trainer_set_callback(tr, stop_on_epoch, NULL);
    if (tr && mlp_mpi_attach(tr, MPI_COMM_WORLD, MLP_MPI_REPLICATED) == MLP_OK)
        st = mlp_train(tr, X, Y, N_ROWS, NULL, NULL, 0);
    check(st == MLP_OK && mlp_trainer_epochs_run(tr) == 3 &&
              mlp_trainer_stop_reason(tr) == MLP_STOP_CALLBACK && same_everywhere(net),
          "the callback stops on the last rank only: every rank ran 3 epochs, same weights");
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* Early stopping on a held-out fraction, at a learning rate that overfits. */
static void early_stop(void)
{
    mlp_network *net = make_net(32, 0.0f);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 200);
    mlp_status st = MLP_ERR_NULL;
    if (tr) {
        mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, 0.05);
        mlp_trainer_set(tr, MLP_OPTION_PATIENCE, 3);
        mlp_trainer_set(tr, MLP_OPTION_VALIDATION_FRACTION, 0.3);
    }
    if (tr && mlp_mpi_attach(tr, MPI_COMM_WORLD, MLP_MPI_REPLICATED) == MLP_OK)
        st = mlp_train(tr, X, Y, N_ROWS, NULL, NULL, 0);
    check(st == MLP_OK && mlp_trainer_stop_reason(tr) == MLP_STOP_EARLY &&
              agree((long)mlp_trainer_epochs_run(tr)) && agree((long)mlp_trainer_best_epoch(tr)) &&
              same_everywhere(net),
          "early stopping: the same epochs and best epoch on every rank, same weights");
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* This rank's shard: rows rank, rank + P, ... */
static size_t shard(float *Xs, int32_t *Ys)
{
    size_t m = 0;
    for (size_t i = (size_t)rank; i < N_ROWS; i += (size_t)size, m++) {
        memcpy(Xs + m * N_IN, X + i * N_IN, N_IN * sizeof(float));
        Ys[m] = Y[i];
    }
    return m;
}

/* A row of the last rank's shard overflows the forward pass at epoch 1's
 * step: every rank gets MLP_ERR_DIVERGED at the same step, weights restored. */
static void divergence(void)
{
    static float Xs[N_ROWS * N_IN];
    static int32_t Ys[N_ROWS];
    size_t m = shard(Xs, Ys);
    mlp_network *net;
    mlp_trainer *tr;
    hidden_act = MLP_ACT_RELU; /* an overflowing input stays infinite */
    net = make_net(16, 0.0f);
    hidden_act = MLP_ACT_TANH;
    tr = make_trainer(net, MLP_OPT_SGD, 3);
    float *before = malloc(mlp_num_params(net) * sizeof(float));
    mlp_status st = MLP_ERR_NULL;
    if (rank == size - 1)
        for (size_t j = 0; j < N_IN; j++)
            Xs[j] = 3e38f;
    memcpy(before, mlp_params(net), mlp_num_params(net) * sizeof(float));
    if (tr && mlp_mpi_attach(tr, MPI_COMM_WORLD, MLP_MPI_SHARDED) == MLP_OK)
        st = mlp_train(tr, Xs, Ys, m, NULL, NULL, 0);
    if (st != MLP_ERR_DIVERGED)
        fprintf(stderr, "rank %d: divergence: %s, %zu epochs\n", rank, mlp_status_name(st),
                mlp_trainer_epochs_run(tr));
    check(st == MLP_ERR_DIVERGED && mlp_trainer_stop_reason(tr) == MLP_STOP_DIVERGED &&
              agree((long)mlp_trainer_epochs_run(tr)) && same_everywhere(net) &&
              memcmp(before, mlp_params(net), mlp_num_params(net) * sizeof(float)) == 0,
          "divergence on one rank's shard: MLP_ERR_DIVERGED everywhere, weights restored");
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
    free(before);
}

/* The sharded mode trains: the loss falls, the ranks agree. */
static void sharded(void)
{
    static float Xs[N_ROWS * N_IN];
    static int32_t Ys[N_ROWS];
    size_t m = shard(Xs, Ys);
    mlp_network *net = make_net(16, 0.1f);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 30);
    double loss0 = 0, loss1 = 1, acc = 0;
    mlp_progress last;
    mlp_status st = MLP_ERR_NULL;
    if (tr) { /* each shard holds out its own validation rows */
        mlp_trainer_set(tr, MLP_OPTION_VALIDATION_FRACTION, 0.2);
        mlp_trainer_set(tr, MLP_OPTION_PATIENCE, 4);
        mlp_evaluate(net, X, N_ROWS, Y, &loss0, &acc);
        if (mlp_mpi_attach(tr, MPI_COMM_WORLD, MLP_MPI_SHARDED) == MLP_OK)
            st = mlp_train(tr, Xs, Ys, m, NULL, NULL, 0);
        mlp_evaluate(net, X, N_ROWS, Y, &loss1, &acc);
    }
    if (rank == 0)
        printf("     sharded: loss %.4f -> %.4f, status %s\n", loss0, loss1, mlp_status_name(st));
    memset(&last, 0, sizeof last);
    if (st == MLP_OK)
        mlp_trainer_history(tr, mlp_trainer_epochs_run(tr), &last);
    check(st == MLP_OK && loss1 < 0.7 * loss0 && same_everywhere(net) &&
              agree((long)mlp_trainer_epochs_run(tr)) && isfinite(last.val_loss) &&
              agree((long)(last.val_loss * 1e9)) && agree((long)(last.val_accuracy * 1e9)),
          "sharded mode trains (loss down by 30% or more), validation reduced: the same weights, "
          "epochs and validation loss everywhere");
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* Disagreements are refused before any step, on every rank. */
static void mismatch(void)
{
    mlp_network *net = make_net(rank == 0 && size > 1 ? 17 : 16, 0.0f);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 2);
    mlp_status st = tr ? mlp_mpi_attach(tr, MPI_COMM_WORLD, MLP_MPI_REPLICATED) : MLP_ERR_NULL;
    check(size == 1 ? st == MLP_OK : st == MLP_ERR_MISMATCH && strstr(mlp_last_error(), "shape"),
          "a different network shape on rank 0: MLP_ERR_MISMATCH on every rank");
    mlp_trainer_destroy(tr);
    mlp_destroy(net);

    net = make_net(16, 0.0f);
    tr = make_trainer(net, MLP_OPT_ADAM, 2);
    st = tr ? mlp_mpi_attach(tr, MPI_COMM_WORLD, MLP_MPI_REPLICATED) : MLP_ERR_NULL;
    if (st == MLP_OK && rank == 0) /* changed after the attach: caught by mlp_train */
        mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, 0.5);
    if (st == MLP_OK)
        st = mlp_train(tr, X, Y, N_ROWS, NULL, NULL, 0);
    check(size == 1 ? st == MLP_OK
                    : st == MLP_ERR_MISMATCH && strstr(mlp_last_error(), "options") &&
                          mlp_trainer_epochs_run(tr) == 0,
          "a different learning rate on rank 0: MLP_ERR_MISMATCH from mlp_train, no step");
    mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_LBFGS);
    check(mlp_train(tr, X, Y, N_ROWS, NULL, NULL, 0) == MLP_ERR_OPTION,
          "L-BFGS under a reducer: MLP_ERR_OPTION");
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* mlp_trainer_step: each rank passes its rows of the global batch. */
static void steps(void)
{
    mlp_network *ref = make_net(16, 0.2f), *par = make_net(16, 0.2f);
    mlp_trainer *tr_ref = make_trainer(ref, MLP_OPT_MOMENTUM, 1);
    mlp_trainer *tr_par = make_trainer(par, MLP_OPT_MOMENTUM, 1);
    size_t n = mlp_num_params(ref);
    float *theta0 = malloc(n * sizeof(float));
    int ok = tr_ref && tr_par && theta0 &&
             mlp_mpi_attach(tr_par, MPI_COMM_WORLD, MLP_MPI_REPLICATED) == MLP_OK;
    memcpy(theta0, mlp_params(ref), n * sizeof(float));
    for (size_t k = 0; ok && k < 60; k++) {
        size_t start = (k * 7) % (N_ROWS - 9), rows = 1 + k % 9; /* some ranks get none */
        size_t lo = rows * (size_t)rank / (size_t)size, hi = rows * (size_t)(rank + 1) / (size_t)size;
        ok = mlp_trainer_step(tr_ref, X + start * N_IN, rows, Y + start, NULL) == MLP_OK &&
             mlp_trainer_step(tr_par, X + (start + lo) * N_IN, hi - lo, Y + start + lo, NULL) ==
                 MLP_OK;
    }
    check(ok && dist(mlp_params(par), mlp_params(ref), n) <=
                    1e-4 * dist(mlp_params(ref), theta0, n) && same_everywhere(par),
          "mlp_trainer_step with dropout, a slice per rank (some empty): equal to one process");
    mlp_trainer_destroy(tr_ref);
    mlp_trainer_destroy(tr_par);
    mlp_destroy(ref);
    mlp_destroy(par);
    free(theta0);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    mlp_set_num_threads(1);
    make_data();
    equivalence(MLP_OPT_SGD, 0.0f, 1e-4, "SGD");
    equivalence(MLP_OPT_MOMENTUM, 0.0f, 1e-4, "momentum");
    equivalence(MLP_OPT_ADAM, 0.0f, 1e-3, "Adam");
    equivalence(MLP_OPT_SGD, 0.2f, 1e-4, "SGD with dropout 0.2");
    for (size_t i = 0; i < N_ROWS; i++)
        W[i] = (float)(i % 4) * 0.5f; /* some rows weigh 0 */
    equivalence_w(MLP_OPT_MOMENTUM, 0.0f, 1e-4, "momentum, weighted rows", 1);
    steps();
    bucket_run("0", "one per layer (0)");
    bucket_run("1000", "two buckets (1000 bytes)");
    bucket_run(NULL, "default cap, one blocking sum");
    bucket_refused();
    callback_stop();
    early_stop();
    divergence();
    sharded();
    mismatch();
    if (rank == 0)
        printf("%s P=%d: %d failure(s)\n", failures ? "FAIL" : "ok  ", size, failures);
    MPI_Finalize();
    return failures != 0;
}
