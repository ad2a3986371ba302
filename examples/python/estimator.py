#!/usr/bin/env python3
"""Train the galaxy classifier with the scikit-learn-style galann.Classifier.

    GALANN_LIBRARY=build/lib/libgalann.so PYTHONPATH=python \
        python3 examples/python/estimator.py [--train FILE --test FILE] [--maxiter N]

Without --train/--test it uses ../shared/data/galaxy/{train,test}.csv (or
$GALANN_SHARED_DIR/data/galaxy) when present, else the built-in synthetic
galaxies (900 training, 300 test images). Unlike the original program, the
kept weights are chosen honestly: 20 % of the training images (stratified)
are held out as a validation set and the iterate with the lowest validation
cost is kept; the test set is only scored at the end. Classes are named E,
S and I (any labels work, as in scikit-learn).
"""

import argparse
import os
import sys
import time

import numpy as np

import galann

HERE = os.path.dirname(os.path.abspath(__file__))


def galaxy_files():
    shared = os.environ.get("GALANN_SHARED_DIR") or os.path.join(HERE, "..", "..", "..", "shared")
    files = [os.path.normpath(os.path.join(shared, "data", "galaxy", f))
             for f in ("train.csv", "test.csv")]
    return files if all(os.path.exists(f) for f in files) else None


def load(path):
    """X scaled to [0, 1] and integer labels, read by the library."""
    with galann.Dataset.from_csv(path) as d:
        return d.features.copy(), d.labels.copy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train")
    ap.add_argument("--test")
    ap.add_argument("--maxiter", type=int, default=600)
    ap.add_argument("--hidden", type=int, default=8)
    ap.add_argument("--backend")
    args = ap.parse_args()

    if args.train and args.test:
        source = (args.train, args.test)
    elif args.train or args.test:
        ap.error("give both --train and --test")
    else:
        source = galaxy_files()
    if source:
        print(f"data: {source[0]}, {source[1]}")
        (X, y), (Xt, yt) = load(source[0]), load(source[1])
    else:
        print("data: built-in synthetic galaxies (the real data is absent)")
        with galann.Dataset.synthetic(900, 1) as tr, galann.Dataset.synthetic(300, 2) as te:
            X, y, Xt, yt = tr.features.copy(), tr.labels.copy(), te.features.copy(), te.labels.copy()

    names = np.array(["E", "S", "I"])
    y, yt = names[y], names[yt]
    clf = galann.Classifier(hidden=args.hidden, maxiter=args.maxiter, backend=args.backend,
                            validation_fraction=0.2)
    print(clf, f"on {X.shape[0]} x {X.shape[1]}, library {galann.__version__}")
    t0 = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - t0
    for h in clf.history_[:: max(1, len(clf.history_) // 10)] + clf.history_[-1:]:
        print(f"iter={h['iteration']:4d}:  Jtrain= {h['train_cost']:.4f} "
              f"acc= {100 * h['train_accuracy']:.2f}%  |  Jval= {h['validation_cost']:.4f} "
              f"acc= {100 * h['validation_accuracy']:.2f}%")
    train_acc, test_acc = clf.score(X, y), clf.score(Xt, yt)
    print(f"{clf.n_iter_} iterations in {seconds:.2f} s ({clf.stop_reason_}); "
          f"kept iteration {clf.best_iteration_} (lowest validation cost)")
    print(f"accuracy on training set = {train_acc:.4f}")
    print(f"accuracy on test set = {test_acc:.4f} (never used to choose)")
    predicted = clf.predict(Xt)
    print("confusion (rows: true, columns: predicted), classes", [str(c) for c in clf.classes_])
    print(np.array([[np.sum((yt == t) & (predicted == p)) for p in clf.classes_] for t in clf.classes_]))
    if test_acc <= 1.0 / len(clf.classes_):
        print("error: no better than chance", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
