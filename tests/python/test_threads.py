"""ctypes releases the GIL inside libmlp, and threads on separate networks
(or one network through its lock) get exact results.

No outcome here depends on a clock: every check holds however busy the
machine is. How much faster two threads are than one is a benchmark, not a
test: benchmarks/threads_bench.py measures it as a ratio within one run.
"""

import os
import subprocess
import sys
import tempfile
import threading

import numpy as np
import pytest

import mlp


def test_calls_go_through_cdll():
    """Structurally: ctypes releases the GIL for CDLL functions (not PyDLL's)."""
    import ctypes
    assert type(mlp._clib._cdll) is ctypes.CDLL
    for name in ("mlp_forward", "mlp_forward_ws", "mlp_loss_grad", "mlp_train", "mlp_load"):
        fn = getattr(mlp._clib, name)
        assert not fn._flags_ & ctypes._FUNCFLAG_PYTHONAPI


@pytest.fixture
def tmp():
    """A private temporary folder, as in the other suites (pytest's tmp_path
    lives under one base folder that every pytest session of the user
    shares and prunes, and the test stages run several at once)."""
    with tempfile.TemporaryDirectory() as d:
        yield d


def _model_bytes():
    return mlp.Network([6, 9, 3], activations=["tanh", "identity"], seed=11).to_bytes()


def test_a_call_blocked_in_libmlp_lets_python_run(tmp):
    """mlp_load on a FIFO blocks inside libmlp (in fopen, then fread) until
    another thread writes the model into it, and that writer is Python code:
    the load can only finish if the call released the GIL. Causal, not timed
    (a held GIL deadlocks: see test_the_checks_detect_a_held_gil)."""
    data = _model_bytes()
    fifo = os.path.join(tmp, "model.fifo")
    os.mkfifo(fifo)
    got, errors = [], []

    def load():
        try:
            got.append(mlp.Network.load(fifo))
        except BaseException as e:  # reported below, not lost in the thread
            errors.append(e)

    t = threading.Thread(target=load)
    t.start()
    with open(fifo, "wb") as f:  # blocks until the loader has opened the FIFO in C
        f.write(data)
    t.join()
    assert errors == [] and len(got) == 1
    assert got[0].to_bytes() == data


# The held-GIL control: a child process makes the FIFO call of the test above
# through ctypes.CDLL (must finish) and then through ctypes.PyDLL (holds the
# GIL: must never finish, since its writer is Python code of the same process).
_HELD_GIL_CHILD = r"""
import ctypes, sys, threading
path, fifo, data = sys.argv[1], sys.argv[2], open(sys.argv[3], "rb").read()

def load_through(dll, name):
    fn = dll.mlp_load
    fn.restype, fn.argtypes = ctypes.c_int, [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p]
    h = ctypes.c_void_p()
    result = []
    t = threading.Thread(target=lambda: result.append(fn(ctypes.byref(h), fifo.encode())))
    print("calling " + name, flush=True)
    t.start()
    with open(fifo, "wb") as f:
        f.write(data)
    t.join()
    print("%s returned %d" % (name, result[0]), flush=True)
    dll.mlp_destroy.argtypes = [ctypes.c_void_p]
    dll.mlp_destroy(h)

load_through(ctypes.CDLL(path), "CDLL")
load_through(ctypes.PyDLL(path), "PyDLL")
"""


def test_the_checks_detect_a_held_gil(tmp, monkeypatch):
    """Control: the checks above fail when libmlp is called with the GIL held.
    Through PyDLL the FIFO load deadlocks for good, so the child still runs
    when the parent looks (however late it looks); through CDLL it returns."""
    import ctypes
    fifo, model = os.path.join(tmp, "model.fifo"), os.path.join(tmp, "model.mlp")
    os.mkfifo(fifo)
    with open(model, "wb") as f:
        f.write(_model_bytes())
    child = subprocess.Popen([sys.executable, "-c", _HELD_GIL_CHILD, mlp.library_path, fifo, model],
                             stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or lines[-1] != "calling PyDLL":  # no timeout: each line must come
            line = child.stdout.readline()
            assert line, "the child exited early: %r (exit %s)" % (lines, child.wait())
            lines.append(line.strip())
        assert lines == ["calling CDLL", "CDLL returned 0", "calling PyDLL"]
        with pytest.raises(subprocess.TimeoutExpired):  # deadlocked: it never returns
            child.wait(timeout=2)
    finally:
        # SIGTERM, not SIGKILL: under valgrind (scripts/ci-valgrind-python.sh)
        # the tool then still writes its report for the child to the end.
        child.terminate()
        child.wait()
        child.stdout.close()
    held = ctypes.PyDLL(mlp.library_path).mlp_forward
    held.restype, held.argtypes = mlp._lib.SIGNATURES["mlp_forward"]
    monkeypatch.setattr(mlp._clib, "mlp_forward", held)
    with pytest.raises(AssertionError):
        test_calls_go_through_cdll()


def _run_threads(*jobs):
    """Runs each job in its own thread; re-raises the first exception."""
    errors = []

    def wrap(job):
        try:
            job()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _regression(seed):
    net = mlp.Network([12, 24, 3], activations=["tanh", "identity"], seed=seed)
    net.loss = "mse"
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(96, 12)).astype(np.float32)
    T = np.tanh(X[:, :3] - X[:, 3:6]).astype(np.float32)
    return net, X, T


EPOCHS = 6


def _flat_params(net):
    return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in net.get_params()])


def test_two_networks_train_concurrently():
    """Two threads train two networks, and each training callback waits for
    the other thread's at every epoch, so the two mlp_train calls are in
    progress at the same time (whatever the load). The parameters equal
    those of the same trainings run one after the other, bit for bit."""
    want = []
    for seed in (1, 2):
        net, X, T = _regression(seed)
        mlp.Trainer(net, optimizer="adam", learning_rate=0.01, epochs=EPOCHS, batch_size=16).train(X, T)
        want.append(_flat_params(net))
    meet = threading.Barrier(2)
    epochs_met = [[], []]

    def job(i, seed):
        net, X, T = _regression(seed)

        def callback(p):
            meet.wait()  # the other training is inside its mlp_train too
            epochs_met[i].append(p["epoch"])

        tr = mlp.Trainer(net, callback=callback, optimizer="adam", learning_rate=0.01,
                         epochs=EPOCHS, batch_size=16)
        try:
            tr.train(X, T)
        except BaseException:
            meet.abort()  # the other thread must not wait for this one forever
            raise
        tr.close()
        assert np.array_equal(_flat_params(net), want[i])

    _run_threads(lambda: job(0, 1), lambda: job(1, 2))
    assert epochs_met == [list(range(1, EPOCHS + 1))] * 2


def test_two_networks_predict_concurrently():
    """Two threads predict on two networks, round by round (both released
    together at each round by a barrier): every result equals the
    single-thread one."""
    nets = [mlp.Network([32, 64, 64, 10], activations=["relu", "gelu", "identity"], seed=s)
            for s in (1, 2)]
    Xs = [np.random.RandomState(s).normal(size=(40, 32)).astype(np.float32) for s in (3, 4)]
    want = [net.forward(X) for net, X in zip(nets, Xs)]
    go = threading.Barrier(2)
    bad = []

    def job(i):
        for r in range(24):
            go.wait()
            if not np.array_equal(nets[i].forward(Xs[i]), want[i]):
                bad.append((i, r))

    _run_threads(lambda: job(0), lambda: job(1))
    assert bad == []


def test_one_network_from_many_threads_is_safe(rng):
    """Calls on one network are serialised by its lock: the results stay exact."""
    net = mlp.Network([8, 16, 4], seed=3)
    X = rng.normal(size=(64, 8)).astype(np.float32)
    want = net.forward(X)
    bad = []

    def work():
        for _ in range(50):
            if not np.array_equal(net.forward(X), want):
                bad.append(1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad


def test_predictors_share_one_network_across_threads(rng):
    """16 threads x 32 rounds on one network, one Predictor (workspace) each:
    every result equals the single-thread one; a predictor runs without the
    network's lock, so the threads are runnable together."""
    net = mlp.Network([20, 64, 32, 5], activations=["tanh", "relu", "identity"], seed=4)
    X = rng.normal(size=(200, 20)).astype(np.float32)
    want = net.forward(X)
    one = net.forward(X[7:8])
    bad = []

    def work(i):
        with net.predictor(max_batch=64) as p:  # smaller than the batch: runs in chunks
            for r in range(32):
                if not np.array_equal(p.forward(X), want):
                    bad.append((i, r))
                if not np.array_equal(p(X[7:8]), one):
                    bad.append((i, r, 1))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []
    p = mlp.Predictor(net)
    p.close()
    with pytest.raises(mlp.MLPError):
        p.forward(X)
    with pytest.raises(mlp.MLPError) as e:
        mlp.Predictor(net).forward(np.zeros((2, 21)))
    assert e.value.name == "MLP_ERR_MISMATCH"
