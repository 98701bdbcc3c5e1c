/* libmlp_mpi: libmlp's reduction hook (mlp.h, mlp_reducer) over an MPI
 * communicator. The floats of each layer's gradient are summed with
 * MPI_Iallreduce as the backward pass finishes the layer; the statistics
 * with a blocking MPI_Allreduce. The communicator is a duplicate, so that
 * libmlp's messages never match the caller's. MPI's errors keep the
 * communicator's handler (by default MPI_ERRORS_ARE_FATAL: a failed
 * process ends the job rather than leaving the others waiting). */
#include "mlp_mpi.h"

#include <limits.h>
#include <stdlib.h>

typedef struct mpi_ctx {
    MPI_Comm comm;
    MPI_Request *req; /* one per layer: allocated by prepare, never in a step */
    size_t cap, n;
} mpi_ctx;

static mlp_status ctx_prepare(void *ctx, size_t max_pending)
{
    mpi_ctx *c = ctx;
    MPI_Request *req;
    if (max_pending <= c->cap)
        return MLP_OK;
    req = realloc(c->req, max_pending * sizeof *req);
    if (!req)
        return MLP_ERR_NOMEM;
    c->req = req;
    c->cap = max_pending;
    return MLP_OK;
}

static mlp_status ctx_start(void *ctx, float *buf, size_t n)
{
    mpi_ctx *c = ctx;
    if (c->n >= c->cap || n > INT_MAX)
        return MLP_ERR_SIZE;
    if (MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, c->comm, &c->req[c->n]) !=
        MPI_SUCCESS)
        return MLP_ERR_IO;
    c->n++;
    /* Open MPI moves non-blocking collectives on only inside MPI calls: a
     * test here lets the sums started for later layers progress while the
     * backward pass computes the earlier ones. */
    {
        int done;
        MPI_Testall((int)c->n, c->req, &done, MPI_STATUSES_IGNORE);
        if (done)
            c->n = 0;
    }
    return MLP_OK;
}

static mlp_status ctx_wait(void *ctx)
{
    mpi_ctx *c = ctx;
    int rc = c->n ? MPI_Waitall((int)c->n, c->req, MPI_STATUSES_IGNORE) : MPI_SUCCESS;
    c->n = 0;
    return rc == MPI_SUCCESS ? MLP_OK : MLP_ERR_IO;
}

static mlp_status ctx_sum_doubles(void *ctx, double *buf, size_t n)
{
    mpi_ctx *c = ctx;
    if (n > INT_MAX)
        return MLP_ERR_SIZE;
    return MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE, MPI_SUM, c->comm) == MPI_SUCCESS
               ? MLP_OK
               : MLP_ERR_IO;
}

static void ctx_destroy(void *ctx)
{
    mpi_ctx *c = ctx;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized)
        MPI_Comm_free(&c->comm);
    free(c->req);
    free(c);
}

mlp_status mlp_mpi_attach(mlp_trainer *tr, MPI_Comm comm, mlp_mpi_mode mode)
{
    mlp_reducer r;
    mpi_ctx *c;
    mlp_status st;

    if (!tr)
        return MLP_ERR_NULL;
    if (mode != MLP_MPI_REPLICATED && mode != MLP_MPI_SHARDED)
        return MLP_ERR_ARGUMENT;
    c = calloc(1, sizeof *c);
    if (!c)
        return MLP_ERR_NOMEM;
    if (MPI_Comm_dup(comm, &c->comm) != MPI_SUCCESS) {
        free(c);
        return MLP_ERR_IO;
    }
    r.ctx = c;
    MPI_Comm_rank(c->comm, &r.rank);
    MPI_Comm_size(c->comm, &r.size);
    r.sharded = mode == MLP_MPI_SHARDED;
    r.prepare = ctx_prepare;
    r.sum_floats_start = ctx_start;
    r.sum_floats_wait = ctx_wait;
    r.sum_doubles = ctx_sum_doubles;
    r.destroy = ctx_destroy;
    /* Collective: checks on every rank that shapes and options agree. */
    st = mlp_trainer_set_reducer(tr, &r);
    if (st != MLP_OK)
        ctx_destroy(c);
    return st;
}

mlp_status mlp_mpi_attach_f(mlp_trainer *tr, MPI_Fint comm, mlp_mpi_mode mode)
{
    return mlp_mpi_attach(tr, MPI_Comm_f2c(comm), mode);
}

mlp_status mlp_mpi_detach(mlp_trainer *tr)
{
    if (!tr)
        return MLP_ERR_NULL;
    return mlp_trainer_set_reducer(tr, NULL);
}
