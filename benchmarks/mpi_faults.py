#!/usr/bin/python3
"""How long a job under mpirun takes to end once one of its processes fails,
against issue 12's limit (every process exits within 30 s).

For each fault of tests/mpi/faults.py (the same jobs the test runs): the
seconds from the first line on standard error (the failing process's report)
to the end of the whole job; for the SIGKILL fault, from the kill until
mpirun and the other two processes have ended. Each job is also checked as
the test checks it (non-zero exit, rank and cause named), so that a figure
is never that of a job that failed some other way.

Usage: benchmarks/mpi_faults.py [--cli build/tools/mlp] [--mpiexec mpirun]
                                [--reps N] [--json FILE]
"""

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "tests", "mpi"))

import faults  # noqa: E402

LIMIT_S = 30.0


def time_fault(fault):
    """Seconds from the first line on stderr to the end of the job."""
    first = []
    rc, so, se = faults.run(fault.cmd, on_first_line=lambda _: first.append(time.monotonic()))
    end = time.monotonic()
    faults.check(fault, rc, so, se)
    return end - first[0]


def time_sigkill(launch, tmp):
    killed = []
    rc, se = faults.sigkill_mid_epoch(launch, tmp, on_kill=lambda: killed.append(time.monotonic()))
    end = time.monotonic()
    faults.check_killed(rc, se)
    return end - killed[0]


def scenarios():
    """(name, processes, the fault's builder in faults.py, its extra arguments);
    None for the builder: the SIGKILL fault."""
    out = [("unreadable file on rank 1", 2, faults.unreadable_file_on_rank1, ())]
    out += [("malformed row in the last shard", n, faults.malformed_row_in_last_shard, (n,))
            for n in (2, 3)]
    out += [("NaN in rank 1's shard", 2, faults.nan_in_rank1_shard, ()),
            ("column count disagrees", 2, faults.column_count_disagrees, ())]
    out += [("processes disagree on " + what, 2, faults.processes_disagree, (change, what))
            for change, what in faults.DISAGREEMENTS]
    out += [("out of memory on rank 1", 2, faults.out_of_memory_on_rank1, ()),
            ("SIGKILL of rank 1 mid-epoch", 3, None, ())]
    return out


def seconds(launch, data, tmp, build, extra):
    if build is None:
        return time_sigkill(launch, tmp)
    return time_fault(build(launch, data, tmp, *extra))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(HERE, "..", "build", "tools", "mlp"))
    ap.add_argument("--mpiexec", default="mpirun")
    ap.add_argument("--reps", type=int, default=1, help="runs of each fault; the worst is shown")
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()
    out_json = os.path.abspath(a.json) if a.json else None
    launch = faults.Launcher(os.path.abspath(a.cli), a.mpiexec)
    rows = []
    print("%-44s %9s %9s %9s" % ("fault", "processes", "seconds", "limit (s)"))
    with tempfile.TemporaryDirectory() as top:
        os.chdir(top)  # whatever a run writes beside itself stays here
        data = faults.write_data(pathlib.Path(top))
        for name, np_, build, extra in scenarios():
            secs = [seconds(launch, data, pathlib.Path(tempfile.mkdtemp(dir=top)), build, extra)
                    for _ in range(a.reps)]
            rows.append({"fault": name, "processes": np_, "seconds": max(secs),
                         "limit_s": LIMIT_S})
            print("%-44s %9d %9.2f %9.0f" % (name, np_, max(secs), LIMIT_S), flush=True)
    if out_json:
        with open(out_json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
