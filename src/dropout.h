/* Counter-based dropout masks (dropout.c). Internal: not API. */
#ifndef MLP_DROPOUT_H
#define MLP_DROPOUT_H

#include "internal.h"

/* What a step's masks are a function of: the keep/drop decision for
 * (layer, row, column) depends on these counters alone, never on a
 * generator's position (docs/RANDOM.md). */
typedef struct mlp__drop_key {
    uint64_t seed; /* the network's seed */
    uint64_t step; /* the network's step count when the step began */
    size_t row0;   /* the global index, in the step's batch, of row 0 here */
} mlp__drop_key;

/* The key of the step the network takes next, from batch row 0. */
MLP__HIDDEN mlp__drop_key mlp__drop_key_next(const mlp_network *net);

/* Inverted dropout on rows [r_begin, r_end) of In (rows x n):
 * mask = 1/(1-p) where kept, else 0; out = In * mask. `layer` is the
 * index of the layer whose input this is. Rows are independent, so any
 * partition of them gives the same masks. */
MLP__HIDDEN void mlp__dropout_rows(const mlp__drop_key *key, size_t layer, float p,
                                   const float *In, size_t n, size_t r_begin, size_t r_end,
                                   float *mask, float *out);

#endif /* MLP_DROPOUT_H */
