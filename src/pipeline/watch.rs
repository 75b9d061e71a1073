//! The live driver (`emscan watch`): follows a log folder, searches each batch of new lines
//! as the scan searches a chunk, and tells each new hit as it is written.
//!
//! ```text
//! follow (look at the folder) ─▶ new lines ─▶ search ─▶ hits, told at once
//!                                                   └─▶ chunk tally ─▶ summary of the watch
//! ```
//!
//! Each followed stretch of a file (a segment, see [`crate::input::follow`]) keeps its batches'
//! chunk tallies in order, so the summary of the watched span is built by the same join and
//! aggregator as a scan's. Lines that were in a file before the watch started only place the
//! lines after them: line numbers are the file's, and a line before its first entry takes
//! the time of the entry before it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::analyze::aggregator;
use crate::analyze::tally::{ChunkTally, Collectors, FileTally, TallyContext};
use crate::catalog::{Lang, catalog};
use crate::error::{Error, Result};
use crate::input::discover::{self, LogFile};
use crate::input::follow::{Change, Follower, SegmentId, Wakeups};
use crate::input::read::ScannedChunks;
use crate::model::{Bucket, Summary, Window};
use crate::pipeline::FileEvents;
use crate::search::chunks::{self, ChunkFacts, ChunkStart, FileScan, Hit, JoinedChunks};
use crate::search::line;
use crate::search::rules::RuleSet;

/// What to watch and how.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// The folder (or file) to follow.
    pub root: PathBuf,
    /// Tell what the files already hold, not only what is written after the start.
    pub from_start: bool,
    /// User extraction rules (regexes with a `code` group).
    pub user_rules: Vec<String>,
    /// Language of hints and names in the summary.
    pub lang: Lang,
    /// Poll the folder at this interval instead of the platform's change notifications.
    pub poll: Option<Duration>,
}

/// Something the watch noticed about the files, besides new lines.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Notice<'a> {
    /// A file appeared.
    Appeared { path: &'a str },
    /// A file was renamed (a rotation).
    Renamed { from: &'a str, to: &'a str },
    /// A file shrank: read again from its start.
    Truncated { path: &'a str },
    /// A file went.
    Gone { path: &'a str },
    /// A file could not be read at this look.
    Unreadable { path: &'a str, reason: &'a str },
}

/// What the watch tells as it goes.
pub(crate) enum Live<'a> {
    /// The folder does not exist (yet): the watch waits for it.
    Waiting { root: &'a Path },
    /// The watch follows `files` files under `root` (`polling`: by looking at an interval).
    Started {
        root: &'a Path,
        files: usize,
        polling: bool,
    },
    /// New hits of one file, in line order.
    Hits(FileEvents<'a>),
    /// A rotation, truncation, new, gone or unreadable file.
    Notice(Notice<'a>),
    /// A look that found new hits has ended: the moment to check rules on the summary.
    Looked(&'a LiveScan),
}

/// Whether the watch goes on after a [`Live`] was told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Go,
    Stop,
}

/// Where the watch tells what it sees; an error (output that cannot be written) ends it.
pub(crate) type OnLive<'a> = &'a mut dyn FnMut(Live<'_>) -> std::io::Result<Flow>;

/// One followed stretch of a file and what its batches found.
struct Segment {
    /// The file as last seen (its name changes with a rotation).
    file: LogFile,
    /// The batches so far, joined: where the next one starts.
    joined: JoinedChunks,
    /// The batches' tallies, in order; folded into one now and then, so that they grow with
    /// the hits, not with the number of batches.
    tallies: Vec<ChunkTally>,
    /// Bytes searched (lines before the start included).
    bytes_scanned: u64,
}

/// Batch tallies a segment keeps before folding them into one.
const FOLD_AT: usize = 16;

impl Segment {
    /// Keeps the tally of the next batch.
    fn push(&mut self, tally: ChunkTally, context: &TallyContext) {
        self.tallies.push(tally);
        if self.tallies.len() >= FOLD_AT {
            let mut batches = self.tallies.drain(..);
            let mut folded = batches.next().expect("at least one tally");
            for batch in batches {
                folded.then(batch, context);
            }
            self.tallies.push(folded);
        }
    }
}

/// The watched span so far: the rules, and each segment's batches.
pub(crate) struct LiveScan {
    root: PathBuf,
    rules: RuleSet,
    context: TallyContext,
    lang: Lang,
    segments: BTreeMap<SegmentId, Segment>,
    started: Instant,
}

/// How often the folder is looked at even without a notification (changes made from another
/// machine on a network share raise none); with `--poll`, its interval.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// How long a wait lasts at most before the stop flag is read again.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// The least time between two looks: writes that come in a burst are read as one batch.
const LOOK_GAP: Duration = Duration::from_millis(20);

/// The time between looks while a followed file is missing from its name (a rotation seen
/// half done, or a deletion): long beside a rename, short beside a user's wait.
const SETTLE_GAP: Duration = Duration::from_millis(100);

/// Follows `config.root` until `stop` is set or `on_live` says stop, telling each new hit as
/// it is written; returns the watched span for its summary. Fails on a bad rule or when the
/// folder cannot be watched.
pub(crate) fn watch(
    config: &WatchConfig,
    stop: &AtomicBool,
    on_live: OnLive<'_>,
) -> Result<LiveScan> {
    let rules = RuleSet::with_user_rules(&config.user_rules)?;
    let context = TallyContext::new(&rules, Window::default(), Collectors::deep(false));
    let mut live = LiveScan {
        root: config.root.clone(),
        rules,
        context,
        lang: config.lang,
        segments: BTreeMap::new(),
        started: Instant::now(),
    };
    let mut follower = Follower::new(config.root.clone(), config.from_start);
    let mut wakeups: Option<Wakeups> = None;
    let mut told_waiting = false;
    let mut last_look: Option<Instant> = None;
    // A rotation seen half done: looked at again soon, not at the next notification.
    let mut unsettled = false;
    while !stop.load(Ordering::Relaxed) {
        let mut every = config.poll.unwrap_or(LOOK_EVERY);
        if unsettled {
            every = every.min(SETTLE_GAP);
        }
        let due = last_look.is_none_or(|at| at.elapsed() >= every);
        let woken = match &wakeups {
            Some(wakeups) => wakeups.wait(STOP_CHECK.min(every)),
            None => {
                if last_look.is_some() {
                    std::thread::sleep(STOP_CHECK);
                }
                false
            }
        };
        if !woken && !due {
            continue;
        }
        if let Some(wait) = last_look.and_then(|at| LOOK_GAP.checked_sub(at.elapsed())) {
            std::thread::sleep(wait);
        }
        last_look = Some(Instant::now());
        let (look, hits) = live.look(&mut follower, on_live)?;
        unsettled = look.unsettled;
        if hits && on_live(Live::Looked(&live)).map_err(Error::from)? == Flow::Stop {
            return Ok(live);
        }
        if !look.root_exists {
            if !told_waiting {
                told_waiting = true;
                on_live(Live::Waiting { root: &config.root })?;
            }
            continue;
        }
        if wakeups.is_none() {
            let started =
                Wakeups::new(follower.folder(), config.poll).map_err(|e| Error::Watch {
                    reason: e.to_string(),
                })?;
            let flow = on_live(Live::Started {
                root: &config.root,
                files: look.files,
                polling: started.polling,
            })?;
            wakeups = Some(started);
            if flow == Flow::Stop {
                return Ok(live);
            }
        }
    }
    // Lines written up to the stop, and the live files' unterminated last lines.
    live.look(&mut follower, on_live)?;
    follower.finish(&mut |change| live.take(change, on_live).map(|_| ()))?;
    Ok(live)
}

/// The segment `id` of `segments`, started for `file` when new.
fn segment_of<'a>(
    segments: &'a mut BTreeMap<SegmentId, Segment>,
    id: SegmentId,
    file: &LogFile,
) -> &'a mut Segment {
    segments.entry(id).or_insert_with(|| Segment {
        file: file.clone(),
        joined: JoinedChunks::default(),
        tallies: Vec::new(),
        bytes_scanned: 0,
    })
}

impl LiveScan {
    /// One look at the folder, each change taken in turn; whether it found hits.
    fn look(
        &mut self,
        follower: &mut Follower,
        on_live: OnLive<'_>,
    ) -> std::io::Result<(crate::input::follow::Look, bool)> {
        let mut hits = false;
        let look = follower.look::<std::io::Error>(&mut |change| {
            hits |= self.take(change, on_live)?;
            Ok(())
        })?;
        Ok((look, hits))
    }

    /// Takes one change: searches new lines and tells their hits, places lines from before
    /// the start, tells the rest. Returns whether it told hits.
    fn take(&mut self, change: Change<'_>, on_live: OnLive<'_>) -> std::io::Result<bool> {
        match change {
            Change::Before {
                segment,
                file,
                bytes,
            } => {
                let findings = chunks::scan_chunk(&self.rules, bytes);
                // Not new: its entries place what follows, but the watched span starts after.
                let facts = ChunkFacts {
                    first_entry: None,
                    ..findings.facts()
                };
                let segment = segment_of(&mut self.segments, segment, file);
                segment.joined.then(&facts);
                segment.push(ChunkTally::placing(facts), &self.context);
                segment.bytes_scanned += bytes.len() as u64;
                Ok(false)
            }
            Change::Lines {
                segment,
                file,
                bytes,
            } => {
                let segment = segment_of(&mut self.segments, segment, file);
                // Its size on disk as of this look.
                segment.file.size = file.size;
                let findings = chunks::scan_chunk(&self.rules, bytes);
                let start = ChunkStart {
                    line_base: segment.joined.line_base,
                    carried: segment.joined.carried(),
                };
                let hits: Vec<Hit> = findings
                    .scan
                    .hits
                    .iter()
                    .map(|h| Hit {
                        code: h.code,
                        rule: h.rule,
                        line: start.line(h.line_in_chunk),
                        time: h.time.or_carried(start.carried),
                        text: Some(line::line_at(bytes, h.line_start)),
                    })
                    .collect();
                segment.joined.then(&findings.facts());
                let tally = ChunkTally::of(bytes, findings, &self.context);
                segment.push(tally, &self.context);
                segment.bytes_scanned += bytes.len() as u64;
                if hits.is_empty() {
                    return Ok(false);
                }
                let scan = FileScan {
                    hits,
                    ..FileScan::default()
                };
                on_live(Live::Hits(FileEvents {
                    file,
                    scan: &scan,
                    rules: &self.rules,
                }))?;
                Ok(true)
            }
            Change::Appeared { file, .. } => {
                on_live(Live::Notice(Notice::Appeared {
                    path: &file.rel_path,
                }))?;
                Ok(false)
            }
            Change::Renamed {
                segment,
                from,
                file,
            } => {
                if let Some(followed) = self.segments.get_mut(&segment) {
                    followed.file = file.clone();
                }
                on_live(Live::Notice(Notice::Renamed {
                    from: &from,
                    to: &file.rel_path,
                }))?;
                Ok(false)
            }
            Change::Truncated { segment, file, .. } => {
                // The stretch before the truncation stays in the summary under its own label.
                let label = self.truncated_label(&file.rel_path);
                if let Some(ended) = self.segments.get_mut(&segment) {
                    ended.file.rel_path = label;
                }
                on_live(Live::Notice(Notice::Truncated {
                    path: &file.rel_path,
                }))?;
                Ok(false)
            }
            Change::Gone { file, .. } => {
                on_live(Live::Notice(Notice::Gone {
                    path: &file.rel_path,
                }))?;
                Ok(false)
            }
            Change::Unreadable { path, reason } => {
                on_live(Live::Notice(Notice::Unreadable {
                    path: &path,
                    reason: &reason,
                }))?;
                Ok(false)
            }
        }
    }

    /// The label of the stretch of `path` before its `n`th truncation.
    fn truncated_label(&self, path: &str) -> String {
        let before = format!("{path} (before truncation");
        let earlier = self
            .segments
            .values()
            .filter(|s| s.file.rel_path.starts_with(&before))
            .count();
        match earlier {
            0 => format!("{before})"),
            n => format!("{before} {})", n + 1),
        }
    }

    /// The summary of the watched span, as a scan of the lines written while watching.
    pub(crate) fn summary(&self) -> Summary {
        let mut segments: Vec<&Segment> = self.segments.values().collect();
        segments.sort_by(|a, b| discover::report_order(&a.file, &b.file));
        let files: Vec<LogFile> = segments.iter().map(|s| s.file.clone()).collect();
        let tallies = segments
            .iter()
            .map(|s| {
                let scanned = ScannedChunks {
                    parts: s.tallies.clone(),
                    bytes_scanned: s.bytes_scanned,
                    warning: None,
                    encoding: None,
                };
                FileTally::join(&s.file, Ok::<_, String>(scanned), &self.context)
            })
            .collect();
        aggregator::summarize(aggregator::SummaryInput {
            roots: vec![discover::path_text(&self.root)],
            files: &files,
            tallies,
            skipped: Vec::new(),
            rules: &self.rules,
            catalog: catalog(),
            lang: self.lang,
            elapsed_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            window: Window::default(),
            bucket: Bucket::Auto,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::discover::discover;
    use crate::pipeline::ScanConfig;

    /// A watch that took a file's lines one batch at a time (many more batches than are kept
    /// before folding) sums up as a scan of the file does.
    #[test]
    fn a_watch_fed_line_by_line_sums_up_as_a_scan() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("PC-1/sdkdata/easemobLog");
        std::fs::create_dir_all(&logs).unwrap();
        let mut text = String::new();
        for i in 0..50u32 {
            text.push_str(&format!(
                "[2024/05/06 09:{:02}:{:02}:000]: call failed, code: {}; desc: x\n",
                10 + i / 60,
                i % 60,
                [2, 300, 202][i as usize % 3]
            ));
            if i % 7 == 0 {
                text.push_str("  more lines of the entry, errorCode=500\n");
            }
        }
        std::fs::write(logs.join("easemob.log"), &text).unwrap();
        let file = discover(&[dir.path().to_path_buf()], false).files.remove(0);

        let rules = RuleSet::with_user_rules(&[]).unwrap();
        let mut live = LiveScan {
            root: dir.path().to_path_buf(),
            context: TallyContext::new(&rules, Window::default(), Collectors::deep(false)),
            rules,
            lang: Lang::En,
            segments: BTreeMap::new(),
            started: Instant::now(),
        };
        let mut told = 0;
        for line in text.split_inclusive('\n') {
            let change = Change::Lines {
                segment: 0,
                file: &file,
                bytes: line.as_bytes(),
            };
            live.take(change, &mut |l| {
                if let Live::Hits(events) = l {
                    told += events.scan.hits.len();
                }
                Ok(Flow::Go)
            })
            .unwrap();
        }
        assert!(live.segments[&0].tallies.len() < FOLD_AT);
        let watched = live.summary();
        let scanned = crate::scan_paths(
            &ScanConfig::new(vec![dir.path().to_path_buf()]),
            &|_| {},
            &|_| {},
        )
        .unwrap();
        assert_eq!(told as u64, scanned.error_count());
        assert_eq!(watched.codes, scanned.codes);
        assert_eq!(watched.files, scanned.files);
    }
}
