"""Where the galann package looks for libgalann, in order.

This module only lists the places (it loads nothing: _lib.py does):

1. ``$GALANN_LIBRARY``, a path to the library file; a value that is set
   must load (it is never silently passed over);
2. ``libgalann.so*`` in the package folder itself (a wheel or a copy that
   bundles the library);
3. in a source checkout (``python/galann`` inside the project, beside
   its ``meson.build``): the meson build folder ``build/lib``;
4. pkg-config: ``$(pkg-config --variable=libdir galann)/libgalann.so.1``
   (the library installed with its galann.pc; ``PKG_CONFIG_PATH`` is
   honoured as pkg-config honours it);
5. the dynamic loader's own search (``LD_LIBRARY_PATH``, the ld.so cache,
   the system folders): ``libgalann.so.1``, then ``libgalann.so``.

An installed package (pip install ./python) has neither 2 nor 3, so it
finds the library by $GALANN_LIBRARY, then pkg-config, then the loader.
"""

import glob
import os
import subprocess

#: The library's file name as the loader knows it: libgalann.so.<soversion>
#: (galann_soversion in meson.build), then the development link.
SONAME = "libgalann.so.1"
LINK_NAME = "libgalann.so"

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def pkg_config_libdir(environ=None):
    """The libdir variable of galann.pc as pkg-config reports it, or None
    when pkg-config is not installed or does not know galann."""
    try:
        r = subprocess.run(["pkg-config", "--variable=libdir", "galann"], capture_output=True,
                           text=True, timeout=30, env=environ)
    except (OSError, subprocess.SubprocessError):
        return None
    libdir = r.stdout.strip()
    return libdir if r.returncode == 0 and libdir else None


def _checkout_build_lib(package_dir):
    project = os.path.normpath(os.path.join(package_dir, "..", ".."))
    if os.path.basename(os.path.dirname(package_dir)) != "python" or \
            not os.path.isfile(os.path.join(project, "meson.build")):
        return None
    return os.path.join(project, "build", "lib")


def _in_folder(folder):
    """libgalann.so.1, else any libgalann.so* of folder that exists."""
    preferred = [os.path.join(folder, n) for n in (SONAME, LINK_NAME)]
    found = [p for p in preferred if os.path.exists(p)]
    return found[:1] or sorted(glob.glob(os.path.join(folder, "libgalann.so*")))[:1]


def search_order(environ=None, package_dir=PACKAGE_DIR):
    """[(source, path or name)] in the order _lib tries them; source is
    "GALANN_LIBRARY", "package", "checkout", "pkg-config" or "loader".
    environ defaults to os.environ."""
    environ = os.environ if environ is None else environ
    if environ.get("GALANN_LIBRARY"):
        return [("GALANN_LIBRARY", environ["GALANN_LIBRARY"])]
    places = [("package", p) for p in sorted(glob.glob(os.path.join(package_dir, "libgalann.so*")))]
    build = _checkout_build_lib(package_dir)
    if build is not None:
        places += [("checkout", p) for p in _in_folder(build)]
    libdir = pkg_config_libdir(dict(environ))
    if libdir is not None:
        places += [("pkg-config", p) for p in _in_folder(libdir)]
    places += [("loader", SONAME), ("loader", LINK_NAME)]
    return places
