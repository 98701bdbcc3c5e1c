/*
 * libmlp_mpi: data-parallel training of a libmlp trainer over MPI.
 *
 * Link with -lmlp_mpi -lmlp and the MPI library (CMake: mlp::mpi;
 * pkg-config: mlp-mpi). libmlp itself links no MPI: this library plugs an
 * MPI_Comm into the trainer's engine-neutral reduction hook.
 *
 * Once attached, mlp_train, mlp_train_weighted, mlp_trainer_step and the
 * callback work unchanged, on every process of the communicator at once
 * (they are collective): each process computes the gradient of its rows of
 * every global batch, the gradients are summed across processes, and every
 * process applies the same update, so the parameters are identical on every
 * process after every step. Statistics (loss, accuracy, validation,
 * divergence, the callback's stop request) are reduced, so every process
 * stops at the same step with the same weights. The fused plain-SGD path
 * is not taken (the sum needs the whole gradient); full-batch optimisers
 * (L-BFGS, iRPROP-) are refused with MLP_ERR_OPTION. MPI errors keep the
 * communicator's handler (by default fatal: the job ends rather than
 * hangs). Details: docs/PARALLEL.md.
 *
 * The gradient is summed in buckets of consecutive layers, as in PyTorch
 * DDP: the environment variable MLP_MPI_BUCKET_BYTES (read by
 * mlp_mpi_attach; rank 0's value holds on every process) caps a bucket.
 * A bucket's sum (MPI_Iallreduce) starts as soon as the backward pass has
 * filled it to the cap, overlapping the layers still to compute; the last
 * bucket is summed at the update, with one blocking MPI_Allreduce when no
 * other sum is in flight. The default, 26214400 (25 MiB), sums a gradient
 * under 25 MiB with that one blocking call; 0 starts one sum per layer.
 * A value that is not a whole number of bytes makes mlp_mpi_attach fail
 * with MLP_ERR_ARGUMENT.
 */
#ifndef MLP_MPI_H
#define MLP_MPI_H

#include <mpi.h>

#include "mlp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mlp_mpi_mode {
    /* Every process passes the whole training set; each takes its slice of
     * every global batch from one permutation drawn from the shared seed, so
     * P processes train the model one process trains with the same batch,
     * up to float summation order. */
    MLP_MPI_REPLICATED = 0,
    /* Each process passes only its own rows (for example from
     * mlp_dataset_load_csv_part; shards may differ in size) and shuffles
     * them within its shard. An epoch has ceil(N / batch_size) global
     * batches for the N rows of all shards; each shard is cut into that many
     * even parts and global batch k is every shard's k-th part. Validation
     * sets are per process, their loss and accuracy summed. */
    MLP_MPI_SHARDED = 1
} mlp_mpi_mode;

/* Attaches comm (duplicated, so the caller's communicator is never used by
 * libmlp's messages) to tr. Collective over comm: every process must call it
 * with a trainer of the same network shape and options; a disagreement is
 * reported on every process as MLP_ERR_MISMATCH before any step. The
 * attachment ends with mlp_mpi_detach or mlp_trainer_destroy. */
MLP_API mlp_status mlp_mpi_attach(mlp_trainer *tr, MPI_Comm comm, mlp_mpi_mode mode);
/* Fills *out with the reducer mlp_mpi_attach sets (over a duplicate of
 * comm, MLP_MPI_BUCKET_BYTES read), without setting it: for a caller that
 * wraps its callbacks (to time or log them) and passes the wrapper to
 * mlp_trainer_set_reducer. Collective over comm. The caller owns out->ctx
 * until mlp_trainer_set_reducer succeeds with it (on failure, call
 * out->destroy(out->ctx)); messages name mlp_mpi_attach. */
MLP_API mlp_status mlp_mpi_reducer(MPI_Comm comm, mlp_mpi_mode mode, mlp_reducer *out);
/* The same from a Fortran handle (MPI_Comm_c2f), which is what bindings
 * such as mpi4py hand out (comm.py2f()). */
MLP_API mlp_status mlp_mpi_attach_f(mlp_trainer *tr, MPI_Fint comm, mlp_mpi_mode mode);
/* Collective; afterwards tr trains in this process alone (the duplicated
 * communicator freed). mlp_trainer_destroy detaches too, but is not
 * collective: MPI_Comm_free is, so destroy the trainers on every process
 * before MPI_Finalize. */
MLP_API mlp_status mlp_mpi_detach(mlp_trainer *tr);

#ifdef __cplusplus
}
#endif

#endif
