/* L-BFGS over a flat double vector (lbfgs.c): the two-loop recursion and a
 * strong-Wolfe line search, one iteration per call, so that the trainer
 * keeps its own loop (progress callback, call rule, divergence) around it.
 * Internal: not API. */
#ifndef MLP_LBFGS_H
#define MLP_LBFGS_H

#include "internal.h"

/* The pairs kept (scipy's maxcor default, which scikit-learn uses). */
#define MLP__LBFGS_M 10
/* The relative decrease below which the run has converged: scipy's
 * L-BFGS-B factr 1e7 times the double epsilon, as scikit-learn gets it. */
#define MLP__LBFGS_FTOL 2.220446049250313e-09

/* f(x) and its gradient g at x (x is float-representable). Returns f;
 * a non-finite f marks a step too long. */
typedef double (*mlp__lbfgs_eval)(void *ctx, const double *x, double *g);

typedef struct mlp__lbfgs {
    size_t n, m;
    size_t count, head;  /* pairs stored; the slot the next pair goes to */
    double *x, *g;       /* the current point and its gradient */
    double *xt, *gt;     /* the trial point of the line search */
    double *d;           /* the search direction */
    double *S, *Y;       /* m x n pairs s = x_new - x, y = g_new - g */
    double *rho, *alpha; /* m each */
    double f;            /* f(x) */
    double ft;           /* f of the last trial point */
    uint64_t nfev;       /* evaluations so far */
} mlp__lbfgs;

/* Doubles the state needs for n parameters (0 with *ok = 0 on overflow). */
MLP__HIDDEN size_t mlp__lbfgs_len(size_t n, int *ok);
/* Lays the state out in mem (mlp__lbfgs_len(n) doubles, caller-owned). */
MLP__HIDDEN void mlp__lbfgs_init(mlp__lbfgs *lb, double *mem, size_t n);
/* Starts at x0 (n floats): one evaluation. Returns f(x0). */
MLP__HIDDEN double mlp__lbfgs_start(mlp__lbfgs *lb, const float *x0, mlp__lbfgs_eval eval,
                                    void *ctx);

/* What one iteration did. */
enum mlp__lbfgs_result {
    MLP__LBFGS_MOVED = 0,   /* a lower f was found and accepted */
    MLP__LBFGS_STUCK = 1    /* no lower f along -g either: x was re-evaluated */
};

/* One iteration: direction, line search, pair update. The last call of
 * eval is always at the returned x, so what the evaluator keeps (the
 * network's parameters and gradient) matches x. Allocates nothing. */
MLP__HIDDEN int mlp__lbfgs_iterate(mlp__lbfgs *lb, mlp__lbfgs_eval eval, void *ctx);

/* max |g_i|: the projected-gradient test of L-BFGS-B without bounds. */
MLP__HIDDEN double mlp__lbfgs_gmax(const mlp__lbfgs *lb);

#endif /* MLP_LBFGS_H */
