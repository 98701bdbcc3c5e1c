/* The full-batch optimisers (L-BFGS, iRPROP-) and per-sample weights:
 * learning XOR, iRPROP- against a reference loop, resuming, divergence,
 * L-BFGS's stopping rules, and weighted gradients. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"

static const float xor_X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
static const int32_t xor_y[4] = {0, 1, 1, 0};

/* 8 hidden units: with 4, a few starts in 40 end in XOR's local minimum
 * (two points at 1/2, loss ln(2)/2), and which ones depends on the CPU's
 * BLAS kernel; with 8, none of 40 starts did under any OpenBLAS core type */
static mlp_network *xor_net(uint64_t seed)
{
    const size_t sizes[3] = {2, 8, 2};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, 2, sizes, acts, seed), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    return net;
}

static mlp_trainer *trainer(mlp_network *net, mlp_optimizer opt, size_t epochs)
{
    mlp_trainer *tr = NULL;
    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, opt), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, (double)epochs), MLP_OK);
    return tr;
}

static void test_xor(void **state)
{
    (void)state;
    for (int opt = MLP_OPT_LBFGS; opt <= MLP_OPT_IRPROP; opt++) {
        mlp_network *net = xor_net(3);
        mlp_trainer *tr = trainer(net, (mlp_optimizer)opt, 500);
        double loss = 1.0, acc = 0.0;
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_TOL, 1e-6), MLP_OK);
        assert_int_equal(mlp_train(tr, xor_X, xor_y, 4, NULL, NULL, 0), MLP_OK);
        assert_int_equal(mlp_evaluate(net, xor_X, 4, xor_y, &loss, &acc), MLP_OK);
        print_message("%s: loss %g after %zu iterations (%s)\n", mlp_optimizer_name(opt), loss,
                      mlp_trainer_epochs_run(tr), mlp_stop_reason_name(mlp_trainer_stop_reason(tr)));
        assert_true(acc == 1.0);
        /* L-BFGS may stop on a plateau (scipy's relative-decrease rule,
         * as scikit-learn's lbfgs does) before the loss reaches 0 */
        assert_true(loss < (opt == MLP_OPT_LBFGS ? 0.2 : 0.05));
        if (opt == MLP_OPT_LBFGS) { /* stops by its own tests, well before 500 */
            assert_int_equal(mlp_trainer_stop_reason(tr), MLP_STOP_CONVERGED);
            assert_true(mlp_trainer_epochs_run(tr) < 500);
        }
        mlp_trainer_destroy(tr);
        mlp_destroy(net);
    }
}

/* The batch size does not apply to the full-batch optimisers: a huge one
 * neither changes the result nor reserves a workspace for rows that do not
 * exist (mlp_train once asked for 1e9 rows' worth, 56 GB, for 4 rows). */
static void test_huge_batch_size(void **state)
{
    (void)state;
    for (int opt = MLP_OPT_LBFGS; opt <= MLP_OPT_IRPROP; opt++) {
        mlp_network *a = xor_net(5), *b = xor_net(5);
        mlp_trainer *ta = trainer(a, (mlp_optimizer)opt, 3);
        mlp_trainer *tb = trainer(b, (mlp_optimizer)opt, 3);
        assert_int_equal(mlp_trainer_set(tb, MLP_OPTION_BATCH_SIZE, 1e9), MLP_OK);
        assert_int_equal(mlp_train(ta, xor_X, xor_y, 4, NULL, NULL, 0), MLP_OK);
        assert_int_equal(mlp_train(tb, xor_X, xor_y, 4, NULL, NULL, 0), MLP_OK);
        assert_true(mlp_capacity(b) <= mlp_capacity(a));
        assert_int_equal(mlp_num_params(a), mlp_num_params(b));
        assert_memory_equal(mlp_params_const(a), mlp_params_const(b),
                            mlp_num_params(a) * sizeof(float));
        mlp_trainer_destroy(ta);
        mlp_trainer_destroy(tb);
        mlp_destroy(a);
        mlp_destroy(b);
    }
}

/* iRPROP- as FANN's fann_update_weights_irpropm computes it (without its
 * +-1500 clamp and its move of parameters with a zero gradient), over the
 * gradients of the library's full-batch loss. */
static void test_irprop_reference(void **state)
{
    mlp_network *net = xor_net(5), *ref = NULL;
    mlp_trainer *tr = trainer(net, MLP_OPT_IRPROP, 1);
    size_t n = mlp_num_params(net);
    float step[64], gprev[64];
    (void)state;
    assert_true(n <= 64);
    assert_int_equal(mlp_clone(net, &ref), MLP_OK);
    for (size_t i = 0; i < n; i++) {
        step[i] = 0.1f;
        gprev[i] = 0.0f;
    }
    for (int t = 0; t < 6; t++) {
        float *p = mlp_params(ref);
        const float *g = mlp_grads(ref);
        int moved = 0;
        assert_int_equal(mlp_loss_grad(ref, xor_X, 4, xor_y, NULL), MLP_OK);
        for (size_t i = 0; i < n; i++) {
            float gi = g[i], s = step[i] > 1e-4f ? step[i] : 1e-4f;
            if (gi * gprev[i] >= 0.0f) {
                s = fminf(s * 1.2f, 50.0f);
            } else {
                s = fmaxf(s * 0.5f, 0.0f);
                gi = 0.0f;
            }
            p[i] -= gi > 0.0f ? s : gi < 0.0f ? -s : 0.0f;
            step[i] = s;
            gprev[i] = gi;
            moved |= gi != 0.0f;
        }
        assert_true(moved);
        assert_int_equal(mlp_train(tr, xor_X, xor_y, 4, NULL, NULL, 0), MLP_OK);
        assert_memory_equal(mlp_params(net), mlp_params(ref), n * sizeof(float));
    }
    assert_int_equal(mlp_optimizer_state_kind(net), MLP_OPT_IRPROP);
    mlp_trainer_destroy(tr);
    mlp_destroy(ref);
    mlp_destroy(net);
}

/* 3 + 3 epochs through a model file equal 6 in one run, bit for bit: the
 * steps and previous gradients are saved with the network. */
static void test_irprop_resume(void **state)
{
    mlp_network *a = xor_net(7), *b = NULL, *c = NULL;
    mlp_trainer *ta = trainer(a, MLP_OPT_IRPROP, 6), *tb;
    size_t size = 0;
    void *buf;
    (void)state;
    assert_int_equal(mlp_clone(a, &b), MLP_OK);
    assert_int_equal(mlp_train(ta, xor_X, xor_y, 4, NULL, NULL, 0), MLP_OK);

    tb = trainer(b, MLP_OPT_IRPROP, 3);
    assert_int_equal(mlp_train(tb, xor_X, xor_y, 4, NULL, NULL, 0), MLP_OK);
    mlp_trainer_destroy(tb);
    assert_int_equal(mlp_save_buffer(b, NULL, 0, &size), MLP_ERR_BUFFER);
    buf = malloc(size);
    assert_non_null(buf);
    assert_int_equal(mlp_save_buffer(b, buf, size, &size), MLP_OK);
    assert_int_equal(mlp_load_buffer(&c, buf, size), MLP_OK);
    free(buf);
    assert_int_equal(mlp_optimizer_state_kind(c), MLP_OPT_IRPROP);
    assert_int_equal(mlp_trainer_create(c, &tb), MLP_OK); /* keeps the loaded state */
    assert_int_equal(mlp_trainer_set(tb, MLP_OPTION_EPOCHS, 3), MLP_OK);
    assert_int_equal(mlp_train(tb, xor_X, xor_y, 4, NULL, NULL, 0), MLP_OK);
    assert_memory_equal(mlp_params(a), mlp_params(c), mlp_num_params(a) * sizeof(float));
    assert_int_equal(mlp_steps_trained(a), mlp_steps_trained(c));
    mlp_trainer_destroy(tb);
    mlp_trainer_destroy(ta);
    mlp_destroy(a);
    mlp_destroy(b);
    mlp_destroy(c);
}

/* Steps that overflow the network: MLP_ERR_DIVERGED, the weights of the
 * last good epoch restored. */
static void test_irprop_diverges(void **state)
{
    mlp_network *net = xor_net(9);
    mlp_trainer *tr = trainer(net, MLP_OPT_IRPROP, 5);
    size_t n = mlp_num_params(net);
    float *after1 = malloc(n * sizeof(float));
    (void)state;
    assert_non_null(after1);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_RPROP_DELTA_INIT, 3e38), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_RPROP_DELTA_MAX, 3e38), MLP_OK);
    /* epoch 1 moves the weights to +-3e38 (finite); epoch 2's forward
     * pass overflows */
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 1), MLP_OK);
    assert_int_equal(mlp_train(tr, xor_X, xor_y, 4, NULL, NULL, 0), MLP_OK);
    memcpy(after1, mlp_params(net), n * sizeof(float));
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 5), MLP_OK);
    assert_int_equal(mlp_train(tr, xor_X, xor_y, 4, NULL, NULL, 0), MLP_ERR_DIVERGED);
    assert_int_equal(mlp_trainer_stop_reason(tr), MLP_STOP_DIVERGED);
    assert_int_equal(mlp_trainer_epochs_run(tr), 0);
    assert_memory_equal(mlp_params(net), after1, n * sizeof(float));
    free(after1);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

static void test_lbfgs_rules(void **state)
{
    mlp_network *net = xor_net(11);
    mlp_trainer *tr = trainer(net, MLP_OPT_LBFGS, 1000);
    (void)state;
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_TOL, 0.0), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_MAX_FUN, 5), MLP_OK);
    assert_int_equal(mlp_train(tr, xor_X, xor_y, 4, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_trainer_stop_reason(tr), MLP_STOP_MAX_FUN);
    assert_true(mlp_trainer_epochs_run(tr) <= 5);
    /* max_iter: the epochs */
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_MAX_FUN, 15000), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 3), MLP_OK);
    assert_int_equal(mlp_train(tr, xor_X, xor_y, 4, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_trainer_stop_reason(tr), MLP_STOP_COMPLETED);
    assert_int_equal(mlp_trainer_epochs_run(tr), 3);
    /* a step outside mlp_train is refused, changing nothing */
    assert_int_equal(mlp_trainer_step(tr, xor_X, 4, xor_y, NULL), MLP_ERR_OPTION);
    assert_string_equal(mlp_optimizer_name(MLP_OPT_LBFGS), "lbfgs");
    assert_string_equal(mlp_optimizer_name(MLP_OPT_IRPROP), "irprop");
    assert_string_equal(mlp_stop_reason_name(MLP_STOP_CONVERGED), "converged");
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

static int stop_at_2(const mlp_progress *p, void *user)
{
    (void)user;
    return p->epoch == 2;
}

/* The callback runs once per iteration and can stop L-BFGS. */
static void test_lbfgs_callback(void **state)
{
    mlp_network *net = xor_net(13);
    mlp_trainer *tr = trainer(net, MLP_OPT_LBFGS, 100);
    (void)state;
    assert_int_equal(mlp_trainer_set_callback(tr, stop_at_2, NULL), MLP_OK);
    assert_int_equal(mlp_train(tr, xor_X, xor_y, 4, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_trainer_stop_reason(tr), MLP_STOP_CALLBACK);
    assert_int_equal(mlp_trainer_epochs_run(tr), 2);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

static double rel_diff(const float *a, const float *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / den);
}

/* A weight of 2 is the row twice; weights of 0 remove rows. */
static void test_weighted_gradient(void **state)
{
    const size_t sizes[3] = {3, 5, 3};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    float X[6 * 3], Xd[7 * 3], w[6] = {1, 2, 1, 1, 0, 0}, ga[64], gb[64];
    int32_t y[6] = {0, 1, 2, 1, 0, 2}, yd[7];
    mlp_network *net = NULL;
    double Ja, Jb;
    size_t n;
    (void)state;
    for (int i = 0; i < 18; i++) X[i] = (float)sin(1.7 * i + 0.3);
    /* duplicated: row 1 twice, rows 4 and 5 dropped */
    memcpy(Xd, X, 4 * 3 * sizeof(float));
    memcpy(Xd + 12, X + 3, 3 * sizeof(float));
    memcpy(yd, y, 4 * sizeof(int32_t));
    yd[4] = y[1];
    assert_int_equal(mlp_create(&net, 2, sizes, acts, 17), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_set_l2(net, 0.01f), MLP_OK);
    n = mlp_num_params(net);
    assert_true(n <= 64);
    assert_int_equal(mlp_loss_grad_weighted(net, X, 6, y, w, &Ja), MLP_OK);
    memcpy(ga, mlp_grads(net), n * sizeof(float));
    assert_int_equal(mlp_loss_grad(net, Xd, 5, yd, &Jb), MLP_OK);
    memcpy(gb, mlp_grads(net), n * sizeof(float));
    assert_true(fabs(Ja - Jb) <= 1e-6 * fabs(Jb));
    assert_true(rel_diff(ga, gb, n) <= 1e-6);
    /* NULL weights are the unweighted call, bit for bit */
    assert_int_equal(mlp_loss_grad_weighted(net, X, 6, y, NULL, &Ja), MLP_OK);
    memcpy(ga, mlp_grads(net), n * sizeof(float));
    assert_int_equal(mlp_loss_grad(net, X, 6, y, &Jb), MLP_OK);
    assert_true(Ja == Jb);
    assert_memory_equal(ga, mlp_grads(net), n * sizeof(float));
    /* bad weights are refused */
    w[0] = -1.0f;
    assert_int_equal(mlp_loss_grad_weighted(net, X, 6, y, w, &Ja), MLP_ERR_ARGUMENT);
    w[0] = NAN;
    assert_int_equal(mlp_loss_grad_weighted(net, X, 6, y, w, &Ja), MLP_ERR_NONFINITE);
    memset(w, 0, sizeof w);
    assert_int_equal(mlp_loss_grad_weighted(net, X, 6, y, w, &Ja), MLP_ERR_ARGUMENT);
    mlp_destroy(net);
}

/* mlp_train_weighted on full batch equals training on the duplicated rows. */
static void test_weighted_training(void **state)
{
    const float w[4] = {2, 1, 1, 0};
    const float Xd[8] = {0, 0, 0, 0, 0, 1, 1, 0};
    const int32_t yd[4] = {0, 0, 1, 1};
    mlp_network *a = xor_net(19), *b = NULL;
    mlp_trainer *ta, *tb;
    (void)state;
    assert_int_equal(mlp_clone(a, &b), MLP_OK);
    ta = trainer(a, MLP_OPT_IRPROP, 20);
    tb = trainer(b, MLP_OPT_IRPROP, 20);
    assert_int_equal(mlp_train_weighted(ta, xor_X, xor_y, w, 4, NULL, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_train(tb, Xd, yd, 4, NULL, NULL, 0), MLP_OK);
    assert_true(rel_diff(mlp_params(a), mlp_params(b), mlp_num_params(a)) <= 1e-5);
    mlp_trainer_destroy(ta);
    mlp_trainer_destroy(tb);
    mlp_destroy(a);
    mlp_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xor),
        cmocka_unit_test(test_huge_batch_size),
        cmocka_unit_test(test_irprop_reference),
        cmocka_unit_test(test_irprop_resume),
        cmocka_unit_test(test_irprop_diverges),
        cmocka_unit_test(test_lbfgs_rules),
        cmocka_unit_test(test_lbfgs_callback),
        cmocka_unit_test(test_weighted_gradient),
        cmocka_unit_test(test_weighted_training),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
