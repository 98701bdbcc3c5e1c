/* Fashion-MNIST smoke test (R5): 5,000 training images from the Debian
 * package dataset-fashion-mnist, one hidden layer, the trainer, and more
 * than 80% accuracy on the 10,000 test images. A missing package fails the
 * test (scripts/deps.sh installs it); it is never skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mlp.h"

#define DIR "/usr/share/datasets/fashion-mnist"
#define N_TRAIN 5000

static mlp_dataset *load(const char *stem)
{
    char img[256], lab[256];
    mlp_dataset *ds = NULL;
    mlp_status st;
    snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte.gz", DIR, stem);
    snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte.gz", DIR, stem);
    if (access(img, R_OK) != 0)
        fail_msg("%s is missing: apt-get install dataset-fashion-mnist (scripts/deps.sh)", img);
    st = mlp_dataset_load_idx(&ds, img, lab);
    if (st != MLP_OK) fail_msg("%s: %s", mlp_status_name(st), mlp_last_error());
    return ds;
}

static void test_fashion_mnist_subset(void **state)
{
    mlp_dataset *train = load("train"), *test = load("t10k");
    size_t sizes[] = {784, 128, 10};
    mlp_activation acts[] = {MLP_ACT_RELU, MLP_ACT_IDENTITY};
    float offset[784], scale[784];
    mlp_network *net = NULL;
    mlp_trainer *tr = NULL;
    double loss = 0, acc = 0;
    size_t i;

    assert_int_equal(mlp_dataset_rows(train), 60000);
    assert_int_equal(mlp_dataset_rows(test), 10000);
    assert_int_equal(mlp_dataset_cols(train), 784);
    assert_int_equal(mlp_dataset_num_classes(train), 10);

    assert_int_equal(mlp_create(&net, 2, sizes, acts, 1), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    for (i = 0; i < 784; i++) {
        offset[i] = 0;
        scale[i] = 1.0f / 255;
    }
    assert_int_equal(mlp_set_input_scaling(net, offset, scale), MLP_OK);
    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_ADAM), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, 1e-3), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, 64), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 10), MLP_OK);

    /* The first 5,000 images: raw pixels, the network scales them. */
    assert_int_equal(mlp_train(tr, mlp_dataset_features(train), mlp_dataset_classes(train), N_TRAIN,
                               NULL, NULL, 0),
                     MLP_OK);
    assert_int_equal(mlp_evaluate(net, mlp_dataset_features(test), mlp_dataset_rows(test),
                                  mlp_dataset_classes(test), &loss, &acc),
                     MLP_OK);
    print_message("Fashion-MNIST, %d training images: test accuracy %.2f%%, loss %.4f\n", N_TRAIN,
                  100 * acc, loss);
    if (!(acc > 0.80)) fail_msg("test accuracy %.2f%% is not above 80%%", 100 * acc);

    mlp_trainer_destroy(tr);
    mlp_destroy(net);
    mlp_dataset_destroy(train);
    mlp_dataset_destroy(test);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fashion_mnist_subset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
