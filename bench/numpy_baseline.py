#!/usr/bin/env python3
"""numpy_baseline.py -- the baselines libgalann is measured against.

Times, on this machine and in this run: the original program's per-sample
`gradient` (bench/original.py, numpy loops as in the Python original),
the matrix-form numpy cost+gradient (OpenBLAS), and one read of the data
matrix. Prints one `name ms` line per figure (median of repeats).

Usage: numpy_baseline.py [train.csv] [--reps N] [--original-reps N]
"""
import argparse
import statistics
import sys
import time

import numpy as np

import original  # bench/original.py: the original program's own functions


def g(z):
    return 1.0 / (1.0 + np.exp(-z))


def unpack(theta, n, h, k):
    t1 = theta[: h * (n + 1)].reshape(h, n + 1)
    t2 = theta[h * (n + 1):].reshape(k, h + 1)
    return t1, t2


def cost_gradient_matrix(theta, X, y, n, h, k, lam):
    """The batched matrix form: what a careful numpy user writes."""
    m = X.shape[0]
    t1, t2 = unpack(theta, n, h, k)
    a1 = np.hstack([np.ones((m, 1)), X])
    a2 = g(a1 @ t1.T)
    a2b = np.hstack([np.ones((m, 1)), a2])
    a3 = g(a2b @ t2.T)
    Y = np.eye(k)[y]
    J = np.sum(-Y * np.log(a3) - (1 - Y) * np.log(1 - a3)) / m
    J += lam / (2 * m) * (np.sum(t1[:, 1:] ** 2) + np.sum(t2[:, 1:] ** 2))
    d3 = a3 - Y
    d2 = (d3 @ t2[:, 1:]) * a2 * (1 - a2)
    g1 = d2.T @ a1 / m
    g2 = d3.T @ a2b / m
    g1[:, 1:] += lam / m * t1[:, 1:]
    g2[:, 1:] += lam / m * t2[:, 1:]
    return J, np.concatenate([g1.ravel(), g2.ravel()])


def timed(fn, reps):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train", nargs="?", default="../shared/data/galaxy/train.csv")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--original-reps", type=int, default=3)
    args = ap.parse_args()
    try:
        start = time.perf_counter()
        data = np.loadtxt(args.train, delimiter=",")
        load_ms = (time.perf_counter() - start) * 1e3
        print(f"numpy_loadtxt_train {load_ms:.1f}")
        y = data[:, 0].astype(int)
        X = data[:, 1:] / 255.0
    except OSError:
        print(f"# {args.train} not found: synthetic data of the same shape", file=sys.stderr)
        rng = np.random.default_rng(917)
        X = rng.integers(0, 256, (2700, 1024)) / 255.0
        y = np.arange(2700) % 3
    n, h, k = X.shape[1], 8, 3
    rng = np.random.RandomState(917)
    theta = np.concatenate([(rng.rand(h, n + 1) * 0.4 - 0.2).ravel(), (rng.rand(k, h + 1) * 0.4 - 0.2).ravel()])
    print(f"one_read {timed(lambda: X.sum(), args.reps * 2):.3f}")
    print(f"numpy_matrix_cost_gradient {timed(lambda: cost_gradient_matrix(theta, X, y, n, h, k, 1.0), args.reps):.3f}")
    if args.original_reps > 0:
        y_column = y.reshape(-1, 1).astype(float)  # the original keeps labels as an (m, 1) float column
        ms = timed(lambda: original.gradient(theta, n, h, k, X, y_column, 1.0), args.original_reps)
        print(f"original_per_sample_gradient {ms:.1f}")


if __name__ == "__main__":
    main()
