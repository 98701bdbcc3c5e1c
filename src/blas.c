/* The BLAS shim: the only file that includes <cblas.h>. Callers have
 * checked every dimension against MLP_MAX_DIM, so the casts to the 32-bit
 * integers of Debian's OpenBLAS cannot truncate. */
#include "internal.h"

#include <cblas.h>

void mlp__sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                size_t ldc)
{
    assert(m <= MLP_MAX_DIM && n <= MLP_MAX_DIM && k <= MLP_MAX_DIM);
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, A, (int)lda,
                B, (int)ldb, beta, C, (int)ldc);
}

void mlp__sgemv(int trans, size_t m, size_t n, float alpha, const float *A, size_t lda,
                const float *x, float beta, float *y)
{
    assert(m <= MLP_MAX_DIM && n <= MLP_MAX_DIM);
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, (int)m, (int)n, alpha, A,
                (int)lda, x, 1, beta, y, 1);
}

void mlp__sger(size_t m, size_t n, float alpha, const float *x, const float *y, float *A,
               size_t lda)
{
    assert(m <= MLP_MAX_DIM && n <= MLP_MAX_DIM);
    cblas_sger(CblasRowMajor, (int)m, (int)n, alpha, x, 1, y, 1, A, (int)lda);
}

void mlp_set_num_threads(int n)
{
    if (n >= 1) openblas_set_num_threads(n);
}

int mlp_get_num_threads(void) { return openblas_get_num_threads(); }

const char *mlp_blas_config(void) { return openblas_get_config(); }
