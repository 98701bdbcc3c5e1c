/* The main job's epoch against its floor. The recipe is mlp train's
 * default (scripts/main.sh): 784-768-384-10 ReLU on standardised pixels,
 * dropout 0.1 on the pixels and 0.2 on the hidden layers, AdamW 2e-3
 * (decay 0.1), batch 256, 5% held out for validation. The trainer's
 * profile splits the time; the floors are per step, scaled by the rows an
 * epoch trains (or validates): products from the GEMM floor, the other
 * parts from the memory-traffic floor (bench_mem.c); "other" has none. */
#define _POSIX_C_SOURCE 200809L
#include "bench_epoch.h"

#include "bench_floor.h"
#include "bench_mem.h"
#include "bench_util.h"

#include <mlp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 256
#define VAL_FRACTION 0.05

static const size_t sizes[] = {784, 768, 384, 10};
static const mlp_activation acts[] = {MLP_ACT_RELU, MLP_ACT_RELU, MLP_ACT_IDENTITY};

static int fail(const char *what, mlp_status s)
{
    fprintf(stderr, "mlp-bench: epoch: %s: %s (%s)\n", what, mlp_strerror(s), mlp_last_error());
    return -1;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The recipe's network and trainer on X (n rows). */
static mlp_status setup(const float *X, size_t n, int epochs, uint64_t seed, mlp_network **net,
                        mlp_trainer **tr)
{
    mlp_status s;
    if ((s = mlp_create(net, 3, sizes, acts, seed)) != MLP_OK ||
        (s = mlp_set_loss(*net, MLP_LOSS_SOFTMAX_CE)) != MLP_OK ||
        (s = mlp_fit_input_scaling(*net, X, n, MLP_SCALE_STANDARD)) != MLP_OK ||
        (s = mlp_set_dropout(*net, 0, 0.1f)) != MLP_OK ||
        (s = mlp_set_dropout(*net, 1, 0.2f)) != MLP_OK ||
        (s = mlp_set_dropout(*net, 2, 0.2f)) != MLP_OK ||
        (s = mlp_trainer_create(*net, tr)) != MLP_OK)
        return s;
    if ((s = mlp_trainer_set(*tr, MLP_OPTION_OPTIMIZER, MLP_OPT_ADAMW)) != MLP_OK ||
        (s = mlp_trainer_set(*tr, MLP_OPTION_LEARNING_RATE, 2e-3)) != MLP_OK ||
        (s = mlp_trainer_set(*tr, MLP_OPTION_WEIGHT_DECAY, 0.1)) != MLP_OK ||
        (s = mlp_trainer_set(*tr, MLP_OPTION_BATCH_SIZE, BATCH)) != MLP_OK ||
        (s = mlp_trainer_set(*tr, MLP_OPTION_EPOCHS, epochs)) != MLP_OK ||
        (s = mlp_trainer_set(*tr, MLP_OPTION_VALIDATION_FRACTION, VAL_FRACTION)) != MLP_OK)
        return s;
    return mlp_trainer_set_profile(*tr, 1);
}

/* The rows mlp_train holds out for validation from n (its rounding). */
static size_t val_rows(size_t n) { return (size_t)(VAL_FRACTION * (double)n + 0.999999); }

/* Per-part floors in seconds for `epochs` epochs of n_train rows and
 * n_val validation rows at `threads` threads; -1 (said) when out of memory. */
static int floors(int threads, double n_train, double n_val, int epochs, double *fl)
{
    static const float drop[] = {0.1f, 0.2f, 0.2f};
    bench_floor *f = bench_floor_create(3, sizes, BATCH, 0.0f, 10.0);
    bench_mem_spec s = {3, sizes, BATCH, drop, 0, 0, 1, 1, 0, acts};
    double train_ms = 0.0, infer_ms = 0.0, mem[MEM_PARTS];
    const double steps = epochs * n_train / BATCH, val = epochs * n_val / BATCH;
    if (!f) goto nomem;
    for (int k = 0; k < 3; k++) { /* best of three */
        double t, i;
        bench_floor_run(f, &t, &i);
        if (k == 0 || t < train_ms) train_ms = t;
        if (k == 0 || i < infer_ms) infer_ms = i;
    }
    bench_floor_destroy(f);
    s.update_floats = bench_mem_update_floats(MLP_OPT_ADAMW, 0);
    s.data_bytes = (size_t)(n_train + n_val) * sizes[0] * sizeof(float);
    if (bench_mem_floor(&s, threads, 5, mem) < 0.0) goto nomem;
    memset(fl, 0, MLP_PROFILE_COUNT_ * sizeof *fl);
    fl[MLP_PROFILE_PRODUCTS] = steps * train_ms / 1e3;
    fl[MLP_PROFILE_ELEMENTWISE] = steps * mem[MEM_ELEMENTWISE] / 1e3;
    fl[MLP_PROFILE_DROPOUT] = steps * mem[MEM_DROPOUT] / 1e3;
    fl[MLP_PROFILE_OPTIMIZER] = steps * mem[MEM_OPTIMIZER] / 1e3;
    fl[MLP_PROFILE_DATA] = steps * mem[MEM_DATA] / 1e3;
    fl[MLP_PROFILE_VALIDATION] = val * infer_ms / 1e3; /* its products */
    for (int i = 0; i < MLP_PROFILE_TOTAL; i++) fl[MLP_PROFILE_TOTAL] += fl[i];
    return 0;
nomem:
    fprintf(stderr, "mlp-bench: epoch: out of memory\n");
    return -1;
}

static void print_split(FILE *out, const double *sec, const double *fl, double cpu, int threads)
{
    fputs("| part | seconds | floor s | time / floor |\n| --- | ---: | ---: | ---: |\n", out);
    for (int i = 0; i < MLP_PROFILE_COUNT_; i++) {
        fprintf(out, "| %s | %.3f | %.3f | ", mlp_profile_part_name((mlp_profile_part)i), sec[i],
                fl[i]);
        if (fl[i] > 0.0) fprintf(out, "%.2fx |\n", sec[i] / fl[i]);
        else fputs("- |\n", out);
    }
    fprintf(out, "epoch at %.3fx its floor; process CPU %.2f x threads x wall (%s)\n",
            sec[MLP_PROFILE_TOTAL] / fl[MLP_PROFILE_TOTAL], cpu / (threads * sec[MLP_PROFILE_TOTAL]),
            cpu <= 1.05 * threads * sec[MLP_PROFILE_TOTAL] ? "no oversubscription" : "OVERSUBSCRIBED");
}

/* Trains and reports; the data sets are the caller's. */
static int run(const mlp_dataset *ds, int epochs, uint64_t seed, int threads, FILE *out)
{
    const float *X = mlp_dataset_features(ds);
    size_t n = mlp_dataset_rows(ds), n_val = val_rows(n);
    mlp_network *net = NULL;
    mlp_trainer *tr = NULL;
    double sec[MLP_PROFILE_COUNT_], fl[MLP_PROFILE_COUNT_], cpu;
    mlp_status s;
    int rc = -1;
    mlp_set_num_threads(threads);
    if ((s = setup(X, n, epochs, seed, &net, &tr)) != MLP_OK) { fail("setup", s); goto done; }
    cpu = cpu_s();
    s = mlp_train(tr, X, mlp_dataset_classes(ds), n, NULL, NULL, 0);
    cpu = cpu_s() - cpu;
    if (s != MLP_OK) { fail("mlp_train", s); goto done; }
    mlp_trainer_profile(tr, sec, MLP_PROFILE_COUNT_);
    if (floors(threads, (double)(n - n_val), (double)n_val, epochs, fl) != 0) goto done;
    fprintf(out, "main job recipe (784-768-384-10, AdamW, dropout 0.1/0.2, batch %d): %d epoch(s) "
                 "of %zu rows, %d thread(s)\n", BATCH, epochs, n - n_val, threads);
    print_split(out, sec, fl, cpu, threads);
    rc = 0;
done:
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
    return rc;
}

/* The floors alone, for n rows: what a whole run's wall time compares with. */
static int floor_only(size_t n, int epochs, int threads, FILE *out)
{
    size_t n_val = val_rows(n);
    double fl[MLP_PROFILE_COUNT_];
    mlp_set_num_threads(threads);
    if (floors(threads, (double)(n - n_val), (double)n_val, epochs, fl) != 0) return -1;
    fputs("| part | floor s |\n| --- | ---: |\n", out);
    for (int i = 0; i < MLP_PROFILE_TOTAL; i++)
        if (fl[i] > 0.0)
            fprintf(out, "| %s | %.3f |\n", mlp_profile_part_name((mlp_profile_part)i), fl[i]);
    fprintf(out, "floor: %.3f s for %d epoch(s) of %zu rows and %zu validation rows, %d thread(s)\n",
            fl[MLP_PROFILE_TOTAL], epochs, n - n_val, n_val, threads);
    return 0;
}

int bench_epoch(const char *dir, int epochs, uint64_t seed, int threads, int floor_alone,
                FILE *out)
{
    char img[4096], lab[4096];
    mlp_dataset *ds = NULL;
    mlp_status s;
    int rc;
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", dir);
    if ((s = mlp_dataset_load_idx(&ds, img, lab)) != MLP_OK) return fail("loading the data", s);
    rc = floor_alone ? floor_only(mlp_dataset_rows(ds), epochs, threads, out)
                     : run(ds, epochs, seed, threads, out);
    mlp_dataset_destroy(ds);
    return rc;
}
