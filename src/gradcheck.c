/* The gradient check: analytic gradients against central differences of J,
 * computed by the float library itself. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* Sign patterns (z > 0) of every ReLU-family pre-activation over the batch. */
typedef struct kinks {
    unsigned char *base; /* batch x sum of kink widths, or NULL without kinks */
    size_t width;        /* sum of n_out over kink layers */
} kinks;

/* J over the batch with the current parameters. mode 0: records the kink
 * pattern into k->base; mode 1: sets *crossed if any sign differs from it. */
static double objective(mlp_network *net, const float *X, size_t batch, const void *targets,
                        kinks *k, int mode, int *crossed)
{
    mlp__buffers *buf = &net->ws;
    const size_t L = net->n_layers;
    size_t start, rows, l, i;
    double sum = 0.0;
    for (start = 0; start < batch; start += rows) {
        rows = buf->capacity < batch - start ? buf->capacity : batch - start;
        mlp__forward_train(net, buf, X + start * net->sizes[0], rows, NULL);
        sum += mlp__loss_delta(net, buf->a[L - 1], buf->z[L - 1],
                               mlp__targets_at(net, targets, start), rows, 0.0f, NULL, NULL);
        if (k->base) {
            unsigned char *s = k->base + start * k->width;
            for (l = 0; l < L; l++) {
                size_t n = rows * net->layers[l].n_out;
                const float *z = buf->z[l];
                if (!mlp__act_has_kink(net->layers[l].act)) continue;
                for (i = 0; i < n; i++) {
                    unsigned char pos = z[i] > 0.0f;
                    if (mode == 0) s[i] = pos;
                    else if (s[i] != pos) *crossed = 1;
                }
                s += n;
            }
        }
    }
    return sum / (double)batch + mlp_penalty(net);
}

static void check_block(mlp_network *net, const float *X, size_t batch, const void *targets,
                        kinks *k, size_t offset, size_t count, double eps, size_t max_entries,
                        mlp__rng *rng, mlp_gradcheck_block *out)
{
    size_t n = (max_entries == 0 || max_entries >= count) ? count : max_entries, t;
    double dd = 0.0, gg = 0.0, ff = 0.0, worst = -1.0;
    memset(out, 0, sizeof *out);
    for (t = 0; t < n; t++) {
        size_t i = n == count ? t : (size_t)mlp__rng_below(rng, count);
        float *p = net->params + offset + i, orig = *p, hi, lo;
        double jp, jm, fd, g = net->grads[offset + i], diff;
        int crossed = 0;
        hi = (float)(orig + eps);
        lo = (float)(orig - eps);
        *p = hi;
        jp = objective(net, X, batch, targets, k, 1, &crossed);
        *p = lo;
        jm = objective(net, X, batch, targets, k, 1, &crossed);
        *p = orig;
        if (crossed) {
            out->skipped++;
            continue;
        }
        /* Divide by the step actually taken in float. */
        fd = (jp - jm) / ((double)hi - (double)lo);
        diff = g - fd;
        dd += diff * diff;
        gg += g * g;
        ff += fd * fd;
        out->checked++;
        if (fabs(diff) > worst) {
            worst = fabs(diff);
            out->worst_index = i;
            out->worst_grad = g;
            out->worst_fd = fd;
        }
    }
    out->grad_norm = sqrt(gg);
    out->fd_norm = sqrt(ff);
    out->error = (gg > 0.0 || ff > 0.0) ? sqrt(dd) / fmax(out->grad_norm, out->fd_norm) : 0.0;
}

mlp_status mlp_gradcheck(mlp_network *net, const float *X, size_t batch, const void *targets,
                         double eps, size_t max_per_block, uint64_t seed,
                         mlp_gradcheck_block *blocks)
{
    kinks k = {NULL, 0};
    mlp__rng rng;
    size_t l, cells;
    mlp_status st;
    int degenerate = 0;
    MLP__CHECK_NULL(blocks);
    /* Validates everything else and fills the analytic gradient. */
    st = mlp_loss_grad(net, X, batch, targets, NULL);
    if (st != MLP_OK) return st;
    if (!(eps > 0.0)) eps = 5e-3;
    if (!isfinite(eps)) return mlp__fail(MLP_ERR_ARGUMENT, "eps must be finite");
    for (l = 0; l < net->n_layers; l++)
        if (mlp__act_has_kink(net->layers[l].act)) k.width += net->layers[l].n_out;
    if (k.width) {
        if (!mlp__mul_ok(batch, k.width, &cells))
            return mlp__fail(MLP_ERR_SIZE, "kink pattern of %zu rows overflows", batch);
        k.base = mlp__malloc(cells);
        if (!k.base) return mlp__fail(MLP_ERR_NOMEM, "out of memory for the kink pattern");
    }
    objective(net, X, batch, targets, &k, 0, NULL);
    mlp__rng_seed(&rng, seed);
    for (l = 0; l < net->n_layers; l++) {
        const mlp__layer *ly = &net->layers[l];
        mlp_gradcheck_block *bw = &blocks[2 * l], *bb = &blocks[2 * l + 1];
        check_block(net, X, batch, targets, &k, ly->w_off, ly->n_in * ly->n_out, eps,
                    max_per_block, &rng, bw);
        check_block(net, X, batch, targets, &k, ly->b_off, ly->n_out, eps, max_per_block, &rng, bb);
        degenerate |= bw->grad_norm == 0.0 && bw->fd_norm == 0.0;
        degenerate |= bb->grad_norm == 0.0 && bb->fd_norm == 0.0;
    }
    mlp__free(k.base);
    if (degenerate)
        return mlp__fail(MLP_ERR_DEGENERATE,
                         "a parameter block has all-zero gradients on both sides (or every entry "
                         "was skipped at a kink)");
    return MLP_OK;
}
