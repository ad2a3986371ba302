#!/bin/sh
# check-version.sh -- the version is written once (meson.build's project
# version); everything else that states it must agree: galann.h's macros,
# the library the program loads (galann --version), and the Python
# package's pyproject.toml.
#   check-version.sh VERSION GALANN HEADER PYPROJECT
set -u
version=$1
galann=$2
header=$3
pyproject=$4
failures=0
check() {
    if [ "$2" = "$version" ]; then
        echo "ok - $1: $2"
    else
        echo "not ok - $1 says '$2', meson.build says '$version'"
        failures=$((failures + 1))
    fi
}
macro() { sed -n "s/^#define GALANN_VERSION_$1 //p" "$header" | tr -d '"'; }
check "GALANN_VERSION_STRING" "$(macro STRING)"
check "GALANN_VERSION_MAJOR.MINOR.PATCH" "$(macro MAJOR).$(macro MINOR).$(macro PATCH)"
check "galann --version (the loaded library's galann_version())" "$("$galann" --version | sed -n 's/^galann //p')"
check "python/pyproject.toml" "$(sed -n 's/^version = "\(.*\)"/\1/p' "$pyproject")"
[ "$failures" -eq 0 ]
