//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The binary with English messages and no `$COLUMNS` (piped output has no width limit).
pub fn emscan_english() -> Command {
    let mut cmd = Command::cargo_bin("emscan").expect("binary builds");
    cmd.env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("COLUMNS");
    cmd
}

/// The binary in the C locale.
pub fn emscan_c() -> Command {
    let mut cmd = Command::cargo_bin("emscan").expect("binary builds");
    cmd.env("LANG", "C");
    cmd
}

/// The repository's own fixtures (written by `fixtures/gen_sample.py`).
pub fn own_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// One bundle of the own fixtures: `sample-bundle` (three devices, every prefix, gzip, CRLF),
/// `decoys-only` (no error at all), `utf16-legacy` (UTF-16LE live file, legacy prefix) or
/// `desktop-core` (the desktop C++ core's `login return: N` and kicks).
pub fn fixture(name: &str) -> PathBuf {
    own_fixtures().join(name)
}

/// The generator's answer for a bundle of the own fixtures.
pub fn expected(name: &str) -> Value {
    read_json(&own_fixtures().join(format!("{name}.expected.json")))
}

/// Every `NAME.expected.json` with its bundle folder `NAME/` in `dir`.
pub fn bundles_in(dir: &Path) -> Vec<(String, PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read fixtures in {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(bundle) = name.strip_suffix(".expected.json") {
            out.push((bundle.to_string(), dir.join(bundle), entry.path()));
        }
    }
    out.sort();
    out
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn by_code(items: &Value) -> BTreeMap<u64, &Value> {
    items
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| Some((v.get("code")?.as_u64()?, v)))
                .collect()
        })
        .unwrap_or_default()
}

/// The per-code fields compared with the expected files.
const CODE_FIELDS: [&str; 6] = [
    "count",
    "first",
    "last",
    "per_file",
    "per_shape",
    "per_minute",
];

/// Compares one code's fields; `null` and `{}` count as the same emptiness.
fn compare_code_fields(label: &str, want: &Value, got: &Value, diffs: &mut Vec<String>) {
    let empty = |v: &Value| v.is_null() || v.as_object().is_some_and(|o| o.is_empty());
    for key in CODE_FIELDS {
        let (w, g) = (&want[key], &got[key]);
        if w != g && !(empty(w) && empty(g)) {
            diffs.push(format!("{label}.{key}: got {g}, expected {w}"));
        }
    }
}

/// Every difference between an expected file and a scan report: per code (catalog, unknown,
/// success) count, name, first, last, per_file, per_shape, per_minute; per file path, device,
/// lines, bytes, decompressed bytes, first, last, style, crlf, gzip, truncated last line; and
/// codes the report has but the expected file does not (false positives).
pub fn differences(expected: &Value, report: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut want = by_code(&expected["codes"]);
    want.extend(by_code(&expected["unknown_codes"]));
    let success = &expected["success"];
    let mut got = by_code(&report["codes"]);
    got.extend(by_code(&report["unknown_codes"]));
    // Code 0 is compared on its own: it is reported under `success`, never as an error.
    compare_code_fields("success", success, &report["success"], &mut diffs);
    for (code, w) in &want {
        let Some(g) = got.get(code) else {
            diffs.push(format!("code {code}: missing from report"));
            continue;
        };
        compare_code_fields(&format!("code {code}"), w, g, &mut diffs);
        // Names are the catalog's; unknown codes have none in the contract.
        let catalogued = by_code(&expected["codes"]).contains_key(code);
        if catalogued && w["name"] != g["name"] {
            diffs.push(format!(
                "code {code}.name: got {}, expected {}",
                g["name"], w["name"]
            ));
        }
    }
    for code in got.keys().filter(|c| !want.contains_key(c)) {
        diffs.push(format!(
            "code {code}: reported but not expected (false positive)"
        ));
    }
    let known_in = |v: &Value| by_code(v).keys().copied().collect::<Vec<_>>();
    if known_in(&expected["codes"])
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        != known_in(&report["codes"]).iter().collect()
    {
        diffs.push("catalog/unknown split differs".into());
    }
    let report_files: BTreeMap<&str, &Value> = report["files"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| Some((f["path"].as_str()?, f)))
                .collect()
        })
        .unwrap_or_default();
    let empty = Vec::new();
    let expected_files = expected["files"].as_array().unwrap_or(&empty);
    for f in expected_files {
        let path = f["path"].as_str().unwrap_or_default();
        let Some(g) = report_files.get(path) else {
            diffs.push(format!("file {path}: missing from report"));
            continue;
        };
        for key in [
            "device",
            "lines",
            "bytes",
            "uncompressed_bytes",
            "first",
            "last",
            "style",
            "crlf",
            "gzip",
            "truncated_last_line",
        ] {
            // Files directly in the bundle folder: the tool names that device as it likes.
            if key == "device" && f[key] == "default" {
                continue;
            }
            if f.get(key).is_some() && f[key] != g[key] {
                diffs.push(format!(
                    "file {path}.{key}: got {}, expected {}",
                    g[key], f[key]
                ));
            }
        }
    }
    let order: Vec<&str> = expected_files
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    let got_order: Vec<&str> = report["files"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["path"].as_str()).collect())
        .unwrap_or_default();
    if order != got_order {
        diffs.push(format!("file order: got {got_order:?}, expected {order:?}"));
    }
    let totals = &expected["totals"];
    for (want_key, got_key) in [("lines", "lines"), ("error_occurrences", "errors")] {
        if let Some(n) = totals[want_key].as_u64()
            && report["stats"][got_key].as_u64() != Some(n)
        {
            diffs.push(format!(
                "stats.{got_key}: got {}, expected {n}",
                report["stats"][got_key]
            ));
        }
    }
    diffs
}

/// Every difference between an expected file's `stories` (the generator's kicks and disconnect
/// counts per device) and a deep scan's devices: `disconnects`, and the story entries with a
/// `cause` (path, line, time, value, cause, `reported_by_listener`). Empty when the expected
/// file has no `stories`.
pub fn story_differences(expected: &Value, report: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let Some(stories) = expected["stories"].as_object() else {
        return diffs;
    };
    let empty = Vec::new();
    let devices = report["devices"].as_array().unwrap_or(&empty);
    for (name, want) in stories {
        let Some(got) = devices.iter().find(|d| d["name"] == name.as_str()) else {
            diffs.push(format!("device {name}: missing from report"));
            continue;
        };
        if got["disconnects"] != want["disconnects"] {
            diffs.push(format!(
                "device {name}.disconnects: got {}, expected {}",
                got["disconnects"], want["disconnects"]
            ));
        }
        let caused: Vec<Value> = got["story"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter(|e| e.get("cause").is_some())
            .map(|e| {
                serde_json::json!({
                    "path": e["path"],
                    "line": e["line"],
                    "time": e["time"],
                    "value": e["value"],
                    "cause": e["cause"],
                    "reported_by_listener": e["reported_by_listener"].as_bool().unwrap_or(false),
                })
            })
            .collect();
        let want_caused = want["caused"].as_array().unwrap_or(&empty);
        if &caused != want_caused {
            diffs.push(format!(
                "device {name}: caused disconnects: got {caused:?}, expected {want_caused:?}"
            ));
        }
    }
    diffs
}

/// Writes a generated support bundle under `dir`: `devices` device folders, each with a
/// rotated segment and a live `easemob.log`, holding every shape, code 0, unknown codes,
/// continuation lines and decoys. Deterministic in `seed`. Returns the bundle's path.
pub fn write_bundle(dir: &Path, name: &str, seed: u64, devices: usize) -> PathBuf {
    let bundle = dir.join(name);
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let codes = [0u32, 2, 201, 300, 500, 110, 3];
    for d in 0..devices {
        let log_dir = bundle.join(format!("PC-{seed}-{d}/sdkdata/easemobLog"));
        std::fs::create_dir_all(&log_dir).expect("bundle folder");
        for (file, hour) in [("easemob_2024-05-06_09-59-59.log", 9), ("easemob.log", 10)] {
            let mut text = String::new();
            for i in 0..200 {
                let minute = i * 60 / 200;
                let prefix = format!(
                    "[2024/05/06 {hour:02}:{minute:02}:{:02}:{:03}]: ",
                    next(60),
                    next(1000)
                );
                let code = codes[next(codes.len() as u64) as usize];
                let line = match next(7) {
                    0 => format!(
                        "{prefix}SDK_Error: {{\"callbackId\":\"{i}\",\"error\":{{\"code\":{code},\"desc\":\"x\"}}}}"
                    ),
                    1 => format!("{prefix}ChatManager_SendMessage failed, code: {code}; desc: y"),
                    2 => format!("{prefix}[global listener] onDisconnect{code}"),
                    3 => format!(
                        "{prefix}EMChatManager::sendMessage() error, msgId: {i}, errorCode={code}, desc=z"
                    ),
                    4 => format!(
                        "{prefix}write config: {{\n  SDK_Error: {{\"callbackId\":\"1\",\"error\":{{\"code\":{code},\"desc\":\"c\"}}}}\n}}"
                    ),
                    5 => format!("{prefix}[EMARHttpAPI] httpExecute code: 404 port: 6717"),
                    _ => format!("{prefix}plain line {i}"),
                };
                text.push_str(&line);
                text.push_str(if d % 2 == 0 { "\r\n" } else { "\n" });
            }
            std::fs::write(log_dir.join(file), text).expect("bundle file");
        }
    }
    bundle
}

/// Error counts by code (catalogued and unknown, never code 0) in an expected file.
pub fn expected_counts(expected: &Value) -> BTreeMap<u64, u64> {
    by_code(&expected["codes"])
        .into_iter()
        .chain(by_code(&expected["unknown_codes"]))
        .map(|(code, v)| (code, v["count"].as_u64().expect("count")))
        .collect()
}

/// The codes under `unknown_codes` in an expected file, ascending.
pub fn expected_unknown(expected: &Value) -> Vec<u64> {
    by_code(&expected["unknown_codes"]).into_keys().collect()
}
