#!/usr/bin/env python3
"""Run the Python tests (unittest discovery in this folder) with exit
statuses a test harness can count: 0 all passed, 1 something failed or
errored, 77 nothing failed but some test was skipped (meson's "skipped").

    python3 python/tests/run.py [-v] [--require-data] [pattern]

--require-data (meson -Drequire_data=true) makes a missing shared data or
fixture file a failure instead of a skip (GALANN_REQUIRE_DATA=1, read by
_support.require_shared).
"""

import argparse
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
    ap.add_argument("pattern", nargs="?", default="test*.py")
    args = ap.parse_args(argv)
    if args.require_data:
        os.environ["GALANN_REQUIRE_DATA"] = "1"
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(HERE, pattern=args.pattern, top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2 if args.verbose else 1, stream=sys.stdout).run(suite)
    if not result.wasSuccessful() or result.testsRun == 0:
        return 1
    if result.skipped:
        print(f"{len(result.skipped)} test(s) skipped:")
        for test, reason in result.skipped:
            print(f"  {test}: {reason}")
        return SKIPPED
    return 0


if __name__ == "__main__":
    sys.exit(main())
