/* Data-parallel training through an engine-neutral reducer (replica.c):
 * the agreement check, each process's slice of a global batch, the
 * gradient summed layer by layer while the backward pass runs, and the
 * reduced statistics. libmlp links no communication library: the reducer's
 * callbacks (mlp.h, mlp_reducer) do the communication. Internal: not API. */
#ifndef MLP_REPLICA_H
#define MLP_REPLICA_H

#include "dropout.h"
#include "network.h"

typedef struct mlp__replica {
    mlp_reducer r;
    int on;             /* a reducer is set */
    mlp_status st;      /* the first failure of a sum started inside backward */
    mlp_network *net;   /* the network whose gradient the hook sums */
    double *scratch;    /* size + 2 doubles: per-process counts, allocated once */
} mlp__replica;

/* What a process needs of its step's global batch. */
typedef struct mlp__slice {
    size_t row0;        /* the global index of this process's first row */
    double rows;        /* rows of the global batch */
    double wsum;        /* sum of its weights (== rows when unweighted) */
} mlp__slice;

/* Takes r (copied) after mlp__replica_check passed; allocates the scratch and
 * lets the engine prepare. On failure nothing is kept. */
MLP__HIDDEN mlp_status mlp__replica_set(mlp__replica *rep, const mlp_reducer *r,
                                        mlp_network *net);
/* Drops the reducer (its destroy called), if any. */
MLP__HIDDEN void mlp__replica_drop(mlp__replica *rep);

/* Collective: checks that every process has the same network, settings,
 * options (opt[0..n_opt)) and, when sizes != NULL (the replicated mode),
 * the same data sizes (sizes[0..2)), and that no process failed before it
 * (local != MLP_OK). Returns local when it is not MLP_OK; MLP_ERR_MISMATCH
 * or MLP_ERR_ARGUMENT (another process failed) with a message; else MLP_OK.
 * fn names the caller in messages. */
MLP__HIDDEN mlp_status mlp__replica_check(const mlp_reducer *r, const mlp_network *net,
                                          const double *opt, size_t n_opt,
                                          const double *sizes, mlp_status local,
                                          const char *fn);

/* Part k of n rows cut into `parts` parts of sizes differing by at most
 * one: rows [*lo, *hi). */
MLP__HIDDEN void mlp__replica_part(size_t n, size_t k, size_t parts, size_t *lo, size_t *hi);
/* This process's rows [*lo, *hi) of a global batch of `rows` rows. */
MLP__HIDDEN void mlp__replica_slice(const mlp__replica *rep, size_t rows, size_t *lo,
                                    size_t *hi);
/* Collective: from this process's rows and weight sum (and a failure flag),
 * the slice (row0 and the global totals) of the step; *any_failed set when
 * some process passed failed != 0. */
MLP__HIDDEN mlp_status mlp__replica_counts(mlp__replica *rep, size_t rows, double wsum,
                                           int failed, mlp__slice *sl, int *any_failed);
/* Collective: this process's part of the gradient (mlp__loss_grad_part with
 * scale), each layer's sum started as soon as backward finishes it, all of
 * them waited for before returning: net->grads is then the summed gradient
 * (without the l2 term). *loss_sum and *correct stay local. */
MLP__HIDDEN mlp_status mlp__replica_grad(mlp__replica *rep, mlp_network *net, const float *X,
                                         size_t rows, const void *targets, const float *w,
                                         const mlp__drop_key *drop, float scale,
                                         double *loss_sum, size_t *correct);
/* Collective: in-place sum of v[0..n). */
MLP__HIDDEN mlp_status mlp__replica_sum(mlp__replica *rep, double *v, size_t n);
/* Collective: whether flag is non-zero on any process (1 also when the
 * reduction itself failed, with its message set). */
MLP__HIDDEN int mlp__replica_any(mlp__replica *rep, int flag);

#endif /* MLP_REPLICA_H */
