/* A data-parallel consumer of libmlp_mpi: every process holds the whole
 * (tiny) training set, attaches MPI_COMM_WORLD and trains; rank 0 prints.
 * Build: find_package(mlp COMPONENTS mpi) -> mlp::mpi, or pkg-config mlp-mpi.
 * Run:   mpirun -np 2 ./mlp_example_mpi */
#include <mlp_mpi.h>

#include <stdio.h>

int main(int argc, char **argv)
{
    static const float X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const float Y[4] = {0, 1, 1, 0};
    size_t sizes[3] = {2, 8, 1};
    mlp_activation acts[2] = {MLP_ACT_TANH, MLP_ACT_SIGMOID};
    mlp_network *net = NULL;
    mlp_trainer *tr = NULL;
    mlp_status st;
    double loss = 0.0;
    int rank = 0, size = 1;

    MPI_Init(&argc, &argv);
    st = mlp_create(&net, 2, sizes, acts, 42);
    if (st == MLP_OK)
        st = mlp_trainer_create(net, &tr);
    if (st == MLP_OK) {
        mlp_trainer_set(tr, MLP_OPTION_BATCH_SIZE, 4);
        mlp_trainer_set(tr, MLP_OPTION_EPOCHS, 300);
        mlp_trainer_set(tr, MLP_OPTION_LEARNING_RATE, 0.05);
        st = mlp_mpi_attach(tr, MPI_COMM_WORLD, MLP_MPI_REPLICATED);
    }
    if (st == MLP_OK)
        st = mlp_train(tr, X, Y, 4, NULL, NULL, 0);
    if (st == MLP_OK)
        st = mlp_evaluate(net, X, 4, Y, &loss, NULL);
    mlp_trainer_reducer_rank(tr, &rank, &size);
    if (rank == 0)
        printf("mlp_mpi example: %d processes, status %s, loss %.4f\n", size, mlp_status_name(st),
               loss);
    mlp_trainer_destroy(tr);
    mlp_destroy(net);
    MPI_Finalize();
    return st == MLP_OK && loss < 0.1 ? 0 : 1;
}
