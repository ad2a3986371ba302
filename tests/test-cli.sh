#!/bin/sh
# test-cli.sh -- the galann program as a user runs it: exit statuses (0 ok,
# 1 runtime error, 2 usage error), help texts, the synth -> train ->
# predict/eval pipeline and its output files, error messages that name the
# file and line, and, when the real data is there, the original program's
# first iteration line.
#
# Usage: test-cli.sh /path/to/galann   (meson passes the built program).
# The shared data is looked for in $GALANN_SHARED_DIR, else
# $GALANN_TEST_SHARED_DEFAULT (set by meson), as by the other tests. Exit
# status: 0 all passed, 1 a check failed, 77 nothing failed but the checks
# that need the data were skipped (a failure with GALANN_REQUIRE_DATA=1).
set -u

GALANN=${1:?usage: test-cli.sh /path/to/galann}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/galann-cli-XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT HUP INT TERM

failures=0
checks=0
skips=0

ok() {
    checks=$((checks + 1))
    echo "ok - $1"
}

not_ok() {
    checks=$((checks + 1))
    failures=$((failures + 1))
    echo "not ok - $1"
    if [ -n "${2-}" ]; then
        echo "  $2"
    fi
    echo "  --- stdout (first lines) ---"
    head -n 10 "$WORK/out" 2>/dev/null | sed 's/^/  | /'
    echo "  --- stderr ---"
    head -n 10 "$WORK/err" 2>/dev/null | sed 's/^/  | /'
}

# run EXPECTED_STATUS DESCRIPTION ARGS...: run galann, keep its output in
# $WORK/out and $WORK/err, check the exit status.
run() {
    expected=$1
    what=$2
    shift 2
    "$GALANN" "$@" >"$WORK/out" 2>"$WORK/err"
    status=$?
    # a sanitizer build reports memory errors, leaks and undefined
    # behaviour on stderr (and may exit 1, like a runtime error)
    if grep -Eq 'Sanitizer|runtime error:' "$WORK/err"; then
        not_ok "$what" "a sanitizer reported an error: galann $*"
        return 1
    fi
    if [ "$status" -eq "$expected" ]; then
        ok "$what (exit $status)"
        return 0
    fi
    not_ok "$what" "exit status $status, expected $expected: galann $*"
    return 1
}

# check DESCRIPTION COMMAND...: a shell condition on the last run's output.
check() {
    what=$1
    shift
    if "$@"; then
        ok "$what"
    else
        not_ok "$what" "failed: $*"
    fi
}

has() { grep -q -- "$2" "$1"; }
# The points of the first <polyline> of an SVG file, one "x y" per line.
polyline_points() { grep -m1 '<polyline' "$1" | sed 's/.*points="\([^"]*\)".*/\1/' | tr ' ' '\n' | tr ',' ' ' | sed '/^$/d'; }
# The first curve (training cost, which CG lowers every iteration) goes
# down the page, y growing from the first point to the last, left to
# right, inside the plot area (y from 30 to 350).
curve_falls() {
    polyline_points "$1" | awk '
        { n++; if ($2 < 30 || $2 > 350 || (n > 1 && $1 <= x)) bad++; x = $1; y = $2; if (n == 1) first = $2 }
        END { exit !(n >= 2 && !bad && first < y) }'
}
has_i() { grep -qi -- "$2" "$1"; }
lines_of() { wc -l <"$1" | tr -d ' '; }

# ------------------------------------------------------------ dispatch

run 2 "no arguments is a usage error"
check "no arguments prints the usage on stderr" has_i "$WORK/err" usage
run 2 "an unknown command is a usage error" frobnicate
check "the unknown command is named" has "$WORK/err" frobnicate
run 0 "--help" --help
check "--help prints the usage" has_i "$WORK/out" usage
run 0 "--version" --version
check "--version prints the version" has "$WORK/out" "galann [0-9]"

for command in train predict eval synth info; do
    run 0 "galann $command --help" "$command" --help
    check "galann $command --help prints a usage" has_i "$WORK/out" usage
done

run 0 "galann info" info
check "galann info lists the reference backend" has "$WORK/out" reference

# ---------------------------------------------------------- synth data

D=$WORK/synth
run 0 "galann synth --out D --train 300 --test 90" synth --out "$D" --train 300 --test 90
check "synth wrote train.csv" test -s "$D/train.csv"
check "synth wrote test.csv" test -s "$D/test.csv"
check "train.csv has 300 lines" test "$(lines_of "$D/train.csv")" -eq 300
check "test.csv has 90 lines" test "$(lines_of "$D/test.csv")" -eq 90
bad_rows=$(awk -F, 'NF != 1025' "$D/train.csv" | wc -l | tr -d ' ')
check "every train.csv line has 1025 fields" test "$bad_rows" -eq 0
bad_values=$(awk -F, '{ if ($1 !~ /^[012]$/) bad++; for (i = 2; i <= NF; i++) if ($i !~ /^[0-9]+$/ || $i > 255) bad++ }
                      END { print bad + 0 }' "$D/train.csv")
check "labels are 0..2 and pixels whole numbers 0..255" test "$bad_values" -eq 0
run 0 "galann synth again into another folder" synth --out "$WORK/synth2" --train 300 --test 90
check "synth is deterministic (train.csv)" cmp -s "$D/train.csv" "$WORK/synth2/train.csv"
check "synth is deterministic (test.csv)" cmp -s "$D/test.csv" "$WORK/synth2/test.csv"

# ---------------------------------------------------------------- train

M=$WORK/model.galann
T=$WORK/trace.csv
P=$WORK/plot.svg
run 0 "galann train on the synth CSVs, 5 iterations, with outputs" \
    train --train "$D/train.csv" --test "$D/test.csv" --maxiter 5 --save "$M" --trace "$T" --plot "$P" --quiet
check "--quiet prints no per-iteration lines" test "$(grep -c '^iter=' "$WORK/out")" -eq 0
check "the model file exists" test -s "$M"
check "the trace header is exact" \
    test "$(head -n 1 "$T")" = "iter,J_train,acc_train,J_validation,acc_validation,J_test,acc_test"
check "the trace has 5 data rows" test "$(lines_of "$T")" -eq 6
check "trace rows are iterations 1..5 with 7 fields, nan for the absent validation set" \
    test "$(awk -F, 'NR > 1 && NF == 7 && $1 == NR - 1 && $4 == "nan" && $6 != "nan"' "$T" | wc -l | tr -d ' ')" -eq 5
check "without a validation set, no iterate is said to be kept" test "$(grep -c '^kept iterate' "$WORK/out")" -eq 0
check "the test accuracy is reported" has "$WORK/out" "^accuracy on test set = "
check "the plot is an SVG" has "$P" "<svg "
check "the plot is closed" has "$P" "</svg>"
if command -v rsvg-convert >/dev/null 2>&1; then
    check "the plot renders to PNG" rsvg-convert -o "$WORK/plot.png" "$P"
    check "the PNG is not empty" test -s "$WORK/plot.png"
fi
run 0 "galann train --train - reads the training set from standard input" \
    train --train - --test "$D/test.csv" --maxiter 5 --trace "$WORK/trace-stdin.csv" --quiet <"$D/train.csv"
check "training from standard input writes the file's trace, byte for byte" cmp -s "$T" "$WORK/trace-stdin.csv"

# -------------------------------------------------------- predict, eval

run 0 "galann predict" predict --model "$M" --data "$D/test.csv"
check "predict prints 90 lines" test "$(lines_of "$WORK/out")" -eq 90
check "every prediction is 0, 1 or 2" test "$(grep -cv '^[012]$' "$WORK/out")" -eq 0

# standard input: --data - reads the same rows as the file
cp "$WORK/out" "$WORK/predicted-from-file"
run 0 "galann predict --data - reads standard input" predict --model "$M" --data - <"$D/test.csv"
check "predict --data - prints what --data FILE prints" cmp -s "$WORK/out" "$WORK/predicted-from-file"
printf '0,1,2\nx,1,2\n' >"$WORK/bad-stdin.csv"
run 1 "a bad line on standard input is a runtime error" predict --model "$M" --data - <"$WORK/bad-stdin.csv"
check "the message names <stdin> and the line" has "$WORK/err" "<stdin>:2:"
run 2 "--train - and --test - together are a usage error" train --train - --test - --maxiter 1 </dev/null

run 0 "galann predict --proba" predict --model "$M" --data "$D/test.csv" --proba
check "--proba prints a header and 90 lines" test "$(lines_of "$WORK/out")" -eq 91
check "the header names the classes (by number: the model has no names)" test "$(head -n 1 "$WORK/out")" = "0,1,2"
number='[-+]?[0-9.]+([eE][-+]?[0-9]+)?'
check "every --proba line is 3 comma-separated numbers" \
    test "$(tail -n +2 "$WORK/out" | grep -Evc "^$number,$number,$number\$")" -eq 0
check "every --proba line sums to 1 within 1e-12" test "$(tail -n +2 "$WORK/out" | awk -F, '
    { s = $1 + $2 + $3; if (s - 1 > 1e-12 || 1 - s > 1e-12) bad++ } END { print bad + 0 }')" -eq 0
run 0 "galann predict --outputs" predict --model "$M" --data "$D/test.csv" --outputs
check "--outputs prints the same header" test "$(head -n 1 "$WORK/out")" = "0,1,2"

run 0 "galann eval" eval --model "$M" --data "$D/test.csv"
check "eval prints the accuracy" has_i "$WORK/out" "accuracy"
check "eval prints a confusion matrix" has_i "$WORK/out" "confusion"
check "the confusion matrix has 3 rows that sum to 90" test "$(awk '
    /confusion/ { on = 1; next }
    on && NF == 4 && $1 ~ /^[0-9]+$/ { rows++; total += $2 + $3 + $4 }
    END { print (rows == 3 && total == 90) ? "yes" : "no" }' "$WORK/out")" = yes

# ----------------------------------------------- the built-in data set

run 0 "galann train without --train (built-in data), 3 iterations" train --maxiter 3
check "it says it trains on synthetic data" has_i "$WORK/out" synthetic
check "it prints 3 iteration lines" test "$(grep -c '^iter=' "$WORK/out")" -eq 3

# ------------------------------------------------------- usage errors

run 2 "an unknown option is a usage error" train --bogus
check "the unknown option is named on stderr" has "$WORK/err" "bogus"
run 2 "--maxiter abc is a usage error" train --maxiter abc
check "the bad value is named on stderr" has "$WORK/err" "abc"
run 2 "predict without --model is a usage error" predict --data "$D/test.csv"
check "the missing option is named on stderr" has "$WORK/err" "model"
run 2 "synth without --out is a usage error" synth --train 3
run 2 "--test without --train is a usage error" train --test "$D/test.csv"
run 2 "--maxiter 0 is a usage error" train --maxiter 0
# a bad argument is refused before any data is loaded or synthesised: the
# error is the only output
run 1 "an unknown --backend fails" train --backend nosuch
check "the error names the unknown backend" has "$WORK/err" 'unknown backend "nosuch"'
check "nothing is said about the synthetic data before the unknown backend" \
    test ! -s "$WORK/out" -a "$(grep -ci synthetic "$WORK/err")" -eq 0
run 1 "predict with an unknown --backend fails" predict --model "$WORK/no-such.model" --data "$WORK/no-such.csv" \
    --backend nosuch
check "predict names the unknown backend before any missing file" has "$WORK/err" 'unknown backend "nosuch"'
check "predict says nothing about the files it did not read" test "$(grep -c 'no-such' "$WORK/err")" -eq 0
run 1 "eval with an unknown --backend fails" eval --model "$WORK/no-such.model" --data "$WORK/no-such.csv" \
    --backend nosuch
check "eval names the unknown backend before any missing file" has "$WORK/err" 'unknown backend "nosuch"'
run 2 "an unknown --precision is a usage error" train --precision bogus
check "nothing is said about the synthetic data before the bad precision" \
    test ! -s "$WORK/out" -a "$(grep -ci synthetic "$WORK/err")" -eq 0
run 2 "a negative --lambda is a usage error" train --lambda -1 --maxiter 1
run 2 "--layers that do not fit the data is a usage error" \
    train --train "$D/train.csv" --layers 1000,8,3 --maxiter 1
run 2 "an option without its value is a usage error" train --maxiter

# ----------------------------------------------------- runtime errors

run 1 "a missing training file is a runtime error" train --train "$WORK/no-such-file.csv" --maxiter 1
check "the message names the missing file" has "$WORK/err" "no-such-file.csv"

printf '0,1,2,3,4\n1,5,6,7,8\n2,9,10,11\n0,1,1,1,1\n' >"$WORK/bad.csv"
run 1 "a ragged CSV row is a runtime error" train --train "$WORK/bad.csv" --maxiter 1
check "the message says bad.csv:3:" has "$WORK/err" "bad.csv:3:"

printf 'this is not a model\n' >"$WORK/corrupt.galann"
run 1 "a corrupt model file is a runtime error" predict --model "$WORK/corrupt.galann" --data "$D/test.csv"
check "the message names the model file" has "$WORK/err" "corrupt.galann"
run 1 "a missing model file is a runtime error" eval --model "$WORK/none.galann" --data "$D/test.csv"
check "the message names the missing model file" has "$WORK/err" "none.galann"
run 1 "predict on a missing data file is a runtime error" predict --model "$M" --data "$WORK/nodata.csv"
check "the message names the missing data file" has "$WORK/err" "nodata.csv"

run 0 "synth creates the folders it needs, as mkdir -p" synth --out "$WORK/new/nested/dir" --train 3 --test 3
check "the nested folder holds train.csv" test -s "$WORK/new/nested/dir/train.csv"
printf 'x\n' >"$WORK/a-file"
run 1 "synth into a folder under a file is a runtime error" synth --out "$WORK/a-file/dir" --train 3 --test 3
check "the message says what is in the way" has "$WORK/err" "a-file"
run 1 "saving the model into a missing folder is a runtime error" \
    train --train "$D/train.csv" --maxiter 1 --quiet --save "$WORK/missing-dir/m.galann"
check "the message names the model path" has "$WORK/err" "missing-dir/m.galann"
check "no temporary model file is left behind" test "$(find "$WORK" -name '*.tmp-*' | wc -l | tr -d ' ')" -eq 0

printf '0,1,2\n1,3,4\n2,5,6\n0,2,1\n' >"$WORK/three.csv"
printf '0,1,2\n1,3,4\n' >"$WORK/two.csv"
run 0 "a test set that lacks a class still trains" train --train "$WORK/three.csv" --test "$WORK/two.csv" --maxiter 2 --quiet
run 0 "a training set that lacks a class still trains" train --train "$WORK/two.csv" --test "$WORK/three.csv" --maxiter 2 --quiet
run 2 "a negative layer size is a usage error" train --train "$WORK/three.csv" --layers 2,-8,3
run 2 "more than 1024 threads is a usage error" train --train "$WORK/three.csv" --threads 4294967297

# ---------------------------------------- failures a Unix tool reports

if [ -w /dev/full ]; then
    "$GALANN" info >/dev/full 2>"$WORK/err"
    status=$?
    if [ "$status" = 1 ] && has "$WORK/err" "cannot write the output"; then
        ok "output to a full device is an error (exit 1)"
    else
        not_ok "galann info >/dev/full exits 1 with a message" "exit $status"
    fi
fi
run 1 "--save into a missing folder fails before training" \
    train --maxiter 100000 --save "$WORK/no-such-folder/m.galann"
check "nothing was trained" test "$(grep -c '^iter=' "$WORK/out")" -eq 0
check "the message names the folder" has "$WORK/err" "no-such-folder"

# Ctrl-C during training: the best iterate so far, and 130 as shells expect
"$GALANN" train --maxiter 100000 >"$WORK/ctrl-c.out" 2>"$WORK/ctrl-c.err" &
pid=$!
waited=0
while ! grep -q '^iter=' "$WORK/ctrl-c.out" 2>/dev/null && [ "$waited" -lt 600 ]; do
    sleep 0.1
    waited=$((waited + 1))
done
kill -INT "$pid"
wait "$pid"
status=$?
if [ "$status" = 130 ] && grep -q "interrupted after" "$WORK/ctrl-c.out"; then
    ok "Ctrl-C stops training cleanly with exit status 130"
else
    not_ok "Ctrl-C during training exits 130 after a clean stop" "exit $status"
fi

# ------------------------------------ validation, names, data layouts

V=$WORK/validation
mkdir -p "$V"
run 0 "--validation-fraction holds out a stratified share and keeps the best by it" \
    train --train "$D/train.csv" --validation-fraction 0.2 --test "$D/test.csv" --maxiter 8 \
    --trace "$V/trace.csv" --save "$V/m.galann"
check "it says how many images it held out (60 of 300)" has "$WORK/out" "^validation set: 60 of the training images"
check "the kept iterate is chosen by the validation cost" has "$WORK/out" "^kept iterate [0-9]*: the lowest validation cost"
check "the validation accuracy is reported" has "$WORK/out" "^accuracy on validation set = "
check "iteration lines show validation and test" has "$WORK/out" "Jval= .*Jtest= "
check "the trace has validation and test columns filled" \
    test "$(awk -F, 'NR > 1 && $4 != "nan" && $6 != "nan"' "$V/trace.csv" | wc -l | tr -d ' ')" -eq 8
run 0 "the same split with the same seed: the same trace" \
    train --train "$D/train.csv" --validation-fraction 0.2 --test "$D/test.csv" --maxiter 8 --trace "$V/trace2.csv" --quiet
check "the trace is identical" cmp -s "$V/trace.csv" "$V/trace2.csv"
run 0 "--validation FILE" train --train "$D/train.csv" --validation "$D/test.csv" --maxiter 4 --quiet
check "a validation file keeps the best by its cost" has "$WORK/out" "^kept iterate [0-9]*: the lowest validation cost"
run 0 "--patience stops when the validation cost stops improving" \
    train --train "$WORK/three.csv" --validation "$WORK/two.csv" --patience 1 --maxiter 500 --quiet
check "it stopped early" has "$WORK/out" "stopped early"
run 2 "--patience without a validation set is a usage error" train --train "$D/train.csv" --patience 3
run 2 "--validation-fraction 1.5 is a usage error" train --train "$D/train.csv" --validation-fraction 1.5
run 2 "--validation and --validation-fraction together are a usage error" \
    train --train "$D/train.csv" --validation "$D/test.csv" --validation-fraction 0.2
run 0 "--select-by-test is the original's optimistic choice, and says so" \
    train --train "$D/train.csv" --test "$D/test.csv" --select-by-test --maxiter 4 --quiet
check "it says the test set chose the iterate" has "$WORK/out" "kept iterate [0-9]*: the lowest TEST cost"
check "it calls the test accuracy optimistic" has "$WORK/out" "accuracy on test set = .*optimistic"
run 2 "--select-by-test with --validation is a usage error" \
    train --train "$D/train.csv" --test "$D/test.csv" --validation "$D/test.csv" --select-by-test

run 0 "--classes E,S,I names the classes" \
    train --train "$D/train.csv" --test "$D/test.csv" --classes E,S,I --maxiter 5 --quiet --save "$V/named.galann"
check "train prints the names" has "$WORK/out" "classes: 0=E 1=S 2=I"
run 0 "predict prints class names" predict --model "$V/named.galann" --data "$D/test.csv"
check "every prediction is E, S or I" test "$(grep -cv '^[ESI]$' "$WORK/out")" -eq 0
check "90 predictions" test "$(lines_of "$WORK/out")" -eq 90
run 0 "predict --proba names the classes in its header" predict --model "$V/named.galann" --data "$D/test.csv" --proba
check "the header is E,S,I" test "$(head -n 1 "$WORK/out")" = "E,S,I"
run 0 "eval names the classes" eval --model "$V/named.galann" --data "$D/test.csv" --plot "$V/confusion.svg"
check "the confusion matrix rows are E, S and I" test "$(awk '/confusion/ { on = 1; next } on == 1 { on = 2; next } on == 2 { print $1 }' "$WORK/out" | tr '\n' ' ')" = "E S I "
check "eval --plot writes the confusion matrix" has "$V/confusion.svg" "</svg>"
run 2 "--classes with an empty name is a usage error" train --train "$D/train.csv" --classes E,,I
run 2 "--classes naming fewer classes than the data has is a usage error" train --train "$D/train.csv" --classes E,S

# a header line: detected and skipped with a note, or refused with --header no
{ printf 'label'; i=1; while [ $i -le 1024 ]; do printf ',p%d' $i; i=$((i + 1)); done; printf '\n'; cat "$D/test.csv"; } >"$V/header.csv"
run 0 "predict skips a header line" predict --model "$M" --data "$V/header.csv"
check "a note says the header was skipped" has "$WORK/err" "header.csv starts with a header line; skipping it"
check "the predictions are those of the file without the header" cmp -s "$WORK/out" "$WORK/predicted-from-file"
run 1 "--header no reads the header as data, and fails on it" predict --model "$M" --data "$V/header.csv" --header no
check "the message names the line" has "$WORK/err" "header.csv:1:"
# rows of pixels only: predict needs no label column
cut -d, -f2- "$D/test.csv" >"$V/pixels.csv"
run 0 "predict reads rows of pixels only" predict --model "$M" --data "$V/pixels.csv"
check "the same predictions as with the label column" cmp -s "$WORK/out" "$WORK/predicted-from-file"
run 1 "eval needs the label column" eval --model "$M" --data "$V/pixels.csv"
# values already scaled to [0, 1]
awk -F, '{ printf "%s", $1; for (i = 2; i <= NF; i++) printf ",%.6f", $i / 255; printf "\n" }' "$D/test.csv" >"$V/scaled.csv"
run 0 "a CSV scaled to [0, 1] already is read, with a warning" eval --model "$M" --data "$V/scaled.csv"
check "the warning suggests --scale 1" has "$WORK/err" "looks scaled to \[0, 1\] already.*--scale 1"
run 0 "--scale 1 trains on values in [0, 1]" train --train "$V/scaled.csv" --scale 1 --maxiter 2 --quiet --save "$V/scaled.galann"
check "no warning with --scale 1" test "$(grep -c 'looks scaled' "$WORK/err")" -eq 0
run 0 "the model trained with --scale 1 predicts scaled data without a warning" predict --model "$V/scaled.galann" --data "$V/scaled.csv"
check "no warning: the model divides by 1" test "$(grep -c 'looks scaled' "$WORK/err")" -eq 0

# outputs checked before training; --threads above the CPUs warns
run 1 "--trace into a missing folder fails before training" train --maxiter 100000 --trace "$WORK/no-such-folder/t.csv"
check "nothing was trained (trace)" test "$(grep -c '^iter=' "$WORK/out")" -eq 0
run 1 "--plot into a missing folder fails before training" train --maxiter 100000 --plot "$WORK/no-such-folder/p.svg"
check "nothing was trained (plot)" test "$(grep -c '^iter=' "$WORK/out")" -eq 0
run 0 "--threads above the CPU count warns" train --train "$WORK/three.csv" --threads 1000 --maxiter 1 --quiet
check "the warning names the CPU count" has "$WORK/err" "more than the [0-9]* CPUs online"
run 0 "info says which backend a command gets, and why" info
# the reason comes from the library: its backends in order of preference
# (info's "backend NAME" lines), their devices, and the backend it picked
chosen=$(sed -n 's/^default backend: \([a-z]*\):.*/\1/p' "$WORK/out")
order=$(sed -n 's/^backend \([a-z]*\) .*/\1/p' "$WORK/out" | paste -sd, - | sed 's/,/, /g')
check "info names the backend a command gets (${chosen:-none})" test -n "$chosen"
if grep -q '(GPU, fp64)' "$WORK/out"; then
    check "info says the default is the first backend with a GPU with fp64" \
        has "$WORK/out" "(best available: $chosen is the first of $order with a GPU with fp64;"
else
    check "info says no backend has a GPU with fp64, so the default is the first with a usable CPU" \
        has "$WORK/out" "(best available: none of $order has a GPU with fp64 here, so the first with a usable CPU: $chosen;"
fi
GALANN_BACKEND=reference "$GALANN" info >"$WORK/out" 2>"$WORK/err"
check "info names GALANN_BACKEND when it chooses" has "$WORK/out" "chosen by the environment variable GALANN_BACKEND=reference"
# piped into head: SIGPIPE ends it quietly, as any Unix tool
"$GALANN" predict --model "$M" --data "$D/test.csv" 2>"$WORK/err" | head -n 1 >/dev/null
check "predict | head prints no error" test ! -s "$WORK/err"

# ------------------------------------------------------------ .npy files

# csv_to_npy CSV OUT [LABELS]: the CSV's integer fields as a '|u1' array
# (labels in column 0), or with LABELS the pixels as '|u1' and the labels
# as '<i4' in LABELS; written by hand (format 1.0, a 128-byte header).
npy_header() { # DESCR SHAPE
    dict="{'descr': '$1', 'fortran_order': False, 'shape': $2, }"
    printf '\223NUMPY\001\000\166\000%s%*s\n' "$dict" $((128 - 10 - ${#dict} - 1)) ''
}
csv_to_npy() {
    rows=$(wc -l <"$1")
    fields=$(head -n 1 "$1" | awk -F, '{ print NF }')
    if [ $# -eq 2 ]; then
        { npy_header '|u1' "($rows, $fields)"
          LC_ALL=C awk -F, '{ for (i = 1; i <= NF; i++) printf "%c", $i }' "$1"; } >"$2"
    else
        { npy_header '|u1' "($rows, $((fields - 1)))"
          LC_ALL=C awk -F, '{ for (i = 2; i <= NF; i++) printf "%c", $i }' "$1"; } >"$2"
        { npy_header '<i4' "($rows,)"
          LC_ALL=C awk -F, '{ printf "%c%c%c%c", $1 % 256, int($1 / 256), 0, 0 }' "$1"; } >"$3"
    fi
}
N=$WORK/npy
mkdir -p "$N"
csv_to_npy "$D/train.csv" "$N/train.npy" "$N/train-labels.npy"
csv_to_npy "$D/train.csv" "$N/train-column.npy"
csv_to_npy "$D/test.csv" "$N/test.npy" "$N/test-labels.npy"
cut -d, -f2- "$D/test.csv" >"$N/pixels.csv"
csv_to_npy "$N/pixels.csv" "$N/pixels.npy"
run 0 "train on the CSV files (the reference for .npy)" \
    train --train "$D/train.csv" --test "$D/test.csv" --maxiter 5 --quiet --save "$N/csv.galann" --trace "$N/csv-trace.csv"
run 0 "train --train X.npy --train-labels y.npy --test --test-labels" \
    train --train "$N/train.npy" --train-labels "$N/train-labels.npy" --test "$N/test.npy" \
    --test-labels "$N/test-labels.npy" --maxiter 5 --quiet --save "$N/npy.galann" --trace "$N/npy-trace.csv"
check "the .npy files train the CSV files' model, byte for byte" cmp -s "$N/csv.galann" "$N/npy.galann"
check "and the same trace" cmp -s "$N/csv-trace.csv" "$N/npy-trace.csv"
run 0 "train --train X.npy with the labels in column 0" \
    train --train "$N/train-column.npy" --maxiter 5 --quiet --save "$N/column.galann"
run 0 "train on train.csv alone, for comparison" train --train "$D/train.csv" --maxiter 5 --quiet --save "$N/csv-alone.galann"
check "the label column trains the same model" cmp -s "$N/csv-alone.galann" "$N/column.galann"
run 0 "train --validation X.npy --validation-labels y.npy" \
    train --train "$N/train-column.npy" --validation "$N/test.npy" --validation-labels "$N/test-labels.npy" --maxiter 2 --quiet
run 0 "predict on test.csv (the reference)" predict --model "$N/csv.galann" --data "$D/test.csv"
cp "$WORK/out" "$N/predicted-csv"
run 0 "predict --data pixels.npy (pixels only)" predict --model "$N/csv.galann" --data "$N/pixels.npy"
check "the same predictions as from the CSV" cmp -s "$WORK/out" "$N/predicted-csv"
run 0 "predict --data X.npy --labels y.npy" predict --model "$N/csv.galann" --data "$N/test.npy" --labels "$N/test-labels.npy"
check "the same predictions again" cmp -s "$WORK/out" "$N/predicted-csv"
run 0 "eval on test.csv (the reference)" eval --model "$N/csv.galann" --data "$D/test.csv"
cp "$WORK/out" "$N/eval-csv"
run 0 "eval --data X.npy --labels y.npy" eval --model "$N/csv.galann" --data "$N/test.npy" --labels "$N/test-labels.npy"
check "eval prints the CSV's cost, accuracy and confusion matrix" cmp -s "$WORK/out" "$N/eval-csv"
run 0 "--header with a .npy file is noted, not applied" predict --model "$N/csv.galann" --data "$N/pixels.npy" --header yes
check "the note says --header is for CSV" has "$WORK/err" "note: --header applies to CSV files only"
run 2 "--train-labels with a CSV --train is a usage error" train --train "$D/train.csv" --train-labels "$N/train-labels.npy"
check "the message says it is for .npy" has "$WORK/err" "--train-labels is for a .npy --train"
run 2 "--test-labels without --test is a usage error" train --train "$N/train-column.npy" --test-labels "$N/test-labels.npy"
run 2 "eval --labels without --data is a usage error" eval --model "$N/csv.galann" --labels "$N/test-labels.npy"
head -c 1000 "$N/test.npy" >"$N/cut.npy"
run 1 "a truncated .npy is a runtime error" eval --model "$N/csv.galann" --data "$N/cut.npy" --labels "$N/test-labels.npy"
check "the message names the file and says it is truncated" has "$WORK/err" "cut.npy: truncated: the shape (90, 1024)"
run 1 "labels for other rows are refused" eval --model "$N/csv.galann" --data "$N/test.npy" --labels "$N/train-labels.npy"
check "the message counts both" has "$WORK/err" "train-labels.npy: 300 labels for the 90 rows of"
mkfifo "$N/fifo.npy"
run 1 "a FIFO named .npy is refused at once" predict --model "$N/csv.galann" --data "$N/fifo.npy"
check "the message says it is not a regular file" has "$WORK/err" "fifo.npy: not a regular file"
run 0 "train --help names --train-labels" train --help
check "the help mentions .npy" has "$WORK/out" "--train-labels FILE"

# ------------------------------------------------ the original's numbers

SHARED=${GALANN_SHARED_DIR:-${GALANN_TEST_SHARED_DEFAULT:-}}
if [ -n "$SHARED" ] && [ -r "$SHARED/data/galaxy/train.csv" ] && [ -r "$SHARED/data/galaxy/test.csv" ]; then
    run 0 "galann train on the real galaxy data, 3 iterations" \
        train --train "$SHARED/data/galaxy/train.csv" --test "$SHARED/data/galaxy/test.csv" --maxiter 3
    expected='iter=  1:  Jtrain= 1.9494 acc= 33.33%  |  Jtest= 2.0102 acc= 33.33%'
    check "iteration 1 prints the original's numbers" test "$(grep '^iter=  1:' "$WORK/out")" = "$expected"
    check "it prints 3 iteration lines" test "$(grep -c '^iter=' "$WORK/out")" -eq 3
elif [ "${GALANN_REQUIRE_DATA:-0}" = 1 ]; then
    not_ok "the real galaxy data is not under ${SHARED:-(no folder)}/data/galaxy, and GALANN_REQUIRE_DATA=1 requires it"
else
    skips=$((skips + 1))
    echo "skip - the real galaxy data is not under ${SHARED:-(no folder)}/data/galaxy"
fi

echo "$checks checks, $failures failed, $skips skipped"
[ "$failures" -eq 0 ] || exit 1
[ "$skips" -eq 0 ] || exit 77
exit 0
