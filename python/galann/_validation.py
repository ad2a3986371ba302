"""Checking what a user hands the estimator, in scikit-learn's words.

Classifier's inputs are validated here the way scikit-learn's check_array,
check_X_y, column_or_1d and check_classification_targets validate them,
with the same exception types and message texts (tools and users match
on them), but without importing scikit-learn. This module only checks
and converts; it keeps no state and knows nothing of the network.
"""

import sys
import warnings

import numpy as np

from . import _compat

_RESHAPE_HINT = ("Reshape your data either using array.reshape(-1, 1) if your data has a "
                 "single feature or array.reshape(1, -1) if it contains a single sample.")


def _is_sparse(X):
    # A scipy sparse matrix cannot exist unless scipy.sparse was imported:
    # looking it up in sys.modules avoids importing scipy for dense input.
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(X)


def _require_finite(a, what):
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        if np.isnan(a).any():
            raise ValueError(f"Input {what} contains NaN.")
        raise ValueError(f"Input {what} contains infinity or a value too large for "
                         f"dtype('float64').")


def feature_names(X):
    """The column names of a DataFrame-like X when all are strings, else
    None; TypeError for a mix of string and other names."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = np.asarray(columns, dtype=object)
    if names.size == 0:
        return None
    types = sorted({type(v).__qualname__ for v in names})
    if len(types) > 1 and "str" in types:
        raise TypeError(
            "Feature names are only supported if all input features have string names, "
            f"but your input has {types} as feature name / column name types. If you want "
            "feature names to be stored and validated, you must convert them all to strings, "
            "by using X.columns = X.columns.astype(str) for example. Otherwise you can "
            "remove feature / column names from your input data, or convert them all to a "
            "non-string data type.")
    return names if types == ["str"] else None


def features(X, who):
    """X as a C-contiguous float64 (n_samples, n_features) array with at
    least one sample and one feature, every value finite; uint8 X stays
    uint8 (pixels, never upcast: Dataset divides them by 255). who: the
    estimator's class name, for the messages."""
    if _is_sparse(X):
        raise TypeError("Sparse data was passed for X, but dense data is required. Use "
                        "'.toarray()' to convert to a dense numpy array.")
    a = np.asarray(X)
    if a.dtype.kind == "c":
        raise ValueError(f"Complex data not supported\n{a}\n")
    if a.dtype.kind in "USV":
        raise ValueError("dtype='numeric' is not compatible with arrays of bytes/strings. "
                         "Convert your data to numeric values explicitly instead.")
    if a.ndim == 0:
        raise ValueError(f"Expected 2D array, got scalar array instead:\narray={a}.\n"
                         f"{_RESHAPE_HINT}")
    if a.ndim == 1:
        raise ValueError(f"Expected 2D array, got 1D array instead:\narray={a}.\n"
                         f"{_RESHAPE_HINT}")
    if a.ndim > 2:
        raise ValueError(f"Found array with dim {a.ndim}. {who} expected <= 2.")
    a = np.ascontiguousarray(a, dtype=np.uint8 if a.dtype == np.uint8 else np.float64)
    _require_finite(a, "X")
    if a.shape[0] < 1:
        raise ValueError(f"Found array with {a.shape[0]} sample(s) (shape={a.shape}) while a "
                         f"minimum of 1 is required by {who}.")
    if a.shape[1] < 1:
        raise ValueError(f"Found array with {a.shape[1]} feature(s) (shape={a.shape}) while a "
                         f"minimum of 1 is required by {who}.")
    return a


def check_fitted_features(X, n_features_in, names_in, who):
    """X for a fitted estimator: features(X) with the number of features
    it was fitted with, and its feature names compared as scikit-learn
    compares them (a warning when only one side has names, ValueError when
    they differ)."""
    names = feature_names(X)
    if names is not None and names_in is None:
        warnings.warn(f"X has feature names, but {who} was fitted without feature names",
                      UserWarning, stacklevel=3)
    elif names is None and names_in is not None:
        warnings.warn(f"X does not have valid feature names, but {who} was fitted with "
                      "feature names", UserWarning, stacklevel=3)
    elif names is not None and (len(names) != len(names_in) or np.any(names != names_in)):
        raise ValueError(_feature_names_mismatch(names_in, names))
    a = features(X, who)
    if a.shape[1] != n_features_in:
        raise ValueError(f"X has {a.shape[1]} features, but {who} is expecting "
                         f"{n_features_in} features as input.")
    return a


def _feature_names_mismatch(fitted, given):
    def listing(names):
        shown = [f"- {n}\n" for n in names[:5]]
        return "".join(shown) + ("- ...\n" if len(names) > 5 else "")

    unseen = sorted(set(given) - set(fitted))
    missing = sorted(set(fitted) - set(given))
    message = "The feature names should match those that were passed during fit.\n"
    if unseen:
        message += "Feature names unseen at fit time:\n" + listing(unseen)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + listing(missing)
    if not unseen and not missing:
        message += "Feature names must be in the same order as they were in fit.\n"
    return message


def labels(y, who):
    """y as a 1-D array of class labels: a column vector is flattened with
    scikit-learn's DataConversionWarning; continuous, missing or
    unorderable labels are refused with ValueError."""
    if y is None:
        raise ValueError(f"{who} requires y to be passed, but the target y is None.")
    if _is_sparse(y):
        raise TypeError("Sparse data was passed for y, but dense data is required. Use "
                        "'.toarray()' to convert to a dense numpy array.")
    a = np.asarray(y)
    if a.ndim == 2 and a.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                      "change the shape of y to (n_samples, ), for example using ravel().",
                      _compat.sklearn_class("DataConversionWarning"), stacklevel=3)
        a = a.reshape(-1)
    if a.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {a.shape} instead.")
    if a.dtype.kind == "c":
        raise ValueError(f"Complex data not supported\n{a}\n")
    if a.dtype.kind == "f":
        _require_finite(a, "y")
        if np.any(a != np.floor(a)):
            raise ValueError(_unknown_label_type("continuous"))
    elif a.dtype.kind == "O":
        _check_object_labels(a)
    return a


def _unknown_label_type(kind):
    return (f"Unknown label type: {kind}. Maybe you are trying to fit a classifier, which "
            "expects discrete classes on a regression target with continuous values.")


def _check_object_labels(a):
    is_str = [isinstance(v, str) for v in a]
    if any(is_str) and not all(is_str):
        raise ValueError("Mix of label input types (string and number)")
    floats = np.array([float(v) for v in a if isinstance(v, (float, np.floating))])
    _require_finite(floats, "y")
    if np.any(floats != np.floor(floats)):
        raise ValueError(_unknown_label_type("continuous"))


def same_length(*arrays):
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                         f"{lengths}")
