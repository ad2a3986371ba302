"""Classifier takes labels of any sortable kind: classes_ are the distinct
labels sorted, one output per class and no other, predict() answers in the
user's labels, predict_proba() has its columns in classes_ order, and
decision_function() agrees with predict()."""

import unittest

import numpy as np

import galann


def synthetic(n, seed):
    with galann.Dataset.synthetic(n, seed) as d:
        return d.features.copy(), d.labels.astype(np.int64)


class LabelKindsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.X, cls.y = synthetic(300, 21)
        cls.Xt, cls.yt = synthetic(150, 22)
        cls.coded = cls.fit(cls.y)  # the plain 0..2 labels the C library uses

    @staticmethod
    def fit(labels, X=None):
        return galann.Classifier(maxiter=20).fit(LabelKindsTest.X if X is None else X, labels)

    def assert_same_network(self, c, reference):
        self.assertEqual(c.layers_, reference.layers_)
        np.testing.assert_array_equal(c.theta_, reference.theta_)
        np.testing.assert_array_equal(c.predict_proba(self.Xt), reference.predict_proba(self.Xt))

    def test_labels_1_to_3_train_the_three_output_network_of_0_to_2(self):
        c = self.fit(self.y + 1)
        np.testing.assert_array_equal(c.classes_, [1, 2, 3])
        self.assertEqual(c.layers_, (1024, 8, 3))  # no output for an absent class 0
        self.assert_same_network(c, self.coded)
        pred = c.predict(self.Xt)
        np.testing.assert_array_equal(pred, self.coded.predict(self.Xt) + 1)
        self.assertEqual(pred.dtype, c.classes_.dtype)

    def test_labels_with_gaps_make_no_empty_class(self):
        c = self.fit(np.array([0, 5, 9])[self.y])
        np.testing.assert_array_equal(c.classes_, [0, 5, 9])
        self.assert_same_network(c, self.coded)

    def test_string_labels_come_back_as_strings_with_columns_in_sorted_order(self):
        names = np.array(["E", "S", "I"])  # 0 elliptical, 1 spiral, 2 irregular
        c = self.fit(names[self.y])
        np.testing.assert_array_equal(c.classes_, ["E", "I", "S"])
        # sorted, "S" is the third class: the network is the one trained on
        # labels renumbered in that order, not on the original numbers
        renumbered = self.fit(np.searchsorted(c.classes_, names[self.y]))
        self.assert_same_network(c, renumbered)
        pred = c.predict(self.Xt)
        self.assertEqual(pred.dtype, c.classes_.dtype)
        np.testing.assert_array_equal(pred, c.classes_[renumbered.predict(self.Xt)])
        np.testing.assert_array_equal(pred, c.classes_[np.argmax(c.predict_proba(self.Xt), axis=1)])
        self.assertEqual(c.score(self.Xt, names[self.yt]), renumbered.score(
            self.Xt, np.searchsorted(c.classes_, names[self.yt])))

    def test_lists_and_object_arrays_of_strings_are_labels_too(self):
        names = ["elliptical", "spiral", "irregular"]
        as_list = self.fit([names[i] for i in self.y])
        as_object = self.fit(np.array(names, dtype=object)[self.y])
        np.testing.assert_array_equal(as_list.classes_, sorted(names))
        np.testing.assert_array_equal(as_object.classes_, sorted(names))
        np.testing.assert_array_equal(as_list.theta_, as_object.theta_)
        self.assertEqual(as_object.predict(self.Xt).dtype, object)

    def test_two_classes_decision_function_is_the_log_ratio_and_agrees_with_predict(self):
        keep = self.y < 2
        c = self.fit(self.y[keep] == 1, X=self.X[keep])
        np.testing.assert_array_equal(c.classes_, [False, True])
        d = c.decision_function(self.Xt)
        self.assertEqual(d.shape, (self.Xt.shape[0],))
        np.testing.assert_array_equal(c.classes_[(d > 0).astype(int)], c.predict(self.Xt))
        p = c.predict_proba(self.Xt)
        np.testing.assert_allclose(d, np.log(p[:, 1] / p[:, 0]), rtol=1e-12, atol=1e-12)
        self.assertGreater(len(set(c.predict(self.Xt))), 1, "one class only: the test proves little")

    def test_three_classes_decision_function_is_the_output_activations(self):
        a = self.coded.decision_function(self.Xt)
        self.assertEqual(a.shape, (self.Xt.shape[0], 3))
        self.assertTrue(np.all((a > 0) & (a < 1)))
        np.testing.assert_array_equal(np.argmax(a, axis=1), self.coded.predict(self.Xt))

    def test_one_class_is_learnt_and_predicted(self):
        c = self.fit(np.full(self.y.shape, "S"))
        np.testing.assert_array_equal(c.classes_, ["S"])
        self.assertEqual(c.layers_, (1024, 8, 1))
        np.testing.assert_array_equal(c.predict(self.Xt), ["S"] * self.Xt.shape[0])
        np.testing.assert_array_equal(c.predict_proba(self.Xt), 1.0)

    def test_continuous_and_mixed_labels_are_refused_in_sklearn_words(self):
        with self.assertRaisesRegex(ValueError, "^Unknown label type: continuous"):
            self.fit(self.y + 0.5)
        with self.assertRaisesRegex(ValueError, r"^Mix of label input types \(string and number\)"):
            self.fit(np.array(["E", 1, 2] * 100, dtype=object))


if __name__ == "__main__":
    unittest.main()
