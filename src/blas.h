/* The BLAS shim (blas.c): the only file that includes <cblas.h>. Internal: not API. */
#ifndef MLP_BLAS_H
#define MLP_BLAS_H

#include "internal.h"

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

/* mlp_blas_coretype_hint's rule: the OPENBLAS_CORETYPE for a CPU with
 * AVX-512 (F, CD, BW, DQ, VL) or AVX2+FMA when OpenBLAS runs the SSE
 * kernels named `core`; NULL otherwise. */
MLP__HIDDEN const char *mlp__coretype_hint(const char *core, int avx512, int avx2);

#endif /* MLP_BLAS_H */
