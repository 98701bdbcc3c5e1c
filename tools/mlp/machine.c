/* What this machine offers `mlp train`: the cores other work leaves free,
 * and whether OpenBLAS runs kernels that fit the CPU. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* All cores' busy and total time so far, in /proc/stat's ticks. */
static int read_cpu_times(unsigned long long *busy, unsigned long long *total)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                       &v[3], &v[4], &v[5], &v[6], &v[7])
              : 0;
    if (f != NULL) fclose(f);
    if (n < 4) return -1;
    *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    *busy = *total - v[3] - v[4]; /* less idle and iowait */
    return 0;
}

static double own_cpu_seconds(void)
{
    struct timespec t;
    return clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) == 0 ? (double)t.tv_sec + 1e-9 * t.tv_nsec
                                                            : 0.0;
}

/* The cores other work keeps busy now: the non-idle share of all cores'
 * time over 0.2 s of /proc/stat, less this process's own (OpenBLAS's
 * threads may still be spinning). Unlike the 1-minute load average, a
 * build that has just ended counts for nothing. -1 when /proc/stat cannot
 * be read. */
static double busy_cores(long ncpu)
{
    unsigned long long b0, t0, b1, t1;
    const struct timespec pause = {0, 200000000};
    const double tick = (double)sysconf(_SC_CLK_TCK); /* /proc/stat's unit, per second */
    double own = own_cpu_seconds(), busy;
    if (tick <= 0 || read_cpu_times(&b0, &t0) != 0) return -1;
    nanosleep(&pause, NULL);
    if (read_cpu_times(&b1, &t1) != 0 || t1 <= t0 || b1 < b0) return -1;
    own = (own_cpu_seconds() - own) * tick;
    busy = ((double)(b1 - b0) - own) / (double)(t1 - t0) * (double)ncpu;
    return busy > 0 ? busy : 0;
}

/* --threads 0: every core, less those other work keeps busy (busy_cores,
 * or the 1-minute load average where /proc/stat is missing; below 1.5
 * busy, two cores stay free). OpenBLAS threads synchronise at every GEMM,
 * so one descheduled thread stalls the others: on a busy machine more
 * threads train slower than fewer (benchmarks/README.md). */
int cli_auto_threads(double *busy)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int n;
    if (ncpu < 1) ncpu = 1;
    *busy = busy_cores(ncpu);
    if (*busy < 0) {
        FILE *f = fopen("/proc/loadavg", "r");
        *busy = 0;
        if (f != NULL) {
            if (fscanf(f, "%lf", busy) != 1) *busy = 0;
            fclose(f);
        }
    }
    n = (int)ncpu - (*busy > 0.5 ? (int)floor(*busy - 0.5) : 0);
    return n < 1 ? 1 : n > ncpu ? (int)ncpu : n;
}

void cli_print_blas_hint(void)
{
    const char *hint = mlp_blas_coretype_hint();
    if (hint != NULL)
        printf("hint: OpenBLAS runs its SSE kernels on this CPU; OPENBLAS_CORETYPE=%s uses its "
               "vector units (several times faster)\n", hint);
}
