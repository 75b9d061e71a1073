//! Comparing two scans: per code, the count before and after, new and vanished codes.
//!
//! No I/O here: the CLI loads or scans both sides and hands in two [`Summary`] values.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Summary;
use crate::model::CodeSummary;

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
    fn identical_scans_have_no_change() {
        let s = summary(&[(300, 8)]);
        let d = diff(&s, &s);
        assert!(d.changes.iter().all(|c| c.kind == ChangeKind::Same));
    }
}
