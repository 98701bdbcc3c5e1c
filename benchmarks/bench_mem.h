/* The memory-traffic floor of a training step's non-GEMM work. */
#ifndef MLP_BENCH_MEM_H
#define MLP_BENCH_MEM_H

#include <mlp.h>
#include <stddef.h>

enum { MEM_ELEMENTWISE, MEM_DROPOUT, MEM_OPTIMIZER, MEM_DATA, MEM_PARTS };

typedef struct bench_mem_spec {
    size_t n_layers;
    const size_t *sizes;   /* n_layers + 1 */
    size_t batch;
    const float *dropout;  /* per layer (on its input), or NULL */
    int update_floats;     /* floats the optimiser reads and writes per parameter (0: fused) */
    int l2;                /* l2 added to the weight gradients */
    int scaled;            /* input scaling pass */
    int gather;            /* the batch gathered from the data set */
    size_t data_bytes;     /* the data set's size (the gather's working set) */
    const mlp_activation *acts; /* per layer, or NULL: every layer stores Z + b too */
} bench_mem_spec;

/* The floats the optimiser moves per parameter: SGD p, g -> p (3),
 * momentum and RMSprop one state array more (5), Adam two (7); plain SGD
 * without clipping is fused into the weight product (0). */
int bench_mem_update_floats(int optimizer, int clip);

/* Sums, per part, the bytes each pass of one step must move divided by
 * the bandwidth a copy kernel reaches at that pass's working-set size on
 * `threads` threads (the copy split as the library splits its passes;
 * best of `tries`): ms[MEM_PARTS] and the total in ms. Negative when out
 * of memory. */
double bench_mem_floor(const bench_mem_spec *s, int threads, int tries, double ms[MEM_PARTS]);

/* The bandwidth (bytes per ms) of a copy that moves `bytes` (read plus
 * written) on `threads` threads or one, whichever is faster, best of
 * `tries`; 0 when out of memory. */
double bench_mem_copy_bw(size_t bytes, int threads, int tries);

#endif
