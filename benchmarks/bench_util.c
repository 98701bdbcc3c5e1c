#define _GNU_SOURCE /* mallinfo2 */
#include "bench_util.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static clockid_t bench_clock = CLOCK_MONOTONIC;

void bench_set_cpu_clock(int on) { bench_clock = on ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC; }

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

long bench_calibrate(bench_fn fn, void *ctx, double rep_ms, long *calls)
{
    double t0 = bench_now_ms(), once = 0.0;
    long i, inner;
    /* the fastest call sets the repetition length */
    for (i = 0; i < 2 || (bench_now_ms() - t0 < rep_ms && i < 1000); i++) {
        double s = bench_now_ms();
        if (fn(ctx) != 0) return 0;
        s = bench_now_ms() - s;
        if (i == 0 || s < once) once = s;
    }
    if (calls) *calls += i;
    inner = once > 0.0 ? (long)ceil(rep_ms / once) : 1000;
    if (inner < 1) inner = 1;
    if (inner > 100000) inner = 100000;
    return inner;
}

double bench_time(bench_fn fn, void *ctx, long inner)
{
    double t0 = bench_now_ms();
    long i;
    for (i = 0; i < inner; i++)
        if (fn(ctx) != 0) return -1.0;
    return (bench_now_ms() - t0) / (double)inner;
}

void bench_summarize(double *t, int n, bench_stats *out)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    out->median_ms = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    out->min_ms = t[0];
    out->max_ms = t[n - 1];
    out->reps = n;
}

int bench_measure(bench_fn fn, void *ctx, int reps, double rep_ms, bench_stats *out)
{
    double *t;
    long calls = 0, inner;
    int r, rc = -1;

    if (reps < 1) reps = 1;
    t = malloc((size_t)reps * sizeof *t);
    if (t == NULL) return -1;
    if ((inner = bench_calibrate(fn, ctx, rep_ms, &calls)) == 0) goto done;
    for (r = 0; r < reps; r++) {
        if ((t[r] = bench_time(fn, ctx, inner)) < 0.0) goto done;
        calls += inner;
    }
    bench_summarize(t, reps, out);
    out->inner = inner;
    out->calls = calls;
    rc = 0;
done:
    free(t);
    return rc;
}

size_t bench_parse_sizes(const char *s, char sep, size_t *out, size_t cap)
{
    size_t n = 0;
    while (*s) {
        char *end;
        unsigned long long v;
        if (*s < '0' || *s > '9') return 0;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || v == 0 || n == cap) return 0;
        out[n++] = (size_t)v;
        if (*end == sep && end[1] != '\0') s = end + 1;
        else if (*end == '\0') s = end;
        else return 0;
    }
    return n;
}

void bench_json_double(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

size_t bench_max_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024u; /* kilobytes on Linux */
}

size_t bench_heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}
