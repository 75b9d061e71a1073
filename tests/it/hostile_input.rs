//! Unusual input files: line ends, encodings without a byte-order mark, one file reached by
//! several paths, files cut short under a scan, and inputs too large to hold in memory. The
//! files are generated here, in temporary folders.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use emscan::{ScanConfig, Summary, scan_paths};

/// A line with one error (code 300) and an entry time.
const ERROR_LINE: &str = "[2024/03/01 08:00:00:001]: Client_Login failed, code: 300; desc: x";

use crate::common::emscan_c as emscan;

fn scan_with(paths: &[PathBuf], chunk_size: usize) -> Summary {
    let mut config = ScanConfig::new(paths.to_vec());
    config.read.chunk_size = chunk_size;
    scan_paths(&config, &|_| {}, &|_| {}).expect("scan runs")
}

fn count(summary: &Summary, code: u32) -> u64 {
    summary
        .codes
        .iter()
        .chain(&summary.unknown_codes)
        .find(|c| c.code == code)
        .map_or(0, |c| c.count)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("compress");
    enc.finish().expect("compress")
}

fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    text.encode_utf16()
        .flat_map(|unit| {
            if little_endian {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            }
        })
        .collect()
}

#[test]
fn lone_cr_line_ends_count_each_line() {
    let dir = tempfile::tempdir().unwrap();
    let five = format!("{ERROR_LINE}\r").repeat(5);
    let long = format!("{ERROR_LINE}\r").repeat(3000);
    let files = [
        ("easemob_2024-03-01_07-00-00.log", five.as_bytes().to_vec()),
        ("easemob_2024-03-01_08-00-00.log", long.as_bytes().to_vec()),
        ("easemob_2024-03-01_09-00-00.log.gz", gzip(long.as_bytes())),
    ];
    for (name, bytes) in &files {
        fs::write(dir.path().join(name), bytes).unwrap();
    }
    // Chunks far smaller than the files: read in pieces, the positional and the streamed way.
    for chunk_size in [64, 1000, 1 << 20] {
        let s = scan_with(&[dir.path().to_path_buf()], chunk_size);
        assert_eq!(count(&s, 300), 5 + 3000 + 3000, "chunk size {chunk_size}");
        let lines: Vec<u64> = s.files.iter().map(|f| f.lines).collect();
        assert_eq!(lines, [5, 3000, 3000], "chunk size {chunk_size}");
    }
    // Named on the command line (one read), the same.
    let named = scan_with(&[dir.path().join(files[0].0)], 1 << 20);
    assert_eq!((count(&named, 300), named.files[0].lines), (5, 5));
}

#[test]
fn utf16_without_a_byte_order_mark_is_decoded() {
    for little_endian in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{ERROR_LINE} 网络\r\n").repeat(400);
        let named = dir.path().join("easemob.log");
        fs::write(&named, utf16(&text, little_endian)).unwrap();
        let logs = dir.path().join("PC-1");
        fs::create_dir_all(&logs).unwrap();
        fs::write(
            logs.join("easemob_2024-03-01_07-00-00.log.gz"),
            gzip(&utf16(&text, little_endian)),
        )
        .unwrap();
        let want = if little_endian {
            "utf-16le"
        } else {
            "utf-16be"
        };
        for chunk_size in [100, 1 << 20] {
            // Named on the command line, and found in a folder (plain and gzip'd).
            for path in [named.clone(), logs.clone()] {
                let s = scan_with(std::slice::from_ref(&path), chunk_size);
                let what = format!("{path:?}, le={little_endian}, chunk {chunk_size}");
                assert_eq!(count(&s, 300), 400, "{what}");
                assert_eq!(s.files[0].lines, 400, "{what}");
                assert_eq!(s.files[0].encoding.as_deref(), Some(want), "{what}");
                assert!(s.files[0].warning.is_none(), "{what}");
            }
        }
    }
}

#[test]
fn named_file_with_nul_bytes_in_no_pattern_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.log");
    let mut bytes = b"\x00\x01\x02\x00\x00\x07".repeat(50);
    bytes.extend_from_slice(format!("{ERROR_LINE}\n").as_bytes());
    fs::write(&path, &bytes).unwrap();
    let s = scan_with(std::slice::from_ref(&path), 1 << 20);
    assert_eq!(count(&s, 300), 1, "named, it is scanned as text");
    let warning = s.files[0].warning.as_deref().unwrap_or_default();
    assert!(warning.contains("no UTF-16 pattern"), "{warning:?}");
}

/// A bundle with one device holding a rotated file with `errors` errors.
fn bundle_with_one_device(errors: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("b/PC-1/sdkdata/easemobLog");
    fs::create_dir_all(&logs).unwrap();
    fs::write(
        logs.join("easemob_2024-03-01_07-00-00.log"),
        format!("{ERROR_LINE}\n").repeat(errors),
    )
    .unwrap();
    dir
}

#[test]
fn overlapping_paths_count_a_file_once_and_say_so() {
    let dir = bundle_with_one_device(3);
    let assert = emscan()
        .current_dir(dir.path())
        .args(["scan", "b", "b/PC-1", "--format", "json"])
        .assert();
    let out = assert.get_output();
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(summary["stats"]["errors"], 3, "{summary}");
    assert_eq!(summary["files"].as_array().map(Vec::len), Some(1));
    // The file is kept under the first path in report order, whichever the walk found first.
    assert_eq!(
        summary["files"][0]["path"],
        "b/PC-1/sdkdata/easemobLog/easemob_2024-03-01_07-00-00.log"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("easemob_2024-03-01_07-00-00.log: the same file, reached again"),
        "the merged path is named: {stderr}"
    );
    // Nothing was lost: --strict does not fail on a file counted under another path.
    let skipped = summary["skipped"].as_array().expect("skipped");
    assert!(
        skipped.iter().all(|s| s["counted_elsewhere"] == true),
        "{summary}"
    );
    emscan()
        .current_dir(dir.path())
        .args(["scan", "b", "b/PC-1", "--format", "json", "--strict"])
        .assert()
        .code(0);
}

#[cfg(unix)]
#[test]
fn symlinks_and_hard_links_count_a_file_once() {
    let dir = bundle_with_one_device(4);
    let root = dir.path().join("b");
    std::os::unix::fs::symlink(root.join("PC-1"), root.join("latest")).unwrap();
    fs::create_dir_all(root.join("PC-2")).unwrap();
    fs::hard_link(
        root.join("PC-1/sdkdata/easemobLog/easemob_2024-03-01_07-00-00.log"),
        root.join("PC-2/easemob_2024-03-01_07-00-00.log"),
    )
    .unwrap();
    for threads in [1, 4] {
        let mut config = ScanConfig::new(vec![root.clone()]);
        config.threads = Some(threads);
        let s = scan_paths(&config, &|_| {}, &|_| {}).expect("scan runs");
        assert_eq!(count(&s, 300), 4, "{threads} threads");
        let kept: Vec<&str> = s.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            kept,
            ["PC-1/sdkdata/easemobLog/easemob_2024-03-01_07-00-00.log"]
        );
        let merged: Vec<&str> = s
            .skipped
            .iter()
            .filter(|k| k.reason.starts_with("the same file as"))
            .map(|k| k.path.rsplit_once("/b/").map_or("", |(_, p)| p))
            .collect();
        assert_eq!(
            merged,
            [
                "PC-2/easemob_2024-03-01_07-00-00.log",
                "latest/sdkdata/easemobLog/easemob_2024-03-01_07-00-00.log"
            ]
        );
    }
}

#[test]
fn mapped_files_truncated_while_scans_run() {
    // Rotated files are cut short and written again while scans with every file over one byte
    // mapped run: no scan may die (SIGBUS) or fail; a cut file counts what was read.
    let dir = tempfile::tempdir().unwrap();
    let line = format!("{ERROR_LINE}\n");
    let full = line.repeat(4000);
    let rotated: Vec<PathBuf> = (0..3)
        .map(|i| {
            dir.path()
                .join(format!("easemob_2024-03-01_0{i}-00-00.log"))
        })
        .collect();
    for path in &rotated {
        fs::write(path, &full).unwrap();
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cutter = {
        let (stop, rotated, full) = (stop.clone(), rotated.clone(), full.clone());
        std::thread::spawn(move || {
            let mut round = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for path in &rotated {
                    if let Ok(file) = fs::OpenOptions::new().write(true).open(path) {
                        let _ = file.set_len((round % 5) as u64 * 100);
                    }
                }
                for path in &rotated {
                    let _ = fs::write(path, &full);
                }
                round += 1;
            }
            round
        })
    };
    let mut config = ScanConfig::new(vec![dir.path().to_path_buf()]);
    config.read.mmap_min = 1;
    config.read.chunk_size = 4096;
    for _ in 0..40 {
        let s = scan_paths(&config, &|_| {}, &|_| {}).expect("scan runs");
        assert!(count(&s, 300) <= 3 * 4000);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(cutter.join().expect("cutter thread") > 0);
}

/// The peak resident memory of `emscan scan <path> --format json`, in MiB: the high-water
/// mark of its address space (`VmHWM`, which starts afresh at exec), read until it exits.
#[cfg(target_os = "linux")]
fn peak_rss_mib(path: &std::path::Path) -> u64 {
    let bin = assert_cmd::cargo::cargo_bin("emscan");
    let mut child = std::process::Command::new(bin)
        .args(["scan", "--format", "json", "--threads", "2"])
        .arg(path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("emscan starts");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let status = loop {
        // The mark only grows; the last reading before the exit is the peak, give or take
        // what the last few milliseconds added.
        if let Ok(status) = fs::read_to_string(&status_file)
            && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kib: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .expect("VmHWM in kB");
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().expect("emscan runs") {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    assert!(status.success(), "emscan failed: {status}");
    assert!(peak_kib > 0, "no reading of {status_file}");
    peak_kib / 1024
}

#[cfg(target_os = "linux")]
#[test]
fn gzip_and_utf16_logs_are_decoded_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // Mostly lines without a code: what a scan keeps per hit is output, not decoding.
    let plain = "[2024/03/01 08:00:00:002]: Client_Login ok, everything as it should be\n";
    let block = format!("{ERROR_LINE}\n{}", plain.repeat(99)).repeat(160);
    // 128 MiB of text as gzip members of one block each (gzip readers read them all).
    let member = gzip(block.as_bytes());
    let gz = dir.path().join("easemob_2024-03-01_07-00-00.log.gz");
    let mut file = fs::File::create(&gz).unwrap();
    let members = (128 << 20) / block.len() + 1;
    for _ in 0..members {
        file.write_all(&member).unwrap();
    }
    drop(file);
    // 128 MiB of UTF-16.
    let utf16_path = dir.path().join("easemob_2024-03-01_08-00-00.log");
    let mut file = fs::File::create(&utf16_path).unwrap();
    file.write_all(&[0xFF, 0xFE]).unwrap();
    let unit_block = utf16(&block, true);
    for _ in 0..(128 << 20) / unit_block.len() + 1 {
        file.write_all(&unit_block).unwrap();
    }
    drop(file);
    // Either file held whole would take more than 128 MiB at once; decoded in chunks, the
    // scan needs its chunks and its output (a debug build with unoptimised dependencies
    // peaks near 60 MiB).
    for path in [&gz, &utf16_path] {
        let peak = peak_rss_mib(path);
        assert!(peak < 100, "{}: peak RSS {peak} MiB", path.display());
    }
}
