//! Replays every input the fuzz targets ever crashed on (`fuzz/regressions/<target>/`),
//! and the committed seed corpora (`fuzz/corpus/<target>/`), through the same
//! harnesses the targets run (`cst_bytecode::fuzzing`).

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cst_bytecode::Symbols;
use cst_bytecode::fuzzing::{ENCODE_GRAMMARS, encode_and_verify, split_encode_input};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The inputs under `fuzz/<kind>/<target>/` (dot files such as `.gitkeep` skipped).
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(dir) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
        return Vec::new();
    };
    let mut out: Vec<_> = dir
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect();
    out.sort();
    out
}

fn decode(d: &[u8]) {
    thread_local! {
        static SYMBOLS: Arc<Symbols> = common::symbols("rust");
    }
    SYMBOLS.with(|s| cst_bytecode::fuzzing::decode_and_walk(d, s));
}

fn encode(d: &[u8]) {
    thread_local! {
        static LANGS: HashMap<&'static str, (tree_sitter::Language, Arc<Symbols>)> =
            ENCODE_GRAMMARS
                .iter()
                .map(|&id| {
                    let lang = cst_grammars::by_id(id).unwrap().language().unwrap();
                    (id, (lang, common::symbols(id)))
                })
                .collect();
    }
    let Some((id, source)) = split_encode_input(d) else {
        return;
    };
    LANGS.with(|l| {
        let (lang, symbols) = &l[id];
        encode_and_verify(source, lang, symbols);
    });
}

/// A target's name and its harness.
type Target = (&'static str, fn(&[u8]));

const TARGETS: &[Target] = &[
    ("decode", decode),
    ("dense", cst_bytecode::fuzzing::decompress),
    ("encode", encode),
];

#[test]
fn fuzz_findings_stay_fixed() {
    let mut replayed = 0;
    for &(target, run) in TARGETS {
        for (path, data) in inputs("regressions", target) {
            eprintln!("replaying {}", path.display());
            run(&data);
            replayed += 1;
        }
    }
    assert!(
        replayed >= 1,
        "no regression inputs found under {}",
        fuzz_dir().join("regressions").display()
    );
}

#[test]
fn seed_corpora_pass_the_harnesses() {
    for &(target, run) in TARGETS {
        let seeds = inputs("corpus", target);
        assert!(!seeds.is_empty(), "no seeds for {target}");
        for (path, data) in seeds {
            let r = std::panic::catch_unwind(|| run(&data));
            assert!(r.is_ok(), "{target}: seed {} fails", path.display());
        }
    }
}
