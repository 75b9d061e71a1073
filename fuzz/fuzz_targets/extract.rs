//! The extractor on any bytes: no panic, and every hit inside the chunk.
#![no_main]

use std::sync::OnceLock;

use emscan::search::extract::extract_chunk;
use emscan::search::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    let rules = RULES.get_or_init(RuleSet::builtin);
    let scan = extract_chunk(rules, data);
    for hit in &scan.hits {
        assert!(hit.line_start <= data.len());
    }
});
