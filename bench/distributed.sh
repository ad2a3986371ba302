#!/bin/sh
# distributed.sh -- the scaling figures of docs/distributed.md: seconds per
# CG iteration for 1-2 MPI processes x 1-2 threads at 1x and 100x the
# galaxy training set, and the bytes each process sends per iteration.
# Processes are not bound to cores (--bind-to none): OpenMPI's default
# binding would put a process's threads on one core. Run on an otherwise
# idle machine:
#
#   bench/distributed.sh [BUILD_DIR] [SHARED_DIR] [ITERATIONS]
set -eu
build=${1:-build}
shared=${2:-../shared}
iterations=${3:-20}
data=$(cd "$shared/data/galaxy" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/galann-dist-XXXXXX")
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader

# 100x: the training set a hundred times over (270 000 images)
i=0
while [ $i -lt 100 ]; do cat "$data/train.csv"; i=$((i + 1)); done > "$work/train100.csv"

echo "scale,processes,threads,iterations,evaluations,seconds,seconds_per_iteration,allreduce_calls,bytes_per_process,bytes_per_iteration"
for scale in 1 100; do
    train="$data/train.csv"
    [ "$scale" = 100 ] && train="$work/train100.csv"
    for np in 1 2; do
        for threads in 1 2; do
            mpirun --oversubscribe --bind-to none -np "$np" -x LD_PRELOAD="$build/bench/libmpi-bytes.so" \
                "$build/cli/galann" train --train "$train" --maxiter "$iterations" --quiet --backend blas \
                --threads "$threads" >"$work/out" 2>"$work/err"
            line=$(grep "^stopped:" "$work/out")
            its=$(echo "$line" | sed 's/.* after \([0-9]*\) iterations.*/\1/')
            evals=$(echo "$line" | sed 's/.*iterations, \([0-9]*\) evaluations.*/\1/')
            secs=$(echo "$line" | sed 's/.*evaluations, \([0-9.]*\) s.*/\1/')
            calls=$(grep "rank 0:" "$work/err" | sed 's/.*: \([0-9]*\) MPI_Allreduce calls.*/\1/')
            bytes=$(grep "rank 0:" "$work/err" | sed 's/.*calls, \([0-9]*\) bytes.*/\1/')
            echo "$scale,$np,$threads,$its,$evals,$secs,$(awk -v s="$secs" -v i="$its" 'BEGIN { printf "%.4f", s / i }'),$calls,$bytes,$((bytes / its))"
        done
    done
done
