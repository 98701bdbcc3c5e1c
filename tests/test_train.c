/* The trainer: learning, early stopping, dropout, divergence, bad data,
 * callbacks, validation, determinism, resuming, allocations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "network.h"
#include "mlp.h"

/* ---- helpers -------------------------------------------------------------- */

typedef struct test_rng {
    uint64_t s;
} test_rng;

static double rng_uniform(test_rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (double)(r->s >> 11) / 9007199254740992.0;
}

static double rng_normal(test_rng *r)
{
    double u = rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* n points around three centres in 2-D, labels 0..2. */
static void make_blobs(float *X, int32_t *y, size_t n, uint64_t seed)
{
    static const double cx[3] = {-2.0, 2.0, 0.0}, cy[3] = {0.0, 0.0, 2.5};
    test_rng r = {seed * 2654435761u + 1};
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % 3);
        X[2 * i] = (float)(cx[c] + 0.5 * rng_normal(&r));
        X[2 * i + 1] = (float)(cy[c] + 0.5 * rng_normal(&r));
        y[i] = c;
    }
}

static mlp_network *make_net(size_t n_layers, const size_t *sizes, const mlp_activation *acts,
                             mlp_loss loss, uint64_t seed)
{
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, n_layers, sizes, acts, seed), MLP_OK);
    assert_int_equal(mlp_set_loss(net, loss), MLP_OK);
    return net;
}

static mlp_trainer *make_trainer(mlp_network *net, mlp_optimizer opt, double lr, size_t batch,
                                 size_t epochs)
{
    mlp_trainer *tr = NULL;
    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, opt), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, lr), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, (double)batch), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, (double)epochs), MLP_OK);
    return tr;
}

static float *copy_params(mlp_network *net)
{
    size_t n = mlp_num_params(net);
    float *p = malloc(n * sizeof(float));
    assert_non_null(p);
    memcpy(p, mlp_params(net), n * sizeof(float));
    return p;
}

static int params_equal(mlp_network *net, const float *p)
{
    return memcmp(mlp_params(net), p, mlp_num_params(net) * sizeof(float)) == 0;
}

static int all_finite(mlp_network *net)
{
    const float *p = mlp_params(net);
    for (size_t i = 0; i < mlp_num_params(net); i++)
        if (!isfinite(p[i]))
            return 0;
    return 1;
}

/* ---- it learns ---------------------------------------------------------- */

static void test_xor(void **state)
{
    const size_t sizes[3] = {2, 8, 2};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    const float X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    const int32_t y[4] = {0, 1, 1, 0};
    mlp_network *net = make_net(2, sizes, acts, MLP_LOSS_SOFTMAX_CE, 1);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 0.05, 4, 300);
    double loss, acc;
    (void)state;

    assert_int_equal(mlp_train(tr, X, y, 4, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_trainer_epochs_run(tr), 300);
    assert_int_equal(mlp_trainer_stop_reason(tr), 0);
    assert_int_equal(mlp_evaluate(net, X, 4, y, &loss, &acc), MLP_OK);
    assert_true(acc == 1.0);
    assert_true(loss < 0.05);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

static void test_blobs(void **state)
{
    enum { N = 300, NT = 300 };
    const size_t sizes[3] = {2, 16, 3};
    const mlp_activation acts[2] = {MLP_ACT_RELU, MLP_ACT_IDENTITY};
    float X[2 * N], Xt[2 * NT];
    int32_t y[N], yt[NT];
    mlp_network *net = make_net(2, sizes, acts, MLP_LOSS_SOFTMAX_CE, 2);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 0.01, 32, 30);
    mlp_progress first, last;
    double loss, acc;
    (void)state;

    make_blobs(X, y, N, 1);
    make_blobs(Xt, yt, NT, 2);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_VALIDATION_FRACTION, 0.2), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_trainer_history(tr, 1, &first), MLP_OK);
    assert_int_equal(mlp_trainer_history(tr, 30, &last), MLP_OK);
    assert_true(last.train_loss < first.train_loss);
    assert_true(last.val_accuracy > 0.95);
    assert_int_equal(mlp_evaluate(net, Xt, NT, yt, &loss, &acc), MLP_OK);
    assert_true(acc > 0.95);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* R5: 20 samples with random labels overfit to a near-zero loss. */
static void test_overfit_20(void **state)
{
    const size_t sizes[3] = {5, 64, 4};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    float X[20 * 5];
    int32_t y[20];
    test_rng r = {12345};
    mlp_network *net = make_net(2, sizes, acts, MLP_LOSS_SOFTMAX_CE, 3);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 0.01, 20, 400);
    double loss, acc;
    (void)state;

    for (int i = 0; i < 100; i++)
        X[i] = (float)rng_normal(&r);
    for (int i = 0; i < 20; i++)
        y[i] = (int32_t)(rng_uniform(&r) * 4);
    assert_int_equal(mlp_train(tr, X, y, 20, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_evaluate(net, X, 20, y, &loss, &acc), MLP_OK);
    assert_true(loss < 0.01);
    assert_true(acc == 1.0);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* ---- early stopping ----------------------------------------------------- */

typedef struct recorder {
    mlp_network *net;
    float *snaps; /* params at the end of each epoch */
    size_t n_params, max_epochs, calls, batch_calls;
    size_t stop_at_epoch, stop_at_batch; /* 0 = never */
    double last_elapsed;
    unsigned long allocs_first, allocs_last; /* TESTLIB counters */
    int allocs_seen;
} recorder;

static int record(const mlp_progress *pr, void *user)
{
    recorder *rc = user;
    rc->allocs_last = mlp__alloc_count();
    if (!rc->allocs_seen) {
        rc->allocs_first = rc->allocs_last;
        rc->allocs_seen = 1;
    }
    assert_true(pr->elapsed_s >= rc->last_elapsed);
    rc->last_elapsed = pr->elapsed_s;
    if (!pr->epoch_end) {
        rc->batch_calls++;
        assert_true(isnan(pr->val_loss));
        return rc->stop_at_batch && pr->epoch == 1 && pr->batch == rc->stop_at_batch;
    }
    rc->calls++;
    assert_int_equal(pr->batch, pr->batches);
    assert_int_equal(pr->epoch, rc->calls);
    if (rc->snaps && pr->epoch <= rc->max_epochs)
        memcpy(rc->snaps + (pr->epoch - 1) * rc->n_params, mlp_params_const(rc->net),
               rc->n_params * sizeof(float));
    return rc->stop_at_epoch && pr->epoch == rc->stop_at_epoch;
}

static recorder *make_recorder(mlp_network *net, size_t max_epochs)
{
    recorder *rc = calloc(1, sizeof *rc);
    assert_non_null(rc);
    rc->net = net;
    rc->n_params = mlp_num_params(net);
    rc->max_epochs = max_epochs;
    rc->snaps = calloc(max_epochs * rc->n_params, sizeof(float));
    assert_non_null(rc->snaps);
    return rc;
}

static void free_recorder(recorder *rc)
{
    free(rc->snaps);
    free(rc);
}

/* The validation labels are the training labels shifted by one, so the
 * validation loss gets worse as training learns: early stopping must stop
 * and hand back the weights of the best epoch. */
static void test_early_stopping_restores_best(void **state)
{
    enum { N = 150, EPOCHS = 50 };
    const size_t sizes[3] = {2, 16, 3};
    const mlp_activation acts[2] = {MLP_ACT_RELU, MLP_ACT_IDENTITY};
    float X[2 * N];
    int32_t y[N], yv[N];
    mlp_network *net = make_net(2, sizes, acts, MLP_LOSS_SOFTMAX_CE, 4);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 0.02, 16, EPOCHS);
    recorder *rc = make_recorder(net, EPOCHS);
    size_t best, run;
    mlp_progress pr;
    double best_loss = HUGE_VAL;
    (void)state;

    make_blobs(X, y, N, 3);
    for (int i = 0; i < N; i++)
        yv[i] = (y[i] + 1) % 3;
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_PATIENCE, 3), MLP_OK);
    assert_int_equal(mlp_trainer_set_callback(tr, record, rc), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, N, X, yv, N), MLP_OK);
    run = mlp_trainer_epochs_run(tr);
    best = mlp_trainer_best_epoch(tr);
    assert_int_equal(mlp_trainer_stop_reason(tr), 1);
    assert_true(run < EPOCHS);
    assert_true(best >= 1);
    assert_int_equal(run, best + 3);
    for (size_t e = 1; e <= run; e++) {
        assert_int_equal(mlp_trainer_history(tr, e, &pr), MLP_OK);
        if (pr.val_loss < best_loss) best_loss = pr.val_loss;
    }
    assert_int_equal(mlp_trainer_history(tr, best, &pr), MLP_OK);
    assert_true(pr.val_loss == best_loss);
    /* the final weights are the best epoch's, not the last epoch's */
    assert_true(params_equal(net, rc->snaps + (best - 1) * rc->n_params));
    assert_false(params_equal(net, rc->snaps + (run - 1) * rc->n_params));
    assert_int_equal(mlp_trainer_history(tr, run + 1, &pr), MLP_ERR_ARGUMENT);
    assert_int_equal(mlp_trainer_history(tr, 0, &pr), MLP_ERR_ARGUMENT);
    free_recorder(rc);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* Without a validation set the training loss is watched; a min_delta no
 * epoch can beat makes epoch 1 the best. */
static void test_early_stopping_on_training_loss(void **state)
{
    enum { N = 60 };
    const size_t sizes[3] = {2, 8, 3};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    float X[2 * N];
    int32_t y[N];
    mlp_network *net = make_net(2, sizes, acts, MLP_LOSS_SOFTMAX_CE, 5);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 0.01, 8, 20);
    recorder *rc = make_recorder(net, 20);
    mlp_progress pr;
    (void)state;

    make_blobs(X, y, N, 4);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_PATIENCE, 2), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_MIN_DELTA, 100.0), MLP_OK);
    assert_int_equal(mlp_trainer_set_callback(tr, record, rc), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_trainer_best_epoch(tr), 1);
    assert_int_equal(mlp_trainer_epochs_run(tr), 3);
    assert_int_equal(mlp_trainer_stop_reason(tr), 1);
    assert_int_equal(mlp_trainer_history(tr, 1, &pr), MLP_OK);
    assert_true(isnan(pr.val_loss));
    assert_true(params_equal(net, rc->snaps));
    free_recorder(rc);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* ---- dropout ---------------------------------------------------------------- */

static void test_dropout_train_only(void **state)
{
    enum { H = 64 };
    const size_t sizes[3] = {4, H, 3};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    const float x[4] = {0.3f, -0.7f, 1.1f, 0.2f};
    const int32_t y[1] = {2};
    mlp_network *net = make_net(2, sizes, acts, MLP_LOSS_SOFTMAX_CE, 6), *plain = NULL;
    mlp_trainer *tr, *tr_plain;
    float out1[3], out2[3], out_plain[3];
    size_t wo, zero_cols = 0, zero_cols_plain = 0;
    (void)state;

    assert_int_equal(mlp_clone(net, &plain), MLP_OK);
    assert_int_equal(mlp_set_dropout(net, 1, 0.5f), MLP_OK);

    /* inference: no dropout, deterministic */
    assert_int_equal(mlp_forward(net, x, 1, out1), MLP_OK);
    assert_int_equal(mlp_forward(net, x, 1, out2), MLP_OK);
    assert_int_equal(mlp_forward(plain, x, 1, out_plain), MLP_OK);
    assert_memory_equal(out1, out2, sizeof out1);
    assert_memory_equal(out1, out_plain, sizeof out1);

    /* training: with one row and plain SGD, the columns of W(1) that belong
     * to dropped hidden units do not move at all; without dropout all do */
    tr = make_trainer(net, MLP_OPT_SGD, 0.01, 1, 1);
    tr_plain = make_trainer(plain, MLP_OPT_SGD, 0.01, 1, 1);
    wo = mlp_weights_offset(net, 1);
    float w_before[3 * H];
    memcpy(w_before, mlp_params(net) + wo, sizeof w_before);
    assert_memory_equal(w_before, mlp_params(plain) + wo, sizeof w_before);
    assert_int_equal(mlp_trainer_step(tr, x, 1, y, NULL), MLP_OK);
    assert_int_equal(mlp_trainer_step(tr_plain, x, 1, y, NULL), MLP_OK);
    for (size_t j = 0; j < H; j++) {
        int z = 1, zp = 1;
        for (size_t k = 0; k < 3; k++) {
            z &= mlp_params(net)[wo + k * H + j] == w_before[k * H + j];
            zp &= mlp_params(plain)[wo + k * H + j] == w_before[k * H + j];
        }
        zero_cols += (size_t)z;
        zero_cols_plain += (size_t)zp;
    }
    assert_int_equal(zero_cols_plain, 0);
    assert_in_range(zero_cols, 12, 52); /* Binomial(64, 0.5): far outside is ~1e-9 */

    /* after training, inference is still deterministic and dropout-free */
    assert_int_equal(mlp_forward(net, x, 1, out1), MLP_OK);
    assert_int_equal(mlp_forward(net, x, 1, out2), MLP_OK);
    assert_memory_equal(out1, out2, sizeof out1);
    mlp_trainer_destroy(tr);
    mlp_trainer_destroy(tr_plain);
    mlp_destroy(plain);
    mlp_destroy(net);
}

/* ---- divergence and bad data ---------------------------------------------- */

static void check_divergence(double lr)
{
    enum { N = 64 };
    const size_t sizes[3] = {2, 16, 1};
    const mlp_activation acts[2] = {MLP_ACT_RELU, MLP_ACT_IDENTITY};
    float X[2 * N], y[N];
    int32_t c[N];
    mlp_network *net = make_net(2, sizes, acts, MLP_LOSS_MSE, 7);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_SGD, lr, 8, 5);
    recorder *rc = make_recorder(net, 5);
    float *initial = copy_params(net);
    size_t run;

    make_blobs(X, c, N, 5);
    for (int i = 0; i < N; i++)
        y[i] = 100.0f * (float)c[i];
    assert_int_equal(mlp_trainer_set_callback(tr, record, rc), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_ERR_DIVERGED);
    assert_true(strlen(mlp_last_error()) > 0);
    assert_int_equal(mlp_trainer_stop_reason(tr), 3);
    assert_true(all_finite(net));
    /* the weights at the start of the epoch that diverged */
    run = mlp_trainer_epochs_run(tr);
    assert_true(run < 5);
    if (run == 0)
        assert_true(params_equal(net, initial));
    else
        assert_true(params_equal(net, rc->snaps + (run - 1) * rc->n_params));
    assert_int_equal(net->steps, (uint64_t)run * (N / 8));
    /* the network still works */
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, 1e-4), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 1), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_OK);
    assert_true(all_finite(net));
    free(initial);
    free_recorder(rc);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

static void test_divergence(void **state)
{
    (void)state;
    check_divergence(1e6);   /* the loss overflows after a few steps */
    check_divergence(3e38);  /* the weights overflow in the first update */
}

/* A single full-batch step whose update overflows the weights: no later
 * loss can reveal it, so the weight check after the update must. */
static void test_divergence_in_last_step(void **state)
{
    enum { N = 32 };
    const size_t sizes[3] = {2, 8, 1};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    float X[2 * N], y[N];
    int32_t c[N];
    mlp_network *net = make_net(2, sizes, acts, MLP_LOSS_MSE, 14);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_SGD, 3e38, N, 1);
    float *initial = copy_params(net);
    (void)state;

    make_blobs(X, c, N, 11);
    for (int i = 0; i < N; i++)
        y[i] = 10.0f * (float)c[i] + 3.0f;
    assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_ERR_DIVERGED);
    assert_true(params_equal(net, initial));
    assert_int_equal(mlp_trainer_epochs_run(tr), 0);
    assert_int_equal(net->steps, 0);
    /* a lone step reports it too (and cannot undo it) */
    assert_int_equal(mlp_trainer_step(tr, X, N, y, NULL), MLP_ERR_DIVERGED);
    assert_false(all_finite(net));
    free(initial);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

static void test_nonfinite_rejected(void **state)
{
    enum { N = 30 };
    const size_t sizes[3] = {2, 4, 3};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    float X[2 * N], Xbad[2 * N];
    int32_t y[N], ybad[N];
    mlp_network *net = make_net(2, sizes, acts, MLP_LOSS_SOFTMAX_CE, 8);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 0.01, 8, 3);
    float *initial = copy_params(net);
    float *state0 = malloc(net->opt_state_len * sizeof(float));
    (void)state;

    assert_non_null(state0);
    memcpy(state0, net->opt_state, net->opt_state_len * sizeof(float));
    make_blobs(X, y, N, 6);

    memcpy(Xbad, X, sizeof X);
    Xbad[2 * 17 + 1] = NAN;
    assert_int_equal(mlp_train(tr, Xbad, y, N, NULL, NULL, 0), MLP_ERR_NONFINITE);
    Xbad[2 * 17 + 1] = -INFINITY;
    assert_int_equal(mlp_train(tr, Xbad, y, N, NULL, NULL, 0), MLP_ERR_NONFINITE);
    assert_int_equal(mlp_train(tr, X, y, N, Xbad, y, N), MLP_ERR_NONFINITE);
    assert_int_equal(mlp_trainer_step(tr, Xbad + 2 * 16, 4, y, NULL), MLP_ERR_NONFINITE);

    memcpy(ybad, y, sizeof y);
    ybad[29] = 3;
    assert_int_equal(mlp_train(tr, X, ybad, N, NULL, NULL, 0), MLP_ERR_LABEL);
    ybad[29] = -1;
    assert_int_equal(mlp_train(tr, X, ybad, N, NULL, NULL, 0), MLP_ERR_LABEL);
    assert_int_equal(mlp_train(tr, X, y, N, X, ybad, N), MLP_ERR_LABEL);
    assert_int_equal(mlp_trainer_step(tr, X + 2 * 26, 4, ybad + 26, NULL), MLP_ERR_LABEL);

    /* nothing moved */
    assert_true(params_equal(net, initial));
    assert_int_equal(net->steps, 0);
    assert_memory_equal(net->opt_state, state0, net->opt_state_len * sizeof(float));

    /* float targets (mse): NaN and Inf rejected too */
    {
        const size_t s2[2] = {2, 1};
        const mlp_activation a2[1] = {MLP_ACT_IDENTITY};
        mlp_network *reg = make_net(1, s2, a2, MLP_LOSS_MSE, 9);
        mlp_trainer *tr2 = make_trainer(reg, MLP_OPT_SGD, 0.01, 8, 2);
        float t[N];
        float *p0 = copy_params(reg);
        for (int i = 0; i < N; i++) t[i] = (float)i;
        t[3] = INFINITY;
        assert_int_equal(mlp_train(tr2, X, t, N, NULL, NULL, 0), MLP_ERR_NONFINITE);
        t[3] = NAN;
        assert_int_equal(mlp_train(tr2, X, t, N, NULL, NULL, 0), MLP_ERR_NONFINITE);
        assert_true(params_equal(reg, p0));
        free(p0);
        mlp_trainer_destroy(tr2);
        mlp_destroy(reg);
    }

    /* arguments */
    assert_int_equal(mlp_train(NULL, X, y, N, NULL, NULL, 0), MLP_ERR_NULL);
    assert_int_equal(mlp_train(tr, NULL, y, N, NULL, NULL, 0), MLP_ERR_NULL);
    assert_int_equal(mlp_train(tr, X, NULL, N, NULL, NULL, 0), MLP_ERR_NULL);
    assert_int_equal(mlp_train(tr, X, y, 0, NULL, NULL, 0), MLP_ERR_SIZE);
    assert_int_equal(mlp_train(tr, X, y, N, NULL, y, 5), MLP_ERR_NULL);
    assert_int_equal(mlp_trainer_step(tr, X, 0, y, NULL), MLP_ERR_SIZE);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_VALIDATION_FRACTION, 0.99), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, 1, NULL, NULL, 0), MLP_ERR_ARGUMENT);
    assert_true(params_equal(net, initial));
    free(state0);
    free(initial);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* ---- callbacks ------------------------------------------------------------ */

static void test_callback_stop(void **state)
{
    enum { N = 40 };
    const size_t sizes[3] = {2, 4, 3};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    float X[2 * N];
    int32_t y[N];
    mlp_network *net = make_net(2, sizes, acts, MLP_LOSS_SOFTMAX_CE, 10);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 0.01, 8, 10);
    recorder *rc = make_recorder(net, 10);
    mlp_progress pr;
    (void)state;

    make_blobs(X, y, N, 7);
    rc->stop_at_epoch = 3;
    assert_int_equal(mlp_trainer_set_callback(tr, record, rc), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_trainer_stop_reason(tr), 2);
    assert_int_equal(mlp_trainer_epochs_run(tr), 3);
    assert_int_equal(rc->calls, 3);
    assert_int_equal(rc->batch_calls, 0);
    assert_int_equal(mlp_trainer_history(tr, 3, &pr), MLP_OK);
    assert_int_equal(pr.epoch, 3);
    assert_int_equal(pr.epochs, 10);
    assert_int_equal(pr.batches, 5);
    assert_int_equal(pr.batch, 5);
    assert_int_equal(pr.step, 15);
    assert_int_equal(pr.epoch_end, 1);
    assert_true(pr.train_loss > 0 && isfinite(pr.objective));
    assert_true(pr.train_accuracy >= 0 && pr.train_accuracy <= 1);
    assert_true(params_equal(net, rc->snaps + 2 * rc->n_params));

    /* per batch, stopping in the middle of the first epoch */
    memset(rc->snaps, 0, rc->max_epochs * rc->n_params * sizeof(float));
    rc->calls = rc->batch_calls = 0;
    rc->last_elapsed = 0;
    rc->stop_at_epoch = 0;
    rc->stop_at_batch = 2;
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_CALLBACK_EVERY_BATCH, 1), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_trainer_stop_reason(tr), 2);
    assert_int_equal(rc->batch_calls, 2);
    assert_int_equal(rc->calls, 0);
    assert_int_equal(mlp_trainer_epochs_run(tr), 1);
    assert_int_equal(mlp_trainer_history(tr, 1, &pr), MLP_OK);
    assert_int_equal(pr.epoch_end, 0);
    assert_int_equal(pr.batch, 2);
    assert_int_equal(pr.step, 17);

    /* every batch, all the way: batches - 1 batch reports per epoch */
    rc->calls = rc->batch_calls = 0;
    rc->last_elapsed = 0;
    rc->stop_at_batch = 0;
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 2), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_trainer_stop_reason(tr), 0);
    assert_int_equal(rc->calls, 2);
    assert_int_equal(rc->batch_calls, 8);
    free_recorder(rc);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* ---- the validation fraction ------------------------------------------------ */

/* With one-hot inputs (row i is e_i) the weight W[0][i] gets a gradient only
 * from row i, so the rows held out are exactly those whose weight never
 * moves (Adam moves nothing with a zero gradient). */
static void test_validation_fraction(void **state)
{
    enum { N = 50 };
    const size_t sizes[2] = {N, 1};
    const mlp_activation acts[1] = {MLP_ACT_IDENTITY};
    float *X = calloc(N * N, sizeof(float)), y[N], w0[N], w1[N], Xh[N * N], yh[N];
    mlp_network *net = make_net(1, sizes, acts, MLP_LOSS_MSE, 11);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 0.01, 8, 3);
    size_t wo = mlp_weights_offset(net, 0), held = 0;
    unsigned char was_held[N];
    mlp_progress pr;
    double loss;
    test_rng r = {99};
    (void)state;

    assert_non_null(X);
    for (int i = 0; i < N; i++) {
        X[i * N + i] = 1.0f;
        y[i] = (float)rng_normal(&r);
    }
    memcpy(w0, mlp_params(net) + wo, sizeof w0);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_VALIDATION_FRACTION, 0.2), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_OK);
    memset(Xh, 0, sizeof Xh);
    for (int i = 0; i < N; i++) {
        was_held[i] = mlp_params(net)[wo + i] == w0[i];
        if (was_held[i]) {
            memcpy(Xh + held * N, X + i * N, N * sizeof(float));
            yh[held++] = y[i];
        }
    }
    assert_int_equal(held, 10); /* ceil(0.2 * 50) */
    assert_int_equal(mlp_trainer_history(tr, 3, &pr), MLP_OK);
    assert_int_equal(mlp_evaluate(net, Xh, held, yh, &loss, NULL), MLP_OK);
    assert_true(fabs(pr.val_loss - loss) <= 1e-6 * fabs(loss));
    assert_true(isnan(pr.val_accuracy)); /* mse */
    assert_int_equal(pr.batches, 5);     /* 40 training rows in batches of 8 */

    /* a second call holds out the same rows */
    memcpy(w1, mlp_params(net) + wo, sizeof w1);
    assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_OK);
    for (int i = 0; i < N; i++)
        assert_int_equal(mlp_params(net)[wo + i] == w1[i], was_held[i]);

    /* a validation set given: the fraction is ignored, every row trains */
    memcpy(w1, mlp_params(net) + wo, sizeof w1);
    assert_int_equal(mlp_train(tr, X, y, N, Xh, yh, held), MLP_OK);
    for (int i = 0; i < N; i++)
        assert_true(mlp_params(net)[wo + i] != w1[i]);
    free(X);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* ---- shuffling ------------------------------------------------------------- */

/* Batches of one one-hot row (row i is e_i) under SGD move only W[0][i]:
 * the callback after each batch reads which row it was. */
typedef struct order_log {
    mlp_network *net;
    float prev[32];
    size_t n, rows[4][32], count[4];
} order_log;

static int log_order(const mlp_progress *pr, void *user)
{
    order_log *lg = user;
    const float *W = mlp_params_const(lg->net) + mlp_weights_offset(lg->net, 0);
    size_t moved = 0, which = 0;
    for (size_t i = 0; i < lg->n; i++)
        if (W[i] != lg->prev[i]) {
            moved++;
            which = i;
        }
    assert_int_equal(moved, 1);
    assert_true(pr->epoch <= 4 && lg->count[pr->epoch - 1] < lg->n);
    lg->rows[pr->epoch - 1][lg->count[pr->epoch - 1]++] = which;
    memcpy(lg->prev, W, lg->n * sizeof(float));
    return 0;
}

static void test_shuffle_each_epoch(void **state)
{
    enum { N = 20 };
    const size_t sizes[2] = {N, 1};
    const mlp_activation acts[1] = {MLP_ACT_IDENTITY};
    float X[N * N], y[N];
    mlp_network *net = make_net(1, sizes, acts, MLP_LOSS_MSE, 15);
    mlp_trainer *tr = make_trainer(net, MLP_OPT_SGD, 0.1, 1, 3);
    order_log lg;
    (void)state;

    memset(X, 0, sizeof X);
    for (int i = 0; i < N; i++) {
        X[i * N + i] = 1.0f;
        y[i] = 1.0f + (float)i;
    }
    for (int shuffle = 1; shuffle >= 0; shuffle--) {
        memset(&lg, 0, sizeof lg);
        lg.net = net;
        lg.n = N;
        memcpy(lg.prev, mlp_params(net) + mlp_weights_offset(net, 0), N * sizeof(float));
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_SHUFFLE, shuffle), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_CALLBACK_EVERY_BATCH, 1), MLP_OK);
        assert_int_equal(mlp_trainer_set_callback(tr, log_order, &lg), MLP_OK);
        assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_OK);
        for (int e = 0; e < 3; e++) {
            unsigned char seen[N] = {0};
            size_t in_order = 0;
            /* N - 1 batch reports and the epoch-end report: every row */
            assert_int_equal(lg.count[e], N);
            for (size_t k = 0; k < N; k++) {
                assert_false(seen[lg.rows[e][k]]);
                seen[lg.rows[e][k]] = 1;
                in_order += lg.rows[e][k] == k;
            }
            if (shuffle)
                assert_true(in_order < N);
            else
                assert_int_equal(in_order, N);
        }
        if (shuffle) {
            assert_true(memcmp(lg.rows[0], lg.rows[1], sizeof lg.rows[0]) != 0);
            assert_true(memcmp(lg.rows[1], lg.rows[2], sizeof lg.rows[0]) != 0);
        }
    }
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* ---- determinism and resuming ------------------------------------------------ */

static mlp_network *blob_net(uint64_t seed)
{
    const size_t sizes[4] = {2, 12, 8, 3};
    const mlp_activation acts[3] = {MLP_ACT_RELU, MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_network *net = make_net(3, sizes, acts, MLP_LOSS_SOFTMAX_CE, seed);
    assert_int_equal(mlp_set_dropout(net, 1, 0.2f), MLP_OK);
    assert_int_equal(mlp_set_l2(net, 1e-3f), MLP_OK);
    return net;
}

static void train_blobs(mlp_network *net, size_t epochs, double val_fraction)
{
    enum { N = 120 };
    float X[2 * N];
    int32_t y[N];
    mlp_trainer *tr = make_trainer(net, MLP_OPT_ADAM, 0.01, 16, epochs);
    make_blobs(X, y, N, 8);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_VALIDATION_FRACTION, val_fraction), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_OK);
    mlp_trainer_destroy(tr);
}

static void assert_same_training_state(mlp_network *a, mlp_network *b)
{
    assert_int_equal(mlp_num_params(a), mlp_num_params(b));
    assert_memory_equal(mlp_params(a), mlp_params(b), mlp_num_params(a) * sizeof(float));
    assert_int_equal(a->steps, b->steps);
    assert_int_equal(a->epochs_trained, b->epochs_trained);
    assert_int_equal(a->opt_kind, b->opt_kind);
    assert_int_equal(a->opt_state_len, b->opt_state_len);
    assert_memory_equal(a->opt_state, b->opt_state, a->opt_state_len * sizeof(float));
}

static void test_determinism(void **state)
{
    mlp_network *a = blob_net(42), *b = blob_net(42), *c = blob_net(43);
    (void)state;
    train_blobs(a, 4, 0.25);
    train_blobs(b, 4, 0.25);
    train_blobs(c, 4, 0.25);
    assert_same_training_state(a, b);
    assert_true(memcmp(mlp_params(a), mlp_params(c), mlp_num_params(a) * sizeof(float)) != 0);
    mlp_destroy(a);
    mlp_destroy(b);
    mlp_destroy(c);
}

/* 2 epochs + 2 epochs == 4 epochs, bit for bit: the optimiser state, step
 * count and RNG live in the network, also across a clone. */
static void test_resume(void **state)
{
    mlp_network *four = blob_net(7), *two_two = blob_net(7), *half = blob_net(7), *cl = NULL;
    (void)state;
    train_blobs(four, 4, 0.0);
    train_blobs(two_two, 2, 0.0);
    train_blobs(two_two, 2, 0.0);
    assert_same_training_state(four, two_two);

    train_blobs(half, 2, 0.0);
    assert_int_equal(mlp_clone(half, &cl), MLP_OK);
    mlp_destroy(half);
    train_blobs(cl, 2, 0.0);
    assert_same_training_state(four, cl);
    assert_int_equal(four->epochs_trained, 4);
    mlp_destroy(cl);
    mlp_destroy(two_two);
    mlp_destroy(four);
}

/* ---- allocations ------------------------------------------------------------ */

static void test_steps_allocate_nothing(void **state)
{
    enum { N = 256 };
    const size_t sizes[4] = {2, 32, 32, 3};
    const mlp_activation acts[3] = {MLP_ACT_RELU, MLP_ACT_GELU, MLP_ACT_IDENTITY};
    float X[2 * N];
    int32_t y[N];
    mlp_network *net = make_net(3, sizes, acts, MLP_LOSS_SOFTMAX_CE, 12);
    mlp_trainer *tr;
    recorder *rc;
    (void)state;

    make_blobs(X, y, N, 9);
    assert_int_equal(mlp_set_dropout(net, 1, 0.3f), MLP_OK);
    for (int opt = 0; opt < MLP_OPT_COUNT_; opt++) {
        tr = make_trainer(net, (mlp_optimizer)opt, 1e-3, 32, 3);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_CLIP_NORM, 1.0), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_SCHEDULE, MLP_SCHED_COSINE), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_TOL, 0.0), MLP_OK); /* all 3 iterations */
        if (opt != MLP_OPT_LBFGS)
            assert_int_equal(mlp_trainer_step(tr, X, 32, y, NULL), MLP_OK);
        mlp__alloc_reset_count();
        for (int s = 0; s < 10 && opt != MLP_OPT_LBFGS; s++) /* L-BFGS: only in mlp_train */
            assert_int_equal(mlp_trainer_step(tr, X + 2 * 32 * (s % 8), 32, y + 32 * (s % 8), NULL),
                             MLP_OK);
        assert_int_equal(mlp__alloc_count(), 0);

        /* inside mlp_train: from the second batch to the end, validation
         * included, the count stays put */
        rc = make_recorder(net, 3);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_CALLBACK_EVERY_BATCH, 1), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_VALIDATION_FRACTION, 0.25), MLP_OK);
        assert_int_equal(mlp_trainer_set_callback(tr, record, rc), MLP_OK);
        assert_int_equal(mlp_train(tr, X, y, N, NULL, NULL, 0), MLP_OK);
        assert_true(rc->allocs_seen);
        assert_int_equal(rc->calls, 3);
        assert_int_equal(rc->allocs_last, rc->allocs_first);
        free_recorder(rc);
        mlp_trainer_destroy(tr);
    }
    mlp_destroy(net);
}

/* R7: failing the n-th allocation of create or train leaves nothing behind. */
static void test_out_of_memory(void **state)
{
    enum { N = 64 };
    const size_t sizes[3] = {2, 8, 3};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    float X[2 * N];
    int32_t y[N];
    mlp_network *net = make_net(2, sizes, acts, MLP_LOSS_SOFTMAX_CE, 13);
    mlp_trainer *tr = NULL;
    float *p0 = copy_params(net);
    long live;
    unsigned long n;
    mlp_status st;
    (void)state;

    make_blobs(X, y, N, 10);
    assert_int_equal(mlp_reserve(net, 128), MLP_OK);
    live = mlp__alloc_live();
    for (n = 1; n < 100; n++) {
        mlp__alloc_fail_at(n);
        st = mlp_trainer_create(net, &tr);
        mlp__alloc_fail_at(0);
        if (st == MLP_OK)
            break;
        assert_int_equal(st, MLP_ERR_NOMEM);
        assert_int_equal(mlp__alloc_live(), live);
        assert_int_equal(net->opt_kind, -1);
    }
    assert_int_equal(st, MLP_OK);
    /* a new optimiser's state that cannot be allocated: nothing changes */
    mlp__alloc_fail_at(1);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_RMSPROP), MLP_ERR_NOMEM);
    mlp__alloc_fail_at(0);
    assert_int_equal(net->opt_kind, MLP_OPT_ADAM);
    assert_int_equal(net->opt_state_len, 2 * mlp_num_params(net));
    {
        double v;
        assert_int_equal(mlp_trainer_get(tr, MLP_OPTION_OPTIMIZER, &v), MLP_OK);
        assert_true(v == MLP_OPT_ADAM);
    }
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, 16), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 2), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_PATIENCE, 1), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_VALIDATION_FRACTION, 0.25), MLP_OK);
    live = mlp__alloc_live();
    for (n = 1; n < 100; n++) {
        mlp__alloc_fail_at(n);
        st = mlp_train(tr, X, y, N, NULL, NULL, 0);
        mlp__alloc_fail_at(0);
        if (st == MLP_OK)
            break;
        assert_int_equal(st, MLP_ERR_NOMEM);
        assert_true(params_equal(net, p0));
        assert_int_equal(net->steps, 0);
        /* the history the trainer keeps is the only block that may stay */
        assert_in_range(mlp__alloc_live() - live, 0, 1);
    }
    assert_int_equal(st, MLP_OK);
    assert_false(params_equal(net, p0));
    mlp_trainer_destroy(tr);
    free(p0);
    mlp_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xor),
        cmocka_unit_test(test_blobs),
        cmocka_unit_test(test_overfit_20),
        cmocka_unit_test(test_early_stopping_restores_best),
        cmocka_unit_test(test_early_stopping_on_training_loss),
        cmocka_unit_test(test_dropout_train_only),
        cmocka_unit_test(test_divergence),
        cmocka_unit_test(test_divergence_in_last_step),
        cmocka_unit_test(test_nonfinite_rejected),
        cmocka_unit_test(test_callback_stop),
        cmocka_unit_test(test_validation_fraction),
        cmocka_unit_test(test_shuffle_each_epoch),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_steps_allocate_nothing),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
