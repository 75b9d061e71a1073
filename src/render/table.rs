//! The scan table for people: codes with their hints, unknown codes, success, skipped files,
//! and a footer with throughput.

use std::io::{self, Write};

use indicatif::{HumanBytes, HumanCount};
use tabled::Table;
use tabled::builder::Builder;
use tabled::settings::object::{Columns, Rows};
use tabled::settings::{Alignment, Color, Style, Width};

use crate::Summary;
use crate::aggregate::CodeSummary;
use crate::catalog::Lang;
use crate::logtime::LogTime;
use crate::render::text::escape_control;

/// The widest the hint column gets before it is cut.
const HINT_WIDTH: usize = 60;

/// Labels in one language (shared with the Markdown report).
pub(crate) struct Labels {
    /// Columns of the catalog-code table.
    pub(crate) header: [&'static str; 8],
    /// Title above the unknown-code table.
    pub(crate) unknown_title: &'static str,
    /// Columns of the unknown-code table.
    pub(crate) unknown_header: [&'static str; 6],
    /// Said when no catalog code was found.
    pub(crate) no_errors: &'static str,
    /// Label of the success line.
    pub(crate) success: &'static str,
    /// Label of a skipped path.
    pub(crate) skipped: &'static str,
    /// Label of a partly read file.
    pub(crate) partial: &'static str,
}

/// The labels of `lang`.
pub(crate) fn labels(lang: Lang) -> &'static Labels {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

const EN: Labels = Labels {
    header: [
        "code",
        "name",
        "count",
        "share",
        "devices",
        "first seen",
        "last seen",
        "hint",
    ],
    unknown_title: "Codes not in the catalog (newer SDK codes or a misread shape):",
    unknown_header: [
        "code",
        "count",
        "devices",
        "first seen",
        "last seen",
        "first at",
    ],
    no_errors: "No SDK error codes found.",
    success: "Success lines (code 0)",
    skipped: "Skipped",
    partial: "Partly read",
};

const ZH: Labels = Labels {
    header: [
        "错误码",
        "名称",
        "次数",
        "占比",
        "设备数",
        "首次出现",
        "最后出现",
        "处理建议",
    ],
    unknown_title: "目录外的错误码（新版 SDK 的错误码，或未识别的格式）：",
    unknown_header: [
        "错误码",
        "次数",
        "设备数",
        "首次出现",
        "最后出现",
        "首次位置",
    ],
    no_errors: "未发现 SDK 错误码。",
    success: "成功记录（错误码 0）",
    skipped: "已跳过",
    partial: "部分读取",
};

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

/// Makes a table's header bold when colour is on.
fn emphasise_header(table: &mut Table, color: bool) {
    if color {
        table.modify(Rows::first(), Color::BOLD);
    }
}

/// Writes the scan table; `color` adds ANSI styling (the caller decides: terminal, `NO_COLOR`).
pub fn write_summary(
    out: &mut dyn Write,
    summary: &Summary,
    lang: Lang,
    color: bool,
) -> io::Result<()> {
    let labels = labels(lang);
    let total = summary.error_count();
    if summary.codes.is_empty() {
        writeln!(out, "{}", labels.no_errors)?;
    } else {
        let mut builder = Builder::default();
        builder.push_record(labels.header);
        for code in &summary.codes {
            builder.push_record([
                code.code.to_string(),
                code.name.clone().unwrap_or_default(),
                HumanCount(code.count).to_string(),
                share(code.count, total),
                code.devices().to_string(),
                time(code.first),
                time(code.last),
                code.hint.clone().unwrap_or_default(),
            ]);
        }
        let mut table = builder.build();
        table
            .with(Style::sharp())
            .modify(Columns::new(2..5), Alignment::right())
            .modify(Columns::new(7..8), Width::truncate(HINT_WIDTH).suffix("…"));
        emphasise_header(&mut table, color);
        writeln!(out, "{table}")?;
    }
    if !summary.unknown_codes.is_empty() {
        writeln!(out, "\n{}", labels.unknown_title)?;
        let mut builder = Builder::default();
        builder.push_record(labels.unknown_header);
        for code in &summary.unknown_codes {
            builder.push_record([
                code.code.to_string(),
                HumanCount(code.count).to_string(),
                code.devices().to_string(),
                time(code.first),
                time(code.last),
                first_at(code),
            ]);
        }
        let mut table = builder.build();
        table.with(Style::sharp());
        emphasise_header(&mut table, color);
        writeln!(out, "{table}")?;
    }
    let success = &summary.success;
    writeln!(
        out,
        "\n{}: {} ({} .. {})",
        labels.success,
        HumanCount(success.count),
        time(success.first),
        time(success.last)
    )?;
    for file in summary.files.iter().filter(|f| f.warning.is_some()) {
        writeln!(
            out,
            "{}: {}: {}",
            labels.partial,
            escape_control(&file.path),
            escape_control(file.warning.as_deref().unwrap_or_default())
        )?;
    }
    for skipped in &summary.skipped {
        writeln!(
            out,
            "{}: {}: {}",
            labels.skipped,
            escape_control(&skipped.path),
            escape_control(&skipped.reason)
        )?;
    }
    write_footer(out, summary, lang)
}

/// The footer line: errors, files, bytes, lines, time and throughput.
pub(crate) fn write_footer(out: &mut dyn Write, summary: &Summary, lang: Lang) -> io::Result<()> {
    let stats = &summary.stats;
    let seconds = stats.elapsed_ms as f64 / 1000.0;
    let rate = if stats.elapsed_ms > 0 {
        format!("{:.2} GB/s", stats.bytes_scanned as f64 / 1e9 / seconds)
    } else {
        "-".into()
    };
    let decoded = match (stats.bytes_scanned != stats.bytes, lang) {
        (false, _) => String::new(),
        (true, Lang::En) => format!(", {} decoded", HumanBytes(stats.bytes_scanned)),
        (true, Lang::Zh) => format!("，解压后 {}", HumanBytes(stats.bytes_scanned)),
    };
    match lang {
        Lang::En => writeln!(
            out,
            "{} errors in {} files ({} on disk{decoded}), {} lines, {:.3} s, {rate}",
            HumanCount(summary.error_count()),
            stats.files,
            HumanBytes(stats.bytes),
            HumanCount(stats.lines),
            seconds
        ),
        Lang::Zh => writeln!(
            out,
            "共 {} 个错误，{} 个文件（磁盘 {}{decoded}），{} 行，{:.3} 秒，{rate}",
            HumanCount(summary.error_count()),
            stats.files,
            HumanBytes(stats.bytes),
            HumanCount(stats.lines),
            seconds
        ),
    }
}
