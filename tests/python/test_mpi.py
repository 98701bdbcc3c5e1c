"""Data-parallel training from Python: `mpirun -np 2 python3 mpi_worker.py`.

Needs Open MPI's mpirun and mpi4py (scripts/deps.sh installs openmpi-bin,
libopenmpi-dev and python3-mpi4py) and libmlp_mpi (built beside libmlp when
MPI is found): each is an error here, never a skip. The MPI runs happen in
subprocesses; this process never imports mpi4py."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import mlp
import mpi_worker

HERE = os.path.dirname(os.path.abspath(__file__))
# Generous: two ranks plus the test runner on two busy cores.
TIMEOUT = 600


def mpi_env():
    """This process's environment (MLP_LIBRARY, PYTHONPATH, ...) with Open MPI's
    run-as-root permission, for the subprocesses alone."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OPENBLAS_NUM_THREADS="1")
    # Containers often forbid the cross-memory attach of Open MPI's shared-memory
    # transport; plain copies through shared memory work everywhere.
    env.setdefault("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
    return env


def python_with_mpi4py(code, env=None):
    return subprocess.run([sys.executable, "-c", code], env=env or mpi_env(),
                          capture_output=True, text=True, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """The worker's two ranks, run once for the tests below."""
    mpirun = shutil.which("mpirun")
    assert mpirun, "mpirun not found: scripts/deps.sh installs openmpi-bin"
    out = tmp_path_factory.mktemp("mpi")
    cmd = [mpirun, "--oversubscribe", "--bind-to", "none", "-np", "2", sys.executable,
           os.path.join(HERE, "mpi_worker.py"), str(out)]
    r = subprocess.run(cmd, env=mpi_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, "mpirun exited %d\nstdout:\n%s\nstderr:\n%s" % (
        r.returncode, r.stdout, r.stderr)
    ranks = [dict(np.load(os.path.join(out, "rank%d.npz" % i))) for i in range(2)]
    return ranks, r.stdout


def one_process(optimizer):
    """(theta_0, theta_1): the worker's problem trained by one process."""
    X, y = mpi_worker.problem()
    net = mpi_worker.network(mlp)
    theta0 = net._flat("params").copy()
    mlp.Trainer(net, **mpi_worker.options(optimizer)).train(X, y)
    return theta0, net._flat("params").copy()


def test_mpi4py_and_mpirun_are_installed():
    r = python_with_mpi4py("from mpi4py import MPI; print(MPI.Get_library_version())")
    assert r.returncode == 0, "mpi4py: %s (scripts/deps.sh installs python3-mpi4py)" % r.stderr
    assert "Open MPI" in r.stdout, r.stdout


@pytest.mark.parametrize("optimizer,tol", [("sgd", 1e-4), ("momentum", 1e-4), ("adam", 1e-3)])
def test_two_processes_train_what_one_does(job, optimizer, tol):
    ranks, _ = job
    a, b = (r["theta_" + optimizer] for r in ranks)
    assert int(ranks[0]["size"]) == 2
    assert int(ranks[0]["steps_" + optimizer]) == mpi_worker.EPOCHS
    np.testing.assert_array_equal(a, b)  # the same bits on every process
    theta0, theta1 = one_process(optimizer)
    moved = np.linalg.norm(theta1.astype(np.float64) - theta0)
    assert moved > 0.1  # training moved the weights: the bound below means something
    assert np.linalg.norm(a.astype(np.float64) - theta1) <= tol * moved


def test_sharded_mode_keeps_the_processes_equal_and_trains(job):
    ranks, _ = job
    np.testing.assert_array_equal(ranks[0]["theta_sharded"], ranks[1]["theta_sharded"])
    np.testing.assert_array_equal(ranks[0]["loss_sharded"], ranks[1]["loss_sharded"])
    loss = ranks[0]["loss_sharded"]
    assert len(loss) == mpi_worker.EPOCHS and loss[-1] < loss[0]


def test_processes_that_disagree_get_mlp_err_mismatch(job):
    ranks, _ = job
    assert [str(r["mismatch"]) for r in ranks] == ["MLP_ERR_MISMATCH"] * 2


def test_estimators_predict_the_same_on_every_process(job):
    ranks, stdout = job
    np.testing.assert_array_equal(ranks[0]["proba"], ranks[1]["proba"])
    np.testing.assert_array_equal(ranks[0]["regression"], ranks[1]["regression"])
    np.testing.assert_array_equal(ranks[0]["regression_scores"], ranks[1]["regression_scores"])
    # verbose=True: the report of each epoch once, from rank 0 alone
    for epoch in range(1, 5):
        assert stdout.count("Iteration %d, loss = " % epoch) == 1, stdout
    # a pickled copy (what rank 0 would save) is a one-process estimator
    assert [str(r["pickled_comm"]) for r in ranks] == ["None"] * 2


def test_comm_without_libmlp_mpi_is_a_clear_import_error(tmp_path):
    absent = str(tmp_path / "libmlp_mpi.so")
    code = """if True:
        import numpy as np
        from mpi4py import MPI
        import mlp
        X = np.zeros((4, 2), np.float32); y = np.array([0, 1, 0, 1])
        for make in (lambda: mlp.Trainer(mlp.Network([2, 2]), comm=MPI.COMM_WORLD),
                     lambda: mlp.MLPClassifier(max_iter=1, comm=MPI.COMM_WORLD).fit(X, y)):
            try:
                make()
            except ImportError as e:
                print("ImportError:", e)
            else:
                print("no error")
        # without comm, nothing needs libmlp_mpi
        print(mlp.MLPClassifier(max_iter=1).fit(X, y).predict(X).shape)
    """
    env = dict(mpi_env(), MLP_MPI_LIBRARY=absent)
    r = python_with_mpi4py(code, env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3, r.stdout
    for line in lines[:2]:
        assert line.startswith("ImportError: libmlp_mpi: MLP_MPI_LIBRARY=" + absent), r.stdout
    assert lines[2] == "(4,)"


def test_import_mlp_needs_neither_mpi4py_nor_libmlp_mpi():
    code = """if True:
        import sys
        sys.modules["mpi4py"] = None  # import mpi4py now raises ImportError
        import numpy as np
        import mlp
        X = np.random.RandomState(0).normal(size=(30, 3)).astype(np.float32)
        y = (X[:, 0] > 0).astype(int)
        clf = mlp.MLPClassifier(hidden_layer_sizes=(4,), max_iter=3).fit(X, y)
        tr = mlp.Trainer(mlp.Network([3, 2]), epochs=1)
        assert tr.comm is None and tr.rank == 0 and clf.get_params()["comm"] is None
        try:
            mlp.Trainer(mlp.Network([3, 2]), comm=object())
        except TypeError as e:
            print("TypeError:", e)
        maps = open("/proc/self/maps").read()
        print("libmpi" in maps, "libmlp_mpi" in maps, "mpi4py.MPI" in sys.modules)
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMPI_")}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("TypeError: comm must be an mpi4py communicator"), r.stdout
    assert lines[1] == "False False False", r.stdout


def test_comm_is_an_estimator_parameter():
    for Est in (mlp.MLPClassifier, mlp.MLPRegressor):
        est = Est()
        assert est.get_params()["comm"] is None
        marker = object()
        assert est.set_params(comm=marker).comm is marker
