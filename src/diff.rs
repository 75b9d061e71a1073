//! Comparing two scans: per code, the count before and after, its change in percent and its
//! rate per hour of each scan's log time; new and vanished codes.
//!
//! No I/O here: the CLI loads or scans both sides and hands in two [`Summary`] values.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Summary;
use crate::model::CodeSummary;
use crate::time::LogTime;

/// The shortest span a rate is computed over, so that a burst within one second does not read
/// as thousands per hour (the gate's `--max-rate` uses the same floor).
const MIN_SPAN_MS: i64 = 60_000;

/// The schema name of `emscan diff --format json`.
pub(crate) const SCHEMA: &str = "emscan.diff/1";

/// How a code's count moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ChangeKind {
    /// Absent before, present now.
    New,
    /// Present before, absent now.
    Vanished,
    /// More than before.
    Up,
    /// Fewer than before.
    Down,
    /// As many as before.
    Same,
}

/// The log time one side of a comparison covers: from its earliest to its latest file time,
/// within its `--since`/`--until` window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub(crate) struct Span {
    /// The earliest log time.
    pub(crate) first: LogTime,
    /// The latest log time.
    pub(crate) last: LogTime,
    /// Hours from `first` to `last`, at least one minute's worth: the divisor of the rates.
    pub(crate) hours: f64,
}

impl Span {
    fn of(summary: &Summary) -> Option<Span> {
        let mut first = summary.files.iter().filter_map(|f| f.first).min()?;
        let mut last = summary.files.iter().filter_map(|f| f.last).max()?;
        if let Some(window) = &summary.window {
            first = window.since.map_or(first, |since| since.max(first));
            last = window.until.map_or(last, |until| until.min(last));
        }
        let millis = (last.epoch_millis() - first.epoch_millis()).max(MIN_SPAN_MS);
        Some(Span {
            first,
            last,
            hours: millis as f64 / 3_600_000.0,
        })
    }

    fn per_hour(span: Option<Span>, count: u64) -> Option<f64> {
        span.map(|s| count as f64 / s.hours)
    }
}

impl ChangeKind {
    /// The lowercase name (`new`, `vanished`, `up`, `down`, `same`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::Vanished => "vanished",
            ChangeKind::Up => "up",
            ChangeKind::Down => "down",
            ChangeKind::Same => "same",
        }
    }
}

/// One code in both scans.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct CodeChange {
    /// The code.
    pub(crate) code: u32,
    /// The catalog name (absent for unknown codes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// Occurrences in the old scan.
    pub(crate) before: u64,
    /// Occurrences in the new scan.
    pub(crate) after: u64,
    /// `after - before`.
    pub(crate) change: i64,
    /// The change in percent of `before` (absent for a new code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) percent: Option<f64>,
    /// Occurrences per hour of the old scan's span (absent when it has no log time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) per_hour_before: Option<f64>,
    /// Occurrences per hour of the new scan's span (absent when it has no log time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) per_hour_after: Option<f64>,
    /// How it moved.
    pub(crate) kind: ChangeKind,
}

/// The comparison of two scans.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Diff {
    /// Always [`SCHEMA`].
    pub(crate) schema: &'static str,
    /// The old scan's paths.
    pub(crate) old_root: Vec<String>,
    /// The new scan's paths.
    pub(crate) new_root: Vec<String>,
    /// The old scan's log time (absent when it has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) old_span: Option<Span>,
    /// The new scan's log time (absent when it has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) new_span: Option<Span>,
    /// Error occurrences in the old scan.
    pub(crate) before: u64,
    /// Error occurrences in the new scan.
    pub(crate) after: u64,
    /// Every error code of either scan, biggest absolute change first (then most occurrences
    /// now, then by code).
    pub(crate) changes: Vec<CodeChange>,
}

impl Diff {
    /// Codes only the new scan has.
    pub(crate) fn new_codes(&self) -> impl Iterator<Item = &CodeChange> {
        self.changes.iter().filter(|c| c.kind == ChangeKind::New)
    }

    /// Codes only the old scan has.
    pub(crate) fn vanished_codes(&self) -> impl Iterator<Item = &CodeChange> {
        self.changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Vanished)
    }
}

fn counts(summary: &Summary) -> BTreeMap<u32, &CodeSummary> {
    summary
        .codes
        .iter()
        .chain(&summary.unknown_codes)
        .filter(|c| c.count > 0)
        .map(|c| (c.code, c))
        .collect()
}

/// Compares `old` with `new`.
pub(crate) fn diff(old: &Summary, new: &Summary) -> Diff {
    let before = counts(old);
    let after = counts(new);
    let (old_span, new_span) = (Span::of(old), Span::of(new));
    let mut codes: Vec<u32> = before.keys().chain(after.keys()).copied().collect();
    codes.sort_unstable();
    codes.dedup();
    let mut changes: Vec<CodeChange> = codes
        .into_iter()
        .map(|code| {
            let old = before.get(&code);
            let new = after.get(&code);
            let b = old.map_or(0, |c| c.count);
            let a = new.map_or(0, |c| c.count);
            let kind = match (b, a) {
                (0, _) => ChangeKind::New,
                (_, 0) => ChangeKind::Vanished,
                (b, a) if a > b => ChangeKind::Up,
                (b, a) if a < b => ChangeKind::Down,
                _ => ChangeKind::Same,
            };
            CodeChange {
                code,
                name: new.or(old).and_then(|c| c.name.clone()),
                before: b,
                after: a,
                change: i64::try_from(a).unwrap_or(i64::MAX) - i64::try_from(b).unwrap_or(i64::MAX),
                percent: (b > 0).then(|| (a as f64 - b as f64) * 100.0 / b as f64),
                per_hour_before: Span::per_hour(old_span, b),
                per_hour_after: Span::per_hour(new_span, a),
                kind,
            }
        })
        .collect();
    changes.sort_by(|x, y| {
        y.change
            .unsigned_abs()
            .cmp(&x.change.unsigned_abs())
            .then(y.after.cmp(&x.after))
            .then(x.code.cmp(&y.code))
    });
    Diff {
        schema: SCHEMA,
        old_root: old.root.clone(),
        new_root: new.root.clone(),
        old_span,
        new_span,
        before: old.error_count(),
        after: new.error_count(),
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Lang, catalog};
    use crate::model::Stats;

    fn summary(codes: &[(u32, u64)]) -> Summary {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for &(code, count) in codes {
            let mut c = CodeSummary::empty(code, catalog(), Lang::En);
            c.count = count;
            if catalog().get(code).is_some() {
                known.push(c);
            } else {
                unknown.push(c);
            }
        }
        Summary {
            schema: crate::model::SCHEMA.into(),
            root: vec!["x".into()],
            codes: known,
            unknown_codes: unknown,
            success: CodeSummary::empty(0, catalog(), Lang::En),
            files: Vec::new(),
            skipped: Vec::new(),
            stats: Stats::default(),
            ..Summary::empty(catalog(), Lang::En)
        }
    }

    #[test]
    fn changes_are_sorted_by_impact_with_new_and_vanished() {
        let old = summary(&[(300, 80), (2, 10), (201, 5), (110, 3)]);
        let new = summary(&[(300, 20), (2, 40), (201, 5), (202, 7)]);
        let d = diff(&old, &new);
        let rows: Vec<(u32, u64, u64, i64, ChangeKind)> = d
            .changes
            .iter()
            .map(|c| (c.code, c.before, c.after, c.change, c.kind))
            .collect();
        assert_eq!(
            rows,
            [
                (300, 80, 20, -60, ChangeKind::Down),
                (2, 10, 40, 30, ChangeKind::Up),
                (202, 0, 7, 7, ChangeKind::New),
                (110, 3, 0, -3, ChangeKind::Vanished),
                (201, 5, 5, 0, ChangeKind::Same),
            ]
        );
        assert_eq!((d.before, d.after), (98, 72));
        assert_eq!(d.new_codes().map(|c| c.code).collect::<Vec<_>>(), [202]);
        assert_eq!(
            d.vanished_codes().map(|c| c.code).collect::<Vec<_>>(),
            [110]
        );
        assert_eq!(d.changes[0].name.as_deref(), Some("SERVER_NOT_REACHABLE"));
        assert_eq!(d.changes[3].name, None);
    }

    #[test]
    fn percent_and_rates_per_hour_of_each_span() {
        let with_span = |codes: &[(u32, u64)], first: &str, last: &str| {
            let mut s = summary(codes);
            let file = serde_json::json!({
                "path": "easemob.log", "device": "PC", "bytes": 1, "lines": 1,
                "first": first, "last": last, "style": null, "crlf": false, "gzip": false,
                "truncated_last_line": false, "errors": 0,
            });
            s.files
                .push(serde_json::from_value(file).expect("a file summary"));
            s
        };
        let old = with_span(
            &[(300, 8)],
            "2024-03-01 08:00:00.000",
            "2024-03-01 10:00:00.000",
        );
        let new = with_span(
            &[(300, 12)],
            "2024-03-02 08:00:00.000",
            "2024-03-02 08:00:10.000",
        );
        let d = diff(&old, &new);
        assert_eq!(d.old_span.map(|s| s.hours), Some(2.0));
        // Ten seconds of log count as the one-minute floor.
        assert_eq!(d.new_span.map(|s| s.hours), Some(1.0 / 60.0));
        let c = &d.changes[0];
        assert_eq!(c.percent, Some(50.0));
        assert_eq!(c.per_hour_before, Some(4.0));
        assert_eq!(c.per_hour_after, Some(720.0));
        // A scan without log time has no rates, and a new code no percentage.
        let d = diff(&summary(&[]), &summary(&[(2, 3)]));
        assert_eq!(
            (d.changes[0].percent, d.changes[0].per_hour_after),
            (None, None)
        );
    }

    #[test]
    fn identical_scans_have_no_change() {
        let s = summary(&[(300, 8)]);
        let d = diff(&s, &s);
        assert!(d.changes.iter().all(|c| c.kind == ChangeKind::Same));
    }
}
