//! Random access on a stored tree, per operation: the view read in place
//! (format v4 on: balanced parentheses, Elias–Fano positions) beside a built
//! index of the kind format v3 made at every open (arrays of start, end,
//! parent and subtree end per node: what `TreeView::open` cost O(n) for)
//! and beside tree-sitter's own `Node` on the live tree.
//!
//! The tree is ~1,000 lines of Rust from the samples; each iteration does
//! one operation on one of 1,024 nodes picked at random (the same nodes for
//! every contender).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cst_bytecode::{Node, Symbols, TreeView, encode};

/// The index format v3 built at open: one record per node.
struct Index {
    start: Vec<u32>,
    end: Vec<u32>,
    parent: Vec<u32>,
    subtree_end: Vec<u32>,
}

impl Index {
    fn build(view: &TreeView) -> Index {
        let n = view.node_count();
        let mut ix = Index {
            start: Vec::with_capacity(n),
            end: Vec::with_capacity(n),
            parent: Vec::with_capacity(n),
            subtree_end: Vec::with_capacity(n),
        };
        for node in view.root().preorder() {
            ix.start.push(node.start_byte() as u32);
            ix.end.push(node.end_byte() as u32);
            ix.parent
                .push(node.parent().map_or(u32::MAX, |p| p.id() as u32));
            ix.subtree_end
                .push((node.id() + node.descendant_count()) as u32);
        }
        ix
    }
    fn next_sibling(&self, i: usize) -> Option<usize> {
        let p = *self.parent.get(i)?;
        let next = self.subtree_end[i];
        (p != u32::MAX && next < self.subtree_end[p as usize]).then_some(next as usize)
    }
    /// `descendant_for_byte_range(b, b + 1)` over the index (first child =
    /// `i + 1`, next sibling = subtree end).
    fn descendant_for_byte(&self, b: u32) -> usize {
        let mut node = 0usize;
        'down: loop {
            let mut c = node + 1;
            while c < self.subtree_end[node] as usize {
                if self.start[c] <= b && b < self.end[c] {
                    node = c;
                    continue 'down;
                }
                if self.start[c] > b {
                    break;
                }
                c = self.subtree_end[c] as usize;
            }
            return node;
        }
    }
}

fn access(c: &mut Criterion) {
    let g = cst_grammars::by_id("rust").expect("rust");
    let source = cst_benches::sample_lines("rust", 1000);
    let tree = g.parser().unwrap().parse(&source, None).unwrap();
    let fp = g.fingerprint().unwrap().0;
    let symbols = Arc::new(Symbols::from_language(&g.language().unwrap(), fp));
    let view = TreeView::open(&encode(&tree, &source, fp).unwrap(), symbols).unwrap();
    let index = Index::build(&view);
    let n = view.node_count();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let ids: Vec<usize> = (0..1024).map(|_| next() as usize % n).collect();
    let bytes_at: Vec<usize> = (0..1024)
        .map(|_| next() as usize % source.len().max(1))
        .collect();
    let nodes: Vec<Node<'_>> = ids.iter().map(|&i| view.node(i).unwrap()).collect();
    let live: Vec<tree_sitter::Node<'_>> = {
        let mut all = Vec::with_capacity(n);
        let mut c = tree.walk();
        'walk: loop {
            all.push(c.node());
            if c.goto_first_child() {
                continue;
            }
            while !c.goto_next_sibling() {
                if !c.goto_parent() {
                    break 'walk;
                }
            }
        }
        ids.iter().map(|&i| all[i]).collect()
    };

    let mut gr = c.benchmark_group("access");
    gr.throughput(Throughput::Elements(1));
    let mut k = 0usize;
    let mut pick = move || {
        k = (k + 1) & 1023;
        k
    };
    macro_rules! op {
        ($name:expr, $f:expr) => {
            gr.bench_function($name, |b| b.iter(|| black_box($f(pick()))));
        };
    }
    op!("view/parent", |i: usize| nodes[i].parent().map(|p| p.id()));
    op!("index/parent", |i: usize| index.parent[ids[i]]);
    op!("tree_sitter/parent", |i: usize| live[i]
        .parent()
        .map(|p| p.id()));
    op!("view/next_sibling", |i: usize| nodes[i]
        .next_sibling()
        .map(|p| p.id()));
    op!("index/next_sibling", |i: usize| index.next_sibling(ids[i]));
    op!("tree_sitter/next_sibling", |i: usize| live[i]
        .next_sibling()
        .map(|p| p.id()));
    op!("view/start_byte", |i: usize| nodes[i].start_byte());
    op!("index/start_byte", |i: usize| index.start[ids[i]]);
    op!("tree_sitter/start_byte", |i: usize| live[i].start_byte());
    op!("view/end_byte", |i: usize| nodes[i].end_byte());
    op!("index/end_byte", |i: usize| index.end[ids[i]]);
    op!("tree_sitter/end_byte", |i: usize| live[i].end_byte());
    op!("view/node_by_id", |i: usize| view
        .node(ids[i])
        .map(|n| n.id()));
    let root = view.root();
    let live_root = tree.root_node();
    op!("view/descendant_for_byte_range", |i: usize| {
        let b = bytes_at[i];
        root.descendant_for_byte_range(b, b + 1).map(|n| n.id())
    });
    op!("index/descendant_for_byte_range", |i: usize| index
        .descendant_for_byte(bytes_at[i] as u32));
    op!("tree_sitter/descendant_for_byte_range", |i: usize| {
        let b = bytes_at[i];
        live_root
            .descendant_for_byte_range(b, b + 1)
            .map(|n| n.id())
    });
    op!("view/point_for_byte", |i: usize| view
        .point_for_byte(bytes_at[i]));
    gr.finish();
    let mut gr = c.benchmark_group("access_build");
    gr.bench_function("index_build_1000_lines", |b| {
        b.iter(|| Index::build(black_box(&view)).start.len())
    });
    gr.finish();
}

criterion_group!(benches, access);
criterion_main!(benches);
