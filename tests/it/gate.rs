//! `emscan gate` and `emscan diff` end to end: every exit status, every rule kind, policy files,
//! and every output format parsed back (JUnit XML with quick-xml, SARIF and JSON with serde_json).

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::NaiveDateTime;
use predicates::prelude::*;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use serde_json::Value;
use tempfile::TempDir;

/// The sample bundle: three devices, catalogued, unknown and one deprecated code (5).
fn sample() -> PathBuf {
    common::fixture("sample-bundle")
}

/// A smaller bundle with other codes: the "before" side of baselines and diffs.
fn legacy() -> PathBuf {
    common::fixture("utf16-legacy")
}

/// The generator's plan for a bundle: what the gate's verdicts are checked against.
struct Known {
    counts: BTreeMap<u64, u64>,
    unknown: Vec<u64>,
    expected: Value,
}

impl Known {
    fn of(name: &str) -> Known {
        let expected = common::expected(name);
        Known {
            counts: common::expected_counts(&expected),
            unknown: common::expected_unknown(&expected),
            expected,
        }
    }

    fn count(&self, code: u64) -> u64 {
        self.counts.get(&code).copied().unwrap_or(0)
    }

    fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    fn unknown_total(&self) -> u64 {
        self.unknown.iter().map(|&c| self.count(c)).sum()
    }

    /// Occurrences of the catalog's codes in `category` (the catalog says which codes those are).
    fn category(&self, category: &str) -> u64 {
        let catalog = emscan::catalog::catalog();
        self.counts
            .iter()
            .filter(|&(&code, _)| {
                catalog
                    .get(code as u32)
                    .is_some_and(|info| info.category.as_str() == category)
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// The catalog's deprecated codes that occur, ascending.
    fn deprecated(&self) -> Vec<u64> {
        let catalog = emscan::catalog::catalog();
        self.counts
            .keys()
            .copied()
            .filter(|&c| catalog.get(c as u32).is_some_and(|info| info.deprecated))
            .collect()
    }

    /// Hours of log time from the earliest to the latest file time (at least a minute).
    fn hours(&self) -> f64 {
        let times = |key: &str| -> Vec<NaiveDateTime> {
            self.expected["files"]
                .as_array()
                .expect("files")
                .iter()
                .filter_map(|f| f[key].as_str())
                .map(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.3f").expect("time"))
                .collect()
        };
        let first = times("first").into_iter().min().expect("a first time");
        let last = times("last").into_iter().max().expect("a last time");
        ((last - first).num_milliseconds().max(60_000)) as f64 / 3_600_000.0
    }

    /// First and last occurrence of `code` in log time.
    fn span(&self, code: u64) -> (NaiveDateTime, NaiveDateTime) {
        let entry = self.expected["codes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["code"] == code)
            .unwrap_or_else(|| panic!("code {code} is not in the plan"));
        let time = |key: &str| {
            NaiveDateTime::parse_from_str(
                entry[key].as_str().expect("time"),
                "%Y-%m-%d %H:%M:%S%.3f",
            )
            .expect("log time")
        };
        (time("first"), time("last"))
    }
}

/// The binary, run in an empty folder (so no stray `emscan.toml` is picked up).
fn emscan(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("emscan").expect("binary builds");
    cmd.current_dir(dir)
        .env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES");
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str], paths: &[&Path]) -> Run {
    let out = emscan(dir)
        .args(args)
        .args(paths)
        .arg("--no-progress")
        .output()
        .expect("runs");
    Run {
        code: out.status.code().expect("exit status"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn gate(dir: &Path, bundle: &Path, args: &[&str]) -> Run {
    let mut all = vec!["gate"];
    all.extend_from_slice(args);
    run(dir, &all, &[bundle])
}

fn gate_json(dir: &Path, bundle: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json"]);
    let r = gate(dir, bundle, &all);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr));
    (r.code, v)
}

/// Outcomes of a JSON verdict by id.
fn outcomes(v: &Value) -> BTreeMap<String, Value> {
    v["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| (o["id"].as_str().expect("id").to_string(), o.clone()))
        .collect()
}

fn scan_json(dir: &Path, bundle: &Path) -> Value {
    let r = run(dir, &["scan", "--format", "json"], &[bundle]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("scan JSON")
}

fn save_scan(dir: &Path, bundle: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, scan_json(dir, bundle).to_string()).expect("write baseline");
    path
}

fn code_entry(scan: &Value, code: u64) -> &Value {
    scan["codes"]
        .as_array()
        .into_iter()
        .chain(scan["unknown_codes"].as_array())
        .flatten()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("code {code} not in the scan"))
}

fn tmp() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

// ---- exit statuses -------------------------------------------------------------------------

#[test]
fn exit_0_when_every_rule_holds() {
    let dir = tmp();
    let known = Known::of("sample-bundle");
    let (max_300, max_2) = (
        format!("300={}", known.count(300)),
        format!("2={}", known.count(2)),
    );
    let r = gate(dir.path(), &sample(), &["--max", &max_300, "--max", &max_2]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        format!(
            "pass: max NETWORK_ERROR (2): {} (limit {0}); max SERVER_NOT_REACHABLE (300): {} \
             (limit {1})\ngate passed: 2 rules checked, all hold\n",
            known.count(2),
            known.count(300)
        )
    );
}

#[test]
fn exit_1_with_one_text_line_per_broken_rule_and_a_verdict() {
    let dir = tmp();
    let scan = scan_json(dir.path(), &sample());
    let at = &code_entry(&scan, 300)["first_at"];
    let r = gate(
        dir.path(),
        &sample(),
        &["--max", "server_not_reachable=0", "--max", "2=1000"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    let expected = format!(
        // From the working folder: the bundle as given, then the path inside it.
        "FAIL max SERVER_NOT_REACHABLE (300): {} (limit 0), first at {}/{}:{} — ",
        Known::of("sample-bundle").count(300),
        sample().display(),
        at["path"].as_str().expect("path"),
        at["line"]
    );
    assert!(
        lines[0].starts_with(&expected),
        "{}\nwanted {expected}",
        lines[0]
    );
    let hint = code_entry(&scan, 300)["hint"].as_str().expect("hint");
    assert!(lines[0].ends_with(hint), "{}", lines[0]);
    assert!(
        lines[1].starts_with("pass: max NETWORK_ERROR (2): "),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "gate failed: 1 of 2 rules broken");
}

#[test]
fn exit_2_on_usage_and_input_errors() {
    let dir = tmp();
    let bundle = sample();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--max", "USER_AUTHENTICATON_FAILED=0"],
            "did you mean USER_AUTHENTICATION_FAILED",
        ),
        (vec!["--max", "300"], "TARGET=VALUE"),
        (vec!["--max", "category:web=1"], "unknown category \"web\""),
        (vec!["--max-rate", "2=30"], "--max-rate 2=30"),
        (vec!["--max-new", "0"], "needs --baseline"),
        (vec!["--max-increase", "300=50"], "needs --baseline"),
        (vec![], "no gate rules"),
        (
            vec!["--max", "300=0", "--policy", "missing.toml"],
            "missing.toml",
        ),
        (
            vec!["--max", "300=0", "--baseline", "missing.json"],
            "missing.json",
        ),
    ];
    for (args, message) in cases {
        let r = gate(dir.path(), &bundle, &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
    // No log found.
    let r = gate(dir.path(), dir.path(), &["--max", "300=0"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no SDK log files found"), "{}", r.stderr);
    // A baseline that is not a scan report.
    std::fs::write(dir.path().join("bad.json"), "{\"schema\": 3}").expect("write");
    let r = gate(
        dir.path(),
        &bundle,
        &["--baseline", "bad.json", "--max-new", "0"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("bad.json: not an emscan scan summary"),
        "{}",
        r.stderr
    );
}

#[test]
fn help_documents_the_exit_statuses() {
    let dir = tmp();
    emscan(dir.path())
        .args(["gate", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1  a rule broke"))
        .stdout(predicate::str::contains("2  usage or input error"));
}

// ---- rule kinds ----------------------------------------------------------------------------

#[test]
fn max_on_total_unknown_and_category() {
    let dir = tmp();
    let known = Known::of("sample-bundle");
    let server = known.category("server");
    assert!(server > 0 && known.unknown_total() > 0, "the plan has both");
    let (code, v) = gate_json(
        dir.path(),
        &sample(),
        &[
            "--max",
            &format!("total={}", known.total() - 1),
            "--max",
            &format!("unknown={}", known.unknown_total()),
            "--max",
            &format!("category:server={}", server - 1),
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(v["schema"], "emscan.gate/1");
    assert_eq!(
        (v["rules"].as_u64(), v["broken"].as_u64()),
        (Some(3), Some(2))
    );
    let o = outcomes(&v);
    assert_eq!(o["total"]["actual"], known.total() as f64);
    assert_eq!(o["total"]["passed"], false);
    assert_eq!(o["unknown"]["actual"], known.unknown_total() as f64);
    let mut unknown: Vec<u64> = o["unknown"]["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    unknown.sort();
    assert_eq!(unknown, known.unknown);
    assert_eq!(o["unknown"]["passed"], true);
    assert_eq!(o["category:server"]["actual"], server as f64);
    assert_eq!(o["category:server"]["passed"], false);
}

#[test]
fn allowed_codes_never_fail_the_gate() {
    let dir = tmp();
    let known = Known::of("sample-bundle");
    let rest = known.total() - known.count(2);
    let limit = format!("total={rest}");
    let args = ["--max", &limit, "--max", "2=0", "--allow", "network_error"];
    let (code, v) = gate_json(dir.path(), &sample(), &args);
    assert_eq!(code, 0, "{v}");
    assert_eq!(outcomes(&v)["total"]["actual"], rest as f64);
    assert_eq!(outcomes(&v)["NETWORK_ERROR"]["actual"], 0.0);
    let (code, _) = gate_json(
        dir.path(),
        &sample(),
        &["--max", &format!("total={}", rest - 1), "--allow", "2"],
    );
    assert_eq!(code, 1);
}

#[test]
fn rate_is_occurrences_per_hour_between_first_and_last() {
    let dir = tmp();
    let known = Known::of("sample-bundle");
    let (first, last) = known.span(2);
    let hours = (last - first).num_milliseconds() as f64 / 3_600_000.0;
    let expected = known.count(2) as f64 / hours;
    let strict = format!("2={}/h", (expected - 1.0).floor());
    let (code, v) = gate_json(dir.path(), &sample(), &["--max-rate", &strict]);
    assert_eq!(code, 1);
    let o = &outcomes(&v)["NETWORK_ERROR"];
    let actual = o["actual"].as_f64().expect("actual");
    assert!((actual - expected).abs() < 1e-6, "{actual} vs {expected}");
    assert_eq!(o["unit"], "/h");
    // The same rate per day passes a generous limit, per minute a strict one fails.
    let per_day = format!("2={}/d", (expected * 24.0).ceil());
    assert_eq!(
        gate_json(dir.path(), &sample(), &["--max-rate", &per_day]).0,
        0
    );
    let per_minute = format!("2={}/m", (expected / 60.0 * 0.9).max(0.001));
    assert_eq!(
        gate_json(dir.path(), &sample(), &["--max-rate", &per_minute]).0,
        1
    );
}

#[test]
fn deprecated_codes_fail_when_asked() {
    let dir = tmp();
    let (code, v) = gate_json(dir.path(), &sample(), &["--fail-on-deprecated"]);
    assert_eq!(code, 1);
    let o = &outcomes(&v)["deprecated"];
    let known = Known::of("sample-bundle");
    let deprecated = known.deprecated();
    assert_eq!(o["codes"], serde_json::json!(deprecated));
    let occurrences: u64 = deprecated.iter().map(|&c| known.count(c)).sum();
    assert_eq!(o["actual"], occurrences as f64);
    assert!(Known::of("utf16-legacy").deprecated().is_empty());
    assert_eq!(
        gate_json(dir.path(), &legacy(), &["--fail-on-deprecated"]).0,
        0
    );
}

#[test]
fn baseline_new_codes_and_increase() {
    let dir = tmp();
    let baseline = save_scan(dir.path(), &legacy(), "baseline.json");
    let old = scan_json(dir.path(), &legacy());
    let new = scan_json(dir.path(), &sample());
    let codes = |scan: &Value| -> Vec<u64> {
        let mut codes: Vec<u64> = scan["codes"]
            .as_array()
            .into_iter()
            .chain(scan["unknown_codes"].as_array())
            .flatten()
            .filter_map(|c| c["code"].as_u64())
            .collect();
        codes.sort();
        codes
    };
    let old_codes = codes(&old);
    let fresh: Vec<u64> = codes(&new)
        .into_iter()
        .filter(|c| !old_codes.contains(c))
        .collect();
    assert!(!fresh.is_empty());
    let base = baseline.to_str().expect("utf-8 path");
    let (code, v) = gate_json(
        dir.path(),
        &sample(),
        &[
            "--baseline",
            base,
            "--max-new",
            "0",
            "--max-increase",
            "201=50",
        ],
    );
    assert_eq!(code, 1);
    let o = outcomes(&v);
    assert_eq!(o["new"]["actual"], fresh.len() as f64);
    let mut reported: Vec<u64> = o["new"]["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    reported.sort();
    assert_eq!(reported, fresh);
    let (before, after) = (
        Known::of("utf16-legacy").count(201),
        Known::of("sample-bundle").count(201),
    );
    assert!(
        before > 0 && after * 2 > before * 3,
        "201 grows by more than 50%"
    );
    let percent = (after as f64 - before as f64) * 100.0 / before as f64;
    let actual = o["USER_NOT_LOGIN"]["actual"].as_f64().expect("actual");
    assert!((actual - percent).abs() < 1e-9, "{actual} vs {percent}");
    assert_eq!(o["USER_NOT_LOGIN"]["passed"], false);
    // The same scan as its own baseline: nothing new, nothing grew.
    let (code, _) = gate_json(
        dir.path(),
        &legacy(),
        &[
            "--baseline",
            base,
            "--max-new",
            "0",
            "--max-increase",
            "201=0",
        ],
    );
    assert_eq!(code, 0);
}

// ---- policy files --------------------------------------------------------------------------

const POLICY: &str = r#"
[gate]
max = { "300" = 0, total = 1000 }
max_rate = { NETWORK_ERROR = "1000/h" }
allow = [206, "USER_LOGIN_ANOTHER_DEVICE"]
"#;

#[test]
fn emscan_toml_in_the_current_folder_is_used_and_the_command_line_wins() {
    let dir = tmp();
    std::fs::write(dir.path().join("emscan.toml"), POLICY).expect("write policy");
    let known = Known::of("sample-bundle");
    let (code, v) = gate_json(dir.path(), &sample(), &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["rules"], 3);
    let o = outcomes(&v);
    assert_eq!(o["SERVER_NOT_REACHABLE"]["passed"], false);
    assert!(known.count(206) > 0);
    assert_eq!(
        o["total"]["actual"],
        (known.total() - known.count(206)) as f64,
        "206 is allowed"
    );
    // The same key on the command line replaces the file's limit.
    let limit = format!("SERVER_NOT_REACHABLE={}", known.count(300));
    let (code, v) = gate_json(dir.path(), &sample(), &["--max", &limit]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        outcomes(&v)["SERVER_NOT_REACHABLE"]["limit"],
        known.count(300) as f64
    );
}

#[test]
fn policy_given_with_flag() {
    let dir = tmp();
    let path = dir.path().join("ci-policy.toml");
    let server = Known::of("sample-bundle").category("server");
    let policy = format!("[gate]\nmax = {{ \"category:server\" = {server} }}\n");
    std::fs::write(&path, policy).expect("write");
    let r = gate(
        dir.path(),
        &sample(),
        &["--policy", path.to_str().expect("utf-8")],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn malformed_policy_files_exit_2_naming_the_entry() {
    let dir = tmp();
    let cases = [
        (
            "[gate]\nmax = { NOT_A_CODE = 1 }\n",
            "[gate] max.\"NOT_A_CODE\"",
        ),
        ("[gate]\nmaximum = 3\n", "maximum"),
        ("[gate]\nmax = { total = \"many\" }\n", "many"),
        ("[gate]\nallow = [\"NOPE\"]\n", "[gate] allow"),
        ("[gate\n", "invalid gate policy"),
    ];
    for (text, message) in cases {
        std::fs::write(dir.path().join("emscan.toml"), text).expect("write");
        let r = gate(dir.path(), &sample(), &[]);
        assert_eq!(r.code, 2, "{text}: {}", r.stderr);
        assert!(r.stderr.contains("emscan.toml"), "{text}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{text}: {}", r.stderr);
    }
}

// ---- output formats ------------------------------------------------------------------------

fn attr(e: &BytesStart, name: &str) -> String {
    e.try_get_attribute(name)
        .expect("attribute parses")
        .unwrap_or_else(|| panic!("<{:?}> has no {name}", e.name()))
        .normalized_value(XmlVersion::Implicit1_0)
        .expect("attribute value")
        .into_owned()
}

#[derive(Debug, Default)]
struct Junit {
    suites_tests: String,
    suites_failures: String,
    suite_tests: String,
    suite_failures: String,
    testcases: Vec<String>,
    failures: Vec<(String, String)>,
}

fn parse_junit(xml: &str) -> Junit {
    let mut reader = Reader::from_str(xml);
    let mut junit = Junit::default();
    let mut depth = 0;
    loop {
        let event = reader.read_event().expect("well-formed XML");
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                match e.name().as_ref() {
                    "testsuites" => {
                        junit.suites_tests = attr(e, "tests");
                        junit.suites_failures = attr(e, "failures");
                    }
                    "testsuite" => {
                        junit.suite_tests = attr(e, "tests");
                        junit.suite_failures = attr(e, "failures");
                    }
                    "testcase" => junit.testcases.push(attr(e, "name")),
                    "failure" => {
                        let case = junit.testcases.last().cloned().expect("inside a testcase");
                        junit.failures.push((case, attr(e, "message")));
                    }
                    // Standard JUnit: what a test case printed.
                    "system-out" => {}
                    other => panic!("unexpected element {other}"),
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "balanced elements");
    junit
}

#[test]
fn junit_has_one_testcase_per_rule_and_failures_for_broken_ones() {
    let dir = tmp();
    let known = Known::of("sample-bundle");
    let r = gate(
        dir.path(),
        &sample(),
        &[
            "--max",
            "300=0",
            "--max",
            "total=1000",
            "--max",
            "unknown=0",
            "--max",
            "2=1000",
            "--format",
            "junit",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    );
    let junit = parse_junit(&r.stdout);
    assert_eq!(junit.testcases.len(), 4, "{junit:?}");
    assert_eq!(
        (junit.suites_tests.as_str(), junit.suite_tests.as_str()),
        ("4", "4")
    );
    assert_eq!(
        (
            junit.suites_failures.as_str(),
            junit.suite_failures.as_str()
        ),
        ("2", "2")
    );
    assert_eq!(
        junit.failures,
        [
            (
                "max unknown".to_string(),
                format!("{} (limit 0)", known.unknown_total())
            ),
            (
                "max SERVER_NOT_REACHABLE (300)".to_string(),
                format!("{} (limit 0)", known.count(300))
            ),
        ]
    );
    // A passing gate: test cases, no failure.
    let r = gate(
        dir.path(),
        &sample(),
        &["--max", "total=1000", "--format", "junit"],
    );
    assert_eq!(r.code, 0);
    let junit = parse_junit(&r.stdout);
    assert_eq!(junit.testcases, ["max total"]);
    assert!(junit.failures.is_empty());
}

#[test]
fn sarif_has_one_result_per_broken_rule_at_the_first_occurrence() {
    let dir = tmp();
    let scan = scan_json(dir.path(), &sample());
    let r = gate(
        dir.path(),
        &sample(),
        &[
            "--max",
            "300=0",
            "--max",
            "unknown=0",
            "--max",
            "total=1000",
            "--max-rate",
            "2=0.5/h",
            "--format",
            "sarif",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).expect("SARIF is JSON");
    assert_eq!(v["version"], "2.1.0");
    assert!(
        v["$schema"]
            .as_str()
            .is_some_and(|s| s.contains("sarif-2.1.0")),
        "{}",
        v["$schema"]
    );
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "emscan");
    let rule_ids: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("rule id"))
        .collect();
    assert_eq!(
        rule_ids,
        ["total", "unknown", "SERVER_NOT_REACHABLE", "NETWORK_ERROR"]
    );
    let results = runs[0]["results"].as_array().expect("results");
    let got: Vec<(&str, String, u64)> = results
        .iter()
        .map(|res| {
            assert_eq!(res["level"], "error");
            let index = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rule_ids[index], res["ruleId"]);
            assert!(
                res["message"]["text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty())
            );
            let loc = &res["locations"][0]["physicalLocation"];
            (
                res["ruleId"].as_str().expect("ruleId"),
                loc["artifactLocation"]["uri"]
                    .as_str()
                    .expect("uri")
                    .to_string(),
                loc["region"]["startLine"].as_u64().expect("startLine"),
            )
        })
        .collect();
    // The bundle is given as an absolute path: the locations are file:// URIs.
    let first_at = |code: u64| {
        let at = &code_entry(&scan, code)["first_at"];
        (
            format!(
                "file://{}/{}",
                sample().display(),
                at["path"].as_str().expect("path")
            ),
            at["line"].as_u64().expect("line"),
        )
    };
    // The earliest of the unknown codes.
    let unknown_at = Known::of("sample-bundle")
        .unknown
        .into_iter()
        .map(|c| {
            (
                code_entry(&scan, c)["first"].as_str().expect("first"),
                first_at(c),
            )
        })
        .min()
        .expect("unknown codes")
        .1;
    assert_eq!(
        got,
        [
            ("unknown", unknown_at.0, unknown_at.1),
            ("SERVER_NOT_REACHABLE", first_at(300).0, first_at(300).1),
            ("NETWORK_ERROR", first_at(2).0, first_at(2).1),
        ]
    );
}

#[test]
fn github_annotations_are_capped_at_ten() {
    let dir = tmp();
    // Twelve catalogued codes that each occur in the sample, all limited to 0.
    let known = Known::of("sample-bundle");
    let codes: Vec<u64> = known
        .counts
        .keys()
        .copied()
        .filter(|c| !known.unknown.contains(c))
        .take(12)
        .collect();
    assert_eq!(codes.len(), 12);
    let mut args = vec!["--format".to_string(), "github".to_string()];
    for code in codes {
        args.push("--max".into());
        args.push(format!("{code}=0"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = gate(dir.path(), &sample(), &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let errors: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 10, "{}", r.stdout);
    for line in &errors[..9] {
        let (props, message) = line
            .strip_prefix("::error ")
            .and_then(|l| l.split_once("::"))
            .unwrap_or_else(|| panic!("not a workflow command: {line}"));
        let props: BTreeMap<&str, &str> = props
            .split(',')
            .map(|p| p.split_once('=').expect("key=value"))
            .collect();
        let inside = format!("{}/PC-", sample().display());
        assert!(props["file"].starts_with(&inside), "{line}");
        assert!(props["line"].parse::<u64>().is_ok(), "{line}");
        assert!(props["title"].starts_with("emscan gate%3A max "), "{line}");
        assert!(message.starts_with("max "), "{line}");
    }
    assert!(
        errors[9].starts_with("::error::3 more rules broken: max "),
        "{}",
        errors[9]
    );
    assert_eq!(
        r.stdout.lines().last(),
        Some("gate failed: 12 of 12 rules broken")
    );
}

// ---- diff ----------------------------------------------------------------------------------

/// Every code's change from `utf16-legacy` to `sample-bundle`, per the generator's plans.
fn planned_changes() -> BTreeMap<u64, (u64, u64)> {
    let (old, new) = (Known::of("utf16-legacy"), Known::of("sample-bundle"));
    old.counts
        .keys()
        .chain(new.counts.keys())
        .map(|&code| (code, (old.count(code), new.count(code))))
        .collect()
}

#[test]
fn diff_of_saved_scans_and_folders_agree() {
    let dir = tmp();
    let old = save_scan(dir.path(), &legacy(), "old.json");
    let new = save_scan(dir.path(), &sample(), "new.json");
    let from_files = run(dir.path(), &["diff", "--format", "json"], &[&old, &new]);
    assert_eq!(from_files.code, 0, "{}", from_files.stderr);
    let from_logs = run(
        dir.path(),
        &["diff", "--format", "json"],
        &[&legacy(), &sample()],
    );
    assert_eq!(from_logs.code, 0, "{}", from_logs.stderr);
    let a: Value = serde_json::from_str(&from_files.stdout).expect("JSON");
    let b: Value = serde_json::from_str(&from_logs.stdout).expect("JSON");
    assert_eq!(a["changes"], b["changes"]);
    assert_eq!(a["schema"], "emscan.diff/1");
    assert_eq!(
        (a["before"].as_u64(), a["after"].as_u64()),
        (
            Some(Known::of("utf16-legacy").total()),
            Some(Known::of("sample-bundle").total())
        )
    );
    let changes = a["changes"].as_array().expect("changes");
    let impacts: Vec<u64> = changes
        .iter()
        .map(|c| c["change"].as_i64().expect("change").unsigned_abs())
        .collect();
    assert!(
        impacts.windows(2).all(|w| w[0] >= w[1]),
        "biggest first: {impacts:?}"
    );
    let planned = planned_changes();
    assert_eq!(
        changes.len(),
        planned.len(),
        "one row per code on either side"
    );
    for c in changes {
        let code = c["code"].as_u64().expect("code");
        let (before, after) = planned[&code];
        assert_eq!(
            (
                c["before"].as_u64(),
                c["after"].as_u64(),
                c["change"].as_i64()
            ),
            (
                Some(before),
                Some(after),
                Some(after as i64 - before as i64)
            ),
            "code {code}"
        );
        let kind = match (before, after) {
            (0, _) => "new",
            (_, 0) => "vanished",
            (b, a) if a == b => "same",
            (b, a) if a > b => "up",
            _ => "down",
        };
        assert_eq!(c["kind"], kind, "code {code}");
    }
}

#[test]
fn diff_table_and_markdown() {
    let dir = tmp();
    let r = run(dir.path(), &["diff"], &[&legacy(), &sample()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("SERVER_NOT_REACHABLE"), "{}", r.stdout);
    assert!(r.stdout.contains("New codes: "), "{}", r.stdout);
    assert!(r.stdout.contains("Vanished codes: "), "{}", r.stdout);
    let (before, after) = (
        Known::of("utf16-legacy").total(),
        Known::of("sample-bundle").total(),
    );
    let totals = format!("errors: {before} → {after} (+{})", after - before);
    assert!(r.stdout.contains(&totals), "{totals} in {}", r.stdout);
    let r = run(
        dir.path(),
        &["diff", "--format", "markdown"],
        &[&legacy(), &sample()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(
        rows[0],
        "| code | name | before | after | change | change % | before /h | after /h | status |"
    );
    assert!(rows[1].starts_with("| ---"));
    // The biggest change comes first; the plan says which one that is.
    let (code, (before, after)) = planned_changes()
        .into_iter()
        .max_by_key(|&(code, (b, a))| (a.abs_diff(b), std::cmp::Reverse(code)))
        .expect("changes");
    let name = emscan::catalog::catalog()
        .get(code as u32)
        .map_or("", |info| info.name.as_str());
    let status = if before == 0 { "new" } else { "up" };
    let percent = if before == 0 {
        "-".to_string()
    } else {
        format!(
            "{:+.0}%",
            (after as f64 - before as f64) * 100.0 / before as f64
        )
    };
    let (old_hours, new_hours) = (
        Known::of("utf16-legacy").hours(),
        Known::of("sample-bundle").hours(),
    );
    assert_eq!(
        rows[2],
        format!(
            "| {code} | {name} | {before} | {after} | +{} | {percent} | {:.2} | {:.2} | {status} |",
            after - before,
            before as f64 / old_hours,
            after as f64 / new_hours,
        )
    );
    // The header says what is compared with what, and over which log time.
    let header = format!(
        "- before: {} ({} errors, ",
        legacy().display(),
        Known::of("utf16-legacy").total()
    );
    assert!(r.stdout.contains(&header), "{header} in {}", r.stdout);
}

#[test]
fn diff_with_an_unreadable_side_exits_2() {
    let dir = tmp();
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, "not json").expect("write");
    let r = run(dir.path(), &["diff"], &[&bad, &sample()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("broken.json: not an emscan scan summary"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_readme_sample_policy_works() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let block = readme
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml block in the README");
    assert!(block.starts_with("[gate]"), "{block}");
    let dir = tmp();
    std::fs::write(dir.path().join("emscan.toml"), block).expect("write");
    let (code, v) = gate_json(dir.path(), &sample(), &[]);
    assert_eq!(code, 1, "{v}");
    let known = Known::of("sample-bundle");
    let catalog = emscan::catalog::catalog();
    let allowed: u64 = [
        206,
        catalog
            .by_name("USER_KICKED_BY_OTHER_DEVICE")
            .expect("name")
            .code,
    ]
    .iter()
    .map(|&c| known.count(u64::from(c)))
    .sum();
    let o = outcomes(&v);
    assert_eq!(v["rules"].as_u64(), Some(6));
    assert_eq!(
        o["total"]["actual"],
        (known.total() - allowed) as f64,
        "206 and 217 are allowed"
    );
    assert_eq!(o["SERVER_NOT_REACHABLE"]["actual"], known.count(300) as f64);
    assert_eq!(
        o["category:server"]["actual"],
        known.category("server") as f64
    );
    assert_eq!(o["unknown"]["actual"], known.unknown_total() as f64);
    assert_eq!(o["deprecated"]["passed"], known.deprecated().is_empty());
}

/// The sample bundle plus a gzip'd segment cut in half: read only in part.
fn damaged_bundle(dir: &Path) -> PathBuf {
    let bundle = dir.join("bundle");
    for entry in walkdir::WalkDir::new(sample()) {
        let entry = entry.expect("walk the sample");
        let to = bundle.join(
            entry
                .path()
                .strip_prefix(sample())
                .expect("under the sample"),
        );
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &to).expect("copy");
        }
    }
    let gz = sample().join("PC-ALICE/sdkdata/easemobLog/easemob_2024-05-06_09-10-00.log.gz");
    let bytes = std::fs::read(&gz).expect("read gz");
    std::fs::write(
        bundle.join("PC-ALICE/sdkdata/easemobLog/easemob_2024-05-06_08-00-00.log.gz"),
        &bytes[..bytes.len() / 2],
    )
    .expect("write the cut segment");
    bundle
}

#[test]
fn gate_names_damaged_input_in_every_format_and_strict_exits_3() {
    let dir = tmp();
    let bundle = damaged_bundle(dir.path());
    let cut = "easemob_2024-05-06_08-00-00.log.gz";
    let holds = ["--max", "total=100000"];
    // Text: the file is named, the gate still passes; --strict makes it exit 3.
    let r = gate(dir.path(), &bundle, &holds);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let input_line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("INPUT partly read "))
        .unwrap_or_else(|| panic!("no INPUT line: {}", r.stdout));
    assert!(input_line.contains(cut), "{input_line}");
    let strict: Vec<&str> = holds.iter().copied().chain(["--strict"]).collect();
    let r = gate(dir.path(), &bundle, &strict);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("--strict: exit 3"), "{}", r.stdout);
    // A broken rule wins over damaged input: exit 1, the file still named.
    let r = gate(dir.path(), &bundle, &["--max", "300=0", "--strict"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains(cut), "{}", r.stdout);
    // A usage error wins over both.
    let r = gate(dir.path(), &bundle, &["--max", "300", "--strict"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // JSON: a `damaged` list.
    let (code, v) = gate_json(dir.path(), &bundle, &strict);
    assert_eq!(code, 3);
    let damaged = v["damaged"].as_array().expect("damaged");
    assert!(
        damaged
            .iter()
            .any(|d| d["path"].as_str().is_some_and(|p| p.ends_with(cut)) && d["kind"] == "partial"),
        "{v}"
    );
    // JUnit: one more test case, failing only under --strict.
    for (args, fails) in [(&holds[..], false), (&strict[..], true)] {
        let mut all = args.to_vec();
        all.extend(["--format", "junit"]);
        let r = gate(dir.path(), &bundle, &all);
        let junit = parse_junit(&r.stdout);
        assert_eq!(
            junit.testcases,
            ["max total", "input read whole"],
            "{}",
            r.stdout
        );
        assert_eq!(
            junit
                .failures
                .iter()
                .any(|(case, _)| case == "input read whole"),
            fails,
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains(cut), "{}", r.stdout);
    }
    // SARIF: a result at the file, a warning (an error under --strict).
    for (args, level) in [(&holds[..], "warning"), (&strict[..], "error")] {
        let mut all = args.to_vec();
        all.extend(["--format", "sarif"]);
        let r = gate(dir.path(), &bundle, &all);
        let v: Value = serde_json::from_str(&r.stdout).expect("SARIF");
        let results = v["runs"][0]["results"].as_array().expect("results");
        let input = results
            .iter()
            .find(|res| res["ruleId"] == "input")
            .unwrap_or_else(|| panic!("no input result: {v}"));
        assert_eq!(input["level"], level);
        let uri = input["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("uri");
        assert!(uri.ends_with(cut), "{uri}");
    }
    // GitHub: a workflow command at the file.
    for (args, level) in [(&holds[..], "::warning "), (&strict[..], "::error ")] {
        let mut all = args.to_vec();
        all.extend(["--format", "github"]);
        let r = gate(dir.path(), &bundle, &all);
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with(level) && l.contains(cut)),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn annotation_and_sarif_paths_resolve_from_the_working_folder() {
    // As in CI: run from the repository with the bundle as a relative path.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = emscan(repo)
        .args([
            "gate",
            "fixtures/sample-bundle",
            "--max",
            "300=0",
            "--format",
            "github",
        ])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let file = stdout
        .lines()
        .find_map(|l| l.strip_prefix("::error file="))
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("no annotation: {stdout}"));
    assert!(file.starts_with("fixtures/sample-bundle/"), "{file}");
    assert!(
        repo.join(file).is_file(),
        "{file} does not open from the repository"
    );
    let out = emscan(repo)
        .args([
            "gate",
            "fixtures/sample-bundle",
            "--max",
            "300=0",
            "--format",
            "sarif",
        ])
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("SARIF");
    let run = &v["runs"][0];
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("a base for relative locations");
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    let location = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uriBaseId"], "%SRCROOT%");
    let uri = location["uri"].as_str().expect("uri");
    assert!(
        repo.join(uri).is_file(),
        "{uri} does not resolve against the working folder"
    );
}
