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

# Reliability stages (R9, R12): the whole suite under ASan+UBSan and under
# valgrind memcheck, then 10 million fuzzing runs of the model loader.
echo "== sanitizers (ASan+UBSan) =="
bash "$root/scripts/ci-sanitize.sh"
echo "== valgrind memcheck =="
bash "$root/scripts/ci-valgrind.sh"
echo "== fuzzing the model loader (10M runs) =="
bash "$root/scripts/ci-fuzz.sh"
echo "== all test stages passed =="
