/* Out of memory in training (R7): the n-th allocation fails, for every n,
 * across mlp_trainer_create, option changes and mlp_train: an error status
 * each time, no leak, the parameters unchanged, no crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "network.h"

#include <stdlib.h>
#include <string.h>

#define N 40
#define IN 4
#define CLASSES 3

static void data(float *X, int32_t *y)
{
    size_t i;
    for (i = 0; i < N * IN; i++) X[i] = (float)((int)(i * 13u % 17u) - 8) / 8.0f;
    for (i = 0; i < N; i++) y[i] = (int32_t)(i % CLASSES);
}

static mlp_network *net_new(void)
{
    static const size_t sizes[] = {IN, 8, CLASSES};
    static const mlp_activation acts[] = {MLP_ACT_RELU, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, 2, sizes, acts, 5), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_set_dropout(net, 1, 0.2f), MLP_OK);
    return net;
}

/* create + configure + train; *tr is left for the caller to destroy */
static mlp_status train(mlp_network *net, mlp_trainer **tr, const float *X, const int32_t *y,
                        double optimizer)
{
    mlp_status st = mlp_trainer_create(net, tr);
    if (st != MLP_OK) return st;
    if ((st = mlp_trainer_set(*tr, MLP_OPTION_OPTIMIZER, optimizer)) != MLP_OK ||
        (st = mlp_trainer_set(*tr, MLP_OPTION_EPOCHS, 3)) != MLP_OK ||
        (st = mlp_trainer_set(*tr, MLP_OPTION_BATCH_SIZE, 8)) != MLP_OK ||
        (st = mlp_trainer_set(*tr, MLP_OPTION_VALIDATION_FRACTION, 0.25)) != MLP_OK ||
        (st = mlp_trainer_set(*tr, MLP_OPTION_PATIENCE, 2)) != MLP_OK)
        return st;
    return mlp_train(*tr, X, y, N, NULL, NULL, 0);
}

static void oom_train(double optimizer)
{
    float X[N * IN];
    int32_t y[N];
    unsigned long n, failures = 0;
    long live = mlp__alloc_live();
    data(X, y);
    for (n = 1; n < 100000; n++) {
        mlp_network *net = net_new();
        mlp_trainer *tr = NULL;
        float *before = malloc(net->n_params * sizeof(float));
        mlp_status st;
        assert_non_null(before);
        memcpy(before, net->params, net->n_params * sizeof(float));
        mlp__alloc_fail_at(n);
        st = train(net, &tr, X, y, optimizer);
        mlp__alloc_fail_at(0);
        if (st != MLP_OK) {
            if (st != MLP_ERR_NOMEM)
                fail_msg("allocation %lu failing gave %s (%s)", n, mlp_status_name(st),
                         mlp_last_error());
            assert_memory_equal(net->params, before, net->n_params * sizeof(float));
            failures++;
        }
        mlp_trainer_destroy(tr);
        mlp_destroy(net);
        free(before);
        assert_int_equal(mlp__alloc_live(), live);
        if (st == MLP_OK) break;
    }
    assert_true(n < 100000);
    assert_true(failures >= 1);
}

static void test_oom_train_adam(void **state)
{
    (void)state;
    oom_train(MLP_OPT_ADAM);
}

static void test_oom_train_sgd(void **state)
{
    (void)state;
    oom_train(MLP_OPT_SGD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_train_adam),
        cmocka_unit_test(test_oom_train_sgd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
