//! The index snapshot (docs/FORMAT.md, "Frozen store", "Index snapshot"):
//! key → record location and, per segment, how many bytes it covers.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use super::{Inner, Loc, MAX_KEY_LEN, Result, STORE_VERSION, io_err, sync_dir};

const INDEX_MAGIC: [u8; 4] = *b"CSTI";

/// The snapshot file's bytes for the state in `inner`.
pub(super) fn encode(inner: &Inner) -> Vec<u8> {
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
    let mut file_bytes = Vec::with_capacity(body.len() + 20);
    file_bytes.extend_from_slice(&INDEX_MAGIC);
    file_bytes.extend_from_slice(&STORE_VERSION.to_le_bytes());
    file_bytes.extend_from_slice(&[0, 0]);
    file_bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    file_bytes.extend_from_slice(&body);
    let sum = crc32c::crc32c(&file_bytes);
    file_bytes.extend_from_slice(&sum.to_le_bytes());
    file_bytes
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

/// Entries, covered length per segment, next sequence number.
pub(super) type IndexContents = (Vec<(Box<[u8]>, Loc)>, BTreeMap<u32, u64>, u64);

/// Reads the index snapshot. `Ok(None)`: there is none. `Err`: it is corrupt.
pub(super) fn read(path: &Path) -> std::result::Result<Option<IndexContents>, &'static str> {
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
    // An entry takes at least 29 bytes: the count cannot reserve more than
    // the file holds.
    let mut entries = Vec::with_capacity((n as usize).min(content.len() / 29));
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
