/* mlp-bench --epoch: the main job's recipe, its epoch split into parts
 * (mlp_trainer_profile) beside the floor of each. */
#ifndef MLP_BENCH_EPOCH_H
#define MLP_BENCH_EPOCH_H

#include <stdint.h>
#include <stdio.h>

/* Trains `epochs` epochs of scripts/main.sh's recipe on Fashion-MNIST in
 * dir at `threads` threads and prints the split to out; with floor_alone,
 * prints only the floor of those epochs, without training. 0 on success. */
int bench_epoch(const char *dir, int epochs, uint64_t seed, int threads, int floor_alone,
                FILE *out);

#endif
