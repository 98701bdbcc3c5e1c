#include "bench_floor.h"

#include "bench_util.h"

#include <cblas.h>
#include <stdlib.h>

enum { F_FWD, F_DW, F_DA };

typedef struct product {
    int kind, level2;
    int b, n_in, n_out;
    float *A, *W, *Z, *D, *dW, *dA;
} product;

static int run_product(void *ctx)
{
    product *p = ctx;
    if (!p->level2) {
        switch (p->kind) {
        case F_FWD: /* Z (b x n_out) = A (b x n_in) W^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p->b, p->n_out, p->n_in, 1.0f,
                        p->A, p->n_in, p->W, p->n_in, 0.0f, p->Z, p->n_out);
            break;
        case F_DW: /* dW (n_out x n_in) = D^T (n_out x b) A (b x n_in) */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p->n_out, p->n_in, p->b, 1.0f,
                        p->D, p->n_out, p->A, p->n_in, 0.0f, p->dW, p->n_in);
            break;
        default: /* dA (b x n_in) = D (b x n_out) W (n_out x n_in) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p->b, p->n_in, p->n_out, 1.0f,
                        p->D, p->n_out, p->W, p->n_in, 0.0f, p->dA, p->n_in);
        }
        return 0;
    }
    switch (p->kind) {
    case F_FWD: /* z (n_out) = W a */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, p->n_out, p->n_in, 1.0f, p->W, p->n_in, p->A, 1,
                    0.0f, p->Z, 1);
        break;
    case F_DW: /* dW += d a^T (accumulating costs the same as overwriting) */
        cblas_sger(CblasRowMajor, p->n_out, p->n_in, 1.0f, p->D, 1, p->A, 1, p->dW, p->n_in);
        break;
    default: /* da (n_in) = W^T d */
        cblas_sgemv(CblasRowMajor, CblasTrans, p->n_out, p->n_in, 1.0f, p->W, p->n_in, p->D, 1,
                    0.0f, p->dA, 1);
    }
    return 0;
}

static float *filled(size_t n, unsigned *seed)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    size_t i;
    if (x == NULL) return NULL;
    for (i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        x[i] = (float)((*seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return x;
}

/* The median time of one product, the faster form at batch 1. */
static int time_product(product *p, int reps, double rep_ms, double *ms)
{
    bench_stats s;
    p->level2 = 0;
    if (bench_measure(run_product, p, reps, rep_ms, &s) != 0) return -1;
    *ms = s.median_ms;
    if (p->b == 1) {
        p->level2 = 1;
        if (bench_measure(run_product, p, reps, rep_ms, &s) != 0) return -1;
        if (s.median_ms < *ms) *ms = s.median_ms;
    }
    return 0;
}

int bench_gemm_floor(size_t n_layers, const size_t *sizes, size_t batch, int reps,
                     double rep_ms, bench_floor *out)
{
    size_t l;
    unsigned seed = 12345u;
    double train = 0.0, infer = 0.0;

    for (l = 0; l < n_layers; l++) {
        product p;
        size_t n_in = sizes[l], n_out = sizes[l + 1];
        double ms;
        int rc = -1;

        p.b = (int)batch;
        p.n_in = (int)n_in;
        p.n_out = (int)n_out;
        p.A = filled(batch * n_in, &seed);
        p.W = filled(n_out * n_in, &seed);
        p.Z = filled(batch * n_out, &seed);
        p.D = filled(batch * n_out, &seed);
        p.dW = filled(n_out * n_in, &seed);
        p.dA = filled(batch * n_in, &seed);
        if (!p.A || !p.W || !p.Z || !p.D || !p.dW || !p.dA) goto next;
        p.kind = F_FWD;
        if (time_product(&p, reps, rep_ms, &ms) != 0) goto next;
        train += ms;
        infer += ms;
        p.kind = F_DW;
        if (time_product(&p, reps, rep_ms, &ms) != 0) goto next;
        train += ms;
        if (l > 0) { /* the input needs no gradient */
            p.kind = F_DA;
            if (time_product(&p, reps, rep_ms, &ms) != 0) goto next;
            train += ms;
        }
        rc = 0;
    next:
        free(p.A);
        free(p.W);
        free(p.Z);
        free(p.D);
        free(p.dW);
        free(p.dA);
        if (rc != 0) return rc;
    }
    out->train_ms = train;
    out->infer_ms = infer;
    return 0;
}
