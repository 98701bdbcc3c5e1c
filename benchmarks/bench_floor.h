/* The GEMM floor: the BLAS products of one step, each timed alone. */
#ifndef MLP_BENCH_FLOOR_H
#define MLP_BENCH_FLOOR_H

#include <stddef.h>

typedef struct bench_floor {
    double train_ms; /* forward Z = A W^T, dW = D^T A, dA = D W (not layer 0) */
    double infer_ms; /* the forward products alone */
} bench_floor;

/* Times, with OpenBLAS called directly on buffers of the same shapes, each
 * product of a training step of the network sizes[0..n_layers] at `batch`
 * rows, and sums the medians. At batch 1 each product is the faster of its
 * sgemm and its level-2 form (sgemv, or sger for dW). Returns 0, or -1 when
 * out of memory. */
int bench_gemm_floor(size_t n_layers, const size_t *sizes, size_t batch, int reps,
                     double rep_ms, bench_floor *out);

#endif
