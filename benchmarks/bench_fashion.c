#include "bench_fashion.h"

#include "bench_util.h"

#include <mlp.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, mlp_status s)
{
    fprintf(stderr, "mlp-bench: fashion: %s: %s (%s)\n", what, mlp_strerror(s), mlp_last_error());
    return -1;
}

static mlp_status load(const char *dir, const char *split, mlp_dataset **out)
{
    char img[4096], lab[4096];
    snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    return mlp_dataset_load_idx(out, img, lab);
}

/* A copy of the features scaled by 1/255. */
static float *scaled(const mlp_dataset *ds)
{
    size_t n = mlp_dataset_rows(ds) * mlp_dataset_cols(ds), i;
    const float *x = mlp_dataset_features(ds);
    float *y = malloc(n * sizeof *y);
    if (y == NULL) return NULL;
    for (i = 0; i < n; i++) y[i] = x[i] * (1.0f / 255.0f);
    return y;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int bench_fashion(const char *dir, int epochs, uint64_t seed, int cpu_clock,
                  bench_fashion_result *out)
{
    static const size_t sizes[] = {784, 256, 128, 10};
    static const mlp_activation acts[] = {MLP_ACT_RELU, MLP_ACT_RELU, MLP_ACT_IDENTITY};
    mlp_dataset *tr_ds = NULL, *te_ds = NULL;
    mlp_network *net = NULL;
    mlp_trainer *tr = NULL;
    float *Xtr = NULL, *Xte = NULL;
    double *ep = NULL, t0, prev = 0.0, acc = 0.0, loss = 0.0;
    mlp_status s;
    int rc = -1, e;

    if ((s = load(dir, "train", &tr_ds)) != MLP_OK) { fail("loading the training set", s); goto done; }
    if ((s = load(dir, "t10k", &te_ds)) != MLP_OK) { fail("loading the test set", s); goto done; }
    if (mlp_dataset_cols(tr_ds) != 784 || mlp_dataset_classes(tr_ds) == NULL) {
        fprintf(stderr, "mlp-bench: fashion: unexpected data in %s\n", dir);
        goto done;
    }
    Xtr = scaled(tr_ds);
    Xte = scaled(te_ds);
    ep = malloc((size_t)epochs * sizeof *ep);
    if (!Xtr || !Xte || !ep) { fprintf(stderr, "mlp-bench: fashion: out of memory\n"); goto done; }

    if ((s = mlp_create(&net, 3, sizes, acts, seed)) != MLP_OK) { fail("mlp_create", s); goto done; }
    if ((s = mlp_set_loss(net, MLP_LOSS_SOFTMAX_CE)) != MLP_OK) { fail("mlp_set_loss", s); goto done; }
    if ((s = mlp_reserve(net, 128)) != MLP_OK) { fail("mlp_reserve", s); goto done; }
    if ((s = mlp_trainer_create(net, &tr)) != MLP_OK) { fail("mlp_trainer_create", s); goto done; }
    if ((s = mlp_trainer_set(tr, MLP_OPTION_OPTIMIZER, MLP_OPT_ADAM)) != MLP_OK ||
        (s = mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, 1e-3)) != MLP_OK ||
        (s = mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, 128)) != MLP_OK ||
        (s = mlp_trainer_set(tr, MLP_OPTION_EPOCHS, epochs)) != MLP_OK ||
        (s = mlp_trainer_set(tr, MLP_OPTION_SHUFFLE, 1)) != MLP_OK) {
        fail("mlp_trainer_set", s);
        goto done;
    }
    t0 = bench_now_ms();
    s = mlp_train(tr, Xtr, mlp_dataset_classes(tr_ds), mlp_dataset_rows(tr_ds), NULL, NULL, 0);
    out->train_s = (bench_now_ms() - t0) / 1e3;
    if (s != MLP_OK) { fail("mlp_train", s); goto done; }
    out->epochs = (int)mlp_trainer_epochs_run(tr);
    if (out->epochs < 1) { fprintf(stderr, "mlp-bench: fashion: no epoch ran\n"); goto done; }
    /* Per-epoch times from the history's elapsed clock. */
    for (e = 0; e < out->epochs; e++) {
        mlp_progress p;
        if ((s = mlp_trainer_history(tr, (size_t)e + 1, &p)) != MLP_OK) {
            fail("mlp_trainer_history", s);
            goto done;
        }
        ep[e] = p.elapsed_s - prev;
        prev = p.elapsed_s;
    }
    qsort(ep, (size_t)out->epochs, sizeof *ep, cmp_double);
    out->epoch_s = out->epochs % 2 ? ep[out->epochs / 2]
                                   : 0.5 * (ep[out->epochs / 2 - 1] + ep[out->epochs / 2]);
    out->epoch_min_s = ep[0];
    out->epoch_max_s = ep[out->epochs - 1];
    if (cpu_clock) /* train_s is on the thread CPU clock (bench_now_ms) */
        out->epoch_s = out->epoch_min_s = out->epoch_max_s = out->train_s / out->epochs;
    if ((s = mlp_evaluate(net, Xte, mlp_dataset_rows(te_ds), mlp_dataset_classes(te_ds), &loss,
                          &acc)) != MLP_OK) {
        fail("mlp_evaluate", s);
        goto done;
    }
    out->test_accuracy = acc;
    out->test_loss = loss;
    out->n_train = mlp_dataset_rows(tr_ds);
    out->n_test = mlp_dataset_rows(te_ds);
    rc = 0;
done:
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
    mlp_dataset_destroy(tr_ds);
    mlp_dataset_destroy(te_ds);
    free(Xtr);
    free(Xte);
    free(ep);
    return rc;
}
