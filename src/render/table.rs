//! The scan table for people: codes with their hints, unknown codes, success, skipped files,
//! and a footer with throughput.

use std::io::{self, Write};

use indicatif::{HumanBytes, HumanCount};
use tabled::Table;
use tabled::builder::Builder;
use tabled::settings::object::{Columns, Rows};
use tabled::settings::{Alignment, Color, Style, Width};

use crate::Summary;
use crate::catalog::Lang;
use crate::render::cells::{first_at, histogram, share, sparkline, time};
use crate::render::text::{ProblemKind, escape_control, problem_entries};

/// The widest the hint column gets before it is cut.
const HINT_WIDTH: usize = 60;

/// The scan table's words in one language (the Markdown table uses them too).
pub(crate) struct TableLabels {
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
    /// Title above the unmatched-lines table.
    pub(crate) unmatched_title: &'static str,
    /// Columns of the unmatched-lines table.
    pub(crate) unmatched_header: [&'static str; 5],
    /// Marks a template as known noise.
    pub(crate) noise: &'static str,
    /// Title of the timeline view.
    pub(crate) timeline_title: &'static str,
    /// Label of the all-errors histogram.
    pub(crate) all_errors: &'static str,
    /// Title of the burst list.
    pub(crate) bursts_title: &'static str,
    /// Said when no burst was found.
    pub(crate) no_bursts: &'static str,
}

/// The labels of `lang`.
pub(crate) fn labels(lang: Lang) -> &'static TableLabels {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

const EN: TableLabels = TableLabels {
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
    unmatched_title: "Error lines no rule understands (top 20 templates; write a --rule for a new shape):",
    unmatched_header: [
        "count",
        "template",
        "first seen",
        "example at",
        "known noise",
    ],
    noise: "yes",
    timeline_title: "Timeline",
    all_errors: "all errors",
    bursts_title: "Bursts",
    no_bursts: "No bursts: errors never rose far above the background.",
};

const ZH: TableLabels = TableLabels {
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
    unmatched_title: "未被规则识别的错误行（前 20 个模板；新格式可用 --rule 补充）：",
    unmatched_header: ["次数", "模板", "首次出现", "示例位置", "已知噪声"],
    noise: "是",
    timeline_title: "时间线",
    all_errors: "全部错误",
    bursts_title: "错误突增",
    no_bursts: "无突增：错误从未明显高于背景水平。",
};

/// Makes a table's header bold when colour is on.
fn emphasise_header(table: &mut Table, color: bool) {
    if color {
        table.modify(Rows::first(), Color::BOLD);
    }
}

/// Writes the scan table; `color` adds ANSI styling (the caller decides: terminal, `NO_COLOR`).
pub(crate) fn write_summary(
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
                super::catalog::unknown_code_cell(code),
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
        if let Some(note) = super::catalog::newer_names_note(&summary.unknown_codes, lang) {
            writeln!(out, "{note}")?;
        }
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
    write_unmatched(out, summary, labels, color)?;
    for (kind, path, reason) in problem_entries(summary) {
        let label = match kind {
            ProblemKind::Partial => labels.partial,
            ProblemKind::Skipped => labels.skipped,
        };
        writeln!(
            out,
            "{label}: {}: {}",
            escape_control(path),
            escape_control(reason)
        )?;
    }
    write_footer(out, summary, lang)
}

/// Templates shown in the table.
const UNMATCHED_TOP: usize = 20;
/// The widest a template gets in the table.
const TEMPLATE_WIDTH: usize = 70;

fn write_unmatched(
    out: &mut dyn Write,
    summary: &Summary,
    labels: &TableLabels,
    color: bool,
) -> io::Result<()> {
    if summary.unmatched_templates.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{}", labels.unmatched_title)?;
    let mut builder = Builder::default();
    builder.push_record(labels.unmatched_header);
    for t in summary.unmatched_templates.iter().take(UNMATCHED_TOP) {
        builder.push_record([
            HumanCount(t.count).to_string(),
            escape_control(&t.template).into_owned(),
            time(t.first),
            format!("{}:{}", escape_control(&t.first_at.path), t.first_at.line),
            if t.known_noise { labels.noise } else { "" }.to_string(),
        ]);
    }
    let mut table = builder.build();
    table
        .with(Style::sharp())
        .modify(Columns::new(0..1), Alignment::right())
        .modify(
            Columns::new(1..2),
            Width::truncate(TEMPLATE_WIDTH).suffix("…"),
        );
    emphasise_header(&mut table, color);
    writeln!(out, "{table}")
}

/// Codes with a sparkline in the timeline view.
const SPARK_CODES: usize = 8;

/// Writes the timeline view: a sparkline per top code over one time axis, a histogram of all
/// errors, and the bursts.
pub(crate) fn write_timeline(out: &mut dyn Write, summary: &Summary, lang: Lang) -> io::Result<()> {
    let labels = labels(lang);
    let tl = &summary.timeline;
    let (Some(start), Some(end)) = (tl.start, tl.end) else {
        return writeln!(out, "\n{}: -", labels.timeline_title);
    };
    writeln!(
        out,
        "\n{} ({} .. {}, {} × {}):",
        labels.timeline_title,
        start,
        end,
        tl.total.len(),
        tl.bucket
    )?;
    let top = summary
        .codes
        .iter()
        .chain(&summary.unknown_codes)
        .filter(|c| tl.codes.contains_key(&c.code.to_string()))
        .take(SPARK_CODES);
    for code in top {
        let Some(series) = tl.codes.get(&code.code.to_string()) else {
            continue;
        };
        let name = code.name.as_deref().unwrap_or("?");
        let max = series.iter().copied().max().unwrap_or(0);
        writeln!(
            out,
            "{:>5} {:<28} │{}│ max {max}",
            code.code,
            truncate(name, 28),
            sparkline(series)
        )?;
    }
    let max = tl.total.iter().copied().max().unwrap_or(0);
    writeln!(out, "\n{} (max {max} / {}):", labels.all_errors, tl.bucket)?;
    for row in histogram(&tl.total) {
        writeln!(out, "  │{row}")?;
    }
    writeln!(out, "  └{}", "─".repeat(tl.total.len()))?;
    let width = tl.total.len();
    let left = start.to_string();
    let right = end.to_string();
    let pad = (width + 1).saturating_sub(left.len() + right.len()).max(1);
    writeln!(out, "   {left}{}{right}", " ".repeat(pad))?;
    writeln!(out, "\n{}:", labels.bursts_title)?;
    if summary.bursts.is_empty() {
        writeln!(out, "  {}", labels.no_bursts)?;
    }
    for b in &summary.bursts {
        let mut codes: Vec<(&String, &u64)> = b.codes.iter().collect();
        codes.sort_by(|x, y| y.1.cmp(x.1).then_with(|| x.0.cmp(y.0)));
        let codes: Vec<String> = codes.iter().map(|(c, n)| format!("{c}×{n}")).collect();
        writeln!(
            out,
            "  {} .. {}  {}  {}  {}",
            b.start,
            b.end,
            b.label.as_deref().unwrap_or("-"),
            escape_control(&b.devices.join(", ")),
            codes.join(" ")
        )?;
    }
    Ok(())
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(width - 1).collect();
        t.push('…');
        t
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_their_maximum() {
        assert_eq!(sparkline(&[0, 1, 4, 8]), " ▁▄█");
        assert_eq!(sparkline(&[0, 0]), "  ");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn histogram_has_one_column_per_bucket() {
        let rows = histogram(&[0, 3, 6]);
        assert_eq!(rows.len(), 6);
        assert!(rows.iter().all(|r| r.chars().count() == 3));
        assert_eq!(rows[0], "  █");
        assert_eq!(rows[5], " ██");
    }
}
