//! Tier reads (cst-tiers), beside the decode work they feed: a warm/cold
//! `MemTier` hit, a frozen-store read (mmap + CRC-32C check), and for
//! scale the view open (`TreeView::open`, checksum included, and
//! `from_trusted_bytes`) of the same tree.
//!
//! The record is the encoded tree of ~1,000 lines of Rust from the samples
//! (the whole cache's `get` per tier, on real corpora, is in
//! `cargo xtask bench`).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cst_bytecode::{Codec, Symbols, TreeView, compress, encode};
use cst_tiers::{FrozenOptions, FrozenStore, Key, MemTier};

fn tiers(c: &mut Criterion) {
    let g = cst_grammars::by_id("rust").expect("rust");
    let source = cst_benches::sample_lines("rust", 1000);
    let tree = g.parser().unwrap().parse(&source, None).unwrap();
    let fp = g.fingerprint().unwrap().0;
    let encoded = encode(&tree, &source, fp).unwrap();
    let dense = compress(&encoded, Codec::Zstd(3), None).unwrap();
    let symbols = Arc::new(Symbols::from_language(&g.language().unwrap(), fp));

    // 10,000 keys, the looked-up one among them.
    let keys: Vec<Key> = (0..10_000u32)
        // Content addresses as the facade makes them: 32 bytes of BLAKE3.
        .map(|i| Key(*blake3::hash(&i.to_le_bytes()).as_bytes()))
        .collect();
    let warm: MemTier<Key> = MemTier::new();
    for k in &keys {
        warm.insert(*k, bytes::Bytes::from(encoded.clone()));
    }
    let dir = tempfile::tempdir().unwrap();
    let store = FrozenStore::open(
        dir.path(),
        FrozenOptions {
            sync: false,
            ..FrozenOptions::default()
        },
    )
    .unwrap();
    for k in keys.iter().take(1000) {
        store.put(k.as_bytes(), &dense).unwrap();
    }
    store.flush().unwrap();

    let mut gr = c.benchmark_group("tiers");
    gr.throughput(Throughput::Elements(1));
    let k = keys[500];
    gr.bench_function("memtier_get", |b| {
        b.iter(|| black_box(warm.get(black_box(&k))).unwrap().len())
    });
    gr.bench_function("frozen_get", |b| {
        b.iter(|| {
            black_box(store.get(black_box(k.as_bytes())))
                .unwrap()
                .unwrap()
                .len()
        })
    });
    // Version 4 opens in place: `open` copies the bytes and checks the
    // checksum (the trust boundary); a memory tier reopens its own bytes
    // with `from_trusted_bytes` (header, section table and sizes only).
    gr.bench_function("view_open_1000_lines", |b| {
        b.iter(|| {
            TreeView::open(black_box(&encoded), symbols.clone())
                .unwrap()
                .node_count()
        })
    });
    let shared = bytes::Bytes::from(encoded.clone());
    gr.bench_function("view_open_trusted_1000_lines", |b| {
        b.iter(|| {
            TreeView::from_trusted_bytes(black_box(shared.clone()), symbols.clone())
                .unwrap()
                .node_count()
        })
    });
    gr.finish();
}

criterion_group!(benches, tiers);
criterion_main!(benches);
