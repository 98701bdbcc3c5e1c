/* The timing reducer (bench_mpi_reducer.h). Its non-blocking form mirrors
 * mpi/mlp_mpi.c call for call, so that its step is the library's step with
 * clocks around the calls. */
#include "bench_mpi_reducer.h"

#include <limits.h>
#include <stdlib.h>

typedef struct tctx {
    bench_reducer_times t; /* first: the handle given out */
    MPI_Comm comm;
    MPI_Request *req;
    size_t cap, n;
    int blocking;
} tctx;

static mlp_status t_prepare(void *ctx, size_t max_pending)
{
    tctx *c = ctx;
    MPI_Request *req;
    if (max_pending <= c->cap) return MLP_OK;
    if (!(req = realloc(c->req, max_pending * sizeof *req))) return MLP_ERR_NOMEM;
    c->req = req, c->cap = max_pending;
    return MLP_OK;
}

static mlp_status t_start(void *ctx, float *buf, size_t n)
{
    tctx *c = ctx;
    double t0 = MPI_Wtime();
    int rc;
    if (c->n >= c->cap || n > INT_MAX) return MLP_ERR_SIZE;
    if (c->blocking) {
        /* The barrier takes the wait for a late process out of the sum's
         * time, so that start_s is the transfer alone. */
        MPI_Barrier(c->comm);
        c->t.barrier_s += MPI_Wtime() - t0;
        t0 = MPI_Wtime();
        rc = MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, c->comm);
    } else {
        int done = 0;
        rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, c->comm, &c->req[c->n++]);
        /* As libmlp_mpi: a test moves the started sums on (Open MPI
         * progresses them only inside MPI calls). */
        if (rc == MPI_SUCCESS) MPI_Testall((int)c->n, c->req, &done, MPI_STATUSES_IGNORE);
        if (done) c->n = 0;
    }
    c->t.start_s += MPI_Wtime() - t0;
    c->t.starts++;
    return rc == MPI_SUCCESS ? MLP_OK : MLP_ERR_IO;
}

static mlp_status t_wait(void *ctx)
{
    tctx *c = ctx;
    double t0 = MPI_Wtime();
    int rc = c->n ? MPI_Waitall((int)c->n, c->req, MPI_STATUSES_IGNORE) : MPI_SUCCESS;
    c->n = 0;
    c->t.wait_s += MPI_Wtime() - t0;
    c->t.waits++;
    return rc == MPI_SUCCESS ? MLP_OK : MLP_ERR_IO;
}

static mlp_status t_doubles(void *ctx, double *buf, size_t n)
{
    tctx *c = ctx;
    double t0 = MPI_Wtime();
    int rc;
    if (n > INT_MAX) return MLP_ERR_SIZE;
    rc = MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE, MPI_SUM, c->comm);
    c->t.doubles_s += MPI_Wtime() - t0;
    return rc == MPI_SUCCESS ? MLP_OK : MLP_ERR_IO;
}

static void t_destroy(void *ctx)
{
    tctx *c = ctx;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&c->comm);
    free(c->req);
    free(c);
}

mlp_status bench_reducer_attach(mlp_trainer *tr, MPI_Comm comm, int blocking,
                                bench_reducer_times **times)
{
    mlp_reducer r;
    tctx *c = calloc(1, sizeof *c);
    mlp_status st;
    if (!c) return MLP_ERR_NOMEM;
    if (MPI_Comm_dup(comm, &c->comm) != MPI_SUCCESS) {
        free(c);
        return MLP_ERR_IO;
    }
    c->blocking = blocking;
    MPI_Comm_rank(c->comm, &r.rank);
    MPI_Comm_size(c->comm, &r.size);
    r.sharded = 0, r.ctx = c;
    r.prepare = t_prepare, r.sum_floats_start = t_start, r.sum_floats_wait = t_wait;
    r.sum_doubles = t_doubles, r.destroy = t_destroy;
    if ((st = mlp_trainer_set_reducer(tr, &r)) != MLP_OK) t_destroy(c);
    else *times = &c->t;
    return st;
}
