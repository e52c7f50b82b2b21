//! Raw tree-sitter baselines: parse and full `TreeCursor` traversal of the
//! core languages' samples. cst's own benches are measured against these.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("tree-sitter");
    for id in ["rust", "python", "javascript", "c", "go"] {
        let grammar = cst_grammars::by_id(id).expect("known id");
        let source = cst_benches::sample_source(id);
        if source.is_empty() || !grammar.is_compiled() {
            continue;
        }
        let mut parser = grammar.parser().expect("grammar loads");
        group.throughput(Throughput::Bytes(source.len() as u64));
        group.bench_function(format!("parse/{id}"), |b| {
            b.iter(|| parser.parse(black_box(&source), None))
        });
        let tree = parser.parse(&source, None).expect("parses");
        group.bench_function(format!("cursor-walk/{id}"), |b| {
            b.iter(|| {
                let mut cursor = tree.walk();
                let mut n = 0usize;
                'walk: loop {
                    n += 1;
                    if cursor.goto_first_child() {
                        continue;
                    }
                    while !cursor.goto_next_sibling() {
                        if !cursor.goto_parent() {
                            break 'walk;
                        }
                    }
                }
                black_box(n)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
