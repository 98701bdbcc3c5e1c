/* mlp-bench-mpi: what the interconnect between the processes costs, from
 * MPI_Allreduce timed alone (the collective a data-parallel step makes). */
#ifndef MLP_BENCH_MPI_NET_H
#define MLP_BENCH_MPI_NET_H

#include <mpi.h>
#include <stddef.h>

/* Seconds per MPI_Allreduce (MPI_SUM, float) of n floats on comm, the best
 * and the median of reps calls, each started after a barrier so that a
 * late process is not counted as transfer time. Collective; -1 on failure
 * (out of memory: every process agrees). */
int bench_allreduce(MPI_Comm comm, size_t n, int reps, double *best_s, double *median_s);

/* The ring model's constants for this communicator, fitted from two
 * sizes: t(n) = 2(P-1)·alpha + 2(P-1)/P·4n / bandwidth. alpha from one
 * float, bandwidth (bytes/s) from n_big floats. Best of reps each. */
typedef struct bench_net {
    double alpha_s;       /* per message step of the ring */
    double bandwidth_Bps; /* bytes per second per link */
    double small_s;       /* one float, best */
    double big_s;         /* n_big floats, best */
    double big_median_s;  /* n_big floats, median */
    size_t n_big;
} bench_net;

int bench_net_fit(MPI_Comm comm, size_t n_big, int reps, bench_net *out);

#endif
