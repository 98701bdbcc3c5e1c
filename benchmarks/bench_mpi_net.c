/* MPI_Allreduce timed alone, and the ring model's latency and bandwidth
 * fitted from it (see bench_mpi_net.h and scaling_model.py). */
#include "bench_mpi_net.h"

#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int bench_allreduce(MPI_Comm comm, size_t n, int reps, double *best_s, double *median_s)
{
    float *buf = calloc(n ? n : 1, sizeof *buf);
    double *t = malloc((size_t)(reps > 0 ? reps : 1) * sizeof *t);
    int ok = buf && t, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, comm);
    if (!all_ok || reps < 1) {
        free(buf), free(t);
        return -1;
    }
    for (int w = 0; w < 2; w++) /* warm-up: connections, registration */
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, comm);
    for (int r = 0; r < reps; r++) {
        double t0, dt;
        MPI_Barrier(comm);
        t0 = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, comm);
        dt = MPI_Wtime() - t0;
        /* The slowest process's time is the collective's. */
        MPI_Allreduce(&dt, &t[r], 1, MPI_DOUBLE, MPI_MAX, comm);
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    *best_s = t[0];
    *median_s = t[reps / 2];
    free(buf), free(t);
    return 0;
}

int bench_net_fit(MPI_Comm comm, size_t n_big, int reps, bench_net *out)
{
    int p;
    double med, steps, bytes;
    MPI_Comm_size(comm, &p);
    out->n_big = n_big;
    if (bench_allreduce(comm, 1, 5 * reps, &out->small_s, &med) != 0 ||
        bench_allreduce(comm, n_big, reps, &out->big_s, &out->big_median_s) != 0)
        return -1;
    if (p < 2) { /* nothing crosses a link */
        out->alpha_s = 0.0, out->bandwidth_Bps = 0.0;
        return 0;
    }
    steps = 2.0 * (p - 1);
    bytes = steps / p * 4.0 * (double)n_big;
    out->alpha_s = out->small_s / steps;
    out->bandwidth_Bps = bytes / (out->big_s - steps * out->alpha_s > 0.0
                                      ? out->big_s - steps * out->alpha_s
                                      : out->big_s);
    return 0;
}
