//! Throughput of the candidate kernel (per SIMD level) and the extractor on one chunk, and of a
//! whole bundle scan.
//!
//! `cargo bench --bench scan` — reads the sample bundle in `fixtures/`. For throughput on large
//! corpora and the comparison with ripgrep, see `benches/compare.sh`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use emscan::search::extract::extract_chunk;
use emscan::search::kernel::{AnchorKernel, AnchorSpec, Level};
use emscan::search::rules::{RuleSet, builtin_specs};
use emscan::{ScanConfig, scan_paths};

fn bundle() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample-bundle")
}

/// One device's live log, repeated whole to at least 1 MiB: one chunk of real lines.
fn chunk() -> Vec<u8> {
    let file = bundle().join("PC-ALICE/sdkdata/easemobLog/easemob.log");
    let data = std::fs::read(&file).expect("fixture file is readable");
    data.repeat((1 << 20) / data.len() + 1)
}

fn extractor(c: &mut Criterion) {
    let data = chunk();
    let rules = RuleSet::builtin();
    let mut group = c.benchmark_group("extract");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("chunk_1MiB", |b| {
        b.iter(|| extract_chunk(&rules, black_box(&data)))
    });
    group.finish();
}

fn kernel(c: &mut Criterion) {
    let data = chunk();
    let anchors: Vec<AnchorSpec<'_>> = builtin_specs()
        .iter()
        .map(|spec| AnchorSpec {
            literal: spec.anchor.as_bytes(),
            pair: spec.pair.map(|[i, j]| (i, j)),
        })
        .collect();
    // The chunk (in cache), and the chunk repeated to 256 MiB (far beyond the caches: the
    // kernel reading from memory, as on a big bundle).
    let big = data.repeat(256);
    for (name, hay, samples) in [("kernel", &data, 100), ("kernel_256MiB", &big, 10)] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(hay.len() as u64));
        group.sample_size(samples);
        for level in Level::ALL {
            if !level.is_supported() {
                continue;
            }
            let kernel = AnchorKernel::with_level(&anchors, level);
            group.bench_function(format!("{level:?}"), |b| {
                b.iter(|| {
                    kernel.scan(black_box(hay), &mut |hit| {
                        black_box(hit);
                    })
                })
            });
        }
        group.finish();
    }
}

fn whole_scan(c: &mut Criterion) {
    let config = ScanConfig::new(vec![bundle()]);
    let bytes: u64 = scan_paths(&config, &|_| {}, &|_| {})
        .expect("scan")
        .stats
        .bytes_scanned;
    let mut group = c.benchmark_group("scan");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(20);
    group.bench_function("sample_bundle", |b| {
        b.iter(|| scan_paths(black_box(&config), &|_| {}, &|_| {}).expect("scan"))
    });
    group.finish();
}

criterion_group!(benches, kernel, extractor, whole_scan);
criterion_main!(benches);
