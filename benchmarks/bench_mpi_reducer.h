/* mlp-bench-mpi: a reducer (mlp.h, mlp_reducer) that is libmlp_mpi's own
 * (mlp_mpi_reducer: its buckets, MPI_Iallreduce as they fill, the last one
 * at the update) with clocks around its calls, timing where the step
 * waits; or, blocking, that sums the whole gradient in one MPI_Allreduce
 * at the update after a barrier, which times the gradient's communication
 * in its cheapest form, with nothing hidden and without the processes'
 * imbalance. Needs the reduction hook (built with libmlp_mpi only). */
#ifndef MLP_BENCH_MPI_REDUCER_H
#define MLP_BENCH_MPI_REDUCER_H

#include <mlp.h>
#include <mpi.h>

typedef struct bench_reducer_times {
    double start_s;   /* inside the starts */
    double wait_s;    /* inside the wait at the update (a blocking reducer's sum) */
    double doubles_s; /* the statistics' blocking sums */
    double barrier_s; /* blocking: waiting for the other processes first */
    long starts, waits;
} bench_reducer_times;

/* Sets a timing reducer on tr over a duplicate of comm (collective, like
 * mlp_mpi_attach). *times stays valid while tr keeps the reducer; reset
 * it by zeroing. */
mlp_status bench_reducer_attach(mlp_trainer *tr, MPI_Comm comm, int blocking,
                                bench_reducer_times **times);

#endif
