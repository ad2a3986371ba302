#!/usr/bin/env python3
"""Run the Python tests (unittest discovery in this folder) with exit
statuses a test harness can count: 0 all passed, 1 something failed or
errored, 77 nothing failed but some test was skipped (meson's "skipped").

    python3 python/tests/run.py [-v] [--require-data] [--require-sklearn]
                                [--exclude FILE ...] [pattern]

--require-data (meson -Drequire_data=true) makes a missing shared data or
fixture file a failure instead of a skip (GALANN_REQUIRE_DATA=1, read by
_support.require_shared). --require-sklearn (meson -Drequire_sklearn=true)
does the same for a missing scikit-learn in test_sklearn.py
(GALANN_REQUIRE_SKLEARN=1). --exclude leaves a test file out: meson runs
the files that need scikit-learn, pandas or the packaging tools as tests
of their own, each with a Python that has them.
"""

import argparse
import fnmatch
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SKIPPED = 77


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--require-data", action="store_true",
                    help="a missing shared data file fails instead of skipping")
    ap.add_argument("--require-sklearn", action="store_true",
                    help="a missing scikit-learn fails instead of skipping")
    ap.add_argument("--exclude", action="append", default=[], metavar="FILE",
                    help="a test file not to run (repeatable)")
    ap.add_argument("pattern", nargs="?", default="test*.py")
    args = ap.parse_args(argv)
    if args.require_data:
        os.environ["GALANN_REQUIRE_DATA"] = "1"
    if args.require_sklearn:
        os.environ["GALANN_REQUIRE_SKLEARN"] = "1"
    sys.path.insert(0, HERE)
    files = sorted(f for f in os.listdir(HERE)
                   if fnmatch.fnmatch(f, args.pattern) and f not in args.exclude)
    suite = unittest.TestSuite(unittest.defaultTestLoader.discover(HERE, pattern=f, top_level_dir=HERE)
                               for f in files)
    result = unittest.TextTestRunner(verbosity=2 if args.verbose else 1, stream=sys.stdout).run(suite)
    # nothing run and nothing skipped: a pattern that matches no test
    if not result.wasSuccessful() or (result.testsRun == 0 and not result.skipped):
        return 1
    if result.skipped:
        print(f"{len(result.skipped)} test(s) skipped:")
        for test, reason in result.skipped:
            print(f"  {test}: {reason}")
        return SKIPPED
    return 0


if __name__ == "__main__":
    sys.exit(main())
