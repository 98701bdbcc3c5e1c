/* Optimisers over the flat parameter, gradient and state arrays.
 *
 * The formulas are PyTorch's (torch.optim, 1.13, defaults: no dampening,
 * no amsgrad), so that the numbers follow PyTorch's. g below is the
 * gradient times the clipping factor. Each update is one fused pass that
 * also checks that the new parameters are finite.
 *
 *   SGD       p -= lr g
 *   momentum  b = mu b + g;               p -= lr b
 *   Nesterov  b = mu b + g;               p -= lr (g + mu b)
 *   Adam      m = b1 m + (1 - b1) g;      v = b2 v + (1 - b2) g^2
 *             p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   AdamW     p *= 1 - lr wd (weights only), then the Adam update
 *   RMSprop   v = rho v + (1 - rho) g^2;  p -= lr g / (sqrt(v) + eps)
 *   iRPROP-   (FANN's fann_update_weights_irpropm, gradient g = dJ/dp)
 *             s = max(step, 1e-4)           (FANN: a step never sticks at 0)
 *             g g_prev >= 0: step = min(s inc, max)
 *             g g_prev <  0: step = max(s dec, min), g = 0 (forgotten)
 *             p -= sign(g) step;  g_prev = g
 *             the steps start at rp_init (state still zero at step 0).
 *             FANN also moves a parameter whose g is 0 by +step and clamps
 *             weights to +-1500; neither is done here.
 *
 * t is net->steps after the increment (1 at the first step). AdamW's
 * decoupled decay applies to the weights W only, never to the biases: the
 * same choice as the l2 penalty in J (PyTorch's AdamW decays every tensor it
 * is given; pass it only the weights to match).
 *
 * State layout (net->opt_state): momentum, Nesterov: b (n); Adam, AdamW:
 * m (n) then v (n); RMSprop: v (n); SGD: none. Each array is indexed like
 * net->params. iRPROP-: the steps (n) then the previous gradients (n).
 * L-BFGS keeps no state in the network (lbfgs.c: its pairs live in the
 * trainer for one mlp_train call).
 */
#include "network.h"
#include "optim.h"
#include "pool.h"
#include "vec.h"

#include <math.h>
#include <string.h>

size_t mlp__optim_state_len(mlp_optimizer kind, size_t n_params, int *ok)
{
    size_t len = 0;
    *ok = 1;
    switch (kind) {
    case MLP_OPT_MOMENTUM:
    case MLP_OPT_NESTEROV:
    case MLP_OPT_RMSPROP:
        len = n_params;
        break;
    case MLP_OPT_ADAM:
    case MLP_OPT_ADAMW:
    case MLP_OPT_IRPROP:
        if (!mlp__mul_ok(n_params, 2, &len)) {
            *ok = 0;
            return 0;
        }
        break;
    default:
        len = 0;
        break;
    }
    return len;
}

mlp_status mlp__optim_prepare(mlp_network *net, mlp_optimizer kind)
{
    int ok;
    size_t len;
    float *state = NULL;

    MLP__CHECK_NULL(net);
    if ((int)kind < 0 || kind >= MLP_OPT_COUNT_)
        return mlp__fail(MLP_ERR_OPTION, "unknown optimizer %d", (int)kind);
    len = mlp__optim_state_len(kind, net->n_params, &ok);
    if (!ok)
        return mlp__fail(MLP_ERR_SIZE, "optimizer state for %zu parameters overflows",
                         net->n_params);
    if (net->opt_kind == (int)kind && net->opt_state_len == len && (len == 0 || net->opt_state))
        return MLP_OK; /* resume with the state the network carries */
    if (len > 0) {
        state = mlp__calloc(len, sizeof(float));
        if (!state)
            return mlp__fail(MLP_ERR_NOMEM, "optimizer state: %zu floats", len);
    }
    mlp__free(net->opt_state);
    net->opt_state = state;
    net->opt_state_len = len;
    net->opt_kind = (int)kind;
    net->steps = 0;
    return MLP_OK;
}

/* Every kernel returns 1 when all new parameters are finite. x - x is 0
 * exactly for finite x and NaN otherwise, and the integer AND reduction
 * vectorises without reassociating any float sum. */

static int sgd_range(float *restrict p, const float *restrict g, size_t n, float gs, float lr)
{
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        float x = p[i] - lr * (gs * g[i]);
        p[i] = x;
        ok &= (x - x == 0.0f);
    }
    return ok;
}

static int momentum_range(float *restrict p, const float *restrict g, float *restrict b, size_t n,
                          float gs, float lr, float mu, int nesterov)
{
    int ok = 1;
    if (nesterov) {
        for (size_t i = 0; i < n; i++) {
            float gi = gs * g[i];
            float bi = mu * b[i] + gi;
            float x = p[i] - lr * (gi + mu * bi);
            b[i] = bi;
            p[i] = x;
            ok &= (x - x == 0.0f);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            float bi = mu * b[i] + gs * g[i];
            float x = p[i] - lr * bi;
            b[i] = bi;
            p[i] = x;
            ok &= (x - x == 0.0f);
        }
    }
    return ok;
}

/* decay: the AdamW factor 1 - lr wd on this range (1 for Adam, biases). */
MLP__VEC_CLONES static int adam_range(float *restrict p, const float *restrict g, float *restrict m,
                      float *restrict v, size_t n, float gs, float b1, float b2, float step_size,
                      float bc2_sqrt, float eps, float decay)
{
    const float c1 = 1.0f - b1, c2 = 1.0f - b2;
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        float gi = gs * g[i];
        float mi = b1 * m[i] + c1 * gi;
        float vi = b2 * v[i] + c2 * gi * gi;
        float x = p[i] * decay - step_size * (mi / (sqrtf(vi) / bc2_sqrt + eps));
        m[i] = mi;
        v[i] = vi;
        p[i] = x;
        ok &= (x - x == 0.0f);
    }
    return ok;
}

MLP__VEC_CLONES static int rmsprop_range(float *restrict p, const float *restrict g, float *restrict v, size_t n,
                         float gs, float lr, float rho, float eps)
{
    const float c = 1.0f - rho;
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        float gi = gs * g[i];
        float vi = rho * v[i] + c * gi * gi;
        float x = p[i] - lr * (gi / (sqrtf(vi) + eps));
        v[i] = vi;
        p[i] = x;
        ok &= (x - x == 0.0f);
    }
    return ok;
}

static int irprop_range(float *restrict p, const float *restrict g, float *restrict step,
                        float *restrict gprev, size_t n, float gs, const mlp__optim_params *o)
{
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        float gi = gs * g[i];
        float s = step[i] > 1e-4f ? step[i] : 1e-4f;
        float x = p[i];
        if (gi * gprev[i] >= 0.0f) {
            s = s * o->rp_inc;
            s = s < o->rp_max ? s : o->rp_max;
        } else {
            s = s * o->rp_dec;
            s = s > o->rp_min ? s : o->rp_min;
            gi = 0.0f;
        }
        if (gi > 0.0f)
            x -= s;
        else if (gi < 0.0f)
            x += s;
        step[i] = s;
        gprev[i] = gi;
        p[i] = x;
        ok &= (x - x == 0.0f);
    }
    return ok;
}

/* One contiguous range [off, off + n) of the flat arrays. */
static int update_range(mlp_network *net, const mlp__optim_params *p, size_t off, size_t n,
                        int is_weight, float gs, float step_size, float bc2_sqrt)
{
    float *w = net->params + off;
    const float *g = net->grads + off;
    float *s = net->opt_state;
    size_t np = net->n_params;

    switch (p->kind) {
    case MLP_OPT_SGD:
        return sgd_range(w, g, n, gs, p->lr);
    case MLP_OPT_MOMENTUM:
        return momentum_range(w, g, s + off, n, gs, p->lr, p->momentum, 0);
    case MLP_OPT_NESTEROV:
        return momentum_range(w, g, s + off, n, gs, p->lr, p->momentum, 1);
    case MLP_OPT_ADAM:
    case MLP_OPT_ADAMW: {
        float decay = 1.0f;
        if (p->kind == MLP_OPT_ADAMW && is_weight)
            decay = (float)(1.0 - (double)p->lr * (double)p->weight_decay);
        return adam_range(w, g, s + off, s + np + off, n, gs, p->beta1, p->beta2, step_size,
                          bc2_sqrt, p->eps, decay);
    }
    case MLP_OPT_RMSPROP:
        return rmsprop_range(w, g, s + off, n, gs, p->lr, p->rho, p->eps);
    case MLP_OPT_IRPROP:
        return irprop_range(w, g, s + off, s + np + off, n, gs, p);
    default:
        return 0;
    }
}

typedef struct update_job {
    mlp_network *net;
    const mlp__optim_params *p;
    float gscale, step_size, bc2_sqrt;
    int ok; /* atomic: the AND over the parts */
} update_job;

/* The flat parameters [b, e), cut where weights meet biases (AdamW decays
 * only the weights). Element-wise: any partition gives the same bits. */
static void update_part(void *ctx, size_t b, size_t e)
{
    update_job *j = ctx;
    const mlp_network *net = j->net;
    int ok = 1;
    for (size_t l = 0; l < net->n_layers; l++) {
        const mlp__layer *ly = &net->layers[l];
        const size_t off[2] = {ly->w_off, ly->b_off}, len[2] = {ly->n_out * ly->n_in, ly->n_out};
        for (int k = 0; k < 2; k++) {
            size_t lo = off[k] > b ? off[k] : b, hi = off[k] + len[k] < e ? off[k] + len[k] : e;
            if (lo < hi)
                ok &= update_range(j->net, j->p, lo, hi - lo, k == 0, j->gscale, j->step_size,
                                   j->bc2_sqrt);
        }
    }
    if (!ok) __atomic_store_n(&j->ok, 0, __ATOMIC_RELAXED);
}

int mlp__optim_update(mlp_network *net, const mlp__optim_params *p, float gscale)
{
    update_job j = {net, p, gscale, p->lr, 1.0f, 1};

    assert(net->opt_kind == (int)p->kind);
    if (p->kind == MLP_OPT_IRPROP && net->steps == 0)
        for (size_t i = 0; i < net->n_params; i++)
            net->opt_state[i] = p->rp_init;
    net->steps++;
    if (p->kind == MLP_OPT_ADAM || p->kind == MLP_OPT_ADAMW) {
        /* Bias corrections in double, as PyTorch computes them in Python. */
        double t = (double)net->steps;
        j.step_size = (float)((double)p->lr / (1.0 - pow((double)p->beta1, t)));
        j.bc2_sqrt = (float)sqrt(1.0 - pow((double)p->beta2, t));
    }
    /* parts of whole cache lines; small networks stay on one thread */
    mlp__pool_for(net->pool, update_part, &j, net->n_params, 16, 65536);
    return __atomic_load_n(&j.ok, __ATOMIC_RELAXED);
}

void mlp__optim_count_step(mlp_network *net) { net->steps++; }

size_t mlp__optim_snapshot_len(const mlp_network *net, int *ok)
{
    *ok = net->n_params <= SIZE_MAX - net->opt_state_len;
    return *ok ? net->n_params + net->opt_state_len : 0;
}

void mlp__optim_snapshot_take(const mlp_network *net, float *snap, uint64_t *steps)
{
    memcpy(snap, net->params, net->n_params * sizeof(float));
    if (net->opt_state_len)
        memcpy(snap + net->n_params, net->opt_state, net->opt_state_len * sizeof(float));
    *steps = net->steps;
}

void mlp__optim_snapshot_restore(mlp_network *net, const float *snap, uint64_t steps)
{
    memcpy(net->params, snap, net->n_params * sizeof(float));
    if (net->opt_state_len)
        memcpy(net->opt_state, snap + net->n_params, net->opt_state_len * sizeof(float));
    net->steps = steps;
}
