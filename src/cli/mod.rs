//! The command line: clap types, dispatch, and the exit-status policy; the only place that
//! names a flag. `values` gives the words of the library enums' flag values.

mod values;
mod watch;

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::catalog::{Category, Lang, catalog};
use crate::error::inert_list;
use crate::escape::escape_control;
use crate::gate::{GateError, GivenRules, Policy, RuleNames};
use crate::input::read::ReadOptions;
use crate::pipeline::{
    POLICY_LIMIT, ProgressHooks, Threads, read_regular_file, scan_paths_with_progress,
    scan_stream_with_progress,
};
use crate::progress::Progress;
use crate::render::report::ReportFormat;
use crate::render::{self, DiffFormat, Format, GateFormat, ScanFormat};
use crate::search::rules::RuleError;
use crate::time::Zone;
use crate::{Bucket, Error, ScanConfig, Summary, TimeBound, read_summary};

/// Exit statuses. Every exit of the program goes through [`Status::code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// The command did its job (a scan that found errors included).
    Ok,
    /// A gate rule broke.
    RuleBroken,
    /// A usage error, or no input could be read at all.
    Usage,
    /// `--strict`: some file was skipped or only partly read.
    Incomplete,
}

impl Status {
    /// The process exit code.
    pub(crate) fn code(self) -> ExitCode {
        match self {
            Status::Ok => ExitCode::SUCCESS,
            Status::RuleBroken => ExitCode::from(1),
            Status::Usage => ExitCode::from(2),
            Status::Incomplete => ExitCode::from(3),
        }
    }
}

const EXIT_HELP: &str = "\
Exit status:
  0  the command ran (a scan, report, diff or merge exits 0 whatever it finds); gate: every rule holds
  1  gate: a rule broke
  2  usage or input error: unknown code, bad --rule, bad gate rule or policy file, unreadable
     baseline, saved scan or merge input, or no log file could be read
  3  scan or merge with --strict: a file was skipped or only partly read (the report is still
     printed)";

/// Diagnose the logs of the Easemob (环信 / Agora Chat) IM Windows SDK.
#[derive(Debug, Parser)]
#[command(name = "emscan", version, after_help = EXIT_HELP, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan log folders or files for SDK error codes
    Scan(ScanArgs),
    /// Write an incident summary (Markdown or one self-contained HTML file)
    Report(ReportArgs),
    /// Fail (exit 1) when the logs break error thresholds: for CI
    Gate(GateArgs),
    /// Compare two scans (saved scan JSON files or log folders) code by code
    Diff(DiffArgs),
    /// Merge saved scan JSON summaries into the summary of one scan of all their inputs
    Merge(MergeArgs),
    /// Explain one error code: meaning, likely cause, what to do (newer SDKs' codes too)
    Explain(ExplainArgs),
    /// List the error-code catalog (the Windows SDK table; --newer: newer SDKs' codes)
    Codes(CodesArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(CompletionsArgs),
    /// Follow a log folder live: print SDK errors as the app writes them (Ctrl-C stops, with
    /// a summary)
    Watch(watch::WatchArgs),
    /// Print the man page (roff) on stdout
    Man,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Log files or folders (folders are searched recursively) [default: sdkdata/easemobLog
    /// when run from an app's folder that has it, else .]
    paths: Vec<PathBuf>,
    /// Write the report to FILE instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Report format
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    format: ReportFormat,
    #[command(flatten)]
    settings: ScanSettings,
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// Log files or folders (folders are searched recursively) [default: sdkdata/easemobLog
    /// when run from an app's folder that has it, else .]
    paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    format: ScanFormat,
    #[command(flatten)]
    output: OutputArgs,
    /// Show the timeline: a sparkline per top code and a histogram of all errors
    /// (JSON always has it)
    #[arg(long)]
    timeline: bool,
    /// The deep pass: also build each device's connection story (handleDisconnect reasons,
    /// kicks by another device, reconnects) and group failure-looking lines that no rule
    /// understands by template;
    /// several times slower than the code scan. `report` always does it
    #[arg(long, alias = "unmatched")]
    deep: bool,
    /// Time zone of log times in ndjson events (`time_unix_nano`): local, UTC or an offset such
    /// as +08:00; a line whose prefix states its offset, `(08)`, keeps its own [default: local]
    #[arg(long, value_name = "ZONE", value_parser = parse_zone, allow_hyphen_values = true)]
    tz: Option<Zone>,
    #[command(flatten)]
    settings: ScanSettings,
}

fn parse_zone(text: &str) -> Result<Zone, String> {
    Zone::parse(text).ok_or_else(|| {
        format!("{text:?} is not a time zone: use local, UTC or an offset such as +08:00")
    })
}

/// Rule syntax shown under `emscan gate --help`.
const GATE_HELP: &str = "\
Targets: a code (300) or name (server_not_reachable, any case), category:NAME, total, unknown.
Codes of newer SDKs that the Windows SDK table lacks (3, database_error; emscan codes --newer)
are targets too, and still count towards unknown.
Rates: COUNT/m, COUNT/h or COUNT/d of log time; the rate is the target's occurrences divided by
the time from its first to its last occurrence in the scan (at least one minute).
Rules in ./emscan.toml (or --policy FILE) go in a [gate] table; a command-line rule for the same
target replaces the file's.

Exit status:
  0  every rule holds
  1  a rule broke
  2  usage or input error: bad rule or policy file, unreadable baseline, no log file found
  3  --strict, every rule holding: a log file was skipped or only partly read
Files skipped or only partly read are named in every format (text: INPUT lines).";

#[derive(Debug, Args)]
#[command(after_help = GATE_HELP)]
struct GateArgs {
    /// Log files or folders (folders are searched recursively) [default: sdkdata/easemobLog
    /// when run from an app's folder that has it, else .]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    rules: RuleArgs,
    /// A saved `emscan scan --format json` report to compare with
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Most codes that occur now but not in the baseline
    #[arg(long, value_name = "N")]
    max_new: Option<u64>,
    /// Highest growth of a target over the baseline in percent, e.g. 300=50. Repeatable
    #[arg(long, value_name = "TARGET=PCT")]
    max_increase: Vec<String>,
    /// Exit 3 when every rule holds but a log file was skipped or only partly read (a broken
    /// rule still exits 1)
    #[arg(long)]
    strict: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = GateFormat::Text)]
    format: GateFormat,
    #[command(flatten)]
    settings: ScanSettings,
}

/// Gate rules, as `gate` and `watch` take them.
#[derive(Debug, Args)]
struct RuleArgs {
    /// Policy file with a [gate] table [default: ./emscan.toml when it exists]
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Most occurrences of a target, e.g. 300=0, total=20, category:server=5. Repeatable
    #[arg(long, value_name = "TARGET=N")]
    max: Vec<String>,
    /// Highest rate of a target per unit of log time, e.g. 2=30/h. Repeatable
    #[arg(long, value_name = "TARGET=RATE")]
    max_rate: Vec<String>,
    /// Fail when a deprecated code occurs
    #[arg(long)]
    fail_on_deprecated: bool,
    /// A code (number or name) that never fails the gate. Repeatable
    #[arg(long, value_name = "CODE")]
    allow: Vec<String>,
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// The old side: a saved `emscan scan --format json` file (*.json), or logs to scan
    old: PathBuf,
    /// The new side: a saved scan JSON file (*.json), or logs to scan
    new: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    format: DiffFormat,
    #[command(flatten)]
    settings: ScanSettings,
}

/// How logs are scanned (shared by scan, report, gate and diff).
#[derive(Debug, Args)]
struct ScanSettings {
    /// Scan every file in the folders, not only easemob*.log[.gz]
    #[arg(long)]
    all_files: bool,
    /// An extra extraction rule: a regex whose named group `code` captures the code,
    /// e.g. 'errno=(?P<code>\d+)'. Repeatable
    #[arg(long = "rule", value_name = "REGEX")]
    rules: Vec<String>,
    /// Language of hints and labels [default: from LANG]
    #[arg(long, value_enum)]
    lang: Option<Lang>,
    /// Never show the progress bar
    #[arg(long)]
    no_progress: bool,
    /// Worker threads [default: one per core]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    #[command(flatten)]
    window: WindowArgs,
    /// Target chunk size for splitting files, e.g. 1M
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "1M")]
    chunk_size: u64,
    /// Memory-map rotated files at least this large instead of reading them, e.g. 64M (Windows
    /// only: elsewhere a file truncated while mapped would crash the scan); the live
    /// easemob.log is always read [default: never]
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    mmap_min: Option<u64>,
    /// The most decompressed bytes taken from one gzip file
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "1G")]
    gzip_limit: u64,
}

/// How `scan` and `merge` report what they found.
#[derive(Debug, Args)]
struct OutputArgs {
    /// No warnings on stderr (and no progress bar)
    #[arg(long, short)]
    quiet: bool,
    /// Exit 3 when any file was skipped or only partly read (for merge: in any input), so CI
    /// cannot miss it
    #[arg(long)]
    strict: bool,
    /// Colour: auto = only when stdout is a terminal and NO_COLOR is unset
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// Time window and timeline options (every command that scans).
#[derive(Debug, Args)]
struct WindowArgs {
    /// Timeline bucket width: auto fits the span in at most 60 buckets (whole days if need be)
    #[arg(long, value_enum, default_value_t = Bucket::Auto)]
    bucket: Bucket,
    /// Count only from this log time: '2024-03-01 09:00', or relative to the last log time: -2h
    #[arg(long, value_name = "TIME", value_parser = parse_time, allow_hyphen_values = true)]
    since: Option<TimeBound>,
    /// Count only up to this log time (same forms as --since)
    #[arg(long, value_name = "TIME", value_parser = parse_time, allow_hyphen_values = true)]
    until: Option<TimeBound>,
}

fn parse_time(text: &str) -> Result<TimeBound, String> {
    TimeBound::parse(text).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// Scan JSON files (`emscan scan --format json`), in the order their roots should take
    #[arg(required = true, value_name = "SUMMARY.json")]
    summaries: Vec<PathBuf>,
    /// Output format (ndjson needs the logs: use scan)
    #[arg(long, value_enum, default_value_t = ScanFormat::Json)]
    format: ScanFormat,
    /// Language of labels in the table and Markdown formats [default: from LANG]
    #[arg(long, value_enum)]
    lang: Option<Lang>,
    /// Merge even when two summaries hold the same input file (it is then counted twice)
    #[arg(long)]
    allow_duplicates: bool,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    /// A code (202) or a name (user_authentication_failed, any case)
    query: String,
    /// Language [default: from LANG]
    #[arg(long, value_enum)]
    lang: Option<Lang>,
    /// Also give the meaning and what to do in the other language
    #[arg(long)]
    both: bool,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct CodesArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Only this category (general, user, server, file, message, group, chatroom, push)
    #[arg(long, value_parser = parse_category)]
    category: Option<Category>,
    /// Language [default: from LANG]
    #[arg(long, value_enum)]
    lang: Option<Lang>,
    /// List the codes of newer SDK versions that the Windows SDK table lacks instead
    #[arg(long)]
    newer: bool,
}

/// When to colour terminal output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// When stdout is a terminal and `NO_COLOR` is unset or empty.
    Auto,
    /// Always, also when piped or redirected.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour, given whether stdout is a terminal and the value of `NO_COLOR`.
    pub(crate) fn enabled(self, stdout_is_terminal: bool, no_color: Option<&str>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_is_terminal && no_color.is_none_or(str::is_empty),
        }
    }
}

/// Parses a byte size: a whole number with an optional K, M or G (powers of 1024).
pub(crate) fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let upper = text.to_ascii_uppercase();
    let trimmed = upper.trim_end_matches("IB").trim_end_matches('B');
    let (digits, shift) = match trimmed.chars().last() {
        Some('K') => (&trimmed[..trimmed.len() - 1], 10),
        Some('M') => (&trimmed[..trimmed.len() - 1], 20),
        Some('G') => (&trimmed[..trimmed.len() - 1], 30),
        _ => (trimmed, 0),
    };
    let value: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a size like 65536, 64K, 4M or 1G"))?;
    let bytes = value
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    if bytes == 0 {
        return Err("the size must be at least 1 byte".into());
    }
    Ok(bytes)
}

fn parse_category(text: &str) -> Result<Category, String> {
    Category::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

/// Parses the command line, runs the command, and returns the exit status.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    let status = match dispatch(cli) {
        Ok(status) => status,
        Err(err) if is_broken_pipe(&err) => Status::Ok,
        Err(err) => {
            say(message(&err));
            Status::Usage
        }
    };
    status.code()
}

/// Prints clap's help, version or usage error and returns its exit status. A usage error quotes
/// the value given, which may hold control characters: it is printed plain, every line made
/// inert with [`escape_control`].
fn usage_error(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let status = u8::try_from(err.exit_code()).unwrap_or(2);
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Text of emscan's own: nothing the user typed.
            let _ = err.print();
        }
        _ => {
            let text = err.render().to_string();
            let inert: Vec<_> = text.lines().map(escape_control).collect();
            let _ = writeln!(io::stderr().lock(), "{}", inert.join("\n"));
        }
    }
    ExitCode::from(status)
}

/// Writes a message to stderr as `emscan: MESSAGE`, every line of it made inert with
/// [`escape_control`] (so that no path or log text quoted in it can act on the terminal).
/// A stderr that cannot be written (a full disk, a closed pipe) loses the message; it never
/// stops the program or changes its exit status.
pub(crate) fn say(message: impl std::fmt::Display) {
    let message = message.to_string();
    let mut text = String::with_capacity(message.len() + 16);
    text.push_str("emscan: ");
    for (i, line) in message.split('\n').enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&escape_control(line));
    }
    text.push('\n');
    // Ignored on purpose: there is nowhere left to report a failing stderr.
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// An error as the command line says it: the library's errors that concern an option name
/// its flag; every other error reads as the library words it.
fn message(err: &anyhow::Error) -> String {
    let flagged = match err.downcast_ref::<Error>() {
        _ if err.chain().count() > 1 => None,
        Some(Error::Rule(RuleError { pattern, reason })) => {
            Some(format!("invalid --rule {pattern:?}: {reason}"))
        }
        Some(Error::NoInput {
            paths,
            problems,
            sdk_names_only,
        }) => Some(format!(
            "no SDK log files found in {}{problems}{}",
            inert_list(paths),
            if *sdk_names_only {
                "\n  (looked for easemob.log, easemob_YYYY-MM-DD_HH-MM-SS.log and easemob.log.N, each also .gz; \
                 --all-files scans every file)"
            } else {
                ""
            }
        )),
        Some(Error::ThreadPool { reason }) => Some(format!(
            "could not start the worker threads: {reason}\n  (a limit on processes or threads? \
             --threads 1 needs the fewest)"
        )),
        Some(Error::RelativeWindowInStream) => Some(
            "relative --since/--until (like -2h) count back from the last log time, which a \
             streamed scan (--format ndjson) does not know in advance: give absolute times"
                .to_string(),
        ),
        Some(Error::Gate(GateError::NeedsBaseline { entry })) => {
            Some(format!("bad gate rule {entry}: needs --baseline"))
        }
        Some(Error::Gate(GateError::NoRules)) => Some(
            "no gate rules: give --max, --max-rate, --max-increase, --max-new or \
             --fail-on-deprecated, or a policy file with a [gate] table (./emscan.toml or \
             --policy)"
                .to_string(),
        ),
        _ => None,
    };
    flagged.unwrap_or_else(|| chain_text(err))
}

/// The error and its causes, `: `-separated, leaving out a cause that the text before already
/// ends with (the library's errors say their I/O cause themselves).
fn chain_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let cause = cause.to_string();
        if text.is_empty() {
            text = cause;
        } else if !text.ends_with(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn dispatch(cli: Cli) -> anyhow::Result<Status> {
    // Buffered: stdout alone is line-buffered, a write call per line of a large JSON report.
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let result = run_command(cli.command, &mut out);
    let flushed = unless_closed(out.flush());
    let status = result?;
    flushed.context("writing the output")?;
    Ok(status)
}

/// A write's result, where a reader that stopped reading (`| head`) counts as written: the
/// rest of the output is not wanted, and the command's status (a broken gate, `--strict`)
/// must stand.
fn unless_closed(written: io::Result<()>) -> io::Result<()> {
    match written {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        written => written,
    }
}

fn run_command(command: Command, mut out: &mut dyn Write) -> anyhow::Result<Status> {
    match command {
        Command::Scan(args) => scan(args, &mut out),
        Command::Merge(args) => merge(args, &mut out),
        Command::Explain(args) => explain(args, &mut out),
        Command::Codes(args) => codes(args, &mut out),
        Command::Gate(args) => gate(args, &mut out),
        Command::Diff(args) => diff(args, &mut out),
        Command::Completions(args) => {
            write_completions(args.shell, &mut out).context("writing the completions")?;
            Ok(Status::Ok)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .context("writing the man page")?;
            Ok(Status::Ok)
        }
        Command::Report(args) => report(args, &mut out),
        Command::Watch(args) => watch::watch(args, &mut out),
    }
}

fn report(args: ReportArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let config = scan_config(args.paths, &args.settings, true, false)?;
    if let Some(output) = &args.output {
        refuse_output_among_inputs(output, &config)?;
    }
    let summary = scan_with_progress(&config, &args.settings)?;
    let lang = args.settings.lang.unwrap_or_else(Lang::from_env);
    let text = match args.format {
        ReportFormat::Markdown => render::report_md::render(&summary, catalog(), lang),
        ReportFormat::Html => render::report_html::render(&summary, catalog(), lang),
    };
    match &args.output {
        Some(path) => write_whole(path, text.as_bytes()).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?,
        None => out
            .write_all(text.as_bytes())
            .context("writing the report")?,
    }
    for problem in render::text::problems(&summary) {
        say(format_args!("warning: {problem}"));
    }
    Ok(Status::Ok)
}

/// Refuses an `-o` file that the scan reads (the same file by identity: device and inode, or
/// the Windows file index, so links and other spellings count too): the report would replace
/// the log it was made from. What is not a file yet cannot be an input (nor is a pipe or a
/// device opened here, which could block).
fn refuse_output_among_inputs(output: &Path, config: &ScanConfig) -> anyhow::Result<()> {
    let target_len = match std::fs::metadata(output) {
        Ok(meta) if meta.is_file() => meta.len(),
        _ => return Ok(()),
    };
    let Ok(target) = same_file::Handle::from_path(output) else {
        return Ok(());
    };
    let found = crate::input::discover::discover(&config.paths, config.all_files);
    let input = found.files.iter().find(|file| {
        std::fs::metadata(&file.path).is_ok_and(|m| m.len() == target_len)
            && same_file::Handle::from_path(&file.path).is_ok_and(|handle| handle == target)
    });
    match input {
        Some(file) => anyhow::bail!(
            "-o {} is one of the scanned logs ({}): write the report to another file",
            escape_control(&output.to_string_lossy()),
            escape_control(&file.rel_path)
        ),
        None => Ok(()),
    }
}

/// Replaces the file `path` with `bytes` as a whole: written to a temporary file in the same
/// folder, then renamed over it, so that a full disk or a crash leaves the previous file as it
/// was. A symbolic link is followed (its target is replaced); a new file gets the usual
/// permissions (`0666` less the umask), an existing one keeps its own. Anything that is not a
/// file (`/dev/stdout`, a pipe, a device) is written in place: there is no file to replace.
fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|meta| !meta.is_file()) {
        return std::fs::write(path, bytes);
    }
    let path = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".emscan-").suffix(".tmp");
    #[cfg(unix)]
    let existing = std::fs::metadata(&path).ok().map(|m| m.permissions());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut file = builder.tempfile_in(folder)?;
    file.write_all(bytes)?;
    #[cfg(unix)]
    if let Some(permissions) = existing {
        file.as_file().set_permissions(permissions)?;
    }
    file.as_file().sync_all()?;
    file.persist(&path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes the completion script of `shell` for `emscan`. The script is made in memory first:
/// `clap_complete` panics when its writer fails (a full disk, a closed pipe).
pub(crate) fn write_completions(
    shell: clap_complete::Shell,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "emscan", &mut script);
    out.write_all(&script)?;
    out.flush()
}

/// Whether to colour the table: the choice, the terminal and `NO_COLOR`.
fn colour(choice: ColorChoice) -> bool {
    let no_color = std::env::var("NO_COLOR").ok();
    choice.enabled(io::stdout().is_terminal(), no_color.as_deref())
}

/// The columns output should fit in: `$COLUMNS` when set, else the terminal's width when
/// stdout is a terminal, else no limit (piped output keeps whole lines).
fn output_width() -> Option<usize> {
    let columns = std::env::var("COLUMNS").ok();
    width_of(
        columns.as_deref(),
        terminal_size::terminal_size_of(io::stdout()).map(|(w, _)| usize::from(w.0)),
    )
}

/// The output width given `$COLUMNS` and the terminal's width (when stdout is one).
fn width_of(columns: Option<&str>, terminal: Option<usize>) -> Option<usize> {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w > 0)
        .or(terminal.filter(|&w| w > 0))
}

/// Writes a summary in one of the summary formats (`ndjson` is streamed by `scan` itself).
fn write_report(
    out: &mut dyn Write,
    summary: &Summary,
    format: ScanFormat,
    lang: Lang,
    color: bool,
) -> io::Result<()> {
    match format {
        ScanFormat::Table => {
            render::table::write_summary(out, summary, lang, color, output_width())
        }
        ScanFormat::Json => render::json::write_summary(out, summary),
        ScanFormat::Csv => render::csv::write_summary(out, summary),
        ScanFormat::Markdown => render::table_md::write_summary(out, summary, lang),
        ScanFormat::Prometheus => render::prometheus::write_summary(out, summary),
        ScanFormat::Ndjson => Err(io::Error::other(
            "ndjson events need the logs: use emscan scan --format ndjson",
        )),
    }
}

/// Warns on stderr about skipped and partly read files (unless `quiet`, or the table, which
/// lists them itself), and turns them into the exit status under `strict`.
fn report_problems(summary: &Summary, format: ScanFormat, quiet: bool, strict: bool) -> Status {
    let problems = render::text::problems(summary);
    if format != ScanFormat::Table && !quiet {
        for problem in &problems {
            say(format_args!("warning: {problem}"));
        }
    }
    // A file reached by two paths was counted under one of them: said, but nothing was lost.
    let lost = summary.files.iter().any(|f| f.warning.is_some())
        || summary.skipped.iter().any(|s| !s.counted_elsewhere);
    if strict && lost {
        Status::Incomplete
    } else {
        Status::Ok
    }
}

/// Worker threads per core that `--threads` may ask for at most: more only add the cost of
/// threads waiting for work (the folder walk uses as many threads again).
const MAX_THREADS_PER_CORE: usize = 4;

/// The most worker threads whatever the cores.
const MAX_THREADS: usize = 256;

/// The most worker threads `--threads` gives on a machine with `cores` cores.
fn thread_cap(cores: usize) -> usize {
    cores
        .saturating_mul(MAX_THREADS_PER_CORE)
        .clamp(1, MAX_THREADS)
}

/// `--threads`, capped at [`thread_cap`] with a warning (unless `quiet`).
fn capped_threads(asked: Option<u16>, quiet: bool) -> Option<usize> {
    let asked = usize::from(asked?);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let cap = thread_cap(cores);
    if asked <= cap {
        return Some(asked);
    }
    // Said once, also when a command scans twice (`diff` of two folders).
    static SAID: std::sync::Once = std::sync::Once::new();
    if !quiet {
        SAID.call_once(|| {
            say(format_args!(
                "warning: --threads {asked} is more than {MAX_THREADS_PER_CORE} per core \
                 ({cores} cores, at most {MAX_THREADS}): using {cap}"
            ))
        });
    }
    Some(cap)
}

/// The scan configuration of the shared settings, `deep` or not. No path: the SDK's log folder
/// when run from an app's folder that has one, else `.`. Builds rayon's global pool, so that
/// `--threads` bounds rendering too and a pool that cannot start is an error, not a panic.
fn scan_config(
    paths: Vec<PathBuf>,
    args: &ScanSettings,
    deep: bool,
    quiet: bool,
) -> anyhow::Result<ScanConfig> {
    let threads = capped_threads(args.threads, quiet);
    Threads::size_global(threads)?;
    let paths = if paths.is_empty() {
        let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        vec![crate::input::discover::default_root(&here)]
    } else {
        paths
    };
    Ok(ScanConfig {
        paths,
        all_files: args.all_files,
        user_rules: args.rules.clone(),
        read: ReadOptions {
            chunk_size: usize::try_from(args.chunk_size).unwrap_or(usize::MAX),
            mmap_min: args.mmap_min.unwrap_or(u64::MAX),
            gzip_limit: args.gzip_limit,
        },
        deep,
        threads,
        lang: args.lang.unwrap_or_else(Lang::from_env),
        since: args.window.since,
        until: args.window.until,
        bucket: args.window.bucket,
    })
}

/// The callbacks that tell `progress` how a scan goes: files found, the end of the walk,
/// bytes scanned.
fn progress_callbacks(
    progress: &Progress,
) -> (
    impl Fn(u64) + Sync + '_,
    impl Fn() + Sync + '_,
    impl Fn(u64) + Sync + '_,
) {
    (
        |bytes| progress.add_total(bytes),
        || progress.walked(),
        |bytes| progress.advance(bytes),
    )
}

/// Scans for `gate`, `diff` and `report`, with the progress bar; `deep` adds the connection
/// story and the lines no rule understands.
fn run_scan(paths: Vec<PathBuf>, args: &ScanSettings, deep: bool) -> anyhow::Result<Summary> {
    let config = scan_config(paths, args, deep, false)?;
    scan_with_progress(&config, args)
}

/// Runs the scan of `config` with the progress bar (unless `--no-progress` or stderr is not
/// a terminal).
fn scan_with_progress(config: &ScanConfig, args: &ScanSettings) -> anyhow::Result<Summary> {
    let progress = Progress::new(!args.no_progress && io::stderr().is_terminal());
    let (found, walked, scanned) = progress_callbacks(&progress);
    let result = scan_paths_with_progress(
        config,
        ProgressHooks {
            found: &found,
            walked: &walked,
            scanned: &scanned,
        },
    );
    progress.finish();
    Ok(result?)
}

fn scan(args: ScanArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let config = scan_config(args.paths, &args.settings, args.deep, args.output.quiet)?;
    let lang = config.lang;
    let show_progress =
        !args.settings.no_progress && !args.output.quiet && io::stderr().is_terminal();
    let progress = Progress::new(show_progress);
    let (found, walked, scanned) = progress_callbacks(&progress);
    let hooks = ProgressHooks {
        found: &found,
        walked: &walked,
        scanned: &scanned,
    };
    let summary = if args.format == ScanFormat::Ndjson {
        let catalog = catalog();
        let zone = args.tz.unwrap_or_default();
        let mut buffered = io::BufWriter::new(out);
        let result = scan_stream_with_progress(&config, hooks, &mut |events| {
            render::ndjson::write_file_events(&mut buffered, &events, catalog, zone)
        });
        progress.finish();
        let summary = result?;
        buffered.flush().context("writing the events")?;
        summary
    } else {
        let result = scan_paths_with_progress(&config, hooks);
        progress.finish();
        let summary = result?;
        unless_closed(write_report(
            out,
            &summary,
            args.format,
            lang,
            colour(args.output.color),
        ))
        .context("writing the report")?;
        if args.timeline && args.format == ScanFormat::Table {
            unless_closed(render::table::write_timeline(
                out,
                &summary,
                lang,
                output_width(),
            ))
            .context("writing the timeline")?;
        }
        summary
    };
    let status = report_problems(&summary, args.format, args.output.quiet, args.output.strict);
    // The process ends next: freeing a big bundle's summary allocation by allocation would
    // cost milliseconds for nothing.
    std::mem::forget(summary);
    Ok(status)
}

fn merge(args: MergeArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    if args.format == ScanFormat::Ndjson {
        say("merge cannot write ndjson: events need the logs (use scan)");
        return Ok(Status::Usage);
    }
    let mut merged: Option<Summary> = None;
    // Each input file seen so far (device, file name, fingerprint) and the summary holding it.
    let mut held: HashMap<(String, String, String), &Path> = HashMap::new();
    for path in &args.summaries {
        let summary = read_summary(path)?;
        // Checked against the summaries before this one only: two copies inside one scan
        // are two inputs.
        let mut keys = Vec::new();
        for file in &summary.files {
            let Some(fingerprint) = &file.fingerprint else {
                continue;
            };
            let name = file.path.rsplit(['/', '\\']).next().unwrap_or(&file.path);
            let key = (file.device.clone(), name.to_string(), fingerprint.clone());
            if let Some(first) = held.get(&key).filter(|_| !args.allow_duplicates) {
                say(format!(
                    "{} and {} both hold {} (device {}, same size and contents at both ends): \
                     merging would count it twice; --allow-duplicates merges anyway",
                    first.display(),
                    path.display(),
                    file.path,
                    file.device
                ));
                return Ok(Status::Usage);
            }
            keys.push(key);
        }
        for key in keys {
            held.entry(key).or_insert(path);
        }
        merged = Some(match merged {
            Some(acc) => acc.merge(summary).map_err(|source| Error::MergeOverflow {
                path: path.display().to_string(),
                source,
            })?,
            None => summary,
        });
    }
    let summary = merged.unwrap_or_else(|| Summary::empty(catalog(), lang));
    unless_closed(write_report(
        out,
        &summary,
        args.format,
        lang,
        colour(args.output.color),
    ))
    .context("writing the merged report")?;
    Ok(report_problems(
        &summary,
        args.format,
        args.output.quiet,
        args.output.strict,
    ))
}

/// The policy: the file given, else `./emscan.toml` when it exists, else empty; then the
/// command-line rules over it. Also returns the file read, as the user would type it.
fn load_policy(
    args: &RuleArgs,
    max_increase: &[String],
    max_new: Option<u64>,
) -> anyhow::Result<(Policy, Option<String>)> {
    let default = Path::new("emscan.toml");
    let file = match &args.policy {
        Some(path) => Some(path.as_path()),
        None => default.is_file().then_some(default),
    };
    let mut policy = match file {
        Some(path) => {
            let text = read_regular_file(path, POLICY_LIMIT, "a policy file")?;
            Policy::from_toml(&text, &escape_control(&path.to_string_lossy()))?
        }
        None => Policy::default(),
    };
    let source = file.map(|path| match &args.policy {
        Some(_) => path.display().to_string(),
        None => format!(".{}{}", std::path::MAIN_SEPARATOR, path.display()),
    });
    policy.apply_given(&GivenRules {
        names: RuleNames {
            max: "--max",
            max_rate: "--max-rate",
            max_increase: "--max-increase",
            allow: "--allow",
        },
        max: args.max.clone(),
        max_rate: args.max_rate.clone(),
        max_increase: max_increase.to_vec(),
        allow: args.allow.clone(),
        max_new,
        fail_on_deprecated: args.fail_on_deprecated,
    })?;
    Ok((policy, source))
}

fn gate(args: GateArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let (policy, source) = load_policy(&args.rules, &args.max_increase, args.max_new)?;
    // Say which file the rules came from: one found in the current folder is easy to miss.
    if let Some(source) = &source {
        say(format!("policy: {source}"));
    }
    let baseline = args.baseline.as_deref().map(read_summary).transpose()?;
    // Refuse an unusable policy before spending time on the scan.
    policy.validate(baseline.is_some())?;
    let summary = run_scan(args.paths, &args.settings, false)?;
    let mut verdict = crate::gate::evaluate(&policy, &summary, baseline.as_ref())?;
    verdict.strict = args.strict;
    verdict.working_folder = std::env::current_dir()
        .ok()
        .map(|folder| render::sarif::folder_uri(&folder.to_string_lossy()));
    // A usage or input error has exited 2 already; then a broken rule; then damaged input
    // under --strict.
    let status = if !verdict.passed {
        Status::RuleBroken
    } else if args.strict && !verdict.damaged.is_empty() {
        Status::Incomplete
    } else {
        Status::Ok
    };
    let written = match args.format {
        GateFormat::Text => render::gate::write_text(out, &verdict),
        GateFormat::Json => render::json::write_value(out, &verdict),
        GateFormat::Junit => render::junit::write_junit(out, &verdict),
        GateFormat::Sarif => render::sarif::write_sarif(out, &verdict),
        GateFormat::Github => render::gate::write_github(out, &verdict),
    };
    // A reader that stops early (`| head`) must not turn a broken gate into a pass.
    unless_closed(written).context("writing the verdict")?;
    Ok(status)
}

/// One side of a diff: a saved scan (`*.json` file) or logs to scan.
fn diff_side(path: &Path, settings: &ScanSettings) -> anyhow::Result<Summary> {
    let saved = path.is_file()
        && path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    if saved {
        Ok(read_summary(path)?)
    } else {
        run_scan(vec![path.to_path_buf()], settings, false)
    }
}

fn diff(args: DiffArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let old = diff_side(&args.old, &args.settings)?;
    let new = diff_side(&args.new, &args.settings)?;
    let diff = crate::diff::diff(&old, &new);
    match args.format {
        DiffFormat::Table => render::diff::write_table(out, &diff),
        DiffFormat::Json => render::json::write_value(out, &diff),
        DiffFormat::Markdown => render::diff::write_markdown(out, &diff),
    }
    .context("writing the diff")?;
    Ok(Status::Ok)
}

fn explain(args: ExplainArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    let info = match catalog().lookup(&args.query) {
        Ok(info) => info,
        Err(err) => {
            say(&err);
            return Ok(Status::Usage);
        }
    };
    if args.json {
        render::json::write_value(out, info)
    } else {
        render::catalog::write_explain(out, info, lang, args.both, output_width())
    }
    .context("writing the explanation")?;
    Ok(Status::Ok)
}

fn codes(args: CodesArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    let tier = if args.newer {
        catalog().newer_entries()
    } else {
        catalog().entries()
    };
    let entries: Vec<_> = tier
        .iter()
        .filter(|e| args.category.is_none_or(|c| e.category == c))
        .collect();
    match args.format {
        Format::Table => render::catalog::write_codes(out, &entries, lang, output_width()),
        Format::Json => render::json::write_value(out, &entries),
    }
    .context("writing the catalog")?;
    Ok(Status::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn colour_follows_terminal_and_no_color() {
        assert!(ColorChoice::Auto.enabled(true, None));
        assert!(ColorChoice::Auto.enabled(true, Some("")));
        assert!(!ColorChoice::Auto.enabled(true, Some("1")));
        assert!(!ColorChoice::Auto.enabled(false, None));
        assert!(ColorChoice::Always.enabled(false, Some("1")));
        assert!(!ColorChoice::Never.enabled(true, None));
    }

    /// A writer that always fails, as a full disk does.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::StorageFull))
        }

        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::StorageFull))
        }
    }

    #[test]
    fn completions_on_a_failing_writer_are_an_error_not_a_panic() {
        for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Zsh] {
            let err = write_completions(shell, &mut Full).expect_err("the write fails");
            assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        }
    }

    #[test]
    fn an_io_cause_is_said_once() {
        let err = anyhow::Error::from(Error::Io {
            path: PathBuf::from("out.md"),
            source: io::Error::other("disk full"),
        });
        assert_eq!(message(&err), "out.md: disk full");
        let err = anyhow::Error::from(io::Error::other("disk full")).context("writing the report");
        assert_eq!(message(&err), "writing the report: disk full");
    }

    #[test]
    fn threads_are_capped_at_four_per_core_and_256() {
        assert_eq!(thread_cap(1), 4);
        assert_eq!(thread_cap(2), 8);
        assert_eq!(thread_cap(64), 256);
        assert_eq!(thread_cap(1000), 256);
        assert_eq!(capped_threads(None, true), None);
        assert_eq!(capped_threads(Some(1), true), Some(1));
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        assert_eq!(
            capped_threads(Some(u16::MAX), true),
            Some(thread_cap(cores))
        );
    }

    #[test]
    fn width_comes_from_columns_then_the_terminal() {
        assert_eq!(width_of(Some("60"), Some(200)), Some(60));
        assert_eq!(width_of(None, Some(200)), Some(200));
        assert_eq!(width_of(None, None), None);
        assert_eq!(width_of(Some("wide"), None), None);
        assert_eq!(width_of(Some("0"), Some(90)), Some(90));
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("65536"), Ok(65536));
        assert_eq!(parse_bytes("64K"), Ok(64 << 10));
        assert_eq!(parse_bytes("4m"), Ok(4 << 20));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert_eq!(parse_bytes("2 MB"), Ok(2 << 20));
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("99999999999999G").is_err());
    }
}
