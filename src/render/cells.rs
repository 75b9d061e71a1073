//! Cell text shared by the outputs: times, shares, first places, sparklines and histograms.

use crate::model::CodeSummary;
use crate::render::text::escape_control;
use crate::time::LogTime;

/// A time for people, `-` when unknown.
pub(crate) fn time(t: Option<LogTime>) -> String {
    t.map_or_else(|| "-".to_string(), |t| t.to_string())
}

/// `count` as a percentage of `total`, `-` when the total is zero.
pub(crate) fn share(count: u64, total: u64) -> String {
    if total == 0 {
        "-".into()
    } else {
        format!("{:.1}%", count as f64 * 100.0 / total as f64)
    }
}

/// Where a code first occurred, `path:line`, escaped for a terminal.
pub(crate) fn first_at(code: &CodeSummary) -> String {
    code.first_at.as_ref().map_or_else(
        || "-".into(),
        |at| format!("{}:{}", escape_control(&at.path), at.line),
    )
}

/// Sparkline levels, lowest first (a bucket without errors is a space).
const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// Rows of the all-errors histogram.
const HISTOGRAM_ROWS: u64 = 6;

/// One line of sparks, scaled to the series' own maximum.
pub(crate) fn sparkline(series: &[u64]) -> String {
    let max = series.iter().copied().max().unwrap_or(0);
    series
        .iter()
        .map(|&v| {
            if v == 0 || max == 0 {
                ' '
            } else {
                let level = (v * 8).div_ceil(max).clamp(1, 8);
                SPARKS[usize::try_from(level - 1).unwrap_or(0)]
            }
        })
        .collect()
}

/// A histogram of `series`, [`HISTOGRAM_ROWS`] rows high, one column per bucket.
pub(crate) fn histogram(series: &[u64]) -> Vec<String> {
    let max = series.iter().copied().max().unwrap_or(0).max(1);
    let eighths: Vec<u64> = series
        .iter()
        .map(|&v| (v * HISTOGRAM_ROWS * 8).div_ceil(max))
        .collect();
    (0..HISTOGRAM_ROWS)
        .rev()
        .map(|row| {
            eighths
                .iter()
                .map(|&h| {
                    let filled = h.saturating_sub(row * 8).min(8);
                    if filled == 0 {
                        ' '
                    } else {
                        SPARKS[usize::try_from(filled - 1).unwrap_or(0)]
                    }
                })
                .collect()
        })
        .collect()
}
