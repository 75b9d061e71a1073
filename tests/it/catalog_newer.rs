//! The catalog's second tier: codes of newer SDK versions that the Windows SDK table lacks
//! (`data/catalog-newer.toml`). They are explained, listed and accepted by gate rules, named in
//! scans, yet stay unknown: under `unknown_codes`, counted by `--max unknown=N`, and never made
//! out of decoys.

use crate::common;

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The page the issue names for the Windows SDK's newer codes.
const WINDOWS_PAGE: &str =
    "https://docs.agora.io/en/realtime-media/im/reference/error-codes/windows";

fn emscan() -> Command {
    let mut cmd = Command::cargo_bin("emscan").expect("the emscan binary is built");
    cmd.env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("EMSCAN_KERNEL");
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("emscan runs");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The sample bundle holds 3, 8 and 110, none of them in the Windows table.
fn sample() -> PathBuf {
    common::fixture("sample-bundle")
}

fn scan_json(path: &std::path::Path) -> Value {
    let out = emscan()
        .args(["scan", "--format", "json"])
        .arg(path)
        .output()
        .expect("emscan runs");
    serde_json::from_slice(&out.stdout).expect("scan JSON")
}

#[test]
fn explain_newer_code_says_it_is_not_in_the_windows_table_and_where_it_is_from() {
    emscan()
        .args(["explain", "3", "--lang", "en"])
        .assert()
        .success()
        .stdout(predicates::str::contains("3 DATABASE_ERROR"))
        .stdout(predicates::str::contains("Not in the Windows SDK table"))
        .stdout(predicates::str::contains(WINDOWS_PAGE));
    emscan()
        .args([
            "explain",
            "app_active_number_reach_limitation",
            "--lang",
            "zh",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "8 APP_ACTIVE_NUMBER_REACH_LIMITATION",
        ))
        .stdout(predicates::str::contains("不在 Windows SDK 错误码表中"));
}

#[test]
fn explain_windows_code_has_no_newer_line() {
    let text = stdout_of(emscan().args(["explain", "202", "--lang", "en"]));
    assert!(text.contains("USER_AUTHENTICATION_FAILED"), "{text}");
    assert!(!text.contains("Windows SDK table"), "{text}");
}

#[test]
fn explain_json_of_newer_code_carries_tier_and_source() {
    let out = emscan()
        .args(["explain", "110", "--json"])
        .output()
        .expect("emscan runs");
    assert!(out.status.success());
    let info: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(info["name"], "INVALID_PARAM");
    assert_eq!(info["tier"], "newer");
    assert_eq!(info["source"], WINDOWS_PAGE);
    assert!(info["meaning_zh"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(info["hint_en"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn codes_lists_the_windows_table_by_default_and_the_newer_tier_with_newer() {
    let default: Vec<Value> =
        serde_json::from_str(&stdout_of(emscan().args(["codes", "--format", "json"])))
            .expect("JSON");
    assert_eq!(
        default.len(),
        73,
        "the default listing is the Windows table"
    );
    assert!(
        default
            .iter()
            .all(|e| e["code"] != 3 && e.get("tier").is_none())
    );

    let newer: Vec<Value> = serde_json::from_str(&stdout_of(
        emscan().args(["codes", "--newer", "--format", "json"]),
    ))
    .expect("JSON");
    let codes: Vec<u64> = newer.iter().filter_map(|e| e["code"].as_u64()).collect();
    for code in [3, 8, 110] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    assert!(newer.iter().all(|e| e["tier"] == "newer"));

    let table = stdout_of(emscan().args(["codes", "--newer", "--lang", "en"]));
    assert!(table.contains("DATABASE_ERROR"), "{table}");
    assert!(table.contains("not in the Windows SDK table"), "{table}");
    assert!(table.contains(WINDOWS_PAGE), "{table}");
}

#[test]
fn gate_accepts_newer_codes_and_names_as_rule_targets() {
    // 3 occurs twice in the sample bundle: a limit of 0 breaks, exit 1, not "bad gate rule".
    let out = emscan()
        .args(["gate", "--max", "3=0"])
        .arg(sample())
        .output()
        .expect("emscan runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("bad gate rule"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DATABASE_ERROR"), "{text}");

    emscan()
        .args(["gate", "--max", "invalid_param=3", "--max", "8=1"])
        .arg(sample())
        .assert()
        .code(0);
    emscan()
        .args(["gate", "--max", "INVALID_PARAM=2"])
        .arg(sample())
        .assert()
        .code(1);
}

#[test]
fn gate_unknown_still_counts_newer_codes() {
    // 110 ×3, 3 ×2, 8 ×1: six unknown occurrences, all of them newer-tier codes.
    let expected = common::expected("sample-bundle");
    let unknown: u64 = expected["unknown_codes"]
        .as_array()
        .expect("unknown codes")
        .iter()
        .filter_map(|c| c["count"].as_u64())
        .sum();
    assert_eq!(unknown, 6);
    emscan()
        .args(["gate", "--max", &format!("unknown={unknown}")])
        .arg(sample())
        .assert()
        .code(0);
    emscan()
        .args(["gate", "--max", &format!("unknown={}", unknown - 1)])
        .arg(sample())
        .assert()
        .code(1);
    // Allowing the newer codes by name leaves nothing unknown.
    emscan()
        .args(["gate", "--max", "unknown=0"])
        .args([
            "--allow",
            "database_error",
            "--allow",
            "8",
            "--allow",
            "110",
        ])
        .arg(sample())
        .assert()
        .code(0);
}

#[test]
fn scan_json_keeps_newer_codes_unknown_with_name_tier_and_source() {
    let report = scan_json(&sample());
    assert_eq!(
        report["schema"], "emscan.scan/2",
        "added fields keep the version"
    );
    let known: Vec<u64> = report["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|c| c["code"].as_u64())
        .collect();
    for code in [3, 8, 110] {
        assert!(!known.contains(&code), "{code} is not a Windows-table code");
    }
    let unknown = report["unknown_codes"].as_array().expect("unknown codes");
    let by_code = |code: u64| {
        unknown
            .iter()
            .find(|c| c["code"] == code)
            .unwrap_or_else(|| panic!("{code} under unknown_codes"))
    };
    let database = by_code(3);
    assert_eq!(database["name"], "DATABASE_ERROR");
    assert_eq!(database["tier"], "newer");
    assert_eq!(database["source"], WINDOWS_PAGE);
    assert!(
        database.get("category").is_none(),
        "no Windows-table category"
    );
    assert_eq!(by_code(110)["name"], "INVALID_PARAM");
    assert_eq!(by_code(8)["name"], "APP_ACTIVE_NUMBER_REACH_LIMITATION");
}

#[test]
fn scan_json_of_a_code_in_neither_tier_has_no_name_tier_or_source() {
    let dir = TempDir::new().expect("tempdir");
    std::fs::write(
        dir.path().join("easemob.log"),
        "[2024/05/06 09:00:00:000]: EMChatManager::sendMessage() error, errorCode=4242, desc=x\n",
    )
    .expect("write log");
    let report = scan_json(dir.path());
    let unknown = report["unknown_codes"].as_array().expect("unknown codes");
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0]["code"], 4242);
    for field in ["name", "tier", "source"] {
        assert!(unknown[0].get(field).is_none(), "{field}: {:?}", unknown[0]);
    }
}

#[test]
fn table_names_newer_codes_in_the_unknown_section() {
    let text = stdout_of(emscan().args(["scan", "--lang", "en"]).arg(sample()));
    let section = text
        .split("Codes not in the catalog")
        .nth(1)
        .expect("the unknown-code section");
    for cell in [
        "110 INVALID_PARAM",
        "3 DATABASE_ERROR",
        "8 APP_ACTIVE_NUMBER_REACH_LIMITATION",
    ] {
        assert!(section.contains(cell), "{cell} in:\n{section}");
    }
    assert!(
        section.contains("not in the Windows SDK table"),
        "{section}"
    );

    let markdown = stdout_of(
        emscan()
            .args(["scan", "--format", "markdown", "--lang", "en"])
            .arg(sample()),
    );
    // Markdown escapes the underscores.
    assert!(markdown.contains("3 DATABASE\\_ERROR"), "{markdown}");
}

#[test]
fn report_step_names_newer_code_with_its_hint_and_source() {
    let markdown = stdout_of(
        emscan()
            .args(["report", "--format", "markdown", "--lang", "en"])
            .arg(sample()),
    );
    let step = markdown
        .lines()
        .find(|line| line.contains("Code 110"))
        .unwrap_or_else(|| panic!("a step for 110 in:\n{markdown}"));
    assert!(step.contains("INVALID_PARAM"), "{step}");
    assert!(step.contains("not in the Windows SDK table"), "{step}");
    assert!(step.contains(WINDOWS_PAGE), "{step}");
}

#[test]
fn errno_110_decoy_stays_nothing() {
    // `errno: 110` is the socket's ETIMEDOUT, not the SDK's INVALID_PARAM: naming 110 must not
    // make the extractor read it.
    let dir = TempDir::new().expect("tempdir");
    std::fs::write(
        dir.path().join("easemob.log"),
        "[2024/05/06 09:00:00:000]: log: level: 2, area: 2, recv(): recv() failed. errno: 110: Connection timed out\n\
         [2024/05/06 09:00:01:000]: errno: 3\n\
         [2024/05/06 09:00:02:000]: errno=8\n",
    )
    .expect("write log");
    let report = scan_json(dir.path());
    assert_eq!(
        report["codes"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    assert_eq!(
        report["unknown_codes"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    assert_eq!(report["stats"]["errors"], 0);

    // The decoys-only fixture (errno: 110 lines among others) still yields nothing.
    let decoys = scan_json(&common::fixture("decoys-only"));
    assert_eq!(decoys["unknown_codes"].as_array().map(Vec::len), Some(0));
    assert_eq!(decoys["codes"].as_array().map(Vec::len), Some(0));
}

#[test]
fn merge_keeps_newer_names_and_reads_summaries_without_them() {
    // A summary written before the tier existed has bare unknown codes; merging it with one
    // that names them keeps the names, and both stay unknown.
    let dir = TempDir::new().expect("tempdir");
    let mut bare = scan_json(&common::fixture("utf16-legacy"));
    for code in bare["unknown_codes"].as_array_mut().expect("unknown codes") {
        let code = code.as_object_mut().expect("object");
        for field in ["name", "tier", "source"] {
            code.remove(field);
        }
    }
    let named = scan_json(&sample());
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&a, serde_json::to_vec(&bare).expect("JSON")).expect("write a");
    std::fs::write(&b, serde_json::to_vec(&named).expect("JSON")).expect("write b");
    let out = emscan()
        .arg("merge")
        .args([&a, &b])
        .output()
        .expect("emscan runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: Value = serde_json::from_slice(&out.stdout).expect("merged JSON");
    let invalid_param = merged["unknown_codes"]
        .as_array()
        .expect("unknown codes")
        .iter()
        .find(|c| c["code"] == 110)
        .expect("110 stays unknown");
    assert_eq!(
        invalid_param["count"], 4,
        "3 in the sample bundle, 1 in utf16-legacy"
    );
    assert_eq!(invalid_param["name"], "INVALID_PARAM");
    assert_eq!(invalid_param["tier"], "newer");
    assert_eq!(invalid_param["source"], WINDOWS_PAGE);
}
