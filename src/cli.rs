//! The command line: clap types, dispatch, and the exit-status policy (all in this file).

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::catalog::{Category, Lang, catalog};
use crate::progress::Progress;
use crate::render::report::ReportFormat;
use crate::render::{self, Format};
use crate::scan::ScanOptions;
use crate::{Bucket, Error, ScanConfig, TimeBound, scan_paths};

/// Exit statuses. Every exit of the program goes through [`Status::code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The command did its job (a scan that found errors included).
    Ok,
    /// A usage error, or no input could be read at all.
    Usage,
    /// `--strict`: some file was skipped or only partly read.
    Incomplete,
}

impl Status {
    /// The process exit code.
    pub fn code(self) -> ExitCode {
        match self {
            Status::Ok => ExitCode::SUCCESS,
            Status::Usage => ExitCode::from(2),
            Status::Incomplete => ExitCode::from(3),
        }
    }
}

const EXIT_HELP: &str = "\
Exit status:
  0  the command ran (a scan or report exits 0 whatever it finds; use a gate for CI)
  2  usage error, unknown code, bad --rule, or no log file could be read
  3  with --strict: a file was skipped or only partly read (the report is still printed)";

/// Diagnose the logs of the Easemob (环信 / Agora Chat) IM Windows SDK.
#[derive(Debug, Parser)]
#[command(name = "emscan", version, after_help = EXIT_HELP, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan log folders or files for SDK error codes
    Scan(ScanArgs),
    /// Explain one error code: meaning, likely cause, what to do
    Explain(ExplainArgs),
    /// List the error-code catalog
    Codes(CodesArgs),
    /// Write an incident summary: what broke, when, where, and what to check first
    Report(ReportArgs),
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Log files or folders (folders are searched recursively)
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Write the report to this file instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Report format
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    format: ReportFormat,
    /// Language of the report [default: from LANG]
    #[arg(long, value_enum)]
    lang: Option<Lang>,
    /// Scan every file in the folders, not only easemob*.log[.gz]
    #[arg(long)]
    all_files: bool,
    /// An extra extraction rule (as for scan). Repeatable
    #[arg(long = "rule", value_name = "REGEX")]
    rules: Vec<String>,
    /// Never show the progress bar
    #[arg(long)]
    no_progress: bool,
    #[command(flatten)]
    window: WindowArgs,
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// Log files or folders (folders are searched recursively)
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
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
    /// Exit 3 when any file was skipped or only partly read, so CI cannot miss it
    #[arg(long)]
    strict: bool,
    /// Colour: auto = only when stdout is a terminal and NO_COLOR is unset
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Worker threads [default: one per core]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Show the timeline: a sparkline per top code and a histogram of all errors
    /// (JSON always has it)
    #[arg(long)]
    timeline: bool,
    #[command(flatten)]
    window: WindowArgs,
    /// Target chunk size for splitting files, e.g. 1M
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "1M")]
    chunk_size: u64,
    /// Files at least this large are memory-mapped, e.g. 4M
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "4M")]
    mmap_min: u64,
    /// The most decompressed bytes taken from one gzip file
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "1G")]
    gzip_limit: u64,
}

/// Time window and timeline options, shared by `scan` and `report`.
#[derive(Debug, Args)]
struct WindowArgs {
    /// Timeline bucket width: auto fits the span in about 60 buckets
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
struct ExplainArgs {
    /// A code (202) or a name (user_authentication_failed, any case)
    query: String,
    /// Language [default: from LANG]
    #[arg(long, value_enum)]
    lang: Option<Lang>,
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
}

/// When to colour terminal output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal and `NO_COLOR` is unset or empty.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour, given whether stdout is a terminal and the value of `NO_COLOR`.
    pub fn enabled(self, stdout_is_terminal: bool, no_color: Option<&str>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_is_terminal && no_color.is_none_or(str::is_empty),
        }
    }
}

/// Parses a byte size: a whole number with an optional K, M or G (powers of 1024).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
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
    let cli = Cli::parse();
    let status = match dispatch(cli) {
        Ok(status) => status,
        Err(err) if is_broken_pipe(&err) => Status::Ok,
        Err(err) => {
            eprintln!("emscan: {err:#}");
            Status::Usage
        }
    };
    status.code()
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn dispatch(cli: Cli) -> anyhow::Result<Status> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Scan(args) => scan(args, &mut out),
        Command::Explain(args) => explain(args, &mut out),
        Command::Codes(args) => codes(args, &mut out),
        Command::Report(args) => report(args, &mut out),
    }
}

fn report(args: ReportArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    let mut config = ScanConfig::new(args.paths);
    config.all_files = args.all_files;
    config.user_rules = args.rules;
    config.lang = lang;
    config.since = args.window.since;
    config.until = args.window.until;
    config.bucket = args.window.bucket;
    let progress = Progress::new(!args.no_progress && io::stderr().is_terminal());
    let result = scan_paths(&config, &|total| progress.set_total(total), &|bytes| {
        progress.advance(bytes)
    });
    progress.finish();
    let summary = result?;
    let text = match args.format {
        ReportFormat::Markdown => render::report_md::render(&summary, catalog(), lang),
        ReportFormat::Html => render::report_html::render(&summary, catalog(), lang),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text.as_bytes()).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?,
        None => out
            .write_all(text.as_bytes())
            .context("writing the report")?,
    }
    for problem in render::text::problems(&summary) {
        eprintln!("emscan: warning: {problem}");
    }
    Ok(Status::Ok)
}

fn scan(args: ScanArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    let config = ScanConfig {
        paths: args.paths,
        all_files: args.all_files,
        user_rules: args.rules,
        scan: ScanOptions {
            chunk_size: usize::try_from(args.chunk_size).unwrap_or(usize::MAX),
            mmap_min: args.mmap_min,
            gzip_limit: args.gzip_limit,
        },
        threads: args.threads.map(usize::from),
        lang,
        since: args.window.since,
        until: args.window.until,
        bucket: args.window.bucket,
    };
    let progress = Progress::new(!args.no_progress && io::stderr().is_terminal());
    let result = scan_paths(&config, &|total| progress.set_total(total), &|bytes| {
        progress.advance(bytes)
    });
    progress.finish();
    let summary = result?;
    match args.format {
        Format::Table => {
            let no_color = std::env::var("NO_COLOR").ok();
            let color = args
                .color
                .enabled(io::stdout().is_terminal(), no_color.as_deref());
            render::table::write_summary(out, &summary, lang, color)?;
            if args.timeline {
                render::table::write_timeline(out, &summary, lang)?;
            }
            Ok(())
        }
        Format::Json => render::json::write_summary(out, &summary),
    }
    .context("writing the report")?;
    let problems = render::text::problems(&summary);
    // The table lists them itself; machine formats keep stdout clean, so say it on stderr.
    if args.format != Format::Table {
        for problem in &problems {
            eprintln!("emscan: warning: {problem}");
        }
    }
    Ok(if args.strict && !problems.is_empty() {
        Status::Incomplete
    } else {
        Status::Ok
    })
}

fn explain(args: ExplainArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    let info = match catalog().lookup(&args.query) {
        Ok(info) => info,
        Err(err @ Error::UnknownCode { .. }) => {
            eprintln!("emscan: {err}");
            return Ok(Status::Usage);
        }
        Err(err) => return Err(err.into()),
    };
    if args.json {
        render::json::write_value(out, info)
    } else {
        render::catalog::write_explain(out, info, lang)
    }
    .context("writing the explanation")?;
    Ok(Status::Ok)
}

fn codes(args: CodesArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    let entries: Vec<_> = catalog()
        .entries()
        .iter()
        .filter(|e| args.category.is_none_or(|c| e.category == c))
        .collect();
    match args.format {
        Format::Table => render::catalog::write_codes(out, &entries, lang),
        Format::Json => render::json::write_value(out, &entries),
    }
    .context("writing the catalog")?;
    Ok(Status::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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
