//! Making untrusted text (paths, log text) inert: the one escaping every message and output
//! uses before it shows such text. Output formats add their own quoting on top (CSV, XML,
//! HTML, Prometheus labels).

use std::borrow::Cow;

/// Whether `c` must not reach a terminal or a document as itself: control characters (ANSI
/// escapes, OSC sequences, carriage returns, newlines, C1 controls), the bidirectional
/// embedding, override and isolate controls that reorder what a terminal shows, and Unicode
/// noncharacters (`U+FFFE`, `U+FFFF`, …), which XML 1.0 forbids.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{FDD0}'..='\u{FDEF}')
        || (u32::from(c) & 0xFFFE) == 0xFFFE
}

/// Escapes the characters of [`is_unsafe`] as Rust escapes (`\u{1b}`, `\n`, `\u{fffe}`), so
/// that log text or file names cannot act on a terminal or break a document. Printable text,
/// Chinese included, is kept as is.
pub(crate) fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn bidi_controls_cannot_reorder_a_name() {
        assert_eq!(
            escape_control("invoice\u{202E}gol.exe"),
            "invoice\\u{202e}gol.exe"
        );
        assert_eq!(escape_control("a\u{2066}b\u{2069}"), "a\\u{2066}b\\u{2069}");
    }

    #[test]
    fn noncharacters_that_xml_forbids_are_escaped() {
        assert_eq!(escape_control("a\u{FFFE}b\u{FFFF}"), "a\\u{fffe}b\\u{ffff}");
        assert_eq!(escape_control("\u{FDD0}\u{10FFFF}"), "\\u{fdd0}\\u{10ffff}");
        assert_eq!(escape_control("\u{FFFD}\u{E000}"), "\u{FFFD}\u{E000}");
    }
}
