//! Open and read a frozen store made of arbitrary files (or of a valid store,
//! then damaged): `Ok` or a typed error, never a panic, never a value that is
//! not an intact record. See `cst_tiers::fuzzing::frozen`.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// One store directory per process, emptied by the harness before each run;
/// in memory (`/dev/shm`) where there is one: every run writes a few files.
fn dir() -> &'static PathBuf {
    static D: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &D.get_or_init(|| {
        let t = tempfile::tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .unwrap();
        let p = t.path().join("store");
        (t, p)
    })
    .1
}

fuzz_target!(|data: &[u8]| cst_tiers::fuzzing::frozen(data, dir()));
