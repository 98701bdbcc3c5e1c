/* --weight-column: a CSV column of per-row weights, taken out of the
 * features that the library's CSV reader returns. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The weights must be usable by mlp_train_weighted: finite, >= 0, not all 0. */
static int check_weights(const char *cmd, const float *w, size_t rows, long col)
{
    size_t i;
    int any = 0;
    for (i = 0; i < rows; i++) {
        if (!(w[i] >= 0.0f) || isinf(w[i]))
            return cli_error(CLI_FAIL, cmd, "data row %zu: weight %g (column %ld) is not a finite "
                             "number >= 0", i + 1, (double)w[i], col);
        any |= w[i] > 0.0f;
    }
    if (!any) return cli_error(CLI_FAIL, cmd, "every weight (column %ld) is 0: no row counts", col);
    return 0;
}

int cli_take_weights(const char *cmd, const mlp_dataset *ds, long weight_col, long label_col,
                     int check, cli_weighted *out)
{
    size_t rows = mlp_dataset_rows(ds), cols = mlp_dataset_cols(ds), i, c;
    size_t file_cols = cols + (label_col != -2), wc, lc, fc;
    const float *X = mlp_dataset_features(ds);

    memset(out, 0, sizeof *out);
    wc = weight_col < 0 ? file_cols - 1 : (size_t)weight_col;
    lc = label_col == -2 ? (size_t)-1 : label_col < 0 ? file_cols - 1 : (size_t)label_col;
    if (wc >= file_cols)
        return cli_error(CLI_USAGE, cmd, "--weight-column %ld, but the data has %zu columns",
                         weight_col, file_cols);
    if (wc == lc)
        return cli_error(CLI_USAGE, cmd, "--weight-column %ld is the label column", weight_col);
    if (cols < 2)
        return cli_error(CLI_FAIL, cmd, "the data has no feature besides the weight column");
    fc = wc - (lc != (size_t)-1 && wc > lc); /* the column's index among the features */
    out->X = malloc(rows * (cols - 1) * sizeof *out->X);
    out->w = malloc(rows * sizeof *out->w);
    if (out->X == NULL || out->w == NULL) {
        cli_weighted_free(out);
        return cli_error(CLI_FAIL, cmd, "out of memory");
    }
    for (i = 0; i < rows; i++) {
        float *dst = out->X + i * (cols - 1);
        for (c = 0; c < cols; c++)
            if (c != fc) *dst++ = X[i * cols + c];
        out->w[i] = X[i * cols + fc];
    }
    out->rows = rows;
    out->cols = cols - 1;
    if (check && check_weights(cmd, out->w, rows, (long)wc) != 0) {
        cli_weighted_free(out);
        return CLI_FAIL;
    }
    return 0;
}

void cli_weighted_free(cli_weighted *w)
{
    free(w->X);
    free(w->w);
    memset(w, 0, sizeof *w);
}
