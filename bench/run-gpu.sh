#!/bin/sh
# run-gpu.sh -- the GPU checks behind docs/performance.md: what OpenCL sees,
# the OpenCL backend's tests on the GPU, and the benchmark at 1x, 10x and
# 100x the galaxy data, from an existing build directory.
#
#   bench/run-gpu.sh [BUILD_DIR] [SHARED_DIR] [OUT_DIR]
#
# NVIDIA machines often ship the OpenCL driver without registering it with
# the ICD loader; when libnvidia-opencl is present but unregistered, this
# script registers it in a private vendors directory (OCL_ICD_VENDORS).
set -u
build=${1:-build}
shared=${2:-../shared}
out=${3:-${OUT:-/tmp/galann-gpu}}
mkdir -p "$out"
export GALANN_SHARED_DIR="$shared" GALANN_CACHE_DIR="$out/kernel-cache" CMOCKA_MESSAGE_OUTPUT=STDOUT

echo "== machine"
nvidia-smi -L 2>&1 | head -4
nproc
ls /etc/OpenCL/vendors 2>&1
for lib in /usr/local/nvidia/lib64/libnvidia-opencl.so.1 /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1; do
    if [ -e "$lib" ] && ! grep -qs nvidia /etc/OpenCL/vendors/*.icd; then
        mkdir -p "$out/vendors"
        echo "$lib" > "$out/vendors/nvidia.icd"
        export OCL_ICD_VENDORS="$out/vendors"
        echo "registered $lib in OCL_ICD_VENDORS=$OCL_ICD_VENDORS"
        break
    fi
done

echo "== galann info"
"$build/cli/galann" info

# The test programs need libcmocka; a bare GPU image may lack it, so a copy
# can travel in SHARED_DIR/lib.
[ -d "$shared/lib" ] && export LD_LIBRARY_PATH="$shared/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== tests on the default OpenCL device"
for t in opencl fixtures gradient fit threads api; do
    "$build/tests/test-$t" > "$out/test-$t.log" 2>&1
    echo "test-$t: exit $? ($(grep -c '\[       OK \]' "$out/test-$t.log") ok, $(grep -c '\[  SKIPPED \]' "$out/test-$t.log") skipped)"
    grep -E "FAILED|ERROR" "$out/test-$t.log" | head -5
done

echo "== benchmark"
"$build/bench/galann-bench" --data "$shared/data/galaxy/train.csv" --scales 1,10,100 --reps 20 \
    --threads 1,4,16 --csv "$out/bench-gpu.csv"

echo "== 600 iterations on the GPU"
/usr/bin/time -v "$build/cli/galann" train --backend opencl --train "$shared/data/galaxy/train.csv" \
    --test "$shared/data/galaxy/test.csv" --quiet --trace "$out/trace-gpu.csv" 2> "$out/time-gpu.txt"
grep -E "Elapsed|Maximum resident" "$out/time-gpu.txt"
