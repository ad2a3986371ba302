"""galann: Python bindings of libgalann, the galaxy-morphology neural
network trained and run fast from C (pure Python over ctypes and numpy).

Low level, one class per C handle: Context, Dataset, Model (with
Context.cost/gradient/predict/fit...). High level: Classifier, a
scikit-learn classifier that does not need scikit-learn. Errors from the
library raise GalannError; a method called before fit raises
NotFittedError (scikit-learn's class when scikit-learn is installed).
"""

from ._lib import GalannError, lib as _clib, decode as _decode
from ._lib import (STOP_CONVERGED, STOP_MAX_ITERATIONS, STOP_PRECISION_LOSS, STOP_NONFINITE,
                   STOP_CANCELLED, STOP_ERROR, STOP_NO_IMPROVEMENT)
from ._core import (Context, Dataset, Model, FitProgress, FitReport, CGReport, minimize_cg,
                    backends, backend_available, backend_devices)
from ._estimator import Classifier
from . import _compat

#: Version of the loaded C library ("1.0.0").
__version__ = _decode(_clib.version())
#: Path of the loaded C library.
library_path = _clib.path


def version_number():
    """The loaded library's major*10000 + minor*100 + patch."""
    return _clib.version_number()


def __getattr__(name):
    # NotFittedError and DataConversionWarning are scikit-learn's own
    # classes when it is installed: looked up on first use, so that
    # importing galann never imports scikit-learn.
    if name in ("NotFittedError", "DataConversionWarning"):
        return _compat.sklearn_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Context", "Dataset", "Model", "Classifier", "GalannError", "FitProgress",
           "FitReport", "CGReport", "minimize_cg", "backends", "backend_available",
           "backend_devices", "version_number", "library_path", "__version__",
           "STOP_CONVERGED", "STOP_MAX_ITERATIONS", "STOP_PRECISION_LOSS", "STOP_NONFINITE",
           "STOP_CANCELLED", "STOP_ERROR", "STOP_NO_IMPROVEMENT", "NotFittedError",
           "DataConversionWarning"]
