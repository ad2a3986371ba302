"""galann.Classifier inside scikit-learn: recognised as a classifier,
passes check_estimator, and works in cross_val_score, GridSearchCV,
cross_val_predict and clone with every kind of label.

Needs scikit-learn (Debian: python3-sklearn). Without it the module is
skipped with a message, or fails when GALANN_REQUIRE_SKLEARN=1 (run.py
--require-sklearn, meson -Drequire_sklearn=true as CI sets it).

Figures asserted below were measured on the blas backend (2 cores);
another backend or BLAS may move an accuracy by a sample or two.
"""

import os
import pickle
import sys
import unittest
import warnings

import numpy as np

import galann

try:
    import sklearn
    from sklearn.base import clone, is_classifier
    from sklearn.exceptions import DataConversionWarning, NotFittedError
    from sklearn.model_selection import GridSearchCV, cross_val_predict, cross_val_score
    from sklearn.utils import estimator_checks
    SKLEARN_ERROR = None
except ImportError as e:
    SKLEARN_ERROR = e

# Checks this estimator is not expected to pass, with the reason: none.
EXPECTED_FAILURES = {}


def setUpModule():
    if SKLEARN_ERROR is None:
        return
    reason = (f"scikit-learn is not importable by {sys.executable} ({SKLEARN_ERROR}); "
              "Debian: apt-get install python3-sklearn")
    if os.environ.get("GALANN_REQUIRE_SKLEARN") == "1":
        raise AssertionError(reason + ", and GALANN_REQUIRE_SKLEARN=1 requires it")
    raise unittest.SkipTest(reason)


def synthetic(n, seed):
    with galann.Dataset.synthetic(n, seed) as d:
        return d.features.copy(), d.labels.astype(np.int64)


def run_check(check, estimator):
    """'passed', 'skipped: why' or 'failed: what' for one check."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check(estimator)
    except unittest.SkipTest as e:
        return f"skipped: {e}"
    except Exception as e:  # noqa: B902 - every failure is reported by name
        if type(e).__name__ == "SkipTest":  # pytest's or nose's own class
            return f"skipped: {e}"
        return f"failed: {type(e).__name__}: {str(e)[:400]}"
    return "passed"


def record(outcomes, name, outcome):
    # a check run several times (check_classifiers_train on float64, then
    # on read-only float32 ...) is reported by its first failure
    if outcomes.get(name, "passed") == "passed":
        outcomes[name] = outcome


def check_outcomes(estimator):
    """{check name: outcome} for every check check_estimator runs on
    this version of scikit-learn, plus two estimator checks that
    scikit-learn's own test suite adds (feature names, n_features_in_)."""
    outcomes = {}
    version = tuple(int(p) for p in sklearn.__version__.split(".")[:2])
    if version < (1, 6):
        for est, check in estimator_checks.check_estimator(estimator, generate_only=True):
            record(outcomes, getattr(check, "func", check).__name__, run_check(check, est))
    else:  # check_estimator reports each check instead of generating them
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = estimator_checks.check_estimator(
                estimator, expected_failed_checks=EXPECTED_FAILURES, on_fail=None)
        for r in results:
            detail = "" if r["exception"] is None else f": {r['exception']!r}"[:400]
            record(outcomes, r["check_name"], r["status"] + detail)
    for name in ("check_n_features_in_after_fitting", "check_dataframe_column_names_consistency"):
        check = getattr(estimator_checks, name, None)
        if check is not None and name not in outcomes:
            record(outcomes, name, run_check(lambda e, c=check, n=name: c(n, e), clone(estimator)))
    return outcomes


class SklearnEstimatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.X, cls.y = synthetic(900, 21)

    def test_recognised_as_a_classifier_with_sklearns_exceptions(self):
        self.assertTrue(is_classifier(galann.Classifier()))
        self.assertIs(galann.NotFittedError, NotFittedError)
        self.assertIs(galann.DataConversionWarning, DataConversionWarning)
        with self.assertRaises(NotFittedError):
            galann.Classifier().predict(self.X)

    def test_check_estimator_passes_every_check(self):
        outcomes = check_outcomes(galann.Classifier())
        print(f"\nscikit-learn {sklearn.__version__}: {len(outcomes)} checks")
        for name, outcome in sorted(outcomes.items()):
            if outcome != "passed":
                print(f"  {name}: {outcome}")
        failed = {n: o for n, o in outcomes.items()
                  if o.startswith(("failed", "xfail")) and n not in EXPECTED_FAILURES}
        self.assertEqual(failed, {})
        self.assertGreater(len(outcomes), 40)
        unexpected_passes = [n for n in EXPECTED_FAILURES if outcomes.get(n) == "passed"]
        self.assertEqual(unexpected_passes, [], "expected failures that pass: drop them")

    def test_cross_val_score_stratifies_class_sorted_data(self):
        # train.csv lists its classes one after the other: unstratified
        # folds trained on two classes and scored on the third, 0 each
        order = np.argsort(self.y, kind="stable")
        scores = cross_val_score(galann.Classifier(maxiter=30), self.X[order], self.y[order],
                                 cv=3)
        # measured: 0.7667, 0.7267, 0.7467, mean 0.7467 (chance 0.333)
        self.assertTrue(np.all(scores > 0.6), scores)
        self.assertAlmostEqual(scores.mean(), 0.7467, delta=0.03, msg=str(scores))

    def test_grid_search_picks_the_larger_hidden_layer(self):
        grid = GridSearchCV(galann.Classifier(maxiter=30), {"hidden": [4, 8]}, cv=3)
        grid.fit(self.X, self.y)
        # measured: 0.6433 for hidden=4, 0.7467 for hidden=8
        self.assertEqual(grid.best_params_, {"hidden": 8})
        self.assertAlmostEqual(grid.best_score_, 0.7467, delta=0.03)
        restored = pickle.loads(pickle.dumps(grid))
        np.testing.assert_array_equal(restored.predict_proba(self.X), grid.predict_proba(self.X))

    def test_cross_val_predict_answers_in_the_users_labels(self):
        names = np.array(["E", "S", "I"])
        clf = galann.Classifier(maxiter=15)
        coded = cross_val_predict(clf, self.X, self.y, cv=3)
        np.testing.assert_array_equal(cross_val_predict(clf, self.X, self.y + 1, cv=3),
                                      coded + 1)
        as_strings = cross_val_predict(clf, self.X, names[self.y], cv=3)
        classes = np.unique(names)
        renumbered = cross_val_predict(clf, self.X, np.searchsorted(classes, names[self.y]),
                                       cv=3)
        np.testing.assert_array_equal(as_strings, classes[renumbered])

    def test_clone_gives_an_unfitted_copy_with_the_same_parameters(self):
        fitted = galann.Classifier(hidden=(5, 3), maxiter=4, validation_fraction=0.1)
        fitted.fit(self.X[:90], self.y[:90])
        copy = clone(fitted)
        self.assertEqual(copy.get_params(), fitted.get_params())
        self.assertFalse(hasattr(copy, "model_"))

    def test_sparse_input_is_refused_as_sklearn_refuses_it(self):
        import scipy.sparse  # a dependency of scikit-learn
        with self.assertRaisesRegex(TypeError, "dense data is required"):
            galann.Classifier().fit(scipy.sparse.csr_matrix(self.X), self.y)


if __name__ == "__main__":
    unittest.main()
