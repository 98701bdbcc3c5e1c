/* mlp-bench: training-step and inference times of libmlp, GFLOP/s, and the
 * fraction of the GEMM floor (the step's products timed alone with OpenBLAS
 * in the same run) that a step reaches. Run with --help for the options. */
#define _POSIX_C_SOURCE 200809L
#include "bench_epoch.h"
#include "bench_fashion.h"
#include "bench_floor.h"
#include "bench_mem.h"
#include "bench_util.h"

#include <activation.h> /* which layers keep Z apart from A */
#include <internal.h>   /* the allocation seam of the test build (MLP_TESTING) */
#include <pool.h>       /* the pool cap of the test build */
#include <math.h>
#include <mlp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ARCHS 16
#define MAX_SIZES 33
#define MAX_LIST 32

typedef struct arch {
    size_t n; /* sizes, n_layers + 1 */
    size_t sizes[MAX_SIZES];
    char name[512];
} arch;

typedef struct options {
    arch archs[MAX_ARCHS];
    size_t n_archs;
    size_t batches[MAX_LIST], n_batches;
    size_t threads[MAX_LIST], n_threads;
    int reps;
    double rep_ms;
    mlp_optimizer opt;
    double lr;
    mlp_activation act;
    const char *json;
    int floor;
    int scaling;
    int fashion;
    int epoch;
    int floor_only;
    int cpu_clock;
    int check;
    int epochs;
    float dropout, input_dropout;
    const char *data;
    uint64_t seed;
} options;

typedef struct result {
    const arch *a;
    size_t batch, threads;
    bench_stats step, infer;
    double floor_ms, infer_floor_ms;  /* medians of the summed products */
    double roofline, infer_roofline;  /* medians of floor / time, paired per round */
    double train_flop, infer_flop;
    double mem_ms[MEM_PARTS], mem_floor_ms; /* the memory-traffic floor of the non-GEMM work */
    double full_roofline;             /* median of (GEMM + memory floor) / step, per round */
    double cpu_ratio;                 /* process CPU / (threads x wall) over the timed steps */
    double allocs_per_step;
    size_t peak_mem, setup_peak_mem, mem_budget, max_rss;
} result;

typedef struct step_ctx {
    mlp_trainer *tr;
    mlp_network *net;
    const float *X;
    const int32_t *y;
    float *Y;
    size_t batch;
} step_ctx;

static int step_fn(void *p)
{
    step_ctx *c = p;
    return mlp_trainer_step(c->tr, c->X, c->batch, c->y, NULL) != MLP_OK;
}

static int infer_fn(void *p)
{
    step_ctx *c = p;
    return mlp_forward(c->net, c->X, c->batch, c->Y) != MLP_OK;
}

static const char *opt_name(mlp_optimizer o)
{
    const char *s = mlp_optimizer_name(o);
    return s ? s : "?";
}

static int parse_opt(const char *s, mlp_optimizer *o)
{
    return mlp_optimizer_parse(s, o) == MLP_OK ? 0 : -1;
}

/* Floats of optimiser state per parameter. */
static size_t opt_state_per_param(mlp_optimizer o)
{
    switch (o) {
    case MLP_OPT_SGD: return 0;
    case MLP_OPT_MOMENTUM: case MLP_OPT_NESTEROV: case MLP_OPT_RMSPROP: return 1;
    default: return 2;
    }
}

static int add_arch(options *o, const char *s)
{
    arch *a;
    if (o->n_archs == MAX_ARCHS) return -1;
    a = &o->archs[o->n_archs];
    a->n = bench_parse_sizes(s, '-', a->sizes, MAX_SIZES);
    if (a->n < 2) return -1;
    snprintf(a->name, sizeof a->name, "%s", s);
    o->n_archs++;
    return 0;
}

/* "784-512-512-10" or a comma-separated list of them. */
static int add_archs(options *o, const char *s)
{
    char buf[4096], *tok, *save = NULL;
    snprintf(buf, sizeof buf, "%s", s);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (add_arch(o, tok) != 0) return -1;
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: mlp-bench [options]\n"
          "  --layers L      sizes joined by '-', e.g. 784-512-512-10; a comma list or repeated\n"
          "                  (default 784-512-512-10)\n"
          "  --batch LIST    batch sizes, e.g. 1,16,128 (default 1,16,128)\n"
          "  --threads LIST  OpenBLAS threads, e.g. 1 or 1,2 (default 1)\n"
          "  --reps N        timed repetitions, at least 5 (default 11)\n"
          "  --rep-ms MS     length of one repetition; short calls repeat inside it (default 10)\n"
          "  --optimizer O   sgd (default), momentum, nesterov, adam, adamw, rmsprop\n"
          "  --lr X          learning rate (default 0.01)\n"
          "  --act A         hidden activation (default relu); output identity, softmax CE loss\n"
          "  --no-floor      skip timing the GEMM floor and the memory-traffic floor\n"
          "  --dropout P     dropout on the hidden layers' inputs (default 0)\n"
          "  --input-dropout P  dropout on the network's input (default 0)\n"
          "  --pool-threads N   the element-wise work on at most N threads (1: BLAS's threads\n"
          "                  only), to compare the split against none in one run\n"
          "  --cpu-clock     time with the thread's CPU clock, not the wall clock (steadier on a\n"
          "                  loaded machine; meaningful with --threads 1 only)\n"
          "  --json FILE     write the results as a JSON array (- for stdout)\n"
          "  --check         exit with status 3 unless every steady-state step allocates\n"
          "                  nothing and peak memory stays within 1.1x budget + 16 MB\n"
          "  --scaling       step time against batch (1..4096) and width (64..8192), markdown\n"
          "  --fashion       Fashion-MNIST epoch time and accuracy (784-256-128-10, Adam, batch 128)\n"
          "  --epoch         the main job's recipe (scripts/main.sh) for --epochs epochs: its\n"
          "                  time split into products, element-wise passes, dropout, optimizer,\n"
          "                  data movement, validation and the rest, each beside its floor\n"
          "  --floor-only    with --epoch: print only the floor of --epochs epochs, without\n"
          "                  training (what scripts/main.sh compares its wall time with)\n"
          "  --epochs N      epochs for --fashion and --epoch (default 10)\n"
          "  --data DIR      Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)\n"
          "  --seed N        seed of the networks and data (default 42)\n",
          f);
}

static int parse_args(int argc, char **argv, options *o)
{
    int i;
    memset(o, 0, sizeof *o);
    o->reps = 11;
    o->rep_ms = 10.0;
    o->opt = MLP_OPT_SGD;
    o->lr = 0.01;
    o->act = MLP_ACT_RELU;
    o->floor = 1;
    o->epochs = 10;
    o->data = "/usr/share/datasets/fashion-mnist";
    o->seed = 42;
    for (i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(k, "--help") == 0 || strcmp(k, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(k, "--no-floor") == 0) {
            o->floor = 0, takes = 0;
        } else if (strcmp(k, "--scaling") == 0) {
            o->scaling = 1, takes = 0;
        } else if (strcmp(k, "--fashion") == 0) {
            o->fashion = 1, takes = 0;
        } else if (strcmp(k, "--epoch") == 0) {
            o->epoch = 1, takes = 0;
        } else if (strcmp(k, "--floor-only") == 0) {
            o->floor_only = 1, takes = 0;
        } else if (strcmp(k, "--check") == 0) {
            o->check = 1, takes = 0;
        } else if (strcmp(k, "--cpu-clock") == 0) {
            o->cpu_clock = 1, takes = 0;
        } else if (v == NULL) {
            static const char *valued[] = {"--layers", "--batch", "--threads", "--reps",
                                           "--rep-ms", "--optimizer", "--lr", "--act", "--json",
                                           "--epochs", "--data", "--seed", "--dropout",
                                           "--input-dropout", "--pool-threads"};
            size_t q;
            for (q = 0; q < sizeof valued / sizeof *valued; q++)
                if (strcmp(k, valued[q]) == 0) {
                    fprintf(stderr, "mlp-bench: %s needs a value\n", k);
                    return -1;
                }
            fprintf(stderr, "mlp-bench: unknown option %s\n", k);
            usage(stderr);
            return -1;
        } else if (strcmp(k, "--layers") == 0) {
            if (add_archs(o, v) != 0) goto bad;
        } else if (strcmp(k, "--batch") == 0) {
            if ((o->n_batches = bench_parse_sizes(v, ',', o->batches, MAX_LIST)) == 0) goto bad;
        } else if (strcmp(k, "--threads") == 0) {
            if ((o->n_threads = bench_parse_sizes(v, ',', o->threads, MAX_LIST)) == 0) goto bad;
        } else if (strcmp(k, "--reps") == 0) {
            o->reps = atoi(v);
            if (o->reps < 5) goto bad;
        } else if (strcmp(k, "--rep-ms") == 0) {
            o->rep_ms = atof(v);
            if (!(o->rep_ms >= 0.0)) goto bad;
        } else if (strcmp(k, "--optimizer") == 0) {
            if (parse_opt(v, &o->opt) != 0) goto bad;
        } else if (strcmp(k, "--lr") == 0) {
            o->lr = atof(v);
            if (!(o->lr > 0.0)) goto bad;
        } else if (strcmp(k, "--act") == 0) {
            if (mlp_activation_parse(v, &o->act) != MLP_OK) goto bad;
        } else if (strcmp(k, "--json") == 0) {
            o->json = v;
        } else if (strcmp(k, "--epochs") == 0) {
            o->epochs = atoi(v);
            if (o->epochs < 1) goto bad;
        } else if (strcmp(k, "--data") == 0) {
            o->data = v;
        } else if (strcmp(k, "--seed") == 0) {
            o->seed = strtoull(v, NULL, 10);
        } else if (strcmp(k, "--pool-threads") == 0) {
            int cap = atoi(v);
            if (cap < 1) goto bad;
            mlp__pool_test_cap(cap); /* the element-wise work on at most cap threads */
        } else if (strcmp(k, "--dropout") == 0 || strcmp(k, "--input-dropout") == 0) {
            float p = (float)atof(v);
            if (!(p >= 0.0f && p < 1.0f)) goto bad;
            *(k[2] == 'd' ? &o->dropout : &o->input_dropout) = p;
        } else {
            fprintf(stderr, "mlp-bench: unknown option %s\n", k);
            usage(stderr);
            return -1;
        }
        i += takes;
        continue;
    bad:
        fprintf(stderr, "mlp-bench: bad value for %s: %s\n", k, v);
        return -1;
    }
    if (o->floor_only && !o->epoch) {
        fprintf(stderr, "mlp-bench: --floor-only goes with --epoch\n");
        return -1;
    }
    if (o->n_archs == 0) add_arch(o, "784-512-512-10");
    if (o->n_batches == 0) {
        o->batches[0] = 1, o->batches[1] = 16, o->batches[2] = 128;
        o->n_batches = 3;
    }
    if (o->n_threads == 0) o->threads[0] = 1, o->n_threads = 1;
    return 0;
}

static void fill(float *x, size_t n, uint64_t *s)
{
    size_t i;
    for (i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((*s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
    }
}

static int check(mlp_status s, const char *what)
{
    if (s == MLP_OK) return 0;
    fprintf(stderr, "mlp-bench: %s: %s (%s)\n", what, mlp_strerror(s), mlp_last_error());
    return -1;
}

/* Workspace floats of one buffer set for `rows` rows: Z of every layer, A of
 * every non-identity layer, the scaled input, two error terms of the widest
 * layer output (as workspace.c lays them out: the budget is what a pass needs). */
static size_t workspace_floats(const arch *a, const mlp_activation *acts, size_t rows)
{
    size_t l, sum = a->sizes[0], widest = 0;
    for (l = 1; l < a->n; l++) {
        /* Z apart from A only where Z + b is read later (buffers.h) */
        int own_z = acts[l - 1] != MLP_ACT_IDENTITY &&
                    mlp__layer_keeps_z(acts[l - 1], l + 1 == a->n);
        sum += a->sizes[l] * (own_z ? 2 : 1);
        if (a->sizes[l] > widest) widest = a->sizes[l];
    }
    return rows * (sum + 2 * widest);
}

static double process_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

/* The memory-traffic floor of the step's non-GEMM work, and the roofline
 * fraction against GEMM floor + memory floor, paired per round with the
 * GEMM floor and step times in t (series 0 and 2, reps each, unsorted);
 * the ratios go to series 6. */
static int mem_floor(const options *o, const arch *a, size_t batch, size_t threads, double *t,
                     int reps, result *r)
{
    float drop[MAX_SIZES];
    mlp_activation acts[MAX_SIZES];
    bench_mem_spec s;
    bench_stats st;
    for (size_t l = 0; l + 1 < a->n; l++) {
        drop[l] = l ? o->dropout : o->input_dropout;
        acts[l] = l + 2 < a->n ? o->act : MLP_ACT_IDENTITY;
    }
    s.n_layers = a->n - 1;
    s.sizes = a->sizes;
    s.batch = batch;
    s.dropout = drop;
    s.update_floats = bench_mem_update_floats(o->opt, 0);
    s.l2 = 0;
    s.scaled = 0;
    s.gather = 0; /* mlp_trainer_step takes the batch where it lies */
    s.data_bytes = 0;
    s.acts = acts;
    r->mem_floor_ms = bench_mem_floor(&s, (int)threads, 5, r->mem_ms);
    if (r->mem_floor_ms < 0.0) return -1;
    for (int k = 0; k < reps; k++) t[6 * reps + k] = (t[2 * reps + k] + r->mem_floor_ms) / t[k];
    bench_summarize(t + 6 * reps, reps, &st);
    r->full_roofline = st.median_ms;
    return 0;
}

/* Times are taken in rounds: one repetition of the step, one of inference,
 * one of every floor product, so that the ratios compare like with like
 * even when the load of a shared machine drifts. */
static int run_case(const options *o, const arch *a, size_t batch, size_t threads, result *r)
{
    mlp_activation acts[MAX_SIZES];
    mlp_network *net = NULL;
    mlp_trainer *tr = NULL;
    bench_floor *fl = NULL;
    float *X = NULL, *Y = NULL;
    int32_t *y = NULL;
    double *t = NULL; /* 7 series of reps: step, infer, floor, infer floor, ratios, full ratios */
    step_ctx c;
    size_t l, heap0, peak = 0, setup_peak = 0, n_out = a->sizes[a->n - 1];
    unsigned long allocs = 0;
    long inner_s, inner_i, calls = 0;
    double cpu = 0.0, wall = 0.0;
    uint64_t s = o->seed;
    int rc = -1, k, reps = o->reps;

    memset(r, 0, sizeof *r);
    r->a = a;
    r->batch = batch;
    r->threads = threads;
    r->floor_ms = r->infer_floor_ms = r->roofline = r->infer_roofline = NAN;
    r->mem_floor_ms = r->full_roofline = r->cpu_ratio = NAN;
    mlp_set_num_threads((int)threads);
    for (l = 0; l + 1 < a->n; l++) acts[l] = l + 2 < a->n ? o->act : MLP_ACT_IDENTITY;
    r->infer_flop = 0.0;
    for (l = 0; l + 1 < a->n; l++)
        r->infer_flop += 2.0 * (double)batch * (double)a->sizes[l] * (double)a->sizes[l + 1];
    /* backward: dW for every layer, dA for all but the first */
    r->train_flop = 3.0 * r->infer_flop - 2.0 * (double)batch * a->sizes[0] * a->sizes[1];

    X = malloc(batch * a->sizes[0] * sizeof *X);
    Y = malloc(batch * n_out * sizeof *Y);
    y = malloc(batch * sizeof *y);
    t = malloc(7 * (size_t)reps * sizeof *t);
    if (!X || !Y || !y || !t) goto nomem;
    fill(X, batch * a->sizes[0], &s);
    for (l = 0; l < batch; l++) y[l] = (int32_t)(l * 7 % n_out);
    /* plain SGD updates W inside its weight product (l2 = 0 here: beta 1) */
    if (o->floor && (fl = bench_floor_create(a->n - 1, a->sizes, batch,
                                             o->opt == MLP_OPT_SGD ? 1.0f : 0.0f, o->rep_ms)) == NULL)
        goto nomem;

    /* Library memory: live heap bytes sampled around every call that may
     * allocate (a steady-state step allocates nothing: counted below).
     * setup_peak covers creating and configuring the network and trainer,
     * peak the training itself, once configured. */
    heap0 = bench_heap_bytes();
#define SAMPLE(p) do { size_t h_ = bench_heap_bytes(); if (h_ > heap0 && h_ - heap0 > (p)) (p) = h_ - heap0; } while (0)
    if (check(mlp_create(&net, a->n - 1, a->sizes, acts, o->seed), "mlp_create")) goto done;
    SAMPLE(setup_peak);
    if (check(mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE), "mlp_set_loss")) goto done;
    for (l = 0; l + 1 < a->n; l++)
        if (check(mlp_set_dropout(net, l, l ? o->dropout : o->input_dropout), "mlp_set_dropout"))
            goto done;
    if (check(mlp_reserve(net, batch), "mlp_reserve")) goto done;
    SAMPLE(setup_peak);
    if (check(mlp_trainer_create(net, &tr), "mlp_trainer_create")) goto done;
    SAMPLE(setup_peak);
    if (check(mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, o->opt), "optimizer") ||
        check(mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, o->lr), "learning rate") ||
        check(mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, (double)batch), "batch size"))
        goto done;
    SAMPLE(peak);
    c.tr = tr, c.net = net, c.X = X, c.y = y, c.Y = Y, c.batch = batch;
    if (check(mlp_trainer_step(tr, X, batch, y, NULL), "mlp_trainer_step")) goto done;
    SAMPLE(peak);

    mlp__alloc_reset_count();
    if ((inner_s = bench_calibrate(step_fn, &c, o->rep_ms, &calls)) == 0) goto step_failed;
    allocs += mlp__alloc_count();
    if ((inner_i = bench_calibrate(infer_fn, &c, o->rep_ms, NULL)) == 0) goto infer_failed;
    for (k = 0; k < reps; k++) {
        double cpu0 = process_cpu_ms(), wall0 = wall_ms();
        mlp__alloc_reset_count();
        /* One untimed call before each timing: the floor's products before
         * it pushed the step's state out of cache, and in training a step
         * follows a step (every floor product is timed warm too). */
        if (step_fn(&c) != 0 || (t[k] = bench_time(step_fn, &c, inner_s)) < 0.0) goto step_failed;
        cpu += process_cpu_ms() - cpu0;
        wall += wall_ms() - wall0;
        allocs += mlp__alloc_count();
        calls += inner_s + 1;
        if (infer_fn(&c) != 0 || (t[reps + k] = bench_time(infer_fn, &c, inner_i)) < 0.0)
            goto infer_failed;
        if (fl) {
            bench_floor_run(fl, &t[2 * reps + k], &t[3 * reps + k]);
            t[4 * reps + k] = t[2 * reps + k] / t[k];
            t[5 * reps + k] = t[3 * reps + k] / t[reps + k];
        }
    }
    SAMPLE(peak);
#undef SAMPLE
    r->allocs_per_step = (double)allocs / (double)calls;
    r->peak_mem = peak;
    r->setup_peak_mem = setup_peak > peak ? setup_peak : peak;
    r->mem_budget = sizeof(float) * (mlp_num_params(net) * (2 + opt_state_per_param(o->opt)) +
                                     workspace_floats(a, acts, mlp_capacity(net)));
    r->cpu_ratio = cpu / ((double)threads * wall);
    if (fl && mem_floor(o, a, batch, threads, t, reps, r) != 0) goto nomem;
    bench_summarize(t, reps, &r->step);
    bench_summarize(t + reps, reps, &r->infer);
    if (fl) {
        bench_stats st;
        bench_summarize(t + 2 * reps, reps, &st);
        r->floor_ms = st.median_ms;
        bench_summarize(t + 3 * reps, reps, &st);
        r->infer_floor_ms = st.median_ms;
        bench_summarize(t + 4 * reps, reps, &st);
        r->roofline = st.median_ms; /* the median of the paired ratios */
        bench_summarize(t + 5 * reps, reps, &st);
        r->infer_roofline = st.median_ms;
    }
    r->max_rss = bench_max_rss_bytes();
    rc = 0;
    goto done;
step_failed:
    check(mlp_trainer_step(tr, X, batch, y, NULL), "mlp_trainer_step");
    goto done;
infer_failed:
    check(mlp_forward(net, X, batch, Y), "mlp_forward");
    goto done;
nomem:
    fprintf(stderr, "mlp-bench: out of memory\n");
done:
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
    bench_floor_destroy(fl);
    free(X);
    free(Y);
    free(y);
    free(t);
    return rc;
}

static int mem_ok(const result *r) { return r->peak_mem <= 1.1 * r->mem_budget + 16e6; }

/* Process CPU time at most threads x wall time + 5%: ours and BLAS's
 * threads never run more than the thread setting at once. */
static int cpu_ok(const result *r) { return !(r->cpu_ratio > 1.05); }

/* A step faster than its floor is a measurement error. Below 50 us of
 * floor the products timed alone carry call overheads and clock
 * resolution that the step amortises otherwise (20-16-8-3 at batch 5:
 * 1.6 us, "102%"), so the rule holds from there. */
static int floor_ok(const result *r)
{
    return !(r->full_roofline > 1.0 && r->floor_ms + r->mem_floor_ms >= 0.05);
}

static double gflops(double flop, double ms) { return flop / (ms * 1e6); }

static void print_header(FILE *f, const options *o)
{
    char load[128] = "?";
    FILE *p = fopen("/proc/loadavg", "r");
    if (p) {
        if (fgets(load, sizeof load, p)) load[strcspn(load, "\n")] = '\0';
        fclose(p);
    }
    fprintf(f, "libmlp %s, OpenBLAS: %s\n", mlp_version(), mlp_blas_config());
    if (mlp_blas_coretype_hint() != NULL) /* every floor here is that of the SSE kernels */
        fprintf(f, "OpenBLAS runs its SSE kernels on this CPU: OPENBLAS_CORETYPE=%s would use "
                   "its vector units\n", mlp_blas_coretype_hint());
    if (o->fashion || o->epoch) {
        fprintf(f, "load average %s\n", load);
        return;
    }
    fprintf(f, "optimizer %s, hidden %s, output identity, softmax cross-entropy; %d reps "
               "(median [min, max]) on the %s clock; load average %s\n",
            opt_name(o->opt), mlp_activation_name(o->act), o->reps,
            o->cpu_clock ? "thread CPU" : "wall", load);
}

static void print_result(FILE *f, const result *r)
{
    fprintf(f, "%s  batch %zu  threads %zu (OpenBLAS reports %d)\n", r->a->name, r->batch,
            r->threads, mlp_get_num_threads());
    fprintf(f, "  train step  %9.4f ms [%9.4f, %9.4f]  %7.1f GFLOP/s", r->step.median_ms,
            r->step.min_ms, r->step.max_ms, gflops(r->train_flop, r->step.median_ms));
    if (isfinite(r->floor_ms))
        fprintf(f, "  GEMM floor %9.4f ms  roofline %5.1f%%", r->floor_ms, 100.0 * r->roofline);
    fprintf(f, "\n  inference   %9.4f ms [%9.4f, %9.4f]  %7.1f GFLOP/s", r->infer.median_ms,
            r->infer.min_ms, r->infer.max_ms, gflops(r->infer_flop, r->infer.median_ms));
    if (isfinite(r->infer_floor_ms))
        fprintf(f, "  GEMM floor %9.4f ms  roofline %5.1f%%", r->infer_floor_ms,
                100.0 * r->infer_roofline);
    if (isfinite(r->mem_floor_ms))
        fprintf(f, "\n  memory floor %.4f ms (element-wise %.4f, dropout %.4f, optimizer %.4f); "
                   "GEMM + memory floor %.4f ms  roofline %5.1f%%",
                r->mem_floor_ms, r->mem_ms[MEM_ELEMENTWISE], r->mem_ms[MEM_DROPOUT],
                r->mem_ms[MEM_OPTIMIZER], r->floor_ms + r->mem_floor_ms, 100.0 * r->full_roofline);
    fprintf(f, "\n  process CPU %.2f x threads x wall (%s)", r->cpu_ratio,
            cpu_ok(r) ? "no oversubscription" : "OVERSUBSCRIBED");
    fprintf(f, "\n  allocations per step %.3g; library heap peak while training %.1f MB (budget "
               "%.1f MB, limit 1.1x + 16 MB: %s), while setting up %.1f MB; max RSS %.1f MB\n",
            r->allocs_per_step, r->peak_mem / 1e6, r->mem_budget / 1e6,
            mem_ok(r) ? "ok" : "EXCEEDED", r->setup_peak_mem / 1e6, r->max_rss / 1e6);
}

static void json_result(FILE *f, const result *r, const options *o, int first)
{
    fprintf(f, "%s\n  {\"kind\": \"step\", \"layers\": \"%s\", \"batch\": %zu, \"threads\": %zu, "
               "\"optimizer\": \"%s\", \"activation\": \"%s\", \"reps\": %d, \"clock\": \"%s\",\n",
            first ? "" : ",", r->a->name, r->batch, r->threads, opt_name(o->opt),
            mlp_activation_name(o->act), r->step.reps, o->cpu_clock ? "cpu" : "wall");
    fputs("   \"train_step_ms\": ", f), bench_json_double(f, r->step.median_ms);
    fputs(", \"train_step_min_ms\": ", f), bench_json_double(f, r->step.min_ms);
    fputs(", \"train_step_max_ms\": ", f), bench_json_double(f, r->step.max_ms);
    fputs(",\n   \"infer_ms\": ", f), bench_json_double(f, r->infer.median_ms);
    fputs(", \"infer_min_ms\": ", f), bench_json_double(f, r->infer.min_ms);
    fputs(", \"infer_max_ms\": ", f), bench_json_double(f, r->infer.max_ms);
    fputs(",\n   \"gflops\": ", f), bench_json_double(f, gflops(r->train_flop, r->step.median_ms));
    fputs(", \"infer_gflops\": ", f), bench_json_double(f, gflops(r->infer_flop, r->infer.median_ms));
    fputs(", \"gemm_floor_ms\": ", f), bench_json_double(f, r->floor_ms);
    fputs(", \"infer_floor_ms\": ", f), bench_json_double(f, r->infer_floor_ms);
    fputs(",\n   \"roofline_fraction\": ", f), bench_json_double(f, r->roofline);
    fputs(", \"infer_roofline_fraction\": ", f), bench_json_double(f, r->infer_roofline);
    fputs(",\n   \"mem_floor_ms\": ", f), bench_json_double(f, r->mem_floor_ms);
    fputs(", \"full_floor_ms\": ", f), bench_json_double(f, r->floor_ms + r->mem_floor_ms);
    fputs(", \"full_roofline_fraction\": ", f), bench_json_double(f, r->full_roofline);
    fputs(", \"cpu_per_thread_wall\": ", f), bench_json_double(f, r->cpu_ratio);
    fputs(",\n   \"allocs_per_step\": ", f), bench_json_double(f, r->allocs_per_step);
    fprintf(f, ", \"peak_mem_bytes\": %zu, \"setup_peak_mem_bytes\": %zu, \"mem_budget_bytes\": %zu, "
               "\"max_rss_bytes\": %zu}",
            r->peak_mem, r->setup_peak_mem, r->mem_budget, r->max_rss);
}

/* Step time against batch and width, with the growth exponent between
 * neighbours: log(t2 / t1) / log(s2 / s1). Markdown for the README. */
static int run_scaling(options *o, FILE *out)
{
    static const size_t batches[] = {1, 4, 16, 64, 256, 1024, 4096};
    static const size_t widths[] = {64, 128, 256, 512, 1024, 2048, 4096, 8192};
    size_t i, threads = o->threads[0];
    double prev_t = 0.0, prev_s = 0.0;
    result r;
    arch a;

    o->n_archs = 0;
    add_arch(o, "784-512-512-10");
    fprintf(out, "\nStep time against batch: %s, %zu thread(s), %s\n\n", o->archs[0].name, threads,
            opt_name(o->opt));
    fputs("| batch | step ms | per sample us | GEMM floor ms | roofline | GFLOP/s | growth exponent |\n"
          "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n", out);
    for (i = 0; i < sizeof batches / sizeof *batches; i++) {
        if (run_case(o, &o->archs[0], batches[i], threads, &r) != 0) return -1;
        fprintf(out, "| %zu | %.4g | %.4g | %.4g | %.1f%% | %.1f | ", batches[i], r.step.median_ms,
                1e3 * r.step.median_ms / (double)batches[i], r.floor_ms, 100.0 * r.roofline,
                gflops(r.train_flop, r.step.median_ms));
        if (i) fprintf(out, "%.2f |\n", log(r.step.median_ms / prev_t) / log(batches[i] / prev_s));
        else fputs("|\n", out);
        fflush(out);
        prev_t = r.step.median_ms, prev_s = (double)batches[i];
    }
    fprintf(out, "\nStep time against width w: 784-w-w-10, batch 128, %zu thread(s), %s\n\n",
            threads, opt_name(o->opt));
    fputs("| w | step ms | GEMM floor ms | roofline | GFLOP/s | growth exponent |\n"
          "| ---: | ---: | ---: | ---: | ---: | ---: |\n", out);
    for (i = 0; i < sizeof widths / sizeof *widths; i++) {
        a.n = 4;
        a.sizes[0] = 784, a.sizes[1] = a.sizes[2] = widths[i], a.sizes[3] = 10;
        snprintf(a.name, sizeof a.name, "784-%zu-%zu-10", widths[i], widths[i]);
        if (run_case(o, &a, 128, threads, &r) != 0) return -1;
        fprintf(out, "| %zu | %.4g | %.4g | %.1f%% | %.1f | ", widths[i], r.step.median_ms,
                r.floor_ms, 100.0 * r.roofline,
                gflops(r.train_flop, r.step.median_ms));
        if (i) fprintf(out, "%.2f |\n", log(r.step.median_ms / prev_t) / log(widths[i] / prev_s));
        else fputs("|\n", out);
        fflush(out);
        prev_t = r.step.median_ms, prev_s = (double)widths[i];
    }
    return 0;
}

static int run_fashion(const options *o, FILE *text, FILE *json, int *first)
{
    bench_fashion_result fr;
    size_t threads = o->threads[0];
    mlp_set_num_threads((int)threads);
    if (bench_fashion(o->data, o->epochs, o->seed, o->cpu_clock, &fr) != 0) return -1;
    fprintf(text, "Fashion-MNIST 784-256-128-10 relu, Adam 1e-3, batch 128, %zu thread(s): "
                  "%d epochs, %.3f s per epoch (median; [%.3f, %.3f]), test accuracy %.2f%%\n",
            threads, fr.epochs, fr.epoch_s, fr.epoch_min_s, fr.epoch_max_s,
            100.0 * fr.test_accuracy);
    if (json) {
        fprintf(json, "%s\n  {\"kind\": \"fashion\", \"layers\": \"784-256-128-10\", \"batch\": 128, "
                      "\"threads\": %zu, \"optimizer\": \"adam\", \"epochs\": %d, \"clock\": \"%s\", ",
                *first ? "" : ",", threads, fr.epochs, o->cpu_clock ? "cpu" : "wall");
        fputs("\"epoch_s\": ", json), bench_json_double(json, fr.epoch_s);
        fputs(", \"epoch_min_s\": ", json), bench_json_double(json, fr.epoch_min_s);
        fputs(", \"epoch_max_s\": ", json), bench_json_double(json, fr.epoch_max_s);
        fputs(", \"train_s\": ", json), bench_json_double(json, fr.train_s);
        fputs(", \"test_accuracy\": ", json), bench_json_double(json, fr.test_accuracy);
        fputs(", \"test_loss\": ", json), bench_json_double(json, fr.test_loss);
        fputc('}', json);
        *first = 0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    FILE *json = NULL, *text = stdout;
    size_t ia, ib, it;
    int first = 1, rc = 0, failed = 0;

    if (parse_args(argc, argv, &o) != 0) return 2;
    bench_set_cpu_clock(o.cpu_clock);
    if (o.json) {
        if (strcmp(o.json, "-") == 0) {
            json = stdout;
            text = stderr; /* keep stdout pure JSON */
        } else if ((json = fopen(o.json, "w")) == NULL) {
            fprintf(stderr, "mlp-bench: cannot write %s\n", o.json);
            return 1;
        }
        fputc('[', json);
    }
    print_header(text, &o);
    if (o.scaling) {
        rc = run_scaling(&o, text) != 0;
    } else if (o.fashion) {
        rc = run_fashion(&o, text, json, &first) != 0;
    } else if (o.epoch) {
        for (it = 0; it < o.n_threads && !rc; it++)
            rc = bench_epoch(o.data, o.epochs, o.seed, (int)o.threads[it], o.floor_only,
                             text) != 0;
    } else {
        for (ia = 0; ia < o.n_archs && !rc; ia++)
            for (it = 0; it < o.n_threads && !rc; it++)
                for (ib = 0; ib < o.n_batches && !rc; ib++) {
                    result r;
                    if (run_case(&o, &o.archs[ia], o.batches[ib], o.threads[it], &r) != 0) {
                        rc = 1;
                        break;
                    }
                    print_result(text, &r);
                    if (o.check && (r.allocs_per_step != 0.0 || !mem_ok(&r) || !floor_ok(&r) ||
                                    !cpu_ok(&r))) {
                        fprintf(stderr, "mlp-bench: check failed: %s batch %zu: %.3g allocations "
                                        "per step, peak %zu bytes (budget %zu), %.3f of the "
                                        "GEMM + memory floor, CPU %.2f x threads x wall\n",
                                r.a->name, r.batch, r.allocs_per_step, r.peak_mem, r.mem_budget,
                                r.full_roofline, r.cpu_ratio);
                        failed = 1;
                    }
                    fflush(text);
                    if (json) json_result(json, &r, &o, first), first = 0;
                }
    }
    if (json) {
        fputs("\n]\n", json);
        if (json != stdout && fclose(json) != 0) rc = 1;
    }
    return rc ? rc : failed ? 3 : 0;
}
