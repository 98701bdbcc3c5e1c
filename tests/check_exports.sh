#!/bin/sh
# R16: libmlp.so exports only mlp_* symbols (besides the loader's own
# _init/_fini/_edata/_end/__bss_start), none of the internal mlp__*, each
# one declared in the public header; and its SONAME carries the major
# version. Usage: check_exports.sh path/to/libmlp.so path/to/mlp.h
set -eu
lib=$1
header=$2
[ -f "$lib" ] || { echo "check_exports: no library at $lib" >&2; exit 1; }

syms=$(nm -D --defined-only "$lib" | awk 'NF >= 3 {print $3}' | sed 's/@.*//' | sort -u)
count=$(printf '%s\n' "$syms" | grep -c '^mlp_' || true)
echo "check_exports: $count mlp_* symbols exported by $lib"
[ "$count" -gt 0 ] || { echo "check_exports: no mlp_* symbol exported at all" >&2; exit 1; }

status=0
bad=$(printf '%s\n' "$syms" | grep -v '^mlp_' | grep -vE '^(_init|_fini|_edata|_end|__bss_start)$' || true)
if [ -n "$bad" ]; then
  echo "check_exports: symbols outside mlp_*:" >&2
  printf '  %s\n' $bad >&2
  status=1
fi
internal=$(printf '%s\n' "$syms" | grep '^mlp__' || true)
if [ -n "$internal" ]; then
  echo "check_exports: internal mlp__* symbols exported:" >&2
  printf '  %s\n' $internal >&2
  status=1
fi
for s in $(printf '%s\n' "$syms" | grep '^mlp_' | grep -v '^mlp__'); do
  if ! grep -Eq "MLP_API[^;]*[^A-Za-z0-9_]$s\(" "$header"; then
    echo "check_exports: $s is exported but not declared MLP_API in $header" >&2
    status=1
  fi
done
# A third argument lists the symbols that must be there (libmlp's by default).
for s in ${3:-mlp_create mlp_destroy mlp_forward mlp_loss_grad mlp_strerror mlp_version}; do
  printf '%s\n' "$syms" | grep -qx "$s" || { echo "check_exports: $s is not exported" >&2; status=1; }
done

# The version is mlp.h's (libmlp_mpi shares it), next to the header given.
major=$(sed -n 's/^#define MLP_VERSION_MAJOR \([0-9][0-9]*\).*/\1/p' "$(dirname "$header")/mlp.h")
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
base=$(basename "$lib" | sed 's/\.so.*//')
if [ "$soname" != "$base.so.$major" ]; then
  echo "check_exports: SONAME is '$soname', expected $base.so.$major" >&2
  status=1
else
  echo "check_exports: SONAME $soname"
fi
[ "$status" = 0 ] && echo "check_exports: only mlp_* symbols leave the library"
exit "$status"
