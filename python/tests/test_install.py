"""`pip install ./python` works offline, and the installed package finds
libgalann by $GALANN_LIBRARY, then pkg-config, then the dynamic loader.

The package is installed into a throwaway virtual environment (with this
interpreter's site packages, so numpy is there and nothing is downloaded:
--no-index --no-build-isolation) from a copy of python/, and imported from
outside the source tree. Needs pip, setuptools >= 61 and wheel (Debian:
python3-pip, python3-setuptools, python3-wheel); skips without them.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from importlib import metadata

import galann

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)


def missing_build_tools():
    """Why this interpreter cannot build the package offline, or None.
    Versions are read from the installed metadata: importing setuptools
    here would patch distutils in this process."""
    try:
        setuptools = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        return "no setuptools"
    if importlib.util.find_spec("pip") is None:
        return "no pip"
    version = tuple(int(p) for p in setuptools.split(".")[:2] if p.isdigit())
    if version < (61,):
        return f"setuptools {setuptools} < 61 reads no pyproject.toml metadata"
    if importlib.util.find_spec("wheel") is None and version < (70, 1):
        return f"no wheel package, and setuptools {setuptools} < 70.1 needs it"
    return None


def setUpModule():
    why = missing_build_tools()
    if why:
        raise unittest.SkipTest(f"{sys.executable} cannot build the package offline ({why}); "
                                "install pip, setuptools and wheel")


class InstalledPackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.library = os.path.realpath(galann.library_path)
        if not os.path.isabs(galann.library_path) or not os.path.exists(cls.library):
            raise unittest.SkipTest(f"the library under test ({galann.library_path}) is no file "
                                    "path: set GALANN_LIBRARY")
        cls.tmp = tempfile.mkdtemp(prefix="galann-install-")
        src = os.path.join(cls.tmp, "src")
        os.makedirs(src)
        shutil.copy(os.path.join(PYTHON_DIR, "pyproject.toml"), src)
        shutil.copytree(os.path.join(PYTHON_DIR, "galann"), os.path.join(src, "galann"),
                        ignore=shutil.ignore_patterns("__pycache__", "libgalann.so*"))
        cls.venv = os.path.join(cls.tmp, "venv")
        cls.python = os.path.join(cls.venv, "bin", "python")
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                        cls.venv], check=True, capture_output=True, timeout=300)
        env = cls.clean_env(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
        r = subprocess.run([cls.python, "-m", "pip", "install", "--no-index",
                            "--no-build-isolation", src], env=env, cwd=cls.tmp,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            shutil.rmtree(cls.tmp)
            raise AssertionError(f"pip install failed:\n{r.stdout}\n{r.stderr}")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @staticmethod
    def clean_env(**extra):
        """This environment without what points Python or the package at
        the source tree, and with no galann.pc but those the test writes."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "GALANN_LIBRARY", "LD_LIBRARY_PATH", "PKG_CONFIG_PATH")}
        env.update(extra)
        return env

    def setUp(self):
        # each test's own pkg-config folder (PKG_CONFIG_LIBDIR): empty
        # unless the test writes a galann.pc into it
        self.pc_dir = os.path.join(self.tmp, "pkgconfig-" + self.id().rsplit(".", 1)[-1])
        os.makedirs(self.pc_dir)

    def write_pc(self, libdir):
        with open(os.path.join(self.pc_dir, "galann.pc"), "w") as f:
            f.write(f"libdir={libdir}\nName: galann\nDescription: test\nVersion: 1.0.0\n")

    def installed(self, **env):
        """(galann.__file__, galann.library_path) of the installed package,
        imported from outside the source tree after a short fit."""
        code = ("import numpy as np, galann\n"
                "c = galann.Classifier(hidden=2, maxiter=2).fit(np.eye(4), ['a', 'b'] * 2)\n"
                "print(galann.__file__); print(galann.library_path)\n")
        r = subprocess.run([self.python, "-c", code], cwd=self.tmp, capture_output=True,
                           text=True, timeout=120,
                           env=self.clean_env(PKG_CONFIG_LIBDIR=self.pc_dir, **env))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.splitlines()

    def test_installed_package_is_imported_from_the_environment(self):
        where, _ = self.installed(GALANN_LIBRARY=self.library)
        self.assertTrue(where.startswith(self.venv + os.sep), where)

    def test_galann_library_comes_first(self):
        self.write_pc(os.path.dirname(self.library))
        _, path = self.installed(GALANN_LIBRARY=self.library)
        self.assertEqual(path, self.library)

    def test_pkg_config_libdir_is_next(self):
        libdir = os.path.dirname(self.library)
        self.write_pc(libdir)
        _, path = self.installed(LD_LIBRARY_PATH=libdir)  # pkg-config before the loader
        self.assertEqual(path, os.path.join(libdir, "libgalann.so.1"))

    def test_the_dynamic_loader_search_is_last(self):
        _, path = self.installed(LD_LIBRARY_PATH=os.path.dirname(self.library))
        self.assertEqual(path, "libgalann.so.1")


if __name__ == "__main__":
    unittest.main()
