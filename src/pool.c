/* A fork-join pool for the element-wise passes between BLAS calls.
 *
 * The caller takes part 0 of every job and the helpers the rest, so a pool
 * of t threads never runs more than t threads of ours; while the caller is
 * inside BLAS the helpers are asleep (after a spin of a few microseconds,
 * which covers the gap between two element-wise passes without a kernel
 * round trip). A job is published by bumping `gen`; a helper that sees a
 * new generation runs its part and decrements `pending`. */
#include "pool.h"

#include <pthread.h>
#include <sched.h>

/* Spins before sleeping: tens of microseconds, enough to bridge two
 * element-wise passes, well below a BLAS product at the sizes that split. */
#define SPIN_ROUNDS 1000

struct mlp__pool {
    int threads;
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    /* the job: written by the caller before gen's release store */
    mlp__range_fn fn;
    void *ctx;
    size_t n, grain;
    unsigned gen;     /* atomic: the job's generation */
    int pending;      /* atomic: helpers yet to finish the job */
    int quit;         /* under mu */
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Part k of `parts` of [0, n), boundaries on multiples of grain. */
static void part_range(size_t n, size_t grain, int k, int parts, size_t *b, size_t *e)
{
    size_t units = (n + grain - 1) / grain;
    *b = units * (size_t)k / (size_t)parts * grain;
    *e = units * (size_t)(k + 1) / (size_t)parts * grain;
    if (*b > n) *b = n;
    if (*e > n) *e = n;
}

/* Waits for a generation other than `seen`; 0 when asked to quit. */
static int await_job(mlp__pool *p, unsigned seen)
{
    int quit;
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (__atomic_load_n(&p->gen, __ATOMIC_ACQUIRE) != seen) return 1;
        cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    while (__atomic_load_n(&p->gen, __ATOMIC_ACQUIRE) == seen && !p->quit)
        pthread_cond_wait(&p->wake, &p->mu);
    quit = p->quit;
    pthread_mutex_unlock(&p->mu);
    return !quit;
}

typedef struct helper_arg {
    mlp__pool *pool;
    int index;
} helper_arg;

static void *helper(void *arg)
{
    mlp__pool *p = ((helper_arg *)arg)->pool;
    const int k = ((helper_arg *)arg)->index;
    unsigned seen = 0;
    mlp__free(arg);
    while (await_job(p, seen)) {
        size_t b, e;
        seen = __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE);
        part_range(p->n, p->grain, k, p->threads, &b, &e);
        if (b < e) p->fn(p->ctx, b, e);
        __atomic_sub_fetch(&p->pending, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* Asks the helpers to leave and joins the first `started` of them. */
static void stop_helpers(mlp__pool *p, int started)
{
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < started; i++) pthread_join(p->tids[i], NULL);
}

static int start_helpers(mlp__pool *p)
{
    int i;
    for (i = 0; i < p->threads - 1; i++) {
        helper_arg *a = mlp__malloc(sizeof *a);
        if (!a) break;
        a->pool = p;
        a->index = i + 1;
        if (pthread_create(&p->tids[i], NULL, helper, a) != 0) {
            mlp__free(a);
            break;
        }
    }
    if (i == p->threads - 1) return 1;
    stop_helpers(p, i);
    return 0;
}

mlp_status mlp__pool_create(int threads, mlp__pool **out)
{
    mlp__pool *p;
    assert(threads >= 2);
    p = mlp__calloc(1, sizeof *p);
    if (!p || !(p->tids = mlp__calloc((size_t)threads - 1, sizeof *p->tids))) {
        mlp__free(p);
        return mlp__fail(MLP_ERR_NOMEM, "thread pool of %d", threads);
    }
    p->threads = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (!start_helpers(p)) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->mu);
        mlp__free(p->tids);
        mlp__free(p);
        return mlp__fail(MLP_ERR_NOMEM, "thread pool: cannot start %d threads", threads - 1);
    }
    *out = p;
    return MLP_OK;
}

void mlp__pool_destroy(mlp__pool *p)
{
    if (!p) return;
    stop_helpers(p, p->threads - 1);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    mlp__free(p->tids);
    mlp__free(p);
}

int mlp__pool_threads(const mlp__pool *p) { return p ? p->threads : 1; }

#ifdef MLP_TESTING
/* A cap on the pool below BLAS's thread count, so that tests can compare
 * the split element-wise work against the unsplit one under the same
 * BLAS (whose products round differently at another thread count). */
static int test_cap;
void mlp__pool_test_cap(int threads) { test_cap = threads; }
#endif

int mlp__pool_threads_wanted(void)
{
    int threads = mlp_get_num_threads();
#ifdef MLP_TESTING
    if (test_cap > 0 && threads > test_cap) threads = test_cap;
#endif
    return threads;
}

void mlp__pool_for(mlp__pool *p, mlp__range_fn fn, void *ctx, size_t n, size_t grain,
                   size_t min_n)
{
    size_t b, e;
    if (!p || n < min_n || n <= grain) {
        if (n > 0) fn(ctx, 0, n);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->grain = grain;
    __atomic_store_n(&p->pending, p->threads - 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&p->mu);
    __atomic_add_fetch(&p->gen, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    part_range(n, grain, 0, p->threads, &b, &e);
    if (b < e) fn(ctx, b, e);
    /* a helper descheduled by another process is waited for politely */
    for (int i = 0; __atomic_load_n(&p->pending, __ATOMIC_ACQUIRE) != 0; i++) {
        if (i > SPIN_ROUNDS) sched_yield();
        else cpu_relax();
    }
}
