//! Making untrusted text safe to print.

use std::borrow::Cow;

use crate::Summary;
pub(crate) use crate::escape::escape_control;

/// Escapes text for HTML element content and quoted attribute values (`& < > " '`).
/// Every log-derived string in an HTML report goes through this.
pub(crate) fn html(text: &str) -> Cow<'_, str> {
    html_escape::encode_quoted_attribute(text)
}

/// Makes a CSV cell inert: control characters escaped ([`escape_control`]), and a cell that a
/// spreadsheet would run as a formula (starting with `=`, `+`, `-` or `@`) prefixed with `'`.
/// Quoting is the CSV writer's job.
pub(crate) fn csv_cell(text: &str) -> Cow<'_, str> {
    let text = escape_control(text);
    if text.starts_with(['=', '+', '-', '@']) {
        Cow::Owned(format!("'{text}"))
    } else {
        text
    }
}

/// Whether a problem entry is a partly read file or a skipped path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProblemKind {
    /// Read, but only in part (the file carries a warning).
    Partial,
    /// Not read at all.
    Skipped,
}

/// Every file that was only partly read, then every skipped path: `(kind, path, reason)`,
/// unescaped (each output escapes for its medium).
pub(crate) fn problem_entries(
    summary: &Summary,
) -> impl Iterator<Item = (ProblemKind, &str, &str)> {
    let partial = summary
        .files
        .iter()
        .filter_map(|f| Some((ProblemKind::Partial, f.path.as_str(), f.warning.as_deref()?)));
    let skipped = summary
        .skipped
        .iter()
        .map(|s| (ProblemKind::Skipped, s.path.as_str(), s.reason.as_str()));
    partial.chain(skipped)
}

/// One line per file that was skipped or only partly read, `path: reason`, escaped for a
/// terminal.
pub(crate) fn problems(summary: &Summary) -> Vec<String> {
    problem_entries(summary)
        .map(|(_, path, reason)| format!("{}: {}", escape_control(path), escape_control(reason)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;y&#x27;"
        );
        assert_eq!(html("用户未登录"), "用户未登录");
    }

    #[test]
    fn csv_cells_carry_no_raw_escape() {
        assert_eq!(
            csv_cell("PC\u{1b}[31m-1/easemob.log"),
            "PC\\u{1b}[31m-1/easemob.log"
        );
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_made_inert() {
        for bad in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)"] {
            assert_eq!(csv_cell(bad), format!("'{bad}"));
        }
        // A leading tab or carriage return is escaped, so it cannot start a formula either.
        assert_eq!(csv_cell("\tx"), "\\tx");
        assert_eq!(csv_cell("\r=1"), "\\r=1");
        assert_eq!(csv_cell("USER_NOT_LOGIN"), "USER_NOT_LOGIN");
        assert_eq!(csv_cell("202"), "202");
    }
}
