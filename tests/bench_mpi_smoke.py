#!/usr/bin/python3
"""Smoke run of mlp-bench-mpi under mpirun on a tiny network: it runs at
1, 2 and 3 processes (and with the emulated reduction), and what it reports
is well formed: every ratio finite, the hidden share in [0, 1], the counts
those of the run. Asserts no time: the machine's load decides those.

    bench_mpi_smoke.py MPIEXEC MLP_BENCH_MPI [MPIEXEC FLAGS...]
(--oversubscribe is added for Open MPI: 3 processes on a 2-core machine.)
"""
import json
import math
import os
import subprocess
import sys
import tempfile

LAYERS, BATCH, ROWS = "20-16-3", 16, 200
N_PARAMS = (20 + 1) * 16 + (16 + 1) * 3
ALWAYS = ["step_ms", "step_alone_ms", "step_emulated_ms", "comm_ms", "exposed_ms",
          "emulated_comm_ms", "imbalance_ms", "hidden_share", "comm_share", "compute_share",
          "samples_per_s", "allreduce_1_us", "allreduce_grad_ms", "allreduce_grad_median_ms",
          "alpha_us", "bandwidth_gbit", "epoch_s", "epoch_rows", "epoch_samples_per_s",
          "epoch_cpu_share"]
HOOK = ["step_overlap_ms", "step_blocking_ms", "stats_ms", "step_min_ms", "comm_min_ms",
        "exposed_min_ms", "profile_comm_ms"]


def run(mpiexec, bench, flags, procs, extra, tmp):
    path = os.path.join(tmp, f"np{procs}{'-'.join(extra)}.json")
    cmd = ([mpiexec, "-np", str(procs)] + flags + ["-x", "OPENBLAS_NUM_THREADS=1", bench,
           "--layers", LAYERS, "--batch", str(BATCH), "--rows", str(ROWS), "--steps", "4",
           "--warmup", "2", "--rounds", "2", "--net-reps", "3", "--epoch", "--json", path]
           + extra)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=300)
    assert p.returncode == 0, f"{' '.join(cmd)}: rc {p.returncode}\n{p.stdout}"
    assert "n_params" in p.stdout, p.stdout  # the text report
    with open(path) as f:
        return json.load(f)


def check(r, procs):
    where = f"np {procs}, {r['reduction']}"
    assert r["procs"] == procs and r["threads"] == 1, where
    assert r["layers"] == LAYERS and r["batch"] == BATCH, where
    assert r["n_params"] == N_PARAMS, where
    for k in ALWAYS:
        v = r[k]
        assert isinstance(v, (int, float)) and math.isfinite(v) and v >= 0, f"{where}: {k} = {v}"
    hook = r["reduction"] == "library" and procs > 1
    for k in HOOK:
        assert (r[k] is not None and math.isfinite(r[k]) and r[k] > 0) == hook, f"{where}: {k}"
    assert r["hidden_from_hook"] == (1 if hook else 0), where
    assert 0.0 <= r["hidden_share"] <= 1.0, where
    # The library's own profile of the communication: over the epoch when
    # mlp_train ran (0 with one process: no reducer).
    if r["reduction"] == "library":
        e = r["epoch_profile_comm_s"]
        assert e is not None and math.isfinite(e) and e >= 0 and (e > 0) == (procs > 1), where
        assert e <= r["epoch_s"] * (1 + 1e-6), where  # a part of the epoch, not a time
    else:
        assert r["epoch_profile_comm_s"] is None, where
    if hook:
        assert 0.0 <= r["hidden_share_min"] <= 1.0, where
        assert r["step_min_ms"] <= r["step_ms"] * (1 + 1e-9), where  # a minimum, not a time
    else:
        assert r["hidden_share_min"] is None, where
    if procs == 1:
        assert r["hidden_share"] == 0.0 and r["exposed_ms"] == 0.0, where
        assert r["step_ms"] == r["step_alone_ms"], where
    else:
        assert r["bandwidth_gbit"] > 0 and r["alpha_us"] > 0 and r["comm_ms"] > 0, where
    for k in ("step_ms", "step_alone_ms", "samples_per_s", "epoch_s", "epoch_samples_per_s"):
        assert r[k] > 0, f"{where}: {k}"
    # mlp_train holds 5% out (the library, or one process); the emulated
    # loop trains whole batches in order.
    rows = ROWS - math.ceil(0.05 * ROWS) if r["reduction"] == "library" else ROWS // BATCH * BATCH
    assert r["epoch_rows"] == rows, f"{where}: epoch_rows {r['epoch_rows']}"
    assert abs(r["epoch_samples_per_s"] * r["epoch_s"] - rows) <= 1e-3 * rows, where
    assert abs(r["samples_per_s"] * r["step_ms"] / 1e3 - BATCH) <= 1e-3 * BATCH, where


def main():
    mpiexec, bench, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
    # Open MPI starts more processes than cores only when told.
    version = subprocess.run([mpiexec, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True).stdout
    if "Open MPI" in version or "OpenRTE" in version:
        flags = ["--oversubscribe"] + flags
    with tempfile.TemporaryDirectory() as tmp:
        for procs in (1, 2, 3):
            check(run(mpiexec, bench, flags, procs, [], tmp), procs)
        r = run(mpiexec, bench, flags, 2, ["--reduction", "emulated"], tmp)
        assert r["reduction"] == "emulated"
        check(r, 2)
    print("mlp-bench-mpi smoke: 1, 2, 3 processes and the emulated reduction: OK")


if __name__ == "__main__":
    main()
