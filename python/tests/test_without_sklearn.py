"""Classifier is a scikit-learn classifier without scikit-learn: galann
never imports it to fit or predict, the estimator type and tags are plain
attributes, and with scikit-learn unimportable the exception and warning
classes are galann's own, with scikit-learn's bases.

Each case runs in a fresh interpreter, so that what this process imported
before cannot hide an import."""

import subprocess
import sys
import textwrap
import unittest


def run_python(code):
    """Run code in a child interpreter (this one, with this environment:
    PYTHONPATH and GALANN_LIBRARY as the test runner set them); returns its
    stdout, failing the test with its stderr."""
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError(f"child interpreter failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


class WithoutSklearnTest(unittest.TestCase):
    def test_fit_and_predict_never_import_sklearn(self):
        out = run_python("""
            import sys
            import numpy as np
            import galann
            with galann.Dataset.synthetic(90, 3) as d:
                X, y = d.features.copy(), np.array(["E", "S", "I"])[d.labels]
            c = galann.Classifier(maxiter=5, validation_fraction=0.2).fit(X, y)
            c.predict(X), c.predict_proba(X), c.decision_function(X), c.score(X, y)
            print(sorted(m for m in sys.modules if m.split(".")[0] == "sklearn"))
        """)
        self.assertEqual(out.strip(), "[]")

    def test_estimator_type_and_tags_are_class_attributes(self):
        import galann
        c = galann.Classifier()
        self.assertEqual(type(c)._estimator_type, "classifier")
        tags = c._more_tags()
        self.assertEqual((tags["requires_y"], tags["X_types"], tags["allow_nan"],
                          tags["non_deterministic"]), (True, ["2darray"], False, False))
        self.assertTrue(callable(type(c).__sklearn_tags__))

    def test_unimportable_sklearn_gives_own_classes_with_sklearns_bases(self):
        out = run_python("""
            import sys, warnings
            sys.modules["sklearn"] = None  # import sklearn now raises ImportError
            import numpy as np
            import galann
            from galann import _compat
            print(galann.NotFittedError is _compat.NotFittedError,
                  galann.NotFittedError.__bases__ == (ValueError, AttributeError),
                  issubclass(galann.DataConversionWarning, UserWarning),
                  galann.DataConversionWarning is _compat.DataConversionWarning)
            try:
                galann.Classifier().predict(np.zeros((2, 3)))
            except galann.NotFittedError as e:
                print(type(e).__module__, "not fitted yet" in str(e))
            with galann.Dataset.synthetic(30, 3) as d:
                X, y = d.features.copy(), d.labels.copy()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                galann.Classifier(maxiter=2).fit(X, y[:, None])
            print([w.category.__name__ for w in caught])
        """)
        self.assertEqual(out.splitlines(), ["True True True True", "galann._compat True",
                                            "['DataConversionWarning']"])


if __name__ == "__main__":
    unittest.main()
