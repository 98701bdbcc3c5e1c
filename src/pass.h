/* Forward and backward passes over the network's workspace (pass.c). Internal: not API. */
#ifndef MLP_PASS_H
#define MLP_PASS_H

#include "dropout.h"
#include "network.h"

/* Forward over rows [0, rows) of X (rows <= buf->capacity) into buf,
 * keeping Z and A of every layer. With drop != NULL applies the layers'
 * dropout, masks keyed by drop (row r of X is row drop->row0 + r). */
MLP__HIDDEN void mlp__forward_train(const mlp_network *net, mlp__buffers *buf, const float *X,
                                    size_t rows, const mlp__drop_key *drop);
/* Loss summed over `rows` rows of outputs O (rows x n_out, the last layer's
 * activations). With delta != NULL also writes the output error term
 * scale * dL/dZ(L) (rows x n_out; scale is 1/batch for the batch mean).
 * correct (may be NULL) receives the number of right answers. */
MLP__HIDDEN double mlp__loss_delta(const mlp_network *net, const float *O, const float *Z,
                                   const void *targets, size_t rows, float scale, float *delta,
                                   size_t *correct);
/* As mlp__loss_delta with row weights w (NULL = all ones): the loss sum
 * is sum w_r l_r and row r's error term is scaled by scale * w_r. */
MLP__HIDDEN double mlp__loss_delta_w(const mlp_network *net, const float *O, const float *Z,
                                     const void *targets, const float *w, size_t rows,
                                     float scale, float *delta, size_t *correct);
/* sum w[0..n) in double; n when w is NULL. */
MLP__HIDDEN double mlp__weight_sum(const float *w, size_t n);
/* targets advanced by `rows` rows for the network's loss. */
MLP__HIDDEN const void *mlp__targets_at(const mlp_network *net, const void *targets, size_t rows);
/* Backward from buf->delta[0]: grads = (accumulate ? grads : 0) + dL/dparams. */
MLP__HIDDEN void mlp__backward(mlp_network *net, mlp__buffers *buf, size_t rows,
                               int accumulate);
/* Called by the backward pass once layer l's gradient (W and b, a
 * contiguous range of grads) is final. */
typedef void (*mlp__layer_done)(void *ctx, size_t layer);
MLP__HIDDEN void mlp__backward_hook(mlp_network *net, mlp__buffers *buf, size_t rows,
                                    int accumulate, mlp__layer_done done, void *ctx);
/* One process's part of a data-parallel gradient: grads = sum over rows r
 * of scale * w_r * dl_r/dparams (no l2 term: it is added once, after the
 * sum across processes), in chunks of the workspace, with done(ctx, l)
 * called as each layer's gradient is final (layers L-1 down to 0; also
 * when rows == 0, with grads zeroed). *loss_sum = sum w_r l_r, *correct
 * the right answers. Allocates nothing. */
MLP__HIDDEN void mlp__loss_grad_part(mlp_network *net, const float *X, size_t rows,
                                     const void *targets, const float *w,
                                     const mlp__drop_key *drop, float scale,
                                     mlp__layer_done done, void *ctx, double *loss_sum,
                                     size_t *correct);
/* Adds l2 * W to the weight gradients. */
MLP__HIDDEN void mlp__add_l2_grad(mlp_network *net);
/* Full loss and gradient over any batch (chunked), dropout keyed by drop
 * if non-NULL. J = mean loss + penalty, the mean weighted by w (NULL = all
 * ones: sum w_i l_i / sum w_i; 0 when the weights sum to 0). correct may
 * be NULL. Allocates nothing. */
MLP__HIDDEN mlp_status mlp__loss_grad(mlp_network *net, const float *X, size_t batch,
                                      const void *targets, const float *w,
                                      const mlp__drop_key *drop, double *loss, double *J,
                                      size_t *correct);
/* One plain SGD step, p -= lr * dJ/dp (l2 included), with the update fused
 * into the backward pass (no gradient written, no separate update pass),
 * for 1 <= batch <= the workspace capacity. Writes *loss and *J (before the
 * update) and *correct. When J is not finite nothing is updated. Returns 0
 * when a parameter became non-finite (given finite parameters before: the
 * update is bounded from the error terms and inputs, W scanned where the
 * bound is not small or would read more than W), else 1. grads is scratch
 * afterwards. */
MLP__HIDDEN int mlp__sgd_step_fused(mlp_network *net, const float *X, size_t batch,
                                    const void *targets, const mlp__drop_key *drop, float lr,
                                    double *loss, double *J, size_t *correct);
/* The same with row weights w (NULL = all ones), the mean weighted. */
MLP__HIDDEN int mlp__sgd_step_fused_w(mlp_network *net, const float *X, size_t batch,
                                      const void *targets, const float *w,
                                      const mlp__drop_key *drop, float lr, double *loss, double *J,
                                      size_t *correct);

/* mlp_evaluate and mlp_loss_grad without the call rule's check, for the
 * library's own calls on a network it holds. */
MLP__HIDDEN mlp_status mlp__evaluate(mlp_network *net, const float *X, size_t n,
                                     const void *targets, double *loss, double *accuracy);
MLP__HIDDEN mlp_status mlp__loss_grad_checked(mlp_network *net, const float *X, size_t batch,
                                              const void *targets, double *J);
/* mlp__evaluate with the loss weighted by w (NULL = all ones). */
MLP__HIDDEN mlp_status mlp__evaluate_w(mlp_network *net, const float *X, size_t n,
                                       const void *targets, const float *w, double *loss,
                                       double *accuracy);
/* Checks weights for n rows: finite, >= 0, and (when need_positive) not
 * summing to 0. NULL passes. */
MLP__HIDDEN mlp_status mlp__check_weights(const float *w, size_t n, int need_positive,
                                          const char *what);

#endif /* MLP_PASS_H */
