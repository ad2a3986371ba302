#!/bin/sh
# report.sh -- every measurement in docs/performance.md, on this machine, in
# one run, written to OUT_DIR (default docs/perf). Takes about 10 minutes,
# most of it the original Python program. Run it on an otherwise idle machine.
#
#   bench/report.sh [BUILD_DIR] [SHARED_DIR] [OUT_DIR]
set -eu
build=${1:-build}
shared=${2:-../shared}
out=${3:-docs/perf}
data=$(cd "$shared/data/galaxy" && pwd)
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)

{
    echo "# machine"
    lscpu | grep -E "Model name|^CPU\(s\)|L2 cache|L3 cache"
    free -g | head -2
    python3 -c 'import numpy, scipy; print("numpy", numpy.__version__, "scipy", scipy.__version__)'
    "$build/cli/galann" info
} > "$out/machine.txt" 2>&1

echo "1. numpy baselines (matrix form, the original per-sample gradient, one read)"
python3 "$here/numpy_baseline.py" "$data/train.csv" --reps 30 --original-reps 5 > "$out/baseline.txt"

echo "2. libgalann benchmark: every backend, 1x 10x 100x"
"$build/bench/galann-bench" --data "$data/train.csv" --scales 1,10,100 --reps 30 --threads 1,2 \
    --csv "$out/bench.csv" > "$out/bench.txt"
python3 "$here/plots.py" "$out/bench.csv" "$out/baseline.txt" "$out"

echo "3. the original program: 600 iterations, time and peak memory"
/usr/bin/time -v python3 "$here/original.py" --maxiter 600 --quiet --data "$data" > "$out/original-600.txt" 2> "$out/original-600.time"

echo "4. the original program's profile (cProfile and line_profiler, 50 iterations)"
python3 -m cProfile -s cumulative "$here/original.py" --maxiter 50 --quiet --data "$data" 2>&1 | head -45 > "$out/original-cprofile.txt"
(cd "$here" && python3 line_profile.py --maxiter 10 --data "$data") > "$out/original-line-profile.txt" 2>&1

echo "5. libgalann: the same 600 iterations, per backend, time and peak memory"
for backend in blas reference opencl; do
    /usr/bin/time -v "$build/cli/galann" train --backend "$backend" --train "$data/train.csv" --test "$data/test.csv" \
        --quiet --trace "$out/trace-$backend.csv" --plot "$out/learning-curve-$backend.svg" \
        > "$out/galann-600-$backend.txt" 2> "$out/galann-600-$backend.time" || true
done

echo "6. memory against data size: peak RSS of galann train (5 iterations) on 1x, 10x, 100x copies of train.csv"
echo "# copies peak_rss_kB seconds" > "$out/memory.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for times in 1 10 100; do
    : > "$tmp/train-$times.csv"
    i=0
    while [ $i -lt $times ]; do cat "$data/train.csv" >> "$tmp/train-$times.csv"; i=$((i + 1)); done
    /usr/bin/time -f "$times %M %e" "$build/cli/galann" train --backend blas --train "$tmp/train-$times.csv" --maxiter 5 --quiet \
        > /dev/null 2>> "$out/memory.txt"
    rm -f "$tmp/train-$times.csv"
done
echo "done: $out"
