#!/bin/sh
# run.sh -- build the fuzz targets with clang's libFuzzer, ASan and UBSan
# against the core sources (reference backend only), and run each for a
# while, starting from small seed inputs.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [WORK_DIR]
set -eu
seconds=${1:-60}
work=${2:-/tmp/galann-fuzz}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work/corpus-csv" "$work/corpus-model"

flags="-std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
sources="$root/lib/*.c $root/backends/reference/reference.c"
clang $flags -I"$root/include" -I"$root/lib" $sources "$root/fuzz/fuzz-csv.c" -lm -lpthread -o "$work/fuzz-csv"
clang $flags -I"$root/include" -I"$root/lib" $sources "$root/fuzz/fuzz-model.c" -lm -lpthread -o "$work/fuzz-model"

# seeds: a tiny valid CSV, CRLF, and a valid small model file
printf '0,1,2\n1,3,4\n' > "$work/corpus-csv/lf.csv"
printf '2,255,0\r\n0,1.5e1,7\r\n' > "$work/corpus-csv/crlf.csv"
"$work/fuzz-csv" -runs=0 "$work/corpus-csv" > /dev/null 2>&1 || true
cat > "$work/seed-model.c" <<'C'
#include <stdio.h>
#include "galann.h"
int main(int argc, char **argv)
{
    size_t sizes[] = { 3, 2, 2 };
    galann_model *m;
    if (argc < 2 || galann_model_new(sizes, 3, &m) || galann_model_init_random(m, 1))
        return 1;
    return galann_model_save(m, argv[1]) ? 1 : 0;
}
C
clang -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root/include" -I"$root/lib" $sources "$work/seed-model.c" -lm -lpthread \
    -o "$work/seed-model"
"$work/seed-model" "$work/corpus-model/small.galann"

"$work/fuzz-csv" -max_total_time="$seconds" -max_len=4096 "$work/corpus-csv"
"$work/fuzz-model" -max_total_time="$seconds" -max_len=4096 "$work/corpus-model"
