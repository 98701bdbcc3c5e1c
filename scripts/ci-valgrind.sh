#!/usr/bin/env bash
# R12: every C test binary that ctest runs, under valgrind memcheck: any
# memory error or any definitely/indirectly lost byte fails the run.
# Tests that are not ELF programs of this build (the Python suite, shell
# checks) are listed and skipped: memcheck is for the C suites.
# Usage: bash scripts/ci-valgrind.sh   (after scripts/deps.sh)
# Env: MLP_VALGRIND_BUILD_DIR (default: build-valgrind beside the sources),
#      MLP_VALGRIND_EXCLUDE (a ctest -E regex of C tests to leave out).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLP_VALGRIND_BUILD_DIR:-$root/build-valgrind}
jobs=$(nproc)

echo "== valgrind: build (RelWithDebInfo, no sanitizers) =="
# flock: scripts/ci-valgrind-python.sh may be building the same tree
mkdir -p "$build"
flock "$build/.build.lock" sh -c 'cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLP_SANITIZE= &&
  cmake --build "$2" -j "$3"' sh "$root" "$build" "$jobs"

# One OpenBLAS thread: its worker threads' stacks and buffers are not ours,
# and a single thread keeps the run deterministic. tests/valgrind.supp
# holds the suppressions for OpenBLAS's own allocations, each justified there.
export OPENBLAS_NUM_THREADS=1
vg=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
    --suppressions="$root/tests/valgrind.supp" --num-callers=30 -q)

# The tests as ctest knows them: command, environment, working directory.
# -LE mpi: those run under mpirun, and Open MPI's own allocations are not ours.
list=$(ctest --test-dir "$build" --show-only=json-v1 -LE mpi ${MLP_VALGRIND_EXCLUDE:+-E "$MLP_VALGRIND_EXCLUDE"} |
  /usr/bin/python3 -c '
import json, sys
for t in json.load(sys.stdin)["tests"]:
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    env = props.get("ENVIRONMENT", [])
    wd = props.get("WORKING_DIRECTORY", "")
    print("\x1f".join([t["name"], wd, "\x1e".join(env), "\x1e".join(t.get("command", []))]))
')

failed=()
ran=0
while IFS=$'\x1f' read -r name wd env cmd; do
  IFS=$'\x1e' read -r -a argv <<< "$cmd"
  IFS=$'\x1e' read -r -a envv <<< "$env"
  exe=${argv[0]:-}
  if [ -z "$exe" ] || ! head -c 4 "$exe" 2>/dev/null | grep -q 'ELF' || [[ "$exe" != "$build"/* ]]; then
    echo "-- skip $name (not a C test binary of this build: ${exe:-none})"
    continue
  fi
  ran=$((ran + 1))
  t0=$(date +%s)
  if (cd "${wd:-$build}" && env "${envv[@]}" "${vg[@]}" "${argv[@]}" > "$build/valgrind-$name.log" 2>&1); then
    echo "-- $name: clean ($(( $(date +%s) - t0 ))s)"
  else
    tail -n 60 "$build/valgrind-$name.log"
    echo "-- $name: FAILED"
    failed+=("$name")
  fi
done <<< "$list"

if [ "$ran" -eq 0 ]; then echo "ci-valgrind: no C test ran" >&2; exit 1; fi
if [ "${#failed[@]}" -ne 0 ]; then
  echo "ci-valgrind: FAILED: ${failed[*]} (logs: $build/valgrind-NAME.log)" >&2
  exit 1
fi
echo "ci-valgrind: $ran C test binaries clean (0 errors, 0 bytes definitely or indirectly lost)"
