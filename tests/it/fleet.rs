//! Fleet-scale outputs end to end: NDJSON events, `merge`, CSV, Markdown, Prometheus,
//! completions and the man page, `--quiet`, and the default path.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn emscan() -> Command {
    let mut cmd = Command::cargo_bin("emscan").expect("binary builds");
    cmd.env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("NO_COLOR");
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn scan_json(paths: &[&Path], dir: &Path) -> Value {
    let out = stdout_of(emscan().current_dir(dir).arg("scan").args(paths).args([
        "--format",
        "json",
        "--no-progress",
    ]));
    serde_json::from_str(&out).expect("scan JSON")
}

/// Every code's count in a summary, code 0 included.
fn counts(summary: &Value) -> BTreeMap<u64, u64> {
    let mut out = BTreeMap::new();
    for list in ["codes", "unknown_codes"] {
        for c in summary[list].as_array().expect("code list") {
            out.insert(c["code"].as_u64().unwrap(), c["count"].as_u64().unwrap());
        }
    }
    let success = summary["success"]["count"].as_u64().unwrap();
    if success > 0 {
        out.insert(0, success);
    }
    out
}

/// The summary without wall time, which differs from run to run.
fn timeless(mut summary: Value) -> Value {
    summary["stats"]["elapsed_ms"] = 0.into();
    summary
}

#[test]
fn ndjson_events_have_otel_names_and_match_the_scan() {
    let bundles = [
        common::own_fixtures().join("sample-bundle"),
        common::own_fixtures().join("utf16-legacy"),
    ];
    for bundle in &bundles {
        let text = stdout_of(emscan().arg("scan").arg(bundle).args([
            "--format",
            "ndjson",
            "--no-progress",
        ]));
        let summary = scan_json(&[bundle], Path::new("."));
        let mut per_code: BTreeMap<u64, u64> = BTreeMap::new();
        let mut per_file_line: Vec<(String, u64)> = Vec::new();
        for line in text.lines() {
            let event: Value = serde_json::from_str(line).expect("each line is one JSON object");
            let keys: Vec<&str> = event
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let mut expected_keys = vec![
                "attributes",
                "body",
                "severity_number",
                "severity_text",
                "time_unix_nano",
                "timestamp",
            ];
            if event["timestamp"].is_null() {
                expected_keys.retain(|k| *k != "time_unix_nano");
            }
            assert_eq!(keys, expected_keys);
            let attrs = &event["attributes"];
            let code = attrs["easemob.error.code"].as_u64().expect("code");
            for key in [
                "log.file.path",
                "easemob.device",
                "easemob.shape",
                "easemob.error.code",
                "log.file.line",
            ] {
                assert!(!attrs[key].is_null(), "{key} missing: {line}");
            }
            let known = summary["codes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["code"] == code);
            assert_eq!(attrs["easemob.error.name"].is_string(), known || code == 0);
            assert_eq!(
                event["severity_text"],
                if code == 0 { "INFO" } else { "ERROR" }
            );
            let body = event["body"].as_str().unwrap();
            assert!(
                !body.chars().any(char::is_control),
                "escaped body: {body:?}"
            );
            if let Some(ts) = event["timestamp"].as_str() {
                assert_eq!(ts.len(), "2024-05-06 09:00:00.000".len(), "{ts}");
            }
            *per_code.entry(code).or_default() += 1;
            per_file_line.push((
                attrs["log.file.path"].as_str().unwrap().to_string(),
                attrs["log.file.line"].as_u64().unwrap(),
            ));
        }
        assert_eq!(per_code, counts(&summary), "{}", bundle.display());
        // Per file, events come in line order; files in report order.
        let files: Vec<&str> = summary["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        let order = |p: &str| files.iter().position(|f| *f == p).expect("a scanned file");
        assert!(
            per_file_line
                .windows(2)
                .all(|w| (order(&w[0].0), w[0].1) <= (order(&w[1].0), w[1].1))
        );
    }
}

#[test]
fn ndjson_bodies_are_the_lines_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("easemob.log"),
        "[2024/03/01 08:00:00:001]: \u{1b}[31mx failed, code: 300; desc: \"q\"\r\n",
    )
    .unwrap();
    let text = stdout_of(
        emscan()
            .arg("scan")
            .arg(dir.path())
            .args(["--format", "ndjson"]),
    );
    let event: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(
        event["body"],
        "[2024/03/01 08:00:00:001]: \\u{1b}[31mx failed, code: 300; desc: \"q\""
    );
    assert_eq!(event["timestamp"], "2024-03-01 08:00:00.001");
    assert_eq!(
        event["attributes"]["easemob.error.name"],
        "SERVER_NOT_REACHABLE"
    );
    assert_eq!(event["attributes"]["easemob.error.category"], "server");
    assert_eq!(event["attributes"]["log.file.line"], 1);
}

#[test]
fn merging_per_bundle_scans_equals_one_scan_of_all_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["b1", "b2", "b3", "b4"];
    for (i, name) in names.iter().enumerate() {
        common::write_bundle(dir.path(), name, i as u64 + 1, 1 + i % 3);
    }
    // A file given directly, too: it keeps its path as given and its own device. (A copy: a
    // file inside a scanned bundle would be counted once, under its path in the bundle.)
    let single = "x/sdkdata/easemobLog/easemob.log";
    std::fs::create_dir_all(dir.path().join("x/sdkdata/easemobLog")).unwrap();
    std::fs::copy(
        dir.path().join("b1/PC-1-0/sdkdata/easemobLog/easemob.log"),
        dir.path().join(single),
    )
    .unwrap();
    let mut paths: Vec<&Path> = names.iter().map(Path::new).collect();
    paths.push(Path::new(single));
    let mut summaries = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let file = dir.path().join(format!("s{i}.json"));
        let json = stdout_of(
            emscan()
                .current_dir(dir.path())
                .arg("scan")
                .arg(path)
                .args(["--format", "json", "--no-progress"]),
        );
        std::fs::write(&file, json).unwrap();
        summaries.push(file);
    }
    let all = scan_json(&paths, dir.path());
    let merged: Value = serde_json::from_str(&stdout_of(
        emscan()
            .current_dir(dir.path())
            .arg("merge")
            .args(&summaries),
    ))
    .unwrap();
    assert_eq!(timeless(merged.clone()), timeless(all.clone()));
    // Merging in another grouping and order gives the same, roots aside.
    let left = dir.path().join("left.json");
    std::fs::write(
        &left,
        stdout_of(emscan().arg("merge").args(&summaries[2..])),
    )
    .unwrap();
    let mut regrouped: Value = serde_json::from_str(&stdout_of(
        emscan().arg("merge").arg(&left).args(&summaries[..2]),
    ))
    .unwrap();
    regrouped["root"] = all["root"].clone();
    assert_eq!(timeless(regrouped), timeless(all.clone()));
    assert_eq!(
        merged["stats"]["files"].as_u64(),
        Some(all["files"].as_array().unwrap().len() as u64)
    );
}

#[test]
fn merge_refuses_what_is_not_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema\": \"something/1\"}").unwrap();
    emscan()
        .arg("merge")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not an emscan scan summary"));
    emscan()
        .arg("merge")
        .arg(dir.path().join("missing.json"))
        .assert()
        .code(2);
}

#[test]
fn csv_parses_and_guards_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let device = dir.path().join("=HYPERLINK(\"http://x\")");
    std::fs::create_dir_all(&device).unwrap();
    std::fs::write(
        device.join("easemob.log"),
        "[2024/03/01 08:00:00:001]: x failed, code: 8; desc: y\n\
         [2024/03/01 08:00:01:001]: x failed, code: 300; desc: y\n",
    )
    .unwrap();
    let bundle = common::own_fixtures().join("sample-bundle");
    for (root, summary_path) in [
        (dir.path(), dir.path()),
        (bundle.as_path(), bundle.as_path()),
    ] {
        let text = stdout_of(
            emscan()
                .arg("scan")
                .arg(root)
                .args(["--format", "csv", "--lang", "zh"]),
        );
        let summary = scan_json(&[summary_path], Path::new("."));
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(
            header,
            [
                "code", "name", "category", "known", "count", "devices", "first", "last",
                "first_at", "hint"
            ]
        );
        let mut got = BTreeMap::new();
        for record in reader.records() {
            let record = record.unwrap();
            got.insert(
                record[0].parse::<u64>().unwrap(),
                record[4].parse::<u64>().unwrap(),
            );
            for cell in record.iter() {
                assert!(!cell.starts_with(['=', '+', '-', '@']), "formula: {cell}");
            }
        }
        let mut want = counts(&summary);
        want.remove(&0);
        assert_eq!(got, want);
    }
    let text = stdout_of(
        emscan()
            .arg("scan")
            .arg(dir.path())
            .args(["--format", "csv"]),
    );
    assert!(text.contains("'=HYPERLINK"), "{text}");
}

#[test]
fn prometheus_lines_follow_the_exposition_format() {
    let dir = tempfile::tempdir().unwrap();
    let device = dir.path().join("PC \"quoted\" \\ name");
    std::fs::create_dir_all(&device).unwrap();
    std::fs::write(
        device.join("easemob.log"),
        "[2024/03/01 08:00:00:001]: x failed, code: 300; desc: y\n\
         [2024/03/01 08:00:00:002]: x failed, code: 110; desc: y\n",
    )
    .unwrap();
    let text = stdout_of(
        emscan()
            .arg("scan")
            .arg(dir.path())
            .arg(common::own_fixtures().join("sample-bundle"))
            .args(["--format", "prometheus"]),
    );
    assert!(text.contains("# HELP emscan_errors_total "));
    assert!(text.contains("# TYPE emscan_errors_total counter\n"));
    assert!(
        text.contains(r#"name="SERVER_NOT_REACHABLE",device=""#)
            && text.contains(r#"PC \"quoted\" \\ name"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"emscan_errors_total{code="110",name="unknown","#));
    let sample = regex::Regex::new(
        r#"^[a-z_]+(\{[a-z]+="([^"\\\n]|\\["\\n])*"(,[a-z]+="([^"\\\n]|\\["\\n])*")*\})? \d+$"#,
    )
    .unwrap();
    let mut errors = 0;
    for line in text.lines() {
        if line.starts_with('#') {
            assert!(
                line.starts_with("# HELP emscan_") || line.starts_with("# TYPE emscan_"),
                "{line}"
            );
            continue;
        }
        assert!(sample.is_match(line), "not a sample line: {line}");
        if line.starts_with("emscan_errors_total{") {
            errors += line.rsplit(' ').next().unwrap().parse::<u64>().unwrap();
        }
    }
    let summary = scan_json(
        &[dir.path(), &common::own_fixtures().join("sample-bundle")],
        Path::new("."),
    );
    assert_eq!(Some(errors), summary["stats"]["errors"].as_u64());
}

#[test]
fn markdown_has_tables_and_escapes_cells() {
    let text = stdout_of(
        emscan()
            .arg("scan")
            .arg(common::own_fixtures().join("sample-bundle"))
            .args(["--format", "markdown"]),
    );
    assert!(text.starts_with("| code | name | count | share | devices |"));
    assert!(text.contains("| --- | --- | ---: | ---: | ---: |"));
    assert!(text.contains("| 2 | NETWORK\\_ERROR | 15 |"));
    assert!(text.contains("Codes not in the catalog"));
    let zh = stdout_of(
        emscan()
            .arg("scan")
            .arg(common::own_fixtures().join("sample-bundle"))
            .args(["--format", "markdown", "--lang", "zh"]),
    );
    assert!(zh.starts_with("| 错误码 |"));
}

#[test]
fn completions_and_man_page_are_generated() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let text = stdout_of(emscan().args(["completions", shell]));
        assert!(text.contains("emscan"), "{shell}");
        assert!(text.contains("merge") && text.contains("ndjson"), "{shell}");
    }
    let man = stdout_of(emscan().arg("man"));
    assert!(man.contains(".TH emscan"), "{}", &man[..200.min(man.len())]);
    emscan().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn quiet_silences_warnings() {
    let bundle = common::own_fixtures().join("sample-bundle");
    let missing = Path::new("/definitely/not/here");
    emscan()
        .arg("scan")
        .args([bundle.as_path(), missing])
        .args(["--format", "json"])
        .assert()
        .success()
        .stderr(predicates::str::contains("warning"));
    emscan()
        .arg("scan")
        .args([bundle.as_path(), missing])
        .args(["--format", "json", "--quiet", "--strict"])
        .assert()
        .code(3)
        .stderr("");
}

#[test]
fn no_path_prefers_the_sdk_log_folder() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("sdkdata/easemobLog");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("easemob.log"),
        "[2024/03/01 08:00:00:001]: x failed, code: 300; desc: y\n",
    )
    .unwrap();
    // A log elsewhere in the app's folder: not scanned when sdkdata/easemobLog exists.
    std::fs::write(
        dir.path().join("easemob.log"),
        "[2024/03/01 08:00:00:001]: x failed, code: 500; desc: y\n",
    )
    .unwrap();
    let v = scan_json(&[], dir.path());
    assert_eq!(v["root"], serde_json::json!(["sdkdata/easemobLog"]));
    assert_eq!(counts(&v), BTreeMap::from([(300, 1)]));
    std::fs::remove_dir_all(dir.path().join("sdkdata")).unwrap();
    let v = scan_json(&[], dir.path());
    assert_eq!(v["root"], serde_json::json!(["."]));
    assert_eq!(counts(&v), BTreeMap::from([(500, 1)]));
}

#[test]
fn streaming_gives_the_summary_of_a_whole_scan_file_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = common::write_bundle(dir.path(), "b", 7, 3);
    let config = emscan::ScanConfig::new(vec![
        bundle.clone(),
        common::own_fixtures().join("sample-bundle"),
    ]);
    let whole = emscan::scan_paths(&config, &|_| {}, &|_| {}).unwrap();
    let mut seen: Vec<(String, usize)> = Vec::new();
    let streamed = emscan::scan_stream(&config, &|_| {}, &|_| {}, &mut |events| {
        assert!(events.scan.hits.iter().all(|h| h.text.is_some()));
        seen.push((events.file.rel_path.clone(), events.scan.hits.len()));
        Ok(())
    })
    .unwrap();
    let zero = |mut s: emscan::Summary| {
        s.stats.elapsed_ms = 0;
        s
    };
    assert_eq!(zero(streamed), zero(whole.clone()));
    let files: Vec<String> = whole.files.iter().map(|f| f.path.clone()).collect();
    let order: Vec<String> = seen.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(order, files, "one call per file, in report order");
    let hits: u64 = seen.iter().map(|(_, n)| *n as u64).sum();
    assert_eq!(hits, whole.error_count() + whole.success.count);
}

/// `time_unix_nano` of an event, checked against its local `timestamp` read at `offset`
/// seconds east of UTC.
fn check_instant(event: &Value, offset_seconds: i64) {
    let local = chrono::NaiveDateTime::parse_from_str(
        event["timestamp"].as_str().expect("timestamp"),
        "%Y-%m-%d %H:%M:%S%.3f",
    )
    .expect("local time");
    let want = (local.and_utc().timestamp_millis() - offset_seconds * 1000) * 1_000_000;
    let got: i64 = event["time_unix_nano"]
        .as_str()
        .expect("a decimal string, as OTLP/JSON writes 64-bit integers")
        .parse()
        .expect("digits");
    assert_eq!(got, want, "{event}");
}

fn first_event(args: &[&str], env: Option<(&str, &str)>, bundle: &Path) -> Value {
    let mut cmd = emscan();
    cmd.arg("scan")
        .arg(bundle)
        .args(["--format", "ndjson"])
        .args(args);
    if let Some((key, value)) = env {
        cmd.env(key, value);
    }
    let text = stdout_of(&mut cmd);
    serde_json::from_str(text.lines().next().expect("an event")).expect("JSON")
}

#[test]
fn ndjson_time_unix_nano_uses_the_line_offset_then_tz_then_the_machine_zone() {
    let sample = common::fixture("sample-bundle");
    for (tz, offset, label) in [
        ("UTC", 0, "+00:00"),
        ("+08:00", 8 * 3600, "+08:00"),
        ("-05:30", -(5 * 3600 + 1800), "-05:30"),
    ] {
        let event = first_event(&["--tz", tz], None, &sample);
        check_instant(&event, offset);
        assert_eq!(event["attributes"]["easemob.utc_offset"], label);
    }
    // Without --tz, the machine's zone (pinned here through TZ, a POSIX rule: UTC+8).
    if cfg!(unix) {
        let event = first_event(&[], Some(("TZ", "CST-8")), &sample);
        check_instant(&event, 8 * 3600);
    }
    // A 4.x prefix states its own offset, whatever --tz says.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("easemob.log"),
        "[0][2026/02/02 13:54:39:486(05)]: Client_Login failed, code: 202; desc: x\n",
    )
    .expect("write");
    let event = first_event(&["--tz", "UTC"], None, dir.path());
    check_instant(&event, 5 * 3600);
    assert_eq!(event["attributes"]["easemob.utc_offset"], "+05:00");
    // A zone that is not one is a usage error.
    emscan()
        .args(["scan", "--format", "ndjson", "--tz", "Mars/Olympus"])
        .arg(&sample)
        .assert()
        .code(2);
}
