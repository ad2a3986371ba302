#!/usr/bin/env python3
"""jax_baseline.py -- libgalann against JAX float32 (jit), in one process.

The same cost + gradient (1024-8-3, lambda 1, the seed-917 weights that
galann_model_init_random gives, read back from libgalann) on the same data
(the galaxy images, replicated 1x, 10x, 100x), timed interleaved call
by call, medians reported:

  jax_f32          the matrix form of numpy_baseline.py written in jax.numpy,
                   float32, jax.jit, the data on the (CPU) device once
  jax_f32_grad     the cost alone, differentiated by jax.value_and_grad, jit
  galann_single    libgalann blas, GALANN_PRECISION_SINGLE, u8 storage
  galann_double    libgalann blas, double precision, u8 storage
  numpy_f64        numpy_baseline.cost_gradient_matrix (1x and 10x only)

libgalann is called through ctypes on the library given by --lib (not the
python package), so that the build being measured is the one timed. Before
timing, JAX's cost is checked against libgalann's double cost (relative
difference at most 1e-5; the script fails otherwise) and the gradients are
compared (largest difference over the largest component).

Usage: jax_baseline.py [train.csv] --lib build/lib/libgalann.so
                       [--scales 1,10,100] [--reps N] [--threads T] [--variants a,b]
"""
import argparse
import ctypes
import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy_baseline  # noqa: E402

N_IN, HIDDEN, K, LAM = 1024, 8, 3, 1.0
PRECISION_DOUBLE, PRECISION_SINGLE = 1, 2


class ContextOptions(ctypes.Structure):
    # galann_context_options as galann.h declares it; struct_size tells the
    # library how much of it we have
    _fields_ = [("struct_size", ctypes.c_size_t), ("threads", ctypes.c_int), ("device", ctypes.c_char_p),
                ("cache_dir", ctypes.c_char_p), ("profile", ctypes.c_int), ("precision", ctypes.c_int)]


class Galann:
    """The handful of C calls this benchmark needs."""

    def __init__(self, path):
        self.lib = lib = ctypes.CDLL(path)
        vp, sz = ctypes.c_void_p, ctypes.c_size_t
        lib.galann_last_error.restype = ctypes.c_char_p
        lib.galann_version.restype = ctypes.c_char_p
        lib.galann_model_new.argtypes = [ctypes.POINTER(sz), sz, ctypes.POINTER(vp)]
        lib.galann_model_init_random.argtypes = [vp, ctypes.c_uint32]
        lib.galann_model_n_params.argtypes = [vp]
        lib.galann_model_n_params.restype = sz
        lib.galann_model_get_params.argtypes = [vp, ctypes.c_void_p, sz]
        lib.galann_dataset_new_u8.argtypes = [vp, vp, sz, sz, sz, ctypes.c_double, ctypes.POINTER(vp)]
        lib.galann_dataset_free.argtypes = [vp]
        lib.galann_context_options_init_size.argtypes = [ctypes.POINTER(ContextOptions), sz]
        lib.galann_context_new_ex.argtypes = [ctypes.c_char_p, ctypes.POINTER(ContextOptions), ctypes.POINTER(vp)]
        lib.galann_context_free.argtypes = [vp]
        lib.galann_cost_gradient.argtypes = [vp, vp, vp, ctypes.c_double, ctypes.POINTER(ctypes.c_double),
                                             ctypes.c_void_p, sz]

    def check(self, status, what):
        if status != 0:
            raise RuntimeError(f"{what}: {self.lib.galann_last_error().decode()}")

    def model(self, seed=917):
        sizes = (ctypes.c_size_t * 3)(N_IN, HIDDEN, K)
        m = ctypes.c_void_p()
        self.check(self.lib.galann_model_new(sizes, 3, ctypes.byref(m)), "galann_model_new")
        self.check(self.lib.galann_model_init_random(m, seed), "galann_model_init_random")
        theta = np.empty(self.lib.galann_model_n_params(m))
        self.check(self.lib.galann_model_get_params(m, theta.ctypes.data, theta.size), "galann_model_get_params")
        return m, theta

    def dataset_u8(self, pixels, labels):
        d = ctypes.c_void_p()
        self.check(self.lib.galann_dataset_new_u8(pixels.ctypes.data, labels.ctypes.data, pixels.shape[0],
                                                  pixels.shape[1], K, 255.0, ctypes.byref(d)), "galann_dataset_new_u8")
        return d

    def context(self, precision, threads):
        o = ContextOptions()
        self.lib.galann_context_options_init_size(ctypes.byref(o), ctypes.sizeof(o))
        o.threads = threads
        o.precision = precision
        c = ctypes.c_void_p()
        self.check(self.lib.galann_context_new_ex(b"blas", ctypes.byref(o), ctypes.byref(c)), "galann_context_new_ex")
        return c

    def cost_gradient(self, c, m, d, grad):
        cost = ctypes.c_double()
        self.check(self.lib.galann_cost_gradient(c, m, d, LAM, ctypes.byref(cost), grad.ctypes.data, grad.size),
                   "galann_cost_gradient")
        return cost.value


def jax_functions(m):
    """The matrix form in float32, explicit gradient, and the autodiff one.
    The cost uses softplus: -y log g(z) - (1 - y) log(1 - g(z)) =
    y softplus(-z) + (1 - y) softplus(z), without log(0) in float32."""
    h1 = HIDDEN * (N_IN + 1)

    def unpack(theta):
        return theta[:h1].reshape(HIDDEN, N_IN + 1), theta[h1:].reshape(K, HIDDEN + 1)

    def cost_only(theta, X, Y):
        t1, t2 = unpack(theta)
        a2 = jax.nn.sigmoid(X @ t1[:, 1:].T + t1[:, 0])
        z3 = a2 @ t2[:, 1:].T + t2[:, 0]
        J = jnp.sum(Y * jax.nn.softplus(-z3) + (1 - Y) * jax.nn.softplus(z3)) / m
        return J + LAM / (2 * m) * (jnp.sum(t1[:, 1:] ** 2) + jnp.sum(t2[:, 1:] ** 2))

    def cost_gradient(theta, X, Y):
        t1, t2 = unpack(theta)
        a2 = jax.nn.sigmoid(X @ t1[:, 1:].T + t1[:, 0])
        z3 = a2 @ t2[:, 1:].T + t2[:, 0]
        a3 = jax.nn.sigmoid(z3)
        J = jnp.sum(Y * jax.nn.softplus(-z3) + (1 - Y) * jax.nn.softplus(z3)) / m
        J += LAM / (2 * m) * (jnp.sum(t1[:, 1:] ** 2) + jnp.sum(t2[:, 1:] ** 2))
        d3 = a3 - Y
        d2 = (d3 @ t2[:, 1:]) * a2 * (1 - a2)
        g1 = jnp.concatenate([d2.sum(0)[:, None], d2.T @ X], axis=1) / m
        g2 = jnp.concatenate([d3.sum(0)[:, None], d3.T @ a2], axis=1) / m
        g1 = g1.at[:, 1:].add(LAM / m * t1[:, 1:])
        g2 = g2.at[:, 1:].add(LAM / m * t2[:, 1:])
        return J, jnp.concatenate([g1.ravel(), g2.ravel()])

    return jax.jit(cost_gradient), jax.jit(jax.value_and_grad(cost_only))


def timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train", nargs="?", default="../shared/data/galaxy/train.csv")
    ap.add_argument("--lib", required=True, help="libgalann.so to measure")
    ap.add_argument("--scales", default="1,10,100")
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--variants", default="jax_f32,jax_f32_grad,galann_single,galann_double,numpy_f64",
                    help="which of the variants to time (galann_single is always timed: the ratios use it)")
    args = ap.parse_args()

    g = Galann(args.lib)
    data = np.loadtxt(args.train, delimiter=",", dtype=np.int64)
    y0 = data[:, 0].astype(np.int32)
    pixels0 = np.ascontiguousarray(data[:, 1:].astype(np.uint8))
    del data
    model, theta = g.model()
    # the weights are numpy's: galann_model_init_random(917) = RandomState(917)
    rng = np.random.RandomState(917)
    numpy_theta = np.concatenate([(rng.rand(HIDDEN, N_IN + 1) * 0.4 - 0.2).ravel(),
                                  (rng.rand(K, HIDDEN + 1) * 0.4 - 0.2).ravel()])
    print(f"# libgalann {g.lib.galann_version().decode()} ({args.lib}), jax {jax.__version__} "
          f"({jax.devices()[0].platform}), numpy {np.__version__}; {os.cpu_count()} CPUs, blas threads "
          f"{args.threads}; load average {' '.join(open('/proc/loadavg').read().split()[:3])}")
    print(f"# weights: libgalann's seed-917 theta equals numpy's RandomState(917): "
          f"{np.array_equal(theta, numpy_theta)}")
    ctx_single = g.context(PRECISION_SINGLE, args.threads)
    ctx_double = g.context(PRECISION_DOUBLE, args.threads)
    grad = np.empty_like(theta)
    print(f"{'scale':>6} {'samples':>8} {'variant':<14} {'ms':>10} {'us/sample':>10} {'vs galann_single':>17}")
    failed = False
    for scale in [int(s) for s in args.scales.split(",")]:
        pixels = np.tile(pixels0, (scale, 1))
        y = np.tile(y0, scale)
        m = pixels.shape[0]
        d = g.dataset_u8(pixels, y)
        X32 = jax.device_put(pixels.astype(np.float32) / np.float32(255.0))
        Y32 = jax.device_put(np.eye(K, dtype=np.float32)[y])
        X64 = pixels / 255.0 if scale <= 10 else None
        del pixels
        explicit, autodiff = jax_functions(m)
        theta32 = jax.device_put(theta.astype(np.float32))

        # same numbers first
        cost_double = g.cost_gradient(ctx_double, model, d, grad)
        grad_double = grad.copy()
        cost_single = g.cost_gradient(ctx_single, model, d, grad)
        J, G = explicit(theta32, X32, Y32)
        J2, G2 = autodiff(theta32, X32, Y32)
        G, G2 = np.asarray(G, dtype=np.float64), np.asarray(G2, dtype=np.float64)
        scale_g = np.max(np.abs(grad_double))
        rel = abs(float(J) - cost_double) / cost_double
        print(f"# {scale}x cost: galann double {cost_double:.12f}, galann single {cost_single:.12f}, "
              f"jax f32 {float(J):.9f} (relative to double {rel:.2e}), jax autodiff {float(J2):.9f} "
              f"({abs(float(J2) - cost_double) / cost_double:.2e}); gradient, largest difference over the "
              f"largest component: galann single {np.max(np.abs(grad - grad_double)) / scale_g:.2e}, "
              f"jax {np.max(np.abs(G - grad_double)) / scale_g:.2e}, jax autodiff "
              f"{np.max(np.abs(G2 - grad_double)) / scale_g:.2e}")
        if rel > 1e-5:
            print(f"# FAIL: JAX's cost differs from libgalann's by {rel:.2e} > 1e-5")
            failed = True

        variants = {
            "jax_f32": lambda: explicit(theta32, X32, Y32)[1].block_until_ready(),
            "jax_f32_grad": lambda: autodiff(theta32, X32, Y32)[1].block_until_ready(),
            "galann_single": lambda: g.cost_gradient(ctx_single, model, d, grad),
            "galann_double": lambda: g.cost_gradient(ctx_double, model, d, grad),
        }
        variants = {name: fn for name, fn in variants.items() if name in args.variants.split(",") or
                    name == "galann_single"}
        if X64 is not None and "numpy_f64" in args.variants.split(","):
            variants["numpy_f64"] = lambda: numpy_baseline.cost_gradient_matrix(theta, X64, y, N_IN, HIDDEN, K, LAM)
        # Interleaved call by call. numpy's OpenBLAS threads spin for a
        # while after a call (XLA's do not) and would take the cores from
        # whatever runs next: a pause follows numpy.
        for fn in variants.values():  # warm-up: jit compilation, first touch
            fn()
        reps = args.reps if scale == 1 else max(5, args.reps // 3) if scale <= 10 else 5
        times = {name: [] for name in variants}
        for _ in range(reps):
            for name, fn in variants.items():
                times[name].append(timed(fn))
                if name == "numpy_f64":
                    time.sleep(0.25)
        ours = statistics.median(times["galann_single"])
        for name, t in times.items():
            ms = statistics.median(t)
            print(f"{scale:>5}x {m:>8} {name:<14} {ms:>10.3f} {ms * 1e3 / m:>10.3f} {ms / ours:>16.2f}x")
        sys.stdout.flush()
        g.lib.galann_dataset_free(d)
        del X32, Y32, X64
    print(f"# load average at the end: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
