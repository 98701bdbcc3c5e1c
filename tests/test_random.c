/* Random streams by purpose (docs/RANDOM.md): dropout masks are a pure
 * function of (seed, step, layer, row, column), so any partition of the
 * rows, across threads or processes, draws the same masks, and a step
 * leaves the shuffle generator untouched. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dropout.h"
#include "network.h"

enum { ROWS = 64, COLS = 300 };

static float g_in[ROWS * COLS];

static void fill_input(void)
{
    for (size_t i = 0; i < ROWS * COLS; i++) g_in[i] = 1.0f + (float)(i % 17);
}

static mlp__drop_key key(uint64_t seed, uint64_t step, size_t row0)
{
    mlp__drop_key k;
    k.seed = seed;
    k.step = step;
    k.row0 = row0;
    return k;
}

static void masks(const mlp__drop_key *k, size_t layer, float p, size_t r0, size_t r1, float *mask,
                  float *out)
{
    mlp__dropout_rows(k, layer, p, g_in, COLS, r0, r1, mask, out);
}

/* Rows split in any way, or offset by row0, give the masks of the whole. */
static void partition_invariant(void **state)
{
    static float whole[ROWS * COLS], parts[ROWS * COLS], out[ROWS * COLS], shifted[ROWS * COLS];
    mlp__drop_key k = key(7, 12, 0), k5 = key(7, 12, 5);
    (void)state;
    fill_input();
    masks(&k, 1, 0.3f, 0, ROWS, whole, out);
    masks(&k, 1, 0.3f, 0, 13, parts, out);
    masks(&k, 1, 0.3f, 13, 40, parts, out);
    masks(&k, 1, 0.3f, 40, ROWS, parts, out);
    assert_memory_equal(whole, parts, sizeof whole);
    /* a process whose rows start at global row 5 */
    masks(&k5, 1, 0.3f, 0, ROWS - 5, shifted, out);
    assert_memory_equal(whole + 5 * COLS, shifted, (ROWS - 5) * COLS * sizeof(float));
}

/* Another step, layer or seed draws other masks; the keep rate is 1 - p. */
static void keyed_and_fair(void **state)
{
    static float a[ROWS * COLS], b[ROWS * COLS], out[ROWS * COLS];
    mlp__drop_key k = key(7, 12, 0), next = key(7, 13, 0), other = key(8, 12, 0);
    size_t kept = 0, same = 0, i;
    const float p = 0.25f;
    (void)state;
    fill_input();
    masks(&k, 0, p, 0, ROWS, a, out);
    for (i = 0; i < ROWS * COLS; i++) {
        assert_true(a[i] == 0.0f || a[i] == 1.0f / (1.0f - p));
        assert_true(out[i] == g_in[i] * a[i]);
        kept += a[i] != 0.0f;
    }
    /* 19200 draws: 5 standard deviations is 0.016 */
    assert_true(fabs((double)kept / (ROWS * COLS) - (1.0 - p)) < 0.016);
    masks(&next, 0, p, 0, ROWS, b, out);
    for (i = 0; i < ROWS * COLS; i++) same += (a[i] != 0.0f) == (b[i] != 0.0f);
    assert_true(same < ROWS * COLS * 7 / 10); /* independent: 0.625 agree */
    masks(&k, 1, p, 0, ROWS, b, out);
    assert_memory_not_equal(a, b, sizeof a);
    masks(&other, 0, p, 0, ROWS, b, out);
    assert_memory_not_equal(a, b, sizeof a);
}

/* A training step with dropout draws nothing from the network's RNG,
 * and two clones (same seed and step count) take identical steps. */
static void step_leaves_rng(void **state)
{
    static const size_t sizes[] = {6, 8, 3};
    static const mlp_activation acts[] = {MLP_ACT_RELU, MLP_ACT_IDENTITY};
    mlp_network *a = NULL, *b = NULL;
    mlp_trainer *ta = NULL, *tb = NULL;
    mlp__rng before;
    float X[10 * 6];
    int32_t y[10];
    (void)state;
    for (size_t i = 0; i < 60; i++) X[i] = (float)((i * 7) % 11) - 5.0f;
    for (size_t i = 0; i < 10; i++) y[i] = (int32_t)(i % 3);
    assert_int_equal(mlp_create(&a, 2, sizes, acts, 3), MLP_OK);
    assert_int_equal(mlp_set_loss(a, MLP_LOSS_SOFTMAX_CE), MLP_OK);
    assert_int_equal(mlp_set_dropout(a, 0, 0.4f), MLP_OK);
    assert_int_equal(mlp_set_dropout(a, 1, 0.4f), MLP_OK);
    assert_int_equal(mlp_clone(a, &b), MLP_OK);
    assert_int_equal(mlp_trainer_create(a, &ta), MLP_OK);
    assert_int_equal(mlp_trainer_create(b, &tb), MLP_OK);
    assert_int_equal(mlp_trainer_set(ta, MLP_OPTION_OPTIMIZER, MLP_OPT_ADAM), MLP_OK);
    assert_int_equal(mlp_trainer_set(tb, MLP_OPTION_OPTIMIZER, MLP_OPT_ADAM), MLP_OK);
    before = a->rng;
    for (int s = 0; s < 3; s++) {
        assert_int_equal(mlp_trainer_step(ta, X, 10, y, NULL), MLP_OK);
        assert_int_equal(mlp_trainer_step(tb, X, 10, y, NULL), MLP_OK);
    }
    assert_memory_equal(&before, &a->rng, sizeof before);
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
    mlp_trainer_destroy(ta);
    mlp_trainer_destroy(tb);
    mlp_destroy(a);
    mlp_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(partition_invariant),
        cmocka_unit_test(keyed_and_fair),
        cmocka_unit_test(step_leaves_rng),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
