//! The `emscan` binary end to end: commands, formats and exit statuses.

use crate::common;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn emscan() -> Command {
    let mut cmd = Command::cargo_bin("emscan").expect("binary builds");
    cmd.env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES");
    cmd
}

fn json_of(cmd: &mut Command) -> Value {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

#[test]
fn scan_json_follows_the_contract() {
    let bundle = common::fixture("sample-bundle");
    let v = json_of(
        emscan()
            .arg("scan")
            .arg(&bundle)
            .args(["--format", "json", "--no-progress"]),
    );
    assert_eq!(v["schema"], "emscan.scan/2");
    assert_eq!(v["root"][0], bundle.to_string_lossy().as_ref());
    let first = &v["codes"][0];
    for key in [
        "code",
        "name",
        "category",
        "count",
        "first",
        "last",
        "per_file",
        "per_device",
        "per_minute",
        "hint",
    ] {
        assert!(!first[key].is_null(), "codes[0].{key} is missing: {first}");
    }
    let counts: Vec<u64> = v["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "most frequent first: {counts:?}"
    );
    for key in ["files", "bytes", "lines", "elapsed_ms"] {
        assert!(v["stats"][key].is_u64(), "stats.{key}");
    }
    let expected = common::expected("sample-bundle");
    assert_eq!(
        v["files"].as_array().unwrap().len() as u64,
        expected["totals"]["files"].as_u64().unwrap()
    );
    assert!(v["skipped"].as_array().unwrap().is_empty());
}

#[test]
fn scan_table_shows_codes_hints_and_footer() {
    let expected = common::expected("sample-bundle");
    let totals = &expected["totals"];
    emscan()
        .arg("scan")
        .arg(common::fixture("sample-bundle"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            expected["codes"][0]["name"].as_str().unwrap(),
        ))
        .stdout(predicate::str::contains("Codes not in the catalog"))
        .stdout(predicate::str::contains(format!(
            "Success lines (code 0): {}",
            totals["success"]
        )))
        .stdout(predicate::str::contains(format!(
            "{} errors in {} files",
            totals["error_occurrences"], totals["files"]
        )));
}

#[test]
fn scan_table_in_chinese() {
    let bundle = common::fixture("utf16-legacy");
    emscan()
        .arg("scan")
        .arg(&bundle)
        .env("LANG", "zh_CN.UTF-8")
        .assert()
        .success()
        .stdout(predicate::str::contains("处理建议"));
}

#[test]
fn missing_path_exits_2_naming_it() {
    emscan()
        .args(["scan", "no/such/folder"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/folder"));
}

#[test]
fn folder_without_sdk_logs_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("readme.txt"), "nothing").unwrap();
    emscan()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--all-files"));
}

#[test]
fn all_files_and_explicit_files_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[2024/03/01 08:00:00:001]: Client_Login failed, code: 202; desc: auth\n";
    std::fs::write(dir.path().join("app.txt"), text).unwrap();
    let v = json_of(
        emscan()
            .arg("scan")
            .arg(dir.path())
            .args(["--all-files", "--format", "json"]),
    );
    assert_eq!(v["codes"][0]["code"], 202);
    assert_eq!(v["codes"][0]["per_file"]["app.txt"], 1);
    let v = json_of(
        emscan()
            .arg("scan")
            .arg(dir.path().join("app.txt"))
            .args(["--format", "json"]),
    );
    assert_eq!(v["codes"][0]["count"], 1);
}

#[test]
fn user_rule_adds_a_shape() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "[2024/03/01 08:00:00:001]: custom err#305 here\n[2024/03/01 08:00:01:001]: custom err#3\n";
    std::fs::write(dir.path().join("easemob.log"), text).unwrap();
    let v = json_of(emscan().arg("scan").arg(dir.path()).args([
        "--rule",
        r"err#(?P<code>\d+)",
        "--format",
        "json",
    ]));
    assert_eq!(v["codes"][0]["code"], 305);
    assert_eq!(v["codes"][0]["per_shape"]["rule1"], 1);
    assert_eq!(v["unknown_codes"][0]["code"], 3);
    emscan()
        .arg("scan")
        .arg(dir.path())
        .args(["--rule", r"err#(\d+)"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("group `code`"));
}

#[test]
fn explain_by_code_and_name() {
    emscan()
        .args(["explain", "202"])
        .assert()
        .success()
        .stdout(predicate::str::contains("USER_AUTHENTICATION_FAILED"))
        .stdout(predicate::str::contains("token"))
        .stdout(predicate::function(|s: &str| s.is_ascii()).name("English only"));
    emscan()
        .args(["explain", "202", "--lang", "en", "--both"])
        .assert()
        .success()
        .stdout(predicate::str::contains("用户鉴权失败"));
    emscan()
        .args(["explain", "user_authentication_failed", "--lang", "zh"])
        .assert()
        .success()
        .stdout(predicate::str::contains("用户鉴权失败"));
    let v = json_of(emscan().args(["explain", "503", "--json"]));
    assert_eq!(v["deprecated"], true);
}

#[test]
fn explain_typo_suggests_and_exits_2() {
    emscan()
        .args(["explain", "SERVER_TIMOUT"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean SERVER_TIMEOUT"));
    emscan().args(["explain", "999"]).assert().code(2);
}

#[test]
fn codes_lists_the_catalog() {
    let v = json_of(emscan().args(["codes", "--format", "json"]));
    assert_eq!(v.as_array().unwrap().len(), 73);
    let v = json_of(emscan().args(["codes", "--format", "json", "--category", "push"]));
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|c| c["category"] == "push")
    );
    emscan()
        .args(["codes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("CHATROOM_NOT_EXIST"));
    emscan()
        .args(["codes", "--category", "nope"])
        .assert()
        .code(2);
}

#[test]
fn terminal_output_escapes_control_characters_in_paths() {
    let dir = tempfile::tempdir().unwrap();
    let device = dir.path().join("evil\u{1b}[2J");
    std::fs::create_dir_all(&device).unwrap();
    std::fs::write(device.join("easemob.log"), "x\nonDisconnect999\n").unwrap();
    let out = emscan().arg("scan").arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains('\u{1b}'),
        "raw ESC reached the terminal: {stdout}"
    );
    assert!(stdout.contains("\\u{1b}[2J"), "{stdout}");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let bundle = common::fixture("utf16-legacy");
    let piped = emscan().arg("scan").arg(&bundle).output().unwrap();
    assert!(
        !piped.stdout.contains(&0x1b),
        "no ANSI when stdout is a pipe"
    );
    let forced = emscan()
        .arg("scan")
        .arg(&bundle)
        .args(["--color", "always"])
        .output()
        .unwrap();
    assert!(
        forced.stdout.contains(&0x1b),
        "--color always styles the header"
    );
}

#[test]
fn scan_timeline_view_shows_sparklines_histogram_and_bursts() {
    let bundle = common::own_fixtures().join("sample-bundle");
    emscan()
        .arg("scan")
        .arg(&bundle)
        .args([
            "--timeline",
            "--unmatched",
            "--bucket",
            "15m",
            "--no-progress",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Timeline (2024-05-06 09:00:00.000",
        ))
        .stdout(predicate::str::contains("× 15m"))
        .stdout(predicate::str::contains("NETWORK_ERROR"))
        .stdout(predicate::str::contains("all errors (max"))
        .stdout(predicate::str::contains("network outage  PC-ALICE"))
        .stdout(predicate::str::contains("Error lines no rule understands"));
}

#[test]
fn since_until_restrict_the_json_and_bad_times_are_usage_errors() {
    let bundle = common::own_fixtures().join("sample-bundle");
    let v = json_of(emscan().arg("scan").arg(&bundle).args([
        "--format",
        "json",
        "--since",
        "2024-05-06 10:00",
        "--until",
        "2024-05-06 10:20",
    ]));
    assert_eq!(v["window"]["since"], "2024-05-06 10:00:00.000");
    assert_eq!(v["bursts"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["bursts"][0]["label"], "token_expiry");
    emscan()
        .arg("scan")
        .arg(&bundle)
        .args(["--since", "yesterday"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a time"));
    emscan()
        .arg("report")
        .arg(&bundle)
        .args(["--until", "-2x"])
        .assert()
        .code(2);
}

#[test]
fn the_deep_pass_runs_only_when_asked() {
    // The connection story and the lines no rule understands need a per-line pass: scan does
    // it with --deep, report always.
    let bundle = common::own_fixtures().join("sample-bundle");
    let plain = json_of(emscan().arg("scan").arg(&bundle).args(["--format", "json"]));
    assert_eq!(
        plain["unmatched_templates"].as_array().map(Vec::len),
        Some(0)
    );
    let asked = json_of(
        emscan()
            .arg("scan")
            .arg(&bundle)
            .args(["--format", "json", "--deep"]),
    );
    assert!(
        asked["unmatched_templates"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    // Without it the story holds only the listener codes' disconnects (found with the codes).
    let story = |v: &serde_json::Value| v["devices"][0]["story_total"].as_u64().unwrap_or(0);
    let disconnects = plain["devices"][0]["disconnects"].as_u64().unwrap_or(0);
    assert_eq!(story(&plain), disconnects);
    assert!(
        story(&asked) > disconnects,
        "handleDisconnect reasons join the story"
    );
    // Everything else is the same either way.
    let strip = |mut v: serde_json::Value| {
        v["unmatched_templates"] = serde_json::Value::Null;
        v["devices"] = serde_json::Value::Null;
        v["stats"]["elapsed_ms"] = 0.into();
        v
    };
    assert_eq!(strip(plain), strip(asked));
}

#[test]
fn device_is_named_the_same_from_every_entry_point() {
    // The folder above the SDK's own layout names the device, wherever the scan starts.
    let device = common::fixture("sample-bundle").join("PC-ALICE");
    for root in [
        device.clone(),
        device.join("sdkdata"),
        device.join("sdkdata/easemobLog"),
        device.join("sdkdata/easemobLog/easemob.log"),
    ] {
        let summary = emscan::scan_paths(
            &emscan::ScanConfig::new(vec![root.clone()]),
            &|_| {},
            &|_| {},
        )
        .expect("scan");
        let devices: Vec<&str> = summary.files.iter().map(|f| f.device.as_str()).collect();
        assert!(
            !devices.is_empty() && devices.iter().all(|d| *d == "PC-ALICE"),
            "{}: {devices:?}",
            root.display()
        );
    }
    // From the bundle, too.
    let summary = emscan::scan_paths(
        &emscan::ScanConfig::new(vec![common::fixture("sample-bundle")]),
        &|_| {},
        &|_| {},
    )
    .expect("scan");
    assert!(summary.files.iter().any(|f| f.device == "PC-ALICE"));
}

#[test]
fn logrotate_names_are_scanned_in_rotation_order() {
    // Scripts that collect logs often rotate with logrotate: easemob.log.N(.gz), higher older.
    let dir = tempfile::tempdir().unwrap();
    let line =
        |hour: u32| format!("[2024/03/01 {hour:02}:00:00:001]: X failed, code: 202; desc: d\n");
    std::fs::write(dir.path().join("easemob_2024-03-01_05-00-00.log"), line(4)).unwrap();
    let gz = {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(line(5).as_bytes()).unwrap();
        enc.finish().unwrap()
    };
    std::fs::write(dir.path().join("easemob.log.2.gz"), gz).unwrap();
    std::fs::write(dir.path().join("EASEMOB.LOG.1"), line(6)).unwrap();
    std::fs::write(dir.path().join("easemob.log"), line(7)).unwrap();
    // Not rotation names: left alone.
    std::fs::write(dir.path().join("easemob.log.old"), line(8)).unwrap();
    std::fs::write(dir.path().join("easemob.log.1x"), line(8)).unwrap();
    let summary = emscan::scan_paths(
        &emscan::ScanConfig::new(vec![dir.path().to_path_buf()]),
        &|_| {},
        &|_| {},
    )
    .expect("scan");
    let files: Vec<&str> = summary.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        files,
        [
            "easemob_2024-03-01_05-00-00.log",
            "easemob.log.2.gz",
            "EASEMOB.LOG.1",
            "easemob.log"
        ]
    );
    assert_eq!(summary.stats.errors, 4);
}

#[test]
fn other_log_files_are_named_not_scanned_silently() {
    let dir = tempfile::tempdir().unwrap();
    let pc = dir.path().join("PC-1");
    std::fs::create_dir_all(&pc).unwrap();
    let line = "[2024/03/01 08:00:00:001]: X failed, code: 202; desc: d\n";
    std::fs::write(pc.join("easemob.log"), line).unwrap();
    std::fs::write(pc.join("app.log"), line).unwrap();
    std::fs::write(pc.join("notes.txt"), line).unwrap();
    let v =
        json_of(
            emscan()
                .arg("scan")
                .arg(dir.path())
                .args(["--format", "json", "--no-progress"]),
        );
    assert_eq!(v["not_scanned"], serde_json::json!(["PC-1/app.log"]));
    assert_eq!(v["stats"]["errors"], 1);
    emscan()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Not scanned").and(predicate::str::contains("PC-1/app.log")),
        )
        .stdout(predicate::str::contains("--all-files"));
    // With --all-files they are scanned, and nothing is left to name.
    let v = json_of(emscan().arg("scan").arg(dir.path()).args([
        "--format",
        "json",
        "--no-progress",
        "--all-files",
    ]));
    assert!(v["not_scanned"].is_null(), "{v}");
    assert_eq!(v["stats"]["errors"], 3);
}
