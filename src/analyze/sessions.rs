//! Device sessions: per chunk, the connection events a log states besides error codes
//! (`handleDisconnect:N` reasons, the desktop C++ core's `ConnUserLoginAnotherDevice`,
//! `onConnected`); per file, the causes linked to their reasons; per device, the time span,
//! rotated segments in order, gaps between them, prefix generations and the
//! disconnect/reconnect story.

use std::collections::BTreeMap;

use memchr::memmem;
use rayon::prelude::*;

use crate::model::device::{CAUSE_REPORTED_WITHIN_SECONDS, GAP_SECONDS, REASONS_MAX, STORY_MAX};
use crate::model::{DeviceSummary, DisconnectCause, FileSummary, Gap, StoryEntry, StoryEvent};
use crate::search::extract::EntryTime;
use crate::search::line::count_newlines;
use crate::time::{LogTime, parse_prefix};

/// A connection event that is not an error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// `handleDisconnect:N`: the SDK's internal disconnect reason N.
    HandleDisconnect(u32),
    /// An entry line stating `ConnUserLoginAnotherDevice`: the desktop C++ core was kicked
    /// because the account logged in on another device.
    LoginAnotherDevice,
    /// `[global listener] onConnected`.
    Connected,
}

/// An event found in a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawEvent {
    /// 0-based line index within the chunk.
    pub(crate) line_in_chunk: u64,
    /// The entry time of the line.
    pub(crate) time: EntryTime,
    /// What happened.
    pub(crate) kind: EventKind,
}

const HANDLE: &[u8] = b"handleDisconnect:";
const LOGIN_ANOTHER_DEVICE: &[u8] = b"ConnUserLoginAnotherDevice";
const CONNECTED: &[u8] = b"onConnected";

/// Finds the connection events of one chunk, in line order.
pub(crate) fn collect_chunk(chunk: &[u8]) -> Vec<RawEvent> {
    let mut found: Vec<(usize, EventKind)> = Vec::new();
    for pos in memmem::find_iter(chunk, HANDLE) {
        let digits = &chunk[pos + HANDLE.len()..];
        let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        let reason = std::str::from_utf8(&digits[..n.min(9)])
            .ok()
            .and_then(|s| s.parse().ok());
        if let Some(reason) = reason {
            found.push((pos, EventKind::HandleDisconnect(reason)));
        }
    }
    for pos in memmem::find_iter(chunk, LOGIN_ANOTHER_DEVICE) {
        // Only an entry line: the kick is logged as an entry of its own.
        let (start, _) = crate::search::line::bounds(chunk, pos);
        if parse_prefix(&chunk[start..]).is_some() {
            found.push((pos, EventKind::LoginAnotherDevice));
        }
    }
    for pos in memmem::find_iter(chunk, CONNECTED) {
        found.push((pos, EventKind::Connected));
    }
    found.sort_by_key(|(pos, _)| *pos);
    let mut events = Vec::with_capacity(found.len());
    let (mut counted_to, mut newlines) = (0, 0);
    let mut known: Option<(usize, EntryTime)> = None;
    for (pos, kind) in found {
        let (start, _) = crate::search::line::bounds(chunk, pos);
        newlines += count_newlines(&chunk[counted_to..start.max(counted_to)]);
        counted_to = counted_to.max(start);
        let time = crate::search::line::entry_time_after(chunk, start, known);
        known = Some((start, time));
        events.push(RawEvent {
            line_in_chunk: newlines,
            time,
            kind,
        });
    }
    events
}

/// One step of a file's connection story as it is held until the report: plain values, the
/// file known by its place in the file list (a long log has tens of thousands of steps, and
/// a device reports only its first [`STORY_MAX`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// The entry time.
    pub(crate) time: Option<LogTime>,
    /// 1-based line.
    pub(crate) line: u64,
    /// What happened.
    pub(crate) kind: StepKind,
}

/// What a [`Step`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StepKind {
    /// An `onDisconnect…` error code.
    Disconnect(u32),
    /// A `handleDisconnect:N` reason, with its cause where the log states one.
    HandleDisconnect(u32, Option<DisconnectCause>),
    /// A `ConnUserLoginAnotherDevice` entry line: linked to the reason on the line above by
    /// [`link_causes`], never reported on its own.
    LoginAnotherDevice,
    /// A reconnection (`onConnected`).
    Connected,
}

impl Step {
    /// The step as reported, in the file at `path`; `reported`: an `onDisconnect…` code
    /// reports its cause's disconnect.
    fn entry(&self, path: &str, reported: bool) -> StoryEntry {
        let (event, value, cause) = match self.kind {
            StepKind::Disconnect(code) => (StoryEvent::Disconnect, Some(code), None),
            StepKind::HandleDisconnect(reason, cause) => {
                (StoryEvent::HandleDisconnect, Some(reason), cause)
            }
            StepKind::LoginAnotherDevice => (
                StoryEvent::HandleDisconnect,
                None,
                Some(DisconnectCause::LoginAnotherDevice),
            ),
            StepKind::Connected => (StoryEvent::Connected, None, None),
        };
        StoryEntry {
            time: self.time,
            path: path.to_string(),
            line: self.line,
            event,
            value,
            cause,
            reported_by_listener: reported && cause.is_some(),
        }
    }

    /// The cause of the disconnect this step is, if it is one by its cause.
    fn cause(&self) -> Option<DisconnectCause> {
        match self.kind {
            StepKind::HandleDisconnect(_, cause) => cause,
            _ => None,
        }
    }
}

/// Links each `ConnUserLoginAnotherDevice` to the `handleDisconnect:N` on the line right above
/// it (the entry it follows) and drops it: `story` is one file's steps in line order. Line
/// numbers are the file's, so chunk ends do not matter.
pub(crate) fn link_causes(story: &mut Vec<Step>) {
    let kicks: Vec<u64> = story
        .iter()
        .filter(|s| s.kind == StepKind::LoginAnotherDevice)
        .map(|s| s.line)
        .collect();
    if kicks.is_empty() {
        return;
    }
    for step in story.iter_mut() {
        if let StepKind::HandleDisconnect(_, cause) = &mut step.kind
            && kicks.binary_search(&(step.line + 1)).is_ok()
        {
            *cause = Some(DisconnectCause::LoginAnotherDevice);
        }
    }
    story.retain(|s| s.kind != StepKind::LoginAnotherDevice);
}

/// Per step of a device's story, whether it has a cause that an `onDisconnect…` code of the
/// same device reports: one of the cause's code at the same time or within
/// [`CAUSE_REPORTED_WITHIN_SECONDS`] after it. One binary search per caused step, so a story
/// of many kicks at one time costs no more than a sort.
fn reported_by_listener(story: &[(usize, Step)]) -> Vec<bool> {
    let mut reports: Vec<(u32, i64)> = story
        .iter()
        .filter_map(|(_, s)| match s.kind {
            StepKind::Disconnect(code) => Some((code, s.time?.epoch_millis())),
            _ => None,
        })
        .collect();
    reports.sort_unstable();
    story
        .iter()
        .map(|(_, step)| {
            let (Some(cause), Some(time)) = (step.cause(), step.time) else {
                return false;
            };
            let (code, from) = (cause.code(), time.epoch_millis());
            let first = reports.partition_point(|&report| report < (code, from));
            reports.get(first).is_some_and(|&(found, at)| {
                found == code && at <= from + CAUSE_REPORTED_WITHIN_SECONDS * 1000
            })
        })
        .collect()
}

/// Builds the device list from the file summaries (in discovery order, devices in order of
/// first appearance) and each file's story steps (by index into `files`, each file's in line
/// order).
pub(crate) fn devices(files: &[FileSummary], stories: &[Vec<Step>]) -> Vec<DeviceSummary> {
    let mut out: Vec<DeviceSummary> = Vec::new();
    // Per device: its steps, each with its file's index.
    let mut collected: Vec<Vec<(usize, Step)>> = Vec::new();
    // Per device: its index in `out`, and its latest file so far that has a time.
    let mut seen: rustc_hash::FxHashMap<&str, (usize, Option<&FileSummary>)> =
        rustc_hash::FxHashMap::default();
    for (i, file) in files.iter().enumerate() {
        let idx = match seen.get(file.device.as_str()) {
            Some(&(idx, _)) => idx,
            None => {
                seen.insert(&file.device, (out.len(), None));
                out.push(DeviceSummary {
                    name: file.device.clone(),
                    first: None,
                    last: None,
                    files: Vec::new(),
                    gaps: Vec::new(),
                    prefix_styles: Vec::new(),
                    errors: 0,
                    disconnects: 0,
                    disconnect_reasons: Vec::new(),
                    disconnect_reason_counts: BTreeMap::new(),
                    story: Vec::new(),
                    story_total: 0,
                });
                collected.push(Vec::new());
                out.len() - 1
            }
        };
        let device = &mut out[idx];
        // The previous file of this device with a time, for the gap.
        let previous = seen.get(file.device.as_str()).and_then(|&(_, p)| p);
        if file.last.is_some() {
            seen.insert(&file.device, (idx, Some(file)));
        }
        if let (Some(prev), Some(to)) = (previous, file.first)
            && let Some(from) = prev.last
        {
            let seconds = (to.epoch_millis() - from.epoch_millis()) / 1000;
            if seconds >= GAP_SECONDS {
                device.gaps.push(Gap {
                    after: prev.path.clone(),
                    before: file.path.clone(),
                    from,
                    to,
                    seconds,
                });
            }
        }
        device.files.push(file.path.clone());
        if let Some(style) = file.style
            && device.prefix_styles.last() != Some(&style)
            && !device.prefix_styles.contains(&style)
        {
            device.prefix_styles.push(style);
        }
        device.first = match (device.first, file.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        device.last = match (device.last, file.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        device.errors += file.errors;
        if let Some(story) = stories.get(i) {
            collected[idx].extend(story.iter().map(|&step| (i, step)));
        }
    }
    // Devices in parallel: a bundle of many devices reports most of their steps.
    out.par_iter_mut()
        .zip(collected)
        .for_each(|(device, mut story)| {
            // Stable: steps without a time keep their file order, before timed ones.
            story.sort_by_key(|(_, step)| step.time);
            let mut reason_counts: BTreeMap<u32, u64> = BTreeMap::new();
            let reported = reported_by_listener(&story);
            for ((_, step), &reported) in story.iter().zip(&reported) {
                match step.kind {
                    StepKind::Disconnect(_) => device.disconnects += 1,
                    StepKind::HandleDisconnect(reason, cause) => {
                        if device.disconnect_reasons.len() < REASONS_MAX {
                            device.disconnect_reasons.push(reason);
                        }
                        *reason_counts.entry(reason).or_default() += 1;
                        if cause.is_some() && !reported {
                            device.disconnects += 1;
                        }
                    }
                    StepKind::LoginAnotherDevice | StepKind::Connected => {}
                }
            }
            device.disconnect_reason_counts = reason_counts
                .into_iter()
                .map(|(reason, n)| (reason.to_string(), n))
                .collect();
            device.story_total = story.len() as u64;
            device.story = story
                .iter()
                .zip(reported)
                .take(STORY_MAX)
                .map(|((file, step), reported)| {
                    step.entry(files.get(*file).map_or("", |f| f.path.as_str()), reported)
                })
                .collect();
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::PrefixStyle;

    #[test]
    fn finds_reasons_and_reconnections_with_lines() {
        let chunk = b"[2017/3/1 19:30:28:214]: log: level: 2, area: 1, handleDisconnect:13\n\
                      x\n[2017/3/1 19:30:29:000]: [global listener] onConnected\nhandleDisconnect:x\n";
        let events = collect_chunk(chunk);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, EventKind::HandleDisconnect(13));
        assert_eq!(events[0].line_in_chunk, 0);
        assert_eq!(events[1].kind, EventKind::Connected);
        assert_eq!(events[1].line_in_chunk, 2);
    }

    #[test]
    fn the_kick_counts_on_entry_lines_only() {
        let chunk = b"[2019/10/24 14:0:27:243]: log: level: 2, area: 1, handleDisconnect:13\r\n\
                      [2019/10/24 14:0:27:243]: ConnUserLoginAnotherDevice\r\n\
                      \x20 quoted: ConnUserLoginAnotherDevice\r\n";
        let kinds: Vec<(u64, EventKind)> = collect_chunk(chunk)
            .iter()
            .map(|e| (e.line_in_chunk, e.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (0, EventKind::HandleDisconnect(13)),
                (1, EventKind::LoginAnotherDevice)
            ]
        );
    }

    fn at(time: &str, line: u64, kind: StepKind) -> Step {
        Step {
            time: LogTime::parse_display(time),
            line,
            kind,
        }
    }

    #[test]
    fn a_kick_gives_its_cause_to_the_reason_on_the_line_above_only() {
        let t = "2019-10-24 14:00:27.243";
        let mut story = vec![
            at(t, 10, StepKind::HandleDisconnect(13, None)),
            at(t, 11, StepKind::LoginAnotherDevice),
            at(t, 20, StepKind::HandleDisconnect(13, None)),
            at(t, 22, StepKind::LoginAnotherDevice),
            at(t, 30, StepKind::LoginAnotherDevice),
        ];
        link_causes(&mut story);
        assert_eq!(
            story,
            [
                at(
                    t,
                    10,
                    StepKind::HandleDisconnect(13, Some(DisconnectCause::LoginAnotherDevice))
                ),
                at(t, 20, StepKind::HandleDisconnect(13, None)),
            ]
        );
    }

    /// A kick is a disconnect of its own, unless the listener's 206 of the same device reports
    /// it within the window: then it is that disconnect's reason, counted once.
    #[test]
    fn a_kick_is_counted_once_with_or_without_the_listeners_206() {
        let files = [
            file(
                "A/a",
                "A",
                "2019-10-24 13:00:00.000",
                "2019-10-24 15:00:00.000",
                PrefixStyle::Legacy,
            ),
            file(
                "B/b",
                "B",
                "2019-10-24 13:00:00.000",
                "2019-10-24 15:00:00.000",
                PrefixStyle::Legacy,
            ),
        ];
        let kicked = StepKind::HandleDisconnect(13, Some(DisconnectCause::LoginAnotherDevice));
        let stories = [
            vec![
                at("2019-10-24 14:00:27.243", 5, kicked),
                at("2019-10-24 14:00:30.001", 7, StepKind::Disconnect(206)),
                at("2019-10-24 14:10:00.000", 9, kicked),
                at("2019-10-24 14:10:10.001", 11, StepKind::Disconnect(206)),
                at(
                    "2019-10-24 14:20:00.000",
                    13,
                    StepKind::HandleDisconnect(13, None),
                ),
            ],
            vec![at("2019-10-24 14:00:27.243", 5, kicked)],
        ];
        let found = devices(&files, &stories);
        let a = &found[0];
        let told: Vec<(u64, Option<DisconnectCause>, bool)> = a
            .story
            .iter()
            .map(|e| (e.line, e.cause, e.reported_by_listener))
            .collect();
        let cause = Some(DisconnectCause::LoginAnotherDevice);
        assert_eq!(
            told,
            [
                (5, cause, true),
                (7, None, false),
                (9, cause, false),
                (11, None, false),
                (13, None, false)
            ]
        );
        // 206 at +2.8 s reports the first kick; the one 10.001 s after the second does not.
        assert_eq!(a.disconnects, 3);
        assert_eq!(a.disconnect_reason_counts["13"], 3);
        let b = &found[1];
        assert_eq!(b.disconnects, 1, "no other device's 206 reports B's kick");
        assert_eq!(b.story[0].event, StoryEvent::HandleDisconnect);
        assert_eq!(b.story[0].value, Some(13));
    }

    /// A hostile log of kicks and 206s all at one time: each kick is checked by a search, not
    /// by walking the others (a walk would take minutes here).
    #[test]
    fn many_kicks_at_one_time_are_checked_in_n_log_n() {
        let files = [file(
            "A/a",
            "A",
            "2019-10-24 14:00:00.000",
            "2019-10-24 14:00:00.000",
            PrefixStyle::Legacy,
        )];
        let t = "2019-10-24 14:00:00.000";
        let kicked = StepKind::HandleDisconnect(13, Some(DisconnectCause::LoginAnotherDevice));
        let n = 100_000u64;
        let story: Vec<Step> = (0..n)
            .flat_map(|i| {
                [
                    at(t, 2 * i, kicked),
                    at(t, 2 * i + 1, StepKind::Disconnect(206)),
                ]
            })
            .collect();
        let found = devices(&files, &[story]);
        assert_eq!(found[0].disconnects, n, "every kick is reported by a 206");
        assert!(
            found[0]
                .story
                .iter()
                .all(|e| e.cause.is_none() || e.reported_by_listener)
        );
    }

    fn file(path: &str, device: &str, first: &str, last: &str, style: PrefixStyle) -> FileSummary {
        FileSummary {
            path: path.into(),
            device: device.into(),
            bytes: 1,
            uncompressed_bytes: None,
            lines: 1,
            first: LogTime::parse_display(first),
            last: LogTime::parse_display(last),
            style: Some(style),
            crlf: false,
            gzip: false,
            truncated_last_line: false,
            errors: 2,
            encoding: None,
            warning: None,
            fingerprint: None,
        }
    }

    /// A device's story interleaves its files' steps by time (untimed first, in file order),
    /// counts them all, and names the file of each step it reports.
    #[test]
    fn story_steps_merge_by_time_across_files() {
        let v3 = PrefixStyle::V3;
        let files = [
            file(
                "A/a1",
                "A",
                "2024-03-01 08:00:00.000",
                "2024-03-01 09:00:00.000",
                v3,
            ),
            file(
                "B/b",
                "B",
                "2024-03-01 08:00:00.000",
                "2024-03-01 09:00:00.000",
                v3,
            ),
            file(
                "A/a2",
                "A",
                "2024-03-01 08:30:00.000",
                "2024-03-01 10:00:00.000",
                v3,
            ),
        ];
        let step = |time: Option<&str>, line, kind| Step {
            time: time.and_then(LogTime::parse_display),
            line,
            kind,
        };
        let (t1, t2, t3) = (
            Some("2024-03-01 08:10:00.000"),
            Some("2024-03-01 08:40:00.000"),
            Some("2024-03-01 08:50:00.000"),
        );
        let mut a2 = vec![
            step(None, 2, StepKind::HandleDisconnect(13, None)),
            step(t1, 4, StepKind::Connected),
        ];
        a2.extend(
            (0..STORY_MAX as u64).map(|i| step(t3, 100 + i, StepKind::HandleDisconnect(7, None))),
        );
        let stories = [
            vec![
                step(None, 1, StepKind::Connected),
                step(t2, 5, StepKind::Disconnect(305)),
            ],
            vec![step(t1, 3, StepKind::Disconnect(301))],
            a2,
        ];
        let found = devices(&files, &stories);
        let a = &found[0];
        let told: Vec<(&str, u64, StoryEvent, Option<u32>)> = a
            .story
            .iter()
            .take(5)
            .map(|e| (e.path.as_str(), e.line, e.event, e.value))
            .collect();
        assert_eq!(
            told,
            [
                ("A/a1", 1, StoryEvent::Connected, None),
                ("A/a2", 2, StoryEvent::HandleDisconnect, Some(13)),
                ("A/a2", 4, StoryEvent::Connected, None),
                ("A/a1", 5, StoryEvent::Disconnect, Some(305)),
                ("A/a2", 100, StoryEvent::HandleDisconnect, Some(7)),
            ]
        );
        assert_eq!(a.story.len(), STORY_MAX);
        assert_eq!(a.story_total, STORY_MAX as u64 + 4);
        assert_eq!(a.disconnects, 1);
        assert_eq!(a.disconnect_reasons[..2], [13, 7]);
        assert_eq!(
            a.disconnect_reason_counts,
            BTreeMap::from([("13".to_string(), 1), ("7".to_string(), STORY_MAX as u64)])
        );
        let b = &found[1];
        assert_eq!((b.story_total, b.disconnects), (1, 1));
        assert_eq!(b.story[0].path, "B/b");
    }

    #[test]
    fn spans_gaps_and_styles() {
        let files = [
            file(
                "A/a1",
                "A",
                "2024-03-01 08:00:00.000",
                "2024-03-01 09:00:00.000",
                PrefixStyle::V3,
            ),
            file(
                "A/a2",
                "A",
                "2024-03-01 09:00:30.000",
                "2024-03-01 10:00:00.000",
                PrefixStyle::V3,
            ),
            file(
                "B/b",
                "B",
                "2024-03-01 07:00:00.000",
                "2024-03-01 07:30:00.000",
                PrefixStyle::V3,
            ),
            file(
                "A/a3",
                "A",
                "2024-03-01 11:00:00.000",
                "2024-03-01 12:00:00.000",
                PrefixStyle::V4,
            ),
        ];
        let devices = devices(&files, &[]);
        assert_eq!(devices.len(), 2);
        let a = &devices[0];
        assert_eq!(a.files, ["A/a1", "A/a2", "A/a3"]);
        assert_eq!(a.gaps.len(), 1, "30 s is no gap, an hour is");
        assert_eq!(
            (a.gaps[0].after.as_str(), a.gaps[0].seconds),
            ("A/a2", 3600)
        );
        assert_eq!(a.prefix_styles, [PrefixStyle::V3, PrefixStyle::V4]);
        assert_eq!(a.errors, 6);
        assert_eq!(
            a.first.map(|t| t.to_string()).as_deref(),
            Some("2024-03-01 08:00:00.000")
        );
    }
}
