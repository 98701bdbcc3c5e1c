/* Loading data for the commands: Fashion-MNIST from its Debian package,
 * IDX or CSV files given on the command line. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

#ifdef MLP_HAVE_DATASET_PART
int cli_can_shard(void) { return 1; }
#else
/* A libmlp without mlp_dataset_load_csv_part and _idx_part: cmd_train
 * refuses --shard before loading (cli_can_shard). */
int cli_can_shard(void) { return 0; }
static mlp_status no_parts(void) { return MLP_ERR_ARGUMENT; }
#endif

const char *cli_fashion_dir(void)
{
    const char *dir = getenv("MLP_FASHION_MNIST_DIR");
    return dir != NULL && *dir != '\0' ? dir : FASHION_DIR;
}

/* Part `part` of `parts` of a file (the sharded mode of an MPI job); the
 * whole file when parts is 1. */
static mlp_status load_idx(mlp_dataset **out, const char *img, const char *lab, size_t part,
                           size_t parts)
{
    if (parts == 1) return mlp_dataset_load_idx(out, img, lab);
#ifdef MLP_HAVE_DATASET_PART
    return mlp_dataset_load_idx_part(out, img, lab, part, parts);
#else
    return no_parts();
#endif
}

static mlp_status load_csv(mlp_dataset **out, const char *path, int hdr, long label_column,
                           int classes, size_t part, size_t parts)
{
    if (parts == 1) return mlp_dataset_load_csv(out, path, hdr, label_column, classes);
#ifdef MLP_HAVE_DATASET_PART
    return mlp_dataset_load_csv_part(out, path, hdr, label_column, classes, part, parts);
#else
    return no_parts();
#endif
}

int cli_load_fashion(const char *cmd, int test, mlp_dataset **out)
{
    return cli_load_fashion_part(cmd, test, 0, 1, out);
}

int cli_load_fashion_part(const char *cmd, int test, size_t part, size_t parts, mlp_dataset **out)
{
    char img[1024], lab[1024];
    const char *dir = cli_fashion_dir(), *stem = test ? "t10k" : "train";
    mlp_status st;

    snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte.gz", dir, stem);
    snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte.gz", dir, stem);
    if (access(img, R_OK) != 0 || access(lab, R_OK) != 0)
        return cli_error(CLI_FAIL, cmd,
                         "Fashion-MNIST is not installed (no %s): run "
                         "`apt-get install dataset-fashion-mnist`, or pass --data FILE",
                         img);
    st = load_idx(out, img, lab, part, parts);
    if (st != MLP_OK) return cli_lib_error(cmd, "Fashion-MNIST", st);
    return 0;
}

/* IDX files start with 0 0 8 (unsigned bytes); gzip with 1f 8b. */
static int looks_like_idx(const char *path)
{
    unsigned char head[3] = {0xff, 0xff, 0xff};
    FILE *f = fopen(path, "rb");
    size_t n;
    if (f == NULL) return 0;
    n = fread(head, 1, 3, f);
    fclose(f);
    return (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) ||
           (n == 3 && head[0] == 0 && head[1] == 0 && head[2] == 0x08);
}

int cli_load_data(const char *cmd, const char *path, const char *labels_path, const char *header,
                  long label_column, int classes, mlp_dataset **out)
{
    return cli_load_data_part(cmd, path, labels_path, header, label_column, classes, 0, 1, out);
}

int cli_load_data_part(const char *cmd, const char *path, const char *labels_path,
                       const char *header, long label_column, int classes, size_t part,
                       size_t parts, mlp_dataset **out)
{
    mlp_status st;
    int hdr;
    FILE *probe = fopen(path, "rb");

    if (probe == NULL) return cli_error(CLI_FAIL, cmd, "%s: %s", path, strerror(errno));
    fclose(probe);
    if (labels_path != NULL || looks_like_idx(path)) {
        st = load_idx(out, path, labels_path, part, parts);
        if (st != MLP_OK) return cli_lib_error(cmd, "reading IDX data", st);
        return 0;
    }
    if (strcmp(header, "auto") == 0) hdr = -1;
    else if (strcmp(header, "yes") == 0) hdr = 1;
    else if (strcmp(header, "no") == 0) hdr = 0;
    else return cli_error(CLI_USAGE, cmd, "--header takes auto, yes or no, not '%s'", header);
    st = load_csv(out, path, hdr, label_column, classes, part, parts);
    if (st != MLP_OK) return cli_lib_error(cmd, "reading CSV data", st);
    return 0;
}

int cli_loss_wants_classes(mlp_loss loss) { return loss == MLP_LOSS_SOFTMAX_CE; }

const void *cli_targets(const char *cmd, const mlp_network *net, const mlp_dataset *ds)
{
    size_t n_in = mlp_input_size(net), n_out = mlp_output_size(net);
    if (mlp_dataset_cols(ds) != n_in) {
        cli_error(CLI_FAIL, cmd, "the data has %zu features per row, the model takes %zu",
                  mlp_dataset_cols(ds), n_in);
        return NULL;
    }
    if (cli_loss_wants_classes(mlp_get_loss(net))) {
        if (mlp_dataset_classes(ds) == NULL) {
            cli_error(CLI_FAIL, cmd, "the data has no class labels");
            return NULL;
        }
        if (mlp_dataset_num_classes(ds) > n_out) {
            cli_error(CLI_FAIL, cmd, "the data has class %zu, the model only %zu classes",
                      mlp_dataset_num_classes(ds) - 1, n_out);
            return NULL;
        }
        return mlp_dataset_classes(ds);
    }
    if (mlp_dataset_values(ds) == NULL || mlp_dataset_target_cols(ds) != n_out) {
        cli_error(CLI_FAIL, cmd, "the model has %zu outputs; the data needs as many target "
                  "columns, it has %zu", n_out, mlp_dataset_target_cols(ds));
        return NULL;
    }
    return mlp_dataset_values(ds);
}
