/* Checks of caller data (checks.c). Internal: not API. */
#ifndef MLP_CHECKS_H
#define MLP_CHECKS_H

#include "network.h"

/* Checks class indices against n_out and floats for finiteness. */
MLP__HIDDEN mlp_status mlp__check_targets(const mlp_network *net, const void *targets,
                                          size_t batch);
MLP__HIDDEN mlp_status mlp__check_finite(const float *x, size_t n, const char *what);
/* 1 when every x[i] is finite (vectorised, no message). */
MLP__HIDDEN int mlp__all_finite(const float *x, size_t n);
/* The largest |x[i]|, INFINITY when some x[i] is not finite (vectorised). */
MLP__HIDDEN float mlp__max_abs(const float *x, size_t n);

#endif /* MLP_CHECKS_H */
