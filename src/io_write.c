/* Writing model files: the v1 image streamed through a small staging
 * buffer (no allocation), to memory or to a caller's stream. */
#include "checks.h"
#include "io_format.h"
#include "network.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

mlp_status mlp__model_size(const mlp_network *net, size_t *size)
{
    uint64_t n_in = net->sizes[0], L = net->n_layers, total, t;
    /* header + fixed body + sizes (u64 each) + per-layer act/dropout + CRC */
    int ok = mlp__mul64(L + 1, 8, &t) &&
             mlp__add64(MLP__FMT_HEADER_LEN + MLP__FMT_FIXED_LEN + MLP__FMT_TRAILER_LEN, t,
                        &total) &&
             mlp__mul64(L, 8, &t) && mlp__add64(total, t, &total);
    if (ok && net->in_offset) ok = mlp__mul64(n_in, 8, &t) && mlp__add64(total, t, &total);
    if (ok) ok = mlp__mul64(net->opt_state_len, 4, &t) && mlp__add64(total, t, &total);
    if (ok) ok = mlp__mul64(net->n_params, 4, &t) && mlp__add64(total, t, &total);
    if (!ok || total > SIZE_MAX)
        return mlp__fail(MLP_ERR_TOO_LARGE, "the model file would exceed the address space");
    *size = (size_t)total;
    return MLP_OK;
}

typedef struct writer {
    unsigned char buf[4096];
    size_t n;
    uint32_t crc; /* over every byte handed to the sink so far */
    mlp__sink sink;
    void *ctx;
    int failed;
} writer;

static void wr_flush(writer *w)
{
    if (w->n && !w->failed) {
        w->crc = mlp__crc32(w->crc, w->buf, w->n);
        if (w->sink(w->ctx, w->buf, w->n) != 0) w->failed = 1;
    }
    w->n = 0;
}

static unsigned char *wr_room(writer *w, size_t k)
{
    if (sizeof w->buf - w->n < k) wr_flush(w);
    w->n += k;
    return w->buf + w->n - k;
}

static void wr_u32(writer *w, uint32_t v) { mlp__put_u32(wr_room(w, 4), v); }
static void wr_u64(writer *w, uint64_t v) { mlp__put_u64(wr_room(w, 8), v); }
static void wr_f32(writer *w, float v) { mlp__put_u32(wr_room(w, 4), mlp__f32_bits(v)); }

static void wr_f32s(writer *w, const float *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) wr_f32(w, v[i]);
}

static mlp_status check_finite(const float *v, size_t n, const char *what)
{
    size_t i;
    if (mlp__all_finite(v, n)) return MLP_OK;
    for (i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return mlp__fail(MLP_ERR_NONFINITE, "cannot save: %s[%zu] is %g", what, i,
                             (double)v[i]);
    return MLP_OK;
}

mlp_status mlp__model_write(const mlp_network *net, mlp__sink sink, void *ctx)
{
    writer w;
    size_t size = 0, l, n_in = net->sizes[0];
    unsigned char crc[4];
    mlp_status st = mlp__model_size(net, &size);
    if (st != MLP_OK) return st;
    /* Refuse before the first byte, so that a stream is left as it was. */
    if ((st = check_finite(net->params, net->n_params, "params")) != MLP_OK) return st;
    if (net->in_offset && ((st = check_finite(net->in_offset, n_in, "input offset")) != MLP_OK ||
                           (st = check_finite(net->in_scale, n_in, "input scale")) != MLP_OK))
        return st;
    if ((st = check_finite(net->opt_state, net->opt_state_len, "optimiser state")) != MLP_OK)
        return st;

    w.n = 0;
    w.crc = 0;
    w.sink = sink;
    w.ctx = ctx;
    w.failed = 0;

    memcpy(wr_room(&w, MLP__FMT_MAGIC_LEN), MLP__FMT_MAGIC, MLP__FMT_MAGIC_LEN);
    wr_u32(&w, MLP__FMT_VERSION);
    wr_u32(&w, MLP__FMT_HEADER_LEN);
    wr_u32(&w, net->in_offset ? MLP__FMT_FLAG_SCALING : 0u);
    wr_u32(&w, 0); /* reserved */
    wr_u64(&w, size);

    wr_u32(&w, (uint32_t)net->n_layers);
    wr_u32(&w, (uint32_t)net->loss);
    wr_f32(&w, net->l2);
    wr_u32(&w, net->opt_kind < 0 ? MLP__FMT_NO_OPTIMIZER : (uint32_t)net->opt_kind);
    wr_u64(&w, net->seed);
    for (l = 0; l < 4; l++) wr_u64(&w, net->rng.s[l]);
    wr_u64(&w, net->epochs_trained);
    wr_u64(&w, net->steps);
    wr_u64(&w, net->opt_state_len);

    for (l = 0; l <= net->n_layers; l++) wr_u64(&w, net->sizes[l]);
    for (l = 0; l < net->n_layers; l++) {
        wr_u32(&w, (uint32_t)net->layers[l].act);
        wr_f32(&w, net->layers[l].dropout);
    }
    if (net->in_offset) {
        wr_f32s(&w, net->in_offset, n_in);
        wr_f32s(&w, net->in_scale, n_in);
    }
    wr_f32s(&w, net->opt_state, net->opt_state_len);
    wr_f32s(&w, net->params, net->n_params);
    wr_flush(&w);

    mlp__put_u32(crc, w.crc);
    if (w.failed || sink(ctx, crc, sizeof crc) != 0)
        return mlp__fail(MLP_ERR_IO, "writing the model failed");
    return MLP_OK;
}

/* ---- to memory ---- */

typedef struct mem_sink {
    unsigned char *p;
    size_t left;
} mem_sink;

static int mem_put(void *ctx, const unsigned char *p, size_t n)
{
    mem_sink *m = ctx;
    if (n > m->left) return -1; /* cannot happen: the size was checked first */
    memcpy(m->p, p, n);
    m->p += n;
    m->left -= n;
    return 0;
}

mlp_status mlp_save_buffer(const mlp_network *net, void *buf, size_t cap, size_t *size)
{
    size_t need = 0;
    mem_sink m;
    mlp_status st;
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(size);
    st = mlp__model_size(net, &need);
    if (st != MLP_OK) return st;
    if (!buf || cap < need) {
        *size = need;
        return mlp__fail(MLP_ERR_BUFFER, "the model needs %zu bytes, the buffer holds %zu", need,
                         buf ? cap : (size_t)0);
    }
    m.p = buf;
    m.left = cap;
    st = mlp__model_write(net, mem_put, &m);
    if (st != MLP_OK) return st;
    *size = need;
    mlp__clear_error();
    return MLP_OK;
}

/* ---- to a caller's stream (never closed here) ---- */

static int file_put(void *ctx, const unsigned char *p, size_t n)
{
    return fwrite(p, 1, n, (FILE *)ctx) == n ? 0 : -1;
}

mlp_status mlp_save_file(const mlp_network *net, FILE *f)
{
    mlp_status st;
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(f);
    errno = 0;
    st = mlp__model_write(net, file_put, f);
    if (st == MLP_OK && fflush(f) != 0) st = MLP_ERR_IO;
    if (st == MLP_ERR_IO)
        return mlp__fail(MLP_ERR_IO, "writing the model to the stream failed: %s",
                         errno ? strerror(errno) : "write error");
    if (st == MLP_OK) mlp__clear_error();
    return st;
}
