//! The scan table for people: codes with their hints, unknown codes, success, skipped files,
//! and a footer with throughput.

use std::io::{self, Write};

use crate::Summary;
use crate::catalog::Lang;
use crate::model::{StoryEntry, StoryEvent};
use crate::render::cells::{first_at, histogram, share, sparkline, time};
use crate::render::fit::{Column, truncate, write_table, write_wrapped};
use crate::render::report::{self, label_name};
use crate::render::text::{ProblemKind, escape_control, problem_entries};
use indicatif::{HumanBytes, HumanCount};

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
    /// Label of the other `*.log` files left out.
    pub(crate) not_scanned: &'static str,
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
    /// Title of the connection-story table (the deep pass).
    pub(crate) story_title: &'static str,
    /// Columns of the connection-story table.
    pub(crate) story_header: [&'static str; 5],
    /// A story step: an `onDisconnect…` code.
    pub(crate) story_disconnect: &'static str,
    /// A story step: a `handleDisconnect` reason.
    pub(crate) story_reason: &'static str,
    /// A story step: connected again.
    pub(crate) story_connected: &'static str,
    /// Title of the list of disconnects whose cause the log states.
    pub(crate) story_caused: &'static str,
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
    not_scanned: "Not scanned (not SDK log names; --all-files scans them)",
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
    story_title: "Connection story per device (disconnect codes, handleDisconnect reasons and causes, reconnects):",
    story_header: [
        "device",
        "disconnects",
        "reasons",
        "reconnects",
        "first steps",
    ],
    story_disconnect: "disconnect",
    story_reason: "reason",
    story_connected: "connected",
    story_caused: "Disconnects the log gives a cause for:",
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
    not_scanned: "未扫描（不是 SDK 日志文件名；--all-files 会扫描它们）",
    unmatched_title: "未被规则识别的错误行（前 20 个模板；新格式可用 --rule 补充）：",
    unmatched_header: ["次数", "模板", "首次出现", "示例位置", "已知噪声"],
    noise: "是",
    timeline_title: "时间线",
    all_errors: "全部错误",
    bursts_title: "错误突增",
    no_bursts: "无突增：错误从未明显高于背景水平。",
    story_title: "各设备的连接经过（断开错误码、handleDisconnect 原因及其起因、重连）：",
    story_header: ["设备", "断开次数", "断开原因", "重连次数", "最初经过"],
    story_disconnect: "断开",
    story_reason: "原因",
    story_connected: "已连接",
    story_caused: "日志写明原因的断线：",
};

/// The scan table's columns: the hint wraps, the name narrows, and the times, share and
/// device count go (last seen first) when the terminal is too narrow.
const CODE_COLUMNS: [Column; 8] = [
    Column::KEEP,
    Column::KEEP.cap(usize::MAX, 14, true),
    Column::KEEP.right(),
    Column::droppable(1).right(),
    Column::droppable(2).right(),
    Column::droppable(3),
    Column::droppable(0),
    Column::KEEP.cap(HINT_WIDTH, 20, true),
];

/// The unknown-code table's columns: the place wraps; times and devices go first.
const UNKNOWN_COLUMNS: [Column; 6] = [
    Column::KEEP,
    Column::KEEP.right(),
    Column::droppable(1).right(),
    Column::droppable(2),
    Column::droppable(0),
    Column::KEEP.cap(usize::MAX, 16, true),
];

/// Writes the scan table, fitted to `limit` columns when there is one; `color` adds ANSI
/// styling (the caller decides: terminal, `NO_COLOR`).
pub(crate) fn write_summary(
    out: &mut dyn Write,
    summary: &Summary,
    lang: Lang,
    color: bool,
    limit: Option<usize>,
) -> io::Result<()> {
    let labels = labels(lang);
    let total = summary.error_count();
    if summary.codes.is_empty() {
        write_wrapped(out, labels.no_errors, limit, 2)?;
    } else {
        let rows: Vec<Vec<String>> = summary
            .codes
            .iter()
            .map(|code| {
                vec![
                    code.code.to_string(),
                    code.name.clone().unwrap_or_default(),
                    HumanCount(code.count).to_string(),
                    share(code.count, total),
                    code.devices().to_string(),
                    time(code.first),
                    time(code.last),
                    code.hint.clone().unwrap_or_default(),
                ]
            })
            .collect();
        write_table(out, &labels.header, &rows, &CODE_COLUMNS, limit, color)?;
    }
    if !summary.unknown_codes.is_empty() {
        writeln!(out)?;
        write_wrapped(out, labels.unknown_title, limit, 2)?;
        let rows: Vec<Vec<String>> = summary
            .unknown_codes
            .iter()
            .map(|code| {
                vec![
                    super::catalog::unknown_code_cell(code),
                    HumanCount(code.count).to_string(),
                    code.devices().to_string(),
                    time(code.first),
                    time(code.last),
                    first_at(code),
                ]
            })
            .collect();
        write_table(
            out,
            &labels.unknown_header,
            &rows,
            &UNKNOWN_COLUMNS,
            limit,
            color,
        )?;
        if let Some(note) = super::catalog::newer_names_note(&summary.unknown_codes, lang) {
            write_wrapped(out, note, limit, 2)?;
        }
    }
    let success = &summary.success;
    writeln!(out)?;
    write_wrapped(
        out,
        &format!(
            "{}: {} ({} .. {})",
            labels.success,
            HumanCount(success.count),
            time(success.first),
            time(success.last)
        ),
        limit,
        2,
    )?;
    write_unmatched(out, summary, labels, color, limit)?;
    write_story(out, summary, lang, color, limit)?;
    for (kind, path, reason) in problem_entries(summary) {
        let label = match kind {
            ProblemKind::Partial => labels.partial,
            ProblemKind::Skipped => labels.skipped,
        };
        let line = format!(
            "{label}: {}: {}",
            escape_control(path),
            escape_control(reason)
        );
        write_wrapped(out, &line, limit, 2)?;
    }
    if !summary.not_scanned.is_empty() {
        let mut names: Vec<String> = summary
            .not_scanned
            .iter()
            .take(NOT_SCANNED_LISTED)
            .map(|p| escape_control(p).into_owned())
            .collect();
        let more = summary.not_scanned.len().saturating_sub(NOT_SCANNED_LISTED);
        if more > 0 {
            names.push(format!("… (+{more})"));
        }
        let line = format!("{}: {}", labels.not_scanned, names.join(", "));
        write_wrapped(out, &line, limit, 2)?;
    }
    write_footer(out, summary, lang, limit)
}

/// Other `*.log` files named in the table; the rest are counted.
const NOT_SCANNED_LISTED: usize = 10;

/// Templates shown in the table.
const UNMATCHED_TOP: usize = 20;
/// The widest a template gets in the table.
const TEMPLATE_WIDTH: usize = 70;

/// The unmatched-lines table's columns: templates are cut (one line each), places wrap; the
/// time goes first, then the noise mark, then the place, before a template gets too short to
/// read.
const UNMATCHED_COLUMNS: [Column; 5] = [
    Column::KEEP.right(),
    Column::KEEP.cap(TEMPLATE_WIDTH, 30, false),
    Column::droppable(0),
    Column::droppable(2).cap(usize::MAX, 16, true),
    Column::droppable(1),
];

fn write_unmatched(
    out: &mut dyn Write,
    summary: &Summary,
    labels: &TableLabels,
    color: bool,
    limit: Option<usize>,
) -> io::Result<()> {
    if summary.unmatched_templates.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    write_wrapped(out, labels.unmatched_title, limit, 2)?;
    let rows: Vec<Vec<String>> = summary
        .unmatched_templates
        .iter()
        .take(UNMATCHED_TOP)
        .map(|t| {
            vec![
                HumanCount(t.count).to_string(),
                escape_control(&t.template).into_owned(),
                time(t.first),
                format!("{}:{}", escape_control(&t.first_at.path), t.first_at.line),
                if t.known_noise { labels.noise } else { "" }.to_string(),
            ]
        })
        .collect();
    write_table(
        out,
        &labels.unmatched_header,
        &rows,
        &UNMATCHED_COLUMNS,
        limit,
        color,
    )
}

/// Story steps shown per device.
const STORY_STEPS: usize = 12;

/// The connection-story table's columns: the steps wrap; reasons and reconnects go first.
const STORY_COLUMNS: [Column; 5] = [
    Column::KEEP.cap(usize::MAX, 10, true),
    Column::KEEP.right(),
    Column::droppable(1).cap(usize::MAX, 10, true),
    Column::droppable(0).right(),
    Column::KEEP.cap(80, 20, true),
];

/// One story step for the table: the time of day and what happened, joined by no-break
/// spaces so that a wrapped cell breaks between steps only. A reason with a cause is a
/// disconnect of its own unless an `onDisconnect…` code reports it.
fn story_step(entry: &StoryEntry, labels: &TableLabels, lang: Lang) -> String {
    let at = entry.time.map_or_else(
        || "?".to_string(),
        |t| t.naive().format("%H:%M:%S").to_string(),
    );
    let value = entry.value.map(|v| v.to_string()).unwrap_or_default();
    let cause = entry
        .cause
        .map(|c| report::cause_name(c, lang).replace(' ', "\u{a0}"));
    match (entry.event, cause) {
        (StoryEvent::Disconnect, _) => {
            format!("{at}\u{a0}{}\u{a0}{value}", labels.story_disconnect)
        }
        (StoryEvent::HandleDisconnect, Some(cause)) if !entry.reported_by_listener => format!(
            "{at}\u{a0}{}\u{a0}({cause};\u{a0}{}\u{a0}{value})",
            labels.story_disconnect, labels.story_reason
        ),
        (StoryEvent::HandleDisconnect, Some(cause)) => {
            format!(
                "{at}\u{a0}{}\u{a0}{value}\u{a0}({cause})",
                labels.story_reason
            )
        }
        (StoryEvent::HandleDisconnect, None) => {
            format!("{at}\u{a0}{}\u{a0}{value}", labels.story_reason)
        }
        (StoryEvent::Connected, _) => format!("{at}\u{a0}{}", labels.story_connected),
    }
}

/// The connection story of each device that has one, when the deep pass told it: disconnects, their
/// `handleDisconnect` reasons, reconnections, and the first steps in order; then what to do
/// about each disconnect cause the log states (its code's catalog hint).
fn write_story(
    out: &mut dyn Write,
    summary: &Summary,
    lang: Lang,
    color: bool,
    limit: Option<usize>,
) -> io::Result<()> {
    let labels = labels(lang);
    // Without the deep pass a story holds only the disconnect codes the code table shows.
    let deep = summary
        .devices
        .iter()
        .flat_map(|d| &d.story)
        .any(|e| e.event != StoryEvent::Disconnect);
    let devices: Vec<_> = summary
        .devices
        .iter()
        .filter(|d| d.story_total > 0)
        .collect();
    if !deep || devices.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    write_wrapped(out, labels.story_title, limit, 2)?;
    let rows: Vec<Vec<String>> = devices
        .iter()
        .map(|d| {
            let reasons: Vec<String> = d
                .disconnect_reason_counts
                .iter()
                .map(|(reason, n)| format!("{reason}×{n}"))
                .collect();
            let reconnects = d
                .story
                .iter()
                .filter(|e| e.event == StoryEvent::Connected)
                .count();
            let mut steps: Vec<String> = d
                .story
                .iter()
                .take(STORY_STEPS)
                .map(|e| story_step(e, labels, lang))
                .collect();
            let more = d.story_total.saturating_sub(steps.len() as u64);
            if more > 0 {
                steps.push(format!("(+{more})"));
            }
            vec![
                escape_control(&d.name).into_owned(),
                HumanCount(d.disconnects).to_string(),
                if reasons.is_empty() {
                    "-".to_string()
                } else {
                    reasons.join(" ")
                },
                reconnects.to_string(),
                steps.join(" → "),
            ]
        })
        .collect();
    write_table(
        out,
        &labels.story_header,
        &rows,
        &STORY_COLUMNS,
        limit,
        color,
    )?;
    let caused = report::caused_disconnects(summary);
    if caused.is_empty() {
        return Ok(());
    }
    write_wrapped(out, labels.story_caused, limit, 2)?;
    for (device, entry, cause) in caused.iter().take(report::TOP_CAUSED) {
        let line = format!(
            "  {} {} {}:{}: {}",
            escape_control(device),
            time(entry.time),
            escape_control(&entry.path),
            entry.line,
            report::cause_detail(entry, *cause, lang)
        );
        write_wrapped(out, &line, limit, 4)?;
    }
    if caused.len() > report::TOP_CAUSED {
        writeln!(out, "  (+{})", caused.len() - report::TOP_CAUSED)?;
    }
    for cause in report::distinct_causes(&caused) {
        let hint = report::cause_hint(cause, crate::catalog::catalog(), lang);
        write_wrapped(out, &escape_control(&hint), limit, 2)?;
    }
    Ok(())
}

/// Codes with a sparkline in the timeline view.
const SPARK_CODES: usize = 8;

/// The widest a code name gets in the timeline view, and the narrowest it is made to fit.
const SPARK_NAME: (usize, usize) = (28, 12);

/// Sums each run of `k` buckets into one.
fn rebin(series: &[u64], k: usize) -> Vec<u64> {
    series.chunks(k.max(1)).map(|c| c.iter().sum()).collect()
}

/// A bucket width for people: `15m`, `2h`, `1d`, `90s`.
fn duration_name(seconds: i64) -> String {
    match seconds {
        s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s > 0 && s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Writes the timeline view: a sparkline per top code over one time axis, a histogram of all
/// errors, and the bursts. Under a `limit`, names are cut and neighbouring buckets summed until
/// the lines fit.
pub(crate) fn write_timeline(
    out: &mut dyn Write,
    summary: &Summary,
    lang: Lang,
    limit: Option<usize>,
) -> io::Result<()> {
    let labels = labels(lang);
    let tl = &summary.timeline;
    let (Some(start), Some(end)) = (tl.start, tl.end) else {
        return writeln!(out, "\n{}: -", labels.timeline_title);
    };
    let top: Vec<(&crate::model::CodeSummary, Vec<u64>)> = summary
        .codes
        .iter()
        .chain(&summary.unknown_codes)
        .filter_map(|c| Some((c, tl.code_per_bucket(c.code)?)))
        .take(SPARK_CODES)
        .collect();
    let all = tl.total_per_bucket();
    // Room for the sparks: `CODE NAME │sparks│ max N`, and `  │bars` below.
    let max_digits = top
        .iter()
        .map(|(_, s)| s.iter().sum::<u64>().to_string().len())
        .chain([all.iter().sum::<u64>().to_string().len()])
        .max()
        .unwrap_or(1);
    let len = all.len();
    let (mut name_width, mut k) = (SPARK_NAME.0, 1);
    if let Some(limit) = limit {
        let room = |name: usize| limit.saturating_sub(5 + 1 + name + 2 + 5 + max_digits);
        if room(name_width) < len {
            name_width = SPARK_NAME.0 - (len - room(name_width)).min(SPARK_NAME.0 - SPARK_NAME.1);
        }
        let room = room(name_width).min(limit.saturating_sub(3)).max(1);
        k = len.div_ceil(room).max(1);
    }
    let total = rebin(&all, k);
    let bucket = if k == 1 {
        tl.bucket.clone()
    } else {
        duration_name(tl.bucket_seconds * k as i64)
    };
    writeln!(out)?;
    let title = format!(
        "{} ({} .. {}, {} × {}):",
        labels.timeline_title,
        start,
        end,
        total.len(),
        bucket
    );
    write_wrapped(out, &title, limit, 2)?;
    for (code, series) in top {
        let series = rebin(&series, k);
        let name = code.name.as_deref().unwrap_or("?");
        let max = series.iter().copied().max().unwrap_or(0);
        writeln!(
            out,
            "{:>5} {:<name_width$} │{}│ max {max}",
            code.code,
            truncate(name, name_width),
            sparkline(&series)
        )?;
    }
    let max = total.iter().copied().max().unwrap_or(0);
    writeln!(out, "\n{} (max {max} / {bucket}):", labels.all_errors)?;
    for row in histogram(&total) {
        writeln!(out, "  │{row}")?;
    }
    writeln!(out, "  └{}", "─".repeat(total.len()))?;
    let width = total.len();
    let left = start.to_string();
    let right = end.to_string();
    let pad = (width + 1).saturating_sub(left.len() + right.len()).max(1);
    write_wrapped(
        out,
        &format!("   {left}{}{right}", " ".repeat(pad)),
        limit,
        3,
    )?;
    writeln!(out, "\n{}:", labels.bursts_title)?;
    if summary.bursts.is_empty() {
        write_wrapped(out, &format!("  {}", labels.no_bursts), limit, 4)?;
    }
    for b in &summary.bursts {
        let mut codes: Vec<(&String, &u64)> = b.codes.iter().collect();
        codes.sort_by(|x, y| y.1.cmp(x.1).then_with(|| x.0.cmp(y.0)));
        let codes: Vec<String> = codes.iter().map(|(c, n)| format!("{c}×{n}")).collect();
        let line = format!(
            "  {} .. {}  {}  {}  {}",
            b.start,
            b.end,
            label_name(b.label.as_deref(), lang),
            escape_control(&b.devices.join(", ")),
            codes.join(" ")
        );
        write_wrapped(out, &line, limit, 4)?;
    }
    Ok(())
}

/// The footer line: errors, files, bytes, lines, time and throughput, wrapped to `limit`.
pub(crate) fn write_footer(
    out: &mut dyn Write,
    summary: &Summary,
    lang: Lang,
    limit: Option<usize>,
) -> io::Result<()> {
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
    let line = match lang {
        Lang::En => {
            let plural = |n: u64, one: &'static str, many: &'static str| {
                if n == 1 { one } else { many }
            };
            let errors = summary.error_count();
            format!(
                "{} {} in {} {} ({} on disk{decoded}), {} {}, {:.3} s, {rate}",
                HumanCount(errors),
                plural(errors, "error", "errors"),
                stats.files,
                plural(stats.files, "file", "files"),
                HumanBytes(stats.bytes),
                HumanCount(stats.lines),
                plural(stats.lines, "line", "lines"),
                seconds
            )
        }
        Lang::Zh => format!(
            "共 {} 个错误，{} 个文件（磁盘 {}{decoded}），{} 行，{:.3} 秒，{rate}",
            HumanCount(summary.error_count()),
            stats.files,
            HumanBytes(stats.bytes),
            HumanCount(stats.lines),
            seconds
        ),
    };
    write_wrapped(out, &line, limit, 2)
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
    fn buckets_are_summed_to_fit() {
        assert_eq!(rebin(&[1, 2, 3, 4, 5], 2), [3, 7, 5]);
        assert_eq!(rebin(&[1, 2], 1), [1, 2]);
        assert_eq!(duration_name(4 * 900), "1h");
        assert_eq!(duration_name(3 * 900), "45m");
        assert_eq!(duration_name(2 * 86_400), "2d");
        assert_eq!(duration_name(90), "90s");
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
