/* The element-wise passes of a training step, split across the pool
 * (par.c). Internal: not API.
 *
 * Every split is by rows, columns or contiguous element ranges, so that
 * each output element is computed by one thread with the same operations
 * in the same order as on one thread: results are bit-identical whatever
 * the thread count. With pool NULL everything runs on the caller. */
#ifndef MLP_PAR_H
#define MLP_PAR_H

#include "activation.h"
#include "dropout.h"
#include "pool.h"

/* The fewest elements a part of a split pass moves. A pool's own helper
 * wakes onto a core where BLAS's idle worker still spins, so its parts
 * need 512 KB of floats to pay (benchmarks/README.md, "On two quiet
 * cores"); OpenBLAS's workers are awake already, and 64 KB parts pay
 * ("Smaller parts on OpenBLAS's workers"). */
#define MLP__PAR_MIN 131072
#define MLP__PAR_MIN_BLAS_TEAM 16384

/* The threshold for the pool's passes (pool may be NULL), or the tests' own. */
MLP__HIDDEN size_t mlp__par_min(const mlp__pool *pool);
#ifdef MLP_TESTING
/* A lower threshold, so that tests split small passes (0: the default). */
MLP__HIDDEN void mlp__par_test_min(size_t min);
#endif

/* A = f(Z + 1 b^T) over rows x n, split by rows; Z += 1 b^T too when
 * keep_z (mlp__bias_act). */
MLP__HIDDEN void mlp__par_bias_act(mlp__pool *pool, mlp_activation act, const float *b, float *Z,
                                   float *A, size_t rows, size_t n, int keep_z);
/* D = D * mask (mask may be NULL) * f'(Z), over count elements. */
MLP__HIDDEN void mlp__par_delta(mlp__pool *pool, mlp_activation act, const float *mask,
                                const float *Z, const float *A, float *D, size_t count);
/* mlp__dropout_rows over all rows, split by rows. */
MLP__HIDDEN void mlp__par_dropout(mlp__pool *pool, const mlp__drop_key *key, size_t layer, float p,
                                  const float *In, size_t rows, size_t n, float *mask, float *out);
/* db (+)= D^T 1, column sums of D (rows x n), split by columns: each sum
 * adds its rows in order 0, 1, ... on every thread count. */
MLP__HIDDEN void mlp__par_bias_grad(mlp__pool *pool, const float *D, size_t rows, size_t n,
                                    float *db, int accumulate);
/* Whether every x[i] is finite. */
MLP__HIDDEN int mlp__par_all_finite(mlp__pool *pool, const float *x, size_t n);
/* mlp__max_abs over n elements (a max: the same for every split). */
MLP__HIDDEN float mlp__par_max_abs(mlp__pool *pool, const float *x, size_t n);
/* dst row r = src row idx[r], rows of row_bytes bytes. */
MLP__HIDDEN void mlp__par_gather(mlp__pool *pool, const void *src, size_t row_bytes,
                                 const size_t *idx, size_t rows, void *dst);

#endif /* MLP_PAR_H */
