/* The memory-traffic floor: what the element-wise passes, dropout, the
 * optimiser's update and the batch gather must move, at the speed of a
 * plain copy of the same working set on the same threads. A pass can go no
 * faster than a copy that moves as many bytes, so bytes / copy bandwidth is
 * a floor; with the GEMM floor it bounds the whole step. */
#include "bench_mem.h"

#include "bench_util.h"

#include <internal.h>
#include <mlp.h>
#include <pool.h> /* the library's own pool: the copy splits as its passes do */
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

/* Repeats the copy for at least 2 ms per try; the best try wins. */
static double time_copy(mlp__pool *pool, copy_job *j, size_t half, int tries)
{
    double best = 0.0;
    long inner = 1;
    for (int t = 0; t < tries + 1; t++) { /* the first try warms up and sizes */
        double t0 = bench_now_ms(), ms;
        for (long i = 0; i < inner; i++) mlp__pool_for(pool, copy_part, j, half, 64, 0);
        ms = (bench_now_ms() - t0) / (double)inner;
        if (t == 0) {
            inner = ms > 0.0 ? (long)(2.0 / ms) + 1 : 1000;
            continue;
        }
        if (best == 0.0 || ms < best) best = ms;
    }
    return best;
}

/* The copy on exactly `threads` threads. */
static double copy_bw_at(size_t bytes, int threads, int tries)
{
    size_t half = bytes / 2 < 64 ? 64 : bytes / 2;
    char *a = malloc(half), *b = malloc(half);
    mlp__pool *pool = NULL;
    double ms = 0.0;
    copy_job j;
    if (a && b && (threads < 2 || mlp__pool_create(threads, &pool) == MLP_OK)) {
        memset(a, 1, half);
        memset(b, 2, half);
        j.src = a;
        j.dst = b;
        ms = time_copy(pool, &j, half, tries);
    }
    mlp__pool_destroy(pool);
    free(a);
    free(b);
    return ms > 0.0 ? 2.0 * (double)half / ms : 0.0;
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
        /* bias + activation: read Z, write Z and A; bias gradient: read D */
        add(&ms[MEM_ELEMENTWISE], pass_ms(m, 3 * B * n_out, threads, tries), &failed);
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
