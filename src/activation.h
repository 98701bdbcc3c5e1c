/* Activation functions (activation.c). Internal: not API. */
#ifndef MLP_ACTIVATION_H
#define MLP_ACTIVATION_H

#include "internal.h"

/* Fused epilogue: A = f(Z + b) (b broadcast over rows), Z, A rows x n;
 * Z itself becomes Z + b when keep_z, else stays (in place, A is Z). */
MLP__HIDDEN void mlp__bias_act(mlp_activation act, const float *b, float *Z, float *A,
                               size_t rows, size_t n, int keep_z);
/* Whether mlp__act_backward reads Z for act (else A alone serves). */
MLP__HIDDEN int mlp__act_backward_reads_z(mlp_activation act);
/* Whether a layer's pre-activation Z + b is read after its activation: by
 * the loss (the output layer) or by f' (buffers.h). Elsewhere the layer
 * computes A in place and keeps no Z of its own. */
MLP__HIDDEN int mlp__layer_keeps_z(mlp_activation act, int is_output);
/* In-place: D *= f'(Z) (A = f(Z) is given for the cheap derivatives). */
MLP__HIDDEN void mlp__act_backward(mlp_activation act, const float *Z, const float *A, float *D,
                                   size_t count);
/* Scalar f and f' in double, for references and tests. */
MLP__HIDDEN double mlp__act_f(mlp_activation act, double z);
MLP__HIDDEN int mlp__act_has_kink(mlp_activation act);

#endif /* MLP_ACTIVATION_H */
