/* The processes of an MPI job that `mlp train` runs in (mpirun, srun), or a
 * world of one. MPI is initialised only when a launcher started the
 * process, so that a plain run never touches it (the sanitizer and
 * valgrind stages see the same program as before). Built without MPI
 * (MLP_HAVE_MPI undefined), every world has one process. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "cli.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#ifdef MLP_HAVE_MPI
#include <mlp_mpi.h>
#endif

/* A number from the environment, or -1. */
static long env_long(const char *name)
{
    const char *s = getenv(name);
    char *end;
    long v;
    if (s == NULL || *s == '\0') return -1;
    v = strtol(s, &end, 10);
    return *end == '\0' && v >= 0 ? v : -1;
}

/* Open MPI's mpirun exports OMPI_COMM_WORLD_SIZE; PMIx launchers
 * (srun --mpi=pmix, prterun) PMIX_RANK; Slurm's PMI-2 and MPICH's Hydra
 * PMI_SIZE and PMI_RANK. Returns the job's size, 0 when it is not told,
 * or -1 when no launcher started this process. */
static long launched_size(void)
{
    long n = env_long("OMPI_COMM_WORLD_SIZE");
    if (n < 0) n = env_long("PMI_SIZE");
    if (n >= 0) return n;
    if (env_long("PMIX_RANK") >= 0 || env_long("PMI_RANK") >= 0) return 0;
    return -1;
}

int cli_cpus_allowed(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
}

#ifdef MLP_HAVE_MPI

int cli_world_init(cli_world *w, const char *cmd)
{
    MPI_Comm node;
    int provided;
    memset(w, 0, sizeof *w);
    w->size = w->local_size = 1;
    if (launched_size() < 0) return 0;
    /* Only the thread that trains calls MPI. */
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return cli_error(CLI_FAIL, cmd, "MPI_Init failed");
    w->mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &w->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w->size);
    /* The processes sharing this machine's cores. */
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, w->rank, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &w->local_size);
        MPI_Comm_free(&node);
    }
    cli_set_rank(w->rank);
    return 0;
}

int cli_world_agree(const cli_world *w, int rc)
{
    int all = rc;
    if (w->mpi) MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return all;
}

size_t cli_world_sum(const cli_world *w, size_t v)
{
    unsigned long long in = v, out = v;
    if (w->mpi) MPI_Allreduce(&in, &out, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    return (size_t)out;
}

size_t cli_world_max(const cli_world *w, size_t v)
{
    unsigned long long in = v, out = v;
    if (w->mpi) MPI_Allreduce(&in, &out, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    return (size_t)out;
}

size_t cli_world_bcast(const cli_world *w, size_t v)
{
    unsigned long long x = v;
    if (w->mpi) MPI_Bcast(&x, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    return (size_t)x;
}

void cli_world_reduce_doubles(const cli_world *w, double *x, size_t n, int op)
{
    MPI_Op o = op < 0 ? MPI_MIN : op > 0 ? MPI_MAX : MPI_SUM;
    if (w->mpi) MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_DOUBLE, o, MPI_COMM_WORLD);
}

int cli_world_abort(const cli_world *w, int rc)
{
    /* The others may be waiting for this process inside a collective call:
     * only the launcher can end them now. */
    if (w->mpi && w->size > 1) {
        fflush(NULL);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    return rc;
}

mlp_status cli_world_attach(const cli_world *w, mlp_trainer *tr, int sharded)
{
    if (!w->mpi) return MLP_OK;
    return mlp_mpi_attach(tr, MPI_COMM_WORLD, sharded ? MLP_MPI_SHARDED : MLP_MPI_REPLICATED);
}

void cli_world_finish(cli_world *w)
{
    if (w->mpi) MPI_Finalize();
    w->mpi = 0;
}

#else /* a world of one */

int cli_world_init(cli_world *w, const char *cmd)
{
    long n = launched_size();
    memset(w, 0, sizeof *w);
    w->size = w->local_size = 1;
    if (n > 1 || (n == 0 && (env_long("PMIX_RANK") > 0 || env_long("PMI_RANK") > 0)))
        return cli_error(CLI_FAIL, cmd, "started by an MPI launcher, but this mlp was built without "
                         "MPI: each process would train alone (install libopenmpi-dev and rebuild)");
    return 0;
}

int cli_world_agree(const cli_world *w, int rc) { return rc; }
size_t cli_world_sum(const cli_world *w, size_t v) { return v; }
size_t cli_world_max(const cli_world *w, size_t v) { return v; }
size_t cli_world_bcast(const cli_world *w, size_t v) { return v; }
void cli_world_reduce_doubles(const cli_world *w, double *x, size_t n, int op) {}
int cli_world_abort(const cli_world *w, int rc) { return rc; }
mlp_status cli_world_attach(const cli_world *w, mlp_trainer *tr, int sharded) { return MLP_OK; }
void cli_world_finish(cli_world *w) {}

#endif
