#!/usr/bin/env bash
# The main job: installs what is needed, builds libmlp and `mlp` (Release),
# and trains on Fashion-MNIST with `mlp train`'s defaults, printing the test
# accuracy and the wall time. The model, the learning curve (CSV) and its
# picture (SVG) go to $MLP_OUT_DIR (default: build/fashion-mnist/).
# Usage: bash scripts/main.sh   (from anywhere; as root on a fresh Debian 12)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLP_BUILD_DIR:-$root/build}
out=${MLP_OUT_DIR:-$build/fashion-mnist}

[ "${MLP_SKIP_DEPS:-0}" = 1 ] || bash "$root/scripts/deps.sh"

echo "== build (Release) =="
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$(nproc)" --target mlp_cli

mkdir -p "$out"
echo "== mlp train (Fashion-MNIST, defaults) -> $out =="
start=$(date +%s.%N)
"$build/tools/mlp" train --out "$out/model.mlp" --curve-csv "$out/curve.csv" --plot "$out/curve.svg"
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "wall time: %.1f s\n", e - s }'
