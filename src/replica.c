/* Data-parallel training through an engine-neutral reducer: see replica.h
 * and docs/PARALLEL.md. Every function here that takes a reducer is
 * collective: all processes call it in the same order. */
#include "replica.h"
#include "pass.h"
#include "profile.h"

#include <math.h>
#include <string.h>

/* ---- the agreement check --------------------------------------------------- */

/* FNV-1a over bytes, continuing from h. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#define FNV0 0xcbf29ce484222325ull

/* The network's shape and settings (not its numbers). */
static uint64_t hash_shape(const mlp_network *net)
{
    uint64_t h = fnv(FNV0, &net->n_layers, sizeof net->n_layers);
    int has_scaling = net->in_offset != NULL;
    h = fnv(h, net->sizes, (net->n_layers + 1) * sizeof *net->sizes);
    for (size_t l = 0; l < net->n_layers; l++) {
        h = fnv(h, &net->layers[l].act, sizeof net->layers[l].act);
        h = fnv(h, &net->layers[l].dropout, sizeof net->layers[l].dropout);
    }
    h = fnv(h, &net->loss, sizeof net->loss);
    h = fnv(h, &net->l2, sizeof net->l2);
    h = fnv(h, &net->seed, sizeof net->seed);
    h = fnv(h, &net->steps, sizeof net->steps);
    h = fnv(h, &net->opt_kind, sizeof net->opt_kind);
    h = fnv(h, &has_scaling, sizeof has_scaling);
    if (has_scaling) {
        h = fnv(h, net->in_offset, net->sizes[0] * sizeof(float));
        h = fnv(h, net->in_scale, net->sizes[0] * sizeof(float));
    }
    return h;
}

/* The numbers a step reads: parameters, optimiser state, and the shared
 * shuffle stream. */
static uint64_t hash_state(const mlp_network *net)
{
    uint64_t h = fnv(FNV0, net->params, net->n_params * sizeof(float));
    if (net->opt_state)
        h = fnv(h, net->opt_state, net->opt_state_len * sizeof(float));
    return fnv(h, &net->rng, sizeof net->rng);
}

/* Two 16-bit parts of h, each with its square: the sums over processes of
 * x and x^2 (exact in doubles) say whether every process had the same x
 * (P sum x^2 == (sum x)^2 only when all are equal). */
static void put_hash(double *v, uint64_t h)
{
    for (int k = 0; k < 2; k++) {
        double x = (double)(((h >> (16 * k)) ^ (h >> (16 * k + 32))) & 0xffffu);
        v[2 * k] = x;
        v[2 * k + 1] = x * x;
    }
}

static int all_equal(const double *v, double P)
{
    return P * v[1] == v[0] * v[0] && P * v[3] == v[2] * v[2];
}

#define CHECK_PARTS 4
#define CHECK_LEN (1 + 4 * CHECK_PARTS)

mlp_status mlp__replica_check(const mlp_reducer *r, const mlp_network *net, const double *opt,
                              size_t n_opt, const double *sizes, mlp_status local,
                              const char *fn)
{
    static const char *const what[CHECK_PARTS] = {
        "the network's shape and settings (sizes, activations, loss, l2, dropout, input "
        "scaling, seed, step count)",
        "the parameters, the optimiser state or the shuffle stream",
        "the trainer options or the mode",
        "the number of training or validation rows (the replicated mode needs the whole set "
        "on every process)"};
    double v[CHECK_LEN], P = (double)r->size;
    uint64_t h_opt = fnv(fnv(FNV0, opt, n_opt * sizeof *opt), &r->sharded, sizeof r->sharded);
    mlp_status st;

    v[0] = local != MLP_OK;
    put_hash(v + 1, hash_shape(net));
    put_hash(v + 5, hash_state(net));
    put_hash(v + 9, h_opt);
    put_hash(v + 13, sizes ? fnv(FNV0, sizes, 2 * sizeof *sizes) : 0);
    if ((st = r->sum_doubles(r->ctx, v, CHECK_LEN)) != MLP_OK)
        return st;
    if (local != MLP_OK)
        return local;
    if (v[0] > 0)
        return mlp__fail(MLP_ERR_ARGUMENT, "%s: %g other process(es) failed before training", fn,
                         v[0]);
    for (int k = 0; k < CHECK_PARTS; k++)
        if (!all_equal(v + 1 + 4 * k, P))
            return mlp__fail(MLP_ERR_MISMATCH, "%s (process %d of %d): the processes disagree on %s",
                             fn, r->rank, r->size, what[k]);
    return MLP_OK;
}

/* ---- the reducer's lifetime ------------------------------------------------- */

mlp_status mlp__replica_set(mlp__replica *rep, const mlp_reducer *r, mlp_network *net)
{
    double *scratch;
    mlp_status st;
    if (r->size < 1 || r->rank < 0 || r->rank >= r->size)
        return mlp__fail(MLP_ERR_ARGUMENT, "reducer: rank %d of %d", r->rank, r->size);
    scratch = mlp__calloc((size_t)r->size + 2, sizeof(double));
    if (!scratch)
        return mlp__fail(MLP_ERR_NOMEM, "reducer: %d counts", r->size + 2);
    /* at most one sum per layer is in flight between waits */
    if (r->prepare && (st = r->prepare(r->ctx, net->n_layers)) != MLP_OK) {
        mlp__free(scratch);
        return st;
    }
    mlp__replica_drop(rep);
    rep->r = *r;
    rep->on = 1;
    rep->st = MLP_OK;
    rep->net = net;
    rep->scratch = scratch;
    return MLP_OK;
}

void mlp__replica_drop(mlp__replica *rep)
{
    if (rep->on && rep->r.destroy)
        rep->r.destroy(rep->r.ctx);
    mlp__free(rep->scratch);
    memset(rep, 0, sizeof *rep);
}

/* ---- slices, counts and sums ------------------------------------------------ */

/* Every blocking reduction, timed as communication when profiled. */
static mlp_status sum_doubles(mlp__replica *rep, double *v, size_t n)
{
    double t0 = mlp__prof_start(rep->net);
    mlp_status st = rep->r.sum_doubles(rep->r.ctx, v, n);
    mlp__prof_add(rep->net, MLP_PROFILE_COMMUNICATION, t0);
    return st;
}

void mlp__replica_part(size_t n, size_t k, size_t parts, size_t *lo, size_t *hi)
{
    /* floor(k n / parts) without overflow: sizes differ by at most one row,
     * and fewer rows than parts leave some parts empty */
    *lo = n / parts * k + n % parts * k / parts;
    *hi = n / parts * (k + 1) + n % parts * (k + 1) / parts;
}

void mlp__replica_slice(const mlp__replica *rep, size_t rows, size_t *lo, size_t *hi)
{
    mlp__replica_part(rows, (size_t)rep->r.rank, (size_t)rep->r.size, lo, hi);
}

mlp_status mlp__replica_counts(mlp__replica *rep, size_t rows, double wsum, int failed,
                               mlp__slice *sl, int *any_failed)
{
    size_t P = (size_t)rep->r.size;
    double *v = rep->scratch, before = 0.0;
    mlp_status st;
    memset(v, 0, (P + 2) * sizeof *v);
    v[rep->r.rank] = (double)rows;
    v[P] = wsum;
    v[P + 1] = failed != 0;
    if ((st = sum_doubles(rep, v, P + 2)) != MLP_OK)
        return st;
    sl->rows = 0.0;
    for (size_t k = 0; k < P; k++) {
        if (k == (size_t)rep->r.rank)
            before = sl->rows;
        sl->rows += v[k];
    }
    sl->row0 = (size_t)before;
    sl->wsum = v[P];
    *any_failed = v[P + 1] > 0;
    return MLP_OK;
}

mlp_status mlp__replica_sum(mlp__replica *rep, double *v, size_t n)
{
    return sum_doubles(rep, v, n);
}

int mlp__replica_any(mlp__replica *rep, int flag)
{
    double v = flag != 0;
    if (sum_doubles(rep, &v, 1) != MLP_OK)
        return 1;
    return v > 0;
}

/* The backward pass's hook: layer l's W and b are contiguous in grads. */
static void layer_done(void *ctx, size_t l)
{
    mlp__replica *rep = ctx;
    const mlp__layer *ly = &rep->net->layers[l];
    mlp_status st;
    double t0;
    if (rep->st != MLP_OK)
        return;
    t0 = mlp__prof_start(rep->net);
    st = rep->r.sum_floats_start(rep->r.ctx, rep->net->grads + ly->w_off,
                                 ly->b_off + ly->n_out - ly->w_off);
    mlp__prof_add(rep->net, MLP_PROFILE_COMMUNICATION, t0);
    if (st != MLP_OK)
        rep->st = st;
}

mlp_status mlp__replica_grad(mlp__replica *rep, mlp_network *net, const float *X, size_t rows,
                             const void *targets, const float *w, const mlp__drop_key *drop,
                             float scale, double *loss_sum, size_t *correct)
{
    mlp_status st;
    double t0;
    rep->st = MLP_OK;
    rep->net = net;
    mlp__loss_grad_part(net, X, rows, targets, w, drop, scale, layer_done, rep, loss_sum, correct);
    t0 = mlp__prof_start(net);
    st = rep->r.sum_floats_wait(rep->r.ctx);
    mlp__prof_add(net, MLP_PROFILE_COMMUNICATION, t0);
    return rep->st != MLP_OK ? rep->st : st;
}
