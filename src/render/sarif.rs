//! Gate verdicts as SARIF 2.1.0: one result per broken rule, at its first occurrence.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::gate::{Outcome, Verdict};
use crate::render::gate::describe;

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";

/// The SARIF 2.1.0 JSON schema.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Percent-encodes a relative path for a SARIF `uri` (unreserved characters and `/` kept).
pub fn path_uri(path: &str) -> String {
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

fn result(outcome: &Outcome, rule_index: usize) -> Value {
    let mut result = json!({
        "ruleId": outcome.id,
        "ruleIndex": rule_index,
        "level": "error",
        "message": { "text": describe(outcome) },
    });
    if let Some(at) = &outcome.first_at {
        result["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": { "uri": path_uri(&at.path) },
                "region": { "startLine": at.line },
            }
        }]);
    }
    result
}

/// Builds the SARIF log: `tool.driver.rules` holds every rule id checked (once each), and
/// `results` one error per broken rule. Locations are relative to the scanned folder.
pub fn sarif(verdict: &Verdict) -> Value {
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
            "shortDescription": { "text": outcome.rule },
        });
        if let Some(hint) = &outcome.hint {
            rule["help"] = json!({ "text": hint });
        }
        rules.push(rule);
    }
    let results: Vec<Value> = verdict
        .broken_rules()
        .map(|o| result(o, ids.iter().position(|id| *id == o.id).unwrap_or(0)))
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": { "driver": {
                "name": "emscan",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// Writes the SARIF log as pretty JSON.
pub fn write_sarif(out: &mut dyn Write, verdict: &Verdict) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &sarif(verdict))?;
    writeln!(out)
}
