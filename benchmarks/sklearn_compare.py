#!/usr/bin/python3
"""mlp.MLPClassifier against scikit-learn's MLPClassifier: fit time ratio and
test accuracy, one thread, the same parameters, float32 data, the same number
of epochs (early stopping off: tol=0 and n_iter_no_change above max_iter, so
that both run every epoch), plus the estimator's own overhead against the
same training through mlp.Trainer directly.

    MLP_LIBRARY=build/src/libmlp.so PYTHONPATH=python nice benchmarks/sklearn_compare.py
    ... --quick            digits only
    ... --full             also the whole Fashion-MNIST training set

Not a test: it asserts nothing, it prints one table (benchmarks/README.md
records a run). L-BFGS runs until its own stopping rules on both sides
(tol=0 leaves max_iter and the relative-decrease test), so the iterations
each side ran are printed beside the times.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import mlp  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # Debian 12 ships it with scikit-learn; be safe anyway
    threadpool_limits = None

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLP  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    a = np.frombuffer(data, np.uint8, offset=4 + 4 * dims)
    return a.reshape(shape)


def fashion():
    X = idx(os.path.join(FASHION, "train-images-idx3-ubyte.gz")).reshape(-1, 784)
    y = idx(os.path.join(FASHION, "train-labels-idx1-ubyte.gz"))
    Xt = idx(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784)
    yt = idx(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz"))
    return (X / np.float32(255)).astype(np.float32), y, (Xt / np.float32(255)).astype(np.float32), yt


def digits():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def params(solver, epochs):
    p = dict(hidden_layer_sizes=(100,), solver=solver, max_iter=epochs, random_state=0,
             early_stopping=False, tol=0.0, n_iter_no_change=epochs + 1, alpha=1e-4)
    if solver == "lbfgs":
        p.pop("n_iter_no_change")
    return p


REPEAT = 1


def timed(fn):
    """The fastest of REPEAT runs (the machine is shared: the minimum is the
    least disturbed) and the last run's result."""
    best, out = float("inf"), None
    for _ in range(REPEAT):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def direct(X, y, solver, epochs):
    """The estimator's training through mlp.Trainer alone (same network, same
    options, the network built inside the timing as fit builds it)."""
    ours = mlp.MLPClassifier(**params(solver, epochs))
    n, classes = X.shape[0], np.unique(y)
    T = np.searchsorted(classes, y).astype(np.int32)
    batch = n if solver == "lbfgs" else min(200, n)

    def fit():
        net = mlp.Network([X.shape[1], 100, len(classes)], activations=["relu", "identity"],
                          seed=0)
        net.loss = "softmax_cross_entropy"
        net.l2 = ours.alpha / batch
        tr = mlp.Trainer(net, optimizer=solver, learning_rate=ours.learning_rate_init,
                         batch_size=min(batch, 4096), epochs=epochs, tol=0.0)
        tr.train(X, T)
        runs = tr.epochs_run
        tr.close()
        return runs

    return timed(fit)


def row(name, solver, epochs, X, y, Xt, yt):
    global REPEAT
    REPEAT = 3 if X.shape[0] < 5000 else 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_dir, it_dir = direct(X, y, solver, epochs)
        t_us, us = timed(lambda: mlp.MLPClassifier(**params(solver, epochs)).fit(X, y))
        t_sk, sk = timed(lambda: SkMLP(**params(solver, epochs)).fit(X, y))
    acc_sk, acc_us = sk.score(Xt, yt), us.score(Xt, yt)
    print("| %s | %s | %d / %d / %d | %.2f | %.2f | %.3f | %.4f | %.4f | %+.1f%% |" % (
        name, solver, sk.n_iter_, us.n_iter_, it_dir, t_sk, t_us, t_us / t_sk, acc_sk, acc_us,
        100.0 * (t_us - t_dir) / t_dir))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="digits only")
    ap.add_argument("--full", action="store_true", help="also the full Fashion-MNIST set")
    ap.add_argument("--epochs", type=int, default=10, help="Fashion-MNIST epochs (default 10)")
    a = ap.parse_args()
    limits = threadpool_limits(1) if threadpool_limits else None
    mlp.set_num_threads(1)
    print("| data | solver | iterations sk / ours / Trainer | sk fit s | ours fit s | ratio | sk acc "
          "| ours acc | estimator overhead |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    X, Xt, y, yt = digits()
    row("digits (1347 rows)", "adam", 200, X, y, Xt, yt)
    row("digits (1347 rows)", "lbfgs", 200, X, y, Xt, yt)
    if not a.quick:
        Xf, yf, Xft, yft = fashion()
        row("Fashion-MNIST 20 000", "adam", a.epochs, Xf[:20000], yf[:20000], Xft, yft)
        if a.full:
            row("Fashion-MNIST 60 000", "adam", a.epochs, Xf, yf, Xft, yft)
    del limits


if __name__ == "__main__":
    main()
