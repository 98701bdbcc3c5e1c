/* OpenBLAS's own worker threads as the pool's team (blas_team.c).
 * Internal: not API. */
#ifndef MLP_BLAS_TEAM_H
#define MLP_BLAS_TEAM_H

#include "internal.h"

/* The threads mlp__blas_team_run may use now, the caller's included
 * (OpenBLAS's thread setting, at least 1); 0 when OpenBLAS's workers
 * cannot take our work (another BLAS, a ThreadSanitizer build, or a probe
 * of the calling convention failed), and the pool must bring its own
 * threads. The probe runs once, the first time OpenBLAS has two threads
 * or more; until then the answer is the thread setting, 1. */
MLP__HIDDEN int mlp__blas_team_size(void);
/* Calls fn(arg) once on each of `threads` threads, the caller's one of
 * them, with subnormals flushed; returns when every call has. threads is
 * at most what mlp__blas_team_size returned, and at least 2. */
MLP__HIDDEN void mlp__blas_team_run(int threads, void (*fn)(void *), void *arg);

#endif /* MLP_BLAS_TEAM_H */
