//! Shared helpers for cst's criterion benchmarks (`cargo bench -p cst-benches`).
//!
//! Benchmarks measure cst beside raw tree-sitter in the same run; the inputs
//! come from `corpora/samples` until the real-code corpora land.

use std::path::PathBuf;

/// The repository's `corpora/samples` directory.
pub fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpora/samples")
}

/// The concatenated samples of one language (empty when it has none).
pub fn sample_source(id: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir(samples_dir().join(id)) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if let Ok(bytes) = std::fs::read(&p) {
            out.extend_from_slice(&bytes);
            if !out.ends_with(b"\n") {
                out.push(b'\n');
            }
        }
    }
    out
}

/// The samples of one language repeated until they hold at least `lines`
/// lines (empty when the language has no sample).
pub fn sample_lines(id: &str, lines: usize) -> Vec<u8> {
    let sample = sample_source(id);
    let mut out = Vec::new();
    while !sample.is_empty() && cst_grammars::smoke::count_lines(&out) < lines {
        out.extend_from_slice(&sample);
    }
    out
}

/// Where real-code corpora are unpacked: `$CST_CORPORA`, default `target/corpora`
/// (see `../shared/reference/corpora.md`; `cargo xtask corpus fetch` fills it).
pub fn corpora_dir() -> PathBuf {
    std::env::var_os("CST_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/corpora"))
}

/// Files of one language under `corpora_dir()/<subdir>` (or, when that does
/// not exist, anywhere under `corpora_dir()`, as `cargo xtask corpus fetch`
/// lays it out), detected by the registry, in path order, taking every n-th
/// file so that about `target_lines` lines are returned. Empty when no
/// corpus is fetched.
pub fn corpus_files(subdir: &str, id: &str, target_lines: usize) -> Vec<(PathBuf, Vec<u8>)> {
    let mut paths = Vec::new();
    let dir = corpora_dir().join(subdir);
    let root = if dir.is_dir() { dir } else { corpora_dir() };
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if cst_grammars::detect_path(&p).is_some_and(|g| g.id() == id) {
                paths.push(p);
            }
        }
    }
    paths.sort();
    let files: Vec<(PathBuf, Vec<u8>)> = paths
        .into_iter()
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .filter(|(_, b)| b.len() < 1 << 20)
        .collect();
    let total: usize = files
        .iter()
        .map(|(_, b)| cst_grammars::smoke::count_lines(b))
        .sum();
    let step = (total / target_lines.max(1)).max(1);
    files.into_iter().step_by(step).collect()
}
