/* The gradient check: analytic gradients against central differences of J,
 * computed by the float library itself. */
#include "activation.h"
#include "guard.h"
#include "network.h"
#include "pass.h"
#include "rng.h"

#include <math.h>
#include <string.h>

/* The finite differences are taken of J evaluated in double precision (a
 * plain-loop forward pass over the float parameters): a float32 forward
 * pass has noise of ~1e-7 |J|, which divided by the step swamps blocks
 * whose gradients are small next to J (deep sigmoid nets, say). */
typedef struct fd_scratch {
    double *in, *out;    /* max width each: one row's activations */
    unsigned char *base; /* batch x sum of kink widths, or NULL without kinks */
    size_t width;        /* sum of n_out over kink layers */
} fd_scratch;

static double softplus_d(double z) { return fmax(z, 0.0) + log1p(exp(-fabs(z))); }

/* Loss of one sample from its outputs o (n of them). */
static double sample_loss(const mlp_network *net, const double *o, size_t n, const void *targets,
                          size_t r)
{
    size_t k;
    double sum = 0.0;
    if (net->loss == MLP_LOSS_SOFTMAX_CE) {
        int32_t y = ((const int32_t *)targets)[r];
        double m = o[0], s = 0.0;
        for (k = 1; k < n; k++) m = fmax(m, o[k]);
        for (k = 0; k < n; k++) s += exp(o[k] - m);
        return m + log(s) - o[y];
    }
    const float *y = (const float *)targets + r * n;
    for (k = 0; k < n; k++) {
        if (net->loss == MLP_LOSS_SIGMOID_CE) sum += softplus_d(o[k]) - (double)y[k] * o[k];
        else sum += 0.5 * (o[k] - y[k]) * (o[k] - y[k]);
    }
    return sum;
}

/* J in double. mode 0: records the kink pattern into s->base; mode 1:
 * sets *crossed if any sign differs from it. */
static double objective(const mlp_network *net, const float *X, size_t batch, const void *targets,
                        fd_scratch *s, int mode, int *crossed)
{
    const size_t L = net->n_layers, n_in = net->sizes[0];
    size_t r, l, i, j;
    double sum = 0.0;
    for (r = 0; r < batch; r++) {
        unsigned char *sign = s->base ? s->base + r * s->width : NULL;
        double *in = s->in, *out = s->out, *t;
        for (j = 0; j < n_in; j++) {
            double x = X[r * n_in + j];
            if (net->in_offset) x = (x - net->in_offset[j]) * net->in_scale[j];
            in[j] = x;
        }
        for (l = 0; l < L; l++) {
            const mlp__layer *ly = &net->layers[l];
            const float *W = net->params + ly->w_off, *b = net->params + ly->b_off;
            int kink = mlp__act_has_kink(ly->act);
            for (i = 0; i < ly->n_out; i++) {
                double z = b[i];
                for (j = 0; j < ly->n_in; j++) z += (double)W[i * ly->n_in + j] * in[j];
                if (kink && sign) {
                    unsigned char pos = z > 0.0;
                    if (mode == 0) sign[i] = pos;
                    else if (sign[i] != pos) *crossed = 1;
                }
                out[i] = mlp__act_f(ly->act, z);
            }
            if (kink && sign) sign += ly->n_out;
            t = in, in = out, out = t;
        }
        sum += sample_loss(net, in, net->sizes[L], targets, r);
    }
    return sum / (double)batch + mlp_penalty(net);
}

/* Central difference of entry p with step eps; 0 if a kink was crossed. */
static int difference(mlp_network *net, const float *X, size_t batch, const void *targets,
                      fd_scratch *s, float *p, double eps, double *fd)
{
    float orig = *p, hi = (float)(orig + eps), lo = (float)(orig - eps);
    double jp, jm;
    int crossed = 0;
    *p = hi;
    jp = objective(net, X, batch, targets, s, 1, &crossed);
    *p = lo;
    jm = objective(net, X, batch, targets, s, 1, &crossed);
    *p = orig;
    if (crossed || hi == lo) return 0;
    /* Divide by the step actually taken in float. */
    *fd = (jp - jm) / ((double)hi - (double)lo);
    return 1;
}

static void check_block(mlp_network *net, const float *X, size_t batch, const void *targets,
                        fd_scratch *s, size_t offset, size_t count, double eps,
                        size_t max_entries, mlp__rng *rng, mlp_gradcheck_block *out)
{
    size_t n = (max_entries == 0 || max_entries >= count) ? count : max_entries, t;
    double dd = 0.0, gg = 0.0, ff = 0.0, worst = -1.0;
    memset(out, 0, sizeof *out);
    for (t = 0; t < n; t++) {
        size_t i = n == count ? t : (size_t)mlp__rng_below(rng, count);
        double fd = 0.0, g = net->grads[offset + i], diff, h;
        int ok = 0;
        /* A step that crosses a kink shrinks tenfold, three times at most. */
        for (h = eps; !ok && h >= eps * 0.999e-3; h *= 0.1)
            ok = difference(net, X, batch, targets, s, net->params + offset + i, h, &fd);
        if (!ok) {
            out->skipped++;
            continue;
        }
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

static mlp_status gradcheck(mlp_network *net, const float *X, size_t batch, const void *targets,
                            double eps, size_t max_per_block, uint64_t seed,
                            mlp_gradcheck_block *blocks)
{
    fd_scratch s = {NULL, NULL, NULL, 0};
    mlp__rng rng;
    size_t l, cells;
    mlp_status st;
    int degenerate = 0;
    MLP__CHECK_NULL(blocks);
    /* Validates everything else and fills the analytic gradient. */
    st = mlp__loss_grad_checked(net, X, batch, targets, NULL);
    if (st != MLP_OK) return st;
    if (!(eps > 0.0)) eps = 1e-3;
    if (!isfinite(eps)) return mlp__fail(MLP_ERR_ARGUMENT, "eps must be finite");
    for (l = 0; l < net->n_layers; l++)
        if (mlp__act_has_kink(net->layers[l].act)) s.width += net->layers[l].n_out;
    if (s.width) {
        if (!mlp__mul_ok(batch, s.width, &cells))
            return mlp__fail(MLP_ERR_SIZE, "kink pattern of %zu rows overflows", batch);
        s.base = mlp__malloc(cells);
        if (!s.base) return mlp__fail(MLP_ERR_NOMEM, "out of memory for the kink pattern");
    }
    s.in = mlp__malloc(2 * net->max_width * sizeof(double));
    if (!s.in) {
        mlp__free(s.base);
        return mlp__fail(MLP_ERR_NOMEM, "out of memory for the gradient check");
    }
    s.out = s.in + net->max_width;
    objective(net, X, batch, targets, &s, 0, NULL);
    mlp__rng_seed(&rng, seed);
    for (l = 0; l < net->n_layers; l++) {
        const mlp__layer *ly = &net->layers[l];
        mlp_gradcheck_block *bw = &blocks[2 * l], *bb = &blocks[2 * l + 1];
        check_block(net, X, batch, targets, &s, ly->w_off, ly->n_in * ly->n_out, eps,
                    max_per_block, &rng, bw);
        check_block(net, X, batch, targets, &s, ly->b_off, ly->n_out, eps, max_per_block, &rng, bb);
        degenerate |= bw->grad_norm == 0.0 && bw->fd_norm == 0.0;
        degenerate |= bb->grad_norm == 0.0 && bb->fd_norm == 0.0;
    }
    mlp__free(s.base);
    mlp__free(s.in);
    if (degenerate)
        return mlp__fail(MLP_ERR_DEGENERATE,
                         "a parameter block has all-zero gradients on both sides (or every entry "
                         "was skipped at a kink)");
    return MLP_OK;
}

mlp_status mlp_gradcheck(mlp_network *net, const float *X, size_t batch, const void *targets,
                         double eps, size_t max_per_block, uint64_t seed,
                         mlp_gradcheck_block *blocks)
{
    MLP__GUARDED_FLUSHED(net, MLP__CHANGE, "network",
                         gradcheck(net, X, batch, targets, eps, max_per_block, seed, blocks));
}
