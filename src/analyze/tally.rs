//! Tallying a file chunk by chunk. The worker that scanned a chunk turns its findings into a
//! [`ChunkTally`] at once (plain records of its hits, and the chunk's hits freed there, for its
//! next chunk to reuse); a file's chunk tallies are then joined into its [`FileTally`]: runs of
//! consecutive chunks tallied in parallel, then put together in order. A file's hits never
//! exist as one list, which one thread would have to build before tallying it.
//!
//! Lines in a chunk tally are the chunk's own (0-based). What comes before a chunk's first
//! entry takes its time from the chunks before it, so it waits for the join.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashSet;

use crate::analyze::samples;
use crate::analyze::sessions::{self, EventKind, RawEvent, Step, StepKind};
use crate::analyze::unmatched;
use crate::catalog::SUCCESS_CODE;
use crate::input::discover::LogFile;
use crate::input::read::{ReadError, ScannedChunks};
use crate::model::{FileSummary, SampleLine, Window};
use crate::search::chunks::{self, ChunkFindings, ChunkStart, JoinedChunks, TextedChunk};
use crate::search::extract::{ChunkScan, EntryTime};
use crate::search::rules::RuleSet;
use crate::time::LogTime;

/// What tallying a chunk needs to know besides the chunk.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TallyContext {
    /// The index of the listener rule, whose hits are disconnects in the story.
    listener: Option<usize>,
    /// Only what lies in it counts.
    window: Window,
    /// Which collectors run besides the code tally.
    collectors: Collectors,
}

impl TallyContext {
    /// The context of a scan with `rules`, counting what lies in `window`, with `collectors`.
    pub(crate) fn new(rules: &RuleSet, window: Window, collectors: Collectors) -> TallyContext {
        TallyContext {
            listener: rules.rules().iter().position(|r| r.name == LISTENER_SHAPE),
            window,
            collectors,
        }
    }
}

/// The per-chunk collectors that run besides the code tally. Sample lines always run; the
/// deep ones (the connection story, failure-looking lines no rule understands) look at many
/// lines, not only hits: several times the cost of the code scan, so only when asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Collectors {
    /// Connection events (`handleDisconnect:N`, `ConnUserLoginAnotherDevice`, `onConnected`)
    /// for the device story.
    pub(crate) events: bool,
    /// Failure-looking lines without a hit, grouped by template.
    pub(crate) unmatched: bool,
}

impl Collectors {
    /// Every collector (`deep`) or only the sample lines.
    pub(crate) fn deep(deep: bool) -> Collectors {
        Collectors {
            events: deep,
            unmatched: deep,
        }
    }
}

/// What the collectors besides extraction found in one chunk.
pub(crate) struct ChunkExtras {
    /// The first hit of each error code per minute, with its line text.
    pub(crate) samples: Vec<samples::Sample>,
    /// Connection events.
    pub(crate) events: Vec<RawEvent>,
    /// Failure-looking lines without a hit, by template (lines 0-based).
    pub(crate) unmatched: BTreeMap<String, unmatched::Group>,
}

impl ChunkExtras {
    /// Runs `collectors` over `chunk`, whose extraction found `scan`.
    pub(crate) fn collect(chunk: &[u8], scan: &ChunkScan, collectors: Collectors) -> ChunkExtras {
        let unmatched = if collectors.unmatched {
            let mut hit_lines: Vec<usize> = scan.hits.iter().map(|h| h.line_start).collect();
            hit_lines.dedup();
            unmatched::collect_chunk(chunk, &hit_lines)
        } else {
            BTreeMap::new()
        };
        ChunkExtras {
            samples: samples::collect_chunk(chunk, scan),
            events: if collectors.events {
                sessions::collect_chunk(chunk)
            } else {
                Vec::new()
            },
            unmatched,
        }
    }
}

/// A chunk kept whole until its file is done (a window relative to the last log time, or
/// the event stream): its findings, hit line texts when kept, and what the collectors found.
pub(crate) struct KeptChunk {
    /// Findings and line texts.
    pub(crate) texted: TextedChunk,
    /// What the collectors found.
    pub(crate) extras: ChunkExtras,
}

impl KeptChunk {
    /// The kept chunk of `bytes`; `keep_text` keeps each hit's line text.
    pub(crate) fn new(
        bytes: &[u8],
        findings: ChunkFindings,
        context: &TallyContext,
        keep_text: bool,
    ) -> KeptChunk {
        let extras = ChunkExtras::collect(bytes, &findings.scan, context.collectors);
        KeptChunk {
            texted: TextedChunk::new(bytes, findings, keep_text),
            extras,
        }
    }
}

/// A hit or event before its chunk's first entry: its time is the one carried from the chunks
/// before (none: the file has no entry before it).
#[derive(Clone, Copy, Debug)]
enum Waiting {
    Hit {
        code: u32,
        rule: usize,
        line_in_chunk: u64,
    },
    Event {
        kind: EventKind,
        line_in_chunk: u64,
    },
}

impl Waiting {
    /// The same, `by` lines further down.
    fn shifted(self, by: u64) -> Waiting {
        match self {
            Waiting::Hit {
                code,
                rule,
                line_in_chunk,
            } => Waiting::Hit {
                code,
                rule,
                line_in_chunk: line_in_chunk + by,
            },
            Waiting::Event {
                kind,
                line_in_chunk,
            } => Waiting::Event {
                kind,
                line_in_chunk: line_in_chunk + by,
            },
        }
    }
}

/// A sample line of a chunk: its hit's code, time and line, and the text.
#[derive(Clone, Debug)]
struct ChunkSample {
    code: u32,
    time: EntryTime,
    line_in_chunk: u64,
    text: String,
}

/// A hit timed in its chunk and inside the window.
#[derive(Clone, Copy, Debug)]
struct TimedHit {
    time: LogTime,
    code: u32,
    rule: usize,
    line_in_chunk: u64,
}

/// What one chunk adds to its file's tally: a few plain records per hit, not the hits.
#[derive(Clone, Debug)]
pub(crate) struct ChunkTally {
    facts: chunks::ChunkFacts,
    /// The hits timed in the chunk and inside the window, in line order.
    hits: Vec<TimedHit>,
    /// Events timed in the chunk and inside the window, as story steps (lines 1-based in the
    /// chunk).
    event_steps: Vec<Step>,
    /// Hits and events before the chunk's first entry, in line order.
    waiting: Vec<Waiting>,
    samples: Vec<ChunkSample>,
    groups: BTreeMap<String, unmatched::Group>,
}

impl ChunkTally {
    /// The tally of one chunk (`bytes`) from its findings, which it takes apart; the
    /// context's collectors run here, while the bytes are at hand.
    pub(crate) fn of(bytes: &[u8], findings: ChunkFindings, context: &TallyContext) -> ChunkTally {
        let extras = ChunkExtras::collect(bytes, &findings.scan, context.collectors);
        let samples = extras.samples.into_iter().map(|s| (s.hit, s.text));
        ChunkTally::of_parts(
            &findings,
            &extras.events,
            extras.unmatched,
            samples,
            context,
        )
    }

    /// The tally of lines that only place the chunks after them (their lines, their last
    /// entry): nothing in them counts.
    pub(crate) fn placing(facts: chunks::ChunkFacts) -> ChunkTally {
        ChunkTally {
            facts,
            hits: Vec::new(),
            event_steps: Vec::new(),
            waiting: Vec::new(),
            samples: Vec::new(),
            groups: BTreeMap::new(),
        }
    }

    /// Adds the chunk that follows this one, as if both were one chunk: the next chunk's lines
    /// come after this one's, and what comes before its first entry takes this chunk's last
    /// entry time (counted only inside the window), or keeps waiting when this chunk has no
    /// entry. Joining the result equals joining the two.
    pub(crate) fn then(&mut self, next: ChunkTally, context: &TallyContext) {
        let shift = self.facts.newlines;
        let carried = self.facts.last_entry.map(|p| p.time);
        let counts = carried.is_some_and(|t| context.window.contains(Some(t)));
        for waiting in next.waiting {
            let waiting = waiting.shifted(shift);
            match carried {
                None => self.waiting.push(waiting),
                Some(_) if !counts => {}
                Some(time) => match waiting {
                    Waiting::Hit {
                        code,
                        rule,
                        line_in_chunk,
                    } => self.hits.push(TimedHit {
                        time,
                        code,
                        rule,
                        line_in_chunk,
                    }),
                    Waiting::Event {
                        kind,
                        line_in_chunk,
                    } => self.event_steps.push(Step {
                        time: Some(time),
                        line: line_in_chunk + 1,
                        kind: step_kind(kind),
                    }),
                },
            }
        }
        self.hits.extend(next.hits.into_iter().map(|hit| TimedHit {
            line_in_chunk: shift + hit.line_in_chunk,
            ..hit
        }));
        self.event_steps
            .extend(next.event_steps.into_iter().map(|step| Step {
                line: shift + step.line,
                ..step
            }));
        self.samples
            .extend(next.samples.into_iter().map(|sample| ChunkSample {
                time: match (sample.time, carried) {
                    (EntryTime::Inherited, Some(time)) => EntryTime::At(time),
                    (time, _) => time,
                },
                line_in_chunk: shift + sample.line_in_chunk,
                ..sample
            }));
        let placed = next
            .groups
            .into_iter()
            .map(|(key, mut group)| {
                group.line += shift;
                if let (true, Some(time)) = (group.inherited, carried) {
                    group.min = Some(group.min.map_or(time, |m| m.min(time)));
                    group.max = Some(group.max.map_or(time, |m| m.max(time)));
                    group.inherited = false;
                }
                (key, group)
            })
            .collect();
        unmatched::merge(&mut self.groups, placed);
        let mut joined = JoinedChunks {
            line_base: 0,
            first: self.facts.first_entry,
            last: self.facts.last_entry,
            ends: self.facts.ends,
        };
        joined.then(&next.facts);
        self.facts = chunks::ChunkFacts {
            newlines: shift + next.facts.newlines,
            first_entry: joined.first,
            last_entry: joined.last,
            ends: joined.ends,
        };
    }

    /// The tally of a kept chunk.
    pub(crate) fn of_kept(kept: &KeptChunk, context: &TallyContext) -> ChunkTally {
        let extras = &kept.extras;
        let samples = extras.samples.iter().map(|s| (s.hit, s.text.clone()));
        let groups = extras.unmatched.clone();
        ChunkTally::of_parts(
            &kept.texted.findings,
            &extras.events,
            groups,
            samples,
            context,
        )
    }

    /// The tally of a chunk from its findings' parts; `samples` are `(hit index, line text)`.
    fn of_parts(
        findings: &ChunkFindings,
        events: &[RawEvent],
        groups: BTreeMap<String, unmatched::Group>,
        samples: impl ExactSizeIterator<Item = (usize, String)>,
        context: &TallyContext,
    ) -> ChunkTally {
        let window = context.window;
        let scan = &findings.scan;
        let mut tally = ChunkTally {
            facts: findings.facts(),
            hits: Vec::with_capacity(scan.hits.len()),
            event_steps: Vec::new(),
            waiting: Vec::new(),
            samples: Vec::with_capacity(samples.len()),
            groups,
        };
        for hit in &scan.hits {
            match hit.time {
                EntryTime::At(time) if window.contains(Some(time)) => tally.hits.push(TimedHit {
                    time,
                    code: hit.code,
                    rule: hit.rule,
                    line_in_chunk: hit.line_in_chunk,
                }),
                EntryTime::At(_) => {}
                EntryTime::Inherited => tally.waiting.push(Waiting::Hit {
                    code: hit.code,
                    rule: hit.rule,
                    line_in_chunk: hit.line_in_chunk,
                }),
            }
        }
        for event in events {
            match event.time {
                EntryTime::At(time) if window.contains(Some(time)) => {
                    tally.event_steps.push(Step {
                        time: Some(time),
                        line: event.line_in_chunk + 1,
                        kind: step_kind(event.kind),
                    });
                }
                EntryTime::At(_) => {}
                EntryTime::Inherited => tally.waiting.push(Waiting::Event {
                    kind: event.kind,
                    line_in_chunk: event.line_in_chunk,
                }),
            }
        }
        tally.samples.extend(samples.filter_map(|(index, text)| {
            let hit = scan.hits.get(index)?;
            Some(ChunkSample {
                code: hit.code,
                time: hit.time,
                line_in_chunk: hit.line_in_chunk,
                text,
            })
        }));
        tally
    }
}

/// The story step of a connection event.
fn step_kind(kind: EventKind) -> StepKind {
    match kind {
        EventKind::HandleDisconnect(reason) => StepKind::HandleDisconnect(reason, None),
        EventKind::LoginAnotherDevice => StepKind::LoginAnotherDevice,
        EventKind::Connected => StepKind::Connected,
    }
}

/// The fewest chunks tallied as one run.
const CHUNKS_PER_RUN_MIN: usize = 16;

/// The tally of a run of consecutive chunks of one file (lines are the file's).
#[derive(Default)]
struct RunTally {
    codes: Vec<CodeTally>,
    index_of_code: rustc_hash::FxHashMap<u32, usize>,
    errors: u64,
    timed: Vec<(LogTime, u32)>,
    hit_steps: Vec<Step>,
    event_steps: Vec<Step>,
}

impl RunTally {
    /// The tally of `chunks`, which start at `starts`.
    fn of(chunks: &[ChunkTally], starts: &[ChunkStart], context: &TallyContext) -> RunTally {
        let mut run = RunTally::default();
        run.timed
            .reserve(chunks.iter().map(|c| c.hits.len() + c.waiting.len()).sum());
        for (chunk, &ChunkStart { line_base, carried }) in chunks.iter().zip(starts) {
            // What comes before the chunk's first entry counts by the time it inherits.
            let counts = context.window.contains(carried);
            for &waiting in &chunk.waiting {
                match waiting {
                    Waiting::Hit {
                        code,
                        rule,
                        line_in_chunk,
                    } if counts => {
                        run.add(code, rule, line_base + line_in_chunk + 1, carried, context)
                    }
                    Waiting::Event {
                        kind,
                        line_in_chunk,
                    } if counts => run.event_steps.push(Step {
                        time: carried,
                        line: line_base + line_in_chunk + 1,
                        kind: step_kind(kind),
                    }),
                    _ => {}
                }
            }
            for hit in &chunk.hits {
                let line = line_base + hit.line_in_chunk + 1;
                run.add(hit.code, hit.rule, line, Some(hit.time), context);
            }
            run.event_steps
                .extend(chunk.event_steps.iter().map(|&step| Step {
                    line: step.line + line_base,
                    ..step
                }));
        }
        run
    }

    /// Counts one hit (inside the window) at `line` of the file.
    fn add(
        &mut self,
        code: u32,
        rule: usize,
        line: u64,
        time: Option<LogTime>,
        context: &TallyContext,
    ) {
        if code != SUCCESS_CODE {
            self.errors += 1;
            if let Some(time) = time {
                self.timed.push((time, code));
            }
            if Some(rule) == context.listener {
                self.hit_steps.push(Step {
                    time,
                    line,
                    kind: StepKind::Disconnect(code),
                });
            }
        }
        self.tally_of(code).add(rule, line, time);
    }

    /// The tally of `code` (added, in order of appearance, if new).
    fn tally_of(&mut self, code: u32) -> &mut CodeTally {
        let codes = &mut self.codes;
        let index = *self.index_of_code.entry(code).or_insert_with(|| {
            codes.push(CodeTally {
                code,
                ..CodeTally::default()
            });
            codes.len() - 1
        });
        &mut codes[index]
    }

    /// Adds the tally of the run that follows this one (growing by doubling, unless the
    /// caller made room: a copy at each doubling, into fresh memory), except its timed hits,
    /// which the caller takes first: each run's stay a list of their own.
    fn then(&mut self, next: RunTally) {
        debug_assert!(
            next.timed.is_empty(),
            "timed hits are taken before the join"
        );
        for code in next.codes {
            self.tally_of(code.code).then(code);
        }
        self.errors += next.errors;
        self.hit_steps.extend(next.hit_steps);
        self.event_steps.extend(next.event_steps);
    }
}

impl FileTally {
    /// The tally of one file from its chunks' tallies (or why it could not be scanned). Runs
    /// of chunks are tallied in parallel, then joined in order.
    pub(crate) fn join(
        file: &LogFile,
        scanned: Result<ScannedChunks<ChunkTally>, impl std::fmt::Display>,
        context: &TallyContext,
    ) -> FileTally {
        let window = context.window;
        let mut tally = FileTally::empty(file);
        let scanned = match scanned {
            Ok(scanned) => scanned,
            Err(reason) => {
                tally.failed = Some(reason.to_string());
                return tally;
            }
        };
        let mut chunks = scanned.parts;
        let (starts, joined) = chunks::join(chunks.iter().map(|c| c.facts));
        // A few runs per worker; a file of few chunks is one run (each run has its own
        // tally of every code).
        let per_run = chunks
            .len()
            .div_ceil(rayon::current_num_threads() * 4)
            .max(CHUNKS_PER_RUN_MIN);
        // The sample lines and unmatched groups on one side (in order, moving their text), the
        // runs of hits on the other.
        let mut extras: Vec<(Vec<ChunkSample>, BTreeMap<String, unmatched::Group>)> = chunks
            .iter_mut()
            .map(|c| {
                (
                    std::mem::take(&mut c.samples),
                    std::mem::take(&mut c.groups),
                )
            })
            .collect();
        let (mut runs, ()) = rayon::join(
            || {
                chunks
                    .par_chunks(per_run)
                    .zip(starts.par_chunks(per_run))
                    .map(|(chunks, starts)| RunTally::of(chunks, starts, context))
                    .collect::<Vec<_>>()
            },
            || {
                let total = extras.iter().map(|(samples, _)| samples.len()).sum();
                tally.samples.reserve(total);
                let mut sampled = FxHashSet::default();
                sampled.reserve(total);
                for ((samples, groups), &ChunkStart { line_base, carried }) in
                    extras.drain(..).zip(&starts)
                {
                    for sample in samples {
                        let time = sample.time.or_carried(carried);
                        if sampled.insert(samples::key(sample.code, time)) && window.contains(time)
                        {
                            tally.samples.push(HeldSample {
                                code: sample.code,
                                time,
                                line: line_base + sample.line_in_chunk + 1,
                                text: sample.text,
                                file: 0,
                            });
                        }
                    }
                    unmatched::add_chunk(&mut tally.groups, groups, line_base, carried);
                }
            },
        );
        // Each run's timed hits stay its own list: bursts read them all, in any order.
        let timed: Vec<Vec<(LogTime, u32)>> = runs
            .iter_mut()
            .map(|run| std::mem::take(&mut run.timed))
            .filter(|hits| !hits.is_empty())
            .collect();
        let mut runs = runs.into_iter();
        let mut whole = runs.next().unwrap_or_default();
        // Sized once (see `RunTally::then`).
        let rest = runs.as_slice();
        whole
            .hit_steps
            .reserve_exact(rest.iter().map(|r| r.hit_steps.len()).sum());
        whole
            .event_steps
            .reserve_exact(rest.iter().map(|r| r.event_steps.len()).sum());
        for run in runs {
            whole.then(run);
        }
        tally.groups.retain(|_, g| window.meets(g.min, g.max));
        // The listener's disconnects, then the events; within a file in line order.
        tally.story = whole.hit_steps;
        tally.story.append(&mut whole.event_steps);
        tally.story.sort_by_key(|s| s.line);
        sessions::link_causes(&mut tally.story);
        tally.codes = whole.codes;
        tally.timed = timed;
        tally.bytes_scanned = scanned.bytes_scanned;
        tally.summary = Some(FileSummary {
            path: file.rel_path.clone(),
            device: file.device.clone(),
            bytes: file.size,
            uncompressed_bytes: file.gzip.then_some(scanned.bytes_scanned),
            lines: joined.lines(),
            first: joined.first.map(|p| p.time),
            last: joined.last.map(|p| p.time),
            style: joined.style(),
            crlf: joined.crlf(),
            gzip: file.gzip,
            truncated_last_line: joined.truncated_last_line(),
            errors: whole.errors,
            encoding: scanned.encoding.map(str::to_string),
            warning: scanned.warning,
            fingerprint: file.fingerprint.clone(),
        });
        tally
    }
}

/// The rule (shape) whose hits are `onDisconnect…` listener callbacks.
const LISTENER_SHAPE: &str = "listener";

/// One code's occurrences in one file (inside the window).
#[derive(Clone, Debug, Default)]
pub(crate) struct CodeTally {
    pub(crate) code: u32,
    pub(crate) count: u64,
    /// Occurrences per rule index.
    pub(crate) per_rule: Vec<(usize, u64)>,
    /// Occurrences per minute (minutes since the epoch of the log's clock), in runs as the
    /// hits come: mostly one run per minute, since a file is written in time order.
    pub(crate) minutes: Vec<(i64, u64)>,
    /// The earliest timed occurrence (the first in line order among equal times).
    pub(crate) first: Option<(LogTime, u64)>,
    /// The line of the first occurrence without a time.
    pub(crate) first_untimed_line: Option<u64>,
    pub(crate) last: Option<LogTime>,
}

impl CodeTally {
    /// Adds the tally of the same code in a later part of the same file.
    fn then(&mut self, later: CodeTally) {
        self.count += later.count;
        for (rule, n) in later.per_rule {
            match self.per_rule.iter_mut().find(|(r, _)| *r == rule) {
                Some((_, have)) => *have += n,
                None => self.per_rule.push((rule, n)),
            }
        }
        let mut runs = later.minutes.into_iter();
        if let (Some(last), Some(next)) = (self.minutes.last_mut(), runs.as_slice().first())
            && last.0 == next.0
        {
            last.1 += next.1;
            runs.next();
        }
        self.minutes.extend(runs);
        // Everything here comes before `later` in line order: on equal times it stays first.
        if let Some((time, line)) = later.first
            && self.first.is_none_or(|(first, _)| time < first)
        {
            self.first = Some((time, line));
        }
        if let Some(line) = later.first_untimed_line {
            self.first_untimed_line.get_or_insert(line);
        }
        self.last = self.last.max(later.last);
    }

    fn add(&mut self, rule: usize, line: u64, time: Option<LogTime>) {
        self.count += 1;
        match self.per_rule.iter_mut().find(|(r, _)| *r == rule) {
            Some((_, n)) => *n += 1,
            None => self.per_rule.push((rule, 1)),
        }
        let Some(time) = time else {
            self.first_untimed_line.get_or_insert(line);
            return;
        };
        let minute = time.minute_index();
        match self.minutes.last_mut() {
            Some((m, n)) if *m == minute => *n += 1,
            _ => self.minutes.push((minute, 1)),
        }
        if self.first.is_none_or(|(first, _)| time < first) {
            self.first = Some((time, line));
        }
        if self.last.is_none_or(|last| time > last) {
            self.last = Some(time);
        }
    }
}

/// What one file adds to a summary. It is worked out for each file on its own (in parallel,
/// by [`summarize`]), then added file by file in report order, which is cheap: per code,
/// not per hit.
pub(crate) struct FileTally {
    pub(crate) rel_path: String,
    pub(crate) device: String,
    /// The file could not be scanned: why.
    pub(crate) failed: Option<String>,
    pub(crate) summary: Option<FileSummary>,
    pub(crate) bytes_scanned: u64,
    pub(crate) codes: Vec<CodeTally>,
    /// Timed error hits, for bursts: one list per run of chunks.
    pub(crate) timed: Vec<Vec<(LogTime, u32)>>,
    pub(crate) story: Vec<Step>,
    pub(crate) samples: Vec<HeldSample>,
    pub(crate) groups: BTreeMap<String, unmatched::Group>,
}

/// A sample line, from the file's scan (its text moved, not copied) until the end: the file
/// by index into the aggregator's files (set by the aggregator).
pub(crate) struct HeldSample {
    pub(crate) time: Option<LogTime>,
    pub(crate) line: u64,
    pub(crate) code: u32,
    pub(crate) file: usize,
    pub(crate) text: String,
}

impl HeldSample {
    /// The order samples are reported in: time (untimed first), path (`path_rank`, by file
    /// index, stands for it), line, code.
    pub(crate) fn key(&self, path_rank: &[usize]) -> (Option<LogTime>, usize, u64, u32) {
        let rank = path_rank.get(self.file).copied().unwrap_or(usize::MAX);
        (self.time, rank, self.line, self.code)
    }

    /// The sample as reported.
    pub(crate) fn to_line(&self, files: &[FileSummary]) -> SampleLine {
        let file = files.get(self.file);
        SampleLine {
            code: self.code,
            device: file.map(|f| f.device.clone()).unwrap_or_default(),
            path: file.map(|f| f.path.clone()).unwrap_or_default(),
            line: self.line,
            time: self.time,
            text: self.text.clone(),
        }
    }
}

impl FileTally {
    /// Why the file could not be scanned, if it could not.
    pub(crate) fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// A tally of `file` with nothing in it yet.
    fn empty(file: &LogFile) -> FileTally {
        FileTally {
            rel_path: file.rel_path.clone(),
            device: file.device.clone(),
            failed: None,
            summary: None,
            bytes_scanned: 0,
            codes: Vec::new(),
            timed: Vec::new(),
            story: Vec::new(),
            samples: Vec::new(),
            groups: BTreeMap::new(),
        }
    }

    /// The tally of a file scanned with [`read::scan_file_chunks`] and chunks kept (or why
    /// it could not be scanned), counting what lies in `context`'s window.
    pub(crate) fn of_findings(
        file: &LogFile,
        scanned: Result<&ScannedChunks<KeptChunk>, &ReadError>,
        context: &TallyContext,
    ) -> FileTally {
        let tallied = scanned.map(|s| ScannedChunks {
            parts: s
                .parts
                .iter()
                .map(|f| ChunkTally::of_kept(f, context))
                .collect(),
            bytes_scanned: s.bytes_scanned,
            warning: s.warning.clone(),
            encoding: s.encoding,
        });
        FileTally::join(file, tallied, context)
    }
}

/// The tallies of scans whose findings were kept (in parallel; each scan is dropped by the
/// worker that tallied it, not freed one by one afterwards).
pub(crate) fn tally_all(
    files: &[LogFile],
    results: Vec<Result<ScannedChunks<KeptChunk>, ReadError>>,
    context: &TallyContext,
) -> Vec<FileTally> {
    files
        .par_iter()
        .zip(results.into_par_iter())
        .map(|(file, result)| FileTally::of_findings(file, result.as_ref(), context))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Lines of every kind a chunk tally keeps: timed and untimed hits, connection events,
    /// failure lines no rule understands, and plain lines.
    const LINES: [&str; 7] = [
        "[2024/05/06 09:08:05:907]: Client_Login failed, code: 202; desc: auth\n",
        "[2024/05/06 09:09:01:000]: plain entry\n",
        "  continued, code: 300; desc: below an entry\n",
        "[2024/05/06 09:10:00:000]: log: level: 2, area: 1, handleDisconnect:13\n",
        "[2024/05/06 09:11:00:000]: connect failed with a strange reason\n",
        "untimed, errorCode=500\n",
        "[2024/05/06 09:12:00:000]: [global listener] onDisconnect206\n",
    ];

    /// What a file tally says, in comparable form (timed hits as one sorted list: their
    /// split into runs depends on the chunking).
    fn facts_of(tally: &FileTally) -> String {
        let mut timed: Vec<_> = tally.timed.iter().flatten().copied().collect();
        timed.sort();
        let samples: Vec<_> = tally
            .samples
            .iter()
            .map(|s| (s.time, s.code, s.line, s.text.clone()))
            .collect();
        format!(
            "{:?}\n{:?}\n{timed:?}\n{:?}\n{samples:?}\n{:?}",
            tally.summary, tally.codes, tally.story, tally.groups
        )
    }

    proptest! {
        /// Folding consecutive chunk tallies with `then` and joining the one result gives the
        /// file tally that joining them all gives, however the file is cut.
        #[test]
        fn chunk_tallies_folded_then_joined_equal_all_joined(
            picks in proptest::collection::vec(0..LINES.len(), 1..40),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let text: String = picks.iter().map(|&i| LINES[i]).collect();
            let bytes = text.as_bytes();
            let mut ends: Vec<usize> = cuts.iter().map(|c| c.index(picks.len())).collect();
            ends.sort_unstable();
            ends.dedup();
            let line_ends: Vec<usize> = bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1)
                .collect();
            let mut bounds: Vec<usize> = ends.iter().map(|&e| line_ends[e]).collect();
            bounds.push(bytes.len());
            bounds.dedup();
            let rules = RuleSet::with_user_rules(&[]).unwrap();
            let context = TallyContext::new(&rules, Window::default(), Collectors::deep(true));
            let mut start = 0;
            let mut tallies = Vec::new();
            for &end in &bounds {
                let chunk = &bytes[start..end];
                tallies.push(ChunkTally::of(chunk, chunks::scan_chunk(&rules, chunk), &context));
                start = end;
            }
            let file = LogFile {
                path: "easemob.log".into(),
                rel_path: "easemob.log".into(),
                device: "PC".into(),
                gzip: false,
                size: bytes.len() as u64,
                rotated_at: None,
                rotation_number: None,
                live: true,
                explicit: false,
                fingerprint: None,
            };
            let join = |parts: Vec<ChunkTally>| {
                let scanned = ScannedChunks {
                    parts,
                    bytes_scanned: bytes.len() as u64,
                    warning: None,
                    encoding: None,
                };
                FileTally::join(&file, Ok::<_, String>(scanned), &context)
            };
            let all = join(tallies.clone());
            let mut parts = tallies.into_iter();
            let mut folded = parts.next().unwrap();
            for part in parts {
                folded.then(part, &context);
            }
            prop_assert_eq!(facts_of(&join(vec![folded])), facts_of(&all));
        }
    }

    fn time(minute: u32, ms: u32) -> LogTime {
        LogTime::from_fields([2024, 5, 6, 9, minute, 0, ms]).expect("a valid time")
    }

    /// Joining a code's tallies of two consecutive parts of a file equals tallying the hits
    /// of both in order: the first of equal earliest times stays first, the runs of a minute
    /// that spans the cut become one.
    #[test]
    fn a_code_tally_joined_equals_one_tally_of_all_hits() {
        let hits: [(usize, u64, Option<LogTime>); 6] = [
            (0, 1, None),
            (0, 2, Some(time(5, 0))),
            (1, 3, Some(time(7, 0))),
            (0, 4, Some(time(7, 0))),
            (1, 5, Some(time(5, 0))),
            (0, 6, None),
        ];
        let tally = |hits: &[(usize, u64, Option<LogTime>)]| {
            let mut tally = CodeTally::default();
            for &(rule, line, time) in hits {
                tally.add(rule, line, time);
            }
            tally
        };
        let whole = tally(&hits);
        for cut in 0..=hits.len() {
            let mut joined = tally(&hits[..cut]);
            joined.then(tally(&hits[cut..]));
            assert_eq!(
                (
                    joined.count,
                    joined.first,
                    joined.first_untimed_line,
                    joined.last
                ),
                (
                    whole.count,
                    whole.first,
                    whole.first_untimed_line,
                    whole.last
                ),
                "cut at {cut}"
            );
            assert_eq!(joined.minutes, whole.minutes, "cut at {cut}");
            let mut per_rule = joined.per_rule.clone();
            per_rule.sort();
            assert_eq!(per_rule, whole.per_rule, "cut at {cut}");
        }
        assert_eq!(whole.first, Some((time(5, 0), 2)));
    }
}
