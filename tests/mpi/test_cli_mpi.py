"""`mlp train` under mpirun: the same model as one process, one voice, the
header, the sharded mode, and faults that end the job instead of hanging it.

Run by ctest (tests/CMakeLists.txt, label mpi) with MLP_CLI (the mlp binary),
MPIEXEC and MPIEXEC_FLAGS, MLP_LIBRARY and PYTHONPATH (the Python binding, to
read the saved models) in the environment. Every file goes into pytest's
temporary folders. Different processes get different arguments through
mpirun's MPMD syntax (`-np 1 A : -np 1 B`), so no test hook is needed in the
program.
"""
import gzip
import os
import shlex
import struct
import signal
import subprocess
import tempfile
import threading
import time

import numpy as np
import pytest

import mlp

CLI = os.environ["MLP_CLI"]
MPIEXEC = os.environ.get("MPIEXEC", "mpirun")
MPIEXEC_FLAGS = shlex.split(os.environ.get("MPIEXEC_FLAGS", "--oversubscribe"))

# The limit for a failed process to end the whole job. Elapsed time
# is only ever checked against it as an upper bound (a hang), never as a
# speed figure; the margin covers a loaded machine's start-up of mpirun.
FAULT_LIMIT_S = 30.0

NO_OUT = ["-o", "none", "--curve-csv", "none", "--plot", "none"]
SMALL = ["--hidden", "16", "--batch-size", "32", "--dropout", "0", "--input-dropout", "0",
         "--threads", "1"]


def env():
    e = dict(os.environ)
    e.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
             OPENBLAS_NUM_THREADS="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    return e


def mpirun(np_, args, timeout=600):
    """mpirun -np np_ mlp train args; returns (rc, stdout, stderr)."""
    cmd = [MPIEXEC, *MPIEXEC_FLAGS, "-np", str(np_), CLI, "train", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env())
    return p.returncode, p.stdout, p.stderr


def run_fault(cmd, timeout=600):
    """Runs a job expected to fail; returns (rc, stdout, stderr, seconds
    from the first line on stderr, the first process's report of its
    failure, to the end of the whole job)."""
    with tempfile.TemporaryFile("w+") as out:
        job = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True, env=env())
        first, lines = [], []

        def read():
            for line in job.stderr:
                if not first:
                    first.append(time.monotonic())
                lines.append(line)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            rc = job.wait(timeout=timeout)
        finally:
            if job.poll() is None:
                job.kill()
                job.wait()
        end = time.monotonic()
        reader.join()
        out.seek(0)
        return rc, out.read(), "".join(lines), end - (first[0] if first else end)


def mpmd(args_per_rank, wrap=None):
    """One process per argument list (rank k gets args_per_rank[k]); wrap
    maps rank 1's command to another (a shell with a limit)."""
    cmd = [MPIEXEC, *MPIEXEC_FLAGS]
    for k, args in enumerate(args_per_rank):
        if k:
            cmd.append(":")
        one = [CLI, "train", *args]
        cmd += ["-np", "1", *(wrap(one) if wrap and k == 1 else one)]
    return run_fault(cmd)


def write_csv(path, n, cols=6, seed=0, header=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, cols))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1)
    lines = [",".join("x%d" % i for i in range(cols)) + ",y"] if header else []
    lines += [",".join("%.5f" % v for v in row) + ",%d" % c for row, c in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return lines


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Whatever a run writes beside itself lands in a temporary folder."""
    monkeypatch.chdir(tmp_path)


def flat(net):
    return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in net.get_params()])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("mpi_cli")
    write_csv(d / "train.csv", 600)
    write_csv(d / "test.csv", 200, seed=1)
    return d


def train_args(d, out, *extra):
    return ["--data", str(d / "train.csv"), "--test", str(d / "test.csv"), *SMALL,
            "-o", str(out), *extra]


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

def assert_fault(rc, se, elapsed, rank, cause):
    assert rc != 0
    assert elapsed < FAULT_LIMIT_S, "the job took %.0f s to end" % elapsed
    assert any(("rank %d" % rank) in l and cause in l for l in se.splitlines()), se


def test_unreadable_file_on_rank1(data):
    good = train_args(data, data / "f1.mlp", "--epochs", "2")
    bad = [a if a != str(data / "train.csv") else str(data / "missing.csv") for a in good]
    rc, so, se, t = mpmd([good, bad])
    assert_fault(rc, se, t, 1, "missing.csv: No such file or directory")
    assert "model:" not in so


def shard_file(data, name, n, bad_line):
    """A CSV whose line at 90% of the file (in the last of 2 or 3 parts)
    is replaced by bad_line."""
    lines = write_csv(data / name, n, seed=3)
    k = int(0.9 * len(lines))
    lines[k] = bad_line
    (data / name).write_text("\n".join(lines) + "\n")
    return k + 1


@pytest.mark.parametrize("np_", [2, 3])
def test_malformed_row_in_last_shard(data, np_):
    shard_file(data, "malformed.csv", 400, "1.0,2.0,oops,4,5,6,1")
    args = ["--data", str(data / "malformed.csv"), *SMALL, "--shard", *NO_OUT, "--epochs", "2"]
    rc, so, se, t = run_fault([MPIEXEC, *MPIEXEC_FLAGS, "-np", str(np_), CLI, "train", *args])
    assert_fault(rc, se, t, np_ - 1, "'oops' is not a number")
    assert "training:" not in so


def test_nan_in_rank1_shard(data):
    shard_file(data, "nan.csv", 400, "1.0,nan,3.0,4,5,6,1")
    args = ["--data", str(data / "nan.csv"), *SMALL, "--shard", *NO_OUT, "--epochs", "2"]
    rc, so, se, t = run_fault([MPIEXEC, *MPIEXEC_FLAGS, "-np", "2", CLI, "train", *args])
    assert_fault(rc, se, t, 1, "'nan' is not a number")


def test_column_count_disagrees(data):
    write_csv(data / "five.csv", 600, cols=5)
    good = train_args(data, data / "c.mlp", "--epochs", "2")
    bad = [a if a != str(data / "train.csv") else str(data / "five.csv") for a in good]
    rc, so, se, t = mpmd([good, bad])
    assert_fault(rc, se, t, 1, "5 features per row, but 6 on rank 0")


@pytest.mark.parametrize("change,what", [(("16", "17"), "the network's shape"),
                                         (("0.002", "0.003"), "the trainer options")])
def test_processes_disagree(data, change, what):
    good = train_args(data, data / "s.mlp", "--epochs", "2", "--lr", "0.002")
    bad = [a if a != change[0] else change[1] for a in good]
    rc, so, se, t = mpmd([good, bad])
    assert rc != 0 and t < FAULT_LIMIT_S
    assert any("rank 1" in l and "disagree on " + what in l for l in se.splitlines()), se
    assert "epoch 1/" not in so


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
    """Rank 1 runs under a 1.2 GB address-space limit (a few hundred MB
    above what a process of this job maps) and is given an IDX file of
    40000 images of 100 x 100 pixels: 400 MB of bytes, 1.6 GB as floats,
    gzip-compressed to a few MB. Rank 0 reads the small CSV."""
    n, side = 40000, 100
    with gzip.open(tmp_path / "images.gz", "wb", compresslevel=1) as f:
        f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, n, side, side))
        zeros = bytes(side * side * 1000)
        for _ in range(n // 1000):
            f.write(zeros)
    with gzip.open(tmp_path / "labels.gz", "wb") as f:
        f.write(struct.pack(">BBBBI", 0, 0, 8, 1, n) + bytes(n))
    good = train_args(data, data / "oom.mlp", "--epochs", "2")
    big = ["--data", str(tmp_path / "images.gz"), "--labels", str(tmp_path / "labels.gz"), *SMALL,
           "-o", str(data / "oom.mlp"), "--epochs", "2"]
    limited = lambda cmd: ["sh", "-c", 'ulimit -v 1200000 && exec "$@"', "sh", *cmd]
    rc, so, se, t = mpmd([good, big], wrap=limited)
    assert_fault(rc, se, t, 1, "out of memory")
    assert "training:" not in so


def rank_pids(marker, rank):
    """pids of processes whose command line holds marker and whose
    environment says OMPI_COMM_WORLD_RANK=rank."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read()
            with open("/proc/%s/environ" % pid, "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        if (marker.encode() in cmdline and cmdline.startswith(CLI.encode()) and
                ("OMPI_COMM_WORLD_RANK=%d" % rank).encode() in environ):
            found.append(int(pid))
    return found


def alive(pid):
    """Whether pid runs (a zombie waiting for its parent does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_sigkill_mid_epoch(data, tmp_path):
    write_csv(tmp_path / "big.csv", 20000, seed=5)
    marker = str(tmp_path / "killed.mlp")
    args = ["--data", str(tmp_path / "big.csv"), "--hidden", "256,256", "--epochs", "10000",
            "--threads", "1", "-o", marker]
    cmd = [MPIEXEC, *MPIEXEC_FLAGS, "-np", "3", CLI, "train", *args]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with open(out, "w") as fo, open(err, "w") as fe:
        job = subprocess.Popen(cmd, stdout=fo, stderr=fe, env=env())
        try:
            # Training has begun once rank 0 printed its last header line
            # (just before the first step).
            deadline = time.monotonic() + 600
            while "training:" not in out.read_text() and job.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            time.sleep(1.0)
            victims = rank_pids(marker, 1)
            others = rank_pids(marker, 0) + rank_pids(marker, 2)
            assert len(victims) == 1 and len(others) == 2 and job.poll() is None
            t0 = time.monotonic()
            os.kill(victims[0], signal.SIGKILL)
            rc = job.wait(timeout=FAULT_LIMIT_S + 60)
            while any(alive(pid) for pid in others) and time.monotonic() < t0 + 2 * FAULT_LIMIT_S:
                time.sleep(0.1)
            elapsed = time.monotonic() - t0
        finally:
            if job.poll() is None:
                job.kill()
                job.wait()
    # Every process is gone, and the launcher named the rank and the signal.
    assert rc != 0 and elapsed < FAULT_LIMIT_S
    se = err.read_text()
    assert "rank 1" in se and "signal 9" in se, se


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
