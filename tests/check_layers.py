#!/usr/bin/env python3
"""check_layers: src/ keeps the layering that doc/architecture.md writes down.

doc/architecture.md, section "The layers", has a table that gives, for
every module of src/ (a module is x.c with its x.h), the modules it may
use. This script checks the code against it, so that no call circle
between files can creep back in:

  table     every module of src/ has a row, and every row a module
  acyclic   the table itself has no circle: for every pair of modules, at
            most one may use the other
  includes  every #include "y.h" in src/x.c or src/x.h is allowed for x
  calls     every function or object that src/x.o takes from another
            module's object (nm, over the built libferry.a and main.o) is
            allowed for x: a header included through another header
            does not make a call legal

It needs the build (FERRY_BIN names the built src/ferry; make check sets
it; otherwise FERRY_BUILDDIR or the source tree is searched). Prints
ok/FAIL per check, ends with "N passed, N failed", exits 1 on a failure.
"""
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("FERRY_SRCDIR", os.path.dirname(HERE))
DOC = os.path.join(SRCDIR, "doc", "architecture.md")
SECTION = re.compile(r"^## \d+\. The layers")
ROW = re.compile(r"^\| `([a-z0-9_]+)` \| (.*) \|\s*$")
NAME = re.compile(r"`([a-z0-9_]+)`")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z0-9_]+)\.h"', re.M)


def modules():
    """The modules of src/: the base names of its .c and .h files."""
    return {os.path.basename(p).rsplit(".", 1)[0]
            for p in glob.glob(os.path.join(SRCDIR, "src", "*.[ch]"))}


def table():
    """{module: set of modules it may use}, from the doc's table."""
    allowed, inside = {}, False
    with open(DOC, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                inside = bool(SECTION.match(line))
                continue
            m = ROW.match(line) if inside else None
            if m:
                allowed[m.group(1)] = set(NAME.findall(m.group(2)))
    return allowed


def includes():
    """{module: {included module: [file, ...]}} over src/*.c and *.h."""
    edges = {}
    for path in sorted(glob.glob(os.path.join(SRCDIR, "src", "*.[ch]"))):
        mod = os.path.basename(path).rsplit(".", 1)[0]
        with open(path, encoding="utf-8") as f:
            for inc in INCLUDE.findall(f.read()):
                if inc != mod:
                    edges.setdefault(mod, {}).setdefault(inc, []).append(
                        os.path.relpath(path, SRCDIR))
    return edges


def build_dir():
    """The directory holding the built src/ (with libferry.a), or None."""
    cands = []
    if os.environ.get("FERRY_BIN"):
        cands.append(os.path.dirname(os.environ["FERRY_BIN"]))
    if os.environ.get("FERRY_BUILDDIR"):
        cands.append(os.path.join(os.environ["FERRY_BUILDDIR"], "src"))
    cands.append(os.path.join(SRCDIR, "src"))
    for d in cands:
        if os.path.exists(os.path.join(d, "libferry.a")) and \
                os.path.exists(os.path.join(d, "main.o")):
            return d
    return None


def nm_lines(files):
    run = subprocess.run(["nm", "-A"] + files, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True,
                         timeout=60, check=True)
    return run.stdout.splitlines()


def calls(src):
    """{module: {used module: [symbol, ...]}} from the objects' symbols."""
    lines = nm_lines([os.path.join(src, "libferry.a"),
                      os.path.join(src, "main.o")])
    defined, wanted = {}, []
    for line in lines:
        # "archive:member.o:  U name" or "file.o:0000 T name"
        head, _, rest = line.rpartition(":")
        obj = os.path.basename(head.split(":")[-1])
        # Objects may carry a target prefix (libferry_a-x.o).
        mod = re.sub(r"^.*-", "", obj)[:-2] if obj.endswith(".o") else None
        parts = rest.split()
        if mod is None or len(parts) < 2:
            continue
        kind, sym = parts[-2], parts[-1]
        if kind == "U":
            wanted.append((mod, sym))
        elif kind in "TDBR":
            defined[sym] = mod
    edges = {}
    for mod, sym in wanted:
        other = defined.get(sym)
        if other is not None and other != mod:
            edges.setdefault(mod, {}).setdefault(other, []).append(sym)
    return edges


def cycle(allowed):
    """One circle in the allowed graph, as a list, or None."""
    state, path = {}, []

    def visit(m):
        state[m] = 1
        path.append(m)
        for n in sorted(allowed.get(m, ())):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        state[m] = 2
        path.pop()
        return None

    for m in sorted(allowed):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


class Report:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, what, problems, count):
        if problems:
            self.failed += 1
            print("FAIL %s (%d problems)" % (what, len(problems)))
            for p in problems:
                print("     " + p)
        else:
            self.passed += 1
            print("ok   %s (%d checked)" % (what, count))


def edge_problems(edges, allowed, how):
    problems, count = [], 0
    for mod in sorted(edges):
        for other, where in sorted(edges[mod].items()):
            count += 1
            if other not in allowed.get(mod, set()):
                problems.append("%s uses %s (%s %s), which the table does "
                                "not allow" % (mod, other, how,
                                               ", ".join(sorted(set(where))
                                                         [:3])))
    return problems, count


def main():
    rep = Report()
    allowed = table()
    mods = modules()
    problems = ["src/%s.[ch] has no row in the table" % m
                for m in sorted(mods - set(allowed))]
    problems += ["the table names %s, which is not in src/" % m
                 for m in sorted(set(allowed) - mods)]
    problems += ["%s may use %s, which is not in src/" % (m, n)
                 for m in sorted(allowed) for n in sorted(allowed[m] - mods)]
    rep.check("table", problems, len(allowed))
    circle = cycle(allowed)
    rep.check("acyclic", ["circle: " + " -> ".join(circle)] if circle else [],
              len(allowed))
    problems, count = edge_problems(includes(), allowed, "#include in")
    rep.check("includes", problems, count)
    src = build_dir()
    if src is None:
        rep.check("calls", ["no build found: run from make check, or set "
                            "FERRY_BUILDDIR"], 0)
    else:
        problems, count = edge_problems(calls(src), allowed, "symbols")
        rep.check("calls", problems, count)
    print("%d passed, %d failed" % (rep.passed, rep.failed))
    return 0 if rep.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
