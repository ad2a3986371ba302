"""What scikit-learn needs to recognise Classifier, without importing it.

scikit-learn is optional: galann never imports it at import time nor
while fitting or predicting. This module holds the three places where
the two meet:

- the exception and warning classes scikit-learn's users catch
  (NotFittedError, DataConversionWarning): scikit-learn's own classes when
  it can be imported, looked up the first time one is needed, else
  galann's classes with the same bases, so that `except` clauses written
  for either library work;
- the estimator tags in both of scikit-learn's conventions: the
  _more_tags() dict that scikit-learn before 1.6 merges into its defaults,
  and the Tags object that 1.6 and later get from __sklearn_tags__()
  (built only when scikit-learn calls it, so it is importable then).
"""


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before fit()
    (scikit-learn's NotFittedError when scikit-learn is installed)."""


class DataConversionWarning(UserWarning):
    """Input was converted from the shape or type given (scikit-learn's
    DataConversionWarning when scikit-learn is installed)."""


_OWN = {"NotFittedError": NotFittedError, "DataConversionWarning": DataConversionWarning}
_resolved = {}


def sklearn_class(name):
    """sklearn.exceptions.<name> if scikit-learn imports, else galann's
    class of that name; decided once per process."""
    cls = _resolved.get(name)
    if cls is None:
        try:
            import sklearn.exceptions as exceptions
            cls = getattr(exceptions, name)
        except ImportError:
            cls = _OWN[name]
        _resolved[name] = cls
    return cls


# scikit-learn < 1.6: merged over its _DEFAULT_TAGS by _safe_tags().
MORE_TAGS = {
    "requires_y": True,      # fit(X) without labels is an error
    "X_types": ["2darray"],  # dense 2-D input only, no sparse matrices
    "allow_nan": False,      # NaN and infinity are refused (ValueError)
    "multioutput": False,
    "binary_only": False,
    "non_deterministic": False,  # the same data and seed give the same bits
    "requires_fit": True,
    "poor_score": False,
}


def sklearn_tags():
    """scikit-learn >= 1.6's Tags for a deterministic, dense-input,
    single-output multiclass classifier."""
    from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

    return Tags(estimator_type="classifier",
                target_tags=TargetTags(required=True),
                classifier_tags=ClassifierTags(multi_class=True, multi_label=False,
                                               poor_score=False),
                input_tags=InputTags(two_d_array=True, sparse=False, allow_nan=False),
                non_deterministic=False, requires_fit=True)
