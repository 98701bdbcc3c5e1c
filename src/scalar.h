/* Scalar functions shared by the activations and the losses, written so
 * that no exp can overflow. */
#ifndef MLP_SCALAR_H
#define MLP_SCALAR_H

#include <math.h>

static inline float mlp__sigmoidf(float z)
{
    float e;
    if (z >= 0.0f) return 1.0f / (1.0f + expf(-z));
    e = expf(z);
    return e / (1.0f + e);
}

/* log(1 + e^z) */
static inline float mlp__softplusf(float z) { return fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z))); }

static inline double mlp__softplus(double z) { return fmax(z, 0.0) + log1p(exp(-fabs(z))); }

#endif /* MLP_SCALAR_H */
