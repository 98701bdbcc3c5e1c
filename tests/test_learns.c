/* R5, the core's part: it learns. Plain gradient descent written here
 * (params -= lr * grads over mlp_params/mlp_grads), so that nothing but
 * the forward and backward passes is trusted:
 * - XOR is solved in a few hundred steps, from several seeds;
 * - 20 random samples with random labels are fitted to near-zero loss;
 * - a fresh network with near-zero outputs starts at softmax CE ~ ln(classes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"

static void gd_step(mlp_network *net, float lr)
{
    float *p = mlp_params(net);
    const float *g = mlp_grads(net);
    for (size_t i = 0; i < mlp_num_params(net); i++) p[i] -= lr * g[i];
}

static void test_xor(void **state)
{
    (void)state;
    static const float X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const float T[4] = {0, 1, 1, 0};
    size_t sizes[3] = {2, 8, 1};
    mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    enum { STEPS = 400, SEEDS = 5 };
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        mlp_network *net = NULL;
        double J0 = 0, J = 0;
        assert_int_equal(mlp_create(&net, 2, sizes, acts, seed), MLP_OK);
        assert_int_equal(mlp_set_loss(net, MLP_LOSS_SIGMOID_CE), MLP_OK);
        assert_int_equal(mlp_loss_grad(net, X, 4, T, &J0), MLP_OK);
        for (int s = 0; s < STEPS; s++) {
            assert_int_equal(mlp_loss_grad(net, X, 4, T, &J), MLP_OK);
            gd_step(net, 1.0f);
        }
        float Y[4];
        double loss = 0, acc = 0;
        assert_int_equal(mlp_forward(net, X, 4, Y), MLP_OK);
        assert_int_equal(mlp_evaluate(net, X, 4, T, &loss, &acc), MLP_OK);
        printf("xor seed %d: loss %.4f -> %.4f after %d steps, outputs %+.2f %+.2f %+.2f %+.2f\n",
               (int)seed, J0, loss, STEPS, Y[0], Y[1], Y[2], Y[3]);
        /* A logit above 0 means class 1: all four right, and confidently. */
        for (int i = 0; i < 4; i++) assert_true((Y[i] > 0) == (T[i] > 0.5f));
        assert_true(acc == 1.0);
        assert_true(loss < 0.1);
        assert_true(loss < J0);
        mlp_destroy(net);
    }
}

/* The same with mean squared error, a relu hidden layer and a sigmoid
 * output: a second path through the passes. */
static void test_xor_mse(void **state)
{
    (void)state;
    static const float X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const float T[4] = {0, 1, 1, 0};
    size_t sizes[3] = {2, 16, 1};
    mlp_activation acts[2] = {MLP_ACT_RELU, MLP_ACT_SIGMOID};
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, 2, sizes, acts, 3), MLP_OK);
    double J = 0;
    for (int s = 0; s < 600; s++) {
        assert_int_equal(mlp_loss_grad(net, X, 4, T, &J), MLP_OK);
        gd_step(net, 2.0f);
    }
    float Y[4];
    assert_int_equal(mlp_forward(net, X, 4, Y), MLP_OK);
    printf("xor (relu, sigmoid output, mse): J %.5f, outputs %.3f %.3f %.3f %.3f\n", J, Y[0], Y[1],
           Y[2], Y[3]);
    for (int i = 0; i < 4; i++) assert_true(fabsf(Y[i] - T[i]) < 0.2f);
    mlp_destroy(net);
}

static void test_overfit_20(void **state)
{
    (void)state;
    enum { N = 20, D = 8, C = 4 };
    float X[N * D];
    int32_t y[N];
    uint64_t s = 12345;
    for (int i = 0; i < N * D; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        X[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    for (int i = 0; i < N; i++) y[i] = (int32_t)((i * 7 + 3) % C); /* unrelated to X */
    size_t sizes[3] = {D, 64, C};
    mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, 2, sizes, acts, 9), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    double J0 = 0, J = 0, acc = 0, loss = 0;
    assert_int_equal(mlp_loss_grad(net, X, N, y, &J0), MLP_OK);
    for (int step = 0; step < 1500; step++) {
        assert_int_equal(mlp_loss_grad(net, X, N, y, &J), MLP_OK);
        gd_step(net, 0.5f);
    }
    assert_int_equal(mlp_evaluate(net, X, N, y, &loss, &acc), MLP_OK);
    printf("20 random samples, 4 random classes: loss %.4f -> %.5f, accuracy %.2f\n", J0, loss, acc);
    assert_true(acc == 1.0);
    assert_true(loss < 0.02);
    mlp_destroy(net);
}

/* For logits o of one sample, lse(o) lies in [ln C + mean(o), ln C + max(o)]
 * and o_y in [min(o), max(o)], so |CE - ln C| <= max(o) - min(o): the mean
 * of that range over the batch bounds the distance of the mean CE from
 * ln C. With the last layer scaled down the logits are near zero and the
 * bound is tight; for the plain initialisation it still has to hold. */
static void check_initial_ce(int scale_last, size_t classes, double *dist, double *bound)
{
    enum { N = 64, D = 20 };
    float X[N * D];
    int32_t y[N];
    for (int i = 0; i < N * D; i++) X[i] = (float)sin(0.37 * i + 1.0);
    for (int i = 0; i < N; i++) y[i] = (int32_t)((size_t)i % classes);
    size_t sizes[3] = {D, 64, classes};
    mlp_activation acts[2] = {MLP_ACT_RELU, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, 2, sizes, acts, 21), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    if (scale_last) {
        float *W = mlp_params(net) + mlp_weights_offset(net, 1);
        for (size_t i = 0; i < 64 * classes; i++) W[i] *= 1e-3f;
    }
    float *O = malloc(sizeof(float) * N * classes);
    assert_non_null(O);
    assert_int_equal(mlp_forward(net, X, N, O), MLP_OK);
    double range = 0;
    for (int r = 0; r < N; r++) {
        float lo = O[r * classes], hi = lo;
        for (size_t k = 1; k < classes; k++) {
            lo = fminf(lo, O[r * classes + k]);
            hi = fmaxf(hi, O[r * classes + k]);
        }
        range += hi - lo;
    }
    range /= N;
    double J = 0;
    assert_int_equal(mlp_loss_grad(net, X, N, y, &J), MLP_OK);
    *dist = fabs(J - log((double)classes));
    *bound = range;
    free(O);
    mlp_destroy(net);
}

static void test_initial_ce(void **state)
{
    (void)state;
    size_t cls[3] = {2, 10, 100};
    for (int k = 0; k < 3; k++) {
        double dist, bound;
        check_initial_ce(1, cls[k], &dist, &bound);
        printf("initial softmax CE, %zu classes, last layer x 1e-3: |J - ln C| = %.2e <= mean "
               "logit range %.2e\n", cls[k], dist, bound);
        /* Float rounding of J (~1e-7 relative) is far below 1e-6. */
        assert_true(dist <= bound + 1e-6);
        assert_true(bound < 0.01);
        check_initial_ce(0, cls[k], &dist, &bound);
        printf("initial softmax CE, %zu classes, plain init:        |J - ln C| = %.2e <= mean "
               "logit range %.2e\n", cls[k], dist, bound);
        assert_true(dist <= bound + 1e-6);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xor),
        cmocka_unit_test(test_xor_mse),
        cmocka_unit_test(test_overfit_20),
        cmocka_unit_test(test_initial_ce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
