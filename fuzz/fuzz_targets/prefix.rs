//! The timestamp prefix parser on any bytes: no panic, a length within the line, and a time
//! that prints and parses back.
#![no_main]

use emscan::time::{LogTime, parse_prefix};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(prefix) = parse_prefix(data) {
        assert!(prefix.len <= data.len());
        let text = prefix.time.to_string();
        assert_eq!(LogTime::parse_display(&text), Some(prefix.time));
    }
});
