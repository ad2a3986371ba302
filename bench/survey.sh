#!/bin/sh
# survey.sh -- the figures of docs/performance.md's "Survey scale: storage
# and precision", in one run, written to OUT_DIR (default docs/perf):
#
#   1. storage-bench: u8/f32/f64 x double/single x blas/opencl/reference at
#      1x, 10x, 100x, 1000x the galaxy data, peak RSS per configuration,
#      10 iterations of galann_fit in u8, the dgemm/sgemm floor; again
#      (blas only) with OpenBLAS's kernel forced to the CPU's (below);
#   2. jax_baseline.py: libgalann against JAX float32 (jit) and numpy, 1x,
#      10x, 100x, in one process;
#   3. the user-facing check: galann train on 100 copies of train.csv
#      (about 1.1 GB in /tmp, removed afterwards), --maxiter 3, under
#      /usr/bin/time -v.
#
# Takes about 25-35 minutes on the 2-core machine; needs about 13 GB of
# free memory for f32 at 1000x (skipped, and said so, without it). Run it
# on an otherwise idle machine: every table records the load average.
#
#   bench/survey.sh [BUILD_DIR] [SHARED_DIR] [OUT_DIR]
set -eu
build=${1:-build}
shared=${2:-../shared}
out=${3:-docs/perf}
data=$(cd "$shared/data/galaxy" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"

{
    echo "# machine ($(date -u +%Y-%m-%dT%H:%MZ))"
    # the source measured: an exported tree's COMMIT file (git archive HEAD,
    # then `git rev-parse HEAD > COMMIT`: inside a checkout, git would name
    # the enclosing checkout's HEAD instead), else the checkout's HEAD
    echo "source: $(cat "$here/../COMMIT" 2>/dev/null || git -C "$here/.." rev-parse HEAD 2>/dev/null || echo unknown)"
    uptime
    lscpu | grep -E "Model name|^CPU\(s\)|L2 cache|L3 cache"
    echo "vector units: $(grep -o -w -E 'fma|avx2|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ')"
    free -m | head -2
    python3 -c 'import numpy, jax; print("numpy", numpy.__version__, "jax", jax.__version__)' || true
    "$build/cli/galann" info
} > "$out/survey-machine.txt" 2>&1

echo "1. storage x precision x backend, 1x 10x 100x 1000x (storage-bench)"
"$build/bench/storage-bench" --data "$data/train.csv" --scales 1,10,100,1000 --fit 10 \
    --csv "$out/survey-storage.csv" > "$out/survey-storage.txt"

# OpenBLAS 0.3.21's DYNAMIC_ARCH does not know every CPU: on one it does
# not know it falls back to its oldest x86-64 kernels (Prescott, SSE3), and
# the library, which loads that OpenBLAS, computes with them. The same
# figures with the kernel the CPU's flags allow, forced:
coretype=
if grep -qw avx512f /proc/cpuinfo; then coretype=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then coretype=Haswell; fi
if [ -n "$coretype" ]; then
    echo "1b. the same, blas only, no fit, with OPENBLAS_CORETYPE=$coretype"
    OPENBLAS_CORETYPE=$coretype "$build/bench/storage-bench" --data "$data/train.csv" --scales 1,10,100,1000 \
        --backends blas --csv "$out/survey-storage-$coretype.csv" > "$out/survey-storage-$coretype.txt"
fi

echo "2. libgalann against JAX float32 and numpy (jax_baseline.py)"
python3 "$here/jax_baseline.py" "$data/train.csv" --lib "$build/lib/libgalann.so" --scales 1,10,100 \
    > "$out/survey-jax.txt" 2>&1 || echo "jax_baseline.py failed: see $out/survey-jax.txt"
if [ -n "$coretype" ]; then
    OPENBLAS_CORETYPE=$coretype python3 "$here/jax_baseline.py" "$data/train.csv" --lib "$build/lib/libgalann.so" \
        --scales 1,10,100 > "$out/survey-jax-$coretype.txt" 2>&1 || echo "jax_baseline.py failed: see $out/survey-jax-$coretype.txt"
fi

echo "3. galann train on 100 copies of train.csv, --maxiter 3, peak RSS"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ $i -lt 100 ]; do cat "$data/train.csv" >> "$tmp/big.csv"; i=$((i + 1)); done
{
    echo "# $(ls -l "$tmp/big.csv" | awk '{print $5}') bytes, 270000 rows; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# /usr/bin/time -v $build/cli/galann train --train big.csv --maxiter 3"
    /usr/bin/time -v "$build/cli/galann" train --train "$tmp/big.csv" --maxiter 3 2>&1
} > "$out/survey-cli-100x.txt" 2>&1 || true
rm -f "$tmp/big.csv"
echo "done: $out"
