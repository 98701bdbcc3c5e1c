/* Training progress: a live bar with rate and ETA on a terminal, one plain
 * line per epoch otherwise. */
#include "cli.h"

#include <math.h>

static void print_clock(FILE *f, double s)
{
    long t = s > 0 && s < 1e7 ? (long)(s + 0.5) : 0;
    if (t >= 3600) fprintf(f, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else fprintf(f, "%ld:%02ld", t / 60, t % 60);
}

static void print_metrics(FILE *f, const mlp_progress *p)
{
    fprintf(f, "loss %.4f", p->train_loss);
    if (!isnan(p->train_accuracy)) fprintf(f, "  acc %.2f%%", 100 * p->train_accuracy);
    if (!isnan(p->val_loss)) fprintf(f, "  val_loss %.4f", p->val_loss);
    if (!isnan(p->val_accuracy)) fprintf(f, "  val_acc %.2f%%", 100 * p->val_accuracy);
}

int cli_progress_cb(const mlp_progress *p, void *user)
{
    cli_progress *pr = user;
    FILE *f = pr->out;
    double in_epoch = p->elapsed_s - pr->epoch_t0;

    if (pr->quiet) return 0;
    if (!p->epoch_end) {
        /* Mid-epoch: redraw the bar at most ten times a second. */
        const int width = 24;
        double frac = p->batches ? (double)p->batch / (double)p->batches : 0;
        double per_batch = p->batch ? in_epoch / (double)p->batch : 0;
        double left = per_batch * (double)((p->batches - p->batch) +
                                           (p->epochs - p->epoch) * p->batches);
        int i, fill = (int)(frac * width);
        if (!pr->tty || (p->elapsed_s - pr->last_draw < 0.1 && p->batch != 1)) return 0;
        pr->last_draw = p->elapsed_s;
        fprintf(f, "\r\033[Kepoch %zu/%zu [", p->epoch, p->epochs);
        for (i = 0; i < width; i++) fputc(i < fill ? '=' : i == fill ? '>' : ' ', f);
        fprintf(f, "] %3.0f%%  %.0f samples/s  ETA ", 100 * frac,
                in_epoch > 0 ? (double)(p->batch * pr->batch_size) / in_epoch : 0.0);
        print_clock(f, left);
        fprintf(f, "  loss %.4f", p->train_loss);
        fflush(f);
        return 0;
    }
    if (pr->tty) fputs("\r\033[K", f);
    fprintf(f, "epoch %zu/%zu  ", p->epoch, p->epochs);
    print_metrics(f, p);
    fprintf(f, "  lr %.3g  %.1f s\n", p->learning_rate, p->elapsed_s);
    fflush(f);
    pr->epoch_t0 = p->elapsed_s;
    return 0;
}
