//! Fitting text to a width in terminal columns: display width (CJK characters take two
//! columns), truncation and wrapping that never cut a character, and tables whose columns are
//! dropped, wrapped or truncated until every line fits.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::object::{Columns, Rows};
use tabled::settings::{Alignment, Color, Style};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The columns a line takes on a terminal (escape control characters first).
pub(crate) fn width(text: &str) -> usize {
    text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0)
}

/// `text` cut to at most `max` columns, ending in `…` when cut; never cuts a character.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if UnicodeWidthStr::width(text) <= max {
        return text.to_string();
    }
    let room = max.saturating_sub(1);
    let mut used = 0;
    let mut out = String::new();
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// `text` broken into lines of at most `max` columns: at spaces where a word fits, anywhere
/// else (Chinese has no spaces, paths are long). Leading spaces of a continuation are dropped.
pub(crate) fn wrap(text: &str, max: usize) -> Vec<String> {
    wrap_hanging(text, max, max)
}

/// [`wrap`] with a first line of at most `first` columns and the others of at most `rest`.
fn wrap_hanging(text: &str, first: usize, rest: usize) -> Vec<String> {
    let (first, rest) = (first.max(2), rest.max(2));
    let mut lines: Vec<String> = Vec::new();
    let room = |lines: &Vec<String>| if lines.is_empty() { first } else { rest };
    for para in text.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in split_keeping_spaces(para) {
            let w = UnicodeWidthStr::width(word);
            let max = room(&lines);
            if used + w <= max {
                line.push_str(word);
                used += w;
                continue;
            }
            if word.trim().is_empty() {
                // A space at the end of a full line: break here instead.
                lines.push(std::mem::take(&mut line).trim_end().to_string());
                used = 0;
                continue;
            }
            if w <= rest && used > 0 {
                lines.push(std::mem::take(&mut line).trim_end().to_string());
                line.push_str(word);
                used = w;
                continue;
            }
            // A word longer than the room: cut it by characters.
            for c in word.chars() {
                let cw = c.width().unwrap_or(0);
                if used + cw > room(&lines) && used > 0 {
                    lines.push(std::mem::take(&mut line).trim_end().to_string());
                    used = 0;
                }
                line.push(c);
                used += cw;
            }
        }
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// Runs of non-spaces and runs of spaces, in order. A wide (CJK) character is a run of its
/// own, so that Chinese breaks between any two characters (but not before closing
/// punctuation); a run also ends after `_`, `/`
/// and `\\`, so that names and paths break at their joints.
fn split_keeping_spaces(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut prev: Option<(bool, bool, bool)> = None;
    for (i, c) in text.char_indices() {
        let space = c == ' ';
        let wide = c.width().unwrap_or(0) > 1;
        // Closing punctuation stays with the character before it (no line starts with it).
        let closing = matches!(
            c,
            '，' | '。' | '、' | '；' | '：' | '）' | '」' | '』' | '》' | '】' | '！' | '？'
        );
        if let Some((prev_space, prev_wide, prev_joint)) = prev
            && (prev_space != space || wide || prev_wide || prev_joint)
            && (!closing || prev_space)
        {
            parts.push(&text[start..i]);
            start = i;
        }
        prev = Some((space, wide, matches!(c, '_' | '/' | '\\')));
    }
    if start < text.len() {
        parts.push(&text[start..]);
    }
    parts
}

/// Writes `text` wrapped to `limit` columns (as is without a limit); continuation lines start
/// with `indent` spaces.
pub(crate) fn write_wrapped(
    out: &mut dyn Write,
    text: &str,
    limit: Option<usize>,
    indent: usize,
) -> io::Result<()> {
    let Some(limit) = limit else {
        return writeln!(out, "{text}");
    };
    let pad = indent.min(limit / 2);
    for (i, line) in wrap_hanging(text, limit, limit - pad).iter().enumerate() {
        let pad = if i == 0 { 0 } else { pad };
        writeln!(out, "{:pad$}{line}", "")?;
    }
    Ok(())
}

/// What a column may do when the table is too wide.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column {
    /// The widest it gets even without a limit; longer cells are cut with `…`.
    pub(crate) cap: usize,
    /// The narrowest it is made before columns are dropped.
    pub(crate) min: usize,
    /// Under a limit, long cells are wrapped onto more lines (else cut with `…`).
    pub(crate) wrap: bool,
    /// The order in which columns are dropped when the table cannot fit: lowest first; `None`
    /// is never dropped.
    pub(crate) drop_rank: Option<u8>,
    /// Right-aligned (numbers).
    pub(crate) right: bool,
}

impl Column {
    /// A column of short text, never narrowed before every droppable column is gone, and
    /// never dropped.
    pub(crate) const KEEP: Column = Column {
        cap: usize::MAX,
        min: usize::MAX,
        wrap: true,
        drop_rank: None,
        right: false,
    };

    /// A column dropped at `rank` when the table cannot fit.
    pub(crate) const fn droppable(rank: u8) -> Column {
        Column {
            drop_rank: Some(rank),
            ..Column::KEEP
        }
    }

    /// Right-aligned.
    pub(crate) const fn right(self) -> Column {
        Column {
            right: true,
            ..self
        }
    }

    /// Cut at `cap` columns without a limit, wrapped (or cut, unless `wrap`) under one.
    pub(crate) const fn cap(self, cap: usize, min: usize, wrap: bool) -> Column {
        Column {
            cap,
            min,
            wrap,
            ..self
        }
    }
}

/// The columns a sharp-style table adds around `n` columns of content: a border on each side
/// of each column and one space of padding each side.
fn frame(n: usize) -> usize {
    n * 3 + 1
}

/// Writes a table of `header` and `rows` (cells already escaped) that fits in `limit`
/// columns: columns are narrowed (widest first, not below their `min`), then dropped by rank,
/// then narrowed further; long cells are wrapped or cut. Without a limit, only the caps apply.
pub(crate) fn write_table(
    out: &mut dyn Write,
    header: &[&str],
    rows: &[Vec<String>],
    columns: &[Column],
    limit: Option<usize>,
    bold_header: bool,
) -> io::Result<()> {
    let n = header.len();
    let natural: Vec<usize> = (0..n)
        .map(|i| {
            let cells = rows.iter().map(|r| width(&r[i]));
            cells
                .chain([width(header[i])])
                .max()
                .unwrap_or(0)
                .min(columns[i].cap)
        })
        .collect();
    let mut keep: Vec<usize> = (0..n).collect();
    let mut widths = natural.clone();
    if let Some(limit) = limit {
        let floor = |i: usize| columns[i].min.min(natural[i]);
        // Drop columns while even their minimum widths do not fit.
        loop {
            let need: usize = frame(keep.len()) + keep.iter().map(|&i| floor(i)).sum::<usize>();
            if need <= limit {
                break;
            }
            let next = keep
                .iter()
                .enumerate()
                .filter_map(|(k, &i)| Some((columns[i].drop_rank?, k)))
                .min();
            match next {
                Some((_, k)) => {
                    keep.remove(k);
                }
                None => break,
            }
        }
        // Narrow the widest column until the table fits: first down to the minimums, then
        // (when nothing is left to drop) down to two columns, room for one wide character.
        for lowest in [None, Some(2)] {
            loop {
                let total: usize =
                    frame(keep.len()) + keep.iter().map(|&i| widths[i]).sum::<usize>();
                if total <= limit {
                    break;
                }
                let bottom = |i: usize| lowest.unwrap_or_else(|| floor(i));
                let widest = keep
                    .iter()
                    .copied()
                    .filter(|&i| widths[i] > bottom(i))
                    .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
                match widest {
                    Some(i) => widths[i] -= 1,
                    None => break,
                }
            }
        }
    }
    let fit_cell = |i: usize, text: &str| -> String {
        let w = widths[i];
        if width(text) <= w {
            text.to_string()
        } else if limit.is_some() && columns[i].wrap {
            wrap(text, w).join("\n")
        } else {
            text.lines()
                .map(|l| truncate(l, w))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    let mut builder = Builder::default();
    builder.push_record(keep.iter().map(|&i| fit_cell(i, header[i])));
    for row in rows {
        builder.push_record(keep.iter().map(|&i| fit_cell(i, &row[i])));
    }
    let mut table = builder.build();
    table.with(Style::sharp());
    for (k, &i) in keep.iter().enumerate() {
        if columns[i].right {
            table.modify(Columns::new(k..k + 1), Alignment::right());
        }
    }
    if bold_header {
        table.modify(Rows::first(), Color::BOLD);
    }
    writeln!(out, "{table}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncating_chinese_never_cuts_a_character() {
        let text = "检查本机网络、代理和防火墙设置";
        for max in 1..=30 {
            let cut = truncate(text, max);
            assert!(width(&cut) <= max, "{max}: {cut}");
            assert!(!cut.contains('\u{fffd}'));
        }
        assert_eq!(truncate(text, 9), "检查本机…");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 3), "abc");
    }

    #[test]
    fn wrapping_keeps_words_and_breaks_chinese_anywhere() {
        assert_eq!(
            wrap("check the network now", 10),
            ["check the", "network", "now"]
        );
        assert_eq!(wrap("检查本机网络", 5), ["检查", "本机", "网络"]);
        assert_eq!(
            wrap("averyveryverylongword", 8),
            ["averyver", "yverylon", "gword"]
        );
        assert_eq!(
            wrap("USER_AUTHENTICATION_FAILED", 16),
            ["USER_", "AUTHENTICATION_", "FAILED"]
        );
        assert_eq!(
            wrap("PC-A/sdkdata/easemob.log:3", 14),
            ["PC-A/sdkdata/", "easemob.log:3"]
        );
        for line in wrap("等 Login 回调 onSuccess 后（或检查 IsLoggedIn）再发消息", 7)
        {
            assert!(width(&line) <= 7, "{line}");
        }
        assert_eq!(wrap("补充）：好", 6), ["补", "充）：", "好"]);
        // Tiny widths still end, with every character kept.
        for max in 0..4 {
            assert_eq!(wrap("检查ab c", max).concat().replace(' ', ""), "检查abc");
        }
    }

    #[test]
    fn wrapped_prose_indents_continuations_without_adding_spaces_to_chinese() {
        let mut out = Vec::new();
        let text = "  处理建议: 检查本机网络、代理和防火墙设置。SDK 会自动重连，待 OnConnected 回调再次触发后重试";
        write_wrapped(&mut out, text, Some(20), 4).unwrap();
        let out = String::from_utf8(out).unwrap();
        for (i, line) in out.lines().enumerate() {
            assert!(width(line) <= 20, "{line}");
            if i > 0 {
                assert!(
                    line.starts_with("    ") && !line.starts_with("     "),
                    "{out}"
                );
            }
        }
        // Nothing lost, nothing added inside the Chinese.
        let joined: String = out.lines().map(str::trim).collect();
        assert_eq!(joined.replace(' ', ""), text.replace(' ', ""));
        assert!(!out.contains("检 查"), "{out}");
    }

    #[test]
    fn tables_fit_their_limit_by_dropping_and_wrapping() {
        let header = ["code", "name", "when", "hint"];
        let rows = vec![vec![
            "2".to_string(),
            "NETWORK_ERROR".to_string(),
            "2024-05-06 09:08:05.907".to_string(),
            "检查本机网络、代理和防火墙设置。SDK 会自动重连".to_string(),
        ]];
        let columns = [
            Column::KEEP,
            Column::KEEP,
            Column::droppable(0),
            Column::KEEP.cap(60, 12, true),
        ];
        for limit in [30, 40, 60, 80] {
            let mut out = Vec::new();
            write_table(&mut out, &header, &rows, &columns, Some(limit), false).unwrap();
            let text = String::from_utf8(out).unwrap();
            for line in text.lines() {
                assert!(width(line) <= limit, "{limit}: {line}\n{text}");
            }
            assert_eq!(text.contains("when"), limit >= 80, "{text}");
        }
    }
}
