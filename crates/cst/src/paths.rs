//! The path map's records and their on-disk codec (docs/FORMAT.md, "Path
//! map"): which content key, language and source hash each indexed path
//! has, and the file status that lets a re-index trust an unchanged file
//! without reading it, as `git status` trusts its index.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use cst_bytecode::varint::{put, unzigzag, zigzag as zz};
use cst_tiers::Key;
use rustc_hash::FxHashMap;

const MAGIC: &[u8; 4] = b"CSTP";
const VERSION: u8 = 2;

/// A file whose modification time is this close to the moment its status
/// was taken may have changed again within the file system's timestamp
/// granularity (2 s on FAT, 1 s on some network file systems) without its
/// time moving: such a file is read and hashed again, never trusted by its
/// status (git's "racy" rule).
pub(crate) const RACY_NS: i64 = 2_000_000_000;

/// What a path's status was when it was indexed: size, modification and
/// change times in nanoseconds, inode and device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStat {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
    pub dev: u64,
}

impl FileStat {
    pub(crate) fn of(meta: &std::fs::Metadata) -> FileStat {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileStat {
                size: meta.len(),
                mtime_ns: meta
                    .mtime()
                    .saturating_mul(1_000_000_000)
                    .saturating_add(meta.mtime_nsec()),
                ctime_ns: meta
                    .ctime()
                    .saturating_mul(1_000_000_000)
                    .saturating_add(meta.ctime_nsec()),
                ino: meta.ino(),
                dev: meta.dev(),
            }
        }
        #[cfg(not(unix))]
        {
            let ns = |t: std::io::Result<std::time::SystemTime>| {
                t.ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos() as i64)
            };
            FileStat {
                size: meta.len(),
                mtime_ns: ns(meta.modified()),
                ctime_ns: ns(meta.created()),
                ino: 0,
                dev: 0,
            }
        }
    }
}

/// Wall-clock nanoseconds since the epoch.
pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// What an index run learnt about a file, so that the next run can count
/// it without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Indexed {
    /// The file's status when it was read.
    pub stat: FileStat,
    /// When that status was taken.
    pub stat_ns: i64,
    /// Lines and nodes of the file (for the index report).
    pub lines: u64,
    pub nodes: u64,
    /// The grammar's fingerprint at the time (a grammar upgrade re-reads).
    pub fingerprint: [u8; 16],
}

impl Indexed {
    /// The file was modified within the timestamp granularity before its
    /// status was taken: it may change again unseen, so it is not trusted.
    pub(crate) fn is_racy(&self) -> bool {
        self.stat.mtime_ns.saturating_add(RACY_NS) >= self.stat_ns
    }

    /// Whether `now` (the file's status now) lets the record stand without
    /// reading the file: the same status, not racily taken, the same grammar.
    pub(crate) fn trusts(&self, now: &FileStat, fingerprint: &[u8; 16]) -> bool {
        // A write after the status was taken moves the modification time
        // unless it falls in the same timestamp granule: hence the window.
        self.stat == *now && &self.fingerprint == fingerprint && !self.is_racy()
    }
}

/// One path of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathRecord {
    pub key: Key,
    pub language: &'static str,
    /// BLAKE3 of the source (to validate a source read back from disk).
    pub source_hash: [u8; 32],
    /// Set by `index` (not by `insert`): the status the file had.
    pub indexed: Option<Indexed>,
}

/// The bytes of a path as the OS has them (a non-UTF-8 path is kept exactly
/// on Unix; elsewhere paths are stored as UTF-8, lossily).
pub(crate) fn path_bytes(p: &Path) -> Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Cow::Borrowed(p.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        Cow::Owned(p.to_string_lossy().into_owned().into_bytes())
    }
}

pub(crate) fn path_from_bytes(b: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(b))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(b).into_owned())
    }
}

/// A stamp of what the statuses depend on besides the grammar: this build
/// of the facade and the tree format. A map written by another build is
/// read with its statuses dropped (every file is read and hashed once).
pub(crate) fn build_stamp() -> [u8; 16] {
    let mut h = blake3::Hasher::new();
    h.update(b"cst paths");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&cst_bytecode::VERSION.to_le_bytes());
    h.finalize().as_bytes()[..16].try_into().expect("16 bytes")
}

/// The version 2 path map of `entries` (sorted by path bytes for a
/// deterministic output), stamped with `stamp`, as flush number `generation`.
pub(crate) fn encode(
    entries: &[(&PathBuf, &PathRecord)],
    stamp: [u8; 16],
    generation: u64,
) -> Vec<u8> {
    let mut sorted: Vec<(Cow<'_, [u8]>, &PathRecord)> =
        entries.iter().map(|(p, r)| (path_bytes(p), *r)).collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::with_capacity(32 + sorted.len() * 96);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(0);
    out.extend_from_slice(&stamp);
    out.extend_from_slice(&generation.to_le_bytes());
    put(&mut out, sorted.len() as u64);
    for (path, r) in sorted {
        put(&mut out, path.len() as u64);
        out.extend_from_slice(&path);
        out.push(r.language.len() as u8);
        out.extend_from_slice(r.language.as_bytes());
        out.extend_from_slice(&r.key.0);
        out.extend_from_slice(&r.source_hash);
        match &r.indexed {
            None => out.push(0),
            Some(i) => {
                out.push(1);
                put(&mut out, i.stat.size);
                put(&mut out, zz(i.stat.mtime_ns));
                put(&mut out, zz(i.stat.ctime_ns));
                put(&mut out, i.stat.ino);
                put(&mut out, i.stat.dev);
                put(&mut out, zz(i.stat_ns));
                put(&mut out, i.lines);
                put(&mut out, i.nodes);
                out.extend_from_slice(&i.fingerprint);
            }
        }
    }
    out
}

/// What reading a path map gave.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub entries: Vec<(PathBuf, PathRecord)>,
    pub scan: Scan,
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        (self.b.len() >= n).then(|| {
            let (a, rest) = self.b.split_at(n);
            self.b = rest;
            a
        })
    }
    /// Skips `n` varints: each accepted exactly as `varint` accepts it (at
    /// most 10 bytes, the last below 0x80).
    fn skip_varints(&mut self, n: usize) -> Option<()> {
        let b = self.b;
        let mut at = 0;
        for _ in 0..n {
            let start = at;
            loop {
                let byte = *b.get(at)?;
                at += 1;
                if byte < 0x80 {
                    break;
                }
                if at - start == 10 {
                    return None;
                }
            }
        }
        self.b = &b[at..];
        Some(())
    }

    fn varint(&mut self) -> Option<u64> {
        let mut at = 0;
        let v = cst_bytecode::varint::get(self.b, &mut at)?;
        self.b = &self.b[at..];
        Some(v)
    }
}

/// The generation of a version 2 map, from its header alone; `None` if the
/// bytes are not one.
pub(crate) fn generation_of(bytes: &[u8]) -> Option<u64> {
    if bytes.get(..4)? != MAGIC || *bytes.get(4)? != VERSION {
        return None;
    }
    // Magic, version, reserved, stamp: the generation follows.
    Some(u64::from_le_bytes(bytes.get(22..30)?.try_into().ok()?))
}

/// One entry's fields as they lie: the entry layout, in one place.
struct RawEntry<'a> {
    path: &'a [u8],
    lang: &'a [u8],
    key: &'a [u8],
    source_hash: &'a [u8],
    /// The status varints and fingerprint, when the flag is 1.
    status: Option<&'a [u8]>,
}

/// Splits one entry off `r`; `None` if it does not parse.
fn raw_entry<'a>(r: &mut Reader<'a>) -> Option<RawEntry<'a>> {
    let len = usize::try_from(r.varint()?).ok()?;
    let path = r.take(len)?;
    let lang_len = usize::from(*r.take(1)?.first()?);
    let lang = r.take(lang_len)?;
    let key = r.take(32)?;
    let source_hash = r.take(32)?;
    let status = match *r.take(1)?.first()? {
        0 => None,
        1 => {
            let start = r.b;
            r.skip_varints(8)?;
            r.take(16)?;
            Some(&start[..start.len() - r.b.len()])
        }
        _ => return None,
    };
    Some(RawEntry {
        path,
        lang,
        key,
        source_hash,
        status,
    })
}

/// One entry; the record is `None` for a language this build does not know.
fn entry(r: &mut Reader<'_>) -> Option<(PathBuf, Option<PathRecord>)> {
    let raw = raw_entry(r)?;
    let indexed = match raw.status {
        None => None,
        Some(status) => {
            let mut s = Reader { b: status };
            let stat = FileStat {
                size: s.varint()?,
                mtime_ns: unzigzag(s.varint()?),
                ctime_ns: unzigzag(s.varint()?),
                ino: s.varint()?,
                dev: s.varint()?,
            };
            Some(Indexed {
                stat,
                stat_ns: unzigzag(s.varint()?),
                lines: s.varint()?,
                nodes: s.varint()?,
                fingerprint: s.take(16)?.try_into().ok()?,
            })
        }
    };
    let record = std::str::from_utf8(raw.lang)
        .ok()
        .and_then(cst_grammars::by_id)
        .map(|g| PathRecord {
            key: Key(raw.key.try_into().expect("32 bytes")),
            language: g.id(),
            source_hash: raw.source_hash.try_into().expect("32 bytes"),
            indexed,
        });
    Some((path_from_bytes(raw.path), record))
}

/// Reads a version 2 map whole (for tests: the cache reads maps in place,
/// with [`PathMap::scan`]); `None` if it is not one.
#[cfg(test)]
pub(crate) fn decode(bytes: &[u8], stamp: [u8; 16]) -> Option<Decoded> {
    let (map, scan) = PathMap::scan(bytes::Bytes::copy_from_slice(bytes), stamp)?;
    let mut entries: Vec<(PathBuf, PathRecord)> = map.iter().collect();
    entries.sort_by(|a, b| path_bytes(&a.0).cmp(&path_bytes(&b.0)));
    Some(Decoded { entries, scan })
}

/// Reads a version 1 map (UTF-8 paths; no statuses).
pub(crate) fn decode_v1(bytes: &[u8]) -> Decoded {
    let mut r = Reader { b: bytes };
    let mut out = Decoded::default();
    let u32le = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize;
    while let Some(len) = r.take(4) {
        let parsed = (|| {
            let path = r.take(u32le(len))?;
            let lang_len = u32le(r.take(4)?);
            let lang = r.take(lang_len)?;
            let key = Key(r.take(32)?.try_into().ok()?);
            let hash: [u8; 32] = r.take(32)?.try_into().ok()?;
            Some((path, lang, key, hash))
        })();
        let Some((path, lang, key, source_hash)) = parsed else {
            out.scan.truncated = true;
            break;
        };
        match std::str::from_utf8(lang).ok().and_then(cst_grammars::by_id) {
            Some(g) => out.entries.push((
                PathBuf::from(String::from_utf8_lossy(path).into_owned()),
                PathRecord {
                    key,
                    language: g.id(),
                    source_hash,
                    indexed: None,
                },
            )),
            None => out.scan.unknown += 1,
        }
    }
    out.scan.entries = out.entries.len() as u64;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: u8, indexed: bool) -> PathRecord {
        PathRecord {
            key: Key([i; 32]),
            language: "rust",
            source_hash: [i.wrapping_add(1); 32],
            indexed: indexed.then_some(Indexed {
                stat: FileStat {
                    size: 1234,
                    mtime_ns: 1_700_000_000_123_456_789,
                    ctime_ns: -5,
                    ino: 99,
                    dev: 2049,
                },
                stat_ns: 1_700_000_010_000_000_000,
                lines: 40,
                nodes: 400,
                fingerprint: [7; 16],
            }),
        }
    }

    #[test]
    fn round_trip_truncation_and_stamps() {
        let a = PathBuf::from("/ws/b.rs");
        let b = PathBuf::from("/ws/a.rs");
        let (ra, rb) = (record(1, true), record(2, false));
        let bytes = encode(&[(&a, &ra), (&b, &rb)], [3; 16], 7);
        let d = decode(&bytes, [3; 16]).unwrap();
        // Sorted by path bytes.
        assert_eq!(
            d.entries,
            vec![(b.clone(), rb.clone()), (a.clone(), ra.clone())]
        );
        assert_eq!(
            (
                d.scan.dropped,
                d.scan.truncated,
                d.scan.stale_stamp,
                d.scan.generation
            ),
            (0, false, false, 7)
        );
        // Another build's map: entries kept, statuses dropped.
        let d = decode(&bytes, [4; 16]).unwrap();
        assert!(d.scan.stale_stamp && d.entries.iter().all(|(_, r)| r.indexed.is_none()));
        // Every truncation keeps the entries before the cut, never panics.
        for n in 0..bytes.len() {
            if let Some(d) = decode(&bytes[..n], [3; 16]) {
                assert!(d.entries.len() < 2);
                assert!(d.scan.truncated || d.entries.is_empty());
            }
        }
        assert!(decode(b"CSTP\x01", [3; 16]).is_none());
    }

    /// An empty language name first in the map (no build writes one) is
    /// an unknown language, not an entry that panics when read.
    #[test]
    fn an_empty_language_name_is_unknown() {
        let (a, b) = (PathBuf::from("/ws/a.x"), PathBuf::from("/ws/b.rs"));
        let empty = PathRecord {
            language: "",
            ..record(2, true)
        };
        let known = record(1, true);
        let bytes = encode(&[(&a, &empty), (&b, &known)], [0; 16], 4);
        let (m, scan) = PathMap::scan(bytes::Bytes::from(bytes), [0; 16]).unwrap();
        assert_eq!((scan.unknown, scan.entries), (1, 1));
        assert_eq!(m.get(&a), None);
        assert_eq!(m.get(&b), Some(known.clone()));
        assert_eq!(m.iter().collect::<Vec<_>>(), vec![(b, known)]);
    }

    #[test]
    fn a_language_this_build_lacks_is_not_damage() {
        let (a, b) = (PathBuf::from("/ws/a.rs"), PathBuf::from("/ws/b.x"));
        let known = record(1, true);
        let unknown = PathRecord {
            language: "no-such-language",
            ..record(2, true)
        };
        let d = decode(
            &encode(&[(&a, &known), (&b, &unknown)], [0; 16], 4),
            [0; 16],
        )
        .unwrap();
        assert_eq!(d.entries, vec![(a, known)]);
        assert_eq!(
            (
                d.scan.unknown,
                d.scan.dropped,
                d.scan.truncated,
                d.scan.generation
            ),
            (1, 0, false, 4)
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_paths_are_kept_exactly() {
        use std::os::unix::ffi::OsStrExt;
        let p = PathBuf::from(std::ffi::OsStr::from_bytes(b"/ws/caf\xe9.rs"));
        let r = record(9, true);
        let d = decode(&encode(&[(&p, &r)], [0; 16], 1), [0; 16]).unwrap();
        assert_eq!(d.entries[0].0.as_os_str().as_bytes(), b"/ws/caf\xe9.rs");
    }

    /// The entries of the golden files.
    fn golden_entries() -> Vec<(PathBuf, PathRecord)> {
        vec![
            (PathBuf::from("/ws/src/main.rs"), record(1, true)),
            (
                PathBuf::from("/ws/README.md"),
                PathRecord {
                    language: "markdown",
                    ..record(2, false)
                },
            ),
        ]
    }

    /// `tests/golden/paths-v2.bin` is the version 2 map of
    /// [`golden_entries`] (stamp `[5; 16]`, generation 3): it must decode to them and
    /// re-encode byte for byte. `CST_BLESS=1` rewrites it, which only a
    /// format change may do (with a new version).
    #[test]
    fn golden_v2_decodes_and_reencodes() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/paths-v2.bin");
        let entries = golden_entries();
        let refs: Vec<(&PathBuf, &PathRecord)> = entries.iter().map(|(p, r)| (p, r)).collect();
        let bytes = encode(&refs, [5; 16], 3);
        if std::env::var_os("CST_BLESS").is_some() {
            std::fs::write(path, &bytes).unwrap();
        }
        let golden = std::fs::read(path).expect("golden file");
        assert_eq!(bytes, golden, "the v2 layout changed: bump the version");
        let d = decode(&golden, [5; 16]).unwrap();
        let mut want = entries.clone();
        want.sort_by(|a, b| path_bytes(&a.0).cmp(&path_bytes(&b.0)));
        assert_eq!(d.entries, want);
    }

    /// Version 1 maps (u32-length-prefixed UTF-8 path and language, key,
    /// hash) are still read.
    #[test]
    fn v1_maps_are_read() {
        let mut v1 = Vec::new();
        for (path, lang, k) in [
            ("/ws/a.rs", "rust", 1u8),
            ("/ws/b.zz", "no-such-language", 2),
        ] {
            v1.extend_from_slice(&(path.len() as u32).to_le_bytes());
            v1.extend_from_slice(path.as_bytes());
            v1.extend_from_slice(&(lang.len() as u32).to_le_bytes());
            v1.extend_from_slice(lang.as_bytes());
            v1.extend_from_slice(&[k; 32]);
            v1.extend_from_slice(&[k + 1; 32]);
        }
        let d = decode_v1(&v1);
        assert_eq!(d.entries.len(), 1);
        assert_eq!(d.entries[0].0, PathBuf::from("/ws/a.rs"));
        assert_eq!(d.entries[0].1.key, Key([1; 32]));
        assert_eq!(d.entries[0].1.indexed, None);
        assert_eq!(
            (d.scan.unknown, d.scan.dropped, d.scan.truncated),
            (1, 0, false)
        );
        assert!(decode_v1(&v1[..v1.len() - 3]).scan.truncated);
    }

    #[test]
    fn racy_statuses_are_not_trusted() {
        let r = record(1, true).indexed.unwrap();
        assert!(r.trusts(&r.stat, &[7; 16]));
        assert!(!r.trusts(&r.stat, &[8; 16]), "another grammar");
        let mut moved = r.stat;
        moved.mtime_ns += 1;
        assert!(!r.trusts(&moved, &[7; 16]), "a changed status");
        let racy = Indexed {
            stat_ns: r.stat.mtime_ns + RACY_NS - 1,
            ..r
        };
        assert!(
            !racy.trusts(&racy.stat, &[7; 16]),
            "modified just before it was read"
        );
    }
}

/// What happened to the path map when the cache was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PathMapStatus {
    /// A new (or in-memory) cache: no map, no trees.
    #[default]
    Empty,
    /// The newest copy was read whole.
    Current,
    /// A version 1 map was read (it is rewritten as version 2).
    Migrated,
    /// One copy failed its checksum or did not decode; the other was read.
    /// It may be one flush older: paths indexed since are indexed again.
    PreviousCopy,
    /// Both copies were damaged; the entries readable from the better one
    /// were kept, the rest lost (`OpenReport::paths_dropped`).
    Partial,
    /// Trees are stored but no copy of the map could be read: every path is
    /// lost (the content-addressed trees are found again by a re-index).
    Lost,
}

/// What opening a cache found and repaired (see [`crate::Cache::open_report`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The frozen store's recovery (torn tails cut, corrupt records and
    /// index entries dropped, records replayed).
    pub store: cst_tiers::Recovery,
    /// The path map.
    pub path_map: PathMapStatus,
    /// Paths loaded.
    pub paths: u64,
    /// Paths that could not be read (damaged entries, unknown languages).
    pub paths_dropped: u64,
}

impl OpenReport {
    /// Whether anything stored was lost: corrupt records, dropped index
    /// entries or paths, a damaged path map. (A torn tail after a crash only
    /// loses writes that were never flushed, and is not counted.)
    pub fn lost_data(&self) -> bool {
        self.store.corrupt_records > 0
            || self.store.index_entries_dropped > 0
            || self.paths_dropped > 0
            || matches!(
                self.path_map,
                PathMapStatus::PreviousCopy | PathMapStatus::Partial | PathMapStatus::Lost
            )
    }

    /// One line per thing worth saying, for people.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let s = &self.store;
        if s.index_rebuilt {
            out.push("store: index rebuilt from the segments".to_string());
        }
        if s.torn_tail_bytes > 0 {
            out.push(format!(
                "store: torn tail of {} bytes cut (unflushed writes)",
                s.torn_tail_bytes
            ));
        }
        if s.corrupt_records > 0 {
            out.push(format!(
                "store: {} corrupt records dropped",
                s.corrupt_records
            ));
        }
        if s.index_entries_dropped > 0 {
            out.push(format!(
                "store: {} index entries dropped (they pointed at bad records)",
                s.index_entries_dropped
            ));
        }
        match self.path_map {
            PathMapStatus::PreviousCopy => out.push(
                "path map: one copy damaged; the other copy was read (paths indexed since its flush need a re-index)".to_string(),
            ),
            PathMapStatus::Partial => out.push(format!(
                "path map: both copies damaged; {} paths kept, {} lost",
                self.paths, self.paths_dropped
            )),
            PathMapStatus::Lost => out.push(
                "path map: lost (no copy readable); stored trees are found again by a re-index".to_string(),
            ),
            PathMapStatus::Migrated => out.push("path map: version 1 read (rewritten as version 2)".to_string()),
            _ if self.paths_dropped > 0 => out.push(format!("path map: {} paths dropped", self.paths_dropped)),
            _ => {}
        }
        out
    }
}

/// Path → record, with a count of the paths that refer to each key (so
/// `remove` knows whether another path shares the content).
///
/// A map read from the store is used in place: its bytes are scanned once
/// at open (each entry's bounds checked, its path hashed) and an entry is
/// decoded only when it is asked for. What changed since sits in a hash map
/// beside it. So a command that needs a few paths of a large map pays for
/// a scan, not for a map of every path.
#[derive(Default)]
pub(crate) struct PathMap {
    base: Option<Base>,
    /// A new record (`Some`) or the removal of a path of `base` (`None`).
    changes: FxHashMap<PathKey, Option<PathRecord>>,
    len: usize,
    /// Paths per key, counted the first time it is asked for.
    refs: std::sync::OnceLock<FxHashMap<Key, u32>>,
}

/// An encoded map (version 2) read in place.
pub(crate) struct Base {
    bytes: bytes::Bytes,
    /// Offsets of the entries of known languages, in the map's order:
    /// strictly increasing paths (a map that is not is decoded instead).
    offsets: Vec<u32>,
    /// A hash index of `offsets`, built once lookups are many (a command
    /// that asks for a few paths binary-searches; an index run, which asks
    /// for every path, hashes).
    hashed: std::sync::OnceLock<Hashed>,
    lookups: std::sync::atomic::AtomicU32,
    /// Statuses are dropped (another build wrote the map).
    stale_stamp: bool,
    /// `bytes` are a copy of their own (see [`PathMap::detach`]).
    detached: bool,
}

/// Lookups by binary search before the hash index is built.
const LOOKUPS_BEFORE_HASHING: u32 = 64;

/// Hash of a path → offset of its entry; paths whose hash another path
/// already has are in `spill`.
struct Hashed {
    by_hash: FxHashMap<u64, u32>,
    spill: Vec<u32>,
}

fn hash_of(path: &[u8]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write(path);
    h.finish()
}

impl Base {
    /// The path bytes of the entry at `off` (checked by the scan).
    fn path_at(&self, off: u32) -> &[u8] {
        let mut r = Reader {
            b: &self.bytes[off as usize..],
        };
        let len = r.varint().expect("scanned") as usize;
        r.take(len).expect("scanned")
    }

    /// The entry at `off` (checked by the scan; its language is known).
    fn entry_at(&self, off: u32) -> (PathBuf, PathRecord) {
        let mut r = Reader {
            b: &self.bytes[off as usize..],
        };
        let (path, record) = entry(&mut r).expect("scanned");
        let mut record = record.expect("a known language");
        if self.stale_stamp {
            record.indexed = None;
        }
        (path, record)
    }

    fn find(&self, path: &[u8]) -> Option<u32> {
        use std::sync::atomic::Ordering;
        let hashed = match self.hashed.get() {
            Some(h) => Some(h),
            None if self.lookups.fetch_add(1, Ordering::Relaxed) >= LOOKUPS_BEFORE_HASHING => {
                Some(self.hashed.get_or_init(|| self.hash()))
            }
            None => None,
        };
        match hashed {
            Some(h) => match h.by_hash.get(&hash_of(path)) {
                Some(&off) if self.path_at(off) == path => Some(off),
                Some(_) => h.spill.iter().copied().find(|&o| self.path_at(o) == path),
                None => None,
            },
            None => self
                .offsets
                .binary_search_by(|&o| self.path_at(o).cmp(path))
                .ok()
                .map(|i| self.offsets[i]),
        }
    }

    fn hash(&self) -> Hashed {
        let mut h = Hashed {
            by_hash: FxHashMap::with_capacity_and_hasher(self.offsets.len(), Default::default()),
            spill: Vec::new(),
        };
        for &off in &self.offsets {
            if let Some(other) = h.by_hash.insert(hash_of(self.path_at(off)), off) {
                // Keep the first; the map has no path twice.
                h.by_hash.insert(hash_of(self.path_at(off)), other);
                h.spill.push(off);
            }
        }
        h
    }
}

/// What scanning an encoded map found besides its entries.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Entries lost to damage (the rest of the map after the first bad one).
    pub dropped: u64,
    /// Entries of a language this build does not have.
    pub unknown: u64,
    /// The map ended inside an entry.
    pub truncated: bool,
    /// Statuses were dropped (another build wrote the map).
    pub stale_stamp: bool,
    /// The flush number that wrote it.
    pub generation: u64,
    /// Entries readable.
    pub entries: u64,
}

impl PathMap {
    /// The map of a version 2 encoding, read in place; `None` if the bytes
    /// are not one (bad magic or version).
    pub(crate) fn scan(bytes: bytes::Bytes, stamp: [u8; 16]) -> Option<(PathMap, Scan)> {
        let mut r = Reader { b: &bytes };
        if r.take(4)? != MAGIC || r.take(1)? != [VERSION] {
            return None;
        }
        r.take(1)?;
        let stale_stamp = r.take(16)? != stamp;
        let generation = u64::from_le_bytes(r.take(8)?.try_into().ok()?);
        let mut scan = Scan {
            stale_stamp,
            generation,
            ..Scan::default()
        };
        let mut base = Base {
            bytes: bytes.clone(),
            offsets: Vec::new(),
            hashed: Default::default(),
            lookups: Default::default(),
            stale_stamp,
            detached: false,
        };
        let Some(count) = r.varint() else {
            scan.truncated = true;
            return Some((PathMap::default(), scan));
        };
        // An entry takes more than 64 bytes: the count cannot reserve more
        // than the input holds.
        base.offsets.reserve((count as usize).min(bytes.len() / 64));
        // Offsets are u32 (the store holds no value of 1 GiB or more). A map
        // whose paths are not in order (this build never writes one) is
        // decoded.
        if u32::try_from(bytes.len()).is_err() {
            return None;
        }
        let mut in_place = true;
        let (mut last_lang, mut last_path): (Option<&[u8]>, Option<&[u8]>) = (None, None);
        for done in 0..count {
            let off = bytes.len() - r.b.len();
            let Some(RawEntry { path, lang, .. }) = raw_entry(&mut r) else {
                scan.truncated = true;
                scan.dropped += count - done;
                break;
            };
            // The language is checked once per run of equal names.
            if last_lang != Some(lang) {
                if std::str::from_utf8(lang)
                    .ok()
                    .and_then(cst_grammars::by_id)
                    .is_none()
                {
                    scan.unknown += 1;
                    continue;
                }
                last_lang = Some(lang);
            }
            in_place &= last_path.is_none_or(|p| p < path);
            last_path = Some(path);
            base.offsets.push(off as u32);
        }
        let map = if in_place {
            PathMap {
                len: base.offsets.len(),
                base: Some(base),
                ..PathMap::default()
            }
        } else {
            // Decoded: a later entry of a path replaces an earlier one.
            let offsets = std::mem::take(&mut base.offsets);
            PathMap::from_entries(offsets.into_iter().map(|o| base.entry_at(o)).collect())
        };
        scan.entries = map.len as u64;
        Some((map, scan))
    }

    /// Copies the encoded map out of the store's mapping of its segment,
    /// before a compaction that may unlink that segment (a mapping would
    /// keep its space, and on Windows keep it from being removed).
    pub(crate) fn detach(&mut self) {
        if let Some(b) = self.base.as_mut().filter(|b| !b.detached) {
            b.bytes = bytes::Bytes::copy_from_slice(&b.bytes);
            b.detached = true;
        }
    }

    /// A map of decoded entries (a version 1 map).
    pub(crate) fn from_entries(entries: Vec<(PathBuf, PathRecord)>) -> PathMap {
        let mut map = PathMap::default();
        map.changes.reserve(entries.len());
        for (path, record) in entries {
            map.insert(path, record);
        }
        map
    }

    pub(crate) fn get(&self, path: &Path) -> Option<PathRecord> {
        let k = key_of(path);
        match self.changes.get(k) {
            Some(change) => change.clone(),
            None => {
                let base = self.base.as_ref()?;
                base.find(k).map(|off| base.entry_at(off).1)
            }
        }
    }

    fn in_base(&self, path: &[u8]) -> bool {
        self.base.as_ref().is_some_and(|b| b.find(path).is_some())
    }

    pub(crate) fn insert(&mut self, path: PathBuf, record: PathRecord) -> Option<PathRecord> {
        let old = self.get(&path);
        if let Some(refs) = self.refs.get_mut() {
            *refs.entry(record.key).or_default() += 1;
        }
        if old.is_none() {
            self.len += 1;
        }
        self.changes.insert(PathKey(path), Some(record));
        if let Some(o) = &old {
            self.unref(&o.key);
        }
        old
    }

    /// The record of `path`, to change what does not move its key.
    pub(crate) fn get_mut(&mut self, path: &Path) -> Option<&mut PathRecord> {
        if !self.changes.contains_key(key_of(path)) {
            let record = self.get(path)?;
            self.changes
                .insert(PathKey(path.to_path_buf()), Some(record));
        }
        self.changes.get_mut(key_of(path))?.as_mut()
    }

    pub(crate) fn remove(&mut self, path: &Path) -> Option<PathRecord> {
        let old = self.get(path)?;
        if self.in_base(key_of(path)) {
            self.changes.insert(PathKey(path.to_path_buf()), None);
        } else {
            self.changes.remove(key_of(path));
        }
        self.len -= 1;
        self.unref(&old.key);
        Some(old)
    }

    fn unref(&mut self, key: &Key) {
        if let Some(refs) = self.refs.get_mut()
            && let Some(n) = refs.get_mut(key)
        {
            *n -= 1;
            if *n == 0 {
                refs.remove(key);
            }
        }
    }

    /// True if some path refers to `key`.
    pub(crate) fn is_referenced(&self, key: &Key) -> bool {
        self.refs
            .get_or_init(|| {
                let mut refs = FxHashMap::default();
                for r in self.values() {
                    *refs.entry(r.key).or_default() += 1;
                }
                refs
            })
            .contains_key(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Offsets of the entries of the base that no change shadows.
    fn base_offsets(&self) -> impl Iterator<Item = (&Base, u32)> + '_ {
        let changes = &self.changes;
        self.base.iter().flat_map(move |b| {
            b.offsets.iter().filter_map(move |&off| {
                (changes.is_empty() || !changes.contains_key(b.path_at(off))).then_some((b, off))
            })
        })
    }

    /// Every path, in no particular order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = PathBuf> + '_ {
        let base = self
            .base_offsets()
            .map(|(b, off)| path_from_bytes(b.path_at(off)));
        let changed = self
            .changes
            .iter()
            .filter(|(_, r)| r.is_some())
            .map(|(p, _)| p.0.clone());
        base.chain(changed)
    }

    /// Every path's bytes, in no particular order ([`path_from_bytes`]
    /// makes a path of them).
    pub(crate) fn key_bytes(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let base = self.base_offsets().map(|(b, off)| b.path_at(off));
        let changed = self
            .changes
            .iter()
            .filter(|(_, r)| r.is_some())
            .map(|(p, _)| p.bytes());
        base.chain(changed)
    }

    /// Every record, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = PathRecord> + '_ {
        self.iter().map(|(_, r)| r)
    }

    /// Every path and record, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (PathBuf, PathRecord)> + '_ {
        let base = self.base_offsets().map(|(b, off)| b.entry_at(off));
        let changed = self
            .changes
            .iter()
            .filter_map(|(p, r)| r.as_ref().map(|r| (p.0.clone(), r.clone())));
        base.chain(changed)
    }
}

/// A path as a map key, hashed and compared by its OS bytes: `Path`'s own
/// `Hash` walks components, which made loading a large map slow (the
/// indexed paths are absolute and normalised, so the bytes are the path).
#[derive(Clone, Debug)]
struct PathKey(PathBuf);

impl PathKey {
    fn bytes(&self) -> &[u8] {
        self.0.as_os_str().as_encoded_bytes()
    }
}

impl PartialEq for PathKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for PathKey {}

impl std::hash::Hash for PathKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // The same as hashing the byte slice, so lookups by `&[u8]` work.
        self.bytes().hash(state);
    }
}

impl std::borrow::Borrow<[u8]> for PathKey {
    fn borrow(&self) -> &[u8] {
        self.bytes()
    }
}

fn key_of(path: &Path) -> &[u8] {
    path.as_os_str().as_encoded_bytes()
}

#[cfg(test)]
mod map_tests {
    use super::*;

    fn rec(k: u8) -> PathRecord {
        PathRecord {
            key: Key([k; 32]),
            language: if k.is_multiple_of(2) { "rust" } else { "c" },
            source_hash: [k; 32],
            indexed: None,
        }
    }

    fn check_against(m: &PathMap, model: &std::collections::BTreeMap<PathBuf, PathRecord>) {
        assert_eq!(m.len(), model.len());
        for (p, r) in model {
            assert_eq!(m.get(p).as_ref(), Some(r), "{}", p.display());
        }
        let mut all: Vec<(PathBuf, PathRecord)> = m.iter().collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let want: Vec<(PathBuf, PathRecord)> =
            model.iter().map(|(p, r)| (p.clone(), r.clone())).collect();
        assert_eq!(all, want);
        let mut keys: Vec<PathBuf> = m.keys().collect();
        keys.sort();
        assert_eq!(keys, model.keys().cloned().collect::<Vec<_>>());
    }

    /// A map read in place answers as the decoded map did: before and after
    /// its hash index is built, under inserts, edits and removals, with
    /// reference counts taken lazily.
    #[test]
    fn a_map_read_in_place_behaves_as_a_map() {
        let paths: Vec<PathBuf> = (0..300)
            .map(|i| PathBuf::from(format!("/ws/f{i:04}.rs")))
            .collect();
        let mut model = std::collections::BTreeMap::new();
        for (i, p) in paths.iter().enumerate() {
            model.insert(p.clone(), rec((i % 50) as u8));
        }
        let refs: Vec<(&PathBuf, &PathRecord)> = model.iter().collect();
        let bytes = encode(&refs, [1; 16], 9);
        let (mut m, scan) = PathMap::scan(bytes::Bytes::from(bytes), [1; 16]).unwrap();
        assert_eq!(
            (scan.entries, scan.generation, scan.truncated),
            (300, 9, false)
        );
        // A few lookups binary-search; then the hash index takes over.
        assert_eq!(m.get(&paths[7]), Some(rec(7)));
        assert_eq!(m.get(Path::new("/ws/absent.rs")), None);
        assert!(m.base.as_ref().unwrap().hashed.get().is_none());
        check_against(&m, &model);
        assert!(m.base.as_ref().unwrap().hashed.get().is_some());
        assert!(m.is_referenced(&Key([3; 32])));
        // A copy out of the store's mapping reads the same.
        m.detach();
        assert!(m.base.as_ref().unwrap().detached);
        check_against(&m, &model);
        // Changes: remove base paths, re-point some, edit one, add new ones.
        for p in paths.iter().step_by(3) {
            assert_eq!(m.remove(p), model.remove(p));
        }
        for p in paths.iter().skip(1).step_by(7) {
            assert_eq!(
                m.insert(p.clone(), rec(200)),
                model.insert(p.clone(), rec(200))
            );
        }
        m.get_mut(&paths[2]).unwrap().source_hash = [9; 32];
        model.get_mut(&paths[2]).unwrap().source_hash = [9; 32];
        assert!(m.get_mut(&paths[3]).is_none(), "removed above");
        for i in 0..20 {
            let p = PathBuf::from(format!("/ws/new{i}.rs"));
            assert_eq!(m.insert(p.clone(), rec(201)), model.insert(p, rec(201)));
        }
        check_against(&m, &model);
        let referenced = |k: u8| model.values().any(|r| r.key == Key([k; 32]));
        for k in [0u8, 1, 3, 49, 200, 201, 150] {
            assert_eq!(m.is_referenced(&Key([k; 32])), referenced(k), "key {k}");
        }
        // Every path removed: nothing is referenced.
        for p in model.keys().cloned().collect::<Vec<_>>() {
            m.remove(&p);
        }
        assert_eq!(m.len(), 0);
        assert!(!m.is_referenced(&Key([200; 32])));
    }

    /// A map whose paths are out of order or repeated (never written by this
    /// build) is decoded: the later entry of a path wins.
    #[test]
    fn a_map_out_of_order_is_decoded() {
        let (a, b) = (PathBuf::from("/ws/b.rs"), PathBuf::from("/ws/a.rs"));
        let one = encode(&[(&a, &rec(1))], [1; 16], 1);
        let two = encode(&[(&b, &rec(2))], [1; 16], 1);
        let three = encode(&[(&a, &rec(4))], [1; 16], 1);
        // Header of `one` with a count of 3, then the three entries.
        let header = 4 + 2 + 16 + 8;
        let mut bytes = one[..header].to_vec();
        bytes.push(3);
        for e in [&one, &two, &three] {
            bytes.extend_from_slice(&e[header + 1..]);
        }
        let (m, scan) = PathMap::scan(bytes::Bytes::from(bytes), [1; 16]).unwrap();
        assert_eq!((scan.entries, scan.truncated), (2, false));
        assert!(m.base.is_none());
        assert_eq!(m.get(&a), Some(rec(4)));
        assert_eq!(m.get(&b), Some(rec(2)));
    }

    #[test]
    fn path_map_counts_references() {
        let mut m = PathMap::default();
        let rec = |k: u8| PathRecord {
            key: Key([k; 32]),
            language: "rust",
            source_hash: [0; 32],
            indexed: None,
        };
        m.insert("a".into(), rec(1));
        m.insert("b".into(), rec(1));
        assert!(m.is_referenced(&Key([1; 32])));
        m.remove(Path::new("a"));
        assert!(m.is_referenced(&Key([1; 32])));
        // Re-pointing a path releases its old key.
        m.insert("b".into(), rec(2));
        assert!(!m.is_referenced(&Key([1; 32])));
        assert!(m.is_referenced(&Key([2; 32])));
        m.remove(Path::new("b"));
        assert!(!m.is_referenced(&Key([2; 32])));
        assert_eq!(m.len(), 0);
    }
}
