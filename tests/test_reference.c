/* R1: the naive double-precision reference (tests/reference.c) against
 * double-precision central differences, for every activation x every loss
 * x GRID_ARCHS architectures, l2 = 0 and > 0. Each parameter block (W and b
 * of every layer) must agree to a norm-relative error below 1e-7, and no
 * block may pass with both gradients trivially zero. The reference is what
 * test_gradients then holds the float library to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"
#include "reference.h"

#define TOL 1e-7
/* At most this many entries per block get a finite difference (a random
 * subset beyond it, drawn per case); every block is always checked. */
#define MAX_PER_BLOCK 16
/* Share of perturbations allowed to be skipped for crossing a kink. */
#define MAX_SKIP_SHARE 0.10

typedef struct stats {
    double worst;
    char worst_case[160];
    char worst_block[32];
    size_t cases, blocks, checked, skipped, redraws, shrunk;
} stats;

static stats g_total;
static stats g_act[MLP_ACT_COUNT_];

/* The fourth-order central difference
 * (-J(p+2h) + 8 J(p+h) - 8 J(p-h) + J(p-2h)) / 12h: truncation O(h^4), so
 * that h can stay large enough for rounding (~1e-16 |J| / h) not to matter.
 * Returns 1 and sets *fd, or 0 if a perturbation moved a relu-family
 * pre-activation across zero (then the difference quotient is not the
 * derivative at p). */
static int central_difference(const ref_net *rn, const grid_case *c, double *p, size_t idx,
                              double h, const double *Zbase, double *Zt, double *fd)
{
    static const double steps[4] = {2.0, 1.0, -1.0, -2.0};
    static const double weights[4] = {-1.0, 8.0, -8.0, 1.0};
    double saved = p[idx], sum = 0.0;
    int crossed = 0;
    for (int k = 0; k < 4 && !crossed; k++) {
        p[idx] = saved + steps[k] * h;
        double J = ref_objective(rn, p, c->dX, c->batch, c->dY, c->classes, Zt);
        assert_false(isnan(J));
        sum += weights[k] * J;
        size_t off = 0;
        for (size_t l = 0; l < rn->n_layers; l++) {
            size_t n = c->batch * rn->sizes[l + 1];
            if (ref_act_has_kink(rn->acts[l]))
                for (size_t i = 0; i < n; i++) crossed |= (Zt[off + i] > 0) != (Zbase[off + i] > 0);
            off += n;
        }
    }
    p[idx] = saved;
    if (crossed) return 0;
    *fd = sum / (12.0 * h);
    return 1;
}

/* J is analytic between kinks, so a step of 1e-3 keeps rounding far below
 * 1e-7. Where +-2h would cross a kink the step shrinks tenfold, down to
 * 1e-6; an entry whose kink is closer still is skipped and counted. */
static int kink_safe_difference(const ref_net *rn, const grid_case *c, double *p, size_t idx,
                                const double *Zbase, double *Zt, double *fd, size_t *shrunk)
{
    for (double h = 1e-3; h > 0.5e-6; h *= 0.1) {
        if (central_difference(rn, c, p, idx, h, Zbase, Zt, fd)) return 1;
        (*shrunk)++;
    }
    return 0;
}

static void record(stats *s, double err, const char *desc, const char *block)
{
    if (err > s->worst) {
        s->worst = err;
        snprintf(s->worst_case, sizeof s->worst_case, "%s", desc);
        snprintf(s->worst_block, sizeof s->worst_block, "%s", block);
    }
}

static void check_case(mlp_activation act, mlp_loss loss, size_t arch)
{
    grid_case c;
    char desc[160];
    assert_int_equal(grid_case_init(&c, act, loss, arch), 0);
    grid_case_describe(&c, desc, sizeof desc);
    ref_net rn = grid_ref_net(&c);
    size_t units = ref_num_units(&rn);

    double *Zbase = malloc(sizeof(double) * units * c.batch);
    double *Zt = malloc(sizeof(double) * units * c.batch);
    double *p = malloc(sizeof(double) * c.n_params);
    size_t *idx = malloc(sizeof(size_t) * c.n_params);
    double *g = malloc(sizeof(double) * MAX_PER_BLOCK);
    double *fd = malloc(sizeof(double) * MAX_PER_BLOCK);
    assert_non_null(Zbase);
    assert_non_null(Zt);
    assert_non_null(p);
    assert_non_null(idx);
    assert_non_null(g);
    assert_non_null(fd);
    memcpy(p, c.dparams, sizeof(double) * c.n_params);
    double J0 = ref_objective(&rn, p, c.dX, c.batch, c.dY, c.classes, Zbase);
    assert_true(fabs(J0 - c.ref_J) <= 1e-12 * fabs(J0));

    uint64_t rng = 0xFDull ^ ((uint64_t)act << 16) ^ ((uint64_t)loss << 8) ^ arch;

    for (size_t blk = 0; blk < 2 * c.n_layers; blk++) {
        size_t l = blk / 2;
        size_t start = blk % 2 == 0 ? ref_weights_offset(&rn, l) : ref_bias_offset(&rn, l);
        size_t size = blk % 2 == 0 ? c.sizes[l] * c.sizes[l + 1] : c.sizes[l + 1];
        size_t n = size < MAX_PER_BLOCK ? size : MAX_PER_BLOCK;
        for (size_t i = 0; i < size; i++) idx[i] = start + i;
        for (size_t i = 0; i < n; i++) { /* partial Fisher-Yates: n distinct entries */
            size_t j = i + grid_rng_below(&rng, size - i);
            size_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        size_t m = 0, skipped = 0;
        for (size_t i = 0; i < n; i++) {
            double d;
            if (!kink_safe_difference(&rn, &c, p, idx[i], Zbase, Zt, &d, &g_total.shrunk)) {
                skipped++;
                continue;
            }
            g[m] = c.ref_grads[idx[i]];
            fd[m] = d;
            m++;
        }
        char block[32];
        snprintf(block, sizeof block, "%s(%zu)", blk % 2 == 0 ? "W" : "b", l);
        double gn = 0.0, fn = 0.0;
        for (size_t i = 0; i < m; i++) {
            gn += g[i] * g[i];
            fn += fd[i] * fd[i];
        }
        if (m == 0 || (gn == 0.0 && fn < 1e-24)) {
            print_error("%s %s: %s\n", desc, block,
                        m == 0 ? "every entry skipped" : "both gradients trivially zero");
            fail();
        }
        double err = grid_rel_err(g, fd, m);
        if (err >= TOL) {
            print_error("%s %s: norm-relative error %.3e >= %.0e\n", desc, block, err, TOL);
            fail();
        }
        record(&g_total, err, desc, block);
        record(&g_act[act], err, desc, block);
        g_total.blocks++;
        g_total.checked += m;
        g_total.skipped += skipped;
    }
    g_total.cases++;
    g_total.redraws += c.redraws;
    free(Zbase);
    free(Zt);
    free(p);
    free(idx);
    free(g);
    free(fd);
    grid_case_free(&c);
}

/* One CMocka test per (activation, loss): state points at the pair. */
typedef struct pair {
    mlp_activation act;
    mlp_loss loss;
} pair;

static void test_pair(void **state)
{
    const pair *pr = *state;
    for (size_t arch = 0; arch < GRID_ARCHS; arch++) check_case(pr->act, pr->loss, arch);
}

static void test_zero_block_guard(void **state)
{
    /* The guard must be able to fire: a relu net whose single hidden unit
     * is dead for the whole batch has an all-zero W(0) gradient. */
    (void)state;
    size_t sizes[3] = {2, 1, 2};
    mlp_activation acts[2] = {MLP_ACT_RELU, MLP_ACT_IDENTITY};
    ref_net rn = {2, sizes, acts, MLP_LOSS_MSE, 0.0};
    double params[] = {1, 1, -10, /* W(0), b(0): z = x1 + x2 - 10 < 0 */
                       1, 1, 0, 0};
    double X[4] = {0.5, 0.25, -1, 2};
    double Y[4] = {1, 2, 3, 4};
    double grads[7];
    double J = ref_loss_grad(&rn, params, X, 2, Y, NULL, grads);
    assert_false(isnan(J));
    for (int i = 0; i < 3; i++) assert_true(grads[i] == 0.0);
    assert_true(grads[5] != 0.0); /* b(1) still learns */
}

static void test_known_values(void **state)
{
    /* A hand-computed case: one layer, identity, W = [1 2], b = 0.5,
     * x = (1, -1): o = -0.5. mse with y = 1: L = 1.125, dJ/dW = (o-y) x =
     * (-1.5, 1.5), dJ/db = -1.5; with l2 = 0.1: J += 0.05 * 5. */
    (void)state;
    size_t sizes[2] = {2, 1};
    mlp_activation acts[1] = {MLP_ACT_IDENTITY};
    ref_net rn = {1, sizes, acts, MLP_LOSS_MSE, 0.1};
    double params[3] = {1, 2, 0.5}, X[2] = {1, -1}, Y[1] = {1}, gr[3];
    double J = ref_loss_grad(&rn, params, X, 1, Y, NULL, gr);
    assert_true(fabs(J - (1.125 + 0.25)) < 1e-15);
    assert_true(fabs(gr[0] - (-1.5 + 0.1)) < 1e-15);
    assert_true(fabs(gr[1] - (1.5 + 0.2)) < 1e-15);
    assert_true(fabs(gr[2] - (-1.5)) < 1e-15);
    /* softmax CE of equal logits is ln(classes); sigmoid CE of 0 is ln 2. */
    double o[3] = {0.3, 0.3, 0.3}, y[3] = {0, 1, 0.5};
    assert_true(fabs(ref_loss_sample(MLP_LOSS_SOFTMAX_CE, o, 3, NULL, 1) - log(3.0)) < 1e-15);
    double z[3] = {0, 0, 0};
    assert_true(fabs(ref_loss_sample(MLP_LOSS_SIGMOID_CE, z, 3, y, 0) - 3 * log(2.0)) < 1e-15);
    /* log-sum-exp: finite for logits of 1e4. */
    double big[2] = {1e4, -1e4};
    assert_true(fabs(ref_loss_sample(MLP_LOSS_SOFTMAX_CE, big, 2, NULL, 1) - 2e4) < 1e-9);
    /* gelu(1) = Phi(1) = 0.8413447460685429; softplus(0) = ln 2. */
    assert_true(fabs(ref_act(MLP_ACT_GELU, 1.0) - 0.8413447460685429) < 1e-15);
    assert_true(fabs(ref_act(MLP_ACT_SOFTPLUS, 0.0) - log(2.0)) < 1e-15);
    assert_true(fabs(ref_act(MLP_ACT_LEAKY_RELU, -2.0) + 0.02) < 1e-15);
}

static int report(void **state)
{
    (void)state;
    printf("reference vs double central differences: %zu cases, %zu blocks, %zu entries "
           "checked, %zu skipped at kinks (%.3f%%), %zu step reductions near kinks, %zu redraws for "
           "all-zero blocks\n",
           g_total.cases, g_total.blocks, g_total.checked, g_total.skipped,
           100.0 * (double)g_total.skipped / (double)(g_total.checked + g_total.skipped + 1),
           g_total.shrunk, g_total.redraws);
    for (int a = 0; a < MLP_ACT_COUNT_; a++)
        if (g_act[a].worst_case[0])
            printf("  worst %-40s %s: %.3e\n", g_act[a].worst_case, g_act[a].worst_block,
                   g_act[a].worst);
    printf("worst norm-relative error (reference vs fd): %.3e in %s %s (limit %.0e)\n",
           g_total.worst, g_total.worst_case, g_total.worst_block, TOL);
    fflush(stdout);
    return 0;
}

static void test_skip_share(void **state)
{
    (void)state;
    double share = (double)g_total.skipped / (double)(g_total.checked + g_total.skipped);
    assert_true(g_total.cases == (size_t)MLP_ACT_COUNT_ * MLP_LOSS_COUNT_ * GRID_ARCHS);
    assert_true(share <= MAX_SKIP_SHARE);
}

int main(void)
{
    static pair pairs[MLP_ACT_COUNT_ * MLP_LOSS_COUNT_];
    struct CMUnitTest tests[MLP_ACT_COUNT_ * MLP_LOSS_COUNT_ + 3];
    static char names[MLP_ACT_COUNT_ * MLP_LOSS_COUNT_][48];
    static const char *const act_names[] = {"identity", "sigmoid", "tanh", "relu",
                                            "leaky_relu", "gelu", "softplus"};
    static const char *const loss_names[] = {"mse", "softmax_ce", "sigmoid_ce"};
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_known_values);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_zero_block_guard);
    for (int a = 0; a < MLP_ACT_COUNT_; a++) {
        for (int l = 0; l < MLP_LOSS_COUNT_; l++) {
            size_t k = (size_t)(a * MLP_LOSS_COUNT_ + l);
            pairs[k].act = (mlp_activation)a;
            pairs[k].loss = (mlp_loss)l;
            snprintf(names[k], sizeof names[k], "%s x %s", act_names[a], loss_names[l]);
            tests[n++] = (struct CMUnitTest){names[k], test_pair, NULL, NULL, &pairs[k]};
        }
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_skip_share);
    return _cmocka_run_group_tests("reference", tests, n, NULL, report);
}
