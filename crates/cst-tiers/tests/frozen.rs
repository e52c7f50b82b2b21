//! The frozen store: persistence, locking, recovery of a lagging or missing
//! index, torn tails, corruption (bit flips, truncations, zeroed pages), and a
//! model-based property test against a map.

use std::collections::HashMap;
use std::path::Path;

use cst_tiers::{FrozenError, FrozenOptions, FrozenStore};
use proptest::prelude::*;

fn opts() -> FrozenOptions {
    FrozenOptions {
        segment_bytes: 4096,
        compact_dead_ratio: 0.3,
        sync: false,
        ..FrozenOptions::default()
    }
}

fn value_for(i: u64) -> Vec<u8> {
    let len = (i * 37 % 300) as usize + 1;
    (0..len).map(|j| (i as usize * 31 + j * 7) as u8).collect()
}

fn key_for(i: u64) -> Vec<u8> {
    format!("key-{i:06}").into_bytes()
}

fn fill(dir: &Path, n: u64) {
    let s = FrozenStore::open(dir, opts()).unwrap();
    for i in 0..n {
        s.put(&key_for(i), &value_for(i)).unwrap();
    }
    s.flush().unwrap();
}

fn segment_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
        .collect();
    v.sort();
    v
}

#[test]
fn values_persist_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = FrozenStore::open(dir.path(), opts()).unwrap();
        for i in 0..200 {
            s.put(&key_for(i), &value_for(i)).unwrap();
        }
        s.put(&key_for(5), b"replaced").unwrap();
        assert!(s.remove(&key_for(7)).unwrap());
        assert!(!s.remove(b"absent").unwrap());
        s.flush().unwrap();
        assert_eq!(s.stats().entries, 199);
    }
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    assert_eq!(
        s.recovery(),
        &cst_tiers::Recovery::default(),
        "a clean shutdown needs no recovery"
    );
    for i in 0..200 {
        let got = s.get(&key_for(i)).unwrap();
        match i {
            5 => assert_eq!(got.as_deref(), Some(&b"replaced"[..])),
            7 => assert!(got.is_none()),
            _ => assert_eq!(got.as_deref(), Some(&value_for(i)[..])),
        }
    }
    assert!(
        segment_files(dir.path()).len() > 1,
        "small segments roll over"
    );
    let st = s.stats();
    assert_eq!(st.entries, 199);
    assert_eq!(st.hits, 199);
    assert_eq!(st.misses, 1);
}

#[test]
fn a_second_writer_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let _first = FrozenStore::open(dir.path(), opts()).unwrap();
    match FrozenStore::open(dir.path(), opts()) {
        Err(FrozenError::Locked(p)) => assert_eq!(p, dir.path()),
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[test]
fn a_lagging_index_is_caught_up_and_a_missing_one_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 50);
    let old_index = std::fs::read(dir.path().join("index.cst")).unwrap();
    {
        let s = FrozenStore::open(dir.path(), opts()).unwrap();
        for i in 50..120 {
            s.put(&key_for(i), &value_for(i)).unwrap();
        }
        s.remove(&key_for(3)).unwrap();
    } // dropped: flushed
    std::fs::write(dir.path().join("index.cst"), &old_index).unwrap();
    {
        let s = FrozenStore::open(dir.path(), opts()).unwrap();
        assert!(s.recovery().records_replayed >= 71, "{:?}", s.recovery());
        for i in 0..120 {
            let want = (i != 3).then(|| value_for(i));
            assert_eq!(
                s.get(&key_for(i)).unwrap().map(|b| b.to_vec()),
                want,
                "key {i}"
            );
        }
    }
    std::fs::remove_file(dir.path().join("index.cst")).unwrap();
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    assert!(s.recovery().index_rebuilt);
    assert_eq!(s.stats().entries, 119);
    assert_eq!(
        s.get(&key_for(119)).unwrap().as_deref(),
        Some(&value_for(119)[..])
    );
}

#[test]
fn a_torn_tail_is_truncated_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 30);
    {
        let s = FrozenStore::open(dir.path(), opts()).unwrap();
        s.put(b"unflushed", &[7u8; 100]).unwrap();
        s.flush().unwrap();
    }
    // Cut the last record in half, as a crash during its write would.
    let last = segment_files(dir.path()).pop().unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(len - 60)
        .unwrap();
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    assert!(s.recovery().torn_tail_bytes > 0, "{:?}", s.recovery());
    assert!(s.get(b"unflushed").unwrap().is_none());
    for i in 0..30 {
        assert_eq!(
            s.get(&key_for(i)).unwrap().as_deref(),
            Some(&value_for(i)[..])
        );
    }
    // Writing goes on after the repair.
    s.put(b"after", b"repair").unwrap();
    s.flush().unwrap();
    drop(s);
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    assert_eq!(s.get(b"after").unwrap().as_deref(), Some(&b"repair"[..]));
}

/// Applies `damage` to a copy of a filled store, reopens it and checks that
/// the damage was detected and no wrong value is served.
fn check_damage(name: &str, damage: impl Fn(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 80);
    damage(dir.path());
    let s = match FrozenStore::open(dir.path(), opts()) {
        Ok(s) => s,
        Err(e) => panic!("{name}: the store must still open: {e}"),
    };
    let rec = s.recovery().clone();
    let mut errors = 0;
    let mut missing = 0;
    for i in 0..80 {
        match s.get(&key_for(i)) {
            Ok(Some(v)) => assert_eq!(
                &v[..],
                &value_for(i)[..],
                "{name}: key {i} served a wrong value"
            ),
            Ok(None) => missing += 1,
            Err(FrozenError::Corrupt { .. }) => errors += 1,
            Err(e) => panic!("{name}: {e}"),
        }
    }
    let detected = rec.corrupt_records > 0
        || rec.index_rebuilt
        || rec.torn_tail_bytes > 0
        || rec.index_entries_dropped > 0
        || errors > 0;
    assert!(detected, "{name}: damage went unnoticed ({rec:?})");
    if missing + errors > 0 {
        assert!(
            detected,
            "{name}: {missing} lost and {errors} failed without a report"
        );
    }
    assert!(
        s.stats().checksum_failures >= errors as u64,
        "{name}: failures counted"
    );
}

#[test]
fn bit_flips_truncations_and_zeroed_pages_are_detected() {
    let mut rng = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let rounds = if std::env::var_os("CST_LONG_TESTS").is_some() {
        400
    } else {
        60
    };
    for round in 0..rounds {
        let (pick, at, bit) = (next(), next(), next());
        check_damage(&format!("flip {round}"), |dir| {
            let mut files = segment_files(dir);
            files.push(dir.join("index.cst"));
            let f = &files[(pick % files.len() as u64) as usize];
            let mut b = std::fs::read(f).unwrap();
            let i = (at % b.len() as u64) as usize;
            b[i] ^= 1 << (bit % 8);
            std::fs::write(f, b).unwrap();
        });
    }
    for round in 0..rounds / 4 {
        let (pick, at) = (next(), next());
        check_damage(&format!("truncate {round}"), |dir| {
            let mut files = segment_files(dir);
            files.push(dir.join("index.cst"));
            let f = &files[(pick % files.len() as u64) as usize];
            let len = std::fs::metadata(f).unwrap().len();
            std::fs::OpenOptions::new()
                .write(true)
                .open(f)
                .unwrap()
                .set_len(at % len)
                .unwrap();
        });
        check_damage(&format!("zero page {round}"), |dir| {
            let files = segment_files(dir);
            let f = &files[(pick % files.len() as u64) as usize];
            let mut b = std::fs::read(f).unwrap();
            let page = (at as usize % b.len().div_ceil(4096)) * 4096;
            let end = (page + 4096).min(b.len());
            b[page..end].fill(0);
            std::fs::write(f, b).unwrap();
        });
    }
}

#[test]
fn a_flipped_version_bit_is_corruption_and_a_real_other_version_is_refused() {
    // A bit flip in a segment header's version field fails the header's
    // checksum: corruption, reported and repaired, not "another version".
    for bit in 0..16 {
        let dir = tempfile::tempdir().unwrap();
        fill(dir.path(), 80);
        let seg = &segment_files(dir.path())[0];
        let mut b = std::fs::read(seg).unwrap();
        b[4 + bit / 8] ^= 1 << (bit % 8);
        std::fs::write(seg, b).unwrap();
        let s = FrozenStore::open(dir.path(), opts()).unwrap_or_else(|e| {
            panic!("bit {bit}: a corrupt header must not refuse the store: {e}")
        });
        assert!(
            s.recovery().corrupt_records > 0,
            "bit {bit}: {:?}",
            s.recovery()
        );
        for i in 0..80 {
            if let Some(v) = s.get(&key_for(i)).unwrap() {
                assert_eq!(&v[..], &value_for(i)[..]);
            }
        }
    }
    // A header with a valid checksum and another version: a store this
    // build does not read.
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 10);
    let seg = &segment_files(dir.path())[0];
    let mut b = std::fs::read(seg).unwrap();
    b[4..6].copy_from_slice(&2u16.to_le_bytes());
    let sum = crc32c::crc32c(&b[..12]);
    b[12..16].copy_from_slice(&sum.to_le_bytes());
    std::fs::write(seg, b).unwrap();
    match FrozenStore::open(dir.path(), opts()) {
        Err(FrozenError::UnsupportedVersion { found: 2, .. }) => {}
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

#[test]
fn concurrent_flushes_do_not_race_on_the_index_snapshot() {
    // Every flush writes `index.cst.tmpPID` and renames it: threads of one
    // process flushing at once must not trip over each other's file.
    let dir = tempfile::tempdir().unwrap();
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    std::thread::scope(|scope| {
        for t in 0..8u64 {
            let s = &s;
            scope.spawn(move || {
                for i in 0..150 {
                    let k = t * 1000 + i;
                    s.put(&key_for(k), &value_for(k)).unwrap();
                    s.flush().unwrap();
                }
            });
        }
    });
    drop(s);
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    assert_eq!(*s.recovery(), cst_tiers::Recovery::default());
    for t in 0..8u64 {
        for i in 0..150 {
            let k = t * 1000 + i;
            assert_eq!(
                s.get(&key_for(k)).unwrap().as_deref(),
                Some(&value_for(k)[..])
            );
        }
    }
}

#[test]
fn compaction_never_brings_back_a_key_removed_meanwhile() {
    // One thread compacts in a loop while another removes keys and writes
    // others (making dead space): a key removed between compaction's check
    // that it still lives in a victim segment and its copy must stay removed.
    let dir = tempfile::tempdir().unwrap();
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    let n = 3000u64;
    for i in 0..n {
        s.put(&key_for(i), &value_for(i)).unwrap();
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut removed = Vec::new();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                s.compact().unwrap();
            }
        });
        for round in 0..4 {
            for i in (round..n).step_by(4) {
                if i % 3 == 0 {
                    assert!(s.remove(&key_for(i)).unwrap());
                    removed.push(i);
                } else {
                    s.put(&key_for(i), &value_for(i + n)).unwrap();
                }
            }
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    s.compact().unwrap();
    let back: Vec<u64> = removed
        .iter()
        .copied()
        .filter(|&i| s.contains(&key_for(i)))
        .collect();
    assert!(back.is_empty(), "removed keys came back: {back:?}");
    for i in (0..n).filter(|i| i % 3 != 0) {
        assert_eq!(
            s.get(&key_for(i)).unwrap().as_deref(),
            Some(&value_for(i + n)[..])
        );
    }
    drop(s);
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    assert!(removed.iter().all(|&i| !s.contains(&key_for(i))));
}

#[test]
fn compaction_reclaims_dead_segments_and_keeps_live_data() {
    let dir = tempfile::tempdir().unwrap();
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    for round in 0..5u64 {
        for i in 0..60 {
            s.put(&key_for(i), &value_for(i + round)).unwrap();
        }
    }
    s.flush().unwrap();
    let before = s.disk_bytes();
    let reclaimed = s.compact().unwrap();
    assert!(
        reclaimed > 0 && s.disk_bytes() < before,
        "{reclaimed} {before} {}",
        s.disk_bytes()
    );
    for i in 0..60 {
        assert_eq!(
            s.get(&key_for(i)).unwrap().as_deref(),
            Some(&value_for(i + 4)[..])
        );
    }
    drop(s);
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    assert_eq!(s.stats().entries, 60);
    assert_eq!(
        s.get(&key_for(59)).unwrap().as_deref(),
        Some(&value_for(63)[..])
    );
}

#[derive(Debug, Clone)]
enum Op {
    Put(u8, u16),
    Remove(u8),
    Get(u8),
    Flush,
    Reopen,
    Compact,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..40, any::<u16>()).prop_map(|(k, v)| Op::Put(k, v)),
        2 => (0u8..40).prop_map(Op::Remove),
        4 => (0u8..40).prop_map(Op::Get),
        1 => Just(Op::Flush),
        1 => Just(Op::Reopen),
        1 => Just(Op::Compact),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn the_store_behaves_like_a_map(ops in prop::collection::vec(op(), 1..120)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Some(FrozenStore::open(dir.path(), opts()).unwrap());
        let mut model: HashMap<u8, Vec<u8>> = HashMap::new();
        let val = |v: u16| -> Vec<u8> { v.to_le_bytes().repeat(usize::from(v % 97) + 1) };
        for op in ops {
            let s = store.as_ref().unwrap();
            match op {
                Op::Put(k, v) => { s.put(&[k], &val(v)).unwrap(); model.insert(k, val(v)); }
                Op::Remove(k) => { prop_assert_eq!(s.remove(&[k]).unwrap(), model.remove(&k).is_some()); }
                Op::Get(k) => { prop_assert_eq!(s.get(&[k]).unwrap().map(|b| b.to_vec()), model.get(&k).cloned()); }
                Op::Flush => s.flush().unwrap(),
                Op::Compact => { s.compact().unwrap(); }
                Op::Reopen => { drop(store.take()); store = Some(FrozenStore::open(dir.path(), opts()).unwrap()); }
            }
            let s = store.as_ref().unwrap();
            prop_assert_eq!(s.stats().entries as usize, model.len());
            prop_assert_eq!(s.stats().bytes, model.values().map(|v| v.len() as u64).sum::<u64>());
        }
        let s = store.as_ref().unwrap();
        for k in 0..40u8 {
            prop_assert_eq!(s.get(&[k]).unwrap().map(|b| b.to_vec()), model.get(&k).cloned());
        }
    }
}

/// Opening a store whose index snapshot covers every segment reads no
/// segment body: damage inside a covered record goes unnoticed by `open`
/// (the index is trusted, each segment's 16-byte header is checked) and is
/// caught by the record checksum when that record is read; the other
/// records are served. A tail past the snapshot is still replayed.
#[test]
fn open_of_a_clean_store_reads_no_segment_body() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 200);
    let segs = segment_files(dir.path());
    assert!(segs.len() >= 2, "{} segments", segs.len());
    // Damage the middle of the first segment's body.
    let mut bytes = std::fs::read(&segs[0]).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 8] {
        *b ^= 0x5a;
    }
    std::fs::write(&segs[0], &bytes).unwrap();
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    let r = s.recovery();
    assert_eq!(
        (r.records_replayed, r.corrupt_records, r.index_rebuilt),
        (0, 0, false),
        "{r:?}"
    );
    let (mut ok, mut corrupt) = (0, 0);
    for i in 0..200 {
        match s.get(&key_for(i)) {
            Ok(Some(v)) => {
                assert_eq!(&v[..], &value_for(i)[..]);
                ok += 1;
            }
            Err(FrozenError::Corrupt { .. }) => corrupt += 1,
            other => panic!("key {i}: {other:?}"),
        }
    }
    assert!((1..=2).contains(&corrupt), "{corrupt} corrupt records");
    assert_eq!(ok + corrupt, 200);
    // Records written after the snapshot are replayed from the tail only.
    s.put(b"late", b"value").unwrap();
    drop(s);
    let s = FrozenStore::open(dir.path(), opts()).unwrap();
    assert_eq!(s.get(b"late").unwrap().as_deref(), Some(&b"value"[..]));
}
