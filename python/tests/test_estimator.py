"""galann.Classifier: the scikit-learn conventions, and the same numbers
as the C API for the same settings."""

import pickle
import unittest

import numpy as np

import galann
from _support import assert_close, galaxy_numpy, require_shared


def synthetic_numpy(n, seed):
    with galann.Dataset.synthetic(n, seed) as d:
        return d.features.copy(), d.labels.astype(np.int64)


class EstimatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.X, cls.y = synthetic_numpy(900, 21)
        cls.Xt, cls.yt = synthetic_numpy(300, 22)
        cls.clf = galann.Classifier(maxiter=30).fit(cls.X, cls.y)

    def test_scores_well_above_chance_on_synthetic_galaxies(self):
        acc = self.clf.score(self.Xt, self.yt)
        self.assertGreater(acc, 0.6, f"test accuracy {acc:.3f} (chance 0.333)")
        self.assertEqual(self.clf.n_iter_, 30)
        np.testing.assert_array_equal(self.clf.classes_, [0, 1, 2])
        self.assertEqual(self.clf.layers_, (1024, 8, 3))
        self.assertEqual(self.clf.n_features_in_, 1024)

    def test_history_has_one_entry_per_iteration(self):
        h = self.clf.history_
        self.assertEqual(len(h), self.clf.n_iter_)
        self.assertEqual(set(h[0]), {"iteration", "train_cost", "train_accuracy",
                                     "validation_cost", "validation_accuracy",
                                     "gradient_norm", "evaluations"})
        self.assertEqual(h[-1]["iteration"], self.clf.n_iter_)
        self.assertLess(h[-1]["train_cost"], h[0]["train_cost"])

    def test_fitted_weights_are_consistent(self):
        c = self.clf
        self.assertEqual(c.theta_.shape, (8 * 1025 + 3 * 9,))
        np.testing.assert_array_equal(c.theta_, c.model_.params)
        self.assertEqual([w.shape for w in c.coefs_], [(1024, 8), (8, 3)])
        self.assertEqual([b.shape for b in c.intercepts_], [(8,), (3,)])
        # recompute the outputs by hand from coefs_/intercepts_
        a = self.Xt[:5]
        for W, b in zip(c.coefs_, c.intercepts_):
            a = 1.0 / (1.0 + np.exp(-(a @ W + b)))
        np.testing.assert_allclose(a, c.decision_function(self.Xt[:5]), rtol=1e-12)

    def test_predict_proba_rows_sum_to_one_with_the_same_argmax(self):
        p = self.clf.predict_proba(self.Xt)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
        np.testing.assert_array_equal(np.argmax(p, axis=1), self.clf.predict(self.Xt))

    def test_get_params_set_params_round_trip(self):
        c = galann.Classifier(hidden=(6, 4), lam=0.5, maxiter=7, seed=3, backend="reference",
                              threads=1, validation_fraction=0.25, n_iter_no_change=3)
        params = c.get_params(deep=True)
        self.assertEqual(params, {"hidden": (6, 4), "lam": 0.5, "maxiter": 7, "seed": 3,
                                  "backend": "reference", "threads": 1,
                                  "validation_fraction": 0.25, "n_iter_no_change": 3})
        d = galann.Classifier().set_params(**params)
        self.assertEqual(d.get_params(), params)
        self.assertEqual(galann.Classifier(**params).get_params(), params)
        self.assertIn("lam=0.5", repr(d))
        with self.assertRaises(ValueError):
            d.set_params(learning_rate=0.1)
        d.fit(self.X[:90], self.y[:90])
        self.assertEqual(d.layers_, (1024, 6, 4, 3))
        self.assertLessEqual(d.n_iter_, 7)

    def test_unfitted_and_bad_inputs(self):
        with self.assertRaises(AttributeError):  # NotFittedError is one
            galann.Classifier().predict(self.Xt)
        with self.assertRaises(ValueError):
            self.clf.predict(self.Xt[:, :100])
        with self.assertRaises(ValueError):
            galann.Classifier(hidden=0).fit(self.X[:30], self.y[:30])
        with self.assertRaises(ValueError):
            galann.Classifier().fit(self.X[:30], self.y[:30], X_val=self.Xt)

    def test_validation_labels_widen_the_classes_and_keep_best(self):
        c = galann.Classifier(maxiter=10).fit(self.X[self.y < 2], self.y[self.y < 2],
                                              self.Xt, self.yt)
        np.testing.assert_array_equal(c.classes_, [0, 1, 2])
        self.assertFalse(np.isnan(c.history_[0]["validation_cost"]))
        self.assertLessEqual(c.best_iteration_, c.n_iter_)

    def test_keep_best_on_an_overfitting_set_keeps_the_lowest_validation_cost(self):
        # 30 training images and no regularisation: the validation cost
        # bottoms out within a few iterations, then climbs far above it
        X, y = synthetic_numpy(30, 31)
        Xv, yv = synthetic_numpy(300, 32)
        c = galann.Classifier(maxiter=80, lam=0.0).fit(X, y, Xv, yv)
        costs = np.array([h["validation_cost"] for h in c.history_])
        lowest = int(np.argmin(costs)) + 1
        self.assertEqual(c.n_iter_, 80)
        self.assertGreater(costs[-1], 2 * costs.min(), "the set does not overfit: the test proves nothing")
        self.assertLess(lowest, c.n_iter_ - 10)
        self.assertEqual(c.best_iteration_, lowest)
        # the kept weights are the ones with that validation cost (and that
        # training cost), not the last iterate's
        with galann.Context() as ctx, galann.Dataset(Xv, yv, 3) as val, galann.Dataset(X, y, 3) as train:
            kept_validation = ctx.cost(c.model_, val, lam=0.0)
            kept_train = ctx.cost(c.model_, train, lam=0.0)
        assert_close(self, kept_validation, costs.min(), 1e-12, "validation cost of the kept model")
        assert_close(self, kept_train, c.history_[lowest - 1]["train_cost"], 1e-12,
                     "training cost of the kept model")
        self.assertGreater(kept_train, c.history_[-1]["train_cost"])

    def test_pickle_keeps_the_fitted_model_bit_for_bit(self):
        clone = pickle.loads(pickle.dumps(self.clf))
        np.testing.assert_array_equal(clone.theta_, self.clf.theta_)
        np.testing.assert_array_equal(clone.model_.params, self.clf.model_.params)
        np.testing.assert_array_equal(clone.predict(self.Xt), self.clf.predict(self.Xt))
        # assert_array_equal on floats: the same bits, not merely close
        np.testing.assert_array_equal(clone.predict_proba(self.Xt), self.clf.predict_proba(self.Xt))
        np.testing.assert_array_equal(clone.decision_function(self.Xt),
                                      self.clf.decision_function(self.Xt))
        self.assertEqual(repr(clone.history_), repr(self.clf.history_))  # NaN != NaN

    def test_unfitted_methods_raise_not_fitted_error_in_sklearn_words(self):
        for method in ("predict", "predict_proba", "decision_function"):
            with self.assertRaises(galann.NotFittedError) as cm:
                getattr(galann.Classifier(), method)(self.Xt)
            self.assertEqual(str(cm.exception), "This Classifier instance is not fitted yet. "
                             "Call 'fit' with appropriate arguments before using this estimator.")
        with self.assertRaises(galann.NotFittedError):
            galann.Classifier().score(self.Xt, self.yt)
        self.assertTrue(issubclass(galann.NotFittedError, ValueError))
        self.assertTrue(issubclass(galann.NotFittedError, AttributeError))
        self.assertFalse(galann.Classifier().__sklearn_is_fitted__())
        self.assertTrue(self.clf.__sklearn_is_fitted__())


class GalaxyEquivalenceTest(unittest.TestCase):
    def test_classifier_maxiter50_predicts_as_the_c_api(self):
        X, y = galaxy_numpy("train")
        Xt, yt = galaxy_numpy("test")
        clf = galann.Classifier(maxiter=50).fit(X, y)

        with galann.Context() as ctx, \
                galann.Dataset.from_csv(require_shared("data", "galaxy", "train.csv")) as train, \
                galann.Dataset.from_csv(require_shared("data", "galaxy", "test.csv")) as test, \
                galann.Model([1024, 8, 3]) as model:
            np.testing.assert_array_equal(train.features, X)  # numpy's p/255 is the library's
            model.init_random(917)
            report = ctx.fit(model, train, lam=1.0, maxiter=50)
            want = ctx.predict(model, test)
            theta = model.params
        self.assertEqual(clf.n_iter_, report.iterations)
        np.testing.assert_array_equal(clf.theta_, theta)
        np.testing.assert_array_equal(clf.predict(Xt), want)
        # The original program's predictions after 50 fmin_cg iterations:
        # CG amplifies rounding differences by then (reference-model.md),
        # so a few borderline samples may flip, no more.
        original = np.loadtxt(require_shared("reference", "galaxy", "pred50_test.txt"))
        agree = np.mean(clf.predict(Xt) == original)
        self.assertGreaterEqual(agree, 0.95, f"agreement with the original's predictions "
                                f"at iteration 50: {agree:.4f}")
        acc, acc_original = clf.score(Xt, yt), np.mean(original == yt)
        self.assertLess(abs(acc - acc_original), 0.02,
                        f"test accuracy {acc:.4f}, the original's {acc_original:.4f}")


if __name__ == "__main__":
    unittest.main()
