//! The catalog carries exactly the SDK's table: every code and name of the seed, none missing,
//! none extra, the Chinese text verbatim.

use std::collections::BTreeMap;

use emscan::catalog::catalog;
use regex::Regex;

/// (code, [name, meaning, cause]) rows of the seed's HTML table, tags stripped.
fn seed_rows() -> BTreeMap<u32, [String; 3]> {
    // The SDK's error-code table, kept verbatim as the catalog's specification.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/error-codes.seed.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the seed {}: {e}", path.display()));
    let row = Regex::new(r"(?s)<tr>(.*?)</tr>").expect("regex");
    let cell = Regex::new(r"(?s)<td[^>]*>(.*?)</td>").expect("regex");
    let tag = Regex::new(r"<[^>]+>").expect("regex");
    let mut rows = BTreeMap::new();
    for r in row.captures_iter(&text) {
        let cells: Vec<String> = cell
            .captures_iter(&r[1])
            .map(|c| tag.replace_all(&c[1], "").trim().to_string())
            .collect();
        if let [code, name, meaning, cause] = cells.as_slice() {
            let code: u32 = code
                .parse()
                .unwrap_or_else(|_| panic!("bad code cell {code:?}"));
            assert!(
                rows.insert(code, [name.clone(), meaning.clone(), cause.clone()])
                    .is_none(),
                "seed lists {code} twice"
            );
        }
    }
    rows
}

#[test]
fn catalog_equals_the_seed_table() {
    let seed = seed_rows();
    assert_eq!(seed.len(), 73, "the seed table has 73 codes");
    let ours: BTreeMap<u32, [String; 3]> = catalog()
        .entries()
        .iter()
        .map(|e| {
            (
                e.code,
                [e.name.clone(), e.meaning_zh.clone(), e.cause_zh.clone()],
            )
        })
        .collect();
    let missing: Vec<_> = seed.keys().filter(|c| !ours.contains_key(c)).collect();
    let extra: Vec<_> = ours.keys().filter(|c| !seed.contains_key(c)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    for (code, want) in &seed {
        assert_eq!(&ours[code], want, "code {code} differs from the seed");
    }
}

#[test]
fn deprecated_flags_follow_the_seed() {
    let seed = seed_rows();
    for entry in catalog().entries() {
        let seed_says = seed[&entry.code][2].contains("已废弃");
        assert_eq!(entry.deprecated, seed_says, "code {}", entry.code);
    }
}
