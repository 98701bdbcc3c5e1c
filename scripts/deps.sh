#!/usr/bin/env bash
# Installs what building and testing libmlp needs on Debian 12 (run as root).
# The heavy peers used only for comparisons (PyTorch, FANN) are in
# benchmarks/README.md, not here.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libopenblas-dev libcmocka-dev zlib1g-dev
  python3 python3-numpy python3-pytest python3-sklearn python3-matplotlib
  dataset-fashion-mnist
  clang libclang-rt-14-dev valgrind
)
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: run as root (or with sudo) to install: ${packages[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
