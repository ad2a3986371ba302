#!/usr/bin/env python3
"""original.py -- the original galaxy-classification program, for profiling.

A faithful reconstruction of the Python program libgalann replaces, from
the optimisation notes it came with (../shared/seed/) and the reference
model (../shared/docs/reference-model.md): np.genfromtxt loading, the
per-sample `gradient` loop with np.vstack, a matrix-form `cost_function`,
scipy.optimize.fmin_cg with a per-iteration callback that evaluates the
training and test sets, and the best-by-test-cost iterate. Plotting is left
out, as the notes' own profile left it out.

It is here to be measured (docs/performance.md), not used:
    python3 bench/original.py [--maxiter N] [--data DIR]
"""
import argparse
import time

import numpy as np
from scipy import optimize


def g(x):
    """sigmoid"""
    return 1.0 / (1.0 + np.exp(-x))


def grad_g(x):
    return g(x) * (1.0 - g(x))


def reshape(theta, input_layer_size, hidden_layer_size, num_labels):
    ncut = hidden_layer_size * (input_layer_size + 1)
    Theta1 = theta[0:ncut].reshape(hidden_layer_size, input_layer_size + 1)
    Theta2 = theta[ncut:].reshape(num_labels, hidden_layer_size + 1)
    return Theta1, Theta2


def cost_function(theta, input_layer_size, hidden_layer_size, num_labels, X, y, lmbda):
    Theta1, Theta2 = reshape(theta, input_layer_size, hidden_layer_size, num_labels)
    m = len(y)
    a1 = np.hstack((np.ones((m, 1)), X))
    a2 = g(a1 @ Theta1.T)
    a2 = np.hstack((np.ones((m, 1)), a2))
    a3 = g(a2 @ Theta2.T)
    y_mtx = 1.0 * (y == 0)
    for k in range(1, num_labels):
        y_mtx = np.hstack((y_mtx, 1.0 * (y == k)))
    J = np.sum(-y_mtx * np.log(a3) - (1.0 - y_mtx) * np.log(1.0 - a3)) / m
    J += lmbda / (2.0 * m) * (np.sum(Theta1[:, 1:] ** 2) + np.sum(Theta2[:, 1:] ** 2))
    return J


def gradient(theta, input_layer_size, hidden_layer_size, num_labels, X, y, lmbda):
    Theta1, Theta2 = reshape(theta, input_layer_size, hidden_layer_size, num_labels)
    m = len(y)
    Delta1 = np.zeros((hidden_layer_size, input_layer_size + 1))
    Delta2 = np.zeros((num_labels, hidden_layer_size + 1))
    for t in range(m):
        a1 = X[t, :].reshape((input_layer_size, 1))
        a1 = np.vstack((1, a1))
        z2 = Theta1 @ a1
        a2 = g(z2)
        a2 = np.vstack((1, a2))
        a3 = g(Theta2 @ a2)
        y_k = np.zeros((num_labels, 1))
        y_k[y[t, 0].astype(int)] = 1
        delta3 = a3 - y_k
        Delta2 += delta3 @ a2.T
        delta2 = (Theta2[:, 1:].T @ delta3) * grad_g(z2)
        Delta1 += delta2 @ a1.T
    Theta1_grad = Delta1 / m
    Theta2_grad = Delta2 / m
    Theta1_grad[:, 1:] += (lmbda / m) * Theta1[:, 1:]
    Theta2_grad[:, 1:] += (lmbda / m) * Theta2[:, 1:]
    return np.concatenate((Theta1_grad.flatten(), Theta2_grad.flatten()))


def predict(Theta1, Theta2, X):
    m = np.shape(X)[0]
    a1 = np.hstack((np.ones((m, 1)), X))
    a2 = np.hstack((np.ones((m, 1)), g(a1 @ Theta1.T)))
    a3 = g(a2 @ Theta2.T)
    return np.argmax(a3, 1).reshape((m, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--maxiter", type=int, default=600)
    ap.add_argument("--data", default="../shared/data/galaxy")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    np.random.seed(917)
    start = time.perf_counter()
    train = np.genfromtxt(f"{args.data}/train.csv", delimiter=",")
    test = np.genfromtxt(f"{args.data}/test.csv", delimiter=",")
    load_s = time.perf_counter() - start
    train_label = train[:, 0].reshape(len(train), 1)
    test_label = test[:, 0].reshape(len(test), 1)
    train = train[:, 1:] / 255.0
    test = test[:, 1:] / 255.0
    X, y = train, train_label
    m, input_layer_size = np.shape(X)
    hidden_layer_size, num_labels, lmbda = 8, 3, 1.0

    Theta1 = np.random.rand(hidden_layer_size, input_layer_size + 1) * 0.4 - 0.2
    Theta2 = np.random.rand(num_labels, hidden_layer_size + 1) * 0.4 - 0.2
    theta0 = np.concatenate((Theta1.flatten(), Theta2.flatten()))
    args_ = (input_layer_size, hidden_layer_size, num_labels, X, y, lmbda)
    J = cost_function(theta0, *args_)
    print("initial cost function J =", J)
    state = {"best": theta0, "best_J": np.inf, "iter": 0}

    def callback(theta):
        state["iter"] += 1
        Theta1, Theta2 = reshape(theta, input_layer_size, hidden_layer_size, num_labels)
        J_train = cost_function(theta, *args_)
        acc_train = np.mean(predict(Theta1, Theta2, train) == train_label)
        J_test = cost_function(theta, input_layer_size, hidden_layer_size, num_labels, test, test_label, lmbda)
        acc_test = np.mean(predict(Theta1, Theta2, test) == test_label)
        if J_test < state["best_J"]:
            state["best_J"], state["best"] = J_test, theta.copy()
        if not args.quiet:
            print(f"iter={state['iter']:3d}:  Jtrain= {J_train:.4f} acc= {100 * acc_train:.2f}%  |  "
                  f"Jtest= {J_test:.4f} acc= {100 * acc_test:.2f}%", flush=True)

    start = time.perf_counter()
    optimize.fmin_cg(cost_function, theta0, fprime=gradient, args=args_, callback=callback, maxiter=args.maxiter,
                     disp=False)
    fit_s = time.perf_counter() - start
    Theta1, Theta2 = reshape(state["best"], input_layer_size, hidden_layer_size, num_labels)
    print("accuracy on training set =", np.mean(predict(Theta1, Theta2, train) == train_label))
    print("accuracy on test set =", np.mean(predict(Theta1, Theta2, test) == test_label))
    print(f"load {load_s:.2f} s, fmin_cg {fit_s:.2f} s")


if __name__ == "__main__":
    main()
