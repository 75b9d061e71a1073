//! Gate verdicts for people (`text`) and for GitHub Actions (`github` workflow commands).

use std::io::{self, Write};

use crate::gate::{DamagedInput, Outcome, Verdict};
use crate::render::text::escape_control;

/// GitHub shows at most this many error annotations per step.
pub(crate) const GITHUB_MAX_ANNOTATIONS: usize = 10;

/// A summary's path as the user can open it from the working folder: with one scanned folder,
/// that folder as given joined with the path, in the folder's own separator style
/// (`fixtures\\bundle\\PC-1\\easemob.log` when it was given with backslashes); several folders, or
/// a file named on the command line, are in the path already.
pub(crate) fn openable(verdict: &Verdict, path: &str) -> String {
    match verdict.root.as_slice() {
        [root] if root != "." && !root.is_empty() => {
            let inside = path
                .strip_prefix(root.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '\\']));
            if inside {
                path.to_string()
            } else if root.contains('\\') && !root.contains('/') {
                let root = root.trim_end_matches('\\');
                format!("{root}\\{}", path.replace('/', "\\"))
            } else {
                format!("{}/{path}", root.trim_end_matches(['/', '\\']))
            }
        }
        _ => path.to_string(),
    }
}

/// `file:line` of the rule's first occurrence, from the working folder, or `-`.
fn location(verdict: &Verdict, outcome: &Outcome) -> String {
    outcome.first_at.as_ref().map_or_else(
        || "-".into(),
        |at| format!("{}:{}", openable(verdict, &at.path), at.line),
    )
}

/// One line describing a broken rule: rule, actual, limit, first occurrence, detail, hint.
pub(crate) fn describe(verdict: &Verdict, outcome: &Outcome) -> String {
    let mut line = format!(
        "{}: {} (limit {}), first at {}",
        outcome.rule,
        outcome.actual_text(),
        outcome.limit_text(),
        location(verdict, outcome)
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
pub(crate) fn verdict_line(verdict: &Verdict) -> String {
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

/// The rules that hold on one line, `pass: RULE: ACTUAL (limit LIMIT); …`, or `None` when every
/// rule broke.
pub(crate) fn passing_line(verdict: &Verdict) -> Option<String> {
    let held: Vec<String> = verdict
        .outcomes
        .iter()
        .filter(|o| o.passed)
        .map(|o| format!("{}: {} (limit {})", o.rule, o.actual_text(), o.limit_text()))
        .collect();
    (!held.is_empty()).then(|| format!("pass: {}", held.join("; ")))
}

/// One line per damaged input: `skipped PATH: REASON` or `partly read PATH: REASON`.
pub(crate) fn damaged_line(verdict: &Verdict, input: &DamagedInput) -> String {
    let what = if input.kind == "skipped" {
        "skipped"
    } else {
        "partly read"
    };
    format!(
        "{what} {}: {}",
        openable(verdict, &input.path),
        input.reason
    )
}

/// What damaged input means for the verdict, or `None` when every file was read whole.
pub(crate) fn damaged_summary(verdict: &Verdict) -> Option<String> {
    let n = verdict.damaged.len();
    (n > 0).then(|| {
        let files = if n == 1 { "file was" } else { "files were" };
        let consequence = if verdict.strict && verdict.passed {
            "--strict: exit 3"
        } else {
            "counts may be low"
        };
        format!("{n} {files} skipped or only partly read ({consequence})")
    })
}

/// Writes one `FAIL` line per broken rule, one `pass:` line with the rules that hold, one
/// `INPUT` line per file skipped or partly read, then the verdict. Control characters in
/// log-derived text (paths) are escaped.
pub(crate) fn write_text(out: &mut dyn Write, verdict: &Verdict) -> io::Result<()> {
    for outcome in verdict.broken_rules() {
        writeln!(out, "FAIL {}", escape_control(&describe(verdict, outcome)))?;
    }
    if let Some(line) = passing_line(verdict) {
        writeln!(out, "{}", escape_control(&line))?;
    }
    for input in &verdict.damaged {
        writeln!(
            out,
            "INPUT {}",
            escape_control(&damaged_line(verdict, input))
        )?;
    }
    if let Some(line) = damaged_summary(verdict) {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{}", verdict_line(verdict))
}

/// Escapes the message of a workflow command: `%`, CR and LF.
pub(crate) fn escape_data(text: &str) -> String {
    let escaped = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    escape_control(&escaped).into_owned()
}

/// Escapes a property value of a workflow command: as [`escape_data`], plus `:` and `,`.
pub(crate) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Writes `::error` workflow commands for the broken rules: at most
/// [`GITHUB_MAX_ANNOTATIONS`] commands, the last one summarising the rest when there are more;
/// then the verdict as a plain line.
pub(crate) fn write_github(out: &mut dyn Write, verdict: &Verdict) -> io::Result<()> {
    let broken: Vec<&Outcome> = verdict.broken_rules().collect();
    let detailed = if broken.len() > GITHUB_MAX_ANNOTATIONS {
        GITHUB_MAX_ANNOTATIONS - 1
    } else {
        broken.len()
    };
    for outcome in &broken[..detailed] {
        let mut props = Vec::new();
        if let Some(at) = &outcome.first_at {
            props.push(format!(
                "file={}",
                escape_property(&openable(verdict, &at.path))
            ));
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
            escape_data(&describe(verdict, outcome))
        )?;
    }
    // Damaged input: a warning each, an error under --strict (a command per file; GitHub
    // shows the first ten of each level).
    let level = if verdict.strict { "error" } else { "warning" };
    for input in &verdict.damaged {
        writeln!(
            out,
            "::{level} file={},title={}::{}",
            escape_property(&openable(verdict, &input.path)),
            escape_property("emscan gate: input"),
            escape_data(&damaged_line(verdict, input))
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::gate::RuleKind;
    use crate::model::Location;

    /// A broken `max` outcome for `id` whose first occurrence is at `path`:`line`.
    pub(crate) fn broken(id: &str, path: &str, line: u64) -> Outcome {
        Outcome {
            id: id.into(),
            kind: RuleKind::Max,
            rule: format!("max {id}"),
            limit: 0.0,
            actual: 3.0,
            unit: String::new(),
            passed: false,
            codes: vec![300],
            first_at: Some(Location {
                path: path.into(),
                line,
            }),
            hint: Some("retry, later".into()),
            detail: None,
        }
    }

    pub(crate) fn verdict(outcomes: Vec<Outcome>) -> Verdict {
        let broken = outcomes.iter().filter(|o| !o.passed).count();
        Verdict {
            schema: crate::gate::SCHEMA,
            passed: broken == 0,
            rules: outcomes.len(),
            broken,
            outcomes,
            damaged: Vec::new(),
            strict: false,
            root: Vec::new(),
            working_folder: None,
        }
    }

    fn render(write: fn(&mut dyn Write, &Verdict) -> io::Result<()>, verdict: &Verdict) -> String {
        let mut out = Vec::new();
        write(&mut out, verdict).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn paths_open_from_the_working_folder_in_the_root_s_own_style() {
        let with_root = |root: &str| {
            let mut v = verdict(Vec::new());
            v.root = vec![root.to_string()];
            v
        };
        let path = "PC-1/sdkdata/easemob.log";
        assert_eq!(
            openable(&with_root("bundle"), path),
            "bundle/PC-1/sdkdata/easemob.log"
        );
        assert_eq!(
            openable(&with_root("bundle/"), path),
            "bundle/PC-1/sdkdata/easemob.log"
        );
        assert_eq!(
            openable(&with_root("logs\\bundle"), path),
            "logs\\bundle\\PC-1\\sdkdata\\easemob.log"
        );
        assert_eq!(openable(&with_root("."), path), path);
        // A file named on the command line is its own path.
        assert_eq!(
            openable(&with_root("a/easemob.log"), "a/easemob.log"),
            "a/easemob.log"
        );
        // Several roots: the summary's paths start with their root already.
        let mut several = with_root("a");
        several.root.push("b".into());
        assert_eq!(openable(&several, "b/PC/easemob.log"), "b/PC/easemob.log");
    }

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(escape_property("x\u{1b}[31m"), "x\\u{1b}[31m");
    }

    #[test]
    fn text_lists_broken_rules_with_escaped_paths() {
        let mut ok = broken("total", "a.log", 1);
        ok.passed = true;
        let v = verdict(vec![
            broken("SERVER_NOT_REACHABLE", "dev\u{1b}[2J/easemob.log", 7),
            ok,
        ]);
        assert_eq!(
            render(write_text, &v),
            "FAIL max SERVER_NOT_REACHABLE: 3 (limit 0), first at dev\\u{1b}[2J/easemob.log:7 \
             — retry, later\npass: max total: 3 (limit 0)\ngate failed: 1 of 2 rules broken\n"
        );
    }

    #[test]
    fn github_commands_escape_properties_and_cap_at_ten() {
        let v = verdict(vec![broken("X", "dir,with:odd%/easemob.log", 4)]);
        let text = render(write_github, &v);
        assert_eq!(
            text.lines().next(),
            Some(
                "::error file=dir%2Cwith%3Aodd%25/easemob.log,line=4,title=emscan gate%3A max X\
                 ::max X: 3 (limit 0), first at dir,with:odd%25/easemob.log:4 — retry, later"
            )
        );
        let many: Vec<Outcome> = (0..11)
            .map(|i| broken(&format!("R{i}"), "a.log", i))
            .collect();
        let text = render(write_github, &verdict(many));
        let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error")).collect();
        assert_eq!(errors.len(), GITHUB_MAX_ANNOTATIONS);
        assert_eq!(errors[9], "::error::2 more rules broken: max R9, max R10");
        // Exactly ten broken rules need no summary line.
        let ten: Vec<Outcome> = (0..10).map(|i| broken("R", "a.log", i)).collect();
        let text = render(write_github, &verdict(ten));
        assert!(!text.contains("more rules broken"));
        assert_eq!(
            text.lines().filter(|l| l.starts_with("::error ")).count(),
            10
        );
    }
}
