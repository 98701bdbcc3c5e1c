/* Internal declarations shared by the library's source files. Not API:
 * names with a double underscore (mlp__) are hidden from the .so. */
#ifndef MLP_INTERNAL_H
#define MLP_INTERNAL_H

#include "mlp.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define MLP__HIDDEN __attribute__((visibility("hidden")))
#else
#define MLP__HIDDEN
#endif

/* Element-wise hot loops: on x86-64 GCC also builds AVX2 and AVX-512
 * copies, picked at load time, while the library stays baseline x86-64.
 * Without FMA contraction (ISO C mode) every copy rounds exactly alike, so
 * results stay bit-identical across machines. Only on static functions:
 * GCC exports the resolver of a cloned extern one whatever its visibility
 * (tests/check_exports.sh). MLP_NO_VEC_CLONES (CMake: -DMLP_VEC_CLONES=OFF)
 * leaves them out: their ifunc resolvers run before ThreadSanitizer's
 * runtime is up, which crashes a -fsanitize=thread build at load. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__) && \
    !defined(MLP_NO_VEC_CLONES)
#define MLP__VEC_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define MLP__VEC_CLONES
#endif

/* Default workspace rows allocated by mlp_create. */
#define MLP__DEFAULT_CAPACITY 64

/* ---- errors (status.c) ------------------------------------------- */

/* Records a formatted message for mlp_last_error() and returns status. */
MLP__HIDDEN mlp_status mlp__fail(mlp_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
MLP__HIDDEN void mlp__clear_error(void);

/* One-line argument guards. */
#define MLP__CHECK_NULL(p)                                                       \
    do {                                                                         \
        if ((p) == NULL) return mlp__fail(MLP_ERR_NULL, "%s: %s is NULL", __func__, #p); \
    } while (0)

/* ---- allocation seam (alloc.c) ------------------------------------ */

/* All library allocations go through these. In the test build
 * (MLP_TESTING) they can be told to fail the n-th call and they count. */
MLP__HIDDEN void *mlp__malloc(size_t size);
MLP__HIDDEN void *mlp__calloc(size_t count, size_t size);
MLP__HIDDEN void mlp__free(void *p);
/* a * b (and a * b * c) with overflow reported: returns 0 on overflow. */
MLP__HIDDEN int mlp__mul_ok(size_t a, size_t b, size_t *out);

#ifdef MLP_TESTING
/* Make the n-th allocation from now fail (1 = the next); 0 disables. */
MLP__HIDDEN void mlp__alloc_fail_at(unsigned long n);
/* Allocations made since the counter was last reset, and live blocks. */
MLP__HIDDEN unsigned long mlp__alloc_count(void);
MLP__HIDDEN void mlp__alloc_reset_count(void);
MLP__HIDDEN long mlp__alloc_live(void);
#endif

/* ---- random numbers (rng.c): xoshiro256**, seeded by splitmix64 ---- */

typedef struct mlp__rng {
    uint64_t s[4];
} mlp__rng;

MLP__HIDDEN void mlp__rng_seed(mlp__rng *rng, uint64_t seed);
MLP__HIDDEN uint64_t mlp__rng_next(mlp__rng *rng);
MLP__HIDDEN double mlp__rng_uniform(mlp__rng *rng);  /* [0, 1) */
MLP__HIDDEN double mlp__rng_normal(mlp__rng *rng);   /* N(0, 1) */
MLP__HIDDEN uint64_t mlp__rng_below(mlp__rng *rng, uint64_t n); /* [0, n), unbiased */

/* ---- the network (network.c) -------------------------------------- */

/* Views into the flat parameter array for layer l. */
typedef struct mlp__layer {
    size_t n_in, n_out;
    mlp_activation act;
    size_t w_off; /* offset of W (n_out x n_in) in params/grads */
    size_t b_off; /* offset of b (n_out) */
    float dropout; /* on this layer's input, training only */
} mlp__layer;

/* Activation storage for one pass over up to `capacity` rows. For layer l:
 * z[l], a[l] are (capacity x n_out(l)). Layers with dropout > 0 (at
 * allocation time) also get in_drop[l], the input actually fed to the layer
 * (capacity x n_in(l)), and mask[l], the factors 0 or 1/(1-p) applied. */
typedef struct mlp__buffers {
    size_t capacity;
    float *block;       /* one allocation holding every array below */
    void *ptrs;         /* one allocation holding the pointer arrays */
    float *input;       /* capacity x n_in: the scaled input */
    float **z;          /* n_layers pointers */
    float **a;          /* n_layers pointers */
    float **in_drop;    /* n_layers pointers, NULL where no dropout */
    float **mask;       /* n_layers pointers, NULL where no dropout */
    float *delta[2];    /* ping-pong error terms, capacity x max width */
    const float *x0;    /* the input rows the last forward_train read */
    int dropout_on;     /* whether the last forward_train applied dropout */
} mlp__buffers;

struct mlp_network {
    size_t n_layers;
    size_t *sizes;          /* n_layers + 1 */
    mlp__layer *layers;     /* n_layers */
    size_t max_width;       /* max over sizes */
    size_t n_params;
    float *params;
    float *grads;

    mlp_loss loss;
    float l2;
    float *in_offset;       /* NULL when no input scaling */
    float *in_scale;

    mlp__rng rng;
    uint64_t seed;          /* the seed given at creation or last init */

    /* Training state, saved with the model so training resumes exactly. */
    uint64_t epochs_trained;
    uint64_t steps;         /* optimiser steps taken */
    int opt_kind;           /* mlp_optimizer of opt_state, -1 if none */
    size_t opt_state_len;   /* floats in opt_state (0 when none) */
    float *opt_state;

    mlp__buffers ws;        /* the network's own workspace */
};

struct mlp_workspace {
    size_t n_layers;
    size_t capacity;
    size_t sum_sizes;       /* to check it matches a network */
    size_t max_width;
    float *input;           /* capacity x n_in (scaling) */
    float *ping, *pong;     /* capacity x max_width */
};

/* Validates sizes and activations; fills n_params. */
MLP__HIDDEN mlp_status mlp__check_shape(size_t n_layers, const size_t *sizes,
                                        const mlp_activation *acts, size_t *n_params);
/* Allocates (or replaces) a buffer set for `capacity` rows. */
MLP__HIDDEN mlp_status mlp__buffers_alloc(const mlp_network *net, size_t capacity,
                                          mlp__buffers *buf);
MLP__HIDDEN void mlp__buffers_free(mlp__buffers *buf);
/* Whether a caller's workspace was made for a network of this shape. */
MLP__HIDDEN int mlp__workspace_fits(const mlp_network *net, const mlp_workspace *ws);
/* Allocates a network with the given shape; parameters zeroed, no init. */
MLP__HIDDEN mlp_status mlp__network_alloc(size_t n_layers, const size_t *sizes,
                                          const mlp_activation *acts, mlp_network **out);
/* Checks class indices against n_out and floats for finiteness. */
MLP__HIDDEN mlp_status mlp__check_targets(const mlp_network *net, const void *targets,
                                          size_t batch);
MLP__HIDDEN mlp_status mlp__check_finite(const float *x, size_t n, const char *what);
/* 1 when every x[i] is finite (vectorised, no message). */
MLP__HIDDEN int mlp__all_finite(const float *x, size_t n);

/* ---- passes (pass.c) ------------------------------------------------ */

/* Forward over rows [0, rows) of X (rows <= buf->capacity) into buf,
 * keeping Z and A of every layer. With dropout != 0 draws masks from rng. */
MLP__HIDDEN void mlp__forward_train(const mlp_network *net, mlp__buffers *buf, const float *X,
                                    size_t rows, mlp__rng *dropout_rng);
/* Loss summed over `rows` rows of outputs O (rows x n_out, the last layer's
 * activations). With delta != NULL also writes the output error term
 * scale * dL/dZ(L) (rows x n_out; scale is 1/batch for the batch mean).
 * correct (may be NULL) receives the number of right answers. */
MLP__HIDDEN double mlp__loss_delta(const mlp_network *net, const float *O, const float *Z,
                                   const void *targets, size_t rows, float scale, float *delta,
                                   size_t *correct);
/* targets advanced by `rows` rows for the network's loss. */
MLP__HIDDEN const void *mlp__targets_at(const mlp_network *net, const void *targets, size_t rows);
/* Backward from buf->delta[0]: grads = (accumulate ? grads : 0) + dL/dparams. */
MLP__HIDDEN void mlp__backward(mlp_network *net, mlp__buffers *buf, size_t rows,
                               int accumulate);
/* Adds l2 * W to the weight gradients. */
MLP__HIDDEN void mlp__add_l2_grad(mlp_network *net);
/* Full loss and gradient over any batch (chunked), dropout from rng if
 * non-NULL. J = mean loss + penalty. correct may be NULL. */
MLP__HIDDEN mlp_status mlp__loss_grad(mlp_network *net, const float *X, size_t batch,
                                      const void *targets, mlp__rng *dropout_rng, double *loss,
                                      double *J, size_t *correct);
/* One plain SGD step, p -= lr * dJ/dp (l2 included), with the update fused
 * into the backward pass (no gradient written, no separate update pass),
 * for 1 <= batch <= the workspace capacity. *loss, *J (before the update)
 * and *correct as above (each may be NULL). MLP_ERR_DIVERGED when J is not
 * finite (parameters untouched) or when a parameter became non-finite
 * (given finite parameters before: the update is bounded from the error
 * terms and inputs, W scanned where the bound is not small or would read
 * more than W).
 * grads is scratch afterwards. */
MLP__HIDDEN mlp_status mlp__sgd_step_fused(mlp_network *net, const float *X, size_t batch,
                                           const void *targets, mlp__rng *dropout_rng, float lr,
                                           double *loss, double *J, size_t *correct);

/* ---- activations (activation.c) ---------------------------------- */

/* Fused epilogue: Z += b (broadcast over rows), A = f(Z). Z, A rows x n. */
MLP__HIDDEN void mlp__bias_act(mlp_activation act, const float *b, float *Z, float *A,
                               size_t rows, size_t n);
/* In-place: D *= f'(Z) (A = f(Z) is given for the cheap derivatives). */
MLP__HIDDEN void mlp__act_backward(mlp_activation act, const float *Z, const float *A, float *D,
                                   size_t count);
/* Scalar f and f' in double, for references and tests. */
MLP__HIDDEN double mlp__act_f(mlp_activation act, double z);
MLP__HIDDEN int mlp__act_has_kink(mlp_activation act);

/* ---- BLAS shim (blas.c): the only file that includes <cblas.h> ------- */

/* C (m x n) = alpha * op(A) * op(B) + beta * C, row-major, no checks. */
MLP__HIDDEN void mlp__sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                            const float *A, size_t lda, const float *B, size_t ldb, float beta,
                            float *C, size_t ldc);
/* y = alpha * op(A) * x + beta * y, A (m x n) row-major. */
MLP__HIDDEN void mlp__sgemv(int trans, size_t m, size_t n, float alpha, const float *A, size_t lda,
                            const float *x, float beta, float *y);
/* A (m x n, row-major) += alpha * x y^T: the rank-1 update. */
MLP__HIDDEN void mlp__sger(size_t m, size_t n, float alpha, const float *x, const float *y, float *A,
                           size_t lda);

#endif /* MLP_INTERNAL_H */
