/* The learning curve as a self-contained SVG: loss (left) and accuracy
 * (right) per epoch, training and validation. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define PANEL_W 400.0
#define PANEL_H 260.0
#define MARGIN_L 60.0
#define MARGIN_T 40.0
#define GAP 90.0

typedef struct panel {
    double x0, y0;     /* top-left of the plot area */
    double lo, hi;     /* value range */
    size_t n;          /* epochs */
} panel;

static double px(const panel *p, size_t epoch)
{
    return p->x0 + (p->n > 1 ? (double)(epoch - 1) / (double)(p->n - 1) : 0.5) * PANEL_W;
}

static double py(const panel *p, double v)
{
    return p->y0 + PANEL_H - (v - p->lo) / (p->hi - p->lo) * PANEL_H;
}

/* A "nice" tick step for a range (1, 2 or 5 times a power of ten). */
static double nice_step(double range)
{
    double raw = range / 5, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return mag * (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10);
}

static double get(const mlp_progress *p, int which)
{
    switch (which) {
    case 0: return p->train_loss;
    case 1: return p->val_loss;
    case 2: return p->train_accuracy * 100;
    default: return p->val_accuracy * 100;
    }
}

static void axes(FILE *f, const panel *p, const char *label)
{
    double step = nice_step(p->hi - p->lo), t;
    size_t e, estep = p->n > 10 ? (p->n + 9) / 10 : 1;
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#888'/>\n",
            p->x0, p->y0, PANEL_W, PANEL_H);
    for (t = ceil(p->lo / step) * step; t <= p->hi + 1e-9 * step; t += step) {
        double y = py(p, t);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>\n", p->x0, y,
                p->x0 + PANEL_W, y);
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end' font-size='11'>%g</text>\n",
                p->x0 - 6, y + 4, fabs(t) < 1e-12 ? 0.0 : t);
    }
    for (e = 1; e <= p->n; e += estep)
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='11'>%zu</text>\n",
                px(p, e), p->y0 + PANEL_H + 16, e);
    fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12'>epoch</text>\n",
            p->x0 + PANEL_W / 2, p->y0 + PANEL_H + 34);
    fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='13' "
               "font-weight='bold'>%s</text>\n", p->x0 + PANEL_W / 2, p->y0 - 10, label);
}

static void series(FILE *f, const panel *p, const mlp_progress *hist, int which,
                   const char *colour, const char *dash)
{
    size_t i;
    int open = 0;
    for (i = 0; i < p->n; i++) {
        double v = get(&hist[i], which);
        if (!isfinite(v)) continue;
        if (!open) fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='",
                           colour, dash);
        fprintf(f, "%s%.1f,%.1f", open ? " " : "", px(p, hist[i].epoch), py(p, v));
        open = 1;
    }
    if (open) fprintf(f, "'/>\n");
}

static int has_any(const mlp_progress *hist, size_t n, int which)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (isfinite(get(&hist[i], which))) return 1;
    return 0;
}

static void range(const mlp_progress *hist, size_t n, int a, int b, double *lo, double *hi)
{
    size_t i;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (i = 0; i < n; i++) {
        int k;
        for (k = a; k <= b; k++) {
            double v = get(&hist[i], k);
            if (!isfinite(v)) continue;
            if (v < *lo) *lo = v;
            if (v > *hi) *hi = v;
        }
    }
    if (!(*lo <= *hi)) *lo = 0, *hi = 1;
    if (*hi - *lo < 1e-9 * (fabs(*hi) + 1)) *lo -= 0.5, *hi += 0.5;
    {
        double pad = (*hi - *lo) * 0.05;
        *lo -= pad;
        *hi += pad;
    }
}

static void legend(FILE *f, double x, double y, const char *colour, const char *dash,
                   const char *text)
{
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'%s/>\n",
            x, y, x + 24, y, colour, dash);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='12'>%s</text>\n", x + 30, y + 4, text);
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else fputc(*s, f);
    }
}

int cli_write_curve_svg(const char *path, const mlp_progress *hist, size_t n, const char *title)
{
    const char *dash = " stroke-dasharray='6,4'";
    double w = MARGIN_L + 2 * PANEL_W + GAP + 30, h = MARGIN_T + PANEL_H + 90;
    panel loss = {MARGIN_L, MARGIN_T + 20, 0, 1, n}, acc = loss;
    int with_acc = has_any(hist, n, 2) || has_any(hist, n, 3);
    FILE *f = fopen(path, "w");

    if (f == NULL) return cli_error(CLI_FAIL, "train", "%s: %s", path, strerror(errno));
    if (!with_acc) w = MARGIN_L + PANEL_W + 40;
    fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n"
               "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
               "viewBox='0 0 %.0f %.0f' font-family='sans-serif'>\n"
               "<rect width='100%%' height='100%%' fill='white'/>\n", w, h, w, h);
    fprintf(f, "<text x='%.1f' y='22' text-anchor='middle' font-size='15'>", w / 2);
    xml_text(f, title);
    fprintf(f, "</text>\n");

    range(hist, n, 0, 1, &loss.lo, &loss.hi);
    axes(f, &loss, "loss");
    series(f, &loss, hist, 0, "#1f77b4", "");
    series(f, &loss, hist, 1, "#1f77b4", dash);
    if (with_acc) {
        acc.x0 = MARGIN_L + PANEL_W + GAP;
        range(hist, n, 2, 3, &acc.lo, &acc.hi);
        if (acc.hi > 100) acc.hi = 100;
        axes(f, &acc, "accuracy (%)");
        series(f, &acc, hist, 2, "#d62728", "");
        series(f, &acc, hist, 3, "#d62728", dash);
    }
    legend(f, MARGIN_L, h - 22, "#555", "", "training");
    legend(f, MARGIN_L + 140, h - 22, "#555", dash, "validation");
    fprintf(f, "</svg>\n");
    if (ferror(f) | (fclose(f) != 0))
        return cli_error(CLI_FAIL, "train", "%s: write failed", path);
    return 0;
}
