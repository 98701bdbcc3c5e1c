/* The learning curve as CSV: one row per epoch; NaN fields are left empty. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static void field(FILE *f, double v, int last)
{
    if (!isnan(v)) fprintf(f, "%.9g", v);
    fputc(last ? '\n' : ',', f);
}

int cli_write_curve_csv(const char *path, const mlp_progress *hist, size_t n)
{
    FILE *f = fopen(path, "w");
    size_t i;
    if (f == NULL) return cli_error(CLI_FAIL, "train", "%s: %s", path, strerror(errno));
    fprintf(f, "epoch,train_loss,objective,train_accuracy,val_loss,val_accuracy,"
               "learning_rate,elapsed_s\n");
    for (i = 0; i < n; i++) {
        const mlp_progress *p = &hist[i];
        fprintf(f, "%zu,", p->epoch);
        field(f, p->train_loss, 0);
        field(f, p->objective, 0);
        field(f, p->train_accuracy, 0);
        field(f, p->val_loss, 0);
        field(f, p->val_accuracy, 0);
        field(f, p->learning_rate, 0);
        field(f, p->elapsed_s, 1);
    }
    if (ferror(f) | (fclose(f) != 0))
        return cli_error(CLI_FAIL, "train", "%s: write failed", path);
    return 0;
}
