/* libmlp_mpi: libmlp's reduction hook (mlp.h, mlp_reducer) over an MPI
 * communicator. The floats of the gradient are summed in buckets of
 * consecutive layers: a bucket's MPI_Iallreduce starts, as the backward pass
 * finishes its layers, once it holds MLP_MPI_BUCKET_BYTES; the last bucket
 * is summed at the update (blocking when nothing else is in flight). The
 * statistics are summed with a blocking MPI_Allreduce. The communicator is a duplicate, so that
 * libmlp's messages never match the caller's. MPI's errors keep the
 * communicator's handler (by default MPI_ERRORS_ARE_FATAL: a failed
 * process ends the job rather than leaving the others waiting). */
#include "mlp_mpi.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The default bucket cap, as PyTorch DDP's: small networks' gradients
 * (a few MB) stay in one bucket, summed by one blocking call at the wait. */
#define DEFAULT_BUCKET_BYTES ((size_t)25 << 20)

typedef struct mpi_ctx {
    MPI_Comm comm;
    MPI_Request *req; /* one per layer: allocated by prepare, never in a step */
    size_t cap, n;
    size_t bucket_bytes; /* a bucket's sum starts once it holds this much */
    float *open;         /* the open bucket: open[0..open_n), or NULL */
    size_t open_n;
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

/* Starts the open bucket's sum. At most one bucket per layer exists, so
 * the requests prepared (one per layer) suffice. */
static mlp_status flush(mpi_ctx *c)
{
    int rc;
    if (!c->open)
        return MLP_OK;
    if (c->n >= c->cap || c->open_n > INT_MAX)
        return MLP_ERR_SIZE;
    rc = MPI_Iallreduce(MPI_IN_PLACE, c->open, (int)c->open_n, MPI_FLOAT, MPI_SUM, c->comm,
                        &c->req[c->n]);
    c->open = NULL;
    if (rc != MPI_SUCCESS)
        return MLP_ERR_IO;
    c->n++;
    return MLP_OK;
}

/* The backward pass hands layers last first; each layer's range ends where
 * the previous one began (W then b, layer after layer, in the flat
 * gradient), so consecutive layers join one bucket, as in PyTorch DDP: fewer,
 * larger sums, started while the earlier layers are computed. A range that
 * does not adjoin the open bucket closes it. Every process sees the same
 * sizes in the same order, so all form the same buckets. */
static mlp_status ctx_start(void *ctx, float *buf, size_t n)
{
    mpi_ctx *c = ctx;
    mlp_status st;
    if (c->open && buf + n == c->open) {
        c->open = buf;
        c->open_n += n;
    } else {
        if ((st = flush(c)) != MLP_OK)
            return st;
        c->open = buf;
        c->open_n = n;
    }
    if (c->open_n * sizeof(float) >= c->bucket_bytes && (st = flush(c)) != MLP_OK)
        return st;
    /* Open MPI moves non-blocking collectives on only inside MPI calls: a
     * test here lets the sums already started progress while the backward
     * pass computes the earlier layers. */
    if (c->n) {
        int done;
        MPI_Testall((int)c->n, c->req, &done, MPI_STATUSES_IGNORE);
        if (done)
            c->n = 0;
    }
    return MLP_OK;
}

/* The last bucket: with no sum in flight (the whole gradient under the
 * cap), one blocking MPI_Allreduce, much cheaper than a non-blocking one
 * that nothing could overlap any more. */
static mlp_status ctx_wait(void *ctx)
{
    mpi_ctx *c = ctx;
    int rc = MPI_SUCCESS;
    mlp_status st;
    if (c->open && c->n == 0) {
        if (c->open_n > INT_MAX)
            return MLP_ERR_SIZE;
        rc = MPI_Allreduce(MPI_IN_PLACE, c->open, (int)c->open_n, MPI_FLOAT, MPI_SUM, c->comm);
        c->open = NULL;
        return rc == MPI_SUCCESS ? MLP_OK : MLP_ERR_IO;
    }
    st = flush(c);
    if (c->n)
        rc = MPI_Waitall((int)c->n, c->req, MPI_STATUSES_IGNORE);
    c->n = 0;
    if (st != MLP_OK)
        return st;
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

/* MLP_MPI_BUCKET_BYTES (mlp_mpi.h), rank 0's value on every process: the
 * processes must form the same buckets, or their sums would not match. */
static mlp_status bucket_bytes(mpi_ctx *c)
{
    const char *v = getenv("MLP_MPI_BUCKET_BYTES");
    unsigned long long b = DEFAULT_BUCKET_BYTES;
    int rank = 0;
    MPI_Comm_rank(c->comm, &rank);
    if (rank == 0 && v && *v) {
        char *end;
        errno = 0;
        b = strtoull(v, &end, 10);
        if (*end || errno || v[strspn(v, " ")] == '-')
            b = ULLONG_MAX; /* refused on every process below */
    }
    if (MPI_Bcast(&b, 1, MPI_UNSIGNED_LONG_LONG, 0, c->comm) != MPI_SUCCESS)
        return mlp_set_last_error(MLP_ERR_IO, "mlp_mpi_attach: MPI_Bcast failed");
    if (b == ULLONG_MAX || b > SIZE_MAX)
        return mlp_set_last_error(MLP_ERR_ARGUMENT, "mlp_mpi_attach: MLP_MPI_BUCKET_BYTES is "
                                                    "not a number of bytes");
    c->bucket_bytes = (size_t)b;
    return MLP_OK;
}

mlp_status mlp_mpi_reducer(MPI_Comm comm, mlp_mpi_mode mode, mlp_reducer *out)
{
    mpi_ctx *c;
    mlp_status st;

    if (!out)
        return mlp_set_last_error(MLP_ERR_NULL, "mlp_mpi_reducer: out is NULL");
    if (mode != MLP_MPI_REPLICATED && mode != MLP_MPI_SHARDED)
        return mlp_set_last_error(MLP_ERR_ARGUMENT, "mlp_mpi_attach: mode is neither "
                                                    "MLP_MPI_REPLICATED nor MLP_MPI_SHARDED");
    c = calloc(1, sizeof *c);
    if (!c)
        return mlp_set_last_error(MLP_ERR_NOMEM, "mlp_mpi_attach: out of memory");
    if (MPI_Comm_dup(comm, &c->comm) != MPI_SUCCESS) {
        free(c);
        return mlp_set_last_error(MLP_ERR_IO, "mlp_mpi_attach: MPI_Comm_dup failed");
    }
    if ((st = bucket_bytes(c)) != MLP_OK) {
        ctx_destroy(c);
        return st;
    }
    out->ctx = c;
    MPI_Comm_rank(c->comm, &out->rank);
    MPI_Comm_size(c->comm, &out->size);
    out->sharded = mode == MLP_MPI_SHARDED;
    out->prepare = ctx_prepare;
    out->sum_floats_start = ctx_start;
    out->sum_floats_wait = ctx_wait;
    out->sum_doubles = ctx_sum_doubles;
    out->destroy = ctx_destroy;
    return MLP_OK;
}

mlp_status mlp_mpi_attach(mlp_trainer *tr, MPI_Comm comm, mlp_mpi_mode mode)
{
    mlp_reducer r;
    mlp_status st;

    if (!tr)
        return mlp_set_last_error(MLP_ERR_NULL, "mlp_mpi_attach: tr is NULL");
    if ((st = mlp_mpi_reducer(comm, mode, &r)) != MLP_OK)
        return st;
    /* Collective: checks on every rank that shapes and options agree. */
    st = mlp_trainer_set_reducer(tr, &r);
    if (st != MLP_OK)
        ctx_destroy(r.ctx);
    return st;
}

mlp_status mlp_mpi_attach_f(mlp_trainer *tr, MPI_Fint comm, mlp_mpi_mode mode)
{
    return mlp_mpi_attach(tr, MPI_Comm_f2c(comm), mode);
}

mlp_status mlp_mpi_detach(mlp_trainer *tr)
{
    if (!tr)
        return mlp_set_last_error(MLP_ERR_NULL, "mlp_mpi_detach: tr is NULL");
    return mlp_trainer_set_reducer(tr, NULL);
}
