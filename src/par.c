/* Element-wise passes split across the pool: one small context per pass
 * and a range function that calls the single-thread kernel on its part. */
#include "par.h"
#include "checks.h"
#include "vec.h"

#include <string.h>

#ifdef MLP_TESTING
static size_t test_min;
void mlp__par_test_min(size_t min) { test_min = min; }
#endif

size_t mlp__par_min(const mlp__pool *pool)
{
#ifdef MLP_TESTING
    if (test_min) return test_min;
#endif
    return mlp__pool_on_blas_team(pool) ? MLP__PAR_MIN_BLAS_TEAM : MLP__PAR_MIN;
}

/* Rows a part must have so that it moves at least the threshold's elements. */
static size_t min_rows(const mlp__pool *pool, size_t n)
{
    size_t min = mlp__par_min(pool);
    return n ? (min + n - 1) / n : min;
}

typedef struct bias_act_job {
    mlp_activation act;
    const float *b;
    float *Z, *A;
    size_t n;
    int keep_z;
} bias_act_job;

static void bias_act_part(void *ctx, size_t r0, size_t r1)
{
    bias_act_job *j = ctx;
    mlp__bias_act(j->act, j->b, j->Z + r0 * j->n, j->A + r0 * j->n, r1 - r0, j->n, j->keep_z);
}

void mlp__par_bias_act(mlp__pool *pool, mlp_activation act, const float *b, float *Z, float *A,
                       size_t rows, size_t n, int keep_z)
{
    bias_act_job j = {act, b, Z, A, n, keep_z};
    mlp__pool_for(pool, bias_act_part, &j, rows, 1, 2 * min_rows(pool, n));
}

typedef struct delta_job {
    mlp_activation act;
    const float *mask, *Z, *A;
    float *D;
} delta_job;

MLP__VEC_CLONES static void apply_mask(float *restrict D, const float *restrict mask, size_t n)
{
    for (size_t i = 0; i < n; i++) D[i] *= mask[i];
}

static void delta_part(void *ctx, size_t b, size_t e)
{
    delta_job *j = ctx;
    if (j->mask) apply_mask(j->D + b, j->mask + b, e - b);
    mlp__act_backward(j->act, j->Z + b, j->A + b, j->D + b, e - b);
}

void mlp__par_delta(mlp__pool *pool, mlp_activation act, const float *mask, const float *Z,
                    const float *A, float *D, size_t count)
{
    delta_job j = {act, mask, Z, A, D};
    mlp__pool_for(pool, delta_part, &j, count, 16, 2 * mlp__par_min(pool));
}

typedef struct dropout_job {
    const mlp__drop_key *key;
    size_t layer, n;
    float p;
    const float *In;
    float *mask, *out;
} dropout_job;

static void dropout_part(void *ctx, size_t r0, size_t r1)
{
    dropout_job *j = ctx;
    mlp__dropout_rows(j->key, j->layer, j->p, j->In, j->n, r0, r1, j->mask, j->out);
}

void mlp__par_dropout(mlp__pool *pool, const mlp__drop_key *key, size_t layer, float p,
                      const float *In, size_t rows, size_t n, float *mask, float *out)
{
    dropout_job j = {key, layer, n, p, In, mask, out};
    mlp__pool_for(pool, dropout_part, &j, rows, 1, min_rows(pool, n));
}

typedef struct bias_grad_job {
    const float *D;
    size_t rows, n;
    float *db;
    int accumulate;
} bias_grad_job;

/* Columns [c0, c1): the rows in order, so each sum's order is fixed. */
MLP__VEC_CLONES static void bias_grad_cols(const float *D, size_t rows, size_t n, size_t c0,
                                           size_t c1, float *db, int accumulate)
{
    size_t r, j;
    if (!accumulate) memset(db + c0, 0, (c1 - c0) * sizeof *db);
    for (r = 0; r < rows; r++)
        for (j = c0; j < c1; j++) db[j] += D[r * n + j];
}

static void bias_grad_part(void *ctx, size_t c0, size_t c1)
{
    bias_grad_job *j = ctx;
    bias_grad_cols(j->D, j->rows, j->n, c0, c1, j->db, j->accumulate);
}

void mlp__par_bias_grad(mlp__pool *pool, const float *D, size_t rows, size_t n, float *db,
                        int accumulate)
{
    bias_grad_job j = {D, rows, n, db, accumulate};
    /* parts of whole cache lines of db; too few columns: one thread */
    mlp__pool_for(pool, bias_grad_part, &j, n, 16, rows * n >= mlp__par_min(pool) ? 32 : n + 1);
}

typedef struct finite_job {
    const float *x;
    int ok; /* atomic: the AND of every part's answer */
} finite_job;

static void finite_part(void *ctx, size_t b, size_t e)
{
    finite_job *j = ctx;
    if (!mlp__all_finite(j->x + b, e - b)) __atomic_store_n(&j->ok, 0, __ATOMIC_RELAXED);
}

int mlp__par_all_finite(mlp__pool *pool, const float *x, size_t n)
{
    finite_job j = {x, 1};
    mlp__pool_for(pool, finite_part, &j, n, 16, 4 * mlp__par_min(pool));
    return __atomic_load_n(&j.ok, __ATOMIC_RELAXED);
}

typedef struct max_job {
    const float *x;
    uint32_t bits; /* atomic: the largest part's |x| as bits (they order as the values) */
} max_job;

static void max_part(void *ctx, size_t b, size_t e)
{
    max_job *j = ctx;
    float m = mlp__max_abs(j->x + b, e - b);
    uint32_t u, cur = __atomic_load_n(&j->bits, __ATOMIC_RELAXED);
    memcpy(&u, &m, sizeof u);
    while (u > cur && !__atomic_compare_exchange_n(&j->bits, &cur, u, 1, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED)) {
    }
}

float mlp__par_max_abs(mlp__pool *pool, const float *x, size_t n)
{
    max_job j = {x, 0};
    float m;
    mlp__pool_for(pool, max_part, &j, n, 16, 4 * mlp__par_min(pool));
    memcpy(&m, &j.bits, sizeof m);
    return m;
}

typedef struct gather_job {
    const char *src;
    size_t row_bytes;
    const size_t *idx;
    char *dst;
} gather_job;

static void gather_part(void *ctx, size_t r0, size_t r1)
{
    gather_job *j = ctx;
    for (size_t r = r0; r < r1; r++)
        memcpy(j->dst + r * j->row_bytes, j->src + j->idx[r] * j->row_bytes, j->row_bytes);
}

void mlp__par_gather(mlp__pool *pool, const void *src, size_t row_bytes, const size_t *idx,
                     size_t rows, void *dst)
{
    gather_job j = {src, row_bytes, idx, dst};
    mlp__pool_for(pool, gather_part, &j, rows, 1, min_rows(pool, row_bytes / sizeof(float) + 1));
}
