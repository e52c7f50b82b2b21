//! Opening a view — the trust boundary: the header, the section table and
//! sizes, the checksum, the palette and the shape directories — and the
//! full structural check, [`TreeView::validate`].

use std::sync::Arc;

use bytes::Bytes;

use crate::facts::MAX_SUPERTYPES;
use crate::format::{HEADER_LEN, Header};
use crate::layout::{
    CHAIN_STRIDE, ERROR_CHAR_STRIDE, HF4_KNOWN, HF4_QUERY_FACTS, NODE_FLAGS, OVERRIDE_STRIDE,
    PALETTE_STRIDE, RANGE_STRIDE, SECTIONS, SEXP_STRIDE, TABLE_LEN, TYPE_OVERFLOW_STRIDE, V4, sec,
};
use crate::spans::Spans;
use crate::succinct::{BLOCK_BITS, Seq, u16_at, u32_at};
use crate::{DecodeError, Symbols};

use super::TreeView;

impl TreeView {
    /// Opens `bytes` (an encoded tree of any supported version) with the
    /// names of its grammar, checking its checksum. The bytes are copied
    /// (once, with no decoding) for versions 4 and 5; older versions are
    /// decoded, validated and laid out as the current version.
    ///
    /// Every input gives `Ok` or a typed error.
    pub fn open(bytes: &[u8], symbols: Arc<Symbols>) -> Result<TreeView, DecodeError> {
        let header = Header::parse_unchecked(bytes)?;
        if header.version.get() < V4 {
            return Self::from_bytes(Bytes::from(bytes.to_vec()), symbols);
        }
        Header::check_sum(bytes)?;
        Self::open_v4(Bytes::copy_from_slice(bytes), &header, symbols, true)
    }

    /// Opens `bytes` in place, checking them as bytes that cross a trust
    /// boundary (read from disk, decompressed) are: the checksum, the
    /// palette against the grammar and the shape directories against the
    /// shape (O(bytes / 64) besides the checksum), for versions 4 and 5.
    pub fn from_bytes(bytes: Bytes, symbols: Arc<Symbols>) -> Result<TreeView, DecodeError> {
        Header::parse_unchecked(&bytes)?;
        Header::check_sum(&bytes)?;
        Self::from_checked(bytes, symbols, true)
    }

    /// Opens `bytes` in place without checking the checksum: for bytes
    /// checked when they entered this process (a memory tier). O(1) for
    /// versions 4 and 5: the header, the section table and the section
    /// sizes.
    pub fn from_trusted_bytes(
        bytes: Bytes,
        symbols: Arc<Symbols>,
    ) -> Result<TreeView, DecodeError> {
        Self::from_checked(bytes, symbols, false)
    }

    fn from_checked(
        bytes: Bytes,
        symbols: Arc<Symbols>,
        checked: bool,
    ) -> Result<TreeView, DecodeError> {
        let header = Header::parse_unchecked(&bytes)?;
        let version = header.version.get();
        if version < V4 {
            let flat = crate::legacy::decode(&header, &bytes[HEADER_LEN..], symbols.clone())?;
            let relaid = crate::layout::write(&flat).map_err(|_| DecodeError::Corrupt {
                offset: HEADER_LEN,
                what: "tree cannot be laid out as the current version",
            })?;
            let header = Header::parse_unchecked(&relaid)?;
            let mut view = Self::open_v4(Bytes::from(relaid), &header, symbols, false)?;
            view.version = version;
            return Ok(view);
        }
        Self::open_v4(bytes, &header, symbols, checked)
    }

    fn open_v4(
        bytes: Bytes,
        header: &Header,
        symbols: Arc<Symbols>,
        checked: bool,
    ) -> Result<TreeView, DecodeError> {
        let corrupt = |offset: usize, what: &'static str| DecodeError::Corrupt { offset, what };
        if header.fingerprint != symbols.fingerprint() {
            return Err(DecodeError::GrammarMismatch {
                tree: header.fingerprint,
                symbols: symbols.fingerprint(),
            });
        }
        let flags = header.flags.get();
        if flags & !HF4_KNOWN != 0 {
            return Err(corrupt(6, "unknown header flags"));
        }
        let n = header.node_count.get() as usize;
        let palette_len = header.palette_len.get() as usize;
        let line_count = header.line_count.get() as usize;
        let source_len = header.source_len.get();
        let facts = flags & HF4_QUERY_FACTS != 0;
        if n == 0 || n > (u32::MAX / 2) as usize {
            return Err(corrupt(24, "node count"));
        }
        if palette_len == 0 || palette_len > 1 << 16 {
            return Err(corrupt(36, "palette length"));
        }
        if line_count == 0 || line_count as u64 > u64::from(source_len) + 1 {
            return Err(corrupt(32, "line count"));
        }
        let body = &bytes[HEADER_LEN..];
        if body.len() < TABLE_LEN {
            return Err(corrupt(HEADER_LEN, "section table"));
        }
        let mut secs = [(0u32, 0u32); SECTIONS];
        let mut at = (HEADER_LEN + TABLE_LEN) as u64;
        for (i, s) in secs.iter_mut().enumerate() {
            let len = u64::from(u32_at(body, i * 4));
            *s = (at as u32, (at + len).min(u64::from(u32::MAX)) as u32);
            at += len;
        }
        if at != bytes.len() as u64 {
            return Err(corrupt(
                HEADER_LEN,
                "section lengths do not add up to the body",
            ));
        }
        let len = |i: usize| (secs[i].1 - secs[i].0) as usize;
        let bits = 2 * n;
        let blocks = bits.div_ceil(BLOCK_BITS);
        let leaves = blocks.max(1).next_power_of_two();
        let expect = [
            (sec::PALETTE, palette_len * PALETTE_STRIDE, "palette"),
            (sec::TYPES, n, "node types"),
            (sec::BP, bits.div_ceil(64) * 8, "tree shape"),
            (sec::BP_RANKS, (blocks + 1) * 4, "rank directory"),
            (sec::BP_WORD_MINS, bits.div_ceil(64), "word minima"),
            (sec::BP_TREE, 2 * leaves * 4, "block minima"),
            (sec::RESERVED, 0, "reserved section"),
        ];
        for (i, want, what) in expect {
            if len(i) != want {
                return Err(corrupt(HEADER_LEN + 4 * i, what));
            }
        }
        let strides = [
            (sec::ERROR_CHARS, ERROR_CHAR_STRIDE, "error characters"),
            (sec::SEXP_INDEX, SEXP_STRIDE, "S-expression index"),
            (sec::RANGE_EXCEPTIONS, RANGE_STRIDE, "range exceptions"),
            (sec::TYPE_OVERFLOW, TYPE_OVERFLOW_STRIDE, "type overflow"),
            (sec::OVERRIDES, OVERRIDE_STRIDE, "status overrides"),
            (sec::SUPERTYPES, 2, "supertypes"),
            (sec::CHAINS, CHAIN_STRIDE, "hidden chains"),
            (sec::CHAIN_SYMBOLS, 2, "hidden chain symbols"),
        ];
        for (i, stride, what) in strides {
            if len(i) % stride != 0 {
                return Err(corrupt(HEADER_LEN + 4 * i, what));
            }
        }
        let facts_len = len(sec::SPANS)
            | len(sec::SPAN_INDEX)
            | len(sec::SPAN_SYMBOLS)
            | len(sec::OVERRIDES)
            | len(sec::SUPERTYPES)
            | len(sec::CHAINS)
            | len(sec::CHAIN_SYMBOLS);
        if !facts && facts_len != 0 {
            return Err(corrupt(6, "query facts without the header flag"));
        }
        let slice = |i: usize| &bytes[secs[i].0 as usize..secs[i].1 as usize];
        let positions = Seq::layout(slice(sec::EVENTS), bits)
            .ok_or(corrupt(secs[sec::EVENTS].0 as usize, "positions"))?;
        let lines = Seq::layout(slice(sec::LINES), line_count)
            .ok_or(corrupt(secs[sec::LINES].0 as usize, "line table"))?;
        // Version 4 has sequence kinds 0 and 1 only (2 and 3 are version 5's).
        if header.version.get() == V4 {
            if positions.kind() > 1 {
                return Err(corrupt(secs[sec::EVENTS].0 as usize, "positions"));
            }
            if lines.kind() > 1 {
                return Err(corrupt(secs[sec::LINES].0 as usize, "line table"));
            }
        }
        if Spans::new(
            slice(sec::SPANS),
            slice(sec::SPAN_INDEX),
            slice(sec::SPAN_SYMBOLS),
        )
        .is_none()
        {
            return Err(corrupt(secs[sec::SPAN_INDEX].0 as usize, "hidden spans"));
        }
        if checked {
            let pal = slice(sec::PALETTE);
            let chains = len(sec::CHAINS) / CHAIN_STRIDE;
            for k in 0..palette_len {
                let at = k * PALETTE_STRIDE;
                let (kind, field) = (u16_at(pal, at), u16_at(pal, at + 2));
                let (flags, chain) = (pal[at + 4], usize::from(u16_at(pal, at + 6)));
                let off = secs[sec::PALETTE].0 as usize + at;
                if !symbols.is_kind(kind) {
                    return Err(corrupt(off, "kind id unknown to the grammar"));
                }
                if field != 0 && symbols.field_name(field).is_none() {
                    return Err(corrupt(off, "field id unknown to the grammar"));
                }
                if flags & !NODE_FLAGS != 0 || pal[at + 5] != 0 {
                    return Err(corrupt(off, "palette flags"));
                }
                if chain > chains {
                    return Err(corrupt(off, "hidden chain"));
                }
            }
        }
        if checked
            && !shape_directories_hold(
                slice(sec::BP),
                slice(sec::BP_RANKS),
                slice(sec::BP_WORD_MINS),
                slice(sec::BP_TREE),
                bits,
                leaves,
            )
        {
            return Err(corrupt(secs[sec::BP_RANKS].0 as usize, "shape directories"));
        }
        Ok(TreeView {
            bytes,
            symbols,
            version: header.version.get(),
            facts,
            node_count: n as u32,
            source_len,
            line_count: line_count as u32,
            secs,
            leaves: leaves as u32,
            positions,
            lines,
        })
    }

    /// Checks, in one O(n) pass, what opening does not: that the shape is
    /// one tree of `node_count` nodes, types index the palette, positions
    /// nest and lie in the source, lines increase, and every side table
    /// names nodes of the tree in order. For tests and `verify`; a tree the
    /// encoder wrote always passes.
    pub fn validate(&self) -> Result<(), DecodeError> {
        let corrupt = |what: &'static str| DecodeError::Corrupt {
            offset: HEADER_LEN,
            what,
        };
        let n = self.node_count as usize;
        let bits = self.bits();
        let (mut e, mut ones) = (0i64, 0usize);
        for q in 0..2 * n {
            if bits.bit(q) {
                e += 1;
                ones += 1;
            } else {
                e -= 1;
            }
            if e < 0 || (e == 0 && q + 1 != 2 * n) {
                return Err(corrupt("tree shape"));
            }
        }
        if e != 0 || ones != n {
            return Err(corrupt("tree shape"));
        }
        let palette_len = self.sec(sec::PALETTE).len() / PALETTE_STRIDE;
        for id in 0..n {
            if self.type_index(id as u32) >= palette_len {
                return Err(corrupt("node type index"));
            }
        }
        // Positions: every node within its parent, siblings in order.
        let events = self.positions();
        let mut stack: Vec<(u32, u32)> = Vec::new(); // (start, end) of open nodes
        let (mut it, bp) = (events.iter_from(0), self.bp());
        for q in 0..2 * n {
            let v = it.next().ok_or(corrupt("positions"))?;
            if v > self.source_len {
                return Err(corrupt("position outside the source"));
            }
            if bits.bit(q) {
                let close = bp.find_close(q).ok_or(corrupt("tree shape"))?;
                let end = events.get(close);
                if end < v || stack.last().is_some_and(|&(s, e)| v < s || end > e) {
                    return Err(corrupt("node range"));
                }
                stack.push((v, end));
            } else {
                stack.pop();
            }
        }
        let lines = self.lines();
        if lines.get(0) != 0 {
            return Err(corrupt("line table"));
        }
        let mut prev = 0;
        for (k, s) in lines.iter_from(0).enumerate() {
            if (k > 0 && s <= prev) || s > self.source_len {
                return Err(corrupt("line table"));
            }
            prev = s;
        }
        let sorted = |sec: usize, stride: usize| {
            let b = self.sec(sec);
            let mut prev = None;
            (0..b.len() / stride).all(|i| {
                let node = u32_at(b, i * stride);
                let ok = node < self.node_count && prev.is_none_or(|p| p < node);
                prev = Some(node);
                ok
            })
        };
        if !sorted(sec::ERROR_CHARS, ERROR_CHAR_STRIDE)
            || !sorted(sec::SEXP_INDEX, SEXP_STRIDE)
            || !sorted(sec::RANGE_EXCEPTIONS, RANGE_STRIDE)
            || !sorted(sec::OVERRIDES, OVERRIDE_STRIDE)
        {
            return Err(corrupt("side table"));
        }
        let text = self.sec(sec::SEXP_TEXT);
        let index = self.sec(sec::SEXP_INDEX);
        for i in 0..index.len() / SEXP_STRIDE {
            let (off, len) = (
                u32_at(index, i * 12 + 4) as usize,
                u32_at(index, i * 12 + 8) as usize,
            );
            let ok = text
                .get(off..off.saturating_add(len))
                .is_some_and(|t| std::str::from_utf8(t).is_ok());
            if !ok {
                return Err(corrupt("S-expression text"));
            }
        }
        let spans = self.hidden_spans();
        let mut prev = 0;
        let mut count = 0;
        for h in spans.iter() {
            let range_ok = h.range.is_none_or(|(a, b)| a <= b && b <= self.source_len);
            if h.first == 0 || h.first < prev || h.end as usize > n || !range_ok {
                return Err(corrupt("hidden span"));
            }
            prev = h.first;
            count += 1;
        }
        if count != spans.len() {
            return Err(corrupt("hidden spans"));
        }
        let supertypes = self.sec(sec::SUPERTYPES).len() / 2;
        let overrides = self.sec(sec::OVERRIDES);
        for i in 0..overrides.len() / OVERRIDE_STRIDE {
            let o = self.override_at(i);
            if usize::from(o.supertype_count) > MAX_SUPERTYPES
                || u32_at(overrides, i * OVERRIDE_STRIDE + 12) as usize
                    + usize::from(o.supertype_count)
                    > supertypes
            {
                return Err(corrupt("status override"));
            }
        }
        Ok(())
    }
}

/// Whether the rank directory, the word minima and the block tree are those
/// of the shape bits (O(n / 64), at a trust boundary): navigation then
/// follows the bits exactly, so every walk sees a forest whatever the bits,
/// and visits each node once.
fn shape_directories_hold(
    words: &[u8],
    ranks: &[u8],
    mins: &[u8],
    tree: &[u8],
    bits: usize,
    leaves: usize,
) -> bool {
    use crate::succinct::{BLOCK_BITS, u64_at, word_min};
    let nwords = bits.div_ceil(64);
    let blocks = bits.div_ceil(BLOCK_BITS);
    let (mut rank, mut e) = (0u32, 0i64);
    for b in 0..blocks.max(1) {
        if b < blocks && u32_at(ranks, b * 4) != rank {
            return false;
        }
        let mut m = i64::from(i32::MAX);
        for w in b * 8..((b + 1) * 8).min(nwords) {
            let x = u64_at(words, w);
            let wm = word_min(x);
            if mins.get(w).map(|&b| b as i8) != Some(wm) {
                return false;
            }
            m = m.min(e + i64::from(wm));
            e += 2 * i64::from(x.count_ones()) - 64;
            rank += x.count_ones();
        }
        if b < blocks && i64::from(crate::succinct::i32_at(tree, (leaves + b) * 4)) != m {
            return false;
        }
    }
    if u32_at(ranks, blocks * 4) != rank {
        return false;
    }
    for b in blocks..leaves {
        if crate::succinct::i32_at(tree, (leaves + b) * 4) != i32::MAX {
            return false;
        }
    }
    (1..leaves).all(|v| {
        let at = |i: usize| crate::succinct::i32_at(tree, i * 4);
        at(v) == at(2 * v).min(at(2 * v + 1))
    })
}
