#!/usr/bin/env python3
"""plots.py -- SVG figures for docs/performance.md from the benchmark's CSV.

    plots.py BENCH.csv BASELINE.txt OUTDIR [PREFIX] [MACHINE]

BENCH.csv is `galann-bench --csv`; BASELINE.txt the output of
numpy_baseline.py (`name ms` lines). Writes OUTDIR/speed.svg (cost+gradient
time per backend and thread count at 1x, with the numpy baselines) and
OUTDIR/scaling.svg (time against the number of samples, log-log), each
name led by PREFIX when given. BASELINE.txt may be "-" (none). Rows whose
run failed (no time) are left out. Plain SVG text, no plotting library.
"""
import csv
import math
import sys

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]


def svg_open(w, h, title):
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
            f'<rect width="100%" height="100%" fill="white"/>',
            f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>']


def speed_chart(rows, baseline, path, machine):
    bars = [(f"{r['backend']} x{r['threads']}", float(r["ms"])) for r in rows if r["scale"] == "1"]
    for name, label in (("numpy_matrix_cost_gradient", "numpy matrix form"),
                        ("original_per_sample_gradient", "original (per-sample)"),
                        ("one_read", "one read of X")):
        if name in baseline:
            bars.append((label, baseline[name]))
    w, h, left, top, bar_h = 720, 60 + 26 * len(bars), 190, 40, 18
    hi = max(v for _, v in bars)
    scale = lambda v: (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * (w - left - 80)
    lo = min(v for _, v in bars) / 2
    out = svg_open(w, h, f"cost + gradient, galaxy train set (2700 x 1024), 1024-8-3, {machine}: ms, log scale")
    for i, (label, v) in enumerate(bars):
        y = top + i * 26
        colour = "#999999" if label in ("numpy matrix form", "original (per-sample)", "one read of X") else COLOURS[0]
        out.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end">{label}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{max(scale(v), 1):.1f}" height="{bar_h}" fill="{colour}"/>')
        out.append(f'<text x="{left + max(scale(v), 1) + 6:.1f}" y="{y + 13}">{v:.3g} ms</text>')
    out.append("</svg>")
    open(path, "w").write("\n".join(out) + "\n")


def scaling_chart(rows, path, machine):
    series = {}
    for r in rows:
        series.setdefault(f"{r['backend']} x{r['threads']}", []).append((int(r["samples"]), float(r["ms"])))
    pts = [p for s in series.values() for p in s]
    xlo, xhi = min(p[0] for p in pts) / 1.5, max(p[0] for p in pts) * 1.5
    ylo, yhi = min(p[1] for p in pts) / 2, max(p[1] for p in pts) * 2
    w, h, left, right, top, bottom = 640, 420, 70, 170, 40, 50
    fx = lambda v: left + (math.log10(v) - math.log10(xlo)) / (math.log10(xhi) - math.log10(xlo)) * (w - left - right)
    fy = lambda v: h - bottom - (math.log10(v) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo)) * (h - top - bottom)
    out = svg_open(w, h, f"cost + gradient time against samples, {machine} (log-log)")
    out.append(f'<path d="M{left} {top} L{left} {h - bottom} L{w - right} {h - bottom}" stroke="black" fill="none"/>')
    for e in range(int(math.floor(math.log10(ylo))), int(math.ceil(math.log10(yhi))) + 1):
        v = 10.0 ** e
        if ylo <= v <= yhi:
            out.append(f'<text x="{left - 6}" y="{fy(v) + 4:.1f}" text-anchor="end">{v:g} ms</text>')
            out.append(f'<line x1="{left}" x2="{w - right}" y1="{fy(v):.1f}" y2="{fy(v):.1f}" stroke="#ddd"/>')
    for v in sorted({p[0] for p in pts}):
        out.append(f'<text x="{fx(v):.1f}" y="{h - bottom + 18}" text-anchor="middle">{v}</text>')
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 10}" text-anchor="middle">samples</text>')
    for i, (name, s) in enumerate(sorted(series.items())):
        s.sort()
        c = COLOURS[i % len(COLOURS)]
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="' +
                   " ".join(f"{fx(x):.1f},{fy(y):.1f}" for x, y in s) + '"/>')
        for x, y in s:
            out.append(f'<circle cx="{fx(x):.1f}" cy="{fy(y):.1f}" r="3" fill="{c}"/>')
        out.append(f'<text x="{w - right + 10}" y="{top + 16 * i + 10}" fill="{c}">{name}</text>')
    out.append("</svg>")
    open(path, "w").write("\n".join(out) + "\n")


def main():
    rows = [r for r in csv.DictReader(open(sys.argv[1])) if math.isfinite(float(r["ms"]))]
    baseline = {}
    if sys.argv[2] != "-":
        for line in open(sys.argv[2]):
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#"):
                baseline[parts[0]] = float(parts[1])
    prefix = sys.argv[4] if len(sys.argv) > 4 else ""
    machine = sys.argv[5] if len(sys.argv) > 5 else "2-core dev machine"
    speed_chart(rows, baseline, f"{sys.argv[3]}/{prefix}speed.svg", machine)
    scaling_chart(rows, f"{sys.argv[3]}/{prefix}scaling.svg", machine)


if __name__ == "__main__":
    main()
