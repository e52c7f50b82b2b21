//! The remote tier through the facade (feature `remote`): a cache pushes
//! its records to a remote in a directory (`file://`), a fresh cache pulls
//! them and indexes the same files without parsing, every tree exact; and
//! what a damaged or malicious remote serves is refused, never kept.
#![cfg(feature = "remote")]

use crate::common;

use std::path::Path;

use cst::remote::{PublicKey, Push, Remote, RemoteConfig, SigningKey};
use cst::{Cache, Config};

/// A remote in `dir`, read with `public` (if any).
fn remote(dir: &Path, public: Option<PublicKey>) -> Remote {
    let mut c = RemoteConfig::new(format!("file://{}", dir.display()));
    c.public_key = public;
    Remote::open(c).expect("a file remote opens")
}

/// A workspace of `n` files (Rust, Python, JS, JSON, Go; some with syntax
/// errors) in a new directory.
fn workspace(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::generate_workspace(dir.path(), n, n, 7);
    dir
}

/// Cache A indexes `ws` and pushes it to the remote in `remote_dir`.
fn push_from_a(ws: &Path, remote_dir: &Path, key: &SigningKey) -> cst::PushSummary {
    let a_dir = tempfile::tempdir().unwrap();
    let a = Cache::open(a_dir.path(), Config::default()).unwrap();
    let report = a.index(ws, &|_| {}).unwrap();
    assert!(report.parsed > 0);
    let r = remote(remote_dir, Some(key.public()));
    a.push_remote(&r, "main", key, ws).unwrap()
}

#[test]
fn a_pulled_cache_indexes_without_parsing_and_every_tree_is_exact() {
    let ws = workspace(60);
    let remote_dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed([7; 32]);
    let pushed = push_from_a(ws.path(), remote_dir.path(), &key);
    assert_eq!(pushed.bundles, 60, "{pushed:?}");
    assert_eq!(pushed.pushed, 60);
    assert!(pushed.ref_updated);

    // B: a fresh cache of the same files.
    let b_dir = tempfile::tempdir().unwrap();
    let b = Cache::open(b_dir.path(), Config::default()).unwrap();
    let r = remote(remote_dir.path(), Some(key.public()));
    // Every tree parsed again and compared (a sample of 1).
    let pulled = b.pull_remote(&r, "main", 1.0).unwrap();
    assert_eq!(pulled.bundles, 60, "{pulled:?}");
    assert_eq!(pulled.imported, 60, "{pulled:?}");
    assert_eq!(pulled.verified, 60, "{pulled:?}");
    assert!(pulled.rejected.is_empty(), "{pulled:?}");
    assert!(pulled.requests <= 4, "{pulled:?}");
    let report = b.index(ws.path(), &|_| {}).unwrap();
    assert_eq!(report.parsed, 0, "{report:?}");
    assert_eq!(report.files(), 60);
    let v = b.verify_all().unwrap();
    assert!(v.mismatches.is_empty() && v.missing.is_empty(), "{v:?}");
    assert_eq!(v.files, 60);

    // Pulled again: the ref and its manifest are read, no pack (the
    // manifest was taken whole).
    let again = b.pull_remote(&r, "main", 1.0).unwrap();
    assert!(again.up_to_date, "{again:?}");
    assert_eq!((again.requests, again.imported), (2, 0), "{again:?}");

    // A second push of the same content writes nothing.
    let again = push_from_a(ws.path(), remote_dir.path(), &key);
    assert_eq!(
        (again.present, again.pushed, again.ref_updated),
        (60, 0, false)
    );
}

#[test]
fn a_damaged_pack_or_another_key_is_a_miss_and_the_index_parses() {
    let ws = workspace(20);
    let remote_dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed([9; 32]);
    push_from_a(ws.path(), remote_dir.path(), &key);

    // Read with another public key: the ref is refused, nothing is kept.
    let b_dir = tempfile::tempdir().unwrap();
    let b = Cache::open(b_dir.path(), Config::default()).unwrap();
    let other = SigningKey::from_seed([10; 32]).public();
    let err = b
        .pull_remote(&remote(remote_dir.path(), Some(other)), "main", 0.01)
        .unwrap_err();
    assert!(matches!(err, cst::Error::Remote(_)), "{err}");
    let report = b.index(ws.path(), &|_| {}).unwrap();
    assert_eq!(report.parsed, 20);

    // A flipped byte in the pack: the pack is refused, nothing imported.
    let pack = std::fs::read_dir(remote_dir.path().join("cst/v1/packs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&pack).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    std::fs::write(&pack, &bytes).unwrap();
    let c_dir = tempfile::tempdir().unwrap();
    let c = Cache::open(c_dir.path(), Config::default()).unwrap();
    let pulled = c
        .pull_remote(&remote(remote_dir.path(), Some(key.public())), "main", 0.01)
        .unwrap();
    assert_eq!(
        (pulled.imported, pulled.packs_refused),
        (0, 1),
        "{pulled:?}"
    );
    let report = c.index(ws.path(), &|_| {}).unwrap();
    assert_eq!(report.parsed, 20);
    let v = c.verify_all().unwrap();
    assert!(v.mismatches.is_empty(), "{v:?}");
}

/// A bundle entry: its kind, tags hash (if any) and bytes.
type Entry = (u8, Vec<u8>, Vec<u8>);

/// The entries of a bundle (docs/REMOTE.md, "Bundles"), and its header.
fn split_bundle(b: &[u8]) -> (Vec<u8>, Vec<Entry>) {
    let lang = usize::from(b[5]);
    let header_end = 6 + lang + 16 + 2;
    let count = b[header_end];
    let mut at = header_end + 1;
    let mut entries = Vec::new();
    for _ in 0..count {
        let kind = b[at];
        at += 1;
        let hash = if kind == b'G' {
            at += 16;
            b[at - 16..at].to_vec()
        } else {
            Vec::new()
        };
        let len = u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        at += 4;
        entries.push((kind, hash, b[at..at + len].to_vec()));
        at += len;
    }
    (b[..header_end].to_vec(), entries)
}

fn join_bundle(header: &[u8], entries: &[Entry]) -> Vec<u8> {
    let mut b = header.to_vec();
    b.push(entries.len() as u8);
    for (kind, hash, bytes) in entries {
        b.push(*kind);
        b.extend_from_slice(hash);
        b.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        b.extend_from_slice(bytes);
    }
    b
}

/// A writer holding the signing key pushes bundles that pass the
/// remote's own checks but lie: one filed under another content's key,
/// one whose tree belongs to another file of the same length. The first
/// is refused by its key; the second by the sampled re-parse, which
/// refuses its pack (and the rest of the manifest).
#[test]
fn a_lying_writer_with_the_key_is_caught_by_keys_and_the_sampled_parse() {
    let dir = tempfile::tempdir().unwrap();
    // Two Rust files of the same length but other shapes (a parameter).
    let a_src = "pub fn alpha() -> u32 { 1 }\n";
    let b_src = "pub fn b(x:u8) -> u32 { 2 }\n";
    assert_eq!(a_src.len(), b_src.len());
    std::fs::write(dir.path().join("a.rs"), a_src).unwrap();
    std::fs::write(dir.path().join("b.rs"), b_src).unwrap();
    let honest_dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed([3; 32]);
    push_from_a(dir.path(), honest_dir.path(), &key);
    let honest = remote(honest_dir.path(), Some(key.public()));
    let m = honest.fetch_ref("main").unwrap().unwrap();
    let pack = honest.fetch_pack(&m.manifest.packs[0]).unwrap();
    let records: Vec<([u8; 32], bytes::Bytes)> = pack.pack.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 2);
    let (k0, b0) = &records[0];
    let (k1, b1) = &records[1];

    // The lies, pushed by the key holder to another remote.
    let (h0, e0) = split_bundle(b0);
    let (_, e1) = split_bundle(b1);
    // Bundle 0's header and source with bundle 1's tree, under key 0.
    let swapped: Vec<_> = e0
        .iter()
        .map(|(kind, hash, bytes)| {
            if *kind == b'R' {
                e1.iter().find(|e| e.0 == b'R').unwrap().clone()
            } else {
                (*kind, hash.clone(), bytes.clone())
            }
        })
        .collect();
    let mut wrong_key = *k1;
    wrong_key[31] ^= 1;
    let lying_dir = tempfile::tempdir().unwrap();
    let lying = remote(lying_dir.path(), Some(key.public()));
    let push = |records: Vec<([u8; 32], bytes::Bytes)>| {
        lying
            .push(
                &Push {
                    branch: "main",
                    format: u32::from(cst::bytecode::VERSION),
                    fingerprints: &[],
                    dicts: &[],
                    signing_key: &key,
                    compact_over: None,
                },
                records,
            )
            .unwrap()
    };
    // First pack: bundle 1 under a key that is not its content's.
    push(vec![(wrong_key, b1.clone())]);
    // Second pack: bundle 0 with bundle 1's tree.
    push(vec![(*k0, bytes::Bytes::from(join_bundle(&h0, &swapped)))]);

    let c_dir = tempfile::tempdir().unwrap();
    let c = Cache::open(c_dir.path(), Config::default()).unwrap();
    let pulled = c.pull_remote(&lying, "main", 1.0).unwrap();
    assert_eq!(pulled.imported, 0, "{pulled:?}");
    assert_eq!(
        pulled.rejected.get("source does not hash to its key"),
        Some(&1),
        "{pulled:?}"
    );
    assert_eq!(
        pulled.rejected.get("differs from a fresh parse"),
        Some(&1),
        "{pulled:?}"
    );
    assert_eq!(pulled.packs_refused, 1, "{pulled:?}");
    // The files are parsed, exactly.
    let report = c.index(dir.path(), &|_| {}).unwrap();
    assert_eq!(report.parsed, 2);
    let v = c.verify_all().unwrap();
    assert!(v.mismatches.is_empty(), "{v:?}");
}

/// A validly signed but older ref written back (a rollback) is refused by
/// a reader that saw a newer one; nothing is fetched.
#[test]
fn a_ref_rolled_back_is_refused() {
    let ws = workspace(10);
    let remote_dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed([5; 32]);
    push_from_a(ws.path(), remote_dir.path(), &key);
    let ref_file = remote_dir.path().join("cst/v1/refs/main");
    let first_ref = std::fs::read(&ref_file).unwrap();
    // A second push, with one file more: generation 2.
    std::fs::write(ws.path().join("extra.py"), "def later():\n    return 2\n").unwrap();
    let second = push_from_a(ws.path(), remote_dir.path(), &key);
    assert!(second.ref_updated, "{second:?}");

    let b_dir = tempfile::tempdir().unwrap();
    let b = Cache::open(b_dir.path(), Config::default()).unwrap();
    let r = remote(remote_dir.path(), Some(key.public()));
    let pulled = b.pull_remote(&r, "main", 0.01).unwrap();
    assert_eq!(pulled.imported, 11, "{pulled:?}");

    // The first ref written back: signed, but older.
    std::fs::write(&ref_file, &first_ref).unwrap();
    let again = b.pull_remote(&r, "main", 0.01).unwrap();
    assert_eq!(
        again.rejected.get("older than a manifest seen before"),
        Some(&1),
        "{again:?}"
    );
    assert_eq!((again.imported, again.packs), (0, 0), "{again:?}");
    // A reader that never saw generation 2 takes generation 1.
    let c_dir = tempfile::tempdir().unwrap();
    let c = Cache::open(c_dir.path(), Config::default()).unwrap();
    let pulled = c.pull_remote(&r, "main", 0.01).unwrap();
    assert_eq!(pulled.imported, 10, "{pulled:?}");
}

/// `push_remote_with` and `pull_remote_with` report their progress: one
/// call per bundle made and per pack looked at, the bytes moved never
/// going back, and a last call with everything done.
#[test]
fn pushes_and_pulls_report_their_progress() {
    use std::cell::RefCell;
    let ws = workspace(40);
    let remote_dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed([9; 32]);
    // Small packs: several of them to pull.
    let small = |public: Option<PublicKey>| {
        let mut c = RemoteConfig::new(format!("file://{}", remote_dir.path().display()));
        c.public_key = public;
        c.pack_target = 8 << 10;
        Remote::open(c).unwrap()
    };
    let a_dir = tempfile::tempdir().unwrap();
    let a = Cache::open(a_dir.path(), Config::default()).unwrap();
    a.index(ws.path(), &|_| {}).unwrap();
    let seen: RefCell<Vec<cst::RemoteProgress>> = RefCell::default();
    let pushed = a
        .push_remote_with(
            &small(None),
            "main",
            &key,
            ws.path(),
            &cst::PushOptions::default(),
            &|p| seen.borrow_mut().push(p),
        )
        .unwrap();
    let seen = seen.into_inner();
    assert_eq!(pushed.bundles, 40, "{pushed:?}");
    let last = *seen.last().unwrap();
    assert_eq!((last.done, last.total), (40, 40));
    // The client's count: the objects' bytes, and the ref's.
    assert!(
        pushed.bytes > 0 && last.bytes >= pushed.bytes,
        "{seen:?} {pushed:?}"
    );
    assert_eq!(seen.len(), 41, "one call per bundle, and the last");
    assert!(
        seen.windows(2)
            .all(|w| w[0].done <= w[1].done && w[0].bytes <= w[1].bytes)
    );

    let b_dir = tempfile::tempdir().unwrap();
    let b = Cache::open(b_dir.path(), Config::default()).unwrap();
    let seen: RefCell<Vec<cst::RemoteProgress>> = RefCell::default();
    let pulled = b
        .pull_remote_with(
            &small(Some(key.public())),
            "main",
            &cst::PullOptions::new(0.01),
            &|p| {
                seen.borrow_mut().push(p);
            },
        )
        .unwrap();
    let seen = seen.into_inner();
    assert_eq!(pulled.imported, 40, "{pulled:?}");
    assert!(pulled.packs > 1, "{pulled:?}");
    let last = *seen.last().unwrap();
    assert_eq!(
        (last.done, last.total),
        (pulled.packs, pulled.packs),
        "{seen:?}"
    );
    assert!(
        last.bytes > 0 && last.bytes <= pulled.bytes,
        "{seen:?} {pulled:?}"
    );
    assert_eq!(seen.len() as u64, pulled.packs + 1, "{seen:?}");
    assert!(
        seen.windows(2)
            .all(|w| w[0].done < w[1].done && w[0].bytes <= w[1].bytes)
    );
}

/// A remote keeps every version pushed. A pull for a directory fetches
/// only the bundles its files need (not the older versions of files
/// changed since), the index then parses nothing; once every file is
/// indexed, a pull for it asks the remote nothing.
#[test]
fn a_pull_for_a_directory_fetches_only_what_its_files_need() {
    let ws = workspace(30);
    let remote_dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_seed([8; 32]);
    let first = push_from_a(ws.path(), remote_dir.path(), &key);
    assert_eq!(first.pushed, 30);
    // Ten files change; the new versions are pushed too.
    let mut changed = 0;
    for e in walk_files(ws.path()).into_iter().take(10) {
        let mut text = std::fs::read(&e).unwrap();
        text.extend_from_slice(b"\n\n");
        std::fs::write(&e, text).unwrap();
        changed += 1;
    }
    let second = push_from_a(ws.path(), remote_dir.path(), &key);
    assert_eq!((second.present, second.pushed), (20, changed), "{second:?}");

    let b_dir = tempfile::tempdir().unwrap();
    let b = Cache::open(b_dir.path(), Config::default()).unwrap();
    let r = remote(remote_dir.path(), Some(key.public()));
    let options = cst::PullOptions::new(0.5).only_for(ws.path());
    let pulled = b.pull_remote_with(&r, "main", &options, &|_| {}).unwrap();
    assert_eq!(pulled.wanted, Some(30), "{pulled:?}");
    assert_eq!(pulled.bundles, 30 + changed, "{pulled:?}");
    assert_eq!(
        (pulled.imported, pulled.not_wanted),
        (30, changed),
        "{pulled:?}"
    );
    assert!(pulled.rejected.is_empty(), "{pulled:?}");
    let report = b.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((report.parsed, report.files()), (0, 30), "{report:?}");
    let v = b.verify_all().unwrap();
    assert!(v.mismatches.is_empty() && v.missing.is_empty(), "{v:?}");

    // Every file indexed: nothing wanted, nothing asked.
    let again = b.pull_remote_with(&r, "main", &options, &|_| {}).unwrap();
    assert_eq!(again.wanted, Some(0), "{again:?}");
    assert_eq!((again.requests, again.imported), (0, 0), "{again:?}");

    // Without the directory, the older versions come too.
    let c_dir = tempfile::tempdir().unwrap();
    let c = Cache::open(c_dir.path(), Config::default()).unwrap();
    let all = c.pull_remote(&r, "main", 0.0).unwrap();
    assert_eq!((all.imported, all.not_wanted), (30 + changed, 0), "{all:?}");
}

/// The regular files under `dir`, sorted.
fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
