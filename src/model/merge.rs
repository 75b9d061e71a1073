//! Reading a saved summary, the empty summary, and merging two summaries into what one scan
//! of both inputs gives.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::order::{FileOrderKey, sort_skipped, under_root};
use super::{
    BadSummary, CodeSummary, Location, READABLE_SCHEMAS, SAMPLES_PER_CODE, SCHEMA, SampleLine,
    Stats, Summary, Timeline, UnmatchedTemplate, by_frequency, template,
};
use crate::catalog::{Catalog, Lang, SUCCESS_CODE};
use crate::model::timeline::{Bucket, Cell};

impl Summary {
    /// Total error occurrences (known and unknown).
    pub fn error_count(&self) -> u64 {
        self.codes
            .iter()
            .chain(&self.unknown_codes)
            .map(|c| c.count)
            .sum()
    }

    /// Reads a saved summary (scan JSON, `emscan.scan/1` or `emscan.scan/2`); `source` names
    /// it in errors. The text is untrusted: besides its shape, the counts must agree with
    /// their parts and the timeline with its axis (`docs/CONTRACT.md`, Reading saved
    /// summaries). The summary read has the current [`SCHEMA`].
    pub fn from_json(text: &str, source: &str) -> Result<Summary, BadSummary> {
        let bad = |reason: String| BadSummary {
            path: source.to_string(),
            reason,
        };
        #[derive(serde::Deserialize)]
        struct Schema {
            schema: String,
        }
        let Schema { schema } = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if !READABLE_SCHEMAS.contains(&schema.as_str()) {
            return Err(bad(format!(
                "schema is {schema:?}, expected one of {}",
                READABLE_SCHEMAS.map(|s| format!("{s:?}")).join(", ")
            )));
        }
        let mut summary: Summary = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        summary.check_counts().map_err(bad)?;
        summary.schema = SCHEMA.to_string();
        Ok(summary)
    }

    /// Checks that the counts agree with their parts, as a scan makes them: each code's
    /// `per_file`, `per_device` and `per_shape` add up to its `count` and its `per_minute` to
    /// at most that; `per_file` keys are files listed and `per_device` keys their devices;
    /// `stats.errors` is the sum of the codes' counts and of the files' errors; `stats.files`
    /// the number of files; each template's `per_device` adds up to its count and each
    /// burst's codes to its errors; first times are not after last times; no code is listed
    /// twice. The error names the field.
    pub(crate) fn check_counts(&self) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for (list, codes) in [
            ("codes", &self.codes),
            ("unknown_codes", &self.unknown_codes),
        ] {
            for code in codes {
                let at = format!("{list}: code {}", code.code);
                if code.code == SUCCESS_CODE {
                    return Err(format!("{at}: code 0 is not an error (it goes in success)"));
                }
                if !seen.insert(code.code) {
                    return Err(format!("{at}: listed twice"));
                }
                check_code(code, &at)?;
            }
        }
        let paths: BTreeSet<&str> = self.files.iter().map(|f| f.path.as_str()).collect();
        let devices: BTreeSet<&str> = self.files.iter().map(|f| f.device.as_str()).collect();
        for code in self
            .codes
            .iter()
            .chain(&self.unknown_codes)
            .chain([&self.success])
        {
            if let Some(path) = code.per_file.keys().find(|p| !paths.contains(p.as_str())) {
                return Err(format!(
                    "code {}: per_file names {path:?}, which files does not list",
                    code.code
                ));
            }
            if let Some(device) = code
                .per_device
                .keys()
                .find(|d| !devices.contains(d.as_str()))
            {
                return Err(format!(
                    "code {}: per_device names {device:?}, the device of no file",
                    code.code
                ));
            }
        }
        if self.success.code != SUCCESS_CODE {
            return Err(format!("success: code is {}, not 0", self.success.code));
        }
        check_code(&self.success, "success")?;
        let errors = sum(
            self.codes
                .iter()
                .chain(&self.unknown_codes)
                .map(|c| c.count),
            "codes: count",
        )?;
        if errors != self.stats.errors {
            return Err(format!(
                "stats.errors is {}, the codes' counts add up to {errors}",
                self.stats.errors
            ));
        }
        let file_errors = sum(self.files.iter().map(|f| f.errors), "files: errors")?;
        if file_errors != self.stats.errors {
            return Err(format!(
                "stats.errors is {}, the files' errors add up to {file_errors}",
                self.stats.errors
            ));
        }
        if self.stats.files != self.files.len() as u64 {
            return Err(format!(
                "stats.files is {}, files lists {}",
                self.stats.files,
                self.files.len()
            ));
        }
        for file in &self.files {
            // A file's first and last entry times are in file order: a clock set back makes
            // the last one earlier, so only their presence is checked.
            if file.first.is_some() != file.last.is_some() {
                return Err(format!(
                    "files: {:?}: first and last must both be set, or neither",
                    file.path
                ));
            }
        }
        for t in &self.unmatched_templates {
            let at = format!("unmatched_templates: {:?}", t.template);
            check_parts(t.count, &t.per_device, &format!("{at}: per_device"))?;
            check_span(t.first, t.last, &at)?;
        }
        for b in &self.bursts {
            let at = format!("bursts: {} .. {}", b.start, b.end);
            check_span(Some(b.start), Some(b.end), &at)?;
            check_parts(b.errors, &b.codes, &format!("{at}: codes"))?;
        }
        Ok(())
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
            not_scanned: Vec::new(),
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
    ///
    /// Counts are added with checked arithmetic: a sum past `u64::MAX` is an error naming the
    /// field, not a wrapped or saturated number.
    pub fn merge(self, other: Summary) -> Result<Summary, CountOverflow> {
        // The empty summary is the identity, derived figures (timeline) included.
        if other.is_empty_input() {
            return Ok(self);
        }
        if self.is_empty_input() {
            return Ok(other);
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
        let codes = merge_code_lists(a.codes, b.codes, &order)?;
        let unknown_codes = merge_code_lists(a.unknown_codes, b.unknown_codes, &order)?;
        let success = merge_code(a.success, b.success, &order)?;
        let mut root = a.root;
        root.extend(b.root);
        let mut skipped = a.skipped;
        skipped.extend(b.skipped);
        sort_skipped(&mut skipped);
        let mut not_scanned = a.not_scanned;
        not_scanned.extend(b.not_scanned);
        not_scanned.sort();
        not_scanned.dedup();
        let (x, y) = (&a.stats, &b.stats);
        let stats = Stats {
            files: add(x.files, y.files, || "stats.files".into())?,
            bytes: add(x.bytes, y.bytes, || "stats.bytes".into())?,
            bytes_scanned: add(x.bytes_scanned, y.bytes_scanned, || {
                "stats.bytes_scanned".into()
            })?,
            lines: add(x.lines, y.lines, || "stats.lines".into())?,
            errors: add(x.errors, y.errors, || "stats.errors".into())?,
            elapsed_ms: add(x.elapsed_ms, y.elapsed_ms, || "stats.elapsed_ms".into())?,
        };
        let mut bursts = a.bursts;
        bursts.extend(b.bursts);
        bursts.sort_by(|x, y| (x.start, x.end, &x.devices).cmp(&(y.start, y.end, &y.devices)));
        let mut device_sessions = a.devices;
        device_sessions.extend(b.devices);
        device_sessions.sort_by(|x, y| x.name.cmp(&y.name));
        Ok(Summary {
            schema: SCHEMA.to_string(),
            root,
            timeline: timeline_of(&codes, &unknown_codes),
            codes,
            unknown_codes,
            success,
            files,
            skipped,
            not_scanned,
            stats,
            // A window survives a merge only when every input had the same one.
            window: if a.window == b.window { a.window } else { None },
            bursts,
            devices: device_sessions,
            unmatched_templates: merge_templates(a.unmatched_templates, b.unmatched_templates)?,
        })
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
            not_scanned,
            stats,
            window,
            timeline,
            bursts,
            devices,
            unmatched_templates,
        } = self;
        Summary {
            not_scanned: not_scanned.iter().map(|p| path(p)).collect(),
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

/// Relabels the keys of a bucket map. Labels are distinct for distinct keys (a file given
/// directly is the only key of its summary), so no counts meet.
fn relabel_keys(
    map: BTreeMap<String, u64>,
    label: &dyn Fn(&str) -> String,
) -> BTreeMap<String, u64> {
    map.into_iter().map(|(key, n)| (label(&key), n)).collect()
}

/// A count that a merge would take past `u64::MAX`.
#[derive(Debug, thiserror::Error)]
#[error("{field} adds up to more than {max}", max = u64::MAX)]
pub struct CountOverflow {
    /// The field, with the code, path or key it belongs to.
    pub field: String,
}

/// `a + b`, or the overflow of the field `field` names.
fn add(a: u64, b: u64, field: impl FnOnce() -> String) -> Result<u64, CountOverflow> {
    a.checked_add(b)
        .ok_or_else(|| CountOverflow { field: field() })
}

/// The sum of `counts`, or an error naming `field` when it passes `u64::MAX`.
fn sum(mut counts: impl Iterator<Item = u64>, field: &str) -> Result<u64, String> {
    counts.try_fold(0u64, |acc, n| {
        acc.checked_add(n)
            .ok_or_else(|| format!("{field} adds up to more than {}", u64::MAX))
    })
}

/// Checks that the counts of `parts` add up to `count`.
fn check_parts<K>(count: u64, parts: &BTreeMap<K, u64>, field: &str) -> Result<(), String> {
    let total = sum(parts.values().copied(), field)?;
    if total != count {
        return Err(format!("{field} adds up to {total}, the count is {count}"));
    }
    Ok(())
}

/// Checks that `first` is not after `last`, and that both are set or neither.
fn check_span(
    first: Option<crate::time::LogTime>,
    last: Option<crate::time::LogTime>,
    at: &str,
) -> Result<(), String> {
    match (first, last) {
        (Some(a), Some(b)) if a > b => Err(format!("{at}: first {a} is after last {b}")),
        (Some(_), None) | (None, Some(_)) => {
            Err(format!("{at}: first and last must both be set, or neither"))
        }
        _ => Ok(()),
    }
}

/// Checks one code's counts against their parts, and its per-minute keys against its span.
fn check_code(code: &CodeSummary, at: &str) -> Result<(), String> {
    check_parts(code.count, &code.per_file, &format!("{at}: per_file"))?;
    check_parts(code.count, &code.per_device, &format!("{at}: per_device"))?;
    check_parts(code.count, &code.per_shape, &format!("{at}: per_shape"))?;
    let timed = sum(
        code.per_minute.values().copied(),
        &format!("{at}: per_minute"),
    )?;
    if timed > code.count {
        return Err(format!(
            "{at}: per_minute adds up to {timed}, more than the count {}",
            code.count
        ));
    }
    check_span(code.first, code.last, at)?;
    if let (Some(first), Some(last)) = (code.first, code.last) {
        let keys = code.per_minute.keys();
        if let (Some(lo), Some(hi)) = (keys.clone().next(), keys.last())
            && (*lo < first.minute() || *hi > last.minute())
        {
            return Err(format!(
                "{at}: per_minute runs from {lo} to {hi}, outside first {first} .. last {last}"
            ));
        }
    } else if !code.per_minute.is_empty() {
        return Err(format!("{at}: per_minute is set without first and last"));
    }
    Ok(())
}

/// Adds the counts of `from` into `into`; `field` names a key's count in errors.
fn add_buckets<K: Ord>(
    into: &mut BTreeMap<K, u64>,
    from: BTreeMap<K, u64>,
    field: &dyn Fn(&K) -> String,
) -> Result<(), CountOverflow> {
    for (key, count) in from {
        let total = add(into.get(&key).copied().unwrap_or(0), count, || field(&key))?;
        into.insert(key, total);
    }
    Ok(())
}

/// The order of two places: report order of their files, then line.
type LocationOrder<'a> = dyn Fn(&Location, &Location) -> std::cmp::Ordering + 'a;

/// Merges two summaries of the same code.
fn merge_code(
    a: CodeSummary,
    b: CodeSummary,
    order: &LocationOrder<'_>,
) -> Result<CodeSummary, CountOverflow> {
    let at = a.code;
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
        count: add(a.count, b.count, || format!("code {at}: count"))?,
        first,
        last: a.last.max(b.last),
        first_at,
        per_file: a.per_file,
        per_device: a.per_device,
        per_shape: a.per_shape,
        per_minute: a.per_minute,
        hint: a.hint.or(b.hint),
        samples: earliest_samples(a.samples.into_iter().chain(b.samples), SAMPLES_PER_CODE),
        tier: a.tier.or(b.tier),
        source: a.source.or(b.source),
    };
    add_buckets(&mut out.per_file, b.per_file, &|k| {
        format!("code {at}: per_file[{k:?}]")
    })?;
    add_buckets(&mut out.per_device, b.per_device, &|k| {
        format!("code {at}: per_device[{k:?}]")
    })?;
    add_buckets(&mut out.per_shape, b.per_shape, &|k| {
        format!("code {at}: per_shape[{k:?}]")
    })?;
    add_buckets(&mut out.per_minute, b.per_minute, &|k| {
        format!("code {at}: per_minute[\"{k}\"]")
    })?;
    Ok(out)
}

/// The `keep` earliest sample lines (by time, then place).
fn earliest_samples(samples: impl Iterator<Item = SampleLine>, keep: usize) -> Vec<SampleLine> {
    let mut all: Vec<SampleLine> = samples.collect();
    all.sort_by(|a, b| (a.time, &a.path, a.line, a.code).cmp(&(b.time, &b.path, b.line, b.code)));
    all.truncate(keep);
    all
}

/// The timeline of merged codes, rebuilt from their per-minute counts (exact for any bucket
/// of whole minutes, which every bucket is): one cell per minute and code, whatever the counts.
fn timeline_of(codes: &[CodeSummary], unknown: &[CodeSummary]) -> Timeline {
    let cells: Vec<Cell> = codes
        .iter()
        .chain(unknown)
        .flat_map(|code| {
            code.per_minute
                .iter()
                .map(|(minute, &count)| (minute.start(), code.code, count))
        })
        .collect();
    let (Some(first), Some(last)) = (
        cells.iter().map(|c| c.0).min(),
        cells.iter().map(|c| c.0).max(),
    ) else {
        return Timeline::default();
    };
    Timeline::from_counts(&cells, (first, last), Bucket::default())
}

/// Unmatched templates of two summaries, merged by template.
fn merge_templates(
    a: Vec<UnmatchedTemplate>,
    b: Vec<UnmatchedTemplate>,
) -> Result<Vec<UnmatchedTemplate>, CountOverflow> {
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
                let at = format!("unmatched_templates[{:?}]", t.template);
                acc.count = add(acc.count, t.count, || format!("{at}: count"))?;
                acc.known_noise |= t.known_noise;
                add_buckets(&mut acc.per_device, t.per_device, &|k| {
                    format!("{at}: per_device[{k:?}]")
                })?;
            }
        }
    }
    Ok(template::sorted(all))
}

/// Merges two code lists by code, most frequent first.
fn merge_code_lists(
    a: Vec<CodeSummary>,
    b: Vec<CodeSummary>,
    order: &LocationOrder<'_>,
) -> Result<Vec<CodeSummary>, CountOverflow> {
    let mut by_code: BTreeMap<u32, CodeSummary> = BTreeMap::new();
    for code in a.into_iter().chain(b) {
        let merged = match by_code.remove(&code.code) {
            Some(existing) => merge_code(existing, code, order)?,
            None => code,
        };
        by_code.insert(merged.code, merged);
    }
    let mut codes: Vec<CodeSummary> = by_code.into_values().collect();
    by_frequency(&mut codes);
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Lang, catalog};
    use crate::model::FileSummary;
    use crate::model::order::Skipped;
    use crate::time::LogTime;
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
                    fingerprint: None,
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
                                    counted_elsewhere: false,
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
            let left = a.clone().merge(b.clone()).unwrap().merge(c.clone()).unwrap();
            let right = a.merge(b.merge(c).unwrap()).unwrap();
            prop_assert_eq!(left, right);
        }

        #[test]
        fn merge_is_commutative((a, b, _c) in three()) {
            let ab = without_root_order(a.clone().merge(b.clone()).unwrap());
            let ba = without_root_order(b.merge(a).unwrap());
            prop_assert_eq!(ab, ba);
        }

        #[test]
        fn empty_is_the_identity((a, _b, _c) in three()) {
            let empty = Summary::empty(catalog(), Lang::En);
            prop_assert_eq!(empty.clone().merge(a.clone()).unwrap(), a.clone());
            prop_assert_eq!(a.clone().merge(empty).unwrap(), a);
        }

        #[test]
        fn counts_add((a, b, c) in three()) {
            let total = a.error_count() + b.error_count() + c.error_count();
            let merged = a.merge(b).unwrap().merge(c).unwrap();
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
                fingerprint: None,
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
            counted_elsewhere: false,
        }];
        let merged = folder.merge(file).unwrap();
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
            Err(BadSummary { .. })
        ));
        let mut other = serde_json::to_value(Summary::empty(catalog(), Lang::En)).unwrap();
        other["schema"] = "emscan.scan/9".into();
        let err = Summary::from_json(&other.to_string(), "b.json").unwrap_err();
        assert!(err.to_string().contains("emscan.scan/9"), "{err}");
    }
}
