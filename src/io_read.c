/* Reading model files from memory: the loader that no file can break.
 * Checks run in the order docs/FORMAT.md gives, so that each kind of
 * damage maps to one status: magic, version, header fields, length
 * (truncated or trailing bytes), CRC, then every field, with each count
 * bounded by the bytes that remain before anything is allocated. */
#include "buffers.h"
#include "io_format.h"
#include "network.h"

#include <math.h>
#include <string.h>

mlp_status mlp__model_check_header(const unsigned char *p, size_t n, uint64_t *file_size)
{
    uint32_t version, header_len, flags, reserved;
    uint64_t size;
    size_t m = n < MLP__FMT_MAGIC_LEN ? n : MLP__FMT_MAGIC_LEN;
    /* A prefix of the magic is a truncated file, anything else is not ours. */
    if (m > 0 && memcmp(p, MLP__FMT_MAGIC, m) != 0)
        return mlp__fail(MLP_ERR_BAD_MAGIC, "not a libmlp model file (bad magic number)");
    if (n < 12)
        return mlp__fail(MLP_ERR_TRUNCATED, "the file ends after %zu bytes, inside its header", n);
    version = mlp__get_u32(p + 8);
    if (version != MLP__FMT_VERSION)
        return mlp__fail(MLP_ERR_VERSION, "model file format version %lu; this library reads %u",
                         (unsigned long)version, MLP__FMT_VERSION);
    if (n < MLP__FMT_HEADER_LEN)
        return mlp__fail(MLP_ERR_TRUNCATED, "the file ends after %zu bytes, inside its header", n);
    header_len = mlp__get_u32(p + 12);
    flags = mlp__get_u32(p + 16);
    reserved = mlp__get_u32(p + 20);
    size = mlp__get_u64(p + 24);
    if (header_len != MLP__FMT_HEADER_LEN)
        return mlp__fail(MLP_ERR_CORRUPT, "header length %lu, not %u", (unsigned long)header_len,
                         MLP__FMT_HEADER_LEN);
    if ((flags & ~(uint32_t)MLP__FMT_FLAGS_KNOWN) != 0)
        return mlp__fail(MLP_ERR_CORRUPT, "unknown flags 0x%lx in the header", (unsigned long)flags);
    if (reserved != 0)
        return mlp__fail(MLP_ERR_CORRUPT, "reserved header field is 0x%lx, not 0",
                         (unsigned long)reserved);
    if (size < MLP__FMT_MIN_FILE)
        return mlp__fail(MLP_ERR_CORRUPT, "declared file size %llu is below the minimum %u",
                         (unsigned long long)size, (unsigned)MLP__FMT_MIN_FILE);
    if (size > SIZE_MAX)
        return mlp__fail(MLP_ERR_TOO_LARGE, "declared file size %llu exceeds the address space",
                         (unsigned long long)size);
    *file_size = size;
    return MLP_OK;
}

/* The fixed part of the body, decoded. */
typedef struct fixed {
    uint32_t n_layers, loss, opt_kind;
    float l2;
    uint64_t seed, rng[4], epochs, steps, opt_len;
} fixed;

static const unsigned char *read_fixed(const unsigned char *q, fixed *f)
{
    int i;
    f->n_layers = mlp__get_u32(q);
    f->loss = mlp__get_u32(q + 4);
    f->l2 = mlp__bits_f32(mlp__get_u32(q + 8));
    f->opt_kind = mlp__get_u32(q + 12);
    f->seed = mlp__get_u64(q + 16);
    for (i = 0; i < 4; i++) f->rng[i] = mlp__get_u64(q + 24 + 8 * i);
    f->epochs = mlp__get_u64(q + 56);
    f->steps = mlp__get_u64(q + 64);
    f->opt_len = mlp__get_u64(q + 72);
    return q + MLP__FMT_FIXED_LEN;
}

static mlp_status check_fixed(const fixed *f)
{
    if (f->n_layers == 0) return mlp__fail(MLP_ERR_CORRUPT, "the model has 0 layers");
    if (f->loss >= MLP_LOSS_COUNT_)
        return mlp__fail(MLP_ERR_CORRUPT, "unknown loss %lu", (unsigned long)f->loss);
    if (!(f->l2 >= 0.0f) || isinf(f->l2))
        return mlp__fail(MLP_ERR_CORRUPT, "l2 is %g; it must be finite and >= 0", (double)f->l2);
    if (f->opt_kind != MLP__FMT_NO_OPTIMIZER && f->opt_kind >= MLP_OPT_COUNT_)
        return mlp__fail(MLP_ERR_CORRUPT, "unknown optimiser %lu", (unsigned long)f->opt_kind);
    if (f->opt_kind == MLP__FMT_NO_OPTIMIZER && f->opt_len != 0)
        return mlp__fail(MLP_ERR_CORRUPT, "optimiser state of %llu floats without an optimiser",
                         (unsigned long long)f->opt_len);
    if ((f->rng[0] | f->rng[1] | f->rng[2] | f->rng[3]) == 0)
        return mlp__fail(MLP_ERR_CORRUPT, "the RNG state is all zero (xoshiro's fixed point)");
    return MLP_OK;
}

/* Sizes and per-layer records; sums the parameters in 64 bits. */
static mlp_status check_layers(const unsigned char *q, const fixed *f, uint64_t *n_params)
{
    uint64_t L = f->n_layers, l, total = 0;
    const unsigned char *acts = q + 8 * (L + 1);
    for (l = 0; l <= L; l++) {
        uint64_t s = mlp__get_u64(q + 8 * l);
        if (s == 0) return mlp__fail(MLP_ERR_CORRUPT, "sizes[%llu] is 0", (unsigned long long)l);
        if (s > MLP_MAX_DIM)
            return mlp__fail(MLP_ERR_TOO_LARGE, "sizes[%llu] is %llu, beyond the BLAS limit %zu",
                             (unsigned long long)l, (unsigned long long)s, MLP_MAX_DIM);
    }
    for (l = 0; l < L; l++) {
        uint32_t act = mlp__get_u32(acts + 8 * l);
        float p = mlp__bits_f32(mlp__get_u32(acts + 8 * l + 4));
        uint64_t n_in = mlp__get_u64(q + 8 * l), n_out = mlp__get_u64(q + 8 * (l + 1)), wb;
        if (act >= MLP_ACT_COUNT_)
            return mlp__fail(MLP_ERR_CORRUPT, "layer %llu: unknown activation %lu",
                             (unsigned long long)l, (unsigned long)act);
        if (!(p >= 0.0f && p < 1.0f))
            return mlp__fail(MLP_ERR_CORRUPT, "layer %llu: dropout %g is outside [0, 1)",
                             (unsigned long long)l, (double)p);
        if (!mlp__mul64(n_out, n_in + 1, &wb) || !mlp__add64(total, wb, &total))
            return mlp__fail(MLP_ERR_TOO_LARGE, "layer %llu: the parameter count overflows",
                             (unsigned long long)l);
    }
    if (f->loss == MLP_LOSS_SOFTMAX_CE && mlp__get_u64(q + 8 * L) < 2)
        return mlp__fail(MLP_ERR_CORRUPT, "softmax cross-entropy with one output");
    *n_params = total;
    return MLP_OK;
}

/* Decodes n floats, all finite, into dst. */
static mlp_status read_floats(const unsigned char **q, float *dst, size_t n, const char *what)
{
    size_t i;
    for (i = 0; i < n; i++) {
        dst[i] = mlp__bits_f32(mlp__get_u32(*q + 4 * i));
        if (!isfinite(dst[i]))
            return mlp__fail(MLP_ERR_CORRUPT, "%s[%zu] is not finite", what, i);
    }
    *q += 4 * n;
    return MLP_OK;
}

static float *alloc_floats(size_t n, mlp_status *st)
{
    float *p = mlp__malloc(n * sizeof *p);
    if (!p) *st = mlp__fail(MLP_ERR_NOMEM, "out of memory for %zu floats", n);
    return p;
}

/* Builds the network from a body whose counts were all checked. */
static mlp_status build(const unsigned char *q, const fixed *f, int scaling, mlp_network **out)
{
    size_t L = f->n_layers, l, *sizes;
    mlp_activation *acts;
    const unsigned char *rec = q + 8 * (L + 1);
    mlp_network *net = NULL;
    mlp_status st;
    /* Bounded: L + 1 sizes took 16 bytes each of the file already. */
    sizes = mlp__malloc((L + 1) * sizeof *sizes + L * sizeof *acts);
    if (!sizes) return mlp__fail(MLP_ERR_NOMEM, "out of memory for %zu layers", L);
    acts = (mlp_activation *)(sizes + L + 1);
    for (l = 0; l <= L; l++) sizes[l] = (size_t)mlp__get_u64(q + 8 * l);
    for (l = 0; l < L; l++) acts[l] = (mlp_activation)mlp__get_u32(rec + 8 * l);
    st = mlp__network_alloc(L, sizes, acts, &net);
    mlp__free(sizes);
    if (st == MLP_ERR_SIZE)
        st = mlp__fail(MLP_ERR_TOO_LARGE, "%zu layers of these sizes exceed the library's limits", L);
    if (st != MLP_OK) return st;

    net->loss = (mlp_loss)f->loss;
    net->l2 = f->l2;
    net->opt_kind = f->opt_kind == MLP__FMT_NO_OPTIMIZER ? -1 : (int)f->opt_kind;
    net->seed = f->seed;
    for (l = 0; l < 4; l++) net->rng.s[l] = f->rng[l];
    net->epochs_trained = f->epochs;
    net->steps = f->steps;
    for (l = 0; l < L; l++) net->layers[l].dropout = mlp__bits_f32(mlp__get_u32(rec + 8 * l + 4));
    q = rec + 8 * L;

    if (scaling) {
        size_t n_in = net->sizes[0];
        if ((net->in_offset = alloc_floats(n_in, &st)) == NULL ||
            (net->in_scale = alloc_floats(n_in, &st)) == NULL ||
            (st = read_floats(&q, net->in_offset, n_in, "input offset")) != MLP_OK ||
            (st = read_floats(&q, net->in_scale, n_in, "input scale")) != MLP_OK)
            goto fail;
    }
    if (f->opt_len > 0) {
        net->opt_state_len = (size_t)f->opt_len;
        if ((net->opt_state = alloc_floats(net->opt_state_len, &st)) == NULL ||
            (st = read_floats(&q, net->opt_state, net->opt_state_len, "optimiser state")) != MLP_OK)
            goto fail;
    }
    if ((st = read_floats(&q, net->params, net->n_params, "params")) != MLP_OK) goto fail;
    if ((st = mlp__buffers_alloc(net, MLP__DEFAULT_CAPACITY, &net->ws)) != MLP_OK) goto fail;
    *out = net;
    return MLP_OK;
fail:
    mlp_destroy(net);
    return st;
}

mlp_status mlp_load_buffer(mlp_network **out, const void *buf, size_t size)
{
    const unsigned char *p = buf, *q;
    uint64_t file_size, n_params = 0, need;
    uint32_t flags, stored, crc;
    size_t left;
    fixed f;
    mlp_status st;
    MLP__CHECK_NULL(out);
    MLP__CHECK_NULL(buf);

    if ((st = mlp__model_check_header(p, size, &file_size)) != MLP_OK) return st;
    if (size < file_size)
        return mlp__fail(MLP_ERR_TRUNCATED, "the file has %zu of its %llu bytes", size,
                         (unsigned long long)file_size);
    if (size > file_size)
        return mlp__fail(MLP_ERR_CORRUPT, "%llu bytes of garbage follow the model",
                         (unsigned long long)(size - file_size));
    stored = mlp__get_u32(p + size - MLP__FMT_TRAILER_LEN);
    crc = mlp__crc32(0, p, size - MLP__FMT_TRAILER_LEN);
#ifndef MLP_FUZZING /* the fuzzer skips the CRC to reach the fields behind it */
    if (stored != crc)
        return mlp__fail(MLP_ERR_CHECKSUM, "CRC-32 is 0x%08lx, the file says 0x%08lx",
                         (unsigned long)crc, (unsigned long)stored);
#else
    (void)stored;
    (void)crc;
#endif
    flags = mlp__get_u32(p + 16);

    /* Every count below is checked against `left` before it is used. */
    q = read_fixed(p + MLP__FMT_HEADER_LEN, &f);
    left = size - MLP__FMT_HEADER_LEN - MLP__FMT_FIXED_LEN - MLP__FMT_TRAILER_LEN;
    if ((st = check_fixed(&f)) != MLP_OK) return st;
    need = 16 * (uint64_t)f.n_layers + 8; /* sizes and layer records; n_layers < 2^32 */
    if (need > left)
        return mlp__fail(MLP_ERR_CORRUPT, "%lu layers need %llu bytes, %zu remain",
                         (unsigned long)f.n_layers, (unsigned long long)need, left);
    if ((st = check_layers(q, &f, &n_params)) != MLP_OK) return st;
    left -= (size_t)need;

    /* scaling (2 x n_in floats), optimiser state, parameters: 4 bytes each */
    need = (flags & MLP__FMT_FLAG_SCALING) ? 2 * mlp__get_u64(q) : 0;
    if (!mlp__add64(need, f.opt_len, &need) || !mlp__add64(need, n_params, &need) ||
        !mlp__mul64(need, 4, &need))
        return mlp__fail(MLP_ERR_TOO_LARGE, "the float arrays overflow 64 bits");
    if (need != left)
        return mlp__fail(MLP_ERR_CORRUPT, "the counts call for %llu bytes of floats, the file has %zu",
                         (unsigned long long)need, left);

    if ((st = build(q, &f, (flags & MLP__FMT_FLAG_SCALING) != 0, out)) != MLP_OK) return st;
    mlp__clear_error();
    return MLP_OK;
}
