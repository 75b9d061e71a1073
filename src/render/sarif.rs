//! Gate verdicts as SARIF 2.1.0: one result per broken rule, at its first occurrence, and one
//! per file skipped or partly read (a warning; an error under `--strict`).

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::gate::{Outcome, Verdict};
use crate::render::gate::{damaged_line, describe, openable};
use crate::render::text::escape_control;

/// The SARIF version written.
pub(crate) const SARIF_VERSION: &str = "2.1.0";

/// The SARIF 2.1.0 JSON schema.
pub(crate) const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Percent-encodes a relative path for a SARIF `uri` (unreserved characters and `/` kept).
pub(crate) fn path_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(char::from(byte))
            }
            b'\\' => uri.push('/'),
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

/// A folder as a `file://` URI ending in `/`, as `originalUriBaseIds` wants it.
pub(crate) fn folder_uri(folder: &str) -> String {
    let uri = path_uri(folder);
    format!("file:///{}/", uri.trim_matches('/'))
}

/// The id of the working folder in `originalUriBaseIds`.
const BASE_ID: &str = "%SRCROOT%";

/// Whether a path as given is absolute (`/x`, `\\server\x`, `C:\x`, `C:/x`).
fn is_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    path.starts_with(['/', '\\'])
        || (bytes.len() > 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
}

/// An `artifactLocation` for a path from the scan: relative to the working folder (its
/// `uriBaseId`), or a `file://` URI when the path as given is absolute.
fn artifact(verdict: &Verdict, path: &str) -> Value {
    let path = openable(verdict, path);
    if is_absolute(&path) {
        let uri = path_uri(&path);
        let uri = uri.trim_start_matches('/');
        json!({ "uri": format!("file:///{uri}") })
    } else {
        let relative = path.strip_prefix("./").unwrap_or(&path);
        json!({ "uri": path_uri(relative), "uriBaseId": BASE_ID })
    }
}

fn result(verdict: &Verdict, outcome: &Outcome, rule_index: usize) -> Value {
    let mut result = json!({
        "ruleId": outcome.id,
        "ruleIndex": rule_index,
        "level": "error",
        "message": { "text": escape_control(&describe(verdict, outcome)) },
    });
    if let Some(at) = &outcome.first_at {
        result["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": artifact(verdict, &at.path),
                "region": { "startLine": at.line },
            }
        }]);
    }
    result
}

/// Builds the SARIF log (every text that can quote a path or log text made inert with
/// [`escape_control`]): `tool.driver.rules` holds every rule id checked (once each), and
/// `results` one error per broken rule. Locations are relative to the scanned folder.
pub(crate) fn sarif(verdict: &Verdict) -> Value {
    let mut ids: Vec<&str> = Vec::new();
    let mut rules = Vec::new();
    for outcome in &verdict.outcomes {
        if ids.contains(&outcome.id.as_str()) {
            continue;
        }
        ids.push(&outcome.id);
        let mut rule = json!({
            "id": outcome.id,
            "name": outcome.id,
            "shortDescription": { "text": escape_control(&outcome.rule) },
        });
        if let Some(hint) = &outcome.hint {
            rule["help"] = json!({ "text": escape_control(hint) });
        }
        rules.push(rule);
    }
    let mut results: Vec<Value> = verdict
        .broken_rules()
        .map(|o| {
            result(
                verdict,
                o,
                ids.iter().position(|id| *id == o.id).unwrap_or(0),
            )
        })
        .collect();
    if !verdict.damaged.is_empty() {
        let index = rules.len();
        rules.push(json!({
            "id": "input",
            "name": "input",
            "shortDescription": { "text": "every log file read whole" },
        }));
        let level = if verdict.strict { "error" } else { "warning" };
        results.extend(verdict.damaged.iter().map(|d| {
            json!({
                "ruleId": "input",
                "ruleIndex": index,
                "level": level,
                "message": { "text": escape_control(&damaged_line(verdict, d)) },
                "locations": [{
                    "physicalLocation": { "artifactLocation": artifact(verdict, &d.path) }
                }],
            })
        }));
    }
    let mut run = json!({
        "tool": { "driver": {
            "name": "emscan",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "results": results,
    });
    if let Some(folder) = &verdict.working_folder {
        run["originalUriBaseIds"] = json!({ BASE_ID: { "uri": folder } });
    }
    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [run],
    })
}

/// Writes the SARIF log as pretty JSON.
pub(crate) fn write_sarif(out: &mut dyn Write, verdict: &Verdict) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &sarif(verdict))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::gate::tests::{broken, verdict};

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(
            path_uri("PC-1/sdkdata/easemob.log"),
            "PC-1/sdkdata/easemob.log"
        );
        assert_eq!(
            path_uri("my logs/用户.log"),
            "my%20logs/%E7%94%A8%E6%88%B7.log"
        );
        assert_eq!(path_uri("a\\b#1"), "a/b%231");
    }

    #[test]
    fn rules_are_listed_once_and_results_point_at_them() {
        let mut rate = broken("NETWORK_ERROR", "b.log", 9);
        rate.rule = "max-rate NETWORK_ERROR (2)".into();
        let mut ok = broken("total", "a.log", 1);
        ok.passed = true;
        let v = sarif(&verdict(vec![
            ok,
            broken("NETWORK_ERROR", "a.log", 2),
            rate,
        ]));
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["total", "NETWORK_ERROR"]);
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[1]["ruleIndex"], 1);
        assert_eq!(
            results[1]["locations"][0]["physicalLocation"]["region"]["startLine"],
            9
        );
    }
}
