/* The BLAS shim: the only file that includes <cblas.h>. Callers have
 * checked every dimension against MLP_MAX_DIM, so the casts to the 32-bit
 * integers of Debian's OpenBLAS cannot truncate. */
#include "blas.h"

#include <cblas.h>
#include <string.h>

static void sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                  const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                  size_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, A, (int)lda,
                B, (int)ldb, beta, C, (int)ldc);
}

/* OpenBLAS's AVX-512 cores run a product with M·N·K <= 10^6 through
 * small-matrix kernels that read the operands where they lie; a larger one
 * packs both operands first, and at small batch packing W costs as much as
 * the arithmetic. Such a product is split into panels of its wider output
 * dimension that each qualify. The rules mirror OpenBLAS's own
 * (sgemm_small_kernel_permit_skylakex.c); should they change, the panels
 * still compute the same product. The small kernels run on the calling
 * thread alone: with t BLAS threads they still win while the batch (the
 * smallest dimension) is at most 16 / t. The figures behind these rules
 * are in benchmarks/README.md ("Why the code is shaped this way"). */
#define SMALL_MNK 1e6

static int has_small_kernels(void)
{
    const char *core = openblas_get_corename();
    return core != NULL && (strcmp(core, "SkylakeX") == 0 || strcmp(core, "Cooperlake") == 0 ||
                            strcmp(core, "SapphireRapids") == 0);
}

static int panels_pay(size_t m, size_t n, size_t k)
{
    const int threads = openblas_get_num_threads();
    size_t batch = m < n ? m : n;
    if (k < batch) batch = k;
    return threads <= 1 || batch * (size_t)threads <= 16;
}

/* The panel width along `len` (the split output dimension; `other` is the
 * other one) with which every panel is a small-kernel product, or 0. The
 * kernels run fastest on widths that are multiples of 64, then of 16; the
 * TN kernel gains from any width, the others lose below 32. */
static size_t panel_width(int trans_a, int trans_b, size_t other, size_t len, size_t k)
{
    const int tn = !trans_a && trans_b; /* OpenBLAS's column-major TN */
    size_t w;
    if (trans_a && trans_b) return 0; /* no small kernel for op(A)^T op(B)^T */
    if ((double)other * (double)len * (double)k <= SMALL_MNK) return 0; /* qualifies whole */
    w = (size_t)(SMALL_MNK / ((double)other * (double)k));
    if (tn) { /* TN: C at most 1200 elements, K at least 32 */
        if (k < 32) return 0;
        if (w > 1200 / other) w = 1200 / other;
    }
    w = w >= 64 ? w & ~(size_t)63 : w & ~(size_t)15;
    return w >= (tn ? 16u : 32u) && w < len ? w : 0;
}

void mlp__sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                size_t ldc)
{
    const int by_cols = n >= m;
    const size_t len = by_cols ? n : m, other = by_cols ? m : n;
    size_t w = 0, j;
    assert(m <= MLP_MAX_DIM && n <= MLP_MAX_DIM && k <= MLP_MAX_DIM);
    if (panels_pay(m, n, k) && has_small_kernels())
        w = panel_width(trans_a, trans_b, other, len, k);
    if (w == 0) {
        sgemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    for (j = 0; j < len; j += w) {
        const size_t c = len - j < w ? len - j : w;
        if (by_cols) /* columns j.. of C and of op(B) */
            sgemm(trans_a, trans_b, m, c, k, alpha, A, lda, trans_b ? B + j * ldb : B + j, ldb,
                  beta, C + j, ldc);
        else /* rows j.. of C and of op(A) */
            sgemm(trans_a, trans_b, c, n, k, alpha, trans_a ? A + j : A + j * lda, lda, B, ldb,
                  beta, C + j * ldc, ldc);
    }
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

/* OpenBLAS's SSE kernels: what a DYNAMIC_ARCH build falls back to on a
 * CPU newer than itself (0.3.21 takes Prescott on Intel's family 6 model
 * 207), at a third of an AVX-512 core's speed or less. */
static int is_sse_core(const char *core)
{
    static const char *const sse[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                                      "Atom", "Katmai", "Coppermine", "Northwood", "Banias"};
    for (size_t i = 0; core != NULL && i < sizeof sse / sizeof sse[0]; i++)
        if (strcmp(core, sse[i]) == 0) return 1;
    return 0;
}

const char *mlp__coretype_hint(const char *core, int avx512, int avx2)
{
    if (!is_sse_core(core)) return NULL;
    return avx512 ? "SkylakeX" : avx2 ? "Haswell" : NULL;
}

const char *mlp_blas_coretype_hint(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    /* SkylakeX's kernels use AVX-512 F, CD, BW, DQ and VL; Haswell's AVX2 and FMA */
    const int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                       __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                       __builtin_cpu_supports("avx512vl");
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return mlp__coretype_hint(openblas_get_corename(), avx512, avx2);
#else
    return NULL;
#endif
}
