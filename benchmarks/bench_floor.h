/* The GEMM floor: the BLAS products of one step, each timed alone. */
#ifndef MLP_BENCH_FLOOR_H
#define MLP_BENCH_FLOOR_H

#include <stddef.h>

typedef struct bench_floor bench_floor;

/* Buffers of the shapes of every product of a training step of the network
 * sizes[0..n_layers] at `batch` rows: per layer the forward Z = A W^T, the
 * weight gradient dW = D^T A, and (not for layer 0) dA = D W. Then warms
 * each product up and picks its repetition count so that one repetition of
 * it lasts about rep_ms. Each product takes the fastest of its forms: one
 * cblas_sgemm, the library's small-kernel panels (mlp__sgemm), and at batch
 * 1 its level-2 form (sgemv, or sger for dW). The weight product runs as
 * the step runs it: dw_beta 0 writes a gradient; plain SGD, fused into the
 * product, updates W in place with beta = 1 - lr l2, which spares OpenBLAS
 * the pass that zeroes C for beta = 0. NULL when out of memory. */
bench_floor *bench_floor_create(size_t n_layers, const size_t *sizes, size_t batch, float dw_beta,
                                double rep_ms);
void bench_floor_destroy(bench_floor *f);

/* One repetition: every product timed alone (its calls back to back), the
 * per-call times summed: *train_ms over all products, *infer_ms over the
 * forward ones. */
void bench_floor_run(bench_floor *f, double *train_ms, double *infer_ms);

#endif
