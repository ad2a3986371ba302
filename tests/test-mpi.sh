#!/bin/sh
# test-mpi.sh -- `mpirun -np N galann train|eval` gives the same bits as
# one process: traces, saved models and eval output compared byte for byte
# for N = 1..5 (5 leaves ranks of the test set with no rows), with 1 and 2
# threads; a data error on one rank's share stops every rank with the
# file:line message printed once; a missing file likewise; nothing hangs.
#
# Usage: test-mpi.sh /path/to/galann /path/to/mpirun [/path/to/mpi-train]
# Exit status: 0 all passed, 1 a check failed, 77 skipped (no mpirun).
set -u

GALANN=${1:?usage: test-mpi.sh /path/to/galann /path/to/mpirun}
MPIRUN=${2:-mpirun}
command -v "$MPIRUN" >/dev/null 2>&1 || { echo "skipped: no mpirun"; exit 77; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/galann-mpi-XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT HUP INT TERM

# root in containers and CI; a test machine has 2 cores
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# ranks on one machine talk through shared memory (no network needed)
export OMPI_MCA_btl=self,vader
unset GALANN_THREADS GALANN_BACKEND

failures=0
checks=0
ok() { checks=$((checks + 1)); echo "ok - $1"; }
not_ok() {
    checks=$((checks + 1)); failures=$((failures + 1))
    echo "not ok - $1"
    [ -n "${2-}" ] && echo "  $2"
    sed 's/^/  | /' "$WORK/err" 2>/dev/null | head -n 15
}

mpi() { np=$1; shift; timeout 300 "$MPIRUN" --oversubscribe -np "$np" "$GALANN" "$@"; }
mpi_run_example() { timeout 300 "$MPIRUN" --oversubscribe -np "$1" "$EXAMPLE" "$TRAIN" 10 2>"$WORK/err"; }

"$GALANN" synth --out "$WORK" --train 1200 --test 300 --seed 5 >/dev/null || { echo "synth failed"; exit 1; }
TRAIN="$WORK/train.csv"
TEST="$WORK/test.csv"
ARGS="--train $TRAIN --test $TEST --maxiter 15 --quiet --backend blas"

"$GALANN" train $ARGS --threads 1 --trace "$WORK/t0.csv" --save "$WORK/m0.model" >"$WORK/out" 2>"$WORK/err" \
    || { not_ok "single-process reference run" "status $?"; exit 1; }

for np in 1 2 3 4 5; do
    for threads in 1 2; do
        [ "$np" -ge 4 ] && [ "$threads" = 2 ] && continue
        rm -f "$WORK/t.csv" "$WORK/m.model"
        if mpi "$np" train $ARGS --threads "$threads" --trace "$WORK/t.csv" --save "$WORK/m.model" \
            >"$WORK/out" 2>"$WORK/err"; then
            if cmp -s "$WORK/t0.csv" "$WORK/t.csv" && cmp -s "$WORK/m0.model" "$WORK/m.model"; then
                ok "mpirun -np $np, $threads thread(s): trace and model identical to one process"
            else
                not_ok "mpirun -np $np, $threads thread(s): trace or model differ" "$(diff "$WORK/t0.csv" "$WORK/t.csv" | head -4)"
            fi
        else
            not_ok "mpirun -np $np train exits 0" "status $?"
        fi
    done
done

# only rank 0 prints: one "accuracy on test set" line, not np of them
mpi 3 train $ARGS --threads 1 >"$WORK/out" 2>"$WORK/err"
lines=$(grep -c "accuracy on test set" "$WORK/out")
[ "$lines" = 1 ] && ok "only rank 0 prints" || not_ok "only rank 0 prints" "$lines result lines"

# eval: the same report (cost, accuracy, confusion matrix) from 3 processes
"$GALANN" eval --model "$WORK/m0.model" --data "$TEST" --threads 1 >"$WORK/e0" 2>"$WORK/err"
if mpi 3 eval --model "$WORK/m0.model" --data "$TEST" --threads 1 >"$WORK/e3" 2>"$WORK/err" &&
    cmp -s "$WORK/e0" "$WORK/e3"; then
    ok "mpirun -np 3 eval prints exactly what one process prints"
else
    not_ok "mpirun -np 3 eval matches one process" "$(diff "$WORK/e0" "$WORK/e3" | head -6)"
fi

# a bad line near the end: only the last rank's share holds it
awk 'NR == 1190 { sub(/,[0-9]+$/, ",12-") } { print }' "$TRAIN" >"$WORK/bad.csv"
mpi 3 train --train "$WORK/bad.csv" --maxiter 2 --quiet >"$WORK/out" 2>"$WORK/err"
status=$?
count=$(grep -c "bad.csv:1190:" "$WORK/err")
if [ "$status" = 1 ] && [ "$count" = 1 ]; then
    ok "a data error on one rank: exit 1, 'bad.csv:1190:' printed once"
else
    not_ok "a data error on one rank stops all with one message" "status $status, $count messages"
fi

mpi 4 train --train "$WORK/missing.csv" --maxiter 2 --quiet >"$WORK/out" 2>"$WORK/err"
status=$?
count=$(grep -c "missing.csv" "$WORK/err")
if [ "$status" = 1 ] && [ "$count" = 1 ]; then
    ok "a missing file: exit 1, one message"
else
    not_ok "a missing file stops all with one message" "status $status, $count messages"
fi

# the C example (examples/mpi_train.c): the same weights from 1 and 3 processes
EXAMPLE=${3-}
if [ -n "$EXAMPLE" ]; then
    one=$(mpi_run_example 1) && three=$(mpi_run_example 3)
    if [ -n "$one" ] && [ "${one#1 processes}" = "${three#3 processes}" ]; then
        ok "examples/mpi_train.c: 1 and 3 processes print the same cost and weights"
    else
        not_ok "examples/mpi_train.c: 1 and 3 processes agree" "'$one' vs '$three'"
    fi
fi

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
