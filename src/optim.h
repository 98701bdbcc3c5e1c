/* Optimisers (optim.c), learning-rate schedules and gradient clipping
 * (schedule.c). Internal: not API. */
#ifndef MLP_OPTIM_H
#define MLP_OPTIM_H

#include "internal.h"

/* Hyperparameters of one update, as PyTorch names them. */
typedef struct mlp__optim_params {
    mlp_optimizer kind;
    float lr;
    float momentum;     /* momentum, Nesterov */
    float beta1, beta2; /* Adam, AdamW */
    float eps;          /* Adam, AdamW, RMSprop */
    float weight_decay; /* AdamW, decoupled, weights only */
    float rho;          /* RMSprop (PyTorch's alpha) */
    float rp_inc, rp_dec;          /* iRPROP- step growth and shrink */
    float rp_min, rp_max, rp_init; /* iRPROP- step bounds and first step */
} mlp__optim_params;

/* Floats of optimiser state for n parameters (0 for SGD); 0 with *ok = 0
 * when the size overflows. */
MLP__HIDDEN size_t mlp__optim_state_len(mlp_optimizer kind, size_t n_params, int *ok);

/* Makes net->opt_state fit `kind`. State of the same kind and size is kept
 * (so training resumes exactly); otherwise a zeroed state is allocated and
 * net->steps restarts at 0 (Adam's bias correction counts the steps of its
 * own state). On failure the network is unchanged. */
MLP__HIDDEN mlp_status mlp__optim_prepare(mlp_network *net, mlp_optimizer kind);

/* One update of net->params from gscale * net->grads with the state in
 * net (which must fit p->kind: mlp__optim_prepare); increments net->steps.
 * Allocates nothing. Returns 1 when every parameter is finite afterwards,
 * 0 otherwise (the check is fused into the update loop). */
MLP__HIDDEN int mlp__optim_update(mlp_network *net, const mlp__optim_params *p, float gscale);

/* Counts a step whose update was applied elsewhere (plain SGD fused into
 * the backward pass), so that the step count has one writer. */
MLP__HIDDEN void mlp__optim_count_step(mlp_network *net);

/* A copy of what a step changes (parameters, optimiser state, step count),
 * so that a diverged epoch can be undone: mlp__optim_snapshot_len floats
 * (0 with *ok = 0 on overflow), taken and restored below. */
MLP__HIDDEN size_t mlp__optim_snapshot_len(const mlp_network *net, int *ok);
MLP__HIDDEN void mlp__optim_snapshot_take(const mlp_network *net, float *snap, uint64_t *steps);
MLP__HIDDEN void mlp__optim_snapshot_restore(mlp_network *net, const float *snap, uint64_t steps);

/* Schedule settings. Epochs and steps are 0-based. */
typedef struct mlp__schedule_params {
    mlp_schedule kind;
    double lr;
    double gamma;        /* step decay */
    uint64_t step_epochs;
    uint64_t warmup_steps; /* cosine */
    double min_lr;
} mlp__schedule_params;

/* The learning rate for the step `step` of a plan of total_steps steps,
 * taken in epoch `epoch`:
 *   constant: lr
 *   step:     lr * gamma^floor(epoch / step_epochs)
 *   cosine:   lr * (step + 1) / warmup_steps during the warm-up, then
 *             min_lr + (lr - min_lr) * (1 + cos(pi * t)) / 2 with
 *             t = (step - warmup) / (total_steps - warmup) in [0, 1];
 *             total_steps == 0 (no plan) keeps lr after the warm-up. */
MLP__HIDDEN double mlp__schedule_lr(const mlp__schedule_params *s, uint64_t epoch, uint64_t step,
                                    uint64_t total_steps);

/* sqrt(sum g^2) in double, in a fixed order (deterministic). */
MLP__HIDDEN double mlp__global_norm(const float *g, size_t n);

/* The factor that clipping by global norm applies to the gradients:
 * max_norm / (norm + 1e-6) when norm exceeds max_norm, else 1 (PyTorch's
 * clip_grad_norm_). max_norm <= 0 means no clipping. */
MLP__HIDDEN float mlp__clip_factor(double norm, double max_norm);

#endif /* MLP_OPTIM_H */
