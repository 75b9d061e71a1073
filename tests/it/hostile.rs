//! Hostile and broken input: every case gets a clear per-file message, the scan goes on, and
//! the exit status tells. The fixtures are generated here, in temporary folders.

use std::fs;
use std::io::Write;
use std::path::Path;

use assert_cmd::Command;
use emscan::{ScanConfig, Summary, scan_paths};
use predicates::prelude::*;

const GOOD: &str = "[2024/03/01 08:00:00:001]: Client_Login failed, code: 202; desc: auth failed\n\
[2024/03/01 08:00:01:001]: [global listener] onDisconnect2\n";

use crate::common::emscan_c as emscan;

fn scan(path: &Path) -> Summary {
    scan_paths(&ScanConfig::new(vec![path.to_path_buf()]), &|_| {}, &|_| {}).expect("scan runs")
}

fn count(summary: &Summary, code: u32) -> u64 {
    summary
        .codes
        .iter()
        .chain(&summary.unknown_codes)
        .find(|c| c.code == code)
        .map_or(0, |c| c.count)
}

/// A folder with one good device, so that the scan has something to read besides the bad file.
fn bundle_with_good_device() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("good")).expect("mkdir");
    fs::write(dir.path().join("good/easemob.log"), GOOD).expect("write");
    dir
}

fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    let mut out = if little_endian {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for unit in text.encode_utf16() {
        let bytes = if little_endian {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        };
        out.extend_from_slice(&bytes);
    }
    out
}

#[test]
fn utf16_files_with_a_bom_count_like_utf8() {
    for little_endian in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{GOOD}[2024/03/01 08:00:02:001]: 中文 SDK_Error: {{\"callbackId\":\"1\",\"error\":{{\"code\":300,\"desc\":\"网络\"}}}}\r\n"
        );
        fs::write(dir.path().join("easemob.log"), utf16(&text, little_endian)).unwrap();
        let s = scan(dir.path());
        assert_eq!(
            (count(&s, 202), count(&s, 2), count(&s, 300)),
            (1, 1, 1),
            "le={little_endian}"
        );
        assert_eq!(s.files[0].lines, 3);
        let want = if little_endian {
            "utf-16le"
        } else {
            "utf-16be"
        };
        assert_eq!(s.files[0].encoding.as_deref(), Some(want));
        assert_eq!(
            s.codes
                .iter()
                .find(|c| c.code == 300)
                .and_then(|c| c.first)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2024-03-01 08:00:02.001")
        );
    }
}

#[test]
fn invalid_utf8_in_a_line_does_not_hide_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes =
        b"[2024/03/01 08:00:00:001]: \xff\xfe\xc3 x failed, code: 500; desc: \x80bad\n".to_vec();
    bytes.extend_from_slice(GOOD.as_bytes());
    fs::write(dir.path().join("easemob.log"), bytes).unwrap();
    let s = scan(dir.path());
    assert_eq!(count(&s, 500), 1);
    assert_eq!(count(&s, 202), 1);
}

#[test]
fn binary_and_nul_filled_files_are_skipped_with_a_note_unless_named() {
    let dir = bundle_with_good_device();
    fs::create_dir_all(dir.path().join("bad")).unwrap();
    let nul = dir.path().join("bad/easemob.log");
    fs::write(&nul, vec![0u8; 64 << 10]).unwrap();
    let bin = dir.path().join("bad/easemob_2024-03-01_08-00-00.log");
    let mut junk = b"\x7fELF\x02\x01\x01\x00\x00\x00".to_vec();
    junk.extend_from_slice(b"x failed, code: 300; desc: y\n");
    fs::write(&bin, &junk).unwrap();
    let s = scan(dir.path());
    assert_eq!(count(&s, 202), 1, "the good device is still scanned");
    assert_eq!(count(&s, 300), 0);
    let reasons: Vec<&str> = s.skipped.iter().map(|k| k.reason.as_str()).collect();
    assert!(
        reasons.iter().any(|r| r.starts_with("NUL-filled")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("binary file")),
        "{reasons:?}"
    );
    // Named explicitly, the binary file is scanned.
    let s = scan(&bin);
    assert_eq!(count(&s, 300), 1);
}

#[test]
fn a_100_mb_line_without_newline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("easemob.log");
    let mut file = fs::File::create(&path).unwrap();
    file.write_all(b"[2024/03/01 08:00:00:001]: start ")
        .unwrap();
    let filler = vec![b'a'; 1 << 20];
    for i in 0..100 {
        file.write_all(&filler).unwrap();
        if i == 50 {
            file.write_all(b" x failed, code: 301; desc: y errorCode=302 ")
                .unwrap();
        }
    }
    drop(file);
    let s = scan(dir.path());
    assert_eq!(s.files[0].lines, 1);
    assert!(s.files[0].truncated_last_line);
    assert_eq!((count(&s, 301), count(&s, 302)), (1, 1));
    assert_eq!(
        s.codes[0].first.map(|t| t.to_string()).as_deref(),
        Some("2024-03-01 08:00:00.001")
    );
}

#[test]
fn empty_file_and_continuation_only_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("a")).unwrap();
    fs::create_dir_all(dir.path().join("b")).unwrap();
    fs::write(dir.path().join("a/easemob.log"), b"").unwrap();
    fs::write(
        dir.path().join("b/easemob.log"),
        b"  body line\n  {\"error\":{\"code\":303}}\n}",
    )
    .unwrap();
    let s = scan(dir.path());
    assert_eq!(s.files.len(), 2);
    assert_eq!(s.files[0].lines, 0);
    assert_eq!(s.files[1].lines, 3);
    assert_eq!(count(&s, 303), 1);
    // No entry above it: the occurrence is counted but has no time.
    let c = s.codes.iter().find(|c| c.code == 303).unwrap();
    assert_eq!((c.first, c.per_minute.len()), (None, 0));
    assert_eq!(c.first_at.as_ref().map(|a| a.line), Some(2));
}

#[test]
fn corrupt_gzip_counts_what_decodes_and_says_so() {
    use flate2::{Compression, write::GzEncoder};
    let dir = bundle_with_good_device();
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    for i in 0..5000 {
        writeln!(
            enc,
            "[2024/03/01 08:{:02}:{:02}:001]: x failed, code: 300; desc: y",
            i / 60 % 60,
            i % 60
        )
        .unwrap();
    }
    let gz = enc.finish().unwrap();
    fs::write(
        dir.path().join("good/easemob_2024-03-01_07-00-00.log.gz"),
        &gz[..gz.len() * 2 / 3],
    )
    .unwrap();
    fs::write(
        dir.path().join("good/easemob_2024-03-01_06-00-00.log.gz"),
        b"not gzip at all",
    )
    .unwrap();
    let s = scan(dir.path());
    let partial = s
        .files
        .iter()
        .find(|f| f.path.ends_with("07-00-00.log.gz"))
        .unwrap();
    assert!(
        partial
            .warning
            .as_deref()
            .unwrap_or_default()
            .contains("damaged"),
        "{partial:?}"
    );
    assert!(
        count(&s, 300) > 0 && count(&s, 300) < 5000,
        "counted {}",
        count(&s, 300)
    );
    assert!(
        s.skipped
            .iter()
            .any(|k| k.path.ends_with("06-00-00.log.gz") && k.reason.contains("gzip"))
    );
    assert_eq!(count(&s, 202), 1);
}

#[test]
fn gzip_bomb_is_capped_with_a_message() {
    use flate2::{Compression, write::GzEncoder};
    let dir = tempfile::tempdir().unwrap();
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    let line = b"[2024/03/01 08:00:00:001]: x failed, code: 300; desc: y\n";
    for _ in 0..(64 << 20) / line.len() {
        enc.write_all(line).unwrap();
    }
    fs::write(dir.path().join("easemob.log.gz"), enc.finish().unwrap()).unwrap();
    emscan()
        .arg("scan")
        .arg(dir.path())
        .args(["--gzip-limit", "1M", "--format", "json"])
        .assert()
        .success()
        .stderr(predicate::str::contains("exceeds the gzip limit"));
    emscan()
        .arg("scan")
        .arg(dir.path())
        .args(["--gzip-limit", "1M", "--strict"])
        .assert()
        .code(3);
}

#[test]
fn missing_and_odd_paths_are_named_and_the_scan_goes_on() {
    let dir = bundle_with_good_device();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            dir.path().join("nowhere"),
            dir.path().join("good/easemob_2024-03-01_05-00-00.log"),
        )
        .unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("good/loop")).unwrap();
    }
    let out = emscan()
        .arg("scan")
        .arg(dir.path())
        .arg(dir.path().join("missing-folder"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing-folder"), "{stderr}");
    #[cfg(unix)]
    {
        assert!(
            stderr.contains("05-00-00.log"),
            "broken symlink is named: {stderr}"
        );
        assert!(stderr.contains("loop"), "symlink loop is named: {stderr}");
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stats"]["errors"], 2);
    // --strict turns any of this into exit 3.
    emscan()
        .arg("scan")
        .arg(dir.path())
        .arg(dir.path().join("missing-folder"))
        .arg("--strict")
        .assert()
        .code(3);
    // Nothing readable at all: exit 2.
    emscan()
        .arg("scan")
        .arg(dir.path().join("missing-folder"))
        .assert()
        .code(2);
}

#[cfg(unix)]
#[test]
fn fifos_are_never_opened() {
    let dir = bundle_with_good_device();
    let fifo = dir.path().join("good/easemob_2024-03-01_04-00-00.log");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("this test needs mkfifo (coreutils)");
    assert!(status.success(), "mkfifo {} failed", fifo.display());
    let s = scan(dir.path());
    assert!(
        s.skipped
            .iter()
            .any(|k| k.reason.contains("not a regular file")),
        "{:?}",
        s.skipped
    );
    emscan()
        .arg("scan")
        .arg(&fifo)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a regular file"));
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let dir = bundle_with_good_device();
    let locked = dir.path().join("good/easemob_2024-03-01_03-00-00.log");
    fs::write(&locked, GOOD).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let mut cmd = if fs::read(&locked).is_err() {
        emscan()
    } else {
        // Root reads any file: run a copy of the binary as `nobody` so the permission holds.
        for entry in walkdir::WalkDir::new(dir.path()) {
            let entry = entry.unwrap();
            let mode = if entry.file_type().is_dir() {
                0o755
            } else {
                0o644
            };
            if entry.path() != locked {
                fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode)).unwrap();
            }
        }
        let binary = dir.path().join("emscan");
        fs::copy(env!("CARGO_BIN_EXE_emscan"), &binary).unwrap();
        fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&binary)
            .env("LANG", "C");
        cmd
    };
    let out = cmd
        .arg("scan")
        .arg(dir.path().join("good"))
        .args(["--format", "json", "--no-progress", "--strict"])
        .output()
        .expect("runs (as root this test needs setpriv from util-linux)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a skipped file under --strict: {stderr}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let skipped = summary["skipped"].as_array().expect("skipped");
    assert!(
        skipped.iter().any(|k| k["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("03-00-00.log"))),
        "{skipped:?}"
    );
    assert!(
        stderr.contains("03-00-00.log"),
        "the message names the file: {stderr}"
    );
    // The readable file is still scanned.
    assert_eq!(summary["stats"]["errors"], 2, "{summary}");
}

#[test]
fn live_log_rewritten_while_scans_run() {
    // The SDK truncates and rewrites easemob.log in place; scans running meanwhile must neither
    // crash nor panic. Rotated files are mapped (mmap_min = 1); the live file is always read.
    let dir = tempfile::tempdir().unwrap();
    let rotated = GOOD.repeat(2000);
    fs::write(dir.path().join("easemob_2024-03-01_07-00-00.log"), &rotated).unwrap();
    let live = dir.path().join("easemob.log");
    fs::write(&live, GOOD.repeat(5000)).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let live = live.clone();
        std::thread::spawn(move || {
            let mut round = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(file) = fs::OpenOptions::new().write(true).open(&live) {
                    let _ = file.set_len((round % 7) as u64 * 1000);
                }
                let _ = fs::write(&live, GOOD.repeat(round % 3000));
                round += 1;
            }
            round
        })
    };
    let mut config = ScanConfig::new(vec![dir.path().to_path_buf()]);
    config.read.mmap_min = 1;
    for _ in 0..40 {
        let s = scan_paths(&config, &|_| {}, &|_| {}).expect("scan runs");
        // The rotated file is stable: its counts never change.
        let rotated_202 = s
            .codes
            .iter()
            .find(|c| c.code == 202)
            .and_then(|c| c.per_file.get("easemob_2024-03-01_07-00-00.log").copied());
        assert_eq!(rotated_202, Some(2000));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rounds = writer.join().expect("writer thread");
    assert!(rounds > 0);
}

#[test]
fn oversized_user_rule_is_rejected_not_run() {
    let dir = bundle_with_good_device();
    emscan()
        .arg("scan")
        .arg(dir.path())
        .args(["--rule", "(?P<code>\\d+)(x{1000}){1000}"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("size limit"));
}

#[test]
fn many_continuation_lines_that_look_like_failures_stay_linear() {
    // One entry, then 150k continuation lines that the unmatched-lines and session collectors
    // both look at: each must not walk back over the whole chunk for its entry time.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("[2024/03/01 08:00:00:001]: dump follows\n");
    for i in 0..150_000 {
        text.push_str(&format!("  item {i} error handleDisconnect:{}\n", i % 7));
    }
    fs::write(dir.path().join("easemob.log"), text).unwrap();
    // (A quadratic walk would make this test run for hours rather than fail an assertion:
    // no timing assertions in tests.)
    let mut config = ScanConfig::new(vec![dir.path().to_path_buf()]);
    config.deep = true;
    let s = scan_paths(&config, &|_| {}, &|_| {}).expect("scan runs");
    let t = &s.unmatched_templates[0];
    assert_eq!(t.count, 150_000);
    assert_eq!(
        t.first.map(|t| t.to_string()).as_deref(),
        Some("2024-03-01 08:00:00.001")
    );
    let device = &s.devices[0];
    assert_eq!(device.story_total, 150_000);
    assert_eq!(device.story.len(), emscan::model::device::STORY_MAX);
    assert_eq!(
        device.disconnect_reasons.len(),
        emscan::model::device::REASONS_MAX
    );
    assert_eq!(
        device.disconnect_reason_counts["0"],
        150_000_u64.div_ceil(7)
    );
}
