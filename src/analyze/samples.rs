//! Sample log lines: the text of the first hit of each code in each minute, kept so that
//! reports can quote representative lines for codes and bursts without reading logs again.

use crate::search::extract::ChunkScan;
use crate::search::line;
use crate::time::LogTime;

/// A hit's line text, by the hit's index in its chunk (or, once stitched, its file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sample {
    /// Index of the hit.
    pub(crate) hit: usize,
    /// The line (lossy UTF-8, `\r` removed, cut at [`line::MAX_TEXT`] bytes).
    pub(crate) text: String,
}

/// The key samples are unique by: code and minute (`None`: the time is not known yet).
pub(crate) fn key(code: u32, time: Option<LogTime>) -> (u32, Option<i64>) {
    (code, time.map(|t| t.minute_index()))
}

/// The first hit of each error code per minute of one chunk, with its line text.
pub(crate) fn collect_chunk(chunk: &[u8], scan: &ChunkScan) -> Vec<Sample> {
    let mut seen = rustc_hash::FxHashSet::default();
    let mut out = Vec::new();
    for (i, hit) in scan.hits.iter().enumerate() {
        if hit.code == crate::catalog::SUCCESS_CODE {
            continue;
        }
        // An inherited time is not known in the chunk: keyed as untimed here, by its time at
        // the join.
        let time = hit.time.or_carried(None);
        if seen.insert(key(hit.code, time)) {
            let (start, end) = line::bounds(chunk, hit.line_start);
            out.push(Sample {
                hit: i,
                text: line::text(&chunk[start..end]),
            });
        }
    }
    out
}
