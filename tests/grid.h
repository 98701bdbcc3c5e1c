/* The grid of gradient test cases shared by test_reference and
 * test_gradients: every activation x every loss x GRID_ARCHS random
 * architectures (depth 1-4, widths 1-64, batch 1-32, l2 = 0 on even and
 * > 0 on odd architectures). A case is fully determined by (act, loss,
 * arch), so both suites see the same networks and data. */
#ifndef MLP_TEST_GRID_H
#define MLP_TEST_GRID_H

#include "mlp.h"
#include "reference.h"

#include <stddef.h>
#include <stdint.h>

#define GRID_ARCHS 30
#define GRID_MAX_LAYERS 4
/* Redraws of parameters and data allowed to avoid an all-zero block. */
#define GRID_MAX_REDRAWS 20

typedef struct grid_case {
    mlp_activation act;
    mlp_loss loss;
    size_t arch;
    size_t n_layers;
    size_t sizes[GRID_MAX_LAYERS + 1];
    mlp_activation acts[GRID_MAX_LAYERS];
    double l2;    /* exactly a float value */
    size_t batch;
    size_t n_params;
    size_t redraws; /* draws rejected because a reference block was all zero */
    /* Exactly representable in float; the double copies hold the same values. */
    float *params, *X, *Y; /* Y: batch x n_out, NULL for softmax CE */
    int32_t *classes;      /* batch, NULL unless softmax CE */
    double *dparams, *dX, *dY;
    double *ref_grads; /* the reference dJ/dparams */
    double ref_J;
} grid_case;

/* Builds case (act, loss, arch). Returns 0, or -1 if out of memory or no
 * draw gave every block a non-zero reference gradient. */
int grid_case_init(grid_case *c, mlp_activation act, mlp_loss loss, size_t arch);
void grid_case_free(grid_case *c);
ref_net grid_ref_net(const grid_case *c);
/* "relu/mse/arch 7 [3-12-1] batch 5 l2 0.05" into buf. */
const char *grid_case_describe(const grid_case *c, char *buf, size_t cap);

/* Norm-relative difference ||a - b|| / max(||a||, ||b||) (0 if both are 0). */
double grid_rel_err(const double *a, const double *b, size_t n);
double grid_rel_err_f(const float *a, const double *b, size_t n);

/* A small deterministic RNG for the tests (splitmix64). */
uint64_t grid_rng_next(uint64_t *state);
double grid_rng_uniform(uint64_t *state); /* [0, 1) */
size_t grid_rng_below(uint64_t *state, size_t n);

#endif /* MLP_TEST_GRID_H */
