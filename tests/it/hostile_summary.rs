//! Hostile saved summaries and settings files: `merge`, `diff` and `gate --baseline` load
//! untrusted scan JSON, check it, and fail with exit 2 and a message naming the file and the
//! field; `--baseline`, `--policy` and `merge` read only regular files of bounded size;
//! timelines cost what their errors cost, whatever the span and the bucket.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::{Value, json};

/// Long enough for a debug build on a loaded machine; a command that reads a FIFO forever or
/// allocates by a hostile count takes far longer.
const TIMEOUT: Duration = Duration::from_secs(60);

fn emscan() -> Command {
    let mut cmd = Command::cargo_bin("emscan").expect("binary builds");
    cmd.env("LANG", "C").timeout(TIMEOUT);
    cmd
}

/// The exit code and stderr of a finished command (a timeout fails the test).
fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("runs");
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed (timed out?): {out:?}"));
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A folder with one device whose log states codes 202 (catalog) and 4242 (unknown), one each.
fn small_bundle(dir: &Path) -> PathBuf {
    let bundle = dir.join("bundle");
    fs::create_dir_all(bundle.join("PC")).expect("mkdir");
    fs::write(
        bundle.join("PC/easemob.log"),
        "[2024/03/01 08:00:00:001]: Client_Login failed, code: 202; desc: auth failed\n\
         [2024/03/01 08:00:02:001]: Client_Login failed, code: 4242; desc: x\n",
    )
    .expect("write");
    bundle
}

/// The scan JSON of `path`.
fn scan_json(path: &Path, extra: &[&str]) -> Value {
    let (code, stdout, stderr) = run(emscan()
        .arg("scan")
        .arg(path)
        .args(["--format", "json", "--no-progress"])
        .args(extra));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// The small bundle's summary with code 202 occurring `n` times: every count that adds up
/// to it (the code's `per_*` maps, `stats.errors`, the file's errors, the timeline) set to
/// agree, so that only the size of the numbers is unusual.
fn summary_with_count(dir: &Path, n: u64) -> Value {
    let mut v = scan_json(&small_bundle(dir), &[]);
    let code = &mut v["codes"][0];
    assert_eq!(code["code"], 202);
    code["count"] = json!(n);
    for map in ["per_file", "per_device", "per_shape", "per_minute"] {
        let entries = code[map].as_object_mut().expect("a map");
        assert_eq!(entries.len(), 1, "{map}: one entry");
        for count in entries.values_mut() {
            *count = json!(n);
        }
    }
    v["stats"]["errors"] = json!(n + 1);
    v["files"][0]["errors"] = json!(n + 1);
    // Both codes fall in the timeline's only bucket.
    v["timeline"]["total"] = json!({"0": n + 1});
    v["timeline"]["codes"]["202"] = json!({"0": n});
    // These summaries are merged with each other to test the counts: as copies of one scan
    // they would be refused as the same input twice, so they carry no fingerprint.
    v["files"][0]
        .as_object_mut()
        .expect("a file")
        .remove("fingerprint");
    v
}

fn write_json(path: &Path, v: &Value) -> PathBuf {
    fs::write(path, serde_json::to_vec_pretty(v).expect("json")).expect("write");
    path.to_path_buf()
}

/// A summary whose `per_minute` claims a billion errors of a code counted once.
fn inflated_per_minute(dir: &Path) -> PathBuf {
    let mut v = scan_json(&small_bundle(dir), &[]);
    v["codes"][0]["per_minute"] = json!({"2024-03-01 08:00": 1_000_000_000u64});
    write_json(&dir.join("inflated.json"), &v)
}

#[test]
fn merge_of_per_minute_counts_larger_than_the_count_is_refused_without_allocating() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = inflated_per_minute(dir.path());
    let (code, _, stderr) = run(emscan().arg("merge").arg(&bad));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("inflated.json"), "names the file: {stderr}");
    assert!(
        stderr.contains("code 202: per_minute adds up to 1000000000"),
        "names the field: {stderr}"
    );
}

#[test]
fn merge_of_counts_near_u64_max_builds_the_timeline_without_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write_json(
        &dir.path().join("a.json"),
        &summary_with_count(dir.path(), 1 << 62),
    );
    let (code, stdout, stderr) = run(emscan().arg("merge").arg(&a).arg(&a));
    assert_eq!(code, 0, "{stderr}");
    let merged: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(merged["codes"][0]["count"], json!(1u64 << 63));
    assert_eq!(merged["timeline"]["codes"]["202"], json!({"0": 1u64 << 63}));
    assert_eq!(merged["timeline"]["total"], json!({"0": (1u64 << 63) + 2}));
}

#[test]
fn merge_that_overflows_a_count_fails_naming_the_file_and_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = summary_with_count(dir.path(), 1 << 63);
    let a = write_json(&dir.path().join("a.json"), &big);
    let b = write_json(&dir.path().join("b.json"), &big);
    let (code, stdout, stderr) = run(emscan().arg("merge").arg(&a).arg(&b));
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "no half-merged report: {stdout}");
    assert!(stderr.contains("b.json"), "names the file: {stderr}");
    assert!(
        stderr.contains("code 202: count adds up to more than 18446744073709551615"),
        "names the field: {stderr}"
    );
}

#[test]
fn merge_stats_overflow_is_an_error_not_a_wrapped_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut v = scan_json(&small_bundle(dir.path()), &[]);
    v["stats"]["lines"] = json!(u64::MAX);
    let a = write_json(&dir.path().join("a.json"), &v);
    let b = write_json(&dir.path().join("b.json"), &v);
    let (code, _, stderr) = run(emscan()
        .arg("merge")
        .arg(&a)
        .arg(&b)
        .arg("--allow-duplicates"));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("b.json") && stderr.contains("stats.lines adds up to more than"),
        "{stderr}"
    );
}

/// A way to break a summary: its name, the change, and what the refusal says.
type Breakage = (&'static str, fn(&mut Value), &'static str);

#[test]
fn summaries_whose_counts_disagree_are_refused_by_merge_diff_and_baseline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = small_bundle(dir.path());
    let good = scan_json(&bundle, &[]);
    let cases: [Breakage; 6] = [
        (
            "per_file",
            |v| v["codes"][0]["per_file"]["PC/easemob.log"] = json!(5),
            "code 202: per_file adds up to 5, the count is 1",
        ),
        (
            "stats",
            |v| v["stats"]["errors"] = json!(7),
            "stats.errors is 7, the codes' counts add up to 2",
        ),
        (
            "timeline",
            |v| v["timeline"]["buckets"] = json!(4_000_000_000u32),
            "timeline.buckets is 4000000000",
        ),
        (
            "bucket",
            |v| v["timeline"]["codes"]["202"] = json!({"9999": 1}),
            "timeline.codes.202 has bucket 9999",
        ),
        (
            "times",
            |v| v["codes"][0]["last"] = json!("2023-01-01 00:00:00.000"),
            "is after last 2023-01-01 00:00:00.000",
        ),
        (
            "file",
            |v| v["codes"][0]["per_file"] = json!({"elsewhere.log": 1}),
            "per_file names \"elsewhere.log\", which files does not list",
        ),
    ];
    for (name, break_it, says) in cases {
        let mut bad = good.clone();
        break_it(&mut bad);
        let file = write_json(&dir.path().join(format!("{name}.json")), &bad);
        let file_name = format!("{name}.json");
        for cmd in [
            emscan().arg("merge").arg(&file),
            emscan().arg("diff").arg(&file).arg(&bundle),
            emscan()
                .arg("gate")
                .arg(&bundle)
                .arg("--baseline")
                .arg(&file)
                .args(["--max-new", "0"]),
        ] {
            let (code, _, stderr) = run(cmd);
            assert_eq!(code, 2, "{name}: {stderr}");
            assert!(
                stderr.contains(&file_name) && stderr.contains(says),
                "{name}: wanted {says:?} about {file_name}: {stderr}"
            );
        }
    }
}

#[test]
fn oversized_saved_summary_and_policy_are_refused_before_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Sparse where the file system allows: only the length matters.
    let huge = dir.path().join("huge.json");
    fs::File::create(&huge)
        .and_then(|f| f.set_len((256 << 20) + 1))
        .expect("a long file");
    let (code, _, stderr) = run(emscan().arg("merge").arg(&huge));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("huge.json") && stderr.contains("larger than 256 MiB"),
        "{stderr}"
    );
    let policy = dir.path().join("policy.toml");
    fs::write(&policy, format!("[gate]\n#{}\n", "x".repeat(1 << 20))).expect("write");
    let bundle = small_bundle(dir.path());
    let (code, _, stderr) = run(emscan()
        .arg("gate")
        .arg(&bundle)
        .arg("--policy")
        .arg(&policy));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("policy.toml") && stderr.contains("larger than 1 MiB"),
        "{stderr}"
    );
}

#[test]
fn a_folder_as_a_saved_summary_or_policy_is_not_a_regular_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = small_bundle(dir.path());
    let folder = dir.path().join("folder.json");
    fs::create_dir(&folder).expect("mkdir");
    for cmd in [
        emscan().arg("merge").arg(&folder),
        emscan()
            .arg("gate")
            .arg(&bundle)
            .arg("--policy")
            .arg(&folder),
        emscan()
            .arg("gate")
            .arg(&bundle)
            .arg("--baseline")
            .arg(&folder)
            .args(["--max-new", "0"]),
    ] {
        let (code, _, stderr) = run(cmd);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("folder.json") && stderr.contains("not a regular file"),
            "{stderr}"
        );
    }
}

#[cfg(unix)]
#[test]
fn fifo_and_dev_zero_as_summary_baseline_or_policy_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = small_bundle(dir.path());
    let fifo = dir.path().join("pipe.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs (coreutils is needed for this test)");
    assert!(made.success(), "mkfifo made the FIFO");
    for special in [fifo.as_path(), Path::new("/dev/zero")] {
        for cmd in [
            emscan().arg("merge").arg(special),
            emscan()
                .arg("gate")
                .arg(&bundle)
                .arg("--policy")
                .arg(special),
            emscan()
                .arg("gate")
                .arg(&bundle)
                .arg("--baseline")
                .arg(special)
                .args(["--max-new", "0"]),
        ] {
            let (code, _, stderr) = run(cmd.timeout(Duration::from_secs(20)));
            assert_eq!(code, 2, "{}: {stderr}", special.display());
            assert!(
                stderr.contains(&*special.to_string_lossy())
                    && stderr.contains("not a regular file"),
                "{stderr}"
            );
        }
    }
}

/// `v` (scan JSON of schema 2) written as schema 1 writes it: the timeline's series as dense
/// arrays, one count per bucket, and no `buckets` field.
fn as_schema_1(mut v: Value) -> Value {
    let tl = &mut v["timeline"];
    let n = tl["buckets"].as_u64().expect("buckets") as usize;
    let dense = |series: &Value| -> Value {
        let mut out = vec![0u64; n];
        for (i, count) in series.as_object().expect("sparse series") {
            out[i.parse::<usize>().expect("index")] = count.as_u64().expect("count");
        }
        json!(out)
    };
    tl["total"] = dense(&tl["total"]);
    let codes: serde_json::Map<String, Value> = tl["codes"]
        .as_object()
        .expect("codes")
        .iter()
        .map(|(code, series)| (code.clone(), dense(series)))
        .collect();
    tl["codes"] = Value::Object(codes);
    tl.as_object_mut().expect("timeline").remove("buckets");
    v["schema"] = json!("emscan.scan/1");
    v
}

#[test]
fn scan_1_and_scan_2_summaries_are_read_by_merge_diff_and_baseline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = crate::common::fixture("sample-bundle");
    let v2 = scan_json(&sample, &["--bucket", "1m"]);
    assert_eq!(v2["schema"], "emscan.scan/2");
    let v1 = as_schema_1(v2.clone());
    assert!(
        v1["timeline"]["total"]
            .as_array()
            .is_some_and(|a| a.len() > 60)
    );
    let new = write_json(&dir.path().join("new.json"), &v2);
    let old = write_json(&dir.path().join("old.json"), &v1);
    // Each reads back as the same summary: merging one alone gives the same report.
    let merged = |file: &Path| -> Value {
        let (code, stdout, stderr) = run(emscan().arg("merge").arg(file));
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).expect("json")
    };
    let (from_1, from_2) = (merged(&old), merged(&new));
    assert_eq!(from_1, from_2);
    assert_eq!(from_1["schema"], "emscan.scan/2");
    assert_eq!(from_1["timeline"], v2["timeline"]);
    let (code, stdout, stderr) = run(emscan()
        .arg("diff")
        .arg(&old)
        .arg(&new)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let d: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(d["before"], d["after"]);
    assert!(
        d["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .all(|c| c["kind"] == "same"),
        "{stdout}"
    );
    let (code, _, stderr) = run(emscan()
        .arg("gate")
        .arg(&sample)
        .arg("--baseline")
        .arg(&old)
        .args(["--max-new", "0", "--max-increase", "total=0"]));
    assert_eq!(
        code, 0,
        "a scan-1 baseline of the same logs passes: {stderr}"
    );
}

#[test]
fn timeline_of_many_codes_over_a_year_holds_only_non_empty_buckets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("year");
    fs::create_dir_all(bundle.join("PC")).expect("mkdir");
    // 2,000 distinct codes, one error each, spread over a year (every 4 h 22 m).
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a date");
    let mut log = String::new();
    for i in 0..2000i64 {
        let t = start + chrono::Duration::minutes(i * 262);
        log.push_str(&format!(
            "[{}:000]: Client_Login failed, code: {}; desc: x\n",
            t.format("%Y/%m/%d %H:%M:%S"),
            10_000 + i
        ));
    }
    fs::write(bundle.join("PC/easemob.log"), log).expect("write");
    let (code, stdout, stderr) = run(emscan().arg("scan").arg(&bundle).args([
        "--format",
        "json",
        "--no-progress",
        "--bucket",
        "1m",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.len() < 8 << 20,
        "{} bytes of JSON for 2,000 errors",
        stdout.len()
    );
    let v: Value = serde_json::from_str(&stdout).expect("json");
    let tl = &v["timeline"];
    let buckets = tl["buckets"].as_u64().expect("buckets");
    assert!((1..=10_000).contains(&buckets), "{buckets}");
    let codes = tl["codes"].as_object().expect("codes");
    assert_eq!(codes.len(), 2000);
    for series in codes.values() {
        assert_eq!(
            series.as_object().map(|s| s.len()),
            Some(1),
            "one cell each"
        );
    }
    let total: u64 = tl["total"]
        .as_object()
        .expect("sparse total")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(total, 2000);
}

#[test]
fn auto_bucket_keeps_at_most_sixty_buckets_on_a_clock_that_jumps_years() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("clock");
    fs::create_dir_all(bundle.join("PC")).expect("mkdir");
    fs::write(
        bundle.join("PC/easemob.log"),
        "[1999/12/31 23:59:00:000]: Client_Login failed, code: 202; desc: x\n\
         [2024/03/01 08:00:00:001]: Client_Login failed, code: 202; desc: x\n\
         [2026/12/06 08:00:00:001]: Client_Login failed, code: 2; desc: x\n",
    )
    .expect("write");
    let v = scan_json(&bundle, &[]);
    let tl = &v["timeline"];
    let buckets = tl["buckets"].as_u64().expect("buckets");
    assert!(buckets <= 60, "{buckets} buckets of {}", tl["bucket"]);
    let name = tl["bucket"].as_str().expect("name");
    assert!(
        name.ends_with('d') && tl["bucket_seconds"].as_i64().expect("secs") % 86_400 == 0,
        "{name}"
    );
    let (code, stdout, stderr) = run(emscan()
        .arg("scan")
        .arg(&bundle)
        .args(["--timeline", "--no-progress"]));
    assert_eq!(code, 0, "{stderr}");
    let bars = stdout
        .lines()
        .find(|l| l.starts_with("  └") && l.trim().chars().skip(1).all(|c| c == '─'))
        .expect("a histogram axis");
    assert!(bars.chars().filter(|&c| c == '─').count() <= 60, "{bars}");
}

/// The sample bundle's summary as JSON, scanned once.
fn sample_summary_json() -> &'static Value {
    static SAMPLE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SAMPLE.get_or_init(|| {
        let config = emscan::ScanConfig::new(vec![crate::common::fixture("sample-bundle")]);
        let summary = emscan::scan_paths(&config, &|_| {}, &|_| {}).expect("scan succeeds");
        serde_json::to_value(&summary).expect("json")
    })
}

/// The places of every number in `v`, as JSON pointers.
fn number_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Number(_) => out.push(at),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                number_pointers(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                number_pointers(item, format!("{at}/{key}"), out);
            }
        }
        _ => {}
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// Any one number of a real summary changed to any value: the summary either reads back
    /// or is refused with a reason, and one that reads back merges with itself without a
    /// panic (an overflow is an error).
    #[test]
    fn a_summary_with_any_number_changed_reads_or_is_refused_and_merges_without_panic(
        pick in proptest::prelude::any::<proptest::sample::Index>(),
        value in proptest::prop_oneof![
            proptest::prelude::Just(0u64),
            proptest::prelude::Just(u64::MAX),
            proptest::prelude::Just(1u64 << 63),
            proptest::prelude::any::<u64>(),
            0u64..100,
        ],
    ) {
        let mut v = sample_summary_json().clone();
        let mut numbers = Vec::new();
        number_pointers(&v, String::new(), &mut numbers);
        let at = &numbers[pick.index(numbers.len())];
        *v.pointer_mut(at).expect("a number") = json!(value);
        match emscan::Summary::from_json(&v.to_string(), "changed.json") {
            Ok(summary) => {
                let _ = summary.clone().merge(summary);
            }
            Err(err) => {
                let message = err.to_string();
                proptest::prop_assert!(message.starts_with("changed.json: "), "{message}");
            }
        }
    }
}

#[test]
fn saved_summary_of_a_log_whose_clock_goes_back_merges() {
    // A file's first and last entry times are in file order: a clock set back (or the random
    // times of the Spark example's logs) makes the last earlier than the first. Such a
    // summary is a real scan and must be read back.
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("bundle");
    fs::create_dir_all(bundle.join("PC")).expect("mkdir");
    fs::write(
        bundle.join("PC/easemob.log"),
        "[2024/03/01 09:56:26:041]: Client_Login failed, code: 202; desc: x\n\
         [2024/03/01 09:02:12:377]: Client_Login failed, code: 202; desc: x\n",
    )
    .expect("write");
    let summary = scan_json(&bundle, &[]);
    assert!(
        summary["files"][0]["first"].as_str() > summary["files"][0]["last"].as_str(),
        "{summary}"
    );
    let saved = write_json(&dir.path().join("a.json"), &summary);
    let (code, _, stderr) = run(emscan().arg("merge").arg(&saved).args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(emscan().arg("diff").arg(&saved).arg(&saved));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn merge_of_the_same_input_twice_is_refused_naming_both_summaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = small_bundle(dir.path());
    let summary = scan_json(&bundle, &[]);
    assert!(
        summary["files"][0]["fingerprint"].is_string(),
        "each file carries its fingerprint: {summary}"
    );
    let a = write_json(&dir.path().join("a.json"), &summary);
    let b = write_json(&dir.path().join("b.json"), &summary);
    let (code, stdout, stderr) = run(emscan().arg("merge").arg(&a).arg(&b));
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains("a.json") && stderr.contains("b.json"),
        "{stderr}"
    );
    assert!(stderr.contains("easemob.log"), "{stderr}");
    // Asked for, the merge counts both.
    let (code, stdout, stderr) = run(emscan()
        .arg("merge")
        .arg(&a)
        .arg(&b)
        .arg("--allow-duplicates"));
    assert_eq!(code, 0, "{stderr}");
    let merged: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(merged["stats"]["errors"], 4);
    // Two copies of a file inside one scan are two inputs: that summary merges.
    fs::copy(bundle.join("PC/easemob.log"), bundle.join("PC/copy")).expect("copy");
    fs::create_dir_all(bundle.join("PC/old")).expect("mkdir");
    fs::copy(
        bundle.join("PC/easemob.log"),
        bundle.join("PC/old/easemob.log"),
    )
    .expect("copy");
    let both = write_json(&dir.path().join("both.json"), &scan_json(&bundle, &[]));
    let (code, _, stderr) = run(emscan().arg("merge").arg(&both));
    assert_eq!(code, 0, "{stderr}");
}
