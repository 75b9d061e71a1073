//! Every bundle in `fixtures/` with a `.expected.json` is scanned and compared with the
//! generator's known answers, field by field.

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
        let expected = common::read_json(expected);
        let mut config = ScanConfig::new(vec![bundle.clone()]);
        // The connection story needs the deep pass.
        config.deep = expected.get("stories").is_some();
        let report = scan_json(&config);
        let mut diffs = common::differences(&expected, &report);
        diffs.extend(common::story_differences(&expected, &report));
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
fn own_bundles_match_their_expected_files_exactly() {
    let n = check_bundles(&common::own_fixtures());
    assert_eq!(
        n, 4,
        "fixtures/ holds sample-bundle, decoys-only, utf16-legacy and desktop-core, each with its \
         expected file"
    );
}

#[test]
fn comparison_catches_a_wrong_report() {
    // The comparison must be able to fail: perturb a real report and expect differences.
    let expected = common::expected("sample-bundle");
    let mut report = scan_json(&ScanConfig::new(vec![common::fixture("sample-bundle")]));
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
#[ignore = "needs python3"]
fn generator_reproduces_the_committed_fixtures() {
    // The fixtures are the generator's output, never hand-edited: regenerate them elsewhere and
    // compare every file byte for byte.
    let out = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new("python3")
        .arg(common::own_fixtures().join("gen_sample.py"))
        .arg("--out")
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs (this test needs it)");
    assert!(status.success(), "gen_sample.py failed: {status}");
    let written = files_under(out.path());
    assert!(written.len() >= 11, "generator wrote only {written:?}");
    for rel in &written {
        let committed = common::own_fixtures().join(rel);
        let fresh = std::fs::read(out.path().join(rel)).expect("generated file");
        let kept = std::fs::read(&committed)
            .unwrap_or_else(|e| panic!("{} is not committed: {e}", committed.display()));
        assert!(
            fresh == kept,
            "{} differs from the generator's output: run python3 fixtures/gen_sample.py",
            committed.display()
        );
    }
}

/// Every file under `root`, as paths relative to it.
fn files_under(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|entry| entry.expect("walk generated fixtures"))
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| {
            entry
                .path()
                .strip_prefix(root)
                .expect("under root")
                .to_path_buf()
        })
        .collect()
}
