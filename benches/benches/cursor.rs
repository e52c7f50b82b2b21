//! Full preorder traversal of stored trees beside tree-sitter's
//! `TreeCursor` on the live trees, in the same run, per language:
//!
//! - `tree-sitter`: `TreeCursor` (first child, next sibling, parent),
//!   reading each node's kind, start and end through `node()`;
//! - `cst-cursor`: `cst_bytecode::Cursor`, the same moves, kind through
//!   `node()`, start and end from the cursor (`Cursor::start_byte`,
//!   `Cursor::end_byte`: decoded in order);
//! - `cst-cursor-node`: the same, start and end through `node()` (each an
//!   Elias–Fano read, each end a close search);
//! - `cst-preorder`: `Node::preorder`, kind, start and end through the node;
//! - `cst-preorder-cursor`: `Cursor::preorder` (`CursorPreorder`, the
//!   same nodes), kind through the node, start and end from the iterator;
//! - `cst-events`: `TreeView::events`, kind and start at each open, end at
//!   each close;
//! - `*-moves`: the moves and the kind only.
//!
//! Real code from `$CST_CORPORA` (see benches/lib.rs) when fetched, else
//! the samples repeated: `cargo bench -p cst-benches --bench cursor`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use cst_bytecode::{Event, Symbols, TreeView, encode};

const LANGS: &[&str] = &["rust", "c", "python", "javascript", "go", "css", "lua"];
const LINES: usize = 40_000;

fn ts_walk(tree: &tree_sitter::Tree, positions: bool) -> usize {
    let mut c = tree.walk();
    let mut sum = 0usize;
    'walk: loop {
        let n = c.node();
        sum = sum.wrapping_add(usize::from(n.kind_id()));
        if positions {
            sum = sum.wrapping_add(n.end_byte() - n.start_byte());
        }
        if c.goto_first_child() || c.goto_next_sibling() {
            continue;
        }
        loop {
            if !c.goto_parent() {
                break 'walk;
            }
            if c.goto_next_sibling() {
                break;
            }
        }
    }
    sum
}

/// `through_node`: start and end through `node()` rather than the cursor.
fn cst_walk(view: &TreeView, positions: bool, through_node: bool) -> usize {
    let mut c = view.walk();
    let mut sum = 0usize;
    'walk: loop {
        let n = c.node();
        sum = sum.wrapping_add(usize::from(n.kind_id()));
        if positions {
            sum = sum.wrapping_add(if through_node {
                n.end_byte() - n.start_byte()
            } else {
                c.end_byte() - c.start_byte()
            });
        }
        if c.goto_first_child() || c.goto_next_sibling() {
            continue;
        }
        loop {
            if !c.goto_parent() {
                break 'walk;
            }
            if c.goto_next_sibling() {
                break;
            }
        }
    }
    sum
}

/// `Cursor::preorder`: kind through the node, start and end from the
/// iterator.
fn cst_preorder(view: &TreeView) -> usize {
    let mut nodes = view.walk().preorder();
    let mut sum = 0usize;
    while let Some(n) = nodes.next() {
        sum = sum.wrapping_add(usize::from(n.kind_id()) + nodes.end_byte() - nodes.start_byte());
    }
    sum
}

fn bench(c: &mut Criterion) {
    for &id in LANGS {
        let g = cst_grammars::by_id(id).unwrap();
        if !g.is_compiled() {
            eprintln!("cursor/{id}: grammar not compiled in — skipped");
            continue;
        }
        let mut files: Vec<Vec<u8>> = cst_benches::corpus_files(id, id, LINES)
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        let from = if files.is_empty() {
            files = vec![cst_benches::sample_lines(id, LINES)];
            "samples"
        } else {
            "corpus"
        };
        if files[0].is_empty() {
            eprintln!("cursor/{id}: no corpus and no sample — skipped");
            continue;
        }
        let fp = g.fingerprint().unwrap().0;
        let symbols = Arc::new(Symbols::from_language(&g.language().unwrap(), fp));
        let mut parser = g.parser().unwrap();
        let trees: Vec<tree_sitter::Tree> = files
            .iter()
            .map(|s| parser.parse(s, None).unwrap())
            .collect();
        let views: Vec<TreeView> = trees
            .iter()
            .zip(&files)
            .map(|(t, s)| TreeView::open(&encode(t, s, fp).unwrap(), symbols.clone()).unwrap())
            .collect();
        let nodes: usize = views.iter().map(TreeView::node_count).sum();
        // The walks must agree before they are timed.
        let want: usize = trees.iter().map(|t| ts_walk(t, true)).sum();
        for (positions, through_node) in [(true, false), (true, true), (false, false)] {
            let ts: usize = trees.iter().map(|t| ts_walk(t, positions)).sum();
            let ours: usize = views
                .iter()
                .map(|v| cst_walk(v, positions, through_node))
                .sum();
            assert_eq!(ts, ours, "{id}: walks differ");
        }
        let ours: usize = views.iter().map(cst_preorder).sum();
        assert_eq!(want, ours, "{id}: preorder differs");
        eprintln!(
            "cursor/{id}: {} files ({from}), {nodes} nodes, checksum {want}",
            files.len()
        );

        let mut group = c.benchmark_group(format!("cursor/{id}"));
        group.sample_size(20);
        group.throughput(Throughput::Elements(nodes as u64));
        group.bench_function(BenchmarkId::new("walk", "tree-sitter"), |b| {
            b.iter(|| {
                trees
                    .iter()
                    .map(|t| ts_walk(black_box(t), true))
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("walk", "cst-cursor"), |b| {
            b.iter(|| {
                views
                    .iter()
                    .map(|v| cst_walk(black_box(v), true, false))
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("walk", "cst-cursor-node"), |b| {
            b.iter(|| {
                views
                    .iter()
                    .map(|v| cst_walk(black_box(v), true, true))
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("walk", "cst-preorder"), |b| {
            b.iter(|| {
                views
                    .iter()
                    .map(|v| {
                        black_box(v)
                            .root()
                            .preorder()
                            .map(|n| usize::from(n.kind_id()) + n.end_byte() - n.start_byte())
                            .fold(0usize, usize::wrapping_add)
                    })
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("walk", "cst-preorder-cursor"), |b| {
            b.iter(|| {
                views
                    .iter()
                    .map(|v| cst_preorder(black_box(v)))
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("walk", "cst-events"), |b| {
            b.iter(|| {
                views
                    .iter()
                    .map(|v| {
                        let v = black_box(v);
                        let mut sum = 0usize;
                        for e in v.events(v.root()) {
                            match e {
                                Event::Open(n, start) => {
                                    sum = sum
                                        .wrapping_add(usize::from(n.kind_id()))
                                        .wrapping_sub(start as usize)
                                }
                                Event::Close(end) => sum = sum.wrapping_add(end as usize),
                            }
                        }
                        sum
                    })
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("moves", "tree-sitter"), |b| {
            b.iter(|| {
                trees
                    .iter()
                    .map(|t| ts_walk(black_box(t), false))
                    .sum::<usize>()
            })
        });
        group.bench_function(BenchmarkId::new("moves", "cst-cursor"), |b| {
            b.iter(|| {
                views
                    .iter()
                    .map(|v| cst_walk(black_box(v), false, false))
                    .sum::<usize>()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
