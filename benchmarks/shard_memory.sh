#!/bin/sh
# Peak RSS of loading Fashion-MNIST's training set (IDX, gzip and plain)
# and a generated CSV whole and as part 0 of 2 and of 4; the data's share is
# the peak minus a run that loads nothing. Usage:
#   benchmarks/shard_memory.sh [build-dir]      (about half a minute)
set -eu
build=${1:-build}
tool=$build/benchmarks/mlp-shard-mem
fm=/usr/share/datasets/fashion-mnist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$tool" ] || { echo "shard_memory: build $tool first" >&2; exit 1; }
[ -f "$fm/train-images-idx3-ubyte.gz" ] || { echo "shard_memory: apt-get install dataset-fashion-mnist" >&2; exit 1; }
gunzip -c "$fm/train-images-idx3-ubyte.gz" > "$tmp/img"
gunzip -c "$fm/train-labels-idx1-ubyte.gz" > "$tmp/lab"
"$tool" gen-csv "$tmp/data.csv" 20000 785
base=$("$tool" none | awk '{print $3}')
echo "baseline (no load): $base KiB; CSV $(wc -c < "$tmp/data.csv") bytes"
printf '%-10s %5s %8s %12s %12s %8s\n' input parts rows peak_KiB data_KiB ratio
row() { # name parts command...
  name=$1 parts=$2
  shift 2
  set -- $("$@")
  data=$(( $3 - base ))
  [ "$parts" = 1 ] && whole=$data
  printf '%-10s %5s %8s %12s %12s %8s\n' "$name" "$parts" "$1" "$3" "$data" \
    "$(awk -v a="$data" -v b="$whole" 'BEGIN { printf "%.3f", a / b }')"
}
for p in 1 2 4; do row idx-gz $p "$tool" idx "$fm/train-images-idx3-ubyte.gz" "$fm/train-labels-idx1-ubyte.gz" 0 $p; done
for p in 1 2 4; do row idx $p "$tool" idx "$tmp/img" "$tmp/lab" 0 $p; done
for p in 1 2 4; do row csv $p "$tool" csv "$tmp/data.csv" 0 $p; done
