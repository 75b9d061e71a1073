//! NDJSON events: one JSON object per occurrence, with OpenTelemetry log field names.
//!
//! Unlike the other renderers this one reads hits, not the summary: events are written file
//! by file as [`crate::scan_stream`] hands them over, so memory stays flat however many there
//! are. Each line is one object:
//!
//! ```json
//! {"timestamp":"2024-05-06 09:08:05.907","severity_text":"ERROR","severity_number":17,
//!  "body":"[2024/05/06 09:08:05:907]: ... code: 2; desc: ...",
//!  "attributes":{"easemob.error.code":2,"easemob.error.name":"NETWORK_ERROR",
//!   "easemob.error.category":"general","log.file.path":"PC-ALICE/easemob.log",
//!   "log.file.line":12,"easemob.device":"PC-ALICE","easemob.shape":"code_desc"}}
//! ```
//!
//! `timestamp` is the log's own local time (`YYYY-MM-DD HH:MM:SS.mmm`), as the line says it.
//! `time_unix_nano` is the same instant since the Unix epoch in nanoseconds, a decimal string as
//! OTLP/JSON writes 64-bit integers, and `easemob.utc_offset` the offset it was read with: the
//! line's own `(hh)` where its prefix has one, else the zone given (`--tz`, default the
//! machine's). Both times are absent (`timestamp` is `null`) for a hit before the file's first
//! prefixed line.

use std::borrow::Cow;
use std::io::{self, Write};

use chrono::FixedOffset;
use serde::Serialize;

use crate::FileEvents;
use crate::catalog::{Catalog, SUCCESS_CODE};
use crate::render::text::escape_control;
use crate::time::{LogTime, Zone, parse_prefix};

/// OpenTelemetry severity of an error occurrence.
const ERROR: (&str, u8) = ("ERROR", 17);
/// OpenTelemetry severity of a success line (code 0).
const INFO: (&str, u8) = ("INFO", 9);

/// One occurrence, as an OpenTelemetry log record.
#[derive(Serialize)]
struct Event<'a> {
    timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_unix_nano: Option<String>,
    severity_text: &'static str,
    severity_number: u8,
    body: Cow<'a, str>,
    attributes: Attributes<'a>,
}

/// The attributes of an event (semantic-convention names where they exist).
#[derive(Serialize)]
struct Attributes<'a> {
    #[serde(rename = "easemob.error.code")]
    code: u32,
    #[serde(rename = "easemob.error.name", skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(
        rename = "easemob.error.category",
        skip_serializing_if = "Option::is_none"
    )]
    category: Option<&'static str>,
    #[serde(rename = "log.file.path")]
    path: &'a str,
    #[serde(rename = "log.file.line")]
    line: u64,
    #[serde(rename = "easemob.device")]
    device: &'a str,
    #[serde(rename = "easemob.shape")]
    shape: &'a str,
    #[serde(rename = "easemob.utc_offset", skip_serializing_if = "Option::is_none")]
    utc_offset: Option<String>,
}

/// The UTC offset of a hit: its line's own `(hh)`, else the zone's at that local time.
fn offset_of(time: LogTime, line: Option<&str>, zone: Zone) -> FixedOffset {
    line.and_then(|l| parse_prefix(l.as_bytes()))
        .and_then(|p| p.utc_offset_hours)
        .and_then(|h| FixedOffset::east_opt(i32::from(h) * 3600))
        .unwrap_or_else(|| zone.offset_at(time))
}

/// Nanoseconds since the Unix epoch of the local time `time` at `offset`.
fn unix_nanos(time: LogTime, offset: FixedOffset) -> Option<i64> {
    let utc_millis = time.epoch_millis() - i64::from(offset.local_minus_utc()) * 1000;
    utc_millis.checked_mul(1_000_000)
}

/// Writes one event line per hit of a file, in line order. A code outside the catalog has no
/// `easemob.error.name` or `easemob.error.category`. The body is the line without its
/// terminator, control characters escaped.
pub(crate) fn write_file_events(
    out: &mut dyn Write,
    events: &FileEvents<'_>,
    catalog: &Catalog,
    zone: Zone,
) -> io::Result<()> {
    for hit in &events.scan.hits {
        let info = catalog.get(hit.code);
        let (severity_text, severity_number) = if hit.code == SUCCESS_CODE {
            INFO
        } else {
            ERROR
        };
        let offset = hit
            .time
            .map(|t| (t, offset_of(t, hit.text.as_deref(), zone)));
        let event = Event {
            timestamp: hit.time.map(|t| t.to_string()),
            time_unix_nano: offset
                .and_then(|(t, o)| unix_nanos(t, o))
                .map(|n| n.to_string()),
            severity_text,
            severity_number,
            body: escape_control(hit.text.as_deref().unwrap_or_default()),
            attributes: Attributes {
                code: hit.code,
                name: info.map(|i| i.name.as_str()),
                category: info.map(|i| i.category.as_str()),
                path: &events.file.rel_path,
                line: hit.line,
                device: &events.file.device,
                shape: events
                    .rules
                    .rules()
                    .get(hit.rule)
                    .map_or("?", |r| r.name.as_str()),
                utc_offset: offset.map(|(_, o)| o.to_string()),
            },
        };
        serde_json::to_writer(&mut *out, &event)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
