//! The index snapshot (docs/FORMAT.md, "Frozen store", "Index snapshot"):
//! key → record location, as a table sorted by key that is read in place
//! (see [`super::index`]), and per segment how many bytes it covers.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use bytes::Bytes;

use super::index::{self, Index, Table};
use super::{Inner, Loc, MAX_KEY_LEN, Result, io_err, sync_dir};

const INDEX_MAGIC: [u8; 4] = *b"CSTI";
/// The snapshot's layout: 2 is a table sorted by key; 1 (entries in
/// location order, each with its key) is still read.
pub(super) const SNAPSHOT_VERSION: u16 = 2;
/// Magic, version, reserved, body length.
const HEADER_LEN: usize = 16;

/// The snapshot file's bytes for the state in `inner`.
pub(super) fn encode(inner: &Inner) -> Vec<u8> {
    let entries = inner.index.sorted();
    let heap: usize = entries.iter().map(|(k, _)| k.len()).sum();
    let mut file = Vec::with_capacity(
        HEADER_LEN + 40 + inner.segments.len() * 12 + entries.len() * index::ENTRY_LEN + heap,
    );
    file.extend_from_slice(&INDEX_MAGIC);
    file.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    file.extend_from_slice(&[0, 0]);
    file.extend_from_slice(&[0; 8]); // the body length, below
    file.extend_from_slice(&(inner.segments.len() as u32).to_le_bytes());
    for s in inner.segments.values() {
        file.extend_from_slice(&s.id.to_le_bytes());
        file.extend_from_slice(&s.len.to_le_bytes());
    }
    file.extend_from_slice(&inner.next_seq.to_le_bytes());
    index::encode_table(&mut file, &entries);
    let body_len = (file.len() - HEADER_LEN) as u64;
    file[8..16].copy_from_slice(&body_len.to_le_bytes());
    let sum = crc32c::crc32c(&file);
    file.extend_from_slice(&sum.to_le_bytes());
    file
}

/// Replaces `index.cst` in `dir` with `bytes`: a temporary file, fsynced
/// (when `sync`), renamed over it, and the directory fsynced.
pub(super) fn replace(dir: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    let tmp = dir.join(format!("index.cst.tmp{}", std::process::id()));
    let path = dir.join("index.cst");
    {
        let mut f = File::create(&tmp).map_err(io_err("create", &tmp))?;
        f.write_all(bytes).map_err(io_err("write", &tmp))?;
        if sync {
            f.sync_all().map_err(io_err("fsync", &tmp))?;
        }
    }
    fs::rename(&tmp, &path).map_err(io_err("rename", &path))?;
    if sync {
        sync_dir(dir)?;
    }
    Ok(())
}

/// What a snapshot holds.
pub(super) struct Snapshot {
    pub index: Index,
    /// Bytes of each segment the snapshot covers.
    pub covered: BTreeMap<u32, u64>,
    pub next_seq: u64,
    /// The layout it was read from.
    pub version: u16,
}

/// Reads the index snapshot. `Ok(None)`: there is none. `Err`: it is corrupt.
pub(super) fn read(path: &Path) -> std::result::Result<Option<Snapshot>, &'static str> {
    match super::segment::snapshot_bytes(path) {
        Ok(b) => decode(b).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(_) => Err("unreadable"),
    }
}

/// The table of a version 2 snapshot this process just encoded (for the
/// writer, which takes it as its index's base).
pub(super) fn table_of(bytes: Vec<u8>) -> Option<Table> {
    decode(Bytes::from(bytes)).ok()?.index.into_table()
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], &'static str> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or("truncated")?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> std::result::Result<u32, &'static str> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> std::result::Result<u64, &'static str> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
}

fn decode(bytes: Bytes) -> std::result::Result<Snapshot, &'static str> {
    if bytes.len() < HEADER_LEN + 4 || bytes[..4] != INDEX_MAGIC {
        return Err("bad magic");
    }
    let content = &bytes[..bytes.len() - 4];
    let sum = &bytes[bytes.len() - 4..];
    if crc32c::crc32c(content) != u32::from_le_bytes(sum.try_into().expect("4")) {
        return Err("checksum");
    }
    let version = u16::from_le_bytes([content[4], content[5]]);
    if version != 1 && version != SNAPSHOT_VERSION {
        return Err("version");
    }
    let body_len = u64::from_le_bytes(content[8..16].try_into().expect("8"));
    if version == SNAPSHOT_VERSION && body_len != (content.len() - HEADER_LEN) as u64 {
        return Err("body length");
    }
    let mut r = Reader {
        b: content,
        at: HEADER_LEN,
    };
    let nseg = r.u32()? as usize;
    let mut covered = BTreeMap::new();
    for _ in 0..nseg {
        let id = r.u32()?;
        covered.insert(id, r.u64()?);
    }
    let next_seq = r.u64()?;
    let n = usize::try_from(r.u64()?).map_err(|_| "entry count")?;
    let index = if version == 1 {
        read_v1_entries(&mut r, n)?
    } else {
        let heap_len = usize::try_from(r.u64()?).map_err(|_| "key heap length")?;
        let table = Table::parse(bytes.slice(..content.len()), r.at, n, heap_len)?;
        if r.at + n * index::ENTRY_LEN + heap_len != content.len() {
            return Err("trailing bytes");
        }
        Index::from_table(table)
    };
    Ok(Snapshot {
        index,
        covered,
        next_seq,
        version,
    })
}

/// Version 1 entries: u32 key length, key, u32 segment, u64 offset, u32
/// value length, u64 sequence, in location order.
fn read_v1_entries(r: &mut Reader<'_>, n: usize) -> std::result::Result<Index, &'static str> {
    let mut index = Index::default();
    for _ in 0..n {
        let klen = r.u32()? as usize;
        if klen == 0 || klen > MAX_KEY_LEN {
            return Err("key length");
        }
        let key = r.take(klen)?;
        let loc = Loc {
            segment: r.u32()?,
            offset: r.u64()?,
            value_len: r.u32()?,
            seq: r.u64()?,
        };
        // A key listed twice (never written so): the later entry wins, as
        // version 1 readers had it.
        index.insert(key, loc);
    }
    Ok(index)
}
