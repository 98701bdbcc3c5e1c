#!/bin/sh
# The installed package serves its consumers: installs the build into a
# scratch prefix, then builds examples/c (C99) and examples/cpp (C++)
# against it twice, with find_package(mlp) (CMAKE_PREFIX_PATH) and with
# pkg-config (PKG_CONFIG_PATH, through examples/Makefile), and runs all
# four; with libmlp_mpi installed, also examples/mpi both ways, on 2
# processes. Everything happens in a temporary directory.
# Usage: consumers.sh <build dir> <examples dir>
# Environment: CC, CXX; MLP_CONSUMER_FLAGS (e.g. -fsanitize=... when the
# library was built with sanitizers).
set -eu
build=$(cd "$1" && pwd)
examples=$(cd "$2" && pwd)
cc=${CC:-cc}
cxx=${CXX:-c++}
flags=${MLP_CONSUMER_FLAGS:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mlp-consumers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
prefix=$tmp/prefix

echo "== cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
lib=$(find "$prefix" -name 'libmlp.so' | head -n 1)
pc=$(find "$prefix" -name 'mlp.pc' | head -n 1)
config=$(find "$prefix" -name 'mlpConfig.cmake' | head -n 1)
for f in "$prefix/include/mlp.h" "$lib" "$pc" "$config"; do
  [ -n "$f" ] && [ -f "$f" ] || { echo "consumers: the install lacks a file (header, library, mlp.pc, mlpConfig.cmake)" >&2; exit 1; }
done
libdir=$(dirname "$lib")

run() { # name binary
  echo "== run $1"
  LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$2" >"$tmp/out" 2>&1 || { cat "$tmp/out"; echo "consumers: $1 failed" >&2; exit 1; }
  cat "$tmp/out"
  # It must have loaded the installed library, not another one.
  LD_LIBRARY_PATH="$libdir" ldd "$2" | grep -q "$libdir/libmlp.so" || { echo "consumers: $1 did not load $libdir/libmlp.so" >&2; exit 1; }
}

echo "== find_package(mlp)"
cmake -S "$examples" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_C_FLAGS="-Wall -Wextra -pedantic -Werror $flags" \
  -DCMAKE_CXX_FLAGS="-Wall -Wextra -pedantic -Werror $flags" >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; exit 1; }
cmake --build "$tmp/cmake" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
run "C consumer (find_package)" "$tmp/cmake/mlp_example_c"
run "C++ consumer (find_package)" "$tmp/cmake/mlp_example_cpp"

echo "== pkg-config mlp"
# --define-prefix: the package was configured for another prefix and
# installed here; pkg-config derives the prefix from where mlp.pc lies.
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
pkgconf="pkg-config --define-prefix"
$pkgconf --exists mlp || { echo "consumers: pkg-config does not find mlp" >&2; exit 1; }
echo "cflags: $($pkgconf --cflags mlp)  libs: $($pkgconf --libs mlp)"
$pkgconf --cflags --libs mlp | grep -q -- "-I$prefix/include" || { echo "consumers: mlp.pc does not point into $prefix" >&2; exit 1; }
mkdir "$tmp/pc"
make -s -C "$tmp/pc" -f "$examples/Makefile" EXAMPLES="$examples" PKG_CONFIG="$pkgconf" \
  CC="$cc" CXX="$cxx" CFLAGS="-O2 -Wall -Wextra -pedantic -Werror $flags" \
  CXXFLAGS="-O2 -Wall -Wextra -pedantic -Werror $flags" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; exit 1; }
run "C consumer (pkg-config)" "$tmp/pc/mlp_example_c"
run "C++ consumer (pkg-config)" "$tmp/pc/mlp_example_cpp"
echo "consumers: all four built against the installed package and ran"

# libmlp_mpi, when this build has it: examples/mpi through
# find_package(mlp COMPONENTS mpi) (mlp::mpi) and pkg-config mlp-mpi, each
# run on 2 processes (Open MPI's run-as-root variables for this run only).
mpilib=$(find "$prefix" -name 'libmlp_mpi.so' | head -n 1)
if [ -n "$mpilib" ]; then
  mpipc=$(find "$prefix" -name 'mlp-mpi.pc' | head -n 1)
  [ -n "$mpipc" ] && [ -f "$prefix/include/mlp_mpi.h" ] ||
    { echo "consumers: the install has libmlp_mpi.so but lacks mlp_mpi.h or mlp-mpi.pc" >&2; exit 1; }
  mpirun=${MPIEXEC:-mpirun}
  over=""
  "$mpirun" --version 2>&1 | grep -q "Open MPI" && over=--oversubscribe
  runmpi() { # name binary
    echo "== run $1 on 2 processes"
    # Under sanitizers (MLP_CONSUMER_FLAGS): Open MPI's own allocations, never
    # freed by design, are not ours to report; everything else still is.
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
      LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      "$mpirun" -np 2 $over "$2" >"$tmp/out" 2>&1 || { cat "$tmp/out"; echo "consumers: $1 failed" >&2; exit 1; }
    cat "$tmp/out"
    LD_LIBRARY_PATH="$libdir" ldd "$2" | grep -q "$libdir/libmlp_mpi.so" || { echo "consumers: $1 did not load $libdir/libmlp_mpi.so" >&2; exit 1; }
  }
  echo "== find_package(mlp COMPONENTS mpi)"
  cmake -S "$examples/mpi" -B "$tmp/cmake-mpi" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="-Wall -Wextra -pedantic -Werror $flags" \
    >"$tmp/cmake-mpi.log" 2>&1 || { cat "$tmp/cmake-mpi.log"; exit 1; }
  cmake --build "$tmp/cmake-mpi" >"$tmp/build-mpi.log" 2>&1 || { cat "$tmp/build-mpi.log"; exit 1; }
  runmpi "MPI consumer (find_package)" "$tmp/cmake-mpi/mlp_example_mpi"
  echo "== pkg-config mlp-mpi"
  $pkgconf --exists mlp-mpi || { echo "consumers: pkg-config does not find mlp-mpi" >&2; exit 1; }
  mkdir "$tmp/pc-mpi"
  make -s -C "$tmp/pc-mpi" -f "$examples/mpi/Makefile" EXAMPLES="$examples" PKG_CONFIG="$pkgconf" \
    CC="$cc" CFLAGS="-O2 -Wall -Wextra -pedantic -Werror $flags" >"$tmp/make-mpi.log" 2>&1 ||
    { cat "$tmp/make-mpi.log"; exit 1; }
  runmpi "MPI consumer (pkg-config)" "$tmp/pc-mpi/mlp_example_mpi"
  echo "consumers: the MPI consumer built both ways against the installed package and ran"
fi
