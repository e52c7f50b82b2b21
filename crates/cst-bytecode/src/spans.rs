//! Hidden spans (format versions 4 and 5): the hidden nodes that are not a single
//! node's wrappers, as a varint stream read in place, with a checkpoint
//! every [`SPAN_CHECKPOINT`] entries for seeking (docs/FORMAT.md, "Hidden
//! spans").
//!
//! Entry: `head` varint = `((n − 1) << 4) | (explicit << 3) | min(d, 7)`
//! (`n` visible descendants from `first`, `d = first − previous first`),
//! then `d − 7` if `min(d, 7) = 7`, then the symbol's index in the span
//! symbol table, then, if `explicit`, the start byte and the length.
//! Without `explicit` the range is its visible descendants': the start of
//! `first` to the end of the last top-level one.

use crate::succinct::{u16_at, u32_at};

/// Entries per checkpoint: (byte offset of the entry, first of the entry
/// before it), two u32s.
pub(crate) const SPAN_CHECKPOINT: usize = 64;

/// A decoded span entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub first: u32,
    pub end: u32,
    pub symbol: u16,
    /// (start, end) when stored; else derived from the visible nodes.
    pub range: Option<(u32, u32)>,
}

use crate::varint::{get as get_varint, put as put_varint};

/// Writes the entries (walk order, `range` as stored) and returns
/// (stream, checkpoints, symbol table).
pub(crate) fn write(spans: &[Span]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut symbols: Vec<u16> = spans.iter().map(|s| s.symbol).collect();
    symbols.sort_unstable();
    symbols.dedup();
    let mut out = Vec::with_capacity(spans.len() * 3);
    let mut index = Vec::new();
    if !spans.is_empty() {
        index.extend_from_slice(&(spans.len() as u32).to_le_bytes());
    }
    let mut prev = 0u32;
    for (i, s) in spans.iter().enumerate() {
        if i % SPAN_CHECKPOINT == 0 {
            index.extend_from_slice(&(out.len() as u32).to_le_bytes());
            index.extend_from_slice(&prev.to_le_bytes());
        }
        let d = u64::from(s.first.wrapping_sub(prev));
        let head = (u64::from(s.end.wrapping_sub(s.first).wrapping_sub(1)) << 4)
            | (u64::from(s.range.is_some()) << 3)
            | d.min(7);
        put_varint(&mut out, head);
        if d >= 7 {
            put_varint(&mut out, d - 7);
        }
        let slot = symbols.binary_search(&s.symbol).unwrap_or(0);
        put_varint(&mut out, slot as u64);
        if let Some((start, end)) = s.range {
            put_varint(&mut out, u64::from(start));
            put_varint(&mut out, u64::from(end.wrapping_sub(start)));
        }
        prev = s.first;
    }
    let table = symbols.iter().flat_map(|s| s.to_le_bytes()).collect();
    (out, index, table)
}

/// The span stream of a tree, read in place.
#[derive(Clone, Copy)]
pub(crate) struct Spans<'a> {
    pub stream: &'a [u8],
    /// The checkpoints (after the count).
    pub index: &'a [u8],
    pub symbols: &'a [u8],
    pub count: usize,
}

impl<'a> Spans<'a> {
    /// The spans of the sections `stream`, `index` (a u32 count, then the
    /// checkpoints; empty for no spans) and `symbols`; `None` if their
    /// sizes disagree.
    pub fn new(stream: &'a [u8], index: &'a [u8], symbols: &'a [u8]) -> Option<Spans<'a>> {
        if index.is_empty() {
            return (stream.is_empty() && symbols.is_empty()).then_some(Spans {
                stream,
                index,
                symbols,
                count: 0,
            });
        }
        let count = u32_at(index, 0) as usize;
        let ok = count > 0
            && index.len() == 4 + count.div_ceil(SPAN_CHECKPOINT) * 8
            && symbols.len().is_multiple_of(2)
            && stream.len() >= count;
        ok.then(|| Spans {
            stream,
            index: &index[4..],
            symbols,
            count,
        })
    }

    /// Decoding from entry `k`, a multiple of [`SPAN_CHECKPOINT`].
    fn at_checkpoint(&self, c: usize) -> SpanIter<'a> {
        SpanIter {
            spans: *self,
            at: u32_at(self.index, c * 8) as usize,
            prev: u32_at(self.index, c * 8 + 4),
            left: self.count.saturating_sub(c * SPAN_CHECKPOINT),
        }
    }

    /// Entries from the first one whose `first` is ≥ `first`.
    pub fn seek(&self, first: u32) -> SpanIter<'a> {
        let mut it = self.iter();
        it.skip_to(first);
        it
    }

    pub fn iter(&self) -> SpanIter<'a> {
        self.at_checkpoint(0)
    }

    /// Decoding from a [`SpanIter::position`] of an iterator over these
    /// spans (another's decodes garbage, bounded: never more entries than
    /// there are, stopping at the first malformed one).
    pub fn resume(&self, (at, prev, left): (u32, u32, u32)) -> SpanIter<'a> {
        SpanIter {
            spans: *self,
            at: at as usize,
            prev,
            left: (left as usize).min(self.count),
        }
    }

    /// The `first` of checkpoint `c`'s entry (`u32::MAX` if it is
    /// malformed).
    fn first_of(&self, c: usize) -> u32 {
        self.at_checkpoint(c).next().map_or(u32::MAX, |s| s.first)
    }
}

impl SpanIter<'_> {
    /// Where it is: (byte offset of the next entry, `first` of the one
    /// before it, entries left).
    pub fn position(&self) -> (u32, u32, u32) {
        (self.at as u32, self.prev, self.left as u32)
    }

    /// Passes over the entries whose `first` is below `first`, forward
    /// only: from the checkpoints ahead (galloping, then a binary search),
    /// then entry by entry within one checkpoint's. Afterwards it yields
    /// the entries whose `first` is ≥ `first` if every entry passed
    /// already is below it ([`Spans::seek`] is this from the start).
    pub fn skip_to(&mut self, first: u32) {
        let spans = self.spans;
        let checkpoints = spans.count.div_ceil(SPAN_CHECKPOINT);
        // The checkpoint after the next entry's.
        let next = spans.count - self.left;
        let mut lo = next / SPAN_CHECKPOINT + 1;
        if lo < checkpoints && spans.first_of(lo) < first {
            // The last checkpoint whose entry starts before `first` is in
            // `lo..hi`.
            let mut step = 1;
            let mut hi = lo + 1;
            while hi < checkpoints && spans.first_of(hi) < first {
                lo = hi;
                step *= 2;
                hi = (lo + step).min(checkpoints);
            }
            while lo + 1 < hi {
                let mid = (lo + hi) / 2;
                if spans.first_of(mid) < first {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            *self = spans.at_checkpoint(lo);
        }
        loop {
            let save = *self;
            match self.next() {
                Some(s) if s.first < first => continue,
                _ => {
                    *self = save;
                    return;
                }
            }
        }
    }
}

/// Sequential decoding of spans. Stops at the first malformed entry.
#[derive(Clone, Copy)]
pub(crate) struct SpanIter<'a> {
    spans: Spans<'a>,
    at: usize,
    prev: u32,
    left: usize,
}

impl Iterator for SpanIter<'_> {
    type Item = Span;
    #[inline]
    fn next(&mut self) -> Option<Span> {
        if self.left == 0 {
            return None;
        }
        let b = self.spans.stream;
        let mut at = self.at;
        let decoded = (|| {
            let head = get_varint(b, &mut at)?;
            let mut d = head & 7;
            if d == 7 {
                d = d.checked_add(get_varint(b, &mut at)?)?;
            }
            let first = u32::try_from(u64::from(self.prev).checked_add(d)?).ok()?;
            let n = u32::try_from((head >> 4).checked_add(1)?).ok()?;
            let slot = usize::try_from(get_varint(b, &mut at)?).ok()?;
            let symbol = u16_at(self.spans.symbols, slot.checked_mul(2)?);
            let range = if head & 8 != 0 {
                let start = u32::try_from(get_varint(b, &mut at)?).ok()?;
                let len = u32::try_from(get_varint(b, &mut at)?).ok()?;
                Some((start, start.checked_add(len)?))
            } else {
                None
            };
            Some(Span {
                first,
                end: first.checked_add(n)?,
                symbol,
                range,
            })
        })();
        match decoded {
            Some(s) => {
                self.at = at;
                self.prev = s.first;
                self.left -= 1;
                Some(s)
            }
            None => {
                self.left = 0;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_round_trip_and_seek() {
        let spans: Vec<Span> = (0..300u32)
            .map(|i| Span {
                first: 1 + i / 3,
                end: 2 + i / 3 + (i % 5),
                symbol: (i % 4) as u16 * 100,
                range: (i % 9 == 0).then_some((i * 10, i * 10 + 3)),
            })
            .collect();
        let (stream, index, symbols) = write(&spans);
        let s = Spans::new(&stream, &index, &symbols).unwrap();
        assert_eq!(s.count, spans.len());
        assert_eq!(s.iter().collect::<Vec<_>>(), spans);
        for first in [0u32, 1, 5, 50, 64, 99, 100, 101, 1000] {
            let want: Vec<Span> = spans.iter().copied().filter(|x| x.first >= first).collect();
            assert_eq!(s.seek(first).collect::<Vec<_>>(), want, "seek {first}");
        }
        // Resuming where an iterator was.
        let mut it = s.iter();
        for k in 0..spans.len() {
            assert_eq!(
                s.resume(it.position()).collect::<Vec<_>>(),
                spans[k..],
                "at {k}"
            );
            it.next();
        }
        assert_eq!(s.resume(it.position()).next(), None);
        // Skipping forward from every entry to every later `first` gives
        // what a seek gives.
        for from in 0..spans.len() {
            let after = if from == 0 {
                0
            } else {
                spans[from - 1].first + 1
            };
            for first in (after..=102).step_by(7) {
                let mut it = s.iter();
                for _ in 0..from {
                    it.next();
                }
                it.skip_to(first);
                let want: Vec<Span> = s.seek(first).collect();
                assert_eq!(it.collect::<Vec<_>>(), want, "from {from} to {first}");
            }
        }
    }
}
