//! Scan comparisons: a table for people, Markdown for pull requests (JSON is the `Diff` as is).

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};

use crate::diff::{CodeChange, Diff, Span};
use crate::render::text::escape_control;

const HEADER: [&str; 9] = [
    "code",
    "name",
    "before",
    "after",
    "change",
    "change %",
    "before /h",
    "after /h",
    "status",
];

fn signed(change: i64) -> String {
    if change > 0 {
        format!("+{change}")
    } else {
        change.to_string()
    }
}

/// A percentage with its sign (`+75%`, `-100%`), `-` when there is none (a new code).
fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |p| format!("{p:+.0}%"))
}

/// A rate per hour, `-` when the scan has no log time.
fn rate(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |r| format!("{r:.2}"))
}

fn row(c: &CodeChange) -> [String; 9] {
    [
        c.code.to_string(),
        c.name.clone().unwrap_or_else(|| "(unknown)".into()),
        c.before.to_string(),
        c.after.to_string(),
        signed(c.change),
        percent(c.percent),
        rate(c.per_hour_before),
        rate(c.per_hour_after),
        c.kind.as_str().to_string(),
    ]
}

/// What one side is: its paths, its errors and the log time they span.
fn side(label: &str, root: &[String], errors: u64, span: Option<Span>) -> String {
    let time = span.map_or_else(
        || "no log time".to_string(),
        |s| format!("{} .. {}, {:.1} h", s.first, s.last, s.hours),
    );
    escape_control(&format!(
        "{label}: {} ({errors} errors, {time})",
        root.join(", ")
    ))
    .into_owned()
}

/// The two lines that say what is compared with what.
fn sides(diff: &Diff) -> [String; 2] {
    [
        side("before", &diff.old_root, diff.before, diff.old_span),
        side("after", &diff.new_root, diff.after, diff.new_span),
    ]
}

fn code_list<'a>(codes: impl Iterator<Item = &'a CodeChange>) -> String {
    let list: Vec<String> = codes
        .map(|c| match &c.name {
            Some(name) => format!("{} {name}", c.code),
            None => c.code.to_string(),
        })
        .collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

fn totals(diff: &Diff) -> String {
    format!(
        "errors: {} → {} ({})",
        diff.before,
        diff.after,
        signed(
            i64::try_from(diff.after).unwrap_or(i64::MAX)
                - i64::try_from(diff.before).unwrap_or(i64::MAX)
        )
    )
}

/// Writes the comparison as a table, then the new and vanished codes and the totals.
pub(crate) fn write_table(out: &mut dyn Write, diff: &Diff) -> io::Result<()> {
    for line in sides(diff) {
        writeln!(out, "{line}")?;
    }
    if diff.changes.is_empty() {
        writeln!(out, "No SDK error codes in either scan.")?;
    } else {
        let mut builder = Builder::default();
        builder.push_record(HEADER);
        for change in &diff.changes {
            builder.push_record(row(change));
        }
        let mut table = builder.build();
        table
            .with(Style::sharp())
            .modify(Columns::new(2..8), Alignment::right());
        writeln!(out, "{table}")?;
    }
    writeln!(out, "New codes: {}", code_list(diff.new_codes()))?;
    writeln!(out, "Vanished codes: {}", code_list(diff.vanished_codes()))?;
    writeln!(out, "{}", escape_control(&totals(diff)))
}

/// Writes the comparison as a GitHub-flavoured Markdown table with a summary line.
pub(crate) fn write_markdown(out: &mut dyn Write, diff: &Diff) -> io::Result<()> {
    writeln!(out, "### emscan diff\n")?;
    for line in sides(diff) {
        writeln!(out, "- {}", line.replace('|', "\\|"))?;
    }
    writeln!(out)?;
    writeln!(out, "| {} |", HEADER.join(" | "))?;
    writeln!(
        out,
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    )?;
    for change in &diff.changes {
        let cells: Vec<String> = row(change)
            .iter()
            .map(|cell| escape_control(cell).replace('|', "\\|"))
            .collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    writeln!(out)?;
    writeln!(out, "- New codes: {}", code_list(diff.new_codes()))?;
    writeln!(
        out,
        "- Vanished codes: {}",
        code_list(diff.vanished_codes())
    )?;
    writeln!(out, "- {}", totals(diff))
}
