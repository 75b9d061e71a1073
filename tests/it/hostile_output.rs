//! Hostile conditions on the output side: a stderr that cannot be written, a stdout closed
//! early, more threads than the machine can use, names that carry terminal escapes or
//! characters XML forbids, and a report file that cannot be written whole or names a log.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};

/// One error line per code `first..first + n`, a second apart.
fn error_lines(first: u32, n: u32) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[2024/03/01 08:{:02}:{:02}:001]: Client_Login failed, code: {}; desc: failed\n",
                i / 60,
                i % 60,
                first + i
            )
        })
        .collect()
}

use crate::common::emscan_c as emscan;

/// The binary as a plain process (for pipes and files `assert_cmd` does not offer).
fn process() -> Process {
    let mut cmd = Process::new(env!("CARGO_BIN_EXE_emscan"));
    cmd.env("LANG", "C");
    cmd
}

/// A bundle with one device folder named `device`, holding an `easemob.log` of `log`.
fn bundle(device: &str, log: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("bundle");
    fs::create_dir_all(folder.join(device)).expect("mkdir");
    fs::write(folder.join(device).join("easemob.log"), log).expect("write");
    (dir, folder)
}

/// Whether `c` may appear in an XML 1.0 document (the `Char` production).
#[cfg(unix)]
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// A folder name with an ANSI colour escape, a bidi override and a noncharacter.
#[cfg(unix)]
const HOSTILE_DEVICE: &str = "PC\u{1b}[31m\u{202E}-1\u{FFFE}";

/// The same name as the outputs show it.
#[cfg(unix)]
const HOSTILE_DEVICE_SHOWN: &str = "PC\\u{1b}[31m\\u{202e}-1\\u{fffe}";

#[cfg(target_os = "linux")]
fn dev_full() -> fs::File {
    fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("this test needs /dev/full (Linux)")
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stderr_never_panics() {
    let (_dir, folder) = bundle("PC-1", &error_lines(200, 3));
    let folder = folder.to_str().expect("a UTF-8 temporary path");
    let cases: [(&[&str], i32); 4] = [
        // An error message: no log file found.
        (&["scan", "no-such-folder"], 2),
        // A warning about a skipped path, then the report.
        (&["scan", "--format", "json", "no-such-folder", folder], 0),
        // The warning that --threads was capped.
        (&["scan", "--threads", "65535", folder], 0),
        // An unknown code.
        (&["explain", "no-such-code"], 2),
    ];
    for (args, expected) in cases {
        let status = process()
            .args(args)
            .stdout(Stdio::null())
            .stderr(dev_full())
            .status()
            .expect("runs");
        assert_eq!(status.code(), Some(expected), "emscan {args:?} 2>/dev/full");
    }
}

/// Runs `args`, reads one line of stdout and closes it, as `| head -1` does; returns the exit
/// code and stderr.
fn read_one_line_and_close(args: &[&str]) -> (Option<i32>, String) {
    let mut child = process()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first line");
    assert!(!first.is_empty(), "emscan {args:?} wrote nothing");
    drop(stdout);
    let out = child.wait_with_output().expect("waits");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_stdout_closed_early_ends_quietly() {
    // Megabytes of output: far more than a pipe holds, so writing must meet the closed end.
    let (_dir, folder) = bundle("PC-1", &error_lines(100_000, 20_000).repeat(3));
    let folder = folder.to_str().expect("a UTF-8 temporary path");
    for args in [
        ["scan", "--format", "ndjson", folder],
        ["scan", "--format", "json", folder],
    ] {
        let (code, stderr) = read_one_line_and_close(&args);
        assert_eq!(code, Some(0), "emscan {args:?} | head -1: {stderr}");
        assert_eq!(stderr, "", "emscan {args:?} | head -1 says nothing");
    }
}

/// Runs `args` with stdout closed before anything is read, as `| true` does; returns the exit
/// code and stderr.
fn close_stdout_at_once(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let mut child = process()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("waits");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_stdout_closed_early_keeps_the_exit_status() {
    let (dir, folder) = bundle("PC-1", &error_lines(200, 3));
    let folder = folder.as_os_str();
    let missing = dir.path().join("missing");
    // A broken gate stays broken.
    let args = ["gate", "--max", "total=0"].map(std::ffi::OsStr::new);
    let (code, stderr) = close_stdout_at_once(&[&args[..], &[folder]].concat());
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr, "");
    // --strict still tells of a skipped path.
    for format in ["json", "table"] {
        let args = ["scan", "--strict", "--format", format].map(std::ffi::OsStr::new);
        let (code, stderr) =
            close_stdout_at_once(&[&args[..], &[folder, missing.as_os_str()]].concat());
        assert_eq!(code, Some(3), "--format {format}: {stderr}");
        // The table lists skipped paths itself; other formats warn on stderr.
        if format != "table" {
            assert!(stderr.contains("missing"), "the warning is given: {stderr}");
        }
    }
}

#[test]
fn threads_beyond_four_per_core_are_capped_with_a_message() {
    let (_dir, folder) = bundle("PC-1", &error_lines(200, 3));
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let cap = (4 * cores).min(256);
    let out = emscan()
        .args(["scan", "--format", "json", "--threads", "65535"])
        .arg(&folder)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("--threads 65535 is more than 4 per core")
            && stderr.contains(&format!("using {cap}")),
        "{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(summary["stats"]["errors"], 3);
    // Said once, also by a command that scans twice.
    let out = emscan()
        .args(["diff", "--threads", "65535"])
        .arg(&folder)
        .arg(&folder)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.matches("--threads 65535").count(), 1, "{stderr}");
    // Within the cap: no message.
    emscan()
        .args(["scan", "--threads", "2"])
        .arg(&folder)
        .assert()
        .success()
        .stderr("");
}

/// `emscan` under a limit of `nproc` threads for its user, reading the files under `dir`.
/// Root is exempt from the limit: a copy of the binary then runs as `nobody`.
#[cfg(target_os = "linux")]
fn with_thread_limit(dir: &std::path::Path, nproc: u32) -> Process {
    use std::os::unix::fs::PermissionsExt;
    let as_root = Process::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .expect("this test needs id (coreutils)");
    let mut cmd = Process::new("prlimit");
    cmd.arg(format!("--nproc={nproc}")).env("LANG", "C");
    if as_root {
        for entry in walkdir::WalkDir::new(dir) {
            let entry = entry.unwrap();
            let mode = if entry.file_type().is_dir() {
                0o755
            } else {
                0o644
            };
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode)).unwrap();
        }
        let binary = dir.join("emscan");
        fs::copy(env!("CARGO_BIN_EXE_emscan"), &binary).unwrap();
        fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
        cmd.args([
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ])
        .arg(binary);
    } else {
        cmd.arg(env!("CARGO_BIN_EXE_emscan"));
    }
    cmd
}

#[cfg(target_os = "linux")]
#[test]
fn a_worker_pool_that_cannot_start_is_an_error_not_a_panic() {
    let (dir, folder) = bundle("PC-1", &error_lines(200, 3));
    // One thread (the main one) and one more: a pool of four cannot start.
    let out = with_thread_limit(dir.path(), 2)
        .args(["scan", "--threads", "4"])
        .arg(&folder)
        .output()
        .expect("this test needs prlimit and, as root, setpriv (util-linux)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("could not start the worker threads"),
        "{stderr}"
    );
    assert!(stderr.contains("--threads 1"), "{stderr}");
}

/// The folder walk once started threads of its own beside the pool's: where the limit left
/// room for the pool and no more, the scan panicked (or hung).
#[cfg(target_os = "linux")]
#[test]
fn a_scan_whose_pool_takes_every_thread_allowed_still_walks_the_folders() {
    let (dir, folder) = bundle("PC-1", &error_lines(200, 3));
    let mut expected = emscan();
    let expected = expected
        .args(["scan", "--format", "json", "--threads", "2"])
        .arg(&folder)
        .output()
        .expect("runs");
    assert_eq!(expected.status.code(), Some(0));
    // The main thread and the pool's two workers.
    let out = with_thread_limit(dir.path(), 3)
        .args(["scan", "--format", "json", "--threads", "2"])
        .arg(&folder)
        .output()
        .expect("this test needs prlimit and, as root, setpriv (util-linux)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let codes = |json: &[u8]| -> serde_json::Value {
        serde_json::from_slice::<serde_json::Value>(json).expect("JSON")["codes"].clone()
    };
    assert_eq!(codes(&out.stdout), codes(&expected.stdout));
    assert_ne!(codes(&out.stdout), serde_json::json!([]));
}

/// Whether `text` holds a character that must not reach a terminal raw.
#[cfg(unix)]
fn has_raw_control(text: &str) -> bool {
    text.chars()
        .any(|c| (c.is_control() && c != '\n') || c == '\u{202E}' || c == '\u{FFFE}')
}

#[cfg(unix)]
#[test]
fn no_log_files_message_escapes_the_folder_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join(HOSTILE_DEVICE);
    fs::create_dir(&folder).expect("mkdir");
    let out = emscan().arg("scan").arg(&folder).output().expect("runs");
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no SDK log files found"), "{stderr}");
    assert!(stderr.contains(HOSTILE_DEVICE_SHOWN), "{stderr}");
    assert!(!has_raw_control(&stderr), "{stderr:?}");
}

#[cfg(unix)]
#[test]
fn warnings_and_errors_that_quote_a_path_escape_it() {
    let (dir, folder) = bundle("PC-1", &error_lines(200, 3));
    let missing = dir
        .path()
        .join(format!("{HOSTILE_DEVICE}\nemscan: forged line"));
    // A warning about a skipped path.
    let out = emscan()
        .args(["scan", "--format", "json"])
        .arg(&folder)
        .arg(&missing)
        .output()
        .expect("runs");
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(HOSTILE_DEVICE_SHOWN), "{stderr}");
    assert!(!has_raw_control(&stderr), "{stderr:?}");
    assert!(
        !stderr.contains("\nemscan: forged"),
        "a newline in a path cannot start a line: {stderr}"
    );
    // An I/O error on a named file.
    let out = emscan()
        .args(["gate", "--max", "total=0", "--policy"])
        .arg(&missing)
        .arg(&folder)
        .output()
        .expect("runs");
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(HOSTILE_DEVICE_SHOWN), "{stderr}");
    assert!(!has_raw_control(&stderr), "{stderr:?}");
    assert!(!stderr.contains("\nemscan: forged"), "{stderr}");
    // A saved summary that is not one, under a hostile name.
    let bad = dir
        .path()
        .join(format!("{HOSTILE_DEVICE}\nemscan: forged.json"));
    fs::write(&bad, "{}").expect("write");
    for args in [&["merge"][..], &["gate", "--max-new", "0", "--baseline"]] {
        let out = emscan()
            .args(args)
            .arg(&bad)
            .arg(&folder)
            .output()
            .expect("runs");
        let stderr = String::from_utf8(out.stderr).expect("UTF-8");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(HOSTILE_DEVICE_SHOWN), "{args:?}: {stderr}");
        assert!(!has_raw_control(&stderr), "{args:?}: {stderr:?}");
        assert!(!stderr.contains("\nemscan: forged"), "{args:?}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn csv_and_prometheus_carry_no_raw_escape() {
    let (_dir, folder) = bundle(HOSTILE_DEVICE, &error_lines(202, 1));
    let csv = emscan()
        .args(["scan", "--format", "csv"])
        .arg(&folder)
        .output()
        .expect("runs");
    assert_eq!(csv.status.code(), Some(0));
    let text = String::from_utf8(csv.stdout).expect("UTF-8");
    assert!(!has_raw_control(&text), "{text:?}");
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<::csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("valid CSV");
    assert_eq!(rows.len(), 1, "{text}");
    assert_eq!(
        &rows[0][8],
        format!("{HOSTILE_DEVICE_SHOWN}/easemob.log:1"),
        "first_at"
    );

    let prom = emscan()
        .args(["scan", "--format", "prometheus"])
        .arg(&folder)
        .output()
        .expect("runs");
    assert_eq!(prom.status.code(), Some(0));
    let text = String::from_utf8(prom.stdout).expect("UTF-8");
    assert!(!has_raw_control(&text), "{text:?}");
    // The exposition format escapes the backslash of the inert name.
    let device = HOSTILE_DEVICE_SHOWN.replace('\\', "\\\\");
    assert!(
        text.contains(&format!(
            "code=\"202\",name=\"USER_AUTHENTICATION_FAILED\",device=\"{device}\"}} 1"
        )),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn junit_with_characters_xml_forbids_in_a_file_name_parses() {
    use quick_xml::XmlVersion;
    use quick_xml::events::Event;
    let (_dir, folder) = bundle(HOSTILE_DEVICE, &error_lines(202, 1));
    let out = emscan()
        .args(["gate", "--max", "total=0", "--format", "junit"])
        .arg(&folder)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "the gate breaks");
    let xml = String::from_utf8(out.stdout).expect("UTF-8");
    let bad: Vec<char> = xml.chars().filter(|c| !is_xml_char(*c)).collect();
    assert!(bad.is_empty(), "characters XML 1.0 forbids: {bad:?}\n{xml}");
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut failure = String::new();
    let mut in_failure = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().as_ref() == "failure" => in_failure = true,
            Event::End(e) if e.name().as_ref() == "failure" => in_failure = false,
            Event::Text(t) if in_failure => {
                failure.push_str(&t.xml_content(XmlVersion::Implicit1_0))
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(failure.contains(HOSTILE_DEVICE_SHOWN), "{failure}");
}

/// Every string in a JSON value, keys included.
#[cfg(unix)]
fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                out.push(key.clone());
                strings(v, out);
            }
        }
        _ => {}
    }
}

#[cfg(unix)]
#[test]
fn sarif_strings_carry_no_raw_control_or_noncharacter() {
    let (_dir, folder) = bundle(HOSTILE_DEVICE, &error_lines(202, 1));
    let out = emscan()
        .args(["gate", "--max", "total=0", "--format", "sarif"])
        .arg(&folder)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "the gate breaks");
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut all = Vec::new();
    strings(&sarif, &mut all);
    for text in &all {
        assert!(
            text.chars().all(is_xml_char) && !has_raw_control(text),
            "{text:?}"
        );
    }
    let result = &sarif["runs"][0]["results"][0];
    let message = result["message"]["text"].as_str().expect("message");
    assert!(message.contains(HOSTILE_DEVICE_SHOWN), "{message}");
    let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .expect("uri");
    assert!(uri.contains("/PC%1B%5B31m"), "{uri}");
}

/// The files of `dir` whose names start with a dot (a temporary file left behind).
#[cfg(unix)]
fn dot_files(dir: &std::path::Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect()
}

#[cfg(unix)]
#[test]
fn report_output_on_a_full_disk_keeps_the_previous_report() {
    // A file size limit stands in for a full disk: writes past it fail (EFBIG; SIGXFSZ, which
    // would kill the process, is ignored by the shell and stays ignored across exec).
    let (dir, folder) = bundle("PC-1", &error_lines(200, 40));
    let out_dir = dir.path().join("reports");
    fs::create_dir(&out_dir).expect("mkdir");
    let report = out_dir.join("incident.md");
    fs::write(&report, "the previous report\n").expect("write");
    let out = Process::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 2 && exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_emscan"))
        .args(["report", "--no-progress", "-o"])
        .arg(&report)
        .arg(&folder)
        .env("LANG", "C")
        .output()
        .expect("this test needs sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "the write fails: {stderr}");
    assert!(stderr.contains("incident.md"), "{stderr}");
    assert_eq!(
        fs::read_to_string(&report).expect("read"),
        "the previous report\n",
        "the previous report stays whole"
    );
    assert_eq!(
        dot_files(&out_dir),
        Vec::<String>::new(),
        "no temporary file left"
    );
    // Without the limit the report is written, larger than the limit was (two blocks: 1 KiB
    // in dash, 2 KiB in bash).
    emscan()
        .args(["report", "--no-progress", "-o"])
        .arg(&report)
        .arg(&folder)
        .assert()
        .success();
    let written = fs::read_to_string(&report).expect("read");
    assert!(
        written.len() > 1024 && written.starts_with("# "),
        "{written}"
    );
    assert_eq!(dot_files(&out_dir), Vec::<String>::new());
}

#[test]
fn report_output_that_names_a_scanned_log_is_refused() {
    let log = error_lines(200, 3);
    let (_dir, folder) = bundle("PC-1", &log);
    let input = folder.join("PC-1/easemob.log");
    let hard = folder.with_file_name("hard-link.md");
    fs::hard_link(&input, &hard).expect("hard link");
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut outputs = vec![input.clone(), folder.join("PC-1/../PC-1/easemob.log"), hard];
    #[cfg(unix)]
    {
        let soft = folder.with_file_name("soft-link.md");
        std::os::unix::fs::symlink(&input, &soft).expect("symlink");
        outputs.push(soft);
    }
    for output in outputs {
        let out = emscan()
            .args(["report", "--no-progress", "-o"])
            .arg(&output)
            .arg(&folder)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "-o {}: {stderr}",
            output.display()
        );
        assert!(stderr.contains("is one of the scanned logs"), "{stderr}");
        assert_eq!(
            fs::read_to_string(&input).expect("read"),
            log,
            "the log is kept"
        );
    }
    // A file beside the logs that is not scanned is fine.
    let beside = folder.join("PC-1/notes.md");
    fs::write(&beside, "notes").expect("write");
    emscan()
        .args(["report", "--no-progress", "-o"])
        .arg(&beside)
        .arg(&folder)
        .assert()
        .success();
    assert!(fs::read_to_string(&beside).expect("read").starts_with("# "));
}

#[cfg(unix)]
#[test]
fn report_output_to_a_fifo_is_written_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let (dir, folder) = bundle("PC-1", &error_lines(200, 3));
    let fifo = dir.path().join("report.fifo");
    let status = Process::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("this test needs mkfifo (coreutils)");
    assert!(status.success(), "mkfifo {} failed", fifo.display());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).expect("read the fifo"))
    };
    emscan()
        .args(["report", "--no-progress", "-o"])
        .arg(&fifo)
        .arg(&folder)
        .assert()
        .success();
    assert!(
        fs::symlink_metadata(&fifo)
            .expect("stat")
            .file_type()
            .is_fifo(),
        "the fifo is not replaced by a file"
    );
    let text = reader.join().expect("reader");
    assert!(text.starts_with("# "), "{text}");
}

#[test]
fn a_usage_error_quoting_control_characters_keeps_them_inert() {
    // ESC, BEL, BS, CR and the C1 control CSI (U+009B) in a value clap quotes back.
    let value = "x\u{1b}[31m\u{7}\u{8}\ry\u{9b}31m";
    let output = emscan().args(["scan", "--format", value]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("invalid value"), "{stderr}");
    assert!(
        !stderr.chars().any(|c| c.is_control() && c != '\n'),
        "a control character reached the terminal: {stderr:?}"
    );
    // Help is emscan's own text and still printed as it is.
    let help = emscan().args(["scan", "--help"]).output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--format"));
}
