/* Fashion-MNIST end to end: 784-256-128-10 ReLU, Adam 1e-3, batch 128. */
#ifndef MLP_BENCH_FASHION_H
#define MLP_BENCH_FASHION_H

#include <stdint.h>
#include <stdio.h>

typedef struct bench_fashion_result {
    int epochs;
    double epoch_s;       /* median seconds per epoch */
    double epoch_min_s, epoch_max_s;
    double train_s;       /* the whole mlp_train call */
    double test_accuracy; /* in [0, 1] */
    double test_loss;
    size_t n_train, n_test;
} bench_fashion_result;

/* Loads train-images-idx3-ubyte.gz etc. from dir, scales pixels to [0, 1]
 * (as torchvision's ToTensor does), trains for `epochs` epochs and
 * evaluates on the test set. Epoch times come from the trainer's history
 * (wall clock); with cpu_clock, from the thread CPU time of the whole
 * training divided by the epochs (min and max then equal the mean).
 * Returns 0, or -1 with a message on stderr. */
int bench_fashion(const char *dir, int epochs, uint64_t seed, int cpu_clock,
                  bench_fashion_result *out);

#endif
