#!/usr/bin/env python3
"""Mutation check: plant each bug of mutants.toml in a copy of the tree,
rebuild, run the whole test suite, and report which tests caught it.

    tests/mutation/run.py                     every mutant
    tests/mutation/run.py csv-* cli-predict-zero
                                              a subset (ids or shell patterns)
    tests/mutation/run.py --list              the mutants, nothing run
    tests/mutation/run.py --check [--rev REV] each mutant's text occurs once (in REV)

Options: --timeout S (per mutant, build and suite, default 400), --jobs N
(ninja and meson test, default 2), --workdir DIR (default
/tmp/galann-mutation, wiped first), --rev REV (test a commit, from git
archive, instead of the working tree), --source DIR (test a plain source
folder instead), --report FILE (the markdown table;
default WORKDIR/report.md, always printed too), --setup-args "..." (default
"-Drequire_data=true -Drequire_opencl=true", so a missing data folder or
OpenCL device fails the baseline instead of hiding behind skips).

How: the tree (tracked and untracked, not ignored, files; or REV) is
copied to WORKDIR/main with WORKDIR/shared a link to the real shared
folder, configured and built once, and the unmutated suite must pass
(else nothing is reported). Then, one mutant at a time, in place: replace
`find` (which must occur exactly once) by `replace`, ninja, meson test,
restore. A mutant is caught when at least one test fails or times out;
the table names those tests and, for cmocka programs, test-cli.sh and
unittest, the failing cases (each mutant's meson output and testlog.json
are kept in WORKDIR/logs). Not part of CI: about 30-60 s per mutant on
two cores. Exit status 0 when every mutant was caught, 1 otherwise, 2 when
the baseline fails.
"""

import argparse
import datetime
import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
FAILED_RESULTS = {"FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS", "INTERRUPT"}


def load_mutants(path):
    with open(path, "rb") as f:
        mutants = tomllib.load(f)["mutant"]
    ids = [m["id"] for m in mutants]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        sys.exit(f"{path}: duplicate ids {sorted(duplicates)}")
    for m in mutants:
        missing = {"id", "file", "find", "replace", "breaks"} - set(m)
        if missing:
            sys.exit(f"{path}: mutant {m.get('id', '?')} lacks {sorted(missing)}")
    return mutants


def select(mutants, patterns):
    if not patterns:
        return mutants
    chosen = [m for m in mutants if any(fnmatch.fnmatchcase(m["id"], p) for p in patterns)]
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(m["id"], p) for m in mutants)]
    if unmatched:
        sys.exit(f"no mutant matches {unmatched} (see --list)")
    return chosen


def log(message):
    print(message, flush=True)


# ----------------------------------------------------------- the copy

def copy_tree(dest, rev, source):
    """The source files into dest: REV from git archive, a plain folder
    (without its build*/ folders), or the working tree's tracked and
    untracked-but-not-ignored files."""
    if source:
        shutil.copytree(source, dest, symlinks=True,
                        ignore=lambda d, names: [n for n in names if n in (".git", "__pycache__")
                                                 or (os.path.samefile(d, source) and n.startswith("build"))])
        return
    os.makedirs(dest)
    if rev:
        archive = subprocess.run(["git", "-C", REPO, "archive", rev], check=True, capture_output=True).stdout
        with tempfile.TemporaryFile() as t:
            t.write(archive)
            t.seek(0)
            with tarfile.open(fileobj=t) as tar:
                tar.extractall(dest)
        return
    listing = subprocess.run(["git", "-C", REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             check=True, capture_output=True).stdout.decode()
    for rel in filter(None, listing.split("\0")):
        src = os.path.join(REPO, rel)
        if not os.path.isfile(src):  # deleted in the working tree
            continue
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(src, target)


def shared_folder():
    return os.path.realpath(os.environ.get("GALANN_SHARED_DIR") or os.path.join(REPO, "..", "shared"))


# ------------------------------------------------------------- running

def run(cmd, cwd, log_path, timeout):
    """Run cmd in its own process group, output to log_path; returns
    (exit status or None on timeout, seconds)."""
    start = time.monotonic()
    with open(log_path, "ab") as out:
        out.write(("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n").encode())
        out.flush()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            status = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            status = None
    return status, time.monotonic() - start


def failing_cases(name, output):
    """The failing cases a test's output names: cmocka's [  FAILED  ]
    lines, test-cli.sh's "not ok", unittest's FAIL:/ERROR:."""
    cases = re.findall(r"^\[  FAILED  \] ([A-Za-z_]\w*)\s*$", output, re.M)
    cases += re.findall(r"^not ok - (.*)$", output, re.M)
    cases += re.findall(r"^(?:FAIL|ERROR): (\w+) \(", output, re.M)
    seen = []
    for c in cases:
        if c not in seen:
            seen.append(c)
    return seen


def read_testlog(build):
    path = os.path.join(build, "meson-logs", "testlog.json")
    results = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    results.append(json.loads(line))
    return results


def run_suite(build, jobs, log_path, timeout):
    """meson test on the built tree; returns (status, seconds, results)."""
    shutil.rmtree(os.path.join(build, "tests", "kernel-cache"), ignore_errors=True)
    try:
        os.remove(os.path.join(build, "meson-logs", "testlog.json"))
    except FileNotFoundError:
        pass
    status, seconds = run(["meson", "test", "-C", build, "--no-rebuild", "--num-processes", str(jobs)],
                          build, log_path, timeout)
    return status, seconds, read_testlog(build)


def summarise(results):
    caught = []
    for r in results:
        if r.get("result") in FAILED_RESULTS:
            output = (r.get("stdout") or "") + "\n" + (r.get("stderr") or "")
            caught.append((r["name"], r["result"], failing_cases(r["name"], output)))
    return caught


# ----------------------------------------------------------- mutating

def try_mutant(m, tree, build, jobs, timeout, logs):
    """Plant, build, test, restore. Returns a result dict."""
    path = os.path.join(tree, m["file"])
    log_path = os.path.join(logs, m["id"] + ".log")
    result = {"mutant": m, "status": None, "caught_by": [], "seconds": 0.0, "note": ""}
    if not os.path.exists(path):
        result["status"] = "invalid"
        result["note"] = f"{m['file']} does not exist"
        return result
    with open(path, encoding="utf-8") as f:
        original = f.read()
    count = original.count(m["find"])
    if count != 1:
        result["status"] = "invalid"
        result["note"] = f"the text to replace occurs {count} times in {m['file']}"
        return result
    start = time.monotonic()
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(original.replace(m["find"], m["replace"]))
        status, _ = run(["ninja", "-C", build, "-j", str(jobs)], build, log_path, timeout)
        if status is None or status != 0:
            result["status"] = "invalid"
            result["note"] = "does not build" if status is not None else "build timed out"
            return result
        left = max(10.0, timeout - (time.monotonic() - start))
        status, _, results = run_suite(build, jobs, log_path, left)
        testlog = os.path.join(build, "meson-logs", "testlog.json")
        if os.path.exists(testlog):
            shutil.copy(testlog, os.path.join(logs, m["id"] + ".testlog.json"))
        caught = summarise(results)
        result["caught_by"] = caught
        if caught:
            result["status"] = "caught"
        elif status is None:
            result["status"] = "caught"
            result["note"] = f"the suite ran past the {timeout:.0f} s per-mutant limit"
        elif status != 0:
            result["status"] = "caught"
            result["note"] = f"meson test exited {status} without a failing test in its log"
        else:
            result["status"] = "missed"
            skipped = [r["name"] for r in results if r.get("result") == "SKIP"]
            if skipped:
                result["note"] = "skipped: " + ", ".join(skipped)
        return result
    finally:
        with open(path, "w", encoding="utf-8") as f:
            f.write(original)
        os.utime(path)  # newer than the mutant's objects: rebuilt next time
        result["seconds"] = time.monotonic() - start


# ------------------------------------------------------------- report

def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def caught_by_text(caught):
    parts = []
    for name, outcome, cases in caught:
        text = name if outcome == "FAIL" else f"{name} ({outcome.lower()})"
        if cases:
            shown = cases[:3] + ([f"+{len(cases) - 3} more"] if len(cases) > 3 else [])
            text += ": " + "; ".join(shown)
        parts.append(text)
    return "<br>".join(parts)


def report(results, header, total_seconds):
    counts = {s: sum(r["status"] == s for r in results) for s in ("caught", "missed", "invalid")}
    lines = [
        "# Mutation check",
        "",
        *header,
        "",
        f"**{counts['caught']} of {len(results)} caught**, {counts['missed']} missed, {counts['invalid']} invalid; "
        f"total {total_seconds / 60:.1f} min.",
        "",
        "| # | mutant | file | what it breaks | result | caught by (test: failing cases) | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(results, 1):
        m = r["mutant"]
        status = r["status"] + (f" ({r['note']})" if r["note"] else "")
        lines.append(f"| {i} | `{m['id']}` | `{m['file']}` | {cell(m['breaks'])} | {cell(status)} | "
                     f"{cell(caught_by_text(r['caught_by']))} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("patterns", nargs="*", help="mutant ids or shell patterns (default: all)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--check", action="store_true",
                    help="check that each mutant's text occurs exactly once in the working tree (or REV), and exit")
    ap.add_argument("--mutants", default=os.path.join(HERE, "mutants.toml"))
    ap.add_argument("--timeout", type=float, default=400.0, help="seconds per mutant (build and suite)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--workdir", default="/tmp/galann-mutation")
    ap.add_argument("--rev", help="a git revision to test instead of the working tree")
    ap.add_argument("--source", help="a source folder to test instead of the working tree (its build*/ left out)")
    ap.add_argument("--report", help="where to write the markdown table (default WORKDIR/report.md)")
    ap.add_argument("--setup-args", default="-Drequire_data=true -Drequire_opencl=true")
    args = ap.parse_args(argv)

    mutants = select(load_mutants(args.mutants), args.patterns)
    if args.list:
        for m in mutants:
            print(f"{m['id']:32} {m['file']:34} {m['breaks']}")
        return 0
    if args.check:
        bad = 0
        for m in mutants:
            count = -1
            if args.rev:
                shown = subprocess.run(["git", "-C", REPO, "show", f"{args.rev}:{m['file']}"], capture_output=True)
                if shown.returncode == 0:
                    count = shown.stdout.decode("utf-8").count(m["find"])
            elif os.path.exists(os.path.join(REPO, m["file"])):
                with open(os.path.join(REPO, m["file"]), encoding="utf-8") as f:
                    count = f.read().count(m["find"])
            if count != 1:
                bad += 1
                print(f"{m['id']}: the text occurs {count} times in {m['file']}" if count >= 0
                      else f"{m['id']}: {m['file']} does not exist")
        print(f"{len(mutants) - bad} of {len(mutants)} mutants apply")
        return 1 if bad else 0

    started = time.monotonic()
    workdir = os.path.abspath(args.workdir)
    tree, build, logs = os.path.join(workdir, "main"), os.path.join(workdir, "main", "build"), \
        os.path.join(workdir, "logs")
    if os.path.realpath(workdir) in (os.path.realpath(REPO), os.path.realpath(os.path.dirname(REPO))):
        sys.exit("--workdir must not be the repository or its parent")
    shutil.rmtree(workdir, ignore_errors=True)
    if args.rev and args.source:
        sys.exit("give --rev or --source, not both")
    copy_tree(tree, args.rev, args.source and os.path.abspath(args.source))
    os.makedirs(logs)
    os.symlink(shared_folder(), os.path.join(workdir, "shared"))
    if args.rev:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", args.rev], capture_output=True,
                                text=True).stdout.strip()
        source = f"`{args.rev}` ({commit}) of {REPO}"
    else:
        source = f"the folder {os.path.abspath(args.source)}" if args.source else f"the working tree of {REPO}"
    log(f"copied {source} to {tree}; shared data: {shared_folder()}")

    base_log = os.path.join(logs, "baseline.log")
    status, seconds = run(["meson", "setup", build, *shlex.split(args.setup_args)], tree, base_log, args.timeout)
    if status == 0:
        status, seconds = run(["ninja", "-C", build, "-j", str(args.jobs)], tree, base_log, args.timeout)
    if status != 0:
        log(f"baseline: the unmutated tree does not configure or build (see {base_log})")
        return 2
    status, suite_seconds, results = run_suite(build, args.jobs, base_log, args.timeout)
    not_ok = [f"{r['name']}: {r['result']}" for r in results if r.get("result") != "OK"]
    if status != 0 or not_ok or not results:
        log(f"baseline: the unmutated suite does not pass ({', '.join(not_ok) or status}); see {base_log}")
        return 2
    log(f"baseline: {len(results)} tests OK in {suite_seconds:.0f} s")

    outcomes = []
    for i, m in enumerate(mutants, 1):
        r = try_mutant(m, tree, build, args.jobs, args.timeout, logs)
        outcomes.append(r)
        names = ", ".join(name for name, _, _ in r["caught_by"])
        log(f"[{i}/{len(mutants)}] {m['id']}: {r['status']} in {r['seconds']:.0f} s"
            + (f" by {names}" if names else "") + (f" ({r['note']})" if r["note"] else ""))

    total = time.monotonic() - started
    header = [
        f"Run {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} on {source}, "
        f"`meson setup {args.setup_args}`, `meson test --num-processes {args.jobs}`, "
        f"{args.timeout:.0f} s per mutant at most.",
        f"Baseline: {len(results)} tests, all OK, in {suite_seconds:.0f} s. Mutants from "
        f"`{os.path.relpath(args.mutants, REPO)}`; logs in `{logs}`.",
    ]
    text = report(outcomes, header, total)
    report_path = args.report or os.path.join(workdir, "report.md")
    with open(report_path, "w") as f:
        f.write(text)
    print()
    print(text)
    log(f"report written to {report_path}")
    return 0 if all(r["status"] == "caught" for r in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
