//! Packs of records and their index (`docs/REMOTE.md`, "Pack" and "Index").
//!
//! A pack is a header, record frames back to back in the order they were
//! added, the index, and a trailer locating the index. Each frame carries its
//! key, its length and a check (the first 16 bytes of the BLAKE3 hash of the
//! frame before it). The index lists every record as (key, offset, length,
//! check), sorted by key; it is also stored as an object of its own, so a
//! reader fetches the index and then only the records it wants, by range.
//!
//! Everything read here is checked before use: a parse either returns a
//! structure whose every offset lies inside its bytes, or an [`Error`].

use std::collections::HashSet;

use bytes::Bytes;

use crate::{Digest, Key};

/// Magic of a pack.
pub const PACK_MAGIC: [u8; 4] = *b"CSTP";
/// Magic of a pack's trailer (its last 4 bytes).
pub const TRAILER_MAGIC: [u8; 4] = *b"CSTE";
/// Magic of an index.
pub const INDEX_MAGIC: [u8; 4] = *b"CSTI";
/// The pack and index version this build writes and reads.
pub const VERSION: u16 = 1;
/// Bytes of a pack's header.
pub const PACK_HEADER: usize = 8;
/// Bytes of a pack's trailer.
pub const TRAILER: usize = 16;
/// Bytes of an index's header.
pub const INDEX_HEADER: usize = 24;
/// Bytes of an index entry.
pub const ENTRY: usize = 60;
/// Bytes a frame adds to its record: key, length, check.
pub const FRAME_OVERHEAD: usize = 32 + 4 + 16;
/// The largest record body a frame holds.
pub const MAX_BODY: usize = u32::MAX as usize - FRAME_OVERHEAD;

/// Why bytes were refused as a pack, an index or a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Fewer bytes than the structure needs.
    #[error("{what} truncated: {len} bytes, needs {need}")]
    Truncated {
        /// The structure.
        what: &'static str,
        /// Bytes there are.
        len: usize,
        /// Bytes it needs.
        need: usize,
    },
    /// Not the magic of the structure.
    #[error("{what}: bad magic")]
    Magic {
        /// The structure.
        what: &'static str,
    },
    /// A version this build does not read.
    #[error("{what}: version {found}, this build reads version {VERSION}")]
    Version {
        /// The structure.
        what: &'static str,
        /// The version found.
        found: u16,
    },
    /// Flags or reserved fields that must be zero are not.
    #[error("{what}: unknown flags or non-zero reserved field")]
    Reserved {
        /// The structure.
        what: &'static str,
    },
    /// The index is inconsistent (order, sizes, frames).
    #[error("index: {0}")]
    Index(&'static str),
    /// The pack is inconsistent (trailer, index placement).
    #[error("pack: {0}")]
    Pack(&'static str),
    /// A record frame fails its check or disagrees with its index entry.
    #[error("record: {0}")]
    Record(&'static str),
    /// A record too large for a frame, or too many records for a pack.
    #[error("record too large or pack too full ({0} bytes)")]
    TooLarge(usize),
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().expect("2 bytes"))
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The check of a frame: the first 16 bytes of BLAKE3(key ‖ length ‖ body).
pub fn frame_check(key: &Key, body: &[u8]) -> [u8; 16] {
    let len = u32::try_from(body.len()).expect("body length checked by the caller");
    let mut h = blake3::Hasher::new();
    h.update(key);
    h.update(&len.to_le_bytes());
    h.update(body);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize().as_bytes()[..16]);
    out
}

/// One record in an index: where its frame lies in the pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndexEntry {
    /// The record's key.
    pub key: Key,
    /// Byte offset of the frame in the pack.
    pub offset: u64,
    /// Bytes of the frame (the body plus [`FRAME_OVERHEAD`]).
    pub len: u32,
    /// The frame's check (see [`frame_check`]).
    pub check: [u8; 16],
}

impl IndexEntry {
    /// Bytes of the record's body.
    pub fn body_len(&self) -> usize {
        self.len as usize - FRAME_OVERHEAD
    }

    /// The byte range of the frame in the pack.
    pub fn range(&self) -> std::ops::Range<u64> {
        self.offset..self.offset + u64::from(self.len)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.key);
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&self.check);
    }

    fn decode(b: &[u8]) -> Self {
        IndexEntry {
            key: b[..32].try_into().expect("32 bytes"),
            offset: u64_at(b, 32),
            len: u32_at(b, 40),
            check: b[44..60].try_into().expect("16 bytes"),
        }
    }
}

/// Checks a frame's bytes against the index entry that located it and
/// returns the record's body (a slice of `frame`, nothing copied).
pub fn verify_frame(frame: &Bytes, entry: &IndexEntry) -> Result<Bytes, Error> {
    if frame.len() != entry.len as usize || frame.len() < FRAME_OVERHEAD {
        return Err(Error::Record("frame length differs from the index"));
    }
    if frame[..32] != entry.key {
        return Err(Error::Record("frame key differs from the index"));
    }
    let body_len = u32_at(frame, 32) as usize;
    if body_len != frame.len() - FRAME_OVERHEAD {
        return Err(Error::Record("frame length field differs from its size"));
    }
    let body = frame.slice(36..36 + body_len);
    let check = frame_check(&entry.key, &body);
    if frame[36 + body_len..] != check || check != entry.check {
        return Err(Error::Record("checksum mismatch"));
    }
    Ok(body)
}

/// A parsed, checked index: the key-sorted table read where it lies.
#[derive(Debug, Clone)]
pub struct PackIndex {
    bytes: Bytes,
    count: usize,
    data_end: u64,
}

impl PackIndex {
    /// Parses and checks an index: header, size, strictly ascending keys,
    /// and frames that tile the pack's record area exactly.
    pub fn parse(bytes: Bytes) -> Result<Self, Error> {
        const WHAT: &str = "index";
        if bytes.len() < INDEX_HEADER {
            return Err(Error::Truncated {
                what: WHAT,
                len: bytes.len(),
                need: INDEX_HEADER,
            });
        }
        if bytes[..4] != INDEX_MAGIC {
            return Err(Error::Magic { what: WHAT });
        }
        let version = u16_at(&bytes, 4);
        if version != VERSION {
            return Err(Error::Version {
                what: WHAT,
                found: version,
            });
        }
        if u16_at(&bytes, 6) != 0 || u32_at(&bytes, 12) != 0 {
            return Err(Error::Reserved { what: WHAT });
        }
        let count = u32_at(&bytes, 8) as usize;
        let need = count
            .checked_mul(ENTRY)
            .and_then(|n| n.checked_add(INDEX_HEADER))
            .ok_or(Error::Index("count overflows"))?;
        if bytes.len() < need {
            return Err(Error::Truncated {
                what: WHAT,
                len: bytes.len(),
                need,
            });
        }
        if bytes.len() > need {
            return Err(Error::Index("bytes after the last entry"));
        }
        let data_end = u64_at(&bytes, 16);
        let index = PackIndex {
            bytes,
            count,
            data_end,
        };
        // Keys strictly ascending; frames tile [PACK_HEADER, data_end).
        let mut spans = Vec::with_capacity(count);
        let mut prev: Option<Key> = None;
        for e in index.iter() {
            if prev.is_some_and(|p| p >= e.key) {
                return Err(Error::Index("keys not strictly ascending"));
            }
            prev = Some(e.key);
            if (e.len as usize) < FRAME_OVERHEAD {
                return Err(Error::Index("frame shorter than its overhead"));
            }
            spans.push((e.offset, e.len));
        }
        spans.sort_unstable();
        let mut at = PACK_HEADER as u64;
        for (offset, len) in spans {
            if offset != at {
                return Err(Error::Index("frames do not tile the pack"));
            }
            at = offset
                .checked_add(u64::from(len))
                .ok_or(Error::Index("frame overflows"))?;
        }
        if at != data_end {
            return Err(Error::Index("frames do not end at the index"));
        }
        Ok(index)
    }

    /// Records in the index.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the index lists no record.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Where the pack's record frames end (its index starts).
    pub fn data_end(&self) -> u64 {
        self.data_end
    }

    /// The index's bytes (as stored).
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The `i`th entry in key order.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn entry(&self, i: usize) -> IndexEntry {
        assert!(i < self.count, "index entry {i} of {}", self.count);
        let at = INDEX_HEADER + i * ENTRY;
        IndexEntry::decode(&self.bytes[at..at + ENTRY])
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = IndexEntry> + '_ {
        (0..self.count).map(|i| self.entry(i))
    }

    /// The entry of `key`, by binary search.
    pub fn get(&self, key: &Key) -> Option<IndexEntry> {
        let (mut lo, mut hi) = (0usize, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let at = INDEX_HEADER + mid * ENTRY;
            match self.bytes[at..at + 32].cmp(key.as_slice()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.entry(mid)),
            }
        }
        None
    }
}

/// A whole pack, parsed and checked: header, trailer and index (the frames
/// are checked as they are read).
#[derive(Debug, Clone)]
pub struct Pack {
    bytes: Bytes,
    index: PackIndex,
}

impl Pack {
    /// Parses a pack: its header, its trailer, and the index the trailer
    /// locates (which must end where the trailer starts).
    pub fn parse(bytes: Bytes) -> Result<Self, Error> {
        const WHAT: &str = "pack";
        if bytes.len() < PACK_HEADER + INDEX_HEADER + TRAILER {
            return Err(Error::Truncated {
                what: WHAT,
                len: bytes.len(),
                need: PACK_HEADER + INDEX_HEADER + TRAILER,
            });
        }
        if bytes[..4] != PACK_MAGIC {
            return Err(Error::Magic { what: WHAT });
        }
        let version = u16_at(&bytes, 4);
        if version != VERSION {
            return Err(Error::Version {
                what: WHAT,
                found: version,
            });
        }
        if u16_at(&bytes, 6) != 0 {
            return Err(Error::Reserved { what: WHAT });
        }
        let t = bytes.len() - TRAILER;
        if bytes[t + 12..] != TRAILER_MAGIC {
            return Err(Error::Pack("bad trailer magic (truncated?)"));
        }
        let index_at = u64_at(&bytes, t);
        let index_len = u64::from(u32_at(&bytes, t + 8));
        if index_at.checked_add(index_len) != Some(t as u64) || index_at < PACK_HEADER as u64 {
            return Err(Error::Pack("trailer does not locate the index"));
        }
        let index = PackIndex::parse(bytes.slice(index_at as usize..t))?;
        if index.data_end() != index_at {
            return Err(Error::Pack("index does not start where the records end"));
        }
        Ok(Pack { bytes, index })
    }

    /// The pack's index.
    pub fn index(&self) -> &PackIndex {
        &self.index
    }

    /// The pack's bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The body of `entry`'s record, checked.
    pub fn record(&self, entry: &IndexEntry) -> Result<Bytes, Error> {
        let r = entry.range();
        if r.end > self.index.data_end() {
            return Err(Error::Record("frame outside the pack"));
        }
        verify_frame(&self.bytes.slice(r.start as usize..r.end as usize), entry)
    }

    /// The body of `key`'s record, checked; `Ok(None)` if the pack lacks it.
    pub fn get(&self, key: &Key) -> Result<Option<Bytes>, Error> {
        self.index.get(key).map(|e| self.record(&e)).transpose()
    }

    /// Every record, in the order they were written (by offset), checked.
    pub fn records(&self) -> impl Iterator<Item = Result<(Key, Bytes), Error>> + '_ {
        let mut entries: Vec<IndexEntry> = self.index.iter().collect();
        entries.sort_unstable_by_key(|e| e.offset);
        entries
            .into_iter()
            .map(move |e| self.record(&e).map(|b| (e.key, b)))
    }
}

/// A pack finished by [`PackWriter::finish`].
#[derive(Debug, Clone)]
pub struct FinishedPack {
    /// The pack's bytes.
    pub pack: Bytes,
    /// Its index's bytes (also the pack's tail before the trailer).
    pub index: Bytes,
    /// BLAKE3 of `pack`: its name.
    pub pack_digest: Digest,
    /// BLAKE3 of `index`: its name.
    pub index_digest: Digest,
    /// Records in the pack.
    pub records: u32,
}

/// Builds one pack: records are framed in the order they are added.
#[derive(Debug)]
pub struct PackWriter {
    buf: Vec<u8>,
    entries: Vec<IndexEntry>,
    keys: HashSet<Key>,
}

impl Default for PackWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl PackWriter {
    /// An empty pack.
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(1 << 16);
        buf.extend_from_slice(&PACK_MAGIC);
        buf.extend_from_slice(&VERSION.to_le_bytes());
        buf.extend_from_slice(&0u16.to_le_bytes());
        PackWriter {
            buf,
            entries: Vec::new(),
            keys: HashSet::new(),
        }
    }

    /// Adds a record; `Ok(false)` if the pack already holds `key` (the
    /// first body stays).
    pub fn add(&mut self, key: Key, body: &[u8]) -> Result<bool, Error> {
        if body.len() > MAX_BODY || self.entries.len() >= u32::MAX as usize {
            return Err(Error::TooLarge(body.len()));
        }
        if !self.keys.insert(key) {
            return Ok(false);
        }
        let offset = self.buf.len() as u64;
        let check = frame_check(&key, body);
        self.buf.extend_from_slice(&key);
        self.buf
            .extend_from_slice(&(body.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(&check);
        self.entries.push(IndexEntry {
            key,
            offset,
            len: (body.len() + FRAME_OVERHEAD) as u32,
            check,
        });
        Ok(true)
    }

    /// Records added.
    pub fn records(&self) -> usize {
        self.entries.len()
    }

    /// Whether no record was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pack's size if it were finished now.
    pub fn size(&self) -> u64 {
        (self.buf.len() + INDEX_HEADER + self.entries.len() * ENTRY + TRAILER) as u64
    }

    /// Finishes the pack: its index (sorted by key), then the trailer.
    pub fn finish(mut self) -> FinishedPack {
        let data_end = self.buf.len() as u64;
        self.entries.sort_unstable_by_key(|e| e.key);
        let mut index = Vec::with_capacity(INDEX_HEADER + self.entries.len() * ENTRY);
        index.extend_from_slice(&INDEX_MAGIC);
        index.extend_from_slice(&VERSION.to_le_bytes());
        index.extend_from_slice(&0u16.to_le_bytes());
        index.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        index.extend_from_slice(&0u32.to_le_bytes());
        index.extend_from_slice(&data_end.to_le_bytes());
        for e in &self.entries {
            e.encode(&mut index);
        }
        let index_len = u32::try_from(index.len()).expect("index under 4 GiB");
        self.buf.extend_from_slice(&index);
        self.buf.extend_from_slice(&data_end.to_le_bytes());
        self.buf.extend_from_slice(&index_len.to_le_bytes());
        self.buf.extend_from_slice(&TRAILER_MAGIC);
        let pack = Bytes::from(self.buf);
        let index = Bytes::from(index);
        FinishedPack {
            pack_digest: crate::digest(&pack),
            index_digest: crate::digest(&index),
            pack,
            index,
            records: self.entries.len() as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> Key {
        crate::digest(&i.to_le_bytes())
    }

    fn sample(n: u32) -> FinishedPack {
        let mut w = PackWriter::new();
        for i in 0..n {
            let body = vec![i as u8; (i as usize * 7) % 50];
            assert!(w.add(key(i), &body).unwrap());
        }
        let size = w.size();
        let f = w.finish();
        assert_eq!(f.pack.len() as u64, size);
        f
    }

    #[test]
    fn round_trip() {
        let f = sample(20);
        let pack = Pack::parse(f.pack.clone()).unwrap();
        assert_eq!(pack.index().as_bytes(), &f.index);
        let index = PackIndex::parse(f.index.clone()).unwrap();
        assert_eq!(index.len(), 20);
        for i in 0..20 {
            let e = index.get(&key(i)).unwrap();
            let body = pack.record(&e).unwrap();
            assert_eq!(&body[..], &vec![i as u8; (i as usize * 7) % 50][..]);
            let frame = f
                .pack
                .slice(e.offset as usize..(e.offset + u64::from(e.len)) as usize);
            assert_eq!(verify_frame(&frame, &e).unwrap(), body);
        }
        assert!(index.get(&key(99)).is_none());
        let order: Vec<Key> = pack.records().map(|r| r.unwrap().0).collect();
        assert_eq!(order, (0..20).map(key).collect::<Vec<_>>());
    }

    #[test]
    fn empty_pack_round_trips() {
        let f = PackWriter::new().finish();
        let pack = Pack::parse(f.pack).unwrap();
        assert!(pack.index().is_empty());
    }

    #[test]
    fn duplicate_keys_keep_the_first() {
        let mut w = PackWriter::new();
        assert!(w.add(key(1), b"a").unwrap());
        assert!(!w.add(key(1), b"b").unwrap());
        let f = w.finish();
        let pack = Pack::parse(f.pack).unwrap();
        assert_eq!(&pack.get(&key(1)).unwrap().unwrap()[..], b"a");
    }

    /// Every truncation and every single-byte flip of a pack and of an index
    /// is refused, or (for a flip that leaves the structure valid, which
    /// cannot happen here since every byte is checked) yields the same
    /// records; never a panic, never a wrong record.
    #[test]
    fn damage_is_refused() {
        let f = sample(4);
        for cut in 0..f.pack.len() {
            assert!(Pack::parse(f.pack.slice(..cut)).is_err(), "cut {cut}");
        }
        for cut in 0..f.index.len() {
            assert!(PackIndex::parse(f.index.slice(..cut)).is_err(), "cut {cut}");
        }
        for at in 0..f.pack.len() {
            for bit in 0..8 {
                let mut b = f.pack.to_vec();
                b[at] ^= 1 << bit;
                let damaged = Bytes::from(b);
                // The digest names the pack: any change is caught by it.
                assert_ne!(crate::digest(&damaged), f.pack_digest);
                // And the structure alone still refuses every record it
                // cannot vouch for.
                if let Ok(p) = Pack::parse(damaged) {
                    let good = PackIndex::parse(f.index.clone()).unwrap();
                    for e in good.iter() {
                        if let Ok(body) = p.record(&e) {
                            let want = Pack::parse(f.pack.clone()).unwrap().record(&e).unwrap();
                            assert_eq!(body, want, "flip at {at} bit {bit} served a wrong record");
                        }
                    }
                }
            }
        }
        for at in 0..f.index.len() {
            for bit in 0..8 {
                let mut b = f.index.to_vec();
                b[at] ^= 1 << bit;
                let damaged = Bytes::from(b);
                if let Ok(idx) = PackIndex::parse(damaged) {
                    // A flip in a check or key field parses; the frame then
                    // disagrees with it.
                    let pack = Pack::parse(f.pack.clone()).unwrap();
                    let served: Vec<_> = idx
                        .iter()
                        .filter_map(|e| pack.record(&e).ok().map(|b| (e.key, b)))
                        .collect();
                    assert!(served.len() < 4, "flip at {at} bit {bit} went unnoticed");
                    for (k, body) in served {
                        assert_eq!(Some(body), pack.get(&k).unwrap());
                    }
                }
            }
        }
    }

    #[test]
    fn version_and_magic_are_typed() {
        let f = sample(2);
        let mut b = f.index.to_vec();
        b[4] = 2;
        assert!(matches!(
            PackIndex::parse(Bytes::from(b)),
            Err(Error::Version { found: 2, .. })
        ));
        let mut b = f.pack.to_vec();
        b[0] = b'X';
        assert!(matches!(
            Pack::parse(Bytes::from(b)),
            Err(Error::Magic { .. })
        ));
    }
}
