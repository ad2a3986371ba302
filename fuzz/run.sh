#!/bin/sh
# run.sh -- build the fuzz targets (CSV, model, .npy) with clang's libFuzzer, ASan and UBSan
# against the core sources (reference backend only), and run each for a
# while, starting from small seed inputs.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [WORK_DIR]
set -eu
seconds=${1:-60}
work=${2:-/tmp/galann-fuzz}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work/corpus-csv" "$work/corpus-model" "$work/corpus-npy"

flags="-std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
sources="$root/lib/*.c $root/backends/reference/reference.c"
clang $flags -I"$root/include" -I"$root/lib" $sources "$root/fuzz/fuzz-csv.c" -lm -lpthread -o "$work/fuzz-csv"
clang $flags -I"$root/include" -I"$root/lib" $sources "$root/fuzz/fuzz-model.c" -lm -lpthread -o "$work/fuzz-model"
clang $flags -I"$root/include" -I"$root/lib" $sources "$root/fuzz/fuzz-npy.c" -lm -lpthread -o "$work/fuzz-npy"

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

# .npy seeds: the first byte is fuzz-npy.c's mode. npy_file DESCR SHAPE
# DATA writes a format 1.0 file (a 128-byte header), DATA in printf octal.
npy_file() {
    dict="{'descr': '$1', 'fortran_order': False, 'shape': $2, }"
    printf '\223NUMPY\001\000\166\000%s%*s\n' "$dict" $((128 - 10 - ${#dict} - 1)) ''
    printf "$3"
}
u1_2x3='\000\001\002\377\020\011'
f4_2x2='\000\000\200\077\000\000\000\100\000\000\100\100\000\000\200\100'
{ printf '\000'; npy_file '|u1' '(2, 3)' "$u1_2x3"; } > "$work/corpus-npy/u1-label-column"
{ printf '\001'; npy_file '<f4' '(2, 2)' "$f4_2x2"; } > "$work/corpus-npy/f4-pixels-only"
{ printf '\002'; npy_file '<i2' '(2,)' '\001\000\000\000'; } > "$work/corpus-npy/i2-labels"
{ printf '\003\206\000'; npy_file '|u1' '(2, 3)' "$u1_2x3"; npy_file '<i8' '(2,)' '\002\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'; } \
    > "$work/corpus-npy/u1-and-i8-labels"

"$work/fuzz-csv" -max_total_time="$seconds" -max_len=4096 "$work/corpus-csv"
"$work/fuzz-model" -max_total_time="$seconds" -max_len=4096 "$work/corpus-model"
"$work/fuzz-npy" -max_total_time="$seconds" -max_len=4096 "$work/corpus-npy"
