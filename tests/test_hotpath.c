/* The hot path as tuned for speed, against plain references: the ReLU and
 * leaky ReLU backward factors, the softmax
 * cross-entropy error term, and the SGD step fused into the backward pass
 * against loss_grad followed by p -= lr g (l2 and dropout included), its
 * divergence reports, and that it allocates nothing. And a small batch
 * gives the same bits wherever the caller's rows lie (they are copied onto
 * a cache line first). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "network.h"
#include "pass.h"
#include "activation.h"

static float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

/* The backward factors select rather than multiply (so they vectorise):
 * below the kink the error term is 0 (or slope * d), NaN included. */
static void act_backward_matches_reference(mlp_activation act, float slope)
{
    float Z[37], D[37], ref[37];
    uint64_t s = 7;
    size_t n, i;
    for (n = 1; n <= 37; n++) {
        for (i = 0; i < n; i++) {
            Z[i] = frand(&s);
            D[i] = frand(&s);
        }
        Z[0] = 0.0f;           /* the kink itself: the left side */
        if (n > 2) D[2] = NAN; /* NaN passes above the kink, is selected away below */
        for (i = 0; i < n; i++) ref[i] = Z[i] > 0.0f ? D[i] : slope == 0.0f ? 0.0f : slope * D[i];
        mlp__act_backward(act, Z, Z, D, n);
        for (i = 0; i < n; i++) {
            if (isnan(ref[i])) {
                assert_true(isnan(D[i]));
                continue;
            }
            assert_memory_equal(&D[i], &ref[i], sizeof(float));
        }
    }
}

static void relu_backward(void **state) { act_backward_matches_reference(MLP_ACT_RELU, 0.0f); }
static void leaky_backward(void **state) { act_backward_matches_reference(MLP_ACT_LEAKY_RELU, 0.01f); }

/* delta = scale (softmax(o) - onehot(y)), loss = logsumexp(o) - o_y, in double. */
static void softmax_delta(void **state)
{
    enum { ROWS = 5, N = 13 };
    static const size_t sizes[] = {3, N};
    static const mlp_activation acts[] = {MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    float O[ROWS * N], delta[ROWS * N];
    int32_t y[ROWS] = {0, 3, 12, 7, 5};
    uint64_t s = 11;
    const float scale = 1.0f / ROWS;
    double sum, ref = 0.0;
    size_t r, k, right = 0;
    assert_int_equal(mlp_create(&net, 1, sizes, acts, 1), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    for (k = 0; k < ROWS * N; k++) O[k] = 8.0f * frand(&s);
    O[4 * N + 1] = 1e4f; /* a huge logit stays finite */
    O[4 * N + 2] = -1e4f;
    sum = mlp__loss_delta(net, O, O, y, ROWS, scale, delta, &right);
    for (r = 0; r < ROWS; r++) {
        const float *o = O + r * N;
        double m = o[0], z = 0.0, lse;
        for (k = 1; k < N; k++) m = o[k] > m ? o[k] : m;
        for (k = 0; k < N; k++) z += exp((double)o[k] - m);
        lse = m + log(z);
        ref += lse - o[y[r]];
        for (k = 0; k < N; k++) {
            double want = scale * (exp((double)o[k] - lse) - (k == (size_t)y[r]));
            assert_true(isfinite(delta[r * N + k]));
            assert_true(fabs(delta[r * N + k] - want) <= 1e-7 + 1e-6 * fabs(want));
        }
    }
    assert_true(isfinite(sum));
    assert_true(fabs(sum - ref) <= 1e-9 * fabs(ref));
    /* without delta: the same loss */
    assert_true(mlp__loss_delta(net, O, O, y, ROWS, scale, NULL, NULL) == sum);
    mlp_destroy(net);
}

typedef struct fused_case {
    size_t rows;
    mlp_activation act;
    float l2, dropout, lr;
} fused_case;

/* The fused step against the plain one on two clones of one network (the
 * clones share the seed and step count, so dropout draws the same masks). */
static void fused_matches(const fused_case *fc)
{
    static const size_t sizes[] = {9, 7, 6, 4};
    mlp_activation acts[3];
    mlp_network *a = NULL, *b = NULL;
    float X[16 * 9];
    int32_t y[16];
    double la, Ja, lb, Jb;
    size_t ca, cb, i, n;
    uint64_t s = 3;
    mlp__drop_key ka, kb;
    acts[0] = acts[1] = fc->act;
    acts[2] = MLP_ACT_IDENTITY;
    assert_true(fc->rows <= 16);
    assert_int_equal(mlp_create(&a, 3, sizes, acts, 5), MLP_OK);
    assert_int_equal(mlp_set_loss(a, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_set_l2(a, fc->l2), MLP_OK);
    assert_int_equal(mlp_set_dropout(a, 1, fc->dropout), MLP_OK);
    assert_int_equal(mlp_reserve(a, 16), MLP_OK);
    assert_int_equal(mlp_clone(a, &b), MLP_OK);
    for (i = 0; i < fc->rows * 9; i++) X[i] = frand(&s);
    for (i = 0; i < fc->rows; i++) y[i] = (int32_t)(i % 4);
    n = mlp_num_params(a);
    ka = mlp__drop_key_next(a);
    kb = mlp__drop_key_next(b);

    /* reference: gradient, then p -= lr g */
    assert_int_equal(mlp__loss_grad(a, X, fc->rows, y, NULL, &ka, &la, &Ja, &ca), MLP_OK);
    for (i = 0; i < n; i++) a->params[i] = a->params[i] - fc->lr * a->grads[i];

    mlp__alloc_reset_count();
    assert_int_equal(mlp__sgd_step_fused(b, X, fc->rows, y, &kb, fc->lr, &lb, &Jb, &cb), 1);
    assert_int_equal(mlp__alloc_count(), 0);

    assert_true(la == lb);
    assert_true(Ja == Jb);
    assert_int_equal(ca, cb);
    for (i = 0; i < n; i++) {
        float d = fabsf(a->params[i] - b->params[i]);
        assert_true(d <= 1e-6f + 1e-5f * fabsf(a->params[i]));
    }
    /* dropout leaves the shuffle generator alone */
    assert_memory_equal(&a->rng, &b->rng, sizeof a->rng);
    mlp_destroy(a);
    mlp_destroy(b);
}

static void fused_sgd(void **state)
{
    static const fused_case cases[] = {
        {1, MLP_ACT_RELU, 0.0f, 0.0f, 0.1f},  {1, MLP_ACT_TANH, 0.01f, 0.0f, 0.05f},
        {7, MLP_ACT_RELU, 0.0f, 0.0f, 0.1f},  {7, MLP_ACT_SIGMOID, 0.1f, 0.0f, 0.3f},
        {16, MLP_ACT_LEAKY_RELU, 0.0f, 0.3f, 0.1f}, {5, MLP_ACT_GELU, 0.02f, 0.5f, 0.2f},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) fused_matches(&cases[i]);
}

static void fused_diverges(void **state)
{
    static const size_t sizes[] = {4, 5, 3};
    static const mlp_activation acts[] = {MLP_ACT_IDENTITY, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    float X[2 * 4] = {100, 200, 300, 400, -100, -200, -300, -400}, *before;
    int32_t y[2] = {0, 2};
    size_t n, c;
    double loss = 0.0, J = 0.0;
    assert_int_equal(mlp_create(&net, 2, sizes, acts, 9), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    n = mlp_num_params(net);
    before = malloc(n * sizeof *before);
    assert_non_null(before);

    /* a non-finite objective: nothing changes (the trainer reports it) */
    net->params[mlp_bias_offset(net, 1)] = INFINITY;
    memcpy(before, net->params, n * sizeof *before);
    mlp__sgd_step_fused(net, X, 2, y, NULL, 0.1f, &loss, &J, &c);
    assert_false(isfinite(J));
    assert_memory_equal(before, net->params, n * sizeof *before);

    /* an update that overflows a parameter */
    net->params[mlp_bias_offset(net, 1)] = 0.0f;
    assert_int_equal(mlp__sgd_step_fused(net, X, 2, y, NULL, 3e38f, &loss, &J, &c), 0);
    assert_true(isfinite(J));
    free(before);
    mlp_destroy(net);
}

/* Outputs and gradients of batches up to 64 rows are the same bits at
 * every float offset of X from a 64-byte line. */
static void input_alignment(void **state)
{
    const size_t sizes[3] = {37, 24, 5}, batches[5] = {1, 3, 16, 33, 64};
    const mlp_activation acts[2] = {MLP_ACT_RELU, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    char *raw = malloc((64 * 37 + 32) * sizeof(float));
    float *line = (float *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    float *Y0 = malloc(64 * 5 * sizeof *Y0), *Y = malloc(64 * 5 * sizeof *Y);
    float *X0 = malloc(64 * 37 * sizeof *X0), *g0 = NULL;
    int32_t y[64];
    uint64_t s = 11;
    size_t b, off, i, n;
    (void)state;
    assert_int_equal(mlp_create(&net, 2, sizes, acts, 5), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    n = mlp_num_params(net);
    g0 = malloc(n * sizeof *g0);
    assert_non_null(raw), assert_non_null(Y0), assert_non_null(Y), assert_non_null(X0), assert_non_null(g0);
    for (i = 0; i < 64 * 37; i++) X0[i] = frand(&s);
    for (i = 0; i < 64; i++) y[i] = (int32_t)(i % 5);
    for (b = 0; b < 5; b++)
        for (off = 0; off < 16; off++) {
            float *X = line + off;
            memcpy(X, X0, batches[b] * 37 * sizeof *X);
            assert_int_equal(mlp_forward(net, X, batches[b], off ? Y : Y0), MLP_OK);
            assert_int_equal(mlp_loss_grad(net, X, batches[b], y, NULL), MLP_OK);
            if (off == 0) {
                memcpy(g0, mlp_grads(net), n * sizeof *g0);
                continue;
            }
            assert_memory_equal(Y, Y0, batches[b] * 5 * sizeof *Y);
            assert_memory_equal(mlp_grads(net), g0, n * sizeof *g0);
        }
    free(raw), free(Y0), free(Y), free(X0), free(g0);
    mlp_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relu_backward),
        cmocka_unit_test(leaky_backward),
        cmocka_unit_test(softmax_delta),
        cmocka_unit_test(fused_sgd),
        cmocka_unit_test(fused_diverges),
        cmocka_unit_test(input_alignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
