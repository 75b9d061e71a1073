//! The CI gate: a [`Policy`] of rules checked against a scan [`Summary`] (and, for the baseline
//! rules, a saved earlier summary), giving a [`Verdict`] with one [`Outcome`] per rule.
//!
//! No I/O here: the CLI reads the policy file, scans the logs and loads the baseline.
//!
//! Rule kinds (command line / `[gate]` table of `emscan.toml`):
//!
//! | rule | breaks when |
//! | --- | --- |
//! | `--max T=N` / `max = { T = N }` | occurrences of target `T` exceed `N` |
//! | `--max-rate T=R` / `max_rate = { T = "R" }` | occurrences per unit of log time exceed `R` (`30/h`, `2/m`, `100/d`) |
//! | `--fail-on-deprecated` / `fail_on_deprecated = true` | a deprecated catalog code occurs |
//! | `--max-new N` / `max_new = N` | more than `N` codes occur that the baseline does not have |
//! | `--max-increase T=P` / `max_increase = { T = P }` | `T` grew by more than `P` percent over the baseline |
//!
//! A target `T` is a catalog code or name (any case; the newer tier's codes too, which still
//! count as `unknown`), `category:NAME`, `total` or `unknown`.
//! Codes on the allow list (`--allow`, `allow = [...]`) never count towards any rule.
//!
//! A rate is `count / span`, where `span` is the log time from the target's first to its last
//! occurrence across the whole scan, and at least one minute (so a single occurrence is a rate of
//! 1/m, i.e. 60/h). Occurrences without a time still count; they do not widen the span.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalog::{Category, catalog};
use crate::error::{Error, Result};
use crate::model::{CodeSummary, Location, Summary};
use crate::time::LogTime;

/// The schema name of `emscan gate --format json`.
pub(crate) const SCHEMA: &str = "emscan.gate/1";

/// The shortest span of log time a rate is computed over (one minute).
pub(crate) const MIN_RATE_SPAN_MS: i64 = 60_000;

/// What a rule counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Target {
    /// Every error occurrence, catalog and unknown codes (`total`).
    Total,
    /// Codes outside the catalog (`unknown`).
    Unknown,
    /// The catalog codes of one category (`category:server`).
    Category(Category),
    /// One catalog code (either tier), given by number or name.
    Code(u32),
}

impl Target {
    /// Parses `total`, `unknown`, `category:NAME`, or a code or name (any case) of either
    /// catalog tier.
    pub(crate) fn parse(text: &str) -> std::result::Result<Target, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("total") {
            return Ok(Target::Total);
        }
        if text.eq_ignore_ascii_case("unknown") {
            return Ok(Target::Unknown);
        }
        if let Some((head, name)) = text.split_once(':')
            && head.trim().eq_ignore_ascii_case("category")
        {
            return Category::parse(name).map(Target::Category).ok_or_else(|| {
                let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                format!(
                    "unknown category {:?}; expected one of {}",
                    name.trim(),
                    names.join(", ")
                )
            });
        }
        catalog()
            .lookup(text)
            .map(|info| Target::Code(info.code))
            .map_err(|e| e.to_string())
    }

    /// The rule id: the code's catalog name, or `total`, `unknown`, `category:NAME`.
    pub(crate) fn id(&self) -> String {
        match self {
            Target::Total => "total".into(),
            Target::Unknown => "unknown".into(),
            Target::Category(c) => format!("category:{c}"),
            Target::Code(code) => catalog()
                .find(*code)
                .map_or_else(|| code.to_string(), |i| i.name.clone()),
        }
    }

    fn matches(&self, code: &CodeSummary, unknown: bool) -> bool {
        match self {
            Target::Total => true,
            Target::Unknown => unknown,
            Target::Category(c) => !unknown && code.category == Some(*c),
            Target::Code(n) => code.code == *n,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Code(code) => write!(f, "{} ({code})", self.id()),
            _ => f.write_str(&self.id()),
        }
    }
}

/// The unit of a rate limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RateUnit {
    /// Per minute (`/m`).
    Minute,
    /// Per hour (`/h`).
    Hour,
    /// Per day (`/d`).
    Day,
}

impl RateUnit {
    /// Milliseconds in one unit.
    pub(crate) fn millis(self) -> f64 {
        match self {
            RateUnit::Minute => 60_000.0,
            RateUnit::Hour => 3_600_000.0,
            RateUnit::Day => 86_400_000.0,
        }
    }

    /// `/m`, `/h` or `/d`.
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            RateUnit::Minute => "/m",
            RateUnit::Hour => "/h",
            RateUnit::Day => "/d",
        }
    }
}

/// A rate limit: at most `count` occurrences per `unit` of log time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rate {
    /// Occurrences allowed per unit.
    pub(crate) count: f64,
    /// The unit.
    pub(crate) unit: RateUnit,
}

impl Rate {
    /// Parses `30/h`, `0.5/m`, `100/d` (also `/min`, `/hour`, `/day`).
    pub(crate) fn parse(text: &str) -> std::result::Result<Rate, String> {
        let expected = || format!("{text:?} is not a rate like 30/h, 2/m or 100/d");
        let (count, unit) = text.trim().split_once('/').ok_or_else(expected)?;
        let count: f64 = count.trim().parse().map_err(|_| expected())?;
        if !count.is_finite() || count < 0.0 {
            return Err(expected());
        }
        let unit = match unit.trim().to_ascii_lowercase().as_str() {
            "m" | "min" | "minute" => RateUnit::Minute,
            "h" | "hour" => RateUnit::Hour,
            "d" | "day" => RateUnit::Day,
            _ => return Err(expected()),
        };
        Ok(Rate { count, unit })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", number(self.count), self.unit.suffix())
    }
}

/// Occurrences per `unit` of log time: `count` over the span from `first` to `last`, the span
/// being at least [`MIN_RATE_SPAN_MS`] (and exactly that when a time is missing).
pub(crate) fn rate(
    count: u64,
    first: Option<LogTime>,
    last: Option<LogTime>,
    unit: RateUnit,
) -> f64 {
    let span = match (first, last) {
        (Some(first), Some(last)) => last.epoch_millis() - first.epoch_millis(),
        _ => 0,
    }
    .max(MIN_RATE_SPAN_MS);
    count as f64 * unit.millis() / span as f64
}

/// The rules of a gate. Build it from a policy file ([`Policy::from_toml`]), then lay the
/// command line over it ([`Policy::apply_given`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Policy {
    /// Most occurrences per target.
    pub(crate) max: BTreeMap<Target, u64>,
    /// Highest rate per target.
    pub(crate) max_rate: BTreeMap<Target, Rate>,
    /// Fail when a deprecated catalog code occurs.
    pub(crate) fail_on_deprecated: bool,
    /// Codes that never count towards any rule.
    pub(crate) allow: BTreeSet<u32>,
    /// Most codes absent from the baseline.
    pub(crate) max_new: Option<u64>,
    /// Highest growth over the baseline per target, in percent.
    pub(crate) max_increase: BTreeMap<Target, f64>,
}

/// The policy file: only a `[gate]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    gate: GateTable,
}

/// The `[gate]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GateTable {
    #[serde(default)]
    max: BTreeMap<String, u64>,
    #[serde(default)]
    max_rate: BTreeMap<String, String>,
    #[serde(default)]
    fail_on_deprecated: bool,
    #[serde(default)]
    allow: Vec<CodeOrName>,
    #[serde(default)]
    max_new: Option<u64>,
    #[serde(default)]
    max_increase: BTreeMap<String, f64>,
}

/// An allow-list entry: `206` or `"USER_LOGIN_ANOTHER_DEVICE"`.
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "expected a code number or a code name")]
enum CodeOrName {
    Code(u32),
    Name(String),
}

/// Rules given besides a policy file, as written (`TARGET=VALUE` strings), with the names
/// their source gives each kind (errors quote an entry as `NAME SPEC`).
#[derive(Clone, Debug, Default)]
pub(crate) struct GivenRules {
    /// Limits on occurrences, `TARGET=N`.
    pub(crate) max: Vec<String>,
    /// Limits on rates, `TARGET=RATE`.
    pub(crate) max_rate: Vec<String>,
    /// Limits on growth over a baseline, `TARGET=PCT`.
    pub(crate) max_increase: Vec<String>,
    /// Codes that never break a rule.
    pub(crate) allow: Vec<String>,
    /// The most codes new since the baseline.
    pub(crate) max_new: Option<u64>,
    /// Fail when a deprecated code occurs.
    pub(crate) fail_on_deprecated: bool,
    /// What the source calls each kind.
    pub(crate) names: RuleNames,
}

/// What a source of rules calls each kind of rule.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RuleNames {
    /// Limits on occurrences.
    pub(crate) max: &'static str,
    /// Limits on rates.
    pub(crate) max_rate: &'static str,
    /// Limits on growth over a baseline.
    pub(crate) max_increase: &'static str,
    /// Allowed codes.
    pub(crate) allow: &'static str,
}

impl Default for RuleNames {
    /// The policy file's names of the kinds.
    fn default() -> RuleNames {
        RuleNames {
            max: "max",
            max_rate: "max_rate",
            max_increase: "max_increase",
            allow: "allow",
        }
    }
}

/// Why a gate's rules or policy cannot be used. Entries are named as written, with where they
/// came from (`--max FOO=1`, `emscan.toml: [gate] max."FOO"`).
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// A policy file that cannot be read as a policy (syntax, unknown key, wrong type).
    #[error("{}: invalid gate policy: {reason}", crate::escape::escape_control(.path))]
    PolicyFile {
        /// The file.
        path: String,
        /// Why, as the TOML parser says it (with line and column).
        reason: String,
    },
    /// A rule that cannot be used (unknown code or name, malformed limit).
    #[error("bad gate rule {entry}: {reason}")]
    Rule {
        /// The entry as written, with where it came from.
        entry: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A rule that compares with a baseline, without one.
    #[error("bad gate rule {entry}: needs a baseline")]
    NeedsBaseline {
        /// The rule.
        entry: String,
    },
    /// A gate without any rule to check.
    #[error("no gate rules: give a rule, or a policy file with a [gate] table")]
    NoRules,
}

fn bad(entry: impl Into<String>, reason: impl Into<String>) -> Error {
    GateError::Rule {
        entry: entry.into(),
        reason: reason.into(),
    }
    .into()
}

fn allowed_code(text: &str) -> std::result::Result<u32, String> {
    catalog()
        .lookup(text)
        .map(|info| info.code)
        .map_err(|e| e.to_string())
}

/// `spec` (`TARGET=VALUE`) split, `entry` naming it in errors.
fn split_rule(entry: &str, spec: &str) -> Result<(Target, String)> {
    let (key, value) = spec
        .split_once('=')
        .ok_or_else(|| bad(entry, "expected TARGET=VALUE"))?;
    let target = Target::parse(key).map_err(|reason| bad(entry, reason))?;
    Ok((target, value.trim().to_string()))
}

/// Inserts a rule, refusing a second rule for the same target from the same source (e.g. `300`
/// and `SERVER_NOT_REACHABLE` in one table).
fn insert_once<V>(
    rules: &mut BTreeMap<Target, V>,
    seen: &mut BTreeSet<Target>,
    target: Target,
    value: V,
    entry: String,
) -> Result<()> {
    if !seen.insert(target) {
        return Err(bad(
            entry,
            format!("another entry already sets a limit for {target}"),
        ));
    }
    rules.insert(target, value);
    Ok(())
}

fn percent(text: &str) -> std::result::Result<f64, String> {
    let value: f64 = text
        .trim()
        .trim_end_matches('%')
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a percentage like 50 or 50%"))?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("{text:?} is not a percentage like 50 or 50%"))
    }
}

impl Policy {
    /// Parses a policy file's text; `origin` names the file in errors. Unknown keys, wrong
    /// types and unknown codes, names or categories are errors naming the entry.
    pub(crate) fn from_toml(text: &str, origin: &str) -> Result<Policy> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| GateError::PolicyFile {
            path: origin.to_string(),
            reason: e.to_string().trim_end().to_string(),
        })?;
        let table = file.gate;
        let entry = |key: &str, name: &str| format!("{origin}: [gate] {key}.{name:?}");
        let mut policy = Policy {
            fail_on_deprecated: table.fail_on_deprecated,
            max_new: table.max_new,
            ..Policy::default()
        };
        let mut seen = BTreeSet::new();
        for (key, limit) in table.max {
            let entry = entry("max", &key);
            let target = Target::parse(&key).map_err(|r| bad(&entry, r))?;
            insert_once(&mut policy.max, &mut seen, target, limit, entry)?;
        }
        let mut seen = BTreeSet::new();
        for (key, text) in table.max_rate {
            let entry = entry("max_rate", &key);
            let target = Target::parse(&key).map_err(|r| bad(&entry, r))?;
            let rate = Rate::parse(&text).map_err(|r| bad(&entry, r))?;
            insert_once(&mut policy.max_rate, &mut seen, target, rate, entry)?;
        }
        let mut seen = BTreeSet::new();
        for (key, pct) in table.max_increase {
            let entry = entry("max_increase", &key);
            let target = Target::parse(&key).map_err(|r| bad(&entry, r))?;
            if !pct.is_finite() || pct < 0.0 {
                return Err(bad(
                    entry,
                    format!("{pct} is not a percentage of 0 or more"),
                ));
            }
            insert_once(&mut policy.max_increase, &mut seen, target, pct, entry)?;
        }
        for item in table.allow {
            let code = match item {
                CodeOrName::Code(code) => allowed_code(&code.to_string()),
                CodeOrName::Name(name) => allowed_code(&name),
            }
            .map_err(|r| bad(format!("{origin}: [gate] allow"), r))?;
            policy.allow.insert(code);
        }
        Ok(policy)
    }

    /// Lays command-line rules over the policy: a rule for the same target replaces the
    /// file's, `--max-new` replaces `max_new`, allow lists are joined, and
    /// `--fail-on-deprecated` turns that rule on. Two command-line rules of one kind for the
    /// same target are an error.
    pub(crate) fn apply_given(&mut self, given: &GivenRules) -> Result<()> {
        let names = given.names;
        let mut seen = BTreeSet::new();
        for spec in &given.max {
            let entry = format!("{} {spec}", names.max);
            let (target, value) = split_rule(&entry, spec)?;
            let limit: u64 = value.parse().map_err(|_| {
                bad(
                    &entry,
                    format!("{value:?} is not a count (a whole number of 0 or more)"),
                )
            })?;
            insert_once(&mut self.max, &mut seen, target, limit, entry)?;
        }
        let mut seen = BTreeSet::new();
        for spec in &given.max_rate {
            let entry = format!("{} {spec}", names.max_rate);
            let (target, value) = split_rule(&entry, spec)?;
            let rate = Rate::parse(&value).map_err(|r| bad(&entry, r))?;
            insert_once(&mut self.max_rate, &mut seen, target, rate, entry)?;
        }
        let mut seen = BTreeSet::new();
        for spec in &given.max_increase {
            let entry = format!("{} {spec}", names.max_increase);
            let (target, value) = split_rule(&entry, spec)?;
            let pct = percent(&value).map_err(|r| bad(&entry, r))?;
            insert_once(&mut self.max_increase, &mut seen, target, pct, entry)?;
        }
        for code in &given.allow {
            let code = allowed_code(code).map_err(|r| bad(format!("{} {code}", names.allow), r))?;
            self.allow.insert(code);
        }
        if let Some(n) = given.max_new {
            self.max_new = Some(n);
        }
        self.fail_on_deprecated |= given.fail_on_deprecated;
        Ok(())
    }

    /// Number of rules (the allow list is not a rule).
    pub(crate) fn rule_count(&self) -> usize {
        self.max.len()
            + self.max_rate.len()
            + self.max_increase.len()
            + usize::from(self.max_new.is_some())
            + usize::from(self.fail_on_deprecated)
    }

    /// Checks that the policy can be evaluated: it has a rule, and the baseline rules have a
    /// baseline.
    pub(crate) fn validate(&self, has_baseline: bool) -> Result<()> {
        if self.rule_count() == 0 {
            return Err(GateError::NoRules.into());
        }
        if !has_baseline {
            if let Some(n) = self.max_new {
                return Err(GateError::NeedsBaseline {
                    entry: format!("max-new {n}"),
                }
                .into());
            }
            if let Some(target) = self.max_increase.keys().next() {
                return Err(GateError::NeedsBaseline {
                    entry: format!("max-increase {target}"),
                }
                .into());
            }
        }
        Ok(())
    }
}

/// The kind of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RuleKind {
    /// Most occurrences.
    Max,
    /// Highest rate per unit of log time.
    MaxRate,
    /// Highest growth over the baseline, in percent.
    MaxIncrease,
    /// Most codes absent from the baseline.
    MaxNew,
    /// No deprecated code.
    Deprecated,
}

impl RuleKind {
    /// The rule's name as on the command line (`max`, `max-rate`, …).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RuleKind::Max => "max",
            RuleKind::MaxRate => "max-rate",
            RuleKind::MaxIncrease => "max-increase",
            RuleKind::MaxNew => "max-new",
            RuleKind::Deprecated => "fail-on-deprecated",
        }
    }
}

/// How one rule fared.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Outcome {
    /// Stable id: the code's name, or `total`, `unknown`, `category:NAME`, `new`, `deprecated`.
    pub(crate) id: String,
    /// The kind of rule.
    pub(crate) kind: RuleKind,
    /// The rule for people, e.g. `max SERVER_NOT_REACHABLE (300)`.
    pub(crate) rule: String,
    /// The limit (a count, a rate in `unit`, or a percentage).
    pub(crate) limit: f64,
    /// The measured value, in the same unit (`null` in JSON for an increase from zero).
    pub(crate) actual: f64,
    /// The unit of `limit` and `actual`: empty for counts, `/m`, `/h`, `/d` or `%`.
    pub(crate) unit: String,
    /// The rule holds.
    pub(crate) passed: bool,
    /// The codes that counted (occurred and not allowed), most frequent first.
    pub(crate) codes: Vec<u32>,
    /// The earliest of those occurrences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) first_at: Option<Location>,
    /// The catalog's hint, when the rule is about one catalog code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
    /// More facts, e.g. the baseline count or the new codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
}

/// Formats a number without a needless fraction: `3`, `2.5`, `0.33`.
pub(crate) fn number(value: f64) -> String {
    if !value.is_finite() {
        "∞".into()
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

impl Outcome {
    /// The limit with its unit, e.g. `0`, `30/h`, `50%`.
    pub(crate) fn limit_text(&self) -> String {
        format!("{}{}", number(self.limit), self.unit)
    }

    /// The measured value with its unit, e.g. `80`, `390/h`, `+60%`.
    pub(crate) fn actual_text(&self) -> String {
        match self.kind {
            RuleKind::MaxIncrease if !self.actual.is_finite() => "new (0 in the baseline)".into(),
            RuleKind::MaxIncrease if self.actual >= 0.0 => format!("+{}%", number(self.actual)),
            RuleKind::MaxIncrease => format!("{}%", number(self.actual)),
            _ => format!("{}{}", number(self.actual), self.unit),
        }
    }
}

/// The result of a gate: every rule's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Verdict {
    /// Always [`SCHEMA`].
    pub(crate) schema: &'static str,
    /// Every rule holds.
    pub(crate) passed: bool,
    /// Number of rules checked.
    pub(crate) rules: usize,
    /// Number of rules broken.
    pub(crate) broken: usize,
    /// One outcome per rule, in policy order (max, max-rate, max-increase, max-new,
    /// fail-on-deprecated; targets in a fixed order within each kind).
    pub(crate) outcomes: Vec<Outcome>,
    /// Files the scan skipped or read only in part: the counts the rules saw may be low.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) damaged: Vec<DamagedInput>,
    /// `--strict`: damaged input fails the gate (exit 3) when every rule holds.
    #[serde(skip)]
    pub(crate) strict: bool,
    /// The scanned paths as given: the text, JUnit, SARIF and GitHub outputs print paths
    /// from the working folder (the JSON keeps the summary's, relative to the scanned folder).
    #[serde(skip)]
    pub(crate) root: Vec<String>,
    /// The working folder as a `file://` URI, for SARIF's `originalUriBaseIds`.
    #[serde(skip)]
    pub(crate) working_folder: Option<String>,
}

/// A file the scan could not read whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct DamagedInput {
    /// The path as reported by the scan.
    pub(crate) path: String,
    /// `skipped` (not read at all) or `partial` (read in part).
    pub(crate) kind: &'static str,
    /// Why.
    pub(crate) reason: String,
}

/// Every file of `summary` that was only partly read, then every skipped path.
pub(crate) fn damaged_input(summary: &Summary) -> Vec<DamagedInput> {
    let partial = summary.files.iter().filter_map(|f| {
        Some(DamagedInput {
            path: f.path.clone(),
            kind: "partial",
            reason: f.warning.clone()?,
        })
    });
    let skipped = summary
        .skipped
        .iter()
        .filter(|s| !s.counted_elsewhere)
        .map(|s| DamagedInput {
            path: s.path.clone(),
            kind: "skipped",
            reason: s.reason.clone(),
        });
    partial.chain(skipped).collect()
}

impl Verdict {
    /// The rules that broke.
    pub(crate) fn broken_rules(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| !o.passed)
    }
}

/// What a set of codes adds up to.
struct Tally<'a> {
    count: u64,
    first: Option<LogTime>,
    last: Option<LogTime>,
    first_at: Option<&'a Location>,
    codes: Vec<&'a CodeSummary>,
}

impl<'a> Tally<'a> {
    fn of(codes: Vec<&'a CodeSummary>) -> Tally<'a> {
        let earliest = codes
            .iter()
            .min_by_key(|c| (c.first.is_none(), c.first, c.code));
        Tally {
            count: codes.iter().map(|c| c.count).sum(),
            first: codes.iter().filter_map(|c| c.first).min(),
            last: codes.iter().filter_map(|c| c.last).max(),
            first_at: earliest.and_then(|c| c.first_at.as_ref()),
            codes,
        }
    }

    fn code_list(&self) -> Vec<u32> {
        self.codes.iter().map(|c| c.code).collect()
    }

    fn hint(&self, target: Target) -> Option<String> {
        match (target, self.codes.as_slice()) {
            (Target::Code(_), [only]) => only.hint.clone(),
            _ => None,
        }
    }
}

/// The codes of `summary` that occurred, are not allowed, and match `keep`.
fn counted<'a>(
    summary: &'a Summary,
    allow: &BTreeSet<u32>,
    keep: impl Fn(&CodeSummary, bool) -> bool,
) -> Vec<&'a CodeSummary> {
    let known = summary.codes.iter().map(|c| (c, false));
    let unknown = summary.unknown_codes.iter().map(|c| (c, true));
    let mut codes: Vec<&CodeSummary> = known
        .chain(unknown)
        .filter(|(c, unknown)| c.count > 0 && !allow.contains(&c.code) && keep(c, *unknown))
        .map(|(c, _)| c)
        .collect();
    codes.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
    codes
}

fn tally<'a>(summary: &'a Summary, allow: &BTreeSet<u32>, target: Target) -> Tally<'a> {
    Tally::of(counted(summary, allow, |c, unknown| {
        target.matches(c, unknown)
    }))
}

fn code_names(codes: &[&CodeSummary]) -> String {
    codes
        .iter()
        .map(|c| match &c.name {
            Some(name) => format!("{} {name}", c.code),
            None => c.code.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks every rule of `policy` against `summary` (and `baseline` for the baseline rules).
///
/// Fails only when the policy cannot be evaluated (see [`Policy::validate`]).
pub(crate) fn evaluate(
    policy: &Policy,
    summary: &Summary,
    baseline: Option<&Summary>,
) -> Result<Verdict> {
    policy.validate(baseline.is_some())?;
    let allow = &policy.allow;
    let mut outcomes = Vec::new();
    for (&target, &limit) in &policy.max {
        let t = tally(summary, allow, target);
        outcomes.push(Outcome {
            id: target.id(),
            kind: RuleKind::Max,
            rule: format!("max {target}"),
            limit: limit as f64,
            actual: t.count as f64,
            unit: String::new(),
            passed: t.count <= limit,
            codes: t.code_list(),
            first_at: t.first_at.cloned(),
            hint: t.hint(target),
            detail: None,
        });
    }
    for (&target, limit) in &policy.max_rate {
        let t = tally(summary, allow, target);
        let actual = rate(t.count, t.first, t.last, limit.unit);
        let detail = match (t.first, t.last) {
            (Some(first), Some(last)) if t.count > 0 => {
                Some(format!("{} occurrences from {first} to {last}", t.count))
            }
            _ => None,
        };
        outcomes.push(Outcome {
            id: target.id(),
            kind: RuleKind::MaxRate,
            rule: format!("max-rate {target}"),
            limit: limit.count,
            actual,
            unit: limit.unit.suffix().to_string(),
            passed: actual <= limit.count,
            codes: t.code_list(),
            first_at: t.first_at.cloned(),
            hint: t.hint(target),
            detail,
        });
    }
    if let Some(base) = baseline {
        for (&target, &limit) in &policy.max_increase {
            let now = tally(summary, allow, target);
            let before = tally(base, allow, target).count;
            let increase = match (before, now.count) {
                (0, 0) => 0.0,
                (0, _) => f64::INFINITY,
                (before, after) => (after as f64 - before as f64) * 100.0 / before as f64,
            };
            outcomes.push(Outcome {
                id: target.id(),
                kind: RuleKind::MaxIncrease,
                rule: format!("max-increase {target}"),
                limit,
                actual: increase,
                unit: "%".into(),
                passed: increase <= limit,
                codes: now.code_list(),
                first_at: now.first_at.cloned(),
                hint: now.hint(target),
                detail: Some(format!("{before} in the baseline, {} now", now.count)),
            });
        }
        if let Some(limit) = policy.max_new {
            let old: BTreeSet<u32> = base
                .codes
                .iter()
                .chain(&base.unknown_codes)
                .filter(|c| c.count > 0)
                .map(|c| c.code)
                .collect();
            let t = Tally::of(counted(summary, allow, |c, _| !old.contains(&c.code)));
            let new = t.codes.len() as u64;
            outcomes.push(Outcome {
                id: "new".into(),
                kind: RuleKind::MaxNew,
                rule: "max-new codes".into(),
                limit: limit as f64,
                actual: new as f64,
                unit: String::new(),
                passed: new <= limit,
                codes: t.code_list(),
                first_at: t.first_at.cloned(),
                hint: None,
                detail: (new > 0).then(|| format!("new codes: {}", code_names(&t.codes))),
            });
        }
    }
    if policy.fail_on_deprecated {
        let t = Tally::of(counted(summary, allow, |c, _| {
            catalog().get(c.code).is_some_and(|info| info.deprecated)
        }));
        outcomes.push(Outcome {
            id: "deprecated".into(),
            kind: RuleKind::Deprecated,
            rule: "fail-on-deprecated".into(),
            limit: 0.0,
            actual: t.count as f64,
            unit: String::new(),
            passed: t.count == 0,
            codes: t.code_list(),
            first_at: t.first_at.cloned(),
            hint: None,
            detail: (t.count > 0).then(|| format!("deprecated codes: {}", code_names(&t.codes))),
        });
    }
    let broken = outcomes.iter().filter(|o| !o.passed).count();
    Ok(Verdict {
        schema: SCHEMA,
        passed: broken == 0,
        rules: outcomes.len(),
        broken,
        outcomes,
        damaged: damaged_input(summary),
        strict: false,
        root: summary.root.clone(),
        working_folder: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Lang;
    use crate::model::Stats;

    fn at(text: &str) -> Option<LogTime> {
        LogTime::parse_display(text)
    }

    fn code(code: u32, count: u64, first: &str, last: &str) -> CodeSummary {
        let mut c = CodeSummary::empty(code, catalog(), Lang::En);
        c.count = count;
        c.first = at(first);
        c.last = at(last);
        c.first_at = Some(Location {
            path: format!("dev/{code}.log"),
            line: u64::from(code) + 1,
        });
        c
    }

    /// 300 ×80 over one hour, 2 ×30 over two hours, 206 ×1, 5 (deprecated) ×2, unknown 110 ×3.
    fn summary() -> Summary {
        Summary {
            schema: crate::model::SCHEMA.into(),
            root: vec!["logs".into()],
            codes: vec![
                code(
                    300,
                    80,
                    "2024-05-06 09:00:00.000",
                    "2024-05-06 10:00:00.000",
                ),
                code(2, 30, "2024-05-06 08:00:00.000", "2024-05-06 10:00:00.000"),
                code(5, 2, "2024-05-06 09:30:00.000", "2024-05-06 09:31:00.000"),
                code(206, 1, "2024-05-06 07:00:00.000", "2024-05-06 07:00:00.000"),
            ],
            unknown_codes: vec![code(
                110,
                3,
                "2024-05-06 09:10:00.000",
                "2024-05-06 09:20:00.000",
            )],
            success: CodeSummary::empty(0, catalog(), Lang::En),
            files: Vec::new(),
            skipped: Vec::new(),
            stats: Stats::default(),
            ..Summary::empty(catalog(), Lang::En)
        }
    }

    /// The names the command line gives the kinds of rules.
    const FLAGS: RuleNames = RuleNames {
        max: "--max",
        max_rate: "--max-rate",
        max_increase: "--max-increase",
        allow: "--allow",
    };

    fn cli(max: &[&str]) -> GivenRules {
        GivenRules {
            names: FLAGS,
            max: max.iter().map(|s| s.to_string()).collect(),
            ..GivenRules::default()
        }
    }

    fn policy_of(max: &[&str]) -> Policy {
        let mut policy = Policy::default();
        policy.apply_given(&cli(max)).unwrap();
        policy
    }

    fn only(verdict: &Verdict) -> &Outcome {
        assert_eq!(verdict.outcomes.len(), 1, "{verdict:#?}");
        &verdict.outcomes[0]
    }

    #[test]
    fn targets_parse_codes_names_categories_and_aggregates() {
        assert_eq!(Target::parse("300"), Ok(Target::Code(300)));
        assert_eq!(
            Target::parse("user_authentication_failed"),
            Ok(Target::Code(202))
        );
        assert_eq!(
            Target::parse("Category:Server"),
            Ok(Target::Category(Category::Server))
        );
        assert_eq!(Target::parse("TOTAL"), Ok(Target::Total));
        assert_eq!(Target::parse("unknown"), Ok(Target::Unknown));
        assert!(Target::parse("category:nope").unwrap_err().contains("nope"));
        assert!(Target::parse("999").unwrap_err().contains("999"));
        assert_eq!(Target::Code(300).id(), "SERVER_NOT_REACHABLE");
        assert_eq!(Target::Category(Category::Server).id(), "category:server");
    }

    #[test]
    fn newer_sdk_codes_are_targets_and_still_match_unknown() {
        assert_eq!(Target::parse("3"), Ok(Target::Code(3)));
        assert_eq!(Target::parse("database-error"), Ok(Target::Code(3)));
        assert_eq!(Target::parse("INVALID_PARAM"), Ok(Target::Code(110)));
        assert_eq!(Target::Code(8).id(), "APP_ACTIVE_NUMBER_REACH_LIMITATION");
        assert_eq!(allowed_code("invalid_param"), Ok(110));
        let mut code = CodeSummary::empty(110, catalog(), Lang::En);
        code.name_newer_code(catalog());
        assert!(Target::Code(110).matches(&code, true));
        assert!(Target::Unknown.matches(&code, true));
    }

    #[test]
    fn max_on_a_code_breaks_above_the_limit_with_location_and_hint() {
        let v = evaluate(&policy_of(&["300=79"]), &summary(), None).unwrap();
        let o = only(&v);
        assert!(!o.passed && !v.passed);
        assert_eq!((o.actual, o.limit), (80.0, 79.0));
        assert_eq!(o.id, "SERVER_NOT_REACHABLE");
        assert_eq!(
            o.first_at,
            Some(Location {
                path: "dev/300.log".into(),
                line: 301
            })
        );
        assert!(o.hint.as_deref().is_some_and(|h| !h.is_empty()));
        let v = evaluate(&policy_of(&["SERVER_NOT_REACHABLE=80"]), &summary(), None).unwrap();
        assert!(v.passed);
    }

    #[test]
    fn max_on_total_unknown_and_category() {
        let s = summary();
        let v = evaluate(
            &policy_of(&["total=115", "unknown=2", "category:server=80"]),
            &s,
            None,
        )
        .unwrap();
        let by_id: BTreeMap<&str, &Outcome> =
            v.outcomes.iter().map(|o| (o.id.as_str(), o)).collect();
        assert_eq!(by_id["total"].actual, 116.0);
        assert!(!by_id["total"].passed);
        assert_eq!(by_id["unknown"].actual, 3.0);
        assert_eq!(by_id["unknown"].codes, [110]);
        assert!(!by_id["unknown"].passed);
        assert_eq!(by_id["category:server"].actual, 80.0);
        assert!(by_id["category:server"].passed);
        // The earliest occurrence of total is code 206 at 07:00.
        assert_eq!(by_id["total"].first_at.as_ref().map(|l| l.line), Some(207));
        assert_eq!(v.broken, 2);
    }

    #[test]
    fn allowed_codes_never_count() {
        let mut policy = policy_of(&["206=0", "total=115"]);
        policy
            .apply_given(&GivenRules {
                names: FLAGS,
                allow: vec!["user_login_another_device".into()],
                ..GivenRules::default()
            })
            .unwrap();
        assert_eq!(policy.allow, BTreeSet::from([206]));
        let v = evaluate(&policy, &summary(), None).unwrap();
        assert!(v.passed, "{v:#?}");
        assert_eq!(v.outcomes[0].actual, 115.0, "total without 206");
    }

    #[test]
    fn rate_is_count_over_span_with_a_one_minute_floor() {
        let t = |s| at(s);
        // 30 over two hours: 15/h.
        let r = rate(
            30,
            t("2024-05-06 08:00:00.000"),
            t("2024-05-06 10:00:00.000"),
            RateUnit::Hour,
        );
        assert!((r - 15.0).abs() < 1e-9);
        // One occurrence: one per minute, 60 per hour.
        let one = t("2024-05-06 08:00:00.000");
        assert!((rate(1, one, one, RateUnit::Hour) - 60.0).abs() < 1e-9);
        assert!((rate(1, one, one, RateUnit::Minute) - 1.0).abs() < 1e-9);
        // No times at all: the floor again.
        assert!((rate(2, None, None, RateUnit::Day) - 2880.0).abs() < 1e-9);
        assert_eq!(rate(0, None, None, RateUnit::Hour), 0.0);
    }

    #[test]
    fn max_rate_rule() {
        let mut policy = Policy::default();
        policy
            .apply_given(&GivenRules {
                names: FLAGS,
                max_rate: vec!["2=15/h".into(), "300=1/m".into()],
                ..GivenRules::default()
            })
            .unwrap();
        let v = evaluate(&policy, &summary(), None).unwrap();
        let by_id: BTreeMap<&str, &Outcome> =
            v.outcomes.iter().map(|o| (o.id.as_str(), o)).collect();
        assert!(by_id["NETWORK_ERROR"].passed, "15/h is the limit");
        let server = by_id["SERVER_NOT_REACHABLE"];
        assert!(!server.passed);
        assert!((server.actual - 80.0 / 60.0).abs() < 1e-9);
        assert_eq!(server.actual_text(), "1.33/m");
        assert_eq!(server.limit_text(), "1/m");
    }

    #[test]
    fn rates_parse() {
        assert_eq!(
            Rate::parse("30/h"),
            Ok(Rate {
                count: 30.0,
                unit: RateUnit::Hour
            })
        );
        assert_eq!(Rate::parse("0.5/m").map(|r| r.unit), Ok(RateUnit::Minute));
        assert_eq!(Rate::parse(" 100 / d ").map(|r| r.count), Ok(100.0));
        for bad in ["30", "30/w", "x/h", "-1/h", "inf/h"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn deprecated_rule() {
        let policy = Policy {
            fail_on_deprecated: true,
            ..Policy::default()
        };
        let v = evaluate(&policy, &summary(), None).unwrap();
        let o = only(&v);
        assert!(!o.passed);
        assert_eq!((o.actual, o.codes.as_slice()), (2.0, &[5][..]));
        assert_eq!(o.id, "deprecated");
        let mut allowed = policy.clone();
        allowed.allow.insert(5);
        assert!(evaluate(&allowed, &summary(), None).unwrap().passed);
    }

    #[test]
    fn baseline_new_codes_and_increase() {
        let now = summary();
        let mut base = summary();
        base.codes.retain(|c| c.code != 2); // 2 is new
        base.unknown_codes.clear(); // 110 is new
        base.codes[0].count = 50; // 300: 50 → 80 is +60%
        let mut policy = Policy {
            max_new: Some(1),
            ..Policy::default()
        };
        policy
            .apply_given(&GivenRules {
                names: FLAGS,
                max_increase: vec!["300=50".into(), "206=0%".into()],
                ..GivenRules::default()
            })
            .unwrap();
        let v = evaluate(&policy, &now, Some(&base)).unwrap();
        let by_id: BTreeMap<&str, &Outcome> =
            v.outcomes.iter().map(|o| (o.id.as_str(), o)).collect();
        let new = by_id["new"];
        assert_eq!(new.actual, 2.0);
        assert_eq!(new.codes, [2, 110]);
        assert!(!new.passed);
        let server = by_id["SERVER_NOT_REACHABLE"];
        assert!((server.actual - 60.0).abs() < 1e-9);
        assert!(!server.passed);
        assert_eq!(server.actual_text(), "+60%");
        assert!(by_id["USER_LOGIN_ANOTHER_DEVICE"].passed);
        // Without the baseline these rules cannot run.
        assert!(matches!(
            evaluate(&policy, &now, None),
            Err(Error::Gate(GateError::NeedsBaseline { .. }))
        ));
        // Growth from zero is unbounded.
        let mut empty = summary();
        empty.codes.clear();
        let mut p = Policy {
            max_increase: BTreeMap::from([(Target::Code(300), 1000.0)]),
            ..Policy::default()
        };
        let v = evaluate(&p, &now, Some(&empty)).unwrap();
        assert!(!v.passed && v.outcomes[0].actual.is_infinite());
        p.allow.insert(300);
        assert!(evaluate(&p, &now, Some(&empty)).unwrap().passed);
    }

    #[test]
    fn policy_file_parses_every_key() {
        let text = r#"
[gate]
max = { "300" = 0, "category:server" = 5, total = 20, USER_AUTHENTICATION_FAILED = 1 }
max_rate = { "2" = "30/h" }
fail_on_deprecated = true
allow = [206, "USER_LOGIN_ANOTHER_DEVICE", "user_removed"]
max_new = 0
max_increase = { "300" = 50, total = 12.5 }
"#;
        let p = Policy::from_toml(text, "emscan.toml").unwrap();
        assert_eq!(
            p.max,
            BTreeMap::from([
                (Target::Code(300), 0),
                (Target::Category(Category::Server), 5),
                (Target::Total, 20),
                (Target::Code(202), 1),
            ])
        );
        assert_eq!(p.max_rate[&Target::Code(2)].count, 30.0);
        assert!(p.fail_on_deprecated);
        assert_eq!(p.allow, BTreeSet::from([206, 207]));
        assert_eq!(p.max_new, Some(0));
        assert_eq!(p.max_increase[&Target::Total], 12.5);
        assert_eq!(p.rule_count(), 9);
        // An empty file is an empty policy.
        assert_eq!(Policy::from_toml("", "x").unwrap(), Policy::default());
    }

    #[test]
    fn command_line_overrides_the_file_for_the_same_target() {
        let mut p = Policy::from_toml(
            "[gate]\nmax = { SERVER_NOT_REACHABLE = 5, total = 20 }\nallow = [206]\nmax_new = 3",
            "emscan.toml",
        )
        .unwrap();
        p.apply_given(&GivenRules {
            names: FLAGS,
            max: vec!["300=0".into()],
            allow: vec!["207".into()],
            max_new: Some(0),
            ..GivenRules::default()
        })
        .unwrap();
        assert_eq!(p.max[&Target::Code(300)], 0, "CLI wins");
        assert_eq!(p.max[&Target::Total], 20, "file rule kept");
        assert_eq!(p.allow, BTreeSet::from([206, 207]));
        assert_eq!(p.max_new, Some(0));
    }

    fn policy_error(text: &str) -> String {
        Policy::from_toml(text, "emscan.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn malformed_policies_name_the_bad_entry() {
        let e = policy_error("[gate]\nmax = { NOPE_NOT_A_CODE = 1 }");
        assert!(e.contains("max.\"NOPE_NOT_A_CODE\""), "{e}");
        let e = policy_error("[gate]\nmaxx = { total = 1 }");
        assert!(e.contains("unknown field") && e.contains("maxx"), "{e}");
        let e = policy_error("[gaet]\n");
        assert!(e.contains("gaet"), "{e}");
        let e = policy_error("[gate]\nmax = { total = -1 }");
        assert!(e.contains("emscan.toml: invalid gate policy"), "{e}");
        let e = policy_error("[gate]\nmax_rate = { \"2\" = \"30 per hour\" }");
        assert!(
            e.contains("max_rate.\"2\"") && e.contains("30 per hour"),
            "{e}"
        );
        let e = policy_error("[gate]\nallow = [999]");
        assert!(e.contains("allow") && e.contains("999"), "{e}");
        let e = policy_error("[gate]\nmax = { \"category:web\" = 1 }");
        assert!(e.contains("web"), "{e}");
        let e = policy_error("[gate]\nmax_increase = { \"300\" = -5 }");
        assert!(e.contains("max_increase"), "{e}");
        let e = policy_error("[gate]\nmax = { \"300\" = 1, server_not_reachable = 2 }");
        assert!(
            e.contains("another entry already sets a limit for SERVER_NOT_REACHABLE (300)"),
            "{e}"
        );
        let e = policy_error("[gate\n");
        assert!(e.contains("invalid gate policy"), "{e}");
    }

    #[test]
    fn malformed_command_line_rules_name_the_flag() {
        let err = |rules: GivenRules| {
            Policy::default()
                .apply_given(&rules)
                .unwrap_err()
                .to_string()
        };
        let e = err(cli(&["USER_AUTHENTICATON_FAILED=0"]));
        assert!(
            e.contains("--max USER_AUTHENTICATON_FAILED=0")
                && e.contains("did you mean USER_AUTHENTICATION_FAILED"),
            "{e}"
        );
        assert!(err(cli(&["300"])).contains("TARGET=VALUE"));
        let e = err(cli(&["300=0", "SERVER_NOT_REACHABLE=5"]));
        assert!(
            e.contains("--max SERVER_NOT_REACHABLE=5") && e.contains("another entry"),
            "{e}"
        );
        assert!(err(cli(&["300=lots"])).contains("\"lots\""));
        let e = err(GivenRules {
            names: FLAGS,
            max_rate: vec!["2=30".into()],
            ..GivenRules::default()
        });
        assert!(e.contains("--max-rate 2=30"), "{e}");
        let e = err(GivenRules {
            names: FLAGS,
            max_increase: vec!["300=x".into()],
            ..GivenRules::default()
        });
        assert!(e.contains("--max-increase 300=x"), "{e}");
        let e = err(GivenRules {
            names: FLAGS,
            allow: vec!["nope".into()],
            ..GivenRules::default()
        });
        assert!(e.contains("--allow nope"), "{e}");
    }

    #[test]
    fn a_policy_without_rules_is_refused() {
        let p = Policy {
            allow: BTreeSet::from([206]),
            ..Policy::default()
        };
        assert!(matches!(
            p.validate(false),
            Err(Error::Gate(GateError::NoRules))
        ));
    }

    #[test]
    fn numbers_print_without_needless_fractions() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(1.0 / 3.0), "0.33");
        assert_eq!(number(f64::INFINITY), "∞");
    }
}
