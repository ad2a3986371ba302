#!/usr/bin/env python3
"""galann.Classifier inside scikit-learn: cross-validation with string
labels, then a fit that keeps its best iterate on a validation split.

    GALANN_LIBRARY=build/lib/libgalann.so PYTHONPATH=python \\
        python3 examples/python/cross_validate.py [--train FILE --test FILE] [--maxiter N]

Without --train/--test it uses ../shared/data/galaxy/{train,test}.csv (or
$GALANN_SHARED_DIR/data/galaxy) when present, else the built-in synthetic
galaxies (900 training, 300 test images). Needs scikit-learn; exits 77
(skipped) without it. Fails when the cross-validated accuracy is no better
than chance.
"""

import argparse
import os
import sys
import time

import numpy as np

import galann

try:
    from sklearn.model_selection import cross_val_score
except ImportError:
    print("skipped: scikit-learn is not installed (Debian: python3-sklearn)")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = np.array(["E", "S", "I"])  # the files' labels 0, 1, 2: elliptical, spiral, irregular


def galaxy_files():
    shared = os.environ.get("GALANN_SHARED_DIR") or os.path.join(HERE, "..", "..", "..", "shared")
    files = [os.path.normpath(os.path.join(shared, "data", "galaxy", f))
             for f in ("train.csv", "test.csv")]
    return files if all(os.path.exists(f) for f in files) else None


def load(source):
    """(X, labels) pairs for training and test, labels as "E", "S", "I"."""
    if source:
        sets = [galann.Dataset.from_csv(path) for path in source]
    else:
        sets = [galann.Dataset.synthetic(900, 1), galann.Dataset.synthetic(300, 2)]
    out = []
    for d in sets:
        with d:
            out.append((d.features.copy(), NAMES[d.labels]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train")
    ap.add_argument("--test")
    ap.add_argument("--maxiter", type=int, default=100)
    args = ap.parse_args()
    if bool(args.train) != bool(args.test):
        ap.error("give both --train and --test")
    source = (args.train, args.test) if args.train else galaxy_files()
    print(f"data: {', '.join(source)}" if source else
          "data: built-in synthetic galaxies (the real data is absent)")
    (X, labels), (Xt, labels_t) = load(source)

    t0 = time.perf_counter()
    scores = cross_val_score(galann.Classifier(maxiter=args.maxiter), X, labels, cv=3)
    print(f"cross_val_score(Classifier(maxiter={args.maxiter}), cv=3): "
          f"{np.array2string(scores, precision=4)}, mean {scores.mean():.4f} "
          f"({time.perf_counter() - t0:.1f} s)")

    clf = galann.Classifier(maxiter=args.maxiter, validation_fraction=0.2).fit(X, labels)
    print(f"validation_fraction=0.2: kept iteration {clf.best_iteration_} of {clf.n_iter_}, "
          f"test accuracy {clf.score(Xt, labels_t):.4f}")
    print(f"classes_ {list(clf.classes_)}; first test images: predict "
          f"{list(clf.predict(Xt[:3]))}, predict_proba")
    print(np.array2string(clf.predict_proba(Xt[:3]), precision=3))
    if scores.mean() <= 1.0 / len(clf.classes_):
        print("error: no better than chance", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
