//! A re-index trusts a file whose status is unchanged (size, modification
//! and change times, inode, device) and does not read it — as `git status`
//! trusts its index — except when the file was modified within the
//! timestamp granularity of being read (git's racy rule), or when asked to
//! verify content. The statuses persist in the path map.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cst::{Cache, Config, IndexOptions};

fn age(path: &Path, secs: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(secs))
        .unwrap();
}

fn workspace() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for i in 0..5 {
        let p = dir.path().join(format!("m{i}.rs"));
        std::fs::write(&p, format!("fn f{i}() -> u32 {{ {i} }}\n")).unwrap();
        age(&p, 3600);
        files.push(p);
    }
    (dir, files)
}

#[test]
fn unchanged_statuses_are_trusted_unread_racy_ones_are_not() {
    let (ws, files) = workspace();
    let store = tempfile::tempdir().unwrap();
    let cache = Cache::open(store.path(), Config::default()).unwrap();
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((r.parsed, r.hits, r.unread), (5, 0, 0));
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((r.parsed, r.hits, r.unread), (0, 5, 5), "all unread");
    assert_eq!(r.lines(), 5, "lines come from the noted status");

    // A changed file is read and parsed; just written, it stays racy.
    std::fs::write(&files[2], "fn changed() {}\n").unwrap();
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((r.parsed, r.hits, r.unread), (1, 4, 4));
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!(
        (r.parsed, r.hits, r.unread),
        (0, 5, 4),
        "the racy file is read again"
    );
    // Once its modification time is old, it is trusted again after a read.
    age(&files[2], 3600);
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((r.parsed, r.unread), (0, 4), "a new status: read once");
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((r.parsed, r.unread), (0, 5));

    // Same content, another inode (an editor's save-by-rename): read.
    let tmp = ws.path().join("m0.rs.tmp");
    std::fs::copy(&files[0], &tmp).unwrap();
    std::fs::rename(&tmp, &files[0]).unwrap();
    age(&files[0], 3600);
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((r.parsed, r.hits, r.unread), (0, 5, 4));

    // --verify-content reads everything.
    let r = cache
        .index_with(ws.path(), &IndexOptions::verify_content(), &|_| {})
        .unwrap();
    assert_eq!((r.parsed, r.hits, r.unread), (0, 5, 0));
    cache.flush().unwrap();
    drop(cache);

    // The statuses survive a reopen.
    let cache = Cache::open(store.path(), Config::default()).unwrap();
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((r.parsed, r.hits, r.unread), (0, 5, 5));
    // A deleted file is still forgotten, and the others still trusted.
    std::fs::remove_file(&files[4]).unwrap();
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((r.removed, r.unread), (1, 4));
    // And what is trusted is served exactly.
    for f in &files[..4] {
        let t = cache.get(f).unwrap().unwrap();
        assert_eq!(t.source().unwrap(), &std::fs::read(f).unwrap()[..]);
    }
}

#[test]
fn a_content_change_that_keeps_the_size_and_time_is_still_seen() {
    // Same size, modification time set back: the change time moves (no
    // process can set it), so the status differs and the file is read.
    let (ws, files) = workspace();
    let cache = Cache::in_memory(Config::default());
    cache.index(ws.path(), &|_| {}).unwrap();
    let before = std::fs::metadata(&files[1]).unwrap().modified().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&files[1], "fn f9() -> u32 { 9 }\n").unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&files[1])
        .unwrap();
    f.set_modified(before).unwrap();
    drop(f);
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((r.parsed, r.unread), (1, 4));
    let t = cache.get(&files[1]).unwrap().unwrap();
    assert_eq!(t.source().unwrap(), b"fn f9() -> u32 { 9 }\n");
}
