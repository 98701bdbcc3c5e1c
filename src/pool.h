/* libmlp's own helper threads for the element-wise work (pool.c).
 * Internal: not API. */
#ifndef MLP_POOL_H
#define MLP_POOL_H

#include "internal.h"

typedef struct mlp__pool mlp__pool;

/* Work on [begin, end) of a range; must not depend on the partition. */
typedef void (*mlp__range_fn)(void *ctx, size_t begin, size_t end);

/* A pool of `threads` threads, the caller's included (threads >= 2):
 * OpenBLAS's own workers where they can take the work (blas_team.h), else
 * threads - 1 helpers of its own that sleep until mlp__pool_for offers
 * chunks, and go back to sleep after a short spin, so that while BLAS
 * runs only BLAS's threads are busy. */
MLP__HIDDEN mlp_status mlp__pool_create(int threads, mlp__pool **out);
/* Joins the helpers; accepts NULL. */
MLP__HIDDEN void mlp__pool_destroy(mlp__pool *pool);
/* The threads the pool runs work on, the caller's included (1 for NULL). */
MLP__HIDDEN int mlp__pool_threads(const mlp__pool *pool);
/* Whether the pool's work runs on OpenBLAS's workers (0 for NULL). */
MLP__HIDDEN int mlp__pool_on_blas_team(const mlp__pool *pool);

/* The threads a trainer's pool should have: BLAS's (mlp_set_num_threads),
 * so that ours and BLAS's, which never run at once, never exceed it. */
MLP__HIDDEN int mlp__pool_threads_wanted(void);
#ifdef MLP_TESTING
/* Caps mlp__pool_threads_wanted (0: no cap). */
MLP__HIDDEN void mlp__pool_test_cap(int threads);
/* With own != 0, pools made from now on start helpers of their own even
 * where OpenBLAS's workers could take the work. */
MLP__HIDDEN void mlp__pool_test_own(int own);
#endif

/* fn over [0, n) in contiguous chunks (a few per thread, each boundary a
 * multiple of `grain`), each run by whichever thread claims it first;
 * returns when every chunk is done. With pool NULL,
 * or n below min_n, the caller runs fn(ctx, 0, n) alone. Allocates
 * nothing. Each element is handled by exactly one call, so an element-wise
 * fn gives the same bits for every partition. */
MLP__HIDDEN void mlp__pool_for(mlp__pool *pool, mlp__range_fn fn, void *ctx, size_t n,
                               size_t grain, size_t min_n);

#endif /* MLP_POOL_H */
