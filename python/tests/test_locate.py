"""The order in which the package looks for libgalann (_locate.py):
GALANN_LIBRARY, a bundled copy, a source checkout's build, pkg-config's
libdir, the dynamic loader. Checked on folders laid out like a checkout,
an installed package and a pkg-config prefix, with empty files standing
for the library (the order is listed, nothing is loaded)."""

import os
import shutil
import tempfile
import unittest

from galann import _locate

LOADER = [("loader", "libgalann.so.1"), ("loader", "libgalann.so")]


def touch(*parts):
    path = os.path.join(*parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").close()
    return path


class SearchOrderTest(unittest.TestCase):
    def setUp(self):
        if shutil.which("pkg-config") is None:
            self.skipTest("pkg-config is not installed (scripts/install-deps.sh installs it)")
        self.tmp = tempfile.mkdtemp(prefix="galann-locate-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.pc_dir = os.path.join(self.tmp, "pkgconfig")
        os.makedirs(self.pc_dir)
        # only our folder: a galann.pc installed on this machine must not count
        self.environ = {"PATH": os.environ.get("PATH", ""), "PKG_CONFIG_LIBDIR": self.pc_dir}

    def write_pc(self, libdir):
        with open(os.path.join(self.pc_dir, "galann.pc"), "w") as f:
            f.write(f"libdir={libdir}\nName: galann\nDescription: test\nVersion: 1.0.0\n"
                    "Libs: -L${libdir} -lgalann\n")

    def test_galann_library_is_the_only_place_when_set(self):
        self.write_pc(self.tmp)
        environ = dict(self.environ, GALANN_LIBRARY="/somewhere/libgalann.so.1")
        self.assertEqual(_locate.search_order(environ, os.path.join(self.tmp, "galann")),
                         [("GALANN_LIBRARY", "/somewhere/libgalann.so.1")])

    def test_installed_package_tries_pkg_config_libdir_then_the_loader(self):
        libdir = os.path.join(self.tmp, "prefix", "lib")
        lib = touch(libdir, "libgalann.so.1")
        touch(libdir, "libgalann.so")
        self.write_pc(libdir)
        package = os.path.join(self.tmp, "site-packages", "galann")
        os.makedirs(package)
        self.assertEqual(_locate.pkg_config_libdir(self.environ), libdir)
        self.assertEqual(_locate.search_order(self.environ, package),
                         [("pkg-config", lib)] + LOADER)

    def test_without_galann_pc_only_the_loader_is_left(self):
        package = os.path.join(self.tmp, "site-packages", "galann")
        os.makedirs(package)
        self.assertIsNone(_locate.pkg_config_libdir(self.environ))
        self.assertEqual(_locate.search_order(self.environ, package), LOADER)

    def test_bundled_then_checkout_then_pkg_config_then_loader(self):
        project = os.path.join(self.tmp, "project")
        touch(project, "meson.build")
        package = os.path.join(project, "python", "galann")
        bundled = touch(package, "libgalann.so.1")
        built = touch(project, "build", "lib", "libgalann.so.1")
        installed = touch(self.tmp, "lib", "libgalann.so.1")
        self.write_pc(os.path.dirname(installed))
        self.assertEqual(_locate.search_order(self.environ, package),
                         [("package", bundled), ("checkout", built), ("pkg-config", installed)]
                         + LOADER)

    def test_a_python_folder_outside_a_meson_project_is_no_checkout(self):
        package = os.path.join(self.tmp, "python", "galann")
        os.makedirs(package)
        touch(self.tmp, "build", "lib", "libgalann.so.1")  # but no meson.build beside it
        self.assertEqual(_locate.search_order(self.environ, package), LOADER)


if __name__ == "__main__":
    unittest.main()
