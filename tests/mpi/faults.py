"""The faults of `mlp train` under mpirun: one process fails, every process
must end. Shared by the test (tests/mpi/test_cli_mpi.py: the job ends,
non-zero, with a message naming the rank and the cause) and the benchmark
(benchmarks/mpi_faults.py: how long the ending takes).

Nothing here reads the clock. A hang is told from a slow end by a generous
bound given to the waits themselves (subprocess's timeout=, select's): a
hung job never ends, so any finite bound catches it, and a loaded machine
that is only slow stays well inside it. Callers that measure pass hooks
(on_first_line, on_kill) and read their own clock there.

Different processes get different arguments through mpirun's MPMD syntax
(`-np 1 A : -np 1 B`), so no test hook is needed in the program.
"""
import collections
import gzip
import os
import select
import shlex
import signal
import struct
import subprocess
import tempfile
import threading
import time

import numpy as np

# A bound on the wait for a job that should end, not a speed figure.
HANG_GUARD_S = 300
HANG = "the job did not end: a process is waiting for a failed one"

NO_OUT = ["-o", "none", "--curve-csv", "none", "--plot", "none"]
SMALL = ["--hidden", "16", "--batch-size", "32", "--dropout", "0", "--input-dropout", "0",
         "--threads", "1"]

# One fault: the command of the whole job, the rank that fails, the cause its
# message names, and a line of rank 0's output that must not appear (None: no
# such check).
Fault = collections.namedtuple("Fault", "cmd rank cause absent")


class Launcher:
    """How to start `mlp train` under mpirun."""

    def __init__(self, cli, mpiexec="mpirun", flags=("--oversubscribe",)):
        self.cli, self.mpiexec, self.flags = cli, mpiexec, list(flags)

    def cmd(self, np_, args):
        return [self.mpiexec, *self.flags, "-np", str(np_), self.cli, "train", *args]

    def mpmd(self, args_per_rank, wrap=None):
        """One process per argument list (rank k gets args_per_rank[k]); wrap
        maps rank 1's command to another (a shell with a limit)."""
        cmd = [self.mpiexec, *self.flags]
        for k, args in enumerate(args_per_rank):
            if k:
                cmd.append(":")
            one = [self.cli, "train", *args]
            cmd += ["-np", "1", *(wrap(one) if wrap and k == 1 else one)]
        return cmd


def from_environ():
    """The launcher ctest describes (MLP_CLI, MPIEXEC, MPIEXEC_FLAGS)."""
    return Launcher(os.environ["MLP_CLI"], os.environ.get("MPIEXEC", "mpirun"),
                    shlex.split(os.environ.get("MPIEXEC_FLAGS", "--oversubscribe")))


def env():
    e = dict(os.environ)
    e.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
             OPENBLAS_NUM_THREADS="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    return e


def write_csv(path, n, cols=6, seed=0, header=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, cols))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1)
    lines = [",".join("x%d" % i for i in range(cols)) + ",y"] if header else []
    lines += [",".join("%.5f" % v for v in row) + ",%d" % c for row, c in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return lines


def write_data(d):
    """The small training and test sets the faults start from."""
    write_csv(d / "train.csv", 600)
    write_csv(d / "test.csv", 200, seed=1)
    return d


def train_args(d, out, *extra):
    return ["--data", str(d / "train.csv"), "--test", str(d / "test.csv"), *SMALL,
            "-o", str(out), *extra]


def end(job):
    """Ends a job that hung: mpirun, terminated, takes its processes with it."""
    job.terminate()
    try:
        job.wait(timeout=30)
    except subprocess.TimeoutExpired:
        job.kill()
        job.wait()


def run(cmd, on_first_line=None, timeout=HANG_GUARD_S):
    """Runs a job expected to fail; returns (rc, stdout, stderr). The first
    line on stderr (the first process's report of its failure) is passed to
    on_first_line as it arrives. A job still running after timeout seconds
    fails with HANG."""
    with tempfile.TemporaryFile("w+") as out:
        job = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True, env=env())
        lines = []

        def read():
            for line in job.stderr:
                if not lines and on_first_line:
                    on_first_line(line)
                lines.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            rc = job.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            end(job)
            raise AssertionError(HANG + " (after %d s)" % timeout) from None
        reader.join(timeout)
        out.seek(0)
        return rc, out.read(), "".join(lines)


def check(fault, rc, so, se):
    """The job failed, and a line names the failing rank and the cause."""
    assert rc != 0, "the job exited 0 although rank %d failed" % fault.rank
    assert any(("rank %d" % fault.rank) in l and fault.cause in l for l in se.splitlines()), se
    if fault.absent:
        assert fault.absent not in so, so


# ---- the faults --------------------------------------------------------------

def unreadable_file_on_rank1(launch, data, tmp):
    good = train_args(data, data / "f1.mlp", "--epochs", "2")
    bad = [a if a != str(data / "train.csv") else str(data / "missing.csv") for a in good]
    return Fault(launch.mpmd([good, bad]), 1, "missing.csv: No such file or directory",
                 "model:")


def shard_file(path, n, bad_line):
    """A CSV whose line at 90% of the file (in the last of 2 or 3 parts)
    is replaced by bad_line."""
    lines = write_csv(path, n, seed=3)
    k = int(0.9 * len(lines))
    lines[k] = bad_line
    path.write_text("\n".join(lines) + "\n")
    return k + 1


def malformed_row_in_last_shard(launch, data, tmp, np_):
    shard_file(tmp / "malformed.csv", 400, "1.0,2.0,oops,4,5,6,1")
    args = ["--data", str(tmp / "malformed.csv"), *SMALL, "--shard", *NO_OUT, "--epochs", "2"]
    return Fault(launch.cmd(np_, args), np_ - 1, "'oops' is not a number", "training:")


def nan_in_rank1_shard(launch, data, tmp):
    shard_file(tmp / "nan.csv", 400, "1.0,nan,3.0,4,5,6,1")
    args = ["--data", str(tmp / "nan.csv"), *SMALL, "--shard", *NO_OUT, "--epochs", "2"]
    return Fault(launch.cmd(2, args), 1, "'nan' is not a number", None)


def column_count_disagrees(launch, data, tmp):
    write_csv(tmp / "five.csv", 600, cols=5)
    good = train_args(data, tmp / "c.mlp", "--epochs", "2")
    bad = [a if a != str(data / "train.csv") else str(tmp / "five.csv") for a in good]
    return Fault(launch.mpmd([good, bad]), 1, "5 features per row, but 6 on rank 0", None)


# The options processes may disagree on: (the argument changed on rank 1, what
# the message says they disagree on).
DISAGREEMENTS = [(("16", "17"), "the network's shape"),
                 (("0.002", "0.003"), "the trainer options")]


def processes_disagree(launch, data, tmp, change, what):
    good = train_args(data, tmp / "s.mlp", "--epochs", "2", "--lr", "0.002")
    bad = [a if a != change[0] else change[1] for a in good]
    return Fault(launch.mpmd([good, bad]), 1, "disagree on " + what, "epoch 1/")


def out_of_memory_on_rank1(launch, data, tmp):
    """Rank 1 runs under a 1.2 GB address-space limit (a few hundred MB
    above what a process of this job maps) and is given an IDX file of
    40000 images of 100 x 100 pixels: 400 MB of bytes, 1.6 GB as floats,
    gzip-compressed to a few MB. Rank 0 reads the small CSV."""
    n, side = 40000, 100
    with gzip.open(tmp / "images.gz", "wb", compresslevel=1) as f:
        f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, n, side, side))
        zeros = bytes(side * side * 1000)
        for _ in range(n // 1000):
            f.write(zeros)
    with gzip.open(tmp / "labels.gz", "wb") as f:
        f.write(struct.pack(">BBBBI", 0, 0, 8, 1, n) + bytes(n))
    good = train_args(data, tmp / "oom.mlp", "--epochs", "2")
    big = ["--data", str(tmp / "images.gz"), "--labels", str(tmp / "labels.gz"), *SMALL,
           "-o", str(tmp / "oom.mlp"), "--epochs", "2"]
    limited = lambda cmd: ["sh", "-c", 'ulimit -v 1200000 && exec "$@"', "sh", *cmd]
    return Fault(launch.mpmd([good, big], wrap=limited), 1, "out of memory", "training:")


def rank_pids(cli, marker, rank):
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
        if (marker.encode() in cmdline and cmdline.startswith(cli.encode()) and
                ("OMPI_COMM_WORLD_RANK=%d" % rank).encode() in environ):
            found.append(int(pid))
    return found


def wait_begun(job, timeout):
    """Waits until rank 0 printed its last header line (just before the
    first step), reading the job's stdout to its end in the background."""
    begun = threading.Event()

    def read():
        for line in job.stdout:
            if "training:" in line:
                begun.set()
        begun.set()  # the job ended first: the caller sees it has

    threading.Thread(target=read, daemon=True).start()
    assert begun.wait(timeout), "training did not begin within %d s" % timeout
    assert job.poll() is None, "the job ended before training began"


def wait_gone(pidfds, timeout):
    """Waits until every process behind pidfds has ended (a zombie waiting
    for its parent counts as ended: it holds no resources and runs no more)."""
    left = list(pidfds)
    while left:
        ready, _, _ = select.select(left, [], [], timeout)
        assert ready, HANG + " (pid still running after %d s)" % timeout
        left = [fd for fd in left if fd not in ready]


def sigkill_mid_epoch(launch, tmp, on_kill=None, timeout=HANG_GUARD_S):
    """3 processes train a network large enough to be mid-epoch a second
    after training began; then rank 1 is killed with SIGKILL. Returns
    (rc, stderr) once mpirun and the other two processes have ended;
    on_kill is called just before the kill."""
    write_csv(tmp / "big.csv", 20000, seed=5)
    marker = str(tmp / "killed.mlp")
    args = ["--data", str(tmp / "big.csv"), "--hidden", "256,256", "--epochs", "10000",
            "--threads", "1", "-o", marker]
    err, fds = tmp / "stderr", []
    with open(err, "w") as fe:
        job = subprocess.Popen(launch.cmd(3, args), stdout=subprocess.PIPE, stderr=fe, text=True,
                               env=env())
        try:
            wait_begun(job, timeout)
            time.sleep(1.0)  # into the first epoch; any moment of training will do
            victims = rank_pids(launch.cli, marker, 1)
            others = rank_pids(launch.cli, marker, 0) + rank_pids(launch.cli, marker, 2)
            assert len(victims) == 1 and len(others) == 2 and job.poll() is None
            # Opened before the kill, so that a pid reused later is never watched.
            fds = [os.pidfd_open(pid) for pid in others]
            if on_kill:
                on_kill()
            os.kill(victims[0], signal.SIGKILL)
            try:
                rc = job.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise AssertionError(HANG + " (mpirun after %d s)" % timeout) from None
            wait_gone(fds, timeout)
        finally:
            for fd in fds:
                os.close(fd)
            if job.poll() is None:
                end(job)
    return rc, err.read_text()


def check_killed(rc, se):
    """The job failed, and the launcher named the rank and the signal."""
    assert rc != 0, "the job exited 0 although rank 1 was killed"
    assert "rank 1" in se and "signal 9" in se, se
