"""Loading libgalann, and declaring the C functions used.

This module is the only place that knows the C signatures; it holds no
policy about errors beyond turning a nonzero status into a GalannError.
Where the library is looked for is _locate.py's job: $GALANN_LIBRARY,
then a bundled copy or a source checkout's build/lib, then pkg-config's
libdir, then the dynamic loader's search.

The loaded library must have the same major version as this package was
written for and be at least the version whose API it uses.
"""

import ctypes

from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_double, c_int, c_size_t,
                    c_uint32, c_void_p, c_int32)

from . import _locate

# The C API this binding was written against: galann.h 1.0.0.
API_MAJOR = 1
API_MIN_NUMBER = 10000  # major*10000 + minor*100 + patch

# galann_status, as galann.h numbers them.
OK = 0
ERR_INVALID = 1
ERR_NOMEM = 2
ERR_IO = 3
ERR_PARSE = 4
ERR_DIMENSION = 5
ERR_UNAVAILABLE = 6
ERR_NONFINITE = 7
ERR_FORMAT = 8
ERR_BACKEND = 9
ERR_CANCELLED = 10
ERR_BUSY = 11

STATUS_NAMES = {
    OK: "GALANN_OK", ERR_INVALID: "GALANN_ERR_INVALID", ERR_NOMEM: "GALANN_ERR_NOMEM",
    ERR_IO: "GALANN_ERR_IO", ERR_PARSE: "GALANN_ERR_PARSE",
    ERR_DIMENSION: "GALANN_ERR_DIMENSION", ERR_UNAVAILABLE: "GALANN_ERR_UNAVAILABLE",
    ERR_NONFINITE: "GALANN_ERR_NONFINITE", ERR_FORMAT: "GALANN_ERR_FORMAT",
    ERR_BACKEND: "GALANN_ERR_BACKEND", ERR_CANCELLED: "GALANN_ERR_CANCELLED",
    ERR_BUSY: "GALANN_ERR_BUSY",
}

# galann_stop_reason
STOP_CONVERGED = 0
STOP_MAX_ITERATIONS = 1
STOP_PRECISION_LOSS = 2
STOP_NONFINITE = 3
STOP_CANCELLED = 4
STOP_ERROR = 5
STOP_NO_IMPROVEMENT = 6


class GalannError(RuntimeError):
    """A libgalann call failed.

    ``status``: the galann_status code (int); ``name``: its symbol
    ("GALANN_ERR_PARSE"); ``strerror``: galann_strerror()'s fixed text
    ("parse error"); ``message``: galann_last_error()'s detailed message
    of the failed call ("train.csv:4: expected 1025 fields, found 1001");
    ``function``: the C function that failed, when known.
    """

    def __init__(self, status, message, strerror=None, function=None):
        self.status = int(status)
        self.message = message
        self.name = STATUS_NAMES.get(self.status, f"status {self.status}")
        self.strerror = strerror if strerror is not None else self.name
        self.function = function
        super().__init__(self.status, message)

    def __str__(self):
        text = self.message or self.strerror
        # most messages already start with the function's name
        named = self.function and not text.startswith(f"{self.function}:")
        where = f"{self.function}: " if named else ""
        return f"{where}{text} ({self.name}: {self.strerror})"


# --- C structures (galann.h); each option/report struct starts with its size.

class ContextOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("threads", c_int),
                ("device", c_char_p), ("cache_dir", c_char_p), ("profile", c_int)]


class NpyOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("divisor", c_double), ("labelled", c_int), ("map", c_int)]


class Profile(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("evaluations", ctypes.c_uint64), ("seconds", c_double),
                ("upload_seconds", c_double), ("kernel_seconds", c_double), ("download_seconds", c_double),
                ("dataset_uploads", ctypes.c_uint64), ("dataset_upload_seconds", c_double)]


class FitProgressC(ctypes.Structure):
    _fields_ = [("iteration", c_size_t), ("train_cost", c_double),
                ("train_accuracy", c_double), ("validation_cost", c_double),
                ("validation_accuracy", c_double), ("gradient_norm", c_double),
                ("evaluations", c_size_t), ("test_cost", c_double), ("test_accuracy", c_double)]


FIT_PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, POINTER(FitProgressC))


class FitOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("lambda_", c_double),
                ("max_iterations", c_size_t), ("gtol", c_double),
                ("validation", c_void_p), ("keep_best", c_int),
                ("progress", FIT_PROGRESS_FN), ("progress_user", c_void_p),
                ("patience", c_size_t), ("test", c_void_p)]


class FitReportC(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("stop_reason", c_int),
                ("iterations", c_size_t), ("evaluations", c_size_t),
                ("train_cost", c_double), ("train_accuracy", c_double),
                ("validation_cost", c_double), ("validation_accuracy", c_double),
                ("best_iteration", c_size_t), ("test_cost", c_double),
                ("test_accuracy", c_double)]


OBJECTIVE_FN = CFUNCTYPE(c_int, c_void_p, POINTER(c_double), c_size_t,
                         POINTER(c_double), POINTER(c_double))
CG_PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_size_t, POINTER(c_double), c_size_t,
                           c_double, POINTER(c_double), c_size_t)


class CGOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("max_iterations", c_size_t),
                ("gtol", c_double), ("c1", c_double), ("c2", c_double),
                ("progress", CG_PROGRESS_FN), ("progress_user", c_void_p)]


class CGReportC(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("stop_reason", c_int),
                ("iterations", c_size_t), ("evaluations", c_size_t),
                ("f", c_double), ("gradient_norm", c_double)]


_P_DOUBLE = POINTER(c_double)
_P_INT32 = POINTER(c_int32)
_P_SIZE = POINTER(c_size_t)
_PP = POINTER(c_void_p)

# name: (restype, argtypes, returns a status). Handles travel as c_void_p.
_SIGNATURES = {
    "galann_version": (c_char_p, [], False),
    "galann_version_number": (c_int, [], False),
    "galann_strerror": (c_char_p, [c_int], False),
    "galann_last_error": (c_char_p, [], False),
    "galann_free": (None, [c_void_p], False),
    # context
    "galann_context_options_init_size": (None, [POINTER(ContextOptions), c_size_t], False),
    "galann_context_new": (c_int, [c_char_p, _PP], True),
    "galann_context_new_ex": (c_int, [c_char_p, POINTER(ContextOptions), _PP], True),
    "galann_context_free": (None, [c_void_p], False),
    "galann_context_backend": (c_char_p, [c_void_p], False),
    "galann_context_set_threads": (c_int, [c_void_p, c_int], True),
    "galann_context_threads": (c_int, [c_void_p], False),
    "galann_context_describe": (c_int, [c_void_p, c_char_p, c_size_t], True),
    "galann_context_profile": (c_int, [c_void_p, POINTER(Profile)], True),
    "galann_backend_count": (c_size_t, [], False),
    "galann_backend_name": (c_char_p, [c_size_t], False),
    "galann_backend_available": (c_int, [c_char_p], False),
    "galann_backend_devices": (c_int, [c_char_p, c_char_p, c_size_t], True),
    # dataset
    "galann_dataset_load_csv": (c_int, [c_char_p, _PP], True),
    "galann_dataset_parse_csv": (c_int, [c_char_p, c_size_t, c_char_p, c_double, _PP], True),
    "galann_dataset_new": (c_int, [_P_DOUBLE, _P_INT32, c_size_t, c_size_t, c_size_t, _PP], True),
    "galann_dataset_new_f32": (c_int, [POINTER(ctypes.c_float), _P_INT32, c_size_t, c_size_t, c_size_t, _PP],
                               True),
    "galann_dataset_new_u8": (c_int, [POINTER(ctypes.c_uint8), _P_INT32, c_size_t, c_size_t, c_size_t, c_double,
                                      _PP], True),
    "galann_npy_options_init_size": (None, [POINTER(NpyOptions), c_size_t], False),
    "galann_dataset_load_npy_with": (c_int, [c_char_p, c_char_p, POINTER(NpyOptions), _PP], True),
    "galann_dataset_save_npy": (c_int, [c_void_p, c_char_p, c_char_p], True),
    "galann_dataset_storage": (c_int, [c_void_p], False),
    "galann_dataset_divisor": (c_double, [c_void_p], False),
    "galann_dataset_stored_features": (c_void_p, [c_void_p], False),
    "galann_dataset_free": (None, [c_void_p], False),
    "galann_dataset_synthesize": (c_int, [c_size_t, c_uint32, _PP], True),
    "galann_dataset_save_csv": (c_int, [c_void_p, c_char_p, c_double], True),
    "galann_dataset_split": (c_int, [c_void_p, c_double, c_uint32, _PP, _PP], True),
    "galann_dataset_n_samples": (c_size_t, [c_void_p], False),
    "galann_dataset_n_features": (c_size_t, [c_void_p], False),
    "galann_dataset_n_labels": (c_size_t, [c_void_p], False),
    "galann_dataset_features": (c_void_p, [c_void_p], False),
    "galann_dataset_labels": (c_void_p, [c_void_p], False),
    # model
    "galann_model_new": (c_int, [_P_SIZE, c_size_t, _PP], True),
    "galann_model_copy": (c_int, [c_void_p, _PP], True),
    "galann_model_free": (None, [c_void_p], False),
    "galann_model_n_params": (c_size_t, [c_void_p], False),
    "galann_model_n_layers": (c_size_t, [c_void_p], False),
    "galann_model_layer_size": (c_size_t, [c_void_p, c_size_t], False),
    "galann_model_set_params": (c_int, [c_void_p, _P_DOUBLE, c_size_t], True),
    "galann_model_get_params": (c_int, [c_void_p, _P_DOUBLE, c_size_t], True),
    "galann_model_init_random": (c_int, [c_void_p, c_uint32], True),
    "galann_model_input_divisor": (c_double, [c_void_p], False),
    "galann_model_set_input_divisor": (c_int, [c_void_p, c_double], True),
    "galann_model_save": (c_int, [c_void_p, c_char_p], True),
    "galann_model_load": (c_int, [c_char_p, _PP], True),
    "galann_model_save_buffer": (c_int, [c_void_p, _PP, _P_SIZE], True),
    "galann_model_load_buffer": (c_int, [c_char_p, c_size_t, _PP], True),
    # computing
    "galann_cost": (c_int, [c_void_p, c_void_p, c_void_p, c_double, _P_DOUBLE], True),
    "galann_gradient": (c_int, [c_void_p, c_void_p, c_void_p, c_double, _P_DOUBLE, c_size_t], True),
    "galann_cost_gradient": (c_int, [c_void_p, c_void_p, c_void_p, c_double, _P_DOUBLE,
                                     _P_DOUBLE, c_size_t], True),
    "galann_predict": (c_int, [c_void_p, c_void_p, c_void_p, _P_INT32, c_size_t], True),
    "galann_predict_proba": (c_int, [c_void_p, c_void_p, c_void_p, _P_DOUBLE, c_size_t], True),
    "galann_accuracy": (c_int, [c_void_p, c_void_p, c_void_p, _P_DOUBLE], True),
    "galann_check_gradient": (c_int, [c_void_p, c_void_p, c_void_p, c_double, c_double,
                                      c_size_t, _P_DOUBLE], True),
    # optimizer and training: their statuses are interpreted by the caller
    # (GALANN_ERR_CANCELLED is an expected outcome there).
    "galann_stop_reason_string": (c_char_p, [c_int], False),
    "galann_cg_options_init_size": (None, [POINTER(CGOptions), c_size_t], False),
    "galann_minimize_cg": (c_int, [OBJECTIVE_FN, c_void_p, _P_DOUBLE, c_size_t,
                                   POINTER(CGOptions), POINTER(CGReportC)], False),
    "galann_fit_options_init_size": (None, [POINTER(FitOptions), c_size_t], False),
    "galann_fit": (c_int, [c_void_p, c_void_p, c_void_p, POINTER(FitOptions),
                           POINTER(FitReportC)], False),
}


def _decode(b):
    return b.decode("utf-8", "replace") if b is not None else ""


class _Lib:
    """The loaded library with typed functions as attributes."""

    def __init__(self, cdll, path):
        self.cdll = cdll
        self.path = path
        for name, (restype, argtypes, is_status) in _SIGNATURES.items():
            fn = getattr(cdll, name)
            fn.restype = restype
            fn.argtypes = argtypes
            if is_status:
                fn.errcheck = self._check
            setattr(self, name[len("galann_"):], fn)

    def error(self, status, function=None):
        """The GalannError for status, with this thread's last message.
        Call it right after the failing call: the next call may reset it."""
        message = _decode(self.cdll.galann_last_error())
        name = _decode(self.cdll.galann_strerror(status))
        return GalannError(status, message, name, function)

    def _check(self, result, func, args):
        if result != OK:
            raise self.error(result, func.__name__)
        return result


def _load():
    tried = []
    for source, path in _locate.search_order():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            if source == "GALANN_LIBRARY":
                raise ImportError(f"GALANN_LIBRARY={path!r} does not load: {e}") from e
            tried.append(f"{source} {path}: {e}")
    raise ImportError("libgalann not found: set GALANN_LIBRARY to the path of libgalann.so, "
                      "build the source tree (meson setup build && ninja -C build), or "
                      "install the library where pkg-config or the dynamic loader finds it "
                      f"(tried: {'; '.join(tried)})")


def _open():
    cdll, path = _load()
    try:
        number = cdll.galann_version_number
    except AttributeError as e:
        raise ImportError(f"{path} is not libgalann (no galann_version_number)") from e
    number.restype = c_int
    number.argtypes = []
    v = number()
    if v // 10000 != API_MAJOR or v < API_MIN_NUMBER:
        raise ImportError(f"{path} is libgalann {v // 10000}.{v // 100 % 100}.{v % 100}; "
                          f"this package needs {API_MAJOR}.x >= "
                          f"{API_MIN_NUMBER // 10000}.{API_MIN_NUMBER // 100 % 100}."
                          f"{API_MIN_NUMBER % 100}")
    return _Lib(cdll, path)


lib = _open()
decode = _decode
