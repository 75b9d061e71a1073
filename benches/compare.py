#!/usr/bin/env python3
"""Times emscan against ripgrep on the same generated corpora, in the same run.

    benches/compare.py [--corpus-dir DIR] [--rounds N] [--quick]

Called by benches/compare.sh (which builds and installs what is missing). For each corpus
(a) a 1 GiB bundle of 500 files, (b) one 1 GiB file, (c) 5,000 files of about 200 KB, it
alternates runs of:
  emscan      emscan scan DIR --format json           (2 threads, the machine's cores)
  emscan-1t   the same with --threads 1
  emscan-avx2 the same with the AVX2 kernel forced (EMSCAN_KERNEL=avx2)
  rg-c        rg -c with an equivalent pattern        (counts matching lines per file)
  rg-pipe     rg -oN --no-filename PATTERN | tr -cd '0-9\\n' | sort | uniq -c
  rg-floor    rg -c for a string that never occurs    (the I/O floor)
and prints medians and the ratios emscan/rg, then the same ratios from the fastest run of each
command (less sensitive to a busy neighbour than medians). It checks that emscan's per-code counts equal both
the rg pipeline's and the generator's, and reports emscan's peak RSS and private (anonymous)
memory on a 100 MiB and a 1 GiB bundle. Times are wall-clock medians; the machine is shared and
noisy, so read the ratios, which come from alternating runs in one go.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMSCAN = ROOT / "target" / "release" / "emscan"
GEN = ROOT / "target" / "release" / "examples" / "gen-corpus"
# The five shapes, in rg's syntax (ASCII only, as the generator writes them).
PATTERNS = [r'"error":\{"code":[0-9]+', r"code: [0-9]+; desc:", r"onDisconnect(ed \.\.\.)?[0-9]+", r"errorCode=[0-9]+", r"login return: *[0-9]+"]
RG_ARGS = [arg for p in PATTERNS for arg in ("-e", p)]

CORPORA = {
    # name: (size MiB, files, devices)
    "a-bundle-1GiB-500-files": (1024, 500, 50),
    "b-one-1GiB-file": (1024, 1, 1),
    "c-5000-small-files": (1000, 5000, 250),
    "m-bundle-100MiB": (100, 50, 5),
}
QUICK = {
    "a-bundle-1GiB-500-files": (128, 64, 8),
    "b-one-1GiB-file": (128, 1, 1),
    "c-5000-small-files": (100, 500, 25),
    "m-bundle-100MiB": (16, 8, 2),
}


def generate(corpus_dir: Path, sizes) -> None:
    for name, (size, files, devices) in sizes.items():
        target = corpus_dir / name
        if target.exists() and Path(f"{target}.expected.json").exists():
            continue
        subprocess.run(["rm", "-rf", str(target)], check=True)
        print(f"generating {name} ({size} MiB, {files} files)", flush=True)
        subprocess.run([str(GEN), str(target), "--size-mb", str(size), "--seed", "7",
                        "--files", str(files), "--devices", str(devices)], check=True)


def warm(path: Path) -> None:
    """Reads every file once so that all runs find it in the page cache."""
    for file in path.rglob("*"):
        if file.is_file():
            with open(file, "rb") as fh:
                while fh.read(1 << 22):
                    pass


def run_timed(cmd, shell=False, sample_memory=False):
    """Runs a command; returns (seconds, stdout, peak RSS KiB, peak anonymous RSS KiB)."""
    # Output goes to a file, as a user's `> report.json` would: through a pipe, a 6 MB report
    # would time this script's reading as much as the command.
    sink = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, shell=shell, stdout=sink, stderr=subprocess.DEVNULL)
    peak_anon = [0]
    stop = threading.Event()

    def sample():
        status = f"/proc/{proc.pid}/status"
        while not stop.is_set():
            try:
                with open(status) as fh:
                    for line in fh:
                        if line.startswith("RssAnon:"):
                            peak_anon[0] = max(peak_anon[0], int(line.split()[1]))
            except OSError:
                return
            time.sleep(0.002)

    sampler = threading.Thread(target=sample) if sample_memory else None
    if sampler:
        sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    stop.set()
    if sampler:
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    sink.seek(0)
    out = sink.read()
    sink.close()
    return elapsed, out, usage.ru_maxrss, peak_anon[0], proc.returncode


def commands(path: Path):
    p = str(path)
    quoted = " ".join(f"-e '{pat}'" for pat in PATTERNS)
    return {
        "emscan": ([str(EMSCAN), "scan", p, "--format", "json", "--no-progress"], False),
        "emscan-1t": ([str(EMSCAN), "scan", p, "--format", "json", "--no-progress", "--threads", "1"], False),
        # The AVX2 loop whatever the CPU has: most users' laptops have AVX2 and no AVX-512.
        "emscan-avx2": (["env", "EMSCAN_KERNEL=avx2", str(EMSCAN), "scan", p, "--format", "json", "--no-progress"], False),
        "rg-c": (["rg", "-c", *RG_ARGS, p], False),
        "rg-pipe": (f"rg -oN --no-filename {quoted} '{p}' | tr -cd '0-9\\n' | sort | uniq -c", True),
        "rg-floor": (["rg", "-c", "QZXJQZXJQZXJ", p], False),
    }


def emscan_counts(stdout: bytes):
    summary = json.loads(stdout)
    counts = {c["code"]: c["count"] for c in summary["codes"] + summary["unknown_codes"]}
    if summary["success"]["count"]:
        counts[0] = summary["success"]["count"]
    return counts


def pipe_counts(stdout: bytes):
    counts = {}
    for line in stdout.decode().split("\n"):
        parts = line.split()
        if len(parts) == 2:
            counts[int(parts[1])] = counts.get(int(parts[1]), 0) + int(parts[0])
    return counts


def expected_counts(path: Path):
    expected = json.loads(Path(f"{path}.expected.json").read_text())
    counts = {c["code"]: c["count"] for c in expected["codes"] + expected["unknown_codes"]}
    if expected["success"]["count"]:
        counts[0] = expected["success"]["count"]
    return counts


def bench(path: Path, rounds: int):
    cmds = commands(path)
    times = {name: [] for name in cmds}
    checked = False
    for _ in range(rounds):
        for name, (cmd, shell) in cmds.items():
            elapsed, out, _, _, code = run_timed(cmd, shell=shell)
            times[name].append(elapsed)
            if not checked and name == "emscan":
                ours = emscan_counts(out)
            if not checked and name == "rg-pipe":
                theirs = pipe_counts(out)
        if not checked:
            want = expected_counts(path)
            ok = ours == theirs == want
            print(f"  counts: emscan {'==' if ours == theirs else '!='} rg pipeline "
                  f"{'==' if theirs == want else '!='} generator ({sum(want.values())} occurrences, "
                  f"{len(want)} codes): {'OK' if ok else 'MISMATCH'}", flush=True)
            if not ok:
                sys.exit(1)
            checked = True
    return ({name: statistics.median(ts) for name, ts in times.items()},
            {name: min(ts) for name, ts in times.items()})


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus-dir", default=str(ROOT / "target" / "bench-corpus"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="small corpora, for a smoke run")
    args = ap.parse_args()
    corpus_dir = Path(args.corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    sizes = QUICK if args.quick else CORPORA
    generate(corpus_dir, sizes)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} cores, {cpu}; rg: "
          + subprocess.run(["rg", "--version"], capture_output=True, text=True).stdout.split("\n")[0])
    rows = []
    for name in [n for n in sizes if not n.startswith("m-")]:
        path = corpus_dir / name
        warm(path)
        print(f"{name}:", flush=True)
        med, best = bench(path, args.rounds)
        files = json.loads(Path(f"{path}.expected.json").read_text())["totals"]["files"]
        rows.append((name, files, med, best))
    print()
    print("| corpus | emscan | emscan 1 thread | emscan AVX2 | rg -c | rg pipeline | rg floor | emscan / rg -c | AVX2 / rg -c | rg pipeline / emscan | 2 vs 1 thread |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, files, m, _ in rows:
        print(f"| {name} | {m['emscan']:.3f} s | {m['emscan-1t']:.3f} s | {m['emscan-avx2']:.3f} s | "
              f"{m['rg-c']:.3f} s | {m['rg-pipe']:.3f} s | {m['rg-floor']:.3f} s | "
              f"{m['emscan'] / m['rg-c']:.2f} × | {m['emscan-avx2'] / m['rg-c']:.2f} × | "
              f"{m['rg-pipe'] / m['emscan']:.2f} × | {m['emscan-1t'] / m['emscan']:.2f} × |")
    print()
    print(f"fastest of {args.rounds} runs each:")
    print()
    print("| corpus | emscan | rg -c | emscan / rg -c | rg pipeline / emscan | 2 vs 1 thread | emscan files/s ÷ rg files/s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, files, _, b in rows:
        print(f"| {name} | {b['emscan']:.3f} s | {b['rg-c']:.3f} s | {b['emscan'] / b['rg-c']:.2f} × | "
              f"{b['rg-pipe'] / b['emscan']:.2f} × | {b['emscan-1t'] / b['emscan']:.2f} × | "
              f"{b['rg-c'] / b['emscan']:.2f} |")
    print()
    print("memory (emscan scan --format json, peak over the run):")
    for name in ["m-bundle-100MiB", "a-bundle-1GiB-500-files"]:
        path = corpus_dir / name
        warm(path)
        _, _, maxrss, anon, _ = run_timed(commands(path)["emscan"][0], sample_memory=True)
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        print(f"  {name}: input {size / 2**20:.0f} MiB, peak RSS {maxrss / 1024:.1f} MiB, "
              f"peak private (RssAnon) {anon / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
