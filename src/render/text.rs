//! Making untrusted text safe to print.

use std::borrow::Cow;

use crate::Summary;

/// Escapes control characters (ANSI escapes, OSC sequences, carriage returns, …) so that log
/// text or file names printed on a terminal cannot act on it. Printable text, Chinese
/// included, is kept as is.
pub(crate) fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Escapes text for HTML element content and quoted attribute values (`& < > " '`).
/// Every log-derived string in an HTML report goes through this.
pub(crate) fn html(text: &str) -> Cow<'_, str> {
    html_escape::encode_quoted_attribute(text)
}

/// Guards a CSV cell against formula injection: a cell that a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`.
/// Quoting is the CSV writer's job; this only makes the content inert.
pub(crate) fn csv_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
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
    fn csv_cells_that_look_like_formulas_are_made_inert() {
        for bad in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx"] {
            assert_eq!(csv_cell(bad), format!("'{bad}"));
        }
        assert_eq!(csv_cell("USER_NOT_LOGIN"), "USER_NOT_LOGIN");
        assert_eq!(csv_cell("202"), "202");
    }

    #[test]
    fn escapes_terminal_controls_but_keeps_chinese() {
        assert_eq!(escape_control("用户未登录"), "用户未登录");
        assert_eq!(
            escape_control("a\u{1b}[31mred\u{7}"),
            "a\\u{1b}[31mred\\u{7}"
        );
        assert_eq!(
            escape_control("\u{1b}]8;;http://x\u{1b}\\"),
            "\\u{1b}]8;;http://x\\u{1b}\\"
        );
        assert_eq!(escape_control("a\rb\n"), "a\\rb\\n");
        assert_eq!(escape_control("\u{9b}31m"), "\\u{9b}31m");
    }
}
