//! Aggregation: adds up per-file tallies, file by file in report order, into the
//! [`Summary`], and derives what needs every file (timeline, bursts, device sessions,
//! unmatched templates, samples).

use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::analyze::bursts::{self, DeviceErrors};
use crate::analyze::sessions::{self, Step};
use crate::analyze::tally::{CodeTally, FileTally, HeldSample};
use crate::analyze::unmatched;
use crate::catalog::{Catalog, Lang, SUCCESS_CODE};
use crate::input::discover::LogFile;
use crate::model::order::{Skipped, sort_skipped};
use crate::model::{
    Bucket, Burst, Cell, CodeSummary, DeviceSummary, FileSummary, Location, SAMPLES_PER_CODE,
    SCHEMA, SampleLine, Stats, Summary, Timeline, UnmatchedTemplate, Window, by_frequency,
};
use crate::search::rules::RuleSet;
use crate::time::{LogTime, Minute};

/// Sample lines kept per burst.
pub(crate) const SAMPLES_PER_BURST: usize = 3;

/// Counts `n` more under `key`, allocating the key only the first time it is seen.
fn bump_by(counts: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match counts.get_mut(key) {
        Some(count) => *count += n,
        None => {
            counts.insert(key.to_string(), n);
        }
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

/// Builds a [`Summary`] one file at a time, so a caller can stream: scan a file, add it, drop
/// its hits. [`summarize`] is this over a whole scan.
pub(crate) struct Aggregator<'a> {
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
    pub(crate) fn new(rules: &'a RuleSet, catalog: &'a Catalog, lang: Lang) -> Aggregator<'a> {
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
    pub(crate) fn with_window(mut self, window: Window, bucket: Bucket) -> Aggregator<'a> {
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
        // One file's samples move in whole (see `add_file`); those of several are gathered into
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
    pub(crate) fn add_file(&mut self, file: &LogFile, tally: FileTally) {
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
                counted_elsewhere: false,
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
        unmatched::add_file(&mut self.templates, &file.rel_path, &file.device, &groups);
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
    pub(crate) fn finish(
        self,
        roots: Vec<String>,
        mut skipped: Vec<Skipped>,
        elapsed_ms: u64,
    ) -> Summary {
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
        sort_skipped(&mut skipped);
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
                // Still unknown (not in the Windows table), but named when newer SDKs define it.
                let mut code = code;
                code.name_newer_code(catalog);
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
            not_scanned: Vec::new(),
            stats,
            window: (!window.is_open()).then_some(window),
            timeline,
            bursts,
            devices,
            unmatched_templates: crate::model::template::sorted(templates),
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
pub(crate) struct SummaryInput<'a> {
    /// The paths given.
    pub(crate) roots: Vec<String>,
    /// The files scanned.
    pub(crate) files: &'a [LogFile],
    /// The tally of each file, in the same order (see [`FileTally::new`] and [`tally_all`]).
    pub(crate) tallies: Vec<FileTally>,
    /// Paths discovery skipped.
    pub(crate) skipped: Vec<Skipped>,
    /// The rules used (for shape names).
    pub(crate) rules: &'a RuleSet,
    /// The catalog.
    pub(crate) catalog: &'a Catalog,
    /// Language of the hints.
    pub(crate) lang: Lang,
    /// Wall time of the scan.
    pub(crate) elapsed_ms: u64,
    /// Count only what lies in this window.
    pub(crate) window: Window,
    /// The timeline's bucket width.
    pub(crate) bucket: Bucket,
}

/// Builds the summary of a scan.
pub(crate) fn summarize(input: SummaryInput<'_>) -> Summary {
    let mut aggregator = Aggregator::new(input.rules, input.catalog, input.lang)
        .with_window(input.window, input.bucket);
    aggregator.reserve(&input.tallies);
    for (file, tally) in input.files.iter().zip(input.tallies) {
        aggregator.add_file(file, tally);
    }
    aggregator.finish(input.roots, input.skipped, input.elapsed_ms)
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
}
