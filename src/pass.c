/* Forward and backward passes: error-term backpropagation on BLAS.
 *
 * Shapes, for layer l with n_in inputs and n_out outputs over `rows` rows:
 *   In (rows x n_in)   the layer's input (x, scaled and/or dropped out)
 *   W  (n_out x n_in)  b (n_out)
 *   Z, A (rows x n_out), D = dJ/dZ (rows x n_out)
 */
#include "internal.h"

#include <math.h>
#include <string.h>

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* dst = (X - offset) * scale, row by row. */
static void scale_input(const mlp_network *net, const float *X, size_t rows, float *dst)
{
    size_t n = net->sizes[0], r, j;
    for (r = 0; r < rows; r++)
        for (j = 0; j < n; j++)
            dst[r * n + j] = (X[r * n + j] - net->in_offset[j]) * net->in_scale[j];
}

static void layer_forward(const mlp_network *net, const mlp__layer *ly, const float *In, size_t rows,
                          float *Z, float *A)
{
    const float *W = net->params + ly->w_off, *b = net->params + ly->b_off;
    /* Z = In · W^T (a single row: z = W · in) */
    if (rows == 1)
        mlp__sgemv(0, ly->n_out, ly->n_in, 1.0f, W, ly->n_in, In, 0.0f, Z);
    else
        mlp__sgemm(0, 1, rows, ly->n_out, ly->n_in, 1.0f, In, ly->n_in, W, ly->n_in, 0.0f, Z,
                   ly->n_out);
    /* Z += 1·b^T; A = f(Z), one pass */
    mlp__bias_act(ly->act, b, Z, A, rows, ly->n_out);
}

/* In_drop = In * mask, mask = 1/(1-p) with probability 1-p, else 0. */
static void dropout(float p, const float *In, size_t count, float *mask, float *out, mlp__rng *rng)
{
    size_t i;
    float keep = 1.0f / (1.0f - p);
    /* 24 random bits per unit, compared in integers: exact and cheap. */
    uint32_t threshold = (uint32_t)((double)p * 16777216.0);
    for (i = 0; i < count; i++) {
        uint32_t u = (uint32_t)(mlp__rng_next(rng) >> 40);
        mask[i] = u >= threshold ? keep : 0.0f;
        out[i] = In[i] * mask[i];
    }
}

/* The input that layer l actually saw in the last forward_train. */
static const float *layer_input(const mlp_network *net, const mlp__buffers *buf, size_t l)
{
    if (buf->dropout_on && net->layers[l].dropout > 0.0f) return buf->in_drop[l];
    return l == 0 ? buf->x0 : buf->a[l - 1];
}

void mlp__forward_train(const mlp_network *net, mlp__buffers *buf, const float *X, size_t rows,
                        mlp__rng *dropout_rng)
{
    size_t l;
    const float *in = X;
    assert(rows <= buf->capacity);
    if (net->in_offset) {
        scale_input(net, X, rows, buf->input);
        in = buf->input;
    }
    buf->x0 = in;
    buf->dropout_on = dropout_rng != NULL;
    for (l = 0; l < net->n_layers; l++) {
        const mlp__layer *ly = &net->layers[l];
        if (dropout_rng && ly->dropout > 0.0f) {
            dropout(ly->dropout, in, rows * ly->n_in, buf->mask[l], buf->in_drop[l], dropout_rng);
            in = buf->in_drop[l];
        }
        layer_forward(net, ly, in, rows, buf->z[l], buf->a[l]);
        in = buf->a[l];
    }
}

void mlp__backward(mlp_network *net, mlp__buffers *buf, size_t rows, int accumulate)
{
    size_t l = net->n_layers, r, j;
    int cur = 0;
    const float beta = accumulate ? 1.0f : 0.0f;
    while (l-- > 0) {
        const mlp__layer *ly = &net->layers[l];
        const float *D = buf->delta[cur], *In = layer_input(net, buf, l);
        const float *W = net->params + ly->w_off;
        float *dW = net->grads + ly->w_off, *db = net->grads + ly->b_off;

        /* dW (+)= D^T · In: (n_out x rows)(rows x n_in) */
        mlp__sgemm(1, 0, ly->n_out, ly->n_in, rows, 1.0f, D, ly->n_out, In, ly->n_in, beta, dW,
                   ly->n_in);
        /* db (+)= D^T · 1 */
        if (!accumulate) memset(db, 0, ly->n_out * sizeof *db);
        for (r = 0; r < rows; r++)
            for (j = 0; j < ly->n_out; j++) db[j] += D[r * ly->n_out + j];

        if (l > 0) {
            float *Dp = buf->delta[1 - cur];
            const mlp__layer *prev = &net->layers[l - 1];
            /* D_prev = D · W: (rows x n_out)(n_out x n_in) (a single row: W^T · d) */
            if (rows == 1)
                mlp__sgemv(1, ly->n_out, ly->n_in, 1.0f, W, ly->n_in, D, 0.0f, Dp);
            else
                mlp__sgemm(0, 0, rows, ly->n_in, ly->n_out, 1.0f, D, ly->n_out, W, ly->n_in, 0.0f,
                           Dp, ly->n_in);
            if (buf->dropout_on && ly->dropout > 0.0f)
                for (j = 0; j < rows * ly->n_in; j++) Dp[j] *= buf->mask[l][j];
            /* D_prev *= f'(Z_prev) */
            mlp__act_backward(prev->act, buf->z[l - 1], buf->a[l - 1], Dp, rows * ly->n_in);
            cur = 1 - cur;
        }
    }
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
                          mlp__rng *dropout_rng, double *loss, double *J, size_t *correct)
{
    mlp__buffers *buf = &net->ws;
    const size_t L = net->n_layers, n_in = net->sizes[0];
    const float scale = 1.0f / (float)batch;
    size_t start, rows, right = 0;
    double sum = 0.0, mean;
    for (start = 0; start < batch; start += rows) {
        size_t c = 0;
        rows = min_size(buf->capacity, batch - start);
        mlp__forward_train(net, buf, X + start * n_in, rows, dropout_rng);
        sum += mlp__loss_delta(net, buf->a[L - 1], buf->z[L - 1],
                               mlp__targets_at(net, targets, start), rows, scale, buf->delta[0], &c);
        right += c;
        mlp__backward(net, buf, rows, start > 0);
    }
    if (net->l2 != 0.0f) mlp__add_l2_grad(net);
    mean = sum / (double)batch;
    if (loss) *loss = mean;
    if (J) *J = mean + mlp_penalty(net);
    if (correct) *correct = right;
    return MLP_OK;
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

mlp_status mlp_loss_grad(mlp_network *net, const float *X, size_t batch, const void *targets,
                         double *J)
{
    mlp_status st;
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(X);
    MLP__CHECK_NULL(targets);
    if ((st = check_batch(net, batch)) != MLP_OK) return st;
    if ((st = mlp__check_finite(X, batch * net->sizes[0], "X")) != MLP_OK) return st;
    if ((st = mlp__check_targets(net, targets, batch)) != MLP_OK) return st;
    return mlp__loss_grad(net, X, batch, targets, NULL, NULL, J, NULL);
}

mlp_status mlp_evaluate(mlp_network *net, const float *X, size_t n, const void *targets,
                        double *loss, double *accuracy)
{
    mlp__buffers *buf;
    const size_t L = net ? net->n_layers : 0;
    size_t start, rows, right = 0;
    double sum = 0.0;
    mlp_status st;
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(X);
    MLP__CHECK_NULL(targets);
    if ((st = check_batch(net, n)) != MLP_OK) return st;
    if ((st = mlp__check_targets(net, targets, n)) != MLP_OK) return st;
    buf = &net->ws;
    for (start = 0; start < n; start += rows) {
        size_t c = 0;
        rows = min_size(buf->capacity, n - start);
        mlp__forward_train(net, buf, X + start * net->sizes[0], rows, NULL);
        sum += mlp__loss_delta(net, buf->a[L - 1], buf->z[L - 1],
                               mlp__targets_at(net, targets, start), rows, 0.0f, NULL, &c);
        right += c;
    }
    if (loss) *loss = sum / (double)n;
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
        }
        for (l = 0; l < L; l++) {
            float *out = l + 1 == L ? Y + start * n_out : (l % 2 ? pong : ping);
            layer_forward(net, &net->layers[l], in, rows, out, out);
            in = out;
        }
    }
}

mlp_status mlp_forward(mlp_network *net, const float *X, size_t batch, float *Y)
{
    mlp_status st;
    MLP__CHECK_NULL(net);
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
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(ws);
    MLP__CHECK_NULL(X);
    MLP__CHECK_NULL(Y);
    if (!mlp__workspace_fits(net, ws))
        return mlp__fail(MLP_ERR_MISMATCH, "the workspace was made for a network of another shape");
    if ((st = check_batch(net, batch)) != MLP_OK) return st;
    infer(net, ws->input, ws->ping, ws->pong, ws->capacity, X, batch, Y);
    return MLP_OK;
}
