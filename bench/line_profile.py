#!/usr/bin/env python3
"""line_profile.py -- line_profiler figures of the original `gradient`, as
the optimisation notes (../shared/seed/) took them: N iterations of the
original program with its gradient function instrumented line by line.

    line_profile.py [--maxiter N] [--data DIR]
"""
import sys

from line_profiler import LineProfiler

import original


def main():
    profiler = LineProfiler(original.gradient, original.cost_function)
    original.gradient = profiler(original.gradient)
    original.cost_function = profiler(original.cost_function)
    if "--quiet" not in sys.argv:
        sys.argv.append("--quiet")
    original.main()
    profiler.print_stats(output_unit=1e-3)


if __name__ == "__main__":
    main()
