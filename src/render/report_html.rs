//! The incident summary as one self-contained HTML file: inline CSS, an inline SVG timeline
//! that scales to the page (one `<rect class="bar">` per bucket, parts coloured by category,
//! bursts shaded behind, axes and a legend), no scripts and no network fetches. Every log-derived string goes through `html`; nothing depends on the clock.

use std::fmt::Write as _;

use crate::Summary;
use crate::catalog::{Catalog, Lang};
use crate::render::cells::time;
use crate::render::report::{self, ReportLabels};
use crate::render::text::{escape_control, html};
use crate::time::LogTime;

const CSS: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI','Microsoft YaHei',sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1d1d1f}p,li,h3{overflow-wrap:anywhere}\
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1.05em}\
.damaged{background:#fdecea;border-left:4px solid #d93025;padding:.6em .8em}.headline{font-size:1.1em;font-weight:600;background:#fff4e5;border-left:4px solid #f59e0b;padding:.6em .8em}\
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .5em;vertical-align:top;text-align:left}\
th{background:#f6f6f6}td.n{text-align:right}pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:12px;white-space:pre-wrap}\
code{font-family:ui-monospace,Consolas,monospace}svg.timeline{width:100%;height:auto;display:block}svg .bar{fill:none}svg .burst{fill:#fde68a}\
svg .axis{stroke:#9ca3af;stroke-width:1}svg text{font-size:11px;fill:#555}\
.legend{list-style:none;padding:0;margin:.3em 0;display:flex;flex-wrap:wrap;gap:.4em 1.2em;font-size:12px}\
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.35em;vertical-align:-.05em}";

/// Escapes log-derived text: control characters made visible, then HTML-escaped.
fn esc(text: &str) -> String {
    html(&escape_control(text)).into_owned()
}

fn table(out: &mut String, header: &[&str], rows: &[Vec<(String, bool)>]) {
    out.push_str("<div class=\"scroll\"><table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", html(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (cell, numeric) in row {
            if *numeric {
                let _ = write!(out, "<td class=\"n\">{cell}</td>");
            } else {
                let _ = write!(out, "<td>{cell}</td>");
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

/// The chart's coordinate system (the SVG scales to the page width through its `viewBox`).
const CHART_HEIGHT: u64 = 120;
const CHART_WIDTH: usize = 720;
/// Room left of the bars for the count axis, and below them for the time axis.
const AXIS_LEFT: usize = 36;
const AXIS_BELOW: u64 = 30;
/// Time ticks on the axis, at most.
const TICKS: usize = 6;

/// The series of one colour: a category of the catalog, or codes outside it.
fn series_of(code: &str, catalog: &Catalog) -> &'static str {
    code.parse::<u32>()
        .ok()
        .and_then(|c| catalog.get(c))
        .map_or("unknown", |info| info.category.as_str())
}

/// Colours of the categories, and of codes outside the catalog.
const COLOURS: [(&str, &str); 9] = [
    ("general", "#6b7280"),
    ("user", "#7c3aed"),
    ("server", "#dc2626"),
    ("file", "#0891b2"),
    ("message", "#2563eb"),
    ("group", "#16a34a"),
    ("chatroom", "#ca8a04"),
    ("push", "#db2777"),
    ("unknown", "#111827"),
];

/// Per category (in [`COLOURS`] order), errors per bucket; only categories that occur.
fn by_category(summary: &Summary, catalog: &Catalog) -> Vec<(&'static str, Vec<u64>)> {
    let tl = &summary.timeline;
    let buckets = tl.buckets as usize;
    let mut series: Vec<(&'static str, Vec<u64>)> = COLOURS
        .iter()
        .map(|(name, _)| (*name, vec![0; buckets]))
        .collect();
    for code in tl.codes.keys() {
        let name = series_of(code, catalog);
        let Some(per_bucket) = code.parse().ok().and_then(|c| tl.code_per_bucket(c)) else {
            continue;
        };
        if let Some((_, sums)) = series.iter_mut().find(|(n, _)| *n == name) {
            for (sum, v) in sums.iter_mut().zip(per_bucket) {
                *sum = sum.saturating_add(v);
            }
        }
    }
    series.retain(|(_, sums)| sums.iter().any(|&v| v > 0));
    series
}

/// A tick label: the time of day, with the date when the timeline spans more than a day.
fn tick_label(t: LogTime, with_date: bool) -> String {
    let text = t.to_string();
    let from = if with_date { 5 } else { 11 };
    text.get(from..16).unwrap_or(&text).to_string()
}

/// The SVG timeline, scaled to the page width: one `rect.bar` per bucket (its total, height 0
/// when empty) stacked from `rect.seg` parts coloured by category, bursts shaded behind, a
/// count axis and time ticks.
pub fn svg_timeline(summary: &Summary, catalog: &Catalog) -> String {
    let tl = &summary.timeline;
    let total = tl.total_per_bucket();
    let n = total.len();
    let mut svg = String::new();
    let Some(start) = tl.start else {
        return svg;
    };
    let bar = (CHART_WIDTH / n.max(1)).clamp(2, 24);
    let width = AXIS_LEFT + bar * n + 8;
    let max = tl.total.max().max(1);
    let top = 6;
    let height = CHART_HEIGHT + top + AXIS_BELOW;
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" class=\"timeline\" viewBox=\"0 0 {width} {height}\" preserveAspectRatio=\"xMinYMin meet\">"
    );
    let bucket_ms = tl.bucket_seconds * 1000;
    let index = |t: LogTime| {
        usize::try_from((t.epoch_millis() - start.epoch_millis()).div_euclid(bucket_ms.max(1)))
            .unwrap_or(0)
            .min(n.saturating_sub(1))
    };
    let x = |i: usize| AXIS_LEFT + i * bar;
    for b in &summary.bursts {
        let (a, z) = (index(b.start), index(b.end));
        let _ = write!(
            svg,
            "<rect class=\"burst\" x=\"{}\" y=\"{top}\" width=\"{}\" height=\"{CHART_HEIGHT}\"><title>{} .. {} {}</title></rect>",
            x(a),
            (z - a + 1) * bar,
            b.start,
            b.end,
            html(&report::label_name(b.label.as_deref(), Lang::En))
        );
    }
    // Count axis: 0 at the base line, the maximum at the top.
    let base = CHART_HEIGHT + top;
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{l}\" y1=\"{top}\" x2=\"{l}\" y2=\"{base}\"/>\
<line class=\"axis\" x1=\"{l}\" y1=\"{base}\" x2=\"{r}\" y2=\"{base}\"/>\
<text class=\"tick\" x=\"{t}\" y=\"{y_max}\" text-anchor=\"end\">{max}</text>\
<text class=\"tick\" x=\"{t}\" y=\"{base}\" text-anchor=\"end\">0</text>",
        l = AXIS_LEFT - 1,
        r = x(n),
        t = AXIS_LEFT - 4,
        y_max = top + 9,
    );
    let categories = by_category(summary, catalog);
    for (i, &v) in total.iter().enumerate() {
        let h = v * CHART_HEIGHT / max;
        let at = tl
            .bucket_start(i)
            .map_or_else(String::new, |t| t.to_string());
        let _ = write!(
            svg,
            "<g><rect class=\"bar\" data-count=\"{v}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\"/>",
            x(i),
            base - h,
            bar.saturating_sub(1).max(1),
        );
        // The category parts, bottom up, in legend order.
        let mut below = 0;
        let mut parts = Vec::new();
        for (name, sums) in &categories {
            let count = sums[i];
            if count == 0 {
                continue;
            }
            below += count;
            let y = base - below * CHART_HEIGHT / max;
            let part = count * CHART_HEIGHT / max;
            parts.push(format!("{name} {count}"));
            let _ = write!(
                svg,
                "<rect class=\"seg {name}\" x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{part}\"/>",
                x(i),
                bar.saturating_sub(1).max(1),
            );
        }
        let _ = write!(svg, "<title>{at}: {v} ({})</title></g>", parts.join(", "));
    }
    // Time ticks, evenly over the buckets.
    let with_date = tl
        .end
        .is_some_and(|end| end.epoch_millis() - start.epoch_millis() >= 86_400_000);
    let step = n.div_ceil(TICKS).max(1);
    for i in (0..n).step_by(step) {
        let Some(t) = tl.bucket_start(i) else {
            continue;
        };
        let _ = write!(
            svg,
            "<line class=\"axis\" x1=\"{at}\" y1=\"{base}\" x2=\"{at}\" y2=\"{tick}\"/>\
<text class=\"tick\" x=\"{at}\" y=\"{label}\">{}</text>",
            tick_label(t, with_date),
            at = x(i),
            tick = base + 4,
            label = base + 16,
        );
    }
    svg.push_str("</svg>");
    let legend: Vec<String> = categories
        .iter()
        .map(|(name, sums)| {
            let total: u64 = sums.iter().sum();
            format!("<li><span class=\"swatch {name}\"></span>{name} {total}</li>")
        })
        .collect();
    let _ = write!(svg, "\n<ul class=\"legend\">{}</ul>", legend.join(""));
    svg
}

/// CSS of the chart's colours: a bar part and its legend swatch share the category's colour.
fn colour_css() -> String {
    COLOURS
        .iter()
        .map(|(name, colour)| {
            format!("svg .{name},.swatch.{name}{{fill:{colour};background:{colour}}}")
        })
        .collect()
}

/// Renders the report.
pub fn render(summary: &Summary, catalog: &Catalog, lang: Lang) -> String {
    let l: &ReportLabels = report::labels(lang);
    let lang_attr = match lang {
        Lang::En => "en",
        Lang::Zh => "zh",
    };
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{lang_attr}\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>{CSS}{}</style></head><body>\n",
        html(l.title),
        colour_css()
    );
    let _ = writeln!(h, "<h1>{}</h1>", html(l.title));
    let [first, second] = report::verdict(summary, lang);
    let _ = writeln!(h, "<p class=\"headline\">{}", esc(&first));
    if !second.is_empty() {
        let _ = write!(h, "<br>{}", esc(&second));
    }
    h.push_str("</p>\n");
    if let Some(warning) = report::damaged(summary, lang) {
        let _ = writeln!(h, "<p class=\"damaged\">⚠ {}</p>", esc(&warning));
    }
    let roots: Vec<String> = summary
        .root
        .iter()
        .map(|r| format!("<code>{}</code>", esc(r)))
        .collect();
    let _ = writeln!(h, "<p>{}: {}</p>", html(l.scanned), roots.join(", "));
    if let Some(w) = summary.window {
        let _ = writeln!(
            h,
            "<p>{}: {} .. {}</p>",
            html(l.window),
            time(w.since),
            time(w.until)
        );
    }
    check_first(&mut h, summary, catalog, lang);
    top_codes(&mut h, summary, catalog, lang);
    devices(&mut h, summary, catalog, lang);
    bursts(&mut h, summary, catalog, lang);
    timeline(&mut h, summary, catalog, l);
    unmatched(&mut h, summary, l);
    h.push_str("</body></html>\n");
    h
}

fn check_first(h: &mut String, summary: &Summary, catalog: &Catalog, lang: Lang) {
    let l = report::labels(lang);
    let total = summary.error_count().max(1);
    if summary.error_count() == 0 {
        let _ = writeln!(
            h,
            "<h2>{}</h2><p>{}</p>",
            html(l.check_first),
            html(&report::nothing_to_check(summary, lang))
        );
        return;
    }
    let _ = writeln!(h, "<h2>{}</h2><ol>", html(l.check_first));
    for step in report::steps(summary, catalog, lang)
        .iter()
        .take(report::TOP_STEPS)
    {
        let codes: Vec<String> = step.codes.iter().map(u32::to_string).collect();
        let _ = writeln!(
            h,
            "<li>{} <small>({} {} / {:.0}%: {})</small></li>",
            html(&step.text),
            html(l.explains),
            step.explained,
            step.explained as f64 * 100.0 / total as f64,
            codes.join(", ")
        );
    }
    h.push_str("</ol>\n");
}

fn top_codes(h: &mut String, summary: &Summary, catalog: &Catalog, lang: Lang) {
    let l = report::labels(lang);
    if summary.error_count() == 0 {
        return;
    }
    let _ = writeln!(h, "<h2>{}</h2>", html(l.top_codes));
    let rows: Vec<Vec<(String, bool)>> = summary
        .codes
        .iter()
        .chain(&summary.unknown_codes)
        .take(report::TOP_CODES)
        .map(|c| {
            let info = catalog.get(c.code);
            vec![
                (c.code.to_string(), true),
                (html(c.name.as_deref().unwrap_or("?")).into_owned(), false),
                (c.count.to_string(), true),
                (c.devices().to_string(), true),
                (html(info.map_or("", |i| i.hint(lang))).into_owned(), false),
                (html(info.map_or("", |i| i.cause(lang))).into_owned(), false),
            ]
        })
        .collect();
    table(h, &l.code_header, &rows);
}

fn devices(h: &mut String, summary: &Summary, catalog: &Catalog, lang: Lang) {
    let l = report::labels(lang);
    let _ = writeln!(h, "<h2>{}</h2>", html(l.devices));
    let rows: Vec<Vec<(String, bool)>> = summary
        .devices
        .iter()
        .map(|d| {
            let styles: Vec<String> = d
                .prefix_styles
                .iter()
                .map(|s| format!("{s:?}").to_lowercase())
                .collect();
            vec![
                (format!("<code>{}</code>", esc(&d.name)), false),
                (time(d.first), false),
                (time(d.last), false),
                (d.files.len().to_string(), true),
                (d.errors.to_string(), true),
                (report::device_bursts(summary, &d.name).to_string(), true),
                (d.gaps.len().to_string(), true),
                (html(&styles.join(" → ")).into_owned(), false),
                (d.disconnects.to_string(), true),
            ]
        })
        .collect();
    table(h, &l.device_header, &rows);
    caused(h, summary, catalog, lang);
}

/// The disconnects whose cause the log states, and what to do about each cause.
fn caused(h: &mut String, summary: &Summary, catalog: &Catalog, lang: Lang) {
    let l = report::labels(lang);
    let caused = report::caused_disconnects(summary);
    if caused.is_empty() {
        return;
    }
    let _ = writeln!(h, "<p>{}:</p><ul>", html(l.caused));
    for (device, entry, cause) in caused.iter().take(report::TOP_CAUSED) {
        let _ = writeln!(
            h,
            "<li><code>{}</code> {} <code>{}:{}</code>: {}</li>",
            esc(device),
            time(entry.time),
            esc(&entry.path),
            entry.line,
            html(&report::cause_detail(entry, *cause, lang))
        );
    }
    if caused.len() > report::TOP_CAUSED {
        let _ = writeln!(h, "<li>(+{})</li>", caused.len() - report::TOP_CAUSED);
    }
    h.push_str("</ul>\n");
    for cause in report::distinct_causes(&caused) {
        let hint = report::cause_hint(cause, catalog, lang);
        let _ = writeln!(h, "<p>{}: {}</p>", html(l.what_to_do), html(&hint));
    }
}

/// The worst bursts in full, worst first; the others as a table in time order.
fn bursts(h: &mut String, summary: &Summary, catalog: &Catalog, lang: Lang) {
    let l = report::labels(lang);
    let _ = writeln!(h, "<h2>{}</h2>", html(l.bursts));
    if summary.bursts.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", html(l.no_bursts));
    }
    for (i, b) in report::full_bursts(summary).into_iter().enumerate() {
        let devices: Vec<String> = b.devices.iter().map(|d| esc(d)).collect();
        let _ = writeln!(
            h,
            "<h3 class=\"burst\">{}. {} .. {} · {} · {}</h3>",
            i + 1,
            b.start,
            b.end,
            html(&report::label_name(b.label.as_deref(), lang)),
            devices.join(", ")
        );
        let rows: Vec<Vec<(String, bool)>> = report::burst_codes(b)
            .into_iter()
            .map(|(c, n)| {
                let name = catalog.get(c).map_or("?", |i| i.name.as_str());
                vec![
                    (c.to_string(), true),
                    (html(name).into_owned(), false),
                    (n.to_string(), true),
                ]
            })
            .collect();
        table(h, &l.burst_code_header, &rows);
        if let Some(hint) = report::label_hint(b.label.as_deref(), lang) {
            let _ = writeln!(h, "<p>{}: {}</p>", html(l.what_to_do), html(hint));
        }
        if !b.samples.is_empty() {
            let _ = write!(h, "<p>{}:</p><pre>", html(l.lines));
            for s in &b.samples {
                let _ = writeln!(h, "{}:{}  {}", esc(&s.path), s.line, esc(&s.text));
            }
            h.push_str("</pre>\n");
        }
    }
    let others = report::other_bursts(summary);
    if !others.is_empty() {
        let _ = writeln!(h, "<h3>{}</h3>", html(l.other_bursts));
        let rows: Vec<Vec<(String, bool)>> = others
            .into_iter()
            .map(|b| {
                let devices: Vec<String> = b.devices.iter().map(|d| esc(d)).collect();
                vec![
                    (b.start.to_string(), false),
                    (b.end.to_string(), false),
                    (
                        html(&report::label_name(b.label.as_deref(), lang)).into_owned(),
                        false,
                    ),
                    (devices.join(", "), false),
                    (b.errors.to_string(), true),
                ]
            })
            .collect();
        table(h, &l.burst_header, &rows);
    }
}

fn timeline(h: &mut String, summary: &Summary, catalog: &Catalog, l: &ReportLabels) {
    if summary.timeline.start.is_some() {
        let max = summary.timeline.total.max();
        let _ = writeln!(
            h,
            "<h2>{}</h2><p>{} {} (max {max})</p>\n{}",
            html(l.timeline),
            html(l.per_bucket),
            html(&summary.timeline.bucket),
            svg_timeline(summary, catalog)
        );
    }
}

fn unmatched(h: &mut String, summary: &Summary, l: &ReportLabels) {
    let rows: Vec<Vec<(String, bool)>> = summary
        .unmatched_templates
        .iter()
        .filter(|t| !t.known_noise)
        .take(report::TOP_UNMATCHED)
        .map(|t| {
            vec![
                (t.count.to_string(), true),
                (format!("<code>{}</code>", esc(&t.template)), false),
                (
                    format!("<code>{}:{}</code>", esc(&t.first_at.path), t.first_at.line),
                    false,
                ),
            ]
        })
        .collect();
    if !rows.is_empty() {
        let _ = writeln!(h, "<h2>{}</h2>", html(l.unmatched));
        table(h, &l.unmatched_header, &rows);
    }
}
