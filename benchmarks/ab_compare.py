#!/usr/bin/python3
"""Two mlp-bench binaries side by side, alternating in one run: a change's
before and after (for example a build of an older commit against this one).

Each round runs A then B, the next round B then A, with the same arguments,
so that a machine's drift touches both alike. Per (layers, batch, threads)
row it prints the median over rounds of each roofline fraction (GEMM floor
against the step and the inference) and B's change in points, and the
median step and inference times with B's ratio to A. Each binary times its
own floor; at a fraction of a millisecond the floor moves with the binary's
layout, so read a small case's fractions beside its times. Absolute times
move from run to run; only these paired figures mean anything.

Usage: benchmarks/ab_compare.py A_BENCH B_BENCH [--rounds N] [--json FILE]
                                [-- mlp-bench arguments]
Example (issue 11's check, one thread, the CPU clock; give bc9e96e's
bench_floor.c this version's aligned operands first, see benchmarks/README):
  git worktree add /tmp/old bc9e96e && cmake -S /tmp/old -B /tmp/old/build \\
      -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/old/build -j
  benchmarks/ab_compare.py /tmp/old/build/benchmarks/mlp-bench \\
      build/benchmarks/mlp-bench --rounds 7 -- --cpu-clock
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

FRACTIONS = ("roofline_fraction", "infer_roofline_fraction")
TIMES = ("train_step_ms", "infer_ms")
METRICS = FRACTIONS + TIMES


def run_bench(binary, extra, tmp):
    out = os.path.join(tmp, "r.json")
    subprocess.run([binary, "--json", out] + extra, check=True,
                   stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def row_key(r):
    return (r["layers"], r["batch"], r["threads"])


def collect(args):
    runs = {"A": {}, "B": {}}
    binaries = {"A": args.a, "B": args.b}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            order = ("A", "B") if i % 2 == 0 else ("B", "A")
            for side in order:
                for r in run_bench(binaries[side], args.extra, tmp):
                    if r.get("kind", "step") != "step":
                        continue
                    rows = runs[side].setdefault(row_key(r), {m: [] for m in METRICS})
                    for m in METRICS:
                        if r.get(m) is not None:
                            rows[m].append(r[m])
            print(f"round {i + 1}/{args.rounds} done", file=sys.stderr)
    return runs


def report(runs):
    print("| layers | batch | threads | metric | A median | B median | B against A |")
    print("|---|---|---|---|---|---|---|")
    table = []
    for key in sorted(runs["A"]):
        if key not in runs["B"]:
            continue
        for m in METRICS:
            a, b = runs["A"][key][m], runs["B"][key][m]
            if not a or not b:
                continue
            ma, mb = statistics.median(a), statistics.median(b)
            table.append({"layers": key[0], "batch": key[1], "threads": key[2], "metric": m,
                          "a": a, "b": b, "a_median": ma, "b_median": mb})
            if m in FRACTIONS:
                print(f"| {key[0]} | {key[1]} | {key[2]} | {m} | {100 * ma:.1f}% | "
                      f"{100 * mb:.1f}% | {100 * (mb - ma):+.1f} points |")
            else:
                print(f"| {key[0]} | {key[1]} | {key[2]} | {m} | {ma:.4f} | {mb:.4f} | "
                      f"{mb / ma:.3f}x |")
    return table


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a", help="mlp-bench binary A (before)")
    p.add_argument("b", help="mlp-bench binary B (after)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--json", help="write every round's fractions here")
    args = p.parse_args(argv)
    args.extra = extra
    table = report(collect(args))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=1)


if __name__ == "__main__":
    main()
