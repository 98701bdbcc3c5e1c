#!/usr/bin/env bash
# R12: the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer,
# no recovery (every report is fatal), in a build directory of its own.
# Usage: bash scripts/ci-sanitize.sh   (after scripts/deps.sh)
# Env: MLP_SANITIZE_BUILD_DIR (default: build-sanitize beside the sources).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLP_SANITIZE_BUILD_DIR:-$root/build-sanitize}
jobs=$(nproc)

echo "== sanitize: build (gcc, -fsanitize=address,undefined) =="
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLP_SANITIZE=address,undefined
cmake --build "$build" -j "$jobs"

# Every report aborts; leaks are errors (LeakSanitizer is part of ASan).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export OPENBLAS_NUM_THREADS=1

echo "== sanitize: C suites =="
# -LE mpi: Open MPI's own allocations (never freed, by design) would fail
# the leak check; libmlp's part of that code runs in the other suites.
ctest --test-dir "$build" --output-on-failure -j "$jobs" -E '^python$' -LE mpi
# The C programs among them, under mpirun at 1 to 3 processes, with leak
# checking off for that reason; every other report still fails.
mpi_tests=$(ctest --test-dir "$build" -N -L mpi -R '^mpi_np')
if grep -q 'Total Tests: [1-9]' <<< "$mpi_tests"; then
  echo "== sanitize: data-parallel C suites (leak checking off: Open MPI's) =="
  ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0} \
    ctest --test-dir "$build" --output-on-failure -L mpi -R '^mpi_np'
fi

# The Python suite loads the instrumented libmlp.so into an uninstrumented
# /usr/bin/python3: the ASan runtime must then be preloaded (it has to come
# first), and the interpreter's own deliberate leaks at exit are not ours,
# so leak checking is off for this run (the C suites above check leaks).
# Its fixture (the ONNX runtime's npm install) runs first, without the
# preload. (The test is found by name: -R also lists that fixture.)
# (The listing is read whole first: grep -q ending the pipe early would
# fail ctest with SIGPIPE, and pipefail the test.)
py_tests=$(ctest --test-dir "$build" -N -R '^python$')
if grep -qE '#[0-9]+: python$' <<< "$py_tests"; then
  echo "== sanitize: Python suite (ASan runtime preloaded) =="
  ctest --test-dir "$build" --output-on-failure -R '^onnxruntime_install$'
  preload="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1 LD_PRELOAD="$preload" \
    ctest --test-dir "$build" --output-on-failure -R '^python$' -FS onnxruntime
else
  echo "ci-sanitize: ctest has no python test" >&2
  exit 1
fi
echo "ci-sanitize: passed"
