#!/usr/bin/python3
"""Two Python threads predicting on two networks, against the same work done
one call after the other: does the binding let libmlp run on two cores?

ratio = wall time of both jobs in two threads / (time of job A + time of job B),
all measured in one run: about 1.0 when the calls are serialised (a held
GIL), about 0.5 when they run in parallel on two free cores. numpy's own
float32 matrix products (which release the GIL) are measured the same way,
interleaved, as the machine's reference: when numpy cannot get below 1.0
either, the machine has no two free cores at the moment, and the libmlp
figure says nothing about the binding.

Usage: benchmarks/threads_bench.py [--tries N] [--json FILE]
Env: MLP_LIBRARY (a libmlp.so, e.g. build/src/libmlp.so); PYTHONPATH=python
"""

import argparse
import json
import os
import sys
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, "..", "python"))

import mlp  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def ratio(job_a, job_b):
    """wall(both in two threads) / (time(a) + time(b))."""
    ta, tb = timed(job_a), timed(job_b)
    threads = [threading.Thread(target=job_a), threading.Thread(target=job_b)]

    def both():
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    return timed(both) / (ta + tb)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tries", type=int, default=7, help="rounds of both measurements (default 7)")
    ap.add_argument("--json", help="write the figures to FILE ('-': stdout)")
    args = ap.parse_args()

    mlp.set_num_threads(1)  # one core per call, so that two calls can use two
    nets = [mlp.Network([256, 1024, 1024, 10], activations=["relu", "relu", "identity"], seed=s)
            for s in (1, 2)]
    Xs = [np.random.RandomState(s).normal(size=(1024, 256)).astype(np.float32) for s in (1, 2)]
    Ws = [np.random.RandomState(s).normal(size=(256, 2048)).astype(np.float32) for s in (3, 4)]
    for net in nets:
        net.reserve(1024)
    want = [net.forward(X) for net, X in zip(nets, Xs)]  # also the warm-up

    def mlp_job(i):
        def job():
            for _ in range(4):
                if not np.array_equal(nets[i].forward(Xs[i]), want[i]):
                    raise SystemExit("threads_bench: network %d predicted differently in a thread" % i)
        return job

    def numpy_job(i):
        return lambda: [np.dot(Xs[i], Ws[i]) for _ in range(4)]

    ours, theirs = [], []
    for _ in range(args.tries):  # interleaved, so that both see the same load
        theirs.append(ratio(numpy_job(0), numpy_job(1)))
        ours.append(ratio(mlp_job(0), mlp_job(1)))
    result = {
        "cpus": len(os.sched_getaffinity(0)),
        "tries": args.tries,
        "libmlp_ratio_best": min(ours), "libmlp_ratio_median": float(np.median(ours)),
        "numpy_ratio_best": min(theirs), "numpy_ratio_median": float(np.median(theirs)),
        "libmlp_ratios": ours, "numpy_ratios": theirs,
    }
    print("two threads / sequential (1.0 serialised, 0.5 parallel on two free cores), %d tries"
          % args.tries)
    print("  libmlp forward : best %.2f  median %.2f" % (min(ours), np.median(ours)))
    print("  numpy float32 @: best %.2f  median %.2f  (the machine's reference)"
          % (min(theirs), np.median(theirs)))
    if min(theirs) >= 0.75:
        print("  note: numpy shows no speed-up either: no two free cores during this run")
    if args.json:
        text = json.dumps(result, indent=1)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w") as f:
                f.write(text + "\n")


if __name__ == "__main__":
    main()
