//! The SDK's error-code catalog: the Windows SDK table's 73 codes with their Chinese and English
//! text and our hints, and a second tier of codes from newer SDK versions that the Windows table
//! lacks.
//!
//! The data lives in `data/catalog.toml` and `data/catalog-newer.toml` (compiled in); this module
//! only loads and looks it up. Only the Windows table decides which codes are *known*
//! ([`Catalog::get`], [`Catalog::entries`]); the newer tier names codes that stay unknown
//! ([`Catalog::newer`], [`Catalog::find`]), and lookups by number or name ([`Catalog::lookup`])
//! search both.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// A code or name that the catalog does not know, with close names to suggest.
#[derive(Debug, thiserror::Error)]
#[error("{query:?} is not an SDK error code or name{}", suggest(.suggestions))]
pub struct UnknownCode {
    /// What the user asked for.
    pub query: String,
    /// Close catalog names, best first.
    pub suggestions: Vec<String>,
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

/// The code the SDK uses for success.
pub const SUCCESS_CODE: u32 = 0;

/// The area of the SDK a code belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Success, general and service-level errors (0–5).
    General,
    /// App key, user, login and authentication (100–221).
    User,
    /// Server reachability and service state (300–305).
    Server,
    /// Attachments and files (400–406).
    File,
    /// Messages (500–509).
    Message,
    /// Groups (600–605).
    Group,
    /// Chat rooms (700–705).
    Chatroom,
    /// Push (900–902 and push-token codes).
    Push,
}

impl Category {
    /// Every category, in catalog order.
    pub const ALL: [Category; 8] = [
        Category::General,
        Category::User,
        Category::Server,
        Category::File,
        Category::Message,
        Category::Group,
        Category::Chatroom,
        Category::Push,
    ];

    /// The lowercase name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::General => "general",
            Category::User => "user",
            Category::Server => "server",
            Category::File => "file",
            Category::Message => "message",
            Category::Group => "group",
            Category::Chatroom => "chatroom",
            Category::Push => "push",
        }
    }

    /// Parses a category name (any case).
    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The language of human-readable text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// Chinese (the seed's own language).
    Zh,
    /// English.
    #[default]
    En,
}

impl Lang {
    /// The language the environment asks for: `zh` when `LC_ALL`, `LC_MESSAGES` or `LANG`
    /// (the first one set) starts with `zh`, otherwise `en`.
    pub fn from_env() -> Lang {
        Lang::from_locale(
            ["LC_ALL", "LC_MESSAGES", "LANG"]
                .iter()
                .filter_map(|var| std::env::var(var).ok())
                .find(|value| !value.is_empty())
                .as_deref(),
        )
    }

    /// The language a locale string such as `zh_CN.UTF-8` names.
    pub fn from_locale(locale: Option<&str>) -> Lang {
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }
}

/// Which table a catalog entry comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The Windows SDK's own error-code table (`data/catalog.toml`).
    #[default]
    Windows,
    /// A code of newer SDK versions, not in the Windows SDK table (`data/catalog-newer.toml`).
    Newer,
}

impl Tier {
    /// Whether this is the Windows SDK table.
    pub fn is_windows(&self) -> bool {
        *self == Tier::Windows
    }

    /// The lowercase name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Windows => "windows",
            Tier::Newer => "newer",
        }
    }
}

/// One catalog entry.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CodeInfo {
    /// The numeric code.
    pub code: u32,
    /// The SDK's constant name, e.g. `USER_AUTHENTICATION_FAILED`.
    pub name: String,
    /// The area it belongs to.
    pub category: Category,
    /// The table it comes from (set by the loader; written only for the newer tier).
    #[serde(default, skip_deserializing, skip_serializing_if = "Tier::is_windows")]
    pub tier: Tier,
    /// Marked 已废弃 in the SDK's table.
    #[serde(default)]
    pub deprecated: bool,
    /// Meaning, verbatim from the SDK's table.
    pub meaning_zh: String,
    /// Likely cause, verbatim from the SDK's table.
    pub cause_zh: String,
    /// Meaning in English.
    pub meaning_en: String,
    /// Likely cause in English.
    pub cause_en: String,
    /// What to check and do, in Chinese.
    pub hint_zh: String,
    /// What to check and do, in English.
    pub hint_en: String,
    /// The page a newer-tier code is taken from (absent for the Windows table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Every official page seen listing the code (newer tier).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listed_on: Vec<String>,
}

impl CodeInfo {
    /// The meaning in `lang`.
    pub fn meaning(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.meaning_zh,
            Lang::En => &self.meaning_en,
        }
    }

    /// The likely cause in `lang`.
    pub fn cause(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.cause_zh,
            Lang::En => &self.cause_en,
        }
    }

    /// The remediation hint in `lang`.
    pub fn hint(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.hint_zh,
            Lang::En => &self.hint_en,
        }
    }
}

/// The whole catalog, indexed by code: the Windows table and the newer tier.
#[derive(Debug)]
pub struct Catalog {
    entries: Vec<CodeInfo>,
    by_code: HashMap<u32, usize>,
    newer: Vec<CodeInfo>,
    newer_by_code: HashMap<u32, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    code: Vec<CodeInfo>,
}

/// The catalog data compiled into the binary: the Windows SDK table.
const CATALOG_TOML: &str = include_str!("../data/catalog.toml");

/// The catalog data compiled into the binary: codes of newer SDKs, not in the Windows table.
const NEWER_TOML: &str = include_str!("../data/catalog-newer.toml");

/// Parses `[[code]]` tables into entries of `tier`, indexed by code.
fn parse_tier(
    text: &str,
    tier: Tier,
) -> std::result::Result<(Vec<CodeInfo>, HashMap<u32, usize>), String> {
    let mut file: CatalogFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut by_code = HashMap::new();
    for (index, entry) in file.code.iter_mut().enumerate() {
        entry.tier = tier;
        if by_code.insert(entry.code, index).is_some() {
            return Err(format!("code {} is listed twice", entry.code));
        }
    }
    Ok((file.code, by_code))
}

impl Catalog {
    /// Parses catalog TOML (`[[code]]` tables) as the Windows table, with no newer tier.
    pub fn from_toml(text: &str) -> std::result::Result<Catalog, String> {
        let (entries, by_code) = parse_tier(text, Tier::Windows)?;
        Ok(Catalog {
            entries,
            by_code,
            newer: Vec::new(),
            newer_by_code: HashMap::new(),
        })
    }

    /// Adds the newer tier from TOML of the same shape. Each entry needs a `source`, and no
    /// code or name may be one of the Windows table's.
    pub fn with_newer_toml(mut self, text: &str) -> std::result::Result<Catalog, String> {
        let (newer, newer_by_code) = parse_tier(text, Tier::Newer)?;
        for entry in &newer {
            if entry.source.as_deref().is_none_or(|s| s.trim().is_empty()) {
                return Err(format!("newer code {} has no source", entry.code));
            }
            if self.get(entry.code).is_some() || self.entries.iter().any(|e| e.name == entry.name) {
                return Err(format!(
                    "newer code {} {} is in the Windows table",
                    entry.code, entry.name
                ));
            }
        }
        self.newer = newer;
        self.newer_by_code = newer_by_code;
        Ok(self)
    }

    /// The Windows table's entry for `code`: `None` for every code outside it, newer-tier
    /// codes included.
    pub fn get(&self, code: u32) -> Option<&CodeInfo> {
        self.by_code.get(&code).map(|&i| &self.entries[i])
    }

    /// The newer tier's entry for `code` (a code the Windows table lacks).
    pub fn newer(&self, code: u32) -> Option<&CodeInfo> {
        self.newer_by_code.get(&code).map(|&i| &self.newer[i])
    }

    /// The entry for `code` in either tier, the Windows table first.
    pub fn find(&self, code: u32) -> Option<&CodeInfo> {
        self.get(code).or_else(|| self.newer(code))
    }

    /// Every entry of the Windows table, in code order.
    pub fn entries(&self) -> &[CodeInfo] {
        &self.entries
    }

    /// Every entry of the newer tier, in code order.
    pub fn newer_entries(&self) -> &[CodeInfo] {
        &self.newer
    }

    /// The entry whose name is `name` (any case, `-` or space for `_`), in either tier.
    pub fn by_name(&self, name: &str) -> Option<&CodeInfo> {
        let wanted = normalize_name(name);
        self.entries
            .iter()
            .chain(&self.newer)
            .find(|e| e.name == wanted)
    }

    /// Looks up a code number or a name in either tier; on a miss, suggests close names.
    pub fn lookup(&self, query: &str) -> Result<&CodeInfo, UnknownCode> {
        let trimmed = query.trim();
        let found = match trimmed.parse::<u32>() {
            Ok(code) => self.find(code),
            Err(_) => self.by_name(trimmed),
        };
        found.ok_or_else(|| UnknownCode {
            query: query.to_string(),
            suggestions: self.suggest(trimmed),
        })
    }

    /// Up to three catalog names (either tier) close to `query`, best first.
    pub fn suggest(&self, query: &str) -> Vec<String> {
        let wanted = normalize_name(query);
        if wanted.is_empty() || wanted.bytes().all(|b| b.is_ascii_digit()) {
            return Vec::new();
        }
        let mut scored: Vec<(f64, &str)> = self
            .entries
            .iter()
            .chain(&self.newer)
            .map(|e| {
                let score = strsim::jaro_winkler(&wanted, &e.name);
                // A query that is a whole word of the name (e.g. "TIMEOUT") is a strong hint.
                let bonus = if e.name.split('_').any(|part| part == wanted) {
                    0.1
                } else {
                    0.0
                };
                (score + bonus, e.name.as_str())
            })
            .filter(|(score, _)| *score >= 0.8)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored
            .into_iter()
            .take(3)
            .map(|(_, name)| name.to_string())
            .collect()
    }
}

fn normalize_name(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// The catalog compiled into emscan: the Windows table with the newer tier.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // The data is part of the program, not input; unit tests keep it parseable.
        Catalog::from_toml(CATALOG_TOML)
            .unwrap_or_else(|e| panic!("data/catalog.toml is invalid: {e}"))
            .with_newer_toml(NEWER_TOML)
            .unwrap_or_else(|e| panic!("data/catalog-newer.toml is invalid: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_parses_with_73_codes() {
        let catalog = catalog();
        assert_eq!(catalog.entries().len(), 73);
        assert_eq!(
            catalog.get(202).map(|e| e.name.as_str()),
            Some("USER_AUTHENTICATION_FAILED")
        );
        assert!(
            catalog.get(3).is_none(),
            "3 is a real code but not in the seed"
        );
    }

    #[test]
    fn deprecated_codes_are_exactly_the_five() {
        let deprecated: Vec<u32> = catalog()
            .entries()
            .iter()
            .filter(|e| e.deprecated)
            .map(|e| e.code)
            .collect();
        assert_eq!(deprecated, [5, 103, 211, 212, 503]);
    }

    /// Fails naming the first empty text field of `e`.
    fn assert_all_text(e: &CodeInfo) {
        for (field, text) in [
            ("meaning_zh", &e.meaning_zh),
            ("cause_zh", &e.cause_zh),
            ("meaning_en", &e.meaning_en),
            ("cause_en", &e.cause_en),
            ("hint_zh", &e.hint_zh),
            ("hint_en", &e.hint_en),
        ] {
            assert!(
                !text.trim().is_empty(),
                "code {} has an empty {field}",
                e.code
            );
        }
    }

    #[test]
    fn every_entry_has_all_text() {
        for e in catalog().entries() {
            assert_all_text(e);
        }
    }

    #[test]
    fn lookup_by_code_and_any_case_name() {
        let c = catalog();
        assert_eq!(c.lookup("202").unwrap().code, 202);
        assert_eq!(c.lookup("user_authentication_failed").unwrap().code, 202);
        assert_eq!(c.lookup(" Server-Timeout ").unwrap().code, 301);
    }

    #[test]
    fn typo_suggests_close_names() {
        let err = catalog().lookup("USER_AUTHENTICATON_FAILED").unwrap_err();
        assert_eq!(
            err.suggestions.first().map(String::as_str),
            Some("USER_AUTHENTICATION_FAILED")
        );
        assert!(catalog().lookup("999").is_err());
    }

    #[test]
    fn locale_picks_language() {
        assert_eq!(Lang::from_locale(Some("zh_CN.UTF-8")), Lang::Zh);
        assert_eq!(Lang::from_locale(Some("en_US.UTF-8")), Lang::En);
        assert_eq!(Lang::from_locale(Some("C")), Lang::En);
        assert_eq!(Lang::from_locale(None), Lang::En);
    }

    /// The codes of the Windows SDK's own table (`data/error-codes.seed.txt`): the first cell
    /// of each table row.
    fn seed_codes() -> Vec<u32> {
        let seed = include_str!("../data/error-codes.seed.txt");
        seed.split("<tr>")
            .skip(1)
            .filter_map(|row| {
                let cell = row.split("<td>").nth(1)?;
                cell.split("</td>").next()?.trim().parse().ok()
            })
            .collect()
    }

    #[test]
    fn newer_tier_codes_are_not_in_the_windows_seed_table() {
        let seed = seed_codes();
        assert_eq!(seed.len(), 73, "the seed table's rows are read");
        let newer = catalog().newer_entries();
        assert!(newer.len() >= 3, "the newer tier is loaded");
        for e in newer {
            assert!(
                !seed.contains(&e.code),
                "newer code {} {} is in the Windows seed table",
                e.code,
                e.name
            );
            assert!(
                catalog().get(e.code).is_none(),
                "{} counts as known",
                e.code
            );
        }
        for (code, name) in [
            (3, "DATABASE_ERROR"),
            (8, "APP_ACTIVE_NUMBER_REACH_LIMITATION"),
            (110, "INVALID_PARAM"),
        ] {
            let e = catalog().newer(code).expect("the issue's three codes");
            assert_eq!(e.name, name);
            assert_eq!(e.tier, Tier::Newer);
        }
    }

    #[test]
    fn newer_tier_has_both_languages_and_a_source() {
        for e in catalog().newer_entries() {
            assert_all_text(e);
            for text in [&e.meaning_zh, &e.cause_zh, &e.hint_zh] {
                assert!(
                    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "code {}: Chinese text without Chinese: {text}",
                    e.code
                );
            }
            let source = e.source.as_deref().expect("a source");
            assert!(source.starts_with("https://"), "{}: {source}", e.code);
            assert!(
                e.listed_on.iter().any(|page| page == source),
                "code {}: the source is among the pages listing it",
                e.code
            );
        }
    }

    #[test]
    fn lookup_finds_newer_codes_by_number_and_name_but_get_does_not() {
        let c = catalog();
        assert_eq!(c.lookup("3").unwrap().name, "DATABASE_ERROR");
        assert_eq!(c.lookup("invalid-param").unwrap().code, 110);
        assert_eq!(c.lookup("202").unwrap().tier, Tier::Windows);
        assert!(c.get(110).is_none());
        assert_eq!(c.find(110).map(|e| e.tier), Some(Tier::Newer));
        let err = c.lookup("DATABASE_EROR").unwrap_err();
        assert_eq!(
            err.suggestions.first().map(String::as_str),
            Some("DATABASE_ERROR")
        );
    }

    #[test]
    fn newer_tier_rejects_windows_codes_and_missing_sources() {
        let entry = |code: u32, name: &str, source: &str| {
            format!(
                "[[code]]\ncode = {code}\nname = \"{name}\"\ncategory = \"general\"\n\
                 meaning_zh = \"x\"\ncause_zh = \"x\"\nmeaning_en = \"x\"\ncause_en = \"x\"\n\
                 hint_zh = \"x\"\nhint_en = \"x\"\n{source}\n"
            )
        };
        let windows = Catalog::from_toml(CATALOG_TOML).unwrap();
        let with = |text: String| {
            Catalog::from_toml(CATALOG_TOML)
                .unwrap()
                .with_newer_toml(&text)
        };
        assert!(with(entry(2, "NEW_NAME", "source = \"https://x\"")).is_err());
        assert!(with(entry(9999, "NETWORK_ERROR", "source = \"https://x\"")).is_err());
        assert!(with(entry(9999, "NEW_NAME", "")).is_err());
        let ok = with(entry(9999, "NEW_NAME", "source = \"https://x\"")).unwrap();
        assert_eq!(ok.newer(9999).map(|e| e.tier), Some(Tier::Newer));
        assert!(windows.newer(3).is_none());
    }

    #[test]
    fn duplicate_codes_are_rejected() {
        let entry = r#"[[code]]
code = 1
name = "A"
category = "general"
deprecated = false
meaning_zh = "x"
cause_zh = "x"
meaning_en = "x"
cause_en = "x"
hint_zh = "x"
hint_en = "x"
"#;
        assert!(Catalog::from_toml(&format!("{entry}{entry}")).is_err());
    }
}
