//! The frozen tier: an append-only, crash-safe, memory-mapped store on disk.
//!
//! Layout (docs/FORMAT.md, "Frozen store"): a directory with
//! - `LOCK`: held with an exclusive advisory lock by the one writer;
//! - `seg-NNNNNNNN.cst`: segment files, append-only, each a 16-byte segment
//!   header followed by records (header + key + value, CRC-32C checked);
//! - `index.cst`: a snapshot of key → record location plus, per segment, how
//!   many bytes the snapshot covers; replaced atomically (temp file, fsync,
//!   rename, fsync of the directory).
//!
//! Opening loads the index (or, if it is missing or corrupt, rebuilds it by
//! scanning every segment), then scans each segment past what the index
//! covers, so an index that lags the segments is caught up. A torn tail of
//! the last segment (a write cut by a crash) is truncated; a corrupt record
//! elsewhere is counted and never served. Every read checks the record's
//! checksum. Deleting writes a tombstone; `compact` rewrites the live records
//! of segments that are mostly dead and removes those segments.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::RwLock;
use rustc_hash::FxHashMap;

use crate::TierStats;

const SEGMENT_MAGIC: [u8; 4] = *b"CSTS";
const RECORD_MAGIC: [u8; 4] = *b"CSTR";
const INDEX_MAGIC: [u8; 4] = *b"CSTI";
/// Version of the frozen store's files.
pub const STORE_VERSION: u16 = 1;
const SEGMENT_HEADER_LEN: u64 = 16;
const RECORD_HEADER_LEN: usize = 28;
const KIND_PUT: u8 = 1;
const KIND_DELETE: u8 = 2;
/// Largest key accepted.
pub const MAX_KEY_LEN: usize = 1024;
/// Largest value accepted (1 GiB).
pub const MAX_VALUE_LEN: usize = 1 << 30;

/// Errors of the frozen store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrozenError {
    /// An I/O operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Another process (or handle) holds the store's write lock.
    #[error("the store at {0} is in use by another writer")]
    Locked(PathBuf),
    /// A stored record failed its checksum or is malformed; it is not served.
    #[error("corrupt record in {path} at offset {offset}: {what}")]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// Offset of the record.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// A key or value exceeds the limits.
    #[error("key of {key} bytes or value of {value} bytes exceeds the limits")]
    TooLarge {
        /// Key length.
        key: usize,
        /// Value length.
        value: usize,
    },
    /// The store has used up its sequence numbers or segment ids: a record,
    /// the index or a file name claims the highest one (only a corrupt or
    /// forged file can; 2^64 writes or 2^32 segments are out of reach), so
    /// nothing more can be written. What is stored can still be read.
    #[error("the store at {path} has used up its {what}")]
    Exhausted {
        /// The store's directory.
        path: PathBuf,
        /// `"sequence numbers"` or `"segment ids"`.
        what: &'static str,
    },
    /// The directory holds a store of a version this build does not read.
    #[error("{path} has store version {found}; this build reads {STORE_VERSION}")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u16,
    },
}

type Result<T> = std::result::Result<T, FrozenError>;

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> FrozenError + use<> {
    let path = path.to_path_buf();
    move |source| FrozenError::Io { op, path, source }
}

/// Options of a frozen store.
#[derive(Debug, Clone)]
pub struct FrozenOptions {
    /// Start a new segment when the active one reaches this size.
    pub segment_bytes: u64,
    /// `compact` rewrites segments whose dead bytes exceed this fraction.
    pub compact_dead_ratio: f64,
    /// fsync on `flush` (turn off only for tests and throwaway caches).
    pub sync: bool,
}

impl Default for FrozenOptions {
    fn default() -> Self {
        FrozenOptions {
            segment_bytes: 64 << 20,
            compact_dead_ratio: 0.5,
            sync: true,
        }
    }
}

/// What opening found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The index was missing or unreadable and was rebuilt from the segments.
    pub index_rebuilt: bool,
    /// Records read from segments past what the index covered.
    pub records_replayed: u64,
    /// Bytes cut from the end of the last segment (a torn write).
    pub torn_tail_bytes: u64,
    /// Corrupt records found (not served).
    pub corrupt_records: u64,
    /// Index entries dropped because they pointed at a bad record.
    pub index_entries_dropped: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc {
    segment: u32,
    /// Offset of the record header.
    offset: u64,
    value_len: u32,
    seq: u64,
}

impl Loc {
    fn record_len(&self, key_len: usize) -> u64 {
        (RECORD_HEADER_LEN + key_len) as u64 + u64::from(self.value_len)
    }
}

struct Segment {
    id: u32,
    path: PathBuf,
    len: u64,
    live_bytes: u64,
    map: RwLock<Option<Arc<memmap2::Mmap>>>,
}

impl Segment {
    fn path_for(dir: &Path, id: u32) -> PathBuf {
        dir.join(format!("seg-{id:08}.cst"))
    }

    /// A map covering at least `end` bytes (remapping after appends).
    fn map_covering(&self, end: u64) -> Result<Arc<memmap2::Mmap>> {
        if let Some(m) = self.map.read().as_ref()
            && m.len() as u64 >= end
        {
            return Ok(m.clone());
        }
        let mut slot = self.map.write();
        if let Some(m) = slot.as_ref()
            && m.len() as u64 >= end
        {
            return Ok(m.clone());
        }
        let file = File::open(&self.path).map_err(io_err("open", &self.path))?;
        let map = Arc::new(map_file(&file).map_err(io_err("mmap", &self.path))?);
        if (map.len() as u64) < end {
            return Err(FrozenError::Corrupt {
                path: self.path.clone(),
                offset: end,
                what: "record past end of file",
            });
        }
        *slot = Some(map.clone());
        Ok(map)
    }
}

/// Maps a segment read-only.
#[allow(unsafe_code)]
fn map_file(file: &File) -> io::Result<memmap2::Mmap> {
    // SAFETY: segments are append-only. Bytes inside a mapping are never
    // rewritten while the store is open: the only truncation (of a torn tail)
    // happens at open, before any mapping exists, and compaction writes new
    // segments and unlinks old ones (an unlinked file stays valid for existing
    // mappings). Another process modifying our files is excluded by the write
    // lock; a reader still validates every record's checksum before use.
    unsafe { memmap2::Mmap::map(file) }
}

/// An owner for `Bytes::from_owner`: a slice of a mapped segment.
struct MappedSlice {
    map: Arc<memmap2::Mmap>,
    start: usize,
    end: usize,
}

impl AsRef<[u8]> for MappedSlice {
    fn as_ref(&self) -> &[u8] {
        &self.map[self.start..self.end]
    }
}

/// A record header, little-endian:
/// magic[4] version u16 kind u8 reserved u8 key_len u32 value_len u32 seq u64 checksum u32.
struct RecordHeader {
    kind: u8,
    key_len: usize,
    value_len: usize,
    seq: u64,
    checksum: u32,
}

fn encode_record(kind: u8, key: &[u8], value: &[u8], seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(RECORD_HEADER_LEN + key.len() + value.len());
    out.extend_from_slice(&RECORD_MAGIC);
    out.extend_from_slice(&STORE_VERSION.to_le_bytes());
    out.push(kind);
    out.push(0);
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    let sum = record_checksum(&out, key, value);
    out.extend_from_slice(&sum.to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(value);
    out
}

fn record_checksum(header_prefix: &[u8], key: &[u8], value: &[u8]) -> u32 {
    let c = crc32c::crc32c(header_prefix);
    let c = crc32c::crc32c_append(c, key);
    crc32c::crc32c_append(c, value)
}

fn parse_record_header(b: &[u8]) -> std::result::Result<RecordHeader, &'static str> {
    if b.len() < RECORD_HEADER_LEN {
        return Err("truncated record header");
    }
    if b[..4] != RECORD_MAGIC {
        return Err("bad record magic");
    }
    if u16::from_le_bytes([b[4], b[5]]) != STORE_VERSION {
        return Err("unsupported record version");
    }
    let kind = b[6];
    if !(kind == KIND_PUT || kind == KIND_DELETE) || b[7] != 0 {
        return Err("bad record kind");
    }
    let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let key_len = u32_at(8) as usize;
    let value_len = u32_at(12) as usize;
    if key_len == 0 || key_len > MAX_KEY_LEN || value_len > MAX_VALUE_LEN {
        return Err("bad record length");
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&b[16..24]);
    Ok(RecordHeader {
        kind,
        key_len,
        value_len,
        seq: u64::from_le_bytes(seq),
        checksum: u32_at(24),
    })
}

/// Validates the record at `offset` of `data`; returns its header and key/value ranges.
fn check_record(
    data: &[u8],
    offset: usize,
) -> std::result::Result<(RecordHeader, usize, usize), &'static str> {
    let h = parse_record_header(data.get(offset..).ok_or("offset past end")?)?;
    let key_start = offset + RECORD_HEADER_LEN;
    let value_start = key_start + h.key_len;
    let end = value_start + h.value_len;
    if end > data.len() {
        return Err("record runs past the end of the segment");
    }
    let sum = record_checksum(
        &data[offset..offset + 24],
        &data[key_start..value_start],
        &data[value_start..end],
    );
    if sum != h.checksum {
        return Err("record checksum mismatch");
    }
    Ok((h, key_start, value_start))
}

struct Inner {
    index: FxHashMap<Box<[u8]>, Loc>,
    segments: BTreeMap<u32, Segment>,
    active: Option<(u32, File)>,
    next_seq: u64,
    stats: TierStats,
    /// Bytes appended since the last flush (for `unflushed_bytes`).
    unflushed: u64,
}

/// The frozen tier. `Send + Sync`; reads take a shared lock, writes an
/// exclusive one (reads of mapped bytes happen outside the lock).
pub struct FrozenStore {
    hits: AtomicU64,
    misses: AtomicU64,
    checksum_failures: AtomicU64,
    dir: PathBuf,
    options: FrozenOptions,
    _lock: File,
    inner: RwLock<Inner>,
    recovery: Recovery,
    /// Held while an index snapshot is taken, written and renamed into
    /// place: concurrent flushes share the temporary file's name, and a
    /// later snapshot must not be replaced by an earlier one.
    snapshot: parking_lot::Mutex<()>,
}

impl std::fmt::Debug for FrozenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrozenStore")
            .field("dir", &self.dir)
            .finish()
    }
}

impl FrozenStore {
    /// Opens (creating if needed) the store in `dir`, recovering from crashes.
    pub fn open(dir: impl AsRef<Path>, options: FrozenOptions) -> Result<FrozenStore> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("open", &lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(FrozenError::Locked(dir)),
            Err(fs::TryLockError::Error(e)) => return Err(io_err("lock", &lock_path)(e)),
        }
        let mut recovery = Recovery::default();
        let mut inner = Inner {
            index: FxHashMap::default(),
            segments: BTreeMap::new(),
            active: None,
            next_seq: 1,
            stats: TierStats::default(),
            unflushed: 0,
        };

        // Segments present on disk.
        let mut ids = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_err("list", &dir))? {
            let entry = entry.map_err(io_err("list", &dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(digits) = name
                .strip_prefix("seg-")
                .and_then(|r| r.strip_suffix(".cst"))
            {
                // Only the names the store writes (`seg-{id:08}.cst`): a
                // stray `seg-1.cst` or `seg-+0000001.cst` would parse to an
                // id whose file is another one.
                if let Ok(id) = digits.parse::<u32>()
                    && format!("{id:08}") == digits
                {
                    ids.push(id);
                }
            } else if name.starts_with("index.cst.tmp") {
                // A snapshot interrupted before its rename: never valid.
                let _ = fs::remove_file(entry.path());
            }
        }
        ids.sort_unstable();
        let last_id = ids.last().copied();
        for &id in &ids {
            let path = Segment::path_for(&dir, id);
            let len = fs::metadata(&path).map_err(io_err("stat", &path))?.len();
            inner.segments.insert(
                id,
                Segment {
                    id,
                    path,
                    len,
                    live_bytes: 0,
                    map: RwLock::new(None),
                },
            );
        }

        // The index snapshot, if valid; what it covers of each segment.
        let index_path = dir.join("index.cst");
        let covered = match read_index(&index_path) {
            Ok(Some((entries, covered, next_seq))) => {
                inner.next_seq = next_seq;
                for (key, loc) in entries {
                    inner.index.insert(key, loc);
                }
                covered
            }
            Ok(None) => BTreeMap::new(),
            Err(_) => {
                recovery.index_rebuilt = true;
                BTreeMap::new()
            }
        };
        if covered.is_empty() && !ids.is_empty() && !recovery.index_rebuilt {
            recovery.index_rebuilt = !index_path.exists();
        }
        // An index entry must point into a segment that exists and is long enough.
        let seg_lens: FxHashMap<u32, u64> =
            inner.segments.values().map(|s| (s.id, s.len)).collect();
        let before = inner.index.len();
        inner.index.retain(|k, loc| {
            let end = loc.offset + loc.record_len(k.len());
            seg_lens
                .get(&loc.segment)
                .is_some_and(|&l| end <= l && covered.get(&loc.segment).is_some_and(|&c| end <= c))
        });
        recovery.index_entries_dropped += (before - inner.index.len()) as u64;

        // Replay every segment past what the index covers.
        for &id in &ids {
            // A segment shorter than the index says lost its tail after the
            // snapshot: re-read all of it to find where its records end.
            let seg_len = inner.segments[&id].len;
            let start = covered
                .get(&id)
                .copied()
                .filter(|&c| c <= seg_len)
                .unwrap_or(0);
            let is_last = Some(id) == last_id;
            let replay = replay_segment(&mut inner, id, start, is_last, &mut recovery)?;
            if let Some(valid_end) = replay {
                // Torn tail of the last segment: cut it.
                let seg = inner.segments.get_mut(&id).expect("listed");
                recovery.torn_tail_bytes += seg.len - valid_end;
                let f = OpenOptions::new()
                    .write(true)
                    .open(&seg.path)
                    .map_err(io_err("open", &seg.path))?;
                f.set_len(valid_end)
                    .map_err(io_err("truncate", &seg.path))?;
                f.sync_all().map_err(io_err("fsync", &seg.path))?;
                seg.len = valid_end;
            }
        }

        // Live bytes per segment and totals.
        for (k, loc) in &inner.index {
            let len = loc.record_len(k.len());
            if let Some(s) = inner.segments.get_mut(&loc.segment) {
                s.live_bytes += len;
            }
        }
        inner.stats.entries = inner.index.len() as u64;
        inner.stats.bytes = inner.index.values().map(|l| u64::from(l.value_len)).sum();
        let store = FrozenStore {
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            checksum_failures: AtomicU64::new(recovery.corrupt_records),
            dir,
            options,
            _lock: lock,
            inner: RwLock::new(inner),
            recovery,
            snapshot: parking_lot::Mutex::new(()),
        };
        if store.recovery != Recovery::default() {
            // Persist what recovery learnt, so the next open is fast.
            store.write_index()?;
        }
        Ok(store)
    }

    /// What opening found and repaired.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The value stored under `key`, checked against its checksum. A corrupt
    /// record is reported as an error (and counted), never returned.
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        let (loc, path, map_src) = {
            let inner = self.inner.read();
            let Some(&loc) = inner.index.get(key) else {
                self.misses.fetch_add(1, Ordering::Relaxed);
                return Ok(None);
            };
            let seg = inner
                .segments
                .get(&loc.segment)
                .expect("index points at a known segment");
            let end = loc.offset + loc.record_len(key.len());
            (loc, seg.path.clone(), seg.map_covering(end))
        };
        let map = map_src?;
        let checked = check_record(&map, loc.offset as usize);
        match checked {
            Ok((h, key_start, value_start))
                if h.kind == KIND_PUT && &map[key_start..value_start] == key =>
            {
                self.hits.fetch_add(1, Ordering::Relaxed);
                let end = value_start + h.value_len;
                Ok(Some(Bytes::from_owner(MappedSlice {
                    map,
                    start: value_start,
                    end,
                })))
            }
            Ok(_) => {
                self.checksum_failures.fetch_add(1, Ordering::Relaxed);
                Err(FrozenError::Corrupt {
                    path,
                    offset: loc.offset,
                    what: "record does not match the index",
                })
            }
            Err(what) => {
                self.checksum_failures.fetch_add(1, Ordering::Relaxed);
                Err(FrozenError::Corrupt {
                    path,
                    offset: loc.offset,
                    what,
                })
            }
        }
    }

    /// Whether `key` is stored (without reading it).
    pub fn contains(&self, key: &[u8]) -> bool {
        self.inner.read().index.contains_key(key)
    }

    /// Stores `value` under `key` (replacing any earlier value). Durable after [`flush`](Self::flush).
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        if key.is_empty() || key.len() > MAX_KEY_LEN || value.len() > MAX_VALUE_LEN {
            return Err(FrozenError::TooLarge {
                key: key.len(),
                value: value.len(),
            });
        }
        let mut inner = self.inner.write();
        self.put_locked(&mut inner, key, value)
    }

    /// `put` under the write lock the caller holds.
    fn put_locked(&self, inner: &mut Inner, key: &[u8], value: &[u8]) -> Result<()> {
        let (seq, next) = self.next_seq(inner)?;
        let record = encode_record(KIND_PUT, key, value, seq);
        let (segment, offset) = self.append(inner, &record)?;
        inner.next_seq = next;
        let loc = Loc {
            segment,
            offset,
            value_len: value.len() as u32,
            seq,
        };
        let added = loc.record_len(key.len());
        if let Some(old) = inner.index.insert(key.into(), loc) {
            let old_len = old.record_len(key.len());
            if let Some(s) = inner.segments.get_mut(&old.segment) {
                s.live_bytes -= old_len;
            }
            inner.stats.bytes -= u64::from(old.value_len);
        } else {
            inner.stats.entries += 1;
        }
        inner.stats.bytes += value.len() as u64;
        inner.segments.get_mut(&segment).expect("active").live_bytes += added;
        Ok(())
    }

    /// Removes `key`; returns whether it was stored. Durable after `flush`.
    pub fn remove(&self, key: &[u8]) -> Result<bool> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(FrozenError::TooLarge {
                key: key.len(),
                value: 0,
            });
        }
        let mut inner = self.inner.write();
        let Some(old) = inner.index.get(key).copied() else {
            return Ok(false);
        };
        let (seq, next) = self.next_seq(&inner)?;
        let record = encode_record(KIND_DELETE, key, &[], seq);
        self.append(&mut inner, &record)?;
        inner.next_seq = next;
        inner.index.remove(key);
        if let Some(s) = inner.segments.get_mut(&old.segment) {
            s.live_bytes -= old.record_len(key.len());
        }
        inner.stats.entries -= 1;
        inner.stats.bytes -= u64::from(old.value_len);
        Ok(true)
    }

    /// The sequence number of the next write and the one after it.
    fn next_seq(&self, inner: &Inner) -> Result<(u64, u64)> {
        let seq = inner.next_seq;
        match seq.checked_add(1) {
            Some(next) => Ok((seq, next)),
            None => Err(FrozenError::Exhausted {
                path: self.dir.clone(),
                what: "sequence numbers",
            }),
        }
    }

    fn append(&self, inner: &mut Inner, record: &[u8]) -> Result<(u32, u64)> {
        let needs_new = match &inner.active {
            None => true,
            Some((id, _)) => {
                inner.segments[id].len + record.len() as u64 > self.options.segment_bytes
            }
        };
        if needs_new {
            let id = match inner.segments.keys().next_back() {
                None => 1,
                Some(last) => last.checked_add(1).ok_or_else(|| FrozenError::Exhausted {
                    path: self.dir.clone(),
                    what: "segment ids",
                })?,
            };
            if let Some((_, f)) = inner.active.take()
                && self.options.sync
            {
                f.sync_all().map_err(io_err("fsync", &self.dir))?;
            }
            let path = Segment::path_for(&self.dir, id);
            let mut f = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)
                .map_err(io_err("create", &path))?;
            let mut header = Vec::with_capacity(SEGMENT_HEADER_LEN as usize);
            header.extend_from_slice(&SEGMENT_MAGIC);
            header.extend_from_slice(&STORE_VERSION.to_le_bytes());
            header.extend_from_slice(&[0, 0]);
            header.extend_from_slice(&id.to_le_bytes());
            header.extend_from_slice(&crc32c::crc32c(&header).to_le_bytes());
            f.write_all(&header).map_err(io_err("write", &path))?;
            if self.options.sync {
                sync_dir(&self.dir)?;
            }
            inner.segments.insert(
                id,
                Segment {
                    id,
                    path,
                    len: SEGMENT_HEADER_LEN,
                    live_bytes: 0,
                    map: RwLock::new(None),
                },
            );
            inner.active = Some((id, f));
        } else if inner.active.is_none() {
            unreachable!("checked above");
        }
        let (id, file) = inner.active.as_mut().expect("set above");
        let id = *id;
        let seg_path = inner.segments[&id].path.clone();
        file.write_all(record).map_err(io_err("write", &seg_path))?;
        let seg = inner.segments.get_mut(&id).expect("active");
        let offset = seg.len;
        seg.len += record.len() as u64;
        inner.unflushed += record.len() as u64;
        Ok((id, offset))
    }

    /// Makes every write so far durable: fsyncs the active segment and
    /// atomically replaces the index snapshot.
    pub fn flush(&self) -> Result<()> {
        self.flush_inner(false)
    }

    /// `force`: write the index snapshot even if nothing was appended (after
    /// compaction, whose index changes need not append anything).
    fn flush_inner(&self, force: bool) -> Result<()> {
        {
            let mut inner = self.inner.write();
            if inner.unflushed == 0 && !force {
                // Nothing written since the last flush (or since open, whose
                // recovery already wrote the index when it repaired anything).
                return Ok(());
            }
            if let Some((id, f)) = &inner.active
                && self.options.sync
            {
                let path = inner.segments[id].path.clone();
                f.sync_data().map_err(io_err("fsync", &path))?;
            }
            inner.unflushed = 0;
        }
        self.write_index()
    }

    /// Bytes written since the last flush (lost if the process dies now).
    pub fn unflushed_bytes(&self) -> u64 {
        self.inner.read().unflushed
    }

    fn write_index(&self) -> Result<()> {
        let _one_at_a_time = self.snapshot.lock();
        let inner = self.inner.read();
        let mut body = Vec::with_capacity(inner.index.len() * 56);
        body.extend_from_slice(&(inner.segments.len() as u32).to_le_bytes());
        for s in inner.segments.values() {
            body.extend_from_slice(&s.id.to_le_bytes());
            body.extend_from_slice(&s.len.to_le_bytes());
        }
        body.extend_from_slice(&inner.next_seq.to_le_bytes());
        body.extend_from_slice(&(inner.index.len() as u64).to_le_bytes());
        // Deterministic order: by location.
        let mut entries: Vec<(&Box<[u8]>, &Loc)> = inner.index.iter().collect();
        entries.sort_by_key(|(_, l)| (l.segment, l.offset));
        for (k, l) in entries {
            body.extend_from_slice(&(k.len() as u32).to_le_bytes());
            body.extend_from_slice(k);
            body.extend_from_slice(&l.segment.to_le_bytes());
            body.extend_from_slice(&l.offset.to_le_bytes());
            body.extend_from_slice(&l.value_len.to_le_bytes());
            body.extend_from_slice(&l.seq.to_le_bytes());
        }
        drop(inner);
        let mut file_bytes = Vec::with_capacity(body.len() + 16);
        file_bytes.extend_from_slice(&INDEX_MAGIC);
        file_bytes.extend_from_slice(&STORE_VERSION.to_le_bytes());
        file_bytes.extend_from_slice(&[0, 0]);
        file_bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
        file_bytes.extend_from_slice(&body);
        let sum = crc32c::crc32c(&file_bytes);
        file_bytes.extend_from_slice(&sum.to_le_bytes());
        let tmp = self
            .dir
            .join(format!("index.cst.tmp{}", std::process::id()));
        let path = self.dir.join("index.cst");
        {
            let mut f = File::create(&tmp).map_err(io_err("create", &tmp))?;
            f.write_all(&file_bytes).map_err(io_err("write", &tmp))?;
            if self.options.sync {
                f.sync_all().map_err(io_err("fsync", &tmp))?;
            }
        }
        fs::rename(&tmp, &path).map_err(io_err("rename", &path))?;
        if self.options.sync {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Rewrites the live records of segments whose dead fraction exceeds
    /// `compact_dead_ratio` (never the active one) and removes those
    /// segments. Returns the bytes reclaimed.
    pub fn compact(&self) -> Result<u64> {
        let victims: Vec<(u32, PathBuf, u64)> = {
            let inner = self.inner.read();
            let active = inner.active.as_ref().map(|a| a.0);
            inner
                .segments
                .values()
                .filter(|s| Some(s.id) != active)
                .filter(|s| {
                    let payload = s.len.saturating_sub(SEGMENT_HEADER_LEN).max(1);
                    1.0 - s.live_bytes as f64 / payload as f64 > self.options.compact_dead_ratio
                })
                .map(|s| (s.id, s.path.clone(), s.len))
                .collect()
        };
        let mut reclaimed = 0;
        for (id, _, len) in &victims {
            let keys: Vec<Box<[u8]>> = {
                let inner = self.inner.read();
                inner
                    .index
                    .iter()
                    .filter(|(_, l)| l.segment == *id)
                    .map(|(k, _)| k.clone())
                    .collect()
            };
            for key in keys {
                // Re-put what still lives there (a corrupt record is dropped and counted).
                // The check that the key still lives there and the move
                // happen under one write lock: a key removed (or written
                // again) in between must not be brought back by the copy.
                match self.get(&key) {
                    Ok(Some(value)) => {
                        let mut inner = self.inner.write();
                        if inner.index.get(&key).is_some_and(|l| l.segment == *id) {
                            self.put_locked(&mut inner, &key, &value)?;
                        }
                    }
                    Ok(None) => {}
                    Err(FrozenError::Corrupt { .. }) => {
                        let mut inner = self.inner.write();
                        if inner.index.get(&key).is_some_and(|l| l.segment == *id)
                            && let Some(l) = inner.index.remove(&key)
                        {
                            inner.stats.entries -= 1;
                            inner.stats.bytes -= u64::from(l.value_len);
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            reclaimed += len;
        }
        if victims.is_empty() {
            return Ok(0);
        }
        // Make the moved records and the new index durable before unlinking.
        self.flush_inner(true)?;
        let mut inner = self.inner.write();
        for (id, path, _) in &victims {
            inner.segments.remove(id);
            fs::remove_file(path).map_err(io_err("remove", path))?;
        }
        drop(inner);
        if self.options.sync {
            sync_dir(&self.dir)?;
        }
        Ok(reclaimed)
    }

    /// Counters of this tier.
    pub fn stats(&self) -> TierStats {
        let mut s = self.inner.read().stats.clone();
        s.hits = self.hits.load(Ordering::Relaxed);
        s.misses = self.misses.load(Ordering::Relaxed);
        s.checksum_failures = self.checksum_failures.load(Ordering::Relaxed);
        s
    }

    /// Bytes of all segment files on disk (live and dead records).
    pub fn disk_bytes(&self) -> u64 {
        self.inner.read().segments.values().map(|s| s.len).sum()
    }

    /// Every stored key (in no particular order).
    pub fn keys(&self) -> Vec<Box<[u8]>> {
        self.inner.read().index.keys().cloned().collect()
    }
}

impl Drop for FrozenStore {
    fn drop(&mut self) {
        // Persistence on drop; errors here cannot be reported, and whatever
        // was not flushed is at worst a torn tail that the next open repairs.
        let _ = self.flush();
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("fsync", dir))
}

type IndexContents = (Vec<(Box<[u8]>, Loc)>, BTreeMap<u32, u64>, u64);

/// Reads the index snapshot. `Ok(None)`: there is none. `Err`: it is corrupt.
fn read_index(path: &Path) -> std::result::Result<Option<IndexContents>, &'static str> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(_) => return Err("unreadable"),
    };
    if bytes.len() < 20 || bytes[..4] != INDEX_MAGIC {
        return Err("bad magic");
    }
    let (content, sum) = bytes.split_at(bytes.len() - 4);
    if crc32c::crc32c(content) != u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]) {
        return Err("checksum");
    }
    if u16::from_le_bytes([content[4], content[5]]) != STORE_VERSION {
        return Err("version");
    }
    let mut r = &content[16..];
    let mut take = |n: usize| -> std::result::Result<&[u8], &'static str> {
        if r.len() < n {
            return Err("truncated");
        }
        let (a, b) = r.split_at(n);
        r = b;
        Ok(a)
    };
    let u32v = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let u64v = |b: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        u64::from_le_bytes(a)
    };
    let nseg = u32v(take(4)?) as usize;
    let mut covered = BTreeMap::new();
    for _ in 0..nseg {
        let id = u32v(take(4)?);
        covered.insert(id, u64v(take(8)?));
    }
    let next_seq = u64v(take(8)?);
    let n = u64v(take(8)?);
    let mut entries = Vec::new();
    for _ in 0..n {
        let klen = u32v(take(4)?) as usize;
        if klen == 0 || klen > MAX_KEY_LEN {
            return Err("key length");
        }
        let key: Box<[u8]> = take(klen)?.into();
        let segment = u32v(take(4)?);
        let offset = u64v(take(8)?);
        let value_len = u32v(take(4)?);
        let seq = u64v(take(8)?);
        entries.push((
            key,
            Loc {
                segment,
                offset,
                value_len,
                seq,
            },
        ));
    }
    Ok(Some((entries, covered, next_seq)))
}

/// The offset of the next intact record at or after `from`.
fn next_valid_record(data: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = data.get(at..)?.windows(4).position(|w| w == RECORD_MAGIC) {
        if check_record(data, at + i).is_ok() {
            return Some(at + i);
        }
        at += i + 1;
    }
    None
}

/// The segment's header (up to 16 bytes) and its bytes from `start` on
/// (all of it when `start` is within the header), with the offset they
/// start at.
fn read_segment_from(path: &Path, start: u64) -> Result<(Vec<u8>, Vec<u8>, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    if start <= SEGMENT_HEADER_LEN {
        let data = fs::read(path).map_err(io_err("read", path))?;
        let header = data[..data.len().min(SEGMENT_HEADER_LEN as usize)].to_vec();
        return Ok((header, data, 0));
    }
    let mut f = File::open(path).map_err(io_err("open", path))?;
    let mut header = Vec::with_capacity(SEGMENT_HEADER_LEN as usize);
    (&mut f)
        .take(SEGMENT_HEADER_LEN)
        .read_to_end(&mut header)
        .map_err(io_err("read", path))?;
    f.seek(SeekFrom::Start(start))
        .map_err(io_err("seek", path))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(io_err("read", path))?;
    Ok((header, tail, start))
}

/// Scans segment `id` from `start`, applying records to the index. Returns
/// `Some(valid_end)` when the last segment ends in a torn or corrupt tail
/// that must be truncated.
fn replay_segment(
    inner: &mut Inner,
    id: u32,
    start: u64,
    is_last: bool,
    rec: &mut Recovery,
) -> Result<Option<u64>> {
    let seg = &inner.segments[&id];
    let path = seg.path.clone();
    // Only the part past what the snapshot covers is read: opening a clean
    // store reads no segment body, just each 16-byte header.
    let (header, data, base) = read_segment_from(&path, start)?;
    // Segment header. Its layout is the same in every version, so only a
    // header whose checksum holds tells another version; a header whose
    // checksum fails is corruption, whatever its version field says (a
    // flipped bit must not make the whole store unopenable).
    let header_ok = header.len() >= SEGMENT_HEADER_LEN as usize
        && header[..4] == SEGMENT_MAGIC
        && crc32c::crc32c(&header[..12])
            == u32::from_le_bytes([header[12], header[13], header[14], header[15]]);
    if header_ok && u16::from_le_bytes([header[4], header[5]]) != STORE_VERSION {
        return Err(FrozenError::UnsupportedVersion {
            path,
            found: u16::from_le_bytes([header[4], header[5]]),
        });
    }
    if !header_ok {
        // A segment whose header never made it to disk (or was destroyed).
        rec.corrupt_records += u64::from(base as usize + data.len() > SEGMENT_HEADER_LEN as usize);
        inner.index.retain(|_, l| l.segment != id);
        return Ok(if is_last { Some(0) } else { None });
    }
    // `off` indexes `data`, which starts at byte `base` of the segment.
    let mut off = (start.max(SEGMENT_HEADER_LEN) - base) as usize;
    while off < data.len() {
        match check_record(&data, off) {
            Ok((h, key_start, value_start)) => {
                let key = &data[key_start..value_start];
                let current = inner.index.get(key).map(|l| l.seq);
                if current.is_none_or(|s| s < h.seq) {
                    if h.kind == KIND_PUT {
                        inner.index.insert(
                            key.into(),
                            Loc {
                                segment: id,
                                offset: base + off as u64,
                                value_len: h.value_len as u32,
                                seq: h.seq,
                            },
                        );
                    } else {
                        inner.index.remove(key);
                    }
                }
                // `u64::MAX` (never written by us) leaves the store read-only.
                inner.next_seq = inner.next_seq.max(h.seq.saturating_add(1));
                rec.records_replayed += 1;
                off = value_start + h.value_len;
            }
            Err(_) => match next_valid_record(&data, off + 1) {
                // Corruption in the middle: skip to the next intact record.
                Some(next) => {
                    rec.corrupt_records += 1;
                    let bad = base + off as u64..base + next as u64;
                    inner
                        .index
                        .retain(|_, l| !(l.segment == id && bad.contains(&l.offset)));
                    off = next;
                }
                // Nothing intact follows: a torn tail (cut it in the last
                // segment, where writes end) or a damaged end of a sealed one.
                None => {
                    let at = base + off as u64;
                    inner
                        .index
                        .retain(|_, l| !(l.segment == id && l.offset >= at));
                    if is_last {
                        return Ok(Some(at));
                    }
                    rec.corrupt_records += 1;
                    return Ok(None);
                }
            },
        }
    }
    Ok(None)
}
