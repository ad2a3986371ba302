#!/usr/bin/env python3
"""survey_tables.py -- docs/performance.md §5.9's tables, from the CSV files
bench/survey.sh writes, so that the report's figures are the run's, not
copied by hand.

Usage: bench/survey_tables.py [DIR]      (default docs/perf)

Reads DIR/survey-storage.csv and, when present,
DIR/survey-storage-SkylakeX.csv (or -Haswell), and prints in Markdown:
  1. blas per storage x precision x scale: ms, time per sample, over one
     read, over the floor (same child, and the run's best), peak RSS, and
     the forced-kernel columns;
  2. single over double, blas, same child (the issue's >= 1.6x target);
  3. opencl and reference beside blas double;
  4. 10 iterations of galann_fit in u8.
"""
import csv
import os
import sys


def read(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def number(x, digits=None):
    """Thousands separated by a thin space, as the report writes them."""
    v = float(x)
    if digits is None:
        digits = 2 if v < 10 else (1 if v < 100 else 0)
    text = f"{v:,.{digits}f}".replace(",", " ")
    return text


def key(r):
    return (int(r["scale"]), r["storage"], r["precision"], r["backend"])


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "docs/perf"
    rows = read(os.path.join(folder, "survey-storage.csv"))
    if not rows:
        sys.exit(f"survey_tables.py: no {folder}/survey-storage.csv (run bench/survey.sh first)")
    forced_name, forced = None, []
    for name in ("SkylakeX", "Haswell"):
        forced = read(os.path.join(folder, f"survey-storage-{name}.csv"))
        if forced:
            forced_name = name
            break
    by_key = {key(r): r for r in rows}
    forced_by_key = {key(r): r for r in forced}
    scales = sorted({int(r["scale"]) for r in rows})
    storages = [s for s in ("u8", "f32", "f64") if any(r["storage"] == s for r in rows)]

    head = ["scale", "storage", "precision", "ms", "µs per sample", "× one read", "× floor", "× best",
            "peak RSS, training (MiB)", "peak RSS, building (MiB)"]
    if forced_name:
        head += [f"{forced_name}: ms", "× floor", "× best"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for scale in scales:
        for storage in storages:
            for precision in ("double", "single"):
                r = by_key.get((scale, storage, precision, "blas"))
                if not r:
                    continue
                cells = [f"{scale}×", storage, precision, number(r["ms"]), number(r["us_per_sample"], 3),
                         number(r["x_read"], 1), number(r["x_window_floor"], 2), number(r["x_peak_floor"], 2),
                         number(r["peak_train_mib"], 1 if float(r["peak_train_mib"]) < 1000 else 0),
                         number(r["peak_build_mib"], 1 if float(r["peak_build_mib"]) < 1000 else 0)]
                if forced_name:
                    f = forced_by_key.get((scale, storage, precision, "blas"))
                    cells += [number(f["ms"]), number(f["x_window_floor"], 2), number(f["x_peak_floor"], 2)] \
                        if f else ["—", "—", "—"]
                print("| " + " | ".join(cells) + " |")

    print()
    print("| scale | storage | single over double (same child) |" + (f" {forced_name} |" if forced_name else ""))
    print("|---|---|---|" + ("---|" if forced_name else ""))
    for scale in scales:
        for storage in storages:
            d = by_key.get((scale, storage, "double", "blas"))
            s = by_key.get((scale, storage, "single", "blas"))
            if not d or not s:
                continue
            cells = [f"{scale}×", storage, f"{float(d['ms']) / float(s['ms']):.2f}×"]
            if forced_name:
                fd = forced_by_key.get((scale, storage, "double", "blas"))
                fs = forced_by_key.get((scale, storage, "single", "blas"))
                cells.append(f"{float(fd['ms']) / float(fs['ms']):.2f}×" if fd and fs else "—")
            print("| " + " | ".join(cells) + " |")

    print()
    print("| scale | storage | opencl double | opencl single | opencl × floor (double) "
          "| opencl peak RSS, training | reference double | blas double |")
    print("|---|---|---|---|---|---|---|---|")
    for scale in scales:
        for storage in storages:
            od = by_key.get((scale, storage, "double", "opencl"))
            os_ = by_key.get((scale, storage, "single", "opencl"))
            ref = by_key.get((scale, storage, "double", "reference"))
            bd = by_key.get((scale, storage, "double", "blas"))
            if not od and not ref:
                continue
            cells = [f"{scale}×", storage,
                     f"{number(od['ms'])} ms" if od else "—",
                     f"{number(os_['ms'])} ms" if os_ else "—",
                     number(od["x_window_floor"], 2) if od else "—",
                     f"{number(od['peak_train_mib'], 0)} MiB" if od else "—",
                     f"{number(ref['ms'])} ms" if ref else "—",
                     f"{number(bd['ms'])} ms" if bd else "—"]
            print("| " + " | ".join(cells) + " |")

    print()
    print("| scale | backend | galann_fit, 10 iterations, u8: double | single |")
    print("|---|---|---|---|")
    for scale in scales:
        for backend in ("blas", "opencl"):
            d = by_key.get((scale, "u8", "double", backend))
            s = by_key.get((scale, "u8", "single", backend))
            if d and s and float(d["fit_s"]) > 0:
                print(f"| {scale}× | {backend} | {number(d['fit_s'], 2)} s | {number(s['fit_s'], 2)} s |")


if __name__ == "__main__":
    main()
