#!/bin/sh
# pipeline.sh -- libgalann in a shell pipeline: make data, train, save,
# predict, and score the predictions with standard tools. Exits 1 unless
# the trained model gets at least 60 % of the test images right (chance is
# 33 %; a correct build gets about 80 %).
#
#   examples/pipeline.sh [path/to/galann] [workdir]
set -eu
galann=${1:-./build/cli/galann}
work=${2:-$(mktemp -d)}

"$galann" synth --out "$work" --train 900 --test 300
"$galann" train --train "$work/train.csv" --test "$work/test.csv" --maxiter 60 --quiet --save "$work/model.galann"
"$galann" predict --model "$work/model.galann" --data "$work/test.csv" > "$work/predicted.txt"

# the first CSV field is the true label
cut -d, -f1 "$work/test.csv" | paste -d' ' - "$work/predicted.txt" |
    awk -v least=60 '{ n++; if ($1 == $2) right++ }
        END {
            if (n == 0) { print "pipeline: no predictions"; exit 1 }
            printf "pipeline: %d of %d test images right (%.1f%%)\n", right, n, 100 * right / n
            if (100 * right < least * n) { printf "pipeline: below %d%%: the model or the predictions are wrong\n", least; exit 1 }
        }'
