/* A naive double-precision reference MLP for the tests: plain loops, no
 * BLAS, written straight from the formulas in ARCHITECTURE.md so that the
 * library's BLAS path can be checked against it (R1, R4).
 *
 * Parameters use the layout of mlp_params(): for each layer, W (n_out x n_in,
 * row-major) then b (n_out). Batches are row-major (batch x n). Targets:
 * `classes` (batch int32 indices) for MLP_LOSS_SOFTMAX_CE, `Y` (batch x n_out)
 * for MLP_LOSS_MSE and MLP_LOSS_SIGMOID_CE; the other may be NULL. */
#ifndef MLP_TEST_REFERENCE_H
#define MLP_TEST_REFERENCE_H

#include "mlp.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ref_net {
    size_t n_layers;
    const size_t *sizes;        /* n_layers + 1, input size first */
    const mlp_activation *acts; /* n_layers */
    mlp_loss loss;
    double l2;
} ref_net;

/* f(z) and f'(z) in double; leaky relu slope 0.01, gelu = z Phi(z). The
 * derivative at a kink (z == 0) is the left one, as z > 0 decides. */
double ref_act(mlp_activation act, double z);
double ref_act_deriv(mlp_activation act, double z);
/* 1 for the activations with a kink at 0 (relu, leaky relu). */
int ref_act_has_kink(mlp_activation act);

size_t ref_num_params(const ref_net *net);
size_t ref_weights_offset(const ref_net *net, size_t layer);
size_t ref_bias_offset(const ref_net *net, size_t layer);

/* Per-sample losses and error terms dL/do (not divided by the batch). */
double ref_loss_sample(mlp_loss loss, const double *o, size_t n, const double *y, int32_t cls);
void ref_loss_delta(mlp_loss loss, const double *o, size_t n, const double *y, int32_t cls,
                    double *d);

/* Y (batch x n_out) = the network's output. If Zall is not NULL it
 * receives every layer's pre-activations, layer after layer, each
 * (batch x n_out(l)): ref_num_units(net) * batch doubles. Returns 0, or -1
 * when it runs out of memory. */
int ref_forward(const ref_net *net, const double *params, const double *X, size_t batch,
                double *Y, double *Zall);
size_t ref_num_units(const ref_net *net);

/* J = batch-mean loss + l2/2 sum ||W||_F^2; NaN when out of memory. Zall
 * (may be NULL) receives the pre-activations as in ref_forward. */
double ref_objective(const ref_net *net, const double *params, const double *X, size_t batch,
                     const double *Y, const int32_t *classes, double *Zall);

/* J as above, and grads (ref_num_params doubles) = dJ/dparams by the
 * error-term recursion. NaN when out of memory. */
double ref_loss_grad(const ref_net *net, const double *params, const double *X, size_t batch,
                     const double *Y, const int32_t *classes, double *grads);

/* The same recursion on magnitudes: at the output the magnitudes of the
 * two terms of dL/do (softmax + onehot, |o| + |y|, sigmoid(o) + |y|) times
 * |f'(z)| / batch, |f'(z)| (|delta| |W|) below, |delta|^T |A| + l2 |W| and
 * |delta|^T 1 for the parameters. Where a gradient entry is a sum that cancels, its
 * magnitude is much larger than the entry: the ratio of the block norms,
 * kappa = ||gabs|| / ||grad||, is the condition number that bounds how well
 * float32 arithmetic can compute the block (error ~ n u kappa). Returns 0,
 * or -1 when out of memory. */
int ref_grad_magnitude(const ref_net *net, const double *params, const double *X, size_t batch,
                       const double *Y, const int32_t *classes, double *gabs);

#endif /* MLP_TEST_REFERENCE_H */
