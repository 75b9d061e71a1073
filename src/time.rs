//! Timestamps in the SDK's line prefix, in all three generations.
//!
//! ```text
//! [2017/3/1 9:5:7:52]:                   legacy: no zero padding, last field = milliseconds
//! [2024/03/01 08:00:00:123]:             v3: zero padded
//! [0][2024/03/01 08:00:00:123(08)]:      v4: a leading [n] field and an (hh) suffix
//! ```
//! Times are the log's own local time; the prefix carries no zone we can trust.

use std::fmt;

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A log-local timestamp with millisecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogTime(NaiveDateTime);

/// The display format of [`LogTime`]: `YYYY-MM-DD HH:MM:SS.mmm`.
const DISPLAY_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";

impl LogTime {
    /// Builds a time from calendar fields; `None` when a field is out of range.
    pub fn from_fields(fields: [u32; 7]) -> Option<LogTime> {
        let [year, month, day, hour, minute, second, milli] = fields;
        let year = i32::try_from(year).ok()?;
        NaiveDate::from_ymd_opt(year, month, day)?
            .and_hms_milli_opt(hour, minute, second, milli)
            .map(LogTime)
    }

    /// Wraps a calendar value.
    pub fn from_naive(time: NaiveDateTime) -> LogTime {
        LogTime(time)
    }

    /// This time moved by `millis` milliseconds (`None` when out of the calendar's range).
    pub fn plus_millis(&self, millis: i64) -> Option<LogTime> {
        self.0
            .checked_add_signed(chrono::Duration::milliseconds(millis))
            .map(LogTime)
    }

    /// Parses the display form `YYYY-MM-DD HH:MM:SS.mmm` (as written in scan JSON).
    pub fn parse_display(text: &str) -> Option<LogTime> {
        NaiveDateTime::parse_from_str(text, DISPLAY_FORMAT)
            .ok()
            .map(LogTime)
    }

    /// Whole minutes since 1970-01-01 00:00 of the log's clock ([`Minute::index`]).
    #[inline]
    pub fn minute_index(&self) -> i64 {
        self.epoch_millis().div_euclid(60_000)
    }

    /// The minute this time falls in: the key of per-minute counts.
    pub fn minute(&self) -> Minute {
        // Zero seconds and nanoseconds are always valid: neither call can fail.
        let t = self.0;
        Minute(LogTime(
            t.with_nanosecond(0)
                .and_then(|t| t.with_second(0))
                .unwrap_or(t),
        ))
    }

    /// The day and the minute of the day: equal for two times exactly when they fall in the
    /// same minute, and cheaper to compare than [`LogTime::minute`] is to work out.
    pub fn day_minute(&self) -> (NaiveDate, u32) {
        (self.0.date(), self.0.num_seconds_from_midnight() / 60)
    }

    /// The time `millis` milliseconds after 1970-01-01 00:00:00 of the log's clock (the
    /// inverse of [`LogTime::epoch_millis`]).
    pub fn from_epoch_millis(millis: i64) -> Option<LogTime> {
        chrono::DateTime::from_timestamp_millis(millis).map(|t| LogTime(t.naive_utc()))
    }

    /// Milliseconds since 1970-01-01 00:00:00 of the same local clock.
    pub fn epoch_millis(&self) -> i64 {
        self.0.and_utc().timestamp_millis()
    }

    /// The wrapped calendar value.
    pub fn naive(&self) -> NaiveDateTime {
        self.0
    }

    /// Whole seconds of the minute, for tests and bucketing.
    pub fn second(&self) -> u32 {
        self.0.second()
    }
}

/// Writes `value` as zero-padded decimal digits filling `slot` (its lowest digits).
fn put_digits(slot: &mut [u8], mut value: u32) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// A time written `YYYY-MM-DD HH:MM:SS.mmm` (or the start of that), on the stack when the year
/// has four digits: digits put in place, not through `core::fmt` (a report writes times tens
/// of thousands of times, and the formatting machinery was about half of writing the JSON).
enum TimeText {
    /// The text is the first `.1` bytes.
    Digits([u8; TIME_LEN], usize),
    /// A year of other than four digits.
    Formatted(String),
}

impl TimeText {
    /// The first `len` bytes of `t`'s text (fields cut off the end).
    fn of(t: &NaiveDateTime, len: usize) -> TimeText {
        let Some(year) = u32::try_from(t.year()).ok().filter(|&y| y <= 9999) else {
            let mut text = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.nanosecond() / 1_000_000 % 1000
            );
            text.truncate(text.len().saturating_sub(TIME_LEN - len));
            return TimeText::Formatted(text);
        };
        let mut text = *b"0000-00-00 00:00:00.000";
        put_digits(&mut text[0..4], year);
        put_digits(&mut text[5..7], t.month());
        put_digits(&mut text[8..10], t.day());
        put_digits(&mut text[11..13], t.hour());
        put_digits(&mut text[14..16], t.minute());
        put_digits(&mut text[17..19], t.second());
        put_digits(&mut text[20..23], t.nanosecond() / 1_000_000 % 1000);
        TimeText::Digits(text, len.min(TIME_LEN))
    }

    fn as_str(&self) -> &str {
        match self {
            // ASCII digits and separators: always UTF-8.
            TimeText::Digits(text, len) => std::str::from_utf8(&text[..*len]).unwrap_or_default(),
            TimeText::Formatted(text) => text,
        }
    }
}

/// Bytes of the display form of [`LogTime`].
const TIME_LEN: usize = 23;

/// Bytes of the display form of [`Minute`] (`YYYY-MM-DD HH:MM`).
const MINUTE_LEN: usize = 16;

impl fmt::Display for LogTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The same as DISPLAY_FORMAT, without parsing a strftime pattern each time.
        f.write_str(TimeText::of(&self.0, TIME_LEN).as_str())
    }
}

impl Serialize for LogTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(TimeText::of(&self.0, TIME_LEN).as_str())
    }
}

impl<'de> Deserialize<'de> for LogTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        LogTime::parse_display(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid time {text:?}, expected YYYY-MM-DD HH:MM:SS.mmm"
            ))
        })
    }
}

/// A minute of log time, the key of per-minute counts: a plain value, written as
/// `YYYY-MM-DD HH:MM` only when a report is (a month-long log has tens of thousands of them
/// per code, so they are not kept as text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Minute(LogTime);

/// The text form of [`Minute`], for parsing.
const MINUTE_FORMAT: &str = "%Y-%m-%d %H:%M";

impl Minute {
    /// The minute `index` whole minutes after 1970-01-01 00:00 of the log's clock (see
    /// [`Minute::index`]); `None` outside the calendar's range.
    pub fn from_index(index: i64) -> Option<Minute> {
        LogTime::from_epoch_millis(index.checked_mul(60_000)?).map(Minute)
    }

    /// Whole minutes since 1970-01-01 00:00 of the log's clock.
    pub fn index(&self) -> i64 {
        self.0.minute_index()
    }

    /// The minute's first millisecond.
    pub fn start(&self) -> LogTime {
        self.0
    }

    /// Parses the text form `YYYY-MM-DD HH:MM`.
    pub fn parse(text: &str) -> Option<Minute> {
        NaiveDateTime::parse_from_str(text, MINUTE_FORMAT)
            .ok()
            .map(|t| Minute(LogTime(t)))
    }
}

impl fmt::Display for Minute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(TimeText::of(&self.0.0, MINUTE_LEN).as_str())
    }
}

impl Serialize for Minute {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(TimeText::of(&self.0.0, MINUTE_LEN).as_str())
    }
}

impl<'de> Deserialize<'de> for Minute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MinuteText;
        impl serde::de::Visitor<'_> for MinuteText {
            type Value = Minute;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a minute written YYYY-MM-DD HH:MM")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Minute, E> {
                Minute::parse(text).ok_or_else(|| {
                    E::custom(format!(
                        "invalid minute {text:?}, expected YYYY-MM-DD HH:MM"
                    ))
                })
            }
        }
        deserializer.deserialize_str(MinuteText)
    }
}

/// Which generation of the SDK's prefix a line carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrefixStyle {
    /// 3.2.x: `[2017/3/1 9:5:7:52]: `, fields not zero-padded.
    Legacy,
    /// 3.x–4.x: `[2024/03/01 08:00:00:123]: `.
    V3,
    /// 4.x (2026): `[0][2024/03/01 08:00:00:123(08)]: `.
    V4,
}

/// A parsed line prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    /// The entry's local time.
    pub time: LogTime,
    /// The prefix generation.
    pub style: PrefixStyle,
    /// Bytes of the prefix, including the `]: ` (or `]:` at the end of a line).
    pub len: usize,
    /// The `(hh)` suffix of a 4.x prefix: the writer's UTC offset in hours.
    pub utc_offset_hours: Option<i8>,
}

/// The time zone log times are read in where a line does not state its own offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Zone {
    /// The machine's zone (with its daylight-saving rules).
    #[default]
    Local,
    /// A fixed offset from UTC.
    Fixed(FixedOffset),
}

impl Zone {
    /// Parses `local`, `UTC` (or `Z`) or an offset: `+08:00`, `+0800`, `+8`, `-05:30`.
    pub fn parse(text: &str) -> Option<Zone> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("local") {
            return Some(Zone::Local);
        }
        if text.eq_ignore_ascii_case("utc") || text == "Z" {
            return FixedOffset::east_opt(0).map(Zone::Fixed);
        }
        let (sign, rest) = match text.as_bytes().first()? {
            b'+' => (1, &text[1..]),
            b'-' => (-1, &text[1..]),
            _ => return None,
        };
        let (hours, minutes) = match rest.split_once(':') {
            Some((h, m)) => (h, m),
            None if rest.len() == 4 => rest.split_at(2),
            None => (rest, "0"),
        };
        let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
        if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
            return None;
        }
        FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).map(Zone::Fixed)
    }

    /// The UTC offset of the local time `time` in this zone (the earlier one in a
    /// daylight-saving fold; UTC when the local time does not exist).
    pub fn offset_at(&self, time: LogTime) -> FixedOffset {
        match self {
            Zone::Fixed(offset) => *offset,
            Zone::Local => chrono::Local
                .offset_from_local_datetime(&time.naive())
                .earliest()
                .map_or(FixedOffset::east_opt(0).expect("zero offset"), |o| o.fix()),
        }
    }
}

/// A little cursor over the bytes of a candidate prefix.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.bytes.get(self.pos) == Some(&byte)).then(|| self.pos += 1)
    }

    /// Reads `min..=max` ASCII digits; returns the value and the digit count.
    fn number(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let start = self.pos;
        let mut value: u32 = 0;
        while self.pos - start < max {
            match self.bytes.get(self.pos) {
                Some(&d) if d.is_ascii_digit() => {
                    value = value * 10 + u32::from(d - b'0');
                    self.pos += 1;
                }
                _ => break,
            }
        }
        let digits = self.pos - start;
        (digits >= min).then_some((value, digits))
    }
}

/// Parses the timestamp prefix at the start of `line`, if it has one.
///
/// The grammar is `(\[\d+\])?\[Y{4}/M{1,2}/D{1,2} h{1,2}:m{1,2}:s{1,2}:ms{1,3}(\(±?\d{1,2}\))?\]: `,
/// and the fields must form a real calendar time. A UTF-8 byte-order mark before the prefix is
/// skipped (it counts in `len`).
pub fn parse_prefix(line: &[u8]) -> Option<Prefix> {
    let mut cur = Cursor {
        bytes: line,
        pos: 0,
    };
    if line.starts_with(b"\xEF\xBB\xBF") {
        cur.pos = 3;
    }
    cur.eat(b'[')?;
    let mut v4 = false;
    // The 4.x leading `[n]` field.
    if cur.bytes.get(cur.pos + 4) != Some(&b'/') {
        cur.number(1, 9)?;
        cur.eat(b']')?;
        cur.eat(b'[')?;
        v4 = true;
    }
    let mut padded = true;
    let mut field = |cur: &mut Cursor, min: usize, max: usize, sep: Option<u8>| {
        let (value, digits) = cur.number(min, max)?;
        if digits < max {
            padded = false;
        }
        if let Some(sep) = sep {
            cur.eat(sep)?;
        }
        Some(value)
    };
    let year = field(&mut cur, 4, 4, Some(b'/'))?;
    let month = field(&mut cur, 1, 2, Some(b'/'))?;
    let day = field(&mut cur, 1, 2, Some(b' '))?;
    let hour = field(&mut cur, 1, 2, Some(b':'))?;
    let minute = field(&mut cur, 1, 2, Some(b':'))?;
    let second = field(&mut cur, 1, 2, Some(b':'))?;
    let milli = field(&mut cur, 1, 3, None)?;
    let mut utc_offset_hours = None;
    if cur.eat(b'(').is_some() {
        let negative = cur
            .eat(b'+')
            .map_or_else(|| cur.eat(b'-').is_some(), |()| false);
        let (hours, _) = cur.number(1, 2)?;
        cur.eat(b')')?;
        v4 = true;
        utc_offset_hours = i8::try_from(hours)
            .ok()
            .filter(|h| *h <= 14)
            .map(|h| if negative { -h } else { h });
    }
    cur.eat(b']')?;
    cur.eat(b':')?;
    match line.get(cur.pos) {
        Some(b' ') => cur.pos += 1,
        None | Some(b'\r') | Some(b'\n') => {}
        Some(_) => return None,
    }
    let time = LogTime::from_fields([year, month, day, hour, minute, second, milli])?;
    let style = if v4 {
        PrefixStyle::V4
    } else if padded {
        PrefixStyle::V3
    } else {
        PrefixStyle::Legacy
    };
    Some(Prefix {
        time,
        style,
        len: cur.pos,
        utc_offset_hours,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn time(line: &str) -> Option<String> {
        parse_prefix(line.as_bytes()).map(|p| p.time.to_string())
    }

    #[test]
    fn parses_all_three_generations() {
        let legacy = parse_prefix(b"[2017/3/1 9:5:7:52]: x").unwrap();
        assert_eq!(legacy.time.to_string(), "2017-03-01 09:05:07.052");
        assert_eq!(legacy.style, PrefixStyle::Legacy);
        assert_eq!(legacy.len, 21);

        let v3 = parse_prefix(b"[2024/03/01 08:00:00:123]: EMSessionManager").unwrap();
        assert_eq!(v3.time.to_string(), "2024-03-01 08:00:00.123");
        assert_eq!(v3.style, PrefixStyle::V3);

        let v4 = parse_prefix(b"[0][2026/02/02 13:54:39:486(08)]: log: level: 2").unwrap();
        assert_eq!(v4.time.to_string(), "2026-02-02 13:54:39.486");
        assert_eq!(v4.style, PrefixStyle::V4);
        assert_eq!(&b"[0][2026/02/02 13:54:39:486(08)]: log"[v4.len..], b"log");
        assert_eq!(v4.utc_offset_hours, Some(8));
        let west = parse_prefix(b"[0][2026/02/02 13:54:39:486(-5)]: x").unwrap();
        assert_eq!(west.utc_offset_hours, Some(-5));
        let v3 = parse_prefix(b"[2024/03/01 08:00:00:123]: x").unwrap();
        assert_eq!(v3.utc_offset_hours, None);
    }

    #[test]
    fn zones_parse_from_names_and_offsets() {
        let east = |s: i32| Some(Zone::Fixed(FixedOffset::east_opt(s).unwrap()));
        assert_eq!(Zone::parse("local"), Some(Zone::Local));
        assert_eq!(Zone::parse("UTC"), east(0));
        assert_eq!(Zone::parse("Z"), east(0));
        assert_eq!(Zone::parse("+08:00"), east(8 * 3600));
        assert_eq!(Zone::parse("+0800"), east(8 * 3600));
        assert_eq!(Zone::parse("+8"), east(8 * 3600));
        assert_eq!(Zone::parse("-05:30"), east(-(5 * 3600 + 1800)));
        for bad in ["", "08:00", "+15:00", "+08:60", "Asia/Shanghai", "+x"] {
            assert_eq!(Zone::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn milliseconds_are_the_last_field_unpadded() {
        assert_eq!(
            time("[2017/3/1 16:39:7:52]: "),
            Some("2017-03-01 16:39:07.052".into())
        );
        assert_eq!(
            time("[2017/3/1 20:0:26:5]: "),
            Some("2017-03-01 20:00:26.005".into())
        );
    }

    #[test]
    fn rejects_what_is_not_a_prefix() {
        for line in [
            "",
            "{ verison : MSYNC_V1 }",
            "[EMARHttpAPI] httpExecute code: 200",
            "[2024/13/01 08:00:00:123]: month 13",
            "[2024/02/30 08:00:00:123]: no such day",
            "[2024/03/01 24:00:00:123]: hour 24",
            "[2024/03/01 08:00:00:1234]: four ms digits",
            "[2024/03/01 08:00:00]: no milliseconds",
            "[2024/03/01 08:00:00:123]x",
            "  [2024/03/01 08:00:00:123]: indented",
        ] {
            assert_eq!(parse_prefix(line.as_bytes()), None, "{line:?}");
        }
    }

    #[test]
    fn tolerates_bom_crlf_and_empty_message() {
        assert_eq!(
            time("\u{feff}[2024/03/01 08:00:00:001]: x"),
            Some("2024-03-01 08:00:00.001".into())
        );
        assert_eq!(
            time("[2024/03/01 08:00:00:001]:\r\n"),
            Some("2024-03-01 08:00:00.001".into())
        );
        assert_eq!(
            time("[2024/03/01 08:00:00:001]:"),
            Some("2024-03-01 08:00:00.001".into())
        );
    }

    #[test]
    fn display_round_trips() {
        let t = parse_prefix(b"[2024/03/01 08:00:00:123]: ").unwrap().time;
        assert_eq!(LogTime::parse_display(&t.to_string()), Some(t));
        assert_eq!(t.minute().to_string(), "2024-03-01 08:00");
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_prefix(&bytes);
        }

        #[test]
        fn any_valid_time_round_trips(
            y in 1990u32..2100, mo in 1u32..=12, d in 1u32..=28,
            h in 0u32..24, mi in 0u32..60, s in 0u32..60, ms in 0u32..1000,
            padded in any::<bool>(), v4 in any::<bool>(),
        ) {
            let body = if padded {
                format!("{y:04}/{mo:02}/{d:02} {h:02}:{mi:02}:{s:02}:{ms:03}")
            } else {
                format!("{y}/{mo}/{d} {h}:{mi}:{s}:{ms}")
            };
            let line = if v4 { format!("[0][{body}(08)]: msg") } else { format!("[{body}]: msg") };
            let p = parse_prefix(line.as_bytes()).expect("valid prefix");
            prop_assert_eq!(p.time.to_string(), format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ms:03}"));
            prop_assert_eq!(&line.as_bytes()[p.len..], b"msg");
        }

        /// A minute key holds its minute whatever way it is read back, and orders as its text.
        #[test]
        fn minutes_round_trip_and_order_as_their_text(
            a in (0i64..4_000_000_000_000, any::<bool>()),
            b in (0i64..4_000_000_000_000, any::<bool>()),
        ) {
            let [ta, tb] = [a, b].map(|(ms, before_epoch)| {
                LogTime::from_epoch_millis(if before_epoch { -ms } else { ms }).expect("in range")
            });
            for t in [ta, tb] {
                let minute = t.minute();
                prop_assert!(minute.start() <= t && t.epoch_millis() - minute.start().epoch_millis() < 60_000);
                prop_assert_eq!(Minute::parse(&minute.to_string()), Some(minute));
                prop_assert_eq!(Minute::from_index(minute.index()), Some(minute));
                prop_assert_eq!(minute.index(), t.epoch_millis().div_euclid(60_000));
                let json = serde_json::to_string(&minute).expect("serialises");
                prop_assert_eq!(&json, &format!("\"{minute}\""));
                prop_assert_eq!(serde_json::from_str::<Minute>(&json).expect("parses"), minute);
            }
            prop_assert_eq!(
                ta.minute().cmp(&tb.minute()),
                ta.minute().to_string().cmp(&tb.minute().to_string())
            );
            // Nearby times too (`b` picks the offset), where minutes are often equal.
            let near = LogTime::from_epoch_millis(ta.epoch_millis() + b.0 % 180_000)
                .expect("in range");
            for u in [tb, near] {
                prop_assert_eq!(ta.day_minute() == u.day_minute(), ta.minute() == u.minute());
            }
        }
    }

    /// The digits put in place are what `core::fmt` writes, and years of other than four
    /// digits are written as before.
    #[test]
    fn fast_time_text_equals_formatted_text() {
        let formatted = |t: &NaiveDateTime| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.nanosecond() / 1_000_000
            )
        };
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for year in [-44, 0, 7, 999, 1000, 1999, 2024, 9999, 10_000, 99_999] {
            for _ in 0..50 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let t = NaiveDate::from_yo_opt(year, 1 + (rng % 365) as u32)
                    .and_then(|d| {
                        let ms = (rng >> 20) % 86_400_000;
                        d.and_hms_milli_opt(
                            (ms / 3_600_000) as u32,
                            (ms / 60_000 % 60) as u32,
                            (ms / 1000 % 60) as u32,
                            (ms % 1000) as u32,
                        )
                    })
                    .expect("a valid time");
                let time = LogTime(t);
                let want = formatted(&t);
                assert_eq!(time.to_string(), want);
                assert_eq!(serde_json::to_string(&time).unwrap(), format!("{want:?}"));
                let minute = &want[..want.len() - 7];
                assert_eq!(time.minute().to_string(), minute);
                assert_eq!(
                    serde_json::to_string(&time.minute()).unwrap(),
                    format!("{minute:?}")
                );
            }
        }
    }

    #[test]
    fn malformed_minutes_are_refused_with_the_text() {
        for text in [
            "2024-03-01 08",
            "2024-03-01 08:00:00",
            "2024-02-30 08:00",
            "08:00",
            "",
        ] {
            assert_eq!(Minute::parse(text), None, "{text}");
            let err = serde_json::from_str::<Minute>(&format!("{text:?}")).unwrap_err();
            assert!(err.to_string().contains("invalid minute"), "{err}");
        }
    }
}
