/* The BLAS shim against a double-precision reference: mlp__sgemm splits
 * small-batch products into panels for OpenBLAS's small-matrix kernels
 * (AVX-512 cores; at one BLAS thread, or tiny batches at two), so every transposition, alpha and beta,
 * leading dimension wider than the matrix, and panel remainder must give
 * the product of the whole call, and leave C outside its m x n untouched.
 * On a core without small kernels the same checks hold for the whole call.
 * And the hint for an OpenBLAS older than its CPU names the kernels that
 * fit the CPU exactly when OpenBLAS fell back to its SSE ones. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blas.h"
#include "mlp.h"

#define PAD 3   /* extra columns in every leading dimension */
#define GUARD 7.0f

static float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

static float *random_matrix(size_t rows, size_t ld, uint64_t *s)
{
    float *x = malloc(rows * ld * sizeof *x);
    size_t i;
    assert_non_null(x);
    for (i = 0; i < rows * ld; i++) x[i] = frand(s);
    return x;
}

/* op(X)[i][p] of a row-major X with leading dimension ld */
static double at(const float *X, size_t ld, int trans, size_t i, size_t p)
{
    return trans ? X[p * ld + i] : X[i * ld + p];
}

static void check_product(int ta, int tb, size_t m, size_t n, size_t k, float alpha, float beta)
{
    uint64_t s = 1000003u * m + 1009u * n + k;
    const size_t a_rows = ta ? k : m, a_cols = ta ? m : k, lda = a_cols + PAD;
    const size_t b_rows = tb ? n : k, b_cols = tb ? k : n, ldb = b_cols + PAD;
    const size_t ldc = n + PAD;
    float *A = random_matrix(a_rows, lda, &s), *B = random_matrix(b_rows, ldb, &s);
    float *C = random_matrix(m, ldc, &s), *C0 = malloc(m * ldc * sizeof *C0);
    size_t i, j, p;
    assert_non_null(C0);
    for (i = 0; i < m; i++)
        for (j = n; j < ldc; j++) C[i * ldc + j] = GUARD;
    memcpy(C0, C, m * ldc * sizeof *C);

    mlp__sgemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);

    for (i = 0; i < m; i++) {
        for (j = 0; j < n; j++) {
            double ref = 0.0, mag = 0.0, err;
            for (p = 0; p < k; p++) {
                double t = at(A, lda, ta, i, p) * at(B, ldb, tb, p, j);
                ref += t;
                mag += fabs(t);
            }
            ref = alpha * ref + beta * (double)C0[i * ldc + j];
            mag = fabs(alpha) * mag + fabs(beta * (double)C0[i * ldc + j]);
            err = fabs((double)C[i * ldc + j] - ref);
            /* float accumulation over k terms: a few ulps of the magnitude */
            if (err > 4.0 * (double)k * 6e-8 * mag + 1e-30)
                fail_msg("ta %d tb %d %zux%zux%zu alpha %g beta %g: C[%zu][%zu] = %.9g, want %.9g",
                         ta, tb, m, n, k, alpha, beta, i, j, C[i * ldc + j], ref);
        }
        for (j = n; j < ldc; j++) assert_true(C[i * ldc + j] == GUARD);
    }
    free(A), free(B), free(C), free(C0);
}

/* The shapes of a 784-512-512-10 step at small batches (panelled on AVX-512
 * cores), remainders that leave a narrow last panel, and shapes that stay
 * whole (already small, or too wide a batch). */
static void products_match_reference(void **state)
{
    static const size_t shapes[][3] = {
        {16, 512, 784}, {16, 784, 512}, {512, 784, 16}, {4, 512, 784}, {5, 520, 300},
        {37, 130, 64},  {16, 10, 512},  {2, 512, 784},  {128, 96, 40}, {3, 2000, 700},
        {784, 512, 16}, {700, 40, 100},
    };
    static const float ab[][2] = {{1.0f, 0.0f}, {-0.01f, 1.0f}, {0.5f, 0.999f}};
    size_t s, c;
    int ta, tb, threads;
    (void)state;
    for (threads = 1; threads <= 2; threads++) { /* panels up to batch 16 / threads */
        mlp_set_num_threads(threads);
        for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (ta = 0; ta < 2; ta++)
                for (tb = 0; tb < 2; tb++)
                    for (c = 0; c < sizeof ab / sizeof ab[0]; c++)
                        check_product(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2],
                                      ab[c][0], ab[c][1]);
    }
    mlp_set_num_threads(1);
}

static void coretype_hint_rule(void **state)
{
    (void)state;
    assert_string_equal(mlp__coretype_hint("Prescott", 1, 1), "SkylakeX");
    assert_string_equal(mlp__coretype_hint("Prescott", 0, 1), "Haswell");
    assert_string_equal(mlp__coretype_hint("Nehalem", 0, 1), "Haswell");
    assert_null(mlp__coretype_hint("Prescott", 0, 0)); /* an SSE CPU: Prescott fits */
    assert_null(mlp__coretype_hint("Haswell", 1, 1));  /* a vector core: OpenBLAS's choice */
    assert_null(mlp__coretype_hint("Zen", 1, 1));
    assert_null(mlp__coretype_hint("SkylakeX", 1, 1));
    assert_null(mlp__coretype_hint(NULL, 1, 1));
}

/* The public hint on this machine: NULL, or a core OpenBLAS then runs
 * when OPENBLAS_CORETYPE names it (checked by scripts/main.sh's run). */
static void coretype_hint_here(void **state)
{
    const char *hint = mlp_blas_coretype_hint();
    (void)state;
    if (hint != NULL)
        assert_true(strcmp(hint, "SkylakeX") == 0 || strcmp(hint, "Haswell") == 0);
    print_message("OpenBLAS config: %s; hint: %s\n", mlp_blas_config(), hint ? hint : "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(products_match_reference),
        cmocka_unit_test(coretype_hint_rule),
        cmocka_unit_test(coretype_hint_here),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
