#!/bin/sh
# check-abi.sh -- the built libgalann against the committed ABI baseline
# (abi/libgalann.abi) with libabigail's abidiff: an incompatible change (a
# removed function, a changed struct layout or signature) fails; added
# functions are reported and pass. Exit 77 (skipped) without abidiff.
#   check-abi.sh LIBRARY BASELINE HEADERS_DIR
# Refresh the baseline on purpose with scripts/update-abi-baseline.sh.
set -u
lib=$1
baseline=$2
headers=$3
# every exported symbol is a galann_* function with a version (the
# version-node markers GALANN_* themselves aside)
if command -v nm >/dev/null 2>&1; then
    stray=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | grep -Ev '^galann_[a-z0-9_]+@@?GALANN_[A-Z0-9_.]+$')
    if [ -n "$stray" ]; then
        echo "exported symbols without the galann_ prefix or a version:"
        echo "$stray"
        exit 1
    fi
    echo "ok: $(nm -D --defined-only "$lib" | awk '$2 != "A"' | wc -l | tr -d ' ') exported symbols, all galann_* and versioned"
fi
if ! command -v abidiff >/dev/null 2>&1; then
    echo "skipped: abidiff not installed (Debian: abigail-tools)"
    exit 77
fi
[ -r "$baseline" ] || { echo "no ABI baseline at $baseline (scripts/update-abi-baseline.sh)"; exit 1; }
report=$(abidiff --headers-dir2 "$headers" "$baseline" "$lib")
rc=$?
echo "$report"
# abidiff's status bits: 1 error, 2 usage error, 4 ABI change, 8
# incompatible change (a removed symbol). A changed struct layout or
# signature is only "a change" (4) to abidiff: so any change that is not
# a pure addition fails here too.
if [ $((rc & 3)) -ne 0 ]; then
    echo "abidiff failed (status $rc)"
    exit 1
fi
if [ $((rc & 8)) -ne 0 ]; then
    echo "INCOMPATIBLE ABI change against $baseline: a symbol was removed (see above)"
    exit 1
fi
if [ $((rc & 4)) -ne 0 ]; then
    removed_or_changed=$(echo "$report" | sed -n 's/^\(Functions\|Variables\) changes summary: \([0-9]*\) Removed, \([0-9]*\) Changed.*/\2 \3/p' |
        awk '{ n += $1 + $2 } END { print n + 0 }')
    if [ "$removed_or_changed" -ne 0 ]; then
        echo "ABI CHANGE against $baseline: $removed_or_changed function(s) or variable(s) removed or changed (a"
        echo "struct layout, a signature). Growing a struct at its end is compatible under the struct_size"
        echo "rule, but review it, then refresh the baseline on purpose: scripts/update-abi-baseline.sh"
        exit 1
    fi
    echo "compatible ABI change (functions added): record it with scripts/update-abi-baseline.sh in the release that adds them"
fi
echo "ABI compatible with $baseline"
exit 0
