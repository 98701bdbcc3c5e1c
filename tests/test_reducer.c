/* The engine-neutral reduction hook (mlp_reducer) without MPI: a fake
 * reducer in this one process records what the trainer asks of it.
 *   - one "process" under a reducer trains the very bits it trains alone;
 *   - each layer's sum starts from inside the backward pass, last layer
 *     first, before the earlier layers' gradients exist; one wait per step;
 *   - the agreement check reports a disagreement (a simulated second
 *     process with other options) as MLP_ERR_MISMATCH;
 *   - refusals: NULL callbacks, bad ranks, full-batch optimisers; destroy
 *     is called once, by a replacement or by mlp_trainer_destroy. */
#include <mlp.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define SENTINEL 12345.0f

typedef struct fake {
    mlp_network *net;
    size_t prepared, starts, waits, destroys, layer_seen[8];
    int order_ok, overlap_ok, wait_after_starts;
    int twin;          /* simulate a second process: every sum doubles */
    int other_options; /* ... whose options differ */
} fake;

static mlp_status f_prepare(void *ctx, size_t max_pending)
{
    ((fake *)ctx)->prepared = max_pending;
    return MLP_OK;
}

/* Which layer buf is, from its offset in the gradient array. */
static size_t layer_of(fake *f, const float *buf)
{
    size_t off = (size_t)(buf - mlp_grads(f->net));
    for (size_t l = 0; l < mlp_num_layers(f->net); l++)
        if (mlp_weights_offset(f->net, l) == off)
            return l;
    return (size_t)-1;
}

static mlp_status f_start(void *ctx, float *buf, size_t n)
{
    fake *f = ctx;
    size_t L = mlp_num_layers(f->net), l = layer_of(f, buf), k = f->starts % L;
    f->order_ok &= l == L - 1 - k &&
                   n == mlp_bias_offset(f->net, l) + mlp_layer_size(f->net, l + 1) -
                            mlp_weights_offset(f->net, l);
    /* the last layer's sum starts while layer 0's gradient is not written */
    if (k == 0 && f->waits == f->starts / L)
        f->overlap_ok &= mlp_grads(f->net)[mlp_weights_offset(f->net, 0)] == SENTINEL;
    f->starts++;
    return MLP_OK;
}

static mlp_status f_wait(void *ctx)
{
    fake *f = ctx;
    f->waits++;
    f->wait_after_starts &= f->starts == f->waits * mlp_num_layers(f->net);
    return MLP_OK;
}

static mlp_status f_sum(void *ctx, double *v, size_t n)
{
    fake *f = ctx;
    for (size_t i = 0; f->twin && i < n; i++) {
        if (f->other_options && n == 17 && i == 9) { /* the check's options hash */
            double x = v[9] + 1.0;
            v[9] += x;
            v[10] += x * x;
            i++;
        } else {
            v[i] *= 2.0;
        }
    }
    return MLP_OK;
}

static void f_destroy(void *ctx) { ((fake *)ctx)->destroys++; }

static mlp_reducer fake_reducer(fake *f, mlp_network *net)
{
    mlp_reducer r = {0, 1, 0, f, f_prepare, f_start, f_wait, f_sum, f_destroy};
    memset(f, 0, sizeof *f);
    f->net = net;
    f->order_ok = f->overlap_ok = f->wait_after_starts = 1;
    return r;
}

static float X[40 * 4];
static int32_t Y[40];

static mlp_network *new_net(void)
{
    size_t sizes[4] = {4, 12, 8, 3};
    mlp_activation acts[3] = {MLP_ACT_TANH, MLP_ACT_RELU, MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, 3, sizes, acts, 3), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_set_l2(net, 1e-3f), MLP_OK);
    for (size_t i = 0; i < 40; i++) {
        for (size_t j = 0; j < 4; j++)
            X[i * 4 + j] = (float)sin((double)(i * 4 + j));
        Y[i] = (int32_t)(i % 3);
    }
    return net;
}

static mlp_trainer *new_trainer(mlp_network *net, mlp_optimizer opt)
{
    mlp_trainer *tr = NULL;
    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, opt), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, 7), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 4), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_CLIP_NORM, 0.3), MLP_OK);
    return tr;
}

static void test_one_process_same_bits(void **state)
{
    mlp_optimizer opts[2] = {MLP_OPT_MOMENTUM, MLP_OPT_ADAM};
    (void)state;
    for (int k = 0; k < 2; k++) {
        mlp_network *a = new_net(), *b = new_net();
        mlp_trainer *ta = new_trainer(a, opts[k]), *tb = new_trainer(b, opts[k]);
        fake f;
        mlp_reducer r = fake_reducer(&f, b);
        double sec[MLP_PROFILE_COUNT_];
        assert_int_equal(mlp_trainer_set_reducer(tb, &r), MLP_OK);
        assert_int_equal(f.prepared, 3);
        assert_int_equal(mlp_trainer_set_profile(tb, 1), MLP_OK);
        assert_int_equal(mlp_train(ta, X, Y, 40, NULL, NULL, 0), MLP_OK);
        assert_int_equal(mlp_train(tb, X, Y, 40, NULL, NULL, 0), MLP_OK);
        /* the reducer's calls are timed as communication, a named part */
        mlp_trainer_profile(tb, sec, MLP_PROFILE_COUNT_);
        assert_true(sec[MLP_PROFILE_COMMUNICATION] > 0.0);
        assert_true(sec[MLP_PROFILE_COMMUNICATION] < sec[MLP_PROFILE_TOTAL]);
        assert_string_equal(mlp_profile_part_name(MLP_PROFILE_COMMUNICATION), "communication");
        assert_memory_equal(mlp_params(a), mlp_params(b), mlp_num_params(a) * sizeof(float));
        assert_int_equal(f.waits, 4 * 6); /* 6 batches of 7 rows, 4 epochs */
        assert_true(f.order_ok && f.wait_after_starts);
        mlp_trainer_destroy(ta);
        mlp_trainer_destroy(tb);
        assert_int_equal(f.destroys, 1);
        mlp_destroy(a);
        mlp_destroy(b);
    }
}

static void test_sums_start_inside_backward(void **state)
{
    mlp_network *net = new_net();
    mlp_trainer *tr = new_trainer(net, MLP_OPT_SGD);
    fake f;
    mlp_reducer r = fake_reducer(&f, net);
    (void)state;
    assert_int_equal(mlp_trainer_set_reducer(tr, &r), MLP_OK);
    for (int s = 0; s < 5; s++) {
        float *g = mlp_grads(net);
        for (size_t i = 0; i < mlp_num_params(net); i++)
            g[i] = SENTINEL;
        assert_int_equal(mlp_trainer_step(tr, X + 4 * s, 6, Y + s, NULL), MLP_OK);
    }
    assert_int_equal(f.starts, 15);
    assert_int_equal(f.waits, 5);
    assert_true(f.order_ok);
    assert_true(f.overlap_ok);
    assert_true(f.wait_after_starts);
    /* no rows in this process: a zero gradient still joins every sum */
    assert_int_equal(mlp_trainer_step(tr, X, 0, Y, NULL), MLP_ERR_SIZE); /* global batch empty */
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

static void test_mismatch(void **state)
{
    mlp_network *net = new_net();
    mlp_trainer *tr = new_trainer(net, MLP_OPT_ADAM);
    fake f;
    mlp_reducer r = fake_reducer(&f, net);
    int rank = -1, size = -1;
    (void)state;
    r.size = 2;
    f.twin = 1;
    f.other_options = 1;
    assert_int_equal(mlp_trainer_set_reducer(tr, &r), MLP_ERR_MISMATCH);
    assert_non_null(strstr(mlp_last_error(), "options"));
    assert_int_equal(f.destroys, 0); /* refused: the caller still owns it */
    mlp_trainer_reducer_rank(tr, &rank, &size);
    assert_int_equal(rank, 0);
    assert_int_equal(size, 1);
    f.other_options = 0;
    r.rank = 1;
    assert_int_equal(mlp_trainer_set_reducer(tr, &r), MLP_OK);
    mlp_trainer_reducer_rank(tr, &rank, &size);
    assert_int_equal(rank, 1);
    assert_int_equal(size, 2);
    assert_int_equal(mlp_trainer_set_reducer(tr, NULL), MLP_OK);
    assert_int_equal(f.destroys, 1);
    mlp_trainer_destroy(tr);
    assert_int_equal(f.destroys, 1);
    mlp_destroy(net);
}

static void test_refusals(void **state)
{
    mlp_network *net = new_net();
    mlp_trainer *tr = new_trainer(net, MLP_OPT_ADAM);
    fake f;
    mlp_reducer r = fake_reducer(&f, net), bad = r;
    (void)state;
    bad.sum_doubles = NULL;
    assert_int_equal(mlp_trainer_set_reducer(tr, &bad), MLP_ERR_NULL);
    bad = r;
    bad.rank = 1;
    assert_int_equal(mlp_trainer_set_reducer(tr, &bad), MLP_ERR_ARGUMENT);
    assert_int_equal(mlp_trainer_set_reducer(NULL, &r), MLP_ERR_NULL);
    assert_int_equal(mlp_trainer_set_reducer(tr, &r), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_LBFGS), MLP_OK);
    assert_int_equal(mlp_train(tr, X, Y, 40, NULL, NULL, 0), MLP_ERR_OPTION);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_IRPROP), MLP_OK);
    assert_int_equal(mlp_train(tr, X, Y, 40, NULL, NULL, 0), MLP_ERR_OPTION);
    assert_int_equal(mlp_trainer_step(tr, X, 8, Y, NULL), MLP_ERR_OPTION);
    assert_int_equal(mlp_trainer_epochs_run(tr), 0);
    mlp_trainer_destroy(tr);
    assert_int_equal(f.destroys, 1);
    mlp_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_process_same_bits),
        cmocka_unit_test(test_sums_start_inside_backward),
        cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
