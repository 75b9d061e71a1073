//! Line helpers within one chunk: a line's bounds, its entry time and its text.

use memchr::{memchr, memrchr};

use crate::search::extract::EntryTime;
use crate::time::parse_prefix;

/// The most bytes of a line kept as text (examples, samples).
pub(crate) const MAX_TEXT: usize = 400;

/// Counts `\n` bytes.
#[inline]
pub(crate) fn count_newlines(bytes: &[u8]) -> u64 {
    bytecount::count(bytes, b'\n') as u64
}

/// A line without a trailing `\r`.
#[inline]
pub(crate) fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The start of the line before the one starting at `line_start` (which must be > 0).
#[inline]
pub(crate) fn previous_line_start(chunk: &[u8], line_start: usize) -> usize {
    memrchr(b'\n', &chunk[..line_start - 1]).map_or(0, |i| i + 1)
}

/// The line around byte `pos`, without its terminator: `(start, end)`.
#[inline]
pub(crate) fn bounds(chunk: &[u8], pos: usize) -> (usize, usize) {
    let pos = pos.min(chunk.len());
    let start = memrchr(b'\n', &chunk[..pos]).map_or(0, |i| i + 1);
    let end = memchr(b'\n', &chunk[pos..]).map_or(chunk.len(), |i| pos + i);
    (start, end)
}

/// The entry time of the line starting at `line_start`: its own prefix, or the last prefixed
/// line above it in the chunk; [`EntryTime::Inherited`] when there is none in the chunk. For
/// lines visited in order, `known` is an earlier line's start and entry time, so the walk up
/// stops there (no line is walked over twice, however many
/// continuation lines a chunk holds).
pub(crate) fn entry_time_after(
    chunk: &[u8],
    line_start: usize,
    known: Option<(usize, EntryTime)>,
) -> EntryTime {
    let mut start = line_start.min(chunk.len());
    loop {
        if let Some((known_start, known_time)) = known
            && start == known_start
        {
            return known_time;
        }
        if let Some(prefix) = parse_prefix(&chunk[start..]) {
            return EntryTime::At(prefix.time);
        }
        if start == 0 {
            return EntryTime::Inherited;
        }
        start = previous_line_start(chunk, start);
    }
}

/// `bytes` as text, invalid UTF-8 replaced by U+FFFD. Valid text (nearly every log line) is
/// checked by `str::from_utf8`, which takes ASCII a word at a time; the lossy decoder goes
/// byte by byte.
pub(crate) fn lossy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The whole line of `bytes` that starts at `start`, without `\n` or `\r\n`, as text.
pub(crate) fn line_at(bytes: &[u8], start: usize) -> String {
    let rest = bytes.get(start..).unwrap_or_default();
    let line = memchr(b'\n', rest).map_or(rest, |end| &rest[..end]);
    lossy(trim_cr(line))
}

/// The text of a line, lossily decoded, without `\r`, cut at [`MAX_TEXT`] bytes (on a
/// character boundary, with `…`).
pub(crate) fn text(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let cut = &line[..line.len().min(MAX_TEXT)];
    let mut text = lossy(cut);
    if cut.len() < line.len() {
        // A cut through a multi-byte character shows as U+FFFD: drop it.
        while text.ends_with('\u{FFFD}') {
            text.pop();
        }
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_entry_time_and_text() {
        let chunk = b"cont\n[2024/03/01 08:00:00:001]: a\r\n  more\n";
        assert_eq!(bounds(chunk, 0), (0, 4));
        assert_eq!(bounds(chunk, 40), (35, 41));
        assert_eq!(entry_time_after(chunk, 0, None), EntryTime::Inherited);
        match entry_time_after(chunk, 35, None) {
            EntryTime::At(t) => assert_eq!(t.to_string(), "2024-03-01 08:00:00.001"),
            EntryTime::Inherited => panic!("the prefixed line above gives the time"),
        }
        assert_eq!(text(b"abc\r"), "abc");
        let known = entry_time_after(chunk, 35, None);
        assert_eq!(entry_time_after(chunk, 35, Some((5, known))), known);
        assert_eq!(entry_time_after(chunk, 0, None), EntryTime::Inherited);
        let long = "好".repeat(300);
        let cut = text(long.as_bytes());
        assert!(cut.ends_with('…') && !cut.contains('\u{FFFD}'));
    }

    proptest::proptest! {
        /// The fast path for valid text decodes every input as the lossy decoder does.
        #[test]
        fn lossy_equals_the_lossy_decoder(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            text in ".{0,16}",
        ) {
            proptest::prop_assert_eq!(lossy(&bytes), String::from_utf8_lossy(&bytes));
            proptest::prop_assert_eq!(lossy(text.as_bytes()), text);
        }
    }
}
