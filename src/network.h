/* The network handle: shape, parameters, settings, training state
 * (network.c, params.c). Internal: not API. */
#ifndef MLP_NETWORK_H
#define MLP_NETWORK_H

#include "buffers.h"
#include "rng.h"

/* Default workspace rows allocated by mlp_create. */
#define MLP__DEFAULT_CAPACITY 64

/* Views into the flat parameter array for layer l. */
typedef struct mlp__layer {
    size_t n_in, n_out;
    mlp_activation act;
    size_t w_off; /* offset of W (n_out x n_in) in params/grads */
    size_t b_off; /* offset of b (n_out) */
    float dropout; /* on this layer's input, training only */
} mlp__layer;

struct mlp_network {
    size_t n_layers;
    size_t *sizes;          /* n_layers + 1 */
    mlp__layer *layers;     /* n_layers */
    size_t max_width;       /* max over sizes */
    size_t n_params;
    float *params;
    float *grads;

    mlp_loss loss;
    float l2;
    float *in_offset;       /* NULL when no input scaling */
    float *in_scale;

    mlp__rng rng;
    uint64_t seed;          /* the seed given at creation or last init */

    /* Training state, saved with the model so training resumes exactly. */
    uint64_t epochs_trained;
    uint64_t steps;         /* optimiser steps taken */
    int opt_kind;           /* mlp_optimizer of opt_state, -1 if none */
    size_t opt_state_len;   /* floats in opt_state (0 when none) */
    float *opt_state;

    mlp__buffers ws;        /* the network's own workspace */
    /* The trainer's helper threads while it trains the network, else NULL:
     * the element-wise passes of training split across them (par.h). */
    struct mlp__pool *pool;
    /* The trainer's profile sums (mlp_profile_part) while it trains with
     * profiling on, else NULL (profile.h). */
    double *prof;

    /* The call rule (guard.h): in-use state, the one trainer attached to
     * the network (through its pointer to the network, which mlp_destroy
     * clears), and a destroy deferred by training. */
    int use;
    mlp_network **trainer_net; /* the attached trainer's pointer to us, or NULL */
    int destroy_pending;
};

/* Validates sizes and activations; fills n_params. */
MLP__HIDDEN mlp_status mlp__check_shape(size_t n_layers, const size_t *sizes,
                                        const mlp_activation *acts, size_t *n_params);
/* Allocates a network with the given shape; parameters zeroed, no init. */
MLP__HIDDEN mlp_status mlp__network_alloc(size_t n_layers, const size_t *sizes,
                                          const mlp_activation *acts, mlp_network **out);
/* Frees a network's memory, whatever its state (mlp_destroy decides when). */
MLP__HIDDEN void mlp__network_free(mlp_network *net);
/* mlp_set_input_scaling without the call rule's check. */
MLP__HIDDEN mlp_status mlp__set_input_scaling(mlp_network *net, const float *offset,
                                              const float *scale);

#endif /* MLP_NETWORK_H */
