/* Subnormal floats: flushed to zero inside the library's compute calls
 * (forward, loss and gradient, evaluation, training), while the caller's
 * own floating-point mode holds before, after and inside the training
 * callback. */
#include <float.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <mlp.h>

#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>
#define FLUSH_BITS 0x8040u
/* the control bits of MXCSR, without the sticky exception flags */
static unsigned mode(void) { return _mm_getcsr() & ~0x3fu; }
static void set_mode(unsigned m) { _mm_setcsr(m | (_mm_getcsr() & 0x3fu)); }
#define HAVE_MODE 1
#elif defined(__aarch64__)
#define FLUSH_BITS (1u << 24)
static unsigned mode(void)
{
    unsigned long m;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(m));
    return (unsigned)m;
}
static void set_mode(unsigned m) { __asm__ __volatile__("msr fpcr, %0" : : "r"((unsigned long)m)); }
#define HAVE_MODE 1
#endif

#ifdef HAVE_MODE
/* A product with a subnormal result, computed in this thread's mode: not
 * inlined, and stored through a volatile, so that the compiler cannot move
 * the multiplication across a change of the mode. */
__attribute__((noinline)) static float tiny_product(void)
{
    volatile float a = 1e-20f, b = 1e-20f, r;
    r = a * b;
    return r;
}

/* Whether this machine flushes at all: valgrind, for one, emulates
 * neither flush-to-zero nor denormals-are-zero, and the tests skip there. */
static int honors_flush(void)
{
    unsigned saved = mode();
    float t;
    set_mode(saved | FLUSH_BITS);
    t = tiny_product();
    set_mode(saved);
    return t == 0.0f;
}

/* 1-1 identity network y = w x, w = 1e-20, no bias: x = 1e-20 gives a
 * subnormal output without flushing. */
static mlp_network *tiny_net(void)
{
    size_t sizes[] = {1, 1};
    mlp_activation act[] = {MLP_ACT_IDENTITY};
    mlp_network *net = NULL;
    float w = 1e-20f, b = 0.0f;
    assert_int_equal(mlp_create(&net, 1, sizes, act, 1), MLP_OK);
    assert_int_equal(mlp_set_weights(net, 0, &w, 1), MLP_OK);
    assert_int_equal(mlp_set_bias(net, 0, &b, 1), MLP_OK);
    return net;
}

static int saw_caller_mode;

static int check_mode(const mlp_progress *pr, void *user)
{
    (void)pr;
    saw_caller_mode = mode() == *(unsigned *)user && tiny_product() != 0.0f;
    return 0;
}

static void test_forward_flushes(void **state)
{
    if (!honors_flush()) skip();
    mlp_network *net = tiny_net();
    unsigned caller = mode() & ~FLUSH_BITS;
    float x = 1e-20f, y = -1.0f;
    (void)state;
    set_mode(caller);
    assert_true(tiny_product() > 0.0f && tiny_product() < FLT_MIN); /* the caller keeps them */
    assert_int_equal(mlp_forward(net, &x, 1, &y), MLP_OK);
    assert_true(y == 0.0f); /* flushed inside */
    assert_int_equal(mode(), caller);
    assert_true(tiny_product() > 0.0f);
#if defined(__x86_64__) || defined(__SSE2__)
    _mm_setcsr(_mm_getcsr() & ~0x3fu);
    assert_int_equal(mlp_forward(net, &x, 1, &y), MLP_OK);
    assert_true(_mm_getcsr() & 0x10u); /* the underflow inside stays raised */
#endif
    mlp_destroy(net);
}

static void test_training_restores_mode(void **state)
{
    if (!honors_flush()) skip();
    mlp_network *net = tiny_net();
    mlp_trainer *tr = NULL;
    unsigned caller = mode() & ~FLUSH_BITS;
    float X[4] = {1e-20f, 2e-20f, 3e-20f, 4e-20f}, Y[4] = {0};
    double J = 0.0;
    (void)state;
    set_mode(caller);
    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 2), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, 2), MLP_OK);
    assert_int_equal(mlp_trainer_set_callback(tr, check_mode, &caller), MLP_OK);
    saw_caller_mode = 0;
    assert_int_equal(mlp_train(tr, X, Y, 4, NULL, NULL, 0), MLP_OK);
    assert_true(saw_caller_mode); /* the callback ran in the caller's mode */
    assert_int_equal(mode(), caller);
    assert_int_equal(mlp_trainer_step(tr, X, 4, Y, &J), MLP_OK);
    assert_int_equal(mode(), caller);
    assert_int_equal(mlp_loss_grad(net, X, 4, Y, &J), MLP_OK);
    assert_int_equal(mode(), caller);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

static void test_caller_flush_kept(void **state)
{
    if (!honors_flush()) skip();
    mlp_network *net = tiny_net();
    unsigned caller = mode() | FLUSH_BITS;
    float x = 1e-20f, y = -1.0f;
    (void)state;
    set_mode(caller);
    assert_int_equal(mlp_forward(net, &x, 1, &y), MLP_OK);
    assert_true(y == 0.0f);
    assert_int_equal(mode(), caller); /* a caller that flushes still does */
    set_mode(caller & ~FLUSH_BITS);
    mlp_destroy(net);
}
#endif

int main(void)
{
#ifdef HAVE_MODE
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_flushes),
        cmocka_unit_test(test_training_restores_mode),
        cmocka_unit_test(test_caller_flush_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
#else
    return 77; /* no floating-point mode to test on this architecture */
#endif
}
