//! Error lines no rule understands: lines that look like failures (`SDK_Error:`, `failed`,
//! `error`, `level: 2`, exceptions) but where no extraction rule found a code, grouped by
//! message template (numbers, ids and quoted strings masked, as lnav's `log_msg_format` does).
//!
//! Only lines a cheap prefilter selects (one case-insensitive Aho-Corasick pass over the
//! failure words) get any per-line work.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::model::{Location, UnmatchedTemplate};
use crate::search::extract::EntryTime;
use crate::search::line;
use crate::search::line::count_newlines;
use crate::time::{LogTime, parse_prefix};

/// The words that make a line look like a failure (matched ignoring ASCII case).
pub(crate) const FAILURE_WORDS: [&str; 5] =
    ["sdk_error", "failed", "error", "level: 2", "exception"];

/// Substrings of lines known not to state SDK codes (decoys: HTTP statuses, REST error
/// bodies, `handleDisconnect:N`, errno, MSYNC `error_code : 0`, …): such templates are
/// reported with `known_noise: true`.
pub(crate) const KNOWN_NOISE: [&str; 18] = [
    "httpExecute code:",
    "getDnsListFromServer code:",
    "handleDisconnect:",
    "errno:",
    "error_code :",
    "Retry upload after",
    ":line ",
    "onDisConnect():",
    "HTTP/1.",
    "status code",
    "(404)",
    "\"error\" : \"",
    "\"error\":\"",
    "\"exception\" : \"",
    "\"exception\":\"",
    "远程服务器返回错误",
    "The remote server returned an error",
    "\"error_description\"",
];

/// The most bytes of a line kept in a template.
const TEMPLATE_MAX: usize = 240;

fn prefilter() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(FAILURE_WORDS)
            .expect("the fixed failure words compile")
    })
}

/// One template's occurrences within a chunk or a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Group {
    /// Occurrences.
    pub(crate) count: u64,
    /// 0-based line of the first occurrence within the chunk (1-based within the file once
    /// stitched).
    pub(crate) line: u64,
    /// The first occurrence's text.
    pub(crate) example: String,
    /// Earliest and latest time among occurrences with a time of their own in the chunk.
    pub(crate) min: Option<LogTime>,
    /// See `min`.
    pub(crate) max: Option<LogTime>,
    /// Some occurrence takes its time from an entry above the chunk.
    pub(crate) inherited: bool,
    /// The line is a known decoy.
    pub(crate) known_noise: bool,
}

/// The masked template of a line's message (its prefix removed).
pub(crate) fn template(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let body = match parse_prefix(line) {
        Some(prefix) => &line[prefix.len.min(line.len())..],
        None => line,
    };
    let text = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(text.len().min(TEMPLATE_MAX) + 8);
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if out.len() >= TEMPLATE_MAX {
            out.push('…');
            break;
        }
        if c == '"' {
            // A quoted string: masked whole, unless it is a short identifier (a JSON key or
            // an enum-like value such as "error" or "service_resource_not_found").
            let mut quoted = String::new();
            let mut closed = false;
            for d in chars.by_ref() {
                if d == '"' {
                    closed = true;
                    break;
                }
                quoted.push(d);
            }
            let identifier = (1..=40).contains(&quoted.len())
                && quoted.chars().all(|q| q.is_ascii_alphabetic() || q == '_');
            if closed && identifier {
                out.push('"');
                out.push_str(&quoted);
                out.push('"');
            } else {
                out.push_str(if closed { "\"<str>\"" } else { "\"<str>" });
            }
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let mut word = String::from(c);
            while let Some(&d) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    word.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push_str(&mask_word(&word));
        } else if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// Masks one word: long ids and hex numbers whole, digit runs inside words as `<num>`.
fn mask_word(word: &str) -> String {
    let digits = word.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0 {
        return word.to_string();
    }
    if word.len() >= 12 && digits * 3 >= word.len() {
        return "<id>".to_string();
    }
    if word.starts_with("0x") && word.len() > 2 {
        return "<hex>".to_string();
    }
    let mut out = String::new();
    let mut in_digits = false;
    for c in word.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push_str("<num>");
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// Whether a line is a known decoy.
fn is_known_noise(line: &[u8]) -> bool {
    KNOWN_NOISE
        .iter()
        .any(|k| memchr::memmem::find(line, k.as_bytes()).is_some())
}

/// Groups the failure-looking lines of a chunk that hold no hit. `hit_lines` are the start
/// offsets of the lines with a hit, ascending.
pub(crate) fn collect_chunk(chunk: &[u8], hit_lines: &[usize]) -> BTreeMap<String, Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut line_end = 0;
    let (mut counted_to, mut newlines) = (0, 0);
    let mut known: Option<(usize, EntryTime)> = None;
    for m in prefilter().find_iter(chunk) {
        if m.start() < line_end {
            continue;
        }
        let (start, end) = line::bounds(chunk, m.start());
        line_end = end + 1;
        if hit_lines.binary_search(&start).is_ok() {
            continue;
        }
        newlines += count_newlines(&chunk[counted_to..start]);
        counted_to = start;
        let line = &chunk[start..end];
        let time = line::entry_time_after(chunk, start, known);
        known = Some((start, time));
        let key = template(line);
        let group = groups.entry(key).or_insert_with(|| Group {
            count: 0,
            line: newlines,
            example: line::text(line),
            min: None,
            max: None,
            inherited: false,
            known_noise: is_known_noise(line),
        });
        group.count += 1;
        match time {
            EntryTime::At(t) => {
                group.min = Some(group.min.map_or(t, |m| m.min(t)));
                group.max = Some(group.max.map_or(t, |m| m.max(t)));
            }
            EntryTime::Inherited => group.inherited = true,
        }
    }
    groups
}

/// Adds a chunk's groups to those of its file (`into`): lines moved down by the `line_base`
/// lines before the chunk, and occurrences before the chunk's first entry timed by the entry
/// `carried` from the chunks before.
pub(crate) fn add_chunk(
    into: &mut BTreeMap<String, Group>,
    chunk: BTreeMap<String, Group>,
    line_base: u64,
    carried: Option<LogTime>,
) {
    let placed = chunk
        .into_iter()
        .map(|(key, mut group)| {
            group.line += line_base + 1;
            if group.inherited {
                if let Some(c) = carried {
                    group.min = Some(group.min.map_or(c, |m| m.min(c)));
                    group.max = Some(group.max.map_or(c, |m| m.max(c)));
                }
                group.inherited = false;
            }
            (key, group)
        })
        .collect();
    merge(into, placed);
}

/// Adds a later chunk's (or file's) groups to `into`; the first occurrence stays the example.
pub(crate) fn merge(into: &mut BTreeMap<String, Group>, from: BTreeMap<String, Group>) {
    for (key, group) in from {
        match into.get_mut(&key) {
            Some(have) => {
                have.count += group.count;
                have.min = min_opt(have.min, group.min);
                have.max = max_opt(have.max, group.max);
                have.inherited |= group.inherited;
            }
            None => {
                into.insert(key, group);
            }
        }
    }
}

fn min_opt(a: Option<LogTime>, b: Option<LogTime>) -> Option<LogTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<LogTime>, b: Option<LogTime>) -> Option<LogTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
/// Adds one file's groups to the scan-wide templates.
pub(crate) fn add_file(
    all: &mut BTreeMap<String, UnmatchedTemplate>,
    path: &str,
    device: &str,
    groups: &BTreeMap<String, Group>,
) {
    for (key, g) in groups {
        let entry = all.entry(key.clone()).or_insert_with(|| UnmatchedTemplate {
            template: key.clone(),
            count: 0,
            first: None,
            last: None,
            first_at: Location {
                path: path.to_string(),
                line: g.line,
            },
            example: g.example.clone(),
            per_device: BTreeMap::new(),
            known_noise: g.known_noise,
        });
        entry.count += g.count;
        if g.min.is_some_and(|m| entry.first.is_none_or(|f| m < f)) {
            entry.first_at = Location {
                path: path.to_string(),
                line: g.line,
            };
            entry.example = g.example.clone();
        }
        entry.first = min_opt(entry.first, g.min);
        entry.last = max_opt(entry.last, g.max);
        *entry.per_device.entry(device.to_string()).or_default() += g.count;
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_mask_numbers_ids_and_strings() {
        assert_eq!(
            template(b"[2024/03/01 08:00:00:001]: upload failed, size: 1024, id: 1185433221234567, file \"C:\\a b.png\"\r"),
            "upload failed, size: <num>, id: <id>, file \"<str>\""
        );
        assert_eq!(template(b"handleDisconnect:13"), "handleDisconnect:<num>");
        assert_eq!(
            template(br#"  "error" : "service_resource_not_found", "id": "a1b2""#),
            r#""error" : "service_resource_not_found", "id": "<str>""#
        );
        assert_eq!(template(b"ptr 0x7ffe12 error"), "ptr <hex> error");
    }

    #[test]
    fn groups_failure_lines_without_hits_and_marks_noise() {
        let chunk = b"[2024/03/01 08:00:00:001]: Foo failed, reason 7\n\
[2024/03/01 08:00:01:001]: Foo failed, reason 8\n\
[2024/03/01 08:00:02:001]: X failed, code: 300; desc: y\n\
[2024/03/01 08:00:03:001]: [EMARHttpAPI] httpExecute code: 404 error\n\
[2024/03/01 08:00:04:001]: all good\n";
        // The third line holds a hit.
        let hit_line = chunk
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(1)
            .map(|(i, _)| i + 1)
            .unwrap();
        let groups = collect_chunk(chunk, &[hit_line]);
        assert_eq!(groups.len(), 2, "{groups:?}");
        let foo = &groups["Foo failed, reason <num>"];
        assert_eq!((foo.count, foo.line, foo.known_noise), (2, 0, false));
        assert_eq!(foo.max.unwrap().to_string(), "2024-03-01 08:00:01.001");
        let http = groups.values().find(|g| g.known_noise).unwrap();
        assert_eq!(http.line, 3);
    }
}
