//! Golden files of the frozen store. `v1/`: segments and an index snapshot
//! of version 1 (entries in location order); `v2/`: the same writes with a
//! version 2 snapshot (a table sorted by key, read in place). Both must open
//! and serve the same values; while the versions are unchanged, the same
//! writes must produce byte-identical files to `v2/`.
//! Regenerate `v2/` with `CST_BLESS=1 cargo test -p cst-tiers --test golden`
//! (a format change only, with a new version).

use std::path::Path;

use cst_tiers::{FrozenOptions, FrozenStore};

const ENTRIES: &[(&[u8], &[u8])] = &[
    (b"alpha", b"first value"),
    (b"beta", b""),
    (b"gamma", b"\x00\x01\x02\xff binary"),
    (b"alpha", b"alpha, replaced"),
];

fn write(dir: &Path) {
    let s = FrozenStore::open(
        dir,
        FrozenOptions {
            sync: false,
            ..FrozenOptions::default()
        },
    )
    .unwrap();
    for (k, v) in ENTRIES {
        s.put(k, v).unwrap();
    }
    s.remove(b"beta").unwrap();
    s.flush().unwrap();
}

fn golden(version: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{version}/store"))
}

#[test]
fn golden_store_opens_and_is_reproduced() {
    let golden = golden("v2");
    let fresh = tempfile::tempdir().unwrap();
    write(fresh.path());
    if std::env::var_os("CST_BLESS").is_some_and(|v| !v.is_empty()) {
        std::fs::create_dir_all(&golden).unwrap();
        for f in ["seg-00000001.cst", "index.cst"] {
            std::fs::copy(fresh.path().join(f), golden.join(f)).unwrap();
        }
    }
    // The golden files are byte-identical to what this build writes.
    for f in ["seg-00000001.cst", "index.cst"] {
        let a = std::fs::read(golden.join(f)).unwrap();
        let b = std::fs::read(fresh.path().join(f)).unwrap();
        assert!(
            a == b,
            "{f}: the store's bytes changed without a version bump"
        );
    }
    opens_with_the_values(&golden);
}

/// A store whose snapshot is version 1 opens without rebuilding its index
/// and serves the same values; its first flush writes version 2.
#[test]
fn version_1_snapshot_still_opens() {
    let old = golden("v1");
    assert_eq!(
        &std::fs::read(old.join("index.cst")).unwrap()[4..6],
        &1u16.to_le_bytes()
    );
    opens_with_the_values(&old);
}

fn opens_with_the_values(golden: &Path) {
    // From a copy: opening may write.
    let copy = tempfile::tempdir().unwrap();
    for f in ["seg-00000001.cst", "index.cst"] {
        std::fs::copy(golden.join(f), copy.path().join(f)).unwrap();
    }
    let s = FrozenStore::open(copy.path(), FrozenOptions::default()).unwrap();
    assert_eq!(s.recovery(), &cst_tiers::Recovery::default());
    assert_eq!(
        s.get(b"alpha").unwrap().as_deref(),
        Some(&b"alpha, replaced"[..])
    );
    assert_eq!(s.get(b"beta").unwrap(), None);
    assert_eq!(
        s.get(b"gamma").unwrap().as_deref(),
        Some(&b"\x00\x01\x02\xff binary"[..])
    );
    assert_eq!(s.stats().entries, 2);
    // A write and a flush put a version 2 snapshot in place, which opens
    // to the same state.
    s.put(b"delta", b"fourth").unwrap();
    s.flush().unwrap();
    drop(s);
    assert_eq!(
        &std::fs::read(copy.path().join("index.cst")).unwrap()[4..6],
        &2u16.to_le_bytes()
    );
    let s = FrozenStore::open_read_only(copy.path(), FrozenOptions::default()).unwrap();
    assert_eq!(s.recovery(), &cst_tiers::Recovery::default());
    assert_eq!(s.stats().entries, 3);
    assert_eq!(s.get(b"delta").unwrap().as_deref(), Some(&b"fourth"[..]));
    assert_eq!(s.get(b"beta").unwrap(), None);
}
