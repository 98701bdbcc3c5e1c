#!/usr/bin/env bash
# The main job: installs what is needed, builds libmlp and `mlp` (Release),
# and trains on Fashion-MNIST with `mlp train`'s defaults, printing the test
# accuracy and the wall time, and beside it the floor of the epochs it
# trained at its thread count (`mlp-bench --epoch --floor-only`: the GEMM
# floor of the products plus the memory-traffic floor of the rest, measured
# on this machine). The model, the learning curve (CSV) and its picture
# (SVG) go to $MLP_OUT_DIR (default: build/fashion-mnist/).
# Usage: bash scripts/main.sh   (from anywhere; as root on a fresh Debian 12)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLP_BUILD_DIR:-$root/build}
out=${MLP_OUT_DIR:-$build/fashion-mnist}

[ "${MLP_SKIP_DEPS:-0}" = 1 ] || bash "$root/scripts/deps.sh"

echo "== build (Release) =="
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$(nproc)" --target mlp_cli mlp-bench

mkdir -p "$out"
echo "== mlp train (Fashion-MNIST, defaults) -> $out =="
start=$(date +%s.%N)
# stdbuf: its lines as they come, through the pipe to tee.
stdbuf -oL "$build/tools/mlp" train --out "$out/model.mlp" --curve-csv "$out/curve.csv" \
  --plot "$out/curve.svg" | tee "$out/train.log"
end=$(date +%s.%N)

# The floor of what it trained: its epochs (one curve line each) at its threads.
threads=$(sed -n 's/^threads: \([0-9]*\).*/\1/p' "$out/train.log" | head -n 1)
epochs=$(($(wc -l < "$out/curve.csv") - 1))
echo "== its floor: mlp-bench --epoch --floor-only --epochs $epochs --threads $threads =="
"$build/benchmarks/mlp-bench" --epoch --floor-only --epochs "$epochs" --threads "$threads" |
  tee "$out/floor.log"
floor=$(sed -n 's/^floor: \([0-9.]*\) s .*/\1/p' "$out/floor.log")
[ -n "$floor" ] || { echo "main.sh: mlp-bench printed no floor line" >&2; exit 1; }
awk -v s="$start" -v e="$end" -v f="$floor" \
  'BEGIN { printf "wall time: %.1f s, %.2fx its floor of %.1f s\n", e - s, (e - s) / f, f }'
