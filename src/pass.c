/* Forward and backward passes: error-term backpropagation on BLAS.
 *
 * Shapes, for layer l with n_in inputs and n_out outputs over `rows` rows:
 *   In (rows x n_in)   the layer's input (x, scaled and/or dropped out)
 *   W  (n_out x n_in)  b (n_out)
 *   Z, A (rows x n_out), D = dJ/dZ (rows x n_out)
 */
#include "pass.h"
#include "activation.h"
#include "blas.h"
#include "buffers.h"
#include "checks.h"
#include "dropout.h"
#include "fpmode.h"
#include "guard.h"
#include "network.h"
#include "par.h"
#include "profile.h"
#include "vec.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* dst = (X - offset) * scale, row by row. */
MLP__VEC_CLONES static void scale_input(const mlp_network *net, const float *X, size_t rows, float *dst)
{
    size_t n = net->sizes[0], r, j;
    for (r = 0; r < rows; r++)
        for (j = 0; j < n; j++)
            dst[r * n + j] = (X[r * n + j] - net->in_offset[j]) * net->in_scale[j];
}

typedef struct scale_job {
    const mlp_network *net;
    const float *X;
    float *dst;
} scale_job;

static void scale_part(void *ctx, size_t r0, size_t r1)
{
    scale_job *j = ctx;
    size_t n = j->net->sizes[0];
    scale_input(j->net, j->X + r0 * n, r1 - r0, j->dst + r0 * n);
}

static void layer_forward(const mlp_network *net, mlp__pool *pool, const mlp__layer *ly,
                          const float *In, size_t rows, float *Z, float *A)
{
    const float *W = net->params + ly->w_off, *b = net->params + ly->b_off;
    /* Z + b is kept only where it is read later: by the loss (the output
     * layer) or by f' (buffers.h); elsewhere the product goes straight to
     * A and the activation applies in place, one array read and written */
    const int keep_z = mlp__layer_keeps_z(ly->act, ly == &net->layers[net->n_layers - 1]);
    double t0 = mlp__prof_start(net);
    if (!keep_z) Z = A;
    /* Z = In · W^T (a single row: z = W · in) */
    if (rows == 1)
        mlp__sgemv(0, ly->n_out, ly->n_in, 1.0f, W, ly->n_in, In, 0.0f, Z);
    else
        mlp__sgemm(0, 1, rows, ly->n_out, ly->n_in, 1.0f, In, ly->n_in, W, ly->n_in, 0.0f, Z,
                   ly->n_out);
    mlp__prof_add(net, MLP_PROFILE_PRODUCTS, t0);
    t0 = mlp__prof_start(net);
    /* A = f(Z + 1·b^T), one pass */
    mlp__par_bias_act(pool, ly->act, b, Z, A, rows, ly->n_out, keep_z);
    mlp__prof_add(net, MLP_PROFILE_ELEMENTWISE, t0);
}

/* A caller's rows, copied onto the workspace's line-aligned input buffer
 * when they are not on a 64-byte line and the batch is small: OpenBLAS's
 * AVX-512 small-matrix kernels read X where it lies, and split lines cost
 * them about 10% at batch 16 (benchmarks/README.md). The copy is 1 / n_out
 * of the first product's work, and changes no value. One row goes through
 * sgemv, which streams W, not X: no copy. */
#define ALIGN_COPY_ROWS 64

static const float *on_a_line(const float *X, size_t rows, size_t n_in, float *buf)
{
    if (((uintptr_t)X & 63u) == 0 || rows < 2 || rows > ALIGN_COPY_ROWS) return X;
    memcpy(buf, X, rows * n_in * sizeof *X);
    return buf;
}

/* The input that layer l actually saw in the last forward_train. */
static const float *layer_input(const mlp_network *net, const mlp__buffers *buf, size_t l)
{
    if (buf->dropout_on && net->layers[l].dropout > 0.0f) return buf->in_drop[l];
    return l == 0 ? buf->x0 : buf->a[l - 1];
}

void mlp__forward_train(const mlp_network *net, mlp__buffers *buf, const float *X, size_t rows,
                        const mlp__drop_key *drop)
{
    size_t l;
    const float *in = X;
    assert(rows <= buf->capacity);
    if (net->in_offset) {
        scale_job job = {net, X, buf->input};
        double t0 = mlp__prof_start(net);
        size_t min_rows = mlp__par_min(net->pool) / net->sizes[0] + 1;
        mlp__pool_for(net->pool, scale_part, &job, rows, 1, min_rows);
        mlp__prof_add(net, MLP_PROFILE_ELEMENTWISE, t0);
        in = buf->input;
    } else {
        in = on_a_line(X, rows, net->sizes[0], buf->input);
    }
    buf->x0 = in;
    buf->dropout_on = drop != NULL;
    for (l = 0; l < net->n_layers; l++) {
        const mlp__layer *ly = &net->layers[l];
        if (drop && ly->dropout > 0.0f) {
            double t0 = mlp__prof_start(net);
            mlp__par_dropout(net->pool, drop, l, ly->dropout, in, rows, ly->n_in, buf->mask[l],
                             buf->in_drop[l]);
            mlp__prof_add(net, MLP_PROFILE_DROPOUT, t0);
            in = buf->in_drop[l];
        }
        layer_forward(net, net->pool, ly, in, rows, buf->z[l], buf->a[l]);
        in = buf->a[l];
    }
}

/* The error term of layer l's input from D (that of its output), with W(l)
 * as it is now: Dp = (D · W) ⊙ mask ⊙ f'(Z(l-1)). l > 0. */
static void input_delta(const mlp_network *net, const mlp__buffers *buf, size_t l, size_t rows,
                        const float *D, float *Dp)
{
    const mlp__layer *ly = &net->layers[l], *prev = &net->layers[l - 1];
    const float *W = net->params + ly->w_off;
    double t0 = mlp__prof_start(net);
    /* Dp = D · W: (rows x n_out)(n_out x n_in) (a single row: W^T · d) */
    if (rows == 1)
        mlp__sgemv(1, ly->n_out, ly->n_in, 1.0f, W, ly->n_in, D, 0.0f, Dp);
    else
        mlp__sgemm(0, 0, rows, ly->n_in, ly->n_out, 1.0f, D, ly->n_out, W, ly->n_in, 0.0f, Dp,
                   ly->n_in);
    mlp__prof_add(net, MLP_PROFILE_PRODUCTS, t0);
    t0 = mlp__prof_start(net);
    /* Dp *= mask ⊙ f'(Z_prev), one pass (z[l - 1] is a[l - 1] where f'
     * reads A alone; buffers.h) */
    mlp__par_delta(net->pool, prev->act,
                   buf->dropout_on && ly->dropout > 0.0f ? buf->mask[l] : NULL, buf->z[l - 1],
                   buf->a[l - 1], Dp, rows * ly->n_in);
    mlp__prof_add(net, MLP_PROFILE_ELEMENTWISE, t0);
}

void mlp__backward(mlp_network *net, mlp__buffers *buf, size_t rows, int accumulate)
{
    mlp__backward_hook(net, buf, rows, accumulate, NULL, NULL);
}

void mlp__backward_hook(mlp_network *net, mlp__buffers *buf, size_t rows, int accumulate,
                        mlp__layer_done done, void *ctx)
{
    size_t l = net->n_layers;
    int cur = 0;
    const float beta = accumulate ? 1.0f : 0.0f;
    while (l-- > 0) {
        const mlp__layer *ly = &net->layers[l];
        const float *D = buf->delta[cur], *In = layer_input(net, buf, l);
        float *dW = net->grads + ly->w_off, *db = net->grads + ly->b_off;
        double t0 = mlp__prof_start(net);

        /* dW (+)= D^T · In: (n_out x rows)(rows x n_in) */
        mlp__sgemm(1, 0, ly->n_out, ly->n_in, rows, 1.0f, D, ly->n_out, In, ly->n_in, beta, dW,
                   ly->n_in);
        mlp__prof_add(net, MLP_PROFILE_PRODUCTS, t0);
        t0 = mlp__prof_start(net);
        mlp__par_bias_grad(net->pool, D, rows, ly->n_out, db, accumulate);
        mlp__prof_add(net, MLP_PROFILE_ELEMENTWISE, t0);
        if (done) /* layer l's gradient is final: its sum may start */
            done(ctx, l);
        if (l > 0) {
            input_delta(net, buf, l, rows, D, buf->delta[1 - cur]);
            cur = 1 - cur;
        }
    }
}

/* Whether W = decay W - lr D^T In is sure to stay finite for a finite W,
 * from the small arrays alone: every |(D^T In)_ij| is at most
 * S = rows max|D| max|In|, and when S and lr S stay below 1e30 (half a
 * float ulp at FLT_MAX is 1e31) and |decay| <= 1, neither the products,
 * their sums nor the update can overflow, and finite D and In give no NaN.
 * This spares a pass over W, costly at small batch (benchmarks/README.md);
 * the two maxima split across the pool, and a max is the same whatever
 * the split. */
static int update_stays_finite(mlp__pool *pool, const float *D, size_t n_out, const float *In,
                               size_t n_in, size_t rows, float lr, float decay)
{
    double S;
    if (!(fabsf(decay) <= 1.0f)) return 0;
    S = (double)rows * (double)mlp__par_max_abs(pool, D, rows * n_out) *
        (double)mlp__par_max_abs(pool, In, rows * n_in);
    return S < 1e30 && (double)lr * S < 1e30;
}

/* Backward with the SGD update fused in, layer by layer from the last:
 * the input error term first (it needs W before the update), then
 *   W = (1 - lr l2) W - lr D^T In   one sgemm, beta = 1 - lr l2, in place
 *   b = b - lr D^T 1                (D^T 1 written to grads as scratch)
 * so the weight gradient is never written and read back, and the update
 * costs no pass of its own over the parameters. Returns 1 when every
 * updated parameter is finite, given finite parameters before. */
/* After the fused weight update: b -= lr D^T 1, and the finiteness check
 * of W where the bound did not settle it, and of b. */
static int update_tail(mlp_network *net, const mlp__layer *ly, const float *D, size_t rows,
                       float lr, int sure)
{
    float *W = net->params + ly->w_off, *b = net->params + ly->b_off;
    float *db = net->grads + ly->b_off;
    double t0 = mlp__prof_start(net);
    int ok = 1;
    mlp__par_bias_grad(net->pool, D, rows, ly->n_out, db, 0);
    for (size_t j = 0; j < ly->n_out; j++) b[j] = b[j] - lr * db[j];
    if (!sure) ok &= mlp__par_all_finite(net->pool, W, ly->n_out * ly->n_in);
    ok &= mlp__all_finite(b, ly->n_out);
    mlp__prof_add(net, MLP_PROFILE_OPTIMIZER, t0);
    return ok;
}

static int sgd_backward(mlp_network *net, mlp__buffers *buf, size_t rows, float lr)
{
    size_t l = net->n_layers;
    int cur = 0, ok = 1;
    const float decay = 1.0f - lr * net->l2;
    while (l-- > 0) {
        const mlp__layer *ly = &net->layers[l];
        const float *D = buf->delta[cur], *In = layer_input(net, buf, l);
        float *W = net->params + ly->w_off;
        double t0 = mlp__prof_start(net);
        /* the bound reads rows x (n_in + n_out) floats, the check of W
         * n_out x n_in: the smaller wins (the bound up to batch ~300 here) */
        int sure = rows * (ly->n_in + ly->n_out) < ly->n_in * ly->n_out &&
                   update_stays_finite(net->pool, D, ly->n_out, In, ly->n_in, rows, lr, decay);

        mlp__prof_add(net, MLP_PROFILE_ELEMENTWISE, t0);
        if (l > 0) input_delta(net, buf, l, rows, D, buf->delta[1 - cur]);
        t0 = mlp__prof_start(net);
        /* W = decay W - lr D^T · In: (n_out x rows)(rows x n_in); a single
         * row without decay: W -= lr d in^T, sger (faster than sgemm) */
        if (rows == 1 && decay == 1.0f)
            mlp__sger(ly->n_out, ly->n_in, -lr, D, In, W, ly->n_in);
        else
            mlp__sgemm(1, 0, ly->n_out, ly->n_in, rows, -lr, D, ly->n_out, In, ly->n_in, decay, W,
                       ly->n_in);
        mlp__prof_add(net, MLP_PROFILE_PRODUCTS, t0);
        ok &= update_tail(net, ly, D, rows, lr, sure);
        cur = 1 - cur;
    }
    return ok;
}

int mlp__sgd_step_fused(mlp_network *net, const float *X, size_t batch, const void *targets,
                        const mlp__drop_key *drop, float lr, double *loss, double *J,
                        size_t *correct)
{
    return mlp__sgd_step_fused_w(net, X, batch, targets, NULL, drop, lr, loss, J, correct);
}

double mlp__weight_sum(const float *w, size_t n)
{
    double s = 0.0;
    if (!w) return (double)n;
    for (size_t i = 0; i < n; i++) s += w[i];
    return s;
}

int mlp__sgd_step_fused_w(mlp_network *net, const float *X, size_t batch, const void *targets,
                          const float *w, const mlp__drop_key *drop, float lr, double *loss,
                          double *J, size_t *correct)
{
    mlp__buffers *buf = &net->ws;
    const size_t L = net->n_layers;
    double mean, t0, wsum = mlp__weight_sum(w, batch);
    float scale = wsum > 0.0 ? (float)(1.0 / wsum) : 0.0f;
    assert(batch >= 1 && batch <= buf->capacity);
    if (!w) scale = 1.0f / (float)batch; /* bit-identical to the unweighted path */
    mlp__forward_train(net, buf, X, batch, drop);
    t0 = mlp__prof_start(net);
    mean = mlp__loss_delta_w(net, buf->a[L - 1], buf->z[L - 1], targets, w, batch, scale,
                             buf->delta[0], correct);
    mlp__prof_add(net, MLP_PROFILE_ELEMENTWISE, t0);
    mean = wsum > 0.0 ? mean / wsum : 0.0;
    *loss = mean;
    *J = mean + mlp_penalty(net);
    if (!isfinite(*J)) return 1; /* the caller stops before any change */
    return sgd_backward(net, buf, batch, lr);
}

void mlp__add_l2_grad(mlp_network *net)
{
    size_t l, i;
    const float lambda = net->l2;
    for (l = 0; l < net->n_layers; l++) {
        const mlp__layer *ly = &net->layers[l];
        const float *W = net->params + ly->w_off;
        float *dW = net->grads + ly->w_off;
        size_t count = ly->n_in * ly->n_out;
        for (i = 0; i < count; i++) dW[i] += lambda * W[i];
    }
}

mlp_status mlp__loss_grad(mlp_network *net, const float *X, size_t batch, const void *targets,
                          const float *w, const mlp__drop_key *drop, double *loss, double *J,
                          size_t *correct)
{
    const double wsum = mlp__weight_sum(w, batch);
    float scale = wsum > 0.0 ? (float)(1.0 / wsum) : 0.0f;
    size_t right = 0;
    double sum = 0.0, mean;
    if (!w) scale = 1.0f / (float)batch; /* bit-identical to the unweighted path */
    mlp__loss_grad_part(net, X, batch, targets, w, drop, scale, NULL, NULL, &sum, &right);
    if (net->l2 != 0.0f) {
        double t0 = mlp__prof_start(net);
        mlp__add_l2_grad(net);
        mlp__prof_add(net, MLP_PROFILE_OPTIMIZER, t0);
    }
    mean = wsum > 0.0 ? sum / wsum : 0.0;
    if (loss) *loss = mean;
    if (J) *J = mean + mlp_penalty(net);
    if (correct) *correct = right;
    return MLP_OK;
}

void mlp__loss_grad_part(mlp_network *net, const float *X, size_t rows, const void *targets,
                         const float *w, const mlp__drop_key *drop, float scale,
                         mlp__layer_done done, void *ctx, double *loss_sum, size_t *correct)
{
    mlp__buffers *buf = &net->ws;
    const size_t L = net->n_layers, n_in = net->sizes[0];
    size_t start, n, right = 0;
    double sum = 0.0;
    if (rows == 0) { /* no rows here: a zero gradient still joins every sum */
        memset(net->grads, 0, net->n_params * sizeof(float));
        for (size_t l = L; done && l-- > 0;)
            done(ctx, l);
    }
    for (start = 0; start < rows; start += n) {
        size_t c = 0;
        mlp__drop_key chunk;
        double t0;
        n = min_size(buf->capacity, rows - start);
        if (drop) {
            chunk = *drop;
            chunk.row0 += start;
        }
        mlp__forward_train(net, buf, X + start * n_in, n, drop ? &chunk : NULL);
        t0 = mlp__prof_start(net);
        sum += mlp__loss_delta_w(net, buf->a[L - 1], buf->z[L - 1],
                                 mlp__targets_at(net, targets, start), w ? w + start : NULL, n,
                                 scale, buf->delta[0], &c);
        mlp__prof_add(net, MLP_PROFILE_ELEMENTWISE, t0);
        right += c;
        /* only the last chunk's backward finishes the layers' gradients */
        mlp__backward_hook(net, buf, n, start > 0, start + n == rows ? done : NULL, ctx);
    }
    *loss_sum = sum;
    *correct = right;
}

/* Checks a batch argument and that batch x n_in floats are addressable. */
static mlp_status check_batch(const mlp_network *net, size_t batch)
{
    size_t count;
    if (batch == 0) return mlp__fail(MLP_ERR_SIZE, "batch size is 0");
    if (!mlp__mul_ok(batch, net->max_width, &count) || count > SIZE_MAX / sizeof(float))
        return mlp__fail(MLP_ERR_SIZE, "batch of %zu rows overflows the address space", batch);
    return MLP_OK;
}

mlp_status mlp__check_weights(const float *w, size_t n, int need_positive, const char *what)
{
    if (!w) return MLP_OK;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(w[i]))
            return mlp__fail(MLP_ERR_NONFINITE, "%s[%zu] is %g", what, i, (double)w[i]);
        if (w[i] < 0.0f)
            return mlp__fail(MLP_ERR_ARGUMENT, "%s[%zu] is %g: weights must be >= 0", what, i,
                             (double)w[i]);
    }
    if (need_positive && !(mlp__weight_sum(w, n) > 0.0))
        return mlp__fail(MLP_ERR_ARGUMENT, "%s: the %zu weights sum to 0", what, n);
    return MLP_OK;
}

static mlp_status loss_grad_checked(mlp_network *net, const float *X, size_t batch,
                                    const void *targets, const float *w, double *J)
{
    mlp_status st;
    MLP__CHECK_NULL(X);
    MLP__CHECK_NULL(targets);
    if ((st = check_batch(net, batch)) != MLP_OK) return st;
    if ((st = mlp__check_finite(X, batch * net->sizes[0], "X")) != MLP_OK) return st;
    if ((st = mlp__check_targets(net, targets, batch)) != MLP_OK) return st;
    if ((st = mlp__check_weights(w, batch, 1, "weights")) != MLP_OK) return st;
    return mlp__loss_grad(net, X, batch, targets, w, NULL, NULL, J, NULL);
}

mlp_status mlp__loss_grad_checked(mlp_network *net, const float *X, size_t batch,
                                  const void *targets, double *J)
{
    return loss_grad_checked(net, X, batch, targets, NULL, J);
}

mlp_status mlp__evaluate(mlp_network *net, const float *X, size_t n, const void *targets,
                         double *loss, double *accuracy)
{
    return mlp__evaluate_w(net, X, n, targets, NULL, loss, accuracy);
}

mlp_status mlp__evaluate_w(mlp_network *net, const float *X, size_t n, const void *targets,
                           const float *w, double *loss, double *accuracy)
{
    mlp__buffers *buf;
    const size_t L = net->n_layers;
    size_t start, rows, right = 0;
    double sum = 0.0;
    mlp_status st;
    MLP__CHECK_NULL(X);
    MLP__CHECK_NULL(targets);
    if ((st = check_batch(net, n)) != MLP_OK) return st;
    if ((st = mlp__check_targets(net, targets, n)) != MLP_OK) return st;
    buf = &net->ws;
    for (start = 0; start < n; start += rows) {
        size_t c = 0;
        rows = min_size(buf->capacity, n - start);
        mlp__forward_train(net, buf, X + start * net->sizes[0], rows, NULL);
        sum += mlp__loss_delta_w(net, buf->a[L - 1], buf->z[L - 1],
                                 mlp__targets_at(net, targets, start), w ? w + start : NULL, rows,
                                 0.0f, NULL, &c);
        right += c;
    }
    if (loss) {
        double wsum = mlp__weight_sum(w, n);
        *loss = wsum > 0.0 ? sum / wsum : 0.0;
    }
    if (accuracy) *accuracy = net->loss == MLP_LOSS_MSE ? NAN : (double)right / (double)n;
    return MLP_OK;
}

/* Inference through two ping-pong buffers of capacity x max width; the
 * last layer writes straight into Y. Each layer works in place (A == Z). */
static void infer(const mlp_network *net, float *input, float *ping, float *pong, size_t capacity,
                  const float *X, size_t batch, float *Y)
{
    const size_t L = net->n_layers, n_in = net->sizes[0], n_out = net->sizes[L];
    size_t start, rows, l;
    for (start = 0; start < batch; start += rows) {
        const float *in = X + start * n_in;
        rows = min_size(capacity, batch - start);
        if (net->in_offset) {
            scale_input(net, in, rows, input);
            in = input;
        } else {
            in = on_a_line(in, rows, n_in, input);
        }
        for (l = 0; l < L; l++) {
            float *out = l + 1 == L ? Y + start * n_out : (l % 2 ? pong : ping);
            layer_forward(net, NULL, &net->layers[l], in, rows, out, out);
            in = out;
        }
    }
}

static mlp_status forward(mlp_network *net, const float *X, size_t batch, float *Y)
{
    mlp_status st;
    MLP__CHECK_NULL(X);
    MLP__CHECK_NULL(Y);
    if ((st = check_batch(net, batch)) != MLP_OK) return st;
    infer(net, net->ws.input, net->ws.delta[0], net->ws.delta[1], net->ws.capacity, X, batch, Y);
    return MLP_OK;
}

mlp_status mlp_forward_ws(const mlp_network *net, mlp_workspace *ws, const float *X, size_t batch,
                          float *Y)
{
    mlp_status st;
    mlp__fpmode fp;
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(ws);
    MLP__CHECK_NULL(X);
    MLP__CHECK_NULL(Y);
    if (!mlp__workspace_fits(net, ws))
        return mlp__fail(MLP_ERR_MISMATCH, "the workspace was made for a network of another shape");
    if ((st = check_batch(net, batch)) != MLP_OK) return st;
    fp = mlp__flush_subnormals();
    infer(net, ws->input, ws->ping, ws->pong, ws->capacity, X, batch, Y);
    mlp__fpmode_restore(fp);
    return MLP_OK;
}

/* Public entry points under the call rule (guard.h): the network's own
 * workspace is scratch that one call at a time may use. */
mlp_status mlp_loss_grad(mlp_network *net, const float *X, size_t batch, const void *targets,
                         double *J)
{
    MLP__GUARDED_FLUSHED(net, MLP__CHANGE, "network",
                         mlp__loss_grad_checked(net, X, batch, targets, J));
}

mlp_status mlp_loss_grad_weighted(mlp_network *net, const float *X, size_t batch,
                                  const void *targets, const float *weights, double *J)
{
    MLP__GUARDED_FLUSHED(net, MLP__CHANGE, "network",
                         loss_grad_checked(net, X, batch, targets, weights, J));
}

mlp_status mlp_evaluate(mlp_network *net, const float *X, size_t n, const void *targets,
                        double *loss, double *accuracy)
{
    MLP__GUARDED_FLUSHED(net, MLP__READ, "network",
                         mlp__evaluate(net, X, n, targets, loss, accuracy));
}

mlp_status mlp_forward(mlp_network *net, const float *X, size_t batch, float *Y)
{
    MLP__GUARDED_FLUSHED(net, MLP__READ, "network", forward(net, X, batch, Y));
}
