//! Timelines: error counts per time bucket, in total and per code, over one shared axis. Only
//! the buckets that hold errors are kept ([`Series`]): a year of one-minute buckets over
//! thousands of codes costs what its errors cost, not codes × buckets.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::LogTime;

/// The bucket width of a timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Bucket {
    /// The smallest width that fits the span in at most [`AUTO_BUCKETS`] buckets: a fixed
    /// width up to a day, else whole days (`7d`)
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

/// How many buckets `auto` gives, at most.
pub const AUTO_BUCKETS: u32 = 60;

/// The most buckets any timeline has: a fixed width that would need more (a bundle whose clock
/// jumps years) is widened so that the span fits, to whole days if need be.
pub const MAX_BUCKETS: u32 = 10_000;

const DAY_SECONDS: i64 = 86_400;

const FIXED: [(Bucket, i64, &str); 5] = [
    (Bucket::M1, 60, "1m"),
    (Bucket::M5, 300, "5m"),
    (Bucket::M15, 900, "15m"),
    (Bucket::H1, 3600, "1h"),
    (Bucket::D1, DAY_SECONDS, "1d"),
];

/// The index of the bucket of width `width_ms` (aligned to multiples of the width since
/// 1970-01-01 00:00 of the log's clock) that `ms` falls in.
fn bucket_index(ms: i64, width_ms: i64) -> i64 {
    ms.div_euclid(width_ms)
}

/// How many buckets of `seconds` cover `first_ms ..= last_ms`.
fn buckets_needed(first_ms: i64, last_ms: i64, seconds: i64) -> i64 {
    let width = seconds * 1000;
    bucket_index(last_ms, width) - bucket_index(first_ms, width) + 1
}

/// The name of a width of `seconds`: a fixed width's (`1h`), whole days (`7d`), else none.
fn width_name(seconds: i64) -> Option<String> {
    FIXED
        .iter()
        .find(|&&(_, secs, _)| secs == seconds)
        .map(|&(_, _, name)| name.to_string())
        .or_else(|| (seconds % DAY_SECONDS == 0).then(|| format!("{}d", seconds / DAY_SECONDS)))
}

impl Bucket {
    /// The width in seconds and its name for errors from `first_ms` to `last_ms` (epoch
    /// milliseconds of the log's clock). `auto` picks the smallest fixed width that needs at
    /// most [`AUTO_BUCKETS`] buckets, else the fewest whole days that do; a fixed width that
    /// would need more than [`MAX_BUCKETS`] is widened to the next fixed width, else whole
    /// days, that fits.
    pub fn resolve(self, first_ms: i64, last_ms: i64) -> (i64, String) {
        let (first_ms, last_ms) = (first_ms.min(last_ms), first_ms.max(last_ms));
        let limit = match self {
            Bucket::Auto => AUTO_BUCKETS,
            _ => MAX_BUCKETS,
        };
        let fits = |seconds: i64| buckets_needed(first_ms, last_ms, seconds) <= i64::from(limit);
        let narrowest = FIXED
            .iter()
            .find(|(b, ..)| *b == self)
            .map_or(0, |&(_, seconds, _)| seconds);
        if let Some(&(_, seconds, name)) = FIXED
            .iter()
            .find(|&&(_, seconds, _)| seconds >= narrowest && fits(seconds))
        {
            return (seconds, name.to_string());
        }
        // Whole days: `limit - 1` widths cover the span, and one more absorbs the alignment.
        let span_days = (last_ms - first_ms) / 1000 / DAY_SECONDS;
        let mut days = (span_days / i64::from(limit - 1) + 1).max(2);
        while !fits(days * DAY_SECONDS) {
            days += 1;
        }
        (days * DAY_SECONDS, format!("{days}d"))
    }
}

/// `count` errors of `code` at a time (or in the minute starting then): `(time, code, count)`.
pub type Cell = (LogTime, u32, u64);

/// The buckets of one series that hold errors: `(bucket index, count)`, indices ascending,
/// counts above zero. Written in JSON as an object `{"index": count}` (read in any key order);
/// read from that or from
/// the dense array of `emscan.scan/1` (`[count, …]`, one per bucket).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Series {
    cells: Vec<(u32, u64)>,
    /// The length of the dense array it was read from (`emscan.scan/1`), if it was.
    dense_len: Option<u32>,
}

impl Series {
    /// The non-empty buckets, `(index, count)`, in index order.
    pub fn cells(&self) -> &[(u32, u64)] {
        &self.cells
    }

    /// No bucket holds an error.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The count of bucket `index` (0 when empty).
    pub fn get(&self, index: u32) -> u64 {
        self.cells
            .binary_search_by_key(&index, |&(i, _)| i)
            .map_or(0, |at| self.cells[at].1)
    }

    /// The largest count of a bucket (0 when empty).
    pub fn max(&self) -> u64 {
        self.cells.iter().map(|&(_, n)| n).max().unwrap_or(0)
    }

    /// The counts of buckets `0..len`, empty buckets as 0 (for drawing: `len` is the
    /// timeline's [`Timeline::buckets`], at most [`MAX_BUCKETS`]).
    pub fn dense(&self, len: u32) -> Vec<u64> {
        let mut out = vec![0; len as usize];
        for &(i, n) in &self.cells {
            if let Some(slot) = out.get_mut(i as usize) {
                *slot = n;
            }
        }
        out
    }

    /// A series from `(index, count)` pairs in ascending index order; zero counts are left out.
    fn from_sorted(cells: impl IntoIterator<Item = (u32, u64)>) -> Series {
        Series {
            cells: cells.into_iter().filter(|&(_, n)| n > 0).collect(),
            dense_len: None,
        }
    }
}

impl Serialize for Series {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.cells.len()))?;
        for (index, count) in &self.cells {
            map.serialize_entry(index, count)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Series {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SeriesVisitor;
        impl<'de> Visitor<'de> for SeriesVisitor {
            type Value = Series;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "an object {{\"bucket index\": count}} or an array of at most {MAX_BUCKETS} counts"
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Series, A::Error> {
                let mut cells: Vec<(u32, u64)> = Vec::new();
                while let Some((index, count)) = map.next_entry::<u32, u64>()? {
                    if index >= MAX_BUCKETS {
                        return Err(de::Error::custom(format!(
                            "bucket {index} is past the most buckets a timeline has ({MAX_BUCKETS})"
                        )));
                    }
                    if count == 0 {
                        return Err(de::Error::custom(format!(
                            "bucket {index} is listed with no errors"
                        )));
                    }
                    cells.push((index, count));
                    if cells.len() > MAX_BUCKETS as usize {
                        return Err(de::Error::custom(format!(
                            "more than {MAX_BUCKETS} buckets"
                        )));
                    }
                }
                // JSON objects are unordered: tools that rewrite them may sort the keys as text.
                cells.sort_unstable_by_key(|&(index, _)| index);
                if let Some(pair) = cells.windows(2).find(|pair| pair[0].0 == pair[1].0) {
                    return Err(de::Error::custom(format!(
                        "bucket {} is listed twice",
                        pair[0].0
                    )));
                }
                Ok(Series {
                    cells,
                    dense_len: None,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Series, A::Error> {
                let mut cells = Vec::new();
                let mut len: u32 = 0;
                while let Some(count) = seq.next_element::<u64>()? {
                    if len >= MAX_BUCKETS {
                        return Err(de::Error::custom(format!(
                            "more than {MAX_BUCKETS} buckets"
                        )));
                    }
                    if count > 0 {
                        cells.push((len, count));
                    }
                    len += 1;
                }
                Ok(Series {
                    cells,
                    dense_len: Some(len),
                })
            }
        }
        deserializer.deserialize_any(SeriesVisitor)
    }
}

/// Counts per bucket. Bucket `i` starts at `start + i × bucket_seconds`; buckets are aligned
/// to whole multiples of their width on the log's clock (a `1h` bucket starts on the hour).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Timeline {
    /// The width's name: `1m`, `5m`, `15m`, `1h`, `1d` or whole days (`7d`); empty when there
    /// are no timed errors.
    pub bucket: String,
    /// The width in seconds.
    pub bucket_seconds: i64,
    /// The start of the first bucket.
    pub start: Option<LogTime>,
    /// The end of the last bucket (exclusive).
    pub end: Option<LogTime>,
    /// How many buckets there are (at most [`MAX_BUCKETS`]).
    pub buckets: u32,
    /// Errors (known and unknown codes, code 0 excluded) per non-empty bucket.
    pub total: Series,
    /// Per code (as a string, like `per_file` keys), errors per non-empty bucket.
    pub codes: BTreeMap<String, Series>,
}

/// A timeline as written in either schema: `buckets` is absent in `emscan.scan/1`, where the
/// dense arrays give it.
#[derive(Deserialize)]
struct TimelineText {
    bucket: String,
    bucket_seconds: i64,
    start: Option<LogTime>,
    end: Option<LogTime>,
    #[serde(default)]
    buckets: Option<u32>,
    total: Series,
    codes: BTreeMap<String, Series>,
}

impl<'de> Deserialize<'de> for Timeline {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = TimelineText::deserialize(deserializer)?;
        Timeline::from_text(text).map_err(de::Error::custom)
    }
}

impl Timeline {
    /// Checks a timeline as read: the bucket count against the axis, every bucket index and
    /// dense length against the bucket count, and each bucket's total against its codes.
    fn from_text(text: TimelineText) -> Result<Timeline, String> {
        let buckets = match (text.buckets, text.total.dense_len) {
            (Some(n), _) => n,
            (None, Some(n)) => n,
            (None, None) => return Err("timeline.buckets is missing".into()),
        };
        let timeline = Timeline {
            bucket: text.bucket,
            bucket_seconds: text.bucket_seconds,
            start: text.start,
            end: text.end,
            buckets,
            total: text.total,
            codes: text.codes,
        };
        timeline.check_axis()?;
        let fits = |name: &str, series: &Series| -> Result<(), String> {
            if let Some(len) = series.dense_len
                && len != buckets
            {
                return Err(format!(
                    "timeline.{name} has {len} buckets, timeline.total has {buckets}"
                ));
            }
            match series.cells.last() {
                Some(&(i, _)) if i >= buckets => Err(format!(
                    "timeline.{name} has bucket {i}, past the last of {buckets} buckets"
                )),
                _ => Ok(()),
            }
        };
        fits("total", &timeline.total)?;
        // Each bucket's total is the sum of its codes: add the codes up per bucket (a dense
        // array of `buckets` ≤ MAX_BUCKETS counts).
        let mut sums = vec![0u64; buckets as usize];
        for (code, series) in &timeline.codes {
            if code.parse::<u32>().is_err() {
                return Err(format!("timeline.codes has key {code:?}, not a code"));
            }
            fits(&format!("codes.{code}"), series)?;
            for &(i, n) in &series.cells {
                let sum = &mut sums[i as usize];
                *sum = sum.checked_add(n).ok_or_else(|| {
                    format!(
                        "timeline.codes: bucket {i} adds up to more than {}",
                        u64::MAX
                    )
                })?;
            }
        }
        for (i, &sum) in sums.iter().enumerate() {
            let total = timeline.total.get(i as u32);
            if total != sum {
                return Err(format!(
                    "timeline.total has {total} errors in bucket {i}, its codes add up to {sum}"
                ));
            }
        }
        Ok(timeline)
    }

    /// Checks that width, start, end and bucket count describe one axis.
    fn check_axis(&self) -> Result<(), String> {
        if self.buckets > MAX_BUCKETS {
            return Err(format!(
                "timeline.buckets is {}, more than a timeline has ({MAX_BUCKETS})",
                self.buckets
            ));
        }
        let (Some(start), Some(end)) = (self.start, self.end) else {
            if self.buckets == 0
                && self.start.is_none()
                && self.end.is_none()
                && self.bucket.is_empty()
            {
                return Ok(());
            }
            return Err("timeline without start and end must have no bucket and no buckets".into());
        };
        if self.bucket_seconds <= 0 || self.bucket_seconds % 60 != 0 {
            return Err(format!(
                "timeline.bucket_seconds is {}, not a positive number of whole minutes",
                self.bucket_seconds
            ));
        }
        if Some(self.bucket.as_str()) != width_name(self.bucket_seconds).as_deref() {
            return Err(format!(
                "timeline.bucket {:?} does not name a width of {} s",
                self.bucket, self.bucket_seconds
            ));
        }
        let width_ms = self
            .bucket_seconds
            .checked_mul(1000)
            .ok_or("timeline.bucket_seconds is too large")?;
        let length = width_ms
            .checked_mul(i64::from(self.buckets))
            .ok_or("timeline.bucket_seconds is too large")?;
        if end.epoch_millis() - start.epoch_millis() != length || self.buckets == 0 {
            return Err(format!(
                "timeline from {start} to {end} is not {} buckets of {} s",
                self.buckets, self.bucket_seconds
            ));
        }
        Ok(())
    }

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
    /// give exact buckets). `span` is the first and last error time, which sets the width.
    /// Memory follows the cells given, whatever the number of buckets. A bucket's count
    /// saturates at `u64::MAX`, which the counts of one scan, or of summaries whose totals
    /// passed [`Summary::merge`](crate::model::Summary::merge), cannot reach.
    pub fn from_counts(counts: &[Cell], span: (LogTime, LogTime), bucket: Bucket) -> Timeline {
        if counts.is_empty() {
            return Timeline::default();
        }
        let (min, max) = span;
        let (secs, name) = bucket.resolve(min.epoch_millis(), max.epoch_millis());
        let width = secs * 1000;
        let first = bucket_index(min.epoch_millis(), width);
        let n = bucket_index(max.epoch_millis(), width) - first + 1;
        let buckets = u32::try_from(n).unwrap_or(MAX_BUCKETS).min(MAX_BUCKETS);
        // A cell outside the span given lands in the nearest bucket.
        let index = |time: LogTime| -> u32 {
            let i = bucket_index(time.epoch_millis(), width) - first;
            u32::try_from(i.clamp(0, i64::from(buckets) - 1)).unwrap_or(0)
        };
        let mut by_code: Vec<(u32, u32, u64)> = counts
            .iter()
            .map(|&(time, code, count)| (code, index(time), count))
            .collect();
        by_code.sort_unstable_by_key(|&(code, i, _)| (code, i));
        let mut total = vec![0u64; buckets as usize];
        let mut codes: BTreeMap<String, Series> = BTreeMap::new();
        for run in by_code.chunk_by(|a, b| a.0 == b.0) {
            let mut cells: Vec<(u32, u64)> = Vec::new();
            for &(_, i, count) in run {
                total[i as usize] = total[i as usize].saturating_add(count);
                match cells.last_mut() {
                    Some(last) if last.0 == i => last.1 = last.1.saturating_add(count),
                    _ => cells.push((i, count)),
                }
            }
            let series = Series::from_sorted(cells);
            if !series.is_empty() {
                codes.insert(run[0].0.to_string(), series);
            }
        }
        let start_ms = first * width;
        let shift = |ms: i64| min.plus_millis(ms - min.epoch_millis());
        Timeline {
            bucket: name,
            bucket_seconds: secs,
            start: shift(start_ms),
            end: shift(start_ms + width * i64::from(buckets)),
            buckets,
            total: Series::from_sorted((0..buckets).zip(total)),
            codes,
        }
    }

    /// The start of bucket `i`.
    pub fn bucket_start(&self, i: usize) -> Option<LogTime> {
        let secs = self.bucket_seconds.checked_mul(i64::try_from(i).ok()?)?;
        self.start?.plus_millis(secs.checked_mul(1000)?)
    }

    /// Errors per bucket, every bucket (for drawing).
    pub fn total_per_bucket(&self) -> Vec<u64> {
        self.total.dense(self.buckets)
    }

    /// Errors of `code` per bucket, every bucket (for drawing); `None` when the code has no
    /// timed errors.
    pub fn code_per_bucket(&self, code: u32) -> Option<Vec<u64>> {
        self.codes
            .get(&code.to_string())
            .map(|series| series.dense(self.buckets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> LogTime {
        LogTime::parse_display(s).unwrap()
    }

    fn ms(s: &str) -> i64 {
        t(s).epoch_millis()
    }

    fn resolve(bucket: Bucket, seconds: i64) -> String {
        let from = ms("2024-03-01 00:00:00.000");
        bucket.resolve(from, from + seconds * 1000).1
    }

    #[test]
    fn auto_fits_about_sixty_buckets() {
        assert_eq!(resolve(Bucket::Auto, 30 * 60), "1m");
        assert_eq!(resolve(Bucket::Auto, 90 * 60), "5m");
        assert_eq!(resolve(Bucket::Auto, 10 * 3600), "15m");
        assert_eq!(resolve(Bucket::Auto, 2 * 86_400), "1h");
        assert_eq!(resolve(Bucket::Auto, 40 * 86_400), "1d");
        assert_eq!(resolve(Bucket::M15, 1), "15m");
        // A clock that jumps years never makes millions of buckets.
        assert_eq!(resolve(Bucket::M1, 30 * 86_400), "5m");
        let span = 8000 * 365 * 86_400;
        let (secs, name) = Bucket::M1.resolve(0, span * 1000);
        assert!(buckets_needed(0, span * 1000, secs) <= i64::from(MAX_BUCKETS));
        assert!(name.ends_with('d'), "{name}");
    }

    #[test]
    fn auto_widens_past_a_day_to_keep_sixty_buckets() {
        // A bad clock: errors 27 years apart.
        for (first, last) in [
            ("1999-12-31 23:59:00.000", "2026-12-06 08:00:00.000"),
            ("2024-01-01 00:00:00.000", "2024-12-31 23:59:59.999"),
            ("2024-01-01 23:59:59.999", "2024-03-01 00:00:00.000"),
        ] {
            let (secs, name) = Bucket::Auto.resolve(ms(first), ms(last));
            let n = buckets_needed(ms(first), ms(last), secs);
            assert!(
                n <= i64::from(AUTO_BUCKETS),
                "{first}..{last}: {n} × {name}"
            );
            assert!(secs % 86_400 == 0 && name.ends_with('d'), "{name}");
        }
        // 59 minutes and a half from the middle of a minute touch 61 minutes: 5m, not 1m.
        let (secs, _) =
            Bucket::Auto.resolve(ms("2024-03-01 08:00:30.000"), ms("2024-03-01 09:00:00.000"));
        assert_eq!(secs, 300);
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
        assert_eq!(tl.buckets, 4);
        assert_eq!(tl.total_per_bucket(), [2, 1, 0, 1]);
        assert_eq!(tl.code_per_bucket(300).unwrap(), [2, 0, 0, 1]);
        assert_eq!(tl.code_per_bucket(2).unwrap(), [0, 1, 0, 0]);
        assert_eq!(tl.codes["300"].cells(), [(0, 2), (3, 1)]);
        assert_eq!(
            tl.bucket_start(3).unwrap().to_string(),
            "2024-03-01 08:15:00.000"
        );
        assert_eq!(Timeline::build(&[], Bucket::Auto), Timeline::default());
    }

    #[test]
    fn the_json_holds_only_non_empty_buckets_and_reads_back() {
        let hits = [
            (t("2024-03-01 08:00:00.000"), 300),
            (t("2024-03-01 09:59:00.000"), 2),
        ];
        let tl = Timeline::build(&hits, Bucket::M1);
        let json = serde_json::to_value(&tl).unwrap();
        assert_eq!(json["buckets"], 120);
        assert_eq!(json["total"], serde_json::json!({"0": 1, "119": 1}));
        assert_eq!(json["codes"]["2"], serde_json::json!({"119": 1}));
        let back: Timeline = serde_json::from_value(json).unwrap();
        assert_eq!(back, tl);
    }

    #[test]
    fn a_dense_series_longer_than_any_timeline_is_refused_while_read() {
        let long = format!("[{}1]", "0,".repeat(MAX_BUCKETS as usize));
        let err = serde_json::from_str::<Series>(&long).unwrap_err();
        assert!(err.to_string().contains("more than 10000 buckets"), "{err}");
        let most = format!("[{}1]", "0,".repeat(MAX_BUCKETS as usize - 1));
        let series: Series = serde_json::from_str(&most).unwrap();
        assert_eq!(series.cells(), [(MAX_BUCKETS - 1, 1)]);
    }

    #[test]
    fn a_dense_scan_1_timeline_reads_as_sparse() {
        let json = serde_json::json!({
            "bucket": "5m", "bucket_seconds": 300,
            "start": "2024-03-01 08:00:00.000", "end": "2024-03-01 08:20:00.000",
            "total": [2, 1, 0, 1],
            "codes": {"300": [2, 0, 0, 1], "2": [0, 1, 0, 0]}
        });
        let tl: Timeline = serde_json::from_value(json).unwrap();
        assert_eq!(tl.buckets, 4);
        assert_eq!(tl.total.cells(), [(0, 2), (1, 1), (3, 1)]);
        assert_eq!(tl.code_per_bucket(2).unwrap(), [0, 1, 0, 0]);
    }

    #[test]
    fn inconsistent_timelines_are_refused() {
        let good = serde_json::json!({
            "bucket": "5m", "bucket_seconds": 300,
            "start": "2024-03-01 08:00:00.000", "end": "2024-03-01 08:20:00.000",
            "buckets": 4, "total": {"0": 2, "3": 1}, "codes": {"300": {"0": 2, "3": 1}}
        });
        assert!(serde_json::from_value::<Timeline>(good.clone()).is_ok());
        let broken = [
            ("buckets", serde_json::json!(5), "not 5 buckets"),
            ("buckets", serde_json::json!(4_000_000_000u32), "more than"),
            (
                "total",
                serde_json::json!({"0": 2, "3": 2}),
                "bucket 3, its codes add up to 1",
            ),
            (
                "codes",
                serde_json::json!({"300": {"0": 2, "9": 1}}),
                "past the last",
            ),
            (
                "codes",
                serde_json::json!({"x": {"0": 2, "3": 1}}),
                "not a code",
            ),
            ("bucket_seconds", serde_json::json!(0), "whole minutes"),
            (
                "bucket",
                serde_json::json!("5m\u{1b}[2J"),
                "does not name a width",
            ),
            ("start", serde_json::Value::Null, "without start and end"),
        ];
        // Keys in any order (as tools that sort keys as text write them), but each once.
        let unordered = good
            .to_string()
            .replace(r#"{"0":2,"3":1}}"#, r#"{"3":1,"0":2}}"#);
        assert!(unordered.contains(r#"{"3":1,"0":2}}"#));
        let tl = serde_json::from_str::<Timeline>(&unordered).unwrap();
        assert_eq!(tl.codes["300"].cells(), [(0, 2), (3, 1)]);
        let twice = good
            .to_string()
            .replace(r#"{"0":2,"3":1}}"#, r#"{"0":1,"0":1,"3":1}}"#);
        let err = serde_json::from_str::<Timeline>(&twice).unwrap_err();
        assert!(err.to_string().contains("listed twice"), "{err}");
        for (field, value, says) in broken {
            let mut bad = good.clone();
            bad[field] = value;
            let err = serde_json::from_value::<Timeline>(bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{field}: {err}");
        }
    }
}
