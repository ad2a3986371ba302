"""Classifier: the galaxy network as a scikit-learn classifier.

scikit-learn is not needed and not imported: the conventions are kept by
hand, so that scikit-learn (1.2 and later) recognises the estimator as a
classifier and its check_estimator passes. Constructor arguments are
stored unchanged and validated in fit(); get_params()/set_params() read
and write them; fitted state ends in an underscore; fit() returns self;
inputs are checked in scikit-learn's words (_validation.py); the tags and
the shared exception classes live in _compat.py. Training is exactly
galann_fit: the same settings give the same weights and predictions as
the C API and the galann program.
"""

import inspect
import math
import numbers

import numpy as np

from . import _compat, _validation
from ._core import Context, Dataset, Model
from ._lib import ERR_INVALID, GalannError


def _same(a, b):
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):  # arrays and other values without a truth value
        return a is b


def _bad_parameter(name, value, expected):
    return ValueError(f"The '{name}' parameter of Classifier must be {expected}. "
                      f"Got {value!r} instead.")


def _int_in(name, value, low, high=None, or_none=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low or \
            (high is not None and value > high):
        upper = "inf)" if high is None else f"{high}]"
        raise _bad_parameter(name, value, f"an int in the range [{low}, {upper}" +
                             (" or None" if or_none else ""))
    return int(value)


class Classifier:
    """Fully connected sigmoid network trained with the original program's
    cost and fmin_cg-equivalent conjugate gradient.

    hidden: size of the hidden layer, or a sequence of sizes for several;
    lam: regularisation lambda; maxiter: optimizer iterations; seed: the
    numpy legacy seed of the initial weights, and of the validation split;
    backend/threads: the compute context (None = the library's defaults);
    validation_fraction: None, or a float in (0, 1): that share of each
    class's training samples (galann_dataset_split, drawn with seed: the
    split of `galann train --validation-fraction F --seed S`) is held out
    and scored every iteration, and the model ends at the iterate with the
    lowest cost on it; n_iter_no_change: None, or N: stop once that
    validation cost has not improved for N iterations (galann_fit's
    patience; needs a validation set).

    fit(X, y) takes X of shape (n_samples, n_features) (the galaxy images
    scaled to [0, 1], pixels / 255, or uint8 pixels 0..255, which are
    passed on as they are, one byte per value, and read as p / 255: the
    same numbers, bit for bit) and labels of any sortable kind:
    strings, integers, booleans. classes_ are the distinct labels in sorted
    order; predict() returns them, predict_proba() has one column per
    class in that order. fit(X, y, X_val, y_val) scores a given validation
    set instead, as the original program keeps its best test iterate.

    Fitted attributes: model_ (galann.Model), theta_ (flat weights),
    coefs_/intercepts_ (per layer, scikit-learn's MLP layout: coefs_[i] is
    (s_i, s_{i+1})), layers_, classes_, n_features_in_, feature_names_in_
    (when X had string column names), n_iter_, history_ (one dict per
    iteration), best_iteration_, stop_reason_, fit_report_.
    """

    _estimator_type = "classifier"

    def __init__(self, hidden=8, lam=1.0, maxiter=600, seed=917, backend=None, threads=None,
                 validation_fraction=None, n_iter_no_change=None):
        self.hidden = hidden
        self.lam = lam
        self.maxiter = maxiter
        self.seed = seed
        self.backend = backend
        self.threads = threads
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change

    # --- scikit-learn's estimator protocol

    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values()
                      if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep=True):
        """The constructor arguments as a dict (deep is accepted for
        compatibility: there are no nested estimators)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor arguments; unknown names raise ValueError.
        Returns self. Takes effect at the next fit()."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {self!r}. "
                                 f"Valid parameters are: {valid!r}.")
            setattr(self, name, value)
            if name in ("backend", "threads"):
                self._drop_context()
        return self

    def __repr__(self):
        defaults = {p.name: p.default for p in
                    inspect.signature(type(self).__init__).parameters.values()}
        args = [f"{k}={v!r}" for k, v in self.get_params().items()
                if not _same(v, defaults.get(k))]
        return f"{type(self).__name__}({', '.join(args)})"

    def _more_tags(self):
        return dict(_compat.MORE_TAGS)

    def __sklearn_tags__(self):
        return _compat.sklearn_tags()

    def __sklearn_is_fitted__(self):
        return "model_" in self.__dict__

    # --- state

    def _context(self):
        ctx = getattr(self, "_ctx", None)
        if ctx is None or ctx.closed:
            ctx = Context(backend=self.backend, threads=self.threads)
            self._ctx = ctx
        return ctx

    def _drop_context(self):
        ctx = self.__dict__.pop("_ctx", None)
        if ctx is not None:
            ctx.close()

    def __getstate__(self):
        state = {k: v for k, v in self.__dict__.items() if k != "_ctx"}
        if "model_" in state:
            state["model_"] = state["model_"].to_bytes()
        return state

    def __setstate__(self, state):
        state = dict(state)
        if isinstance(state.get("model_"), (bytes, bytearray)):
            state["model_"] = Model.from_bytes(state["model_"])
        self.__dict__.update(state)

    def _check_fitted(self):
        if not self.__sklearn_is_fitted__():
            raise _compat.sklearn_class("NotFittedError")(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator.")

    # --- parameters, checked when fit() uses them

    def _hidden_sizes(self):
        h = self.hidden
        sizes = [h] if isinstance(h, numbers.Integral) else h
        try:
            sizes = [_int_in("hidden", s, 1) for s in sizes]
        except (TypeError, ValueError):
            sizes = []
        if not sizes:
            raise _bad_parameter("hidden", h, "an int in the range [1, inf) or a non-empty "
                                 "sequence of them")
        return sizes

    def _checked_parameters(self):
        try:
            lam = float(self.lam)
        except (TypeError, ValueError):
            lam = math.nan
        if isinstance(self.lam, bool) or not (math.isfinite(lam) and lam >= 0):
            raise _bad_parameter("lam", self.lam, "a float in the range [0.0, inf)")
        f = self.validation_fraction
        if f is not None and (isinstance(f, bool) or not isinstance(f, numbers.Real) or
                              not 0 < f < 1):
            raise _bad_parameter("validation_fraction", f,
                                 "a float in the range (0.0, 1.0) or None")
        if self.backend is not None and not isinstance(self.backend, str):
            raise _bad_parameter("backend", self.backend, "a str or None")
        if self.threads is not None:
            _int_in("threads", self.threads, 0, or_none=True)
        patience = 0
        if self.n_iter_no_change is not None:
            patience = _int_in("n_iter_no_change", self.n_iter_no_change, 1, or_none=True)
        return (self._hidden_sizes(), lam, _int_in("maxiter", self.maxiter, 1),
                _int_in("seed", self.seed, 0, 2 ** 32 - 1), patience)

    # --- training

    def fit(self, X, y, X_val=None, y_val=None):
        """Train from the seeded initial weights; returns self.

        With X_val and y_val (or validation_fraction) the validation set
        is scored every iteration and the iterate with the lowest
        validation cost is kept."""
        who = type(self).__name__
        hidden, lam, maxiter, seed, patience = self._checked_parameters()
        names = _validation.feature_names(X)
        X = _validation.features(X, who)
        y = _validation.labels(y, who)
        _validation.same_length(X, y)
        if (X_val is None) != (y_val is None):
            raise ValueError("give both X_val and y_val, or neither")
        if X_val is not None and self.validation_fraction is not None:
            raise ValueError("validation_fraction and X_val/y_val both ask for a validation "
                             "set: give one of them")
        if X_val is not None:
            X_val = _validation.features(X_val, who)
            if X_val.shape[1] != X.shape[1]:
                raise ValueError(f"X_val has {X_val.shape[1]} features, but X has "
                                 f"{X.shape[1]}")
            y_val = _validation.labels(y_val, who)
            _validation.same_length(X_val, y_val)

        if patience and X_val is None and self.validation_fraction is None:
            raise ValueError("n_iter_no_change stops on the validation cost: set "
                             "validation_fraction or pass X_val, y_val")

        classes = _classes(y if y_val is None else np.concatenate([y, y_val]))
        layers = [X.shape[1]] + hidden + [len(classes)]
        train_set, val_set = self._datasets(X, y, X_val, y_val, classes, seed)
        try:
            model = Model(layers).init_random(seed)
            report = self._context().fit(model, train_set, lam=lam, maxiter=maxiter,
                                         validation=val_set, patience=patience)
        finally:
            train_set.close()
            if val_set is not None:
                val_set.close()
        self._keep(model, report, classes, names)
        return self

    def _datasets(self, X, y, X_val, y_val, classes, seed):
        """(training, validation or None) Datasets of the labels' positions
        in classes: the given validation set, or the split that
        validation_fraction asks for."""
        train = Dataset(X, np.searchsorted(classes, y), len(classes))
        if X_val is not None:
            return train, Dataset(X_val, np.searchsorted(classes, y_val), len(classes))
        if self.validation_fraction is None:
            return train, None
        with train:
            try:
                return train.split(self.validation_fraction, seed)
            except GalannError as e:
                if e.status != ERR_INVALID:
                    raise
                raise ValueError(f"validation_fraction={self.validation_fraction} holds out no "
                                 f"sample of n_samples={X.shape[0]}: a class gives one when it "
                                 f"has two or more ({e.message})") from None

    def _keep(self, model, report, classes, names):
        old = self.__dict__.get("model_")
        self.model_ = model
        if old is not None:
            old.close()
        self.layers_ = tuple(model.layers)
        self.classes_ = classes
        self.n_features_in_ = self.layers_[0]
        if names is not None:
            self.feature_names_in_ = names
        else:
            self.__dict__.pop("feature_names_in_", None)
        self.theta_ = model.params
        thetas = model.weights()
        self.coefs_ = [t[:, 1:].T.copy() for t in thetas]
        self.intercepts_ = [t[:, 0].copy() for t in thetas]
        self.n_iter_ = report.iterations
        self.history_ = [p.as_dict() for p in report.history]
        self.best_iteration_ = report.best_iteration
        self.stop_reason_ = report.stop_reason_text
        self.fit_report_ = report

    # --- prediction

    def _dataset(self, X):
        """X checked against the fitted estimator (fitted, same number of
        features, same feature names), as a Dataset with dummy labels."""
        self._check_fitted()
        X = _validation.check_fitted_features(X, self.n_features_in_,
                                              getattr(self, "feature_names_in_", None),
                                              type(self).__name__)
        return Dataset(X, np.zeros(X.shape[0], dtype=np.int32), len(self.classes_))

    def _outputs(self, X):
        """The network's output activations (independent sigmoids) for a
        checked X, shape (n_samples, n_classes)."""
        with self._dataset(X) as d:
            return self._context().predict_proba(self.model_, d)

    def decision_function(self, X):
        """Scores whose largest entry is the predicted class. With three
        classes or more: the output activations, (n_samples, n_classes).
        With two: log(a1 / a0) of the two activations (= log(p1 / p0) of
        predict_proba), shape (n_samples,), > 0 exactly where classes_[1]
        is predicted."""
        a = self._outputs(X)
        if a.shape[1] != 2:
            return a
        a0, a1 = a[:, 0], a[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.log(a1) - np.log(a0)
        # both outputs 0: the tie predict() breaks towards classes_[0]
        score[(a0 == 0) & (a1 == 0)] = 0.0
        # logs of two tiny, distinct activations may round to the same value
        score[(a1 > a0) & ~(score > 0)] = np.finfo(np.float64).tiny
        return score

    def predict_proba(self, X):
        """Class probabilities, columns in classes_ order: the output
        sigmoids normalised to sum to 1 per sample (the network has no
        softmax; argmax is unchanged). A sample whose outputs all
        underflow to 0 gets equal probabilities."""
        a = self._outputs(X)
        total = a.sum(axis=1, keepdims=True)
        uniform = np.full_like(a, 1.0 / a.shape[1])
        return np.divide(a, total, out=uniform, where=total > 0)

    def predict(self, X):
        """Predicted label per sample, one of classes_ (the first largest
        output on ties)."""
        with self._dataset(X) as d:
            return self.classes_[self._context().predict(self.model_, d)]

    def score(self, X, y, sample_weight=None):
        """Accuracy on (X, y): the mean of predict(X) == y, weighted by
        sample_weight when given."""
        y = np.asarray(y).reshape(-1)
        pred = self.predict(X)
        _validation.same_length(pred, y)
        return float(np.average(pred == y, weights=sample_weight))


def _classes(y):
    """The sorted distinct labels; ValueError when they cannot be sorted."""
    try:
        return np.unique(y)
    except TypeError as e:
        raise ValueError(f"Unknown label type: unknown. The labels cannot be sorted: {e}") \
            from None
