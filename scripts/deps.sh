#!/usr/bin/env bash
# Installs what building and testing libmlp needs on Debian 12 (run as root).
# python3-torch and python3-onnx are here for the conversion tests
# (tests/python); FANN, used only for comparisons, is in benchmarks/README.md.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libopenblas-dev libcmocka-dev zlib1g-dev
  python3 python3-numpy python3-pytest python3-sklearn python3-matplotlib
  python3-venv python3-setuptools python3-wheel
  python3-onnx python3-torch
  dataset-fashion-mnist
  clang libclang-rt-14-dev valgrind
  locales graphviz
  pmccabe
)
# mlp export / import: ONNX through protobuf-c over Debian's onnx.proto,
# checked in the tests by onnx.checker and npm's onnxruntime-node.
packages+=(
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev python3-onnx nodejs
)
# Data-parallel training (libmlp_mpi, tests labelled mpi, Python's comm=).
packages+=(
  libopenmpi-dev openmpi-bin python3-mpi4py
)
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: run as root (or with sudo) to install: ${packages[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
# Debian's nodejs comes without npm; NodeSource's includes it (and
# conflicts with Debian's npm package).
command -v npm >/dev/null || apt-get install -y -q --no-install-recommends npm

# The CSV reader is tested under a German numeric locale (R15).
if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  sed -i 's/^# *\(de_DE\.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  grep -q '^de_DE\.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' >> /etc/locale.gen
  locale-gen
fi
