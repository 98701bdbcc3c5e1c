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
# valgrind memcheck, then 10 million fuzzing runs of the model loader. The
# Python suite under memcheck (about 40 minutes, one core) runs in the
# background alongside the other stages, in its own process group so that a
# failing stage also stops it.
pylog="$build/valgrind-python.log"
echo "== valgrind memcheck, Python suite: started in the background (log: $pylog) =="
setsid bash "$root/scripts/ci-valgrind-python.sh" > "$pylog" 2>&1 &
py_pid=$!
trap 'kill -- -"$py_pid" 2> /dev/null || true' EXIT
echo "== sanitizers (ASan+UBSan) =="
bash "$root/scripts/ci-sanitize.sh"
echo "== valgrind memcheck, C suites =="
bash "$root/scripts/ci-valgrind.sh"
echo "== fuzzing the model loader (10M runs) =="
bash "$root/scripts/ci-fuzz.sh"
echo "== valgrind memcheck, Python suite: waiting for it =="
py_rc=0
wait "$py_pid" || py_rc=$?
trap - EXIT
tail -n 30 "$pylog"
if [ "$py_rc" -ne 0 ]; then
  echo "test.sh: the Python suite under valgrind failed (log: $pylog)" >&2
  exit 1
fi
echo "== all test stages passed =="
