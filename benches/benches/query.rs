//! Queries on real code (`$CST_CORPORA`, see benches/lib.rs), per language,
//! all in one run:
//! - engine: the grammar's highlights query in captures mode (as a
//!   highlighter runs it) over the same trees, `tree_sitter::QueryCursor` on
//!   the live trees vs `cst_query::QueryCursor` on the views; and in
//!   matches mode;
//! - end to end from a warm cache: parse + query (what a tool without cst
//!   does) vs `Cache::get` + query.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use cst_bytecode::{Symbols, TreeView, encode};
use tree_sitter::StreamingIterator;

const LANGS: &[(&str, &str)] = &[
    ("rust", "rust"),
    ("c", "rust"),
    ("python", "python"),
    ("javascript", "javascript"),
];
const LINES: usize = 20_000;

fn bench(c: &mut Criterion) {
    for &(id, dir) in LANGS {
        let g = cst_grammars::by_id(id).unwrap();
        let Some(highlights) = g.queries().highlights else {
            continue;
        };
        let files = cst_benches::corpus_files(dir, id, LINES);
        if files.is_empty() {
            eprintln!(
                "query/{id}: no corpus under {} — skipped",
                cst_benches::corpora_dir().join(dir).display()
            );
            continue;
        }
        let language = g.language().unwrap();
        let fp = g.fingerprint().unwrap().0;
        let symbols = Arc::new(Symbols::from_language(&language, fp));
        let query = cst_query::Query::new(&language, highlights).unwrap();
        let mut parser = g.parser().unwrap();
        let sources: Vec<&[u8]> = files.iter().map(|(_, b)| b.as_slice()).collect();
        let trees: Vec<tree_sitter::Tree> = sources
            .iter()
            .map(|s| parser.parse(s, None).unwrap())
            .collect();
        let views: Vec<TreeView> = trees
            .iter()
            .zip(&sources)
            .map(|(t, s)| TreeView::open(&encode(t, s, fp).unwrap(), symbols.clone()).unwrap())
            .collect();
        let bytes: usize = sources.iter().map(|s| s.len()).sum();

        let mut group = c.benchmark_group(format!("query/{id}"));
        group.throughput(Throughput::Bytes(bytes as u64));
        group.sample_size(10);
        group.bench_function(BenchmarkId::new("captures", "tree-sitter"), |b| {
            let mut cursor = tree_sitter::QueryCursor::new();
            b.iter(|| {
                let mut n = 0usize;
                for (t, s) in trees.iter().zip(&sources) {
                    let mut it = cursor.captures(query.inner(), t.root_node(), *s);
                    while let Some((m, i)) = it.next() {
                        n += m.captures[*i].node.start_byte();
                    }
                }
                black_box(n)
            })
        });
        group.bench_function(BenchmarkId::new("captures", "cst"), |b| {
            let mut cursor = cst_query::QueryCursor::new();
            b.iter(|| {
                let mut n = 0usize;
                for (v, s) in views.iter().zip(&sources) {
                    for (m, i) in cursor.captures(&query, v.root(), s).unwrap() {
                        n += m.captures[i].node.start_byte();
                    }
                }
                black_box(n)
            })
        });
        group.bench_function(BenchmarkId::new("matches", "tree-sitter"), |b| {
            let mut cursor = tree_sitter::QueryCursor::new();
            b.iter(|| {
                let mut n = 0usize;
                for (t, s) in trees.iter().zip(&sources) {
                    let mut it = cursor.matches(query.inner(), t.root_node(), *s);
                    while let Some(m) = it.next() {
                        n += m.pattern_index;
                    }
                }
                black_box(n)
            })
        });
        group.bench_function(BenchmarkId::new("matches", "cst"), |b| {
            let mut cursor = cst_query::QueryCursor::new();
            b.iter(|| {
                let mut n = 0usize;
                for (v, s) in views.iter().zip(&sources) {
                    for m in cursor.matches(&query, v.root(), s).unwrap() {
                        n += m.pattern_index;
                    }
                }
                black_box(n)
            })
        });

        // End to end, warm cache: every file indexed once, then gets.
        let dir_tmp = tempfile::tempdir().unwrap();
        let work = dir_tmp.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        let ext = g.extensions().first().copied().unwrap_or("txt");
        let mut paths = Vec::new();
        for (k, s) in sources.iter().enumerate() {
            let p = work.join(format!("f{k}.{ext}"));
            std::fs::write(&p, s).unwrap();
            paths.push(p);
        }
        let cache = cst::Cache::open(dir_tmp.path().join("cache"), cst::Config::default()).unwrap();
        cache.index(&work, &|_| {}).unwrap();
        group.bench_function(BenchmarkId::new("end-to-end", "parse+query"), |b| {
            let mut cursor = tree_sitter::QueryCursor::new();
            let mut parser = g.parser().unwrap();
            b.iter(|| {
                let mut n = 0usize;
                for p in &paths {
                    let s = std::fs::read(p).unwrap();
                    let t = parser.parse(&s, None).unwrap();
                    let mut it = cursor.captures(query.inner(), t.root_node(), s.as_slice());
                    while let Some((m, i)) = it.next() {
                        n += m.captures[*i].node.start_byte();
                    }
                }
                black_box(n)
            })
        });
        group.bench_function(BenchmarkId::new("end-to-end", "get+query"), |b| {
            let mut cursor = cst_query::QueryCursor::new();
            b.iter(|| {
                let mut n = 0usize;
                for p in &paths {
                    let t = cache.get(p).unwrap().unwrap();
                    let s = t.source().unwrap();
                    for (m, i) in cursor.captures(&query, t.root(), s).unwrap() {
                        n += m.captures[i].node.start_byte();
                    }
                }
                black_box(n)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
