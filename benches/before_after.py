#!/usr/bin/env python3
"""Times two emscan binaries against each other and `rg -c`, on compare.py's corpora, in one
run of alternating rounds, at the detected kernel level and with the AVX2 path forced.

    benches/before_after.py --before BIN --after BIN [--gen GEN-CORPUS] [--rounds N] [--quick]

Build the "before" binary from a detached worktree of the old commit (`cargo build --release
--bin emscan --example gen-corpus`). Per corpus and round it runs: before, after,
before-avx2 and after-avx2 (`EMSCAN_KERNEL=avx2`; a binary that does not read the variable
runs its detected level), and `rg -c`; it checks every emscan's per-code counts against the
generator's, and prints the ratios to `rg -c` from the fastest runs and from the medians.
"""
import argparse, statistics, sys, os
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402

BINARIES = {}

def cmds(path):
    p = str(path)
    base = ["scan", p, "--format", "json", "--no-progress"]
    avx2 = ["env", "EMSCAN_KERNEL=avx2"]
    return {
        "before": [BINARIES["before"], *base],
        "after": [BINARIES["after"], *base],
        "before-avx2": [*avx2, BINARIES["before"], *base],
        "after-avx2": [*avx2, BINARIES["after"], *base],
        "rg-c": ["rg", "-c", *compare.RG_ARGS, p],
    }

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="the emscan binary to compare against")
    ap.add_argument("--after", required=True, help="the emscan binary under test")
    ap.add_argument("--gen", default=str(compare.GEN), help="the gen-corpus example binary")
    ap.add_argument("--corpus-dir", default=str(compare.ROOT / "target" / "bench-corpus"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    BINARIES.update(before=a.before, after=a.after)
    compare.GEN = Path(a.gen)
    sizes = compare.QUICK if a.quick else compare.CORPORA
    sizes = {k: v for k, v in sizes.items() if not k.startswith("m-")}
    d = Path(a.corpus_dir); d.mkdir(parents=True, exist_ok=True)
    compare.generate(d, sizes)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} cores, {cpu}; rounds: {a.rounds}", flush=True)
    rows = []
    bests = []
    for name in sizes:
        path = d / name
        compare.warm(path)
        want = compare.expected_counts(path)
        times = {k: [] for k in cmds(path)}
        for r in range(a.rounds):
            for k, cmd in cmds(path).items():
                el, out, _, _, code = compare.run_timed(cmd)
                times[k].append(el)
                if r == 0 and k != "rg-c":
                    ok = compare.emscan_counts(out) == want
                    if not ok:
                        print(f"  {name} {k}: COUNT MISMATCH")
                        sys.exit(1)
        med = {k: statistics.median(v) for k, v in times.items()}
        best = {k: min(v) for k, v in times.items()}
        rows.append((name, med))
        bests.append((name, best))
        print(f"{name}: " + ", ".join(f"{k} {v:.3f}s" for k, v in med.items()), flush=True)
    print()
    print("fastest run of each:")
    table(bests)
    print()
    print("medians:")
    table(rows)


def table(rows):
    print("| corpus | before / rg -c | after / rg -c | after ÷ before | before-avx2 / rg -c | after-avx2 / rg -c | avx2 after ÷ before |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, m in rows:
        rg = m["rg-c"]
        print(f"| {name} | {m['before']/rg:.3f} × | {m['after']/rg:.3f} × | {m['after']/m['before']:.3f} | "
              f"{m['before-avx2']/rg:.3f} × | {m['after-avx2']/rg:.3f} × | {m['after-avx2']/m['before-avx2']:.3f} |")


if __name__ == "__main__":
    main()
