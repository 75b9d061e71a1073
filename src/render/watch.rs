//! What `emscan watch` prints as it goes: a line per new error occurrence (the hint under it
//! the first time a code shows), and what happened to the files. Log text, paths and device
//! names are made inert.

use std::collections::BTreeSet;
use std::io::{self, Write};

use crate::FileEvents;
use crate::catalog::{Catalog, Lang, SUCCESS_CODE};
use crate::pipeline::watch::Notice;
use crate::render::text::escape_control;

/// Writes a line per error occurrence of `events` (success lines are left out):
/// `TIME  DEVICE  CODE NAME  PATH:LINE`, the path as the user can open it; under the first
/// occurrence of each code not in `hinted`, its hint, and the code joins `hinted`.
pub(crate) fn write_hits(
    out: &mut dyn Write,
    events: &FileEvents<'_>,
    catalog: &Catalog,
    lang: Lang,
    hinted: &mut BTreeSet<u32>,
) -> io::Result<()> {
    let path = escape_control(&events.file.path.to_string_lossy()).into_owned();
    let device = escape_control(&events.file.device);
    for hit in events.scan.hits.iter().filter(|h| h.code != SUCCESS_CODE) {
        let time = hit.time.map_or_else(|| "-".to_string(), |t| t.to_string());
        let info = catalog.find(hit.code);
        let name = info.map_or(
            match lang {
                Lang::Zh => "（未知错误码）",
                Lang::En => "(unknown code)",
            },
            |i| i.name.as_str(),
        );
        writeln!(
            out,
            "{time}  {device}  {} {name}  {path}:{}",
            hit.code, hit.line
        )?;
        if let Some(info) = info
            && hinted.insert(hit.code)
        {
            let label = match lang {
                Lang::Zh => "建议",
                Lang::En => "hint",
            };
            writeln!(out, "    {label}: {}", info.hint(lang))?;
        }
    }
    Ok(())
}

/// What happened to a file, for stderr.
pub(crate) fn notice_text(notice: Notice<'_>) -> String {
    let inert = |text: &str| escape_control(text).into_owned();
    match notice {
        Notice::Appeared { path } => format!("new file: {}", inert(path)),
        Notice::Renamed { from, to } => {
            format!("{} rotated: now {}", inert(from), inert(to))
        }
        Notice::Truncated { path } => {
            format!("{} was truncated: reading it from its start", inert(path))
        }
        Notice::Gone { path } => format!("{} is gone", inert(path)),
        Notice::Unreadable { path, reason } => {
            format!(
                "cannot read {}: {} (trying again)",
                inert(path),
                inert(reason)
            )
        }
    }
}
