//! Writes a deterministic, realistic SDK log bundle for benchmarks, with its expected counts.
//!
//! ```sh
//! cargo run --release --example gen-corpus -- DIR --size-mb 1024 --seed 7 --files 500 --devices 50
//! ```
//! The bundle has per-device folders (`DEV-0001/sdkdata/easemobLog/`), rotated segments named by
//! the time they filled and a live `easemob.log`, all three prefix generations, CRLF on every
//! other device, Chinese text, multi-line entries (some with a code on a continuation line),
//! numbers that are not error codes (HTTP statuses, ports, ids, `handleDisconnect:N`), and error
//! bursts. `DIR.expected.json` beside the folder holds the counts the generator planted, in the
//! shape of `fixtures/*.expected.json`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use clap::Parser;
use emscan::catalog::catalog;
use serde_json::json;

/// Writes a benchmark log bundle and its expected counts.
#[derive(Parser)]
struct Args {
    /// The bundle folder to create (must not exist).
    dir: PathBuf,
    /// Total size in MiB.
    #[arg(long, default_value_t = 64)]
    size_mb: u64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of files.
    #[arg(long, default_value_t = 8)]
    files: usize,
    /// Number of devices (files are spread over them).
    #[arg(long, default_value_t = 3)]
    devices: usize,
    /// Share of entries that state an error code outside bursts.
    #[arg(long, default_value_t = 0.004)]
    error_rate: f64,
}

#[derive(Clone, Copy)]
enum Style {
    Legacy,
    V3,
    V4,
}

fn prefix(t: NaiveDateTime, style: Style) -> String {
    use chrono::{Datelike, Timelike};
    let (y, mo, d) = (t.year(), t.month(), t.day());
    let (h, mi, s, ms) = (t.hour(), t.minute(), t.second(), t.nanosecond() / 1_000_000);
    match style {
        Style::Legacy => format!("[{y}/{mo}/{d} {h}:{mi}:{s}:{ms}]: "),
        Style::V3 => format!("[{y:04}/{mo:02}/{d:02} {h:02}:{mi:02}:{s:02}:{ms:03}]: "),
        Style::V4 => format!("[0][{y:04}/{mo:02}/{d:02} {h:02}:{mi:02}:{s:02}:{ms:03}(08)]: "),
    }
}

const UNKNOWN: [u32; 4] = [3, 8, 107, 110];
const USERS: [&str; 6] = [
    "xiaoming", "li_na", "zhangwei", "kefu_07", "sunli88", "u1024",
];
const CHINESE: [&str; 5] = [
    "今天下午开会",
    "收到，谢谢",
    "用户未登录",
    "网络错误",
    "明天见",
];

/// What the generator planted.
#[derive(Default)]
struct Planted {
    /// code -> (count, per shape)
    codes: BTreeMap<u32, (u64, BTreeMap<&'static str, u64>)>,
    /// file -> lines
    files: Vec<(String, u64)>,
}

impl Planted {
    fn add(&mut self, code: u32, shape: &'static str) {
        let entry = self.codes.entry(code).or_default();
        entry.0 += 1;
        *entry.1.entry(shape).or_default() += 1;
    }
}

/// A line stating `code` in a random shape, and the shape.
fn error_line(rng: &mut fastrand::Rng, code: u32) -> (String, &'static str) {
    let desc = if rng.bool() {
        "Server is not reachable"
    } else {
        CHINESE[rng.usize(..CHINESE.len())]
    };
    match (rng.u8(..4), code) {
        (0, 0) | (1, 0) => (
            "Client_Login complete, code: 0; desc: ".to_string(),
            "code_desc",
        ),
        (_, 0) => (
            "EMGroupManager::joinPublicGroup() done, errorCode=0, desc=".into(),
            "kv",
        ),
        (0, _) => (
            format!(
                "SDK_Error: {{\"callbackId\":\"{}\",\"error\":{{\"code\":{code},\"desc\":\"{desc}\"}}}}",
                rng.u32(1..9999)
            ),
            "cb_json",
        ),
        (1, _) => (
            format!("ChatManager_SendMessage failed, code: {code}; desc: {desc}"),
            "code_desc",
        ),
        (2, _) if rng.bool() => (format!("[global listener] onDisconnect{code}"), "listener"),
        (2, _) => (
            format!("[smart ping]  onDisconnected ...{code}"),
            "listener",
        ),
        _ => (
            format!(
                "EMChatManager::sendMessage() error, msgId: {}, errorCode={code}, desc={desc}",
                rng.u64(10u64.pow(17)..10u64.pow(19))
            ),
            "kv",
        ),
    }
}

/// A line that is not an error (many carry numbers that are not codes).
fn noise_line(rng: &mut fastrand::Rng) -> String {
    match rng.u8(..14) {
        0 => format!(
            "[EMARHttpAPI] httpExecute code: {}",
            [200, 404, 500, 401][rng.usize(..4)]
        ),
        1 => format!(
            "getDnsListFromServer code: {} response: ",
            [200, 408][rng.usize(..2)]
        ),
        2 => format!(
            "log: level: {}, area: {}, handleDisconnect:{}",
            rng.u8(0..3),
            rng.u8(1..5),
            rng.u8(1..15)
        ),
        3 => format!(
            "current host: domain: 60.205.131.{} port: {}",
            rng.u8(1..255),
            [443, 6717, 80, 5280][rng.usize(..4)]
        ),
        4 => {
            "log: level: 2, area: 2, recv(): recv() failed. errno: 110: Connection timed out".into()
        }
        5 => format!(
            "asyncSendMessage: {} retry = 3",
            rng.u64(10u64.pow(16)..10u64.pow(17))
        ),
        6 => "[EMPushHelper] Retry upload after 301s if failed.".into(),
        7 => format!("EMSessionManager::onDisConnect(): {}", rng.u8(1..15)),
        8 => format!(
            "SDK_Error: callbackId:{} lost in callbackMap!",
            rng.u32(1..999)
        ),
        9 => format!(
            "SDK_Debug: {{\"callbackId\":\"{}\",\"progress\":{}}}",
            rng.u32(1..9999),
            rng.u8(0..100)
        ),
        10 => format!(
            "收到消息：{} from {}",
            CHINESE[rng.usize(..CHINESE.len())],
            USERS[rng.usize(..USERS.len())]
        ),
        11 => format!("DNS List size: {}", rng.u32(100..5000)),
        12 => "log: level: 1, area: 1, ChatClient::handleSync complete: response".into(),
        _ => format!(
            "EMSessionManager::login(): is autoLogin? 1, id: {:016x}",
            rng.u64(..)
        ),
    }
}

/// Continuation lines of a multi-line entry; sometimes one states a code.
fn continuation(rng: &mut fastrand::Rng, planted: &mut Planted, out: &mut Vec<String>) {
    match rng.u8(..3) {
        0 => out.push(format!(
            "{{ verison : MSYNC_V1, command : SYNC, payload : {{ status : {{ error_code : 0 }}, meta_id : {}, server_id : {}, timestamp : {} }} }}",
            rng.u64(10u64.pow(16)..10u64.pow(17)), rng.u64(10u64.pow(17)..10u64.pow(18)), rng.u64(1_700_000_000_000..1_800_000_000_000)
        )),
        1 => {
            out.push("  \"error\" : \"unauthorized\",".into());
            out.push("  \"error_description\" : \"Unable to authenticate (OAuth)\"".into());
        }
        _ => {
            out.push("    \"dns_time\":\"-1\",".into());
            if rng.u8(..20) == 0 {
                let code = 301;
                out.push(format!("    errorCode={code}, desc=timeout"));
                planted.add(code, "kv");
            }
        }
    }
}

fn pick_code(rng: &mut fastrand::Rng, known: &[u32]) -> u32 {
    match rng.u8(..100) {
        0..=2 => UNKNOWN[rng.usize(..UNKNOWN.len())],
        3..=20 => 0,
        _ => known[rng.usize(..known.len())],
    }
}

/// Writes one file of about `target` bytes starting at `clock`; returns its line count.
#[allow(clippy::too_many_arguments)]
fn write_file(
    path: &Path,
    target: u64,
    style: Style,
    crlf: bool,
    clock: &mut NaiveDateTime,
    rng: &mut fastrand::Rng,
    planted: &mut Planted,
    error_rate: f64,
    known: &[u32],
) -> std::io::Result<u64> {
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let (mut written, mut lines) = (0u64, 0u64);
    let mut burst_left = 0u32;
    let mut entry = Vec::with_capacity(4);
    while written < target {
        *clock += Duration::milliseconds(rng.i64(1..400));
        entry.clear();
        if burst_left == 0 && rng.u32(..20_000) == 0 {
            burst_left = rng.u32(20..80);
        }
        let first = if burst_left > 0 {
            burst_left -= 1;
            let code = [2, 300, 301, 201][rng.usize(..4)];
            let (line, shape) = error_line(rng, code);
            planted.add(code, shape);
            line
        } else if rng.f64() < error_rate {
            let code = pick_code(rng, known);
            let (line, shape) = error_line(rng, code);
            planted.add(code, shape);
            line
        } else {
            noise_line(rng)
        };
        entry.push(format!("{}{first}", prefix(*clock, style)));
        if rng.u8(..10) == 0 {
            continuation(rng, planted, &mut entry);
        }
        for line in &entry {
            out.write_all(line.as_bytes())?;
            out.write_all(eol.as_bytes())?;
            written += (line.len() + eol.len()) as u64;
            lines += 1;
        }
    }
    out.flush()?;
    Ok(lines)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(!args.dir.exists(), "{} exists already", args.dir.display());
    anyhow::ensure!(
        args.files >= 1 && args.devices >= 1,
        "--files and --devices must be at least 1"
    );
    let devices = args.devices.min(args.files);
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let known: Vec<u32> = catalog()
        .entries()
        .iter()
        .map(|e| e.code)
        .filter(|&c| c != 0)
        .collect();
    let per_file = (args.size_mb << 20) / args.files as u64;
    let mut planted = Planted::default();
    let start = NaiveDate::from_ymd_opt(2024, 3, 1)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .ok_or_else(|| anyhow::anyhow!("bad start"))?;
    for device in 0..devices {
        let name = format!("DEV-{:04}", device + 1);
        let folder = args.dir.join(&name).join("sdkdata/easemobLog");
        fs::create_dir_all(&folder)?;
        let style = [Style::V3, Style::Legacy, Style::V4][device % 3];
        let crlf = device % 2 == 0;
        let mut clock = start + Duration::seconds(device as i64 * 7);
        let count = args.files / devices + usize::from(device < args.files % devices);
        for index in 0..count {
            let live = index + 1 == count;
            let tmp = folder.join("writing.tmp");
            let lines = write_file(
                &tmp,
                per_file,
                style,
                crlf,
                &mut clock,
                &mut rng,
                &mut planted,
                args.error_rate,
                &known,
            )?;
            let file_name = if live {
                "easemob.log".to_string()
            } else {
                clock.format("easemob_%Y-%m-%d_%H-%M-%S.log").to_string()
            };
            fs::rename(&tmp, folder.join(&file_name))?;
            planted
                .files
                .push((format!("{name}/sdkdata/easemobLog/{file_name}"), lines));
            clock += Duration::milliseconds(rng.i64(300..2000));
        }
    }
    write_expected(&args, &planted)
}

fn write_expected(args: &Args, planted: &Planted) -> anyhow::Result<()> {
    let cat = catalog();
    let code_json = |code: u32, (count, shapes): &(u64, BTreeMap<&str, u64>)| json!({"code": code, "name": cat.get(code).map(|e| e.name.clone()), "count": count, "per_shape": shapes});
    let mut codes: Vec<_> = planted
        .codes
        .iter()
        .filter(|(c, _)| **c != 0 && cat.get(**c).is_some())
        .collect();
    let mut unknown: Vec<_> = planted
        .codes
        .iter()
        .filter(|(c, _)| cat.get(**c).is_none())
        .collect();
    codes.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    unknown.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let success = planted.codes.get(&0).map_or(0, |c| c.0);
    let known_total: u64 = codes.iter().map(|(_, c)| c.0).sum();
    let unknown_total: u64 = unknown.iter().map(|(_, c)| c.0).sum();
    let expected = json!({
        "format_version": 1,
        "params": {"generator": "emscan examples/gen-corpus.rs", "size_mb": args.size_mb, "seed": args.seed,
                   "files": args.files, "devices": args.devices, "error_rate": args.error_rate},
        "totals": {"error_occurrences": known_total + unknown_total, "known": known_total, "unknown": unknown_total,
                   "success": success, "files": planted.files.len(),
                   "lines": planted.files.iter().map(|f| f.1).sum::<u64>()},
        "codes": codes.iter().map(|(c, v)| code_json(**c, v)).collect::<Vec<_>>(),
        "unknown_codes": unknown.iter().map(|(c, v)| code_json(**c, v)).collect::<Vec<_>>(),
        "success": {"code": 0, "name": "EM_NO_ERROR", "count": success},
        "files": planted.files.iter().map(|(path, lines)| json!({"path": path, "lines": lines})).collect::<Vec<_>>(),
    });
    let dir = args.dir.to_string_lossy();
    let path = format!("{}.expected.json", dir.trim_end_matches(['/', '\\']));
    fs::write(&path, serde_json::to_vec_pretty(&expected)?)?;
    eprintln!("wrote {} and {path}", args.dir.display());
    Ok(())
}
