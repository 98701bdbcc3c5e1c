/* mlp train: trains a network (by default on Fashion-MNIST), saves it,
 * writes its learning curve, and reports the test accuracy. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LAYERS 64

static const char *const augment_names[] = {"none", "flip", NULL};
static const char *const scale_names[] = {"auto", "none", "unit", "minmax", "standard", NULL};
enum { SCALE_AUTO, SCALE_NONE, SCALE_UNIT, SCALE_MINMAX, SCALE_STANDARD };

/* The defaults are the recipe tuned for Fashion-MNIST (scripts/main.sh):
 * 784-768-384-10 ReLU on standardised pixels, dropout 0.1 on the pixels
 * and 0.2 on the hidden layers, AdamW 2e-3 (decay 0.1) with one warm-up
 * epoch and cosine decay, batch 256, 30 epochs, 5% held out for
 * validation. Each choice beat the alternatives tried (other scaling,
 * widths, dropout, mirrored copies); their accuracies are in
 * benchmarks/README.md. */
typedef struct train_args {
    const char *data, *labels, *test, *test_labels, *header, *task;
    const char *layers, *hidden, *activation, *out_activation, *loss;
    const char *optimizer, *schedule, *scale, *seed, *augment;
    const char *out, *curve_csv, *plot, *max_data_bytes;
    long label_col, weight_col;
    double lr, warmup, min_lr, gamma, momentum, weight_decay, clip, l2;
    double dropout, input_dropout, validation, tol;
    size_t step_epochs, batch, epochs, patience, threads, max_fun;
    int quiet;
    int profile;
    int shard;
} train_args;

static const train_args defaults = {
    NULL, NULL, NULL, NULL, "auto", "classify",
    NULL, "768,384", "relu", "identity", NULL,
    "adamw", "cosine", "auto", "42", "none",
    "mlp-model.mlp", NULL, NULL, NULL,
    -1, -2,
    2e-3, 1.0, 0.0, 0.1, 0.9, 0.1, 0.0, 0.0,
    0.2, 0.1, 0.05, 1e-4,
    10, 256, 30, 0, 0, 15000,
    0, 0, 0};

/* "" or "none" switches an output off. */
static const char *output_path(const char *p) { return p && *p && strcmp(p, "none") ? p : NULL; }

/* stem-suffix beside the model: mlp-model.mlp -> mlp-model-curve.svg */
static char *beside(const char *model, const char *suffix)
{
    const char *dot = strrchr(model, '.'), *slash = strrchr(model, '/');
    size_t stem = dot && (!slash || dot > slash) && dot != model ? (size_t)(dot - model) : strlen(model);
    char *s = malloc(stem + strlen(suffix) + 1);
    if (s == NULL) return NULL;
    memcpy(s, model, stem);
    strcpy(s + stem, suffix);
    return s;
}

/* shards: the processes of a sharded run, whose rows together are the
 * training set (NULL: X is the whole training set). */
static int set_scaling(mlp_network *net, int kind, const float *X, size_t rows,
                       const cli_world *shards)
{
    size_t n = mlp_input_size(net), i;
    float *off, *sc;
    mlp_status st;
    if (kind == SCALE_AUTO) kind = SCALE_STANDARD;
    if (kind == SCALE_NONE) return 0;
    if ((kind == SCALE_MINMAX || kind == SCALE_STANDARD) && shards != NULL)
        return cli_world_fit_scaling(shards, net, X, rows, kind == SCALE_MINMAX, "train");
    if (kind == SCALE_MINMAX || kind == SCALE_STANDARD) {
        st = mlp_fit_input_scaling(net, X, rows,
                                   kind == SCALE_MINMAX ? MLP_SCALE_MINMAX : MLP_SCALE_STANDARD);
        return st == MLP_OK ? 0 : cli_lib_error("train", "input scaling", st);
    }
    /* unit: raw bytes 0..255 to [0, 1] */
    off = calloc(n, sizeof *off);
    sc = malloc(n * sizeof *sc);
    if (off == NULL || sc == NULL) {
        free(off);
        free(sc);
        return cli_error(CLI_FAIL, "train", "out of memory");
    }
    for (i = 0; i < n; i++) sc[i] = 1.0f / 255.0f;
    st = mlp_set_input_scaling(net, off, sc);
    free(off);
    free(sc);
    return st == MLP_OK ? 0 : cli_lib_error("train", "input scaling", st);
}

/* Everything one run works with, freed in one place (train_run_free). */
typedef struct train_run {
    train_args a;
    size_t sizes[MAX_LAYERS + 1], n_sizes, n_layers, n_rows, n_out, n_train;
    mlp_activation acts[MAX_LAYERS], hid_act, out_act;
    mlp_loss loss;
    mlp_optimizer opt;
    mlp_schedule sched;
    int scale, classes, fashion, augment;
    unsigned long long seed;
    mlp_dataset *train, *test;
    mlp_network *net;
    mlp_trainer *tr;
    cli_split split;
    cli_weighted wtrain, wtest; /* with --weight-column: features and weights */
    const void *y_train, *y_test;
    cli_progress pr;
    /* Under MPI: the processes, and the training rows of all of them
     * (their sum when sharded). every_batch: a live progress bar. */
    cli_world w;
    size_t n_rows_all;
    int every_batch;
} train_run;

/* The features of a set (the weight column taken out when given) and their count. */
static const float *set_X(const mlp_dataset *ds, const cli_weighted *w)
{
    return w->X != NULL ? w->X : mlp_dataset_features(ds);
}

static size_t set_cols(const mlp_dataset *ds, const cli_weighted *w)
{
    return w->X != NULL ? w->cols : mlp_dataset_cols(ds);
}

/* The library's names, so that a new optimiser or schedule needs no change here. */
static const char *optimizer_name(int i) { return mlp_optimizer_name((mlp_optimizer)i); }
static const char *schedule_name(int i) { return mlp_schedule_name((mlp_schedule)i); }

/* The help of --optimizer and --schedule: every name, then the recipe's default. */
typedef struct train_help {
    char optimizer[256], schedule[256];
} train_help;

static void train_help_init(train_help *h)
{
    char names[192];
    cli_join_names(names, sizeof names, optimizer_name);
    snprintf(h->optimizer, sizeof h->optimizer, "%s (default %s)", names, defaults.optimizer);
    cli_join_names(names, sizeof names, schedule_name);
    snprintf(h->schedule, sizeof h->schedule, "%s (default %s)", names, defaults.schedule);
}

#define TRAIN_N_OPTS 44 /* the options below and the terminating entry */

static void train_options(cli_opt *out, train_args *a, const train_help *h)
{
    const cli_opt opts[] = {
        {"data", 'd', CLI_STR, &a->data, "FILE", "training data: CSV, or IDX images with --labels\n"
         "                               (default: Fashion-MNIST from dataset-fashion-mnist)", 0},
        {"labels", 0, CLI_STR, &a->labels, "FILE", "IDX labels for --data", 0},
        {"test", 0, CLI_STR, &a->test, "FILE", "test data, same format (default with Fashion-MNIST: its test set)", 0},
        {"test-labels", 0, CLI_STR, &a->test_labels, "FILE", "IDX labels for --test", 0},
        {"header", 0, CLI_STR, &a->header, "auto|yes|no", "CSV header line (default auto)", 0},
        {"label-column", 0, CLI_LONG, &a->label_col, "N", "CSV column of the target, from 0 (-1 = last, default)", 0},
        {"weight-column", 0, CLI_LONG, &a->weight_col, "N", "CSV column of each row's weight (finite, >= 0, not\n"
         "                               all 0), from 0 (-1 = last); taken out of the features.\n"
         "                               A weight of 2 counts a row twice, 0 leaves it out; the\n"
         "                               validation rows keep theirs; --test drops the column", 0},
        {"max-data-bytes", 0, CLI_STR, &a->max_data_bytes, "N", "refuse data that would take more than N bytes\n"
         "                               to load (suffix K, M or G; default: half the\n"
         "                               physical memory; 0: no bound)", 0},
        {"task", 0, CLI_STR, &a->task, "classify|regress", "class labels or float targets (default classify)", 0},
        {"layers", 0, CLI_STR, &a->layers, "SPEC", "all layer sizes, e.g. 784-512-256-10", 0},
        {"hidden", 0, CLI_STR, &a->hidden, "SPEC", "hidden layer sizes, e.g. 512,256 (default 768,384)", 0},
        {"activation", 0, CLI_STR, &a->activation, "NAME", "hidden activation: relu, leaky_relu, gelu, tanh,\n"
         "                               sigmoid, softplus, identity (default relu)", 0},
        {"output-activation", 0, CLI_STR, &a->out_activation, "NAME", "output activation (default identity)", 0},
        {"loss", 0, CLI_STR, &a->loss, "NAME", "softmax_cross_entropy, mse, sigmoid_cross_entropy\n"
         "                               (default: softmax_cross_entropy to classify, mse to regress)", 0},
        {"optimizer", 0, CLI_STR, &a->optimizer, "NAME", h->optimizer, 0},
        {"lr", 0, CLI_DOUBLE, &a->lr, "X", "learning rate (default 2e-3)", 0},
        {"schedule", 0, CLI_STR, &a->schedule, "NAME", h->schedule, 0},
        {"warmup", 0, CLI_DOUBLE, &a->warmup, "EPOCHS", "cosine: linear warm-up (default 1)", 0},
        {"min-lr", 0, CLI_DOUBLE, &a->min_lr, "X", "cosine: final learning rate (default 0)", 0},
        {"step-epochs", 0, CLI_SIZE, &a->step_epochs, "N", "step: decay period (default 10)", 0},
        {"gamma", 0, CLI_DOUBLE, &a->gamma, "X", "step: decay factor (default 0.1)", 0},
        {"momentum", 0, CLI_DOUBLE, &a->momentum, "X", "momentum, nesterov (default 0.9)", 0},
        {"weight-decay", 0, CLI_DOUBLE, &a->weight_decay, "X", "adamw: decoupled weight decay (default 0.1)", 0},
        {"clip", 0, CLI_DOUBLE, &a->clip, "X", "clip gradients to this global norm (default 0: off)", 0},
        {"batch-size", 'b', CLI_SIZE, &a->batch, "N", "mini-batch size (default 256; lbfgs, irprop: the\n"
         "                               full batch, computed in chunks of this many rows)", 0},
        {"tol", 0, CLI_DOUBLE, &a->tol, "X", "lbfgs: stop when max |dJ/dp| <= X (default 1e-4)", 0},
        {"max-fun", 0, CLI_SIZE, &a->max_fun, "N", "lbfgs: most evaluations of J (default 15000)", 0},
        {"epochs", 'e', CLI_SIZE, &a->epochs, "N", "epochs (default 30)", 0},
        {"l2", 0, CLI_DOUBLE, &a->l2, "X", "L2 penalty lambda/2 |W|^2 in the objective (default 0)", 0},
        {"dropout", 0, CLI_DOUBLE, &a->dropout, "P", "dropout on the hidden layers' outputs (default 0.2)", 0},
        {"input-dropout", 0, CLI_DOUBLE, &a->input_dropout, "P", "dropout on the inputs (default 0.1)", 0},
        {"seed", 0, CLI_STR, &a->seed, "N", "seed of the initialisation, shuffling and dropout (default 42)", 0},
        {"threads", 'j', CLI_SIZE, &a->threads, "N", "BLAS threads (default 0: every core that other\n"
         "                               work does not keep busy now)", 0},
        {"validation", 0, CLI_DOUBLE, &a->validation, "F", "fraction held out for validation (default 0.05)", 0},
        {"patience", 0, CLI_SIZE, &a->patience, "N", "stop after N epochs without a better validation\n"
         "                               loss and keep the best weights (default 0: off)", 0},
        {"augment", 0, CLI_STR, &a->augment, "none|flip", "flip: also train on every image mirrored left-right\n"
         "                               (square images; validation rows are held out first)", 0},
        {"scale", 0, CLI_STR, &a->scale, "KIND", "input scaling carried by the model: none, unit\n"
         "                               (x/255), minmax, standard (per feature; the default)", 0},
        {"out", 'o', CLI_STR, &a->out, "FILE", "the model file (default mlp-model.mlp; none: not saved)", 0},
        {"curve-csv", 0, CLI_STR, &a->curve_csv, "FILE", "learning curve CSV (default: beside the model, -curve.csv)", 0},
        {"plot", 0, CLI_STR, &a->plot, "FILE", "learning curve SVG (default: beside the model, -curve.svg)", 0},
        {"quiet", 'q', CLI_FLAG, &a->quiet, NULL, "no progress output", 0},
        {"profile", 0, CLI_FLAG, &a->profile, NULL,
         "print where the training time went (products, element-wise, dropout, optimizer, data, "
         "validation, other)", 0},
        {"shard", 0, CLI_FLAG, &a->shard, NULL,
         "under mpirun or srun: each process reads only its part\n"
         "                               of the training rows (default: each reads all)", 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0}};
    typedef char count_matches[sizeof opts == TRAIN_N_OPTS * sizeof opts[0] ? 1 : -1];
    (void)sizeof(count_matches);
    memcpy(out, opts, sizeof opts);
}

/* Names given for the optimizer, schedule, scaling, augmentation,
 * activations, loss and seed; checked before anything is loaded. */
static int check_names(train_run *r, const cli_opt *opts)
{
    const train_args *a = &r->a;
    char names[192];
    char *end;

    if (strcmp(a->task, "classify") != 0 && strcmp(a->task, "regress") != 0)
        return cli_error(CLI_USAGE, "train", "--task takes classify or regress, not '%s'", a->task);
    if (mlp_optimizer_parse(a->optimizer, &r->opt) != MLP_OK) {
        cli_join_names(names, sizeof names, optimizer_name);
        return cli_error(CLI_USAGE, "train", "unknown optimizer '%s' (%s)", a->optimizer, names);
    }
    if (mlp_schedule_parse(a->schedule, &r->sched) != MLP_OK) {
        cli_join_names(names, sizeof names, schedule_name);
        return cli_error(CLI_USAGE, "train", "unknown schedule '%s' (%s)", a->schedule, names);
    }
    if ((r->scale = cli_lookup(a->scale, scale_names)) < 0)
        return cli_error(CLI_USAGE, "train", "unknown scaling '%s' (auto, none, unit, minmax, "
                         "standard)", a->scale);
    if ((r->augment = cli_lookup(a->augment, augment_names)) < 0)
        return cli_error(CLI_USAGE, "train", "--augment takes none or flip, not '%s'", a->augment);
    if (mlp_activation_parse(a->activation, &r->hid_act) != MLP_OK)
        return cli_error(CLI_USAGE, "train", "unknown activation '%s'", a->activation);
    if (mlp_activation_parse(a->out_activation, &r->out_act) != MLP_OK)
        return cli_error(CLI_USAGE, "train", "unknown activation '%s'", a->out_activation);
    if (a->loss == NULL) r->loss = strcmp(a->task, "classify") == 0 ? MLP_LOSS_SOFTMAX_CE : MLP_LOSS_MSE;
    else if (mlp_loss_parse(a->loss, &r->loss) != MLP_OK)
        return cli_error(CLI_USAGE, "train", "unknown loss '%s' (softmax_cross_entropy, mse, "
                         "sigmoid_cross_entropy)", a->loss);
    r->classes = cli_loss_wants_classes(r->loss);
    if (r->classes != (strcmp(a->task, "classify") == 0) && a->loss != NULL && cli_seen(opts, "task"))
        return cli_error(CLI_USAGE, "train", "--loss %s does not fit --task %s", a->loss, a->task);
    errno = 0;
    r->seed = strtoull(a->seed, &end, 10);
    if (*a->seed < '0' || *a->seed > '9' || *end != '\0' || errno)
        return cli_error(CLI_USAGE, "train", "--seed takes an integer >= 0, not '%s'", a->seed);
    return 0;
}

/* The layer sizes and the numbers, checked before anything is loaded. */
static int check_sizes(train_run *r, const cli_opt *opts)
{
    const train_args *a = &r->a;
    if (a->layers != NULL && cli_seen(opts, "hidden"))
        return cli_error(CLI_USAGE, "train", "give --layers or --hidden, not both");
    if (a->layers != NULL) {
        r->n_sizes = cli_parse_sizes(a->layers, r->sizes, MAX_LAYERS + 1);
        if (r->n_sizes < 2)
            return cli_error(CLI_USAGE, "train", "--layers takes sizes like 784-512-10, not '%s'", a->layers);
    } else if (*a->hidden != '\0' && strcmp(a->hidden, "none") != 0) {
        r->n_sizes = cli_parse_sizes(a->hidden, r->sizes + 1, MAX_LAYERS - 1);
        if (r->n_sizes == 0)
            return cli_error(CLI_USAGE, "train", "--hidden takes sizes like 512,256, not '%s'", a->hidden);
        r->n_sizes += 2;
    } else {
        r->n_sizes = 2;
    }
    if (a->batch == 0) return cli_error(CLI_USAGE, "train", "--batch-size must be at least 1");
    if (a->epochs == 0) return cli_error(CLI_USAGE, "train", "--epochs must be at least 1");
    if (!(a->dropout >= 0 && a->dropout < 1) || !(a->input_dropout >= 0 && a->input_dropout < 1))
        return cli_error(CLI_USAGE, "train", "dropout must be in [0, 1)");
    if (!(a->validation >= 0 && a->validation < 1))
        return cli_error(CLI_USAGE, "train", "--validation must be in [0, 1)");
    if (a->warmup < 0) return cli_error(CLI_USAGE, "train", "--warmup must be >= 0");
    if (a->patience > 0 && a->validation == 0)
        return cli_error(CLI_USAGE, "train", "--patience needs a validation set (--validation F)");
    if (a->label_col < -1) return cli_error(CLI_USAGE, "train", "--label-column must be >= -1");
    if (a->weight_col < -1 && cli_seen(opts, "weight-column"))
        return cli_error(CLI_USAGE, "train", "--weight-column must be >= -1");
    if (a->weight_col != -2 && a->data == NULL)
        return cli_error(CLI_USAGE, "train", "--weight-column needs CSV --data");
    if (a->weight_col != -2 && strcmp(a->augment, "none") != 0)
        return cli_error(CLI_USAGE, "train", "--weight-column does not combine with --augment");
    if (a->max_data_bytes != NULL && cli_max_data_bytes_option("train", a->max_data_bytes) != 0)
        return CLI_USAGE;
    if (a->test_labels != NULL && a->test == NULL)
        return cli_error(CLI_USAGE, "train", "--test-labels needs --test");
    if (a->data == NULL && (a->labels != NULL || a->test != NULL))
        return cli_error(CLI_USAGE, "train", "--labels and --test need --data");
    return 0;
}

/* Under MPI the cores are shared by the processes on this machine, and
 * mpirun binds each process to a core or a socket by default: the
 * automatic count never exceeds the cores this process may run on. */
static void set_threads(const train_args *a, int local_procs)
{
    double busy = 0;
    int nt = a->threads > 0 ? (int)a->threads : cli_auto_threads(&busy) / local_procs;
    int allowed = cli_cpus_allowed(), capped = a->threads == 0 && allowed > 0 && nt > allowed;
    if (capped) nt = allowed;
    if (nt < 1) nt = 1;
    mlp_set_num_threads(nt);
    if (!a->quiet) {
        printf("threads: %d", nt);
        if (a->threads == 0) printf(" (auto: %ld cores, %.2f busy)",
                                    sysconf(_SC_NPROCESSORS_ONLN), busy);
        if (a->threads == 0 && local_procs > 1) printf(" per process, %d processes here", local_procs);
        if (capped) printf(", %d allowed to this process", allowed);
        printf("\n");
        cli_print_blas_hint();
    }
}

/* The training and test sets, and the number of outputs they call for.
 * Sharded, each process loads its part of the training rows; only rank 0
 * evaluates, so only rank 0 loads the test set. */
static int load_data(train_run *r)
{
    const train_args *a = &r->a;
    size_t part = a->shard ? (size_t)r->w.rank : 0, parts = a->shard ? (size_t)r->w.size : 1;
    int rc, test = r->w.rank == 0;
    r->fashion = a->data == NULL;
    if (r->fashion) {
        if (!r->classes)
            return cli_error(CLI_USAGE, "train", "Fashion-MNIST needs softmax_cross_entropy");
        if ((rc = cli_load_fashion_part("train", 0, part, parts, &r->train)) != 0) return rc;
        if (test && (rc = cli_load_fashion("train", 1, &r->test)) != 0) return rc;
    } else {
        if ((rc = cli_load_data_part("train", a->data, a->labels, a->header, a->label_col,
                                     r->classes, part, parts, &r->train)) != 0)
            return rc;
        if (test && a->test != NULL &&
            (rc = cli_load_data("train", a->test, a->test_labels, a->header, a->label_col,
                                r->classes, &r->test)) != 0)
            return rc;
    }
    if (a->weight_col != -2) {
        if (a->labels != NULL || a->test_labels != NULL)
            return cli_error(CLI_USAGE, "train", "--weight-column needs CSV data, not IDX");
        /* The test set's weights are dropped: the test report is unweighted. */
        if ((rc = cli_take_weights("train", r->train, a->weight_col, a->label_col, 1, &r->wtrain)) != 0 ||
            (r->test != NULL &&
             (rc = cli_take_weights("train", r->test, a->weight_col, a->label_col, 0, &r->wtest)) != 0))
            return rc;
    }
    if (r->classes && mlp_dataset_classes(r->train) == NULL)
        return cli_error(CLI_FAIL, "train", "the training data has no class labels (--labels FILE)");
    if (!r->classes && mlp_dataset_values(r->train) == NULL)
        return cli_error(CLI_FAIL, "train", "the training data has no target values (CSV only)");
    r->n_rows = mlp_dataset_rows(r->train);
    r->n_out = r->classes ? mlp_dataset_num_classes(r->train) : mlp_dataset_target_cols(r->train);
    if (r->classes && r->test != NULL && mlp_dataset_num_classes(r->test) > r->n_out)
        r->n_out = mlp_dataset_num_classes(r->test);
    if (r->classes && r->n_out < 2) r->n_out = 2;
    return 0;
}

/* What the processes must agree on once each holds its data: the features
 * per row (replicated, the rows too), the outputs (the largest class any
 * part shows) and the training rows of all. Collective; a process that
 * differs says how. No live bar under MPI: the launcher gives every
 * process a terminal even when its own output goes to a log file, and the
 * trainer options (the callback's rate among them) must agree. */
static int share_counts(train_run *r)
{
    const char *name = r->fashion ? "Fashion-MNIST" : r->a.data;
    size_t cols = set_cols(r->train, &r->wtrain), cols0 = cli_world_bcast(&r->w, cols);
    size_t rows0 = cli_world_bcast(&r->w, r->n_rows);
    int rc = 0, bar = !r->w.mpi && !r->a.quiet && isatty(fileno(stdout));
    if (cols != cols0)
        rc = cli_error(CLI_FAIL, "train", "%s: %zu features per row, but %zu on rank 0", name, cols,
                       cols0);
    else if (!r->a.shard && r->n_rows != rows0)
        rc = cli_error(CLI_FAIL, "train", "%s: %zu rows, but %zu on rank 0 (without --shard every "
                       "process trains on the same rows)", name, r->n_rows, rows0);
    r->n_out = cli_world_max(&r->w, r->n_out);
    r->n_rows_all = r->a.shard ? cli_world_sum(&r->w, r->n_rows) : r->n_rows;
    r->every_batch = bar;
    if (rc == 0 && r->a.shard && r->classes) {
        mlp_status st = mlp_dataset_set_num_classes(r->train, r->n_out);
        if (st != MLP_OK) rc = cli_lib_error("train", "the number of classes", st);
    }
    return rc;
}

/* The layer sizes from the data and --layers or --hidden. */
static int fit_sizes(train_run *r)
{
    size_t n_in = set_cols(r->train, &r->wtrain), i;
    if (r->a.layers != NULL) {
        size_t last = r->sizes[r->n_sizes - 1];
        /* A classifier may have more outputs than the data shows classes. */
        if (r->sizes[0] != n_in || last < r->n_out || (!r->classes && last != r->n_out))
            return cli_error(CLI_FAIL, "train", "--layers %s does not fit the data: %zu inputs, %zu outputs",
                             r->a.layers, n_in, r->n_out);
        r->n_out = last;
    }
    r->sizes[0] = n_in;
    r->sizes[r->n_sizes - 1] = r->n_out;
    r->n_layers = r->n_sizes - 1;
    for (i = 0; i < r->n_layers; i++) r->acts[i] = i + 1 == r->n_layers ? r->out_act : r->hid_act;
    return 0;
}

/* The network with its loss, penalty, dropout and input scaling, and the
 * targets it trains on. */
static int build_network(train_run *r)
{
    const train_args *a = &r->a;
    mlp_status st;
    size_t i;
    int rc;
    if ((rc = fit_sizes(r)) != 0) return rc;
    st = mlp_create(&r->net, r->n_layers, r->sizes, r->acts, (uint64_t)r->seed);
    if (st != MLP_OK) return cli_lib_error("train", "creating the network", st);
    if ((st = mlp_set_loss(r->net, r->loss)) != MLP_OK || (st = mlp_set_l2(r->net, (float)a->l2)) != MLP_OK)
        return cli_error(CLI_USAGE, "train", "%s", mlp_last_error());
    for (i = 0; i < r->n_layers; i++) {
        double p = i == 0 ? a->input_dropout : a->dropout;
        if (p > 0 && (st = mlp_set_dropout(r->net, i, (float)p)) != MLP_OK)
            return cli_lib_error("train", "dropout", st);
    }
    return 0;
}

/* The input scaling (collective when sharded) and the targets. */
static int fit_targets(train_run *r)
{
    const cli_world *shards = r->a.shard && r->w.mpi ? &r->w : NULL;
    int rc;
    if ((rc = set_scaling(r->net, r->scale, set_X(r->train, &r->wtrain), r->n_rows, shards)) != 0)
        return rc;
    r->y_train = cli_targets_cols("train", r->net, r->train, set_cols(r->train, &r->wtrain));
    if (r->y_train == NULL ||
        (r->test != NULL && (r->y_test = cli_targets_cols("train", r->net, r->test,
                                                          set_cols(r->test, &r->wtest))) == NULL))
        return CLI_FAIL;
    return 0;
}

static int set_opt(mlp_trainer *tr, mlp_option o, double v, const char *name)
{
    mlp_status st = mlp_trainer_set(tr, o, v);
    return st == MLP_OK ? 0 : cli_error(CLI_USAGE, "train", "--%s %g: %s", name, v, mlp_last_error());
}

/* The recipe's trainer options, each refused by the library with the flag named. */
static int set_trainer_options(train_run *r)
{
    const train_args *a = &r->a;
    size_t batches = (r->n_train + a->batch - 1) / a->batch, i;
    const struct {
        mlp_option option;
        double value;
        const char *flag;
    } set[] = {
        {MLP_OPTION_OPTIMIZER, r->opt, "optimizer"},
        {MLP_OPTION_LEARNING_RATE, a->lr, "lr"},
        {MLP_OPTION_SCHEDULE, r->sched, "schedule"},
        {MLP_OPTION_WARMUP_STEPS, floor(a->warmup * (double)batches), "warmup"},
        {MLP_OPTION_MIN_LR, a->min_lr, "min-lr"},
        {MLP_OPTION_STEP_EPOCHS, (double)a->step_epochs, "step-epochs"},
        {MLP_OPTION_GAMMA, a->gamma, "gamma"},
        {MLP_OPTION_MOMENTUM, a->momentum, "momentum"},
        {MLP_OPTION_WEIGHT_DECAY, a->weight_decay, "weight-decay"},
        {MLP_OPTION_CLIP_NORM, a->clip, "clip"},
        {MLP_OPTION_BATCH_SIZE, (double)a->batch, "batch-size"},
        {MLP_OPTION_EPOCHS, (double)a->epochs, "epochs"},
        {MLP_OPTION_VALIDATION_FRACTION, r->augment ? 0 : a->validation, "validation"},
        {MLP_OPTION_PATIENCE, (double)a->patience, "patience"},
        {MLP_OPTION_TOL, a->tol, "tol"},
        {MLP_OPTION_MAX_FUN, (double)a->max_fun, "max-fun"},
    };
    int rc;
    for (i = 0; i < sizeof set / sizeof set[0]; i++)
        if ((rc = set_opt(r->tr, set[i].option, set[i].value, set[i].flag)) != 0) return rc;
    return 0;
}

/* The trainer, the flipped copies (--augment flip) and the progress
 * report; the options follow once every process has its rows
 * (set_trainer_options). */
static int build_trainer(train_run *r)
{
    const train_args *a = &r->a;
    mlp_status st = mlp_trainer_create(r->net, &r->tr);
    int rc;
    if (st != MLP_OK) return cli_lib_error("train", "creating the trainer", st);
    r->n_train = r->n_rows - (size_t)((double)r->n_rows * a->validation);
    if (r->augment) {
        size_t cols = mlp_dataset_cols(r->train), w = (size_t)(sqrt((double)cols) + 0.5);
        if (w * w != cols)
            return cli_error(CLI_USAGE, "train", "--augment flip needs square images, not %zu pixels", cols);
        if ((rc = cli_split_flip(r->train, r->classes, a->validation, r->seed, w, &r->split)) != 0)
            return rc;
        r->n_train = r->split.n;
    }
    if (a->profile && (st = mlp_trainer_set_profile(r->tr, 1)) != MLP_OK)
        return cli_lib_error("train", "--profile", st);
    memset(&r->pr, 0, sizeof r->pr);
    r->pr.out = stdout;
    r->pr.tty = r->every_batch;
    r->pr.quiet = a->quiet;
    r->pr.batch_size = a->batch;
    if (r->every_batch) mlp_trainer_set(r->tr, MLP_OPTION_CALLBACK_EVERY_BATCH, 1);
    mlp_trainer_set_callback(r->tr, cli_progress_cb, &r->pr);
    return 0;
}

static void print_summary(const train_run *r)
{
    const train_args *a = &r->a;
    size_t i;
    if (r->w.mpi && a->shard)
        printf("processes: %d, sharded: each reads and shuffles its own part of the training "
               "rows and gives its share of every batch of %zu\n", r->w.size, a->batch);
    else if (r->w.mpi)
        printf("processes: %d, replicated: each reads every training row and trains on its slice "
               "of each batch of %zu\n", r->w.size, a->batch);
    printf("data: %s, %zu rows x %zu features", r->fashion ? "Fashion-MNIST" : a->data,
           r->n_rows_all, set_cols(r->train, &r->wtrain));
    if (r->wtrain.w != NULL) printf(", weights from column %ld", a->weight_col);
    if (r->classes) printf(", %zu classes", r->n_out);
    if (r->test != NULL) printf("; test %zu rows", mlp_dataset_rows(r->test));
    printf("\nnetwork: ");
    for (i = 0; i <= r->n_layers; i++) printf("%s%zu", i ? "-" : "", r->sizes[i]);
    printf(" %s, %s, %zu parameters\n", a->activation, mlp_loss_name(r->loss), mlp_num_params(r->net));
    printf("training: %s lr %g %s, batch %zu, %zu epochs, dropout %g/%g, validation %g, "
           "augment %s, seed %llu\n", a->optimizer, a->lr, a->schedule, a->batch, a->epochs,
           a->input_dropout, a->dropout, a->validation, a->augment, r->seed);
    fflush(stdout);
}

/* The trainer's split of the training time (mlp_trainer_profile). */
static void print_profile(const train_run *r)
{
    double sec[MLP_PROFILE_COUNT_], total;
    size_t epochs = mlp_trainer_epochs_run(r->tr);
    int rank = 0, processes = 1;
    mlp_trainer_reducer_rank(r->tr, &rank, &processes);
    if (rank != 0) /* process 0 alone prints: its own split */
        return;
    mlp_trainer_profile(r->tr, sec, MLP_PROFILE_COUNT_);
    total = sec[MLP_PROFILE_TOTAL];
    printf("profile: %.2f s in %zu epochs (%.3f s per epoch), %d threads\n", total, epochs,
           epochs ? total / (double)epochs : 0.0, mlp_get_num_threads());
    for (int i = 0; i < MLP_PROFILE_COUNT_; i++) {
        /* communication: this process's time not hidden behind computing */
        if (i == MLP_PROFILE_TOTAL || (i == MLP_PROFILE_COMMUNICATION && processes < 2))
            continue;
        printf("  %-13s %9.3f s  %5.1f%%\n", mlp_profile_part_name((mlp_profile_part)i), sec[i],
               total > 0.0 ? 100.0 * sec[i] / total : 0.0);
    }
    fflush(stdout);
}

static int run_training(train_run *r)
{
    const cli_split *s = &r->split;
    mlp_status st;
    if (!r->a.quiet) print_summary(r);
    if (r->augment)
        st = mlp_train(r->tr, s->X, s->y, s->n, s->X_val, s->y_val, s->n_val);
    else if (r->wtrain.w != NULL)
        st = mlp_train_weighted(r->tr, r->wtrain.X, r->y_train, r->wtrain.w, r->n_rows, NULL, NULL,
                                NULL, 0);
    else
        st = mlp_train(r->tr, mlp_dataset_features(r->train), r->y_train, r->n_rows, NULL, NULL, 0);
    if (r->pr.tty && !r->a.quiet) fputs("\r\033[K", stdout);
    if (st != MLP_OK) {
        int rc = cli_lib_error("train", "training failed", st);
        /* Divergence and a disagreement between the processes are decided
         * together, so every process returns them at once; any other
         * failure is this process's alone, and the others wait for it. */
        if (st == MLP_ERR_DIVERGED || st == MLP_ERR_MISMATCH) return rc;
        return cli_world_abort(&r->w, rc);
    }
    if (!r->a.quiet && mlp_trainer_stop_reason(r->tr) == MLP_STOP_EARLY)
        printf("early stop after %zu epochs; best epoch %zu restored\n",
               mlp_trainer_epochs_run(r->tr), mlp_trainer_best_epoch(r->tr));
    if (r->a.profile) print_profile(r);
    return 0;
}

/* The learning curve as CSV and SVG, beside the model unless named. */
static int write_curves(const train_run *r)
{
    const train_args *a = &r->a;
    size_t n_ep = mlp_trainer_epochs_run(r->tr), i;
    const char *base = output_path(a->out) ? a->out : "mlp-model";
    mlp_progress *hist = calloc(n_ep ? n_ep : 1, sizeof *hist);
    char *curve_csv = a->curve_csv ? NULL : beside(base, "-curve.csv");
    char *plot = a->plot ? NULL : beside(base, "-curve.svg");
    const char *p;
    int rc = 0;
    if (hist == NULL) {
        rc = cli_error(CLI_FAIL, "train", "out of memory");
        goto done;
    }
    for (i = 0; i < n_ep; i++) mlp_trainer_history(r->tr, i + 1, &hist[i]);
    if ((p = output_path(a->curve_csv ? a->curve_csv : curve_csv)) != NULL) {
        if ((rc = cli_write_curve_csv(p, hist, n_ep)) != 0) goto done;
        if (!a->quiet) printf("learning curve: %s\n", p);
    }
    if ((p = output_path(a->plot ? a->plot : plot)) != NULL) {
        char title[256];
        snprintf(title, sizeof title, "%s: %s", r->fashion ? "Fashion-MNIST" : a->data, a->optimizer);
        if ((rc = cli_write_curve_svg(p, hist, n_ep, title)) != 0) goto done;
        if (!a->quiet) printf("plot: %s\n", p);
    }
done:
    free(hist);
    free(curve_csv);
    free(plot);
    return rc;
}

/* The model file, the learning curve, and the test set's loss and accuracy. */
static int write_outputs(const train_run *r)
{
    mlp_status st;
    int rc;
    if (output_path(r->a.out) != NULL) {
        st = mlp_save(r->net, r->a.out);
        if (st != MLP_OK) return cli_lib_error("train", "saving the model", st);
        if (!r->a.quiet) printf("model: %s\n", r->a.out);
    }
    if ((rc = write_curves(r)) != 0) return rc;
    if (r->test != NULL) {
        double tl = NAN, ta = NAN;
        st = mlp_evaluate(r->net, set_X(r->test, &r->wtest), mlp_dataset_rows(r->test), r->y_test,
                          &tl, &ta);
        if (st != MLP_OK) return cli_lib_error("train", "evaluating the test set", st);
        printf("test loss: %.4f\n", tl);
        if (!isnan(ta)) printf("test accuracy: %.2f%%\n", 100 * ta);
    }
    fflush(stdout);
    return 0;
}

static void train_run_free(train_run *r)
{
    cli_split_free(&r->split);
    cli_weighted_free(&r->wtrain);
    cli_weighted_free(&r->wtest);
    mlp_trainer_destroy(r->tr);
    mlp_destroy(r->net);
    mlp_dataset_destroy(r->train);
    mlp_dataset_destroy(r->test);
}

/* A stage's outcome, agreed by every process: one that failed has said
 * why; the others stop with it (rank 0 says so), so that no process waits
 * for another that has given up. */
static int agreed(const train_run *r, int rc)
{
    int all = cli_world_agree(&r->w, rc);
    if (all != 0 && rc == 0 && r->w.rank == 0)
        cli_error(all, "train", "stopping: another process failed (its message names its rank)");
    return all;
}

/* Joins the trainer to the other processes. The attachment's own checks
 * (shapes, options, rows) fail on every process at once; anything else
 * fails this one alone, mid-way through a collective call. */
static int attach(train_run *r)
{
    mlp_status st = cli_world_attach(&r->w, r->tr, r->a.shard);
    int rc = st == MLP_OK ? 0 : cli_lib_error("train", "joining the other processes", st);
    if (rc != 0 && st != MLP_ERR_MISMATCH && st != MLP_ERR_OPTION) return cli_world_abort(&r->w, rc);
    return agreed(r, rc);
}

/* From the options to a trainer ready on every process; each stage ends
 * in an agreement, so that a failure on one process stops all of them. */
static int prepare(train_run *r, const cli_opt *opts)
{
    int rc = check_names(r, opts);
    if (rc == 0) rc = check_sizes(r, opts);
    if ((rc = agreed(r, rc)) != 0) return rc;
    set_threads(&r->a, r->w.local_size);
    if ((rc = agreed(r, load_data(r))) != 0 || (rc = agreed(r, share_counts(r))) != 0 ||
        (rc = agreed(r, build_network(r))) != 0 || (rc = agreed(r, fit_targets(r))) != 0 ||
        (rc = agreed(r, build_trainer(r))) != 0)
        return rc;
    /* The warm-up counts the steps of an epoch over every process's rows. */
    if (r->a.shard) r->n_train = cli_world_sum(&r->w, r->n_train);
    if ((rc = agreed(r, set_trainer_options(r))) != 0) return rc;
    return attach(r);
}

/* Outside MPI a world of one. Under mpirun or srun every process runs this;
 * rank 0 alone prints and writes the outputs, the others stay quiet unless
 * something fails. */
static int train_in_world(train_run *r, int argc, char **argv)
{
    train_help h;
    cli_opt opts[TRAIN_N_OPTS];
    const char *pos[1];
    size_t n_pos;
    int help = 0, rc;

    train_help_init(&h);
    train_options(opts, &r->a, &h);
    rc = agreed(r, cli_parse("train", argc, argv, opts, pos, 0, &n_pos, &help));
    if (rc) return rc;
    if (help) {
        if (r->w.rank == 0)
            cli_usage(stdout, "train", "[options]",
                      "Trains a multilayer perceptron, saves it with its input scaling, writes\n"
                      "its learning curve (CSV and SVG), and ends with `test accuracy: NN.NN%`\n"
                      "when a test set is known. Without --data it trains on Fashion-MNIST with\n"
                      "the project's best defaults.\n\n"
                      "Under `mpirun -np N` (or Slurm's srun) N processes train one model\n"
                      "data-parallel. Each reads the whole training set and trains on its\n"
                      "slice of every batch: the model one process trains with the same\n"
                      "batch size. With --shard each reads only its part of the rows and\n"
                      "holds out --validation of them (validation loss and accuracy are\n"
                      "summed over all processes). Rank 0 alone prints, reads\n"
                      "and scores the test set, and writes the model and the curves; a\n"
                      "process that fails ends the job, naming its rank.", opts);
        return 0;
    }
    if (r->w.rank != 0) r->a.quiet = 1;
    if ((rc = prepare(r, opts)) != 0 || (rc = run_training(r)) != 0) return rc;
    return agreed(r, r->w.rank == 0 ? write_outputs(r) : 0);
}

int cmd_train(int argc, char **argv)
{
    train_run r;
    int rc;

    memset(&r, 0, sizeof r);
    r.a = defaults;
    if ((rc = cli_world_init(&r.w, "train")) != 0) return rc;
    rc = train_in_world(&r, argc, argv);
    train_run_free(&r);
    cli_world_finish(&r.w);
    return rc;
}
