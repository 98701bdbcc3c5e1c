/* Small helpers of the mlp-bench binary: timing, statistics, lists, JSON. */
#ifndef MLP_BENCH_UTIL_H
#define MLP_BENCH_UTIL_H

#include <stddef.h>
#include <stdio.h>

/* Median, minimum and maximum of the per-call time over reps repetitions;
 * each repetition runs `inner` calls back to back (so that short calls are
 * not lost in the timer's resolution). */
typedef struct bench_stats {
    double median_ms, min_ms, max_ms;
    int reps;
    long inner;
    long calls; /* every call made, warm-up included */
} bench_stats;

/* The function measured; returns 0 on success. */
typedef int (*bench_fn)(void *ctx);

/* Milliseconds on the chosen clock: the wall clock (default), or with
 * bench_set_cpu_clock(1) the calling thread's CPU time, which leaves out
 * the time other processes hold the core (for a single-threaded BLAS on a
 * shared, loaded machine). */
double bench_now_ms(void);
void bench_set_cpu_clock(int on);

/* Warm-up: at least 2 calls and about rep_ms; returns the number of calls
 * per repetition (so that one lasts about rep_ms), or 0 if fn failed.
 * *calls (may be NULL) is increased by the calls made. */
long bench_calibrate(bench_fn fn, void *ctx, double rep_ms, long *calls);
/* Milliseconds per call over `inner` calls back to back; negative if fn
 * failed. */
double bench_time(bench_fn fn, void *ctx, long inner);
/* Median, minimum, maximum of t[0..n) (sorted in place). */
void bench_summarize(double *t, int n, bench_stats *out);

/* Warms up (at least 2 calls and ~rep_ms), picks inner so that a repetition
 * lasts about rep_ms, then times reps repetitions. Returns the first non-zero
 * value fn returned, else 0. */
int bench_measure(bench_fn fn, void *ctx, int reps, double rep_ms, bench_stats *out);

/* Parses "a,b,c" (sep ',') or "a-b-c" (sep '-') into at most cap sizes > 0.
 * Returns the count, 0 on a malformed list. */
size_t bench_parse_sizes(const char *s, char sep, size_t *out, size_t cap);

/* Writes a double as JSON (null for NaN or infinity). */
void bench_json_double(FILE *f, double v);

/* Peak resident set size of the process so far, in bytes. */
size_t bench_max_rss_bytes(void);
/* Bytes currently allocated from malloc (glibc mallinfo2: arena + mmap). */
size_t bench_heap_bytes(void);

#endif
