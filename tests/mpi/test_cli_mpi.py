"""`mlp train` under mpirun: the same model as one process, one voice, the
header, the sharded mode, and faults that end the job instead of hanging it.

Run by ctest (tests/CMakeLists.txt, label mpi) with MLP_CLI (the mlp binary),
MPIEXEC and MPIEXEC_FLAGS, MLP_LIBRARY and PYTHONPATH (the Python binding, to
read the saved models) in the environment. Every file goes into pytest's
temporary folders. The faults' jobs are built in faults.py, which
benchmarks/mpi_faults.py shares to measure how long each takes to end.
"""
import subprocess

import numpy as np
import pytest

import faults
import mlp
from faults import NO_OUT, SMALL, env, train_args, write_csv

LAUNCH = faults.from_environ()
CLI, MPIEXEC, MPIEXEC_FLAGS = LAUNCH.cli, LAUNCH.mpiexec, LAUNCH.flags


def mpirun(np_, args, timeout=600):
    """mpirun -np np_ mlp train args; returns (rc, stdout, stderr)."""
    cmd = [MPIEXEC, *MPIEXEC_FLAGS, "-np", str(np_), CLI, "train", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env())
    return p.returncode, p.stdout, p.stderr


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Whatever a run writes beside itself lands in a temporary folder."""
    monkeypatch.chdir(tmp_path)


def flat(net):
    return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in net.get_params()])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return faults.write_data(tmp_path_factory.mktemp("mpi_cli"))


# ---- the same model as one process -----------------------------------------

# Momentum SGD with l2 and clipping, 600 - 5% held out = 570 rows in batches
# of 32: 18 steps an epoch, the last batch of 26 rows; 3 epochs = 54 steps.
EQUAL_RECIPE = ["--optimizer", "momentum", "--lr", "0.05", "--l2", "1e-3", "--clip", "1",
                "--epochs", "3"]


@pytest.fixture(scope="module")
def one_process(data):
    out = data / "np1.mlp"
    rc, so, se = mpirun(1, train_args(data, out, *EQUAL_RECIPE))
    assert rc == 0, se
    return out, so


@pytest.mark.parametrize("np_", [2, 3])
def test_replicated_equals_one_process(data, one_process, np_):
    out = data / ("np%d.mlp" % np_)
    rc, so, se = mpirun(np_, train_args(data, out, *EQUAL_RECIPE))
    assert rc == 0, se
    ref = mlp.Network.load(str(one_process[0]))
    got = mlp.Network.load(str(out))
    # The starting point: the CLI creates its network with the seed (42).
    theta0 = flat(mlp.Network([6, 16, 3], ["relu", "identity"], seed=42))
    t1, tp = flat(ref), flat(got)
    moved = np.linalg.norm(t1 - theta0)
    assert moved > 0.1
    # The bound for SGD and momentum: float summation order only.
    assert np.linalg.norm(tp - t1) <= 1e-4 * moved
    # Rank 0 evaluated the test set: within one row of one process's result.
    acc1 = float(one_process[1].split("test accuracy: ")[1].split("%")[0])
    accp = float(so.split("test accuracy: ")[1].split("%")[0])
    assert abs(accp - acc1) <= 0.5


def test_only_rank0_prints_and_writes(data):
    out = data / "quiet.mlp"
    rc, so, se = mpirun(3, train_args(data, out, "--epochs", "2", "--profile"))
    assert rc == 0, se
    # One process's output: each line that one process prints, once.
    assert so.count("threads:") == 1 and so.count("network:") == 1
    # rank 0's split of its time, with the communication not hidden
    assert so.count("profile: ") == 1 and so.count("  communication ") == 1
    assert so.count("epoch 2/2") == 1 and so.count("test accuracy") == 1
    assert so.count("model: ") == 1
    assert "rank" not in se
    assert out.exists() and (data / "quiet-curve.csv").exists()


def test_header_names_processes_and_mode(data):
    rc, so, se = mpirun(2, train_args(data, data / "h.mlp", "--epochs", "1"))
    assert rc == 0, se
    assert "processes: 2, replicated" in so
    rc, so, se = mpirun(3, train_args(data, data / "h.mlp", "--epochs", "1", "--shard"))
    assert rc == 0, se
    assert "processes: 3, sharded" in so
    # The rows of all shards, not rank 0's.
    assert "data: %s, 600 rows x 6 features, 3 classes" % (data / "train.csv") in so


def test_sharded_trains(data):
    out = data / "shard.mlp"
    rc, so, se = mpirun(2, train_args(data, out, "--shard", "--epochs", "15", "--lr", "0.01",
                                      "--optimizer", "adam"))
    assert rc == 0, se
    losses = [float(l.split("loss ")[1].split()[0]) for l in so.splitlines()
              if l.startswith("epoch ")]
    assert len(losses) == 15 and losses[-1] < 0.8 * losses[0]
    acc = float(so.split("test accuracy: ")[1].split("%")[0])
    assert acc > 60.0  # three classes, the largest about half the rows
    assert mlp.Network.load(str(out)) is not None


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_sharded_scaling_is_the_whole_sets(data, kind):
    """The input scaling that a sharded run saves is fitted over every
    part's rows: the one that one process fits on the whole file."""
    whole = mlp.Network([6, 16, 3], ["relu", "identity"])
    X, _ = mlp.load_csv(str(data / "train.csv"))
    whole.fit_input_scaling(X, kind)
    out = data / ("scaled-%s.mlp" % kind)
    rc, so, se = mpirun(3, ["--data", str(data / "train.csv"), *SMALL, "--shard", "--epochs", "1",
                            "--scale", kind, "-o", str(out)])
    assert rc == 0, se
    got = mlp.Network.load(str(out)).input_scaling
    for a, b in zip(got, whole.input_scaling):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_without_launcher_no_mpi(data, tmp_path):
    """Run directly, the program never initialises MPI: no rank in its
    messages, no processes line."""
    e = {k: v for k, v in env().items() if not k.startswith(("OMPI_", "PMIX_", "PMI_"))}
    p = subprocess.run([CLI, "train", *train_args(data, tmp_path / "m.mlp", "--epochs", "1")],
                       capture_output=True, text=True, env=e, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "processes:" not in p.stdout
    p = subprocess.run([CLI, "train", "--data", str(tmp_path / "none.csv")],
                       capture_output=True, text=True, env=e, timeout=600)
    assert p.returncode == 1 and "rank" not in p.stderr


# ---- faults end the job ------------------------------------------------------
# Each fault's job must end, non-zero, with a line naming the failing rank and
# the cause; a job that never ends fails with faults.HANG after a generous
# bound (faults.HANG_GUARD_S). How long the ending takes is measured by
# benchmarks/mpi_faults.py, not asserted here.

def assert_fault(fault):
    faults.check(fault, *faults.run(fault.cmd))


def test_unreadable_file_on_rank1(data, tmp_path):
    assert_fault(faults.unreadable_file_on_rank1(LAUNCH, data, tmp_path))


@pytest.mark.parametrize("np_", [2, 3])
def test_malformed_row_in_last_shard(data, tmp_path, np_):
    assert_fault(faults.malformed_row_in_last_shard(LAUNCH, data, tmp_path, np_))


def test_nan_in_rank1_shard(data, tmp_path):
    assert_fault(faults.nan_in_rank1_shard(LAUNCH, data, tmp_path))


def test_column_count_disagrees(data, tmp_path):
    assert_fault(faults.column_count_disagrees(LAUNCH, data, tmp_path))


@pytest.mark.parametrize("change,what", faults.DISAGREEMENTS)
def test_processes_disagree(data, tmp_path, change, what):
    assert_fault(faults.processes_disagree(LAUNCH, data, tmp_path, change, what))


def test_sharded_classes_agree(data):
    """Class 2 only in the last part: every process builds 3 outputs."""
    lines = write_csv(data / "classes.csv", 400, seed=7)
    rows = sorted(lines[1:], key=lambda l: l.endswith(",2"))
    assert rows[-1].endswith(",2") and not rows[len(rows) // 2].endswith(",2")
    (data / "classes.csv").write_text("\n".join([lines[0]] + rows) + "\n")
    out = data / "classes.mlp"
    rc, so, se = mpirun(2, ["--data", str(data / "classes.csv"), *SMALL, "--shard", "--epochs",
                            "2", "-o", str(out)])
    assert rc == 0, se
    assert "400 rows x 6 features, 3 classes" in so
    assert mlp.Network.load(str(out)).get_params()[-1][1].shape == (3,)


def test_out_of_memory_on_rank1(data, tmp_path):
    assert_fault(faults.out_of_memory_on_rank1(LAUNCH, data, tmp_path))


def test_sigkill_mid_epoch(tmp_path):
    """Every process is gone, and the launcher named the rank and the signal."""
    faults.check_killed(*faults.sigkill_mid_epoch(LAUNCH, tmp_path))


# ---- the sharded mode's accuracy ---------------------------------------------

def test_fashion_sharded_matches_replicated(tmp_path):
    """Fashion-MNIST (Debian's dataset-fashion-mnist, scripts/deps.sh), a short
    run of the default recipe on a smaller network: the sharded mode's test
    accuracy within 0.5 points of the replicated mode's."""
    args = ["--hidden", "128", "--epochs", "2", "--threads", "1", *NO_OUT]
    acc = {}
    for mode in ([], ["--shard"]):
        rc, so, se = mpirun(2, args + mode)
        assert rc == 0, se
        assert ("sharded" if mode else "replicated") in so
        acc[bool(mode)] = float(so.split("test accuracy: ")[1].split("%")[0])
    assert acc[False] > 80.0, acc
    assert abs(acc[True] - acc[False]) <= 0.5, acc
