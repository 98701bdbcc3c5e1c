"""One rank of test_mpi.py's job: `mpirun -np 2 python3 mpi_worker.py OUT_DIR`.

Every rank trains the same problems over MPI.COMM_WORLD and writes what it
ended with to OUT_DIR/rank<r>.npz; test_mpi.py compares the ranks with each
other and with one process (the problem and options below are shared, so
that the test rebuilds them without MPI)."""

import os
import sys

import numpy as np

# 161 rows in global batches of 16: 10 full batches and a last one of 1 row,
# smaller than the 2 processes (one of them gets no rows); 5 epochs = 55 steps.
ROWS, BATCH, EPOCHS = 161, 16, 5
SIZES = [4, 12, 3]
L2 = 1e-3
# learning rates large enough that clip_norm=0.5 clips the early steps
OPTIMIZERS = {"sgd": 0.2, "momentum": 0.05, "adam": 0.01}


def problem():
    rng = np.random.RandomState(7)
    centers = rng.normal(scale=3.0, size=(3, 4))
    y = rng.randint(0, 3, ROWS).astype(np.int32)
    X = (centers[y] + rng.normal(size=(ROWS, 4))).astype(np.float32)
    return X, y


def network(mlp, seed=3):
    net = mlp.Network(SIZES, activations=["tanh", "identity"], seed=seed)
    net.loss = "softmax_cross_entropy"
    net.l2 = L2
    return net


def options(optimizer):
    return dict(optimizer=optimizer, learning_rate=OPTIMIZERS[optimizer], batch_size=BATCH,
                epochs=EPOCHS, clip_norm=0.5, shuffle=1)


def main(out):
    from mpi4py import MPI

    import mlp

    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    X, y = problem()
    res = {"size": comm.Get_size()}
    for opt in OPTIMIZERS:
        net = network(mlp)
        tr = mlp.Trainer(net, comm=comm, **options(opt))
        assert tr.comm is comm and tr.rank == rank and not tr.shard
        tr.train(X, y)
        res["theta_" + opt] = net._flat("params").copy()
        res["steps_" + opt] = tr.epochs_run

    # Sharded: each rank passes only its own rows.
    net = network(mlp)
    tr = mlp.Trainer(net, comm=comm, shard=True, **options("adam"))
    assert tr.shard
    hist = tr.train(X[rank::comm.Get_size()], y[rank::comm.Get_size()])
    res["theta_sharded"] = net._flat("params").copy()
    res["loss_sharded"] = np.array([h["train_loss"] for h in hist])
    tr.detach()  # then this process trains alone: only its own rows
    assert tr.comm is None and tr.rank == 0
    tr.set("epochs", 1)
    tr.train(X[:20], y[:20])

    # The processes disagree on the weights: every one gets MLP_ERR_MISMATCH.
    try:
        mlp.Trainer(network(mlp, seed=10 + rank), comm=comm)
        res["mismatch"] = "no error"
    except mlp.MLPError as e:
        res["mismatch"] = e.name

    # The estimators: random_state=None (rank 0's seed is used everywhere),
    # verbose (rank 0 alone prints), the validation split of early stopping.
    clf = mlp.MLPClassifier(hidden_layer_sizes=(8,), max_iter=4, batch_size=BATCH,
                            random_state=None, verbose=True, comm=comm)
    assert clf.get_params()["comm"] is comm
    clf.fit(X, y)
    res["proba"] = clf.predict_proba(X)
    reg = mlp.MLPRegressor(hidden_layer_sizes=(6,), max_iter=4, batch_size=BATCH,
                           early_stopping=True, random_state=5, comm=comm)
    reg.fit(X, X[:, 0] - X[:, 1])
    res["regression"] = reg.predict(X)
    res["regression_scores"] = np.array(reg.validation_scores_)
    import pickle
    res["pickled_comm"] = repr(pickle.loads(pickle.dumps(clf)).comm)

    np.savez(os.path.join(out, "rank%d.npz" % rank), **res)
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
