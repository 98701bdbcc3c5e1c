#!/usr/bin/env bash
# R13: the thread tests under ThreadSanitizer: the C suites tests/test_threads.c,
# test_call_rule.c (another thread's calls refused) and test_par.c (the
# trainer's helper threads; OpenBLAS itself at two threads there, see
# below) through ctest, and the Python concurrency tests tests/python/test_threads.py
# (Debian's /usr/bin/python3 with gcc's TSan runtime preloaded), against a
# gcc -fsanitize=thread build of its own. Any TSan report fails the stage.
#
# -DMLP_VEC_CLONES=OFF: gcc's target_clones ifunc resolvers run during
# relocation, before the TSan runtime is initialised, and crash the load.
# OPENBLAS_NUM_THREADS=1: OpenBLAS is not instrumented, so TSan cannot see
# the synchronisation inside its thread pool; with one BLAS thread no pool
# thread touches libmlp's buffers. Every test here runs that way (the C test
# through its ctest environment). No suppression is needed: TSan reports a
# race only between accesses it sees, which are libmlp's own and those of
# the libc functions it intercepts (memset, memcpy, malloc, pthread_*);
# CPython's and numpy's code is not instrumented, and the GIL and Python's
# locks are pthread primitives that TSan intercepts, so it sees them order
# the threads' calls.
# Usage: bash scripts/ci-tsan.sh   (after scripts/deps.sh)
# Env: MLP_TSAN_BUILD_DIR (default: build-tsan beside the sources).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLP_TSAN_BUILD_DIR:-$root/build-tsan}
jobs=$(nproc)
start=$(date +%s)

echo "== tsan: build (gcc, -fsanitize=thread, no vector clones) =="
CC=gcc CXX=g++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMLP_SANITIZE=thread -DMLP_VEC_CLONES=OFF -DMLP_BUILD_TOOLS=OFF -DMLP_BUILD_BENCHMARKS=OFF > /dev/null
cmake --build "$build" --target mlp test_threads test_call_rule test_par -j "$jobs"

libtsan=$(gcc -print-file-name=libtsan.so.2)
[ -f "$libtsan" ] || { echo "ci-tsan: gcc's libtsan.so.2 not found (libgcc-12-dev)" >&2; exit 1; }
logs="$build/tsan-logs"
rm -rf "$logs" && mkdir -p "$logs"
# halt_on_error: the first report ends the process with a failure.
# exitcode: also fail a process whose report came at exit.
# log_path: reports go to files of their own (report.PID), since pytest's
# output capture would swallow a report printed by a process that then dies.
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 history_size=4 log_path=$logs/report"
export OPENBLAS_NUM_THREADS=1
# Newer kernels randomise mmap over more bits than gcc 12's TSan shadow
# layout accepts ("unexpected memory mapping"): run without address-space
# randomisation where the kernel lets us switch it off for this process.
norand=()
if setarch "$(uname -m)" -R true 2> /dev/null; then norand=(setarch "$(uname -m)" -R); fi

failed=()
echo "== tsan: C thread tests (test_threads, test_call_rule, test_par) =="
if ! "${norand[@]}" ctest --test-dir "$build" -R '^(test_threads|test_call_rule|test_par)$' --output-on-failure \
     > "$logs/test_threads.log" 2>&1; then
  failed+=(test_threads)
fi
tail -n 5 "$logs/test_threads.log"

echo "== tsan: Python concurrency tests (libtsan preloaded into /usr/bin/python3) =="
if ! (cd "$build" && "${norand[@]}" env LD_PRELOAD="$libtsan" MLP_LIBRARY="$build/src/libmlp.so" \
        PYTHONPATH="$root/python" PYTHONDONTWRITEBYTECODE=1 \
        /usr/bin/python3 -m pytest -q -p no:cacheprovider -rfEs "$root/tests/python/test_threads.py") \
     > "$logs/python.log" 2>&1; then
  failed+=(python)
fi
tail -n 5 "$logs/python.log"; echo

reports=$(cat "$logs"/* | grep -c 'WARNING: ThreadSanitizer' || true)
secs=$(( $(date +%s) - start ))
if [ "${#failed[@]}" -ne 0 ] || [ "$reports" -ne 0 ]; then
  for f in "$logs"/report.*; do
    [ -f "$f" ] && { echo "--- $f"; head -n 60 "$f"; }
  done
  echo "ci-tsan: FAILED (${failed[*]:-no test failed}; $reports TSan report(s); logs: $logs) after ${secs}s" >&2
  exit 1
fi
echo "ci-tsan: test_threads, test_call_rule, test_par (C) and tests/python/test_threads.py clean under ThreadSanitizer (0 reports) in ${secs}s"
