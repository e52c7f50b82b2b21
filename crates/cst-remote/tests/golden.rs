//! Golden files: a small fixed pack, its index, a manifest and a ref, as
//! this build encodes them, equal byte for byte to the files checked in
//! under `tests/golden/` (reviewed by hand against docs/REMOTE.md).
//!
//! Regenerate with `CST_BLESS=1 cargo test -p cst-remote --test golden`
//! only for a deliberate format change (which also bumps the version).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use cst_remote::manifest::{DictEntry, Fingerprint, Manifest, PackEntry, Ref};
use cst_remote::pack::{Pack, PackIndex, PackWriter};
use cst_remote::{SigningKey, digest};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The fixed objects: three records (one empty) added in "path order".
fn objects() -> Vec<(&'static str, Vec<u8>)> {
    let mut w = PackWriter::new();
    w.add(digest(b"src/a.rs"), b"fn main() {}\n").unwrap();
    w.add(digest(b"src/b.rs"), b"").unwrap();
    w.add(digest(b"src/c.rs"), &[0xAB; 20]).unwrap();
    let f = w.finish();
    let manifest = Manifest {
        format: 4,
        generation: 1,
        created: 1_700_000_000,
        parent: None,
        fingerprints: vec![Fingerprint {
            id: "rust".into(),
            fingerprint: core::array::from_fn(|i| i as u8),
        }],
        packs: vec![PackEntry {
            pack: f.pack_digest,
            size: f.pack.len() as u64,
            records: f.records,
            index: f.index_digest,
            index_size: f.index.len() as u32,
        }],
        dicts: vec![DictEntry {
            name: "trees/rust".into(),
            digest: digest(b"dictionary"),
            size: 10,
        }],
    };
    let m = manifest.encode().unwrap();
    let key = SigningKey::from_seed([7; 32]);
    let r = Ref::sign("main", digest(&m), &key).unwrap();
    vec![
        ("pack.bin", f.pack.to_vec()),
        ("index.bin", f.index.to_vec()),
        ("manifest.bin", m),
        ("ref.bin", r.encode().to_vec()),
        (
            "public.key",
            format!("{}\n", key.public().to_hex()).into_bytes(),
        ),
    ]
}

#[test]
fn golden_objects_are_reproduced_and_read() {
    let dir = golden_dir();
    let objects = objects();
    if std::env::var_os("CST_BLESS").is_some_and(|v| !v.is_empty()) {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &objects {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    for (name, bytes) in &objects {
        let on_disk = std::fs::read(dir.join(name)).unwrap();
        assert!(
            on_disk == *bytes,
            "{name} differs from what this build writes"
        );
    }
    // And they read back.
    let read = |n: &str| Bytes::from(std::fs::read(dir.join(n)).unwrap());
    let pack = Pack::parse(read("pack.bin")).unwrap();
    assert_eq!(pack.index().as_bytes(), &read("index.bin"));
    let index = PackIndex::parse(read("index.bin")).unwrap();
    assert_eq!(index.len(), 3);
    let b = index.get(&digest(b"src/b.rs")).unwrap();
    assert_eq!(pack.record(&b).unwrap().len(), 0);
    let a = pack.get(&digest(b"src/a.rs")).unwrap().unwrap();
    assert_eq!(&a[..], b"fn main() {}\n");
    let m = Manifest::decode(&read("manifest.bin")).unwrap();
    assert_eq!(m.packs[0].pack, digest(&read("pack.bin")));
    assert_eq!(m.packs[0].index, digest(&read("index.bin")));
    let r = Ref::decode(&read("ref.bin")).unwrap();
    let public =
        cst_remote::PublicKey::from_hex(std::str::from_utf8(&read("public.key")).unwrap()).unwrap();
    r.verify("main", &public).unwrap();
    assert_eq!(r.manifest, digest(&read("manifest.bin")));
}
