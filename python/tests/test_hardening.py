"""Misuse that must fail cleanly: one Context shared by threads, values
out of range or of the wrong type, messages that name the function once."""

import threading
import unittest

import numpy as np

import galann
from galann import _lib


def small_set(seed=5, m=300, n=16, k=3):
    rng = np.random.default_rng(seed)
    return galann.Dataset(rng.random((m, n)), np.arange(m) % k)


class SharedContextTest(unittest.TestCase):
    """Threads sharing one Context take turns: every result is the one a
    single thread gets, bit for bit (a crash or a hang before)."""

    def run_threads(self, work, n_threads=2):
        results, errors = [None] * n_threads, []

        def run(i):
            try:
                results[i] = work(i)
            except BaseException as e:  # noqa: B902 - reported below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
            self.assertFalse(t.is_alive(), "a thread hung on the shared Context")
        if errors:
            raise errors[0]
        return results

    def test_two_threads_fitting_on_one_context_get_the_single_thread_model(self):
        with small_set() as data, galann.Model([16, 5, 3]) as start, \
                galann.Context("blas", threads=2) as ctx:
            start.init_random(917)
            with start.copy() as alone:
                ctx.fit(alone, data, maxiter=25)
                expected = alone.params
            models = [start.copy() for _ in range(2)]
            try:
                reports = self.run_threads(lambda i: ctx.fit(models[i], data, maxiter=25))
                for i in range(2):
                    self.assertEqual(reports[i].iterations, 25)
                    np.testing.assert_array_equal(models[i].params, expected)
            finally:
                for m in models:
                    m.close()

    def test_two_threads_hammering_one_context_get_the_single_thread_numbers(self):
        with small_set() as data, galann.Model([16, 5, 3]) as model, \
                galann.Context("blas", threads=2) as ctx:
            model.init_random(3)
            expected_cost, expected_grad = ctx.cost_gradient(model, data)

            def work(i):
                wrong = 0
                for r in range(200):
                    cost, grad = ctx.cost_gradient(model, data)
                    wrong += cost != expected_cost or not np.array_equal(grad, expected_grad)
                    if i == 1 and r % 10 == 0:
                        ctx.threads = 1 + r // 10 % 2  # the same bits for any count
                        ctx.profile()
                return wrong

            self.assertEqual(self.run_threads(work), [0, 0])

    def test_busy_status_has_a_name(self):
        self.assertEqual(_lib.ERR_BUSY, 11)
        self.assertEqual(_lib.STATUS_NAMES[_lib.ERR_BUSY], "GALANN_ERR_BUSY")
        self.assertEqual(_lib.decode(_lib.lib.strerror(_lib.ERR_BUSY)), "context busy")


class RangeTest(unittest.TestCase):
    """Every integer is checked before ctypes could wrap or truncate it,
    and complex numbers are refused (before, each was silently changed)."""

    def test_layer_sizes_are_checked_integers(self):
        for sizes, error in (([4, 2 ** 64, 3], OverflowError), ([4, -1, 3], ValueError),
                             ([4, 2.7, 3], TypeError), ([4, 2.0, 3], TypeError), ([4, "2", 3], TypeError)):
            with self.subTest(sizes=sizes), self.assertRaises(error):
                galann.Model(sizes)
        with galann.Model([4, np.int64(2), np.uint8(3)]) as m:
            self.assertEqual(m.layers, (4, 2, 3))

    def test_maxiter_below_zero_or_beyond_size_t_is_refused(self):
        with small_set() as data, galann.Model([16, 3, 3]) as model, galann.Context("reference") as ctx:
            model.init_random(1)
            before = model.params
            with self.assertRaises(ValueError):
                ctx.fit(model, data, maxiter=-1)
            with self.assertRaises(OverflowError):
                ctx.fit(model, data, maxiter=2 ** 64)
            with self.assertRaises(TypeError):
                ctx.fit(model, data, maxiter=2.5)
            np.testing.assert_array_equal(model.params, before)
            with self.assertRaises(ValueError):
                galann.minimize_cg(lambda x: (float(x @ x), 2 * x), np.ones(3), maxiter=-1)

    def test_thread_counts_are_not_wrapped(self):
        with self.assertRaises(OverflowError):
            galann.Context("blas", threads=2 ** 40)
        with self.assertRaises(galann.GalannError) as caught:
            galann.Context("blas", threads=2000)
        self.assertEqual(caught.exception.status, _lib.ERR_INVALID)
        with galann.Context("blas", threads=2) as ctx:
            with self.assertRaises(OverflowError):
                ctx.threads = 2 ** 33 + 1
            self.assertEqual(ctx.threads, 2)

    def test_seeds_and_counts_are_range_checked(self):
        with galann.Model([4, 2, 3]) as m:
            with self.assertRaises(OverflowError):
                m.init_random(2 ** 32)
            with self.assertRaises(ValueError):
                m.init_random(-1)
        with self.assertRaises(OverflowError):
            galann.Dataset.synthetic(10, seed=2 ** 32 + 5)
        with self.assertRaises(TypeError):
            galann.Dataset.synthetic(10.5)
        with self.assertRaises(OverflowError):
            galann.Dataset(np.zeros((2, 3)), [0, 1], n_labels=2 ** 64)
        with small_set() as data, galann.Model([16, 3, 3]) as model, galann.Context("reference") as ctx:
            with self.assertRaises(ValueError):
                ctx.check_gradient(model, data, max_params=-1)

    def test_complex_numbers_are_refused(self):
        X = np.ones((3, 2), dtype=complex)
        with self.assertRaises(TypeError) as caught:
            galann.Dataset(X, [0, 1, 0])
        self.assertIn("complex", str(caught.exception))
        with self.assertRaises(TypeError):
            galann.Dataset(np.ones((3, 2)), np.array([0, 1, 0], dtype=complex))
        with galann.Model([2, 2, 2]) as m:
            with self.assertRaises(TypeError):
                m.params = np.ones(m.n_params) * (1 + 1j)
        with self.assertRaises(TypeError):
            galann.minimize_cg(lambda x: (float(x @ x), 2 * x), np.ones(3) + 0j)
        with self.assertRaises(TypeError):
            galann.minimize_cg(lambda x: (float(x @ x), 2 * x + 1j), np.ones(3))


class MessageTest(unittest.TestCase):
    def test_function_name_is_not_repeated(self):
        with self.assertRaises(galann.GalannError) as caught:
            galann.Model([4])
        self.assertEqual(str(caught.exception),
                         "galann_model_new: a network needs at least 2 layers, got 1 "
                         "(GALANN_ERR_INVALID: invalid argument)")

    def test_function_is_named_when_the_message_does_not_name_it(self):
        with self.assertRaises(galann.GalannError) as caught:
            galann.Dataset.from_csv_text("1,2,a\x00b,4\n", name="nul.csv")
        self.assertEqual(str(caught.exception),
                         'galann_dataset_parse_csv: nul.csv:1: field 3 is not a number ("a\\x00b") '
                         "(GALANN_ERR_PARSE: parse error)")


if __name__ == "__main__":
    unittest.main()
