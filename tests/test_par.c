/* The element-wise work split across the trainer's pool: a training run
 * with dropout, Adam or AdamW and l2 gives the same bits with the work on
 * 1 and on 2 threads, on OpenBLAS's workers and on the pool's own helpers
 * (BLAS at 2 threads in all: OpenBLAS's products themselves round
 * differently at another thread count), the pool exists only when BLAS
 * uses more than one thread, its parts cover each element exactly once
 * with either team, and OpenBLAS's team runs a job once on each thread. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blas_team.h"
#include "checks.h"
#include "network.h"
#include "par.h"
#include "pool.h"

enum { N = 512, D = 128, C = 10 };

static float g_X[N * D];
static int32_t g_y[N];

static void make_data(void)
{
    uint64_t s = 11;
    for (size_t i = 0; i < N * D; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        g_X[i] = (float)((s >> 40) & 0xffff) / 65536.0f - 0.5f;
    }
    for (size_t i = 0; i < N; i++) g_y[i] = (int32_t)((i * 7 + (size_t)(g_X[i * D] > 0)) % C);
}

typedef struct seen {
    int threads;
    mlp_network *net;
} seen;

/* The pool's size as the callback sees it during training. */
static int seen_threads(const mlp_progress *pr, void *user)
{
    seen *s = user;
    (void)pr;
    s->threads = mlp__pool_threads(s->net->pool);
    return 0;
}

static int g_profile; /* train_at profiles when set, into g_seconds */
static double g_seconds[MLP_PROFILE_COUNT_];

/* Trains a fresh network at `threads` BLAS threads with the pool capped
 * at `cap` threads (0: none); the caller frees it. */
static mlp_network *train_at(int threads, int cap, mlp_optimizer opt, int *pool_threads)
{
    static const size_t sizes[] = {D, 384, 256, C};
    static const mlp_activation acts[] = {MLP_ACT_RELU, MLP_ACT_GELU, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    mlp_trainer *tr = NULL;
    seen s = {0, NULL};
    mlp_set_num_threads(threads);
    mlp__pool_test_cap(cap);
    assert_int_equal(mlp_get_num_threads(), threads);
    assert_int_equal(mlp_create(&net, 3, sizes, acts, 42), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_set_l2(net, 1e-3f), MLP_OK);
    assert_int_equal(mlp_set_dropout(net, 1, 0.3f), MLP_OK);
    assert_int_equal(mlp_set_dropout(net, 2, 0.2f), MLP_OK);
    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, opt), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, 128), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 2), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, 1e-3), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_VALIDATION_FRACTION, 0.1), MLP_OK);
    s.net = net;
    assert_int_equal(mlp_trainer_set_callback(tr, seen_threads, &s), MLP_OK);
    assert_int_equal(mlp_trainer_set_profile(tr, g_profile), MLP_OK);
    assert_int_equal(mlp_train(tr, g_X, g_y, N, NULL, NULL, 0), MLP_OK);
    assert_null(net->pool); /* lent for the training call only */
    assert_null(net->prof);
    assert_int_equal(mlp_trainer_profile(tr, g_seconds, MLP_PROFILE_COUNT_), MLP_PROFILE_COUNT_);
    *pool_threads = s.threads;
    mlp_trainer_destroy(tr);
    return net;
}

static void same_bits(mlp_optimizer opt)
{
    int p1 = -1, p2 = -1, p0 = -1;
    int p3 = -1;
    mlp_network *a, *b, *c, *d;
    make_data();
    a = train_at(2, 1, opt, &p1);
    b = train_at(2, 0, opt, &p2);
    c = train_at(1, 0, opt, &p0);
    mlp__pool_test_own(1);
    d = train_at(2, 0, opt, &p3);
    mlp__pool_test_own(0);
    mlp__pool_test_cap(0);
    assert_int_equal(p1, 1);
    assert_int_equal(p2, 2);
    assert_int_equal(p3, 2);
    assert_int_equal(p0, 1); /* one BLAS thread: no pool, no helper thread */
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
    assert_memory_equal(a->opt_state, b->opt_state, a->opt_state_len * sizeof(float));
    assert_memory_equal(a->params, d->params, a->n_params * sizeof(float));
    assert_memory_equal(a->opt_state, d->opt_state, a->opt_state_len * sizeof(float));
    mlp_destroy(a);
    mlp_destroy(b);
    mlp_destroy(c);
    mlp_destroy(d);
}

static void adam_two_threads(void **state) { (void)state; same_bits(MLP_OPT_ADAM); }
static void adamw_two_threads(void **state) { (void)state; same_bits(MLP_OPT_ADAMW); }
static void sgd_two_threads(void **state) { (void)state; same_bits(MLP_OPT_SGD); }

/* Profiling changes no result; every part the run has takes time, and the
 * parts add up to the total. */
static void profile_split(void **state)
{
    int p1, p2;
    mlp_network *a, *b;
    double named = 0.0;
    (void)state;
    make_data();
    a = train_at(2, 0, MLP_OPT_ADAMW, &p1);
    g_profile = 1;
    b = train_at(2, 0, MLP_OPT_ADAMW, &p2);
    g_profile = 0;
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
    for (int i = 0; i < MLP_PROFILE_COUNT_; i++) {
        assert_non_null(mlp_profile_part_name((mlp_profile_part)i));
        assert_true(g_seconds[i] >= 0.0);
        if (i == MLP_PROFILE_COMMUNICATION) /* one process: no reducer */
            assert_true(g_seconds[i] == 0.0);
        else if (i != MLP_PROFILE_OTHER && i != MLP_PROFILE_TOTAL) {
            assert_true(g_seconds[i] > 0.0);
            named += g_seconds[i];
        }
    }
    assert_null(mlp_profile_part_name(MLP_PROFILE_COUNT_));
    assert_true(named <= g_seconds[MLP_PROFILE_TOTAL]);
    assert_true(fabs(named + g_seconds[MLP_PROFILE_OTHER] - g_seconds[MLP_PROFILE_TOTAL]) <=
                1e-9 * g_seconds[MLP_PROFILE_TOTAL] + 1e-12);
    assert_int_equal(mlp_trainer_profile(NULL, g_seconds, 3), 0);
    mlp_destroy(a);
    mlp_destroy(b);
}

static void mark(void *ctx, size_t b, size_t e)
{
    unsigned char *hits = ctx;
    for (size_t i = b; i < e; i++) __atomic_add_fetch(&hits[i], 1, __ATOMIC_RELAXED);
}

/* Every element once, on any size around the grain and the threshold,
 * with the pool's own helpers (own) or OpenBLAS's workers. */
static void parts_cover_with(int own)
{
    static unsigned char hits[5000];
    mlp__pool *pool = NULL;
    mlp_set_num_threads(2);
    mlp__pool_test_own(own);
    assert_int_equal(mlp__pool_create(3, &pool), MLP_OK);
    mlp__pool_test_own(0);
    assert_int_equal(mlp__pool_threads(pool), 3);
    for (size_t n = 0; n < sizeof hits; n += 97) {
        for (int rep = 0; rep < 3; rep++) {
            memset(hits, 0, sizeof hits);
            mlp__pool_for(pool, mark, hits, n, rep == 0 ? 1 : 16, rep == 2 ? 1000 : 1);
            for (size_t i = 0; i < sizeof hits; i++) assert_int_equal(hits[i], i < n ? 1 : 0);
        }
    }
    mlp__pool_destroy(pool);
    mlp__pool_destroy(NULL);
}

static void parts_cover_own(void **state) { (void)state; parts_cover_with(1); }
static void parts_cover_team(void **state) { (void)state; parts_cover_with(0); }

/* The split max of |x| equals the serial one on sizes around the
 * threshold, with either team, wherever the largest element lies, and is
 * infinite once any element is not finite (the fused SGD step's overflow
 * bound rests on both). */
static void max_abs_with(int own)
{
    static float x[70000];
    static const size_t sizes[] = {1, 37, 4095, 4096, 9838, 29521, 70000};
    mlp__pool *pool = NULL;
    uint64_t s = 5;
    mlp_set_num_threads(2);
    mlp__pool_test_own(own);
    assert_int_equal(mlp__pool_create(2, &pool), MLP_OK);
    mlp__pool_test_own(0);
    mlp__par_test_min(1024); /* split from 4096 elements */
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = ((float)(s >> 40) / 16777216.0f - 0.5f) * 8.0f;
    }
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const size_t n = sizes[k], at[3] = {0, n / 2, n - 1};
        const float planted[3] = {-100.0f, 100.0f, -INFINITY}, odd[2] = {NAN, INFINITY};
        for (int p = 0; p < 3; p++) {
            float keep = x[at[p]];
            x[at[p]] = planted[p];
            assert_true(mlp__par_max_abs(pool, x, n) == fabsf(planted[p]));
            assert_true(mlp__par_max_abs(pool, x, n) == mlp__max_abs(x, n));
            x[at[p]] = odd[p % 2];
            assert_true(mlp__par_max_abs(pool, x, n) == INFINITY);
            x[at[p]] = keep;
        }
    }
    mlp__par_test_min(16384);
    mlp__pool_destroy(pool);
}

static void max_abs_own(void **state) { (void)state; max_abs_with(1); }
static void max_abs_team(void **state) { (void)state; max_abs_with(0); }

typedef struct team_seen {
    int calls;        /* atomic */
    const void *who[4]; /* atomic stores: each caller's thread_tag() */
} team_seen;

/* An address of its own on every thread. */
static const void *thread_tag(void)
{
    static _Thread_local char tag;
    return &tag;
}

static void note_thread(void *arg)
{
    team_seen *t = arg;
    int k = __atomic_fetch_add(&t->calls, 1, __ATOMIC_RELAXED);
    if (k < 4) __atomic_store_n(&t->who[k], thread_tag(), __ATOMIC_RELAXED);
}

/* OpenBLAS's team runs a job once on each of its threads, the caller's
 * one of them (skipped where its workers cannot take work). */
static void team_runs_each_thread(void **state)
{
    team_seen t = {0};
    const void *w0, *w1;
    (void)state;
    mlp_set_num_threads(2);
    if (mlp__blas_team_size() == 0) skip();
    assert_int_equal(mlp__blas_team_size(), 2);
    for (int rep = 0; rep < 100; rep++) {
        memset(&t, 0, sizeof t);
        mlp__blas_team_run(2, note_thread, &t);
        assert_int_equal(__atomic_load_n(&t.calls, __ATOMIC_RELAXED), 2);
        w0 = __atomic_load_n(&t.who[0], __ATOMIC_RELAXED);
        w1 = __atomic_load_n(&t.who[1], __ATOMIC_RELAXED);
        assert_ptr_not_equal(w0, w1);
        assert_true(w0 == thread_tag() || w1 == thread_tag());
    }
}

int main(void)
{
    /* Split passes from 16384 elements with either team (the library
     * splits from there only on OpenBLAS's workers), so that this small
     * network's passes are split on the pool's own helpers too. */
    mlp__par_test_min(16384);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parts_cover_own),
        cmocka_unit_test(parts_cover_team),
        cmocka_unit_test(team_runs_each_thread),
        cmocka_unit_test(max_abs_own),
        cmocka_unit_test(max_abs_team),
        cmocka_unit_test(adam_two_threads),
        cmocka_unit_test(adamw_two_threads),
        cmocka_unit_test(sgd_two_threads),
        cmocka_unit_test(profile_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
