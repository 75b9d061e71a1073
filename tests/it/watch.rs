//! `emscan watch` as a user runs it: a process following a folder while the files are
//! appended to, rotated, truncated, deleted and created, stopped by Ctrl-C (SIGINT).
//!
//! Each step waits for the events it caused before the next step, so the order of events is
//! the order of the writes; the waits have a generous limit that only a hang reaches.
#![cfg(unix)]

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::Value;

/// Longest wait for a line the test expects; reached only when watch hangs or loses it.
const HANG: Duration = Duration::from_secs(30);

/// How long the test waits to make sure that no further line comes.
const QUIET: Duration = Duration::from_millis(1500);

/// A running `emscan watch` with its output lines.
struct Watching {
    child: Child,
    out: Receiver<String>,
    err: Receiver<String>,
    /// Every stderr line seen so far.
    said: Vec<String>,
}

fn lines_of(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

impl Watching {
    /// Starts `emscan watch ARGS` and waits until it says it watches (or waits for the
    /// folder, when `ready` says so).
    fn start(args: &[&str], ready: &str) -> Watching {
        let mut child = Command::new(env!("CARGO_BIN_EXE_emscan"))
            .arg("watch")
            .args(args)
            .env("LANG", "en_US.UTF-8")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start emscan watch");
        let out = lines_of(child.stdout.take().unwrap());
        let err = lines_of(child.stderr.take().unwrap());
        let mut watching = Watching {
            child,
            out,
            err,
            said: Vec::new(),
        };
        watching.wait_for_said(ready);
        watching
    }

    /// Waits for a stderr line containing `text`.
    fn wait_for_said(&mut self, text: &str) {
        loop {
            let line = self
                .err
                .recv_timeout(HANG)
                .unwrap_or_else(|_| panic!("no stderr line with {text:?}; said: {:?}", self.said));
            self.said.push(line.clone());
            if line.contains(text) {
                return;
            }
        }
    }

    /// The next `n` stdout lines.
    fn next(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                self.out
                    .recv_timeout(HANG)
                    .unwrap_or_else(|_| panic!("line {} of {n} never came", i + 1))
            })
            .collect()
    }

    /// The next `n` ndjson events, as (code, file path, line, device).
    fn events(&self, n: usize) -> Vec<(u64, String, u64, String)> {
        self.next(n)
            .iter()
            .map(|line| {
                let event: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not an event ({e}): {line}"));
                let a = &event["attributes"];
                (
                    a["easemob.error.code"].as_u64().unwrap(),
                    a["log.file.path"].as_str().unwrap().to_string(),
                    a["log.file.line"].as_u64().unwrap(),
                    a["easemob.device"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// Asserts that no stdout line comes for a while.
    fn assert_quiet(&self) {
        if let Ok(line) = self.out.recv_timeout(QUIET) {
            panic!("an event came that no write caused: {line}");
        }
    }

    /// Stops it as Ctrl-C does; returns its exit code, the rest of stdout and all of stderr.
    fn interrupt(self) -> (i32, Vec<String>, Vec<String>) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        self.finish()
    }

    /// Waits for it to end by itself.
    fn finish(mut self) -> (i32, Vec<String>, Vec<String>) {
        let code = self
            .child
            .wait()
            .expect("wait for watch")
            .code()
            .unwrap_or(-1);
        let rest: Vec<String> = self.out.iter().collect();
        self.said.extend(self.err.iter());
        (code, rest, self.said)
    }
}

/// An SDK log line stating `code` at second `second` of 09:08.
fn line(second: u32, code: u32) -> String {
    format!(
        "[2024/05/06 09:08:{second:02}:000]: EMChatManager call failed, code: {code}; desc: x\n"
    )
}

fn append(path: &Path, text: &str) {
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// A bundle folder with one device whose `easemob.log` holds one line; returns the bundle
/// and the log folder.
fn bundle() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("PC-1/sdkdata/easemobLog");
    fs::create_dir_all(&logs).unwrap();
    append(&logs.join("easemob.log"), &line(0, 2));
    (dir, logs)
}

const LIVE: &str = "PC-1/sdkdata/easemobLog/easemob.log";
const ROTATED: &str = "PC-1/sdkdata/easemobLog/easemob_2024-05-06_09-08-30.log";

/// Appends, rotates, truncates, deletes and recreates, and adds a device: each event once, in
/// order, with the file's own line numbers; nothing from before the start.
fn follows_every_change(extra: &[&str]) {
    let (dir, logs) = bundle();
    let live = logs.join("easemob.log");
    let root = dir.path().to_str().unwrap();
    let mut args = vec![root, "--format", "ndjson"];
    args.extend_from_slice(extra);
    let watching = Watching::start(&args, "watching");
    let ev = |code: u64, path: &str, line: u64, device: &str| {
        (code, path.to_string(), line, device.to_string())
    };

    append(&live, &format!("{}{}", line(1, 300), line(2, 2)));
    assert_eq!(
        watching.events(2),
        [ev(300, LIVE, 2, "PC-1"), ev(2, LIVE, 3, "PC-1")]
    );

    // The SDK's rotation: last lines, rename, a new live file.
    append(&live, &line(3, 4));
    fs::rename(&live, logs.join("easemob_2024-05-06_09-08-30.log")).unwrap();
    append(&live, &line(31, 202));
    let events = watching.events(2);
    // Line 4 is told under the name the file had when it was read: before or after the rename.
    assert!(
        [ev(4, ROTATED, 4, "PC-1"), ev(4, LIVE, 4, "PC-1")].contains(&events[0]),
        "{events:?}"
    );
    assert_eq!(events[1], ev(202, LIVE, 1, "PC-1"), "{events:?}");

    // Truncated in place, then written again.
    fs::OpenOptions::new()
        .write(true)
        .open(&live)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&live, &line(40, 208));
    assert_eq!(watching.events(1), [ev(208, LIVE, 1, "PC-1")]);

    // Deleted and created again.
    fs::remove_file(&live).unwrap();
    append(&live, &line(50, 303));
    assert_eq!(watching.events(1), [ev(303, LIVE, 1, "PC-1")]);

    // A device that appears later.
    let other = dir.path().join("PC-2/sdkdata/easemobLog");
    fs::create_dir_all(&other).unwrap();
    append(&other.join("easemob.log"), &line(55, 1));
    assert_eq!(
        watching.events(1),
        [ev(1, "PC-2/sdkdata/easemobLog/easemob.log", 1, "PC-2")]
    );
    watching.assert_quiet();

    let (code, rest, said) = watching.interrupt();
    assert_eq!(code, 0, "stderr: {said:?}");
    assert!(rest.is_empty(), "events after the stop: {rest:?}");
    let said = said.join("\n");
    assert!(said.contains("rotated: now"), "{said}");
    assert!(said.contains("was truncated"), "{said}");
    // The summary of the watched span: the seven errors written while watching.
    assert!(said.contains("7 errors"), "{said}");
}

#[test]
fn watch_follows_appends_rotation_truncation_and_recreation_once_in_order() {
    follows_every_change(&[]);
}

#[test]
fn watch_by_polling_follows_the_same_changes() {
    follows_every_change(&["--poll", "50ms"]);
}

/// Rotations as fast as a script can make them, each racing the watch's listing of the
/// folder: every line once, in the order written (a listing that saw the new `easemob.log`
/// before the renamed file once told lines out of order, and some twice).
#[test]
fn watch_keeps_every_line_once_and_in_order_through_rapid_rotations() {
    let (dir, logs) = bundle();
    let live = logs.join("easemob.log");
    let watching = Watching::start(
        &[dir.path().to_str().unwrap(), "--format", "ndjson"],
        "watching",
    );
    let mut written = Vec::new();
    for rotation in 0..300u32 {
        for _ in 0..3 {
            let code = 100 + written.len() as u64 % 800;
            written.push(code);
            append(&live, &line(rotation % 60, code as u32));
        }
        let rotated = format!(
            "easemob_2024-05-06_{:02}-{:02}-00.log",
            rotation / 60,
            rotation % 60
        );
        fs::rename(&live, logs.join(rotated)).unwrap();
    }
    let told: Vec<u64> = watching
        .events(written.len())
        .into_iter()
        .map(|(code, ..)| code)
        .collect();
    assert_eq!(told, written);
    watching.assert_quiet();
}

#[test]
fn watch_prints_text_lines_with_the_hint_once_per_code() {
    let (dir, _logs) = bundle();
    let root = dir.path().to_str().unwrap();
    let watching = Watching::start(&[root, "--from-start", "--lang", "en"], "watching");
    let lines = watching.next(2);
    assert_eq!(
        lines[0],
        format!("2024-05-06 09:08:00.000  PC-1  2 NETWORK_ERROR  {root}/{LIVE}:1")
    );
    assert!(lines[1].starts_with("    hint: "), "{lines:?}");
    append(&dir.path().join(LIVE), &line(1, 2));
    assert_eq!(
        watching.next(1),
        [format!(
            "2024-05-06 09:08:01.000  PC-1  2 NETWORK_ERROR  {root}/{LIVE}:2"
        )]
    );
    let (code, rest, _) = watching.interrupt();
    assert_eq!(code, 0);
    // The summary table follows the events on stdout.
    let rest = rest.join("\n");
    assert!(
        rest.contains("NETWORK_ERROR") && rest.contains("2 errors"),
        "{rest}"
    );
}

#[test]
fn watch_exit_on_break_stops_at_the_first_broken_rule_with_status_1() {
    let (dir, logs) = bundle();
    let root = dir.path().to_str().unwrap();
    let watching = Watching::start(
        &[
            root,
            "--format",
            "ndjson",
            "--max",
            "2=1",
            "--exit-on-break",
        ],
        "watching",
    );
    append(&logs.join("easemob.log"), &line(1, 2));
    assert_eq!(watching.events(1)[0].0, 2);
    append(&logs.join("easemob.log"), &line(2, 2));
    let (code, rest, said) = watching.finish();
    assert_eq!(code, 1, "stderr: {said:?}");
    assert_eq!(rest.len(), 1, "{rest:?}");
    let said = said.join("\n");
    assert!(
        said.contains("rule broken: max NETWORK_ERROR (2): 2 (limit 1)"),
        "{said}"
    );
}

#[test]
fn watch_waits_for_a_folder_that_appears_later() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("easemobLog");
    let watching = Watching::start(
        &[
            root.to_str().unwrap(),
            "--format",
            "ndjson",
            "--poll",
            "50ms",
        ],
        "waiting for",
    );
    fs::create_dir(&root).unwrap();
    append(&root.join("easemob.log"), &line(1, 300));
    let events = watching.events(1);
    assert_eq!(events[0].0, 300);
    assert_eq!(events[0].2, 1);
    let (code, _, _) = watching.interrupt();
    assert_eq!(code, 0);
}

#[test]
fn watch_exit_on_break_without_a_rule_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_emscan"))
        .args(["watch", dir.path().to_str().unwrap(), "--exit-on-break"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--exit-on-break needs a rule"), "{stderr}");
}

#[test]
fn watch_of_a_folder_without_logs_says_none_is_there_yet() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let watching = Watching::start(&[root], "watching");
    assert!(
        watching
            .said
            .last()
            .unwrap()
            .contains("no SDK log file yet"),
        "{:?}",
        watching.said
    );
    let (code, _, said) = watching.interrupt();
    assert_eq!(code, 0, "{said:?}");
}

#[test]
fn watch_refuses_a_bad_rule_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_emscan"))
        .args(["watch", dir.path().to_str().unwrap(), "--max", "nonsense=1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nonsense"), "{stderr}");
}

#[test]
fn watch_from_start_tells_the_same_events_as_scan_for_the_files_it_follows() {
    let bundle = crate::common::fixture("sample-bundle");
    let scan = Command::new(env!("CARGO_BIN_EXE_emscan"))
        .args(["scan", bundle.to_str().unwrap(), "--format", "ndjson"])
        .output()
        .unwrap();
    // Gzip files are compressed copies of rotated files: watch does not follow them.
    let expected: Vec<String> = String::from_utf8(scan.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.contains(".gz\""))
        .map(str::to_string)
        .collect();
    assert!(expected.len() > 10, "the sample bundle has events");
    let watching = Watching::start(
        &[
            bundle.to_str().unwrap(),
            "--from-start",
            "--format",
            "ndjson",
        ],
        "watching",
    );
    let (code, rest, said) = watching.interrupt();
    assert_eq!(code, 0, "{said:?}");
    assert_eq!(rest, expected);
}

/// CPU time (user + system, in clock ticks) the process `pid` has used.
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
#[cfg(target_os = "linux")]
fn watch_stays_idle_while_nothing_is_written() {
    // Its own reads raise open and close events: waking on them kept it looking every 20 ms.
    let (dir, _logs) = bundle();
    let watching = Watching::start(&[dir.path().to_str().unwrap()], "watching");
    let pid = watching.child.id();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(4));
    let used = cpu_ticks(pid) - before;
    let (code, _, _) = watching.interrupt();
    assert_eq!(code, 0);
    // One look a second costs a few milliseconds; a look after every event of its own, tens
    // of ticks (10 ms each) in these 4 s.
    assert!(used < 10, "{used} ticks of CPU in 4 s of an idle watch");
}
