//! The symbol index kept between processes: a snapshot of every stored
//! file's compact tags, with the fingerprint of the stored tags each was
//! read from ([`cst::Cache::tags_fingerprint`]) and the file's status on
//! disk then. A build takes a file's tags from the snapshot when its
//! fingerprint is unchanged, and reads the others from the store; so a
//! one-shot `cst map` reads no source.
//!
//! The snapshot is a cache: it lives in the cache directory
//! (`symbols/<root hash>.v1`), is replaced whole (a temporary file renamed
//! over it), and anything wrong with it (unreadable, truncated, a checksum
//! or bound that fails, another root or version) is logged and ignored:
//! the index is then read from the store as without one.
//!
//! Layout (little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `cstsyms\0` |
//! | 4 | version (2) |
//! | 4 | reserved (0) |
//! | 8 | body length |
//! | 32 | BLAKE3 of the body |
//! | … | body |
//!
//! The body: the root (`u32` length, bytes); the kinds (`u32` count, each
//! `u32` length and UTF-8 bytes); the names (`u32` count *n*, *n* + 1
//! `u32` offsets into the blob that follows, the blob); the files (`u32`
//! count, each: `u32` length and the path's bytes relative to the root,
//! 32-byte fingerprint, `u8` 1 and the status — `u64` length, `u64`
//! seconds and `u32` nanoseconds of the modification time, `u64` inode —
//! or `u8` 0; `u8` 1 if the file's text is ASCII, else 0; `u32` tag count, then per tag 40 bytes: `u32` name id,
//! `u16` kind id, `u8` definition, `u8` 0, and eight `u32`: row, column,
//! end row, end column, name start and end, node start and end).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use cst_workspace::Workspace;
use rustc_hash::FxHashMap;

use crate::index::{CTag, Stamp};

const MAGIC: &[u8; 8] = b"cstsyms\0";
const VERSION: u32 = 2;
const HEADER: usize = 8 + 4 + 4 + 8 + 32;
const TAG_BYTES: usize = 40;

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SnapshotError {
    #[error("reading it failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a symbol snapshot of this version")]
    Version,
    #[error("its checksum does not match")]
    Checksum,
    #[error("it is cut short or malformed at byte {0}")]
    Malformed(usize),
    #[error("it was written for another root")]
    OtherRoot,
}

/// One file of a snapshot.
pub(crate) struct SnapFile {
    pub fingerprint: [u8; 32],
    pub stamp: Option<Stamp>,
    pub ascii: bool,
    /// Tags with ids into the snapshot's names and kinds.
    pub tags: Vec<CTag>,
}

/// A snapshot as read.
#[derive(Default)]
pub(crate) struct Snapshot {
    pub names: Vec<Box<[u8]>>,
    pub kinds: Vec<String>,
    /// By path relative to the root (the OS's bytes).
    pub files: FxHashMap<Box<[u8]>, SnapFile>,
}

/// One file to write.
pub(crate) struct FileOut<'a> {
    pub rel: &'a [u8],
    pub fingerprint: [u8; 32],
    pub stamp: Option<Stamp>,
    pub ascii: bool,
    pub tags: &'a [CTag],
}

/// Where the snapshot of `ws` lives: `None` for a cache in memory.
pub(crate) fn path_of(ws: &Workspace) -> Option<PathBuf> {
    let dir = ws.cache().dir()?;
    let hash = blake3::hash(os_bytes(ws.root()));
    Some(
        dir.join("symbols")
            .join(format!("{}.v{VERSION}", &hash.to_hex()[..16])),
    )
}

/// A path's bytes as the OS gives them.
pub(crate) fn os_bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_encoded_bytes()
}

/// Reads the snapshot at `path`, written for `root`.
pub(crate) fn load(path: &Path, root: &Path) -> Result<Snapshot, SnapshotError> {
    let bytes = std::fs::read(path)?;
    decode(&bytes, root)
}

fn decode(bytes: &[u8], root: &Path) -> Result<Snapshot, SnapshotError> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(SnapshotError::Version);
    }
    let mut r = Reader { bytes, at: 8 };
    if r.u32()? != VERSION || r.u32()? != 0 {
        return Err(SnapshotError::Version);
    }
    let len = usize::try_from(r.u64()?).map_err(|_| SnapshotError::Malformed(16))?;
    let sum: [u8; 32] = r
        .take(32)?
        .try_into()
        .map_err(|_| SnapshotError::Malformed(24))?;
    if bytes.len() - HEADER != len {
        return Err(SnapshotError::Malformed(bytes.len()));
    }
    if *blake3::hash(&bytes[HEADER..]).as_bytes() != sum {
        return Err(SnapshotError::Checksum);
    }
    let stored_root = r.block()?;
    if stored_root != os_bytes(root) {
        return Err(SnapshotError::OtherRoot);
    }
    let mut snap = Snapshot::default();
    let kinds = r.count(4)?;
    snap.kinds.reserve(kinds);
    for _ in 0..kinds {
        let at = r.at;
        let k = std::str::from_utf8(r.block()?).map_err(|_| SnapshotError::Malformed(at))?;
        snap.kinds.push(k.to_string());
    }
    let names = r.count(4)?;
    let offsets: Vec<u32> = (0..=names).map(|_| r.u32()).collect::<Result<_, _>>()?;
    let blob = r.take(*offsets.last().unwrap_or(&0) as usize)?;
    snap.names.reserve(names);
    for w in offsets.windows(2) {
        let name = blob
            .get(w[0] as usize..w[1] as usize)
            .ok_or(SnapshotError::Malformed(r.at))?;
        snap.names.push(name.into());
    }
    let files = r.count(4 + 32 + 1 + 1 + 4)?;
    snap.files.reserve(files);
    for _ in 0..files {
        let rel: Box<[u8]> = r.block()?.into();
        let fingerprint: [u8; 32] = r
            .take(32)?
            .try_into()
            .map_err(|_| SnapshotError::Malformed(r.at))?;
        let stamp = match r.take(1)?[0] {
            0 => None,
            1 => {
                let len = r.u64()?;
                let secs = r.u64()?;
                let nanos = r.u32()?;
                let ino = r.u64()?;
                let modified = (nanos < 1_000_000_000)
                    .then(|| UNIX_EPOCH.checked_add(Duration::new(secs, nanos)))
                    .flatten();
                Some(Stamp { len, modified, ino })
            }
            _ => return Err(SnapshotError::Malformed(r.at)),
        };
        let ascii = match r.take(1)?[0] {
            0 => false,
            1 => true,
            _ => return Err(SnapshotError::Malformed(r.at)),
        };
        let n = r.count(TAG_BYTES)?;
        let raw = r.take(n * TAG_BYTES)?;
        let mut tags = Vec::with_capacity(n);
        for t in raw.chunks_exact(TAG_BYTES) {
            let u = |i: usize| u32::from_le_bytes(t[i..i + 4].try_into().expect("4 bytes"));
            let tag = CTag {
                name: u(0),
                kind: u16::from_le_bytes([t[4], t[5]]),
                def: t[6] == 1,
                row: u(8),
                col: u(12),
                end_row: u(16),
                end_col: u(20),
                name_start: u(24),
                name_end: u(28),
                node_start: u(32),
                node_end: u(36),
            };
            if tag.name as usize >= snap.names.len()
                || usize::from(tag.kind) >= snap.kinds.len()
                || t[6] > 1
            {
                return Err(SnapshotError::Malformed(r.at));
            }
            tags.push(tag);
        }
        snap.files.insert(
            rel,
            SnapFile {
                fingerprint,
                stamp,
                ascii,
                tags,
            },
        );
    }
    if r.at != bytes.len() {
        return Err(SnapshotError::Malformed(r.at));
    }
    Ok(snap)
}

/// The bytes of a snapshot of `files` under `root`, with the names and
/// kinds their tags point into (the names table is compacted: only names
/// some tag uses are written, ids remapped).
pub(crate) fn encode(
    root: &Path,
    names: &[Box<[u8]>],
    kinds: &[String],
    files: &[FileOut<'_>],
) -> Vec<u8> {
    // Names in use, in order of first use.
    let mut remap: Vec<u32> = vec![u32::MAX; names.len()];
    let mut used: Vec<u32> = Vec::new();
    for f in files {
        for t in f.tags {
            if let Some(slot) = remap.get_mut(t.name as usize)
                && *slot == u32::MAX
            {
                *slot = used.len() as u32;
                used.push(t.name);
            }
        }
    }
    let tag_count: usize = files.iter().map(|f| f.tags.len()).sum();
    let mut b: Vec<u8> = Vec::with_capacity(HEADER + tag_count * TAG_BYTES + used.len() * 16);
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&VERSION.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&[0; 8 + 32]);
    block(&mut b, os_bytes(root));
    b.extend_from_slice(&(kinds.len() as u32).to_le_bytes());
    for k in kinds {
        block(&mut b, k.as_bytes());
    }
    b.extend_from_slice(&(used.len() as u32).to_le_bytes());
    let mut offset = 0u32;
    b.extend_from_slice(&offset.to_le_bytes());
    for &id in &used {
        offset += names[id as usize].len() as u32;
        b.extend_from_slice(&offset.to_le_bytes());
    }
    for &id in &used {
        b.extend_from_slice(&names[id as usize]);
    }
    b.extend_from_slice(&(files.len() as u32).to_le_bytes());
    for f in files {
        block(&mut b, f.rel);
        b.extend_from_slice(&f.fingerprint);
        match f
            .stamp
            .and_then(|s| Some((s, s.modified?.duration_since(UNIX_EPOCH).ok()?)))
        {
            Some((s, since)) => {
                b.push(1);
                b.extend_from_slice(&s.len.to_le_bytes());
                b.extend_from_slice(&since.as_secs().to_le_bytes());
                b.extend_from_slice(&since.subsec_nanos().to_le_bytes());
                b.extend_from_slice(&s.ino.to_le_bytes());
            }
            None => b.push(0),
        }
        b.push(u8::from(f.ascii));
        b.extend_from_slice(&(f.tags.len() as u32).to_le_bytes());
        for t in f.tags {
            let name = remap.get(t.name as usize).copied().unwrap_or(0);
            b.extend_from_slice(&name.to_le_bytes());
            b.extend_from_slice(&t.kind.to_le_bytes());
            b.push(u8::from(t.def));
            b.push(0);
            for v in [
                t.row,
                t.col,
                t.end_row,
                t.end_col,
                t.name_start,
                t.name_end,
                t.node_start,
                t.node_end,
            ] {
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    let len = (b.len() - HEADER) as u64;
    b[16..24].copy_from_slice(&len.to_le_bytes());
    let sum = blake3::hash(&b[HEADER..]);
    b[24..56].copy_from_slice(sum.as_bytes());
    b
}

/// Writes `bytes` to `path` whole: a temporary file beside it, synced,
/// renamed over it (a reader sees the old snapshot or the new one).
pub(crate) fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_data()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn block(b: &mut Vec<u8>, bytes: &[u8]) {
    b.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    b.extend_from_slice(bytes);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let end = self
            .at
            .checked_add(n)
            .ok_or(SnapshotError::Malformed(self.at))?;
        let s = self
            .bytes
            .get(self.at..end)
            .ok_or(SnapshotError::Malformed(self.at))?;
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, SnapshotError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    /// A `u32` length and that many bytes.
    fn block(&mut self) -> Result<&'a [u8], SnapshotError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    /// A `u32` count of items of at least `min` bytes each, refused when
    /// the rest of the snapshot cannot hold them (so no count read from a
    /// damaged file allocates more than the file's size).
    fn count(&mut self, min: usize) -> Result<usize, SnapshotError> {
        let at = self.at;
        let n = self.u32()? as usize;
        if n.saturating_mul(min.max(1)) > self.bytes.len() - self.at {
            return Err(SnapshotError::Malformed(at));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(len: u64, secs: u64, nanos: u32, ino: u64) -> Stamp {
        Stamp {
            len,
            modified: Some(UNIX_EPOCH + Duration::new(secs, nanos)),
            ino,
        }
    }

    fn tag(name: u32, kind: u16, def: bool, row: u32) -> CTag {
        CTag {
            name,
            kind,
            def,
            row,
            col: 4,
            end_row: row,
            end_col: 9,
            name_start: 100 + row,
            name_end: 105 + row,
            node_start: 90 + row,
            node_end: 200 + row,
        }
    }

    type Sample = (Vec<Box<[u8]>>, Vec<String>, Vec<CTag>, Vec<CTag>);

    fn sample() -> Sample {
        let names: Vec<Box<[u8]>> = vec![
            b"unused".as_slice().into(),
            b"main".as_slice().into(),
            b"helper".as_slice().into(),
            b"\xffraw".as_slice().into(),
        ];
        let kinds = vec!["function".to_string(), "call".to_string()];
        let a = vec![tag(1, 0, true, 3), tag(2, 1, false, 7)];
        let b = vec![tag(3, 1, false, 0), tag(2, 0, true, 11)];
        (names, kinds, a, b)
    }

    #[test]
    fn round_trip_with_compacted_names() {
        let root = Path::new("/ws");
        let (names, kinds, a, b) = sample();
        let files = [
            FileOut {
                rel: b"src/a.rs",
                fingerprint: [7; 32],
                stamp: Some(stamp(10, 1_700_000_000, 123_456_789, 42)),
                ascii: true,
                tags: &a,
            },
            FileOut {
                rel: b"b.rs",
                fingerprint: [9; 32],
                stamp: None,
                ascii: false,
                tags: &b,
            },
        ];
        let bytes = encode(root, &names, &kinds, &files);
        let snap = decode(&bytes, root).expect("decodes");
        assert_eq!(snap.kinds, kinds);
        // "unused" is dropped; ids follow first use.
        let got: Vec<&[u8]> = snap.names.iter().map(|n| &n[..]).collect();
        assert_eq!(got, vec![&b"main"[..], b"helper", b"\xffraw"]);
        let fa = &snap.files[&b"src/a.rs"[..]];
        assert_eq!(fa.fingerprint, [7; 32]);
        assert_eq!(fa.stamp, Some(stamp(10, 1_700_000_000, 123_456_789, 42)));
        assert!(fa.ascii);
        let name = |t: &CTag| &snap.names[t.name as usize][..];
        assert_eq!(
            fa.tags.iter().map(name).collect::<Vec<_>>(),
            vec![&b"main"[..], b"helper"]
        );
        assert_eq!(
            (fa.tags[1].row, fa.tags[1].kind, fa.tags[1].def),
            (7, 1, false)
        );
        assert_eq!(fa.tags[0].node_end, a[0].node_end);
        let fb = &snap.files[&b"b.rs"[..]];
        assert_eq!(fb.stamp, None);
        assert!(!fb.ascii);
        assert_eq!(
            fb.tags.iter().map(name).collect::<Vec<_>>(),
            vec![&b"\xffraw"[..], b"helper"]
        );
    }

    #[test]
    fn every_damage_is_refused_never_a_panic() {
        let root = Path::new("/ws");
        let (names, kinds, a, b) = sample();
        let files = [
            FileOut {
                rel: b"a.rs",
                fingerprint: [1; 32],
                stamp: Some(stamp(3, 5, 6, 7)),
                ascii: false,
                tags: &a,
            },
            FileOut {
                rel: b"b.rs",
                fingerprint: [2; 32],
                stamp: None,
                ascii: false,
                tags: &b,
            },
        ];
        let bytes = encode(root, &names, &kinds, &files);
        assert!(matches!(
            decode(&bytes, Path::new("/other")),
            Err(SnapshotError::OtherRoot)
        ));
        // Every truncation and every flipped byte is refused.
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], root).is_err(), "cut at {cut}");
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x5a;
            assert!(decode(&bad, root).is_err(), "flip at {i}");
        }
    }

    #[test]
    fn a_body_with_a_valid_checksum_but_bad_ids_or_counts_is_refused() {
        let root = Path::new("/ws");
        let (names, kinds, a, _) = sample();
        let files = [FileOut {
            rel: b"a.rs",
            fingerprint: [1; 32],
            stamp: None,
            ascii: false,
            tags: &a,
        }];
        let good = encode(root, &names, &kinds, &files);
        let reseal = |mut b: Vec<u8>| {
            let sum = blake3::hash(&b[HEADER..]);
            b[24..56].copy_from_slice(sum.as_bytes());
            b
        };
        // The last tag's kind id (at 4 bytes into the last 40) out of range.
        let mut b = good.clone();
        let at = b.len() - TAG_BYTES + 4;
        b[at] = 9;
        assert!(matches!(
            decode(&reseal(b), root),
            Err(SnapshotError::Malformed(_))
        ));
        // A tag count far beyond the file's size allocates nothing.
        let mut b = good.clone();
        let at = b.len() - 2 * TAG_BYTES - 4;
        b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            decode(&reseal(b), root),
            Err(SnapshotError::Malformed(_))
        ));
    }
}
