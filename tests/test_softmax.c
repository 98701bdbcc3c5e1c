/* The softmax's exp (scalar.h, mlp__exp_nonpos): within 1 ulp of e^x over
 * its range, exact at 0, 0 below it, NaN kept; and the loss that training
 * computes (the vectorised pass, mlp_loss_grad) equals, bit for bit, the
 * loss that evaluation computes (the per-row sums, mlp_evaluate). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "scalar.h"

/* Distance of got from the exact e^x in units of the last place of the
 * float nearest to it. */
static double ulps(float got, double exact)
{
    float near = (float)exact;
    return fabs((double)got - exact) / ((double)nextafterf(near, INFINITY) - near);
}

static void test_exp_accuracy(void **state)
{
    double worst = 0.0;
    long checked = 0;
    uint32_t bits;
    float x = 0.0f;
    (void)state;
    /* every 256th float from -0 down to the last normal result: a negative
     * float's magnitude grows with its bit pattern */
    for (bits = 0x80000000u; x > -87.3f; bits += 256) {
        memcpy(&x, &bits, sizeof x);
        double exact = exp((double)x), u = ulps(mlp__exp_nonpos(x), exact);
        if (u > worst) worst = u;
        checked++;
    }
    assert_true(checked > 1000000);
    assert_true(worst <= 1.0);
}

static void test_exp_edges(void **state)
{
    (void)state;
    assert_true(mlp__exp_nonpos(0.0f) == 1.0f);
    assert_true(mlp__exp_nonpos(-0.0f) == 1.0f);
    assert_true(mlp__exp_nonpos(-87.4f) == 0.0f);
    assert_true(mlp__exp_nonpos(-1e30f) == 0.0f);
    assert_true(mlp__exp_nonpos(-INFINITY) == 0.0f);
    assert_true(isnan(mlp__exp_nonpos(NAN)));
    assert_true(fabs(mlp__exp_nonpos(-1.0f) - exp(-1.0)) < 1e-7);
}

/* Logits spread from -60 to +60 apart within a row (some probabilities
 * near 1, some near 0): training's loss and evaluation's are the same
 * bits. */
static void test_training_and_evaluation_agree(void **state)
{
    size_t sizes[] = {3, 5, 7};
    mlp_activation act[] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    enum { ROWS = 37 };
    float X[ROWS * 3];
    int32_t y[ROWS];
    mlp_network *net = NULL;
    double J = 0.0, loss = 0.0, acc = 0.0;
    (void)state;
    assert_int_equal(mlp_create(&net, 2, sizes, act, 7), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    for (size_t i = 0; i < ROWS * 3; i++) X[i] = (float)((int)(i * 37 % 23) - 11) * 0.7f;
    for (size_t r = 0; r < ROWS; r++) y[r] = (int32_t)(r * 5 % 7);
    {
        float W[7 * 5];
        for (size_t i = 0; i < 7 * 5; i++) W[i] = (float)((int)(i * 13 % 11) - 5) * 6.0f;
        assert_int_equal(mlp_set_weights(net, 1, W, 7 * 5), MLP_OK);
    }
    assert_int_equal(mlp_loss_grad(net, X, ROWS, y, &J), MLP_OK);
    assert_int_equal(mlp_evaluate(net, X, ROWS, y, &loss, &acc), MLP_OK);
    assert_true(J == loss); /* l2 is 0: J is the loss */
    assert_true(isfinite(J) && J > 0.0);
    mlp_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp_accuracy),
        cmocka_unit_test(test_exp_edges),
        cmocka_unit_test(test_training_and_evaluation_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
