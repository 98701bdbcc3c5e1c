/* Activation workspaces: the network's own and the callers' (workspace.c). Internal: not API. */
#ifndef MLP_BUFFERS_H
#define MLP_BUFFERS_H

#include "internal.h"

/* Activation storage for one pass over up to `capacity` rows. For layer l:
 * z[l], a[l] are (capacity x n_out(l)). After a forward pass z[l] holds
 * the pre-activation W a + b only where something reads it: the output
 * layer (the loss) and activations whose derivative needs z (GELU,
 * softplus); a hidden ReLU, leaky ReLU, sigmoid or tanh layer has no z[l]
 * of its own: z[l] is a[l], where its product goes and the activation
 * applies in place (its f' reads a[l]), as for identity layers. Layers
 * with dropout > 0 (at allocation time) also get in_drop[l], the input
 * actually fed to the layer (capacity x n_in(l)), and mask[l], the
 * factors 0 or 1/(1-p) applied. */
typedef struct mlp__buffers {
    size_t capacity;
    float *block;       /* one allocation holding every array below */
    void *ptrs;         /* one allocation holding the pointer arrays */
    float *input;       /* capacity x n_in: the scaled input */
    float **z;          /* n_layers pointers */
    float **a;          /* n_layers pointers */
    float **in_drop;    /* n_layers pointers, NULL where no dropout */
    float **mask;       /* n_layers pointers, NULL where no dropout */
    float *delta[2];    /* ping-pong error terms, capacity x max width */
    const float *x0;    /* the input rows the last forward_train read */
    int dropout_on;     /* whether the last forward_train applied dropout */
} mlp__buffers;

struct mlp_workspace {
    size_t n_layers;
    size_t *sizes;          /* n_layers + 1: the shape it serves, compared exactly */
    size_t capacity;
    size_t max_width;
    float *input;           /* capacity x n_in (scaling) */
    float *ping, *pong;     /* capacity x max_width */
};

/* Allocates (or replaces) a buffer set for `capacity` rows. */
MLP__HIDDEN mlp_status mlp__buffers_alloc(const mlp_network *net, size_t capacity,
                                          mlp__buffers *buf);
MLP__HIDDEN void mlp__buffers_free(mlp__buffers *buf);
/* Whether a caller's workspace was made for a network of exactly these
 * layer sizes. */
MLP__HIDDEN int mlp__workspace_fits(const mlp_network *net, const mlp_workspace *ws);
/* mlp_reserve without the call rule's check, for the library's own calls
 * on a network it holds. */
MLP__HIDDEN mlp_status mlp__reserve(mlp_network *net, size_t max_batch);

#endif /* MLP_BUFFERS_H */
