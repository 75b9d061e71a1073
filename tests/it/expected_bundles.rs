//! Every bundle with a `.expected.json` (the shared ones and our own) is scanned and compared
//! with its known answers, field by field.

use crate::common;

use std::path::{Path, PathBuf};

use emscan::{ScanConfig, scan_paths};
use serde_json::Value;

fn scan_json(config: &ScanConfig) -> Value {
    let summary = scan_paths(config, &|_| {}, &|_| {}).expect("scan succeeds");
    serde_json::to_value(&summary).expect("summary serialises")
}

fn check_bundles(dir: &Path) -> usize {
    let bundles = common::bundles_in(dir);
    for (name, bundle, expected) in &bundles {
        let report = scan_json(&ScanConfig::new(vec![bundle.clone()]));
        let diffs = common::differences(&common::read_json(expected), &report);
        assert!(
            diffs.is_empty(),
            "{name}: {} differences:\n{}",
            diffs.len(),
            diffs.join("\n")
        );
    }
    bundles.len()
}

#[test]
fn shared_bundles_match_their_expected_files_exactly() {
    let n = check_bundles(&common::shared_dir().join("fixtures"));
    assert!(n >= 3, "expected the three shared bundles, found {n}");
}

#[test]
fn own_bundles_match_their_expected_files_exactly() {
    let n = check_bundles(&common::own_fixtures());
    assert!(
        n >= 1,
        "fixtures/ must hold at least one bundle with its expected file"
    );
}

#[test]
fn comparison_catches_a_wrong_report() {
    // The comparison must be able to fail: perturb a real report and expect differences.
    let (_, bundle, expected) = common::bundles_in(&common::shared_dir().join("fixtures"))
        .into_iter()
        .find(|(name, ..)| name == "bundle-mixed")
        .expect("bundle-mixed exists");
    let expected = common::read_json(&expected);
    let mut report = scan_json(&ScanConfig::new(vec![bundle]));
    report["codes"][0]["per_minute"]
        .as_object_mut()
        .expect("per_minute is an object")
        .insert("2024-03-01 23:59".into(), 1.into());
    report["files"][0]["lines"] = 1.into();
    report["unknown_codes"]
        .as_array_mut()
        .expect("array")
        .push(serde_json::json!({"code": 4242, "count": 1}));
    let diffs = common::differences(&expected, &report);
    assert!(diffs.iter().any(|d| d.contains("per_minute")), "{diffs:?}");
    assert!(diffs.iter().any(|d| d.contains(".lines")), "{diffs:?}");
    assert!(diffs.iter().any(|d| d.contains("4242")), "{diffs:?}");
}

#[test]
fn shared_compare_tool_agrees() {
    // The shared tool diffs a report with an expected file; run it when python3 is here.
    let Ok(python) = which_python() else {
        eprintln!("python3 not found: skipping the compare-expected.py cross-check");
        return;
    };
    let fixtures = common::shared_dir().join("fixtures");
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bundle, expected) in common::bundles_in(&fixtures) {
        let report = scan_json(&ScanConfig::new(vec![bundle]));
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec(&report).expect("json")).expect("write");
        let out = std::process::Command::new(&python)
            .arg(common::shared_dir().join("tools/compare-expected.py"))
            .arg(&expected)
            .arg(&path)
            .output()
            .expect("run compare-expected.py");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

fn which_python() -> Result<PathBuf, ()> {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .map(|_| PathBuf::from("python3"))
        .map_err(|_| ())
}
