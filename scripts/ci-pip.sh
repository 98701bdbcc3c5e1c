#!/usr/bin/env bash
# `pip install .` as a user does it, offline (Debian's setuptools and wheel, no
# package index): a fresh venv, the install, then from a folder outside the
# repository with PYTHONPATH and MLP_LIBRARY unset: `python -m mlp`, the
# estimator tests with the installed-package checks (tests/pip: versions,
# bundled libraries, their NEEDED libraries, libmlp_mpi under mpirun) and the
# README's Python example.
# Then `pip wheel .`: a platform wheel, installed into a second fresh venv.
# The source tree is left as it was (checked with git status).
# Usage: bash scripts/ci-pip.sh   (after scripts/deps.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset PYTHONPATH MLP_LIBRARY
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1
# include/mlp.h's version: setup.py's, the library's and the package's must equal it.
MLP_EXPECTED_VERSION=$(sed -n 's/^#define MLP_VERSION_\(MAJOR\|MINOR\|PATCH\) \+\([0-9]\+\).*/\2/p' \
  "$root/include/mlp.h" | paste -sd.)
[[ $MLP_EXPECTED_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  { echo "ci-pip: no version in include/mlp.h: '$MLP_EXPECTED_VERSION'" >&2; exit 1; }
export MLP_EXPECTED_VERSION

# What setuptools would write into the sources, and git's view of them.
tree_state() {
  git -C "$root" status --porcelain 2>/dev/null || echo "(not a git checkout)"
  (cd "$root" && { ls -d -- *.egg-info python/*.egg-info python/mlp/libmlp.so* dist \
    build/lib build/lib.* build/bdist.* build/temp.* 2>/dev/null || true; })
}
before=$(tree_state)

echo "== pip: install into a fresh venv ($($py --version)) =="
$py -m venv --system-site-packages "$tmp/venv"
"$tmp/venv/bin/pip" install -q --no-build-isolation --no-index "$root"

# The tests and examples, copied: nothing of the checkout is importable from here.
mkdir -p "$tmp/work" "$tmp/t/tests/python" "$tmp/t/examples"
cp "$root"/tests/python/{conftest.py,reference.py,test_estimators.py} "$root/tests/pip/test_installed.py" \
  "$tmp/t/tests/python/"
cp -r "$root/examples/python" "$tmp/t/examples/"
cd "$tmp/work"

echo "== pip: python -m mlp =="
"$tmp/venv/bin/python" -m mlp

echo "== pip: the README's Python blocks are examples/python/readme_example.py's =="
$py - "$root/README.md" "$root/examples/python/readme_example.py" <<'PY'
import re, sys
readme, example = (open(p, encoding="utf-8").read() for p in sys.argv[1:])
section = readme.split("\n## Using it from Python", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```python\n(.*?)```", section, re.S)
assert blocks, "README.md: no python block in 'Using it from Python'"
for b in blocks:
    assert b in example, "README block not in examples/python/readme_example.py:\n" + b
print("%d blocks match" % len(blocks))
PY

echo "== pip: the README example =="
MPLBACKEND=Agg "$tmp/venv/bin/python" "$tmp/t/examples/python/readme_example.py" > "$tmp/readme.out" 2>&1 ||
  { cat "$tmp/readme.out"; exit 1; }
tail -n 1 "$tmp/readme.out"

echo "== pip: estimator tests and installed-package checks =="
MPLBACKEND=Agg MPLCONFIGDIR="$tmp/mpl" "$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider \
  "$tmp/t/tests/python/test_installed.py" "$tmp/t/tests/python/test_estimators.py"

echo "== pip: wheel, installed into a second fresh venv =="
"$tmp/venv/bin/pip" wheel -q --no-build-isolation --no-deps --no-index -w "$tmp/wheels" "$root"
wheel=$(ls "$tmp/wheels"/*.whl)
name=$(basename "$wheel")
echo "$name"
case "$name" in
  "libmlp-$MLP_EXPECTED_VERSION-py3-none-linux_"*.whl) ;;
  *) echo "ci-pip: unexpected wheel name $name (want a platform tag, py3-none-linux_*)" >&2; exit 1 ;;
esac
$py -c 'import sys, zipfile; sys.exit("mlp/libmlp.so" not in zipfile.ZipFile(sys.argv[1]).namelist())' \
  "$wheel" || { echo "ci-pip: no mlp/libmlp.so in $name" >&2; exit 1; }
# Open MPI is installed (scripts/deps.sh): the wheel carries libmlp_mpi too.
$py -c 'import sys, zipfile; sys.exit("mlp/libmlp_mpi.so" not in zipfile.ZipFile(sys.argv[1]).namelist())' \
  "$wheel" || { echo "ci-pip: no mlp/libmlp_mpi.so in $name" >&2; exit 1; }
$py -m venv --system-site-packages "$tmp/venv2"
"$tmp/venv2/bin/pip" install -q --no-index "$wheel"
"$tmp/venv2/bin/python" -c '
import os, sys, mlp
pkg = os.path.dirname(os.path.abspath(mlp.__file__))
assert pkg.startswith(os.path.realpath(sys.prefix) + os.sep), pkg
assert mlp.library_path == os.path.join(pkg, "libmlp.so"), mlp.library_path
import mlp._mpi
assert mlp._mpi.library().path == os.path.join(pkg, "libmlp_mpi.so"), mlp._mpi.library().path
assert mlp.__version__ == os.environ["MLP_EXPECTED_VERSION"], mlp.__version__
print("wheel: mlp", mlp.__version__, "from", mlp.library_path)'

after=$(tree_state)
if [ "$before" != "$after" ]; then
  echo "ci-pip: the source tree changed:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
echo "== pip: ok (source tree unchanged) =="
