/* Random numbers (rng.c). Internal: not API. */
#ifndef MLP_RNG_H
#define MLP_RNG_H

#include "internal.h"

/* xoshiro256**, seeded by splitmix64. */
typedef struct mlp__rng {
    uint64_t s[4];
} mlp__rng;

MLP__HIDDEN void mlp__rng_seed(mlp__rng *rng, uint64_t seed);
MLP__HIDDEN uint64_t mlp__rng_next(mlp__rng *rng);
MLP__HIDDEN double mlp__rng_uniform(mlp__rng *rng);  /* [0, 1) */
MLP__HIDDEN double mlp__rng_normal(mlp__rng *rng);   /* N(0, 1) */
MLP__HIDDEN uint64_t mlp__rng_below(mlp__rng *rng, uint64_t n); /* [0, n), unbiased */

#endif /* MLP_RNG_H */
