#!/usr/bin/env python3
"""Runs emscan_spark.py with Spark in local mode over generated bundles and checks that its
per-code totals (and its merged summary) equal one `emscan scan` over all of them.

    python3 examples/spark/test_spark_local.py --emscan target/debug/emscan

Needs pyspark and a Java runtime. Exits 0 when the totals agree.
"""

import argparse
import csv
import glob
import json
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emscan_spark  # noqa: E402

SHAPES = [
    'SDK_Error: {{"callbackId":"{i}","error":{{"code":{code},"desc":"x"}}}}',
    "ChatManager_SendMessage failed, code: {code}; desc: y",
    "[global listener] onDisconnect{code}",
    "EMChatManager::sendMessage() error, msgId: {i}, errorCode={code}, desc=z",
    "write config: {{\n  SDK_Error: {{\"callbackId\":\"1\",\"error\":{{\"code\":{code},\"desc\":\"c\"}}}}\n}}",
    "[EMARHttpAPI] httpExecute code: 404 port: 6717",
    "plain line {i}",
]
CODES = [0, 2, 201, 202, 300, 301, 500, 110, 3]


def write_bundle(root, name, seed):
    """A bundle of 1-3 devices, each with a rotated segment and a live easemob.log."""
    rng = random.Random(seed)
    bundle = os.path.join(root, name)
    for d in range(rng.randint(1, 3)):
        logs = os.path.join(bundle, f"PC-{seed}-{d}", "sdkdata", "easemobLog")
        os.makedirs(logs)
        for file, hour in (("easemob_2024-05-06_09-59-59.log", 9), ("easemob.log", 10)):
            lines = []
            for i in range(rng.randint(50, 300)):
                prefix = "[2024/05/06 %02d:%02d:%02d:%03d]: " % (
                    hour, rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999))
                shape = rng.choice(SHAPES)
                lines.append(prefix + shape.format(i=i, code=rng.choice(CODES)))
            with open(os.path.join(logs, file), "w", encoding="utf-8", newline="") as f:
                f.write(("\r\n" if d % 2 else "\n").join(lines) + "\n")
    return bundle


def totals_of(summary):
    return {row[0]: row[2] for row in emscan_spark.per_code_totals(summary)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--emscan", required=True)
    parser.add_argument("--bundles", type=int, default=6)
    args = parser.parse_args()
    emscan = os.path.abspath(args.emscan)
    started = time.time()
    from pyspark.sql import SparkSession

    with tempfile.TemporaryDirectory(prefix="emscan-spark-") as tmp:
        bundles = [write_bundle(tmp, f"bundle-{i}", i) for i in range(args.bundles)]
        # One bundle without any log: reported by the job, not fatal.
        os.makedirs(os.path.join(tmp, "empty-bundle"))
        inputs = bundles + [os.path.join(tmp, "empty-bundle")]
        single = json.loads(subprocess.run(
            [emscan, "scan", *bundles, "--format", "json", "--no-progress", "--quiet"],
            check=True, capture_output=True, text=True).stdout)

        spark = (SparkSession.builder.master("local[2]").appName("emscan-spark-test")
                 .config("spark.ui.enabled", "false")
                 .config("spark.sql.shuffle.partitions", "2").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        # The workers unpickle the job's functions by module name: ship the module.
        spark.sparkContext.addPyFile(emscan_spark.__file__)
        try:
            summary = emscan_spark.fleet_summary(spark.sparkContext, inputs, emscan, 3)
            output = os.path.join(tmp, "out")
            emscan_spark.write_outputs(spark, summary, output)
        finally:
            spark.stop()

        written = {}
        for part in glob.glob(os.path.join(output, "per_code", "part-*.csv")):
            with open(part, encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    written[int(row["code"])] = int(row["count"])
        want = totals_of(single)
        ok = True
        for label, got in (("merged summary", totals_of(summary)), ("per_code CSV", written)):
            if got != want:
                ok = False
                print(f"FAIL: {label} totals {got} != single scan {want}", file=sys.stderr)
        # Beyond totals: the merged summary is the single scan's, wall time and root order aside.
        for s in (summary, single):
            s["stats"]["elapsed_ms"] = 0
            s["root"] = sorted(s["root"])
        if summary != single:
            ok = False
            diff = [k for k in single if single[k] != summary.get(k)]
            print(f"FAIL: merged summary differs from the single scan in {diff}", file=sys.stderr)
        print(f"spark local: {len(bundles)} bundles, {sum(want.values())} occurrences, "
              f"{len(want)} codes, {'ok' if ok else 'FAILED'} in {time.time() - started:.1f} s")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
