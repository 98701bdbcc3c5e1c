#!/usr/bin/env bash
# The main job: installs what is needed, builds libmlp and `mlp` (Release),
# and trains on Fashion-MNIST with `mlp train`'s defaults, printing the test
# accuracy and the wall time, and beside it the floor of the epochs it
# trained at its thread count (`mlp-bench --epoch --floor-only`: the GEMM
# floor of the products plus the memory-traffic floor of the rest, measured
# on this machine). The model, the learning curve (CSV) and its picture
# (SVG) go to $MLP_OUT_DIR (default: build/fashion-mnist/). Where OpenBLAS
# would run its SSE kernels on a CPU with AVX2 or AVX-512 (an OpenBLAS older
# than the CPU), it sets OPENBLAS_CORETYPE to the core `mlp --version` names.
# Usage: bash scripts/main.sh   (from anywhere; as root on a fresh Debian 12)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLP_BUILD_DIR:-$root/build}
out=${MLP_OUT_DIR:-$build/fashion-mnist}

[ "${MLP_SKIP_DEPS:-0}" = 1 ] || bash "$root/scripts/deps.sh"

echo "== build (Release) =="
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$(nproc)" --target mlp_cli mlp-bench

# OpenBLAS reads OPENBLAS_CORETYPE when it loads: set before training and floor.
hint=$("$build/tools/mlp" --version | sed -n 's/.*OPENBLAS_CORETYPE=\([A-Za-z0-9]*\).*/\1/p')
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -n "$hint" ]; then
  export OPENBLAS_CORETYPE=$hint
  echo "OpenBLAS chose its SSE kernels on this CPU: OPENBLAS_CORETYPE=$hint for the run and its floor"
fi

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
