//! The saved-summary loader on any text: no panic, and a summary it accepts merges with itself
//! (or fails with an overflow error) without a panic.
#![no_main]

use emscan::Summary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(summary) = Summary::from_json(text, "fuzz.json") {
        let _ = summary.clone().merge(summary);
    }
});
