#!/usr/bin/env bash
# Installs what is needed, builds libmlp, and runs the whole test suite.
# Usage: bash scripts/test.sh   (from anywhere; as root on a fresh Debian 12)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLP_BUILD_DIR:-$root/build}
jobs=$(nproc)

[ "${MLP_SKIP_DEPS:-0}" = 1 ] || bash "$root/scripts/deps.sh"

echo "== build (Release) =="
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"

echo "== tests =="
ctest --test-dir "$build" --output-on-failure -j "$jobs"
