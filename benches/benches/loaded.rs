//! A grammar loaded at run time against the same grammar compiled in:
//! parse + store (encode) + get (open the view, read the root) of the
//! language's samples, both in the same run. The loaded copy is built by
//! cst-loader from the crate's own sources (found through `cargo metadata`)
//! into a temporary grammar cache, probed by this very binary (see `main`).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput};

#[path = "../../crates/cst-loader/tests/common/lock.rs"]
mod lock;

/// Marks the probe's child invocation of this binary.
const PROBE_FLAG: &str = "--cst-grammar-probe-child";

fn round_trip(language: &tree_sitter::Language, fp: [u8; 16], source: &[u8]) -> usize {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(language).expect("language");
    let tree = parser.parse(source, None).expect("parses");
    let bytes = cst_bytecode::encode(&tree, source, fp).expect("encodes");
    let symbols = Arc::new(cst_bytecode::Symbols::from_language(language, fp));
    let view = cst_bytecode::TreeView::open(&bytes, symbols).expect("opens");
    view.root().child_count()
}

fn loaded(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let probe = cst::loader::ProbeCommand {
        program: std::env::current_exe().expect("this binary"),
        args: vec![PROBE_FLAG.into()],
    };
    let loader = cst::loader::Loader::open(cst::loader::Options::new(tmp.path(), probe))
        .expect("grammar cache");
    let mut group = c.benchmark_group("loaded-vs-builtin");
    for (id, package) in [
        ("json", "tree-sitter-json"),
        ("python", "tree-sitter-python"),
        ("go", "tree-sitter-go"),
    ] {
        let source = cst_benches::sample_source(id);
        let builtin = cst::grammars::by_id(id).expect("known id");
        let Ok(dir) = lock::package_dir(package) else {
            eprintln!("SKIPPED {id}: {package} not found through cargo metadata");
            continue;
        };
        if source.is_empty() || !builtin.is_compiled() {
            eprintln!("SKIPPED {id}: no sample or not compiled in");
            continue;
        }
        let options = cst::loader::AddOptions {
            id: Some(format!("{id}_loaded")),
            extensions: Some(Vec::new()),
        };
        let approval = loader.add(&dir, &options).expect("builds")[0].clone();
        let grammar = loader.load(&approval).expect("loads");
        let (lb, ll) = (builtin.language().unwrap(), grammar.language().unwrap());
        let (fb, fl) = (
            builtin.fingerprint().unwrap().0,
            grammar.fingerprint().unwrap().0,
        );
        assert_eq!(
            round_trip(&lb, fb, &source),
            round_trip(&ll, fl, &source),
            "{id}: the same tree"
        );
        group.throughput(Throughput::Bytes(source.len() as u64));
        group.bench_function(format!("{id}/builtin"), |b| {
            b.iter(|| round_trip(&lb, fb, black_box(&source)))
        });
        group.bench_function(format!("{id}/loaded"), |b| {
            b.iter(|| round_trip(&ll, fl, black_box(&source)))
        });
    }
    group.finish();
}

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == PROBE_FLAG) {
        std::process::exit(cst::loader::probe::child_main(&args[1..]));
    }
    let mut c = Criterion::default().configure_from_args();
    loaded(&mut c);
    c.final_summary();
}
