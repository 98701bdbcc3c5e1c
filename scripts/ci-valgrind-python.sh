#!/usr/bin/env bash
# R12: the Python test suite (ctest's `python` test: pytest over tests/python)
# under valgrind memcheck, against the valgrind build's libmlp.so (the build
# directory of scripts/ci-valgrind.sh, built here if missing). Child processes
# are traced too (the C round-trip helper, the example, subprocess imports).
# Fails on any memcheck error of any kind in any traced process, and on any
# definitely or indirectly lost byte allocated from libmlp (a libmlp.so frame
# in the allocation stack; this build's own programs: any lost byte).
# CPython and numpy keep memory alive at exit by design: leaks that libmlp did
# not allocate are counted, not failed (tests/valgrind/check_xml.py decides).
#
# scikit-learn: its import needs scipy.stats, whose Boost-based extensions
# fail to load under valgrind (its x87 long double is 64-bit). The start-up
# hook tests/valgrind/usercustomize.py, installed for every Python process of
# this run through PYTHONUSERBASE, works around exactly that error, so the
# scikit-learn estimator checks run under memcheck too.
# Left out: test_torch_convert.py. `import torch` loads Debian's libhwy,
# whose initialiser (hwy::platform::TimerResolution) executes RDTSCP, which
# valgrind 3.19 cannot decode: SIGILL kills the process at the import. The
# plain `python` test runs it, and the libmlp calls it makes (get_params,
# set_params, input_scaling) are exercised here by the other tests.
# Left out too: test_onnx.py. Its time goes to onnxruntime-node (not ours)
# and to forward passes over 1000-row batches that other tests already run
# under memcheck; the export builds its graph from get_params and
# input_scaling, which the remaining tests cover here as well. Not traced:
# node (the ONNX runtime some tests start).
# Left out too: test_mpi.py. Its mpirun and MPI ranks would be traced, and
# Open MPI fails memcheck on its own: every rank of a plain mpi4py Allreduce
# gets "writev points to uninitialised byte(s)" from PMIx's start-up thread
# (pmix_ptl_base_send_handler), plus leaks in libmpi, not ours to suppress.
# The libmlp calls of its non-MPI part are those the other tests run here.
# Usage: bash scripts/ci-valgrind-python.sh   (after scripts/deps.sh)
# Env: MLP_VALGRIND_BUILD_DIR (default: build-valgrind beside the sources),
#      MLP_VALGRIND_PYTEST_ARGS (extra pytest arguments, e.g. "-k files" to
#      rerun a part while investigating; CI passes none).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLP_VALGRIND_BUILD_DIR:-$root/build-valgrind}
jobs=$(nproc)

echo "== valgrind (Python suite): build (RelWithDebInfo, no sanitizers) =="
# flock: scripts/ci-valgrind.sh may be building the same tree
mkdir -p "$build"
flock "$build/.build.lock" sh -c 'cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLP_SANITIZE= &&
  cmake --build "$2" -j "$3"' sh "$root" "$build" "$jobs" > /dev/null

# The python test as ctest knows it: command and environment.
spec=$(ctest --test-dir "$build" --show-only=json-v1 -R '^python$' | /usr/bin/python3 -c '
import json, sys
for t in json.load(sys.stdin)["tests"]:
    if t["name"] != "python":
        continue  # -R also lists the fixture that installs the ONNX runtime
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    print("\x1e".join(props.get("ENVIRONMENT", [])))
    print("\x1e".join(t["command"]))
')
if [ -z "$spec" ]; then echo "ci-valgrind-python: ctest has no python test" >&2; exit 1; fi
{ IFS=$'\x1e' read -r -a envv; IFS=$'\x1e' read -r -a argv; } <<< "$spec"

logs="$build/valgrind-python"
rm -rf "$logs" && mkdir -p "$logs"
# PYTHONMALLOC=malloc: every Python allocation goes through malloc, so that
# memcheck sees it (pymalloc's arenas would hide reads of freed objects).
# PYTHONUSERBASE: a user site of this run's own, whose usercustomize.py is
# the scipy hook above (inherited by the Python processes the tests start).
userbase="$logs/userbase"
site=$(PYTHONUSERBASE="$userbase" /usr/bin/python3 -m site --user-site)
mkdir -p "$site" && cp "$root/tests/valgrind/usercustomize.py" "$site/"
envv+=(PYTHONMALLOC=malloc PYTHONUSERBASE="$userbase")
# ctypes.util.find_library's helpers (ldconfig, gcc, ld) are not traced.
# --fair-sched=yes: valgrind runs one thread at a time; its default lock
# lets a thread inside a long C call keep running for long stretches, which
# starves the threads that wait for it (test_threads: barriers, a FIFO).
vg=(valgrind --tool=memcheck --fair-sched=yes --xml=yes --xml-file="$logs/%p.xml" --child-silent-after-fork=yes
    --trace-children=yes --trace-children-skip='*/node,*/ldconfig*,*/gcc*,*/cc1*,*/collect2,*/ld,*/ld.*,*/x86_64-linux-gnu-*'
    --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
    --suppressions="$root/tests/valgrind.supp" --num-callers=40)

eval "extra=(${MLP_VALGRIND_PYTEST_ARGS:-})"  # shell words, quotes allowed
echo "== valgrind (Python suite): pytest under memcheck =="
t0=$(date +%s)
rc=0
(cd "$build" && env "${envv[@]}" "${vg[@]}" "${argv[@]}" -rfEs \
   --ignore "$root/tests/python/test_torch_convert.py" --ignore "$root/tests/python/test_onnx.py" \
   --ignore "$root/tests/python/test_mpi.py" \
   "${extra[@]}") || rc=$?
echo "-- pytest exited $rc after $(( $(date +%s) - t0 ))s"
check=0
/usr/bin/python3 "$root/tests/valgrind/check_xml.py" "$build" "$logs"/*.xml || check=$?
if [ "$rc" -ne 0 ] || [ "$check" -ne 0 ]; then
  echo "ci-valgrind-python: FAILED (pytest $rc, memcheck check $check; logs: $logs)" >&2
  exit 1
fi
echo "ci-valgrind-python: Python suite clean under memcheck (0 errors, 0 bytes lost from libmlp; $SECONDS s)"
