//! Damage is contained and reported: the path map is kept in two copies,
//! written alternately, so damage to the newest (a failed checksum or bytes
//! that do not decode) loses at most the paths of one flush; `open_report`
//! says what open found, and `lost_data` is set whenever anything stored
//! was lost.

use std::path::{Path, PathBuf};

use cst::{Cache, Config, PathMapStatus};

const SLOTS: [&[u8]; 2] = [b"\0cst/paths/v2/a", b"\0cst/paths/v2/b"];

fn workspace() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let files = (0..5)
        .map(|i| {
            let p = dir.path().join(format!("m{i}.rs"));
            std::fs::write(&p, format!("fn f{i}() {{}}\n")).unwrap();
            p
        })
        .collect();
    (dir, files)
}

/// Indexes twice with a change between, so both copies exist; returns the
/// key of the newest copy.
fn two_flushes(store: &Path, ws: &Path, files: &[PathBuf]) -> &'static [u8] {
    let cache = Cache::open(store, Config::default()).unwrap();
    cache.index(ws, &|_| {}).unwrap();
    cache.flush().unwrap();
    std::fs::write(&files[0], "fn changed() {}\n").unwrap();
    let extra = ws.join("new.rs");
    std::fs::write(&extra, "fn new() {}\n").unwrap();
    cache.index(ws, &|_| {}).unwrap();
    cache.flush().unwrap();
    assert_eq!(cache.open_report().path_map, PathMapStatus::Empty);
    drop(cache);
    let cache = Cache::open(store, Config::default()).unwrap();
    let r = cache.open_report();
    assert_eq!(
        (r.path_map, r.paths, r.lost_data()),
        (PathMapStatus::Current, 6, false)
    );
    drop(cache);
    // Generation 2 went to slot 0.
    SLOTS[0]
}

#[test]
fn a_newest_copy_that_does_not_decode_falls_back_to_the_previous() {
    let (ws, files) = workspace();
    let store = tempfile::tempdir().unwrap();
    let newest = two_flushes(store.path(), ws.path(), &files);
    {
        let s =
            cst::tiers::FrozenStore::open(store.path().join("store"), Default::default()).unwrap();
        s.put(newest, b"not a path map").unwrap();
        s.flush().unwrap();
    }
    let cache = Cache::open(store.path(), Config::default()).unwrap();
    let r = cache.open_report();
    assert_eq!(r.path_map, PathMapStatus::PreviousCopy);
    assert!(r.lost_data());
    // The previous map: the 5 first paths, each served exactly as indexed then.
    assert_eq!(r.paths, 5);
    for f in &files[1..] {
        let t = cache.get(f).unwrap().unwrap();
        assert_eq!(t.source().unwrap(), &std::fs::read(f).unwrap()[..]);
    }
    let old = cache.get(&files[0]).unwrap().unwrap();
    assert_eq!(
        old.source().unwrap(),
        b"fn f0() {}\n",
        "the previous flush's content"
    );
    // A re-index restores the rest without parsing (the trees are stored).
    let idx = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((idx.files(), idx.parsed), (6, 0));
    cache.flush().unwrap();
    drop(cache);
    let cache = Cache::open(store.path(), Config::default()).unwrap();
    assert_eq!(cache.open_report().path_map, PathMapStatus::Current);
    assert_eq!(cache.open_report().paths, 6);
}

#[test]
fn a_newest_copy_that_fails_its_checksum_falls_back_to_the_previous() {
    let (ws, files) = workspace();
    let store = tempfile::tempdir().unwrap();
    let newest = two_flushes(store.path(), ws.path(), &files);
    // Flip a byte inside the newest copy's value, found by its key.
    let mut hit = false;
    for e in std::fs::read_dir(store.path().join("store")).unwrap() {
        let p = e.unwrap().path();
        if !p.file_name().unwrap().to_string_lossy().starts_with("seg-") {
            continue;
        }
        let mut bytes = std::fs::read(&p).unwrap();
        if let Some(at) = bytes.windows(newest.len()).rposition(|w| w == newest) {
            bytes[at + newest.len() + 8] ^= 0x40;
            std::fs::write(&p, &bytes).unwrap();
            hit = true;
        }
    }
    assert!(hit, "the path map record was found");
    let cache = Cache::open(store.path(), Config::default()).unwrap();
    let r = cache.open_report();
    assert_eq!((r.path_map, r.paths), (PathMapStatus::PreviousCopy, 5));
    assert!(r.lost_data());
    assert!(
        r.lines().iter().any(|l| l.contains("one copy damaged")),
        "{:?}",
        r.lines()
    );
}

#[test]
fn no_readable_map_beside_stored_trees_is_reported_lost() {
    let (ws, files) = workspace();
    let store = tempfile::tempdir().unwrap();
    two_flushes(store.path(), ws.path(), &files);
    {
        let s =
            cst::tiers::FrozenStore::open(store.path().join("store"), Default::default()).unwrap();
        for k in SLOTS {
            s.put(k, b"garbage").unwrap();
        }
        s.flush().unwrap();
    }
    let cache = Cache::open(store.path(), Config::default()).unwrap();
    let r = cache.open_report();
    assert_eq!((r.path_map, r.paths), (PathMapStatus::Lost, 0));
    assert!(r.lost_data());
    // The content-addressed trees are found again: a re-index parses nothing.
    let idx = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((idx.files(), idx.parsed), (6, 0));
}
