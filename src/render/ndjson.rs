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
//! `timestamp` is the log's own local time (`YYYY-MM-DD HH:MM:SS.mmm`): the SDK writes no
//! zone, so none is claimed; it is `null` for a hit before the file's first prefixed line.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use crate::FileEvents;
use crate::catalog::{Catalog, SUCCESS_CODE};
use crate::render::text::escape_control;

/// OpenTelemetry severity of an error occurrence.
const ERROR: (&str, u8) = ("ERROR", 17);
/// OpenTelemetry severity of a success line (code 0).
const INFO: (&str, u8) = ("INFO", 9);

/// One occurrence, as an OpenTelemetry log record.
#[derive(Serialize)]
struct Event<'a> {
    timestamp: Option<String>,
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
}

/// Writes one event line per hit of a file, in line order. A code outside the catalog has no
/// `easemob.error.name` or `easemob.error.category`. The body is the line without its
/// terminator, control characters escaped.
pub(crate) fn write_file_events(
    out: &mut dyn Write,
    events: &FileEvents<'_>,
    catalog: &Catalog,
) -> io::Result<()> {
    for hit in &events.scan.hits {
        let info = catalog.get(hit.code);
        let (severity_text, severity_number) = if hit.code == SUCCESS_CODE {
            INFO
        } else {
            ERROR
        };
        let event = Event {
            timestamp: hit.time.map(|t| t.to_string()),
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
            },
        };
        serde_json::to_writer(&mut *out, &event)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
