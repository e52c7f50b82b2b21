//! The index in memory: key → record location.
//!
//! It is the snapshot's table as written (docs/FORMAT.md, "Index snapshot"),
//! read in place and binary-searched, plus a hash map of what changed since
//! (puts, and removals of keys the table holds). Opening a store therefore
//! builds nothing per entry: the table is checked once (checksum, order,
//! bounds) and used as it is. A writer's flush writes a new table merged
//! from both and, if nothing changed meanwhile, takes it as its base.

use bytes::Bytes;
use rustc_hash::FxHashMap;

use super::{Loc, MAX_KEY_LEN};

/// Bytes of one table entry: u64 key offset in the key heap, u64 record
/// offset, u64 sequence, u32 segment, u32 value length.
pub(super) const ENTRY_LEN: usize = 32;

/// A sorted, immutable table of entries, read in place.
pub(super) struct Table {
    bytes: Bytes,
    /// Where the entries start in `bytes`.
    entries: usize,
    n: usize,
    /// Where the key heap starts in `bytes`, and its length.
    heap: usize,
    heap_len: usize,
    /// `buckets[p]`: the first entry whose key's leading `bits` bits are `p`
    /// or more (`p` in `0..=2^bits`), so a search starts in a range of a
    /// few entries (content keys are uniformly spread).
    buckets: Vec<u32>,
    bits: u32,
}

/// `a < b` bytewise; content keys differ in their first eight bytes, which
/// one integer compare decides.
fn less(a: &[u8], b: &[u8]) -> bool {
    if let (Some(x), Some(y)) = (a.get(..8), b.get(..8))
        && x != y
    {
        let be = |s: &[u8]| u64::from_be_bytes(s.try_into().expect("8 bytes"));
        return be(x) < be(y);
    }
    a < b
}

/// The leading `bits` bits of `key` (missing bytes read as zero, which
/// keeps the order: a key sorts at or after every key it extends).
fn prefix(key: &[u8], bits: u32) -> usize {
    let two = u32::from(key.first().copied().unwrap_or(0)) << 8
        | u32::from(key.get(1).copied().unwrap_or(0));
    (two >> (16 - bits)) as usize
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

impl Table {
    /// The table of `n` entries at `entries` in `bytes`, followed by a key
    /// heap of `heap_len` bytes. Checks that it fits in `bytes`, that every
    /// key lies in the heap and is 1..=`MAX_KEY_LEN` bytes long, and that the
    /// keys are strictly increasing (so a binary search finds each).
    pub(super) fn parse(
        bytes: Bytes,
        entries: usize,
        n: usize,
        heap_len: usize,
    ) -> Result<Table, &'static str> {
        let heap = n
            .checked_mul(ENTRY_LEN)
            .and_then(|t| t.checked_add(entries))
            .ok_or("entry count")?;
        if heap
            .checked_add(heap_len)
            .is_none_or(|end| end > bytes.len())
        {
            return Err("truncated");
        }
        // About two entries per bucket, at most 2^16 buckets; `n` entries
        // fit in u32 (each takes 32 bytes of a file).
        let bits = (usize::BITS - n.leading_zeros()).saturating_sub(1).min(16);
        let mut table = Table {
            bytes,
            entries,
            n,
            heap,
            heap_len,
            buckets: Vec::new(),
            bits,
        };
        let n32 = u32::try_from(n).map_err(|_| "entry count")?;
        let mut prev: Option<&[u8]> = None;
        let mut expect_off = 0u64;
        let mut buckets = Vec::with_capacity((1 << bits) + 1);
        for i in 0..n {
            let off = table.key_off(i);
            if off != expect_off {
                return Err("key offsets");
            }
            let end = table.key_end(i);
            let len = end.checked_sub(off).ok_or("key offsets")?;
            if len == 0 || len > MAX_KEY_LEN as u64 || end > heap_len as u64 {
                return Err("key length");
            }
            expect_off = end;
            let key = &table.bytes[table.heap + off as usize..table.heap + end as usize];
            if prev.is_some_and(|p| !less(p, key)) {
                return Err("key order");
            }
            prev = Some(key);
            let p = prefix(key, bits);
            while buckets.len() <= p {
                buckets.push(i as u32);
            }
        }
        if expect_off != heap_len as u64 {
            return Err("key heap length");
        }
        buckets.resize((1 << bits) + 1, n32);
        table.buckets = buckets;
        Ok(table)
    }

    fn key_off(&self, i: usize) -> u64 {
        u64_at(&self.bytes, self.entries + i * ENTRY_LEN)
    }

    fn key_end(&self, i: usize) -> u64 {
        if i + 1 < self.n {
            self.key_off(i + 1)
        } else {
            self.heap_len as u64
        }
    }

    pub(super) fn len(&self) -> usize {
        self.n
    }

    fn key(&self, i: usize) -> &[u8] {
        // In bounds: checked by `parse`.
        let (a, b) = (self.key_off(i) as usize, self.key_end(i) as usize);
        &self.bytes[self.heap + a..self.heap + b]
    }

    fn loc(&self, i: usize) -> Loc {
        let at = self.entries + i * ENTRY_LEN;
        let b = &self.bytes;
        Loc {
            offset: u64_at(b, at + 8),
            seq: u64_at(b, at + 16),
            segment: u32_at(b, at + 24),
            value_len: u32_at(b, at + 28),
        }
    }

    fn find(&self, key: &[u8]) -> Option<usize> {
        let p = prefix(key, self.bits);
        let (mut lo, mut hi) = (self.buckets[p] as usize, self.buckets[p + 1] as usize);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.key(mid).cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    fn iter(&self) -> impl Iterator<Item = (&[u8], Loc)> + '_ {
        (0..self.n).map(|i| (self.key(i), self.loc(i)))
    }
}

/// Appends the table of `entries` (sorted by key, keys distinct) and its key
/// heap to `out`: u64 count, u64 heap length, the entries, the heap.
pub(super) fn encode_table(out: &mut Vec<u8>, entries: &[(&[u8], Loc)]) {
    let heap_len: usize = entries.iter().map(|(k, _)| k.len()).sum();
    out.reserve(16 + entries.len() * ENTRY_LEN + heap_len);
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    out.extend_from_slice(&(heap_len as u64).to_le_bytes());
    let mut off = 0u64;
    for (k, l) in entries {
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&l.offset.to_le_bytes());
        out.extend_from_slice(&l.seq.to_le_bytes());
        out.extend_from_slice(&l.segment.to_le_bytes());
        out.extend_from_slice(&l.value_len.to_le_bytes());
        off += k.len() as u64;
    }
    for (k, _) in entries {
        out.extend_from_slice(k);
    }
}

/// Key → location: a table plus the changes made since it was read.
#[derive(Default)]
pub(super) struct Index {
    base: Option<Table>,
    /// A put (`Some`) or the removal of a key of `base` (`None`).
    changes: FxHashMap<Box<[u8]>, Option<Loc>>,
    len: usize,
    /// Counts changes, so that a snapshot taken at one moment is taken as
    /// the base only if nothing changed after it.
    epoch: u64,
}

impl Index {
    /// The index of a snapshot's table.
    pub(super) fn from_table(table: Table) -> Index {
        Index {
            len: table.len(),
            base: Some(table),
            ..Index::default()
        }
    }

    /// The table, if nothing changed since it was read.
    pub(super) fn into_table(self) -> Option<Table> {
        self.base.filter(|_| self.changes.is_empty())
    }

    pub(super) fn get(&self, key: &[u8]) -> Option<Loc> {
        match self.changes.get(key) {
            Some(change) => *change,
            None => {
                let t = self.base.as_ref()?;
                t.find(key).map(|i| t.loc(i))
            }
        }
    }

    pub(super) fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    fn in_base(&self, key: &[u8]) -> bool {
        self.base.as_ref().is_some_and(|t| t.find(key).is_some())
    }

    /// Sets `key`'s location; returns the one it replaces.
    pub(super) fn insert(&mut self, key: &[u8], loc: Loc) -> Option<Loc> {
        let old = self.get(key);
        if old.is_none() {
            self.len += 1;
        }
        match self.changes.get_mut(key) {
            Some(slot) => *slot = Some(loc),
            None => {
                self.changes.insert(key.into(), Some(loc));
            }
        }
        self.epoch += 1;
        old
    }

    /// Removes `key`; returns its location.
    pub(super) fn remove(&mut self, key: &[u8]) -> Option<Loc> {
        let old = self.get(key)?;
        if self.in_base(key) {
            self.changes.insert(key.into(), None);
        } else {
            self.changes.remove(key);
        }
        self.len -= 1;
        self.epoch += 1;
        Some(old)
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Every entry, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&[u8], Loc)> + '_ {
        self.unchanged().chain(self.changed())
    }

    /// The table's entries that no change shadows, in key order.
    fn unchanged(&self) -> impl Iterator<Item = (&[u8], Loc)> + '_ {
        let changes = &self.changes;
        self.base
            .iter()
            .flat_map(Table::iter)
            .filter(move |(k, _)| changes.is_empty() || !changes.contains_key(*k))
    }

    /// The entries put since the table was read.
    fn changed(&self) -> impl Iterator<Item = (&[u8], Loc)> + '_ {
        self.changes
            .iter()
            .filter_map(|(k, l)| l.map(|l| (&**k, l)))
    }

    /// Every entry, sorted by key (the table merged with the changes).
    pub(super) fn sorted(&self) -> Vec<(&[u8], Loc)> {
        let mut changed: Vec<(&[u8], Loc)> = self.changed().collect();
        changed.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut out = Vec::with_capacity(self.len);
        let mut base = self.unchanged().peekable();
        let mut changed = changed.into_iter().peekable();
        loop {
            let take_base = match (base.peek(), changed.peek()) {
                (Some(b), Some(c)) => b.0 < c.0,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let next = if take_base {
                base.next()
            } else {
                changed.next()
            };
            out.extend(next);
        }
        out
    }

    /// Keeps the entries `keep` accepts; returns how many it dropped.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&[u8], &Loc) -> bool) -> usize {
        let dropped: Vec<Box<[u8]>> = self
            .iter()
            .filter(|(k, l)| !keep(k, l))
            .map(|(k, _)| k.into())
            .collect();
        for k in &dropped {
            self.remove(k);
        }
        dropped.len()
    }

    /// Takes `table` (a snapshot of this index at `epoch`) as the base, if
    /// nothing changed since: the changes it holds are dropped.
    pub(super) fn rebase(&mut self, table: Table, epoch: u64) {
        if self.epoch == epoch && table.len() == self.len {
            self.base = Some(table);
            self.changes = FxHashMap::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn loc(i: u64) -> Loc {
        Loc {
            segment: i as u32 + 1,
            offset: i * 100,
            value_len: i as u32,
            seq: i + 7,
        }
    }

    fn table_of(entries: &[(&[u8], Loc)]) -> Table {
        let mut out = vec![0xAA; 5];
        encode_table(&mut out, entries);
        let n = u64_at(&out, 5) as usize;
        let heap = u64_at(&out, 13) as usize;
        Table::parse(Bytes::from(out), 21, n, heap).unwrap()
    }

    #[test]
    fn table_and_changes_behave_as_a_map() {
        let keys: Vec<Vec<u8>> = (0..200u32)
            .map(|i| format!("key{:05}", i * 3).into_bytes())
            .collect();
        let entries: Vec<(&[u8], Loc)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (&k[..], loc(i as u64)))
            .collect();
        let mut model: BTreeMap<Vec<u8>, Loc> =
            entries.iter().map(|(k, l)| (k.to_vec(), *l)).collect();
        let mut ix = Index::from_table(table_of(&entries));
        // Puts of new and old keys, removals of table and new keys.
        for i in 0..300u64 {
            let k = format!("key{:05}", i * 2).into_bytes();
            match i % 3 {
                0 | 1 => assert_eq!(ix.insert(&k, loc(i + 1000)), model.insert(k, loc(i + 1000))),
                _ => assert_eq!(ix.remove(&k), model.remove(&k)),
            }
        }
        assert_eq!(ix.len(), model.len());
        for k in model.keys() {
            assert_eq!(ix.get(k), model.get(k).copied());
        }
        assert_eq!(ix.get(b"absent"), None);
        let sorted: Vec<(Vec<u8>, Loc)> = ix
            .sorted()
            .into_iter()
            .map(|(k, l)| (k.to_vec(), l))
            .collect();
        let want: Vec<(Vec<u8>, Loc)> = model.iter().map(|(k, l)| (k.clone(), *l)).collect();
        assert_eq!(sorted, want);
        let mut all: Vec<(Vec<u8>, Loc)> = ix.iter().map(|(k, l)| (k.to_vec(), l)).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(all, want);
        // A table of the merged entries, taken as the base, changes nothing.
        let merged = ix.sorted();
        let t = table_of(&merged);
        let epoch = ix.epoch();
        ix.rebase(t, epoch);
        assert!(ix.changes.is_empty());
        for k in model.keys() {
            assert_eq!(ix.get(k), model.get(k).copied());
        }
        let dropped = ix.retain(|_, l| l.seq % 2 == 0);
        model.retain(|_, l| l.seq % 2 == 0);
        assert_eq!((ix.len(), dropped > 0), (model.len(), true));
        // A base taken after a change is refused.
        let t = table_of(&[]);
        ix.insert(b"late", loc(1));
        ix.rebase(t, epoch);
        assert_eq!(ix.get(b"late"), Some(loc(1)));
    }

    /// Keys spread over every leading byte, short keys among them: the
    /// bucketed search finds each key and nothing else.
    #[test]
    fn bucketed_search_finds_every_key_and_no_other() {
        for n in [0usize, 1, 2, 3, 100, 5000] {
            let mut keys: Vec<Vec<u8>> = (0..n)
                .map(|i| {
                    let h = blake3::hash(&i.to_le_bytes());
                    h.as_bytes()[..1 + i % 32].to_vec()
                })
                .collect();
            keys.push(vec![0]);
            keys.push(vec![0xff]);
            keys.push(vec![0xff, 0xff, 0xff]);
            keys.sort();
            keys.dedup();
            let entries: Vec<(&[u8], Loc)> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| (&k[..], loc(i as u64)))
                .collect();
            let t = table_of(&entries);
            for (i, k) in keys.iter().enumerate() {
                assert_eq!(t.find(k), Some(i), "n {n}, key {k:?}");
                let mut absent = k.clone();
                absent.push(0x80);
                if keys.binary_search(&absent).is_err() {
                    assert_eq!(t.find(&absent), None);
                }
            }
        }
    }

    #[test]
    fn malformed_tables_are_refused() {
        let entries: Vec<(&[u8], Loc)> = vec![(b"a", loc(1)), (b"b", loc(2))];
        let mut out = Vec::new();
        encode_table(&mut out, &entries);
        let ok =
            |b: Vec<u8>, n: usize, h: usize| Table::parse(Bytes::from(b), 16, n, h).map(|_| ());
        assert!(ok(out.clone(), 2, 2).is_ok());
        assert_eq!(ok(out.clone(), 3, 2), Err("truncated"));
        assert_eq!(ok(out.clone(), 2, 1), Err("key length"));
        assert_eq!(ok(out.clone(), usize::MAX / 2, 2), Err("entry count"));
        // Keys out of order.
        let mut swapped = out.clone();
        let heap = 16 + 2 * ENTRY_LEN;
        swapped.swap(heap, heap + 1);
        assert_eq!(ok(swapped, 2, 2), Err("key order"));
        // A key offset that does not follow the previous key.
        let mut bad = out.clone();
        bad[16 + ENTRY_LEN] = 0;
        assert_eq!(ok(bad, 2, 2), Err("key length"));
        // Every truncation is an error, never a panic.
        for cut in 0..out.len() {
            assert!(ok(out[..cut].to_vec(), 2, 2).is_err());
        }
    }
}
