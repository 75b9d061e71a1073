//! Aggregation: turns per-file hits into the [`Summary`], the one contract every output reads.
//!
//! The JSON format of `emscan scan --format json` *is* a serialised `Summary`.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::bursts::{self, Burst, DeviceErrors};
use crate::catalog::{Catalog, Category, Lang, SUCCESS_CODE};
use crate::discover::{self, FileOrderKey, LogFile, Skipped, under_root};
use crate::error::{Error, Result};
use crate::logtime::{LogTime, Minute, PrefixStyle};
use crate::rules::RuleSet;
use crate::samples;
use crate::scan::{self, ChunkFindings, ScanOptions, ScannedChunks};

mod chunked;
use crate::sessions::{self, DeviceSummary, Step};
use crate::timeline::{Bucket, Cell, Timeline};
use crate::unmatched::{self, UnmatchedTemplate};
pub use chunked::{ChunkTally, TallyContext};

/// Sample lines kept per code (the earliest).
pub const SAMPLES_PER_CODE: usize = 3;

/// Sample lines kept per burst.
pub const SAMPLES_PER_BURST: usize = 3;

/// The rule (shape) whose hits are `onDisconnect…` listener callbacks.
const LISTENER_SHAPE: &str = "listener";

/// A log line quoted as evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleLine {
    /// The code the line states.
    pub code: u32,
    /// The device.
    pub device: String,
    /// The file (relative path).
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// The entry time.
    pub time: Option<LogTime>,
    /// The line as written (lossy UTF-8, cut at 400 bytes); renderers escape it.
    pub text: String,
}

/// The time window a scan was restricted to (`--since`, `--until`): every figure counts only
/// what lies inside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The earliest time counted (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<LogTime>,
    /// The latest time counted (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<LogTime>,
}

impl Window {
    /// No restriction.
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// Whether something at `time` counts (without a time: only when the window is open).
    pub fn contains(&self, time: Option<LogTime>) -> bool {
        match time {
            None => self.is_open(),
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u),
        }
    }

    /// Whether the range `[first, last]` meets the window.
    pub fn meets(&self, first: Option<LogTime>, last: Option<LogTime>) -> bool {
        if self.is_open() {
            return true;
        }
        match (first, last) {
            (Some(a), Some(b)) => {
                self.since.is_none_or(|s| b >= s) && self.until.is_none_or(|u| a <= u)
            }
            _ => false,
        }
    }
}

/// The schema name of scan JSON.
pub const SCHEMA: &str = "emscan.scan/1";

/// A place in a log file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// The file's path relative to the scanned folder.
    pub path: String,
    /// 1-based line number.
    pub line: u64,
}

/// Everything known about one code across the scan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeSummary {
    /// The code.
    pub code: u32,
    /// The catalog name (absent for unknown codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The catalog category (absent for unknown codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// Occurrences.
    pub count: u64,
    /// Earliest entry time of an occurrence.
    pub first: Option<LogTime>,
    /// Latest entry time of an occurrence.
    pub last: Option<LogTime>,
    /// Where the earliest occurrence is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_at: Option<Location>,
    /// Occurrences per file (relative path).
    pub per_file: BTreeMap<String, u64>,
    /// Occurrences per device.
    pub per_device: BTreeMap<String, u64>,
    /// Occurrences per shape (rule name).
    pub per_shape: BTreeMap<String, u64>,
    /// Occurrences per minute of log time (written `YYYY-MM-DD HH:MM`).
    pub per_minute: BTreeMap<Minute, u64>,
    /// The catalog's remediation hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The earliest few lines stating the code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<SampleLine>,
}

impl CodeSummary {
    /// An empty summary for `code`, with catalog facts filled in when the catalog knows it.
    pub fn empty(code: u32, catalog: &Catalog, lang: Lang) -> CodeSummary {
        let info = catalog.get(code);
        CodeSummary {
            code,
            name: info.map(|i| i.name.clone()),
            category: info.map(|i| i.category),
            count: 0,
            first: None,
            last: None,
            first_at: None,
            per_file: BTreeMap::new(),
            per_device: BTreeMap::new(),
            per_shape: BTreeMap::new(),
            per_minute: BTreeMap::new(),
            hint: info
                .filter(|_| code != SUCCESS_CODE)
                .map(|i| i.hint(lang).to_string()),
            samples: Vec::new(),
        }
    }

    /// Number of devices the code occurred on.
    pub fn devices(&self) -> usize {
        self.per_device.len()
    }
}

/// One scanned file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Path relative to the scanned folder (`.gz` name kept).
    pub path: String,
    /// Device (first folder below the scanned folder).
    pub device: String,
    /// Size on disk.
    pub bytes: u64,
    /// Size after decompression (gzip files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncompressed_bytes: Option<u64>,
    /// Physical lines.
    pub lines: u64,
    /// First entry time.
    pub first: Option<LogTime>,
    /// Last entry time.
    pub last: Option<LogTime>,
    /// Prefix generation.
    pub style: Option<PrefixStyle>,
    /// CRLF line ends.
    pub crlf: bool,
    /// Gzip-compressed.
    pub gzip: bool,
    /// The last line has no terminator.
    pub truncated_last_line: bool,
    /// Error occurrences (code 0 excluded).
    pub errors: u64,
    /// The text encoding when it is not UTF-8 (`utf-16le`, `utf-16be`); the file was transcoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Why the file was only partly read, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Totals of a scan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Files scanned.
    pub files: u64,
    /// Bytes on disk.
    pub bytes: u64,
    /// Bytes scanned after decompression.
    pub bytes_scanned: u64,
    /// Physical lines.
    pub lines: u64,
    /// Error occurrences, known and unknown (code 0 excluded).
    pub errors: u64,
    /// Wall time of the scan.
    pub elapsed_ms: u64,
}

/// The result of a scan: what every renderer, the gate and the reports read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The paths given.
    pub root: Vec<String>,
    /// Catalog codes, most frequent first.
    pub codes: Vec<CodeSummary>,
    /// Codes outside the catalog, most frequent first.
    pub unknown_codes: Vec<CodeSummary>,
    /// Code 0.
    pub success: CodeSummary,
    /// Files scanned, in discovery order.
    pub files: Vec<FileSummary>,
    /// Paths that could not be scanned.
    pub skipped: Vec<Skipped>,
    /// Totals.
    pub stats: Stats,
    /// The `--since`/`--until` window every figure is restricted to (absent: the whole logs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Errors per time bucket, in total and per code.
    #[serde(default)]
    pub timeline: Timeline,
    /// Incident windows, in time order.
    #[serde(default)]
    pub bursts: Vec<Burst>,
    /// Per device: span, files, gaps, prefix generations, connection story.
    #[serde(default)]
    pub devices: Vec<DeviceSummary>,
    /// Failure-looking lines no rule found a code in, by template, most frequent first.
    #[serde(default)]
    pub unmatched_templates: Vec<UnmatchedTemplate>,
}

impl Summary {
    /// Total error occurrences (known and unknown).
    pub fn error_count(&self) -> u64 {
        self.codes
            .iter()
            .chain(&self.unknown_codes)
            .map(|c| c.count)
            .sum()
    }

    /// Reads a saved summary (scan JSON); `source` names it in errors.
    pub fn from_json(text: &str, source: &str) -> Result<Summary> {
        let bad = |reason: String| Error::BadSummary {
            path: source.to_string(),
            reason,
        };
        let summary: Summary = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if summary.schema != SCHEMA {
            return Err(bad(format!(
                "schema is {:?}, expected {SCHEMA:?}",
                summary.schema
            )));
        }
        Ok(summary)
    }

    /// The summary of no input at all: the identity of [`Summary::merge`].
    pub fn empty(catalog: &Catalog, lang: Lang) -> Summary {
        Summary {
            schema: SCHEMA.to_string(),
            root: Vec::new(),
            codes: Vec::new(),
            unknown_codes: Vec::new(),
            success: CodeSummary::empty(SUCCESS_CODE, catalog, lang),
            files: Vec::new(),
            skipped: Vec::new(),
            stats: Stats::default(),
            window: None,
            timeline: Timeline::default(),
            bursts: Vec::new(),
            devices: Vec::new(),
            unmatched_templates: Vec::new(),
        }
    }

    /// Whether this is the summary of no input at all (see [`Summary::empty`]).
    fn is_empty_input(&self) -> bool {
        self.root.is_empty() && self.files.is_empty() && self.skipped.is_empty()
    }

    /// Merges two summaries into what one scan of both inputs together gives.
    ///
    /// - `root`s concatenate. When the result has more than one root, the keys of an input
    ///   that has exactly one root are labelled as a scan of several paths labels them
    ///   (`ROOT/rel/path`, devices `ROOT/DEVICE`; a file given directly keeps the path as
    ///   given and its device), so keys from different inputs cannot collide.
    /// - Per code: counts and `per_*` buckets add; `first` is the minimum and `first_at`
    ///   follows it (equal times: the earlier file in report order, then the earlier line);
    ///   `last` is the maximum.
    /// - `files` are put in report order (device, folder, rotation, path), as a scan orders
    ///   them; `skipped` are sorted by path; `stats` add, `elapsed_ms` included (the sum of
    ///   the scans' wall times, i.e. CPU-side work, not the wall time of a fleet).
    ///
    /// Merging is associative and commutative, except that `root` keeps argument order (as
    /// a scan keeps the order of its paths). Names and hints are taken from `self` when it
    /// has them: merge summaries made with the same `--lang`.
    pub fn merge(self, other: Summary) -> Summary {
        // The empty summary is the identity, derived figures (timeline) included.
        if other.is_empty_input() {
            return self;
        }
        if self.is_empty_input() {
            return other;
        }
        let several = self.root.len() + other.root.len() > 1;
        let (a, b) = if several {
            (self.labelled_by_root(), other.labelled_by_root())
        } else {
            (self, other)
        };
        let mut files = a.files;
        files.extend(b.files);
        files.sort_by(|x, y| {
            FileOrderKey::from_label(&x.path, &x.device)
                .report_order(&FileOrderKey::from_label(&y.path, &y.device))
        });
        let devices: HashMap<&str, &str> = files
            .iter()
            .map(|f| (f.path.as_str(), f.device.as_str()))
            .collect();
        let order = |x: &Location, y: &Location| {
            let device = |l: &Location| devices.get(l.path.as_str()).copied().unwrap_or_default();
            FileOrderKey::from_label(&x.path, device(x))
                .report_order(&FileOrderKey::from_label(&y.path, device(y)))
                .then(x.line.cmp(&y.line))
        };
        let codes = merge_code_lists(a.codes, b.codes, &order);
        let unknown_codes = merge_code_lists(a.unknown_codes, b.unknown_codes, &order);
        let success = merge_code(a.success, b.success, &order);
        let mut root = a.root;
        root.extend(b.root);
        let mut skipped = a.skipped;
        skipped.extend(b.skipped);
        discover::sort_skipped(&mut skipped);
        let stats = Stats {
            files: a.stats.files + b.stats.files,
            bytes: a.stats.bytes + b.stats.bytes,
            bytes_scanned: a.stats.bytes_scanned + b.stats.bytes_scanned,
            lines: a.stats.lines + b.stats.lines,
            errors: a.stats.errors + b.stats.errors,
            elapsed_ms: a.stats.elapsed_ms.saturating_add(b.stats.elapsed_ms),
        };
        let mut bursts = a.bursts;
        bursts.extend(b.bursts);
        bursts.sort_by(|x, y| (x.start, x.end, &x.devices).cmp(&(y.start, y.end, &y.devices)));
        let mut device_sessions = a.devices;
        device_sessions.extend(b.devices);
        device_sessions.sort_by(|x, y| x.name.cmp(&y.name));
        Summary {
            schema: SCHEMA.to_string(),
            root,
            timeline: timeline_of(&codes, &unknown_codes),
            codes,
            unknown_codes,
            success,
            files,
            skipped,
            stats,
            // A window survives a merge only when every input had the same one.
            window: if a.window == b.window { a.window } else { None },
            bursts,
            devices: device_sessions,
            unmatched_templates: merge_templates(a.unmatched_templates, b.unmatched_templates),
        }
    }

    /// Relabels the keys of a one-root summary as a scan of several paths labels them.
    fn labelled_by_root(self) -> Summary {
        let [root] = self.root.as_slice() else {
            return self;
        };
        let root = root.clone();
        let name = root.rsplit(['/', '\\']).next().unwrap_or(&root).to_string();
        // A file given directly is labelled by the path as given; its device stays.
        let file_root = !name.is_empty()
            && (self.files.iter().any(|f| f.path == name)
                || (self.files.is_empty() && self.skipped.iter().any(|s| s.path == name)))
            && self.files.iter().all(|f| f.path == name);
        let path = |p: &str| -> String {
            if file_root {
                root.clone()
            } else {
                under_root(&root, p)
            }
        };
        let device = |d: &str| -> String {
            if file_root {
                d.to_string()
            } else {
                under_root(&root, d)
            }
        };
        // Discovery's own entries already carry the root; files that failed to read do not.
        let trimmed = root.trim_end_matches(['/', '\\']);
        let carries_root = |p: &str| {
            p == root
                || p.strip_prefix(trimmed)
                    .is_some_and(|rest| rest.starts_with(['/', '\\']))
        };
        let relabel_code = |mut c: CodeSummary| {
            c.per_file = relabel_keys(c.per_file, &path);
            c.per_device = relabel_keys(c.per_device, &device);
            if let Some(at) = c.first_at.as_mut() {
                at.path = path(&at.path);
            }
            c
        };
        let relabel_sample = |mut s: SampleLine| {
            s.path = path(&s.path);
            s.device = device(&s.device);
            s
        };
        let relabel_code = |c: CodeSummary| {
            let mut c = relabel_code(c);
            c.samples = c.samples.into_iter().map(relabel_sample).collect();
            c
        };
        let Summary {
            schema,
            root: roots,
            codes,
            unknown_codes,
            success,
            files,
            skipped,
            stats,
            window,
            timeline,
            bursts,
            devices,
            unmatched_templates,
        } = self;
        Summary {
            window,
            timeline,
            bursts: bursts
                .into_iter()
                .map(|mut b| {
                    b.devices = b.devices.iter().map(|d| device(d)).collect();
                    b.per_device = relabel_keys(b.per_device, &device);
                    b.samples = b.samples.into_iter().map(relabel_sample).collect();
                    b
                })
                .collect(),
            devices: devices
                .into_iter()
                .map(|mut d| {
                    d.name = device(&d.name);
                    d.files = d.files.iter().map(|f| path(f)).collect();
                    for gap in &mut d.gaps {
                        gap.after = path(&gap.after);
                        gap.before = path(&gap.before);
                    }
                    for entry in &mut d.story {
                        entry.path = path(&entry.path);
                    }
                    d
                })
                .collect(),
            unmatched_templates: unmatched_templates
                .into_iter()
                .map(|mut t| {
                    t.first_at.path = path(&t.first_at.path);
                    t.per_device = relabel_keys(t.per_device, &device);
                    t
                })
                .collect(),
            schema,
            root: roots,
            codes: codes.into_iter().map(relabel_code).collect(),
            unknown_codes: unknown_codes.into_iter().map(relabel_code).collect(),
            success: relabel_code(success),
            files: files
                .into_iter()
                .map(|mut f| {
                    f.path = path(&f.path);
                    f.device = device(&f.device);
                    f
                })
                .collect(),
            skipped: skipped
                .into_iter()
                .map(|mut s| {
                    if !carries_root(&s.path) {
                        s.path = path(&s.path);
                    }
                    s
                })
                .collect(),
            stats,
        }
    }
}

/// Relabels the keys of a bucket map, adding counts that land on the same key.
fn relabel_keys(
    map: BTreeMap<String, u64>,
    label: &dyn Fn(&str) -> String,
) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (key, count) in map {
        *out.entry(label(&key)).or_default() += count;
    }
    out
}

/// Adds the counts of `from` into `into`.
fn add_buckets<K: Ord>(into: &mut BTreeMap<K, u64>, from: BTreeMap<K, u64>) {
    for (key, count) in from {
        let slot = into.entry(key).or_default();
        *slot = slot.saturating_add(count);
    }
}

/// The order of two places: report order of their files, then line.
type LocationOrder<'a> = dyn Fn(&Location, &Location) -> std::cmp::Ordering + 'a;

/// Merges two summaries of the same code.
fn merge_code(a: CodeSummary, b: CodeSummary, order: &LocationOrder<'_>) -> CodeSummary {
    use std::cmp::Ordering;
    // The earliest occurrence: timed before untimed, then by time, then by place.
    let rank = |c: &CodeSummary, d: &CodeSummary| -> Ordering {
        match (c.first, d.first) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
        .then_with(|| match (&c.first_at, &d.first_at) {
            (Some(x), Some(y)) => order(x, y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
    };
    let (first, first_at) = if rank(&a, &b) == Ordering::Greater {
        (b.first, b.first_at.clone())
    } else {
        (a.first, a.first_at.clone())
    };
    let mut out = CodeSummary {
        code: a.code,
        name: a.name.or(b.name),
        category: a.category.or(b.category),
        count: a.count.saturating_add(b.count),
        first,
        last: a.last.max(b.last),
        first_at,
        per_file: a.per_file,
        per_device: a.per_device,
        per_shape: a.per_shape,
        per_minute: a.per_minute,
        hint: a.hint.or(b.hint),
        samples: earliest_samples(a.samples.into_iter().chain(b.samples), SAMPLES_PER_CODE),
    };
    add_buckets(&mut out.per_file, b.per_file);
    add_buckets(&mut out.per_device, b.per_device);
    add_buckets(&mut out.per_shape, b.per_shape);
    add_buckets(&mut out.per_minute, b.per_minute);
    out
}

/// The `keep` earliest sample lines (by time, then place).
fn earliest_samples(samples: impl Iterator<Item = SampleLine>, keep: usize) -> Vec<SampleLine> {
    let mut all: Vec<SampleLine> = samples.collect();
    all.sort_by(|a, b| (a.time, &a.path, a.line, a.code).cmp(&(b.time, &b.path, b.line, b.code)));
    all.truncate(keep);
    all
}

/// The timeline of merged codes, rebuilt from their per-minute counts (exact for any bucket
/// of whole minutes, which every bucket is).
fn timeline_of(codes: &[CodeSummary], unknown: &[CodeSummary]) -> Timeline {
    let mut hits = Vec::new();
    for code in codes.iter().chain(unknown) {
        for (minute, count) in &code.per_minute {
            hits.extend(std::iter::repeat_n(
                (minute.start(), code.code),
                usize::try_from(*count).unwrap_or(0),
            ));
        }
    }
    Timeline::build(&hits, Bucket::default())
}

/// Unmatched templates of two summaries, merged by template.
fn merge_templates(a: Vec<UnmatchedTemplate>, b: Vec<UnmatchedTemplate>) -> Vec<UnmatchedTemplate> {
    let mut all: BTreeMap<String, UnmatchedTemplate> = BTreeMap::new();
    for t in a.into_iter().chain(b) {
        match all.get_mut(&t.template) {
            None => {
                all.insert(t.template.clone(), t);
            }
            Some(acc) => {
                let place = |u: &UnmatchedTemplate| (u.first_at.path.clone(), u.first_at.line);
                let earlier = match (t.first, acc.first) {
                    (Some(x), Some(y)) => (x, place(&t)) < (y, place(acc)),
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => place(&t) < place(acc),
                };
                if earlier {
                    acc.first = t.first;
                    acc.first_at = t.first_at.clone();
                    acc.example = t.example.clone();
                }
                acc.last = acc.last.max(t.last);
                acc.count = acc.count.saturating_add(t.count);
                acc.known_noise |= t.known_noise;
                add_buckets(&mut acc.per_device, t.per_device);
            }
        }
    }
    unmatched::sorted(all)
}

/// Merges two code lists by code, most frequent first.
fn merge_code_lists(
    a: Vec<CodeSummary>,
    b: Vec<CodeSummary>,
    order: &LocationOrder<'_>,
) -> Vec<CodeSummary> {
    let mut by_code: BTreeMap<u32, CodeSummary> = BTreeMap::new();
    for code in a.into_iter().chain(b) {
        let merged = match by_code.remove(&code.code) {
            Some(existing) => merge_code(existing, code, order),
            None => code,
        };
        by_code.insert(merged.code, merged);
    }
    let mut codes: Vec<CodeSummary> = by_code.into_values().collect();
    by_frequency(&mut codes);
    codes
}

/// Counts `n` more under `key`, allocating the key only the first time it is seen.
fn bump_by(counts: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match counts.get_mut(key) {
        Some(count) => *count += n,
        None => {
            counts.insert(key.to_string(), n);
        }
    }
}

/// One code's occurrences in one file (inside the window).
#[derive(Clone, Debug, Default)]
struct CodeTally {
    code: u32,
    count: u64,
    /// Occurrences per rule index.
    per_rule: Vec<(usize, u64)>,
    /// Occurrences per minute (minutes since the epoch of the log's clock), in runs as the
    /// hits come: mostly one run per minute, since a file is written in time order.
    minutes: Vec<(i64, u64)>,
    /// The earliest timed occurrence (the first in line order among equal times).
    first: Option<(LogTime, u64)>,
    /// The line of the first occurrence without a time.
    first_untimed_line: Option<u64>,
    last: Option<LogTime>,
}

impl CodeTally {
    /// Adds the tally of the same code in a later part of the same file.
    fn absorb(&mut self, later: CodeTally) {
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
        let minute = samples::minute_of(time);
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
/// by [`summarize`]), then absorbed file by file in report order, which is cheap: per code,
/// not per hit.
pub struct FileTally {
    rel_path: String,
    device: String,
    /// The file could not be scanned: why.
    failed: Option<String>,
    summary: Option<FileSummary>,
    bytes_scanned: u64,
    codes: Vec<CodeTally>,
    /// Timed error hits, for bursts: one list per run of chunks.
    timed: Vec<Vec<(LogTime, u32)>>,
    story: Vec<Step>,
    samples: Vec<HeldSample>,
    groups: BTreeMap<String, unmatched::Group>,
}

/// A sample line, from the file's scan (its text moved, not copied) until the end: the file
/// by index into the aggregator's files (set by the aggregator).
struct HeldSample {
    time: Option<LogTime>,
    line: u64,
    code: u32,
    file: usize,
    text: String,
}

impl HeldSample {
    /// The order samples are reported in: time (untimed first), path (`path_rank`, by file
    /// index, stands for it), line, code.
    fn key(&self, path_rank: &[usize]) -> (Option<LogTime>, usize, u64, u32) {
        let rank = path_rank.get(self.file).copied().unwrap_or(usize::MAX);
        (self.time, rank, self.line, self.code)
    }

    /// The sample as reported.
    fn to_line(&self, files: &[FileSummary]) -> SampleLine {
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
    pub fn failure(&self) -> Option<&str> {
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

    /// The tally of a file scanned with [`scan::scan_file_chunks`] and findings kept (or why
    /// it could not be scanned), counting what lies in `context`'s window.
    pub fn of_findings(
        file: &LogFile,
        scanned: &std::result::Result<ScannedChunks<ChunkFindings>, String>,
        context: &TallyContext,
    ) -> FileTally {
        let tallied = scanned
            .as_ref()
            .map_err(Clone::clone)
            .map(|s| ScannedChunks {
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

    /// Scans `file` and tallies it, chunk by chunk on the workers that scan them (see
    /// [`chunked`]), counting what lies in `context`'s window.
    pub fn scan(
        file: &LogFile,
        rules: &RuleSet,
        opts: &ScanOptions,
        progress: &(dyn Fn(u64) + Sync),
        context: &TallyContext,
    ) -> FileTally {
        let scanned = scan::scan_file_chunks(file, rules, opts, progress, &|findings| {
            ChunkTally::of(findings, context)
        });
        FileTally::join(file, scanned, context)
    }
}

/// Counts `(rank, key, n)` as a map: sorted by rank (which orders keys as the map does) and
/// equal keys summed, so that the map is built in one pass.
fn in_key_order(mut counts: Vec<(usize, &str, u64)>) -> BTreeMap<String, u64> {
    counts.sort_unstable_by_key(|&(rank, _, _)| rank);
    let mut sorted: Vec<(String, u64)> = Vec::with_capacity(counts.len());
    for (_, key, n) in counts {
        match sorted.last_mut() {
            Some((last, count)) if last == key => *count += n,
            _ => sorted.push((key.to_string(), n)),
        }
    }
    sorted.into_iter().collect()
}

/// Each item's rank in the order of its key (equal keys, equal ranks).
fn ranks_by<'a>(len: usize, key: impl Fn(usize) -> &'a str) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| key(a).cmp(key(b)));
    let mut rank = vec![0; len];
    let mut current = 0;
    for (i, &item) in order.iter().enumerate() {
        if i > 0 && key(order[i - 1]) != key(item) {
            current = i;
        }
        rank[item] = current;
    }
    rank
}

/// What assembling a code's summary needs besides its tallies.
struct Assembly<'a> {
    files: &'a [FileSummary],
    rules: &'a RuleSet,
    catalog: &'a Catalog,
    lang: Lang,
    /// Each file's rank in path order (by index into `files`).
    path_rank: &'a [usize],
    /// Each file's device's rank in device-name order (by index into `files`).
    device_rank: &'a [usize],
}

/// One code's summary from its tallies in each file (`parts`, by index into `files`, in the
/// order the files were added), with its per-minute counts as timeline cells.
fn assemble_code<'t>(
    code: u32,
    parts: impl ExactSizeIterator<Item = (usize, &'t CodeTally)>,
    with: &Assembly<'_>,
) -> (CodeSummary, Vec<Cell>) {
    let mut entry = CodeSummary::empty(code, with.catalog, with.lang);
    let mut minutes = Vec::new();
    let mut per_file: Vec<(usize, &str, u64)> = Vec::with_capacity(parts.len());
    let mut per_device: Vec<(usize, &str, u64)> = Vec::with_capacity(parts.len());
    for (index, tally) in parts {
        let Some(file) = with.files.get(index) else {
            continue;
        };
        entry.count += tally.count;
        let rank = with.path_rank.get(index).copied().unwrap_or(usize::MAX);
        per_file.push((rank, &file.path, tally.count));
        let rank = with.device_rank.get(index).copied().unwrap_or(usize::MAX);
        per_device.push((rank, &file.device, tally.count));
        for &(rule, n) in &tally.per_rule {
            let shape = with
                .rules
                .rules()
                .get(rule)
                .map_or("?", |r| r.name.as_str());
            bump_by(&mut entry.per_shape, shape, n);
        }
        // Equal times keep the place added first.
        if let Some((time, line)) = tally.first
            && entry.first.is_none_or(|first| time < first)
        {
            entry.first = Some(time);
            entry.first_at = Some(Location {
                path: file.path.clone(),
                line,
            });
        }
        if let Some(line) = tally.first_untimed_line
            && entry.first_at.is_none()
        {
            entry.first_at = Some(Location {
                path: file.path.clone(),
                line,
            });
        }
        entry.last = entry.last.max(tally.last);
        minutes.extend_from_slice(&tally.minutes);
    }
    entry.per_file = in_key_order(per_file);
    entry.per_device = in_key_order(per_device);
    minutes.sort_unstable_by_key(|&(minute, _)| minute);
    let mut cells: Vec<Cell> = Vec::new();
    let mut per_minute: Vec<(Minute, u64)> = Vec::new();
    for (index, n) in minutes {
        match (cells.last_mut(), per_minute.last_mut()) {
            (Some(last), Some(keyed)) if keyed.0.index() == index => {
                last.2 += n;
                keyed.1 += n;
            }
            _ => {
                if let Some(minute) = Minute::from_index(index) {
                    cells.push((minute.start(), code, n));
                    per_minute.push((minute, n));
                }
            }
        }
    }
    // Built from keys in order: a bulk build, not an insertion per key.
    entry.per_minute = per_minute.into_iter().collect();
    (entry, cells)
}

/// Orders codes most frequent first, then by code.
fn by_frequency(codes: &mut [CodeSummary]) {
    codes.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
}

/// Builds a [`Summary`] one file at a time, so a caller can stream: scan a file, add it, drop
/// its hits. [`summarize`] is this over a whole scan.
pub struct Aggregator<'a> {
    rules: &'a RuleSet,
    catalog: &'a Catalog,
    lang: Lang,
    window: Window,
    bucket: Bucket,
    /// Per code, where its tally in each file is: the file (by index into `files` and
    /// `file_codes`) and the tally's place among that file's, in the order added.
    by_code: FxHashMap<u32, Vec<(usize, usize)>>,
    /// Each file's code tallies (they stay where the file's tally put them: moving them into
    /// per-code lists would copy them all).
    file_codes: Vec<Vec<CodeTally>>,
    files: Vec<FileSummary>,
    failed: Vec<Skipped>,
    stats: Stats,
    samples: Vec<HeldSample>,
    device_hits: BTreeMap<String, Vec<Vec<(LogTime, u32)>>>,
    stories: Vec<Vec<Step>>,
    templates: BTreeMap<String, UnmatchedTemplate>,
}

impl<'a> Aggregator<'a> {
    /// An empty aggregation; `rules` name the shapes, `catalog` and `lang` fill in code facts.
    pub fn new(rules: &'a RuleSet, catalog: &'a Catalog, lang: Lang) -> Aggregator<'a> {
        Aggregator {
            rules,
            catalog,
            lang,
            window: Window::default(),
            bucket: Bucket::default(),
            by_code: FxHashMap::default(),
            file_codes: Vec::new(),
            files: Vec::new(),
            failed: Vec::new(),
            stats: Stats::default(),
            samples: Vec::new(),
            device_hits: BTreeMap::new(),
            stories: Vec::new(),
            templates: BTreeMap::new(),
        }
    }

    /// Counts only what lies in `window`, and buckets the timeline by `bucket`.
    pub fn with_window(mut self, window: Window, bucket: Bucket) -> Aggregator<'a> {
        self.window = window;
        self.bucket = bucket;
        self
    }

    /// Makes room for `tallies` at once: growing the long lists one file at a time would
    /// copy them again and again, into fresh memory each time.
    fn reserve(&mut self, tallies: &[FileTally]) {
        self.files.reserve(tallies.len());
        self.file_codes.reserve(tallies.len());
        self.stories.reserve(tallies.len());
        // One file's samples move in whole (see `absorb`); those of several are gathered into
        // one list, sized once.
        if tallies.iter().filter(|t| !t.samples.is_empty()).count() > 1 {
            self.samples
                .reserve(tallies.iter().map(|t| t.samples.len()).sum());
        }
        let mut files_by_code: FxHashMap<u32, usize> = FxHashMap::default();
        for code in tallies.iter().flat_map(|t| &t.codes) {
            *files_by_code.entry(code.code).or_default() += 1;
        }
        for (code, files) in files_by_code {
            self.by_code.entry(code).or_default().reserve(files);
        }
    }

    /// Adds a file's [`FileTally`] (made with this aggregator's rules and window).
    pub fn absorb(&mut self, file: &LogFile, tally: FileTally) {
        let FileTally {
            rel_path,
            device,
            failed,
            summary,
            bytes_scanned,
            codes,
            timed,
            story,
            mut samples,
            groups,
        } = tally;
        if let Some(reason) = failed {
            self.failed.push(Skipped {
                path: rel_path,
                reason,
            });
            return;
        }
        let Some(summary) = summary else {
            return;
        };
        let index = self.files.len();
        for (place, code) in codes.iter().enumerate() {
            self.by_code
                .entry(code.code)
                .or_default()
                .push((index, place));
        }
        self.file_codes.push(codes);
        if !timed.is_empty() {
            // The lists move; their hits are not copied.
            self.device_hits.entry(device).or_default().extend(timed);
        }
        for sample in &mut samples {
            sample.file = index;
        }
        if self.samples.capacity() == 0 {
            self.samples = samples;
        } else {
            self.samples.append(&mut samples);
        }
        self.stories.push(story);
        unmatched::absorb(&mut self.templates, &file.rel_path, &file.device, &groups);
        self.stats.files += 1;
        self.stats.bytes += file.size;
        self.stats.bytes_scanned += bytes_scanned;
        self.stats.lines += summary.lines;
        self.stats.errors += summary.errors;
        self.files.push(summary);
    }

    /// The summary: `roots` as given, `skipped` from discovery (files that failed to read are
    /// added to them), and the wall time. Timeline, bursts, device sessions and unmatched
    /// templates are derived here, from everything added.
    pub fn finish(self, roots: Vec<String>, mut skipped: Vec<Skipped>, elapsed_ms: u64) -> Summary {
        let Aggregator {
            catalog,
            lang,
            window,
            bucket,
            by_code,
            file_codes,
            files,
            failed,
            mut stats,
            mut samples,
            device_hits,
            stories,
            templates,
            rules,
            ..
        } = self;
        stats.elapsed_ms = elapsed_ms;
        skipped.extend(failed);
        discover::sort_skipped(&mut skipped);
        // Paths and devices in order once, as ranks: per-file and per-device maps and
        // samples sort by them.
        let (path_rank, device_rank) = rayon::join(
            || ranks_by(files.len(), |i| &files[i].path),
            || ranks_by(files.len(), |i| &files[i].device),
        );
        // The codes on one side; samples, device sessions and bursts (which need none of
        // them) on the other.
        let (assembled, (mut sampled, devices, bursts)) = rayon::join(
            || {
                let with = Assembly {
                    files: &files,
                    rules,
                    catalog,
                    lang,
                    path_rank: &path_rank,
                    device_rank: &device_rank,
                };
                // Per code, its files' tallies become its summary: codes in parallel.
                by_code
                    .into_par_iter()
                    .map(|(code, parts)| {
                        let tallies = parts
                            .iter()
                            .map(|&(file, place)| (file, &file_codes[file][place]));
                        assemble_code(code, tallies, &with)
                    })
                    .collect::<Vec<(CodeSummary, Vec<Cell>)>>()
            },
            || {
                let sampled = samples_by_code(&mut samples, &path_rank, &files);
                let devices = sessions::devices(&files, &stories);
                let bursts = bursts_of(&devices, device_hits, window, &samples, &files);
                (sampled, devices, bursts)
            },
        );
        let mut span: Option<(LogTime, LogTime)> = None;
        let mut cells = Vec::new();
        let mut success = CodeSummary::empty(SUCCESS_CODE, catalog, lang);
        let mut codes = Vec::new();
        let mut unknown_codes = Vec::new();
        for (code, minutes) in assembled {
            if code.code == SUCCESS_CODE {
                success = code;
                continue;
            }
            if let (Some(first), Some(last)) = (code.first, code.last) {
                span = Some(span.map_or((first, last), |(a, b)| (a.min(first), b.max(last))));
            }
            cells.extend(minutes);
            if catalog.get(code.code).is_some() {
                codes.push(code);
            } else {
                unknown_codes.push(code);
            }
        }
        by_frequency(&mut codes);
        by_frequency(&mut unknown_codes);
        for code in codes.iter_mut().chain(unknown_codes.iter_mut()) {
            code.samples = sampled.remove(&code.code).unwrap_or_default();
        }
        let timeline = span.map_or_else(Timeline::default, |span| {
            Timeline::from_counts(&cells, span, bucket)
        });
        Summary {
            schema: SCHEMA.to_string(),
            root: roots,
            codes,
            unknown_codes,
            success,
            files,
            skipped,
            stats,
            window: (!window.is_open()).then_some(window),
            timeline,
            bursts,
            devices,
            unmatched_templates: unmatched::sorted(templates),
        }
    }
}

/// Sorts `samples` earliest first (by time, then path: `path_rank` stands for paths) and
/// returns each code's first few, as reported.
fn samples_by_code(
    samples: &mut [HeldSample],
    path_rank: &[usize],
    files: &[FileSummary],
) -> FxHashMap<u32, Vec<SampleLine>> {
    samples.par_sort_unstable_by_key(|sample| sample.key(path_rank));
    let mut per_code: FxHashMap<u32, Vec<SampleLine>> = FxHashMap::default();
    for sample in samples.iter() {
        let kept = per_code.entry(sample.code).or_default();
        if kept.len() < SAMPLES_PER_CODE {
            kept.push(sample.to_line(files));
        }
    }
    per_code
}

/// The bursts of each device's timed errors (`device_hits`), the background measured inside
/// `window`, with a few of `samples` (sorted, see [`samples_by_code`]) from inside each.
fn bursts_of(
    devices: &[DeviceSummary],
    mut device_hits: BTreeMap<String, Vec<Vec<(LogTime, u32)>>>,
    window: Window,
    samples: &[HeldSample],
    files: &[FileSummary],
) -> Vec<Burst> {
    let inputs: Vec<DeviceErrors<'_>> = devices
        .iter()
        .map(|d| DeviceErrors {
            name: &d.name,
            span: d.first.zip(d.last).map(|(a, b)| {
                (
                    window.since.map_or(a, |s| a.max(s)),
                    window.until.map_or(b, |u| b.min(u)),
                )
            }),
            hits: device_hits.remove(&d.name).unwrap_or_default(),
        })
        .collect();
    let mut bursts = bursts::detect(&inputs);
    bursts
        .par_iter_mut()
        .for_each(|burst| burst.samples = burst_samples(burst, samples, files));
    bursts
}

/// What [`summarize`] needs besides the per-file results.
pub struct SummaryInput<'a> {
    /// The paths given.
    pub roots: Vec<String>,
    /// The files scanned.
    pub files: &'a [LogFile],
    /// The tally of each file, in the same order (see [`FileTally::new`] and [`tally_all`]).
    pub tallies: Vec<FileTally>,
    /// Paths discovery skipped.
    pub skipped: Vec<Skipped>,
    /// The rules used (for shape names).
    pub rules: &'a RuleSet,
    /// The catalog.
    pub catalog: &'a Catalog,
    /// Language of the hints.
    pub lang: Lang,
    /// Wall time of the scan.
    pub elapsed_ms: u64,
    /// Count only what lies in this window.
    pub window: Window,
    /// The timeline's bucket width.
    pub bucket: Bucket,
}

/// Builds the summary of a scan.
pub fn summarize(input: SummaryInput<'_>) -> Summary {
    let mut aggregator = Aggregator::new(input.rules, input.catalog, input.lang)
        .with_window(input.window, input.bucket);
    aggregator.reserve(&input.tallies);
    for (file, tally) in input.files.iter().zip(input.tallies) {
        aggregator.absorb(file, tally);
    }
    aggregator.finish(input.roots, input.skipped, input.elapsed_ms)
}

/// The tallies of scans whose findings were kept (in parallel; each scan is dropped by the
/// worker that tallied it, not freed one by one afterwards).
pub fn tally_all(
    files: &[LogFile],
    results: Vec<std::result::Result<ScannedChunks<ChunkFindings>, String>>,
    context: &TallyContext,
) -> Vec<FileTally> {
    files
        .par_iter()
        .zip(results.into_par_iter())
        .map(|(file, result)| FileTally::of_findings(file, &result, context))
        .collect()
}

/// A few lines from inside a burst: the first line of each of its most frequent codes.
///
/// `samples` must be sorted by time (untimed first), as `finish` sorts them: the burst's
/// samples are then one slice, found by binary search.
fn burst_samples(burst: &Burst, samples: &[HeldSample], files: &[FileSummary]) -> Vec<SampleLine> {
    let from = samples.partition_point(|s| s.time.is_none_or(|t| t < burst.start));
    let to = samples.partition_point(|s| s.time.is_none_or(|t| t <= burst.end));
    // The burst's codes, most frequent first, each with the first sample of it inside.
    let mut codes: Vec<(&String, &u64)> = burst.codes.iter().collect();
    codes.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut firsts: Vec<(u32, Option<&HeldSample>)> = codes
        .iter()
        .filter_map(|(code, _)| Some((code.parse::<u32>().ok()?, None)))
        .collect();
    // One pass over the burst's time: a sample's device is looked at (by name) only when its
    // code still lacks one; other devices' samples in the same minutes are most of the slice.
    let mut missing = firsts.len();
    for s in &samples[from..to.max(from)] {
        if missing == 0 {
            break;
        }
        let Some(slot) = firsts.iter_mut().find(|(code, _)| *code == s.code) else {
            continue;
        };
        if slot.1.is_none()
            && files
                .get(s.file)
                .is_some_and(|f| burst.devices.contains(&f.device))
        {
            slot.1 = Some(s);
            missing -= 1;
        }
    }
    let mut out: Vec<SampleLine> = firsts
        .iter()
        .filter_map(|(_, first)| *first)
        .take(SAMPLES_PER_BURST)
        .map(|s| s.to_line(files))
        .collect();
    out.sort_by(|a, b| (a.time, &a.path, a.line).cmp(&(b.time, &b.path, b.line)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
            joined.absorb(tally(&hits[cut..]));
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

    #[test]
    fn ranks_follow_key_order_and_maps_sum_equal_keys() {
        let keys = ["b/x", "a/y", "b/x", "c"];
        assert_eq!(ranks_by(keys.len(), |i| keys[i]), [1, 0, 1, 3]);
        let map = in_key_order(vec![
            (3, "c", 1),
            (1, "b/x", 2),
            (0, "a/y", 4),
            (1, "b/x", 5),
        ]);
        let want: BTreeMap<String, u64> =
            [("a/y".into(), 4), ("b/x".into(), 7), ("c".into(), 1)].into();
        assert_eq!(map, want);
    }
    use crate::catalog::catalog;
    use proptest::prelude::*;

    const DEVICES: [&str; 3] = ["PC-A", "PC-B", "PC-C"];
    const NAMES: [&str; 3] = [
        "easemob_2024-05-06_09-00-00.log.gz",
        "easemob_2024-05-06_10-00-00.log",
        "easemob.log",
    ];

    fn time(minute: u32, ms: u32) -> LogTime {
        LogTime::from_fields([2024, 5, 6, 9, minute, 0, ms]).expect("a valid time")
    }

    /// A code summary over `paths` (file path, device), internally consistent enough for the
    /// merge laws: buckets, first/last and first_at drawn from small sets so that ties happen.
    fn code_summary(code: u32, paths: Vec<(String, String)>) -> impl Strategy<Value = CodeSummary> {
        let n = paths.len();
        (
            1u64..20,
            proptest::option::of((0u32..3, 0u32..2, 0u32..3)),
            0usize..n.max(1),
            1u64..50,
            proptest::collection::btree_map("(cb_json|kv|listener)", 1u64..5, 0..3),
        )
            .prop_map(move |(count, times, at, line, per_shape)| {
                let mut c = CodeSummary::empty(code, catalog(), Lang::En);
                c.count = count;
                if let Some((path, device)) = paths.get(at) {
                    c.first_at = Some(Location {
                        path: path.clone(),
                        line,
                    });
                    c.per_file.insert(path.clone(), count);
                    c.per_device.insert(device.clone(), count);
                }
                if let Some((first, ms, span)) = times {
                    c.first = Some(time(first, ms));
                    c.last = Some(time(first + span, ms));
                    c.per_minute.insert(time(first, ms).minute(), count.min(3));
                }
                c.per_shape = per_shape;
                c
            })
    }

    /// A one-root summary named `root`, with files under it and a few codes.
    fn summary(root: String) -> impl Strategy<Value = Summary> {
        proptest::collection::btree_set((0usize..3, 0usize..3), 0..4).prop_flat_map(move |picks| {
            let files: Vec<FileSummary> = picks
                .iter()
                .map(|&(d, n)| FileSummary {
                    path: format!("{}/{}", DEVICES[d], NAMES[n]),
                    device: DEVICES[d].to_string(),
                    bytes: 100,
                    uncompressed_bytes: None,
                    lines: 10,
                    first: None,
                    last: None,
                    style: None,
                    crlf: false,
                    gzip: false,
                    truncated_last_line: false,
                    errors: 1,
                    encoding: None,
                    warning: None,
                })
                .collect();
            let paths: Vec<(String, String)> = files
                .iter()
                .map(|f| (f.path.clone(), f.device.clone()))
                .collect();
            let codes = proptest::sample::subsequence(vec![2u32, 201, 300, 110], 0..4);
            let root = root.clone();
            (codes, Just(files), Just(paths), any::<bool>()).prop_flat_map(
                move |(codes, files, paths, skip)| {
                    let root = root.clone();
                    let strategies: Vec<_> = codes
                        .iter()
                        .map(|&code| code_summary(code, paths.clone()))
                        .collect();
                    (strategies, code_summary(0, paths.clone())).prop_map(
                        move |(codes, success)| {
                            let (mut known, mut unknown): (Vec<_>, Vec<_>) =
                                codes.into_iter().partition(|c| c.name.is_some());
                            by_frequency(&mut known);
                            by_frequency(&mut unknown);
                            let skipped = if skip {
                                vec![Skipped {
                                    path: format!("{root}/PC-X/easemob.log"),
                                    reason: "permission denied".into(),
                                }]
                            } else {
                                Vec::new()
                            };
                            Summary {
                                schema: SCHEMA.to_string(),
                                root: vec![root.clone()],
                                stats: Stats {
                                    files: files.len() as u64,
                                    errors: known.iter().chain(&unknown).map(|c| c.count).sum(),
                                    ..Stats::default()
                                },
                                codes: known,
                                unknown_codes: unknown,
                                success,
                                files: files.clone(),
                                skipped,
                                ..Summary::empty(catalog(), Lang::En)
                            }
                        },
                    )
                },
            )
        })
    }

    fn three() -> impl Strategy<Value = (Summary, Summary, Summary)> {
        (
            summary("bundle-1".into()),
            summary("logs/bundle-2/".into()),
            summary("bundle-3".into()),
        )
    }

    /// Merge laws hold up to the order of `root`, which follows argument order.
    fn without_root_order(mut s: Summary) -> Summary {
        s.root.sort();
        s
    }

    proptest! {
        #[test]
        fn merge_is_associative((a, b, c) in three()) {
            let left = a.clone().merge(b.clone()).merge(c.clone());
            let right = a.merge(b.merge(c));
            prop_assert_eq!(left, right);
        }

        #[test]
        fn merge_is_commutative((a, b, _c) in three()) {
            let ab = without_root_order(a.clone().merge(b.clone()));
            let ba = without_root_order(b.merge(a));
            prop_assert_eq!(ab, ba);
        }

        #[test]
        fn empty_is_the_identity((a, _b, _c) in three()) {
            let empty = Summary::empty(catalog(), Lang::En);
            prop_assert_eq!(empty.clone().merge(a.clone()), a.clone());
            prop_assert_eq!(a.clone().merge(empty), a);
        }

        #[test]
        fn counts_add((a, b, c) in three()) {
            let total = a.error_count() + b.error_count() + c.error_count();
            let merged = a.merge(b).merge(c);
            prop_assert_eq!(merged.error_count(), total);
            prop_assert_eq!(merged.stats.errors, total);
        }
    }

    #[test]
    fn merge_labels_keys_by_root_and_keeps_file_roots() {
        let folder = Summary {
            root: vec!["b1".into()],
            files: vec![FileSummary {
                path: "PC-A/easemob.log".into(),
                device: "PC-A".into(),
                bytes: 1,
                uncompressed_bytes: None,
                lines: 1,
                first: None,
                last: None,
                style: None,
                crlf: false,
                gzip: false,
                truncated_last_line: false,
                errors: 0,
                encoding: None,
                warning: None,
            }],
            ..Summary::empty(catalog(), Lang::En)
        };
        let mut file = folder.clone();
        file.root = vec!["x/PC-B/easemob.log".into()];
        file.files[0].path = "easemob.log".into();
        file.files[0].device = "PC-B".into();
        file.skipped = vec![Skipped {
            path: "easemob.log".into(),
            reason: "r".into(),
        }];
        let merged = folder.merge(file);
        let paths: Vec<(&str, &str)> = merged
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.device.as_str()))
            .collect();
        assert_eq!(
            paths,
            [
                ("x/PC-B/easemob.log", "PC-B"),
                ("b1/PC-A/easemob.log", "b1/PC-A")
            ]
        );
        assert_eq!(merged.skipped[0].path, "x/PC-B/easemob.log");
    }

    #[test]
    fn bad_summaries_are_refused() {
        assert!(matches!(
            Summary::from_json("{}", "a.json"),
            Err(Error::BadSummary { .. })
        ));
        let mut other = serde_json::to_value(Summary::empty(catalog(), Lang::En)).unwrap();
        other["schema"] = "emscan.scan/9".into();
        let err = Summary::from_json(&other.to_string(), "b.json").unwrap_err();
        assert!(err.to_string().contains("emscan.scan/9"), "{err}");
    }
}
