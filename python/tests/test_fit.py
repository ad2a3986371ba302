"""Context.fit: reports, history, cancelling by callback, exception and
Ctrl-C, keep-best, and the trajectory of the original program."""

import os
import signal
import threading
import unittest

import numpy as np

import galann
from _support import require_shared


def synthetic_pair():
    return galann.Dataset.synthetic(300, 11), galann.Dataset.synthetic(90, 12)


class FitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.train, cls.val = synthetic_pair()
        cls.ctx = galann.Context()

    @classmethod
    def tearDownClass(cls):
        cls.ctx.close()
        cls.train.close()
        cls.val.close()

    def new_model(self):
        return galann.Model([1024, 8, 3]).init_random(917)

    def test_report_and_history_agree(self):
        model = self.new_model()
        r = self.ctx.fit(model, self.train, maxiter=12)
        self.assertEqual(r.status, 0)
        self.assertEqual(r.stop_reason, galann.STOP_MAX_ITERATIONS)
        self.assertEqual(r.iterations, 12)
        self.assertEqual(len(r.history), r.iterations)
        self.assertEqual([p.iteration for p in r.history], list(range(1, 13)))
        self.assertEqual(r.history[-1].evaluations, r.evaluations)
        costs = [p.train_cost for p in r.history]
        self.assertTrue(all(b < a for a, b in zip(costs, costs[1:])), costs)
        self.assertEqual(r.train_cost, costs[-1])
        self.assertEqual(r.train_cost, self.ctx.cost(model, self.train))
        self.assertEqual(r.train_accuracy, self.ctx.accuracy(model, self.train))
        self.assertTrue(np.isnan(r.validation_cost) and np.isnan(r.history[0].validation_cost))

    def test_keep_best_ends_at_the_lowest_validation_cost(self):
        model = self.new_model()
        J_start = self.ctx.cost(model, self.val)
        r = self.ctx.fit(model, self.train, lam=0.0, maxiter=40, validation=self.val)
        vcosts = [J_start] + [p.validation_cost for p in r.history]
        self.assertEqual(r.best_iteration, int(np.argmin(vcosts)))
        self.assertEqual(self.ctx.cost(model, self.val, 0.0), min(vcosts))
        self.assertEqual(r.validation_cost, min(vcosts))

    def test_callback_returning_true_cancels_and_keeps_the_result(self):
        model = self.new_model()
        r = self.ctx.fit(model, self.train, maxiter=100, callback=lambda p: p.iteration >= 5)
        self.assertTrue(r.cancelled)
        self.assertEqual(r.status, 10)
        self.assertEqual(r.iterations, 5)
        self.assertEqual(self.ctx.cost(model, self.train), r.history[-1].train_cost)

    def test_exception_in_callback_is_reraised_after_the_call(self):
        model = self.new_model()
        seen = []

        def callback(p):
            seen.append(p.train_cost)
            if p.iteration == 4:
                raise LookupError("from the callback")

        with self.assertRaisesRegex(LookupError, "from the callback"):
            self.ctx.fit(model, self.train, maxiter=100, callback=callback)
        self.assertEqual(len(seen), 4)  # stopped at once, not called again
        theta = model.params
        self.assertTrue(np.all(np.isfinite(theta)))
        self.assertEqual(self.ctx.cost(model, self.train), seen[-1])

    def test_sigint_during_fit_raises_keyboard_interrupt_with_a_finite_model(self):
        before = signal.getsignal(signal.SIGINT)
        for how in ("os.kill", "handler call"):
            with self.subTest(how=how):
                model = self.new_model()
                start = model.params
                seen = []

                def callback(p):
                    seen.append(p.iteration)
                    if p.iteration == 3:
                        if how == "os.kill":
                            os.kill(os.getpid(), signal.SIGINT)
                        else:
                            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)

                with self.assertRaises(KeyboardInterrupt):
                    self.ctx.fit(model, self.train, maxiter=200, callback=callback)
                self.assertLessEqual(max(seen), 4)
                theta = model.params
                self.assertTrue(np.all(np.isfinite(theta)))
                self.assertFalse(np.array_equal(theta, start))
                self.assertIs(signal.getsignal(signal.SIGINT), before)

    def test_fit_in_a_worker_thread_leaves_signals_alone(self):
        results = []

        def work():
            with galann.Context() as ctx:
                model = self.new_model()
                results.append(ctx.fit(model, self.train, maxiter=3).iterations)

        t = threading.Thread(target=work)
        t.start()
        t.join(120)
        self.assertEqual(results, [3])

    def test_fit_errors_raise_galann_error(self):
        model = galann.Model([1024, 8, 4])
        with self.assertRaises(galann.GalannError) as cm:
            self.ctx.fit(model, self.train, maxiter=3)
        self.assertEqual(cm.exception.status, 5)  # GALANN_ERR_DIMENSION
        with self.assertRaises(galann.GalannError) as cm:
            self.ctx.fit(self.new_model(), self.train, keep_best=True)  # needs validation
        self.assertEqual(cm.exception.status, 1)
        self.assertIn("keep_best", cm.exception.message)


class GalaxyTrajectoryTest(unittest.TestCase):
    def test_fit_trajectory_matches_the_original_through_iteration_20(self):
        # reference-model.md: correct implementations agree to 6e-13 in J
        # through iteration 20; CG amplifies rounding after that.
        traj = np.loadtxt(require_shared("reference", "galaxy", "trajectory_original.txt"))
        with galann.Context() as ctx, \
                galann.Dataset.from_csv(require_shared("data", "galaxy", "train.csv")) as train, \
                galann.Model([1024, 8, 3]) as model:
            model.init_random(917)
            r = ctx.fit(model, train, maxiter=20)
        for p, want in zip(r.history, traj[:20]):
            rel = abs(p.train_cost - want[1]) / want[1]
            self.assertLessEqual(rel, 1e-12, f"iteration {p.iteration}: J {p.train_cost!r}, "
                                 f"original {want[1]!r}, relative {rel:.3g}")
            self.assertAlmostEqual(p.train_accuracy, want[2], places=6)


if __name__ == "__main__":
    unittest.main()
