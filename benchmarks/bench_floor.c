#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include "bench_floor.h"

#include "bench_util.h"

#include <cblas.h>
#include <blas.h> /* mlp__sgemm: the library's panelled form */
#include <stdlib.h>

enum { F_FWD, F_DW, F_DA };

/* How a product runs: one cblas call, the library's panels (mlp__sgemm
 * splits small-batch products into small-kernel panels), or at batch 1 the
 * level-2 call. */
enum { FORM_WHOLE, FORM_PANELS, FORM_LEVEL2 };

typedef struct product {
    int kind, form;
    int b, n_in, n_out;
    float dw_beta; /* dW = D^T A + dw_beta dW */
    long inner;
    float *A, *W, *Z, *D, *dW, *dA;
} product;

struct bench_floor {
    size_t n;
    product *p;
};

static void run_product(const product *p)
{
    if (p->form == FORM_PANELS) {
        switch (p->kind) {
        case F_FWD:
            mlp__sgemm(0, 1, p->b, p->n_out, p->n_in, 1.0f, p->A, p->n_in, p->W, p->n_in, 0.0f,
                       p->Z, p->n_out);
            break;
        case F_DW:
            mlp__sgemm(1, 0, p->n_out, p->n_in, p->b, 1.0f, p->D, p->n_out, p->A, p->n_in,
                       p->dw_beta, p->dW, p->n_in);
            break;
        default:
            mlp__sgemm(0, 0, p->b, p->n_in, p->n_out, 1.0f, p->D, p->n_out, p->W, p->n_in, 0.0f,
                       p->dA, p->n_in);
        }
        return;
    }
    if (p->form == FORM_WHOLE) {
        switch (p->kind) {
        case F_FWD: /* Z (b x n_out) = A (b x n_in) W^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p->b, p->n_out, p->n_in, 1.0f,
                        p->A, p->n_in, p->W, p->n_in, 0.0f, p->Z, p->n_out);
            break;
        case F_DW: /* dW (n_out x n_in) = D^T (n_out x b) A (b x n_in) + dw_beta dW */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p->n_out, p->n_in, p->b, 1.0f,
                        p->D, p->n_out, p->A, p->n_in, p->dw_beta, p->dW, p->n_in);
            break;
        default: /* dA (b x n_in) = D (b x n_out) W (n_out x n_in) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p->b, p->n_in, p->n_out, 1.0f,
                        p->D, p->n_out, p->W, p->n_in, 0.0f, p->dA, p->n_in);
        }
        return;
    }
    switch (p->kind) {
    case F_FWD: /* z (n_out) = W a */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, p->n_out, p->n_in, 1.0f, p->W, p->n_in, p->A, 1,
                    0.0f, p->Z, 1);
        break;
    case F_DW: /* dW += d a^T (accumulating costs what overwriting does) */
        cblas_sger(CblasRowMajor, p->n_out, p->n_in, 1.0f, p->D, 1, p->A, 1, p->dW, p->n_in);
        break;
    default: /* da (n_in) = W^T d */
        cblas_sgemv(CblasRowMajor, CblasTrans, p->n_out, p->n_in, 1.0f, p->W, p->n_in, p->D, 1,
                    0.0f, p->dA, 1);
    }
}

static double time_product(const product *p, long calls)
{
    double t0 = bench_now_ms();
    long i;
    for (i = 0; i < calls; i++) run_product(p);
    return (bench_now_ms() - t0) / (double)calls;
}

/* Operands start on a 64-byte line, as the library's own arrays do
 * (alloc.c): OpenBLAS's small-matrix kernels run slower on unaligned
 * operands, and a floor must be the best the products can do. */
static float *filled(size_t n, unsigned *seed)
{
    void *mem = NULL;
    float *x;
    size_t i;
    if (posix_memalign(&mem, 64, (n ? n : 1) * sizeof *x) != 0) return NULL;
    x = mem;
    for (i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        x[i] = (float)((*seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return x;
}

/* Warm-up: the fastest of a few calls sets the repetition count. */
static double calibrate(product *p, double rep_ms)
{
    double best = 0.0, t0 = bench_now_ms();
    int i;
    for (i = 0; i < 2 || (bench_now_ms() - t0 < rep_ms && i < 1000); i++) {
        double t = time_product(p, 1);
        if (i == 0 || t < best) best = t;
    }
    p->inner = best > 0.0 ? (long)(rep_ms / best) + 1 : 1000;
    if (p->inner > 100000) p->inner = 100000;
    return best;
}

void bench_floor_destroy(bench_floor *f)
{
    size_t i;
    if (f == NULL) return;
    for (i = 0; i < f->n; i++) {
        product *p = &f->p[i];
        if (p->kind != F_FWD) continue; /* the layer's buffers belong to its forward product */
        free(p->A), free(p->W), free(p->Z), free(p->D), free(p->dW), free(p->dA);
    }
    free(f->p);
    free(f);
}

bench_floor *bench_floor_create(size_t n_layers, const size_t *sizes, size_t batch, float dw_beta,
                                double rep_ms)
{
    bench_floor *f = calloc(1, sizeof *f);
    unsigned seed = 12345u;
    size_t l, i;

    if (f == NULL || (f->p = calloc(3 * n_layers, sizeof *f->p)) == NULL) {
        free(f);
        return NULL;
    }
    for (l = 0; l < n_layers; l++) {
        size_t n_in = sizes[l], n_out = sizes[l + 1];
        product p = {0};
        int k;
        p.b = (int)batch;
        p.n_in = (int)n_in;
        p.n_out = (int)n_out;
        p.dw_beta = dw_beta;
        p.A = filled(batch * n_in, &seed);
        p.W = filled(n_out * n_in, &seed);
        p.Z = filled(batch * n_out, &seed);
        p.D = filled(batch * n_out, &seed);
        p.dW = filled(n_out * n_in, &seed);
        p.dA = filled(batch * n_in, &seed);
        for (k = F_FWD; k <= F_DA; k++) {
            if (k == F_DA && l == 0) break; /* the input needs no gradient */
            p.kind = k;
            f->p[f->n++] = p;
        }
        if (!p.A || !p.W || !p.Z || !p.D || !p.dW || !p.dA) {
            bench_floor_destroy(f);
            return NULL;
        }
    }
    /* each product in the fastest of its forms */
    for (i = 0; i < f->n; i++) {
        product *p = &f->p[i];
        double best = calibrate(p, rep_ms);
        long inner = p->inner;
        int form, best_form = FORM_WHOLE;
        for (form = FORM_PANELS; form <= FORM_LEVEL2; form++) {
            double t;
            if (form == FORM_LEVEL2 && p->b != 1) break;
            p->form = form;
            if ((t = calibrate(p, rep_ms)) < best) best = t, best_form = form, inner = p->inner;
        }
        p->form = best_form;
        p->inner = inner;
    }
    return f;
}

void bench_floor_run(bench_floor *f, double *train_ms, double *infer_ms)
{
    double train = 0.0, infer = 0.0;
    size_t i;
    for (i = 0; i < f->n; i++) {
        double t;
        run_product(&f->p[i]); /* untimed: each product is timed warm */
        t = time_product(&f->p[i], f->p[i].inner);
        train += t;
        if (f->p[i].kind == F_FWD) infer += t;
    }
    *train_ms = train;
    *infer_ms = infer;
}
