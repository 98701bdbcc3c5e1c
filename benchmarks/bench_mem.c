#define _POSIX_C_SOURCE 200112L /* posix_memalign */
/* The memory-traffic floor: what the element-wise passes, dropout, the
 * optimiser's update and the batch gather must move, at the speed of a
 * streaming kernel over the same working set on the same threads. A pass
 * can go no faster than such a kernel that moves as many bytes, so bytes /
 * bandwidth is a floor; with the GEMM floor it bounds the whole step. Two kernels
 * are timed, and the faster in bytes per second wins: glibc's memcpy, and
 * an in-place add (y += x, a vectorised loop). A copy's stores to lines it
 * never read cost the cache a read for ownership that its byte count does
 * not show, while an in-place pass (the optimiser's update, the error
 * terms) reads every line it writes: against the copy alone the AdamW
 * update ran at 0.86x its "floor". */
#include "bench_mem.h"

#include "bench_util.h"

#include <internal.h>
#include <mlp.h>
#include <activation.h> /* which layers store Z + b */
#include <pool.h> /* the library's own pool: the copy splits as its passes do */
#include <vec.h>  /* the passes' vector clones, for the copy loop */
#include <stdlib.h>
#include <string.h>

#define MAX_MEMO 64

typedef struct copy_job {
    const char *src;
    char *dst;
} copy_job;

static void copy_part(void *ctx, size_t b, size_t e)
{
    copy_job *j = ctx;
    memcpy(j->dst + b, j->src + b, e - b);
}

/* y += x: two streams read, one written, each written line read first. */
MLP__VEC_CLONES static void add_floats(float *restrict y, const float *restrict x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

static void add_part(void *ctx, size_t b, size_t e)
{
    copy_job *j = ctx; /* b, e: multiples of 64 bytes, or the end */
    add_floats((float *)(void *)(j->dst + b), (const float *)(const void *)(j->src + b),
               (e - b) / sizeof(float));
}

/* Repeats the copy for at least 2 ms per try; the best try wins. */
static double time_copy(mlp__pool *pool, mlp__range_fn fn, copy_job *j, size_t half, int tries)
{
    double best = 0.0;
    long inner = 1;
    for (int t = 0; t < tries + 1; t++) { /* the first try warms up and sizes */
        double t0 = bench_now_ms(), ms;
        for (long i = 0; i < inner; i++) mlp__pool_for(pool, fn, j, half, 64, 0);
        ms = (bench_now_ms() - t0) / (double)inner;
        if (t == 0) {
            inner = ms > 0.0 ? (long)(2.0 / ms) + 1 : 1000;
            continue;
        }
        if (best == 0.0 || ms < best) best = ms;
    }
    return best;
}

/* The better of the copy and the add, in bytes per second, on exactly
 * `threads` threads over a working set of about `bytes`. */
static double copy_bw_at(size_t bytes, int threads, int tries)
{
    size_t half = bytes / 2 < 64 ? 64 : (bytes / 2 + 63) / 64 * 64;
    char *a = NULL, *b = NULL;
    mlp__pool *pool = NULL;
    double bw = 0.0;
    copy_job j;
    /* on cache lines, as the library's arrays are */
    if (posix_memalign((void **)&a, 64, half) != 0) a = NULL;
    if (posix_memalign((void **)&b, 64, half) != 0) b = NULL;
    if (a && b && (threads < 2 || mlp__pool_create(threads, &pool) == MLP_OK)) {
        double copy_ms, add_ms;
        memset(a, 0, half); /* zeros: the adds stay exact and never subnormal */
        memset(b, 0, half);
        j.src = a;
        j.dst = b;
        copy_ms = time_copy(pool, copy_part, &j, half, tries);
        add_ms = time_copy(pool, add_part, &j, half, tries);
        if (copy_ms > 0.0) bw = 2.0 * (double)half / copy_ms;
        if (add_ms > 0.0 && 3.0 * (double)half / add_ms > bw) bw = 3.0 * (double)half / add_ms;
    }
    mlp__pool_destroy(pool);
    free(a);
    free(b);
    return bw;
}

/* A pass may run on fewer threads than it has: the floor takes the best
 * of 1 and `threads` (on a loaded machine a second thread can be slower). */
double bench_mem_copy_bw(size_t bytes, int threads, int tries)
{
    double bw = copy_bw_at(bytes, threads, tries);
    if (threads > 1) {
        double one = copy_bw_at(bytes, 1, tries);
        if (one > bw) bw = one;
    }
    return bw;
}

typedef struct memo {
    size_t n;
    size_t bytes[MAX_MEMO];
    double bw[MAX_MEMO];
} memo;

/* ms for a pass that moves `floats` floats over a working set of ws
 * bytes (0: the bytes it moves); bandwidths memoised by working set. */
static double pass_ws_ms(memo *m, double floats, size_t ws, int threads, int tries)
{
    size_t bytes = (size_t)(floats * 4.0);
    double bw = 0.0;
    if (bytes == 0) return 0.0;
    if (ws == 0) ws = bytes;
    for (size_t i = 0; i < m->n; i++)
        if (m->bytes[i] == ws) bw = m->bw[i];
    if (bw == 0.0) {
        bw = bench_mem_copy_bw(ws, threads, tries);
        if (bw <= 0.0) return -1.0;
        if (m->n < MAX_MEMO) m->bytes[m->n] = ws, m->bw[m->n++] = bw;
    }
    return (double)bytes / bw;
}

static double pass_ms(memo *m, double floats, int threads, int tries)
{
    return pass_ws_ms(m, floats, 0, threads, tries);
}

int bench_mem_update_floats(int optimizer, int clip)
{
    switch (optimizer) {
    case MLP_OPT_SGD: return clip ? 3 : 0; /* fused into the weight product */
    case MLP_OPT_MOMENTUM: case MLP_OPT_NESTEROV: case MLP_OPT_RMSPROP: return 5;
    case MLP_OPT_ADAM: case MLP_OPT_ADAMW: return 7;
    default: return 3;
    }
}

/* Adds one pass's floor to part, or marks failure. */
static void add(double *part, double ms, int *failed)
{
    if (ms < 0.0) *failed = 1;
    else *part += ms;
}

double bench_mem_floor(const bench_mem_spec *s, int threads, int tries, double ms[MEM_PARTS])
{
    memo *m = calloc(1, sizeof *m);
    const double B = (double)s->batch;
    size_t L = s->n_layers, params = 0, weights = 0;
    int failed = m == NULL;
    memset(ms, 0, MEM_PARTS * sizeof *ms);
    for (size_t l = 0; l < L && !failed; l++) {
        double n_in = (double)s->sizes[l], n_out = (double)s->sizes[l + 1];
        int drop = s->dropout && s->dropout[l] > 0.0f;
        weights += s->sizes[l] * s->sizes[l + 1];
        params += s->sizes[l] * s->sizes[l + 1] + s->sizes[l + 1];
        /* dropout: read the input, write the mask and the dropped input */
        if (drop) add(&ms[MEM_DROPOUT], pass_ms(m, 3 * B * n_in, threads, tries), &failed);
        /* bias + activation: read Z, write A (and Z + b, read later by the
         * loss or f', buffers.h); bias gradient: read D */
        int keep_z = !s->acts || mlp__layer_keeps_z(s->acts[l], l + 1 == L);
        add(&ms[MEM_ELEMENTWISE], pass_ms(m, (2 + keep_z) * B * n_out, threads, tries), &failed);
        add(&ms[MEM_ELEMENTWISE], pass_ms(m, B * n_out, threads, tries), &failed);
        /* the input's error term: read D, Z (and the mask), write D */
        if (l > 0)
            add(&ms[MEM_ELEMENTWISE], pass_ms(m, (3 + drop) * B * n_in, threads, tries), &failed);
    }
    /* the loss: read the outputs, write the error term */
    add(&ms[MEM_ELEMENTWISE], pass_ms(m, 2 * B * (double)s->sizes[L], threads, tries), &failed);
    if (s->scaled)
        add(&ms[MEM_ELEMENTWISE], pass_ms(m, 2 * B * (double)s->sizes[0], threads, tries), &failed);
    /* the gather reads rows scattered over the whole data set: memory's
     * bandwidth, not a cache's (a copy of up to 64 MB) */
    if (s->gather)
        add(&ms[MEM_DATA],
            pass_ws_ms(m, 2 * B * (double)s->sizes[0],
                       s->data_bytes < ((size_t)64 << 20) ? s->data_bytes : (size_t)64 << 20,
                       threads, tries),
            &failed);
    if (s->update_floats)
        add(&ms[MEM_OPTIMIZER], pass_ms(m, (double)s->update_floats * (double)params, threads, tries),
            &failed);
    if (s->l2 && s->update_floats)
        add(&ms[MEM_OPTIMIZER], pass_ms(m, 3.0 * (double)weights, threads, tries), &failed);
    free(m);
    if (failed) return -1.0;
    return ms[MEM_ELEMENTWISE] + ms[MEM_DROPOUT] + ms[MEM_OPTIMIZER] + ms[MEM_DATA];
}
