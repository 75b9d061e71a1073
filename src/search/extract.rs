//! Extraction: finds the error codes a chunk of log states, with their lines and entry times.
//!
//! A chunk is a line-aligned slice of one file. One pass of the [`crate::search::kernel::AnchorKernel`] over the
//! rules' anchors finds candidate lines and counts lines; the exact pattern runs only on those
//! lines. Entry times are worked out only for hits. A hit on a continuation line takes the
//! time of the last prefixed line above it; when that line lies in an earlier chunk the hit is
//! marked [`EntryTime::Inherited`] and the scan resolves it when it stitches chunks together.

use std::cell::RefCell;

use memchr::{memchr, memrchr};
use regex::bytes::CaptureLocations;

use crate::search::line;
use crate::search::rules::{AnchorScratch, RuleSet};
use crate::time::{LogTime, Prefix, parse_prefix};

/// Where a hit's entry time comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryTime {
    /// The entry starts in this chunk, at this time.
    At(LogTime),
    /// The entry started before this chunk (or the file has no entry before the hit).
    Inherited,
}

impl EntryTime {
    /// The time, given the one `carried` from the chunks before (`None`: none before).
    pub fn or_carried(self, carried: Option<LogTime>) -> Option<LogTime> {
        match self {
            EntryTime::At(time) => Some(time),
            EntryTime::Inherited => carried,
        }
    }
}

/// One code found in a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawHit {
    /// The code the line states.
    pub code: u32,
    /// Index of the rule (shape) that matched, in the [`RuleSet`].
    pub rule: usize,
    /// 0-based line index within the chunk.
    pub line_in_chunk: u64,
    /// Byte offset of the line's start within the chunk.
    pub line_start: usize,
    /// The time of the entry the line belongs to.
    pub time: EntryTime,
}

/// What extraction found in one chunk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChunkScan {
    /// Number of `\n` bytes in the chunk.
    pub newlines: u64,
    /// The hits, in line order; within a line by where the rules' anchors occur, or by rule
    /// when user rules are given.
    pub hits: Vec<RawHit>,
    /// The first prefixed line of the chunk.
    pub first_entry: Option<Prefix>,
    /// The last prefixed line of the chunk.
    pub last_entry: Option<Prefix>,
}

/// A verified code in a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    line_start: usize,
    rule: usize,
    code: u32,
    line_index: u64,
}

/// A worker's state for checking candidates against one rule set, kept from chunk to chunk:
/// the regex caches cost more to build than a chunk's checks.
struct CheckScratch {
    /// [`RuleSet::id`] of the rules this was built for.
    rules_id: u64,
    /// Per rule, capture slots for line searches.
    slots: Vec<CaptureLocations>,
    /// Per rule, state for anchored checks (rules that match at their anchor).
    anchored: Vec<Option<AnchorScratch>>,
}

impl CheckScratch {
    fn new(rules: &RuleSet) -> CheckScratch {
        CheckScratch {
            rules_id: rules.id(),
            slots: rules
                .rules()
                .iter()
                .map(|r| r.regex.capture_locations())
                .collect(),
            anchored: rules.rules().iter().map(|r| r.anchor_scratch()).collect(),
        }
    }
}

thread_local! {
    /// Each worker's [`CheckScratch`], for the rule set it last worked with.
    static CHECK_SCRATCH: RefCell<Option<CheckScratch>> = const { RefCell::new(None) };
}

/// Finds the verified codes of a chunk, in line order (see [`ChunkScan::hits`]), and counts
/// the chunk's `\n` bytes.
fn find_codes(rules: &RuleSet, chunk: &[u8]) -> (Vec<Found>, u64) {
    CHECK_SCRATCH.with_borrow_mut(|kept| {
        let scratch = match kept {
            Some(scratch) if scratch.rules_id == rules.id() => scratch,
            _ => kept.insert(CheckScratch::new(rules)),
        };
        find_codes_with(rules, chunk, scratch)
    })
}

/// [`find_codes`] with the worker's scratch.
fn find_codes_with(rules: &RuleSet, chunk: &[u8], scratch: &mut CheckScratch) -> (Vec<Found>, u64) {
    let mut found = Vec::new();
    let CheckScratch {
        slots, anchored, ..
    } = scratch;
    // Anchored rules: one kernel pass, then the exact pattern on each candidate line (once
    // per line and rule, however many anchors the line holds).
    let mut checked_line_of_rule = vec![usize::MAX; rules.rules().len()];
    let newlines = rules.kernel().scan(chunk, &mut |hit| {
        let rule = rules.rule_of_anchor(hit.anchor);
        if checked_line_of_rule[rule] == hit.line_start {
            return;
        }
        let end = memchr(b'\n', &chunk[hit.start..]).map_or(chunk.len(), |i| hit.start + i);
        let text = line::trim_cr(&chunk[hit.line_start..end]);
        let code = match &mut anchored[rule] {
            // A match begins at an anchor: try this one. The first that matches decides for
            // the line (it holds the leftmost match), even when its number is no code;
            // without a match here, a later one may still match.
            Some(scratch) => {
                let at = (hit.start - hit.line_start).min(text.len());
                let matched = rules.rules()[rule].code_at_anchor(text, at, scratch);
                if matched.is_some() {
                    checked_line_of_rule[rule] = hit.line_start;
                }
                matched.flatten()
            }
            None => {
                checked_line_of_rule[rule] = hit.line_start;
                rules.rules()[rule].code_in_with(text, &mut slots[rule])
            }
        };
        if let Some(code) = code {
            found.push(Found {
                line_start: hit.line_start,
                rule,
                code,
                line_index: hit.line_index,
            });
        }
    });
    // Unanchored (user) rules: their own regex over the chunk, then the exact line check.
    let anchored_hits = found.len();
    for &rule in rules.unanchored() {
        let search = &rules.rules()[rule].chunk_regex;
        let mut pos = 0;
        while pos <= chunk.len() {
            let Some(m) = search.find_at(chunk, pos) else {
                break;
            };
            let (start, end) = line::bounds(chunk, m.start().min(chunk.len()));
            let text = line::trim_cr(&chunk[start..end]);
            if let Some(code) = rules.rules()[rule].code_in_with(text, &mut slots[rule]) {
                found.push(Found {
                    line_start: start,
                    rule,
                    code,
                    line_index: 0,
                });
            }
            pos = end + 1;
        }
    }
    if found.len() > anchored_hits {
        // User rules come after, without line indexes: count them, then order by line, rule.
        let user = &mut found[anchored_hits..];
        user.sort_unstable();
        let (mut counted_to, mut newlines_before) = (0, 0);
        for f in user {
            newlines_before += line::count_newlines(&chunk[counted_to..f.line_start]);
            counted_to = f.line_start;
            f.line_index = newlines_before;
        }
        found.sort_unstable();
        found.dedup_by_key(|f| (f.line_start, f.rule));
    }
    (found, newlines)
}

/// The first prefixed line of a chunk.
fn first_entry(chunk: &[u8]) -> Option<Prefix> {
    let mut start = 0;
    while start < chunk.len() {
        if let Some(prefix) = parse_prefix(&chunk[start..]) {
            return Some(prefix);
        }
        start = memchr(b'\n', &chunk[start..])? + start + 1;
    }
    None
}

/// The last prefixed line of a chunk.
fn last_entry(chunk: &[u8]) -> Option<Prefix> {
    if chunk.is_empty() {
        return None;
    }
    // The last line starts after the last `\n` that is not the chunk's final byte.
    let body = chunk.strip_suffix(b"\n").unwrap_or(chunk);
    let mut start = memrchr(b'\n', body).map_or(0, |i| i + 1);
    loop {
        if let Some(prefix) = parse_prefix(&chunk[start..]) {
            return Some(prefix);
        }
        if start == 0 {
            return None;
        }
        start = line::previous_line_start(chunk, start);
    }
}

/// Extracts every hit of `rules` in `chunk` (a run of whole lines).
pub fn extract_chunk(rules: &RuleSet, chunk: &[u8]) -> ChunkScan {
    let (found, newlines) = find_codes(rules, chunk);
    let mut hits = Vec::with_capacity(found.len());
    let mut previous: Option<(usize, EntryTime)> = None;
    for f in found {
        let time = line::entry_time_after(chunk, f.line_start, previous);
        previous = Some((f.line_start, time));
        hits.push(RawHit {
            code: f.code,
            rule: f.rule,
            line_in_chunk: f.line_index,
            line_start: f.line_start,
            time,
        });
    }
    ChunkScan {
        newlines,
        hits,
        first_entry: first_entry(chunk),
        last_entry: last_entry(chunk),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> ChunkScan {
        extract_chunk(&RuleSet::builtin(), text.as_bytes())
    }

    fn codes(text: &str) -> Vec<(u32, String)> {
        let rules = RuleSet::builtin();
        extract_chunk(&rules, text.as_bytes())
            .hits
            .iter()
            .map(|h| (h.code, rules.rules()[h.rule].name.clone()))
            .collect()
    }

    #[test]
    fn finds_each_shape_once_per_line() {
        let log = "\
[2024/03/01 08:00:00:001]: SDK_Error: {\"callbackId\":\"17\",\"error\":{\"code\":300,\"desc\":\"x\"}}\r
[2024/03/01 08:00:00:002]: ChatManager_SendMessage failed, code: 500; desc: Message is invalid\r
[2024/03/01 08:00:00:003]: [global listener] onDisconnect206 onDisconnect206\r
[2024/03/01 08:00:00:004]: EMChatManager::sendMessage() error, msgId: 1185, errorCode=3, desc=y\r
[2019/10/24 13:40:43:826]: login return: 0 login return: 0\r
[2019/10/24 13:41:02:113]: login return: 202\r
";
        assert_eq!(
            codes(log),
            [
                (300, "cb_json".into()),
                (500, "code_desc".into()),
                (206, "listener".into()),
                (3, "kv".into()),
                (0, "login_return".into()),
                (202, "login_return".into())
            ]
        );
    }

    #[test]
    fn decoys_are_not_codes() {
        let log = "\
[2017/3/1 16:23:31:631]: [EMARHttpAPI] httpExecute code: 404
[2017/3/1 19:30:28:214]: log: level: 2, area: 1, handleDisconnect:13
[2017/3/1 19:30:28:214]: log: level: 2, area: 2, recv(): recv() failed. errno: 110: Connection timed out
{ verison : MSYNC_V1, command : SYNC, payload : { status : { error_code : 0 }, meta_id : 14883736206090002 } }
[2019/10/14 14:57:33:624]: [EMPushHelper] Retry upload after 301s if failed.
   at Easemob.Client.Login() in C:\\src\\Client.cs:line 502
[2017/3/1 10:1:41:922]: current host: domain: 60.205.131.133 port: 6801
[2024/03/01 08:00:00:404]: EMSessionManager::onDisConnect(): 1
[2019/10/24 13:40:43:826]: login return: 
[2019/10/24 13:40:44:202]: relogin return: 202
[2019/10/24 14:0:27:243]: log: level: 2, area: 1, handleDisconnect:13
[2019/10/24 14:0:27:243]: ConnUserLoginAnotherDevice
";
        assert_eq!(codes(log), []);
    }

    #[test]
    fn continuation_lines_take_their_entry_time() {
        let log = "\
[2024/03/01 08:00:00:001]: write to config file: {
  \"x\": 1,
  SDK_Error: {\"callbackId\":\"1\",\"error\":{\"code\":301,\"desc\":\"x\"}}
}
[2024/03/01 08:00:05:000]: [global listener] onDisconnect2
";
        let s = scan(log);
        assert_eq!(s.hits.len(), 2);
        assert_eq!(s.hits[0].line_in_chunk, 2);
        assert_eq!(
            s.hits[0].time,
            EntryTime::At(LogTime::parse_display("2024-03-01 08:00:00.001").unwrap())
        );
        assert_eq!(s.hits[1].line_in_chunk, 4);
        assert_eq!(s.newlines, 5);
    }

    #[test]
    fn hit_before_any_prefix_inherits() {
        let s = scan("  [smart ping]  onDisconnected ...303\n  more: onDisconnect2\n");
        assert_eq!(s.hits.len(), 2);
        assert!(s.hits.iter().all(|h| h.time == EntryTime::Inherited));
        assert_eq!(s.first_entry, None);
        assert_eq!(s.last_entry, None);
    }

    #[test]
    fn first_and_last_entries() {
        let s = scan("cont\n[2024/03/01 08:00:00:001]: a\n[2024/03/01 08:00:09:001]: b\ncont");
        assert_eq!(
            s.first_entry.unwrap().time.to_string(),
            "2024-03-01 08:00:00.001"
        );
        assert_eq!(
            s.last_entry.unwrap().time.to_string(),
            "2024-03-01 08:00:09.001"
        );
        assert_eq!(s.newlines, 3);
    }

    #[test]
    fn user_rules_run_on_lines_and_respect_line_anchors() {
        let rules = RuleSet::with_user_rules(&["^E(?P<code>\\d+)$".into()]).unwrap();
        let s = extract_chunk(&rules, b"E12\r\nxE13\r\nE14\r\nE15 x\n");
        let got: Vec<(u32, u64)> = s.hits.iter().map(|h| (h.code, h.line_in_chunk)).collect();
        assert_eq!(got, [(12, 0), (14, 2)]);
    }

    #[test]
    fn user_rule_matching_empty_does_not_loop() {
        let rules = RuleSet::with_user_rules(&["(?P<code>\\d*)".into()]).unwrap();
        let s = extract_chunk(&rules, b"a\n\nb7\n");
        assert_eq!(s.hits.len(), 0, "empty captures are not numbers");
    }

    #[test]
    fn a_match_with_no_code_at_the_first_anchor_decides_its_line() {
        // Found by the proptest below: the line regex stops at its leftmost match, whose
        // number is too large for a code; the anchored checks must not go on to the next.
        let line = "onDisconnected ... 10000000000\"error\"onDisconnected ... 0\n";
        assert_eq!(codes(line), []);
        assert_eq!(
            RuleSet::builtin().first_code(line.trim_end().as_bytes()),
            None
        );
    }

    proptest::proptest! {
        /// The kernel plus anchored checks find exactly what each rule's own regex finds on
        /// each line (near misses included: the anchors in other contexts, broken shapes).
        #[test]
        fn chunk_extraction_agrees_with_line_regexes(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("\"error\"".to_string()),
                    proptest::strategy::Just("\"error\":{\"code\":".to_string()),
                    proptest::strategy::Just("\"error\" : \"unauthorized\"".to_string()),
                    proptest::strategy::Just("errorCode=".to_string()),
                    proptest::strategy::Just("xerrorCode = ".to_string()),
                    proptest::strategy::Just("onDisconnected ... ".to_string()),
                    proptest::strategy::Just("onDisconnect".to_string()),
                    proptest::strategy::Just("code: ".to_string()),
                    proptest::strategy::Just("; desc:".to_string()),
                    proptest::strategy::Just("login return: ".to_string()),
                    proptest::strategy::Just("relogin return:".to_string()),
                    proptest::strategy::Just("\n".to_string()),
                    proptest::strategy::Just("\r\n".to_string()),
                    "[0-9]{1,12}",
                    "[ \t:;{}\".=a-z]{0,6}",
                ],
                0..80,
            ),
        ) {
            let text = pieces.concat();
            let rules = RuleSet::builtin();
            let mut got: Vec<(u64, usize, u32)> = extract_chunk(&rules, text.as_bytes())
                .hits
                .iter()
                .map(|h| (h.line_in_chunk, h.rule, h.code))
                .collect();
            // Within a line, hits come by anchor position.
            got.sort_unstable();
            let mut want = Vec::new();
            for (index, line) in text.split('\n').enumerate() {
                let line = line::trim_cr(line.as_bytes());
                for (rule_index, rule) in rules.rules().iter().enumerate() {
                    if let Some(code) = rule.code_in(line) {
                        want.push((index as u64, rule_index, code));
                    }
                }
            }
            proptest::prop_assert_eq!(got, want);
        }
    }
}
