//! The harness of the `frozen` fuzz target (`fuzz/`), shared with the test
//! that replays its findings, so both run exactly the same code.
//!
//! An input becomes the files of a store directory, which is then opened,
//! read key by key, compacted, written to, closed and opened again. Opening
//! may fail with a typed error; nothing may panic, and no value may be served
//! unless it is the value of an intact record of its key.
//!
//! Byte 0 picks the mode:
//! - even: **raw files.** The rest is a list of files, each
//!   `selector u8, length u16 LE, contents`. The selector's low 3 bits name
//!   the file (0–2: `seg-0000000N.cst` with N from bits 4–7; 3: a segment
//!   whose id is the next 4 bytes; 4–5: `index.cst`; 6: a stale
//!   `index.cst.tmp`; 7: an unpadded `seg-N.cst`), bit 3 *reseals* it: the
//!   magic, version and checksums of the segment header and of every record
//!   (whose lengths fit), or of the index, are made valid, so that whatever
//!   lies behind the checksums is reached.
//! - odd: **valid store, then damage.** The rest is a list of operations
//!   (put, remove, flush, compact, reopen) run on a real store, ended by an
//!   op byte ≡ 7 (mod 8); what follows are damages to its files (flip, truncate,
//!   zero a range, delete). Without damage the reopened store must equal the
//!   model exactly; with damage every value served must be one once put.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::{FrozenError, FrozenOptions, FrozenStore, STORE_VERSION};

// The layout of docs/FORMAT.md, "Frozen store", restated here so that the
// checks below do not share the store's own code.
const SEGMENT_MAGIC: [u8; 4] = *b"CSTS";
const RECORD_MAGIC: [u8; 4] = *b"CSTR";
const INDEX_MAGIC: [u8; 4] = *b"CSTI";
const RECORD_HEADER_LEN: usize = 28;

fn options() -> FrozenOptions {
    FrozenOptions {
        segment_bytes: 512,
        compact_dead_ratio: 0.3,
        sync: false,
        ..FrozenOptions::default()
    }
}

/// Reads the input from the front; runs dry into zeros.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

/// Runs one input against a store in `dir`, which is emptied first (the
/// caller gives each run, or each thread, its own directory).
pub fn frozen(data: &[u8], dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("create the fuzzing directory");
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        write_raw_files(rest, dir);
        check(dir, None);
    } else {
        let model = build_and_damage(rest, dir);
        check(dir, Some(&model));
    }
}

fn write_raw_files(data: &[u8], dir: &Path) {
    let mut input = Input(data);
    while !input.is_empty() {
        let sel = input.u8();
        let small = u32::from(sel >> 4);
        let name = match sel & 7 {
            0..=2 => format!("seg-{small:08}.cst"),
            3 => format!("seg-{:08}.cst", input.u32()),
            4 | 5 => "index.cst".to_owned(),
            6 => "index.cst.tmp1".to_owned(),
            _ => format!("seg-{small}.cst"),
        };
        let len = usize::from(input.u16());
        let mut contents = input.take(len).to_vec();
        if sel & 8 != 0 {
            if name.starts_with("seg-") {
                reseal_segment(&mut contents);
            } else {
                // Snapshot layout 1 (entries by location) or 2 (a table).
                reseal_index(&mut contents, if sel & 7 == 5 { 2 } else { 1 });
            }
        }
        std::fs::write(dir.join(name), contents).expect("write a store file");
    }
}

fn reseal_segment(b: &mut [u8]) {
    if b.len() < 16 {
        return;
    }
    b[..4].copy_from_slice(&SEGMENT_MAGIC);
    b[4..6].copy_from_slice(&STORE_VERSION.to_le_bytes());
    let sum = crc32c::crc32c(&b[..12]);
    b[12..16].copy_from_slice(&sum.to_le_bytes());
    let mut off = 16;
    while off + RECORD_HEADER_LEN <= b.len() {
        b[off..off + 4].copy_from_slice(&RECORD_MAGIC);
        b[off + 4..off + 6].copy_from_slice(&STORE_VERSION.to_le_bytes());
        let key_len = u32_at(b, off + 8) as usize;
        let value_len = u32_at(b, off + 12) as usize;
        let end = off + RECORD_HEADER_LEN + key_len + value_len;
        if end > b.len() {
            return;
        }
        let sum = crc32c::crc32c_append(
            crc32c::crc32c(&b[off..off + 24]),
            &b[off + RECORD_HEADER_LEN..end],
        );
        b[off + 24..off + 28].copy_from_slice(&sum.to_le_bytes());
        off = end;
    }
}

fn reseal_index(b: &mut [u8], version: u16) {
    if b.len() < 20 {
        return;
    }
    b[..4].copy_from_slice(&INDEX_MAGIC);
    b[4..6].copy_from_slice(&version.to_le_bytes());
    let body = (b.len() - 20) as u64;
    b[8..16].copy_from_slice(&body.to_le_bytes());
    let n = b.len() - 4;
    let sum = crc32c::crc32c(&b[..n]);
    b[n..].copy_from_slice(&sum.to_le_bytes());
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// What a valid store was made to hold.
struct Model {
    /// Every value ever put, per key.
    history: HashMap<Vec<u8>, HashSet<Vec<u8>>>,
    /// The contents when the store was closed.
    current: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Whether its files were damaged after it was closed.
    damaged: bool,
}

fn build_and_damage(data: &[u8], dir: &Path) -> Model {
    let mut input = Input(data);
    let mut model = Model {
        history: HashMap::new(),
        current: BTreeMap::new(),
        damaged: false,
    };
    let mut store = Some(FrozenStore::open(dir, options()).expect("open an empty store"));
    let mut puts = 0u16;
    while !input.is_empty() {
        let op = input.u8() % 8;
        let key = if op <= 3 {
            vec![b'k', input.u8() % 12]
        } else {
            Vec::new()
        };
        let s = store.as_ref().expect("open");
        match op {
            0..=2 => {
                puts = puts.wrapping_add(1);
                let len = usize::from(input.u8());
                let mut value = puts.to_le_bytes().to_vec();
                value.extend((0..len).map(|i| (i as u8).wrapping_mul(key[1] | 1)));
                s.put(&key, &value).expect("put");
                model
                    .history
                    .entry(key.clone())
                    .or_default()
                    .insert(value.clone());
                model.current.insert(key, value);
            }
            3 => assert_eq!(
                s.remove(&key).expect("remove"),
                model.current.remove(&key).is_some()
            ),
            4 => s.flush().expect("flush"),
            5 => {
                s.compact().expect("compact");
            }
            6 => {
                drop(store.take());
                store = Some(FrozenStore::open(dir, options()).expect("reopen"));
            }
            _ => break,
        }
    }
    let s = store.take().expect("open");
    for (k, v) in &model.current {
        assert_eq!(s.get(k).expect("get").as_deref(), Some(&v[..]));
    }
    drop(s);
    // Damage.
    while !input.is_empty() {
        let what = input.u8();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("list").path())
            .filter(|p| p.file_name().is_some_and(|n| n != "LOCK"))
            .collect();
        files.sort();
        if files.is_empty() {
            break;
        }
        let path = &files[usize::from(input.u8()) % files.len()];
        let mut b = std::fs::read(path).expect("read");
        let at = usize::from(input.u16()) % (b.len() + 1);
        match what % 4 {
            0 => {
                if let Some(x) = b.get_mut(at) {
                    *x ^= input.u8() | 1;
                }
            }
            1 => b.truncate(at),
            2 => {
                let end = (at + 64).min(b.len());
                b[at..end].fill(0);
            }
            _ => {
                std::fs::remove_file(path).expect("remove");
                model.damaged = true;
                continue;
            }
        }
        std::fs::write(path, b).expect("write");
        model.damaged = true;
    }
    model
}

/// Every (key, value) of an intact put record in the segment files of
/// `dir`, found by scanning for record magics (independently of the store).
fn intact_records(dir: &Path) -> HashSet<(Vec<u8>, Vec<u8>)> {
    let mut out = HashSet::new();
    for entry in std::fs::read_dir(dir).expect("list") {
        let path = entry.expect("list").path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("seg-"))
        {
            continue;
        }
        let Ok(b) = std::fs::read(&path) else {
            continue;
        };
        let mut at = 0;
        while let Some(i) = b
            .get(at..)
            .and_then(|r| r.windows(4).position(|w| w == RECORD_MAGIC))
        {
            let off = at + i;
            at = off + 1;
            if off + RECORD_HEADER_LEN > b.len()
                || u16::from_le_bytes([b[off + 4], b[off + 5]]) != STORE_VERSION
                || b[off + 6] != 1
            {
                continue;
            }
            let key_len = u32_at(&b, off + 8) as usize;
            let value_len = u32_at(&b, off + 12) as usize;
            let key_start = off + RECORD_HEADER_LEN;
            let value_start = key_start + key_len;
            let end = value_start + value_len;
            if end > b.len() {
                continue;
            }
            let sum = crc32c::crc32c_append(crc32c::crc32c(&b[off..off + 24]), &b[key_start..end]);
            if sum == u32_at(&b, off + 24) {
                out.insert((
                    b[key_start..value_start].to_vec(),
                    b[value_start..end].to_vec(),
                ));
            }
        }
    }
    out
}

/// What a read gave, comparable across reopenings.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Value(Vec<u8>),
    Missing,
    Corrupt,
}

/// Reads every listed key (and the model's) and checks what is served.
fn read_all(store: &FrozenStore, model: Option<&Model>) -> BTreeMap<Vec<u8>, Read> {
    let intact = intact_records(store.dir());
    let mut keys: Vec<Vec<u8>> = store.keys().into_iter().map(Vec::from).collect();
    let listed: HashSet<Vec<u8>> = keys.iter().cloned().collect();
    assert_eq!(listed.len(), keys.len(), "a key is listed twice");
    if let Some(m) = model {
        keys.extend(m.history.keys().filter(|k| !listed.contains(*k)).cloned());
    }
    let stats = store.stats();
    assert_eq!(stats.entries, listed.len() as u64, "entries counted");
    let mut served_bytes = 0u64;
    let mut reads = BTreeMap::new();
    for key in keys {
        let read = match store.get(&key) {
            Ok(Some(v)) => {
                assert!(
                    intact.contains(&(key.clone(), v.to_vec())),
                    "served a value that is not an intact record of key {key:02x?}"
                );
                if let Some(m) = model {
                    assert!(
                        m.history.get(&key).is_some_and(|h| h.contains(&v[..])),
                        "served a value never put under key {key:02x?}"
                    );
                }
                served_bytes += v.len() as u64;
                Read::Value(v.to_vec())
            }
            Ok(None) => {
                assert!(!listed.contains(&key), "listed key {key:02x?} not found");
                assert!(!store.contains(&key));
                Read::Missing
            }
            Err(FrozenError::Corrupt { .. }) => {
                assert!(listed.contains(&key));
                Read::Corrupt
            }
            Err(e) => panic!("get: {e}"),
        };
        reads.insert(key, read);
    }
    if !reads.values().any(|r| *r == Read::Corrupt) {
        assert_eq!(stats.bytes, served_bytes, "bytes counted");
    }
    reads
}

/// Every file of `dir` with its bytes, sorted by name.
fn files_of(dir: &Path) -> Vec<(std::ffi::OsString, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn check(dir: &Path, model: Option<&Model>) {
    let clean = model.filter(|m| !m.damaged);
    // A reader first, on the files as they are: it never panics, changes
    // no byte, and serves only values once put (exactly the model's when
    // the store was closed cleanly).
    let files = files_of(dir);
    if let Ok(reader) = FrozenStore::open_read_only(dir, options()) {
        let seen = read_all(&reader, model);
        if let Some(m) = clean {
            for (k, v) in &m.current {
                assert_eq!(
                    seen.get(k),
                    Some(&Read::Value(v.clone())),
                    "a reader of a cleanly closed store lost key {k:02x?}"
                );
            }
        }
        let _ = reader.refresh();
        assert!(reader.put(b"k", b"v").is_err());
    } else {
        assert!(
            clean.is_none(),
            "a reader cannot open a cleanly closed store"
        );
    }
    assert!(files == files_of(dir), "a reader changed the store's files");
    let store = match FrozenStore::open(dir, options()) {
        Ok(s) => s,
        Err(e) => {
            assert!(clean.is_none(), "a cleanly closed store fails to open: {e}");
            return;
        }
    };
    let before = read_all(&store, model);
    if let Some(m) = clean {
        assert_eq!(store.recovery(), &crate::Recovery::default());
        let expected: BTreeMap<Vec<u8>, Read> = m
            .history
            .keys()
            .map(|k| {
                let r = m
                    .current
                    .get(k)
                    .map_or(Read::Missing, |v| Read::Value(v.clone()));
                (k.clone(), r)
            })
            .collect();
        assert_eq!(
            before, expected,
            "a cleanly closed store lost or changed values"
        );
    }
    if let Err(e) = store.compact() {
        assert!(clean.is_none(), "compaction failed: {e}");
        return;
    }
    let after = read_all(&store, model);
    // A reader beside the writer, after a flush, sees what the writer serves.
    if store.flush().is_ok()
        && let Ok(reader) = FrozenStore::open_read_only(dir, options())
    {
        let beside = read_all(&reader, model);
        for (k, r) in &after {
            if let Read::Value(_) = r {
                assert_eq!(
                    beside.get(k),
                    Some(r),
                    "a reader beside the writer differs on {k:02x?}"
                );
            }
        }
    }
    for (k, r) in &before {
        match r {
            Read::Value(_) | Read::Missing => {
                assert_eq!(after.get(k), Some(r), "compaction changed key {k:02x?}")
            }
            Read::Corrupt => assert_ne!(
                after.get(k).map(|r| matches!(r, Read::Value(_))),
                Some(true)
            ),
        }
    }
    // The store still takes writes.
    let probe = b"\xffprobe";
    let had = store.contains(probe);
    if let Err(e) = store.put(probe, b"written after recovery") {
        assert!(clean.is_none(), "put failed: {e}");
        return;
    }
    assert_eq!(
        store.get(probe).ok().flatten().as_deref(),
        Some(&b"written after recovery"[..])
    );
    if !had {
        match store.remove(probe) {
            Ok(removed) => assert!(removed),
            Err(e) => assert!(clean.is_none(), "remove failed: {e}"),
        }
    }
    drop(store);
    // Closed cleanly: a reopened store serves exactly the same.
    let store = FrozenStore::open(dir, options())
        .unwrap_or_else(|e| panic!("a store closed cleanly fails to reopen: {e}"));
    let mut again = read_all(&store, model);
    again.remove(&probe[..]);
    let mut after = after;
    after.remove(&probe[..]);
    assert_eq!(after, again, "reopening changed what is served");
}
