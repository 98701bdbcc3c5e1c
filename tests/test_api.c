/* The API boundary of the core: every bad argument gets its own status and
 * a fresh mlp_last_error() message, nothing crashes and nothing leaks;
 * oversized requests are rejected before allocating (R14). Linked with the
 * test build (TESTLIB) for the allocation counters. Also: statuses and
 * their texts, versions, names, accessors, the DOT graph, clones, input
 * scaling, initialisation, and that the passes allocate nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network.h"
#include "mlp.h"

#define SENTINEL "unknown activation \"--sentinel--\""

/* Leaves a known message in mlp_last_error(), so that a failure is seen
 * to write its own. */
static void set_sentinel(void)
{
    mlp_activation a;
    assert_int_equal(mlp_activation_parse("--sentinel--", &a), MLP_ERR_ACTIVATION);
    assert_string_equal(mlp_last_error(), SENTINEL);
}

static void expect_fail_(mlp_status got, mlp_status want, long live_before, const char *expr,
                         int line)
{
    if (got != want) {
        print_error("line %d: %s gave %s, expected %s\n", line, expr, mlp_status_name(got),
                    mlp_status_name(want));
        fail();
    }
    const char *msg = mlp_last_error();
    if (msg[0] == '\0' || strcmp(msg, SENTINEL) == 0) {
        print_error("line %d: %s left no message of its own\n", line, expr);
        fail();
    }
    assert_int_equal(mlp__alloc_live(), live_before);
}

/* The call fails with `status`, writes its message, and frees what it took. */
#define EXPECT_FAIL(call, status)                                                   \
    do {                                                                            \
        long live_ = mlp__alloc_live();                                             \
        set_sentinel();                                                             \
        mlp_status st_ = (call);                                                    \
        expect_fail_(st_, status, live_, #call, __LINE__);                          \
    } while (0)

/* As EXPECT_FAIL, and not a single allocation was attempted (R14). */
#define EXPECT_FAIL_NOALLOC(call, status)                                           \
    do {                                                                            \
        unsigned long count_ = mlp__alloc_count();                                  \
        EXPECT_FAIL(call, status);                                                  \
        assert_int_equal(mlp__alloc_count(), count_);                               \
    } while (0)

static mlp_network *small_net(mlp_loss loss)
{
    size_t sizes[3] = {3, 5, 4};
    mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, 2, sizes, acts, 1), MLP_OK);
    assert_int_equal(mlp_set_loss(net, loss), MLP_OK);
    return net;
}

static void test_last_error_starts_empty(void **state)
{
    (void)state;
    assert_non_null(mlp_last_error());
    assert_string_equal(mlp_last_error(), "");
}

static void test_create_bad_input(void **state)
{
    (void)state;
    size_t sizes[3] = {3, 5, 4};
    mlp_activation acts[2] = {MLP_ACT_RELU, MLP_ACT_IDENTITY};
    mlp_network *sentinel = (mlp_network *)&sizes; /* never written on failure */
    mlp_network *net = sentinel;

    EXPECT_FAIL_NOALLOC(mlp_create(NULL, 2, sizes, acts, 1), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 2, NULL, acts, 1), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 2, sizes, NULL, 1), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 0, sizes, acts, 1), MLP_ERR_SIZE);
    size_t zero_in[3] = {0, 5, 4}, zero_hidden[3] = {3, 0, 4}, zero_out[3] = {3, 5, 0};
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 2, zero_in, acts, 1), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 2, zero_hidden, acts, 1), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 2, zero_out, acts, 1), MLP_ERR_SIZE);
    /* Beyond OpenBLAS's 32-bit int. */
    size_t wide[3] = {3, MLP_MAX_DIM + 1, 4}, huge[3] = {SIZE_MAX, 5, 4};
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 2, wide, acts, 1), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 2, huge, acts, 1), MLP_ERR_SIZE);
    /* Every dimension legal, the parameter count overflows size_t bytes. */
    size_t m = MLP_MAX_DIM;
    size_t over2[3] = {m, m, m}, over3[3] = {3, m, m};
    size_t over5[6] = {m, m, m, m, m, m};
    mlp_activation acts5[5] = {MLP_ACT_RELU, MLP_ACT_RELU, MLP_ACT_RELU, MLP_ACT_RELU, MLP_ACT_RELU};
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 2, over2, acts, 1), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 2, over3, acts, 1), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 5, over5, acts5, 1), MLP_ERR_SIZE);
    /* Unknown activations. */
    mlp_activation bad_act[2] = {MLP_ACT_COUNT_, MLP_ACT_IDENTITY};
    mlp_activation neg_act[2] = {MLP_ACT_RELU, (mlp_activation)-1};
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 2, sizes, bad_act, 1), MLP_ERR_ACTIVATION);
    EXPECT_FAIL_NOALLOC(mlp_create(&net, 2, sizes, neg_act, 1), MLP_ERR_ACTIVATION);
    assert_ptr_equal(net, sentinel);

    /* A legal network succeeds and clears nothing it should not. */
    assert_int_equal(mlp_create(&net, 2, sizes, acts, 1), MLP_OK);
    assert_ptr_not_equal(net, sentinel);
    mlp_destroy(net);
    assert_int_equal(mlp__alloc_live(), 0);
    mlp_destroy(NULL);
}

static void test_forward_bad_input(void **state)
{
    (void)state;
    mlp_network *net = small_net(MLP_LOSS_MSE);
    float X[6] = {1, 2, 3, 4, 5, 6}, Y[8];
    EXPECT_FAIL_NOALLOC(mlp_forward(NULL, X, 2, Y), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_forward(net, NULL, 2, Y), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_forward(net, X, 2, NULL), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_forward(net, X, 0, Y), MLP_ERR_SIZE);
    /* batch x width overflows: rejected before any row is touched. */
    EXPECT_FAIL_NOALLOC(mlp_forward(net, X, SIZE_MAX / 2, Y), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_forward(net, X, SIZE_MAX, Y), MLP_ERR_SIZE);
    /* NaN propagates (documented), it is not an error for inference. */
    float Xn[3] = {NAN, 0, 0}, Yn[4];
    assert_int_equal(mlp_forward(net, Xn, 1, Yn), MLP_OK);
    assert_true(isnan(Yn[0]));

    /* Workspaces. */
    mlp_workspace *ws = NULL, *ws_other = NULL;
    mlp_workspace *ws_sentinel = (mlp_workspace *)X;
    mlp_workspace *w = ws_sentinel;
    EXPECT_FAIL_NOALLOC(mlp_workspace_create(NULL, 4, &w), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_workspace_create(net, 4, NULL), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_workspace_create(net, 0, &w), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_workspace_create(net, MLP_MAX_DIM + 1, &w), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_workspace_create(net, SIZE_MAX, &w), MLP_ERR_SIZE);
    assert_ptr_equal(w, ws_sentinel);
    assert_int_equal(mlp_workspace_create(net, 4, &ws), MLP_OK);
    EXPECT_FAIL_NOALLOC(mlp_forward_ws(NULL, ws, X, 2, Y), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_forward_ws(net, NULL, X, 2, Y), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_forward_ws(net, ws, NULL, 2, Y), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_forward_ws(net, ws, X, 2, NULL), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_forward_ws(net, ws, X, 0, Y), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_forward_ws(net, ws, X, SIZE_MAX / 2, Y), MLP_ERR_SIZE);
    /* A workspace of another shape. */
    size_t sizes2[3] = {3, 6, 4};
    mlp_activation acts2[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_network *other = NULL;
    assert_int_equal(mlp_create(&other, 2, sizes2, acts2, 1), MLP_OK);
    assert_int_equal(mlp_workspace_create(other, 4, &ws_other), MLP_OK);
    EXPECT_FAIL_NOALLOC(mlp_forward_ws(net, ws_other, X, 2, Y), MLP_ERR_MISMATCH);
    mlp_workspace_destroy(ws_other);
    mlp_workspace_destroy(ws);
    mlp_workspace_destroy(NULL);
    mlp_destroy(other);

    /* Reserve. */
    EXPECT_FAIL_NOALLOC(mlp_reserve(NULL, 10), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_reserve(net, MLP_MAX_DIM + 1), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_reserve(net, SIZE_MAX), MLP_ERR_SIZE);
    assert_int_equal(mlp_capacity(net), 64);
    assert_int_equal(mlp_reserve(net, 100), MLP_OK);
    assert_int_equal(mlp_capacity(net), 100);
    assert_int_equal(mlp_reserve(net, 10), MLP_OK); /* never shrinks */
    assert_int_equal(mlp_capacity(net), 100);
    mlp_destroy(net);
    assert_int_equal(mlp__alloc_live(), 0);
}

static void test_loss_grad_bad_input(void **state)
{
    (void)state;
    mlp_network *mse = small_net(MLP_LOSS_MSE);
    mlp_network *sce = small_net(MLP_LOSS_SIGMOID_CE);
    mlp_network *ce = small_net(MLP_LOSS_SOFTMAX_CE);
    float X[6] = {1, 2, 3, 4, 5, 6}, T[8] = {0, 1, 0, 1, 1, 0, 1, 0};
    int32_t cls[2] = {0, 3};
    double J = 0;
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(NULL, X, 2, T, &J), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(mse, NULL, 2, T, &J), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(mse, X, 2, NULL, &J), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(mse, X, 0, T, &J), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(mse, X, SIZE_MAX / 2, T, &J), MLP_ERR_SIZE);
    assert_int_equal(mlp_loss_grad(mse, X, 2, T, NULL), MLP_OK); /* J may be NULL */

    /* Non-finite inputs and targets. */
    float Xn[6] = {1, 2, 3, 4, NAN, 6}, Xi[6] = {1, 2, INFINITY, 4, 5, 6};
    float Xm[6] = {-INFINITY, 2, 3, 4, 5, 6};
    float Tn[8] = {0, 1, 0, 1, 1, 0, 1, NAN}, Ti[8] = {0, 1, 0, INFINITY, 1, 0, 1, 0};
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(mse, Xn, 2, T, &J), MLP_ERR_NONFINITE);
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(mse, Xi, 2, T, &J), MLP_ERR_NONFINITE);
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(mse, Xm, 2, T, &J), MLP_ERR_NONFINITE);
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(ce, Xn, 2, cls, &J), MLP_ERR_NONFINITE);
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(mse, X, 2, Tn, &J), MLP_ERR_NONFINITE);
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(sce, X, 2, Ti, &J), MLP_ERR_NONFINITE);

    /* Class indices out of range. */
    int32_t neg[2] = {0, -1}, high[2] = {4, 0}, max[2] = {INT32_MAX, 0};
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(ce, X, 2, neg, &J), MLP_ERR_LABEL);
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(ce, X, 2, high, &J), MLP_ERR_LABEL);
    EXPECT_FAIL_NOALLOC(mlp_loss_grad(ce, X, 2, max, &J), MLP_ERR_LABEL);
    EXPECT_FAIL_NOALLOC(mlp_evaluate(ce, X, 2, high, &J, NULL), MLP_ERR_LABEL);
    assert_int_equal(mlp_loss_grad(ce, X, 2, cls, &J), MLP_OK);
    assert_true(isfinite(J));

    /* Evaluate. */
    double loss, acc;
    EXPECT_FAIL_NOALLOC(mlp_evaluate(NULL, X, 2, T, &loss, &acc), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_evaluate(mse, NULL, 2, T, &loss, &acc), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_evaluate(mse, X, 2, NULL, &loss, &acc), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_evaluate(mse, X, 0, T, &loss, &acc), MLP_ERR_SIZE);
    assert_int_equal(mlp_evaluate(mse, X, 2, T, &loss, &acc), MLP_OK);
    assert_true(isnan(acc)); /* accuracy means nothing for mse */
    assert_int_equal(mlp_evaluate(mse, X, 2, T, NULL, NULL), MLP_OK);

    /* The gradient check. */
    mlp_gradcheck_block blocks[4];
    EXPECT_FAIL_NOALLOC(mlp_gradcheck(NULL, X, 2, T, 0, 0, 1, blocks), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_gradcheck(mse, X, 2, T, 0, 0, 1, NULL), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_gradcheck(mse, NULL, 2, T, 0, 0, 1, blocks), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_gradcheck(mse, X, 0, T, 0, 0, 1, blocks), MLP_ERR_SIZE);
    EXPECT_FAIL_NOALLOC(mlp_gradcheck(mse, Xn, 2, T, 0, 0, 1, blocks), MLP_ERR_NONFINITE);
    EXPECT_FAIL_NOALLOC(mlp_gradcheck(ce, X, 2, high, 0, 0, 1, blocks), MLP_ERR_LABEL);
    EXPECT_FAIL_NOALLOC(mlp_gradcheck(mse, X, 2, T, INFINITY, 0, 1, blocks), MLP_ERR_ARGUMENT);
    assert_int_equal(mlp_gradcheck(mse, X, 2, T, 0, 0, 1, blocks), MLP_OK);

    mlp_destroy(mse);
    mlp_destroy(sce);
    mlp_destroy(ce);
    assert_int_equal(mlp__alloc_live(), 0);
}

static void test_settings_bad_input(void **state)
{
    (void)state;
    mlp_network *net = small_net(MLP_LOSS_MSE);
    EXPECT_FAIL_NOALLOC(mlp_set_loss(NULL, MLP_LOSS_MSE), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_set_loss(net, MLP_LOSS_COUNT_), MLP_ERR_LOSS);
    EXPECT_FAIL_NOALLOC(mlp_set_loss(net, (mlp_loss)-1), MLP_ERR_LOSS);
    assert_int_equal(mlp_get_loss(net), MLP_LOSS_MSE);
    /* Softmax over one output is constant: it does not fit. */
    size_t one[2] = {3, 1};
    mlp_activation id[1] = {MLP_ACT_IDENTITY};
    mlp_network *single = NULL;
    assert_int_equal(mlp_create(&single, 1, one, id, 1), MLP_OK);
    EXPECT_FAIL_NOALLOC(mlp_set_loss(single, MLP_LOSS_SOFTMAX_CE), MLP_ERR_LOSS);
    assert_int_equal(mlp_set_loss(single, MLP_LOSS_SIGMOID_CE), MLP_OK);
    mlp_destroy(single);

    EXPECT_FAIL_NOALLOC(mlp_set_l2(NULL, 0.1f), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_set_l2(net, -0.1f), MLP_ERR_ARGUMENT);
    EXPECT_FAIL_NOALLOC(mlp_set_l2(net, NAN), MLP_ERR_ARGUMENT);
    EXPECT_FAIL_NOALLOC(mlp_set_l2(net, INFINITY), MLP_ERR_ARGUMENT);
    assert_true(mlp_get_l2(net) == 0.0f);
    assert_int_equal(mlp_set_l2(net, 0.25f), MLP_OK);
    assert_true(mlp_get_l2(net) == 0.25f);

    EXPECT_FAIL_NOALLOC(mlp_set_dropout(NULL, 0, 0.5f), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_set_dropout(net, 2, 0.5f), MLP_ERR_LAYER);
    EXPECT_FAIL_NOALLOC(mlp_set_dropout(net, 0, 1.0f), MLP_ERR_ARGUMENT);
    EXPECT_FAIL_NOALLOC(mlp_set_dropout(net, 0, -0.1f), MLP_ERR_ARGUMENT);
    EXPECT_FAIL_NOALLOC(mlp_set_dropout(net, 0, NAN), MLP_ERR_ARGUMENT);
    assert_int_equal(mlp_set_dropout(net, 1, 0.3f), MLP_OK);
    assert_true(mlp_get_dropout(net, 1) == 0.3f);
    assert_true(mlp_get_dropout(net, 5) == 0.0f);

    EXPECT_FAIL_NOALLOC(mlp_init_params(NULL, MLP_INIT_AUTO, 1), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_init_params(net, MLP_INIT_COUNT_, 1), MLP_ERR_ARGUMENT);

    /* Input scaling. */
    float off[3] = {1, 2, 3}, sc[3] = {0.5f, 1, 2}, bad[3] = {1, NAN, 1};
    EXPECT_FAIL_NOALLOC(mlp_set_input_scaling(NULL, off, sc), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_set_input_scaling(net, off, NULL), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_set_input_scaling(net, NULL, sc), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_set_input_scaling(net, off, bad), MLP_ERR_NONFINITE);
    EXPECT_FAIL_NOALLOC(mlp_set_input_scaling(net, bad, sc), MLP_ERR_NONFINITE);
    assert_int_equal(mlp_has_input_scaling(net), 0);
    EXPECT_FAIL_NOALLOC(mlp_get_input_scaling(net, off, sc), MLP_ERR_ARGUMENT);
    EXPECT_FAIL_NOALLOC(mlp_get_input_scaling(NULL, off, sc), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_get_input_scaling(net, NULL, sc), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_get_input_scaling(net, off, NULL), MLP_ERR_NULL);

    /* Clone. */
    mlp_network *c = (mlp_network *)off;
    EXPECT_FAIL_NOALLOC(mlp_clone(NULL, &c), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_clone(net, NULL), MLP_ERR_NULL);
    assert_ptr_equal(c, (mlp_network *)off);
    mlp_destroy(net);
    assert_int_equal(mlp__alloc_live(), 0);
}

static void test_params_bad_input(void **state)
{
    (void)state;
    mlp_network *net = small_net(MLP_LOSS_MSE); /* W(0) 5x3, b(0) 5, W(1) 4x5, b(1) 4 */
    float W[32], b[8];
    EXPECT_FAIL_NOALLOC(mlp_get_weights(NULL, 0, W, 15), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_get_weights(net, 0, NULL, 15), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_get_weights(net, 2, W, 15), MLP_ERR_LAYER);
    EXPECT_FAIL_NOALLOC(mlp_get_weights(net, SIZE_MAX, W, 15), MLP_ERR_LAYER);
    EXPECT_FAIL_NOALLOC(mlp_get_weights(net, 0, W, 14), MLP_ERR_MISMATCH);
    EXPECT_FAIL_NOALLOC(mlp_get_weights(net, 0, W, 16), MLP_ERR_MISMATCH);
    EXPECT_FAIL_NOALLOC(mlp_get_weights(net, 1, W, 15), MLP_ERR_MISMATCH);
    EXPECT_FAIL_NOALLOC(mlp_set_weights(NULL, 0, W, 15), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_set_weights(net, 0, NULL, 15), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_set_weights(net, 2, W, 15), MLP_ERR_LAYER);
    EXPECT_FAIL_NOALLOC(mlp_set_weights(net, 0, W, 0), MLP_ERR_MISMATCH);
    EXPECT_FAIL_NOALLOC(mlp_set_weights(net, 1, W, 21), MLP_ERR_MISMATCH);
    EXPECT_FAIL_NOALLOC(mlp_get_bias(NULL, 0, b, 5), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_get_bias(net, 0, NULL, 5), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_get_bias(net, 2, b, 5), MLP_ERR_LAYER);
    EXPECT_FAIL_NOALLOC(mlp_get_bias(net, 0, b, 4), MLP_ERR_MISMATCH);
    EXPECT_FAIL_NOALLOC(mlp_set_bias(NULL, 1, b, 4), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_set_bias(net, 1, NULL, 4), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_set_bias(net, 3, b, 4), MLP_ERR_LAYER);
    EXPECT_FAIL_NOALLOC(mlp_set_bias(net, 1, b, 5), MLP_ERR_MISMATCH);

    /* A failed set changes nothing; non-finite values are refused. */
    float before[44];
    assert_int_equal(mlp_num_params(net), 44);
    memcpy(before, mlp_params(net), sizeof before);
    for (int i = 0; i < 15; i++) W[i] = (float)i;
    W[7] = NAN;
    EXPECT_FAIL_NOALLOC(mlp_set_weights(net, 0, W, 15), MLP_ERR_NONFINITE);
    b[0] = 1, b[1] = INFINITY, b[2] = 0, b[3] = 0;
    EXPECT_FAIL_NOALLOC(mlp_set_bias(net, 1, b, 4), MLP_ERR_NONFINITE);
    assert_memory_equal(before, mlp_params(net), sizeof before);

    /* Round trips land where mlp_params() says. */
    W[7] = 7;
    assert_int_equal(mlp_set_weights(net, 0, W, 15), MLP_OK);
    float back[15];
    assert_int_equal(mlp_get_weights(net, 0, back, 15), MLP_OK);
    assert_memory_equal(W, back, sizeof back);
    assert_memory_equal(W, mlp_params(net) + mlp_weights_offset(net, 0), sizeof back);
    b[1] = 2;
    assert_int_equal(mlp_set_bias(net, 1, b, 4), MLP_OK);
    assert_memory_equal(b, mlp_params(net) + mlp_bias_offset(net, 1), 4 * sizeof(float));
    assert_int_equal(mlp_get_bias(net, 1, back, 4), MLP_OK);
    assert_memory_equal(b, back, 4 * sizeof(float));
    mlp_destroy(net);
    assert_int_equal(mlp__alloc_live(), 0);
}

static void test_names_bad_input(void **state)
{
    (void)state;
    mlp_activation a = MLP_ACT_TANH;
    mlp_loss l = MLP_LOSS_MSE;
    EXPECT_FAIL_NOALLOC(mlp_activation_parse(NULL, &a), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_activation_parse("relu", NULL), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_activation_parse("", &a), MLP_ERR_ACTIVATION);
    EXPECT_FAIL_NOALLOC(mlp_activation_parse("RELU", &a), MLP_ERR_ACTIVATION);
    EXPECT_FAIL_NOALLOC(mlp_activation_parse("relu ", &a), MLP_ERR_ACTIVATION);
    assert_int_equal(a, MLP_ACT_TANH); /* untouched */
    EXPECT_FAIL_NOALLOC(mlp_loss_parse(NULL, &l), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_loss_parse("mse", NULL), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_loss_parse("cross_entropy", &l), MLP_ERR_LOSS);
    assert_int_equal(l, MLP_LOSS_MSE);
}

static void test_names_round_trip(void **state)
{
    (void)state;
    static const char *const acts[MLP_ACT_COUNT_] = {"identity", "sigmoid", "tanh", "relu",
                                                     "leaky_relu", "gelu", "softplus"};
    static const char *const losses[MLP_LOSS_COUNT_] = {"mse", "softmax_cross_entropy",
                                                        "sigmoid_cross_entropy"};
    for (int i = 0; i < MLP_ACT_COUNT_; i++) {
        mlp_activation a;
        assert_string_equal(mlp_activation_name((mlp_activation)i), acts[i]);
        assert_int_equal(mlp_activation_parse(acts[i], &a), MLP_OK);
        assert_int_equal(a, i);
    }
    for (int i = 0; i < MLP_LOSS_COUNT_; i++) {
        mlp_loss l;
        assert_string_equal(mlp_loss_name((mlp_loss)i), losses[i]);
        assert_int_equal(mlp_loss_parse(losses[i], &l), MLP_OK);
        assert_int_equal(l, i);
    }
    assert_null(mlp_activation_name(MLP_ACT_COUNT_));
    assert_null(mlp_activation_name((mlp_activation)-1));
    assert_null(mlp_loss_name(MLP_LOSS_COUNT_));
    assert_null(mlp_loss_name((mlp_loss)-1));
}

static void test_status_texts(void **state)
{
    (void)state;
    /* The expected names and texts come from the same list. */
#define ROW(name, value, text) {name, #name, text},
    static const struct {
        mlp_status status;
        const char *name, *text;
    } rows[] = {MLP_STATUS_LIST(ROW)};
#undef ROW
    size_t n = sizeof rows / sizeof rows[0];
    assert_int_equal(n, MLP_STATUS_END_);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rows[i].status, (int)i); /* values are dense, only appended */
        assert_string_equal(mlp_strerror(rows[i].status), rows[i].text);
        assert_string_equal(mlp_status_name(rows[i].status), rows[i].name);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(mlp_strerror(rows[i].status), mlp_strerror(rows[j].status));
    }
    mlp_status unknown[3] = {MLP_STATUS_END_, (mlp_status)999, (mlp_status)-1};
    for (int i = 0; i < 3; i++) {
        const char *t = mlp_strerror(unknown[i]), *nm = mlp_status_name(unknown[i]);
        assert_non_null(t);
        assert_non_null(nm);
        assert_non_null(strstr(t, "unknown"));
        for (size_t j = 0; j < n; j++) assert_string_not_equal(nm, rows[j].name);
    }
}

static void test_version(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", MLP_VERSION_MAJOR, MLP_VERSION_MINOR, MLP_VERSION_PATCH);
    assert_string_equal(MLP_VERSION_STRING, want);
    assert_string_equal(mlp_version(), MLP_VERSION_STRING);
    assert_int_equal(mlp_version_number(), MLP_VERSION_NUMBER);
    assert_int_equal(MLP_VERSION_NUMBER,
                     MLP_VERSION_MAJOR * 10000 + MLP_VERSION_MINOR * 100 + MLP_VERSION_PATCH);
}

static void test_accessors(void **state)
{
    (void)state;
    size_t sizes[4] = {7, 5, 3, 2};
    mlp_activation acts[3] = {MLP_ACT_GELU, MLP_ACT_SOFTPLUS, MLP_ACT_SIGMOID};
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, 3, sizes, acts, 1), MLP_OK);
    assert_int_equal(mlp_num_layers(net), 3);
    for (size_t i = 0; i <= 3; i++) assert_int_equal(mlp_layer_size(net, i), sizes[i]);
    assert_int_equal(mlp_layer_size(net, 4), 0);
    assert_int_equal(mlp_input_size(net), 7);
    assert_int_equal(mlp_output_size(net), 2);
    for (size_t l = 0; l < 3; l++) assert_int_equal(mlp_layer_activation(net, l), acts[l]);
    assert_int_equal(mlp_layer_activation(net, 3), MLP_ACT_COUNT_);
    assert_int_equal(mlp_num_params(net), 5 * 8 + 3 * 6 + 2 * 4);
    /* Layout: per layer W then b, back to back. */
    size_t off = 0;
    for (size_t l = 0; l < 3; l++) {
        assert_int_equal(mlp_weights_offset(net, l), off);
        off += sizes[l] * sizes[l + 1];
        assert_int_equal(mlp_bias_offset(net, l), off);
        off += sizes[l + 1];
    }
    assert_ptr_equal(mlp_params(net), mlp_params_const(net));
    assert_non_null(mlp_grads(net));
    assert_int_equal(mlp_get_loss(net), MLP_LOSS_MSE); /* defaults */
    assert_true(mlp_get_l2(net) == 0.0f);
    assert_true(mlp_get_dropout(net, 0) == 0.0f);
    assert_int_equal(mlp_capacity(net), 64);
    assert_true(mlp_penalty(net) == 0.0);
    /* The penalty l2/2 sum ||W||^2, biases excluded. */
    assert_int_equal(mlp_set_l2(net, 0.5f), MLP_OK);
    double ss = 0;
    for (size_t l = 0; l < 3; l++) {
        const float *W = mlp_params(net) + mlp_weights_offset(net, l);
        for (size_t i = 0; i < sizes[l] * sizes[l + 1]; i++) ss += (double)W[i] * W[i];
        mlp_params(net)[mlp_bias_offset(net, l)] = 100.0f;
    }
    assert_true(fabs(mlp_penalty(net) - 0.25 * ss) <= 1e-12 * ss);
    /* NULL handles: zeros, never a crash. */
    assert_int_equal(mlp_num_layers(NULL), 0);
    assert_int_equal(mlp_layer_size(NULL, 0), 0);
    assert_int_equal(mlp_input_size(NULL), 0);
    assert_int_equal(mlp_output_size(NULL), 0);
    assert_int_equal(mlp_layer_activation(NULL, 0), MLP_ACT_COUNT_);
    assert_int_equal(mlp_num_params(NULL), 0);
    assert_int_equal(mlp_capacity(NULL), 0);
    assert_null(mlp_params(NULL));
    assert_null(mlp_params_const(NULL));
    assert_null(mlp_grads(NULL));
    assert_int_equal(mlp_has_input_scaling(NULL), 0);
    mlp_destroy(net);
}

static void test_init_schemes(void **state)
{
    (void)state;
    enum { NI = 300, NO = 200 };
    size_t sizes[2] = {NI, NO};
    mlp_activation acts[1] = {MLP_ACT_TANH};
    mlp_network *net = NULL, *again = NULL;
    assert_int_equal(mlp_create(&net, 1, sizes, acts, 3), MLP_OK);
    assert_int_equal(mlp_create(&again, 1, sizes, acts, 3), MLP_OK);
    size_t n = NI * NO;
    assert_memory_equal(mlp_params(net), mlp_params(again), n * sizeof(float)); /* same seed */
    assert_int_equal(mlp_init_params(again, MLP_INIT_AUTO, 4), MLP_OK);
    assert_memory_not_equal(mlp_params(net), mlp_params(again), n * sizeof(float));
    /* Variance of each scheme: Glorot 1/fan_avg, He 2/fan_in. Over 60000
     * draws the sample variance has a relative deviation of sqrt(2/n) =
     * 0.6% for normal draws (less for uniform): 3% is 5 sigma. */
    const double fan_avg = 0.5 * (NI + NO);
    const struct {
        mlp_init s;
        double var;
        int uniform;
    } cases[] = {{MLP_INIT_GLOROT_UNIFORM, 1.0 / fan_avg, 1}, {MLP_INIT_GLOROT_NORMAL, 1.0 / fan_avg, 0},
                 {MLP_INIT_HE_UNIFORM, 2.0 / NI, 1},          {MLP_INIT_HE_NORMAL, 2.0 / NI, 0},
                 {MLP_INIT_AUTO, 1.0 / fan_avg, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float *p = mlp_params(net);
        p[n] = 5.0f; /* a bias, reset to 0 by the init */
        assert_int_equal(mlp_init_params(net, cases[k].s, 10 + k), MLP_OK);
        double sum = 0, sq = 0, mx = 0;
        for (size_t i = 0; i < n; i++) {
            sum += p[i];
            sq += (double)p[i] * p[i];
            mx = fmax(mx, fabs(p[i]));
        }
        double mean = sum / n, var = sq / n - mean * mean;
        assert_true(fabs(var / cases[k].var - 1.0) < 0.03);
        assert_true(fabs(mean) < 5 * sqrt(cases[k].var / n));
        if (cases[k].uniform) assert_true(mx <= sqrt(3.0 * cases[k].var) * (1 + 1e-6));
        else assert_true(mx > sqrt(3.0 * cases[k].var)); /* normal tails beyond the uniform bound */
        for (size_t i = n; i < n + NO; i++) assert_true(p[i] == 0.0f);
    }
    mlp_destroy(net);
    mlp_destroy(again);
    /* AUTO picks He for the relu family. */
    mlp_activation relu[1] = {MLP_ACT_RELU};
    assert_int_equal(mlp_create(&net, 1, sizes, relu, 3), MLP_OK);
    double sq = 0;
    for (size_t i = 0; i < n; i++) sq += (double)mlp_params(net)[i] * mlp_params(net)[i];
    assert_true(fabs(sq / n / (2.0 / NI) - 1.0) < 0.03);
    mlp_destroy(net);
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

static void test_graph_dot(void **state)
{
    (void)state;
    size_t sizes[4] = {4, 6, 5, 3};
    mlp_activation acts[3] = {MLP_ACT_RELU, MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, 3, sizes, acts, 1), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    size_t needed = 0, needed2 = 0;
    char small[16];
    EXPECT_FAIL_NOALLOC(mlp_graph_dot(NULL, NULL, 0, &needed), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_graph_dot(net, NULL, 0, NULL), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_graph_dot(net, NULL, 10, &needed), MLP_ERR_NULL);
    /* Size query, then a buffer one byte short, then the exact size. */
    EXPECT_FAIL_NOALLOC(mlp_graph_dot(net, NULL, 0, &needed), MLP_ERR_BUFFER);
    assert_true(needed > 100);
    EXPECT_FAIL_NOALLOC(mlp_graph_dot(net, small, sizeof small, &needed2), MLP_ERR_BUFFER);
    assert_int_equal(needed2, needed);
    char *buf = malloc(needed);
    assert_non_null(buf);
    memset(buf, 'x', needed);
    EXPECT_FAIL_NOALLOC(mlp_graph_dot(net, buf, needed - 1, &needed2), MLP_ERR_BUFFER);
    assert_int_equal(mlp_graph_dot(net, buf, needed, &needed2), MLP_OK);
    assert_int_equal(needed2, needed);
    assert_int_equal(strlen(buf) + 1, needed);
    /* The nodes the header lists: x, z(l), a(l), W(l), b(l), L, s, J and
     * δ(l) (UTF-8), layers numbered 1..L as in the mathematics. */
    assert_true(contains(buf, "digraph"));
    assert_true(contains(buf, "\n  x ["));
    assert_true(contains(buf, "\n  L ["));
    assert_true(contains(buf, "\n  s ["));
    assert_true(contains(buf, "\n  J ["));
    assert_true(contains(buf, "L -> J"));
    assert_true(contains(buf, "s -> J"));
    for (int l = 1; l <= 3; l++) {
        char t[32];
        const char *pats[] = {"z(%d)", "a(%d)", "W(%d)", "b(%d)", "δ(%d)"};
        for (int k = 0; k < 5; k++) {
            snprintf(t, sizeof t, pats[k], l);
            if (!contains(buf, t)) {
                print_error("graph lacks %s:\n%s\n", t, buf);
                fail();
            }
        }
    }
    assert_true(contains(buf, "softmax_cross_entropy"));
    assert_true(contains(buf, "d3 -> d2") && contains(buf, "d2 -> d1")); /* error terms flow back */
    assert_int_equal(buf[needed - 1], '\0');
    /* mlp_graph_write gives the same text. */
    FILE *f = tmpfile();
    assert_non_null(f);
    EXPECT_FAIL_NOALLOC(mlp_graph_write(NULL, f), MLP_ERR_NULL);
    EXPECT_FAIL_NOALLOC(mlp_graph_write(net, NULL), MLP_ERR_NULL);
    assert_int_equal(mlp_graph_write(net, f), MLP_OK);
    long len = ftell(f);
    assert_int_equal((size_t)len, needed - 1);
    rewind(f);
    char *back = malloc(needed);
    assert_non_null(back);
    assert_int_equal(fread(back, 1, needed - 1, f), needed - 1);
    back[needed - 1] = '\0';
    assert_string_equal(back, buf);
    fclose(f); /* the library never closes the caller's stream */
    free(back);
    free(buf);
    mlp_destroy(net);
}

static void test_clone_independent(void **state)
{
    (void)state;
    size_t sizes[3] = {4, 8, 3};
    mlp_activation acts[2] = {MLP_ACT_LEAKY_RELU, MLP_ACT_IDENTITY};
    mlp_network *net = NULL, *c = NULL;
    assert_int_equal(mlp_create(&net, 2, sizes, acts, 8), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_set_l2(net, 0.125f), MLP_OK);
    assert_int_equal(mlp_set_dropout(net, 1, 0.25f), MLP_OK);
    float off[4] = {1, 2, 3, 4}, sc[4] = {2, 2, 0.5f, 1};
    assert_int_equal(mlp_set_input_scaling(net, off, sc), MLP_OK);
    assert_int_equal(mlp_reserve(net, 80), MLP_OK);
    assert_int_equal(mlp_clone(net, &c), MLP_OK);

    size_t np = mlp_num_params(net);
    assert_int_equal(mlp_num_params(c), np);
    assert_ptr_not_equal(mlp_params(c), mlp_params(net));
    assert_memory_equal(mlp_params(c), mlp_params(net), np * sizeof(float));
    assert_int_equal(mlp_get_loss(c), MLP_LOSS_SOFTMAX_CE);
    assert_true(mlp_get_l2(c) == 0.125f);
    assert_true(mlp_get_dropout(c, 1) == 0.25f);
    assert_int_equal(mlp_has_input_scaling(c), 1);
    assert_true(mlp_capacity(c) >= 80);
    for (size_t l = 0; l < 2; l++) assert_int_equal(mlp_layer_activation(c, l), acts[l]);

    float X[8] = {0.5f, 1, -1, 2, 3, 0, 1, -2}, Y1[6], Y2[6];
    assert_int_equal(mlp_forward(net, X, 2, Y1), MLP_OK);
    assert_int_equal(mlp_forward(c, X, 2, Y2), MLP_OK);
    assert_memory_equal(Y1, Y2, sizeof Y1);

    /* Changing the clone leaves the original alone, and the other way round. */
    float *before = malloc(np * sizeof(float));
    assert_non_null(before);
    memcpy(before, mlp_params(net), np * sizeof(float));
    for (size_t i = 0; i < np; i++) mlp_params(c)[i] += 1.0f;
    assert_int_equal(mlp_set_loss(c, MLP_LOSS_MSE), MLP_OK);
    assert_int_equal(mlp_set_input_scaling(c, NULL, NULL), MLP_OK);
    assert_memory_equal(before, mlp_params(net), np * sizeof(float));
    assert_int_equal(mlp_get_loss(net), MLP_LOSS_SOFTMAX_CE);
    assert_int_equal(mlp_has_input_scaling(net), 1);
    int32_t cls[2] = {0, 2};
    assert_int_equal(mlp_loss_grad(net, X, 2, cls, NULL), MLP_OK);
    float *g = malloc(np * sizeof(float));
    assert_non_null(g);
    memcpy(g, mlp_grads(net), np * sizeof(float));
    float T[6] = {0};
    assert_int_equal(mlp_loss_grad(c, X, 2, T, NULL), MLP_OK);
    assert_memory_equal(g, mlp_grads(net), np * sizeof(float));
    /* The clone outlives its original. */
    mlp_destroy(net);
    assert_int_equal(mlp_forward(c, X, 2, Y2), MLP_OK);
    mlp_destroy(c);
    free(before);
    free(g);
    assert_int_equal(mlp__alloc_live(), 0);
}

static void test_input_scaling(void **state)
{
    (void)state;
    size_t sizes[3] = {3, 6, 2};
    mlp_activation acts[2] = {MLP_ACT_SIGMOID, MLP_ACT_IDENTITY};
    mlp_network *net = NULL, *plain = NULL;
    assert_int_equal(mlp_create(&net, 2, sizes, acts, 4), MLP_OK);
    assert_int_equal(mlp_clone(net, &plain), MLP_OK);
    float off[3] = {10, -5, 0.5f}, sc[3] = {0.1f, 2, 4};
    assert_int_equal(mlp_set_input_scaling(net, off, sc), MLP_OK);
    assert_int_equal(mlp_has_input_scaling(net), 1);
    float o2[3], s2[3];
    assert_int_equal(mlp_get_input_scaling(net, o2, s2), MLP_OK);
    assert_memory_equal(o2, off, sizeof off);
    assert_memory_equal(s2, sc, sizeof sc);

    enum { B = 5 };
    float X[B * 3], Xs[B * 3], Y[B * 2], Ys[B * 2], Y1[2];
    for (int i = 0; i < B * 3; i++) {
        X[i] = (float)(i * 3 % 7) - 2.0f + off[i % 3];
        Xs[i] = (X[i] - off[i % 3]) * sc[i % 3];
    }
    /* forward(X) on the scaled net == forward((X - offset) * scale) unscaled. */
    assert_int_equal(mlp_forward(net, X, B, Y), MLP_OK);
    assert_int_equal(mlp_forward(plain, Xs, B, Ys), MLP_OK);
    assert_memory_equal(Y, Ys, sizeof Y);
    assert_int_equal(mlp_forward(net, X + 3, 1, Y1), MLP_OK); /* the sgemv path too */
    for (int k = 0; k < 2; k++) assert_true(fabsf(Y1[k] - Ys[2 + k]) <= 1e-6f * (1 + fabsf(Ys[2 + k])));
    mlp_workspace *ws = NULL;
    assert_int_equal(mlp_workspace_create(net, 2, &ws), MLP_OK);
    assert_int_equal(mlp_forward_ws(net, ws, X, B, Y), MLP_OK);
    for (int i = 0; i < B * 2; i++) assert_true(fabsf(Y[i] - Ys[i]) <= 1e-6f * (1 + fabsf(Ys[i])));
    mlp_workspace_destroy(ws);
    /* ... and the gradients are those of the scaled input. */
    float T[B * 2] = {0, 1, 1, 0, 0.5f, 0.5f, 1, 1, 0, 0};
    double J = 0, Js = 0;
    assert_int_equal(mlp_loss_grad(net, X, B, T, &J), MLP_OK);
    assert_int_equal(mlp_loss_grad(plain, Xs, B, T, &Js), MLP_OK);
    assert_true(J == Js);
    assert_memory_equal(mlp_grads(net), mlp_grads(plain), mlp_num_params(net) * sizeof(float));
    /* Removing it. */
    assert_int_equal(mlp_set_input_scaling(net, NULL, NULL), MLP_OK);
    assert_int_equal(mlp_has_input_scaling(net), 0);
    assert_int_equal(mlp_forward(net, Xs, B, Y), MLP_OK);
    assert_memory_equal(Y, Ys, sizeof Y);
    mlp_destroy(net);
    mlp_destroy(plain);
}

/* Forward and backward allocate nothing, also in chunks and at batch 1. */
static void test_passes_allocate_nothing(void **state)
{
    (void)state;
    size_t sizes[4] = {5, 9, 7, 3};
    mlp_activation acts[3] = {MLP_ACT_RELU, MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    mlp_workspace *ws = NULL;
    assert_int_equal(mlp_create(&net, 3, sizes, acts, 2), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_set_l2(net, 0.01f), MLP_OK);
    assert_int_equal(mlp_workspace_create(net, 8, &ws), MLP_OK);
    enum { B = 200 };
    static float X[B * 5], Y[B * 3];
    static int32_t cls[B];
    for (int i = 0; i < B * 5; i++) X[i] = (float)((i * 13) % 17) / 17.0f;
    for (int i = 0; i < B; i++) cls[i] = i % 3;
    unsigned long before = mlp__alloc_count();
    double J, loss, acc;
    assert_int_equal(mlp_forward(net, X, B, Y), MLP_OK);
    assert_int_equal(mlp_forward(net, X, 1, Y), MLP_OK);
    assert_int_equal(mlp_forward_ws(net, ws, X, B, Y), MLP_OK);
    assert_int_equal(mlp_loss_grad(net, X, B, cls, &J), MLP_OK);
    assert_int_equal(mlp_loss_grad(net, X, 1, cls, &J), MLP_OK);
    assert_int_equal(mlp_evaluate(net, X, B, cls, &loss, &acc), MLP_OK);
    assert_int_equal(mlp__alloc_count(), before);
    mlp_workspace_destroy(ws);
    mlp_destroy(net);
}

/* Failing the n-th allocation of every allocating core call: each n gives
 * MLP_ERR_NOMEM with nothing leaked and the OUT parameter untouched, until
 * the call succeeds. */
static void test_out_of_memory(void **state)
{
    (void)state;
    size_t sizes[4] = {5, 9, 7, 3};
    mlp_activation acts[3] = {MLP_ACT_RELU, MLP_ACT_TANH, MLP_ACT_IDENTITY};
    float X[10] = {1, -2, 3, 0.5f, 1, 2, 0.25f, -1, 1, 3}, off[5] = {0}, sc[5] = {1, 1, 1, 1, 1};
    float T[6] = {0, 1, 0.5f, 1, 0, 0.25f}, Yout[6];
    mlp_network *base = NULL;
    assert_int_equal(mlp_create(&base, 3, sizes, acts, 2), MLP_OK);
    int ops = 0;
    for (int op = 0; op < 6; op++) {
        unsigned long n;
        for (n = 1; n < 100; n++) {
            mlp_network *net = NULL, *out = (mlp_network *)X;
            mlp_workspace *ws = (mlp_workspace *)X;
            mlp_gradcheck_block blocks[6];
            if (op >= 2) assert_int_equal(mlp_clone(base, &net), MLP_OK);
            long live = mlp__alloc_live();
            mlp__alloc_fail_at(n);
            mlp_status st;
            switch (op) {
            case 0: st = mlp_create(&out, 3, sizes, acts, 2); break;
            case 1: st = mlp_clone(base, &out); break;
            case 2: st = mlp_reserve(net, 500); break;
            case 3: st = mlp_workspace_create(net, 16, &ws); break;
            case 4: st = mlp_set_input_scaling(net, off, sc); break;
            default: st = mlp_gradcheck(net, X, 2, T, 0, 2, 1, blocks); break;
            }
            mlp__alloc_fail_at(0);
            if (st == MLP_OK) {
                if (op <= 1) mlp_destroy(out);
                if (op == 3) mlp_workspace_destroy(ws);
                mlp_destroy(net);
                break;
            }
            assert_int_equal(st, MLP_ERR_NOMEM);
            assert_true(mlp_last_error()[0] != '\0');
            assert_int_equal(mlp__alloc_live(), live);
            assert_ptr_equal(out, (mlp_network *)X);
            assert_ptr_equal(ws, (mlp_workspace *)X);
            if (op == 2) assert_int_equal(mlp_capacity(net), 64); /* still usable */
            if (op == 2) assert_int_equal(mlp_forward(net, X, 2, Yout), MLP_OK);
            mlp_destroy(net);
        }
        assert_true(n < 100);
        ops += (int)n;
    }
    mlp_destroy(base);
    assert_int_equal(mlp__alloc_live(), 0);
    printf("out of memory: %d failing allocations tried across 6 calls\n", ops);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_last_error_starts_empty),
        cmocka_unit_test(test_create_bad_input),
        cmocka_unit_test(test_forward_bad_input),
        cmocka_unit_test(test_loss_grad_bad_input),
        cmocka_unit_test(test_settings_bad_input),
        cmocka_unit_test(test_params_bad_input),
        cmocka_unit_test(test_names_bad_input),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_status_texts),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_init_schemes),
        cmocka_unit_test(test_graph_dot),
        cmocka_unit_test(test_clone_independent),
        cmocka_unit_test(test_input_scaling),
        cmocka_unit_test(test_passes_allocate_nothing),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
