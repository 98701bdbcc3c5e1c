/* Scalar functions shared by the activations and the losses, written so
 * that no exp can overflow. */
#ifndef MLP_SCALAR_H
#define MLP_SCALAR_H

#include <math.h>
#include <stdint.h>
#include <string.h>

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

/* x's bits and-ed with mask (0 or all ones), or-ed with y's and-ed with
 * ~mask: a select that compiles to vector blends, not branches. */
static inline float mlp__select_bits(int32_t mask, float x, float y)
{
    int32_t xb, yb;
    memcpy(&xb, &x, sizeof xb);
    memcpy(&yb, &y, sizeof yb);
    xb = (xb & mask) | (yb & ~mask);
    memcpy(&x, &xb, sizeof x);
    return x;
}

/* e^x for x <= 0, in float, written to vectorise (no branch, no libm
 * call; GCC will not if-convert float selects under trapping math): Cephes's
 * expf, x = n ln2 + r with |r| <= ln2/2 and a degree-6 polynomial in r,
 * within 1 ulp of e^x over [-87.3, 0] (every fourth float checked against
 * double exp); 0 below, where e^x is no longer a normal float; NaN stays
 * NaN. */
static inline float mlp__exp_nonpos(float x)
{
    const float lo = -87.33654f;
    const int32_t below = -(int32_t)isless(x, lo); /* all ones below lo */
    const int32_t nan = -(int32_t)isnan(x);        /* kept aside: no NaN reaches the int cast */
    float xc = mlp__select_bits(below | nan, lo, x), n, r, p, two_n;
    int32_t bits;
    /* n = round(x / ln2): adding and taking away 1.5 * 2^23 rounds to an
     * integer (floorf would not vectorise) */
    n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    r = (xc - n * 0.693359375f) - n * -2.12194440e-4f; /* ln2 in two parts */
    p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    bits = ((int32_t)n + 127) << 23; /* 2^n, n >= -126 */
    memcpy(&two_n, &bits, sizeof two_n);
    return mlp__select_bits(nan, x, mlp__select_bits(below, 0.0f, p * two_n));
}

#endif /* MLP_SCALAR_H */
