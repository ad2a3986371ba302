"""Loading the library: version, search order, statuses, backends."""

import os
import subprocess
import sys
import unittest

import galann
from galann import _lib


class LibraryTest(unittest.TestCase):
    def test_version_is_the_loaded_c_library_version(self):
        self.assertEqual(galann.__version__, "1.0.0")
        number = galann.version_number()
        major, minor, patch = (int(p) for p in galann.__version__.split("."))
        self.assertEqual(number, major * 10000 + minor * 100 + patch)
        self.assertGreaterEqual(number, _lib.API_MIN_NUMBER)

    def test_galann_library_variable_picks_the_library(self):
        env = os.environ.get("GALANN_LIBRARY")
        if not env:
            self.skipTest("GALANN_LIBRARY is not set")
        self.assertEqual(galann.library_path, env)

    def test_unloadable_galann_library_is_an_import_error_naming_it(self):
        env = dict(os.environ, GALANN_LIBRARY="/nonexistent/libgalann.so")
        r = subprocess.run([sys.executable, "-c", "import galann"], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError", r.stderr)
        self.assertIn("/nonexistent/libgalann.so", r.stderr)

    def test_strerror_and_status_names(self):
        self.assertEqual(_lib.decode(_lib.lib.strerror(_lib.ERR_PARSE)), "parse error")
        self.assertEqual(_lib.decode(_lib.lib.strerror(999)), "unknown status")
        e = galann.GalannError(_lib.ERR_DIMENSION, "sizes differ")
        self.assertIsInstance(e, RuntimeError)
        self.assertEqual((e.status, e.name, e.message), (5, "GALANN_ERR_DIMENSION", "sizes differ"))

    def test_reference_backend_is_always_built_in(self):
        names = galann.backends()
        self.assertIn("reference", names)
        self.assertEqual(galann.backend_available("reference"), (True, ""))
        ok, reason = galann.backend_available("no-such-backend")
        self.assertFalse(ok)
        self.assertIn("no-such-backend", reason)
        self.assertTrue(galann.backend_devices("reference"))


if __name__ == "__main__":
    unittest.main()
