#!/bin/sh
# test-install.sh -- install into a staging directory, then build the C++
# example against the installed header, library and pkg-config file, the
# way a user's project would, and run it.
#   test-install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
source=$2
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
c++ -std=c++17 -Wall -Wextra -o "$stage/train" "$source/examples/cpp/train.cpp" $flags
LD_LIBRARY_PATH="$libdir" "$stage/train"
