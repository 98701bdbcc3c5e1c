/* L-BFGS: Nocedal and Wright, Numerical Optimization (2nd ed.), algorithm
 * 7.4 (the two-loop recursion) with the strong-Wolfe line search of
 * algorithms 3.5 and 3.6 (cubic interpolation in the zoom), c1 = 1e-4,
 * c2 = 0.9, at most 20 evaluations per search (scipy's maxls). The first
 * step along -g is min(1, 1/||g||), as L-BFGS-B takes it; later steps start
 * at 1. A pair is kept only when s.y > eps y.y (L-BFGS-B's rule), so that
 * the implicit Hessian stays positive definite.
 *
 * Why not liblbfgs: docs/SOLVERS.md (the wheel links only OpenBLAS, zlib
 * and libc, and liblbfgs runs its own loop).
 *
 * The points are float-representable (x_i = (float)x_i): the network
 * evaluates float parameters, and s is then exactly the step it took.
 */
#include "lbfgs.h"
#include "vec.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define C1 1e-4
#define C2 0.9
#define MAXLS 20

size_t mlp__lbfgs_len(size_t n, int *ok)
{
    size_t per; /* 5 vectors + 2 m pairs */
    *ok = n <= (SIZE_MAX - 2 * MLP__LBFGS_M) / (5 + 2 * MLP__LBFGS_M);
    if (!*ok) return 0;
    per = (5 + 2 * MLP__LBFGS_M) * n;
    return per + 2 * MLP__LBFGS_M;
}

void mlp__lbfgs_init(mlp__lbfgs *lb, double *mem, size_t n)
{
    memset(lb, 0, sizeof *lb);
    lb->n = n;
    lb->m = MLP__LBFGS_M;
    lb->x = mem;
    lb->g = mem + n;
    lb->xt = mem + 2 * n;
    lb->gt = mem + 3 * n;
    lb->d = mem + 4 * n;
    lb->S = mem + 5 * n;
    lb->Y = lb->S + lb->m * n;
    lb->rho = lb->Y + lb->m * n;
    lb->alpha = lb->rho + lb->m;
}

/* a.b in lanes (vec.h): the two-loop recursion takes 2m + 2 of these per
 * iteration. */
MLP__VEC_CLONES static double dot(const double *restrict a, const double *restrict b, size_t n)
{
    double lane[MLP__LANES] = {0};
    size_t i = 0, j;
    for (; i + MLP__LANES <= n; i += MLP__LANES)
        for (j = 0; j < MLP__LANES; j++) lane[j] += a[i + j] * b[i + j];
    for (j = 0; i < n; i++, j++) lane[j] += a[i] * b[i];
    return mlp__lanes_total(lane);
}

double mlp__lbfgs_gmax(const mlp__lbfgs *lb)
{
    double m = 0.0;
    for (size_t i = 0; i < lb->n; i++) m = fabs(lb->g[i]) > m ? fabs(lb->g[i]) : m;
    return m;
}

double mlp__lbfgs_start(mlp__lbfgs *lb, const float *x0, mlp__lbfgs_eval eval, void *ctx)
{
    for (size_t i = 0; i < lb->n; i++) lb->x[i] = x0[i];
    lb->count = 0;
    lb->head = 0;
    lb->nfev = 1;
    lb->f = eval(ctx, lb->x, lb->g);
    return lb->f;
}

/* d = -H g by the two-loop recursion, H0 = (s.y / y.y) I from the newest
 * pair; d = -g without pairs. */
static void direction(mlp__lbfgs *lb)
{
    const size_t n = lb->n, m = lb->m;
    double *d = lb->d;
    size_t k;
    for (size_t i = 0; i < n; i++) d[i] = -lb->g[i];
    if (lb->count == 0) return;
    for (k = 0; k < lb->count; k++) { /* newest to oldest */
        size_t j = (lb->head + m - 1 - k) % m;
        double a = lb->rho[j] * dot(lb->S + j * n, d, n);
        const double *y = lb->Y + j * n;
        lb->alpha[j] = a;
        for (size_t i = 0; i < n; i++) d[i] -= a * y[i];
    }
    {
        size_t j = (lb->head + m - 1) % m;
        const double *y = lb->Y + j * n;
        double gamma = 1.0 / (lb->rho[j] * dot(y, y, n));
        for (size_t i = 0; i < n; i++) d[i] *= gamma;
    }
    for (k = lb->count; k-- > 0;) { /* oldest to newest */
        size_t j = (lb->head + m - 1 - k) % m;
        const double *s = lb->S + j * n;
        double b = lb->rho[j] * dot(lb->Y + j * n, d, n);
        for (size_t i = 0; i < n; i++) d[i] += (lb->alpha[j] - b) * s[i];
    }
}

/* f and phi'(a) = g.d at x + a d, into xt and gt. */
static double trial(mlp__lbfgs *lb, mlp__lbfgs_eval eval, void *ctx, double a, double *dphi)
{
    double f;
    for (size_t i = 0; i < lb->n; i++) lb->xt[i] = (double)(float)(lb->x[i] + a * lb->d[i]);
    lb->nfev++;
    f = eval(ctx, lb->xt, lb->gt);
    *dphi = dot(lb->gt, lb->d, lb->n);
    lb->ft = f;
    return f;
}

/* The minimiser of the cubic through (a, fa, da) and (b, fb, db), kept
 * inside the middle 80% of [a, b]; bisection when it is not defined. */
static double cubic(double a, double fa, double da, double b, double fb, double db)
{
    double lo = a < b ? a : b, hi = a < b ? b : a, w = hi - lo, t;
    double d1 = da + db - 3.0 * (fa - fb) / (a - b);
    double disc = d1 * d1 - da * db, d2;
    if (!isfinite(fa) || !isfinite(fb) || !(disc >= 0.0)) return 0.5 * (a + b);
    d2 = (b > a ? 1.0 : -1.0) * sqrt(disc);
    t = b - (b - a) * (db + d2 - d1) / (db - da + 2.0 * d2);
    if (!isfinite(t) || t < lo + 0.1 * w || t > hi - 0.1 * w) return 0.5 * (a + b);
    return t;
}

/* A bracket [lo, hi] of the line search: a step and its f, phi'. */
typedef struct bracket {
    double a, f, d;
} bracket;

/* Algorithm 3.6. Returns 1 with xt, gt at an accepted step; 0 otherwise,
 * with *best the lowest Armijo point seen (a = 0 when none). */
static int zoom(mlp__lbfgs *lb, mlp__lbfgs_eval eval, void *ctx, bracket lo, bracket hi,
                double f0, double d0, int budget, bracket *best)
{
    for (int j = 0; j < budget; j++) {
        double a = cubic(lo.a, lo.f, lo.d, hi.a, hi.f, hi.d), dt;
        double ft = trial(lb, eval, ctx, a, &dt);
        if (!(ft <= f0 + C1 * a * d0) || ft >= lo.f) {
            hi.a = a, hi.f = ft, hi.d = dt;
        } else {
            if (fabs(dt) <= -C2 * d0) return 1;
            if (dt * (hi.a - lo.a) >= 0.0) hi = lo;
            lo.a = a, lo.f = ft, lo.d = dt;
        }
        if (fabs(hi.a - lo.a) <= 1e-12 * (lo.a > hi.a ? lo.a : hi.a)) break;
    }
    *best = lo;
    return 0;
}

/* Algorithm 3.5 from a0. Returns 1 with xt, gt at a step that meets the
 * strong Wolfe conditions; 2 with xt, gt at the lowest point found when
 * none did but J fell (sufficient decrease only); 0 when J did not fall. */
static int line_search(mlp__lbfgs *lb, mlp__lbfgs_eval eval, void *ctx, double a0, double d0)
{
    const double f0 = lb->f;
    bracket prev = {0.0, f0, d0}, best = {0.0, f0, d0}, cur;
    double a = a0;
    for (int i = 0; i < MAXLS; i++) {
        cur.a = a;
        cur.f = trial(lb, eval, ctx, a, &cur.d);
        if (!(cur.f <= f0 + C1 * a * d0) || (i > 0 && cur.f >= prev.f)) {
            if (zoom(lb, eval, ctx, prev, cur, f0, d0, MAXLS - i - 1, &best)) return 1;
            break;
        }
        if (fabs(cur.d) <= -C2 * d0) return 1;
        if (cur.d >= 0.0) {
            if (zoom(lb, eval, ctx, cur, prev, f0, d0, MAXLS - i - 1, &best)) return 1;
            break;
        }
        prev = cur;
        best = cur;
        a *= 4.0;
    }
    if (best.a > 0.0 && best.f < f0) { /* sufficient decrease without curvature */
        double dt;
        trial(lb, eval, ctx, best.a, &dt);
        return 2;
    }
    return 0;
}

/* Takes the trial point: the pair (s, y) when s.y > eps y.y, then x = xt. */
static void accept(mlp__lbfgs *lb, double f)
{
    const size_t n = lb->n;
    double *s = lb->S + lb->head * n, *y = lb->Y + lb->head * n, sy, yy, *t;
    for (size_t i = 0; i < n; i++) {
        s[i] = lb->xt[i] - lb->x[i];
        y[i] = lb->gt[i] - lb->g[i];
    }
    sy = dot(s, y, n);
    yy = dot(y, y, n);
    if (sy > DBL_EPSILON * yy && yy > 0.0) {
        lb->rho[lb->head] = 1.0 / sy;
        lb->head = (lb->head + 1) % lb->m;
        if (lb->count < lb->m) lb->count++;
    }
    t = lb->x, lb->x = lb->xt, lb->xt = t;
    t = lb->g, lb->g = lb->gt, lb->gt = t;
    lb->f = f;
}

int mlp__lbfgs_iterate(mlp__lbfgs *lb, mlp__lbfgs_eval eval, void *ctx)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        double d0, a0 = 1.0;
        int res;
        if (attempt > 0) lb->count = 0; /* retry along -g with a fresh memory */
        direction(lb);
        d0 = dot(lb->g, lb->d, lb->n);
        if (!(d0 < 0.0)) { /* not a descent direction: the pairs are stale */
            if (lb->count == 0) break;
            continue;
        }
        if (lb->count == 0) {
            double norm = sqrt(dot(lb->d, lb->d, lb->n));
            a0 = norm > 1.0 ? 1.0 / norm : 1.0;
        }
        res = line_search(lb, eval, ctx, a0, d0);
        /* A search that found no Wolfe point along the quasi-Newton
         * direction is retried along -g with a fresh memory first (as
         * L-BFGS-B restarts); the lowest point is taken only after that. */
        if (res == 1 || (res == 2 && (attempt > 0 || lb->count == 0))) {
            accept(lb, lb->ft); /* the accepted point was the last evaluated */
            return MLP__LBFGS_MOVED;
        }
    }
    {
        /* Leave the evaluator at x: re-evaluate it (its f is known). */
        double dt;
        trial(lb, eval, ctx, 0.0, &dt);
        memcpy(lb->g, lb->gt, lb->n * sizeof(double));
    }
    return MLP__LBFGS_STUCK;
}
