/* Activations f and their derivatives f', fused into single passes. */
#include "activation.h"
#include "scalar.h"
#include "vec.h"

#include <math.h>
#include <string.h>

#define LEAKY_SLOPE 0.01f
#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

static inline float geluf(float z) { return 0.5f * z * (1.0f + erff(z * INV_SQRT2)); }

/* One pass over rows x n: z = Z + b; Z = z (when keep_z); A = f(z).
 * Without the store to Z the pass moves two streams instead of three; in
 * place (A is Z) one array is read and written, and the loop names one
 * pointer so that it vectorises without an overlap check. */
#define BIAS_ACT_LOOP(EXPR)                           \
    for (r = 0; r < rows; r++) {                      \
        float *zr = Z + r * n, *ar = A + r * n;       \
        if (A == Z) {                                 \
            for (j = 0; j < n; j++) {                 \
                float z = ar[j] + b[j];               \
                ar[j] = (EXPR);                       \
            }                                         \
        } else if (keep_z) {                          \
            for (j = 0; j < n; j++) {                 \
                float z = zr[j] + b[j];               \
                zr[j] = z;                            \
                ar[j] = (EXPR);                       \
            }                                         \
        } else {                                      \
            for (j = 0; j < n; j++) {                 \
                float z = zr[j] + b[j];               \
                ar[j] = (EXPR);                       \
            }                                         \
        }                                             \
    }

MLP__VEC_CLONES static void bias_act(mlp_activation act, const float *b, float *Z, float *A,
                                     size_t rows, size_t n, int keep_z)
{
    size_t r, j;
    switch (act) {
    case MLP_ACT_IDENTITY:
        if (A == Z) {
            for (r = 0; r < rows; r++)
                for (j = 0; j < n; j++) Z[r * n + j] += b[j];
        } else {
            BIAS_ACT_LOOP(z)
        }
        break;
    case MLP_ACT_SIGMOID: BIAS_ACT_LOOP(mlp__sigmoidf(z)) break;
    case MLP_ACT_TANH: BIAS_ACT_LOOP(tanhf(z)) break;
    case MLP_ACT_RELU: BIAS_ACT_LOOP(z > 0.0f ? z : 0.0f) break;
    case MLP_ACT_LEAKY_RELU: BIAS_ACT_LOOP(z > 0.0f ? z : LEAKY_SLOPE * z) break;
    case MLP_ACT_GELU: BIAS_ACT_LOOP(geluf(z)) break;
    case MLP_ACT_SOFTPLUS: BIAS_ACT_LOOP(mlp__softplusf(z)) break;
    default: assert(!"unknown activation"); break;
    }
}

/* D *= f'(Z), with A = f(Z) where that is cheaper. Selects rather than
 * multiplies by 0/1, so that the loops vectorise. */
#define BACKWARD_LOOP(EXPR)                 \
    for (i = 0; i < count; i++) {           \
        float z = Z[i], a = A[i], d = D[i]; \
        (void)z;                            \
        (void)a;                            \
        D[i] = (EXPR);                      \
    }

MLP__VEC_CLONES static void act_backward(mlp_activation act, const float *restrict Z,
                                         const float *restrict A, float *restrict D, size_t count)
{
    size_t i;
    switch (act) {
    case MLP_ACT_IDENTITY: break;
    case MLP_ACT_SIGMOID: BACKWARD_LOOP(d * (a * (1.0f - a))) break;
    case MLP_ACT_TANH: BACKWARD_LOOP(d * (1.0f - a * a)) break;
    /* a > 0 exactly when z > 0 (NaN and -0 included), so A serves */
    case MLP_ACT_RELU: BACKWARD_LOOP(a > 0.0f ? d : 0.0f) break;
    case MLP_ACT_LEAKY_RELU: BACKWARD_LOOP(a > 0.0f ? d : LEAKY_SLOPE * d) break;
    case MLP_ACT_GELU:
        /* d/dz z*Phi(z) = Phi(z) + z*phi(z) */
        BACKWARD_LOOP(d * (0.5f * (1.0f + erff(z * INV_SQRT2)) + z * INV_SQRT_2PI * expf(-0.5f * z * z)))
        break;
    case MLP_ACT_SOFTPLUS: BACKWARD_LOOP(d * mlp__sigmoidf(z)) break;
    default: assert(!"unknown activation"); break;
    }
}

int mlp__act_backward_reads_z(mlp_activation act)
{
    return act == MLP_ACT_GELU || act == MLP_ACT_SOFTPLUS;
}

int mlp__layer_keeps_z(mlp_activation act, int is_output)
{
    return is_output || mlp__act_backward_reads_z(act);
}

void mlp__bias_act(mlp_activation act, const float *b, float *Z, float *A, size_t rows, size_t n,
                   int keep_z)
{
    bias_act(act, b, Z, A, rows, n, keep_z || A == Z);
}

void mlp__act_backward(mlp_activation act, const float *Z, const float *A, float *D, size_t count)
{
    act_backward(act, Z, A, D, count);
}

double mlp__act_f(mlp_activation act, double z)
{
    switch (act) {
    case MLP_ACT_IDENTITY: return z;
    case MLP_ACT_SIGMOID: return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
    case MLP_ACT_TANH: return tanh(z);
    case MLP_ACT_RELU: return z > 0 ? z : 0.0;
    case MLP_ACT_LEAKY_RELU: return z > 0 ? z : 0.01 * z;
    case MLP_ACT_GELU: return 0.5 * z * (1.0 + erf(z * 0.70710678118654752));
    case MLP_ACT_SOFTPLUS: return fmax(z, 0.0) + log1p(exp(-fabs(z)));
    default: return NAN;
    }
}

int mlp__act_has_kink(mlp_activation act)
{
    return act == MLP_ACT_RELU || act == MLP_ACT_LEAKY_RELU;
}

static const char *const act_names[MLP_ACT_COUNT_] = {
    "identity", "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "softplus",
};

const char *mlp_activation_name(mlp_activation act)
{
    if ((unsigned)act >= MLP_ACT_COUNT_) return NULL;
    return act_names[act];
}

mlp_status mlp_activation_parse(const char *name, mlp_activation *out)
{
    int i;
    MLP__CHECK_NULL(name);
    MLP__CHECK_NULL(out);
    for (i = 0; i < MLP_ACT_COUNT_; i++) {
        if (strcmp(name, act_names[i]) == 0) {
            *out = (mlp_activation)i;
            return MLP_OK;
        }
    }
    return mlp__fail(MLP_ERR_ACTIVATION, "unknown activation \"%s\"", name);
}
