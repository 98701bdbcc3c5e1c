#!/usr/bin/env bash
# Installs npm's onnxruntime-node (the CPU runtime ships inside the
# package) into DIR/node_modules, unless it is already there. Prints
# nothing but errors. The ONNX tests and tests/onnx/ort_run.js find it
# through ORT_NODE_DIR=DIR.
# Usage: bash scripts/onnxruntime.sh DIR
# The version is pinned (ORT_NODE_VERSION overrides it) so that every run
# tests against the same runtime.
set -euo pipefail
dir=${1:?usage: onnxruntime.sh DIR}
version=${ORT_NODE_VERSION:-1.30.0}
mkdir -p "$dir"
# One install at a time into DIR (test stages may share it).
exec 9> "$dir/.install.lock"
flock 9
if node -e 'require(require("path").resolve(process.argv[1], "node_modules", "onnxruntime-node"))' \
     "$dir" >/dev/null 2>&1; then
  exit 0
fi
# --ignore-scripts: the install script only fetches GPU parts, which
# cannot be reached here; the CPU runtime needs none of them.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! npm install --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error \
       "onnxruntime-node@$version" >"$log" 2>&1; then
  cat "$log" >&2
  echo "onnxruntime.sh: npm install onnxruntime-node into $dir failed" >&2
  exit 1
fi
