/* mlp predict MODEL: the class (or the output values) per input row. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 1024

static void print_row(FILE *f, const float *y, size_t n_out, mlp_loss loss, int values)
{
    size_t k, best = 0;
    if (loss == MLP_LOSS_SOFTMAX_CE && !values) {
        for (k = 1; k < n_out; k++)
            if (y[k] > y[best]) best = k;
        fprintf(f, "%zu\n", best);
        return;
    }
    if (loss == MLP_LOSS_SOFTMAX_CE) {
        /* probabilities: softmax of the logits */
        double m = y[0], sum = 0;
        for (k = 1; k < n_out; k++)
            if (y[k] > m) m = y[k];
        for (k = 0; k < n_out; k++) sum += exp(y[k] - m);
        for (k = 0; k < n_out; k++)
            fprintf(f, "%s%.6g", k ? "," : "", exp(y[k] - m) / sum);
    } else if (loss == MLP_LOSS_SIGMOID_CE) {
        for (k = 0; k < n_out; k++) fprintf(f, "%s%.6g", k ? "," : "", 1 / (1 + exp(-y[k])));
    } else {
        for (k = 0; k < n_out; k++) fprintf(f, "%s%.9g", k ? "," : "", y[k]);
    }
    fputc('\n', f);
}

/* The columns to leave out, (size_t)-1 for none: skip[0] the label's
 * (by default the last column other than the weights' when the file has
 * one column more than the model's inputs), skip[1] the weights'. Checked
 * against the model's inputs. */
static int skip_columns(long label_col, long weight_col, size_t cols, size_t n_in, size_t skip[2])
{
    size_t rest = cols;
    skip[0] = skip[1] = (size_t)-1;
    if (weight_col != -2) {
        skip[1] = weight_col < 0 ? cols - 1 : (size_t)weight_col;
        if (skip[1] >= cols)
            return cli_error(CLI_USAGE, "predict", "--weight-column %ld, but the data has %zu "
                             "columns", weight_col, cols);
        rest--;
    }
    if (label_col >= 0) skip[0] = (size_t)label_col;
    else if (label_col == -1 || rest == n_in + 1) skip[0] = cols - 1 - (skip[1] == cols - 1);
    if (label_col >= 0 && skip[0] >= cols)
        return cli_error(CLI_USAGE, "predict", "--label-column %ld, but the data has %zu columns",
                         label_col, cols);
    if (skip[0] != (size_t)-1 && skip[0] == skip[1])
        return cli_error(CLI_USAGE, "predict", "--weight-column is the label column");
    if (rest - (skip[0] != (size_t)-1) != n_in)
        return cli_error(CLI_FAIL, "predict", "the data has %zu columns, the model takes %zu inputs",
                         cols, n_in);
    return 0;
}

/* Forward passes over CHUNK rows at a time (X and Y hold one chunk), one
 * printed line per row. */
static int predict_chunks(mlp_network *net, const mlp_dataset *ds, const size_t *skip, float *X,
                          float *Y,
                          FILE *f, int probs)
{
    size_t rows = mlp_dataset_rows(ds), cols = mlp_dataset_cols(ds), r;
    size_t n_in = mlp_input_size(net), n_out = mlp_output_size(net);
    mlp_status st;
    mlp_reserve(net, CHUNK); /* speed only */
    for (r = 0; r < rows; r += CHUNK) {
        size_t n = rows - r < CHUNK ? rows - r : CHUNK, i, c;
        const float *src = mlp_dataset_features(ds) + r * cols;
        for (i = 0; i < n; i++) {
            float *dst = X + i * n_in;
            for (c = 0; c < cols; c++)
                if (c != skip[0] && c != skip[1]) *dst++ = src[i * cols + c];
        }
        st = mlp_forward(net, X, n, Y);
        if (st != MLP_OK) return cli_lib_error("predict", "forward pass", st);
        for (i = 0; i < n; i++) print_row(f, Y + i * n_out, n_out, mlp_get_loss(net), probs);
    }
    if (fflush(f) != 0 || ferror(f)) return cli_error(CLI_FAIL, "predict", "write failed");
    return 0;
}

/* The predictions of every row of ds, to out (NULL: standard output). */
static int predict_to(mlp_network *net, const mlp_dataset *ds, const size_t *skip, const char *out,
                      int probs)
{
    float *X = malloc(CHUNK * mlp_input_size(net) * sizeof *X);
    float *Y = malloc(CHUNK * mlp_output_size(net) * sizeof *Y);
    FILE *f = stdout;
    int rc;
    if (X == NULL || Y == NULL) {
        rc = cli_error(CLI_FAIL, "predict", "out of memory");
    } else if (out != NULL && (f = fopen(out, "w")) == NULL) {
        f = stdout;
        rc = cli_error(CLI_FAIL, "predict", "%s: %s", out, strerror(errno));
    } else {
        rc = predict_chunks(net, ds, skip, X, Y, f, probs);
    }
    if (f != stdout && fclose(f) != 0 && rc == 0) rc = cli_error(CLI_FAIL, "predict", "write failed");
    free(X);
    free(Y);
    return rc;
}

int cmd_predict(int argc, char **argv)
{
    const char *data = NULL, *header = "auto", *out = NULL, *max_bytes = NULL, *pos[1];
    long label_col = -3, weight_col = -2;
    int probs = 0;
    cli_opt opts[] = {
        {"data", 'd', CLI_STR, &data, "FILE", "input rows: CSV or IDX images (required)", 0},
        {"header", 0, CLI_STR, &header, "auto|yes|no", "CSV header line (default auto)", 0},
        {"label-column", 0, CLI_LONG, &label_col, "N",
         "CSV column to ignore, from 0 (-1 = last); default: the last one if the\n"
         "                               file has one column more than the model's inputs", 0},
        {"weight-column", 0, CLI_LONG, &weight_col, "N",
         "CSV column of the weights (as in mlp train), from 0\n"
         "                               (-1 = last): left out like the label", 0},
        {"max-data-bytes", 0, CLI_STR, &max_bytes, "N", "refuse data that would take more than N bytes\n"
         "                               to load (suffix K, M or G; default: half the\n"
         "                               physical memory; 0: no bound)", 0},
        {"probabilities", 'p', CLI_FLAG, &probs, NULL, "print class probabilities, not the class", 0},
        {"output", 'o', CLI_STR, &out, "FILE", "write to FILE instead of standard output", 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0}};
    size_t n_pos, skip[2];
    int help, rc;
    mlp_network *net = NULL;
    mlp_dataset *ds = NULL;
    mlp_status st;

    rc = cli_parse("predict", argc, argv, opts, pos, 1, &n_pos, &help);
    if (rc) return rc;
    if (help) {
        cli_usage(stdout, "predict", "MODEL --data FILE [-o FILE]",
                  "Prints one line per input row: the class for a classifier (softmax\n"
                  "cross-entropy), else the output values, comma-separated. Inputs are in\n"
                  "raw units; the model applies its own input scaling.", opts);
        return 0;
    }
    if (n_pos != 1) return cli_error(CLI_USAGE, "predict", "needs a MODEL file (see mlp predict --help)");
    if (data == NULL) return cli_error(CLI_USAGE, "predict", "needs --data FILE");
    if (label_col < -3 || label_col == -2)
        return cli_error(CLI_USAGE, "predict", "--label-column must be >= -1");
    if (weight_col < -1 && cli_seen(opts, "weight-column"))
        return cli_error(CLI_USAGE, "predict", "--weight-column must be >= -1");
    if (max_bytes != NULL && cli_max_data_bytes_option("predict", max_bytes) != 0) return CLI_USAGE;
    st = mlp_load(&net, pos[0]);
    if (st != MLP_OK) return cli_lib_error("predict", pos[0], st);
    rc = cli_load_data("predict", data, NULL, header, -2, 0, &ds);
    if (rc == 0)
        rc = skip_columns(label_col, weight_col, mlp_dataset_cols(ds), mlp_input_size(net), skip);
    if (rc == 0) rc = predict_to(net, ds, skip, out, probs);
    mlp_dataset_destroy(ds);
    mlp_destroy(net);
    return rc;
}
