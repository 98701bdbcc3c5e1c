/* The timing reducer (bench_mpi_reducer.h). Overlapped, it is libmlp_mpi's
 * own reducer (mlp_mpi_reducer: the same buckets, the same calls) with
 * clocks around its callbacks, so that its step is the library's step. */
#include "bench_mpi_reducer.h"

#include <limits.h>
#include <mlp_mpi.h>
#include <stdlib.h>

typedef struct tctx {
    bench_reducer_times t; /* first: the handle given out */
    mlp_reducer lib;       /* libmlp_mpi's reducer, wrapped */
    MPI_Comm comm;         /* the library's communicator is its own */
    float *lo;             /* blocking: the gradient's range so far */
    size_t n;
    int blocking;
} tctx;

static mlp_status t_prepare(void *ctx, size_t max_pending)
{
    tctx *c = ctx;
    return c->lib.prepare(c->lib.ctx, max_pending);
}

static mlp_status t_start(void *ctx, float *buf, size_t n)
{
    tctx *c = ctx;
    double t0 = MPI_Wtime();
    mlp_status st = MLP_OK;
    if (c->blocking) {
        /* Only gathers the range (layers come last first, each ending where
         * the previous began); the wait sums it. */
        if (c->lo && buf + n != c->lo) return MLP_ERR_ARGUMENT;
        c->lo = buf, c->n += n;
    } else st = c->lib.sum_floats_start(c->lib.ctx, buf, n);
    c->t.start_s += MPI_Wtime() - t0;
    c->t.starts++;
    return st;
}

static mlp_status t_wait(void *ctx)
{
    tctx *c = ctx;
    double t0 = MPI_Wtime();
    mlp_status st;
    if (c->blocking) {
        /* The whole gradient in one blocking sum, after a barrier that takes
         * the wait for a late process out of it: the communication with
         * nothing hidden, in its cheapest form. */
        int rc;
        MPI_Barrier(c->comm);
        c->t.barrier_s += MPI_Wtime() - t0;
        t0 = MPI_Wtime();
        rc = c->n > INT_MAX ? MPI_ERR_COUNT
                            : MPI_Allreduce(MPI_IN_PLACE, c->lo, (int)c->n, MPI_FLOAT, MPI_SUM,
                                            c->comm);
        c->lo = NULL, c->n = 0;
        st = rc == MPI_SUCCESS ? MLP_OK : MLP_ERR_IO;
    } else st = c->lib.sum_floats_wait(c->lib.ctx);
    c->t.wait_s += MPI_Wtime() - t0;
    c->t.waits++;
    return st;
}

static mlp_status t_doubles(void *ctx, double *buf, size_t n)
{
    tctx *c = ctx;
    double t0 = MPI_Wtime();
    mlp_status st = c->lib.sum_doubles(c->lib.ctx, buf, n);
    c->t.doubles_s += MPI_Wtime() - t0;
    return st;
}

static void t_destroy(void *ctx)
{
    tctx *c = ctx;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&c->comm);
    c->lib.destroy(c->lib.ctx);
    free(c);
}

mlp_status bench_reducer_attach(mlp_trainer *tr, MPI_Comm comm, int blocking,
                                bench_reducer_times **times)
{
    mlp_reducer r;
    tctx *c = calloc(1, sizeof *c);
    mlp_status st;
    if (!c) return MLP_ERR_NOMEM;
    if ((st = mlp_mpi_reducer(comm, MLP_MPI_REPLICATED, &c->lib)) != MLP_OK) {
        free(c);
        return st;
    }
    if (MPI_Comm_dup(comm, &c->comm) != MPI_SUCCESS) {
        c->lib.destroy(c->lib.ctx);
        free(c);
        return MLP_ERR_IO;
    }
    c->blocking = blocking;
    r = c->lib;
    r.ctx = c;
    r.prepare = t_prepare, r.sum_floats_start = t_start, r.sum_floats_wait = t_wait;
    r.sum_doubles = t_doubles, r.destroy = t_destroy;
    if ((st = mlp_trainer_set_reducer(tr, &r)) != MLP_OK) t_destroy(c);
    else *times = &c->t;
    return st;
}
