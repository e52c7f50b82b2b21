//! Helpers shared by the tests: parse with a registry grammar, encode, open.
#![allow(dead_code)]

use std::sync::Arc;

use cst_bytecode::{Symbols, TreeView, encode};

pub struct Parsed {
    pub tree: tree_sitter::Tree,
    pub bytes: Vec<u8>,
    pub view: TreeView,
}

pub fn symbols(id: &str) -> Arc<Symbols> {
    let g = cst_grammars::by_id(id).unwrap();
    Arc::new(Symbols::from_language(
        &g.language().unwrap(),
        g.fingerprint().unwrap().0,
    ))
}

pub fn parse(id: &str, source: &[u8]) -> Parsed {
    let g = cst_grammars::by_id(id).unwrap();
    let mut parser = g.parser().unwrap();
    let tree = parser.parse(source, None).unwrap();
    let bytes = encode(&tree, source, g.fingerprint().unwrap().0).unwrap();
    let view = TreeView::open(&bytes, symbols(id)).unwrap();
    Parsed { tree, bytes, view }
}

pub fn samples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora/samples")
}

pub fn sample(id: &str) -> Vec<u8> {
    let dir = samples_dir().join(id);
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    std::fs::read(&paths[0]).unwrap()
}

pub const CORE: &[&str] = &[
    "rust",
    "python",
    "javascript",
    "typescript",
    "tsx",
    "go",
    "c",
    "cpp",
    "java",
    "json",
    "toml",
    "yaml",
    "markdown",
    "markdown_inline",
    "bash",
    "html",
    "css",
];

/// An input from `../shared` (beside the repository) is absent: with `CI`
/// set that is a failure, not a skip; elsewhere a loud SKIPPED line.
pub fn shared_input_absent(path: &std::path::Path, what: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!(
            "{what}: {} is absent, and CI is set: ../shared must sit beside the repository",
            path.display()
        );
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED: {what}: {} is absent !!!!!!!!\n",
        path.display()
    );
}
