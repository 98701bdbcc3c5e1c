/* Shared declarations of the `mlp` command line. */
#ifndef MLP_CLI_H
#define MLP_CLI_H

#include <mlp.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes: 0 success, 1 a failure while working, 2 bad usage. */
#define CLI_FAIL 1
#define CLI_USAGE 2

/* ---- options (opts.c) ----------------------------------------------- */

typedef enum cli_kind { CLI_STR, CLI_DOUBLE, CLI_SIZE, CLI_LONG, CLI_FLAG } cli_kind;

/* One option: --name VALUE, --name=VALUE, or -s VALUE; CLI_FLAG takes no
 * value. dst points to a const char *, double, size_t, long or int. */
typedef struct cli_opt {
    const char *name;
    char short_name;
    cli_kind kind;
    void *dst;
    const char *arg;  /* the value's name in --help */
    const char *help;
    int seen;
} cli_opt;

/* Parses argv[1..argc) (argv[0] is the command name) into opts (ended by a
 * NULL name) and up to max_pos positional arguments. Returns 0, or
 * CLI_USAGE after printing one line to stderr. --help / -h set *help. */
int cli_parse(const char *cmd, int argc, char **argv, cli_opt *opts, const char **pos,
              size_t max_pos, size_t *n_pos, int *help);
void cli_usage(FILE *f, const char *cmd, const char *synopsis, const char *about,
               const cli_opt *opts);
/* Prints "mlp CMD: message" to stderr and returns code. */
int cli_error(int code, const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* A library failure: "mlp CMD: what: <mlp_last_error or mlp_strerror>". */
int cli_lib_error(const char *cmd, const char *what, mlp_status st);
/* Looks name up in a NULL-terminated list; returns its index or -1. */
int cli_lookup(const char *name, const char *const *names);
/* Writes name_of(0), name_of(1), ... (up to the first NULL) joined by ", "
 * into buf: the library's lists of names (mlp_optimizer_name, ...). A list
 * too long for cap ends in "...". */
void cli_join_names(char *buf, size_t cap, const char *(*name_of)(int));
/* Parses "a,b,c" or "a-b-c" into up to cap positive sizes; returns the
 * count or 0 on a malformed list. */
size_t cli_parse_sizes(const char *s, size_t *out, size_t cap);
/* Whether an option was given on the command line. */
int cli_seen(const cli_opt *opts, const char *name);

/* ---- data (data.c) ---------------------------------------------------- */

/* The directory of the Debian package dataset-fashion-mnist
 * (MLP_FASHION_MNIST_DIR overrides it). */
const char *cli_fashion_dir(void);
/* Loads Fashion-MNIST's training (test != 0: test) set; prints why not. */
int cli_load_fashion(const char *cmd, int test, mlp_dataset **out);
/* Sets the bound on the memory a data load may take (--max-data-bytes);
 * SIZE_MAX: none. Until set: cli_default_max_bytes(). */
void cli_set_max_data_bytes(size_t max_bytes);
/* Half the physical memory (SIZE_MAX when unknown). */
size_t cli_default_max_bytes(void);
/* Parses --max-data-bytes: N bytes, or N with a suffix K, M or G (powers
 * of 1024); 0 means no bound. Returns 0, or CLI_USAGE after a message. */
int cli_max_data_bytes_option(const char *cmd, const char *s);
/* Loads a data set: IDX (gzip or raw; labels from labels_path) or CSV,
 * told apart by the first bytes. header: "auto", "yes" or "no". */
int cli_load_data(const char *cmd, const char *path, const char *labels_path, const char *header,
                  long label_column, int classes, mlp_dataset **out);

/* A data set's features with the CSV weight column taken out. */
typedef struct cli_weighted {
    float *X; /* rows x cols */
    float *w; /* rows */
    size_t rows, cols;
} cli_weighted;
/* Takes column weight_col of the file (from 0; -1 = last) out of ds's
 * features into out->w. label_col: the file's label column that the loader
 * already removed (-1 = last, -2 = none). check: refuse weights that are
 * negative, NaN or infinite, and weights that are all 0. Prints why not. */
int cli_take_weights(const char *cmd, const mlp_dataset *ds, long weight_col, long label_col,
                     int check, cli_weighted *out);
void cli_weighted_free(cli_weighted *w);
/* Whether the targets the network's loss needs are classes. */
int cli_loss_wants_classes(mlp_loss loss);
/* The targets of ds for net's loss, or NULL (after a message) when the
 * data set does not fit the network. */
const void *cli_targets(const char *cmd, const mlp_network *net, const mlp_dataset *ds);
/* cli_targets for features of `cols` columns (the weight column taken out). */
const void *cli_targets_cols(const char *cmd, const mlp_network *net, const mlp_dataset *ds,
                             size_t cols);

/* ---- progress and learning curves ------------------------------------ */

typedef struct cli_progress {
    FILE *out;
    int tty;           /* a live bar (per batch) instead of one line per epoch */
    int quiet;
    double last_draw;  /* elapsed_s of the last bar */
    double epoch_t0;   /* elapsed_s when the current epoch began */
    size_t batch_size;
} cli_progress;

/* The trainer callback: draws the bar or prints an epoch line. */
int cli_progress_cb(const mlp_progress *p, void *user);

int cli_write_curve_csv(const char *path, const mlp_progress *hist, size_t n);
int cli_write_curve_svg(const char *path, const mlp_progress *hist, size_t n, const char *title);

/* ---- augmentation (augment.c) ------------------------------------------ */

/* Training rows (with a mirrored copy of each) and validation rows. */
typedef struct cli_split {
    float *X, *X_val;
    void *y, *y_val;
    size_t n, n_val;
} cli_split;

/* Holds out val_fraction of ds (shuffled by seed) for validation, then
 * appends every remaining row mirrored left-right as an image `width`
 * pixels wide. Prints why on failure. */
int cli_split_flip(const mlp_dataset *ds, int classes, double val_fraction, uint64_t seed,
                   size_t width, cli_split *out);
void cli_split_free(cli_split *s);

/* ---- commands --------------------------------------------------------- */

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

#endif /* MLP_CLI_H */
