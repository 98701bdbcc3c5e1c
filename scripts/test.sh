#!/usr/bin/env bash
# Installs what is needed, builds libmlp, and runs the whole test suite.
# Usage: bash scripts/test.sh [--quick]   (from anywhere; as root on a fresh Debian 12)
#   --quick   build and ctest only: the development loop (a few minutes)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLP_BUILD_DIR:-$root/build}
jobs=$(nproc)
quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: bash scripts/test.sh [--quick]" >&2; exit 2 ;;
esac

# Each stage's seconds, printed at the end: what a change adds to the run.
stage_name="" stage_t0=$SECONDS stage_log=""
stage() {
  [ -z "$stage_name" ] || stage_log+=$(printf '%6d s  %s\n' $((SECONDS - stage_t0)) "$stage_name")$'\n'
  stage_name=$1 stage_t0=$SECONDS
  [ -z "$1" ] || echo "== $1 =="
}
stage_report() {
  stage ""
  echo "== time per stage (total $SECONDS s) =="
  printf '%s' "$stage_log"
}

stage "dependencies (scripts/deps.sh)"
[ "${MLP_SKIP_DEPS:-0}" = 1 ] || bash "$root/scripts/deps.sh"

# npm's onnxruntime-node for the ONNX tests: installed once, shared by
# every stage's build (read only from here on).
export MLP_ORT_DIR="$build/onnxruntime"
stage "onnxruntime-node (npm) into $MLP_ORT_DIR"
bash "$root/scripts/onnxruntime.sh" "$MLP_ORT_DIR"

stage "build (Release)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"

stage "tests"
ctest --test-dir "$build" --output-on-failure -j "$jobs"
if [ "$quick" = 1 ]; then
  stage_report
  echo "== quick run passed (build and ctest; the full run adds the stages below) =="
  exit 0
fi

# The reliability stages: the whole suite under ASan+UBSan and under
# valgrind memcheck, the thread tests under ThreadSanitizer, the installed
# Python package, and the fuzzers. The Python suite under memcheck (about
# 30 minutes, one core) runs in the background alongside the other stages,
# in its own process group so that a failing stage also stops it. Every
# stage builds in a folder of its own and writes only temporary files, so
# that no stage changes another's outcome.
pylog="$build/valgrind-python.log"
echo "== valgrind memcheck, Python suite: started in the background (log: $pylog) =="
setsid bash "$root/scripts/ci-valgrind-python.sh" > "$pylog" 2>&1 &
py_pid=$!
trap 'kill -- -"$py_pid" 2> /dev/null || true' EXIT
stage "sanitizers (ASan+UBSan)"
bash "$root/scripts/ci-sanitize.sh"
stage "ThreadSanitizer: the thread tests, C and Python"
bash "$root/scripts/ci-tsan.sh"
stage "valgrind memcheck, C suites"
bash "$root/scripts/ci-valgrind.sh"
stage "pip install . (fresh venvs, offline)"
bash "$root/scripts/ci-pip.sh"
stage "fuzzing: loader 10M, CSV 2M, IDX 2M, API 300k (scripts/ci-fuzz.sh)"
bash "$root/scripts/ci-fuzz.sh"
stage "valgrind memcheck, Python suite: waiting for it"
py_rc=0
wait "$py_pid" || py_rc=$?
trap - EXIT
tail -n 30 "$pylog"
if [ "$py_rc" -ne 0 ]; then
  echo "test.sh: the Python suite under valgrind failed (log: $pylog)" >&2
  exit 1
fi
stage_report
echo "== all test stages passed =="
