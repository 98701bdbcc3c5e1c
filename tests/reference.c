/* The naive double-precision reference MLP (see reference.h). */
#include "reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REF_LEAKY_SLOPE 0.01

static double ref_sigmoid(double z)
{
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* log(1 + e^z) without overflow. */
static double ref_softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

double ref_act(mlp_activation act, double z)
{
    switch (act) {
    case MLP_ACT_IDENTITY: return z;
    case MLP_ACT_SIGMOID: return ref_sigmoid(z);
    case MLP_ACT_TANH: return tanh(z);
    case MLP_ACT_RELU: return z > 0 ? z : 0.0;
    case MLP_ACT_LEAKY_RELU: return z > 0 ? z : REF_LEAKY_SLOPE * z;
    case MLP_ACT_GELU: return z * 0.5 * (1.0 + erf(z / sqrt(2.0)));
    case MLP_ACT_SOFTPLUS: return ref_softplus(z);
    default: return NAN;
    }
}

double ref_act_deriv(mlp_activation act, double z)
{
    switch (act) {
    case MLP_ACT_IDENTITY: return 1.0;
    case MLP_ACT_SIGMOID: {
        double s = ref_sigmoid(z);
        return s * (1.0 - s);
    }
    case MLP_ACT_TANH: {
        double t = tanh(z);
        return 1.0 - t * t;
    }
    case MLP_ACT_RELU: return z > 0 ? 1.0 : 0.0;
    case MLP_ACT_LEAKY_RELU: return z > 0 ? 1.0 : REF_LEAKY_SLOPE;
    case MLP_ACT_GELU: {
        /* d/dz z Phi(z) = Phi(z) + z phi(z) */
        double Phi = 0.5 * (1.0 + erf(z / sqrt(2.0)));
        double phi = exp(-0.5 * z * z) / sqrt(2.0 * 3.14159265358979323846);
        return Phi + z * phi;
    }
    case MLP_ACT_SOFTPLUS: return ref_sigmoid(z);
    default: return NAN;
    }
}

int ref_act_has_kink(mlp_activation act)
{
    return act == MLP_ACT_RELU || act == MLP_ACT_LEAKY_RELU;
}

size_t ref_num_params(const ref_net *net)
{
    size_t n = 0;
    for (size_t l = 0; l < net->n_layers; l++) n += (net->sizes[l] + 1) * net->sizes[l + 1];
    return n;
}

size_t ref_weights_offset(const ref_net *net, size_t layer)
{
    size_t off = 0;
    for (size_t l = 0; l < layer; l++) off += (net->sizes[l] + 1) * net->sizes[l + 1];
    return off;
}

size_t ref_bias_offset(const ref_net *net, size_t layer)
{
    return ref_weights_offset(net, layer) + net->sizes[layer] * net->sizes[layer + 1];
}

size_t ref_num_units(const ref_net *net)
{
    size_t n = 0;
    for (size_t l = 0; l < net->n_layers; l++) n += net->sizes[l + 1];
    return n;
}

double ref_loss_sample(mlp_loss loss, const double *o, size_t n, const double *y, int32_t cls)
{
    double L = 0.0;
    switch (loss) {
    case MLP_LOSS_MSE:
        for (size_t k = 0; k < n; k++) L += 0.5 * (o[k] - y[k]) * (o[k] - y[k]);
        return L;
    case MLP_LOSS_SOFTMAX_CE: {
        /* -log softmax(o)_y = logsumexp(o) - o_y */
        double m = o[0];
        for (size_t k = 1; k < n; k++) m = o[k] > m ? o[k] : m;
        double s = 0.0;
        for (size_t k = 0; k < n; k++) s += exp(o[k] - m);
        return m + log(s) - o[cls];
    }
    case MLP_LOSS_SIGMOID_CE:
        for (size_t k = 0; k < n; k++) L += ref_softplus(o[k]) - y[k] * o[k];
        return L;
    default: return NAN;
    }
}

void ref_loss_delta(mlp_loss loss, const double *o, size_t n, const double *y, int32_t cls,
                    double *d)
{
    switch (loss) {
    case MLP_LOSS_MSE:
        for (size_t k = 0; k < n; k++) d[k] = o[k] - y[k];
        break;
    case MLP_LOSS_SOFTMAX_CE: {
        double m = o[0];
        for (size_t k = 1; k < n; k++) m = o[k] > m ? o[k] : m;
        double s = 0.0;
        for (size_t k = 0; k < n; k++) s += exp(o[k] - m);
        for (size_t k = 0; k < n; k++) d[k] = exp(o[k] - m) / s - (k == (size_t)cls ? 1.0 : 0.0);
        break;
    }
    case MLP_LOSS_SIGMOID_CE:
        for (size_t k = 0; k < n; k++) d[k] = ref_sigmoid(o[k]) - y[k];
        break;
    default:
        for (size_t k = 0; k < n; k++) d[k] = NAN;
    }
}

/* Z and A of every layer, each block (batch x n_out(l)) at offset
 * batch * (units before l). */
static void ref_forward_all(const ref_net *net, const double *params, const double *X,
                            size_t batch, double *Z, double *A)
{
    size_t unit_off = 0;
    const double *in = X;
    for (size_t l = 0; l < net->n_layers; l++) {
        size_t n_in = net->sizes[l], n_out = net->sizes[l + 1];
        const double *W = params + ref_weights_offset(net, l);
        const double *b = params + ref_bias_offset(net, l);
        double *z = Z + batch * unit_off, *a = A + batch * unit_off;
        for (size_t r = 0; r < batch; r++) {
            for (size_t i = 0; i < n_out; i++) {
                double s = b[i];
                for (size_t j = 0; j < n_in; j++) s += W[i * n_in + j] * in[r * n_in + j];
                z[r * n_out + i] = s;
                a[r * n_out + i] = ref_act(net->acts[l], s);
            }
        }
        in = a;
        unit_off += n_out;
    }
}

int ref_forward(const ref_net *net, const double *params, const double *X, size_t batch,
                double *Y, double *Zall)
{
    size_t units = ref_num_units(net);
    size_t n_out = net->sizes[net->n_layers];
    double *Z = malloc(sizeof(double) * units * batch);
    double *A = malloc(sizeof(double) * units * batch);
    if (Z == NULL || A == NULL) {
        free(Z);
        free(A);
        return -1;
    }
    ref_forward_all(net, params, X, batch, Z, A);
    memcpy(Y, A + batch * (units - n_out), sizeof(double) * batch * n_out);
    if (Zall != NULL) memcpy(Zall, Z, sizeof(double) * units * batch);
    free(Z);
    free(A);
    return 0;
}

static double ref_penalty(const ref_net *net, const double *params)
{
    double s = 0.0;
    for (size_t l = 0; l < net->n_layers; l++) {
        const double *W = params + ref_weights_offset(net, l);
        for (size_t i = 0; i < net->sizes[l] * net->sizes[l + 1]; i++) s += W[i] * W[i];
    }
    return 0.5 * net->l2 * s;
}

static double ref_mean_loss(const ref_net *net, const double *O, size_t batch, const double *Y,
                            const int32_t *classes)
{
    size_t n_out = net->sizes[net->n_layers];
    double L = 0.0;
    for (size_t r = 0; r < batch; r++)
        L += ref_loss_sample(net->loss, O + r * n_out, n_out, Y ? Y + r * n_out : NULL,
                             classes ? classes[r] : 0);
    return L / (double)batch;
}

double ref_objective(const ref_net *net, const double *params, const double *X, size_t batch,
                     const double *Y, const int32_t *classes, double *Zall)
{
    size_t n_out = net->sizes[net->n_layers];
    double *O = malloc(sizeof(double) * batch * n_out);
    if (O == NULL || ref_forward(net, params, X, batch, O, Zall) != 0) {
        free(O);
        return NAN;
    }
    double J = ref_mean_loss(net, O, batch, Y, classes) + ref_penalty(net, params);
    free(O);
    return J;
}

double ref_loss_grad(const ref_net *net, const double *params, const double *X, size_t batch,
                     const double *Y, const int32_t *classes, double *grads)
{
    size_t L = net->n_layers, units = ref_num_units(net), n_out = net->sizes[L];
    size_t max_w = 0;
    for (size_t l = 0; l <= L; l++) max_w = net->sizes[l] > max_w ? net->sizes[l] : max_w;
    double *Z = malloc(sizeof(double) * units * batch);
    double *A = malloc(sizeof(double) * units * batch);
    double *D = malloc(sizeof(double) * max_w * batch);  /* delta(l), batch x n_out(l) */
    double *Dp = malloc(sizeof(double) * max_w * batch); /* delta(l-1) being built */
    double J = NAN;
    if (Z == NULL || A == NULL || D == NULL || Dp == NULL) goto done;

    ref_forward_all(net, params, X, batch, Z, A);
    size_t off = units - n_out; /* unit offset of the output layer */
    J = ref_mean_loss(net, A + batch * off, batch, Y, classes) + ref_penalty(net, params);

    /* delta(L) = dL/do * f'(z(L)) / batch */
    for (size_t r = 0; r < batch; r++) {
        double *d = D + r * n_out;
        ref_loss_delta(net->loss, A + batch * off + r * n_out, n_out, Y ? Y + r * n_out : NULL,
                       classes ? classes[r] : 0, d);
        for (size_t k = 0; k < n_out; k++)
            d[k] *= ref_act_deriv(net->acts[L - 1], Z[batch * off + r * n_out + k]) / (double)batch;
    }
    for (size_t l = L; l-- > 0;) {
        size_t n_in = net->sizes[l], no = net->sizes[l + 1];
        const double *W = params + ref_weights_offset(net, l);
        double *gW = grads + ref_weights_offset(net, l);
        double *gb = grads + ref_bias_offset(net, l);
        const double *in = l == 0 ? X : A + batch * (off - n_in);
        /* dJ/dW(l) = delta(l)^T A(l-1) + l2 W(l);  dJ/db(l) = delta(l)^T 1 */
        for (size_t i = 0; i < no; i++) {
            double sb = 0.0;
            for (size_t r = 0; r < batch; r++) sb += D[r * no + i];
            gb[i] = sb;
            for (size_t j = 0; j < n_in; j++) {
                double s = 0.0;
                for (size_t r = 0; r < batch; r++) s += D[r * no + i] * in[r * n_in + j];
                gW[i * n_in + j] = s + net->l2 * W[i * n_in + j];
            }
        }
        if (l == 0) break;
        /* delta(l-1) = f'(z(l-1)) * (delta(l) W(l)) */
        size_t prev_off = off - n_in;
        for (size_t r = 0; r < batch; r++) {
            for (size_t j = 0; j < n_in; j++) {
                double s = 0.0;
                for (size_t i = 0; i < no; i++) s += D[r * no + i] * W[i * n_in + j];
                Dp[r * n_in + j] = s * ref_act_deriv(net->acts[l - 1], Z[batch * prev_off + r * n_in + j]);
            }
        }
        double *t = D;
        D = Dp;
        Dp = t;
        off = prev_off;
    }
done:
    free(Z);
    free(A);
    free(D);
    free(Dp);
    return J;
}

int ref_grad_magnitude(const ref_net *net, const double *params, const double *X, size_t batch,
                       const double *Y, const int32_t *classes, double *gabs)
{
    size_t L = net->n_layers, units = ref_num_units(net), n_out = net->sizes[L];
    size_t max_w = 0;
    for (size_t l = 0; l <= L; l++) max_w = net->sizes[l] > max_w ? net->sizes[l] : max_w;
    double *Z = malloc(sizeof(double) * units * batch);
    double *A = malloc(sizeof(double) * units * batch);
    double *D = malloc(sizeof(double) * max_w * batch);
    double *Dp = malloc(sizeof(double) * max_w * batch);
    int rc = -1;
    if (Z == NULL || A == NULL || D == NULL || Dp == NULL) goto done;
    ref_forward_all(net, params, X, batch, Z, A);
    size_t off = units - n_out;
    for (size_t r = 0; r < batch; r++) {
        double *d = D + r * n_out;
        const double *o = A + batch * off + r * n_out;
        /* The magnitudes of the two terms of each output error term: its
         * subtraction is where float32 loses most when they are close. */
        if (net->loss == MLP_LOSS_SOFTMAX_CE) {
            ref_loss_delta(net->loss, o, n_out, NULL, classes[r], d);
            d[classes[r]] += 1.0; /* back to softmax(o) */
            d[classes[r]] += 1.0; /* plus |onehot| */
        } else {
            for (size_t k = 0; k < n_out; k++)
                d[k] = (net->loss == MLP_LOSS_MSE ? fabs(o[k]) : ref_act(MLP_ACT_SIGMOID, o[k])) +
                       fabs(Y[r * n_out + k]);
        }
        for (size_t k = 0; k < n_out; k++)
            d[k] *= fabs(ref_act_deriv(net->acts[L - 1], Z[batch * off + r * n_out + k])) /
                    (double)batch;
    }
    for (size_t l = L; l-- > 0;) {
        size_t n_in = net->sizes[l], no = net->sizes[l + 1];
        const double *W = params + ref_weights_offset(net, l);
        double *gW = gabs + ref_weights_offset(net, l);
        double *gb = gabs + ref_bias_offset(net, l);
        const double *in = l == 0 ? X : A + batch * (off - n_in);
        for (size_t i = 0; i < no; i++) {
            double sb = 0.0;
            for (size_t r = 0; r < batch; r++) sb += D[r * no + i];
            gb[i] = sb;
            for (size_t j = 0; j < n_in; j++) {
                double s = 0.0;
                for (size_t r = 0; r < batch; r++) s += D[r * no + i] * fabs(in[r * n_in + j]);
                gW[i * n_in + j] = s + net->l2 * fabs(W[i * n_in + j]);
            }
        }
        if (l == 0) break;
        size_t prev_off = off - n_in;
        for (size_t r = 0; r < batch; r++) {
            for (size_t j = 0; j < n_in; j++) {
                double s = 0.0;
                for (size_t i = 0; i < no; i++) s += D[r * no + i] * fabs(W[i * n_in + j]);
                Dp[r * n_in + j] =
                    s * fabs(ref_act_deriv(net->acts[l - 1], Z[batch * prev_off + r * n_in + j]));
            }
        }
        double *t = D;
        D = Dp;
        Dp = t;
        off = prev_off;
    }
    rc = 0;
done:
    free(Z);
    free(A);
    free(D);
    free(Dp);
    return rc;
}
