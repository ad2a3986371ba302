"""Low-level classes, one per libgalann handle: Context, Dataset, Model.

They mirror the C API closely (galann.h is the manual) and add only what
Python needs: numpy arrays in and out, exceptions instead of statuses,
deterministic close() plus context managers, and a fit() that Ctrl-C and
exceptions in callbacks cannot tear through the C stack. Conveniences in
the scikit-learn style live in _estimator.py, not here.
"""

import contextlib
import ctypes
import operator
import os
import signal
import threading
from ctypes import byref, c_double, c_size_t, c_void_p
from dataclasses import dataclass

import numpy as np

from . import _lib
from ._lib import GalannError, lib

__all__ = ["Context", "Dataset", "Model", "FitProgress", "FitReport", "CGReport",
           "minimize_cg", "backends", "backend_available", "backend_devices"]

_P_DOUBLE = ctypes.POINTER(ctypes.c_double)
_P_INT32 = ctypes.POINTER(ctypes.c_int32)


def _fspath(path):
    return os.fsencode(os.fspath(path))


def _dptr(a):
    return a.ctypes.data_as(_P_DOUBLE)


_SIZE_MAX = 2 ** (8 * ctypes.sizeof(c_size_t)) - 1
_UINT32_MAX = 2 ** 32 - 1
_INT_MIN, _INT_MAX = -2 ** (8 * ctypes.sizeof(ctypes.c_int) - 1), 2 ** (8 * ctypes.sizeof(ctypes.c_int) - 1) - 1


def _integer(value, what, low, high):
    """value as an int in [low, high], checked before ctypes could wrap it:
    TypeError for anything that is not an integer (a float is never
    truncated), ValueError below low, OverflowError above high."""
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer, got {type(value).__name__} {value!r}") from None
    if v < low:
        raise ValueError(f"{what} must be >= {low}, got {v}")
    if v > high:
        raise OverflowError(f"{what} {v} is too large (at most {high})")
    return v


def _real_array(a, what):
    """a as a numpy array; complex numbers are refused rather than losing
    their imaginary part."""
    a = np.asarray(a)
    if a.dtype.kind == "c":
        raise TypeError(f"{what} must be real numbers, got a complex array ({a.dtype})")
    return a


class _Handle:
    """Owns one C handle and frees it exactly once: on release(), or when
    the last Python reference goes (numpy views of a dataset keep theirs).
    The free function is bound at creation so that __del__ still works
    while the interpreter shuts down.

    While a C call uses the handle (acquire()/done(), see _in_use) a
    release only marks it: the free happens when the last call returns, so
    closing an object from a callback or another thread never frees memory
    C is still reading."""

    __slots__ = ("ptr", "_free", "_busy", "_closing", "_lock", "__weakref__")

    def __init__(self, ptr, free):
        self.ptr = ptr
        self._free = free
        self._busy = 0
        self._closing = False
        self._lock = threading.Lock()

    def acquire(self, what):
        with self._lock:
            if not self.ptr or self._closing:
                raise ValueError(f"{what} is closed")
            self._busy += 1
            return self.ptr

    def done(self):
        with self._lock:
            self._busy -= 1
            ptr = None
            if self._closing and self._busy == 0:
                ptr, self.ptr = self.ptr, None
        if ptr:
            self._free(ptr)

    def release(self):
        with self._lock:
            if self._busy > 0:
                self._closing = True
                return
            ptr, self.ptr = self.ptr, None
        if ptr:
            self._free(ptr)

    def __del__(self):
        try:
            self.release()
        except Exception:  # pragma: no cover - interpreter teardown
            pass


class _Owned:
    """Base of the handle classes: close(), with-statement, safe __del__."""

    _h = None

    @property
    def _ptr(self):
        h = self._h
        if h is None or not h.ptr:
            raise ValueError(f"{type(self).__name__} is closed")
        return h.ptr

    @property
    def closed(self):
        return self._h is None or not self._h.ptr

    def close(self):
        """Free the C handle now (idempotent). Afterwards every method
        raises ValueError."""
        h, self._h = self._h, None
        if h is not None:
            h.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        # The _Handle frees itself when its last reference goes.
        self._h = None


# ------------------------------------------------------------------ backends

def backends():
    """Names of the backends compiled into the library, in registry order."""
    return [_lib.decode(lib.backend_name(i)) for i in range(lib.backend_count())]


def backend_available(name):
    """(True, "") if a context on this backend can be created here, else
    (False, reason)."""
    status = lib.backend_available(name.encode())
    if status == _lib.OK:
        return True, ""
    return False, _lib.decode(lib.last_error())


def backend_devices(name):
    """Devices the backend can use, one string per device."""
    buf = ctypes.create_string_buffer(8192)
    lib.backend_devices(name.encode(), buf, len(buf))
    return [line for line in _lib.decode(buf.value).splitlines() if line]


# ------------------------------------------------------------------- dataset

class _ArrayView:
    """Exposes C memory to numpy; being the array's base, it keeps the
    dataset's handle alive as long as the array lives."""

    def __init__(self, owner, address, shape, typestr):
        self._owner = owner
        self.__array_interface__ = {"shape": shape, "typestr": typestr,
                                    "data": (address, True), "version": 3}


# galann_storage: the numpy dtype a dataset stores its features in
_STORAGE_DTYPES = {0: np.dtype(np.float64), 1: np.dtype(np.float32), 2: np.dtype(np.uint8)}


class Dataset(_Owned):
    """Samples (n_samples x n_features) with integer labels; never changes
    after creation.

    Dataset(X, y, n_labels=None, divisor=None) copies X and y (int32) into
    the library, X in its own storage type: uint8 stays uint8 pixels (one
    byte per value, galann_dataset_new_u8), each meaning p / divisor
    (divisor 255 by default: the CSV readers' pixel convention), float32
    stays float32, anything else becomes float64 (no intermediate copy
    when X already is C-contiguous of that type). divisor applies to uint8
    X only. n_labels defaults to max(y) + 1.
    """

    def __init__(self, X, y, n_labels=None, divisor=None):
        X = _real_array(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-dimensional, got shape {X.shape}")
        if divisor is not None and X.dtype != np.uint8:
            raise ValueError(f"divisor applies to uint8 pixels only; X is {X.dtype}")
        if X.dtype not in (np.uint8, np.float32):
            X = np.ascontiguousarray(X, dtype=np.float64)
        X = np.ascontiguousarray(X)
        y = _labels_array(y, X.shape[0])
        if n_labels is None:
            n_labels = int(y.max()) + 1 if y.size else 0
        n_labels = _integer(n_labels, "n_labels", 0, _SIZE_MAX)
        out = c_void_p()
        labels = y.ctypes.data_as(_P_INT32)
        if X.dtype == np.uint8:
            lib.dataset_new_u8(X.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), labels, X.shape[0],
                               X.shape[1], n_labels, 255.0 if divisor is None else float(divisor), byref(out))
        elif X.dtype == np.float32:
            lib.dataset_new_f32(X.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), labels, X.shape[0],
                                X.shape[1], n_labels, byref(out))
        else:
            lib.dataset_new(_dptr(X), labels, X.shape[0], X.shape[1], n_labels, byref(out))
        self._h = _Handle(out.value, lib.dataset_free)

    @classmethod
    def _wrap(cls, ptr):
        self = cls.__new__(cls)
        self._h = _Handle(ptr, lib.dataset_free)
        return self

    def close(self):
        """Release the dataset (idempotent). Arrays from .features and
        .labels stay valid: the C dataset is freed when the last of them
        goes (at once when there are none)."""
        self._h = None

    @classmethod
    def from_csv(cls, path):
        """Load label,p1,...,pn lines; features are divided by 255 as the
        original program does. GalannError (GALANN_ERR_PARSE, "file:line:
        ...") on malformed data, GALANN_ERR_IO if unreadable."""
        out = c_void_p()
        lib.dataset_load_csv(_fspath(path), byref(out))
        return cls._wrap(out.value)

    @classmethod
    def from_csv_text(cls, text, name=None, divisor=255.0):
        """Parse CSV from a str or bytes; name appears in error messages."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        out = c_void_p()
        lib.dataset_parse_csv(data, len(data), name.encode() if name else None,
                              float(divisor), byref(out))
        return cls._wrap(out.value)

    @classmethod
    def load_npy(cls, features, labels=None, divisor=255.0, labelled=True, mmap=True):
        """Load numpy .npy files (galann_dataset_load_npy_with): features a
        2-D C-order array of uint8 (pixels, p / divisor), float32 or
        float64 (used as stored), labels a 1-D integer array of the same
        length, every label 0..65535. Without labels, column 0 of features
        holds them (whole numbers); labelled=False reads every column as a
        feature with every label 0. A file usable as stored is mapped, not
        copied (mmap=False reads it into memory): do not overwrite it in
        place (numpy.save to the same path) while the Dataset or an array
        from it lives. GalannError: GALANN_ERR_PARSE for a defective file
        (the message names it and the defect), GALANN_ERR_IO when it
        cannot be opened or is not a regular file."""
        opts = _lib.NpyOptions()
        lib.npy_options_init_size(byref(opts), ctypes.sizeof(opts))
        opts.divisor = float(divisor)
        opts.labelled = 1 if labelled else 0
        opts.map = 1 if mmap else 0
        out = c_void_p()
        lib.dataset_load_npy_with(_fspath(features), None if labels is None else _fspath(labels), byref(opts),
                                  byref(out))
        return cls._wrap(out.value)

    def save_npy(self, features, labels=None):
        """Write the features as a .npy of the stored type (uint8 for u8
        with divisor 255, float32, float64; float64 values for u8 with
        another divisor) and the labels as int32 (labels=None: as column 0
        of the features instead), each file atomically
        (galann_dataset_save_npy). numpy.load gives the arrays back."""
        lib.dataset_save_npy(self._ptr, _fspath(features), None if labels is None else _fspath(labels))

    @property
    def dtype(self):
        """The numpy dtype the features are stored in: uint8, float32 or
        float64."""
        return _STORAGE_DTYPES[lib.dataset_storage(self._ptr)]

    @property
    def divisor(self):
        """uint8 storage: a byte p means p / divisor; 1.0 otherwise."""
        return lib.dataset_divisor(self._ptr)

    @property
    def stored_features(self):
        """Read-only (n_samples, n_features) view of the features as
        stored (dtype above: no conversion, no copy); it keeps the
        dataset's memory, or its file mapping, alive even after close()."""
        h = self._h
        ptr = self._ptr
        return np.asarray(_ArrayView(h, lib.dataset_stored_features(ptr),
                                     (self.n_samples, self.n_features), self.dtype.str))

    @classmethod
    def synthetic(cls, n, seed=1):
        """The built-in synthetic galaxy set: n 32x32 images (1024
        features, 3 labels, classes in turn), deterministic in seed."""
        out = c_void_p()
        lib.dataset_synthesize(_integer(n, "n", 0, _SIZE_MAX), _integer(seed, "seed", 0, _UINT32_MAX),
                               byref(out))
        return cls._wrap(out.value)

    def split(self, fraction, seed):
        """(rest, held_out): galann_dataset_split's stratified, seeded
        split. Of each class's c rows round(fraction * c) are held out (at
        least one when c >= 2, never all c), drawn by MT19937 seeded with
        seed, the same on every machine; both parts keep the rows' order
        and all n_labels labels. GalannError (GALANN_ERR_INVALID) when
        fraction is outside (0, 1) or a part would be empty."""
        rest, held = c_void_p(), c_void_p()
        lib.dataset_split(self._ptr, float(fraction), _integer(seed, "seed", 0, _UINT32_MAX),
                          byref(rest), byref(held))
        return Dataset._wrap(rest.value), Dataset._wrap(held.value)

    def save_csv(self, path, multiplier=255.0):
        """Write label,p1,...,pn with features times multiplier."""
        lib.dataset_save_csv(self._ptr, _fspath(path), float(multiplier))

    @property
    def n_samples(self):
        return lib.dataset_n_samples(self._ptr)

    @property
    def n_features(self):
        return lib.dataset_n_features(self._ptr)

    @property
    def n_labels(self):
        return lib.dataset_n_labels(self._ptr)

    def __len__(self):
        return self.n_samples

    @property
    def features(self):
        """Read-only (n_samples, n_features) float64 view of the library's
        copy (for uint8 or float32 storage, a float64 copy the library
        makes once: stored_features avoids it); it keeps the dataset's
        memory alive even after close()."""
        h = self._h
        ptr = self._ptr
        return np.asarray(_ArrayView(h, lib.dataset_features(ptr),
                                     (self.n_samples, self.n_features), "<f8"))

    @property
    def labels(self):
        """Read-only (n_samples,) int32 view of the labels."""
        h = self._h
        ptr = self._ptr
        return np.asarray(_ArrayView(h, lib.dataset_labels(ptr), (self.n_samples,), "<i4"))

    def __repr__(self):
        if self.closed:
            return "<galann.Dataset closed>"
        return (f"<galann.Dataset n_samples={self.n_samples} n_features={self.n_features} "
                f"n_labels={self.n_labels}>")


def _labels_array(y, m):
    y = _real_array(y, "y")
    if y.ndim == 2 and 1 in y.shape:  # the original's (m, 1) column
        y = y.reshape(-1)
    if y.ndim != 1 or y.shape[0] != m:
        raise ValueError(f"y must have {m} labels, got shape {y.shape}")
    if y.dtype.kind not in "iub":
        if y.dtype.kind != "f" or not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError("labels must be whole numbers")
    if y.size and (y.min() < 0 or y.max() > np.iinfo(np.int32).max):
        raise ValueError("labels must be in 0 .. 2**31-1")
    return np.ascontiguousarray(y, dtype=np.int32)


# --------------------------------------------------------------------- model

class Model(_Owned):
    """A network: layer sizes (inputs, hidden..., labels) and its weights,
    one flat parameter vector (Theta_1 row-major with the bias in column 0,
    then Theta_2, ...). A new model has all weights zero."""

    def __init__(self, layer_sizes):
        sizes = [_integer(s, "a layer size", 0, _SIZE_MAX) for s in layer_sizes]
        arr = (c_size_t * len(sizes))(*sizes)
        out = c_void_p()
        lib.model_new(arr, len(sizes), byref(out))
        self._h = _Handle(out.value, lib.model_free)

    @classmethod
    def _wrap(cls, ptr):
        self = cls.__new__(cls)
        self._h = _Handle(ptr, lib.model_free)
        return self

    @property
    def layers(self):
        """Layer sizes as a tuple, inputs first."""
        p = self._ptr
        return tuple(lib.model_layer_size(p, i) for i in range(lib.model_n_layers(p)))

    @property
    def n_params(self):
        return lib.model_n_params(self._ptr)

    @property
    def params(self):
        """A copy of the parameter vector (float64); assign to set it
        (NaN/infinity are rejected with GALANN_ERR_NONFINITE)."""
        theta = np.empty(self.n_params)
        lib.model_get_params(self._ptr, _dptr(theta), theta.size)
        return theta

    @params.setter
    def params(self, theta):
        self.set_params(theta)

    def get_params(self):
        return self.params

    def set_params(self, theta):
        theta = np.ascontiguousarray(_real_array(theta, "theta"), dtype=np.float64).reshape(-1)
        lib.model_set_params(self._ptr, _dptr(theta), theta.size)
        return self

    def weights(self):
        """The parameter vector split into the layer matrices Theta_l, each
        (s_l, s_{l-1} + 1) with the bias in column 0 (copies)."""
        theta = self.params
        sizes = self.layers
        out, at = [], 0
        for s_in, s_out in zip(sizes[:-1], sizes[1:]):
            n = s_out * (s_in + 1)
            out.append(theta[at:at + n].reshape(s_out, s_in + 1))
            at += n
        return out

    def init_random(self, seed=917):
        """numpy.random.seed(seed), then every weight rand()*0.4 - 0.2:
        bit-identical to the original program's initial weights."""
        lib.model_init_random(self._ptr, _integer(seed, "seed", 0, _UINT32_MAX))
        return self

    @property
    def input_divisor(self):
        """How raw inputs are scaled before the network (x = p / divisor);
        kept in the model file. Default 255."""
        return lib.model_input_divisor(self._ptr)

    @input_divisor.setter
    def input_divisor(self, divisor):
        lib.model_set_input_divisor(self._ptr, float(divisor))

    def copy(self):
        out = c_void_p()
        lib.model_copy(self._ptr, byref(out))
        return Model._wrap(out.value)

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()

    def save(self, path):
        """Write the binary model file atomically."""
        lib.model_save(self._ptr, _fspath(path))

    @classmethod
    def load(cls, path):
        """Read a model file; GALANN_ERR_FORMAT on any defect."""
        out = c_void_p()
        lib.model_load(_fspath(path), byref(out))
        return cls._wrap(out.value)

    def to_bytes(self):
        buf = c_void_p()
        size = c_size_t()
        lib.model_save_buffer(self._ptr, byref(buf), byref(size))
        try:
            return ctypes.string_at(buf.value, size.value)
        finally:
            lib.free(buf)

    @classmethod
    def from_bytes(cls, data):
        data = bytes(data)
        out = c_void_p()
        lib.model_load_buffer(data, len(data), byref(out))
        return cls._wrap(out.value)

    def __reduce__(self):
        return (Model.from_bytes, (self.to_bytes(),))

    def __repr__(self):
        if self.closed:
            return "<galann.Model closed>"
        return f"<galann.Model layers={list(self.layers)} n_params={self.n_params}>"


# ---------------------------------------------------------------- training

@dataclass(frozen=True)
class FitProgress:
    """One accepted optimizer step, as galann_fit_progress reports it."""
    iteration: int
    train_cost: float
    train_accuracy: float
    validation_cost: float      # NaN without a validation set
    validation_accuracy: float  # NaN without a validation set
    gradient_norm: float        # ||grad||_inf
    evaluations: int

    def as_dict(self):
        return {"iteration": self.iteration, "train_cost": self.train_cost,
                "train_accuracy": self.train_accuracy,
                "validation_cost": self.validation_cost,
                "validation_accuracy": self.validation_accuracy,
                "gradient_norm": self.gradient_norm, "evaluations": self.evaluations}


@dataclass(frozen=True)
class FitReport:
    """What galann_fit reports, plus every iteration's progress record.
    cancelled is True when a callback returned a true value."""
    status: int
    stop_reason: int
    stop_reason_text: str
    iterations: int
    evaluations: int
    train_cost: float
    train_accuracy: float
    validation_cost: float
    validation_accuracy: float
    best_iteration: int
    history: tuple

    @property
    def cancelled(self):
        return self.stop_reason == _lib.STOP_CANCELLED


@dataclass(frozen=True)
class CGReport:
    status: int
    stop_reason: int
    stop_reason_text: str
    iterations: int
    evaluations: int
    f: float
    gradient_norm: float
    x: np.ndarray


class _Interrupts:
    """While a long C call runs: a SIGINT handler (main thread only) that
    only raises a flag for the callbacks to see, and the first exception a
    callback raised, kept to re-raise once the C call has returned. Nothing
    raised in Python may unwind through C frames."""

    def __init__(self):
        self.interrupted = False
        self.error = None
        self._previous = None
        self._installed = False

    def _handler(self, signum, frame):
        self.interrupted = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            # SIG_IGN: Ctrl-C is meant to be ignored; None: not set from
            # Python, leave it alone.
            if previous not in (signal.SIG_IGN, None):
                self._previous = previous
                signal.signal(signal.SIGINT, self._handler)
                self._installed = True
        return self

    def __exit__(self, *exc):
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def should_stop(self):
        return self.interrupted or self.error is not None

    def run_callback(self, fn, *args):
        """fn(*args) -> True to stop; catches everything."""
        try:
            return bool(fn(*args))
        except BaseException as e:  # noqa: B902 - must not cross into C
            if self.error is None:
                self.error = e
            return True

    def raise_pending(self):
        if self.error is not None:
            err, self.error = self.error, None
            raise err
        if self.interrupted:
            raise KeyboardInterrupt


def _require(obj, cls, what):
    if not isinstance(obj, cls):
        raise TypeError(f"{what} must be a galann.{cls.__name__}, got {type(obj).__name__}")
    return obj._ptr


@contextlib.contextmanager
def _in_use(*objects):
    """The C pointers of objects, held for the duration of a C call: a
    close() meanwhile is deferred until the call has returned."""
    handles = []
    try:
        for obj in objects:
            h = obj._h
            if h is None:
                raise ValueError(f"{type(obj).__name__} is closed")
            h.acquire(type(obj).__name__)
            handles.append(h)
        yield tuple(h.ptr for h in handles)
    finally:
        for h in handles:
            h.done()


class Context(_Owned):
    """A compute context: one backend instance with its threads and device.

    backend: "reference", "blas", "opencl" or None (GALANN_BACKEND, else
    the best available); threads: worker threads (None = GALANN_THREADS or
    the CPU count); device: OpenCL device index or name substring.

    A C context serves one call at a time; this class serialises its
    calls with a lock, so threads that share a Context take turns (a
    callback inside fit may still use the same Context: the lock is
    reentrant). Give each thread its own Context to run in parallel.
    """

    def __init__(self, backend=None, threads=None, device=None, cache_dir=None, profile=False):
        self._calls = threading.RLock()
        opts = _lib.ContextOptions()
        lib.context_options_init_size(byref(opts), ctypes.sizeof(opts))
        opts.threads = 0 if threads is None else _integer(threads, "threads", _INT_MIN, _INT_MAX)
        opts.profile = 1 if profile else 0
        if device is not None:
            opts.device = str(device).encode()
        if cache_dir is not None:
            opts.cache_dir = os.fsencode(cache_dir)
        out = c_void_p()
        lib.context_new_ex(backend.encode() if backend else None, byref(opts), byref(out))
        self._h = _Handle(out.value, lib.context_free)

    @property
    def backend(self):
        return _lib.decode(lib.context_backend(self._ptr))

    @property
    def threads(self):
        return lib.context_threads(self._ptr)

    @threads.setter
    def threads(self, n):
        n = _integer(n, "threads", _INT_MIN, _INT_MAX)
        with self._calls, _in_use(self) as (c,):
            lib.context_set_threads(c, n)

    def describe(self):
        buf = ctypes.create_string_buffer(1024)
        with self._calls, _in_use(self) as (c,):
            lib.context_describe(c, buf, len(buf))
        return _lib.decode(buf.value)

    def __repr__(self):
        if self.closed:
            return "<galann.Context closed>"
        return f"<galann.Context {self.describe()!r}>"

    # --- computing

    @contextlib.contextmanager
    def _use(self, model, data):
        """Check the argument types, then take this context's turn and hold
        all three handles for a call."""
        _require(model, Model, "model")
        _require(data, Dataset, "data")
        with self._calls, _in_use(self, model, data) as pointers:
            yield pointers

    def cost(self, model, data, lam=1.0):
        """The regularised cross-entropy cost J(theta)."""
        cost = c_double()
        with self._use(model, data) as (c, m, d):
            lib.cost(c, m, d, float(lam), byref(cost))
        return cost.value

    def gradient(self, model, data, lam=1.0):
        """dJ/dtheta as a float64 vector of length model.n_params."""
        grad = np.empty(model.n_params)
        with self._use(model, data) as (c, m, d):
            lib.gradient(c, m, d, float(lam), _dptr(grad), grad.size)
        return grad

    def cost_gradient(self, model, data, lam=1.0):
        """(J, gradient) in one pass."""
        grad = np.empty(model.n_params)
        cost = c_double()
        with self._use(model, data) as (c, m, d):
            lib.cost_gradient(c, m, d, float(lam), byref(cost), _dptr(grad), grad.size)
        return cost.value, grad

    def predict(self, model, data):
        """Predicted class per sample (int32), the first maximum on ties."""
        labels = np.empty(data.n_samples, dtype=np.int32)
        with self._use(model, data) as (c, m, d):
            lib.predict(c, m, d, labels.ctypes.data_as(_P_INT32), labels.size)
        return labels

    def predict_proba(self, model, data):
        """Output activations (sigmoids, not normalised), n_samples x n_labels."""
        proba = np.empty((data.n_samples, model.layers[-1]))
        with self._use(model, data) as (c, m, d):
            lib.predict_proba(c, m, d, _dptr(proba), proba.size)
        return proba

    def accuracy(self, model, data):
        acc = c_double()
        with self._use(model, data) as (c, m, d):
            lib.accuracy(c, m, d, byref(acc))
        return acc.value

    def check_gradient(self, model, data, lam=1.0, h=0.0, max_params=0):
        """Largest relative difference between the gradient and central
        differences (step h, 0 = 1e-5) on up to max_params parameters."""
        err = c_double()
        max_params = _integer(max_params, "max_params", 0, _SIZE_MAX)
        with self._use(model, data) as (c, m, d):
            lib.check_gradient(c, m, d, float(lam), float(h), max_params, byref(err))
        return err.value

    def profile(self):
        """Where this context's time went: a dict of the galann_profile
        fields (evaluations, seconds; device split with profile=True)."""
        p = _lib.Profile()
        p.struct_size = ctypes.sizeof(p)
        with self._calls, _in_use(self) as (c,):
            lib.context_profile(c, byref(p))
        return {name: getattr(p, name) for name, _ in _lib.Profile._fields_ if name != "struct_size"}

    def fit(self, model, train, lam=1.0, maxiter=600, gtol=1e-5, validation=None,
            keep_best=None, callback=None, patience=0):
        """Train model in place from its current weights with the
        fmin_cg-equivalent conjugate gradient.

        validation: a Dataset scored every iteration; keep_best (None = on
        when validation is given) ends the model at the iterate with the
        lowest validation cost. patience: 0 (off) or N: stop once the
        validation cost has not improved for N iterations (needs
        validation; stop reason STOP_NO_IMPROVEMENT, the best iterate
        kept). callback(FitProgress) is called after every
        iteration; a true return stops training (the report then says
        cancelled), an exception stops it and is re-raised here. Ctrl-C
        stops it too and raises KeyboardInterrupt. In every case the model
        keeps the result so far.
        """
        _require(model, Model, "model")
        _require(train, Dataset, "train")
        opts = _lib.FitOptions()
        lib.fit_options_init_size(byref(opts), ctypes.sizeof(opts))
        opts.lambda_ = float(lam)
        opts.max_iterations = _integer(maxiter, "maxiter", 0, _SIZE_MAX)
        opts.gtol = float(gtol)
        if validation is not None:
            _require(validation, Dataset, "validation")
        opts.keep_best = -1 if keep_best is None else int(bool(keep_best))
        opts.patience = _integer(patience, "patience", 0, _SIZE_MAX)
        history = []
        guard = _Interrupts()

        def progress(user, p):
            try:
                p = p.contents
                record = FitProgress(p.iteration, p.train_cost, p.train_accuracy,
                                     p.validation_cost, p.validation_accuracy,
                                     p.gradient_norm, p.evaluations)
                history.append(record)
                if guard.should_stop():
                    return 1
                if callback is not None and guard.run_callback(callback, record):
                    return 1
                return 1 if guard.should_stop() else 0
            except BaseException as e:  # noqa: B902
                if guard.error is None:
                    guard.error = e
                return 1

        cfn = _lib.FIT_PROGRESS_FN(progress)  # referenced until fit returns
        opts.progress = cfn
        report = _lib.FitReportC()
        report.struct_size = ctypes.sizeof(report)
        held = (self, model, train) + ((validation,) if validation is not None else ())
        with self._calls, guard, _in_use(*held) as pointers:
            c, m, d = pointers[:3]
            if validation is not None:
                opts.validation = pointers[3]
            status = lib.fit(c, m, d, byref(opts), byref(report))
            error = lib.error(status, "galann_fit") if status != _lib.OK else None
        del cfn
        guard.raise_pending()
        if status not in (_lib.OK, _lib.ERR_CANCELLED):
            raise error
        return FitReport(status, report.stop_reason,
                         _lib.decode(lib.stop_reason_string(report.stop_reason)),
                         report.iterations, report.evaluations, report.train_cost,
                         report.train_accuracy, report.validation_cost,
                         report.validation_accuracy, report.best_iteration, tuple(history))


def minimize_cg(fun, x0, maxiter=None, gtol=1e-5, c1=1e-4, c2=0.4, callback=None):
    """Minimise any smooth function with libgalann's fmin_cg-equivalent
    conjugate gradient. fun(x) returns (f, gradient); callback(iteration,
    x, f) may return True to stop. Returns a CGReport whose x is the best
    point found. Exceptions in fun/callback and Ctrl-C stop the run and
    are re-raised (KeyboardInterrupt for Ctrl-C)."""
    x = np.array(_real_array(x0, "x0"), dtype=np.float64, copy=True).reshape(-1)
    n = x.size
    guard = _Interrupts()

    def objective(user, xp, nn, f, g):
        try:
            if guard.should_stop():
                return _lib.ERR_CANCELLED
            xv = np.ctypeslib.as_array(xp, shape=(nn,)).copy()
            value, grad = fun(xv)
            grad = np.asarray(_real_array(grad, "the gradient"), dtype=np.float64).reshape(-1)
            if grad.size != nn:
                raise ValueError(f"gradient has {grad.size} elements, expected {nn}")
            f[0] = float(value)
            np.ctypeslib.as_array(g, shape=(nn,))[:] = grad
            return 0
        except BaseException as e:  # noqa: B902
            if guard.error is None:
                guard.error = e
            return _lib.ERR_CANCELLED

    def progress(user, it, xp, nn, f, g, evaluations):
        try:
            if guard.should_stop():
                return 1
            if callback is not None:
                xv = np.ctypeslib.as_array(xp, shape=(nn,)).copy()
                if guard.run_callback(callback, it, xv, f):
                    return 1
            return 1 if guard.should_stop() else 0
        except BaseException as e:  # noqa: B902 - must not cross into C
            if guard.error is None:
                guard.error = e
            return 1

    ofn = _lib.OBJECTIVE_FN(objective)
    pfn = _lib.CG_PROGRESS_FN(progress)
    opts = _lib.CGOptions()
    lib.cg_options_init_size(byref(opts), ctypes.sizeof(opts))
    if maxiter is not None:
        opts.max_iterations = _integer(maxiter, "maxiter", 0, _SIZE_MAX)
    opts.gtol, opts.c1, opts.c2 = float(gtol), float(c1), float(c2)
    opts.progress = pfn
    report = _lib.CGReportC()
    report.struct_size = ctypes.sizeof(report)
    with guard:
        status = lib.minimize_cg(ofn, None, _dptr(x), n, byref(opts), byref(report))
        error = lib.error(status, "galann_minimize_cg") if status != _lib.OK else None
    del ofn, pfn
    guard.raise_pending()
    if status not in (_lib.OK, _lib.ERR_CANCELLED):
        raise error
    return CGReport(status, report.stop_reason,
                    _lib.decode(lib.stop_reason_string(report.stop_reason)),
                    report.iterations, report.evaluations, report.f, report.gradient_norm, x)
