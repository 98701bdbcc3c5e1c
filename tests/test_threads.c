/* R13: threads. 16 threads x 32 rounds of inference on one shared const
 * network, each through its own mlp_workspace, equal bit for bit to the
 * single-thread result; threads training private networks with plain
 * gradient steps, equal bit for bit to a single-thread run; and
 * mlp_last_error() kept per thread. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"

enum { THREADS = 16, ROUNDS = 32, N = 40, D = 32, H = 48, C = 10, WS_ROWS = 16 };

static float g_X[N * D];
static float g_ref[N * C];  /* single-thread result, full batch */
static float g_ref1[N * C]; /* single-thread result, one row at a time */

typedef struct infer_job {
    const mlp_network *net;
    int mismatches;
    int failures;
} infer_job;

static void *infer_thread(void *arg)
{
    infer_job *job = arg;
    mlp_workspace *ws = NULL;
    float Y[N * C];
    if (mlp_workspace_create(job->net, WS_ROWS, &ws) != MLP_OK) {
        job->failures++;
        return NULL;
    }
    for (int round = 0; round < ROUNDS; round++) {
        if (round % 4 == 3) { /* some rounds one row at a time (sgemv) */
            for (int r = 0; r < N; r++)
                if (mlp_forward_ws(job->net, ws, g_X + r * D, 1, Y + r * C) != MLP_OK) job->failures++;
            job->mismatches += memcmp(Y, g_ref1, sizeof Y) != 0;
        } else {
            if (mlp_forward_ws(job->net, ws, g_X, N, Y) != MLP_OK) job->failures++;
            job->mismatches += memcmp(Y, g_ref, sizeof Y) != 0;
        }
    }
    mlp_workspace_destroy(ws);
    return NULL;
}

static void fill_inputs(void)
{
    uint64_t s = 77;
    for (int i = 0; i < N * D; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        g_X[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 4.0 - 2.0);
    }
}

static void test_shared_inference(void **state)
{
    (void)state;
    size_t sizes[4] = {D, H, H, C};
    mlp_activation acts[3] = {MLP_ACT_RELU, MLP_ACT_GELU, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    mlp_workspace *ws = NULL;
    fill_inputs();
    assert_int_equal(mlp_create(&net, 3, sizes, acts, 5), MLP_OK);
    float off[D], sc[D];
    for (int j = 0; j < D; j++) off[j] = 0.1f * (float)j, sc[j] = 1.0f + 0.01f * (float)j;
    assert_int_equal(mlp_set_input_scaling(net, off, sc), MLP_OK);

    assert_int_equal(mlp_workspace_create(net, WS_ROWS, &ws), MLP_OK);
    assert_int_equal(mlp_forward_ws(net, ws, g_X, N, g_ref), MLP_OK);
    for (int r = 0; r < N; r++)
        assert_int_equal(mlp_forward_ws(net, ws, g_X + r * D, 1, g_ref1 + r * C), MLP_OK);
    mlp_workspace_destroy(ws);

    pthread_t th[THREADS];
    infer_job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t].net = net;
        jobs[t].mismatches = jobs[t].failures = 0;
        assert_int_equal(pthread_create(&th[t], NULL, infer_thread, &jobs[t]), 0);
    }
    int mism = 0, fails = 0;
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        mism += jobs[t].mismatches;
        fails += jobs[t].failures;
    }
    printf("shared inference: %d threads x %d rounds, %d mismatches, %d failed calls\n", THREADS,
           ROUNDS, mism, fails);
    assert_int_equal(fails, 0);
    assert_int_equal(mism, 0);
    mlp_destroy(net);
}

/* ---- private training ---- */

enum { TRAIN_THREADS = 8, SEEDS = 4, STEPS = 60, TB = 24 };

static float g_T[TB * C];
static float *g_trained[SEEDS]; /* single-thread parameters per seed */
static size_t g_np;

/* Creates a network from seed and takes STEPS plain gradient steps. */
static int train_private(uint64_t seed, float *out)
{
    size_t sizes[3] = {D, H, C};
    mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    int bad = 0;
    if (mlp_create(&net, 2, sizes, acts, seed) != MLP_OK) return 1;
    bad |= mlp_set_l2(net, 1e-3f) != MLP_OK;
    for (int s = 0; s < STEPS && !bad; s++) {
        bad |= mlp_loss_grad(net, g_X + (size_t)(s % 2) * 8 * D, TB, g_T, NULL) != MLP_OK;
        float *p = mlp_params(net);
        const float *g = mlp_grads(net);
        for (size_t i = 0; i < mlp_num_params(net); i++) p[i] -= 0.05f * g[i];
    }
    memcpy(out, mlp_params(net), mlp_num_params(net) * sizeof(float));
    mlp_destroy(net);
    return bad;
}

typedef struct train_job {
    uint64_t seed;
    float *params;
    int failed;
} train_job;

static void *train_thread(void *arg)
{
    train_job *job = arg;
    job->failed = train_private(job->seed, job->params);
    return NULL;
}

static void test_private_training(void **state)
{
    (void)state;
    size_t sizes[3] = {D, H, C};
    mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_network *probe = NULL;
    fill_inputs();
    for (int i = 0; i < TB * C; i++) g_T[i] = (float)((i * 37) % 11) / 10.0f;
    assert_int_equal(mlp_create(&probe, 2, sizes, acts, 0), MLP_OK);
    g_np = mlp_num_params(probe);
    mlp_destroy(probe);
    for (int s = 0; s < SEEDS; s++) {
        g_trained[s] = malloc(g_np * sizeof(float));
        assert_non_null(g_trained[s]);
        assert_int_equal(train_private((uint64_t)s + 1, g_trained[s]), 0);
    }
    /* Different seeds really give different networks. */
    assert_memory_not_equal(g_trained[0], g_trained[1], g_np * sizeof(float));

    pthread_t th[TRAIN_THREADS];
    train_job jobs[TRAIN_THREADS];
    for (int t = 0; t < TRAIN_THREADS; t++) {
        jobs[t].seed = (uint64_t)(t % SEEDS) + 1;
        jobs[t].params = malloc(g_np * sizeof(float));
        jobs[t].failed = 0;
        assert_non_null(jobs[t].params);
        assert_int_equal(pthread_create(&th[t], NULL, train_thread, &jobs[t]), 0);
    }
    int mism = 0;
    for (int t = 0; t < TRAIN_THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(jobs[t].failed, 0);
        mism += memcmp(jobs[t].params, g_trained[t % SEEDS], g_np * sizeof(float)) != 0;
        free(jobs[t].params);
    }
    printf("private training: %d threads x %d steps, %d differ from the single-thread run\n",
           TRAIN_THREADS, STEPS, mism);
    assert_int_equal(mism, 0);
    for (int s = 0; s < SEEDS; s++) free(g_trained[s]);
}

/* ---- mlp_last_error is per thread ---- */

static pthread_barrier_t g_barrier;

typedef struct err_job {
    int id;
    int ok;
} err_job;

static void *error_thread(void *arg)
{
    err_job *job = arg;
    char name[32], want[64];
    mlp_activation a;
    snprintf(name, sizeof name, "bogus_%d", job->id);
    snprintf(want, sizeof want, "\"%s\"", name);
    mlp_status st = mlp_activation_parse(name, &a);
    pthread_barrier_wait(&g_barrier); /* every thread has failed by now */
    job->ok = st == MLP_ERR_ACTIVATION && strstr(mlp_last_error(), want) != NULL;
    return NULL;
}

static void test_last_error_per_thread(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    err_job jobs[THREADS];
    assert_int_equal(pthread_barrier_init(&g_barrier, NULL, THREADS), 0);
    for (int t = 0; t < THREADS; t++) {
        jobs[t].id = t;
        jobs[t].ok = 0;
        assert_int_equal(pthread_create(&th[t], NULL, error_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_true(jobs[t].ok);
    }
    pthread_barrier_destroy(&g_barrier);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_inference),
        cmocka_unit_test(test_private_training),
        cmocka_unit_test(test_last_error_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
