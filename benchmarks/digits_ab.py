#!/usr/bin/python3
"""Two builds of libmlp.so side by side on scikit-learn's digits: the CPU
time of mlp.MLPClassifier's fit with L-BFGS and with Adam (one thread,
(100,), alpha 1e-4, 200 iterations, tol=0, the first 1347 rows), best of
three fits in a fresh process per library, the processes alternated round
by round so that a machine's drift touches both alike. Prints each
library's times, test accuracy and final loss, and B's time against A's.

Usage (OPENBLAS_CORETYPE and the like pass through to both):
  OPENBLAS_NUM_THREADS=1 benchmarks/digits_ab.py OLD/build/src/libmlp.so \\
      build/src/libmlp.so [--rounds 2]
"""
import argparse
import json
import os
import subprocess
import sys
import time

SOLVERS = ("lbfgs", "adam")


def worker():
    import warnings
    import numpy as np
    from sklearn.datasets import load_digits
    import mlp
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    mlp.set_num_threads(1)
    out = {}
    for solver in SOLVERS:
        best = float("inf")
        for _ in range(3):
            c = mlp.MLPClassifier(hidden_layer_sizes=(100,), solver=solver, max_iter=200, tol=0,
                                  n_iter_no_change=10**6, random_state=0, alpha=1e-4)
            t = time.process_time()
            c.fit(X[:1347], y[:1347])
            best = min(best, time.process_time() - t)
        out[solver] = {"cpu_s": best, "accuracy": c.score(X[1347:], y[1347:]), "loss": c.loss_}
    json.dump(out, sys.stdout)


def run(lib):
    env = dict(os.environ, MLP_LIBRARY=lib,
               PYTHONPATH=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker"], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    if "--worker" in sys.argv:
        return worker()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    results = {args.a: [], args.b: []}
    for r in range(args.rounds):
        for lib in ((args.a, args.b) if r % 2 == 0 else (args.b, args.a)):
            results[lib].append(run(lib))
    for solver in SOLVERS:
        best = {}
        for tag, lib in (("A", args.a), ("B", args.b)):
            runs = [x[solver] for x in results[lib]]
            best[tag] = min(x["cpu_s"] for x in runs)
            print("%s %-5s CPU s %s  accuracy %.4f  loss %.6g  (%s)" % (
                tag, solver, ", ".join("%.3f" % x["cpu_s"] for x in runs), runs[-1]["accuracy"],
                runs[-1]["loss"], lib))
        print("  %s: B / A = %.2fx (best against best)" % (solver, best["B"] / best["A"]))


if __name__ == "__main__":
    main()
