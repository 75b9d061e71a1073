//! What a person sees on a terminal: text cut by display width (never mid-character), tables
//! and prose fitted to `$COLUMNS`, the connection story and burst labels, and the gate's
//! passing rules and policy source.

use std::path::Path;

use assert_cmd::Command;
use unicode_width::UnicodeWidthStr;

use crate::common;

use common::emscan_english as emscan;

/// Runs `args` (with `COLUMNS` when given) and returns stdout; the command must succeed.
fn stdout_of(args: &[&str], columns: Option<usize>) -> String {
    let mut cmd = emscan();
    cmd.args(args);
    if let Some(columns) = columns {
        cmd.env("COLUMNS", columns.to_string());
    }
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("{args:?}: stdout is not UTF-8: {e}"))
}

fn sample() -> String {
    common::fixture("sample-bundle")
        .to_string_lossy()
        .into_owned()
}

/// The commands whose output is checked, for a language.
fn commands(lang: &str) -> Vec<Vec<String>> {
    let bundle = sample();
    let own = |args: &[&str]| -> Vec<String> {
        args.iter()
            .map(|a| a.to_string())
            .chain(["--lang".to_string(), lang.to_string()])
            .collect()
    };
    vec![
        own(&["codes"]),
        own(&["scan", &bundle, "--no-progress"]),
        own(&["scan", &bundle, "--deep", "--no-progress"]),
        own(&[
            "scan",
            &bundle,
            "--timeline",
            "--bucket",
            "1m",
            "--no-progress",
        ]),
        own(&["explain", "300", "--both"]),
        own(&["explain", "1"]),
    ]
}

fn no_replacement_character(args: &[String], text: &str) {
    assert!(
        !text.contains('\u{fffd}'),
        "{args:?} printed U+FFFD (a character cut in half):\n{text}"
    );
}

#[test]
fn chinese_is_never_cut_mid_character_in_codes() {
    let text = stdout_of(&["codes", "--lang", "zh"], None);
    no_replacement_character(&["codes".into()], &text);
    // The long hints are still cut, with an ellipsis after whole characters.
    assert!(text.contains('…'), "{text}");
}

#[test]
fn chinese_is_never_cut_mid_character_in_scan() {
    let text = stdout_of(&["scan", &sample(), "--lang", "zh", "--no-progress"], None);
    no_replacement_character(&["scan".into()], &text);
    assert!(text.contains("检查本机网络"), "{text}");
}

#[test]
fn deep_scan_never_cuts_a_character_in_either_language() {
    for lang in ["en", "zh"] {
        let text = stdout_of(
            &["scan", &sample(), "--deep", "--lang", lang, "--no-progress"],
            None,
        );
        no_replacement_character(&["scan".into(), "--deep".into()], &text);
    }
}

#[test]
fn every_line_fits_columns_60_80_120_in_chinese_and_english() {
    for lang in ["zh", "en"] {
        for args in commands(lang) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            for columns in [60, 80, 120] {
                let text = stdout_of(&args, Some(columns));
                for line in text.lines() {
                    assert!(
                        line.width() <= columns,
                        "COLUMNS={columns} {args:?}: a line of {} columns:\n{line}\n\n{text}",
                        line.width()
                    );
                }
                no_replacement_character(&[args.join(" ")], &text);
            }
        }
    }
}

#[test]
fn narrow_tables_keep_the_code_count_and_whole_hint() {
    // At 60 columns the times go, but each hint is wrapped, not lost.
    let text = stdout_of(
        &["scan", &sample(), "--lang", "en", "--no-progress"],
        Some(60),
    );
    assert!(!text.contains("last seen"), "{text}");
    let joined: String = text
        .lines()
        .filter_map(|l| l.split('│').nth(4))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        joined.contains("Check the PC's network, proxy and firewall."),
        "{joined}"
    );
}

#[test]
fn piped_output_without_columns_keeps_every_column() {
    let text = stdout_of(&["scan", &sample(), "--lang", "en", "--no-progress"], None);
    let header = text.lines().nth(1).expect("a header row");
    for column in [
        "code",
        "name",
        "count",
        "share",
        "devices",
        "first seen",
        "last seen",
        "hint",
    ] {
        assert!(header.contains(column), "{header}");
    }
}

#[test]
fn explain_wraps_prose_at_columns() {
    let text = stdout_of(&["explain", "300", "--lang", "en"], Some(60));
    assert!(text.lines().count() > 5, "{text}");
    let wide = stdout_of(&["explain", "300", "--lang", "en"], None);
    assert_eq!(wide.lines().count(), 5, "{wide}");
    // Wrapping moves words, it neither loses nor adds any.
    let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(&text), words(&wide));
}

#[test]
fn deep_scan_shows_the_connection_story() {
    let text = stdout_of(
        &["scan", &sample(), "--deep", "--lang", "en", "--no-progress"],
        None,
    );
    assert!(text.contains("Connection story per device"), "{text}");
    for device in ["PC-ALICE", "PC-BOB", "PC-CAROL"] {
        assert!(
            text.lines()
                .any(|l| l.contains(device) && l.contains("reason")),
            "{device} has no story row:\n{text}"
        );
    }
    // Without --deep there is no story to show.
    let plain = stdout_of(&["scan", &sample(), "--lang", "en", "--no-progress"], None);
    assert!(!plain.contains("Connection story"), "{plain}");
}

/// A device whose errors rise far above their background in one minute, with a code of no
/// burst family (so the burst has no label in the JSON).
fn unlabelled_burst() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("PC-X");
    std::fs::create_dir_all(&logs).expect("mkdir");
    let line = |minute: u32, milli: u32| {
        format!(
            "[2024/05/06 10:{minute:02}:00:{milli:03}]: ChatManager_SendMessage failed, \
             code: 500; desc: Message is invalid\n"
        )
    };
    let mut text: String = (0..30).map(|m| line(m, 0)).collect();
    text.extend((0..20).map(|i| line(40, i)));
    std::fs::write(logs.join("easemob.log"), text).expect("write log");
    dir
}

#[test]
fn a_burst_without_a_family_is_named_not_dashed() {
    let dir = unlabelled_burst();
    let path = dir.path().to_string_lossy().into_owned();
    let json = stdout_of(&["scan", &path, "--format", "json", "--no-progress"], None);
    let summary: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let bursts = summary["bursts"].as_array().expect("bursts");
    assert_eq!(bursts.len(), 1, "{json}");
    assert!(bursts[0].get("label").is_none(), "{json}");
    for (lang, name) in [("en", "error burst"), ("zh", "错误突增")] {
        let text = stdout_of(
            &["scan", &path, "--timeline", "--lang", lang, "--no-progress"],
            None,
        );
        let line = text
            .lines()
            .find(|l| l.starts_with("  2024-05-06 10:40"))
            .unwrap_or_else(|| panic!("no burst line:\n{text}"));
        assert_eq!(line.split("  ").nth(2), Some(name), "{line}");
    }
}

/// The gate run in `dir` (an empty folder unless the test writes a policy there).
fn gate_in(dir: &Path) -> Command {
    let mut cmd = emscan();
    cmd.current_dir(dir)
        .arg("gate")
        .arg(sample())
        .arg("--no-progress");
    cmd
}

#[test]
fn gate_text_lists_the_rules_that_hold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = gate_in(dir.path())
        .args(["--max", "300=0", "--max", "total=100000"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let pass: Vec<&str> = text.lines().filter(|l| l.starts_with("pass: ")).collect();
    assert_eq!(pass.len(), 1, "{text}");
    assert!(
        pass[0].contains("total") && pass[0].contains("(limit 100000)"),
        "{text}"
    );
    assert!(!pass[0].contains("300"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL ") && l.contains("300")),
        "{text}"
    );
}

#[test]
fn gate_junit_has_a_test_case_for_each_passing_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = gate_in(dir.path())
        .args([
            "--max",
            "300=0",
            "--max",
            "total=100000",
            "--format",
            "junit",
        ])
        .output()
        .expect("runs");
    let xml = String::from_utf8_lossy(&out.stdout);
    assert_eq!(xml.matches("<testcase").count(), 2, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
}

#[test]
fn gate_says_which_policy_file_it_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("emscan.toml"),
        "[gate]\nmax = { total = 100000 }\n",
    )
    .expect("write policy");
    let out = gate_in(dir.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let here = format!("emscan: policy: .{}emscan.toml", std::path::MAIN_SEPARATOR);
    assert!(stderr.contains(&here), "{stderr}");
    // The JSON verdict on stdout stays as it is: the source goes to stderr.
    let json = gate_in(dir.path())
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let verdict: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(verdict["passed"], true);
    // Without a policy file nothing is said about one.
    let empty = tempfile::tempdir().expect("tempdir");
    let out = gate_in(empty.path())
        .args(["--max", "total=100000"])
        .output()
        .expect("runs");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("policy:"));
}
