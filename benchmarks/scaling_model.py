#!/usr/bin/python3
"""Scaling model of synchronous data-parallel training beyond one machine.

Per step, every node computes the gradient of its rows (time proportional
to its local batch, at the rate measured for one process) and the gradient
(4 bytes per parameter) is summed by a ring all-reduce: each node sends and
receives 2(P-1)/P * 4 * n_params bytes over its link, in 2(P-1) message
steps of latency alpha each:

    t_comm(P) = 2(P-1) * alpha + 2(P-1)/P * 4 * n_params / bandwidth

Without overlap the step is t_comp + t_comm. With overlap each layer's
gradient is reduced as soon as the backward pass has produced it (last
layer first, one reduction at a time on the link), while the earlier
layers' backward products still run; only what is left after the backward
pass ends is exposed. The backward time of each layer is the measured step
time split by the layer's share of the step's multiply-adds (forward
2*b*n_in*n_out, weight gradient the same, input gradient the same except
for the first layer, which has none).

Efficiency = t_comp / t_step. The global batch for 90% is the smallest
P * local batch at which the efficiency reaches 0.9 (compute grows
linearly with the local batch: benchmarks/README.md, "Scaling").

Usage:
    benchmarks/scaling_model.py [--step-ms T] [--batch 256] [--markdown]
    benchmarks/scaling_model.py --check run.json ...   (mlp-bench-mpi --json files)
"""
import argparse
import json
import math

# Link speeds and the MPI latency assumed for each (a message step of the
# ring): TCP over 10 Gbit Ethernet, RoCE at 25 Gbit, InfiniBand at 100 Gbit.
LINKS = [(10, 20e-6), (25, 5e-6), (100, 2e-6)]
NODES = [2, 4, 8, 16, 32, 64]
NETWORKS = [(784, 768, 384, 10), (784, 4096, 4096, 10)]
MAIN = NETWORKS[0]


def n_params(sizes):
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def step_flops(sizes, batch):
    """Multiply-adds x 2 of a training step: forward, weight gradient, and
    the input gradient of every layer but the first."""
    layers = list(zip(sizes, sizes[1:]))
    f = sum(2 * batch * a * b for a, b in layers)  # forward
    f += sum(2 * batch * a * b for a, b in layers)  # weight gradients
    f += sum(2 * batch * a * b for a, b in layers[1:])  # input gradients
    return f


def t_comm(nbytes, p, alpha, bw):
    if p < 2:
        return 0.0
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes / bw


def exposed_with_overlap(sizes, t_comp, batch, p, alpha, bw):
    """Communication left after the backward pass when each layer's
    gradient is reduced as soon as it exists (last layer first)."""
    layers = list(zip(sizes, sizes[1:]))
    total = step_flops(sizes, batch)
    t, link_free = 0.0, 0.0
    for i in range(len(layers) - 1, -1, -1):
        a, b = layers[i]
        bwd = 2 * batch * a * b * (2 if i > 0 else 1)
        t += t_comp * bwd / total  # this layer's gradient is ready
        start = max(t, link_free)
        link_free = start + t_comm(4 * (a + 1) * b, p, alpha, bw)
    return max(0.0, link_free - t)


def efficiency(sizes, sec_per_flop, batch, p, alpha, bw, overlap):
    t_comp = step_flops(sizes, batch) * sec_per_flop
    if overlap:
        exposed = exposed_with_overlap(sizes, t_comp, batch, p, alpha, bw)
    else:
        exposed = t_comm(4 * n_params(sizes), p, alpha, bw)
    return t_comp / (t_comp + exposed)


def batch_for(sizes, sec_per_flop, p, alpha, bw, overlap, target=0.9):
    """Smallest global batch (P x local batch) with efficiency >= target."""
    lo, hi = 1, 1
    while efficiency(sizes, sec_per_flop, hi, p, alpha, bw, overlap) < target:
        hi *= 2
        if hi > 1 << 30:
            return math.inf
    while lo < hi:
        mid = (lo + hi) // 2
        if efficiency(sizes, sec_per_flop, mid, p, alpha, bw, overlap) >= target:
            hi = mid
        else:
            lo = mid + 1
    return p * hi


def table(sizes, sec_per_flop, local_batch, markdown):
    name = "-".join(map(str, sizes))
    mb = 4 * n_params(sizes) / 1e6
    t_comp = step_flops(sizes, local_batch) * sec_per_flop
    print(f"\n{name}: {n_params(sizes):,} parameters, {mb:.2f} MB of gradient; "
          f"compute {t_comp * 1e3:.2f} ms per step at local batch {local_batch}; efficiency "
          f"at local batch {local_batch} per node (global {local_batch} x P)\n")
    head = (["link", "overlap"] + [f"P={p}" for p in NODES]
            + ["global batch for 90% (P=2 / 8 / 64)"])
    print("| " + " | ".join(head) + " |")
    print("| " + " | ".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + " |")
    for gbit, alpha in LINKS:
        bw = gbit * 1e9 / 8
        for overlap in (False, True):
            effs = [efficiency(sizes, sec_per_flop, local_batch, p, alpha, bw, overlap)
                    for p in NODES]
            need = [batch_for(sizes, sec_per_flop, p, alpha, bw, overlap) for p in (2, 8, 64)]
            cells = [f"{gbit} Gbit/s, alpha {alpha * 1e6:g} us", "yes" if overlap else "no"]
            cells += [f"{e:.0%}" for e in effs]
            cells.append(" / ".join(f"{n:,}" for n in need))
            print("| " + " | ".join(cells) + " |")


def check(paths):
    """Predicted against measured, for mlp-bench-mpi runs at P >= 2: the
    gradient's all-reduce from the fitted alpha and bandwidth; the step
    without overlap (alone + the model's communication) against the
    emulated step and the blocking reducer's step; the efficiency
    (compute / step, compute = the step alone on the same rows) the model
    gives with and without overlap against the library's measured one."""
    print("\n| run | alpha us | GB/s | all-reduce: model / measured best, median ms "
          "| no overlap: alone + model / emulated / blocking ms | library step: mean, fastest ms "
          "| efficiency: model no overlap / overlap / measured | hidden |")
    print("| --- |" + " ---: |" * 7)
    for path in paths:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                if r["procs"] < 2:
                    continue
                p, alone = r["procs"], r["step_alone_ms"] * 1e-3
                alpha, bw = r["alpha_us"] * 1e-6, r["bandwidth_gbit"] * 1e9 / 8
                sizes = tuple(int(x) for x in r["layers"].split("-"))
                comm = t_comm(4 * r["n_params"], p, alpha, bw)
                local = r["batch"] / p
                exp = exposed_with_overlap(sizes, alone, local, p, alpha, bw)
                blk = r.get("step_blocking_ms")
                fastest = r.get("step_min_ms") or r["step_ms"]
                print(f"| {r.get('variant', p)} | {r['alpha_us']:.2f} | {bw / 1e9:.2f} "
                      f"| {comm * 1e3:.3f} / {r['allreduce_grad_ms']:.3f}, "
                      f"{r['allreduce_grad_median_ms']:.3f} "
                      f"| {(alone + comm) * 1e3:.2f} / {r['step_emulated_ms']:.2f} / "
                      f"{'-' if blk is None else format(blk, '.2f')} "
                      f"| {r['step_ms']:.2f}, {fastest:.2f} "
                      f"| {alone / (alone + comm):.0%} / {alone / (alone + exp):.0%} / "
                      f"{r['step_alone_ms'] / r['step_ms']:.0%} | {r['hidden_share']:.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--step-ms", type=float, default=20.0,
                    help="measured step of the main job at --batch on one process, 1 thread")
    ap.add_argument("--batch", type=int, default=256, help="the batch of --step-ms, and "
                    "the local batch of the efficiency columns")
    ap.add_argument("--check", nargs="*", default=[],
                    help="mlp-bench-mpi --json files (or mpi_compare.py --out)")
    a = ap.parse_args()
    sec_per_flop = a.step_ms * 1e-3 / step_flops(MAIN, a.batch)
    print(f"compute rate {1e-9 / sec_per_flop:.1f} GFLOP/s per node "
          f"(the main job's step, {a.step_ms} ms at batch {a.batch}, one process)")
    for sizes in NETWORKS:
        table(sizes, sec_per_flop, a.batch, True)
    if a.check:
        check(a.check)


if __name__ == "__main__":
    main()
