"""Compares two `emscan scan --format json` reports for .ci/windows.sh.

Usage: compare.py LINUX.json WINDOWS.json [--ignore-root]

Exits 1 with a short diff when they differ. Normalised, and only these:
- "root": echoes the path(s) as typed on the command line, so it differs whenever the two runs are
  given the same folder spelt differently (Z:\\..., fixtures\\sample-bundle); with --ignore-root it
  is dropped, otherwise it must match too.
- "stats.elapsed_ms": the run's wall-clock time, different on every run of either binary.
Everything else (codes, counts, per-file paths with their separators, log times, line numbers,
the other stats) must be equal.
"""
import json
import sys


def norm(report, ignore_root):
    report.get("stats", {}).pop("elapsed_ms", None)
    if ignore_root:
        report.pop("root", None)
    return report


def diff(a, b, path="$", out=None):
    out = [] if out is None else out
    if type(a) is not type(b):
        out.append(f"{path}: {a!r} != {b!r}")
    elif isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{path}.{key}: only in {'windows' if key in b else 'linux'}")
            else:
                diff(a[key], b[key], f"{path}.{key}", out)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items != {len(b)} items")
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: linux {a!r} != windows {b!r}")
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    ignore_root = "--ignore-root" in sys.argv
    with open(args[0], encoding="utf-8") as f:
        linux = norm(json.load(f), ignore_root)
    with open(args[1], encoding="utf-8") as f:
        windows = norm(json.load(f), ignore_root)
    problems = diff(linux, windows)
    if problems:
        print(f"{args[0]} vs {args[1]}: {len(problems)} differences", file=sys.stderr)
        for line in problems[:40]:
            print("  " + line, file=sys.stderr)
        sys.exit(1)


main()
