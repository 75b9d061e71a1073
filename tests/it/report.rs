//! `emscan report`: the Markdown golden file, determinism, and the HTML in a real headless
//! Chromium (DOM check: one bar per timeline bucket, no scripts, log text escaped).
//!
//! Regenerate the golden file with `EMSCAN_BLESS=1 cargo test report::`.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use emscan::catalog::{Lang, catalog};
use emscan::render::{report_html, report_md};
use emscan::{ScanConfig, Summary, scan_paths};

fn sample() -> PathBuf {
    // Relative, as a user would type it: the report shows the path as given.
    PathBuf::from("fixtures/sample-bundle")
}

fn scan(config: &ScanConfig) -> Summary {
    scan_paths(config, &|_| {}, &|_| {}).expect("scan succeeds")
}

/// The configuration `emscan report` scans with: unmatched lines grouped too.
fn report_config(paths: Vec<PathBuf>) -> ScanConfig {
    let mut config = ScanConfig::new(paths);
    config.deep = true;
    config
}

#[test]
fn markdown_report_of_the_sample_bundle_matches_the_golden_file() {
    let summary = scan(&report_config(vec![sample()]));
    let got = report_md::render(&summary, catalog(), Lang::En);
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden/sample-bundle.report.md");
    if std::env::var_os("EMSCAN_BLESS").is_some() {
        std::fs::write(&golden, &got).expect("write the golden file");
    }
    let want = std::fs::read_to_string(&golden)
        .expect("tests/it/golden/sample-bundle.report.md (EMSCAN_BLESS=1 writes it)");
    assert!(
        got == want,
        "the report differs from {}; if the change is intended, rerun with EMSCAN_BLESS=1\n--- got ---\n{got}",
        golden.display()
    );
}

#[test]
fn reports_are_deterministic_across_chunking_and_threads() {
    let mut a = report_config(vec![sample()]);
    a.threads = Some(1);
    let mut b = report_config(vec![sample()]);
    b.threads = Some(3);
    b.read.chunk_size = 257;
    let (a, b) = (scan(&a), scan(&b));
    for lang in [Lang::En, Lang::Zh] {
        assert_eq!(
            report_md::render(&a, catalog(), lang),
            report_md::render(&b, catalog(), lang)
        );
        assert_eq!(
            report_html::render(&a, catalog(), lang),
            report_html::render(&b, catalog(), lang)
        );
    }
}

#[test]
fn report_command_writes_a_file_and_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("r.html");
    let status = Command::cargo_bin("emscan")
        .expect("binary")
        .args([
            "report",
            "fixtures/sample-bundle",
            "--format",
            "html",
            "--lang",
            "zh",
            "-o",
        ])
        .arg(&out)
        .status()
        .expect("runs");
    assert!(status.success());
    let html = std::fs::read_to_string(&out).expect("written");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("故障摘要"));
    let md = Command::cargo_bin("emscan")
        .expect("binary")
        .args([
            "report",
            "fixtures/sample-bundle",
            "--lang",
            "en",
            "--since",
            "-30m",
        ])
        .output()
        .expect("runs");
    assert!(md.status.success());
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(text.starts_with("# Incident summary"), "{text}");
    assert!(text.contains("Window: "), "{text}");
}

/// A bundle whose device name and log lines carry markup and terminal controls.
fn hostile_bundle(dir: &Path) -> PathBuf {
    let root = dir.join("bundle");
    let device = root.join("<i>evil&x");
    std::fs::create_dir_all(&device).expect("mkdir");
    let mut log = String::new();
    for i in 0..40 {
        log.push_str(&format!(
            "[2024/03/01 08:{:02}:{:02}:001]: X failed, code: 300; desc: <script>alert(1)</script>\u{1b}[2J\n",
            10 + i / 30,
            i % 30
        ));
    }
    for m in 0..50 {
        log.push_str(&format!(
            "[2024/03/01 09:{m:02}:00:001]: <img src=x onerror=alert(2)> upload failed\n"
        ));
    }
    std::fs::write(device.join("easemob.log"), log).expect("write");
    root
}

#[test]
fn html_escapes_every_log_derived_string() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = scan(&report_config(vec![hostile_bundle(dir.path())]));
    assert!(!summary.bursts.is_empty(), "the hostile lines form a burst");
    let html = report_html::render(&summary, catalog(), Lang::En);
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<i>evil"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains('\u{1b}'));
    assert!(html.contains("&lt;script&gt;"));
    let md = report_md::render(&summary, catalog(), Lang::En);
    assert!(!md.contains('\u{1b}'));
    // Outside code spans, markup in names is backslash-escaped.
    // (the verdict's second line names the worst burst's device).
    let verdict = md.lines().nth(3).unwrap_or_default();
    assert!(verdict.contains("\\<i\\>evil\\&x"), "{verdict}");
    assert!(
        md.contains("`<i>evil&x`"),
        "names sit in code spans elsewhere"
    );
}

/// Chromium from the OS packages, if installed.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let ok = Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            ok.then(|| PathBuf::from(name))
        })
}

/// Loads a file in headless Chromium and returns (DOM, stderr).
fn dump_dom(browser: &Path, file: &Path) -> (String, String) {
    let extra = ["--dump-dom", "--enable-logging=stderr", "--v=0"].map(String::from);
    chromium_at(browser, file, (1280, 900), &extra)
}

#[test]
#[ignore = "needs Chromium"]
fn html_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        panic!("chromium is not installed: `apt-get install -y chromium` (.ci/run does it)");
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (scan(&report_config(vec![sample()])), "sample.html"),
        (
            scan(&report_config(vec![hostile_bundle(dir.path())])),
            "hostile.html",
        ),
    ];
    for (summary, name) in &cases {
        let path = dir.path().join(name);
        std::fs::write(&path, report_html::render(summary, catalog(), Lang::En)).expect("write");
        let (dom, stderr) = dump_dom(&browser, &path);
        let bars = dom.matches("<rect class=\"bar\"").count();
        assert_eq!(
            bars, summary.timeline.buckets as usize,
            "{name}: one bar per bucket"
        );
        assert!(bars > 0, "{name}: the timeline has buckets");
        assert_eq!(
            dom.matches("<h3 class=\"burst\"").count(),
            summary.bursts.len().min(3),
            "{name}: the worst three bursts in full"
        );
        assert!(!dom.contains("<script"), "{name}: no script element");
        assert!(!dom.contains("<img"), "{name}: no injected element");
        assert!(
            !stderr.contains(":CONSOLE(") && !stderr.contains("Uncaught"),
            "{name}: console errors: {stderr}"
        );
    }
}

/// Position of `needle` in `text`, failing the test when it is missing.
fn position(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} missing from:\n{text}"))
}

#[test]
fn report_leads_with_the_verdict_and_what_to_check_first() {
    let summary = scan(&report_config(vec![sample()]));
    for (lang, sections) in [
        (
            Lang::En,
            [
                "## What to check first",
                "## Top codes",
                "## Devices",
                "## Bursts",
                "## Timeline",
            ],
        ),
        (
            Lang::Zh,
            [
                "## 优先检查",
                "## 主要错误码",
                "## 设备",
                "## 错误突增",
                "## 时间线",
            ],
        ),
    ] {
        let md = report_md::render(&summary, catalog(), lang);
        let at: Vec<usize> = sections.iter().map(|s| position(&md, s)).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{lang:?}: {at:?}\n{md}");
        // The verdict is two short lines under the title, before every section.
        let verdict: Vec<&str> = md[..at[0]].lines().filter(|l| !l.is_empty()).collect();
        assert!(
            verdict[1].starts_with("**") && verdict[1].ends_with("**"),
            "{verdict:?}"
        );
        assert!(verdict[1].chars().count() < 120, "{}", verdict[1]);
        assert!(verdict[2].chars().count() < 160, "{}", verdict[2]);
    }
}

#[test]
fn report_names_damaged_input_and_shows_three_bursts_in_full() {
    let dir = tempfile::tempdir().expect("tempdir");
    let device = dir.path().join("PC-1");
    std::fs::create_dir_all(&device).expect("mkdir");
    // Five bursts of network errors an hour apart, each bigger than the last.
    let mut log = String::new();
    for hour in 0..5u32 {
        for i in 0..(20 + hour * 5) {
            log.push_str(&format!(
                "[2024/03/01 {:02}:{:02}:{:02}:001]: X failed, code: 2; desc: net\n",
                8 + hour,
                i / 60,
                i % 60
            ));
        }
        log.push_str(&format!(
            "[2024/03/01 {:02}:40:00:001]: all quiet\n",
            8 + hour
        ));
    }
    std::fs::write(device.join("easemob.log"), &log).expect("write");
    // A truncated gzip segment: read in part, named in the report.
    let gz = {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(log.as_bytes()).expect("gzip");
        enc.finish().expect("gzip")
    };
    std::fs::write(
        device.join("easemob_2024-03-01_07-00-00.log.gz"),
        &gz[..gz.len() / 2],
    )
    .expect("write");
    let summary = scan(&report_config(vec![dir.path().to_path_buf()]));
    assert!(summary.bursts.len() > 3, "{} bursts", summary.bursts.len());
    let md = report_md::render(&summary, catalog(), Lang::En);
    let warning = position(&md, "only partly read");
    assert!(warning < position(&md, "## What to check first"));
    assert!(
        md[warning..].contains("easemob_2024-03-01_07-00-00.log.gz"),
        "{md}"
    );
    assert_eq!(
        md.matches("\n### ").count(),
        4,
        "three bursts and the others' table:\n{md}"
    );
    let others = position(&md, "### Other bursts");
    let rows = md[others..]
        .lines()
        .skip_while(|l| !l.starts_with("| ---"))
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .count();
    assert_eq!(rows, summary.bursts.len() - 3);
}

/// Runs headless Chromium on `file` in a `width` × `height` window with `extra` arguments;
/// returns (stdout, stderr).
fn chromium_at(
    browser: &Path,
    file: &Path,
    (width, height): (u32, u32),
    extra: &[String],
) -> (String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
#[ignore = "needs Chromium"]
fn html_report_fits_a_phone_and_a_desktop_without_sideways_scroll() {
    let Some(browser) = chromium() else {
        panic!("chromium is not installed: `apt-get install -y chromium` (.ci/run does it)");
    };
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-screens");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = scan(&report_config(vec![sample()]));
    let html = report_html::render(&summary, catalog(), Lang::En);
    // The timeline scales: a viewBox and no fixed width; parts coloured by category, a
    // legend, and time ticks.
    assert!(html.contains("class=\"timeline\" viewBox="), "{html}");
    assert!(html.contains("<ul class=\"legend\">"));
    assert!(
        html.matches("<text class=\"tick\"").count() >= 4,
        "0, max and time ticks"
    );
    assert!(
        html.contains("<rect class=\"seg network") || html.contains("<rect class=\"seg general")
    );
    let report = dir.path().join("report.html");
    std::fs::write(&report, &html).expect("write");
    for width in [390, 1280] {
        // The report in a frame of that width (headless Chromium's window is at least 500 px
        // wide); a srcdoc frame shares the harness's origin, so the harness can measure it.
        let srcdoc = html.replace('&', "&amp;").replace('"', "&quot;");
        let harness = format!(
            "<!DOCTYPE html><html><head><title>-</title></head><body style=\"margin:0\">\
             <iframe id=\"f\" style=\"border:0\" width=\"{width}\" height=\"2400\" srcdoc=\"{srcdoc}\"></iframe>\
             <script>onload=()=>{{const d=f.contentDocument.documentElement;\
             document.title='fit:'+d.scrollWidth+':'+f.contentWindow.innerWidth}}</script></body></html>"
        );
        let harness_file = dir.path().join(format!("harness-{width}.html"));
        std::fs::write(&harness_file, harness).expect("write harness");
        let (dom, _) = chromium_at(
            &browser,
            &harness_file,
            (width.max(500), 900),
            &["--dump-dom".into(), "--virtual-time-budget=5000".into()],
        );
        let title = dom
            .split("<title>fit:")
            .nth(1)
            .and_then(|rest| rest.split("</title>").next())
            .unwrap_or_else(|| panic!("no measurement in the DOM at {width} px"));
        let (scroll, inner) = title.split_once(':').expect("two numbers");
        let (scroll, inner): (u32, u32) = (scroll.parse().expect("n"), inner.parse().expect("n"));
        assert_eq!(inner, width, "the frame is {width} px wide");
        assert!(
            scroll <= inner,
            "at {width} px the page scrolls sideways: {scroll} > {inner}"
        );
        let shot = shots.join(format!("sample-{width}.png"));
        chromium_at(
            &browser,
            &harness_file,
            (width.max(500), 2400),
            &[format!("--screenshot={}", shot.display())],
        );
        assert!(
            shot.metadata().is_ok_and(|m| m.len() > 1000),
            "{}",
            shot.display()
        );
    }
}

#[test]
fn a_report_of_logs_without_error_codes_has_no_empty_sections() {
    let decoys = report_config(vec![crate::common::fixture("decoys-only")]);
    let md = report_md::render(&scan(&decoys), catalog(), Lang::En);
    assert!(
        md.contains("No SDK errors in 1 file from 1 device."),
        "{md}"
    );
    assert!(
        md.contains("No error code occurred: nothing to check."),
        "{md}"
    );
    assert!(!md.contains("## Top codes"), "{md}");

    // A kick by another device writes no code line: the report points at it.
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("PC/sdkdata/easemobLog");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("easemob.log"),
        "[2019/10/24 13:40:43:826]: login return: 0\n\
         [2019/10/24 14:0:27:243]: log: level: 2, area: 1, handleDisconnect:13\n\
         [2019/10/24 14:0:27:243]: ConnUserLoginAnotherDevice\n",
    )
    .unwrap();
    let summary = scan(&report_config(vec![dir.path().to_path_buf()]));
    for text in [
        report_md::render(&summary, catalog(), Lang::En),
        report_html::render(&summary, catalog(), Lang::En),
    ] {
        assert!(
            text.contains("1 disconnect had a cause the log states (logged in on another device)"),
            "{text}"
        );
    }
}
