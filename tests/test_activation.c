/* The forward pass keeps Z + b only where something reads it: for the
 * activations whose derivative mlp__act_backward takes from A alone
 * (mlp__act_backward_reads_z false), the error term must not depend on Z,
 * and for ReLU and leaky ReLU it must equal, bit for bit, the rule written
 * on z (z > 0 ? d : 0 or 0.01 d), over special values (+-0, NaN, +-inf,
 * subnormals, FLT_MAX) and a sweep of float bit patterns. The pass without
 * the store leaves Z as it was and gives the same A. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "activation.h"

#define SPECIALS 18
#define SWEEP 4096
#define COUNT (SPECIALS + SWEEP)

static float g_z[COUNT];

static void fill_z(void)
{
    const float special[SPECIALS] = {0.0f, -0.0f, NAN, -NAN, INFINITY, -INFINITY,
                                     FLT_MIN, -FLT_MIN, 1e-40f, -1e-40f, 1.40129846e-45f,
                                     -1.40129846e-45f, 1.0f, -1.0f, FLT_MAX, -FLT_MAX, 1e-30f,
                                     -1e-30f};
    memcpy(g_z, special, sizeof special);
    for (uint32_t k = 0; k < SWEEP; k++) { /* every 2^20th bit pattern */
        uint32_t bits = k << 20 | 0x5a5u;
        memcpy(&g_z[SPECIALS + k], &bits, sizeof bits);
    }
}

/* A = f(z) through the pass without the store (b = 0: A = f(z) exactly,
 * since z + 0 is z for every z but -0, whose sign f ignores below). */
static void forward_a(mlp_activation act, float *Z, float *A)
{
    static const float zero_b[COUNT] = {0};
    memcpy(Z, g_z, sizeof g_z);
    mlp__bias_act(act, zero_b, Z, A, 1, COUNT, 0);
}

static void relu_rules_from_a(void **state)
{
    static float Z[COUNT], A[COUNT], D[COUNT], want[COUNT];
    const mlp_activation acts[2] = {MLP_ACT_RELU, MLP_ACT_LEAKY_RELU};
    (void)state;
    fill_z();
    for (int k = 0; k < 2; k++) {
        assert_false(mlp__act_backward_reads_z(acts[k]));
        forward_a(acts[k], Z, A);
        for (size_t i = 0; i < COUNT; i++) {
            float d = 3.5f - (float)(i % 7);
            D[i] = d;
            want[i] = g_z[i] > 0.0f ? d : k == 0 ? 0.0f : 0.01f * d;
            Z[i] = NAN; /* the rule must not read Z */
        }
        mlp__act_backward(acts[k], Z, A, D, COUNT);
        assert_memory_equal(D, want, sizeof D);
    }
}

/* Every activation whose derivative does not read Z gives the same error
 * terms with Z overwritten by garbage. */
static void backward_ignores_z_where_declared(void **state)
{
    static float Z[COUNT], A[COUNT], D1[COUNT], D2[COUNT], Zjunk[COUNT];
    (void)state;
    fill_z();
    for (int act = 0; act < MLP_ACT_COUNT_; act++) {
        if (mlp__act_backward_reads_z((mlp_activation)act)) continue;
        forward_a((mlp_activation)act, Z, A);
        for (size_t i = 0; i < COUNT; i++) {
            D1[i] = D2[i] = 0.25f * (float)(i % 9) - 1.0f;
            Zjunk[i] = (i & 1) ? NAN : -1e30f;
        }
        mlp__act_backward((mlp_activation)act, g_z, A, D1, COUNT);
        mlp__act_backward((mlp_activation)act, Zjunk, A, D2, COUNT);
        assert_memory_equal(D1, D2, sizeof D1);
    }
}

/* keep_z = 0 leaves Z as it was; keep_z = 1 stores Z + b; A is the same. */
static void keep_z_changes_only_z(void **state)
{
    enum { R = 3, N = 37 };
    float b[N], Z0[R * N], Z1[R * N], A0[R * N], A1[R * N], want[R * N];
    (void)state;
    for (int j = 0; j < N; j++) b[j] = 0.125f * (float)(j - 18);
    for (int i = 0; i < R * N; i++) Z0[i] = Z1[i] = 0.3f * (float)(i % 11) - 1.5f;
    for (int i = 0; i < R * N; i++) want[i] = Z1[i] + b[i % N];
    mlp__bias_act(MLP_ACT_RELU, b, Z0, A0, R, N, 0);
    mlp__bias_act(MLP_ACT_RELU, b, Z1, A1, R, N, 1);
    assert_memory_equal(A0, A1, sizeof A0);
    assert_memory_equal(Z1, want, sizeof Z1);
    for (int i = 0; i < R * N; i++) assert_true(Z0[i] == 0.3f * (float)(i % 11) - 1.5f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relu_rules_from_a),
        cmocka_unit_test(backward_ignores_z_where_declared),
        cmocka_unit_test(keep_z_changes_only_z),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
