#!/usr/bin/env python3
"""seed_spread.py -- the truth about accuracy: how far the seed moves it.

Trains the galaxy network (blas backend, double precision, the original's
settings: hidden 8, lambda 1, 600 iterations) once per seed and prints the
distribution of the test accuracy under two ways of choosing the kept
iterate:

  validation  the iterate with the lowest cost on a stratified 20 % of the
              training set held out (--validation-fraction 0.2); the test
              set is only reported: an honest estimate
  test        the iterate with the lowest TEST cost (--select-by-test, the
              original program's choice): optimistic, the test set chose

Usage: bench/seed_spread.py [--galann build/cli/galann] [--seeds 1-20]
       [--data ../shared/data/galaxy] [--maxiter 600] [--threads 1] [--jobs 2]
       [--precision double|single] [--choices validation,test]
Every run is independent, so --jobs runs several at once; the numbers do
not depend on --threads or --jobs (same bits for any thread count).
"""
import argparse
import concurrent.futures
import os
import re
import statistics
import subprocess
import sys


def seed_list(text):
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds.extend(range(int(lo), int(hi or lo) + 1))
    return seeds


def train(args, seed, choice):
    command = [args.galann, "train", "--train", os.path.join(args.data, "train.csv"),
               "--test", os.path.join(args.data, "test.csv"), "--seed", str(seed),
               "--maxiter", str(args.maxiter), "--backend", "blas", "--threads", str(args.threads), "--quiet",
               "--precision", args.precision]
    command += ["--validation-fraction", "0.2"] if choice == "validation" else ["--select-by-test"]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    test = float(re.search(r"^accuracy on test set = ([0-9.]+)%", out, re.M).group(1))
    kept = int(re.search(r"^kept iterate (\d+)", out, re.M).group(1))
    return seed, choice, test, kept


def summary(values):
    values = sorted(values)
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return (f"min {values[0]:.2f}  q1 {q[0]:.2f}  median {q[1]:.2f}  q3 {q[2]:.2f}  max {values[-1]:.2f}  "
            f"mean {statistics.mean(values):.2f} ± {statistics.stdev(values) if len(values) > 1 else 0:.2f} (sd)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galann", default="build/cli/galann")
    parser.add_argument("--seeds", default="1-20")
    parser.add_argument("--data", default="../shared/data/galaxy")
    parser.add_argument("--maxiter", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--precision", default="double", choices=("double", "single"))
    parser.add_argument("--choices", default="validation,test")
    args = parser.parse_args()
    choices = [c for c in args.choices.split(",") if c in ("validation", "test")]
    seeds = seed_list(args.seeds)
    if not os.path.exists(os.path.join(args.data, "train.csv")):
        print(f"seed_spread: no galaxy data under {args.data}", file=sys.stderr)
        return 1
    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        runs = [pool.submit(train, args, s, c) for s in seeds for c in choices]
        for run in concurrent.futures.as_completed(runs):
            seed, choice, test, kept = run.result()
            results[(seed, choice)] = (test, kept)
    print(f"galaxy network 1024-8-3, lambda 1, {args.maxiter} iterations, blas, {args.precision} precision, "
          f"seeds {args.seeds}")
    header = {"validation": "test acc % (kept by validation, iter)", "test": "test acc % (kept by test cost, iter)"}
    print("seed  " + "  ".join(header[c] for c in choices))
    for s in seeds:
        print(f"{s:4d}  " + "".join(f"{results[(s, c)][0]:6.2f} ({results[(s, c)][1]:3d})" + " " * 25 for c in choices))
    labels = {"validation": "kept by validation (honest)", "test": "kept by test cost (optimistic)"}
    for choice in choices:
        print(f"{labels[choice]:32s} {summary([results[(s, choice)][0] for s in seeds])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
