/* Activation workspaces: one block per buffer set, sized for a batch
 * capacity, so that the passes themselves never allocate. */
#include "buffers.h"
#include "activation.h"
#include "guard.h"
#include "network.h"

#include <string.h>

void mlp__buffers_free(mlp__buffers *buf)
{
    mlp__free(buf->block);
    mlp__free(buf->ptrs);
    memset(buf, 0, sizeof *buf);
}

/* Every array of a block starts on a 64-byte line (the block does: alloc.c),
 * so that no product's operand splits AVX-512 loads across two lines. */
#define LINE_FLOATS 16

static size_t line_up(size_t n) { return (n + LINE_FLOATS - 1) / LINE_FLOATS * LINE_FLOATS; }

/* Adds rows x width floats, rounded up to a line, to *total; 0 on overflow. */
static int add_rows(size_t *total, size_t rows, size_t width)
{
    size_t n;
    if (!mlp__mul_ok(rows, width, &n) || n > SIZE_MAX / sizeof(float) - LINE_FLOATS) return 0;
    n = line_up(n);
    if (*total > SIZE_MAX / sizeof(float) - n) return 0;
    *total += n;
    return 1;
}

/* The next array of rows x width floats in a block laid out by add_rows. */
static float *take(float **p, size_t rows, size_t width)
{
    float *a = *p;
    *p += line_up(rows * width);
    return a;
}

/* Whether layer l needs z[l] apart from a[l]: where Z + b is kept and A
 * differs from it. Elsewhere z[l] is a[l] (identity: A is Z + b; the rest
 * compute in place, buffers.h). */
static int own_z(const mlp_network *net, size_t l)
{
    const mlp__layer *ly = &net->layers[l];
    return ly->act != MLP_ACT_IDENTITY && mlp__layer_keeps_z(ly->act, l + 1 == net->n_layers);
}

mlp_status mlp__buffers_alloc(const mlp_network *net, size_t capacity, mlp__buffers *buf)
{
    size_t L = net->n_layers, l, total = 0, max_out = 0;
    float *p;
    mlp__buffers b;
    int ok = 1;
    memset(&b, 0, sizeof b);
    if (capacity == 0 || capacity > MLP_MAX_DIM)
        return mlp__fail(MLP_ERR_SIZE, "workspace capacity %zu must be in 1..%zu", capacity,
                         MLP_MAX_DIM);
    for (l = 0; l < L; l++) {
        const mlp__layer *ly = &net->layers[l];
        if (ly->n_out > max_out) max_out = ly->n_out;
        ok &= add_rows(&total, capacity, ly->n_out);                       /* a */
        if (own_z(net, l)) ok &= add_rows(&total, capacity, ly->n_out); /* z */
        if (ly->dropout > 0.0f) /* in_drop, mask */
            ok &= add_rows(&total, capacity, ly->n_in) && add_rows(&total, capacity, ly->n_in);
    }
    ok &= add_rows(&total, capacity, net->sizes[0]); /* input */
    ok &= add_rows(&total, capacity, max_out) && add_rows(&total, capacity, max_out); /* delta */
    if (!ok)
        return mlp__fail(MLP_ERR_SIZE, "a workspace of %zu rows overflows the address space", capacity);

    b.capacity = capacity;
    b.block = mlp__malloc(total * sizeof(float));
    b.ptrs = mlp__calloc(4 * L, sizeof(float *));
    if (!b.block || !b.ptrs) {
        mlp__buffers_free(&b);
        return mlp__fail(MLP_ERR_NOMEM, "out of memory for a workspace of %zu rows", capacity);
    }
    b.z = (float **)b.ptrs;
    b.a = b.z + L;
    b.in_drop = b.a + L;
    b.mask = b.in_drop + L;
    p = b.block;
    for (l = 0; l < L; l++) {
        const mlp__layer *ly = &net->layers[l];
        b.a[l] = take(&p, capacity, ly->n_out);
        b.z[l] = own_z(net, l) ? take(&p, capacity, ly->n_out) : b.a[l];
        if (ly->dropout > 0.0f) {
            b.in_drop[l] = take(&p, capacity, ly->n_in);
            b.mask[l] = take(&p, capacity, ly->n_in);
        }
    }
    b.input = take(&p, capacity, net->sizes[0]);
    b.delta[0] = take(&p, capacity, max_out);
    b.delta[1] = take(&p, capacity, max_out);
    *buf = b;
    return MLP_OK;
}

mlp_status mlp__reserve(mlp_network *net, size_t max_batch)
{
    mlp__buffers fresh;
    mlp_status st;
    if (max_batch <= net->ws.capacity) return MLP_OK;
    st = mlp__buffers_alloc(net, max_batch, &fresh);
    if (st != MLP_OK) return st;
    mlp__buffers_free(&net->ws);
    net->ws = fresh;
    return MLP_OK;
}

mlp_status mlp_reserve(mlp_network *net, size_t max_batch)
{
    MLP__GUARDED(net, MLP__CHANGE, "network", mlp__reserve(net, max_batch));
}

size_t mlp_capacity(const mlp_network *net) { return net ? net->ws.capacity : 0; }

mlp_status mlp_workspace_create(const mlp_network *net, size_t max_batch, mlp_workspace **out)
{
    mlp_workspace *ws;
    size_t in_n, width_n;
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(out);
    if (max_batch == 0 || max_batch > MLP_MAX_DIM)
        return mlp__fail(MLP_ERR_SIZE, "workspace capacity %zu must be in 1..%zu", max_batch,
                         MLP_MAX_DIM);
    if (!mlp__mul_ok(max_batch, net->sizes[0], &in_n) ||
        !mlp__mul_ok(max_batch, net->max_width, &width_n) || in_n > SIZE_MAX / sizeof(float) ||
        width_n > SIZE_MAX / sizeof(float) / 2)
        return mlp__fail(MLP_ERR_SIZE, "a workspace of %zu rows overflows the address space",
                         max_batch);
    ws = mlp__calloc(1, sizeof *ws);
    if (!ws) return mlp__fail(MLP_ERR_NOMEM, "out of memory for a workspace");
    ws->input = mlp__malloc(in_n * sizeof(float));
    ws->ping = mlp__malloc(2 * width_n * sizeof(float));
    ws->sizes = mlp__malloc((net->n_layers + 1) * sizeof *ws->sizes);
    if (!ws->input || !ws->ping || !ws->sizes) {
        mlp_workspace_destroy(ws);
        return mlp__fail(MLP_ERR_NOMEM, "out of memory for a workspace of %zu rows", max_batch);
    }
    ws->pong = ws->ping + width_n;
    ws->n_layers = net->n_layers;
    ws->capacity = max_batch;
    memcpy(ws->sizes, net->sizes, (net->n_layers + 1) * sizeof *ws->sizes);
    ws->max_width = net->max_width;
    *out = ws;
    return MLP_OK;
}

void mlp_workspace_destroy(mlp_workspace *ws)
{
    if (!ws) return;
    mlp__free(ws->input);
    mlp__free(ws->ping);
    mlp__free(ws->sizes);
    mlp__free(ws);
}

int mlp__workspace_fits(const mlp_network *net, const mlp_workspace *ws)
{
    return ws->n_layers == net->n_layers &&
           memcmp(ws->sizes, net->sizes, (net->n_layers + 1) * sizeof *ws->sizes) == 0;
}
