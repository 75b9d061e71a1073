//! The incident summary as Markdown: pastes cleanly into a ticket (GitHub, GitLab, Jira with
//! Markdown). Log-derived text sits in code spans or fenced blocks, with control characters
//! escaped and table pipes escaped; nothing depends on the clock, so the same input gives the
//! same bytes.

use std::fmt::Write as _;

use crate::Summary;
use crate::catalog::{Catalog, Lang};
use crate::render::cells::{histogram, sparkline, time};
use crate::render::report::{self, ReportLabels};
use crate::render::text::escape_control;

/// A table cell: control characters escaped, pipes escaped, no line breaks.
fn cell(text: &str) -> String {
    escape_control(text).replace('|', "\\|")
}

/// Prose that may hold log-derived text (device names in the verdict): control characters
/// escaped, and the characters that would start Markdown or HTML markup backslash-escaped
/// (`_` is left alone: intraword underscores as in `NETWORK_ERROR` never emphasise).
fn prose(text: &str) -> String {
    let text = escape_control(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An inline code span holding `text` whatever backticks it contains (pipes escaped for
/// tables).
fn code(text: &str) -> String {
    let text = cell(text);
    let longest = longest_run(&text, '`');
    let fence = "`".repeat(longest + 1);
    if longest > 0 || text.starts_with(' ') || text.ends_with(' ') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for d in text.chars() {
        run = if d == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// A fenced block around lines, with a fence longer than any backtick run inside.
fn fenced(lines: &[String]) -> String {
    let longest = lines.iter().map(|l| longest_run(l, '`')).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let mut out = format!("{fence}text\n");
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

fn header(names: &[&str]) -> String {
    let mut s = row(&names.iter().map(|n| n.to_string()).collect::<Vec<_>>());
    s.push_str(&row(&names
        .iter()
        .map(|_| "---".to_string())
        .collect::<Vec<_>>()));
    s
}

/// Renders the report: verdict, what to check first, top codes, devices, bursts, timeline,
/// unmatched lines (the order of [`report`]).
pub fn render(summary: &Summary, catalog: &Catalog, lang: Lang) -> String {
    let l: &ReportLabels = report::labels(lang);
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", l.title);
    let [first, second] = report::verdict(summary, lang);
    let _ = writeln!(md, "**{}**", prose(&first));
    if !second.is_empty() {
        let _ = writeln!(md, "{}", prose(&second));
    }
    md.push('\n');
    if let Some(warning) = report::damaged(summary, lang) {
        let _ = writeln!(md, "> **⚠** {}\n", prose(&warning));
    }
    let roots: Vec<String> = summary.root.iter().map(|r| code(r)).collect();
    let _ = writeln!(md, "{}: {}", l.scanned, roots.join(", "));
    if let Some(w) = summary.window {
        let _ = writeln!(md, "\n{}: {} .. {}", l.window, time(w.since), time(w.until));
    }
    md.push('\n');
    check_first(&mut md, summary, catalog, lang);
    top_codes(&mut md, summary, catalog, lang);
    devices(&mut md, summary, catalog, lang);
    bursts(&mut md, summary, catalog, lang);
    timeline(&mut md, summary, l);
    unmatched(&mut md, summary, l);
    md
}

fn check_first(md: &mut String, summary: &Summary, catalog: &Catalog, lang: Lang) {
    let l = report::labels(lang);
    let total = summary.error_count().max(1);
    let _ = writeln!(md, "## {}\n", l.check_first);
    if summary.error_count() == 0 {
        let _ = writeln!(md, "{}\n", prose(&report::nothing_to_check(summary, lang)));
        return;
    }
    for (i, step) in report::steps(summary, catalog, lang)
        .iter()
        .take(report::TOP_STEPS)
        .enumerate()
    {
        let codes: Vec<String> = step.codes.iter().map(u32::to_string).collect();
        let _ = writeln!(
            md,
            "{}. {} ({} {} / {:.0}%: {})",
            i + 1,
            cell(&step.text),
            l.explains,
            step.explained,
            step.explained as f64 * 100.0 / total as f64,
            codes.join(", ")
        );
    }
    md.push('\n');
}

fn top_codes(md: &mut String, summary: &Summary, catalog: &Catalog, lang: Lang) {
    let l = report::labels(lang);
    if summary.error_count() == 0 {
        return;
    }
    let _ = writeln!(md, "## {}\n", l.top_codes);
    md.push_str(&header(&l.code_header));
    for c in summary
        .codes
        .iter()
        .chain(&summary.unknown_codes)
        .take(report::TOP_CODES)
    {
        let info = catalog.get(c.code);
        md.push_str(&row(&[
            c.code.to_string(),
            c.name.clone().unwrap_or_else(|| "?".into()),
            c.count.to_string(),
            c.devices().to_string(),
            cell(info.map_or("", |i| i.hint(lang))),
            cell(info.map_or("", |i| i.cause(lang))),
        ]));
    }
    md.push('\n');
}

fn devices(md: &mut String, summary: &Summary, catalog: &Catalog, lang: Lang) {
    let l = report::labels(lang);
    let _ = writeln!(md, "## {}\n", l.devices);
    md.push_str(&header(&l.device_header));
    for d in &summary.devices {
        let styles: Vec<String> = d
            .prefix_styles
            .iter()
            .map(|s| format!("{s:?}").to_lowercase())
            .collect();
        md.push_str(&row(&[
            code(&d.name),
            time(d.first),
            time(d.last),
            d.files.len().to_string(),
            d.errors.to_string(),
            report::device_bursts(summary, &d.name).to_string(),
            d.gaps.len().to_string(),
            styles.join(" → "),
            d.disconnects.to_string(),
        ]));
    }
    md.push('\n');
    caused(md, summary, catalog, lang);
}

/// The disconnects whose cause the log states, and what to do about each cause.
fn caused(md: &mut String, summary: &Summary, catalog: &Catalog, lang: Lang) {
    let l = report::labels(lang);
    let caused = report::caused_disconnects(summary);
    if caused.is_empty() {
        return;
    }
    let _ = writeln!(md, "{}:\n", l.caused);
    for (device, entry, cause) in caused.iter().take(report::TOP_CAUSED) {
        let _ = writeln!(
            md,
            "- {} {} {}: {}",
            code(device),
            time(entry.time),
            code(&format!("{}:{}", entry.path, entry.line)),
            prose(&report::cause_detail(entry, *cause, lang))
        );
    }
    if caused.len() > report::TOP_CAUSED {
        let _ = writeln!(md, "- (+{})", caused.len() - report::TOP_CAUSED);
    }
    md.push('\n');
    for cause in report::distinct_causes(&caused) {
        let hint = report::cause_hint(cause, catalog, lang);
        let _ = writeln!(md, "{}: {}\n", l.what_to_do, prose(&hint));
    }
}

/// The worst bursts in full, worst first; the others as a table in time order.
fn bursts(md: &mut String, summary: &Summary, catalog: &Catalog, lang: Lang) {
    let l = report::labels(lang);
    let _ = writeln!(md, "## {}\n", l.bursts);
    if summary.bursts.is_empty() {
        let _ = writeln!(md, "{}\n", l.no_bursts);
    }
    for (i, b) in report::full_bursts(summary).into_iter().enumerate() {
        let devices: Vec<String> = b.devices.iter().map(|d| code(d)).collect();
        let _ = writeln!(
            md,
            "### {}. {} .. {} · {} · {}\n",
            i + 1,
            b.start,
            b.end,
            report::label_name(b.label.as_deref(), lang),
            devices.join(", ")
        );
        md.push_str(&header(&l.burst_code_header));
        for (c, n) in report::burst_codes(b) {
            let name = catalog.get(c).map_or("?", |i| i.name.as_str());
            md.push_str(&row(&[c.to_string(), name.to_string(), n.to_string()]));
        }
        md.push('\n');
        if let Some(hint) = report::label_hint(b.label.as_deref(), lang) {
            let _ = writeln!(md, "{}: {hint}\n", l.what_to_do);
        }
        if !b.samples.is_empty() {
            let _ = writeln!(md, "{}:\n", l.lines);
            let lines: Vec<String> = b
                .samples
                .iter()
                .map(|s| {
                    format!(
                        "{}:{}  {}",
                        escape_control(&s.path),
                        s.line,
                        escape_control(&s.text)
                    )
                })
                .collect();
            md.push_str(&fenced(&lines));
            md.push('\n');
        }
    }
    let others = report::other_bursts(summary);
    if !others.is_empty() {
        let _ = writeln!(md, "### {}\n", l.other_bursts);
        md.push_str(&header(&l.burst_header));
        for b in others {
            let devices: Vec<String> = b.devices.iter().map(|d| code(d)).collect();
            md.push_str(&row(&[
                b.start.to_string(),
                b.end.to_string(),
                report::label_name(b.label.as_deref(), lang),
                devices.join(", "),
                b.errors.to_string(),
            ]));
        }
        md.push('\n');
    }
}

fn timeline(md: &mut String, summary: &Summary, l: &ReportLabels) {
    let tl = &summary.timeline;
    if let (Some(start), Some(end)) = (tl.start, tl.end) {
        let max = tl.total.max();
        let _ = writeln!(
            md,
            "## {}\n\n{} .. {}, {} {} (max {max}):\n",
            l.timeline, start, end, l.per_bucket, tl.bucket
        );
        let mut lines: Vec<String> = histogram(&tl.total_per_bucket())
            .into_iter()
            .map(|r| format!("│{r}"))
            .collect();
        lines.push(format!("└{}", "─".repeat(tl.buckets as usize)));
        for c in summary.codes.iter().chain(&summary.unknown_codes).take(5) {
            if let Some(series) = tl.code_per_bucket(c.code) {
                lines.push(format!("{}{:>5}", sparkline(&series), c.code));
            }
        }
        md.push_str(&fenced(&lines));
        md.push('\n');
    }
}

fn unmatched(md: &mut String, summary: &Summary, l: &ReportLabels) {
    let unmatched: Vec<_> = summary
        .unmatched_templates
        .iter()
        .filter(|t| !t.known_noise)
        .take(report::TOP_UNMATCHED)
        .collect();
    if !unmatched.is_empty() {
        let _ = writeln!(md, "## {}\n", l.unmatched);
        md.push_str(&header(&l.unmatched_header));
        for t in unmatched {
            md.push_str(&row(&[
                t.count.to_string(),
                code(&t.template),
                code(&format!("{}:{}", t.first_at.path, t.first_at.line)),
            ]));
        }
        md.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_code_spans_are_inert() {
        assert_eq!(cell("a|b\u{1b}[2J"), "a\\|b\\u{1b}[2J");
        assert_eq!(code("x"), "`x`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("<num>"), "`<num>`");
        assert_eq!(
            prose("<b>x</b> *y* NETWORK_ERROR"),
            "\\<b\\>x\\</b\\> \\*y\\* NETWORK_ERROR"
        );
        let block = fenced(&["```".to_string()]);
        assert!(block.starts_with("````text\n") && block.ends_with("````\n"));
    }
}
