#!/usr/bin/env python3
"""libgalann as a drop-in for the original program's cost_function and
gradient, minimised by scipy.optimize.fmin_cg itself.

    GALANN_LIBRARY=build/lib/libgalann.so PYTHONPATH=python \
        python3 examples/python/scipy_dropin.py [--maxiter 20] [--train FILE]

The two functions below have the original's signatures, (theta,
input_layer_size, hidden_layer_size, num_labels, X, y, lmbda), so the
original's call
    optimize.fmin_cg(cost_function, theta0, fprime=gradient, args=args,
                     callback=cbf, maxiter=...)
runs unchanged, with each evaluation computed by the library instead of the
per-sample numpy loop. The same iterations are then run by the library's own
optimizer (galann_fit, which reproduces fmin_cg) and the two J trajectories
and final weights are compared. Uses ../shared/data/galaxy/train.csv (or
$GALANN_SHARED_DIR) when present, else the built-in synthetic galaxies.
Exits 1 if the J trajectories differ by more than --tolerance, 77 without
scipy.
"""

import argparse
import os
import sys
import time

import numpy as np

try:
    from scipy import optimize
except ImportError:
    print("skipped: scipy is not installed", file=sys.stderr)
    sys.exit(77)  # the "skipped" status of meson and automake tests

import galann

HERE = os.path.dirname(os.path.abspath(__file__))

_ctx = galann.Context()
_cache = {}


def _bind(theta, input_layer_size, hidden_layer_size, num_labels, X, y):
    """The galann Model and Dataset for these arguments. The dataset is
    built once per X (the cache holds X, so its id is not reused)."""
    key = (id(X), id(y), num_labels)
    if key not in _cache:
        _cache[key] = (X, y, galann.Dataset(X, np.asarray(y).reshape(-1), num_labels))
    layers = (input_layer_size, hidden_layer_size, num_labels)
    model = _cache.get(layers)
    if model is None:
        model = _cache[layers] = galann.Model(layers)
    model.params = theta
    return model, _cache[key][2]


def cost_function(theta, input_layer_size, hidden_layer_size, num_labels, X, y, lmbda):
    """The original's cost_function: the regularised cross-entropy J."""
    model, data = _bind(theta, input_layer_size, hidden_layer_size, num_labels, X, y)
    return _ctx.cost(model, data, lmbda)


def gradient(theta, input_layer_size, hidden_layer_size, num_labels, X, y, lmbda):
    """The original's gradient: dJ/dtheta, flattened like theta."""
    model, data = _bind(theta, input_layer_size, hidden_layer_size, num_labels, X, y)
    return _ctx.gradient(model, data, lmbda)


def load_data(path):
    if path is None:
        shared = os.environ.get("GALANN_SHARED_DIR") or os.path.join(HERE, "..", "..", "..", "shared")
        path = os.path.normpath(os.path.join(shared, "data", "galaxy", "train.csv"))
        if not os.path.exists(path):
            print("data: built-in synthetic galaxies (the real data is absent)")
            with galann.Dataset.synthetic(900, 1) as d:
                return d.features.copy(), d.labels.reshape(-1, 1).astype(float)
    print(f"data: {path}")
    raw = np.genfromtxt(path, delimiter=",")          # as the original reads it
    return raw[:, 1:] / 255.0, raw[:, 0].reshape(-1, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--maxiter", type=int, default=20)
    ap.add_argument("--train")
    ap.add_argument("--tolerance", type=float, default=1e-9,
                    help="largest relative J difference accepted (exit 1 above it)")
    args = ap.parse_args()

    X, y = load_data(args.train)
    input_layer_size, hidden_layer_size, num_labels, lmbda = X.shape[1], 8, 3, 1.0

    # the original's initial weights: np.random.seed(917), rand()*0.4-0.2
    np.random.seed(917)
    Theta1 = np.random.rand(hidden_layer_size, input_layer_size + 1) * 0.4 - 0.2
    Theta2 = np.random.rand(num_labels, hidden_layer_size + 1) * 0.4 - 0.2
    theta0 = np.concatenate((Theta1.flatten(), Theta2.flatten()))

    args_ = (input_layer_size, hidden_layer_size, num_labels, X, y, lmbda)
    J_scipy = []

    def cbf(theta):
        J = cost_function(theta, *args_)
        J_scipy.append(J)
        print(f"iter={len(J_scipy):3d}:  J= {J:.16f}")

    print(f"initial cost function J = {cost_function(theta0, *args_):.16f}")
    t0 = time.perf_counter()
    theta_scipy = optimize.fmin_cg(cost_function, theta0, fprime=gradient, args=args_,
                                   callback=cbf, maxiter=args.maxiter, disp=False)
    t_scipy = time.perf_counter() - t0

    # the same run with libgalann's own optimizer
    with galann.Model((input_layer_size, hidden_layer_size, num_labels)) as model, \
            galann.Dataset(X, y, num_labels) as data:
        model.init_random(917)
        if not np.array_equal(model.params, theta0):
            print("error: galann's initial weights differ from numpy's", file=sys.stderr)
            return 1
        t0 = time.perf_counter()
        report = _ctx.fit(model, data, lam=lmbda, maxiter=args.maxiter)
        t_galann = time.perf_counter() - t0
        theta_galann = model.params
    J_galann = np.array([p.train_cost for p in report.history])
    J_scipy = np.array(J_scipy)

    n = min(len(J_scipy), len(J_galann))
    rel = np.abs(J_scipy[:n] - J_galann[:n]) / np.abs(J_galann[:n])
    theta_rel = np.max(np.abs(theta_scipy - theta_galann)) / np.max(np.abs(theta_galann))
    print(f"backend {_ctx.backend}: scipy fmin_cg {len(J_scipy)} iterations in {t_scipy:.2f} s, "
          f"galann fit {report.iterations} iterations in {t_galann:.2f} s")
    print(f"max relative difference in J over {n} iterations: {rel.max():.3g} "
          f"(at iteration {int(np.argmax(rel)) + 1})")
    print(f"max relative difference in the final weights: {theta_rel:.3g}")
    if len(J_scipy) != len(J_galann) or rel.max() > args.tolerance:
        print(f"error: the trajectories differ by more than {args.tolerance:g}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
