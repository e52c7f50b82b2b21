//! Replays every input the `frozen` fuzz target ever crashed on
//! (`fuzz/regressions/frozen/`) and its committed seed corpus
//! (`fuzz/corpus/frozen/`) through the target's harness
//! (`cst_tiers::fuzzing::frozen`).

use std::path::{Path, PathBuf};

fn inputs(kind: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(kind)
        .join("frozen");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
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

fn replay(kind: &str) -> usize {
    // In memory where possible: every input writes and syncs a few files.
    let tmp = tempfile::tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let dir = tmp.path().join("store");
    let inputs = inputs(kind);
    for (path, data) in &inputs {
        let r = std::panic::catch_unwind(|| cst_tiers::fuzzing::frozen(data, &dir));
        assert!(r.is_ok(), "frozen: {} fails", path.display());
    }
    inputs.len()
}

#[test]
fn fuzz_findings_stay_fixed() {
    // The directory may hold only a .gitkeep while nothing was ever found.
    replay("regressions");
}

#[test]
fn seed_corpus_passes_the_harness() {
    assert!(replay("corpus") > 0, "no seeds in fuzz/corpus/frozen");
}
