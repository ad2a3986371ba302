"""Classifier: the galaxy network behind a scikit-learn-style estimator.

No scikit-learn dependency; the conventions are followed by hand:
constructor arguments are stored unchanged and validated in fit(),
get_params()/set_params() read and write them, fitted state ends in an
underscore, fit() returns self. Training is exactly galann_fit: the same
settings give the same weights and predictions as the C API and the
galann program.
"""

import inspect
import math

import numpy as np

from ._core import Context, Dataset, Model


def _as_features(X, n_features=None):
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (n_samples, n_features), got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features, the classifier was fitted with "
                         f"{n_features}")
    return X


class Classifier:
    """Fully connected sigmoid network trained with the original program's
    cost and fmin_cg-equivalent conjugate gradient.

    hidden: size of the hidden layer, or a sequence of sizes for several;
    lam: regularisation lambda; maxiter: optimizer iterations; seed: the
    numpy legacy seed of the initial weights; backend/threads: the compute
    context (None = the library's defaults).

    fit(X, y) expects X scaled to [0, 1] (pixels / 255) and y integer
    classes 0..k-1. With X_val, y_val the validation set is scored every
    iteration and the model ends at the iterate with the lowest validation
    cost, as the original program keeps its best test iterate.

    Fitted attributes: model_ (galann.Model), theta_ (flat weights),
    coefs_/intercepts_ (per layer, scikit-learn's MLP layout: coefs_[i] is
    (s_i, s_{i+1})), layers_, classes_, n_features_in_, n_iter_,
    history_ (one dict per iteration), best_iteration_, stop_reason_.
    """

    def __init__(self, hidden=8, lam=1.0, maxiter=600, seed=917, backend=None, threads=None):
        self.hidden = hidden
        self.lam = lam
        self.maxiter = maxiter
        self.seed = seed
        self.backend = backend
        self.threads = threads

    # --- scikit-learn parameter protocol

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
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; "
                                 f"valid parameters: {valid}")
            setattr(self, name, value)
            if name in ("backend", "threads"):
                self._drop_context()
        return self

    def __repr__(self):
        defaults = {p.name: p.default for p in
                    inspect.signature(type(self).__init__).parameters.values()}
        args = [f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults.get(k)]
        return f"{type(self).__name__}({', '.join(args)})"

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
        if not hasattr(self, "model_"):
            raise AttributeError(f"This {type(self).__name__} instance is not fitted yet; "
                                 "call fit() first")

    def _hidden_sizes(self):
        h = self.hidden
        sizes = [h] if isinstance(h, (int, np.integer)) else list(h)
        if not sizes or any(int(s) != s or int(s) < 1 for s in sizes):
            raise ValueError(f"hidden must be a positive int or a sequence of them, got {h!r}")
        return [int(s) for s in sizes]

    # --- training and prediction

    def fit(self, X, y, X_val=None, y_val=None):
        """Train from the seeded initial weights; returns self."""
        X = _as_features(X)
        if (X_val is None) != (y_val is None):
            raise ValueError("give both X_val and y_val, or neither")
        y = np.asarray(y).reshape(-1)
        n_labels = int(np.max(y)) + 1 if y.size else 0
        if y_val is not None:
            X_val = _as_features(X_val, X.shape[1])
            y_val = np.asarray(y_val).reshape(-1)
            if y_val.size:
                n_labels = max(n_labels, int(np.max(y_val)) + 1)
        if not (math.isfinite(float(self.lam)) and self.lam >= 0):
            raise ValueError(f"lam must be finite and >= 0, got {self.lam!r}")
        if int(self.maxiter) < 1:
            raise ValueError(f"maxiter must be >= 1, got {self.maxiter!r}")
        layers = [X.shape[1]] + self._hidden_sizes() + [n_labels]

        ctx = self._context()
        with Dataset(X, y, n_labels) as train:
            val = Dataset(X_val, y_val, n_labels) if X_val is not None else None
            try:
                model = Model(layers).init_random(int(self.seed))
                report = ctx.fit(model, train, lam=float(self.lam), maxiter=int(self.maxiter),
                                 validation=val)
            finally:
                if val is not None:
                    val.close()

        old = self.__dict__.get("model_")
        self.model_ = model
        if old is not None:
            old.close()
        self.layers_ = tuple(layers)
        self.classes_ = np.arange(n_labels)
        self.n_features_in_ = X.shape[1]
        self.theta_ = model.params
        thetas = model.weights()
        self.coefs_ = [t[:, 1:].T.copy() for t in thetas]
        self.intercepts_ = [t[:, 0].copy() for t in thetas]
        self.n_iter_ = report.iterations
        self.history_ = [p.as_dict() for p in report.history]
        self.best_iteration_ = report.best_iteration
        self.stop_reason_ = report.stop_reason_text
        self.fit_report_ = report
        return self

    def _dataset(self, X):
        X = _as_features(X, self.n_features_in_)
        return Dataset(X, np.zeros(X.shape[0], dtype=np.int32), len(self.classes_))

    def decision_function(self, X):
        """The network's output activations (independent sigmoids), shape
        (n_samples, n_classes)."""
        self._check_fitted()
        with self._dataset(X) as d:
            return self._context().predict_proba(self.model_, d)

    def predict_proba(self, X):
        """Class probabilities: the output sigmoids normalised to sum to 1
        per sample (the network has no softmax; argmax is unchanged). A
        sample whose outputs all underflow to 0 gets equal probabilities."""
        a = self.decision_function(X)
        total = a.sum(axis=1, keepdims=True)
        uniform = np.full_like(a, 1.0 / a.shape[1])
        return np.divide(a, total, out=uniform, where=total > 0)

    def predict(self, X):
        """Predicted class per sample (the first largest output on ties)."""
        self._check_fitted()
        with self._dataset(X) as d:
            return self.classes_[self._context().predict(self.model_, d)]

    def score(self, X, y):
        """Mean accuracy on (X, y)."""
        y = np.asarray(y).reshape(-1)
        return float(np.mean(self.predict(X) == y))
