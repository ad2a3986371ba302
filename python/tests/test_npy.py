""".npy files through the binding, with numpy's own writer and reader:
a uint8 file written by numpy.save loads as uint8 pixels (mapped, not
copied), saves back with galann_dataset_save_npy and numpy.load returns
the identical array and dtype; float32 and float64 likewise; Dataset and
Classifier take uint8 X as it is (no float64 copy) with the numbers of
X / 255; defective files raise GalannError naming the file."""

import os
import tempfile
import unittest

import numpy as np

import galann
from galann import _lib, _validation


def pixels(m=30, n=16, seed=5):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(m, n), dtype=np.uint8), np.arange(m) % 3


def mapping_of(path):
    """[(start, end)] of /proc/self/maps lines that map path."""
    real = os.path.realpath(path)
    ranges = []
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip() == real:
                start, end = (int(v, 16) for v in fields[0].split("-"))
                ranges.append((start, end))
    return ranges


class NpyTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_a_uint8_file_round_trips_through_c_with_its_dtype(self):
        X, y = pixels()
        np.save(self.path("x.npy"), X)
        np.save(self.path("y.npy"), y)  # int64
        with galann.Dataset.load_npy(self.path("x.npy"), self.path("y.npy")) as d:
            self.assertEqual(d.dtype, np.uint8)
            self.assertEqual(d.divisor, 255.0)
            self.assertEqual((d.n_samples, d.n_features, d.n_labels), (30, 16, 3))
            np.testing.assert_array_equal(d.stored_features, X)
            np.testing.assert_array_equal(d.labels, y)
            np.testing.assert_array_equal(d.features, X / 255.0)
            d.save_npy(self.path("x2.npy"), self.path("y2.npy"))
        X2, y2 = np.load(self.path("x2.npy")), np.load(self.path("y2.npy"))
        self.assertEqual(X2.dtype, np.uint8)
        np.testing.assert_array_equal(X2, X)
        self.assertEqual(y2.dtype, np.int32)
        np.testing.assert_array_equal(y2, y)
        # numpy's bytes exactly: the same header layout and padding
        with open(self.path("x.npy"), "rb") as a, open(self.path("x2.npy"), "rb") as b:
            ours, numpys = b.read(), a.read()
        self.assertEqual(ours[128:], numpys[-X.nbytes:])

    def test_float32_and_float64_round_trip_as_stored(self):
        X, y = pixels()
        for dtype in (np.float32, np.float64):
            with self.subTest(dtype=dtype.__name__):
                Xf = (X / 7.0).astype(dtype)
                np.save(self.path("x.npy"), Xf)
                np.save(self.path("y.npy"), y.astype(np.int16))
                with galann.Dataset.load_npy(self.path("x.npy"), self.path("y.npy")) as d:
                    self.assertEqual(d.dtype, dtype)
                    np.testing.assert_array_equal(d.stored_features, Xf)
                    d.save_npy(self.path("x2.npy"), self.path("y2.npy"))
                back = np.load(self.path("x2.npy"))
                self.assertEqual(back.dtype, dtype)
                np.testing.assert_array_equal(back, Xf)

    def test_versions_2_and_3_and_the_label_column(self):
        X, y = pixels()
        for version in ((1, 0), (2, 0), (3, 0)):
            with self.subTest(version=version):
                with open(self.path("x.npy"), "wb") as f:
                    np.lib.format.write_array(f, np.column_stack([y, X]).astype(np.uint8), version=version)
                with galann.Dataset.load_npy(self.path("x.npy")) as d:
                    np.testing.assert_array_equal(d.labels, y)
                    np.testing.assert_array_equal(d.stored_features, X)
                with galann.Dataset.load_npy(self.path("x.npy"), labelled=False, divisor=1.0) as d:
                    self.assertEqual((d.n_features, d.n_labels), (17, 1))
                    np.testing.assert_array_equal(d.features[:, 1:], X.astype(np.float64))

    def test_a_usable_file_is_mapped_and_the_dataset_points_into_it(self):
        if not os.path.exists("/proc/self/maps"):
            self.skipTest("no /proc/self/maps")
        X, y = pixels(m=64, n=1024)
        np.save(self.path("x.npy"), X)
        np.save(self.path("y.npy"), y.astype(np.int32))
        d = galann.Dataset.load_npy(self.path("x.npy"), self.path("y.npy"))
        address = d.stored_features.__array_interface__["data"][0]
        self.assertTrue(any(s <= address < e for s, e in mapping_of(self.path("x.npy"))))
        view = d.stored_features
        d.close()
        del d
        np.testing.assert_array_equal(view, X)  # the view keeps the mapping alive
        del view
        with galann.Dataset.load_npy(self.path("x.npy"), self.path("y.npy"), mmap=False) as d:
            address = d.stored_features.__array_interface__["data"][0]
            self.assertFalse(any(s <= address < e for s, e in mapping_of(self.path("x.npy"))))

    def test_defective_files_raise_with_the_file_and_the_defect(self):
        X, y = pixels()
        cases = {
            "fortran.npy": (np.asfortranarray(X.astype(np.float64)), "Fortran order"),
            "bigendian.npy": (X.astype(">f8"), "big-endian"),
            "int.npy": (X.astype(np.int32), "dtype '<i4' is not supported for features"),
            "one-d.npy": (X[0], "features must be a 2-D array"),
        }
        for name, (array, message) in cases.items():
            with self.subTest(name=name):
                np.save(self.path(name), array)
                with self.assertRaises(galann.GalannError) as cm:
                    galann.Dataset.load_npy(self.path(name))
                self.assertEqual(cm.exception.status, _lib.ERR_PARSE)
                self.assertIn(name, cm.exception.message)
                self.assertIn(message, cm.exception.message)
        np.save(self.path("x.npy"), X)
        with open(self.path("x.npy"), "rb") as f:
            data = f.read()
        with open(self.path("cut.npy"), "wb") as f:
            f.write(data[:-5])
        with self.assertRaises(galann.GalannError) as cm:
            galann.Dataset.load_npy(self.path("cut.npy"))
        self.assertIn("cut.npy: truncated", cm.exception.message)
        np.save(self.path("y.npy"), y.astype(np.float64))
        with self.assertRaises(galann.GalannError) as cm:
            galann.Dataset.load_npy(self.path("x.npy"), self.path("y.npy"))
        self.assertIn("is not supported for labels", cm.exception.message)
        with self.assertRaises(galann.GalannError) as cm:
            galann.Dataset.load_npy(self.tmp.name)
        self.assertEqual(cm.exception.status, _lib.ERR_IO)


class Uint8InputTest(unittest.TestCase):
    def test_dataset_keeps_uint8_and_float32_and_gives_the_float64_numbers(self):
        X, y = pixels(n=20)
        with galann.Dataset(X, y) as u8, galann.Dataset(X / 255.0, y) as f64, \
                galann.Dataset(X.astype(np.float32), y) as f32, galann.Context("reference") as ctx, \
                galann.Model([20, 4, 3]) as model:
            self.assertEqual((u8.dtype, f64.dtype, f32.dtype), (np.uint8, np.float64, np.float32))
            np.testing.assert_array_equal(u8.stored_features, X)
            model.init_random(917)
            J8, g8 = ctx.cost_gradient(model, u8)
            J64, g64 = ctx.cost_gradient(model, f64)
            self.assertEqual(J8, J64)
            np.testing.assert_array_equal(g8, g64)
        with galann.Dataset(np.asfortranarray(X), y, divisor=2.0) as d:
            self.assertEqual(d.dtype, np.uint8)
            np.testing.assert_array_equal(d.features, X / 2.0)
        with self.assertRaises(ValueError):
            galann.Dataset(X / 255.0, y, divisor=2.0)

    def test_the_classifier_takes_uint8_without_upcasting(self):
        X, y = pixels(m=60, n=12)
        self.assertEqual(_validation.features(X, "Classifier").dtype, np.uint8)
        a = galann.Classifier(hidden=3, maxiter=15, backend="reference").fit(X, y)
        b = galann.Classifier(hidden=3, maxiter=15, backend="reference").fit(X / 255.0, y)
        np.testing.assert_array_equal(a.theta_, b.theta_)
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X / 255.0))
        np.testing.assert_array_equal(a.predict(X), b.predict(X))


if __name__ == "__main__":
    unittest.main()
