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
/* From now on every message says "mlp CMD: rank N: ..." (a process of an
 * MPI job); -1 (the default) names no rank. */
void cli_set_rank(int rank);
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
/* The same for part `part` of `parts` of the rows (the sharded mode of an
 * MPI job; libmlp's mlp_dataset_load_*_part); parts 1 is the whole file. */
int cli_load_fashion_part(const char *cmd, int test, size_t part, size_t parts, mlp_dataset **out);
int cli_load_data_part(const char *cmd, const char *path, const char *labels_path,
                       const char *header, long label_column, int classes, size_t part,
                       size_t parts, mlp_dataset **out);

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

/* ---- the processes of an MPI job (world.c, world_scaling.c) ----------- */

/* rank 0 of 1 outside an MPI job. */
typedef struct cli_world {
    int rank, size;
    int local_size; /* processes on this machine */
    int mpi;        /* MPI was initialised: a launcher (mpirun, srun) started us */
} cli_world;

/* Joins the MPI job when a launcher's environment says one started this
 * process (OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_SIZE or PMI_RANK), and
 * names the rank in every message from then on; otherwise a world of one,
 * and MPI is never initialised. Prints why it fails. */
int cli_world_init(cli_world *w, const char *cmd);
/* The cores this process may run on (its affinity mask: mpirun's binding,
 * taskset, a Slurm cpuset), or 0 when unknown. */
int cli_cpus_allowed(void);
/* machine.c: --threads 0's count, every core less those other work keeps
 * busy now (*busy: that figure, or the load average without /proc/stat). */
int cli_auto_threads(double *busy);
/* machine.c: the OPENBLAS_CORETYPE line, where OpenBLAS runs SSE kernels on
 * a CPU with AVX2 or AVX-512 (mlp_blas_coretype_hint); nothing otherwise. */
void cli_print_blas_hint(void);
/* Collective: the largest of every process's rc (0 when all succeeded). */
int cli_world_agree(const cli_world *w, int rc);
/* Collective: the sum, the largest, and rank 0's value. */
size_t cli_world_sum(const cli_world *w, size_t v);
size_t cli_world_max(const cli_world *w, size_t v);
size_t cli_world_bcast(const cli_world *w, size_t v);
/* Collective, in place: op < 0 the minimum, 0 the sum, > 0 the maximum. */
void cli_world_reduce_doubles(const cli_world *w, double *x, size_t n, int op);
/* After a failure the other processes may not share (they would wait for
 * this one forever): ends the whole job (MPI_Abort) when there are others;
 * returns rc in a world of one. Print the cause first. */
int cli_world_abort(const cli_world *w, int rc);
/* Collective: attaches the world to tr (mlp_mpi_attach), sharded or
 * replicated; MLP_OK and nothing done outside MPI. */
mlp_status cli_world_attach(const cli_world *w, mlp_trainer *tr, int sharded);
void cli_world_finish(cli_world *w);
/* Collective: input scaling (minmax, else standard) from the rows of every
 * process (here X, n rows of the network's inputs), the same on all. */
int cli_world_fit_scaling(const cli_world *w, mlp_network *net, const float *X, size_t n,
                          int minmax, const char *cmd);

/* ---- commands --------------------------------------------------------- */

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

#endif /* MLP_CLI_H */
