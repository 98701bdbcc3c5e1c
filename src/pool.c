/* A fork-join pool for the element-wise passes between BLAS calls.
 *
 * A job is cut into a fixed number of chunks, and whoever runs claims
 * the next one. The team that claims them is OpenBLAS's own: its workers
 * spin between products, and take the job through blas_team.c, so that
 * exactly BLAS's threads are busy and none shares its core with a
 * spinning one. Where OpenBLAS cannot take it, the pool starts helpers of
 * its own: the caller and each helper that is awake claim chunks. A helper
 * the scheduler has not run yet then costs nothing: the caller does its
 * chunks, and waits only for chunks already begun. Which thread runs a
 * chunk never changes what it computes. While the caller is in BLAS the
 * helpers sleep (after a spin of some microseconds, which bridges two
 * element-wise passes without a kernel round trip), so ours and BLAS's
 * threads together never exceed the thread setting.
 *
 * `claim` packs the job's id (bits 40-63), its number of chunks (32-39)
 * and its next chunk (0-31): a claim is a compare-and-swap on it, so a
 * helper that read an old job's state can never claim a chunk of the
 * next one, and a job's fields cannot change while a chunk of it runs. */
#include "pool.h"
#include "blas_team.h"
#include "fpmode.h"

#include <pthread.h>
#include <sched.h>

/* Spins before sleeping: tens of microseconds, enough to bridge two
 * element-wise passes, well below a BLAS product at the sizes that split. */
#define SPIN_ROUNDS 1000
/* Chunks per thread: enough for one thread to take over another's share. */
#define CHUNKS_PER_THREAD 4
#define MAX_CHUNKS 255

struct mlp__pool {
    int threads;
    int own;          /* 1: helpers of its own; 0: OpenBLAS's workers */
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    /* the job, stored (relaxed) before claim's release store */
    mlp__range_fn fn;
    void *ctx;
    size_t n, grain;
    uint64_t claim;   /* atomic: job id, chunks, next chunk */
    size_t done;      /* atomic: chunks finished */
    int quit;         /* under mu */
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Chunk k of `chunks` of [0, n), boundaries on multiples of grain. */
static void part_range(size_t n, size_t grain, size_t k, size_t chunks, size_t *b, size_t *e)
{
    size_t units = (n + grain - 1) / grain;
    *b = units * k / chunks * grain;
    *e = units * (k + 1) / chunks * grain;
    if (*b > n) *b = n;
    if (*e > n) *e = n;
}

static uint32_t job_id(uint64_t claim) { return (uint32_t)(claim >> 40); }
static size_t job_chunks(uint64_t claim) { return (size_t)((claim >> 32) & 0xff); }

/* Runs chunks of the current job until none is left. */
static void run_chunks(mlp__pool *p)
{
    for (;;) {
        uint64_t v = __atomic_load_n(&p->claim, __ATOMIC_ACQUIRE);
        size_t chunks = job_chunks(v), b, e;
        mlp__range_fn fn;
        void *ctx;
        if ((uint32_t)v >= chunks) return;
        if (!__atomic_compare_exchange_n(&p->claim, &v, v + 1, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        /* the job cannot end before this chunk is done: its fields hold */
        fn = __atomic_load_n(&p->fn, __ATOMIC_RELAXED);
        ctx = __atomic_load_n(&p->ctx, __ATOMIC_RELAXED);
        part_range(__atomic_load_n(&p->n, __ATOMIC_RELAXED),
                   __atomic_load_n(&p->grain, __ATOMIC_RELAXED), (uint32_t)v, chunks, &b, &e);
        if (b < e) fn(ctx, b, e);
        __atomic_add_fetch(&p->done, 1, __ATOMIC_RELEASE);
    }
}

static void run_chunks_fn(void *p) { run_chunks(p); }

/* Waits for a job other than `seen`; 0 when asked to quit. */
static int await_job(mlp__pool *p, uint32_t seen)
{
    int quit;
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (job_id(__atomic_load_n(&p->claim, __ATOMIC_ACQUIRE)) != seen) return 1;
        cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    while (job_id(__atomic_load_n(&p->claim, __ATOMIC_ACQUIRE)) == seen && !p->quit)
        pthread_cond_wait(&p->wake, &p->mu);
    quit = p->quit;
    pthread_mutex_unlock(&p->mu);
    return !quit;
}


static void *helper(void *arg)
{
    mlp__pool *p = arg;
    uint32_t seen = 0;
    mlp__flush_subnormals(); /* a helper runs the library's passes only */
    while (await_job(p, seen)) {
        seen = job_id(__atomic_load_n(&p->claim, __ATOMIC_ACQUIRE));
        run_chunks(p);
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
    for (i = 0; i < p->threads - 1; i++)
        if (pthread_create(&p->tids[i], NULL, helper, p) != 0) break;
    if (i == p->threads - 1) return 1;
    stop_helpers(p, i);
    return 0;
}

#ifdef MLP_TESTING
static int test_own;
void mlp__pool_test_own(int own) { test_own = own; }
#endif

/* Whether a new pool leaves its work to OpenBLAS's workers. */
static int use_blas_team(void)
{
#ifdef MLP_TESTING
    if (test_own) return 0;
#endif
    return mlp__blas_team_size() > 0;
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
    p->own = !use_blas_team();
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (p->own && !start_helpers(p)) {
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
    stop_helpers(p, p->own ? p->threads - 1 : 0);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    mlp__free(p->tids);
    mlp__free(p);
}

int mlp__pool_threads(const mlp__pool *p) { return p ? p->threads : 1; }

int mlp__pool_on_blas_team(const mlp__pool *p) { return p && !p->own; }

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

/* The job on OpenBLAS's workers, as many as both it and the pool have
 * now (the caller runs whatever they leave). */
static void run_on_team(mlp__pool *p)
{
    int team = mlp__blas_team_size();
    if (team > p->threads) team = p->threads;
    if (team >= 2) mlp__blas_team_run(team, run_chunks_fn, p);
}

void mlp__pool_for(mlp__pool *p, mlp__range_fn fn, void *ctx, size_t n, size_t grain,
                   size_t min_n)
{
    size_t units = grain ? (n + grain - 1) / grain : n, chunks;
    uint32_t id;
    if (!p || n < min_n || units < 2) {
        if (n > 0) fn(ctx, 0, n);
        return;
    }
    chunks = (size_t)p->threads * CHUNKS_PER_THREAD;
    if (chunks > units) chunks = units;
    if (chunks > MAX_CHUNKS) chunks = MAX_CHUNKS;
    __atomic_store_n(&p->fn, fn, __ATOMIC_RELAXED);
    __atomic_store_n(&p->ctx, ctx, __ATOMIC_RELAXED);
    __atomic_store_n(&p->n, n, __ATOMIC_RELAXED);
    __atomic_store_n(&p->grain, grain, __ATOMIC_RELAXED);
    __atomic_store_n(&p->done, 0, __ATOMIC_RELAXED);
    id = (job_id(__atomic_load_n(&p->claim, __ATOMIC_RELAXED)) + 1u) & 0xffffffu;
    if (p->own) pthread_mutex_lock(&p->mu);
    __atomic_store_n(&p->claim, (uint64_t)id << 40 | (uint64_t)chunks << 32, __ATOMIC_RELEASE);
    if (p->own) {
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    } else {
        run_on_team(p);
    }
    run_chunks(p);
    /* only chunks a helper has begun are waited for */
    for (int i = 0; __atomic_load_n(&p->done, __ATOMIC_ACQUIRE) != chunks; i++) {
        if (i > SPIN_ROUNDS) sched_yield();
        else cpu_relax();
    }
}
