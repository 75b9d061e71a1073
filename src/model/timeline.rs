//! Timelines: error counts per time bucket, in total and per code, over one shared axis.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::LogTime;

/// The bucket width of a timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Bucket {
    /// The smallest width that fits the span in at most 60 buckets
    #[default]
    Auto,
    /// One minute.
    M1,
    /// Five minutes.
    M5,
    /// Fifteen minutes.
    M15,
    /// One hour.
    H1,
    /// One day.
    D1,
}

/// How many buckets `auto` aims at, at most.
pub const AUTO_BUCKETS: i64 = 60;

/// The most buckets any timeline has: a fixed width that would need more (a bundle whose clock
/// jumps years) is widened to whole days so that the span fits.
pub const MAX_BUCKETS: i64 = 10_000;

const FIXED: [(Bucket, i64, &str); 5] = [
    (Bucket::M1, 60, "1m"),
    (Bucket::M5, 300, "5m"),
    (Bucket::M15, 900, "15m"),
    (Bucket::H1, 3600, "1h"),
    (Bucket::D1, 86_400, "1d"),
];

impl Bucket {
    /// The width in seconds and its name, for a span of `span_seconds` (auto picks the
    /// smallest width that fits the span in [`AUTO_BUCKETS`] buckets, else a day). No width
    /// gives more than [`MAX_BUCKETS`] buckets: wider spans get whole days (`7d`).
    pub fn resolve(self, span_seconds: i64) -> (i64, String) {
        let chosen = match FIXED.iter().find(|(b, ..)| *b == self) {
            Some(&(_, secs, name)) => (secs, name),
            None => FIXED
                .iter()
                .find(|(_, secs, _)| span_seconds / secs < AUTO_BUCKETS)
                .map_or((86_400, "1d"), |&(_, secs, name)| (secs, name)),
        };
        if span_seconds / chosen.0 < MAX_BUCKETS {
            return (chosen.0, chosen.1.to_string());
        }
        if let Some(&(_, secs, name)) = FIXED
            .iter()
            .find(|(_, secs, _)| *secs > chosen.0 && span_seconds / secs < MAX_BUCKETS)
        {
            return (secs, name.to_string());
        }
        let days = (span_seconds / 86_400 / MAX_BUCKETS + 1).max(1);
        (days * 86_400, format!("{days}d"))
    }
}

/// `count` errors of `code` at a time (or in the minute starting then): `(time, code, count)`.
pub type Cell = (LogTime, u32, u64);

/// Counts per bucket. Bucket `i` starts at `start + i × bucket_seconds`; buckets are aligned
/// to whole multiples of their width on the log's clock (a `1h` bucket starts on the hour).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// The width's name: `1m`, `5m`, `15m`, `1h` or `1d` (empty when there are no timed errors).
    pub bucket: String,
    /// The width in seconds.
    pub bucket_seconds: i64,
    /// The start of the first bucket.
    pub start: Option<LogTime>,
    /// The end of the last bucket (exclusive).
    pub end: Option<LogTime>,
    /// Errors (known and unknown codes, code 0 excluded) per bucket.
    pub total: Vec<u64>,
    /// Per code (as a string, like `per_file` keys), errors per bucket.
    pub codes: BTreeMap<String, Vec<u64>>,
}

impl Timeline {
    /// Builds the timeline of timed error hits `(time, code)`.
    pub fn build(hits: &[(LogTime, u32)], bucket: Bucket) -> Timeline {
        let (Some(min), Some(max)) = (
            hits.iter().map(|h| h.0).min(),
            hits.iter().map(|h| h.0).max(),
        ) else {
            return Timeline::default();
        };
        let counts: Vec<Cell> = hits.iter().map(|&(t, c)| (t, c, 1)).collect();
        Timeline::from_counts(&counts, (min, max), bucket)
    }

    /// Builds the timeline of `(time, code, count)`: `count` errors of `code` at `time` (or
    /// in the minute starting at `time`: every bucket is whole minutes, so per-minute counts
    /// give exact buckets). `span` is the first and last error time, which sets the `auto` width.
    pub fn from_counts(counts: &[Cell], span: (LogTime, LogTime), bucket: Bucket) -> Timeline {
        if counts.is_empty() {
            return Timeline::default();
        }
        let (min, max) = span;
        let seconds = (max.epoch_millis() - min.epoch_millis()) / 1000;
        let (secs, name) = bucket.resolve(seconds);
        let width = secs * 1000;
        let first = min.epoch_millis().div_euclid(width);
        let n = usize::try_from(max.epoch_millis().div_euclid(width) - first + 1).unwrap_or(1);
        let mut total = vec![0; n];
        let mut by_code: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        for &(time, code, count) in counts {
            let i = usize::try_from(time.epoch_millis().div_euclid(width) - first).unwrap_or(0);
            if let Some(slot) = total.get_mut(i) {
                *slot += count;
            }
            let series = by_code.entry(code).or_insert_with(|| vec![0; n]);
            if let Some(slot) = series.get_mut(i) {
                *slot += count;
            }
        }
        let start_ms = first * width;
        let shift = |ms: i64| min.plus_millis(ms - min.epoch_millis());
        Timeline {
            bucket: name,
            bucket_seconds: secs,
            start: shift(start_ms),
            end: shift(start_ms + width * n as i64),
            total,
            codes: by_code
                .into_iter()
                .map(|(code, series)| (code.to_string(), series))
                .collect(),
        }
    }

    /// The start of bucket `i`.
    pub fn bucket_start(&self, i: usize) -> Option<LogTime> {
        let secs = self.bucket_seconds.checked_mul(i64::try_from(i).ok()?)?;
        self.start?.plus_millis(secs.checked_mul(1000)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> LogTime {
        LogTime::parse_display(s).unwrap()
    }

    #[test]
    fn auto_fits_about_sixty_buckets() {
        assert_eq!(Bucket::Auto.resolve(30 * 60).1, "1m");
        assert_eq!(Bucket::Auto.resolve(90 * 60).1, "5m");
        assert_eq!(Bucket::Auto.resolve(10 * 3600).1, "15m");
        assert_eq!(Bucket::Auto.resolve(2 * 86_400).1, "1h");
        assert_eq!(Bucket::Auto.resolve(400 * 86_400).1, "1d");
        assert_eq!(Bucket::M15.resolve(1).1, "15m");
        // A clock that jumps years never makes millions of buckets.
        assert_eq!(Bucket::M1.resolve(30 * 86_400).1, "5m");
        let (secs, name) = Bucket::M1.resolve(8000 * 365 * 86_400);
        assert!(8000 * 365 * 86_400 / secs < MAX_BUCKETS && name.ends_with('d'));
    }

    #[test]
    fn buckets_are_aligned_and_count_per_code() {
        let hits = [
            (t("2024-03-01 08:03:10.000"), 300),
            (t("2024-03-01 08:04:59.999"), 300),
            (t("2024-03-01 08:05:00.000"), 2),
            (t("2024-03-01 08:17:00.000"), 300),
        ];
        let tl = Timeline::build(&hits, Bucket::M5);
        assert_eq!(tl.start.unwrap().to_string(), "2024-03-01 08:00:00.000");
        assert_eq!(tl.end.unwrap().to_string(), "2024-03-01 08:20:00.000");
        assert_eq!(tl.total, [2, 1, 0, 1]);
        assert_eq!(tl.codes["300"], [2, 0, 0, 1]);
        assert_eq!(tl.codes["2"], [0, 1, 0, 0]);
        assert_eq!(
            tl.bucket_start(3).unwrap().to_string(),
            "2024-03-01 08:15:00.000"
        );
        assert_eq!(Timeline::build(&[], Bucket::Auto), Timeline::default());
    }
}
