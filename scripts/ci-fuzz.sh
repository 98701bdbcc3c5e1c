#!/usr/bin/env bash
# R9: the libFuzzer targets under ASan+UBSan (docs/FUZZING.md), each for a
# fixed number of executions split over parallel jobs:
#   load  the model loader (fuzz/fuzz_load.c)           10,000,000
#   csv   the CSV reader (fuzz/fuzz_csv.c)               2,000,000
#   idx   the IDX reader, raw and gzip (fuzz/fuzz_idx.c) 2,000,000
#   api   the public API as programs (fuzz/fuzz_api.c)     300,000
# about 9 minutes on 2 cores, the build included (docs/FUZZING.md). The API
# fuzzer's long run (10 million executions) is recorded there too.
# Any crash, leak, sanitizer report, timeout or broken check fails the run,
# and the input is kept under BUILD/fuzz-findings/TARGET/ (minimise it with
# -minimize_crash=1 and add it to the target's corpus once fixed: the
# fuzz_replay tests then replay it in every test run).
# Usage: bash scripts/ci-fuzz.sh   (after scripts/deps.sh: clang, libclang-rt-14-dev)
# Env: MLP_FUZZ_TARGETS (default "load csv idx api"), MLP_FUZZ_RUNS_LOAD,
#      _CSV, _IDX, _API (executions per target; MLP_FUZZ_RUNS is the old
#      name of MLP_FUZZ_RUNS_LOAD), MLP_FUZZ_JOBS (parallel jobs, default
#      nproc), MLP_FUZZ_BUILD_DIR (default build-fuzz).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLP_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${MLP_FUZZ_JOBS:-$(nproc)}
targets=${MLP_FUZZ_TARGETS:-load csv idx api}
declare -A runs=(
  [load]=${MLP_FUZZ_RUNS_LOAD:-${MLP_FUZZ_RUNS:-10000000}}
  [csv]=${MLP_FUZZ_RUNS_CSV:-2000000}
  [idx]=${MLP_FUZZ_RUNS_IDX:-2000000}
  [api]=${MLP_FUZZ_RUNS_API:-300000}
)
declare -A corpus=([load]=corpus [csv]=corpus_csv [idx]=corpus_idx [api]=corpus_api)
# Longer API programs run slower without reaching more: 512 bytes is ~40 calls.
declare -A max_len=([load]=4096 [csv]=4096 [idx]=4096 [api]=512)

echo "== fuzz: build (clang, -fsanitize=fuzzer,address,undefined) =="
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMLP_BUILD_FUZZERS=ON -DMLP_BUILD_TESTS=OFF -DMLP_BUILD_TOOLS=OFF -DMLP_BUILD_BENCHMARKS=OFF
# shellcheck disable=SC2086
cmake --build "$build" --target $(printf 'fuzz_%s ' $targets) -j "$jobs"

work=$(mktemp -d "${TMPDIR:-/tmp}/mlp-fuzz.XXXXXX")
# The data and API targets write their input as files and read them back
# on every execution. On a disk that discards freed blocks synchronously
# that file traffic, not the library, sets the rate (about 5x slower for
# the IDX target), so the files go to a memory file system when one with
# room is at hand. Corpora, findings and logs stay in $work.
files=$work
shm_free_kb=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
if [ -w /dev/shm ] && [ "${shm_free_kb:-0}" -ge 262144 ]; then
  files=$(mktemp -d /dev/shm/mlp-fuzz.XXXXXX)
fi
trap 'rm -rf "$work" "$files"' EXIT
export OPENBLAS_NUM_THREADS=1
# The targets' own temporary files go to the run's folder.
export TMPDIR=$files

# fuzz_target NAME: runs it, prints its rate; fails on any finding.
fuzz_target() {
  local t=$1 n=${runs[$1]} per i pid status=0 total=0 start secs findings
  local dir=$work/$t
  local -a pids=()
  per=$(( (n + jobs - 1) / jobs ))
  echo "== fuzz $t: $jobs jobs x $per executions =="
  start=$(date +%s)
  for i in $(seq 1 "$jobs"); do
    mkdir -p "$dir/corpus-$i" "$dir/art-$i"
    # New inputs go to the job's own corpus; tests/corpus*/ are only read.
    # One execution takes well under a second; -timeout=60 catches hangs
    # without failing when other test stages keep the cores busy.
    "$build/fuzz/fuzz_$t" -runs="$per" -max_len="${max_len[$t]}" -timeout=60 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/art-$i/" \
      "$dir/corpus-$i" "$root/tests/${corpus[$t]}" > "$dir/log-$i" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  for i in $(seq 1 "$jobs"); do
    n=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$dir/log-$i" | tail -n 1)
    total=$((total + ${n:-0}))
  done
  secs=$(( $(date +%s) - start ))
  findings=$(find "$dir" -path "$dir/art-*" -type f | wc -l)
  if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ] || [ "$total" -lt "${runs[$t]}" ]; then
    mkdir -p "$build/fuzz-findings/$t"
    find "$dir" -path "$dir/art-*" -type f -exec cp {} "$build/fuzz-findings/$t/" \;
    for i in $(seq 1 "$jobs"); do echo "--- $t job $i"; tail -n 40 "$dir/log-$i"; done
    echo "ci-fuzz: $t FAILED after $total executions: $findings finding(s) in $build/fuzz-findings/$t" >&2
    return 1
  fi
  echo "ci-fuzz: $t: $total executions in ${secs}s ($jobs jobs, $(( total / (secs > 0 ? secs : 1) )) exec/s), no finding"
}

failed=0
for t in $targets; do
  fuzz_target "$t" || failed=1
done
exit "$failed"
