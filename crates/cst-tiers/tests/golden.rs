//! Golden files of the frozen store: a store written by format version 1
//! must open and serve the same values; while the version is unchanged, the
//! same writes must produce byte-identical files.
//! Regenerate with `CST_BLESS=1 cargo test -p cst-tiers --test golden`.

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

#[test]
fn golden_store_opens_and_is_reproduced() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/v1/store");
    let fresh = tempfile::tempdir().unwrap();
    write(fresh.path());
    if std::env::var_os("CST_BLESS").is_some() {
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
    // And they open (from a copy: opening may write).
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
}
