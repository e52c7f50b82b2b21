//! The format against raw tree-sitter, per language, on real code
//! (`$CST_CORPORA`, see benches/lib.rs), all in one run:
//! - parse (raw tree-sitter) vs encode (cst): encode as a fraction of parse
//!   (also printed as `ENCODE <lang>: … encode ÷ parse`, best of 5 rounds of
//!   each, back to back on the same files);
//! - re-parse vs `TreeView::open` (view build) vs lz4/zstd decompress + open;
//! - full preorder traversal: `TreeCursor` on the live tree vs the view.
//!
//! Sizes (bytes/line of the navigable form, lz4, zstd-3, zstd-19, zstd-3 with a
//! dictionary trained on other files) are printed once per language.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use cst_bytecode::{Codec, Dictionary, Symbols, TreeView, compress, decompress, encode};

const LANGS: &[(&str, &str)] = &[
    ("rust", "rust"),
    ("c", "rust"),
    ("python", "python"),
    ("javascript", "javascript"),
    ("css", "css"),
];
const LINES: usize = 40_000;

fn walk_cursor(tree: &tree_sitter::Tree) -> usize {
    let mut cursor = tree.walk();
    let mut acc = 0usize;
    'walk: loop {
        let n = cursor.node();
        acc += usize::from(n.kind_id()) + n.start_byte() + n.child_count();
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    acc
}

fn bench(c: &mut Criterion) {
    for &(id, dir) in LANGS {
        let g = cst_grammars::by_id(id).unwrap();
        let files = cst_benches::corpus_files(dir, id, LINES);
        if files.is_empty() {
            eprintln!(
                "format/{id}: no corpus under {} — skipped",
                cst_benches::corpora_dir().join(dir).display()
            );
            continue;
        }
        let fp = g.fingerprint().unwrap().0;
        let symbols = Arc::new(Symbols::from_language(&g.language().unwrap(), fp));
        let mut parser = g.parser().unwrap();
        let sources: Vec<&[u8]> = files.iter().map(|(_, b)| b.as_slice()).collect();
        let trees: Vec<tree_sitter::Tree> = sources
            .iter()
            .map(|s| parser.parse(s, None).unwrap())
            .collect();
        let encoded: Vec<Vec<u8>> = trees
            .iter()
            .zip(&sources)
            .map(|(t, s)| encode(t, s, fp).unwrap())
            .collect();
        let lines: usize = sources
            .iter()
            .map(|s| cst_grammars::smoke::count_lines(s))
            .sum();
        // Encode as a share of parse, measured back to back.
        let best = |f: &mut dyn FnMut() -> usize| {
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    black_box(f());
                    t.elapsed()
                })
                .min()
                .unwrap_or(Duration::ZERO)
        };
        let parse_time = best(&mut || {
            sources
                .iter()
                .map(|s| parser.parse(s, None).unwrap().root_node().end_byte())
                .sum()
        });
        let encode_time = best(&mut || {
            trees
                .iter()
                .zip(&sources)
                .map(|(t, s)| encode(t, s, fp).unwrap().len())
                .sum()
        });
        eprintln!(
            "ENCODE {id}: parse {parse_time:.2?}, encode {encode_time:.2?}: encode ÷ parse {:.3}",
            encode_time.as_secs_f64() / parse_time.as_secs_f64()
        );
        let nodes: usize = trees.iter().map(|t| t.root_node().descendant_count()).sum();

        // Sizes.
        let raw: usize = encoded.iter().map(Vec::len).sum();
        let lz4: Vec<Vec<u8>> = encoded
            .iter()
            .map(|e| compress(e, Codec::Lz4, None).unwrap())
            .collect();
        let z3: Vec<Vec<u8>> = encoded
            .iter()
            .map(|e| compress(e, Codec::Zstd(3), None).unwrap())
            .collect();
        let z19: usize = encoded
            .iter()
            .map(|e| compress(e, Codec::Zstd(19), None).unwrap().len())
            .sum();
        let (train, held): (Vec<_>, Vec<_>) =
            encoded.iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let train: Vec<&Vec<u8>> = train.into_iter().map(|(_, e)| e).collect();
        // zstd cannot train a dictionary on too few samples (CSS: a handful
        // of files): then there is no figure with one.
        let dict = Dictionary::train(&train, 64 * 1024).ok();
        let held_lines: usize = held
            .iter()
            .map(|(i, _)| cst_grammars::smoke::count_lines(sources[*i]))
            .sum();
        let held_dict: Option<usize> = dict.as_ref().map(|dict| {
            held.iter()
                .map(|(_, e)| compress(e, Codec::Zstd(3), Some(dict)).unwrap().len())
                .sum()
        });
        let held_plain: usize = held
            .iter()
            .map(|(_, e)| compress(e, Codec::Zstd(3), None).unwrap().len())
            .sum();
        let per_line = |b: usize, l: usize| b as f64 / l as f64;
        eprintln!(
            "SIZES {id}: files {} lines {lines} nodes {nodes} ({:.2}/line) | B/line: navigable {:.2}, lz4 {:.2}, zstd-3 {:.2}, zstd-19 {:.2}, held-out zstd-3 {:.2} vs +dict {} (dict {})",
            sources.len(),
            nodes as f64 / lines as f64,
            per_line(raw, lines),
            per_line(lz4.iter().map(Vec::len).sum(), lines),
            per_line(z3.iter().map(Vec::len).sum(), lines),
            per_line(z19, lines),
            per_line(held_plain, held_lines),
            held_dict.map_or("n/a".into(), |d| format!("{:.2}", per_line(d, held_lines))),
            dict.map_or("n/a".into(), |d| format!("{} B", d.as_bytes().len()))
        );

        let mut group = c.benchmark_group(format!("format/{id}"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(lines as u64));
        group.bench_function(BenchmarkId::new("parse", "tree-sitter"), |b| {
            b.iter(|| {
                sources
                    .iter()
                    .map(|s| {
                        parser
                            .parse(black_box(s), None)
                            .unwrap()
                            .root_node()
                            .end_byte()
                    })
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("encode", "cst"), |b| {
            b.iter(|| {
                trees
                    .iter()
                    .zip(&sources)
                    .map(|(t, s)| encode(t, s, fp).unwrap().len())
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("open", "navigable"), |b| {
            b.iter(|| {
                encoded
                    .iter()
                    .map(|e| {
                        TreeView::open(black_box(e), symbols.clone())
                            .unwrap()
                            .node_count()
                    })
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("open", "lz4"), |b| {
            b.iter(|| {
                lz4.iter()
                    .map(|z| {
                        TreeView::open(&decompress(z, None).unwrap(), symbols.clone())
                            .unwrap()
                            .node_count()
                    })
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("open", "zstd-3"), |b| {
            b.iter(|| {
                z3.iter()
                    .map(|z| {
                        TreeView::open(&decompress(z, None).unwrap(), symbols.clone())
                            .unwrap()
                            .node_count()
                    })
                    .sum::<usize>()
            })
        });
        group.throughput(Throughput::Elements(nodes as u64));
        group.bench_function(BenchmarkId::new("walk", "tree-sitter-cursor"), |b| {
            b.iter(|| trees.iter().map(walk_cursor).sum::<usize>())
        });
        let views: Vec<TreeView> = encoded
            .iter()
            .map(|e| TreeView::open(e, symbols.clone()).unwrap())
            .collect();
        group.bench_function(BenchmarkId::new("walk", "cst-view"), |b| {
            b.iter(|| {
                views
                    .iter()
                    .map(|v| {
                        v.root()
                            .preorder()
                            .map(|n| usize::from(n.kind_id()) + n.start_byte() + n.child_count())
                            .sum::<usize>()
                    })
                    .sum::<usize>()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
