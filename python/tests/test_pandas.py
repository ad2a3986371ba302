"""galann.Classifier with pandas: DataFrame columns become
feature_names_in_ and are checked at prediction as scikit-learn checks
them; Series and categorical labels come back as the user's labels.

Needs pandas (Debian: python3-pandas); skipped with a message without it.
"""

import sys
import unittest
import warnings

import numpy as np

import galann

try:
    import pandas as pd
    PANDAS_ERROR = None
except ImportError as e:
    PANDAS_ERROR = e


def setUpModule():
    if PANDAS_ERROR is not None:
        raise unittest.SkipTest(f"pandas is not importable by {sys.executable} ({PANDAS_ERROR}); "
                                "Debian: apt-get install python3-pandas")


def synthetic_frame(n, seed):
    with galann.Dataset.synthetic(n, seed) as d:
        X, y = d.features.copy(), d.labels.astype(np.int64)
    return pd.DataFrame(X, columns=[f"p{i}" for i in range(X.shape[1])]), y


class PandasTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.frame, cls.y = synthetic_frame(300, 61)
        cls.clf = galann.Classifier(maxiter=10).fit(cls.frame, cls.y)

    def test_dataframe_columns_become_feature_names(self):
        np.testing.assert_array_equal(self.clf.feature_names_in_, self.frame.columns)
        self.assertEqual(self.clf.feature_names_in_.dtype, object)
        self.assertEqual(self.clf.n_features_in_, 1024)
        plain = galann.Classifier(maxiter=10).fit(self.frame.to_numpy(), self.y)
        self.assertFalse(hasattr(plain, "feature_names_in_"))
        np.testing.assert_array_equal(plain.theta_, self.clf.theta_)

    def test_prediction_checks_the_feature_names(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            self.clf.predict(self.frame)
        with self.assertWarnsRegex(UserWarning, "X does not have valid feature names, but "
                                   "Classifier was fitted with feature names"):
            self.clf.predict(self.frame.to_numpy())
        reordered = self.frame[list(self.frame.columns[::-1])]
        with self.assertRaisesRegex(ValueError, "Feature names must be in the same order"):
            self.clf.predict(reordered)
        renamed = self.frame.rename(columns={"p3": "q3"})
        with self.assertRaisesRegex(ValueError, "Feature names unseen at fit time:\n- q3\n"):
            self.clf.predict(renamed)

    def test_mixed_column_name_types_are_refused(self):
        frame = self.frame.rename(columns={"p0": 0})
        with self.assertRaisesRegex(TypeError, "Feature names are only supported if all input "
                                    "features have string names"):
            galann.Classifier().fit(frame, self.y)

    def test_categorical_labels_come_back_as_their_categories(self):
        names = np.array(["E", "S", "I"])
        categorical = pd.Series(pd.Categorical(names[self.y]))
        c = galann.Classifier(maxiter=10).fit(self.frame, categorical)
        np.testing.assert_array_equal(c.classes_, ["E", "I", "S"])
        strings = galann.Classifier(maxiter=10).fit(self.frame, names[self.y])
        np.testing.assert_array_equal(c.theta_, strings.theta_)
        pred = c.predict(self.frame)
        np.testing.assert_array_equal(pred, strings.predict(self.frame))
        self.assertEqual(c.score(self.frame, categorical), strings.score(self.frame, names[self.y]))

    def test_series_of_integer_labels_train_as_the_array(self):
        c = galann.Classifier(maxiter=10).fit(self.frame, pd.Series(self.y + 1))
        np.testing.assert_array_equal(c.classes_, [1, 2, 3])
        np.testing.assert_array_equal(c.predict(self.frame), self.clf.predict(self.frame) + 1)


if __name__ == "__main__":
    unittest.main()
