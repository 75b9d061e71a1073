//! Compiles the anchor byte pairs of the built-in rules (`data/rules.toml`) into the binary, so
//! that the candidate kernel's loop for the built-in rules is built with its offsets known: the
//! compiler then shares the shifted vectors that several pairs use and drops identity shifts.
//! The rules themselves are still read from the same file at run time; the kernel takes this
//! loop only when the run-time anchors have exactly these pairs.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=data/rules.toml");
    let text = std::fs::read_to_string("data/rules.toml")
        .unwrap_or_else(|e| panic!("data/rules.toml: {e}"));
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("data/rules.toml: {e}"));
    let pairs = builtin_pairs(&table).unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "/// The anchor byte pairs of the built-in rules, from `data/rules.toml`: \
         (index1, byte1, index2, byte2) per anchor; empty when a rule has no usable pair."
    );
    let _ = write!(
        out,
        "const BUILTIN_PAIRS: [(usize, u8, usize, u8); {}] = [",
        pairs.len()
    );
    for (index1, byte1, index2, byte2) in &pairs {
        let _ = write!(out, "({index1}, {byte1}, {index2}, {byte2}), ");
    }
    out.push_str("];\n");
    let dir = std::env::var_os("OUT_DIR").unwrap_or_else(|| panic!("OUT_DIR is not set"));
    std::fs::write(Path::new(&dir).join("builtin_pairs.rs"), out)
        .unwrap_or_else(|e| panic!("writing builtin_pairs.rs: {e}"));
}

/// Each rule's pair of anchor bytes, or `None` if any rule lacks one (the kernel's generic
/// loop then serves the built-in rules too).
fn builtin_pairs(table: &toml::Table) -> Option<Vec<(usize, u8, usize, u8)>> {
    let rules = table.get("rule")?.as_array()?;
    rules
        .iter()
        .map(|rule| {
            let anchor = rule.get("anchor")?.as_str()?.as_bytes();
            let pair = rule.get("pair")?.as_array()?;
            let index = |k: usize| usize::try_from(pair.get(k)?.as_integer()?).ok();
            let (index1, index2) = (index(0)?, index(1)?);
            Some((index1, *anchor.get(index1)?, index2, *anchor.get(index2)?))
        })
        .collect()
}
