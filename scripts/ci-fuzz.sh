#!/usr/bin/env bash
# R9: fuzzes the model loader (mlp_load_buffer, fuzz/fuzz_load.c) with
# libFuzzer under ASan+UBSan for at least 10 million executions in all,
# split over parallel jobs; any crash, leak, sanitizer report, timeout or
# broken check fails the run, and the input is kept under
# BUILD/fuzz-findings/ (add it to tests/corpus/ once fixed: fuzz_replay
# then replays it in every test run).
# Usage: bash scripts/ci-fuzz.sh   (after scripts/deps.sh: clang, libclang-rt-14-dev)
# Env: MLP_FUZZ_RUNS (total executions, default 10000000), MLP_FUZZ_JOBS
#      (parallel jobs, default nproc), MLP_FUZZ_BUILD_DIR (default build-fuzz).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLP_FUZZ_BUILD_DIR:-$root/build-fuzz}
runs=${MLP_FUZZ_RUNS:-10000000}
jobs=${MLP_FUZZ_JOBS:-$(nproc)}

echo "== fuzz: build (clang, -fsanitize=fuzzer,address,undefined) =="
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMLP_BUILD_FUZZERS=ON -DMLP_BUILD_TESTS=OFF -DMLP_BUILD_TOOLS=OFF -DMLP_BUILD_BENCHMARKS=OFF
cmake --build "$build" --target fuzz_load -j "$jobs"

work=$(mktemp -d "${TMPDIR:-/tmp}/mlp-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS=1
per=$(( (runs + jobs - 1) / jobs ))
echo "== fuzz: $jobs jobs x $per executions =="
start=$(date +%s)
pids=()
for i in $(seq 1 "$jobs"); do
  mkdir -p "$work/corpus-$i" "$work/art-$i"
  # New inputs go to the job's own corpus; tests/corpus/ is only read.
  "$build/fuzz/fuzz_load" -runs="$per" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/art-$i/" \
    "$work/corpus-$i" "$root/tests/corpus" > "$work/log-$i" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done

total=0
for i in $(seq 1 "$jobs"); do
  n=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$work/log-$i" | tail -n 1)
  total=$((total + ${n:-0}))
done
secs=$(( $(date +%s) - start ))
findings=$(find "$work" -path "$work/art-*" -type f | wc -l)
if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ] || [ "$total" -lt "$runs" ]; then
  mkdir -p "$build/fuzz-findings"
  find "$work" -path "$work/art-*" -type f -exec cp {} "$build/fuzz-findings/" \;
  for i in $(seq 1 "$jobs"); do echo "--- job $i"; tail -n 40 "$work/log-$i"; done
  echo "ci-fuzz: FAILED after $total executions: $findings finding(s) in $build/fuzz-findings" >&2
  exit 1
fi
echo "ci-fuzz: $total executions in ${secs}s ($jobs jobs), no finding"
