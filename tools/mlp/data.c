/* Loading data for the commands: Fashion-MNIST from its Debian package,
 * IDX or CSV files given on the command line. */
#include "cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* Set once from the command line before anything loads. */
static size_t max_data_bytes;
static int max_data_bytes_set;

size_t cli_default_max_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0 || (unsigned long)pages > SIZE_MAX / (unsigned long)page)
        return SIZE_MAX;
    return (size_t)pages * (size_t)page / 2;
}

void cli_set_max_data_bytes(size_t max_bytes)
{
    max_data_bytes = max_bytes;
    max_data_bytes_set = 1;
}

static size_t max_bytes_now(void)
{
    return max_data_bytes_set ? max_data_bytes : cli_default_max_bytes();
}

int cli_max_data_bytes_option(const char *cmd, const char *s)
{
    char *end;
    unsigned long long v;
    int shift = 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end == 'K' || *end == 'k') shift = 10;
    else if (*end == 'M' || *end == 'm') shift = 20;
    else if (*end == 'G' || *end == 'g') shift = 30;
    if (shift) end++;
    if (*s < '0' || *s > '9' || *end != '\0' || errno || v > (SIZE_MAX >> shift))
        return cli_error(CLI_USAGE, cmd, "--max-data-bytes takes N, NK, NM or NG, not '%s'", s);
    cli_set_max_data_bytes(v == 0 ? SIZE_MAX : (size_t)v << shift);
    return 0;
}

const char *cli_fashion_dir(void)
{
    const char *dir = getenv("MLP_FASHION_MNIST_DIR");
    return dir != NULL && *dir != '\0' ? dir : FASHION_DIR;
}

/* Part `part` of `parts` of a file (the sharded mode of an MPI job), or
 * the whole file within --max-data-bytes when parts is 1 (the bound is
 * the whole load's; a part takes about 1/parts of it). */
static mlp_status load_idx(mlp_dataset **out, const char *img, const char *lab, size_t part,
                           size_t parts)
{
    if (parts == 1) return mlp_dataset_load_idx_limit(out, img, lab, max_bytes_now());
    return mlp_dataset_load_idx_part(out, img, lab, part, parts);
}

static mlp_status load_csv(mlp_dataset **out, const char *path, int hdr, long label_column,
                           int classes, size_t part, size_t parts)
{
    if (parts == 1)
        return mlp_dataset_load_csv_limit(out, path, hdr, label_column, classes, max_bytes_now());
    return mlp_dataset_load_csv_part(out, path, hdr, label_column, classes, part, parts);
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
        if (st == MLP_ERR_TOO_LARGE)
            return cli_error(CLI_FAIL, cmd, "reading IDX data: %s (raise --max-data-bytes if the "
                             "file is trusted)", mlp_last_error());
        if (st != MLP_OK) return cli_lib_error(cmd, "reading IDX data", st);
        return 0;
    }
    if (strcmp(header, "auto") == 0) hdr = -1;
    else if (strcmp(header, "yes") == 0) hdr = 1;
    else if (strcmp(header, "no") == 0) hdr = 0;
    else return cli_error(CLI_USAGE, cmd, "--header takes auto, yes or no, not '%s'", header);
    st = load_csv(out, path, hdr, label_column, classes, part, parts);
    if (st == MLP_ERR_TOO_LARGE)
        return cli_error(CLI_FAIL, cmd, "reading CSV data: %s (raise --max-data-bytes if the "
                         "file is trusted)", mlp_last_error());
    if (st != MLP_OK) return cli_lib_error(cmd, "reading CSV data", st);
    return 0;
}

int cli_loss_wants_classes(mlp_loss loss) { return loss == MLP_LOSS_SOFTMAX_CE; }

const void *cli_targets(const char *cmd, const mlp_network *net, const mlp_dataset *ds)
{
    return cli_targets_cols(cmd, net, ds, mlp_dataset_cols(ds));
}

const void *cli_targets_cols(const char *cmd, const mlp_network *net, const mlp_dataset *ds,
                             size_t cols)
{
    size_t n_in = mlp_input_size(net), n_out = mlp_output_size(net);
    if (cols != n_in) {
        cli_error(CLI_FAIL, cmd, "the data has %zu features per row, the model takes %zu",
                  cols, n_in);
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
