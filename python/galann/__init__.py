"""galann: Python bindings of libgalann, the galaxy-morphology neural
network trained and run fast from C (pure Python over ctypes and numpy).

Low level, one class per C handle: Context, Dataset, Model (with
Context.cost/gradient/predict/fit...). High level: Classifier, in the
scikit-learn style. Errors from the library raise GalannError.
"""

from ._lib import GalannError, lib as _clib, decode as _decode
from ._lib import (STOP_CONVERGED, STOP_MAX_ITERATIONS, STOP_PRECISION_LOSS, STOP_NONFINITE,
                   STOP_CANCELLED, STOP_ERROR)
from ._core import (Context, Dataset, Model, FitProgress, FitReport, CGReport, minimize_cg,
                    backends, backend_available, backend_devices)
from ._estimator import Classifier

#: Version of the loaded C library ("0.1.0").
__version__ = _decode(_clib.version())
#: Path of the loaded C library.
library_path = _clib.path


def version_number():
    """The loaded library's major*10000 + minor*100 + patch."""
    return _clib.version_number()


__all__ = ["Context", "Dataset", "Model", "Classifier", "GalannError", "FitProgress",
           "FitReport", "CGReport", "minimize_cg", "backends", "backend_available",
           "backend_devices", "version_number", "library_path", "__version__",
           "STOP_CONVERGED", "STOP_MAX_ITERATIONS", "STOP_PRECISION_LOSS", "STOP_NONFINITE",
           "STOP_CANCELLED", "STOP_ERROR"]
