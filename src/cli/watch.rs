//! `emscan watch`: its flags, and what it prints as the live driver tells it.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::{RuleArgs, Status, colour, load_policy, output_width, say, unless_closed};
use crate::catalog::{Lang, catalog};
use crate::gate::{self, Outcome};
use crate::input::discover::{self, path_text};
use crate::pipeline::watch::{Flow, Live, WatchConfig, watch as follow};
use crate::render::{self, WatchFormat};
use crate::time::Zone;

/// Rules and exit status of `emscan watch`, under its help.
const WATCH_HELP: &str = "\
Starts at the end of each file (--from-start: from the start); follows rotation (easemob.log
renamed to easemob_<time>.log and a new easemob.log), truncation, and files or the folder
appearing later. Gzip files are not followed.

Rules (--max, --max-rate, --fail-on-deprecated, --policy or ./emscan.toml) are checked as lines
arrive, as emscan gate checks them; a broken rule is printed once.

Exit status:
  0  stopped (Ctrl-C), no rule broken
  1  a rule broke (with --exit-on-break: at once)
  2  usage or input error: bad rule or policy file, the folder cannot be watched";

#[derive(Debug, Args)]
#[command(after_help = WATCH_HELP)]
pub(super) struct WatchArgs {
    /// The SDK's log folder, or one log file [default: sdkdata/easemobLog when run from an
    /// app's folder that has it, else .]
    path: Option<PathBuf>,
    /// Also print what the files hold already (by default only what is written from now on)
    #[arg(long)]
    from_start: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = WatchFormat::Text)]
    format: WatchFormat,
    /// Look for changes at this interval instead of the system's change notifications (for
    /// network shares), e.g. 500ms, 2s
    #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
    poll: Option<Duration>,
    #[command(flatten)]
    rules: RuleArgs,
    /// Stop at the first broken rule (exit 1), so a test harness can end a run early
    #[arg(long)]
    exit_on_break: bool,
    /// An extra extraction rule: a regex whose named group `code` captures the code.
    /// Repeatable
    #[arg(long = "rule", value_name = "REGEX")]
    extraction_rules: Vec<String>,
    /// Language of hints and labels [default: from LANG]
    #[arg(long, value_enum)]
    lang: Option<Lang>,
    /// Time zone of log times in ndjson events, as for scan [default: local]
    #[arg(long, value_name = "ZONE", value_parser = super::parse_zone, allow_hyphen_values = true)]
    tz: Option<Zone>,
    /// No notices on stderr (start, rotations, truncations) and no summary at the end
    #[arg(long, short)]
    quiet: bool,
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval = humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not an interval ({e}): use e.g. 500ms or 2s"))?;
    if interval < Duration::from_millis(10) || interval > Duration::from_secs(3600) {
        return Err(format!("{text:?}: give an interval from 10ms to 1h"));
    }
    Ok(interval)
}

/// Set by Ctrl-C (and, on Unix, SIGTERM): the watch ends at its next look.
static STOP: AtomicBool = AtomicBool::new(false);

pub(super) fn watch(args: WatchArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let (mut policy, source) = load_policy(&args.rules, &[], None)?;
    if !policy.max_increase.is_empty() || policy.max_new.is_some() {
        say("note: the policy's baseline rules (max_increase, max_new) are not checked by watch");
        policy.max_increase.clear();
        policy.max_new = None;
    }
    let checking = policy.rule_count() > 0;
    if args.exit_on_break && !checking {
        anyhow::bail!(
            "--exit-on-break needs a rule: give --max, --max-rate or --fail-on-deprecated, or a \
             policy file (--policy, or ./emscan.toml)"
        );
    }
    if checking {
        policy.validate(false)?;
        if let Some(source) = &source {
            say(format!("policy: {source}"));
        }
    }
    let root = args.path.clone().unwrap_or_else(|| {
        let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        discover::default_root(&here)
    });
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    let config = WatchConfig {
        root,
        from_start: args.from_start,
        user_rules: args.extraction_rules.clone(),
        lang,
        poll: args.poll,
    };
    if let Err(e) = ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed)) {
        say(format!(
            "warning: Ctrl-C cannot be caught ({e}): it ends the watch without a summary"
        ));
    }
    let zone = args.tz.unwrap_or_default();
    let mut hinted = BTreeSet::new();
    let mut broken: BTreeSet<String> = BTreeSet::new();
    let mut on_live = |live: Live<'_>| -> io::Result<Flow> {
        match live {
            Live::Waiting { root } => {
                if !args.quiet {
                    say(format!("waiting for {} to appear", path_text(root)));
                }
            }
            Live::Started {
                root,
                files,
                polling,
            } => {
                if !args.quiet {
                    let how = if polling {
                        "looking for changes at an interval"
                    } else {
                        "notified of changes"
                    };
                    let found = match files {
                        0 => "no SDK log file yet (easemob.log, easemob_<time>.log)".to_string(),
                        1 => "1 log file".to_string(),
                        n => format!("{n} log files"),
                    };
                    say(format!(
                        "watching {}: {found}, {how}; Ctrl-C stops",
                        path_text(root)
                    ));
                }
            }
            Live::Hits(events) => {
                match args.format {
                    WatchFormat::Text => {
                        render::watch::write_hits(out, &events, catalog(), lang, &mut hinted)?
                    }
                    WatchFormat::Ndjson => {
                        render::ndjson::write_file_events(out, &events, catalog(), zone)?
                    }
                }
                out.flush()?;
            }
            Live::Notice(notice) => {
                if !args.quiet {
                    say(render::watch::notice_text(notice));
                }
            }
            Live::Looked(scan) if checking => {
                let summary = scan.summary();
                let verdict = gate::evaluate(&policy, &summary, None).map_err(io::Error::other)?;
                say_newly_broken(&verdict, &mut broken);
                if args.exit_on_break && !broken.is_empty() {
                    return Ok(Flow::Stop);
                }
            }
            Live::Looked(_) => {}
        }
        Ok(Flow::Go)
    };
    let result = follow(&config, &STOP, &mut on_live);
    let live = match result {
        Ok(live) => live,
        Err(crate::Error::Write { source }) => {
            unless_closed(Err(source)).context("writing the events")?;
            return Ok(status_of(&broken));
        }
        Err(e) => return Err(e.into()),
    };
    let summary = live.summary();
    if checking {
        // The rules on the whole watched span, as `gate` would judge it.
        let verdict = gate::evaluate(&policy, &summary, None)?;
        say_newly_broken(&verdict, &mut broken);
        if broken.is_empty() {
            say(render::gate::verdict_line(&verdict));
        } else {
            say(format!(
                "gate failed: {} of {} rules broke while watching",
                broken.len(),
                verdict.rules
            ));
        }
    }
    if !args.quiet {
        let written = match args.format {
            // The events are the output: the summary goes with the notices.
            WatchFormat::Ndjson => {
                let mut err = io::stderr().lock();
                render::table::write_summary(&mut err, &summary, lang, false, None)
            }
            WatchFormat::Text => writeln!(out).and_then(|()| {
                render::table::write_summary(
                    out,
                    &summary,
                    lang,
                    colour(super::ColorChoice::Auto),
                    output_width(),
                )
            }),
        };
        unless_closed(written).context("writing the summary")?;
    }
    Ok(status_of(&broken))
}

/// Says each rule of `verdict` that broke and is not in `broken` yet, and adds it there.
fn say_newly_broken(verdict: &gate::Verdict, broken: &mut BTreeSet<String>) {
    for outcome in verdict.broken_rules() {
        if broken.insert(rule_key(outcome)) {
            say(format!(
                "rule broken: {}",
                render::gate::describe(verdict, outcome)
            ));
        }
    }
}

/// A rule, once: its kind and target.
fn rule_key(outcome: &Outcome) -> String {
    format!("{:?} {}", outcome.kind, outcome.id)
}

/// Exit 1 when a rule broke while watching.
fn status_of(broken: &BTreeSet<String>) -> Status {
    if broken.is_empty() {
        Status::Ok
    } else {
        Status::RuleBroken
    }
}
