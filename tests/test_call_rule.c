/* The call rule (mlp.h, "Calls on a handle in use"): every call sequence
 * either works or is refused with its status, changing nothing. Each case
 * below once corrupted memory (seen under ASan) or depended on history
 * the API does not show. */
#include <mlp.h>

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define ROWS 40

static float X[ROWS * 8];
static int32_t labels[ROWS];

static void make_data(size_t n_in, size_t classes)
{
    uint64_t s = 11;
    for (size_t i = 0; i < ROWS * n_in; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        X[i] = (float)((double)(s >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
    }
    for (size_t i = 0; i < ROWS; i++) labels[i] = (int32_t)(i % classes);
}

static mlp_network *make_net(size_t n_layers, const size_t *sizes, uint64_t seed)
{
    mlp_activation acts[4] = {MLP_ACT_RELU, MLP_ACT_RELU, MLP_ACT_RELU, MLP_ACT_RELU};
    mlp_network *net = NULL;
    acts[n_layers - 1] = MLP_ACT_IDENTITY;
    assert_int_equal(mlp_create(&net, n_layers, sizes, acts, seed), MLP_OK);
    return net;
}

/* A workspace made for 4-8-2 on an 8-4-2 network with input scaling: same
 * layer count, size sum and widest layer, another shape. */
static void test_workspace_of_another_shape(void **state)
{
    const size_t a[3] = {4, 8, 2}, b[3] = {8, 4, 2};
    mlp_network *na = make_net(2, a, 1), *nb = make_net(2, b, 2);
    float off[8] = {0}, sc[8] = {1, 1, 1, 1, 1, 1, 1, 1}, Y[ROWS * 2];
    mlp_workspace *ws = NULL;
    (void)state;
    make_data(8, 2);
    assert_int_equal(mlp_set_input_scaling(nb, off, sc), MLP_OK);
    assert_int_equal(mlp_workspace_create(na, 4, &ws), MLP_OK);
    memset(Y, 0x5a, sizeof Y);
    assert_int_equal(mlp_forward_ws(nb, ws, X, ROWS, Y), MLP_ERR_MISMATCH);
    for (size_t i = 0; i < sizeof Y; i++) assert_int_equal(((unsigned char *)Y)[i], 0x5a);
    assert_int_equal(mlp_forward_ws(na, ws, X, ROWS, Y), MLP_OK);
    mlp_workspace_destroy(ws);
    mlp_destroy(na);
    mlp_destroy(nb);
}

/* What a callback tried, and what it got. */
typedef struct probe {
    mlp_network *net;
    mlp_trainer *tr;
    int calls;
    mlp_status optimizer, loss, l2, dropout, scaling, reserve, init, loss_grad, gradcheck;
    mlp_status step, train, create, batch_size, set_callback;
    mlp_status forward, evaluate, save, lr, get;
} probe;

static int probing_callback(const mlp_progress *pr, void *user)
{
    probe *p = user;
    mlp_trainer *tr2 = NULL;
    float Y[ROWS * 3], one = 1.0f;
    double v;
    unsigned char buf[4096];
    size_t size;
    mlp_gradcheck_block blocks[4];
    (void)pr;
    p->calls++;
    p->optimizer = mlp_trainer_set(p->tr, MLP_OPTION_OPTIMIZER, MLP_OPT_ADAM);
    p->loss = mlp_set_loss(p->net, MLP_LOSS_MSE);
    p->l2 = mlp_set_l2(p->net, 0.5f);
    p->dropout = mlp_set_dropout(p->net, 0, 0.5f);
    p->scaling = mlp_set_input_scaling(p->net, &one, &one);
    p->reserve = mlp_reserve(p->net, 1000);
    p->init = mlp_init_params(p->net, MLP_INIT_AUTO, 1);
    p->loss_grad = mlp_loss_grad(p->net, X, 4, labels, NULL);
    p->gradcheck = mlp_gradcheck(p->net, X, 4, labels, 0, 1, 1, blocks);
    p->step = mlp_trainer_step(p->tr, X, 4, labels, NULL);
    p->train = mlp_train(p->tr, X, labels, ROWS, NULL, NULL, 0);
    p->create = mlp_trainer_create(p->net, &tr2);
    p->batch_size = mlp_trainer_set(p->tr, MLP_OPTION_BATCH_SIZE, 3);
    p->set_callback = mlp_trainer_set_callback(p->tr, NULL, NULL);
    p->forward = mlp_forward(p->net, X, ROWS, Y);
    p->evaluate = mlp_evaluate(p->net, X, ROWS, labels, &v, NULL);
    p->save = mlp_save_buffer(p->net, buf, sizeof buf, &size);
    p->lr = mlp_trainer_set(p->tr, MLP_OPTION_LEARNING_RATE, 0.05);
    p->get = mlp_trainer_get(p->tr, MLP_OPTION_OPTIMIZER, &v);
    assert_null(tr2);
    return 0;
}

/* From the callback: structural changes refused, reading calls allowed;
 * training goes on unharmed (the optimizer switch and the loss change
 * from the callback both overflowed buffers once). */
static void test_callback_calls(void **state)
{
    const size_t sizes[3] = {4, 6, 3};
    mlp_network *net = make_net(2, sizes, 3);
    mlp_trainer *tr = NULL;
    probe p;
    double v;
    (void)state;
    make_data(4, 3);
    memset(&p, 0, sizeof p);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    p.net = net;
    p.tr = tr;
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_SGD), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 3), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, 8), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_CALLBACK_EVERY_BATCH, 1), MLP_OK);
    assert_int_equal(mlp_trainer_set_callback(tr, probing_callback, &p), MLP_OK);
    assert_int_equal(mlp_train(tr, X, labels, ROWS, NULL, NULL, 0), MLP_OK);
    assert_int_equal(p.calls, 3 * 5);
    assert_int_equal(p.optimizer, MLP_ERR_BUSY);
    assert_int_equal(p.loss, MLP_ERR_BUSY);
    assert_int_equal(p.l2, MLP_ERR_BUSY);
    assert_int_equal(p.dropout, MLP_ERR_BUSY);
    assert_int_equal(p.scaling, MLP_ERR_BUSY);
    assert_int_equal(p.reserve, MLP_ERR_BUSY);
    assert_int_equal(p.init, MLP_ERR_BUSY);
    assert_int_equal(p.loss_grad, MLP_ERR_BUSY);
    assert_int_equal(p.gradcheck, MLP_ERR_BUSY);
    assert_int_equal(p.step, MLP_ERR_BUSY);
    assert_int_equal(p.train, MLP_ERR_BUSY);
    assert_int_equal(p.create, MLP_ERR_BUSY);
    assert_int_equal(p.batch_size, MLP_ERR_BUSY);
    assert_int_equal(p.set_callback, MLP_ERR_BUSY);
    assert_int_equal(p.forward, MLP_OK);
    assert_int_equal(p.evaluate, MLP_OK);
    assert_int_equal(p.save, MLP_OK);
    assert_int_equal(p.lr, MLP_OK);
    assert_int_equal(p.get, MLP_OK);
    /* Nothing the refused calls asked for happened. */
    assert_int_equal(mlp_get_loss(net), MLP_LOSS_SOFTMAX_CE);
    assert_true(mlp_get_l2(net) == 0.0f);
    assert_true(mlp_get_dropout(net, 0) == 0.0f);
    assert_false(mlp_has_input_scaling(net));
    assert_int_equal(mlp_optimizer_state_kind(net), MLP_OPT_SGD);
    assert_int_equal(mlp_trainer_get(tr, MLP_OPTION_BATCH_SIZE, &v), MLP_OK);
    assert_true(v == 8.0);
    assert_int_equal(mlp_trainer_get(tr, MLP_OPTION_LEARNING_RATE, &v), MLP_OK);
    assert_true(v == 0.05);
    /* After training everything is open again. */
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_MSE), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_ADAM), MLP_OK);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* One trainer per network; a destroyed network detaches its trainer. */
static void test_one_trainer_per_network(void **state)
{
    const size_t sizes[3] = {4, 6, 3};
    mlp_network *net = make_net(2, sizes, 4);
    mlp_trainer *tr = NULL, *tr2 = NULL;
    double v;
    (void)state;
    make_data(4, 3);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    assert_int_equal(mlp_trainer_create(net, &tr2), MLP_ERR_BUSY);
    assert_null(tr2);
    mlp_trainer_destroy(tr);
    assert_int_equal(mlp_trainer_create(net, &tr2), MLP_OK);
    mlp_destroy(net);
    assert_int_equal(mlp_trainer_step(tr2, X, 4, labels, NULL), MLP_ERR_NULL);
    assert_int_equal(mlp_train(tr2, X, labels, ROWS, NULL, NULL, 0), MLP_ERR_NULL);
    assert_int_equal(mlp_trainer_set(tr2, MLP_OPTION_OPTIMIZER, MLP_OPT_SGD), MLP_ERR_NULL);
    assert_int_equal(mlp_trainer_get(tr2, MLP_OPTION_EPOCHS, &v), MLP_OK);
    mlp_trainer_destroy(tr2);
}

typedef struct destroyer {
    mlp_network *net;
    mlp_trainer *tr;
    int which; /* 0: the trainer, 1: the network, 2: both */
    int calls;
} destroyer;

static int destroying_callback(const mlp_progress *pr, void *user)
{
    destroyer *d = user;
    (void)pr;
    d->calls++;
    if (d->which != 1) mlp_trainer_destroy(d->tr);
    if (d->which != 0) mlp_destroy(d->net);
    return 0;
}

/* Destroys from the callback are deferred: training stops after it and
 * the handles are freed when mlp_train returns (ASan sees any misuse). */
static void test_destroy_from_callback(void **state)
{
    const size_t sizes[3] = {4, 6, 3};
    (void)state;
    make_data(4, 3);
    for (int which = 0; which < 3; which++) {
        mlp_network *net = make_net(2, sizes, 5);
        mlp_trainer *tr = NULL;
        destroyer d = {net, NULL, which, 0};
        assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
        assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
        d.tr = tr;
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 4), MLP_OK);
        assert_int_equal(mlp_trainer_set_callback(tr, destroying_callback, &d), MLP_OK);
        assert_int_equal(mlp_train(tr, X, labels, ROWS, NULL, NULL, 0), MLP_OK);
        assert_int_equal(d.calls, 1);
        if (which == 1) {
            assert_int_equal(mlp_trainer_step(tr, X, 4, labels, NULL), MLP_ERR_NULL);
            mlp_trainer_destroy(tr);
        }
        if (which == 0) mlp_destroy(net);
    }
}

/* Settings changed between mlp_trainer_create and training take effect:
 * the buffers follow them (the loss's target size, dropout's masks, the
 * scaled input, the optimizer's state). */
static void test_settings_after_create(void **state)
{
    const size_t sizes[3] = {8, 5, 3};
    mlp_network *net = make_net(2, sizes, 6);
    mlp_trainer *tr = NULL;
    float off[8] = {0}, sc[8] = {2, 2, 2, 2, 2, 2, 2, 2}, T[ROWS * 3];
    double J;
    (void)state;
    make_data(8, 3);
    for (size_t i = 0; i < ROWS * 3; i++) T[i] = (float)(i % 3 == 0);
    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_SGD), MLP_OK);
    assert_int_equal(mlp_trainer_step(tr, X, ROWS, T, &J), MLP_OK);
    assert_int_equal(mlp_set_dropout(net, 0, 0.3f), MLP_OK);
    assert_int_equal(mlp_set_input_scaling(net, off, sc), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_ADAM), MLP_OK);
    assert_int_equal(mlp_trainer_step(tr, X, ROWS, T, &J), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_reserve(net, 3), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 2), MLP_OK);
    assert_int_equal(mlp_train(tr, X, labels, ROWS, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SIGMOID_CE), MLP_OK);
    assert_int_equal(mlp_train(tr, X, T, ROWS, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_trainer_step(tr, X, 7, T, &J), MLP_OK);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

#define BIG 256
static float Xbig[BIG * 8];
static int32_t ybig[BIG];

static void make_big(void)
{
    uint64_t s = 29;
    for (size_t i = 0; i < BIG * 8; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        Xbig[i] = (float)((double)(s >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
    }
    for (size_t i = 0; i < BIG; i++) ybig[i] = (int32_t)(i % 3);
}

/* Trains a copy of net with opt on batch rows; reserve first when asked. */
static void train_copy(const mlp_network *net, mlp_optimizer opt, size_t rows, size_t reserve,
                       float *params)
{
    mlp_network *c = NULL;
    mlp_trainer *tr = NULL;
    assert_int_equal(mlp_clone(net, &c), MLP_OK);
    if (reserve) assert_int_equal(mlp_reserve(c, reserve), MLP_OK);
    assert_int_equal(mlp_trainer_create(c, &tr), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, opt), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, 0.05), MLP_OK);
    for (int k = 0; k < 3; k++)
        assert_int_equal(mlp_trainer_step(tr, Xbig, rows, ybig, NULL), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, (double)rows), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 2), MLP_OK);
    assert_int_equal(mlp_train(tr, Xbig, ybig, BIG, NULL, NULL, 0), MLP_OK);
    memcpy(params, mlp_params_const(c), mlp_num_params(c) * sizeof(float));
    mlp_trainer_destroy(tr);
    mlp_destroy(c);
}

/* The same seed and data give the same bits whether or not mlp_reserve
 * was called before (the fused SGD path once depended on the capacity). */
static void test_results_ignore_reserve(void **state)
{
    const size_t sizes[3] = {8, 16, 3};
    mlp_network *net = make_net(2, sizes, 7);
    size_t n = mlp_num_params(net);
    static float a[1024], b[1024];
    const mlp_optimizer opts[3] = {MLP_OPT_SGD, MLP_OPT_MOMENTUM, MLP_OPT_ADAM};
    const size_t batches[3] = {1, 100, 200};
    (void)state;
    make_big();
    assert_true(n <= 1024);
    assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_set_l2(net, 1e-3f), MLP_OK);
    for (int o = 0; o < 3; o++)
        for (int k = 0; k < 3; k++) {
            train_copy(net, opts[o], batches[k], 0, a);
            train_copy(net, opts[o], batches[k], 1000, b);
            assert_memory_equal(a, b, n * sizeof(float));
        }
    /* mlp_loss_grad on a batch that fits either workspace. */
    {
        mlp_network *c = NULL;
        assert_int_equal(mlp_clone(net, &c), MLP_OK);
        assert_int_equal(mlp_reserve(c, 1000), MLP_OK);
        assert_int_equal(mlp_loss_grad(net, Xbig, 50, ybig, NULL), MLP_OK);
        assert_int_equal(mlp_loss_grad(c, Xbig, 50, ybig, NULL), MLP_OK);
        assert_memory_equal(mlp_grads(net), mlp_grads(c), n * sizeof(float));
        mlp_destroy(c);
    }
    mlp_destroy(net);
}

/* Another thread's changing calls while a network trains are refused. */
typedef struct rendezvous {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int phase; /* 1: the callback waits; 2: the other thread is done */
    mlp_network *net;
    mlp_trainer *tr;
    mlp_status l2, optimizer, train, step, reserve;
} rendezvous;

static int waiting_callback(const mlp_progress *pr, void *user)
{
    rendezvous *r = user;
    (void)pr;
    pthread_mutex_lock(&r->mu);
    if (r->phase == 0) {
        r->phase = 1;
        pthread_cond_broadcast(&r->cv);
        while (r->phase != 2) pthread_cond_wait(&r->cv, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return 0;
}

static void *other_thread(void *arg)
{
    rendezvous *r = arg;
    pthread_mutex_lock(&r->mu);
    while (r->phase != 1) pthread_cond_wait(&r->cv, &r->mu);
    r->l2 = mlp_set_l2(r->net, 0.1f);
    r->optimizer = mlp_trainer_set(r->tr, MLP_OPTION_OPTIMIZER, MLP_OPT_SGD);
    r->train = mlp_train(r->tr, X, labels, ROWS, NULL, NULL, 0);
    r->step = mlp_trainer_step(r->tr, X, 4, labels, NULL);
    r->reserve = mlp_reserve(r->net, 999);
    r->phase = 2;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void test_other_thread_refused(void **state)
{
    const size_t sizes[3] = {4, 6, 3};
    rendezvous r;
    pthread_t t;
    (void)state;
    make_data(4, 3);
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.net = make_net(2, sizes, 8);
    assert_int_equal(mlp_set_loss(r.net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_trainer_create(r.net, &r.tr), MLP_OK);
    assert_int_equal(mlp_trainer_set_callback(r.tr, waiting_callback, &r), MLP_OK);
    assert_int_equal(pthread_create(&t, NULL, other_thread, &r), 0);
    assert_int_equal(mlp_train(r.tr, X, labels, ROWS, NULL, NULL, 0), MLP_OK);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(r.l2, MLP_ERR_BUSY);
    assert_int_equal(r.optimizer, MLP_ERR_BUSY);
    assert_int_equal(r.train, MLP_ERR_BUSY);
    assert_int_equal(r.step, MLP_ERR_BUSY);
    assert_int_equal(r.reserve, MLP_ERR_BUSY);
    assert_true(mlp_get_l2(r.net) == 0.0f);
    assert_true(mlp_capacity(r.net) < 999);
    mlp_trainer_destroy(r.tr);
    mlp_destroy(r.net);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workspace_of_another_shape),
        cmocka_unit_test(test_callback_calls),
        cmocka_unit_test(test_one_trainer_per_network),
        cmocka_unit_test(test_destroy_from_callback),
        cmocka_unit_test(test_settings_after_create),
        cmocka_unit_test(test_results_ignore_reserve),
        cmocka_unit_test(test_other_thread_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
