/* The element-wise passes on OpenBLAS's own threads (blas_team.h).
 *
 * Between two products OpenBLAS's pthread workers spin, calling
 * sched_yield, for up to 2^28 cycles before they sleep. A helper thread of
 * our own that runs a pass meanwhile shares its core with such a worker,
 * and every yield is a trip through the scheduler taken from the pass: on
 * two cores the passes ran at half the speed they reach alone. Handing the
 * pass to the spinning workers themselves removes the contention, keeps
 * exactly BLAS's threads busy, and leaves them hot for the next product.
 *
 * The door is blas_level1_thread, the function OpenBLAS's threaded level-1
 * routines split their work through: exported by every pthread build, but
 * not declared in cblas.h. It is referenced weakly (a BLAS without it
 * leaves it NULL), and a probe checks once that its calling convention is
 * the one below (0.3.x: mode 2 is real single precision, whose routines
 * take (m, n, k, float alpha, a, lda, b, ldb, c, ldc, sb), and each part
 * gets the `a` it was given when lda is 0) before anything relies on it.
 * Until the probe passed, and when it failed, the pool uses its own
 * helpers. */
#include "blas_team.h"
#include "fpmode.h"

typedef long blas_long;
typedef int (*level1_fn)(void);

extern int blas_level1_thread(int mode, blas_long m, blas_long n, blas_long k, void *alpha,
                              void *a, blas_long lda, void *b, blas_long ldb, void *c,
                              blas_long ldc, level1_fn function, int nthreads)
    __attribute__((weak));

#define MODE_SINGLE_REAL 2
#define PROBE_MAGIC 0x6d6c7030L

typedef struct team_job {
    void (*fn)(void *);
    void *arg;
} team_job;

typedef struct probe {
    blas_long seen; /* atomic: parts that arrived with the right arguments */
} probe;

static int probe_part(blas_long m, blas_long n, blas_long k, float alpha, void *a, blas_long lda,
                      void *b, blas_long ldb, void *c, blas_long ldc, void *sb)
{
    probe *pr = a;
    if (m == 1 && n == PROBE_MAGIC && k == 7 && alpha == 0.5f && lda == 0 && ldc == 0)
        __atomic_add_fetch(&pr->seen, 1, __ATOMIC_RELAXED);
    return 0;
}

static int run_part(blas_long m, blas_long n, blas_long k, float alpha, void *a, blas_long lda,
                    void *b, blas_long ldb, void *c, blas_long ldc, void *sb)
{
    const team_job *job = a;
    /* OpenBLAS hands its workers the caller's mode where it was built to
     * (CONSISTENT_FPCSR); set it here too, and give the worker its own back */
    mlp__fpmode saved = mlp__flush_subnormals();
    job->fn(job->arg);
    mlp__fpmode_restore(saved);
    return 0;
}

/* 1: the probe passed; -1: it failed; 0: not yet run. */
static int state;

/* Runs the probe on two threads: both parts must see their arguments. */
static int probe_once(void)
{
    probe pr = {0};
    float half = 0.5f;
    blas_level1_thread(MODE_SINGLE_REAL, 2, PROBE_MAGIC, 7, &half, &pr, 0, NULL, 0, NULL, 0,
                       (level1_fn)(void (*)(void))probe_part, 2);
    return __atomic_load_n(&pr.seen, __ATOMIC_RELAXED) == 2 ? 1 : -1;
}

int mlp__blas_team_size(void)
{
    int threads, s;
#if defined(__SANITIZE_THREAD__)
    /* ThreadSanitizer cannot see OpenBLAS's synchronisation: it would take
     * the hand-over of our buffers to its workers for races */
    return 0;
#endif
    if (!blas_level1_thread) return 0;
    /* never more parts than OpenBLAS has workers: a part without one
     * would wait for ever */
    threads = mlp_get_num_threads();
    if (threads < 2) return threads < 1 ? 1 : threads;
    s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    if (s == 0) {
        s = probe_once(); /* two threads probing at once agree */
        __atomic_store_n(&state, s, __ATOMIC_RELEASE);
    }
    return s > 0 ? threads : 0;
}

void mlp__blas_team_run(int threads, void (*fn)(void *), void *arg)
{
    team_job job = {fn, arg};
    float zero = 0.0f;
    blas_level1_thread(MODE_SINGLE_REAL, threads, 0, 0, &zero, &job, 0, NULL, 0, NULL, 0,
                       (level1_fn)(void (*)(void))run_part, threads);
}
