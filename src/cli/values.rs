//! The command line's value lists: which words name each output format, bucket width and
//! language. The library's enums know nothing of clap; their flags' values are given here.

use clap::ValueEnum;
use clap::builder::PossibleValue;

/// Implements [`ValueEnum`] for an enum: each variant with its name on the command line and
/// its help text.
macro_rules! values {
    ($ty:ty { $($variant:ident => $name:literal: $help:literal),* $(,)? }) => {
        impl ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                &[$(<$ty>::$variant),*]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(match self {
                    $(<$ty>::$variant => PossibleValue::new($name).help($help)),*
                })
            }
        }
    };
}

values!(crate::render::Format {
    Table => "table": "A table for people",
    Json => "json": "One JSON object",
});

values!(crate::render::GateFormat {
    Text => "text": "One line per broken rule and a verdict",
    Json => "json": "The verdict as JSON (`emscan.gate/1`)",
    Junit => "junit": "JUnit XML: one test case per rule",
    Sarif => "sarif": "SARIF 2.1.0: one result per broken rule",
    Github => "github": "GitHub Actions `::error` workflow commands",
});

values!(crate::render::DiffFormat {
    Table => "table": "A table for people",
    Json => "json": "One JSON object (`emscan.diff/1`)",
    Markdown => "markdown": "A Markdown table (for pull-request comments)",
});

values!(crate::render::ScanFormat {
    Table => "table": "A table for people",
    Json => "json": "One JSON object: the summary (`emscan.scan/2`)",
    Ndjson => "ndjson": "One JSON object per occurrence (OpenTelemetry log fields), streamed",
    Csv => "csv": "The table as CSV, one row per code",
    Markdown => "markdown": "The table as Markdown",
    Prometheus => "prometheus": "Prometheus text format, for the node exporter's textfile collector",
});

values!(crate::render::WatchFormat {
    Text => "text": "A line per new error occurrence, the hint the first time a code shows",
    Ndjson => "ndjson": "One JSON object per occurrence, as scan --format ndjson writes them",
});

values!(crate::render::report::ReportFormat {
    Markdown => "markdown": "Markdown that pastes cleanly into a ticket",
    Html => "html": "One self-contained HTML file (inline CSS and SVG, no scripts)",
});

values!(crate::model::Bucket {
    Auto => "auto": "The smallest width that fits the span in at most 60 buckets (whole days if need be)",
    M1 => "1m": "One minute",
    M5 => "5m": "Five minutes",
    M15 => "15m": "Fifteen minutes",
    H1 => "1h": "One hour",
    D1 => "1d": "One day",
});

values!(crate::catalog::Lang {
    Zh => "zh": "Chinese",
    En => "en": "English",
});
