//! Results do not depend on chunk size or thread count.

use crate::common;

use emscan::{ScanConfig, Summary, scan_paths};
use proptest::prelude::*;

fn scan(chunk_size: usize, threads: usize, mapped: bool) -> Summary {
    let mut config = ScanConfig::new(vec![common::fixture("sample-bundle")]);
    config.read.chunk_size = chunk_size;
    // Map every rotated file, or read every file: both must give the same answers.
    config.read.mmap_min = if mapped { 1 } else { u64::MAX };
    config.threads = Some(threads);
    let mut summary = scan_paths(&config, &|_| {}, &|_| {}).expect("scan succeeds");
    summary.stats.elapsed_ms = 0;
    summary
}

fn reference() -> &'static str {
    static REFERENCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    REFERENCE.get_or_init(|| {
        let summary = scan(usize::MAX, 1, false);
        // The reference itself must be the right answer, or equality would prove little.
        let expected = common::expected("sample-bundle");
        assert_eq!(
            Some(summary.stats.errors),
            expected["totals"]["error_occurrences"].as_u64()
        );
        serde_json::to_string(&summary).expect("json")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn json_is_identical_for_any_chunk_size_and_thread_count(
        chunk_size in 256usize..300_000,
        threads in 1usize..=8,
        mapped in any::<bool>(),
    ) {
        let json = serde_json::to_string(&scan(chunk_size, threads, mapped)).expect("json");
        prop_assert!(json == reference(), "chunk {chunk_size}, threads {threads}, mapped {mapped} differ");
    }
}

#[test]
fn tiny_chunks_split_every_entry() {
    // 64-byte chunks cut nearly every multi-line entry: inherited times must still resolve.
    let json = serde_json::to_string(&scan(64, 3, true)).expect("json");
    assert!(json == reference());
}

#[test]
fn own_bundle_with_continuation_hits_is_chunk_invariant() {
    // Our sample bundle has errors on continuation lines up to 40 lines below their entry:
    // small chunks put the entry's prefix in an earlier chunk than the hit.
    let scan_own = |chunk_size: usize, threads: usize| {
        let mut config = ScanConfig::new(vec![common::own_fixtures().join("sample-bundle")]);
        config.read.chunk_size = chunk_size;
        config.threads = Some(threads);
        let mut summary = scan_paths(&config, &|_| {}, &|_| {}).expect("scan succeeds");
        summary.stats.elapsed_ms = 0;
        serde_json::to_string(&summary).expect("json")
    };
    let whole = scan_own(usize::MAX, 1);
    for (chunk_size, threads) in [(1, 2), (37, 1), (200, 4), (4096, 2)] {
        assert!(
            scan_own(chunk_size, threads) == whole,
            "chunk {chunk_size}, threads {threads}"
        );
    }
}

/// A window cuts through chunks whose first lines take their time from an earlier chunk:
/// those lines count by that time, whatever the chunk size. A window relative to the last log
/// time (its files are scanned first and tallied after) gives what the same window given
/// absolutely (each file tallied chunk by chunk as it is scanned) gives.
#[test]
fn windows_are_chunk_invariant_and_relative_equals_absolute() {
    use emscan::TimeBound;
    let scan_own = |chunk_size: usize, since: TimeBound| {
        let mut config = ScanConfig::new(vec![common::own_fixtures().join("sample-bundle")]);
        config.read.chunk_size = chunk_size;
        config.deep = true;
        config.since = Some(since);
        config.threads = Some(2);
        let mut summary = scan_paths(&config, &|_| {}, &|_| {}).expect("scan succeeds");
        summary.stats.elapsed_ms = 0;
        summary
    };
    let relative = scan_own(usize::MAX, TimeBound::BeforeLast(40 * 60_000));
    let since = relative.window.and_then(|w| w.since).expect("resolved");
    let json = |s: &Summary| serde_json::to_string(s).expect("json");
    let whole = json(&relative);
    assert!(relative.error_count() > 0 && !relative.devices.is_empty());
    for chunk_size in [1, 37, 200, 4096, usize::MAX] {
        assert!(
            json(&scan_own(chunk_size, TimeBound::At(since))) == whole,
            "absolute, chunk {chunk_size}"
        );
        assert!(
            json(&scan_own(chunk_size, TimeBound::BeforeLast(40 * 60_000))) == whole,
            "relative, chunk {chunk_size}"
        );
    }
}
