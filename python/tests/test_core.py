"""The low-level classes: numbers against the fixtures, array layouts,
errors, handle lifetimes, model files."""

import gc
import os
import pickle
import tempfile
import unittest

import numpy as np

import galann
from galann import _lib
from _support import assert_close, galaxy_summary, require_shared


def small_problem(seed=3, m=40, n=20, k=3):
    """Features that float32 represents exactly, so a float32 copy holds
    the same numbers."""
    rng = np.random.default_rng(seed)
    X = rng.random((m, n)).astype(np.float32).astype(np.float64)
    y = np.arange(m) % k
    return X, y


class FixtureTest(unittest.TestCase):
    def test_cost_and_gradient_at_theta0_match_the_original_to_1e12(self):
        theta0 = np.loadtxt(require_shared("reference", "galaxy", "theta0.txt"))
        grad0 = np.loadtxt(require_shared("reference", "galaxy", "grad0.txt"))
        J0 = galaxy_summary()["J0_train"]
        with galann.Dataset.from_csv(require_shared("data", "galaxy", "train.csv")) as train, \
                galann.Model([1024, 8, 3]) as model:
            self.assertEqual((train.n_samples, train.n_features, train.n_labels), (2700, 1024, 3))
            model.init_random(917)
            np.testing.assert_array_equal(model.params, theta0,
                                          "init_random(917) is not numpy's seed-917 draw")
            for backend in ("reference", None):
                with galann.Context(backend) as ctx:
                    J, g = ctx.cost_gradient(model, train, 1.0)
                    assert_close(self, J, J0, 1e-12, f"J0 on {ctx.backend}")
                    assert_close(self, ctx.cost(model, train), J0, 1e-12, f"cost() on {ctx.backend}")
                    err = np.max(np.abs(g - grad0)) / np.max(np.abs(grad0))
                    self.assertLessEqual(err, 1e-12, f"gradient on {ctx.backend}: max-norm "
                                         f"relative error {err:.3g}")
                    np.testing.assert_array_equal(ctx.gradient(model, train), g)


class LayoutTest(unittest.TestCase):
    """Every array layout numpy offers gives the numbers of the plain one."""

    def setUp(self):
        self.ctx = galann.Context("reference")
        self.X, self.y = small_problem()
        self.model = galann.Model([20, 5, 3]).init_random(917)

    def tearDown(self):
        self.ctx.close()
        self.model.close()

    def results(self, X, y):
        with galann.Dataset(X, y) as d:
            np.testing.assert_array_equal(d.features, self.X)
            np.testing.assert_array_equal(d.labels, self.y)
            J, g = self.ctx.cost_gradient(self.model, d, 0.5)
            return J, g, self.ctx.predict(self.model, d), self.ctx.predict_proba(self.model, d)

    def test_fortran_float32_strided_and_column_labels_match_contiguous(self):
        J, g, pred, proba = self.results(self.X, self.y)
        wide = np.zeros((self.X.shape[0] * 2, self.X.shape[1] * 3))
        wide[::2, ::3] = self.X
        variants = {
            "fortran": (np.asfortranarray(self.X), self.y),
            "float32": (self.X.astype(np.float32), self.y.astype(np.int32)),
            "strided": (wide[::2, ::3], self.y),
            "column labels as floats (the original's y)": (self.X, self.y.reshape(-1, 1).astype(float)),
            "lists": (self.X.tolist(), self.y.tolist()),
        }
        for name, (X, y) in variants.items():
            with self.subTest(layout=name):
                J2, g2, pred2, proba2 = self.results(X, y)
                self.assertEqual(J2, J)
                np.testing.assert_array_equal(g2, g)
                np.testing.assert_array_equal(pred2, pred)
                np.testing.assert_array_equal(proba2, proba)

    def test_predictions_are_the_argmax_of_the_outputs(self):
        with galann.Dataset(self.X, self.y) as d:
            proba = self.ctx.predict_proba(self.model, d)
            self.assertEqual(proba.shape, (40, 3))
            pred = self.ctx.predict(self.model, d)
            np.testing.assert_array_equal(pred, np.argmax(proba, axis=1))
            self.assertEqual(self.ctx.accuracy(self.model, d), np.mean(pred == self.y))

    def test_check_gradient_agrees_with_finite_differences(self):
        with galann.Dataset(self.X, self.y) as d:
            err = self.ctx.check_gradient(self.model, d, lam=1.0, max_params=40)
        self.assertLess(err, 1e-7)

    def test_dataset_views_are_read_only_and_outlive_close(self):
        d = galann.Dataset(self.X, self.y)
        features, labels = d.features, d.labels
        self.assertFalse(features.flags.writeable)
        with self.assertRaises(ValueError):
            features[0, 0] = 1.0
        d.close()
        del d
        gc.collect()
        np.testing.assert_array_equal(features, self.X)  # still the library's memory, alive
        np.testing.assert_array_equal(labels, self.y)


class ErrorTest(unittest.TestCase):
    def test_bad_csv_names_file_and_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.csv")
            with open(path, "w") as f:
                f.write("0,1,2,3\n1,4,5,6\n2,7,x,9\n")
            with self.assertRaises(galann.GalannError) as cm:
                galann.Dataset.from_csv(path)
        e = cm.exception
        self.assertEqual(e.status, _lib.ERR_PARSE)
        self.assertEqual(e.name, "GALANN_ERR_PARSE")
        self.assertEqual(e.strerror, "parse error")
        self.assertIn("bad.csv:3", e.message)
        self.assertIn("bad.csv:3", str(e))

    def test_ragged_csv_text_names_line(self):
        with self.assertRaises(galann.GalannError) as cm:
            galann.Dataset.from_csv_text("0,1,2\n1,3\n", name="mem.csv")
        self.assertEqual(cm.exception.status, _lib.ERR_PARSE)
        self.assertIn("mem.csv:2", cm.exception.message)

    def test_missing_file_is_an_io_error(self):
        with self.assertRaises(galann.GalannError) as cm:
            galann.Dataset.from_csv("/nonexistent/train.csv")
        self.assertEqual(cm.exception.status, _lib.ERR_IO)
        self.assertIn("/nonexistent/train.csv", cm.exception.message)

    def test_dimension_mismatch(self):
        X, y = small_problem()
        with galann.Context("reference") as ctx, galann.Dataset(X, y) as d, \
                galann.Model([21, 4, 3]) as model:
            with self.assertRaises(galann.GalannError) as cm:
                ctx.cost(model, d)
            self.assertEqual(cm.exception.status, _lib.ERR_DIMENSION)
            self.assertTrue(cm.exception.message)
            with self.assertRaises(galann.GalannError) as cm:
                model.set_params(np.zeros(model.n_params + 1))
            self.assertEqual(cm.exception.status, _lib.ERR_DIMENSION)

    def test_unknown_backend(self):
        with self.assertRaises(galann.GalannError) as cm:
            galann.Context("no-such-backend")
        self.assertEqual(cm.exception.status, _lib.ERR_INVALID)
        self.assertIn("no-such-backend", cm.exception.message)

    def test_bad_arrays(self):
        X, y = small_problem()
        with self.assertRaises(galann.GalannError) as cm:
            galann.Dataset(X, y, n_labels=2)  # label 2 out of range
        self.assertEqual(cm.exception.status, _lib.ERR_INVALID)
        Xn = X.copy()
        Xn[3, 4] = np.nan
        with self.assertRaises(galann.GalannError) as cm:
            galann.Dataset(Xn, y)
        self.assertEqual(cm.exception.status, _lib.ERR_NONFINITE)
        with self.assertRaises(ValueError):
            galann.Dataset(X[0], y)
        with self.assertRaises(ValueError):
            galann.Dataset(X, y[:-1])
        with self.assertRaises(ValueError):
            galann.Dataset(X, y + 0.5)
        with galann.Model([2, 2]) as model:
            with self.assertRaises(galann.GalannError) as cm:
                model.params = [0.0, np.inf, 0.0, 0.0, 0.0, 0.0]
            self.assertEqual(cm.exception.status, _lib.ERR_NONFINITE)

    def test_garbage_model_bytes_are_a_format_error(self):
        with self.assertRaises(galann.GalannError) as cm:
            galann.Model.from_bytes(b"not a model at all, clearly")
        self.assertEqual(cm.exception.status, _lib.ERR_FORMAT)


class LifetimeTest(unittest.TestCase):
    def test_context_managers_close_every_handle(self):
        X, y = small_problem()
        with galann.Context("reference") as ctx, galann.Dataset(X, y) as d, \
                galann.Model([20, 3]) as model:
            self.assertFalse(ctx.closed or d.closed or model.closed)
        for obj in (ctx, d, model):
            self.assertTrue(obj.closed, obj)
            self.assertIn("closed", repr(obj))
            obj.close()  # idempotent
        with self.assertRaises(ValueError):
            ctx.cost(model, d)
        with self.assertRaises(ValueError):
            model.params
        with self.assertRaises(ValueError):
            d.n_samples

    def test_handles_dropped_without_close_are_freed(self):
        X, y = small_problem()
        for _ in range(50):
            ctx = galann.Context("reference")
            d = galann.Dataset(X, y)
            m = galann.Model([20, 3, 3]).init_random(1)
            ctx.cost(m, d)
            del ctx, d, m
        gc.collect()

    def test_closing_handles_inside_a_fit_callback_waits_for_the_call(self):
        # The callback closes the training set, the model and the context
        # while galann_fit still uses them: the frees must wait until fit
        # returns (before, this read freed memory).
        X, y = small_problem()
        ctx = galann.Context("reference")
        d = galann.Dataset(X, y)
        model = galann.Model([20, 3]).init_random(1)
        expected = galann.Context("reference").fit(galann.Model([20, 3]).init_random(1),
                                                   galann.Dataset(X, y), maxiter=4)

        def close_everything(p):
            if p.iteration == 2:
                d.close()
                model.close()
                ctx.close()

        report = ctx.fit(model, d, maxiter=4, callback=close_everything)
        self.assertEqual(report.iterations, 4)
        self.assertEqual(report.train_cost, expected.train_cost)
        for obj in (ctx, d, model):
            self.assertTrue(obj.closed)

    def test_profile_counts_evaluations(self):
        X, y = small_problem()
        with galann.Context("reference", profile=True) as ctx, galann.Dataset(X, y) as d, \
                galann.Model([20, 3]) as model:
            ctx.cost(model, d)
            ctx.cost_gradient(model, d)
            p = ctx.profile()
            self.assertEqual(p["evaluations"], 2)
            self.assertGreater(p["seconds"], 0.0)

    def test_wrong_handle_types_are_type_errors(self):
        with galann.Context("reference") as ctx, galann.Model([2, 2]) as m:
            with self.assertRaises(TypeError):
                ctx.cost(m, np.zeros((2, 2)))


class ModelTest(unittest.TestCase):
    def test_save_load_bytes_copy_and_pickle_round_trip(self):
        model = galann.Model([20, 6, 4, 3]).init_random(5)
        model.input_divisor = 1.0
        theta = model.params
        self.assertEqual(model.layers, (20, 6, 4, 3))
        self.assertEqual(model.n_params, 6 * 21 + 4 * 7 + 3 * 5)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.model")
            model.save(path)
            loaded = galann.Model.load(path)
        clones = {"load": loaded, "from_bytes": galann.Model.from_bytes(model.to_bytes()),
                  "copy": model.copy(), "pickle": pickle.loads(pickle.dumps(model))}
        for how, clone in clones.items():
            with self.subTest(how=how):
                self.assertEqual(clone.layers, model.layers)
                np.testing.assert_array_equal(clone.params, theta)
                self.assertEqual(clone.input_divisor, 1.0)
        copy = clones["copy"]
        copy.params = np.zeros(copy.n_params)
        np.testing.assert_array_equal(model.params, theta)  # independent
        weights = model.weights()
        self.assertEqual([w.shape for w in weights], [(6, 21), (4, 7), (3, 5)])
        np.testing.assert_array_equal(np.concatenate([w.ravel() for w in weights]), theta)

    def test_init_random_is_the_numpy_legacy_draw(self):
        with galann.Model([7, 4, 2]) as model:
            model.init_random(917)
            rs = np.random.RandomState(917)
            want = np.concatenate([(rs.rand(4, 8) * 0.4 - 0.2).ravel(),
                                   (rs.rand(2, 5) * 0.4 - 0.2).ravel()])
            np.testing.assert_array_equal(model.params, want)


class SyntheticAndCgTest(unittest.TestCase):
    def test_synthetic_set_is_deterministic_with_balanced_classes(self):
        a, b, c = (galann.Dataset.synthetic(30, 7), galann.Dataset.synthetic(30, 7),
                   galann.Dataset.synthetic(30, 8))
        self.assertEqual((a.n_samples, a.n_features, a.n_labels), (30, 1024, 3))
        np.testing.assert_array_equal(a.features, b.features)
        self.assertFalse(np.array_equal(a.features, c.features))
        np.testing.assert_array_equal(np.bincount(a.labels), [10, 10, 10])
        f = a.features
        self.assertTrue(np.all((f >= 0) & (f <= 1)))
        np.testing.assert_array_equal(np.round(f * 255), f * 255)

    def test_minimize_cg_solves_a_quadratic(self):
        A = np.diag([1.0, 4.0, 9.0])
        b = np.array([1.0, 2.0, 3.0])
        seen = []
        r = galann.minimize_cg(lambda x: (0.5 * x @ A @ x - b @ x, A @ x - b), np.zeros(3),
                               gtol=1e-10, callback=lambda it, x, f: seen.append(f))
        np.testing.assert_allclose(r.x, np.linalg.solve(A, b), rtol=1e-9)
        self.assertEqual(r.stop_reason, galann.STOP_CONVERGED)
        self.assertEqual(len(seen), r.iterations)

    def test_minimize_cg_reraises_objective_errors(self):
        def fun(x):
            raise ZeroDivisionError("inside the objective")
        with self.assertRaises(ZeroDivisionError):
            galann.minimize_cg(fun, np.ones(2))


if __name__ == "__main__":
    unittest.main()
