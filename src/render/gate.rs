//! Gate verdicts for people (`text`) and for GitHub Actions (`github` workflow commands).

use std::io::{self, Write};

use crate::gate::{Outcome, Verdict};
use crate::render::text::escape_control;

/// GitHub shows at most this many error annotations per step.
pub const GITHUB_MAX_ANNOTATIONS: usize = 10;

/// `file:line` of the rule's first occurrence, or `-`.
fn location(outcome: &Outcome) -> String {
    outcome
        .first_at
        .as_ref()
        .map_or_else(|| "-".into(), |at| format!("{}:{}", at.path, at.line))
}

/// One line describing a broken rule: rule, actual, limit, first occurrence, detail, hint.
pub fn describe(outcome: &Outcome) -> String {
    let mut line = format!(
        "{}: {} (limit {}), first at {}",
        outcome.rule,
        outcome.actual_text(),
        outcome.limit_text(),
        location(outcome)
    );
    if let Some(detail) = &outcome.detail {
        line.push_str(&format!("; {detail}"));
    }
    if let Some(hint) = &outcome.hint {
        line.push_str(&format!(" — {hint}"));
    }
    line
}

/// The one-line verdict, e.g. `gate failed: 2 of 5 rules broken`.
pub fn verdict_line(verdict: &Verdict) -> String {
    let rules = |n: usize| if n == 1 { "rule" } else { "rules" };
    if verdict.passed {
        format!(
            "gate passed: {} {} checked, all hold",
            verdict.rules,
            rules(verdict.rules)
        )
    } else {
        format!(
            "gate failed: {} of {} {} broken",
            verdict.broken,
            verdict.rules,
            rules(verdict.rules)
        )
    }
}

/// Writes one `FAIL` line per broken rule, then the verdict. Control characters in log-derived
/// text (paths) are escaped.
pub fn write_text(out: &mut dyn Write, verdict: &Verdict) -> io::Result<()> {
    for outcome in verdict.broken_rules() {
        writeln!(out, "FAIL {}", escape_control(&describe(outcome)))?;
    }
    writeln!(out, "{}", verdict_line(verdict))
}

/// Escapes the message of a workflow command: `%`, CR and LF.
pub fn escape_data(text: &str) -> String {
    let escaped = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    escape_control(&escaped).into_owned()
}

/// Escapes a property value of a workflow command: as [`escape_data`], plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Writes `::error` workflow commands for the broken rules: at most
/// [`GITHUB_MAX_ANNOTATIONS`] commands, the last one summarising the rest when there are more;
/// then the verdict as a plain line.
pub fn write_github(out: &mut dyn Write, verdict: &Verdict) -> io::Result<()> {
    let broken: Vec<&Outcome> = verdict.broken_rules().collect();
    let detailed = if broken.len() > GITHUB_MAX_ANNOTATIONS {
        GITHUB_MAX_ANNOTATIONS - 1
    } else {
        broken.len()
    };
    for outcome in &broken[..detailed] {
        let mut props = Vec::new();
        if let Some(at) = &outcome.first_at {
            props.push(format!("file={}", escape_property(&at.path)));
            props.push(format!("line={}", at.line));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("emscan gate: {}", outcome.rule))
        ));
        writeln!(
            out,
            "::error {}::{}",
            props.join(","),
            escape_data(&describe(outcome))
        )?;
    }
    let rest = &broken[detailed..];
    if !rest.is_empty() {
        let ids: Vec<String> = rest.iter().map(|o| o.rule.clone()).collect();
        writeln!(
            out,
            "::error::{}",
            escape_data(&format!(
                "{} more rules broken: {}",
                rest.len(),
                ids.join(", ")
            ))
        )?;
    }
    writeln!(out, "{}", verdict_line(verdict))
}
