//! The incident summary as one self-contained HTML file: inline CSS, an inline SVG timeline
//! (one `<rect class="bar">` per bucket, bursts shaded behind), no scripts and no network
//! fetches. Every log-derived string goes through `html`; nothing depends on the clock.

use std::fmt::Write as _;

use crate::Summary;
use crate::catalog::{Catalog, Lang};
use crate::render::cells::time;
use crate::render::report::{self, ReportLabels};
use crate::render::text::{escape_control, html};
use crate::time::LogTime;

const CSS: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI','Microsoft YaHei',sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1d1d1f}\
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1.05em}\
.damaged{background:#fdecea;border-left:4px solid #d93025;padding:.6em .8em}.headline{font-size:1.1em;font-weight:600;background:#fff4e5;border-left:4px solid #f59e0b;padding:.6em .8em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .5em;vertical-align:top;text-align:left}\
th{background:#f6f6f6}td.n{text-align:right}pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:12px}\
code{font-family:ui-monospace,Consolas,monospace}svg .bar{fill:#dc2626}svg .burst{fill:#fde68a}svg text{font-size:10px;fill:#555}";

/// Escapes log-derived text: control characters made visible, then HTML-escaped.
fn esc(text: &str) -> String {
    html(&escape_control(text)).into_owned()
}

fn table(out: &mut String, header: &[&str], rows: &[Vec<(String, bool)>]) {
    out.push_str("<table><thead><tr>");
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
    out.push_str("</tbody></table>\n");
}

/// Chart size.
const CHART_HEIGHT: u64 = 120;
const CHART_WIDTH: usize = 720;

/// The SVG timeline: one `rect.bar` per bucket (height 0 when empty), bursts shaded.
pub fn svg_timeline(summary: &Summary) -> String {
    let tl = &summary.timeline;
    let n = tl.total.len();
    let mut svg = String::new();
    let Some(start) = tl.start else {
        return svg;
    };
    let bar = (CHART_WIDTH / n.max(1)).clamp(2, 24);
    let width = bar * n;
    let max = tl.total.iter().copied().max().unwrap_or(0).max(1);
    let top = 4;
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" class=\"timeline\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">",
        w = width + 2,
        h = CHART_HEIGHT + 20 + top
    );
    let bucket_ms = tl.bucket_seconds * 1000;
    let index = |t: LogTime| {
        usize::try_from((t.epoch_millis() - start.epoch_millis()).div_euclid(bucket_ms.max(1)))
            .unwrap_or(0)
            .min(n.saturating_sub(1))
    };
    for b in &summary.bursts {
        let (a, z) = (index(b.start), index(b.end));
        let _ = write!(
            svg,
            "<rect class=\"burst\" x=\"{}\" y=\"{top}\" width=\"{}\" height=\"{CHART_HEIGHT}\"><title>{} .. {} {}</title></rect>",
            a * bar,
            (z - a + 1) * bar,
            b.start,
            b.end,
            html(&report::label_name(b.label.as_deref(), Lang::En))
        );
    }
    for (i, &v) in tl.total.iter().enumerate() {
        let h = v * CHART_HEIGHT / max;
        let at = tl
            .bucket_start(i)
            .map_or_else(String::new, |t| t.to_string());
        let _ = write!(
            svg,
            "<rect class=\"bar\" data-count=\"{v}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\"><title>{at}: {v}</title></rect>",
            i * bar,
            CHART_HEIGHT + top - h,
            bar.saturating_sub(1).max(1),
        );
    }
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"{y}\">{}</text><text x=\"{w}\" y=\"{y}\" text-anchor=\"end\">{}</text></svg>",
        start,
        time(tl.end),
        y = CHART_HEIGHT + 16 + top,
        w = width
    );
    svg
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
<title>{}</title><style>{CSS}</style></head><body>\n",
        html(l.title)
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
    devices(&mut h, summary, l);
    bursts(&mut h, summary, catalog, lang);
    timeline(&mut h, summary, l);
    unmatched(&mut h, summary, l);
    h.push_str("</body></html>\n");
    h
}

fn check_first(h: &mut String, summary: &Summary, catalog: &Catalog, lang: Lang) {
    let l = report::labels(lang);
    let total = summary.error_count().max(1);
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

fn devices(h: &mut String, summary: &Summary, l: &ReportLabels) {
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

fn timeline(h: &mut String, summary: &Summary, l: &ReportLabels) {
    if summary.timeline.start.is_some() {
        let max = summary.timeline.total.iter().copied().max().unwrap_or(0);
        let _ = writeln!(
            h,
            "<h2>{}</h2><p>{} {} (max {max})</p>\n{}",
            html(l.timeline),
            html(l.per_bucket),
            html(&summary.timeline.bucket),
            svg_timeline(summary)
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
