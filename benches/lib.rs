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
