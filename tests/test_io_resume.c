/* Training resumes exactly from a saved model (R10 with the trainer): a
 * network trained, saved and loaded continues bit for bit as the original
 * does (optimiser state, step count, RNG for shuffles and dropout). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "network.h"

#include <stdlib.h>
#include <string.h>

#define N 48
#define IN 5
#define CLASSES 4

static mlp_status train(mlp_network *net, const float *X, const int32_t *y, double optimizer,
                        size_t epochs)
{
    mlp_trainer *tr = NULL;
    mlp_status st = mlp_trainer_create(net, &tr);
    if (st == MLP_OK) st = mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, optimizer);
    if (st == MLP_OK) st = mlp_trainer_set(tr, MLP_OPTION_EPOCHS, (double)epochs);
    if (st == MLP_OK) st = mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, 8);
    if (st == MLP_OK) st = mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, 0.01);
    if (st == MLP_OK) st = mlp_train(tr, X, y, N, NULL, NULL, 0);
    mlp_trainer_destroy(tr);
    return st;
}

static void resume(double optimizer)
{
    static const size_t sizes[] = {IN, 9, 6, CLASSES};
    static const mlp_activation acts[] = {MLP_ACT_TANH, MLP_ACT_RELU, MLP_ACT_IDENTITY};
    float X[N * IN];
    int32_t y[N];
    mlp_network *a = NULL, *b = NULL;
    size_t i, size = 0, got = 0;
    unsigned char *img;
    for (i = 0; i < N * IN; i++) X[i] = (float)((int)(i * 29u % 31u) - 15) / 10.0f;
    for (i = 0; i < N; i++) y[i] = (int32_t)((i * 7u) % CLASSES);
    assert_int_equal(mlp_create(&a, 3, sizes, acts, 99), MLP_OK);
    assert_int_equal(mlp_set_loss(a, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_set_dropout(a, 1, 0.3f), MLP_OK);
    assert_int_equal(mlp_set_l2(a, 1e-4f), MLP_OK);
    assert_int_equal(train(a, X, y, optimizer, 2), MLP_OK);
    assert_true(a->steps > 0);

    assert_int_equal(mlp_save_buffer(a, NULL, 0, &size), MLP_ERR_BUFFER);
    img = malloc(size);
    assert_non_null(img);
    assert_int_equal(mlp_save_buffer(a, img, size, &got), MLP_OK);
    assert_int_equal(mlp_load_buffer(&b, img, size), MLP_OK);

    assert_int_equal(train(a, X, y, optimizer, 2), MLP_OK);
    assert_int_equal(train(b, X, y, optimizer, 2), MLP_OK);
    assert_true(a->steps == b->steps);
    assert_int_equal(a->opt_state_len, b->opt_state_len);
    if (a->opt_state_len)
        assert_memory_equal(a->opt_state, b->opt_state, a->opt_state_len * sizeof(float));
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
    assert_memory_equal(a->rng.s, b->rng.s, sizeof a->rng.s);
    free(img);
    mlp_destroy(a);
    mlp_destroy(b);
}

static void test_resume_adam(void **state)
{
    (void)state;
    resume(MLP_OPT_ADAM);
}

static void test_resume_momentum(void **state)
{
    (void)state;
    resume(MLP_OPT_MOMENTUM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_adam),
        cmocka_unit_test(test_resume_momentum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
