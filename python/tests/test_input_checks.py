"""Classifier refuses bad input and bad parameters with scikit-learn's
exception types and messages, before any training starts."""

import unittest
import warnings

import numpy as np

import galann


def synthetic(n, seed):
    with galann.Dataset.synthetic(n, seed) as d:
        return d.features.copy(), d.labels.astype(np.int64)


class InputChecksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.X, cls.y = synthetic(90, 41)
        cls.clf = galann.Classifier(maxiter=3).fit(cls.X, cls.y)

    def assert_refused(self, exc, message, fn, *args):
        with self.assertRaises(exc) as cm:
            fn(*args)
        self.assertIn(message, str(cm.exception))

    def test_nan_and_infinity_in_x_are_refused_in_fit_and_predict(self):
        for method in (galann.Classifier().fit, lambda X, y: self.clf.predict(X)):
            X = self.X.copy()
            X[3, 7] = np.nan
            self.assert_refused(ValueError, "Input X contains NaN.", method, X, self.y)
            X[3, 7] = -np.inf
            self.assert_refused(ValueError, "Input X contains infinity or a value too large for "
                                "dtype('float64').", method, X, self.y)

    def test_x_of_the_wrong_shape_is_refused(self):
        self.assert_refused(ValueError, "Expected 2D array, got 1D array instead:",
                            galann.Classifier().fit, self.X[0], self.y[:1])
        self.assert_refused(ValueError, "Expected 2D array, got 1D array instead:",
                            self.clf.predict, self.X[0])
        self.assert_refused(ValueError, "X has 100 features, but Classifier is expecting 1024 "
                            "features as input.", self.clf.predict_proba, self.X[:, :100])
        self.assert_refused(ValueError, "Found array with 0 sample(s) (shape=(0, 1024)) while a "
                            "minimum of 1 is required by Classifier.", self.clf.predict,
                            self.X[:0])
        self.assert_refused(ValueError, "Found array with 0 feature(s) (shape=(90, 0)) while a "
                            "minimum of 1 is required by Classifier.", galann.Classifier().fit,
                            self.X[:, :0], self.y)
        self.assert_refused(ValueError, "Complex data not supported", galann.Classifier().fit,
                            self.X + 1j, self.y)
        self.assert_refused(TypeError, "argument must be a string or a", galann.Classifier().fit,
                            np.array([[{"a": 1}, 2.0]] * 9, dtype=object), self.y[:9])

    def test_bad_labels_are_refused(self):
        fit = galann.Classifier().fit
        self.assert_refused(ValueError, "Classifier requires y to be passed, but the target y is "
                            "None.", fit, self.X, None)
        self.assert_refused(ValueError, "Found input variables with inconsistent numbers of "
                            "samples: [90, 89]", fit, self.X, self.y[:-1])
        self.assert_refused(ValueError, "y should be a 1d array, got an array of shape (90, 2) "
                            "instead.", fit, self.X, np.stack([self.y, self.y], axis=1))
        y = self.y.astype(float)
        y[5] = np.nan
        self.assert_refused(ValueError, "Input y contains NaN.", fit, self.X, y)

    def test_a_column_of_labels_warns_and_trains_as_a_vector(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            c = galann.Classifier(maxiter=3).fit(self.X, self.y[:, None])
        self.assertEqual([w.category for w in caught], [galann.DataConversionWarning])
        self.assertIn("A column-vector y was passed when a 1d array was expected",
                      str(caught[0].message))
        np.testing.assert_array_equal(c.theta_, self.clf.theta_)

    def test_bad_parameters_are_refused_at_fit_with_the_parameter_named(self):
        cases = [({"hidden": 0}, "The 'hidden' parameter of Classifier must be an int in the range "
                  "[1, inf) or a non-empty sequence of them. Got 0 instead."),
                 ({"hidden": ()}, "The 'hidden' parameter"),
                 ({"hidden": 2.5}, "The 'hidden' parameter"),
                 ({"lam": -1.0}, "The 'lam' parameter of Classifier must be a float in the range "
                  "[0.0, inf). Got -1.0 instead."),
                 ({"lam": float("nan")}, "The 'lam' parameter"),
                 ({"maxiter": 0}, "The 'maxiter' parameter of Classifier must be an int in the "
                  "range [1, inf). Got 0 instead."),
                 ({"seed": 2 ** 32}, "The 'seed' parameter of Classifier must be an int in the "
                  "range [0, 4294967295]. Got 4294967296 instead."),
                 ({"validation_fraction": 1.0}, "The 'validation_fraction' parameter of "
                  "Classifier must be a float in the range (0.0, 1.0) or None. Got 1.0 instead."),
                 ({"backend": 3}, "The 'backend' parameter of Classifier must be a str or None."),
                 ({"n_iter_no_change": 0}, "The 'n_iter_no_change' parameter of Classifier must "
                  "be an int in the range [1, inf) or None. Got 0 instead.")]
        for params, message in cases:
            c = galann.Classifier(**params)  # constructing never checks
            with self.subTest(params=params):
                self.assert_refused(ValueError, message, c.fit, self.X, self.y)
        self.assert_refused(ValueError, "Invalid parameter 'learning_rate' for estimator "
                            "Classifier(). Valid parameters are: ['backend', 'hidden', 'lam', "
                            "'maxiter', 'n_iter_no_change', 'seed', 'threads', 'validation_fraction'].",
                            lambda: galann.Classifier().set_params(learning_rate=0.1))


if __name__ == "__main__":
    unittest.main()
