//! Prometheus text exposition, for the node exporter's textfile collector.
//!
//! `emscan scan … --format prometheus > /var/lib/node_exporter/textfile/emscan.prom` (write to a
//! temporary file and rename it, so the collector never reads half a file).

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::Summary;
use crate::render::text::escape_control;

/// Escapes a label value: control characters first ([`escape_control`], so that no raw escape
/// reaches a file or a dashboard), then the exposition format's `\` → `\\` and `"` → `\"`
/// (a newline is already `\n` text, whose backslash is escaped in turn).
pub(crate) fn label_value(text: &str) -> String {
    let text = escape_control(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// Writes one metric family: HELP, TYPE and its samples (`labels` already rendered).
fn family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: &[(String, u64)],
) -> std::fmt::Result {
    writeln!(out, "# HELP {name} {help}")?;
    writeln!(out, "# TYPE {name} {kind}")?;
    for (labels, value) in samples {
        if labels.is_empty() {
            writeln!(out, "{name} {value}")?;
        } else {
            writeln!(out, "{name}{{{labels}}} {value}")?;
        }
    }
    Ok(())
}

/// Writes the summary as metrics: `emscan_errors_total{code,name,device}` (a code outside the
/// Windows table has `name="unknown"`, a newer SDK's code too), `emscan_success_total{device}`,
/// and the scan's file, line and skipped counts.
pub(crate) fn write_summary(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let mut errors = Vec::new();
    let known = summary.codes.iter().map(|c| (c, c.name.as_deref()));
    let unknown = summary.unknown_codes.iter().map(|c| (c, None));
    for (code, name) in known.chain(unknown) {
        let name = name.unwrap_or("unknown");
        for (device, count) in &code.per_device {
            errors.push((
                format!(
                    "code=\"{}\",name=\"{}\",device=\"{}\"",
                    code.code,
                    label_value(name),
                    label_value(device)
                ),
                *count,
            ));
        }
    }
    let success: Vec<(String, u64)> = summary
        .success
        .per_device
        .iter()
        .map(|(device, count)| (format!("device=\"{}\"", label_value(device)), *count))
        .collect();
    let stats = &summary.stats;
    let mut text = String::new();
    let written = family(
        &mut text,
        "emscan_errors_total",
        "counter",
        "SDK error-code occurrences in the scanned Easemob logs, by code and device.",
        &errors,
    )
    .and_then(|()| {
        family(
            &mut text,
            "emscan_success_total",
            "counter",
            "Success lines (code 0) in the scanned Easemob logs, by device.",
            &success,
        )
    })
    .and_then(|()| {
        family(
            &mut text,
            "emscan_files_scanned",
            "gauge",
            "Log files scanned.",
            &[(String::new(), stats.files)],
        )
    })
    .and_then(|()| {
        family(
            &mut text,
            "emscan_lines_scanned",
            "gauge",
            "Physical log lines scanned.",
            &[(String::new(), stats.lines)],
        )
    })
    .and_then(|()| {
        family(
            &mut text,
            "emscan_files_skipped",
            "gauge",
            "Paths that could not be read.",
            &[(String::new(), summary.skipped.len() as u64)],
        )
    });
    written.map_err(io::Error::other)?;
    out.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value(r#"PC "A"\x"#), r#"PC \"A\"\\x"#);
        assert_eq!(label_value("张三的电脑"), "张三的电脑");
    }

    #[test]
    fn label_values_carry_no_raw_control_characters() {
        // ESC becomes the text `\u{1b}`, its backslash escaped for the exposition format, so a
        // parser reads back the inert text `\u{1b}`.
        assert_eq!(label_value("PC\u{1b}[31m"), r"PC\\u{1b}[31m");
        assert_eq!(label_value("a\nb"), r"a\\nb");
        assert_eq!(label_value("a\tb\u{7f}"), r"a\\tb\\u{7f}");
    }
}
