/* Optimisers, schedules, clipping and trainer options.
 *
 * Each optimiser is checked twice: on a 1-1 network against numbers that
 * torch.optim (PyTorch 1.13, float32) produced for the same gradients, and
 * for three steps of a small network against a plain double-precision
 * reference loop written here from the formulas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "network.h"
#include "mlp.h"
#include "optim.h"

static mlp_network *make_net(size_t n_layers, const size_t *sizes, const mlp_activation *acts,
                             uint64_t seed)
{
    mlp_network *net = NULL;
    assert_int_equal(mlp_create(&net, n_layers, sizes, acts, seed), MLP_OK);
    return net;
}

/* ---- against PyTorch ------------------------------------------------------ */

/* Gradients fed to w and b at steps 1..3, and what torch.optim made of them
 * starting from w = 0.5, b = -0.5:
 *
 *   w = torch.tensor([0.5], requires_grad=True); b = torch.tensor([-0.5], ...)
 *   opt = torch.optim.Adam([w, b], lr=0.1)    # etc., as in each row
 *   for t in range(3): w.grad = gw[t]; b.grad = gb[t]; opt.step()
 *
 * AdamW: torch.optim.AdamW([{'params': [w]}, {'params': [b],
 * 'weight_decay': 0.0}], lr=0.1, weight_decay=0.5): biases do not decay.
 *
 * Checked by hand: SGD w = 0.5 - 0.1 * 1 = 0.4, then 0.4 - 0.2 = 0.2, then
 * 0.2 + 0.3 = 0.5. Momentum 0.9: buffers 1, 2.9, 0.61 give w = 0.4, 0.11,
 * 0.149. Nesterov: steps g + 0.9 b = 1.9, 4.61, -2.451 give 0.31, -0.151,
 * 0.1841. Adam's first step is lr * sign(g): w = 0.4, b = -0.6. */
static const float torch_gw[3] = {1.0f, 2.0f, -3.0f};
static const float torch_gb[3] = {0.5f, -0.25f, 1.5f};

typedef struct torch_case {
    mlp_optimizer kind;
    float lr;
    float want[3][2]; /* w, b after each step */
} torch_case;

static const torch_case torch_cases[] = {
    {MLP_OPT_SGD, 0.1f, {{0.400000006f, -0.550000012f}, {0.200000003f, -0.525000036f},
                         {0.5f, -0.675000012f}}},
    {MLP_OPT_MOMENTUM, 0.1f, {{0.400000006f, -0.550000012f}, {0.109999992f, -0.569999993f},
                              {0.148999974f, -0.737999976f}}},
    {MLP_OPT_NESTEROV, 0.1f, {{0.310000002f, -0.595000029f}, {-0.151000023f, -0.588f},
                              {0.184099972f, -0.889199972f}}},
    {MLP_OPT_ADAM, 0.1f, {{0.400000006f, -0.599999964f}, {0.303481817f, -0.626633644f},
                          {0.310141712f, -0.693683684f}}},
    {MLP_OPT_ADAMW, 0.1f, {{0.375f, -0.599999964f}, {0.259731799f, -0.626633644f},
                           {0.253405094f, -0.693683684f}}},
    {MLP_OPT_RMSPROP, 0.01f, {{0.400000006f, -0.599999964f}, {0.31046772f, -0.555098653f},
                              {0.390818179f, -0.648905456f}}},
};

static void test_against_pytorch(void **state)
{
    const size_t sizes[2] = {1, 1};
    const mlp_activation acts[1] = {MLP_ACT_IDENTITY};
    (void)state;
    for (size_t c = 0; c < sizeof torch_cases / sizeof torch_cases[0]; c++) {
        const torch_case *tc = &torch_cases[c];
        mlp_network *net = make_net(1, sizes, acts, 1);
        float *p = mlp_params(net), *g = mlp_grads(net);
        size_t wo = mlp_weights_offset(net, 0), bo = mlp_bias_offset(net, 0);
        mlp__optim_params op = {tc->kind, tc->lr, 0.9f, 0.9f, 0.999f, 1e-8f, 0.5f, 0.99f, 1.2f, 0.5f, 0.0f, 50.0f, 0.1f};

        assert_int_equal(mlp__optim_prepare(net, tc->kind), MLP_OK);
        p[wo] = 0.5f;
        p[bo] = -0.5f;
        for (int t = 0; t < 3; t++) {
            g[wo] = torch_gw[t];
            g[bo] = torch_gb[t];
            assert_int_equal(mlp__optim_update(net, &op, 1.0f), 1);
            assert_int_equal(net->steps, (uint64_t)t + 1);
            if (fabsf(p[wo] - tc->want[t][0]) > 1e-6f || fabsf(p[bo] - tc->want[t][1]) > 1e-6f)
                fail_msg("%s step %d: got w %.9g b %.9g, PyTorch %.9g %.9g",
                         mlp_optimizer_name(tc->kind), t + 1, p[wo], p[bo],
                         tc->want[t][0], tc->want[t][1]);
        }
        mlp_destroy(net);
    }
}

/* ---- against a plain reference loop -------------------------------------- */

typedef struct ref_opt {
    mlp_optimizer kind;
    double lr, mu, b1, b2, eps, wd, rho;
    double *p, *s1, *s2;
    size_t n;
    long t;
} ref_opt;

/* One update of r->p from g, written from the formulas one element at a
 * time in double. is_w[i] marks weights (AdamW decays them only). */
static void ref_update(ref_opt *r, const float *g, const unsigned char *is_w)
{
    r->t++;
    for (size_t i = 0; i < r->n; i++) {
        double gi = g[i];
        switch (r->kind) {
        case MLP_OPT_SGD:
            r->p[i] -= r->lr * gi;
            break;
        case MLP_OPT_MOMENTUM:
            r->s1[i] = r->mu * r->s1[i] + gi;
            r->p[i] -= r->lr * r->s1[i];
            break;
        case MLP_OPT_NESTEROV:
            r->s1[i] = r->mu * r->s1[i] + gi;
            r->p[i] -= r->lr * (gi + r->mu * r->s1[i]);
            break;
        case MLP_OPT_ADAM:
        case MLP_OPT_ADAMW: {
            double mh, vh;
            if (r->kind == MLP_OPT_ADAMW && is_w[i])
                r->p[i] *= 1.0 - r->lr * r->wd;
            r->s1[i] = r->b1 * r->s1[i] + (1 - r->b1) * gi;
            r->s2[i] = r->b2 * r->s2[i] + (1 - r->b2) * gi * gi;
            mh = r->s1[i] / (1 - pow(r->b1, (double)r->t));
            vh = r->s2[i] / (1 - pow(r->b2, (double)r->t));
            r->p[i] -= r->lr * mh / (sqrt(vh) + r->eps);
            break;
        }
        case MLP_OPT_RMSPROP:
            r->s1[i] = r->rho * r->s1[i] + (1 - r->rho) * gi * gi;
            r->p[i] -= r->lr * gi / (sqrt(r->s1[i]) + r->eps);
            break;
        default:
            fail();
        }
    }
}

static void test_reference_loop(void **state)
{
    const size_t sizes[3] = {3, 4, 2};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    const float X[5 * 3] = {0.1f, -0.4f, 0.9f, 1.2f, 0.3f, -0.7f, -0.5f, 0.8f, 0.2f,
                            0.0f, -1.1f, 0.6f, 0.7f, 0.7f, -0.3f};
    const int32_t y[5] = {0, 1, 1, 0, 1};
    (void)state;

    /* PyTorch's optimisers; iRPROP- and L-BFGS have tests of their own
     * (test_solvers.c). */
    for (int kind = 0; kind < MLP_OPT_LBFGS; kind++) {
        mlp_network *net = make_net(2, sizes, acts, 7);
        mlp_trainer *tr = NULL;
        size_t n = mlp_num_params(net);
        double p[64], s1[64], s2[64];
        unsigned char is_w[64];
        ref_opt r = {(mlp_optimizer)kind, 0.05, 0.8, 0.85, 0.95, 1e-6, 0.1, 0.9,
                     p, s1, s2, n, 0};

        assert_true(n <= 64);
        assert_int_equal(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), MLP_OK);
        assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, kind), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, r.lr), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_MOMENTUM, r.mu), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BETA1, r.b1), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BETA2, r.b2), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPSILON, r.eps), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_WEIGHT_DECAY, r.wd), MLP_OK);
        assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_RHO, r.rho), MLP_OK);

        memset(is_w, 0, sizeof is_w);
        for (size_t l = 0; l < 2; l++)
            memset(is_w + mlp_weights_offset(net, l), 1, sizes[l] * sizes[l + 1]);
        for (size_t i = 0; i < n; i++) {
            p[i] = mlp_params(net)[i];
            s1[i] = s2[i] = 0.0;
        }
        for (int t = 0; t < 3; t++) {
            double J = 0.0, J0 = 0.0, gnorm = 0.0;
            float g[64];
            /* The gradient at the step's parameters, taken before the step:
             * after it mlp_grads() is scratch (plain SGD fuses its update). */
            assert_int_equal(mlp_loss_grad(net, X, 5, y, &J0), MLP_OK);
            memcpy(g, mlp_grads(net), n * sizeof *g);
            assert_int_equal(mlp_trainer_step(tr, X, 5, y, &J), MLP_OK);
            assert_true(isfinite(J));
            assert_true(fabs(J - J0) <= 1e-6 * fabs(J0));
            for (size_t i = 0; i < n; i++)
                gnorm += (double)g[i] * g[i];
            assert_true(gnorm > 1e-8); /* the check must move something */
            ref_update(&r, g, is_w);
            for (size_t i = 0; i < n; i++) {
                double got = mlp_params(net)[i];
                if (fabs(got - p[i]) > 1e-6 + 1e-5 * fabs(p[i]))
                    fail_msg("optimizer %d step %d param %zu: %.9g, reference %.9g", kind, t + 1,
                             i, got, p[i]);
            }
        }
        mlp_trainer_destroy(tr);
        mlp_destroy(net);
    }
}

/* The state stays with the network: same kind keeps it, another replaces it. */
static void test_state_in_network(void **state)
{
    const size_t sizes[3] = {2, 3, 1};
    const mlp_activation acts[2] = {MLP_ACT_RELU, MLP_ACT_IDENTITY};
    const float X[2] = {0.5f, -1.0f}, y[1] = {2.0f};
    mlp_network *net = make_net(2, sizes, acts, 3);
    mlp_trainer *tr = NULL, *tr2 = NULL;
    double v;
    (void)state;

    assert_int_equal(net->opt_kind, -1);
    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    assert_int_equal(net->opt_kind, MLP_OPT_ADAM);
    assert_int_equal(net->opt_state_len, 2 * mlp_num_params(net));
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_MOMENTUM), MLP_OK);
    assert_int_equal(net->opt_kind, MLP_OPT_MOMENTUM);
    assert_int_equal(net->opt_state_len, mlp_num_params(net));
    assert_int_equal(mlp_trainer_step(tr, X, 1, y, NULL), MLP_OK);
    assert_int_equal(mlp_trainer_step(tr, X, 1, y, NULL), MLP_OK);
    assert_int_equal(net->steps, 2);

    /* One trainer per network: a second is refused while the first lives;
     * the next one adopts the state instead of resetting it. */
    assert_int_equal(mlp_trainer_create(net, &tr2), MLP_ERR_BUSY);
    assert_null(tr2);
    mlp_trainer_destroy(tr);
    tr = NULL;
    assert_int_equal(mlp_trainer_create(net, &tr2), MLP_OK);
    assert_int_equal(mlp_trainer_get(tr2, MLP_OPTION_OPTIMIZER, &v), MLP_OK);
    assert_true(v == MLP_OPT_MOMENTUM);
    assert_int_equal(net->steps, 2);
    assert_int_equal(mlp_trainer_set(tr2, MLP_OPTION_OPTIMIZER, MLP_OPT_MOMENTUM), MLP_OK);
    assert_int_equal(net->steps, 2);
    assert_int_equal(mlp_trainer_set(tr2, MLP_OPTION_OPTIMIZER, MLP_OPT_SGD), MLP_OK);
    assert_int_equal(net->opt_state_len, 0);
    assert_int_equal(net->steps, 0);
    mlp_trainer_destroy(tr2);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* ---- schedules --------------------------------------------------------- */

static void test_schedules(void **state)
{
    mlp__schedule_params s = {MLP_SCHED_CONSTANT, 0.1, 0.5, 3, 4, 0.01};
    (void)state;

    assert_true(mlp__schedule_lr(&s, 0, 0, 100) == 0.1);
    assert_true(mlp__schedule_lr(&s, 50, 99, 100) == 0.1);

    /* step: 0.1 * 0.5^floor(epoch / 3) */
    s.kind = MLP_SCHED_STEP;
    assert_true(fabs(mlp__schedule_lr(&s, 0, 0, 0) - 0.1) < 1e-15);
    assert_true(fabs(mlp__schedule_lr(&s, 2, 0, 0) - 0.1) < 1e-15);
    assert_true(fabs(mlp__schedule_lr(&s, 3, 0, 0) - 0.05) < 1e-15);
    assert_true(fabs(mlp__schedule_lr(&s, 7, 0, 0) - 0.025) < 1e-15);
    assert_true(fabs(mlp__schedule_lr(&s, 9, 0, 0) - 0.0125) < 1e-15);

    /* cosine, lr 1, min 0.1, 4 warm-up steps out of 14:
     * warm-up (t+1)/4: 0.25, 0.5, 0.75, 1; then 0.1 + 0.45 (1 + cos(pi u)),
     * u = (t - 4) / 10: t = 4 -> 1, t = 9 -> 0.55, t = 14 -> 0.1. */
    s.kind = MLP_SCHED_COSINE;
    s.lr = 1.0;
    s.min_lr = 0.1;
    assert_true(fabs(mlp__schedule_lr(&s, 0, 0, 14) - 0.25) < 1e-12);
    assert_true(fabs(mlp__schedule_lr(&s, 0, 1, 14) - 0.5) < 1e-12);
    assert_true(fabs(mlp__schedule_lr(&s, 0, 3, 14) - 1.0) < 1e-12);
    assert_true(fabs(mlp__schedule_lr(&s, 0, 4, 14) - 1.0) < 1e-12);
    assert_true(fabs(mlp__schedule_lr(&s, 0, 9, 14) - 0.55) < 1e-12);
    /* 12 planned steps, t = 6: u = 2 / 8 = 0.25, 0.1 + 0.45 (1 + sqrt(2)/2) */
    assert_true(fabs(mlp__schedule_lr(&s, 0, 6, 12) - (0.1 + 0.45 * (1 + sqrt(0.5)))) < 1e-12);
    assert_true(fabs(mlp__schedule_lr(&s, 0, 14, 14) - 0.1) < 1e-12);
    assert_true(fabs(mlp__schedule_lr(&s, 0, 20, 14) - 0.1) < 1e-12);
    /* no plan: lr after the warm-up */
    assert_true(fabs(mlp__schedule_lr(&s, 0, 100, 0) - 1.0) < 1e-12);
    /* no warm-up: starts at lr */
    s.warmup_steps = 0;
    assert_true(fabs(mlp__schedule_lr(&s, 0, 0, 10) - 1.0) < 1e-12);
    assert_true(fabs(mlp__schedule_lr(&s, 0, 5, 10) - 0.55) < 1e-12);
}

/* The trainer follows the schedule: learning_rate in the history. */
static void test_schedule_in_training(void **state)
{
    const size_t sizes[2] = {2, 1};
    const mlp_activation acts[1] = {MLP_ACT_IDENTITY};
    const float X[8] = {0, 1, 1, 0, 1, 1, 0, 0}, y[4] = {1, 1, 2, 0};
    mlp_network *net = make_net(1, sizes, acts, 5);
    mlp_trainer *tr = NULL;
    mlp_progress pr;
    (void)state;

    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_SGD), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, 0.2), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_SCHEDULE, MLP_SCHED_STEP), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_STEP_EPOCHS, 2), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_GAMMA, 0.5), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 5), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, 2), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, 4, NULL, NULL, 0), MLP_OK);
    for (size_t e = 1; e <= 5; e++) {
        double want = 0.2 * pow(0.5, (double)((e - 1) / 2));
        assert_int_equal(mlp_trainer_history(tr, e, &pr), MLP_OK);
        assert_true(fabs(pr.learning_rate - want) < 1e-12);
        assert_int_equal(pr.step, 2 * e);
    }

    /* Cosine over 4 epochs x 2 batches, no warm-up: the last step (7 of 8)
     * uses min + (lr - min) (1 + cos(7 pi / 8)) / 2. */
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_SCHEDULE, MLP_SCHED_COSINE), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_MIN_LR, 0.02), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 4), MLP_OK);
    assert_int_equal(mlp_train(tr, X, y, 4, NULL, NULL, 0), MLP_OK);
    assert_int_equal(mlp_trainer_history(tr, 4, &pr), MLP_OK);
    assert_true(fabs(pr.learning_rate - (0.02 + 0.18 * 0.5 * (1 + cos(7 * 3.14159265358979323846 / 8)))) <
                1e-12);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* ---- clipping ------------------------------------------------------------ */

static void test_clipping(void **state)
{
    const float g[5] = {3.0f, 0.0f, -4.0f, 0.0f, 0.0f};
    const size_t sizes[3] = {3, 5, 2};
    const mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_IDENTITY};
    const float X[6] = {1, 2, 3, -1, 0.5f, 2}, y[4] = {10, -10, 5, 7};
    mlp_network *net = make_net(2, sizes, acts, 11);
    mlp_trainer *tr = NULL;
    size_t n = mlp_num_params(net);
    float before[64];
    double norm = 0.0, moved = 0.0;
    (void)state;

    assert_true(fabs(mlp__global_norm(g, 5) - 5.0) < 1e-12);
    assert_true(mlp__global_norm(g, 0) == 0.0);
    assert_true(mlp__clip_factor(5.0, 0.0) == 1.0f);  /* off */
    assert_true(mlp__clip_factor(5.0, 10.0) == 1.0f); /* under the limit */
    assert_true(fabsf(mlp__clip_factor(5.0, 1.0) - (float)(1.0 / (5.0 + 1e-6))) < 1e-9f);

    /* One SGD step with lr 1 and clip 0.01 moves the parameters by
     * -0.01 * g / |g| exactly as PyTorch's clip_grad_norm_ would. */
    assert_true(n <= 64);
    memcpy(before, mlp_params(net), n * sizeof(float));
    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_SGD), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, 1.0), MLP_OK);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_CLIP_NORM, 0.01), MLP_OK);
    assert_int_equal(mlp_trainer_step(tr, X, 2, y, NULL), MLP_OK);
    for (size_t i = 0; i < n; i++) {
        double d = (double)mlp_params(net)[i] - before[i];
        norm += (double)mlp_grads(net)[i] * mlp_grads(net)[i];
        moved += d * d;
    }
    norm = sqrt(norm);
    assert_true(norm > 0.1); /* the clip must bite */
    assert_true(fabs(sqrt(moved) - 0.01) < 1e-6);
    for (size_t i = 0; i < n; i++) {
        float want = before[i] - (float)(0.01 / (norm + 1e-6)) * mlp_grads(net)[i];
        assert_true(fabsf(mlp_params(net)[i] - want) < 1e-6f);
    }
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

/* ---- options ------------------------------------------------------------ */

static void test_options(void **state)
{
    const size_t sizes[2] = {2, 2};
    const mlp_activation acts[1] = {MLP_ACT_IDENTITY};
    mlp_network *net = make_net(1, sizes, acts, 1);
    mlp_trainer *tr = NULL;
    double v;
    static const struct { mlp_option o; double v; } defaults[] = {
        {MLP_OPTION_OPTIMIZER, MLP_OPT_ADAM}, {MLP_OPTION_LEARNING_RATE, 1e-3},
        {MLP_OPTION_MOMENTUM, 0.9}, {MLP_OPTION_BETA1, 0.9}, {MLP_OPTION_BETA2, 0.999},
        {MLP_OPTION_EPSILON, 1e-8}, {MLP_OPTION_WEIGHT_DECAY, 0.01}, {MLP_OPTION_RHO, 0.99},
        {MLP_OPTION_SCHEDULE, MLP_SCHED_CONSTANT}, {MLP_OPTION_WARMUP_STEPS, 0},
        {MLP_OPTION_STEP_EPOCHS, 10}, {MLP_OPTION_GAMMA, 0.1}, {MLP_OPTION_MIN_LR, 0},
        {MLP_OPTION_CLIP_NORM, 0}, {MLP_OPTION_BATCH_SIZE, 128}, {MLP_OPTION_EPOCHS, 10},
        {MLP_OPTION_VALIDATION_FRACTION, 0}, {MLP_OPTION_PATIENCE, 0},
        {MLP_OPTION_MIN_DELTA, 0}, {MLP_OPTION_SHUFFLE, 1}, {MLP_OPTION_CALLBACK_EVERY_BATCH, 0},
    };
    static const struct { mlp_option o; double v; } bad[] = {
        {MLP_OPTION_LEARNING_RATE, -0.1}, {MLP_OPTION_LEARNING_RATE, 0},
        {MLP_OPTION_LEARNING_RATE, HUGE_VAL}, {MLP_OPTION_LEARNING_RATE, NAN},
        {MLP_OPTION_BATCH_SIZE, 0}, {MLP_OPTION_BATCH_SIZE, 1.5}, {MLP_OPTION_BATCH_SIZE, -4},
        {MLP_OPTION_VALIDATION_FRACTION, 1.0}, {MLP_OPTION_VALIDATION_FRACTION, -0.1},
        {MLP_OPTION_OPTIMIZER, MLP_OPT_COUNT_}, {MLP_OPTION_OPTIMIZER, -1},
        {MLP_OPTION_OPTIMIZER, 1.5}, {MLP_OPTION_SCHEDULE, MLP_SCHED_COUNT_},
        {MLP_OPTION_MOMENTUM, 1.0}, {MLP_OPTION_BETA1, -0.1}, {MLP_OPTION_BETA2, 1.0},
        {MLP_OPTION_EPSILON, 0}, {MLP_OPTION_WEIGHT_DECAY, -1}, {MLP_OPTION_RHO, 1.0},
        {MLP_OPTION_STEP_EPOCHS, 0}, {MLP_OPTION_GAMMA, 0}, {MLP_OPTION_GAMMA, 1.5},
        {MLP_OPTION_MIN_LR, -1}, {MLP_OPTION_CLIP_NORM, -1}, {MLP_OPTION_EPOCHS, 0},
        {MLP_OPTION_PATIENCE, -1}, {MLP_OPTION_MIN_DELTA, -0.5}, {MLP_OPTION_SHUFFLE, 2},
        {MLP_OPTION_CALLBACK_EVERY_BATCH, 0.5}, {MLP_OPTION_WARMUP_STEPS, 2.5},
    };
    (void)state;

    assert_int_equal(mlp_trainer_create(net, &tr), MLP_OK);
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        assert_int_equal(mlp_trainer_get(tr, defaults[i].o, &v), MLP_OK);
        assert_true(v == defaults[i].v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mlp_trainer_get(tr, bad[i].o, &v), MLP_OK);
        if (mlp_trainer_set(tr, bad[i].o, bad[i].v) != MLP_ERR_OPTION)
            fail_msg("option %d accepted %g", (int)bad[i].o, bad[i].v);
        assert_true(strlen(mlp_last_error()) > 0);
        {
            double after;
            assert_int_equal(mlp_trainer_get(tr, bad[i].o, &after), MLP_OK);
            assert_true(after == v); /* unchanged */
        }
    }
    assert_int_equal(mlp_trainer_set(tr, (mlp_option)MLP_OPTION_COUNT_, 1), MLP_ERR_OPTION);
    assert_int_equal(mlp_trainer_get(tr, (mlp_option)99, &v), MLP_ERR_OPTION);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, 32), MLP_OK);
    assert_int_equal(mlp_trainer_get(tr, MLP_OPTION_BATCH_SIZE, &v), MLP_OK);
    assert_true(v == 32);
    assert_int_equal(mlp_trainer_set(tr, MLP_OPTION_VALIDATION_FRACTION, 0.25), MLP_OK);
    assert_int_equal(mlp_trainer_set(NULL, MLP_OPTION_EPOCHS, 3), MLP_ERR_NULL);
    assert_int_equal(mlp_trainer_get(tr, MLP_OPTION_EPOCHS, NULL), MLP_ERR_NULL);
    assert_int_equal(mlp_trainer_create(NULL, &tr), MLP_ERR_NULL);
    assert_int_equal(mlp_trainer_create(net, NULL), MLP_ERR_NULL);
    mlp_trainer_destroy(NULL);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_pytorch),
        cmocka_unit_test(test_reference_loop),
        cmocka_unit_test(test_state_in_network),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_schedule_in_training),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
