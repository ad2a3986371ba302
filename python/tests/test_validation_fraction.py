"""Classifier(validation_fraction=f): galann_dataset_split's stratified
hold-out, drawn with the estimator's seed and scored every iteration to
keep the best iterate, exactly as if the user had passed it as X_val,
y_val; n_iter_no_change stops on it (galann_fit's patience)."""

import unittest

import numpy as np

import galann


def synthetic(n, seed):
    with galann.Dataset.synthetic(n, seed) as d:
        return d.features.copy(), d.labels.astype(np.int64)


class DatasetSplitTest(unittest.TestCase):
    def split(self, y, fraction, seed):
        X = np.arange(len(y), dtype=float)[:, None]  # the row number as the feature
        with galann.Dataset(X, y, 3) as d:
            rest, held = d.split(fraction, seed)
        with rest, held:
            return (rest.features[:, 0].astype(int), held.features[:, 0].astype(int),
                    held.n_labels)

    def test_each_class_holds_out_its_rounded_share_rows_in_order(self):
        y = np.repeat([0, 1, 2], [500, 300, 7])  # 7 * 0.2 = 1.4 -> 1
        rest, held, n_labels = self.split(y, 0.2, 917)
        np.testing.assert_array_equal(np.bincount(y[held]), [100, 60, 1])
        np.testing.assert_array_equal(np.sort(np.concatenate([rest, held])), np.arange(807))
        self.assertTrue(np.all(np.diff(rest) > 0) and np.all(np.diff(held) > 0))
        self.assertEqual(n_labels, 3)

    def test_the_split_depends_on_the_seed(self):
        y = np.arange(300) % 3
        a = self.split(y, 0.25, 5)[1]
        np.testing.assert_array_equal(a, self.split(y, 0.25, 5)[1])
        self.assertFalse(np.array_equal(a, self.split(y, 0.25, 6)[1]))

    def test_an_empty_part_is_refused(self):
        with self.assertRaises(galann.GalannError) as cm:
            self.split(np.array([0, 1, 2]), 0.5, 3)
        self.assertIn("leaves one part empty", str(cm.exception))


class ValidationFractionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.X, cls.y = synthetic(300, 51)

    def test_fraction_trains_as_the_same_split_given_as_x_val(self):
        labels = np.array(["E", "S", "I"])[self.y]
        c = galann.Classifier(maxiter=40, seed=7, validation_fraction=0.2).fit(self.X, labels)
        codes = np.searchsorted(c.classes_, labels)
        with galann.Dataset(self.X, codes, 3) as d:
            rest, held = d.split(0.2, 7)
        with rest, held:
            self.assertEqual(held.n_samples, 60)  # 20 of each class's 100
            explicit = galann.Classifier(maxiter=40, seed=7).fit(
                rest.features, c.classes_[rest.labels], held.features, c.classes_[held.labels])
        np.testing.assert_array_equal(c.theta_, explicit.theta_)
        self.assertEqual(c.best_iteration_, explicit.best_iteration_)
        costs = [h["validation_cost"] for h in c.history_]
        self.assertEqual(c.best_iteration_, int(np.argmin(costs)) + 1)
        self.assertLess(c.best_iteration_, c.n_iter_, "the last iterate was best: keep-best unseen")

    def test_without_fraction_nothing_is_held_out(self):
        c = galann.Classifier(maxiter=5).fit(self.X, self.y)
        self.assertTrue(np.isnan(c.history_[0]["validation_cost"]))
        self.assertEqual(c.best_iteration_, c.n_iter_)

    def test_n_iter_no_change_stops_when_validation_stops_improving(self):
        full = galann.Classifier(maxiter=80, lam=0.0, validation_fraction=0.5).fit(self.X, self.y)
        costs = np.array([h["validation_cost"] for h in full.history_])
        best = int(np.argmin(costs[:60])) + 1
        self.assertLess(best + 10, 80, "validation kept improving: the test proves nothing")
        early = galann.Classifier(maxiter=80, lam=0.0, validation_fraction=0.5,
                                  n_iter_no_change=10).fit(self.X, self.y)
        self.assertEqual(early.stop_reason_, galann._lib.decode(
            galann._lib.lib.stop_reason_string(galann.STOP_NO_IMPROVEMENT)))
        self.assertEqual(early.n_iter_, early.best_iteration_ + 10)
        np.testing.assert_array_equal(early.history_[-1]["validation_cost"],
                                      costs[early.n_iter_ - 1])

    def test_misuse_is_refused(self):
        with self.assertRaisesRegex(ValueError, "give one of them"):
            galann.Classifier(validation_fraction=0.2).fit(self.X, self.y, self.X, self.y)
        with self.assertRaisesRegex(ValueError, "n_iter_no_change stops on the validation cost"):
            galann.Classifier(n_iter_no_change=5).fit(self.X, self.y)
        with self.assertRaisesRegex(ValueError, "holds out no sample of n_samples=1"):
            galann.Classifier(validation_fraction=0.5).fit(self.X[:1], self.y[:1])


if __name__ == "__main__":
    unittest.main()
