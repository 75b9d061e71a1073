//! Markdown: the scan table for issues, wikis and chat, in the language of `--lang`.

use std::borrow::Cow;
use std::io::{self, Write};

use indicatif::HumanCount;

use crate::Summary;
use crate::catalog::Lang;
use crate::render::cells::{first_at, share, time};
use crate::render::table::{labels, write_footer};
use crate::render::text::{ProblemKind, escape_control, problem_entries};

/// Makes text safe in a Markdown table cell: control characters escaped, and the characters
/// that would end a cell or start markup (`\ | * _ ` [ ] < >`) backslash-escaped.
pub(crate) fn cell(text: &str) -> Cow<'_, str> {
    let text = escape_control(text);
    let special = |c: char| matches!(c, '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>');
    if !text.contains(special) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if special(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

fn row(out: &mut dyn Write, cells: &[String]) -> io::Result<()> {
    writeln!(out, "| {} |", cells.join(" | "))
}

fn header(out: &mut dyn Write, names: &[&str], right: &[usize]) -> io::Result<()> {
    writeln!(out, "| {} |", names.join(" | "))?;
    let rule: Vec<&str> = (0..names.len())
        .map(|i| if right.contains(&i) { "---:" } else { "---" })
        .collect();
    writeln!(out, "| {} |", rule.join(" | "))
}

/// Writes the scan report as Markdown tables, with the same columns and labels as the
/// terminal table (hints in full).
pub(crate) fn write_summary(out: &mut dyn Write, summary: &Summary, lang: Lang) -> io::Result<()> {
    let labels = labels(lang);
    let total = summary.error_count();
    if summary.codes.is_empty() {
        writeln!(out, "{}", labels.no_errors)?;
    } else {
        header(out, &labels.header, &[2, 3, 4])?;
        for code in &summary.codes {
            row(
                out,
                &[
                    code.code.to_string(),
                    cell(code.name.as_deref().unwrap_or_default()).into_owned(),
                    HumanCount(code.count).to_string(),
                    share(code.count, total),
                    code.devices().to_string(),
                    time(code.first),
                    time(code.last),
                    cell(code.hint.as_deref().unwrap_or_default()).into_owned(),
                ],
            )?;
        }
    }
    if !summary.unknown_codes.is_empty() {
        writeln!(out, "\n{}\n", cell(labels.unknown_title))?;
        header(out, &labels.unknown_header, &[1, 2])?;
        for code in &summary.unknown_codes {
            row(
                out,
                &[
                    cell(&super::catalog::unknown_code_cell(code)).into_owned(),
                    HumanCount(code.count).to_string(),
                    code.devices().to_string(),
                    time(code.first),
                    time(code.last),
                    cell(&first_at(code)).into_owned(),
                ],
            )?;
        }
    }
    let success = &summary.success;
    writeln!(
        out,
        "\n{}: {} ({} .. {})\n",
        labels.success,
        HumanCount(success.count),
        time(success.first),
        time(success.last)
    )?;
    for (kind, path, reason) in problem_entries(summary) {
        let label = match kind {
            ProblemKind::Partial => labels.partial,
            ProblemKind::Skipped => labels.skipped,
        };
        writeln!(out, "- {label}: {}: {}", cell(path), cell(reason))?;
    }
    writeln!(out)?;
    write_footer(out, summary, lang, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table_or_add_markup() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell("USER_NOT_LOGIN"), "USER\\_NOT\\_LOGIN");
        assert_eq!(cell("<img src=x>"), "\\<img src=x\\>");
        // The escaped newline's backslash is itself escaped, so Markdown shows `\n`.
        assert_eq!(cell("x\n| y"), "x\\\\n\\| y");
        assert_eq!(cell("用户未登录"), "用户未登录");
    }
}
