//! The desktop C++ core's own lines: `login return: N` states the login's code, and a kick by
//! another device (`handleDisconnect:N`, then `ConnUserLoginAnotherDevice` on the next entry
//! line) is a disconnect in the device story, with no error code line.

use crate::common;

use std::path::{Path, PathBuf};

use emscan::search::extract::extract_chunk;
use emscan::search::rules::RuleSet;
use emscan::{ScanConfig, Summary, scan_paths};
use proptest::prelude::*;
use serde_json::Value;

use common::emscan_english as emscan;

/// A bundle of one device whose live `easemob.log` holds `lines` (CRLF, as the core writes).
fn bundle(lines: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("bundle/PC-CORE/sdkdata/easemobLog");
    std::fs::create_dir_all(&logs).expect("mkdir");
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    std::fs::write(logs.join("easemob.log"), text).expect("write log");
    let root = dir.path().join("bundle");
    (dir, root)
}

fn stdout_of(args: &[&str]) -> String {
    let out = emscan().args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn json_of(args: &[&str]) -> Value {
    serde_json::from_str(&stdout_of(args)).expect("stdout is JSON")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The lines of the public desktop-core log, verbatim, around a kick.
const KICKED: [&str; 5] = [
    "[2019/10/24 13:40:43:826]: login return: 0",
    "[2019/10/24 13:52:10:004]: log: level: 1, area: 1, ChatClient::handleSync begin",
    "[2019/10/24 14:0:27:243]: log: level: 2, area: 1, handleDisconnect:13",
    "[2019/10/24 14:0:27:243]: ConnUserLoginAnotherDevice",
    "[2019/10/24 14:0:27:250]: begin logout ..",
];

/// Regression: the core logs no error code line when another device logs in; the deep scan
/// still shows the disconnect and why, in the table and in the JSON.
#[test]
fn a_kick_without_an_error_code_line_is_a_disconnect_in_the_story() {
    let (_dir, root) = bundle(&KICKED);
    let table = stdout_of(&[
        "scan",
        path(&root),
        "--deep",
        "--lang",
        "en",
        "--no-progress",
    ]);
    let row = table
        .lines()
        .find(|l| l.contains("PC-CORE") && l.contains("13×1"))
        .unwrap_or_else(|| panic!("no story row for PC-CORE:\n{table}"));
    assert!(row.contains(" 1 "), "one disconnect: {row}");
    assert!(
        table.contains(
            "disconnect\u{a0}(logged\u{a0}in\u{a0}on\u{a0}another\u{a0}device;\u{a0}reason\u{a0}13)"
        ),
        "{table}"
    );
    assert!(
        table.contains(
            "PC-CORE 2019-10-24 14:00:27.243 PC-CORE/sdkdata/easemobLog/easemob.log:3: \
             logged in on another device (handleDisconnect:13)"
        ),
        "{table}"
    );
    // Linked to 206's catalog hint.
    assert!(
        table.contains("is code 206 USER_LOGIN_ANOTHER_DEVICE: Expected in single-device mode"),
        "{table}"
    );

    let v = json_of(&["scan", path(&root), "--deep", "--format", "json"]);
    let device = &v["devices"][0];
    assert_eq!(device["disconnects"], 1);
    assert_eq!(device["disconnect_reasons"], serde_json::json!([13]));
    let story = device["story"].as_array().expect("story");
    assert_eq!(
        story.len(),
        1,
        "the kick line is part of its reason's entry: {story:?}"
    );
    assert_eq!(
        story[0],
        serde_json::json!({
            "time": "2019-10-24 14:00:27.243",
            "path": "PC-CORE/sdkdata/easemobLog/easemob.log",
            "line": 3,
            "event": "handle_disconnect",
            "value": 13,
            "cause": "login_another_device",
        })
    );
    // Neither 13 nor 206 is a code here: no line states one.
    assert_eq!(v["codes"], serde_json::json!([]));
    assert_eq!(v["unknown_codes"], serde_json::json!([]));
    assert_eq!(v["success"]["count"], 1);
}

#[test]
fn login_return_counts_its_number_as_the_login_code() {
    let (_dir, root) = bundle(&[
        "[2019/10/24 13:40:43:826]: login return: 0",
        "[2019/10/24 13:41:02:113]: login return: 202",
        "[2019/10/24 13:41:05:001]: login return: ",
        "[2019/10/24 13:41:06:404]: relogin return: 300",
        "[2019/10/24 13:41:07:500]: EMChatClientImpl::login() return: 202",
        "[2019/10/24 13:42:00:000]: login return: 0",
    ]);
    let v = json_of(&["scan", path(&root), "--format", "json"]);
    assert_eq!(v["success"]["count"], 2);
    assert_eq!(
        v["success"]["per_shape"],
        serde_json::json!({"login_return": 2})
    );
    let codes = v["codes"].as_array().expect("codes");
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(codes[0]["code"], 202);
    assert_eq!(codes[0]["count"], 1);
    assert_eq!(codes[0]["first"], "2019-10-24 13:41:02.113");
    assert_eq!(
        codes[0]["per_shape"],
        serde_json::json!({"login_return": 1})
    );
    assert_eq!(v["stats"]["errors"], 1);
}

#[test]
fn handle_disconnect_alone_is_a_reason_never_a_code() {
    let (_dir, root) = bundle(&[
        "[2019/10/24 14:0:27:243]: log: level: 2, area: 1, handleDisconnect:13",
        "[2019/10/24 14:0:27:244]: EMSessionManager::onDisConnect(): 13",
        "[2019/10/24 14:0:27:245]: ConnUserLoginAnotherDevice",
        "[2019/10/24 14:0:30:000]: log: level: 2, area: 1, handleDisconnect:14",
        "  ConnUserLoginAnotherDevice",
    ]);
    let v = json_of(&["scan", path(&root), "--deep", "--format", "json"]);
    assert_eq!(v["codes"], serde_json::json!([]));
    assert_eq!(v["unknown_codes"], serde_json::json!([]));
    assert_eq!(v["stats"]["errors"], 0);
    let device = &v["devices"][0];
    assert_eq!(device["disconnects"], 0);
    assert_eq!(
        device["disconnect_reason_counts"],
        serde_json::json!({"13": 1, "14": 1})
    );
    // The kick is not the next entry line after either reason (an entry, a continuation line).
    let story = device["story"].as_array().expect("story");
    assert!(story.iter().all(|e| e.get("cause").is_none()), "{story:?}");
}

/// The kick followed by the listener's 206 is one disconnect; a 206 that comes later than the
/// window is a disconnect of its own.
#[test]
fn a_kick_the_listeners_206_reports_is_counted_once() {
    let mut lines = KICKED.to_vec();
    lines.push("[2019/10/24 14:0:29:001]: [global listener] onDisconnect206");
    lines.push("[2019/10/24 15:0:0:000]: log: level: 2, area: 1, handleDisconnect:13");
    lines.push("[2019/10/24 15:0:0:000]: ConnUserLoginAnotherDevice");
    lines.push("[2019/10/24 15:0:30:000]: [global listener] onDisconnect206");
    let (_dir, root) = bundle(&lines);
    let v = json_of(&["scan", path(&root), "--deep", "--format", "json"]);
    let device = &v["devices"][0];
    // Two 206 lines, the first reporting the first kick; the second kick is 30 s before its 206.
    assert_eq!(device["disconnects"], 3);
    let caused: Vec<(u64, bool)> = device["story"]
        .as_array()
        .expect("story")
        .iter()
        .filter(|e| e["cause"] == "login_another_device")
        .map(|e| {
            (
                e["line"].as_u64().unwrap_or(0),
                e["reported_by_listener"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(caused, [(3, true), (7, false)]);
    assert_eq!(v["codes"][0]["code"], 206);
    assert_eq!(v["codes"][0]["count"], 2);

    let table = stdout_of(&[
        "scan",
        path(&root),
        "--deep",
        "--lang",
        "en",
        "--no-progress",
    ]);
    assert!(
        table.contains(
            "14:00:27\u{a0}reason\u{a0}13\u{a0}(logged\u{a0}in\u{a0}on\u{a0}another\u{a0}device)"
        ),
        "{table}"
    );
    assert!(
        table.contains("(handleDisconnect:13; reported by onDisconnect 206)"),
        "{table}"
    );
}

/// The fixture bundle: each device's disconnects and kicks are the generator's.
#[test]
fn the_desktop_core_fixture_tells_its_kicks() {
    let expected = common::expected("desktop-core");
    let mut config = ScanConfig::new(vec![common::fixture("desktop-core")]);
    config.deep = true;
    let summary = scan_paths(&config, &|_| {}, &|_| {}).expect("scan succeeds");
    let report = serde_json::to_value(&summary).expect("json");
    let diffs = common::story_differences(&expected, &report);
    assert!(diffs.is_empty(), "{diffs:?}");
    assert!(
        expected["stories"]["PC-EVE"]["caused"][0]["reported_by_listener"] == false
            && expected["stories"]["PC-FRANK"]["caused"][0]["reported_by_listener"] == true,
        "the fixture holds a kick with and one without the listener's 206"
    );
}

/// The scan JSON with a cause goes through `merge` and the saved-summary loader unchanged.
#[test]
fn merge_and_the_loader_keep_the_cause() {
    let (dir, root) = bundle(&KICKED);
    let text = stdout_of(&["scan", path(&root), "--deep", "--format", "json"]);
    let saved = Summary::from_json(&text, "a.json").expect("the loader accepts it");
    let entry = &saved.devices[0].story[0];
    assert_eq!(
        entry.cause,
        Some(emscan::model::DisconnectCause::LoginAnotherDevice)
    );
    assert!(!entry.reported_by_listener);
    let file = dir.path().join("a.json");
    std::fs::write(&file, &text).expect("write");
    let merged = json_of(&["merge", path(&file)]);
    let story = &merged["devices"][0]["story"][0];
    assert_eq!(story["cause"], "login_another_device");
    assert_eq!(story["value"], 13);
    assert_eq!(merged["devices"][0]["disconnects"], 1);
}

/// The device story does not depend on where chunks end: a kick whose two lines fall in
/// different chunks is linked all the same.
#[test]
fn the_story_is_the_same_for_any_chunk_size() {
    let scan = |chunk_size: usize| {
        let mut config = ScanConfig::new(vec![common::fixture("desktop-core")]);
        config.deep = true;
        config.read.chunk_size = chunk_size;
        let summary = scan_paths(&config, &|_| {}, &|_| {}).expect("scan succeeds");
        serde_json::to_value(&summary.devices).expect("json")
    };
    let reference = scan(usize::MAX);
    for chunk_size in [64, 100, 257, 1000, 4096] {
        assert!(
            scan(chunk_size) == reference,
            "chunk size {chunk_size} differs"
        );
    }
}

proptest! {
    /// `login return: N` states N wherever it stands on a line, whatever follows that is not
    /// part of a word; a number too large for a code is none, and numbers elsewhere on the line
    /// never count.
    #[test]
    fn login_return_states_exactly_its_number(
        code in 0u64..100_000_000_000,
        spaces in 0usize..3,
        before in "[a-zA-Z0-9:,\\[\\]/ ]{0,30}",
        after in "([,;.)]|[ ,;][a-z0-9 ]{0,20})?",
    ) {
        let lead = if before.is_empty() || before.ends_with(' ') { "" } else { " " };
        let line = format!("{before}{lead}login return:{}{code}{after}", " ".repeat(spaces));
        let rules = RuleSet::builtin();
        let found: Vec<(u32, String)> = extract_chunk(&rules, line.as_bytes())
            .hits
            .iter()
            .map(|h| (h.code, rules.rules()[h.rule].name.clone()))
            .collect();
        let login: Vec<u32> = found
            .iter()
            .filter(|(_, shape)| shape == "login_return")
            .map(|(code, _)| *code)
            .collect();
        let want: Vec<u32> = u32::try_from(code).ok().into_iter().collect();
        prop_assert_eq!(login, want, "{}", line);
    }
}
