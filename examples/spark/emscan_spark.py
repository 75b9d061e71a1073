#!/usr/bin/env python3
"""Scan many support bundles with emscan on Apache Spark.

Map: each bundle is scanned by the emscan binary (`emscan scan BUNDLE --format json`) on an
executor, inside `mapPartitions`; the summaries of a partition are merged there with
`emscan merge`. Reduce: partition summaries are merged pairwise, again with `emscan merge`,
so a fleet gets exactly what one scan of all its bundles would give (the merge semantics
live in one place: `Summary::merge` in emscan). The driver writes the merged summary and the
per-code totals.

Local:
    python3 examples/spark/emscan_spark.py --master 'local[2]' \
        --emscan target/release/emscan --output /tmp/fleet bundle1 bundle2 ...

Cluster (the binary is shipped to every executor with --files):
    spark-submit --master yarn --files target/release/emscan \
        examples/spark/emscan_spark.py --output hdfs:///reports/fleet @bundles.txt

Bundle paths must be readable from the executors (a shared file system); `@FILE` reads one
path per line. Outputs: OUTPUT/per_code (CSV with a header: code, name, count, devices) and
OUTPUT/summary (the merged `emscan.scan/1` JSON, one line).
"""

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile


def find_emscan(hint):
    """The emscan binary on this machine: shipped with --files, the path given, or on PATH."""
    candidates = []
    try:
        from pyspark import SparkFiles

        candidates.append(SparkFiles.get(os.path.basename(hint)))
    except Exception:  # no SparkContext here, or nothing shipped
        pass
    candidates.append(hint)
    for path in candidates:
        if path and os.path.isfile(path):
            mode = os.stat(path).st_mode
            if not mode & stat.S_IXUSR:
                try:
                    os.chmod(path, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
                except OSError:
                    pass
            return path
    found = shutil.which(hint)
    if found:
        return found
    raise FileNotFoundError(f"emscan binary not found: {hint}")


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


def merge_texts(emscan, texts):
    """Merges summary JSON texts with `emscan merge`; returns the merged JSON text."""
    if len(texts) == 1:
        return texts[0]
    with tempfile.TemporaryDirectory(prefix="emscan-merge-") as tmp:
        paths = []
        for i, text in enumerate(texts):
            path = os.path.join(tmp, f"{i}.json")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            paths.append(path)
        code, out, err = run([emscan, "merge", "--quiet", *paths])
        if code != 0:
            raise RuntimeError(f"emscan merge failed ({code}): {err.strip()}")
        return out


def scan_partition(emscan_hint):
    """The map step: scan each bundle of a partition, merge them, yield one summary."""

    def scan(bundles):
        emscan = find_emscan(emscan_hint)
        texts = []
        for bundle in bundles:
            code, out, err = run(
                [emscan, "scan", bundle, "--format", "json", "--no-progress", "--quiet"]
            )
            if code == 0:
                texts.append(out)
            else:
                # No log file in it (exit 2): reported, not fatal for the fleet.
                print(f"emscan: {bundle}: {err.strip()}", file=sys.stderr)
        if texts:
            yield merge_texts(emscan, texts)

    return scan


def per_code_totals(summary):
    """(code, name, count, devices) for every code, code 0 included, most frequent first."""
    rows = []
    for entry in summary["codes"] + summary["unknown_codes"] + [summary["success"]]:
        if entry["count"] > 0:
            rows.append(
                (entry["code"], entry.get("name") or "", entry["count"], len(entry["per_device"]))
            )
    rows.sort(key=lambda r: (-r[2], r[0]))
    return rows


def fleet_summary(sc, bundles, emscan_hint, partitions=None):
    """Scans `bundles` on the cluster and returns the merged summary as a dict."""
    rdd = sc.parallelize(bundles, partitions or min(len(bundles), sc.defaultParallelism * 4))
    partials = rdd.mapPartitions(scan_partition(emscan_hint))
    text = partials.reduce(lambda a, b: merge_texts(find_emscan(emscan_hint), [a, b]))
    return json.loads(text)


def write_outputs(spark, summary, output):
    """OUTPUT/per_code as CSV with a header, OUTPUT/summary as one JSON line."""
    rows = per_code_totals(summary)
    frame = spark.createDataFrame(rows, "code INT, name STRING, count LONG, devices INT")
    frame.coalesce(1).write.mode("overwrite").option("header", True).csv(f"{output}/per_code")
    spark.sparkContext.parallelize([json.dumps(summary)], 1).saveAsTextFile(f"{output}/summary")


def read_bundle_args(args):
    bundles = []
    for arg in args:
        if arg.startswith("@"):
            with open(arg[1:], encoding="utf-8") as f:
                bundles.extend(line.strip() for line in f if line.strip())
        else:
            bundles.append(arg)
    return bundles


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", nargs="+", help="bundle folders, or @FILE with one per line")
    parser.add_argument("--emscan", default="emscan", help="the binary (default: shipped or on PATH)")
    parser.add_argument("--output", required=True, help="output folder (any Spark path)")
    parser.add_argument("--master", help="Spark master, e.g. local[2] (default: spark-submit's)")
    parser.add_argument("--partitions", type=int, help="partitions (default: 4 per core)")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("emscan-fleet")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    try:
        bundles = read_bundle_args(args.bundles)
        summary = fleet_summary(spark.sparkContext, bundles, args.emscan, args.partitions)
        write_outputs(spark, summary, args.output)
        for code, name, count, devices in per_code_totals(summary):
            print(f"{code}\t{name}\t{count}\t{devices}")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
