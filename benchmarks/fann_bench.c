/* fann-bench: the FANN 2.2 side of benchmarks/compare. The same
 * architecture with tanh (FANN_SIGMOID_SYMMETRIC) everywhere, incremental
 * training (one sample at a time, as FANN trains), float build. Prints one
 * JSON object: per-sample training and inference times. */
#define _POSIX_C_SOURCE 200809L
#include <floatfann.h>

#include "bench_util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SIZES 33

typedef struct ctx {
    struct fann *ann;
    float *X, *Y;
    unsigned n_in, n_out, samples;
} ctx;

/* One "batch": `samples` incremental training steps. */
static int train_fn(void *p)
{
    ctx *c = p;
    unsigned i;
    for (i = 0; i < c->samples; i++)
        fann_train(c->ann, c->X + (size_t)i * c->n_in, c->Y + (size_t)i * c->n_out);
    return 0;
}

static int infer_fn(void *p)
{
    ctx *c = p;
    return fann_run(c->ann, c->X) == NULL;
}

int main(int argc, char **argv)
{
    const char *layers = "784-512-512-10";
    size_t sizes[MAX_SIZES], n, i;
    unsigned usizes[MAX_SIZES];
    int reps = 5, a;
    ctx c;
    bench_stats tr, inf;

    c.samples = 128;
    for (a = 1; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "--layers") == 0) layers = argv[a + 1];
        else if (strcmp(argv[a], "--samples") == 0) c.samples = (unsigned)atoi(argv[a + 1]);
        else if (strcmp(argv[a], "--reps") == 0) reps = atoi(argv[a + 1]);
        else break;
    }
    if (a != argc || reps < 1 || c.samples < 1) {
        fprintf(stderr, "usage: fann-bench [--layers 784-512-512-10] [--samples 128] [--reps 5]\n");
        return 2;
    }
    n = bench_parse_sizes(layers, '-', sizes, MAX_SIZES);
    if (n < 2) {
        fprintf(stderr, "fann-bench: bad --layers %s\n", layers);
        return 2;
    }
    for (i = 0; i < n; i++) usizes[i] = (unsigned)sizes[i];
    srand(42); /* FANN draws its initial weights from rand() */
    c.ann = fann_create_standard_array((unsigned)n, usizes);
    if (c.ann == NULL) {
        fprintf(stderr, "fann-bench: fann_create_standard_array failed\n");
        return 1;
    }
    fann_set_activation_function_hidden(c.ann, FANN_SIGMOID_SYMMETRIC);
    fann_set_activation_function_output(c.ann, FANN_SIGMOID_SYMMETRIC);
    fann_set_training_algorithm(c.ann, FANN_TRAIN_INCREMENTAL);
    fann_set_learning_rate(c.ann, 0.01f);
    c.n_in = usizes[0];
    c.n_out = usizes[n - 1];
    c.X = malloc((size_t)c.samples * c.n_in * sizeof *c.X);
    c.Y = calloc((size_t)c.samples * c.n_out, sizeof *c.Y);
    if (!c.X || !c.Y) {
        fprintf(stderr, "fann-bench: out of memory\n");
        return 1;
    }
    for (i = 0; i < (size_t)c.samples * c.n_in; i++) c.X[i] = (float)(i % 97) / 48.0f - 1.0f;
    for (i = 0; i < c.samples; i++) c.Y[i * c.n_out + i * 7 % c.n_out] = 1.0f;

    if (bench_measure(train_fn, &c, reps, 0.0, &tr) != 0 ||
        bench_measure(infer_fn, &c, reps < 5 ? 5 : reps, 10.0, &inf) != 0) {
        fprintf(stderr, "fann-bench: measuring failed\n");
        return 1;
    }
    printf("{\"layers\": \"%s\", \"samples\": %u, \"reps\": %d, \"train_batch_ms\": %.6g, "
           "\"train_batch_min_ms\": %.6g, \"train_batch_max_ms\": %.6g, "
           "\"train_per_sample_ms\": %.6g, \"infer_ms\": %.6g}\n",
           layers, c.samples, reps, tr.median_ms, tr.min_ms, tr.max_ms,
           tr.median_ms / c.samples, inf.median_ms);
    fann_destroy(c.ann);
    free(c.X);
    free(c.Y);
    return 0;
}
