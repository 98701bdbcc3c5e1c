/* Activation functions (activation.c). Internal: not API. */
#ifndef MLP_ACTIVATION_H
#define MLP_ACTIVATION_H

#include "internal.h"

/* Fused epilogue: Z += b (broadcast over rows), A = f(Z). Z, A rows x n. */
MLP__HIDDEN void mlp__bias_act(mlp_activation act, const float *b, float *Z, float *A,
                               size_t rows, size_t n);
/* In-place: D *= f'(Z) (A = f(Z) is given for the cheap derivatives). */
MLP__HIDDEN void mlp__act_backward(mlp_activation act, const float *Z, const float *A, float *D,
                                   size_t count);
/* Scalar f and f' in double, for references and tests. */
MLP__HIDDEN double mlp__act_f(mlp_activation act, double z);
MLP__HIDDEN int mlp__act_has_kink(mlp_activation act);

#endif /* MLP_ACTIVATION_H */
