/* mlp-bench-mpi: the main job's step and epoch on P processes. */
#ifndef MLP_BENCH_MPI_STEP_H
#define MLP_BENCH_MPI_STEP_H

#include <mlp.h>
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#define BMPI_MAX_LAYERS 16

/* How the gradients are summed across processes. */
typedef enum bmpi_reduction {
    /* libmlp_mpi attached to the trainer (mlp_mpi_attach): the library's
     * own reduction, overlapped with the backward pass as it does it. */
    BMPI_LIBRARY,
    /* From outside, without libmlp_mpi: each process steps on its rows of
     * the global batch, then the gradient buffer is summed with a blocking
     * MPI_Allreduce after the step (no overlap possible). The processes'
     * parameters drift apart; only the time is meaningful. */
    BMPI_EMULATED
} bmpi_reduction;

typedef struct bmpi_opts {
    size_t sizes[BMPI_MAX_LAYERS + 1];
    size_t n_layers;
    int batch, steps, warmup, rounds, threads, net_reps, epoch;
    size_t rows;      /* synthetic rows; 0 = Fashion-MNIST's training set */
    const char *data; /* Fashion-MNIST directory */
    bmpi_reduction reduction;
    uint64_t seed;
} bmpi_opts;

/* The data every process holds (the whole set: the replicated mode). */
typedef struct bmpi_data {
    const float *X;
    const int32_t *y;
    size_t rows, cols;
} bmpi_data;

/* Times per step (seconds, the slowest process's) and the derived shares. */
typedef struct bmpi_result {
    size_t n_params;
    double step_alone_s;    /* each process on its rows, no reduction */
    double step_emulated_s; /* the same plus barrier and MPI_Allreduce */
    double emu_comm_s;      /* the emulated MPI_Allreduce of the gradients */
    double imbalance_s;     /* waiting at the emulated barrier for the slowest */
    double step_dp_s;       /* the data-parallel step: library, else emulated */
    /* With the library's hook (else NAN): the step under the timing
     * reducer, overlapped as libmlp_mpi does it and blocking. */
    double step_overlap_s, step_blocking_s;
    double comm_s;     /* the gradient's communication: one blocking sum of it */
    double exposed_s;  /* the part the step waits for (overlapped: the wait) */
    double stats_s;    /* the statistics' blocking sums (overlapped step) */
    double hidden_share;  /* 1 - exposed / comm, in [0, 1] */
    int hidden_from_hook; /* 1: from the timing reducer; 0: from outside */
    /* With the hook (else NAN): the fastest single library step, the least
     * time of one step in the blocking and in the overlapped sums, and the
     * hidden share from those (robust to preemption on a loaded machine). */
    double step_min_s, comm_min_s, exposed_min_s, hidden_share_min;
    double epoch_s, epoch_rows; /* one epoch (when asked) */
    double epoch_cpu_share;     /* its CPU / (processes x threads x wall) */
    /* The trainer's profile part MLP_PROFILE_COMMUNICATION (the library's
     * own account of the communication it did not hide): per library
     * step, and over the epoch. */
    double prof_comm_s, epoch_prof_comm_s;
} bmpi_result;

/* Runs the step phases (rounds alternated, best of each) and the epoch.
 * Collective over comm; 0 on success, else every process returns -1. */
int bmpi_run(const bmpi_opts *o, const bmpi_data *d, MPI_Comm comm, bmpi_result *r);

#endif
