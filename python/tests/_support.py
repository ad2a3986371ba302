"""Helpers shared by the Python tests: where the reference data lives.

The real galaxy data and the fixtures of the original program are not part
of the project; they are looked for in $GALANN_SHARED_DIR, else ../shared
beside the project root, and tests that need them skip with a message,
or fail when GALANN_REQUIRE_DATA=1 (run.py --require-data).
"""

import json
import os
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT_ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def shared_dir():
    return os.environ.get("GALANN_SHARED_DIR") or os.path.join(PROJECT_ROOT, "..", "shared")


def shared_path(*parts):
    return os.path.join(shared_dir(), *parts)


def require_shared(*parts):
    """The path of a shared file, or skip the test saying what is missing
    (fail instead when GALANN_REQUIRE_DATA=1)."""
    path = shared_path(*parts)
    if not os.path.exists(path):
        reason = (f"{path} is absent (set GALANN_SHARED_DIR to the shared "
                  "folder with data/galaxy and reference/galaxy)")
        if os.environ.get("GALANN_REQUIRE_DATA") == "1":
            raise AssertionError(reason + ", and GALANN_REQUIRE_DATA=1 requires it")
        raise unittest.SkipTest(reason)
    return path


def galaxy_summary():
    with open(require_shared("reference", "galaxy", "summary.json")) as f:
        return json.load(f)


_csv_cache = {}


def galaxy_numpy(name):
    """(X scaled by 1/255, y int) of data/galaxy/<name>.csv read with numpy,
    independently of the library's CSV reader."""
    path = require_shared("data", "galaxy", f"{name}.csv")
    if path not in _csv_cache:
        raw = np.loadtxt(path, delimiter=",")
        _csv_cache[path] = (raw[:, 1:] / 255.0, raw[:, 0].astype(np.int64))
    return _csv_cache[path]


def assert_close(test, got, want, rel, what):
    """Relative closeness with both numbers in the failure message."""
    err = abs(got - want) / max(abs(want), 1e-300)
    test.assertLessEqual(err, rel, f"{what}: got {got!r}, want {want!r}, relative error {err:.3g} "
                         f"> {rel:g}")
