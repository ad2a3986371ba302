#!/bin/sh
# test-install.sh -- install into a staging directory, then build a
# consumer against the installed header, library and pkg-config file, the
# way a user's project would, and run it.
#   test-install.sh BUILD_DIR SOURCE_DIR [cpp|cmake]
# cpp (the default; meson test example-cpp-installed): what the install
# holds and leaks, then the C++ example built with c++ and pkg-config.
# cmake (example-cmake-installed): the CMake project of examples/cmake;
# without cmake it exits 77, which meson reports as a skip, never a pass.
set -eu
build=$1
source=$2
consumer=${3:-cpp}
case $consumer in
    cpp|cmake) ;;
    *) echo "usage: test-install.sh BUILD_DIR SOURCE_DIR [cpp|cmake]"; exit 2 ;;
esac
if [ "$consumer" = cmake ] && ! command -v cmake >/dev/null 2>&1; then
    echo "skipped: cmake is not installed, so the CMake consumer (examples/cmake) was not built" \
         "(scripts/install-deps.sh installs cmake)"
    exit 77
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT INT TERM

meson install -C "$build" --destdir "$stage" --quiet
pc=$(find "$stage" -name galann.pc | head -n 1)
[ -n "$pc" ] || { echo "galann.pc was not installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
header=$(find "$stage" -name galann.h | head -n 1)
[ -n "$header" ] || { echo "galann.h was not installed"; exit 1; }

export PKG_CONFIG_PATH="$(dirname "$pc")"
flags=$(pkg-config --define-variable=prefix="$stage$prefix" --cflags --libs galann)
libdir=$(pkg-config --define-variable=prefix="$stage$prefix" --variable=libdir galann)

# a CMake project: pkg_check_modules(GALANN REQUIRED IMPORTED_TARGET galann)
# against the staged install, built and run
build_cmake_consumer() {
    # the staged .pc says prefix=/usr/local (say): point it into the stage
    sed "s|^prefix=.*|prefix=$stage$prefix|" "$pc" >"$stage/galann.pc"
    PKG_CONFIG_PATH="$stage" cmake -S "$source/examples/cmake" -B "$stage/cmake-build" >"$stage/cmake.log" 2>&1 \
        || { cat "$stage/cmake.log"; echo "cmake could not configure the consumer"; exit 1; }
    cmake --build "$stage/cmake-build" >>"$stage/cmake.log" 2>&1 \
        || { cat "$stage/cmake.log"; echo "cmake could not build the consumer"; exit 1; }
    out=$(LD_LIBRARY_PATH="$libdir" "$stage/cmake-build/consumer") || { echo "the CMake consumer failed"; exit 1; }
    echo "$out"
    case "$out" in
        "libgalann "*": cost "*) ;;
        *) echo "the CMake consumer printed: $out"; exit 1 ;;
    esac
}
if [ "$consumer" = cmake ]; then
    build_cmake_consumer
    exit 0
fi

# a consumer needs only our header and library: nothing private leaks into
# its flags (a CMake pkg_check_modules consumer fails on a missing .pc)
private=$(pkg-config --print-requires-private galann)
[ -z "$private" ] || { echo "galann.pc has Requires.private: $private"; exit 1; }
case "$(pkg-config --define-variable=prefix="$stage$prefix" --cflags galann)" in
    *openblas*|*OpenCL*) echo "pkg-config --cflags galann passes on a dependency's flags"; exit 1 ;;
esac
# CBLAS is loaded by the blas backend at run time (dlopen), never linked:
# no BLAS in the .pc file (shared or static), none among the library's
# needed libraries
if grep -i blas "$pc"; then echo "galann.pc names a BLAS"; exit 1; fi
lib=$(find "$stage" -name 'libgalann.so.*' -type f | head -n 1)
if [ -n "$lib" ] && command -v readelf >/dev/null 2>&1; then
    if readelf -d "$lib" | grep NEEDED | grep -i blas; then echo "libgalann links a BLAS"; exit 1; fi
fi
# the installed program finds the library under its own prefix
exe=$(find "$stage" -type f -name galann -perm -u+x | head -n 1)
if [ -n "$exe" ] && command -v readelf >/dev/null 2>&1; then
    readelf -d "$exe" | grep -q "R.*PATH.*$prefix" \
        || { echo "the installed galann has no run path to $prefix"; readelf -d "$exe" | grep -i path; exit 1; }
fi
c++ -std=c++17 -Wall -Wextra -o "$stage/train" "$source/examples/cpp/train.cpp" $flags
LD_LIBRARY_PATH="$libdir" "$stage/train"
