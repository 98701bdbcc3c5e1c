/* mlp-bench-mpi: data-parallel training under mpirun, per process count:
 * step time, time in communication, the share of it hidden behind the
 * backward pass, samples per second, the epoch's throughput, and the
 * interconnect's latency and bandwidth (MPI_Allreduce timed alone) for the
 * scaling model (benchmarks/scaling_model.py). Run it as
 *   mpirun -np P -x OPENBLAS_NUM_THREADS=T build/benchmarks/mlp-bench-mpi --threads T
 * benchmarks/mpi_compare.py runs the variants the README reports. */
#include "bench_mpi_net.h"
#include "bench_mpi_step.h"
#include "bench_util.h"

#include <math.h>
#include <mlp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cli {
    bmpi_opts o;
    const char *json;
} cli;

static void usage(FILE *f)
{
    fputs("usage: mpirun -np P mlp-bench-mpi [options]\n"
          "  --layers L      sizes joined by '-' (default 784-768-384-10, the main job)\n"
          "  --batch B       global batch (default 256)\n"
          "  --steps N       timed steps per phase (default 30), after --warmup N (default 5)\n"
          "  --rounds N      rounds of the phases, alternated, best of each (default 3)\n"
          "  --threads T     BLAS and trainer threads per process (default 1)\n"
          "  --epoch         also one epoch of training, timed\n"
          "  --rows N        N synthetic rows instead of Fashion-MNIST's training set\n"
          "  --data DIR      Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)\n"
          "  --reduction R   library (libmlp_mpi, the default when built with it) or\n"
          "                  emulated (a blocking MPI_Allreduce after each local step)\n"
          "  --net-reps N    MPI_Allreduce repetitions for latency and bandwidth (default 20)\n"
          "  --json FILE     one JSON object (rank 0; '-' for standard output)\n",
          f);
}

static int parse_value(cli *c, const char *k, const char *v)
{
    bmpi_opts *o = &c->o;
    if (strcmp(k, "--layers") == 0) {
        o->n_layers = bench_parse_sizes(v, '-', o->sizes, BMPI_MAX_LAYERS + 1);
        if (o->n_layers < 2) return -1;
        o->n_layers -= 1; /* layers, not sizes */
    } else if (strcmp(k, "--batch") == 0) o->batch = atoi(v);
    else if (strcmp(k, "--steps") == 0) o->steps = atoi(v);
    else if (strcmp(k, "--warmup") == 0) o->warmup = atoi(v);
    else if (strcmp(k, "--rounds") == 0) o->rounds = atoi(v);
    else if (strcmp(k, "--threads") == 0) o->threads = atoi(v);
    else if (strcmp(k, "--rows") == 0) o->rows = (size_t)strtoull(v, NULL, 10);
    else if (strcmp(k, "--data") == 0) o->data = v;
    else if (strcmp(k, "--net-reps") == 0) o->net_reps = atoi(v);
    else if (strcmp(k, "--json") == 0) c->json = v;
    else if (strcmp(k, "--reduction") == 0) {
        if (strcmp(v, "library") == 0) o->reduction = BMPI_LIBRARY;
        else if (strcmp(v, "emulated") == 0) o->reduction = BMPI_EMULATED;
        else return -1;
    } else return -1;
    return 0;
}

static int parse(cli *c, int argc, char **argv)
{
    static const size_t main_job[] = {784, 768, 384, 10};
    bmpi_opts *o = &c->o;
    memset(c, 0, sizeof *c);
    memcpy(o->sizes, main_job, sizeof main_job);
    o->n_layers = 3, o->batch = 256, o->steps = 30, o->warmup = 5, o->rounds = 3;
    o->threads = 1, o->net_reps = 20, o->seed = 42;
    o->data = "/usr/share/datasets/fashion-mnist";
#ifdef MLP_BENCH_HAVE_MPI_LIB
    o->reduction = BMPI_LIBRARY;
#else
    o->reduction = BMPI_EMULATED;
#endif
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epoch") == 0) o->epoch = 1;
        else if (i + 1 < argc && parse_value(c, argv[i], argv[i + 1]) == 0) i++;
        else return -1;
    }
#ifndef MLP_BENCH_HAVE_MPI_LIB
    if (o->reduction == BMPI_LIBRARY) {
        fputs("mlp-bench-mpi: built without libmlp_mpi: --reduction emulated only\n", stderr);
        return -1;
    }
#endif
    return o->batch >= 1 && o->steps >= 0 && o->warmup >= 0 && o->rounds >= 1 &&
                   o->threads >= 1 && o->net_reps >= 1 ? 0 : -1;
}

/* Fashion-MNIST's training set, or synthetic rows (inputs uniform in
 * [-1, 1], labels i*7 mod n_out) for a run without the data. */
static int load(const bmpi_opts *o, mlp_dataset **ds, float **Xs, int32_t **ys, bmpi_data *d)
{
    size_t n_in = o->sizes[0], n_out = o->sizes[o->n_layers];
    if (o->rows == 0) {
        char img[4096], lab[4096];
        mlp_status s;
        snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", o->data);
        snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", o->data);
        if ((s = mlp_dataset_load_idx(ds, img, lab)) != MLP_OK) {
            fprintf(stderr, "mlp-bench-mpi: %s: %s (%s)\n", img, mlp_strerror(s), mlp_last_error());
            return -1;
        }
        d->X = mlp_dataset_features(*ds), d->y = mlp_dataset_classes(*ds);
        d->rows = mlp_dataset_rows(*ds), d->cols = mlp_dataset_cols(*ds);
        return d->cols == n_in && mlp_dataset_num_classes(*ds) <= n_out ? 0 : -1;
    }
    *Xs = malloc(o->rows * n_in * sizeof **Xs);
    *ys = malloc(o->rows * sizeof **ys);
    if (!*Xs || !*ys) return -1;
    srand((unsigned)o->seed);
    for (size_t i = 0; i < o->rows * n_in; i++) (*Xs)[i] = 2.0f * (float)rand() / (float)RAND_MAX - 1.0f;
    for (size_t i = 0; i < o->rows; i++) (*ys)[i] = (int32_t)((i * 7) % n_out);
    d->X = *Xs, d->y = *ys, d->rows = o->rows, d->cols = n_in;
    return 0;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

static void layers_name(const bmpi_opts *o, char *buf, size_t cap)
{
    size_t at = 0;
    for (size_t i = 0; i <= o->n_layers && at < cap; i++)
        at += (size_t)snprintf(buf + at, cap - at, i ? "-%zu" : "%zu", o->sizes[i]);
}

typedef struct field {
    const char *key;
    double v;
} field;

/* The numbers reported, in milliseconds, shares and rates. */
static size_t fields(const bmpi_opts *o, const bmpi_result *r, const bench_net *n, field *f)
{
    const double ms = 1e3, dp = r->step_dp_s;
    size_t k = 0;
    f[k++] = (field){"n_params", (double)r->n_params};
    f[k++] = (field){"step_ms", dp * ms};
    f[k++] = (field){"step_alone_ms", r->step_alone_s * ms};
    f[k++] = (field){"step_emulated_ms", r->step_emulated_s * ms};
    f[k++] = (field){"step_overlap_ms", r->step_overlap_s * ms};
    f[k++] = (field){"step_blocking_ms", r->step_blocking_s * ms};
    f[k++] = (field){"comm_ms", r->comm_s * ms};
    f[k++] = (field){"exposed_ms", r->exposed_s * ms};
    f[k++] = (field){"stats_ms", r->stats_s * ms};
    f[k++] = (field){"emulated_comm_ms", r->emu_comm_s * ms};
    f[k++] = (field){"imbalance_ms", r->imbalance_s * ms};
    f[k++] = (field){"hidden_share", r->hidden_share};
    f[k++] = (field){"hidden_from_hook", r->hidden_from_hook};
    f[k++] = (field){"step_min_ms", r->step_min_s * ms};
    f[k++] = (field){"comm_min_ms", r->comm_min_s * ms};
    f[k++] = (field){"exposed_min_ms", r->exposed_min_s * ms};
    f[k++] = (field){"hidden_share_min", r->hidden_share_min};
    f[k++] = (field){"comm_share", dp > 0.0 ? r->comm_s / dp : NAN};
    f[k++] = (field){"compute_share", dp > 0.0 ? r->step_alone_s / dp : NAN};
    f[k++] = (field){"samples_per_s", dp > 0.0 ? o->batch / dp : NAN};
    f[k++] = (field){"allreduce_1_us", n->small_s * 1e6};
    f[k++] = (field){"allreduce_grad_ms", n->big_s * ms};
    f[k++] = (field){"allreduce_grad_median_ms", n->big_median_s * ms};
    f[k++] = (field){"alpha_us", n->alpha_s * 1e6};
    f[k++] = (field){"bandwidth_gbit", n->bandwidth_Bps * 8e-9};
    f[k++] = (field){"epoch_s", r->epoch_s};
    f[k++] = (field){"epoch_rows", r->epoch_rows};
    f[k++] = (field){"epoch_samples_per_s", r->epoch_rows / r->epoch_s};
    f[k++] = (field){"epoch_cpu_share", r->epoch_cpu_share};
    f[k++] = (field){"profile_comm_ms", r->prof_comm_s * ms};
    f[k++] = (field){"epoch_profile_comm_s", r->epoch_prof_comm_s};
    return k;
}

static void report(const cli *c, int procs, const bmpi_result *r, const bench_net *n)
{
    const bmpi_opts *o = &c->o;
    field f[40];
    size_t nf = fields(o, r, n, f);
    char layers[256];
    double load[3] = {NAN, NAN, NAN};
    const char *red = o->reduction == BMPI_LIBRARY ? "library" : "emulated";
    const char *btl = env_or("OMPI_MCA_btl", "default"), *pml = env_or("OMPI_MCA_pml", "default");
    FILE *js = NULL;
    layers_name(o, layers, sizeof layers);
    getloadavg(load, 3);
    printf("mlp-bench-mpi: %d process(es) x %d thread(s), %s, batch %d, AdamW + dropout, "
           "reduction %s, btl %s, pml %s, load %.2f\n", procs, o->threads, layers, o->batch, red,
           btl, pml, load[0]);
    for (size_t i = 0; i < nf; i++) printf("  %-26s %.6g\n", f[i].key, f[i].v);
    if (!c->json) return;
    js = strcmp(c->json, "-") == 0 ? stdout : fopen(c->json, "w");
    if (!js) {
        fprintf(stderr, "mlp-bench-mpi: cannot write %s\n", c->json);
        return;
    }
    fprintf(js, "{\"procs\": %d, \"threads\": %d, \"layers\": \"%s\", \"batch\": %d, "
                "\"reduction\": \"%s\", \"btl\": \"%s\", \"pml\": \"%s\", \"load1\": ",
            procs, o->threads, layers, o->batch, red, btl, pml);
    bench_json_double(js, load[0]);
    for (size_t i = 0; i < nf; i++) {
        fprintf(js, ", \"%s\": ", f[i].key);
        bench_json_double(js, f[i].v);
    }
    fputs("}\n", js);
    if (js != stdout) fclose(js);
}

int main(int argc, char **argv)
{
    cli c;
    bmpi_data d = {0};
    bmpi_result r;
    bench_net net = {0};
    mlp_dataset *ds = NULL;
    float *Xs = NULL;
    int32_t *ys = NULL;
    int rank, procs, ok, rc = 1;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &procs);
    if (parse(&c, argc, argv) != 0) {
        if (rank == 0) usage(stderr);
        MPI_Finalize();
        return 2;
    }
    mlp_set_num_threads(c.o.threads);
    ok = load(&c.o, &ds, &Xs, &ys, &d) == 0;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    if (ok && bmpi_run(&c.o, &d, MPI_COMM_WORLD, &r) == 0 &&
        bench_net_fit(MPI_COMM_WORLD, r.n_params, c.o.net_reps, &net) == 0) {
        if (rank == 0) report(&c, procs, &r, &net);
        rc = 0;
    } else if (rank == 0) fputs("mlp-bench-mpi: failed\n", stderr);
    mlp_dataset_destroy(ds);
    free(Xs), free(ys);
    MPI_Finalize();
    return rc;
}
