//! Readers beside a writer: read-only opens take no lock and change nothing
//! on disk, see a consistent snapshot, see newer writes after `refresh`, keep
//! reading segments that compaction unlinks, and leave a tail being written
//! alone. A writer can wait for another one.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use cst_tiers::{FrozenError, FrozenOptions, FrozenStore};

fn opts() -> FrozenOptions {
    FrozenOptions {
        segment_bytes: 4096,
        compact_dead_ratio: 0.3,
        sync: false,
        ..FrozenOptions::default()
    }
}

fn key(i: u64) -> Vec<u8> {
    format!("key-{i:06}").into_bytes()
}

fn value(i: u64, version: u64) -> Vec<u8> {
    let len = (i * 37 % 300) as usize + 1;
    (0..len)
        .map(|j| (i as usize * 31 + j * 7 + version as usize) as u8)
        .collect()
}

/// Every file of the store with its length and content hash.
fn snapshot_of(dir: &Path) -> Vec<(String, u64, [u8; 32])> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let b = std::fs::read(&p).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                b.len() as u64,
                *blake3::hash(&b).as_bytes(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_reader_opens_beside_the_writer_and_sees_new_writes_after_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let writer = FrozenStore::open(dir.path(), opts()).unwrap();
    for i in 0..50 {
        writer.put(&key(i), &value(i, 0)).unwrap();
    }
    writer.flush().unwrap();
    // A second writer is refused; a reader is not.
    assert!(matches!(
        FrozenStore::open(dir.path(), opts()),
        Err(FrozenError::Locked(_))
    ));
    let reader = FrozenStore::open_read_only(dir.path(), opts()).unwrap();
    assert!(reader.is_read_only());
    for i in 0..50 {
        assert_eq!(
            reader.get(&key(i)).unwrap().as_deref(),
            Some(&value(i, 0)[..])
        );
    }
    // Newer writes, flushed or only appended, are not seen until refresh.
    for i in 0..50 {
        writer.put(&key(i), &value(i, 1)).unwrap();
    }
    writer.put(&key(999), b"new").unwrap();
    writer.remove(&key(7)).unwrap();
    assert_eq!(
        reader.get(&key(3)).unwrap().as_deref(),
        Some(&value(3, 0)[..])
    );
    assert_eq!(reader.get(&key(999)).unwrap(), None);
    reader.refresh().unwrap();
    assert_eq!(
        reader.get(&key(3)).unwrap().as_deref(),
        Some(&value(3, 1)[..])
    );
    assert_eq!(reader.get(&key(999)).unwrap().as_deref(), Some(&b"new"[..]));
    assert_eq!(reader.get(&key(7)).unwrap(), None);
    // Writes through a reader are refused.
    assert!(matches!(
        reader.put(b"k", b"v"),
        Err(FrozenError::ReadOnly(_))
    ));
    assert!(matches!(
        reader.remove(&key(1)),
        Err(FrozenError::ReadOnly(_))
    ));
    assert!(matches!(reader.compact(), Err(FrozenError::ReadOnly(_))));
    reader.flush().unwrap();
}

#[test]
fn a_reader_changes_nothing_on_disk_and_leaves_an_unfinished_tail_alone() {
    let dir = tempfile::tempdir().unwrap();
    {
        let w = FrozenStore::open(dir.path(), opts()).unwrap();
        for i in 0..30 {
            w.put(&key(i), &value(i, 0)).unwrap();
        }
        w.flush().unwrap();
        for i in 30..40 {
            w.put(&key(i), &value(i, 0)).unwrap();
        }
        // Not flushed: the index lags the segments.
    }
    // Half a record at the end of the newest segment: a write in progress.
    let mut segs: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".cst") && !p.ends_with("index.cst"))
        .collect();
    segs.sort();
    let last = segs.last().unwrap();
    let mut bytes = std::fs::read(last).unwrap();
    let partial = cst_tiers_record_prefix();
    bytes.extend_from_slice(&partial);
    std::fs::write(last, &bytes).unwrap();
    let before = snapshot_of(dir.path());
    let r = FrozenStore::open_read_only(dir.path(), opts()).unwrap();
    assert_eq!(r.recovery().unfinished_tail_bytes, partial.len() as u64);
    assert_eq!(r.recovery().torn_tail_bytes, 0);
    for i in 0..40 {
        assert_eq!(
            r.get(&key(i)).unwrap().as_deref(),
            Some(&value(i, 0)[..]),
            "key {i}"
        );
    }
    r.refresh().unwrap();
    drop(r);
    assert_eq!(
        snapshot_of(dir.path()),
        before,
        "a reader wrote to the store"
    );
    // A reader of a directory that does not exist sees an empty store and creates nothing.
    let missing = dir.path().join("nothing-here");
    let r = FrozenStore::open_read_only(&missing, opts()).unwrap();
    assert_eq!(r.get(b"k").unwrap(), None);
    assert!(!missing.exists());
    // The writer cuts the tail the reader left alone.
    let w = FrozenStore::open(dir.path(), opts()).unwrap();
    assert_eq!(w.recovery().torn_tail_bytes, partial.len() as u64);
}

/// The first 20 bytes of a record header: magic, version, kind.
fn cst_tiers_record_prefix() -> Vec<u8> {
    let mut v = b"CSTR".to_vec();
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&[1, 0]);
    v.extend_from_slice(&4u32.to_le_bytes());
    v.extend_from_slice(&100u32.to_le_bytes());
    v.extend_from_slice(&[0; 4]);
    v
}

#[test]
fn a_reader_keeps_reading_segments_that_compaction_unlinks() {
    let dir = tempfile::tempdir().unwrap();
    let w = FrozenStore::open(dir.path(), opts()).unwrap();
    for i in 0..200 {
        w.put(&key(i), &value(i, 0)).unwrap();
    }
    w.flush().unwrap();
    let r = FrozenStore::open_read_only(dir.path(), opts()).unwrap();
    // Mostly dead segments, then compaction removes them.
    for i in 0..180 {
        w.remove(&key(i)).unwrap();
    }
    w.flush().unwrap();
    let files_before = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(w.compact().unwrap() > 0);
    assert!(std::fs::read_dir(dir.path()).unwrap().count() < files_before);
    // The reader's snapshot still holds every value it had.
    for i in 0..200 {
        assert_eq!(
            r.get(&key(i)).unwrap().as_deref(),
            Some(&value(i, 0)[..]),
            "key {i}"
        );
    }
    r.refresh().unwrap();
    for i in 0..200 {
        let want = (i >= 180).then(|| value(i, 0));
        assert_eq!(r.get(&key(i)).unwrap().map(|b| b.to_vec()), want, "key {i}");
    }
}

#[test]
fn readers_beside_a_writer_that_writes_and_compacts_see_only_whole_values() {
    let dir = tempfile::tempdir().unwrap();
    let w = FrozenStore::open(dir.path(), opts()).unwrap();
    for i in 0..64 {
        w.put(&key(i), &value(i, 0)).unwrap();
    }
    w.flush().unwrap();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let path = dir.path().to_path_buf();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let r = FrozenStore::open_read_only(&path, opts()).unwrap();
                let mut reads = 0u64;
                for round in 0..150 {
                    for i in 0..64 {
                        if let Some(v) = r.get(&key(i)).unwrap() {
                            // Every version ever written, and nothing else.
                            assert!(
                                (0..=1000).any(|ver| v[..] == value(i, ver)[..]),
                                "key {i}: a value never written"
                            );
                            reads += 1;
                        }
                    }
                    if round % 4 == 0 {
                        r.refresh().unwrap();
                    }
                }
                reads
            })
        })
        .collect();
    let writer = std::thread::spawn(move || {
        let mut ver = 1;
        while stop_rx.try_recv().is_err() && ver < 400 {
            for i in 0..64 {
                w.put(&key(i), &value(i, ver)).unwrap();
            }
            if ver % 3 == 0 {
                w.flush().unwrap();
            }
            if ver % 10 == 0 {
                w.compact().unwrap();
            }
            ver += 1;
        }
    });
    let reads: u64 = readers.into_iter().map(|h| h.join().unwrap()).sum();
    let _ = stop_tx.send(());
    writer.join().unwrap();
    assert!(reads > 0);
}

#[test]
fn a_writer_waits_for_the_lock_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let first = FrozenStore::open(dir.path(), opts()).unwrap();
    first.put(b"k", b"v1").unwrap();
    let path = dir.path().to_path_buf();
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let o = FrozenOptions {
            wait_for_lock: true,
            ..opts()
        };
        let s = FrozenStore::open(&path, o).unwrap();
        tx.send(s.get(b"k").unwrap().map(|b| b.to_vec())).unwrap();
    });
    // Still waiting while the first writer holds the store.
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
    drop(first);
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        Some(b"v1".to_vec())
    );
    waiter.join().unwrap();
}

#[test]
fn a_reader_of_a_store_that_lost_a_segment_opens_without_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let w = FrozenStore::open(dir.path(), opts()).unwrap();
        for i in 0..200 {
            w.put(&key(i), &value(i, 0)).unwrap();
        }
        w.flush().unwrap();
    }
    let mut segs: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
        .collect();
    segs.sort();
    assert!(segs.len() > 2);
    std::fs::remove_file(&segs[0]).unwrap();
    let started = std::time::Instant::now();
    let r = FrozenStore::open_read_only(dir.path(), opts()).unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(r.recovery().index_entries_dropped > 0);
    let served = (0..200)
        .filter(|&i| r.get(&key(i)).unwrap().is_some())
        .count();
    let w = FrozenStore::open(dir.path(), opts()).unwrap();
    let by_writer = (0..200)
        .filter(|&i| w.get(&key(i)).unwrap().is_some())
        .count();
    assert_eq!(
        served, by_writer,
        "the reader and the writer see the same loss"
    );
    assert!(served > 0 && served < 200);
}
