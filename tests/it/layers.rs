//! The layering rules of `docs/ARCHITECTURE.md`, checked on the source: a lower layer that
//! starts importing a higher one fails here, not in review.

use std::path::{Path, PathBuf};

/// Every `.rs` file of a module: `src/NAME.rs` or the files under `src/NAME/`.
fn sources(module: &str) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let file = src.join(format!("{module}.rs"));
    if file.is_file() {
        return vec![file];
    }
    walkdir::WalkDir::new(src.join(module))
        .into_iter()
        .map(|e| e.expect("walk src"))
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| e.into_path())
        .collect()
}

/// The first path segment after `crate::` or in each item of `crate::{…}`.
fn first_segment(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The crate modules (or root items) a file names, whatever the import style.
fn crate_modules(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, m) in text.match_indices("crate::") {
        let rest = &text[at + m.len()..];
        let Some(group) = rest.strip_prefix('{') else {
            names.push(first_segment(rest));
            continue;
        };
        // Top-level items of the group, up to its closing brace.
        let (mut depth, mut start) = (0, 0);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    names.push(first_segment(&group[start..i]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    names.push(first_segment(&group[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

/// Fails naming each file of `module` that imports a crate module outside `allowed` (or
/// itself; `None`: any), or names one of the `forbidden` words.
fn check(module: &str, allowed: Option<&[&str]>, forbidden: &[&str]) {
    let files = sources(module);
    assert!(!files.is_empty(), "no sources for {module}");
    let mut wrong = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for name in crate_modules(&text) {
            if name != module && allowed.is_some_and(|a| !a.contains(&name.as_str())) {
                wrong.push(format!("{}: crate::{name}", file.display()));
            }
        }
        for word in forbidden {
            if text.contains(word) {
                wrong.push(format!("{}: {word}", file.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{module} reaches outside its layer:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn search_imports_only_time() {
    check("search", Some(&["time"]), &["clap"]);
}

#[test]
fn model_imports_only_time_and_catalog() {
    check("model", Some(&["time", "catalog"]), &["clap"]);
}

#[test]
fn input_and_analyze_stay_below_the_pipeline() {
    check(
        "input",
        Some(&["search", "model", "time", "catalog"]),
        &["clap"],
    );
    let analyze = ["input", "search", "model", "time", "catalog"];
    check("analyze", Some(&analyze), &["clap"]);
}

#[test]
fn nothing_below_the_cli_uses_clap_or_names_the_cli() {
    for module in [
        "render", "pipeline", "gate", "diff", "catalog", "time", "error",
    ] {
        check(module, None, &["clap::", "crate::cli"]);
    }
}

#[test]
fn the_import_parser_sees_every_style() {
    let text = "use crate::model::X;\nuse crate::{time::LogTime, render::{a, b}, Summary};\n\
                let x = crate::gate::f();";
    assert_eq!(
        crate_modules(text),
        ["model", "time", "render", "Summary", "gate"]
    );
}
