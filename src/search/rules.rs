//! Extraction rules: the shapes in which a log line states an SDK error code.
//!
//! The built-in shapes are data (`data/rules.toml`); a user adds more with `--rule REGEX`.
//! Built-in rules carry an *anchor*, a literal every match contains, so that one pass of the
//! [`AnchorKernel`] over a chunk finds every candidate line and the exact pattern runs only on
//! those lines.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use regex::bytes::{CaptureLocations, Regex, RegexBuilder};
use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::nfa::thompson;
use regex_automata::util::captures::Captures;
use regex_automata::util::primitives::StateID;
use regex_automata::util::{start, syntax};
use regex_automata::{Anchored, Input, meta};
use serde::Deserialize;

/// A rule that cannot be used: its pattern as given, and why.
#[derive(Debug, thiserror::Error)]
#[error("invalid rule {pattern:?}: {reason}")]
pub struct RuleError {
    /// The pattern as given.
    pub pattern: String,
    /// Why it was rejected.
    pub reason: String,
}

/// The result of building rules.
pub type Result<T> = std::result::Result<T, RuleError>;
use crate::search::kernel::{AnchorKernel, AnchorSpec};

/// The compiled-size limit for a user's `--rule` (bytes of compiled program).
pub const USER_RULE_SIZE_LIMIT: usize = 1 << 20;

/// One extraction rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The shape's name (`cb_json`, `code_desc`, `listener`, `kv`, `login_return`, or `rule1`…
    /// for user rules).
    pub name: String,
    /// A literal every match contains, if known.
    pub anchor: Option<String>,
    /// Indexes of the two anchor bytes the candidate kernel tests (`None`: picked by heuristic).
    pub anchor_pair: Option<(usize, usize)>,
    /// The pattern, applied to one line; its group `code` captures the code.
    pub regex: Regex,
    /// The same pattern in multi-line CRLF-aware mode, to search a whole chunk for lines to check.
    pub chunk_regex: Regex,
    /// The index of the `code` group.
    code_group: usize,
    /// For a rule whose matches begin where its anchor begins: the pattern, to run anchored
    /// at each anchor occurrence (it fails or succeeds within a few bytes, instead of
    /// searching the whole line).
    at_anchor: Option<AtAnchor>,
}

/// A pattern compiled for anchored searches at anchor occurrences.
#[derive(Clone, Debug)]
struct AtAnchor {
    /// The pattern as a fully compiled DFA. Most anchor occurrences are not matches
    /// (`"error" : "unauthorized"` in REST bodies is 20 times as common as a callback's
    /// `"error":{"code":…`), and the DFA rejects those within a few table lookups.
    dfa: dense::DFA<Vec<u32>>,
    /// The groups of a match, searched for only where the DFA did not reject the candidate:
    /// anchored, the one-pass engine finds the match and its groups in one forward pass (a
    /// DFA search for the match's end first cost more than it saved: 263.1M -> 259.4M
    /// instructions on a 128 MiB file).
    groups: meta::Regex,
    /// The DFA's state once it has read the anchor, by the byte before the anchor (index
    /// 256: none, the anchor starts the line). Every candidate starts with the anchor (the
    /// kernel compared it), so its check resumes after it, and a look-alike is rejected in
    /// the few table lookups until the DFA dies, without setting up a search.
    after_anchor: Box<[StateID]>,
    /// The anchor's length.
    anchor_len: usize,
}

impl AtAnchor {
    /// Whether a match may begin at `start` in `line`, where the anchor begins: `false` once
    /// the DFA, reading on from the anchor, dies; `true` when it reaches a match or the end
    /// of the line (the full search then decides).
    fn may_match(&self, line: &[u8], start: usize) -> bool {
        let before = start
            .checked_sub(1)
            .and_then(|i| line.get(i))
            .map_or(256, |&b| usize::from(b));
        let Some(&(mut state)) = self.after_anchor.get(before) else {
            return true;
        };
        for &byte in line.get(start + self.anchor_len..).unwrap_or_default() {
            if self.dfa.is_special_state(state) {
                break;
            }
            state = self.dfa.next_state(state, byte);
        }
        !self.dfa.is_dead_state(state)
    }
}

/// Reused state for [`Rule::code_at_anchor`]: the regex's own cache, so that no worker
/// takes it from the regex's shared pool at each candidate.
#[derive(Clone, Debug)]
pub struct AnchorScratch {
    captures: Captures,
    cache: meta::Cache,
}

impl Rule {
    /// Applies the rule to one physical line (without its line terminator): the code it
    /// states, if any. Numbers too large for a code are not codes.
    pub fn code_in(&self, line: &[u8]) -> Option<u32> {
        self.code_in_with(line, &mut self.regex.capture_locations())
    }

    /// [`Rule::code_in`] with capture slots the caller reuses from line to line (no allocation
    /// per line). `slots` must come from this rule's `regex.capture_locations()`.
    pub fn code_in_with(&self, line: &[u8], slots: &mut CaptureLocations) -> Option<u32> {
        self.regex.captures_read(slots, line)?;
        let (start, end) = slots.get(self.code_group)?;
        parse_code(&line[start..end])
    }

    /// Whether the rule's matches begin where its anchor begins (see `data/rules.toml`).
    pub fn matches_at_anchor(&self) -> bool {
        self.at_anchor.is_some()
    }

    /// Scratch space for [`Rule::code_at_anchor`] (`None` for rules that do not match at their
    /// anchor).
    pub fn anchor_scratch(&self) -> Option<AnchorScratch> {
        let regex = &self.at_anchor.as_ref()?.groups;
        Some(AnchorScratch {
            captures: regex.create_captures(),
            cache: regex.create_cache(),
        })
    }

    /// Whether a match begins at `start` of `line` (a line without its terminator; the bytes
    /// before `start` count as context for `\b`), and if so the code it states: `None` for no
    /// match here, `Some(None)` for a match whose number is too large for a code. For rules
    /// that match at their anchor only, `start` being where an anchor occurrence begins.
    ///
    /// The first anchor occurrence where this is `Some` holds the line's leftmost match, so
    /// its answer is the line's answer, as [`Rule::code_in`] gives it.
    pub fn code_at_anchor(
        &self,
        line: &[u8],
        start: usize,
        scratch: &mut AnchorScratch,
    ) -> Option<Option<u32>> {
        let at_anchor = self.at_anchor.as_ref()?;
        if !at_anchor.may_match(line, start) {
            return None;
        }
        let input = Input::new(line).range(start..).anchored(Anchored::Yes);
        at_anchor
            .groups
            .search_captures_with(&mut scratch.cache, &input, &mut scratch.captures);
        let span = scratch.captures.get_group(self.code_group)?;
        Some(parse_code(&line[span.start..span.end]))
    }
}

/// A code's digits as a number (`None` when they do not fit a code).
fn parse_code(digits: &[u8]) -> Option<u32> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The rules of one scan, with the candidate kernel built over their anchors.
#[derive(Clone, Debug)]
pub struct RuleSet {
    /// Tells rule sets apart (clones share it: they hold the same rules).
    id: u64,
    rules: Vec<Rule>,
    /// The kernel over the anchors of anchored rules.
    kernel: AnchorKernel,
    /// For each anchor (in kernel order), the index of its rule.
    anchor_rule: Vec<usize>,
    /// Rules with no anchor: searched with their own regex.
    unanchored: Vec<usize>,
}

/// The built-in rule data compiled into the binary.
const RULES_TOML: &str = include_str!("../../data/rules.toml");

/// One `[[rule]]` of `data/rules.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Shape name.
    pub name: String,
    /// Literal prefilter.
    pub anchor: String,
    /// Regex with a `code` group.
    pub pattern: String,
    /// Every match begins where an occurrence of the anchor begins.
    #[serde(default)]
    pub matches_at_anchor: bool,
    /// Indexes of the two anchor bytes the candidate kernel tests.
    #[serde(default)]
    pub pair: Option<[usize; 2]>,
    /// Lines that must match, with their code.
    pub examples: Vec<(String, u32)>,
    /// Lines that must not match.
    pub decoys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rule: Vec<RuleSpec>,
}

/// The built-in rule specifications, as written in `data/rules.toml`.
pub fn builtin_specs() -> &'static [RuleSpec] {
    static SPECS: OnceLock<Vec<RuleSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        // Program data, not input: a unit test keeps it valid.
        toml::from_str::<RulesFile>(RULES_TOML)
            .map(|f| f.rule)
            .unwrap_or_else(|e| panic!("data/rules.toml is invalid: {e}"))
    })
}

/// Compiles a pattern and checks it has a `code` group.
fn compile(pattern: &str, size_limit: usize) -> Result<Regex> {
    let regex = RegexBuilder::new(pattern)
        .size_limit(size_limit)
        .dfa_size_limit(size_limit)
        .build()
        .map_err(|e| RuleError {
            pattern: pattern.to_string(),
            reason: e.to_string(),
        })?;
    if !regex.capture_names().any(|n| n == Some("code")) {
        return Err(RuleError {
            pattern: pattern.to_string(),
            reason: "it needs a named group `code`, e.g. 'errno=(?P<code>\\d+)'".into(),
        });
    }
    Ok(regex)
}

/// Compiles a pattern for anchored searches at occurrences of `anchor` (where its matches
/// begin), with the same syntax as [`compile`].
fn compile_anchored(pattern: &str, anchor: &str, size_limit: usize) -> Result<AtAnchor> {
    let invalid = |reason: String| RuleError {
        pattern: pattern.to_string(),
        reason,
    };
    let dfa = dense::Builder::new()
        .syntax(syntax::Config::new().utf8(false))
        .thompson(
            thompson::Config::new()
                .utf8(false)
                .nfa_size_limit(Some(size_limit)),
        )
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Anchored)
                // Accelerated states are special states: `may_match` would stop at them.
                .accelerate(false)
                .dfa_size_limit(Some(size_limit))
                .determinize_size_limit(Some(size_limit)),
        )
        .build(pattern)
        .map_err(|e| invalid(e.to_string()))?;
    let groups = meta::Regex::builder()
        .syntax(syntax::Config::new().utf8(false))
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(size_limit))
                .hybrid_cache_capacity(size_limit),
        )
        .build(pattern)
        .map_err(|e| invalid(e.to_string()))?;
    let after_anchor = (0..=256)
        .map(|before| {
            let start = start::Config::new()
                .anchored(Anchored::Yes)
                .look_behind(u8::try_from(before).ok());
            let state = dfa
                .start_state(&start)
                .map_err(|e| invalid(e.to_string()))?;
            Ok(anchor
                .bytes()
                .fold(state, |state, byte| dfa.next_state(state, byte)))
        })
        .collect::<Result<_>>()?;
    Ok(AtAnchor {
        dfa,
        groups,
        after_anchor,
        anchor_len: anchor.len(),
    })
}

impl Rule {
    /// Compiles a rule from its pattern.
    pub fn new(name: &str, anchor: Option<&str>, pattern: &str, size_limit: usize) -> Result<Rule> {
        Rule::with_anchor_match(name, anchor, pattern, size_limit, false)
    }

    /// [`Rule::new`] for a rule whose every match begins where an occurrence of its anchor
    /// begins, when `matches_at_anchor` (candidates are then checked by an anchored search).
    pub fn with_anchor_match(
        name: &str,
        anchor: Option<&str>,
        pattern: &str,
        size_limit: usize,
        matches_at_anchor: bool,
    ) -> Result<Rule> {
        let regex = compile(pattern, size_limit)?;
        let code_group = regex
            .capture_names()
            .position(|n| n == Some("code"))
            .ok_or_else(|| RuleError {
                pattern: pattern.to_string(),
                reason: "it needs a named group `code`".into(),
            })?;
        Ok(Rule {
            name: name.to_string(),
            anchor: anchor.map(str::to_string),
            anchor_pair: None,
            code_group,
            regex,
            // `m`: ^ and $ at line boundaries; `R`: a `\r\n` ends a line too.
            chunk_regex: compile(&format!("(?mR:{pattern})"), size_limit)?,
            at_anchor: match (matches_at_anchor, anchor) {
                (true, Some(anchor)) => Some(compile_anchored(pattern, anchor, size_limit)?),
                _ => None,
            },
        })
    }
}

impl RuleSet {
    /// The built-in rules plus user patterns (`--rule`), in that order.
    pub fn with_user_rules(user_patterns: &[String]) -> Result<RuleSet> {
        let mut rules = Vec::new();
        for spec in builtin_specs() {
            let mut rule = Rule::with_anchor_match(
                &spec.name,
                Some(&spec.anchor),
                &spec.pattern,
                10 * USER_RULE_SIZE_LIMIT,
                spec.matches_at_anchor,
            )?;
            rule.anchor_pair = spec.pair.map(|[i, j]| (i, j));
            rules.push(rule);
        }
        for (i, pattern) in user_patterns.iter().enumerate() {
            let name = format!("rule{}", i + 1);
            rules.push(Rule::new(&name, None, pattern, USER_RULE_SIZE_LIMIT)?);
        }
        RuleSet::new(rules)
    }

    /// The built-in rules alone.
    pub fn builtin() -> RuleSet {
        // Built-in data; a unit test keeps it compiling.
        RuleSet::with_user_rules(&[]).unwrap_or_else(|e| panic!("built-in rules: {e}"))
    }

    /// Builds the prefilter over `rules`.
    pub fn new(rules: Vec<Rule>) -> Result<RuleSet> {
        let mut anchor_literals = Vec::new();
        let mut anchor_pairs = Vec::new();
        let mut anchor_rule = Vec::new();
        let mut unanchored = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            match &rule.anchor {
                Some(anchor) if !anchor.is_empty() => {
                    anchor_literals.push(anchor.clone());
                    anchor_pairs.push(rule.anchor_pair);
                    anchor_rule.push(index);
                }
                _ => unanchored.push(index),
            }
        }
        let specs: Vec<AnchorSpec<'_>> = anchor_literals
            .iter()
            .zip(&anchor_pairs)
            .map(|(literal, &pair)| AnchorSpec {
                literal: literal.as_bytes(),
                pair,
            })
            .collect();
        if let Some(bad) = anchor_literals.iter().find(|a| a.contains('\n')) {
            return Err(RuleError {
                pattern: bad.clone(),
                reason: "an anchor is matched within one line: it cannot hold a line feed".into(),
            });
        }
        /// The id of the next rule set built.
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Ok(RuleSet {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            kernel: AnchorKernel::new(&specs),
            rules,
            anchor_rule,
            unanchored,
        })
    }

    /// Tells this rule set from others built in this process (per-worker caches are keyed
    /// by it).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// All rules, built-in first.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The candidate kernel over the anchors.
    pub fn kernel(&self) -> &AnchorKernel {
        &self.kernel
    }

    /// The rule index of an anchor (its index in the kernel).
    pub fn rule_of_anchor(&self, anchor: usize) -> usize {
        self.anchor_rule[anchor]
    }

    /// Indexes of rules that have no anchor.
    pub fn unanchored(&self) -> &[usize] {
        &self.unanchored
    }

    /// The rule that matches `line` first, with the code it states (used by tests and tools).
    pub fn first_code(&self, line: &[u8]) -> Option<(usize, u32)> {
        self.rules
            .iter()
            .enumerate()
            .find_map(|(i, r)| r.code_in(line).map(|code| (i, code)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_kernel_runs_with_the_compiled_in_pairs() {
        // build.rs compiles the pairs of data/rules.toml in; the run-time rules must agree
        // with them, or the kernel silently falls back to its slower generic loop.
        assert!(RuleSet::builtin().kernel().is_builtin_layout());
        // User rules have no anchor: they leave the kernel as it is.
        let with_user = RuleSet::with_user_rules(&["x(?P<code>\\d+)".to_string()]).unwrap();
        assert!(with_user.kernel().is_builtin_layout());
    }

    #[test]
    fn builtin_rules_match_their_examples_and_not_their_decoys() {
        let set = RuleSet::builtin();
        assert_eq!(set.rules().len(), 5);
        for (spec, rule) in builtin_specs().iter().zip(set.rules()) {
            for (line, code) in &spec.examples {
                assert_eq!(
                    rule.code_in(line.as_bytes()),
                    Some(*code),
                    "{}: {line}",
                    spec.name
                );
                assert!(
                    line.contains(&spec.anchor),
                    "{}: anchor missing in {line}",
                    spec.name
                );
            }
            for line in &spec.decoys {
                assert_eq!(rule.code_in(line.as_bytes()), None, "{}: {line}", spec.name);
            }
        }
    }

    #[test]
    fn no_builtin_rule_matches_another_rules_decoys() {
        let set = RuleSet::builtin();
        for spec in builtin_specs() {
            for line in &spec.decoys {
                assert_eq!(set.first_code(line.as_bytes()), None, "{line}");
            }
        }
    }

    #[test]
    fn user_rule_needs_a_code_group() {
        let err = RuleSet::with_user_rules(&["errno: (\\d+)".into()]).unwrap_err();
        assert!(err.to_string().contains("group `code`"), "{err}");
        let set = RuleSet::with_user_rules(&["errno: (?P<code>\\d+)".into()]).unwrap();
        assert_eq!(set.rules()[5].name, "rule1");
        assert_eq!(set.unanchored(), &[5]);
        assert_eq!(
            set.rules()[5].code_in(b"recv() failed. errno: 110"),
            Some(110)
        );
    }

    #[test]
    fn user_rule_that_is_too_large_is_rejected() {
        let huge = "(?P<code>\\d+)(a{1000}){1000}".to_string();
        let err = RuleSet::with_user_rules(&[huge]).unwrap_err();
        assert!(err.to_string().contains("size limit"), "{err}");
    }

    #[test]
    fn rules_that_match_at_their_anchor_agree_with_the_line_search() {
        let set = RuleSet::builtin();
        for (spec, rule) in builtin_specs().iter().zip(set.rules()) {
            assert_eq!(rule.matches_at_anchor(), spec.matches_at_anchor);
            let Some(mut scratch) = rule.anchor_scratch() else {
                continue;
            };
            let lines = spec.examples.iter().map(|(l, _)| l).chain(&spec.decoys);
            for line in lines {
                let line = line.as_bytes();
                let at_anchor = memchr::memmem::find_iter(line, spec.anchor.as_bytes())
                    .find_map(|start| rule.code_at_anchor(line, start, &mut scratch))
                    .flatten();
                assert_eq!(
                    at_anchor,
                    rule.code_in(line),
                    "{}",
                    String::from_utf8_lossy(line)
                );
            }
        }
    }

    #[test]
    fn look_alikes_are_rejected_after_the_anchor_and_examples_never_are() {
        let set = RuleSet::builtin();
        for (spec, rule) in builtin_specs().iter().zip(set.rules()) {
            let Some(at_anchor) = &rule.at_anchor else {
                continue;
            };
            for (line, _) in &spec.examples {
                let line = line.as_bytes();
                let start = memchr::memmem::find(line, spec.anchor.as_bytes()).unwrap();
                assert!(at_anchor.may_match(line, start), "{}", spec.name);
            }
        }
        // The common look-alike dies in the table walk, before any search is set up.
        let cb_json = &set.rules()[0];
        assert_eq!(cb_json.name, "cb_json");
        let line = br#"  "error" : "unauthorized","#;
        let at_anchor = cb_json.at_anchor.as_ref().unwrap();
        assert!(!at_anchor.may_match(line, 2));
        assert!(at_anchor.may_match(br#"{"error" :{"code":3}"#, 1));
    }

    #[test]
    fn anchor_pairs_point_into_their_anchors() {
        for spec in builtin_specs() {
            if let Some([i, j]) = spec.pair {
                assert!(i != j && i.max(j) < spec.anchor.len(), "{}", spec.name);
            }
        }
    }

    /// Each candidate costs the kernel a recorded block and a check: a pair must not fire on
    /// a common look-alike that differs from the anchor in one byte.
    #[test]
    fn the_listener_pair_skips_the_session_managers_on_dis_connect() {
        let spec = builtin_specs()
            .iter()
            .find(|spec| spec.name == "listener")
            .unwrap();
        let [i, j] = spec.pair.unwrap();
        let anchor = spec.anchor.as_bytes();
        for line in ["EMSessionManager::onDisConnect(): 1", "handleDisconnect:13"] {
            let line = line.as_bytes();
            let fires = (0..line.len()).any(|p| {
                line.get(p + i) == Some(&anchor[i]) && line.get(p + j) == Some(&anchor[j])
            });
            assert!(!fires, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn anchors_cannot_hold_a_line_feed() {
        let err = RuleSet::new(vec![
            Rule::new("a", Some("a\nb"), "a(?P<code>\\d)", 1 << 20).unwrap(),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("line feed"), "{err}");
    }

    #[test]
    fn oversized_numbers_are_not_codes() {
        let set = RuleSet::builtin();
        assert_eq!(
            set.first_code(b"x failed, code: 99999999999999999999; desc: y"),
            None
        );
    }
}
