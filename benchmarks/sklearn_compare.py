#!/usr/bin/python3
"""mlp.MLPClassifier against scikit-learn's MLPClassifier: fit time ratio and
test accuracy, one thread, the same parameters, float32 data, the same number
of epochs (early stopping off: tol=0 and n_iter_no_change above max_iter, so
that both run every epoch), plus the estimator's own overhead against the
same training through mlp.Trainer directly.

    MLP_LIBRARY=build/src/libmlp.so PYTHONPATH=python benchmarks/sklearn_compare.py
    ... --quick            digits only
    ... --full             also the whole Fashion-MNIST training set

Not a test: it asserts nothing, it prints two tables (benchmarks/README.md
records a run).

Robust to a shared machine: everything runs on one thread (OpenBLAS,
threadpoolctl, libmlp), so the CPU time of the process (time.process_time)
is the work done and does not count the time other jobs hold the core; wall
time is reported beside it. The three variants (the estimator, the same
training through mlp.Trainer, scikit-learn) are interleaved, each round in
another order, and repeated; times are "median (best)", ratios the median
of the per-round ratios (the ratio of the bests).

The Trainer variant is the estimator's training without the estimator: the
same network (sizes, seed, loss, penalty) and every trainer option read
back from a fitted estimator's trainer, on the float32 X and int32 class
indices prepared outside the timing; "same weights" says whether it ends
with the estimator's parameters bit for bit. What the estimator adds on top
(checking and converting X and y, label encoding, the per-epoch callback
with scikit-learn's bookkeeping) is its overhead.

The floor table: the GEMMs of one pass over the data (an Adam epoch at
batch 200, or one full-batch evaluation of L-BFGS: forward, the hidden
layer's delta and both weight gradients, the shapes libmlp's passes call),
run by cblas_sgemm of the OpenBLAS libmlp links, timed alone in this
process. An implementation that does these FLOPs with this sgemm on one
core cannot fit faster than passes times that (the time of the calls
themselves, measured as that of as many 1 x 1 x 1 products, is taken
out).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import ctypes  # noqa: E402
import gc  # noqa: E402
import gzip  # noqa: E402
import statistics  # noqa: E402
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


def measure(fn):
    """(CPU s, wall s, result) of one call; collection of the last run's
    garbage happens before, outside the timing."""
    gc.collect()
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - c, time.perf_counter() - w, out


def trainer_variant(X, y, solver, epochs):
    """The estimator's training through mlp.Trainer alone. The network is
    built inside the timing (as fit builds it); its options are those of a
    fitted estimator's trainer, read back; X and the class indices are
    prepared before. Returns the timed function and the reference estimator."""
    ref = mlp.MLPClassifier(**params(solver, epochs)).fit(X, y)
    opts = ref._trainer.options()
    T = np.searchsorted(ref.classes_, y).astype(np.int32)
    Xc = np.ascontiguousarray(X, dtype=np.float32)
    sizes = [X.shape[1]] + list(params(solver, epochs)["hidden_layer_sizes"]) + [len(ref.classes_)]
    loss, l2 = ref.network_.loss, ref.network_.l2

    def fit():
        net = mlp.Network(sizes, activations=["relu", "identity"], seed=0)
        net.loss = loss
        net.l2 = l2
        tr = mlp.Trainer(net, **opts)
        tr.train(Xc, T)
        runs = tr.epochs_run
        tr.close()
        return net, runs

    return fit, ref


class OwnTime:
    """Measures, during one estimator fit, the time the estimator spends on
    its own: the CPU time of fit outside Trainer.train, plus the Python side
    of the per-epoch callback inside it (the trampoline, the progress dict
    and the estimator's bookkeeping) as the number of calls times the median
    call. A direct measure of the overhead, unlike the difference of two
    noisy totals. The callback is timed by perf_counter (a few tens of
    nanoseconds; process_time is a system call of about 5 us here, as long
    as the callback itself), the median discarding the calls another job
    interrupted. It counts the network's creation, which the Trainer variant
    does too, so it errs on the high side."""

    def __init__(self):
        self.train = 0.0
        self.calls = []

    def fit(self, make):
        real_train, real_cb = mlp.Trainer.train, mlp.Trainer._trampoline
        own = self

        def train(tr, *a, **k):
            t = time.process_time()
            try:
                return real_train(tr, *a, **k)
            finally:
                own.train += time.process_time() - t

        def trampoline(tr, p, user):
            t = time.perf_counter()
            try:
                return real_cb(tr, p, user)
            finally:
                own.calls.append(time.perf_counter() - t)

        mlp.Trainer.train, mlp.Trainer._trampoline = train, trampoline
        try:
            t = time.process_time()
            out = make()
            self.total = time.process_time() - t
        finally:
            mlp.Trainer.train, mlp.Trainer._trampoline = real_train, real_cb
        cb = len(self.calls) * statistics.median(self.calls) if self.calls else 0.0
        self.own = self.total - self.train + cb
        return out


def stats(values):
    return statistics.median(values), min(values)


def row(name, solver, epochs, X, y, Xt, yt, rounds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct, ref = trainer_variant(X, y, solver, epochs)
        own = []

        def ours():
            o = OwnTime()
            own.append(o)
            return o.fit(lambda: mlp.MLPClassifier(**params(solver, epochs)).fit(X, y))

        variants = {
            "ours": ours,
            "trainer": direct,
            "sk": lambda: SkMLP(**params(solver, epochs)).fit(X, y),
        }
        order = list(variants)
        cpu = {k: [] for k in order}
        wall = {k: [] for k in order}
        out = {}
        load = [os.getloadavg()[0]]
        for r in range(rounds):
            for k in order[r % 3:] + order[:r % 3]:  # each round starts with another
                c, w, out[k] = measure(variants[k])
                cpu[k].append(c)
                wall[k].append(w)
            load.append(os.getloadavg()[0])
    us, sk, (net, it_dir) = out["ours"], out["sk"], out["trainer"]
    same = np.array_equal(net._flat("params"), us.network_._flat("params"))

    def paired(t, a, b):  # median of per-round a/b, and best a / best b
        return statistics.median([x / y for x, y in zip(t[a], t[b])]), min(t[a]) / min(t[b])

    ms = lambda t, k: "%.3f (%.3f)" % stats(t[k])  # noqa: E731
    rc, rw = paired(cpu, "ours", "sk"), paired(wall, "ours", "sk")
    oc, ow = paired(cpu, "ours", "trainer"), paired(wall, "ours", "trainer")
    own_ms = statistics.median(o.own for o in own) * 1e3
    own_pct = 100 * own_ms / 1e3 / statistics.median(cpu["trainer"])
    print("| %s | %s | %d | %d / %d / %d | %s | %s | %s | %s | %s | %s | %.3f (%.3f) | "
          "%.3f (%.3f) | %+.1f%% (%+.1f%%) | %+.1f%% (%+.1f%%) | %.1f ms (%.1f%%) | %.4f | %.4f | %s "
          "| %.1f-%.1f |" % (
              name, solver, rounds, sk.n_iter_, us.n_iter_, it_dir, ms(cpu, "sk"),
              ms(cpu, "ours"), ms(cpu, "trainer"), ms(wall, "sk"), ms(wall, "ours"),
              ms(wall, "trainer"), rc[0], rc[1], rw[0], rw[1], 100 * (oc[0] - 1),
              100 * (oc[1] - 1), 100 * (ow[0] - 1), 100 * (ow[1] - 1), own_ms, own_pct,
              sk.score(Xt, yt),
              us.score(Xt, yt), "yes" if same else "NO", min(load), max(load)))
    sys.stdout.flush()
    return statistics.median(cpu["sk"]), sk.n_iter_


def epoch_gemms(n, sizes, batch):
    """(FLOPs, CPU s) of one epoch's GEMMs at n rows in batches of `batch`
    (the last one smaller), timed alone (best of 3). Per batch of m rows and
    layer l (n_in -> n_out): Z = In W^T (m x n_out), dW = D^T In
    (n_out x n_in), and for every layer but the first the delta of its
    input, D W (m x n_in): 2 m n_in n_out FLOPs each. Less the time of as
    many 1 x 1 x 1 products: the ctypes call (about 2 us, a tenth of the
    digits floor) and OpenBLAS's own dispatch, so that the figure stays a
    lower bound."""
    blas = ctypes.CDLL("libopenblas.so.0")  # the one libmlp links, already loaded
    vp, ci = ctypes.c_void_p, ctypes.c_int
    blas.cblas_sgemm.argtypes = [ci] * 6 + [ctypes.c_float, vp, ci, vp, ci, ctypes.c_float, vp, ci]
    rm, nt, tr = 101, 111, 112  # CblasRowMajor, CblasNoTrans, CblasTrans
    rng = np.random.default_rng(0)
    keep = []  # the arrays stay alive while their addresses are used

    def new(*shape):
        keep.append(rng.standard_normal(shape).astype(np.float32))
        return keep[-1].ctypes.data

    layers = [(i, o, new(batch, i), new(o, i), new(batch, o), new(batch, o), new(o, i),
               new(batch, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    plan, flops = [], 0
    for m in [batch] * (n // batch) + ([n % batch] if n % batch else []):
        for l, (i, o, In, W, Z, D, dW, Dp) in enumerate(layers):
            plan.append((rm, nt, tr, m, o, i, 1.0, In, i, W, i, 0.0, Z, o))
            plan.append((rm, tr, nt, o, i, m, 1.0, D, o, In, i, 0.0, dW, i))
            if l > 0:
                plan.append((rm, nt, nt, m, i, o, 1.0, D, o, W, i, 0.0, Dp, i))
            flops += (3 if l > 0 else 2) * 2 * m * i * o
    one = new(1)  # a 1 x 1 x 1 product: the cost of the call itself
    tiny = [(rm, nt, nt, 1, 1, 1, 1.0, one, 1, one, 1, 0.0, one, 1)] * len(plan)
    best, call = float("inf"), float("inf")
    for _ in range(3):
        t = time.process_time()
        for c in plan:
            blas.cblas_sgemm(*c)
        best = min(best, time.process_time() - t)
        t = time.process_time()
        for c in tiny:
            blas.cblas_sgemm(*c)
        call = min(call, time.process_time() - t)
    return flops, best - call


def floor_table(rows):
    """rows: (name, rows, sizes, batch, passes, sk CPU s). A pass is an epoch
    (Adam) or an evaluation of J and its gradient over every row (L-BFGS:
    at least one per iteration plus the first, so iterations + 1 bounds the
    evaluations from below)."""
    print()
    print("| data | solver | passes | GEMM GFLOP per pass | sgemm GFLOP/s (CPU) | GEMM floor CPU s "
          "| sk CPU s (median) | 0.25x sk CPU s | floor / sk |")
    print("| --- " * 9 + "|")
    for name, solver, n, sizes, batch, passes, sk_cpu in rows:
        flops, t = epoch_gemms(n, sizes, batch)
        floor = passes * t
        print("| %s | %s | %d | %.3f | %.1f | %.3f | %.3f | %.3f | %.2f |" % (
            name, solver, passes, flops / 1e9, flops / t / 1e9, floor, sk_cpu, 0.25 * sk_cpu,
            floor / sk_cpu))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="digits only")
    ap.add_argument("--full", action="store_true", help="also the full Fashion-MNIST set")
    ap.add_argument("--epochs", type=int, default=10, help="Fashion-MNIST epochs (default 10)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of each variant (default 5)")
    ap.add_argument("--full-rounds", type=int, default=3,
                    help="rounds on the full Fashion-MNIST set (default 3)")
    a = ap.parse_args()
    limits = threadpool_limits(1) if threadpool_limits else None
    mlp.set_num_threads(1)
    print("| data | solver | rounds | iterations sk / ours / Trainer | sk CPU s | ours CPU s "
          "| Trainer CPU s | sk wall s | ours wall s | Trainer wall s | ratio CPU | ratio wall "
          "| overhead CPU | overhead wall | estimator's own CPU | sk acc | ours acc | same weights "
          "| load |")
    print("| --- " * 19 + "|")
    X, Xt, y, yt = digits()
    n, small, big = X.shape[0], (64, 100, 10), (784, 100, 10)
    sk, it = row("digits (1347 rows)", "adam", 200, X, y, Xt, yt, a.rounds)
    floors = [("digits (1347 rows)", "adam", n, small, 200, it, sk)]
    sk, it = row("digits (1347 rows)", "lbfgs", 200, X, y, Xt, yt, a.rounds)
    floors.append(("digits (1347 rows)", "lbfgs", n, small, n, it + 1, sk))
    if not a.quick:
        Xf, yf, Xft, yft = fashion()
        sk, it = row("Fashion-MNIST 20 000", "adam", a.epochs, Xf[:20000], yf[:20000], Xft, yft,
                     a.rounds)
        floors.append(("Fashion-MNIST 20 000", "adam", 20000, big, 200, it, sk))
        if a.full:
            sk, it = row("Fashion-MNIST 60 000", "adam", a.epochs, Xf, yf, Xft, yft,
                         a.full_rounds)
            floors.append(("Fashion-MNIST 60 000", "adam", 60000, big, 200, it, sk))
    floor_table(floors)
    del limits


if __name__ == "__main__":
    main()
