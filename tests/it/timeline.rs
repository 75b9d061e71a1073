//! Timelines, bursts, device sessions and unmatched lines against every bundle in `fixtures/`
//! with a `.expected.json`.

use crate::common;

use std::collections::BTreeMap;

use emscan::{Bucket, ScanConfig, Summary, TimeBound, scan_paths};
use serde_json::Value;

fn scan(config: &ScanConfig) -> Summary {
    scan_paths(config, &|_| {}, &|_| {}).expect("scan succeeds")
}

fn all_bundles() -> Vec<(String, std::path::PathBuf, std::path::PathBuf)> {
    let all = common::bundles_in(&common::own_fixtures());
    assert_eq!(
        all.len(),
        4,
        "sample-bundle, decoys-only, utf16-legacy and desktop-core"
    );
    all
}

fn time(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

#[test]
fn every_planted_burst_is_found_and_quiet_stretches_stay_quiet() {
    for (name, bundle, expected) in all_bundles() {
        let expected = common::read_json(&expected);
        let planted = expected["bursts"].as_array().cloned().unwrap_or_default();
        let summary = scan(&ScanConfig::new(vec![bundle.clone()]));
        let device_of: BTreeMap<&str, &str> = summary
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.device.as_str()))
            .collect();
        for p in &planted {
            let file = p["file"].as_str().unwrap_or_default();
            let device = device_of
                .get(file)
                .unwrap_or_else(|| panic!("{name}: planted burst in unknown file {file}"));
            let (start, end) = (time(&p["start"]), time(&p["end"]));
            let covered = summary.bursts.iter().any(|b| {
                b.devices.iter().any(|d| d == device)
                    && b.start.to_string() <= end
                    && start <= b.end.to_string()
            });
            assert!(
                covered,
                "{name}: planted {} on {device} {start}..{end} not covered; reported: {:#?}",
                p["kind"], summary.bursts
            );
        }
        assert!(
            summary.bursts.len() <= 2 * planted.len(),
            "{name}: {} bursts reported for {} planted: {:#?}",
            summary.bursts.len(),
            planted.len(),
            summary.bursts
        );
        for b in &summary.bursts {
            assert!(b.start <= b.end && !b.devices.is_empty() && b.errors >= 8);
            assert_eq!(b.codes.values().sum::<u64>(), b.errors, "{name}");
            assert!(!b.samples.is_empty(), "{name}: a burst quotes lines");
        }
    }
}

#[test]
fn planted_bursts_get_their_label() {
    for (name, bundle, expected) in all_bundles() {
        let expected = common::read_json(&expected);
        let summary = scan(&ScanConfig::new(vec![bundle]));
        for p in expected["bursts"].as_array().cloned().unwrap_or_default() {
            let (start, end) = (time(&p["start"]), time(&p["end"]));
            let kind = p["kind"].as_str().unwrap_or_default();
            let labelled = summary.bursts.iter().any(|b| {
                b.label.as_deref() == Some(kind)
                    && b.start.to_string() <= end
                    && start <= b.end.to_string()
            });
            assert!(labelled, "{name}: no {kind} burst over {start}..{end}");
        }
    }
}

#[test]
fn decoys_only_has_no_bursts_and_only_known_noise_or_unmatched_lines() {
    let bundle = common::fixture("decoys-only");
    let mut config = ScanConfig::new(vec![bundle]);
    config.deep = true;
    let summary = scan(&config);
    assert!(summary.bursts.is_empty());
    assert!(summary.timeline.total.is_empty());
    assert!(
        summary.unmatched_templates.iter().any(|t| t.known_noise),
        "the decoys are grouped as known noise"
    );
}

#[test]
fn device_spans_files_and_gaps_follow_the_expected_files() {
    for (name, bundle, expected) in all_bundles() {
        let expected = common::read_json(&expected);
        let summary = scan(&ScanConfig::new(vec![bundle]));
        let want: BTreeMap<String, &Value> = expected["files"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| Some((f["path"].as_str()?.to_string(), f)))
                    .collect()
            })
            .unwrap_or_default();
        let mut seen = 0;
        for device in &summary.devices {
            let files: Vec<&Value> = device
                .files
                .iter()
                .map(|p| {
                    *want
                        .get(p)
                        .unwrap_or_else(|| panic!("{name}: {p} not expected"))
                })
                .collect();
            seen += files.len();
            let firsts: Vec<String> = files.iter().map(|f| time(&f["first"])).collect();
            let lasts: Vec<String> = files.iter().map(|f| time(&f["last"])).collect();
            let first = firsts.iter().filter(|t| !t.is_empty()).min().cloned();
            let last = lasts.iter().filter(|t| !t.is_empty()).max().cloned();
            assert_eq!(device.first.map(|t| t.to_string()), first, "{name}");
            assert_eq!(device.last.map(|t| t.to_string()), last, "{name}");
            // Gaps from the expected times, in our rotation order.
            let mut gaps = Vec::new();
            for i in 1..files.len() {
                let (from, to) = (&lasts[i - 1], &firsts[i]);
                let (Some(a), Some(b)) = (
                    emscan::time::LogTime::parse_display(from),
                    emscan::time::LogTime::parse_display(to),
                ) else {
                    continue;
                };
                if (b.epoch_millis() - a.epoch_millis()) / 1000
                    >= emscan::model::device::GAP_SECONDS
                {
                    gaps.push((device.files[i - 1].clone(), device.files[i].clone()));
                }
            }
            let got: Vec<(String, String)> = device
                .gaps
                .iter()
                .map(|g| (g.after.clone(), g.before.clone()))
                .collect();
            assert_eq!(got, gaps, "{name}: gaps of {}", device.name);
            let errors: u64 = files
                .iter()
                .map(|f| f["errors"].as_u64().unwrap_or(device.errors))
                .sum();
            if files.iter().all(|f| f["errors"].is_u64()) {
                assert_eq!(device.errors, errors, "{name}");
            }
        }
        assert_eq!(seen, want.len(), "{name}: every file belongs to one device");
    }
}

#[test]
fn timeline_counts_every_timed_error_once() {
    for (name, bundle, _) in all_bundles() {
        let summary = scan(&ScanConfig::new(vec![bundle]));
        let timed: u64 = summary
            .codes
            .iter()
            .chain(&summary.unknown_codes)
            .map(|c| c.per_minute.values().sum::<u64>())
            .sum();
        let tl = &summary.timeline;
        let total: u64 = tl.total.cells().iter().map(|&(_, n)| n).sum();
        assert_eq!(total, timed, "{name}");
        for series in tl.codes.values() {
            assert!(
                series.cells().iter().all(|&(i, n)| i < tl.buckets && n > 0),
                "{name}: one axis, non-empty buckets only"
            );
        }
        assert!(tl.buckets <= 60, "{name}: auto fits 60");
    }
}

fn sample_with(since: Option<&str>, until: Option<&str>, bucket: Bucket) -> Summary {
    let mut config = ScanConfig::new(vec![common::own_fixtures().join("sample-bundle")]);
    config.since = since.map(|s| TimeBound::parse(s).expect("valid time"));
    config.until = until.map(|s| TimeBound::parse(s).expect("valid time"));
    config.bucket = bucket;
    scan(&config)
}

#[test]
fn since_and_until_restrict_every_figure() {
    let whole = sample_with(None, None, Bucket::Auto);
    let part = sample_with(
        Some("2024-05-06 09:20"),
        Some("2024-05-06 09:30"),
        Bucket::M1,
    );
    assert!(part.error_count() < whole.error_count());
    assert_eq!(part.stats.errors, part.error_count());
    let lo = "2024-05-06 09:20:00.000";
    let hi = "2024-05-06 09:30:00.000";
    for code in part.codes.iter().chain(&part.unknown_codes) {
        let (f, l) = (
            code.first.map(|t| t.to_string()),
            code.last.map(|t| t.to_string()),
        );
        assert!(
            f.as_deref() >= Some(lo) && l.as_deref() <= Some(hi),
            "{}",
            code.code
        );
        for s in &code.samples {
            assert!(s.time.map(|t| t.to_string()).as_deref() >= Some(lo));
        }
    }
    assert_eq!(part.timeline.bucket, "1m");
    assert_eq!(
        part.timeline.total_per_bucket().iter().sum::<u64>(),
        part.error_count()
    );
    assert_eq!(
        part.bursts.len(),
        1,
        "only the network outage lies in the window"
    );
    let files_errors: u64 = part.files.iter().map(|f| f.errors).sum();
    assert_eq!(files_errors, part.error_count());
    let window = part.window.expect("the window is in the summary");
    assert_eq!(window.since.map(|t| t.to_string()).as_deref(), Some(lo));

    // Relative: the last 30 minutes before the last log time.
    let recent = sample_with(Some("-30m"), None, Bucket::Auto);
    let last = whole
        .files
        .iter()
        .filter_map(|f| f.last)
        .max()
        .expect("times");
    let since = recent.window.and_then(|w| w.since).expect("resolved");
    assert_eq!(last.epoch_millis() - since.epoch_millis(), 30 * 60_000);
    assert!(recent.error_count() < whole.error_count());
}

#[test]
fn json_has_the_new_fields() {
    let summary = sample_with(None, None, Bucket::Auto);
    let json = serde_json::to_value(&summary).expect("json");
    for key in ["timeline", "bursts", "devices", "unmatched_templates"] {
        assert!(json.get(key).is_some(), "{key}");
    }
    let burst = &json["bursts"][0];
    for key in ["start", "end", "devices", "codes", "label"] {
        assert!(burst.get(key).is_some(), "burst.{key}");
    }
    let device = &json["devices"][0];
    for key in [
        "name",
        "first",
        "last",
        "files",
        "gaps",
        "prefix_styles",
        "errors",
    ] {
        assert!(device.get(key).is_some(), "device.{key}");
    }
    // A summary reads back (the saved-summary path of other commands).
    let back: Summary = serde_json::from_value(json).expect("reads back");
    assert_eq!(back.bursts, summary.bursts);
}

/// The lines of `path` (gzip'd files decompressed), without terminators.
fn lines_of(path: &std::path::Path) -> Vec<String> {
    let raw = std::fs::read(path).expect("readable");
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut out)
            .expect("gzip");
        out
    } else {
        raw
    };
    String::from_utf8_lossy(&bytes)
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

/// Every sample line (of codes and of bursts) is the line its file and number name: whether
/// the scan gathered samples from many files or took one file's whole.
#[test]
fn samples_quote_the_lines_they_name() {
    let bundle = common::fixture("sample-bundle");
    let one_file = bundle.join("PC-BOB/bob/easemob.log");
    for root in [bundle.clone(), one_file.clone()] {
        let summary = scan(&ScanConfig::new(vec![root.clone()]));
        let samples: Vec<_> = summary
            .codes
            .iter()
            .chain(&summary.unknown_codes)
            .flat_map(|c| &c.samples)
            .chain(summary.bursts.iter().flat_map(|b| &b.samples))
            .collect();
        assert!(
            samples.len() >= 10,
            "{}: {} samples",
            root.display(),
            samples.len()
        );
        let files: std::collections::BTreeSet<&str> =
            samples.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(files.len() == 1, root == one_file, "{files:?}");
        for sample in samples {
            let path = if root.is_file() {
                root.clone()
            } else {
                root.join(&sample.path)
            };
            let lines = lines_of(&path);
            let line = usize::try_from(sample.line - 1).expect("line");
            let text = sample.text.trim_end_matches('…');
            assert!(
                lines[line].starts_with(text) && !text.is_empty(),
                "{}:{} quotes {:?}, the line is {:?}",
                sample.path,
                sample.line,
                sample.text,
                lines[line]
            );
        }
    }
}
