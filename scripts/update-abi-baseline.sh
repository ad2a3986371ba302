#!/bin/sh
# update-abi-baseline.sh -- record the ABI of a built libgalann as the
# baseline the `abi` test compares against (abi/libgalann.abi), with
# libabigail's abidw. Run it ON PURPOSE only: when a release adds to the
# interface (new functions in a new symbol version node), never to make
# an incompatible change pass.
#   scripts/update-abi-baseline.sh [BUILD_DIR]   (default: build)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
lib=$(ls "$build"/lib/libgalann.so.*.*.* 2>/dev/null | head -n 1)
[ -n "$lib" ] || { echo "no libgalann.so.X.Y.Z under $build/lib: build first" >&2; exit 1; }
command -v abidw >/dev/null 2>&1 || { echo "abidw not found (Debian: abigail-tools)" >&2; exit 1; }
mkdir -p abi
abidw --headers-dir include --no-corpus-path --out-file abi/libgalann.abi "$lib"
echo "abi/libgalann.abi now describes $lib ($(grep -c '<elf-symbol ' abi/libgalann.abi) symbols)"
