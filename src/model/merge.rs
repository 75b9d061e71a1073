//! Reading a saved summary, the empty summary, and merging two summaries into what one scan
//! of both inputs gives.

use std::collections::{BTreeMap, HashMap};

use super::order::{FileOrderKey, sort_skipped, under_root};
use super::{
    BadSummary, CodeSummary, Location, SAMPLES_PER_CODE, SCHEMA, SampleLine, Stats, Summary,
    Timeline, UnmatchedTemplate, by_frequency, template,
};
use crate::catalog::{Catalog, Lang, SUCCESS_CODE};
use crate::model::timeline::Bucket;

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
    pub fn from_json(text: &str, source: &str) -> Result<Summary, BadSummary> {
        let bad = |reason: String| BadSummary {
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
        sort_skipped(&mut skipped);
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
        tier: a.tier.or(b.tier),
        source: a.source.or(b.source),
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
    template::sorted(all)
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
            Err(BadSummary { .. })
        ));
        let mut other = serde_json::to_value(Summary::empty(catalog(), Lang::En)).unwrap();
        other["schema"] = "emscan.scan/9".into();
        let err = Summary::from_json(&other.to_string(), "b.json").unwrap_err();
        assert!(err.to_string().contains("emscan.scan/9"), "{err}");
    }
}
