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
//!
//! Any number of readers ([`FrozenStore::open_read_only`]) may open the
//! store beside its one writer, in this process or others: a reader takes
//! no lock and changes nothing on disk, sees a consistent snapshot of what
//! was written when it opened, and sees newer writes after
//! [`FrozenStore::refresh`].
//!
//! The modules follow FORMAT.md's sections: [`record`], [`segment`] (with
//! the one `unsafe` memory map), [`snapshot`] and [`recovery`].

mod index;
mod record;
mod recovery;
mod segment;
mod snapshot;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::RwLock;

use crate::TierStats;
use record::{KIND_DELETE, KIND_PUT, RECORD_HEADER_LEN, check_record, encode_record};
use recovery::Mode;
use segment::{MappedSlice, SEGMENT_HEADER_LEN, Segment};

/// Version of the frozen store's files.
pub const STORE_VERSION: u16 = 1;
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
    /// A write to a store opened read-only.
    #[error("the store at {0} is open read-only")]
    ReadOnly(PathBuf),
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
    /// `open` waits for another writer to release the store instead of
    /// failing with [`FrozenError::Locked`].
    pub wait_for_lock: bool,
}

impl Default for FrozenOptions {
    fn default() -> Self {
        FrozenOptions {
            segment_bytes: 64 << 20,
            compact_dead_ratio: 0.5,
            sync: true,
            wait_for_lock: false,
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
    /// A reader only: bytes at the end of the newest segment that do not
    /// (yet) form a whole record — a write in progress, or a torn write the
    /// next writer will cut. Not served, and not lost data.
    pub unfinished_tail_bytes: u64,
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

struct Inner {
    index: index::Index,
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
    /// The writer's lock; `None` for a reader.
    lock: Option<File>,
    inner: RwLock<Inner>,
    recovery: Recovery,
    /// Held while an index snapshot is taken, written and renamed into
    /// place: concurrent flushes share the temporary file's name, and a
    /// later snapshot must not be replaced by an earlier one.
    snapshot: parking_lot::Mutex<()>,
    /// Held by a compaction.
    compacting: parking_lot::Mutex<()>,
}

impl std::fmt::Debug for FrozenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrozenStore")
            .field("dir", &self.dir)
            .field("read_only", &self.is_read_only())
            .finish()
    }
}

impl FrozenStore {
    /// Opens (creating if needed) the store in `dir` for writing, recovering
    /// from crashes. Fails with [`FrozenError::Locked`] while another writer
    /// holds it, unless `options.wait_for_lock`.
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
        if options.wait_for_lock {
            lock.lock().map_err(io_err("lock", &lock_path))?;
        } else {
            match lock.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Err(FrozenError::Locked(dir)),
                Err(fs::TryLockError::Error(e)) => return Err(io_err("lock", &lock_path)(e)),
            }
        }
        let loaded = recovery::load(&dir, Mode::Writer, true)?.expect("only a reader races");
        let mut inner = loaded.inner;
        if let Some((id, valid_end)) = loaded.truncate {
            // Torn tail of the last segment: cut it.
            let seg = inner.segments.get_mut(&id).expect("listed");
            let f = OpenOptions::new()
                .write(true)
                .open(&seg.path)
                .map_err(io_err("open", &seg.path))?;
            f.set_len(valid_end)
                .map_err(io_err("truncate", &seg.path))?;
            f.sync_all().map_err(io_err("fsync", &seg.path))?;
        }
        let recovery = loaded.recovery;
        let old_snapshot = loaded.old_snapshot;
        let store = FrozenStore {
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            checksum_failures: AtomicU64::new(recovery.corrupt_records),
            dir,
            options,
            lock: Some(lock),
            inner: RwLock::new(inner),
            recovery,
            snapshot: parking_lot::Mutex::new(()),
            compacting: parking_lot::Mutex::new(()),
        };
        if store.recovery != Recovery::default() || old_snapshot {
            // Persist what recovery learnt (or the snapshot in the current
            // layout), so the next open is fast.
            store.write_index()?;
        }
        Ok(store)
    }

    /// Opens the store in `dir` for reading, beside whichever writer holds
    /// it: no lock is taken and nothing on disk is changed (a missing
    /// directory is an empty store). The reader sees what was written up to
    /// the moment it opened (records are complete and checksummed, so a
    /// write in progress is never seen in part), and newer writes after
    /// [`refresh`](Self::refresh). Writes fail with [`FrozenError::ReadOnly`].
    pub fn open_read_only(dir: impl AsRef<Path>, options: FrozenOptions) -> Result<FrozenStore> {
        let dir = dir.as_ref().to_path_buf();
        let (inner, recovery) = Self::load_reader(&dir)?;
        Ok(FrozenStore {
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            checksum_failures: AtomicU64::new(recovery.corrupt_records),
            dir,
            options,
            lock: None,
            inner: RwLock::new(inner),
            recovery,
            snapshot: parking_lot::Mutex::new(()),
            compacting: parking_lot::Mutex::new(()),
        })
    }

    fn load_reader(dir: &Path) -> Result<(Inner, Recovery)> {
        // A compaction that unlinks a segment between reading the snapshot
        // and opening the segment makes the load start again (it wrote a
        // newer snapshot first); a segment still missing after a few
        // attempts (63 ms) is lost, not raced, and its entries are dropped
        // as the writer would.
        for wait_ms in [0, 1, 2, 4, 8, 16, 32] {
            std::thread::sleep(std::time::Duration::from_millis(wait_ms));
            if let Some(l) = recovery::load(dir, Mode::Reader, false)? {
                return Ok((l.inner, l.recovery));
            }
        }
        let l = recovery::load(dir, Mode::Reader, true)?.expect("tolerating missing segments");
        Ok((l.inner, l.recovery))
    }

    /// A reader: loads the store's current state (what the writer flushed
    /// or appended since this reader opened or last refreshed). Values
    /// handed out before stay valid. A writer's own state is always
    /// current; for it this does nothing.
    pub fn refresh(&self) -> Result<()> {
        if !self.is_read_only() {
            return Ok(());
        }
        let (fresh, _) = Self::load_reader(&self.dir)?;
        *self.inner.write() = fresh;
        Ok(())
    }

    /// Whether this handle was opened with [`open_read_only`](Self::open_read_only).
    pub fn is_read_only(&self) -> bool {
        self.lock.is_none()
    }

    fn check_writable(&self) -> Result<()> {
        match self.lock {
            Some(_) => Ok(()),
            None => Err(FrozenError::ReadOnly(self.dir.clone())),
        }
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
            let Some(loc) = inner.index.get(key) else {
                self.misses.fetch_add(1, Ordering::Relaxed);
                return Ok(None);
            };
            // Every entry names a segment of the store (open checks what a
            // snapshot names); a forged snapshot gets an error, not a panic.
            let Some(seg) = inner.segments.get(&loc.segment) else {
                self.checksum_failures.fetch_add(1, Ordering::Relaxed);
                return Err(FrozenError::Corrupt {
                    path: self.dir.join("index.cst"),
                    offset: loc.offset,
                    what: "index entry names no segment",
                });
            };
            let Some(end) = loc.offset.checked_add(loc.record_len(key.len())) else {
                self.checksum_failures.fetch_add(1, Ordering::Relaxed);
                return Err(FrozenError::Corrupt {
                    path: seg.path.clone(),
                    offset: loc.offset,
                    what: "index entry points past any file",
                });
            };
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
        self.check_writable()?;
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
        if let Some(old) = inner.index.insert(key, loc) {
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
        self.check_writable()?;
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(FrozenError::TooLarge {
                key: key.len(),
                value: 0,
            });
        }
        let mut inner = self.inner.write();
        let Some(old) = inner.index.get(key) else {
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
            f.write_all(&segment::encode_header(id))
                .map_err(io_err("write", &path))?;
            if self.options.sync {
                sync_dir(&self.dir)?;
            }
            inner
                .segments
                .insert(id, Segment::new(id, path, SEGMENT_HEADER_LEN, None));
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
        if self.is_read_only() {
            return Ok(());
        }
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
        let (bytes, epoch) = {
            let inner = self.inner.read();
            (snapshot::encode(&inner), inner.index.epoch())
        };
        snapshot::replace(&self.dir, &bytes, self.options.sync)?;
        // The table just written becomes the index's base (its changes are
        // folded in), unless something changed meanwhile.
        if self.inner.read().index.epoch() == epoch
            && let Some(table) = snapshot::table_of(bytes)
        {
            self.inner.write().index.rebase(table, epoch);
        }
        Ok(())
    }

    /// Rewrites the live records of segments whose dead fraction exceeds
    /// `compact_dead_ratio` (never the active one) and removes those
    /// segments. Returns the bytes reclaimed.
    pub fn compact(&self) -> Result<u64> {
        self.compact_with(self.options.compact_dead_ratio)
    }

    /// [`compact`](Self::compact) with another dead fraction. Readers are
    /// not held up: each record is copied under the shared lock and only
    /// its append takes the exclusive one; readers in other processes keep
    /// the unlinked segments they opened.
    pub fn compact_with(&self, dead_ratio: f64) -> Result<u64> {
        self.check_writable()?;
        // One compaction at a time (a background one and an explicit one
        // would pick the same victims).
        let _one_at_a_time = self.compacting.lock();
        let victims: Vec<(u32, PathBuf, u64)> = {
            let inner = self.inner.read();
            let active = inner.active.as_ref().map(|a| a.0);
            inner
                .segments
                .values()
                .filter(|s| Some(s.id) != active)
                .filter(|s| {
                    let payload = s.len.saturating_sub(SEGMENT_HEADER_LEN).max(1);
                    1.0 - s.live_bytes as f64 / payload as f64 > dead_ratio
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
                    .map(|(k, _)| k.into())
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
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(io_err("remove", path)(e));
                }
                _ => {}
            }
        }
        drop(inner);
        if self.options.sync {
            sync_dir(&self.dir)?;
        }
        // A snapshot that no longer names the removed segments: one that
        // names a missing segment makes every open check each entry.
        self.write_index()?;
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

    /// Bytes of the live records (headers, keys and values); the rest of
    /// [`disk_bytes`](Self::disk_bytes) is dead (replaced or deleted
    /// records, segment headers) until compaction.
    pub fn live_bytes(&self) -> u64 {
        self.inner
            .read()
            .segments
            .values()
            .map(|s| s.live_bytes)
            .sum()
    }

    /// Every stored key (in no particular order).
    pub fn keys(&self) -> Vec<Box<[u8]>> {
        self.inner
            .read()
            .index
            .iter()
            .map(|(k, _)| k.into())
            .collect()
    }

    /// Every stored key with its record's sequence number (higher is newer)
    /// and its size on disk (header, key and value), in no particular order.
    pub fn entries(&self) -> Vec<Entry> {
        self.inner
            .read()
            .index
            .iter()
            .map(|(k, l)| Entry {
                key: k.into(),
                seq: l.seq,
                record_bytes: l.record_len(k.len()),
            })
            .collect()
    }
}

/// A stored key, as [`FrozenStore::entries`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: Box<[u8]>,
    /// Sequence number of its record: the order records were written in.
    pub seq: u64,
    /// Bytes its record takes on disk.
    pub record_bytes: u64,
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
