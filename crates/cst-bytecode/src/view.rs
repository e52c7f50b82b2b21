//! Reading an encoded tree where it lies: [`TreeView`] and its [`Node`]s.
//!
//! A version-4 tree is navigated in its bytes (docs/FORMAT.md, "Navigable
//! tree, version 4"): opening checks the header, the section table and the
//! section sizes (and, unless the bytes are trusted, the checksum), and
//! builds nothing. Older versions are decoded and laid out as version 4 at
//! open.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

use crate::facts::{FactOverride, HiddenNode, MAX_SUPERTYPES, NodeFacts};
use crate::format::{
    HEADER_LEN, Header, RANGE_SKIP, TF_ERROR, TF_EXTRA, TF_HAS_ERROR, TF_MISSING, TF_NAMED,
};
use crate::layout::{
    CHAIN_STRIDE, ERROR_CHAR_STRIDE, HF4_KNOWN, HF4_QUERY_FACTS, NODE_FLAGS, OVERRIDE_STRIDE,
    PALETTE_STRIDE, RANGE_STRIDE, SECTIONS, SEXP_STRIDE, TABLE_LEN, TYPE_ESCAPE,
    TYPE_OVERFLOW_STRIDE, V4, sec,
};
use crate::spans::{SpanIter, Spans};
use crate::succinct::{BLOCK_BITS, Bp, RankBits, Seq, SeqIter, SeqLayout, u16_at, u32_at};
use crate::{DecodeError, Symbols};

/// A position in the source: zero-based row and byte column, as tree-sitter counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Point {
    /// Zero-based line number (lines end at `\n`).
    pub row: usize,
    /// Zero-based byte offset within the line.
    pub column: usize,
}

/// An encoded tree, navigable where its bytes lie.
///
/// The view holds the encoded bytes (a [`Bytes`]: owned, shared, or a slice
/// of a memory map) and answers every [`Node`] operation from them; cloning
/// it is a reference-count increment. Every accessor is total. Bytes opened
/// with a check ([`TreeView::open`], [`TreeView::from_bytes`]: checksum,
/// section sizes, shape directories, palette) navigate as a forest whose
/// every node a walk visits once, even if their content is not what the
/// encoder wrote (a record corrupted and resealed); such content gives
/// wrong answers, never a panic or a loop, and [`TreeView::validate`]
/// rejects it.
#[derive(Clone)]
pub struct TreeView {
    bytes: Bytes,
    symbols: Arc<Symbols>,
    /// Format version the tree was written with (older ones were laid out
    /// as version 4 at open).
    version: u16,
    facts: bool,
    node_count: u32,
    source_len: u32,
    line_count: u32,
    /// Start and end of every section in `bytes`.
    secs: [(u32, u32); SECTIONS],
    leaves: u32,
    positions: SeqLayout,
    lines: SeqLayout,
}

impl TreeView {
    /// Opens `bytes` (an encoded tree of any supported version) with the
    /// names of its grammar, checking its checksum. The bytes are copied
    /// (once, with no decoding) for version 4; older versions are decoded,
    /// validated and laid out as version 4.
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
    /// shape (O(bytes / 64) besides the checksum), for version 4.
    pub fn from_bytes(bytes: Bytes, symbols: Arc<Symbols>) -> Result<TreeView, DecodeError> {
        Header::parse_unchecked(&bytes)?;
        Header::check_sum(&bytes)?;
        Self::from_checked(bytes, symbols, true)
    }

    /// Opens `bytes` in place without checking the checksum: for bytes
    /// checked when they entered this process (a memory tier). O(1) for
    /// version 4: the header, the section table and the section sizes.
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
                what: "tree cannot be laid out as version 4",
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

    #[inline]
    fn sec(&self, i: usize) -> &[u8] {
        let (a, b) = self.secs[i];
        self.bytes.get(a as usize..b as usize).unwrap_or_default()
    }

    #[inline]
    pub(crate) fn bits(&self) -> RankBits<'_> {
        RankBits {
            words: self.sec(sec::BP),
            ranks: self.sec(sec::BP_RANKS),
            len: 2 * self.node_count as usize,
        }
    }

    #[inline]
    pub(crate) fn bp(&self) -> Bp<'_> {
        Bp {
            bits: self.bits(),
            word_mins: self.sec(sec::BP_WORD_MINS),
            tree: self.sec(sec::BP_TREE),
            leaves: self.leaves as usize,
        }
    }

    #[inline]
    pub(crate) fn positions(&self) -> Seq<'_> {
        self.positions.seq(self.sec(sec::EVENTS))
    }

    #[inline]
    pub(crate) fn lines(&self) -> Seq<'_> {
        self.lines.seq(self.sec(sec::LINES))
    }

    /// The encoded bytes (version 4; a tree of an older version as laid out
    /// at open). What a memory tier keeps and [`TreeView::from_trusted_bytes`]
    /// reopens.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Byte length of every section, by name (docs/FORMAT.md), for size
    /// reports.
    pub fn section_sizes(&self) -> Vec<(&'static str, usize)> {
        const NAMES: [&str; SECTIONS] = [
            "palette",
            "types",
            "type overflow",
            "shape",
            "shape ranks",
            "shape word minima",
            "shape block minima",
            "positions",
            "lines",
            "error characters",
            "S-expression index",
            "S-expression text",
            "range exceptions",
            "hidden spans",
            "hidden span index",
            "hidden span symbols",
            "hidden chains",
            "hidden chain symbols",
            "status overrides",
            "supertypes",
            "reserved",
        ];
        let mut out = vec![("header", HEADER_LEN + TABLE_LEN)];
        out.extend(
            NAMES
                .iter()
                .zip(&self.secs)
                .map(|(n, s)| (*n, (s.1 - s.0) as usize)),
        );
        out
    }

    /// Format version the tree was written with.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// Whether the tree carries query facts (version 3 on): hidden nodes and
    /// node statuses, which running tree-sitter queries exactly needs.
    pub fn has_query_facts(&self) -> bool {
        self.facts
    }

    /// The hidden nodes tree-sitter's query cursor enters (nodes of hidden
    /// kinds with visible descendants) that are not a visible node's
    /// [wrappers](Node::wrappers): those spanning several children, or with
    /// a range of their own. In the walk's order: by first visible
    /// descendant, outer before inner. Empty without query facts.
    pub fn hidden_spans(&self) -> HiddenSpans<'_> {
        HiddenSpans {
            spans: Spans::new(
                self.sec(sec::SPANS),
                self.sec(sec::SPAN_INDEX),
                self.sec(sec::SPAN_SYMBOLS),
            )
            .unwrap_or(Spans {
                stream: &[],
                index: &[],
                symbols: &[],
                count: 0,
            }),
        }
    }

    /// The root node.
    pub fn root(&self) -> Node<'_> {
        Node {
            tree: self,
            id: 0,
            pos: 0,
        }
    }

    /// Number of nodes (named and anonymous).
    pub fn node_count(&self) -> usize {
        self.node_count as usize
    }

    /// The node with preorder index `id` (the root is 0). O(log n).
    pub fn node(&self, id: usize) -> Option<Node<'_>> {
        if id >= self.node_count as usize {
            return None;
        }
        let pos = self.bits().select1(id)?;
        Some(Node {
            tree: self,
            id: id as u32,
            pos: pos as u32,
        })
    }

    /// Length of the source the tree was parsed from.
    pub fn source_len(&self) -> usize {
        self.source_len as usize
    }

    /// Number of source lines (`\n` count + 1).
    pub fn line_count(&self) -> usize {
        self.line_count as usize
    }

    /// The grammar names used by this view.
    pub fn symbols(&self) -> &Arc<Symbols> {
        &self.symbols
    }

    /// The source position of byte offset `byte`: O(1) (the line table's
    /// bucket of the byte).
    pub fn point_for_byte(&self, byte: usize) -> Point {
        let lines = self.lines();
        let b = u32::try_from(byte).unwrap_or(u32::MAX);
        let row = lines.count_le(b).saturating_sub(1);
        Point {
            row,
            column: byte.saturating_sub(lines.get(row) as usize),
        }
    }

    /// The byte offset of a source position (clamped to the line table).
    pub fn byte_for_point(&self, p: Point) -> usize {
        if p.row < self.line_count as usize {
            (self.lines().get(p.row) as usize).saturating_add(p.column)
        } else {
            self.source_len as usize
        }
    }

    /// Bytes the view holds: its encoded tree (shared with every clone, and
    /// with a memory map when opened over one).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.len()
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

    #[inline]
    fn type_index(&self, id: u32) -> usize {
        match self.sec(sec::TYPES).get(id as usize) {
            Some(&TYPE_ESCAPE) => self
                .find(sec::TYPE_OVERFLOW, TYPE_OVERFLOW_STRIDE, id)
                .map_or(0, |i| {
                    usize::from(u16_at(
                        self.sec(sec::TYPE_OVERFLOW),
                        i * TYPE_OVERFLOW_STRIDE + 4,
                    ))
                }),
            Some(&b) => usize::from(b),
            None => 0,
        }
    }

    /// (kind, field, flags) of node `id`.
    #[inline]
    pub(crate) fn node_type(&self, id: u32) -> (u16, u16, u8) {
        let p = self.sec(sec::PALETTE);
        let at = self.type_index(id) * PALETTE_STRIDE;
        (
            u16_at(p, at),
            u16_at(p, at + 2),
            p.get(at + 4).copied().unwrap_or(0),
        )
    }

    /// The hidden chain of node `id`: (first symbol, count).
    #[inline]
    fn chain(&self, id: u32) -> (usize, usize) {
        let p = self.sec(sec::PALETTE);
        let c = usize::from(u16_at(p, self.type_index(id) * PALETTE_STRIDE + 6));
        if c == 0 {
            return (0, 0);
        }
        let chains = self.sec(sec::CHAINS);
        let at = (c - 1) * CHAIN_STRIDE;
        let (first, len) = (u32_at(chains, at) as usize, u32_at(chains, at + 4) as usize);
        let symbols = self.sec(sec::CHAIN_SYMBOLS).len() / 2;
        let first = first.min(symbols);
        (first, len.min(symbols - first))
    }

    /// Binary search of a table sorted by its leading u32 node index.
    fn find(&self, section: usize, stride: usize, id: u32) -> Option<usize> {
        let b = self.sec(section);
        let (mut lo, mut hi) = (0usize, b.len() / stride);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match u32_at(b, mid * stride).cmp(&id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    pub(crate) fn sexp_override(&self, id: u32) -> Option<&str> {
        let i = self.find(sec::SEXP_INDEX, SEXP_STRIDE, id)?;
        let index = self.sec(sec::SEXP_INDEX);
        let (off, len) = (
            u32_at(index, i * 12 + 4) as usize,
            u32_at(index, i * 12 + 8) as usize,
        );
        let text = self.sec(sec::SEXP_TEXT).get(off..off.saturating_add(len))?;
        std::str::from_utf8(text).ok()
    }

    /// The range-query exception of node `id`, if any.
    fn range_exception(&self, id: u32) -> Option<u8> {
        let i = self.find(sec::RANGE_EXCEPTIONS, RANGE_STRIDE, id)?;
        self.sec(sec::RANGE_EXCEPTIONS)
            .get(i * RANGE_STRIDE + 4)
            .copied()
    }

    fn has_overrides(&self) -> bool {
        self.secs[sec::OVERRIDES].0 != self.secs[sec::OVERRIDES].1
    }

    fn has_range_exceptions(&self) -> bool {
        self.secs[sec::RANGE_EXCEPTIONS].0 != self.secs[sec::RANGE_EXCEPTIONS].1
    }

    pub(crate) fn error_char(&self, id: u32) -> Option<i32> {
        let i = self.find(sec::ERROR_CHARS, ERROR_CHAR_STRIDE, id)?;
        Some(u32_at(self.sec(sec::ERROR_CHARS), i * ERROR_CHAR_STRIDE + 4) as i32)
    }

    fn override_at(&self, i: usize) -> FactOverride {
        let b = self.sec(sec::OVERRIDES);
        let at = i * OVERRIDE_STRIDE;
        let count = b
            .get(at + 5)
            .copied()
            .unwrap_or(0)
            .min(MAX_SUPERTYPES as u8);
        let mut o = FactOverride {
            node: u32_at(b, at),
            mask: b.get(at + 4).copied().unwrap_or(0),
            field: u16_at(b, at + 6),
            parent_kind: u16_at(b, at + 8),
            supertypes: [0; MAX_SUPERTYPES],
            supertype_count: count,
        };
        let s = self.sec(sec::SUPERTYPES);
        let first = u32_at(b, at + 12) as usize;
        for k in 0..usize::from(count) {
            o.supertypes[k] = u16_at(s, (first + k) * 2);
        }
        o
    }

    /// Opens and closes of the subtree of `node`, in order, with their byte
    /// positions, decoded sequentially: the fastest way through a subtree.
    pub fn events<'t>(&'t self, node: Node<'t>) -> Events<'t> {
        let end = node
            .close()
            .min((2 * self.node_count as usize).saturating_sub(1));
        Events {
            tree: self,
            bits: self.bits(),
            values: self.positions().iter_from(node.pos as usize),
            pos: node.pos as usize,
            end,
            id: node.id,
        }
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

impl fmt::Debug for TreeView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeView")
            .field("version", &self.version)
            .field("nodes", &self.node_count())
            .field("source_len", &self.source_len)
            .finish()
    }
}

/// The hidden spans of a tree, read in place (see [`TreeView::hidden_spans`]).
#[derive(Clone, Copy)]
pub struct HiddenSpans<'t> {
    spans: Spans<'t>,
}

/// A hidden node spanning several children of a visible node, or with a
/// range of its own (see [`TreeView::hidden_spans`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HiddenSpan {
    first: u32,
    end: u32,
    symbol: u16,
    range: Option<(u32, u32)>,
}

impl HiddenSpan {
    /// Preorder index of its first visible descendant.
    pub fn first_visible(&self) -> usize {
        self.first as usize
    }
    /// One past the preorder index of its last visible descendant.
    pub fn visible_end(&self) -> usize {
        self.end as usize
    }
    /// Its symbol as the grammar has it.
    pub fn grammar_symbol(&self) -> u16 {
        self.symbol
    }
    /// Its byte range when stored; `None` when it is its visible
    /// descendants' (from the start of the first one to the end of the last
    /// top-level one).
    pub fn stored_range(&self) -> Option<Range<usize>> {
        self.range.map(|(a, b)| a as usize..b as usize)
    }
}

impl<'t> HiddenSpans<'t> {
    /// Number of spans.
    pub fn len(&self) -> usize {
        self.spans.count
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The spans in the walk's order, from the first whose first visible
    /// descendant is at or after `first`. O(log spans) to start.
    pub fn from_first(&self, first: usize) -> HiddenSpanIter<'t> {
        HiddenSpanIter {
            inner: self.spans.seek(u32::try_from(first).unwrap_or(u32::MAX)),
        }
    }
    /// All of them, in the walk's order.
    pub fn iter(&self) -> HiddenSpanIter<'t> {
        HiddenSpanIter {
            inner: self.spans.iter(),
        }
    }
}

/// Iterator over [`HiddenSpans`].
#[derive(Clone)]
pub struct HiddenSpanIter<'t> {
    inner: SpanIter<'t>,
}

impl Iterator for HiddenSpanIter<'_> {
    type Item = HiddenSpan;
    #[inline]
    fn next(&mut self) -> Option<HiddenSpan> {
        self.inner.next().map(|s| HiddenSpan {
            first: s.first,
            end: s.end,
            symbol: s.symbol,
            range: s.range,
        })
    }
}

/// A step of [`TreeView::events`].
#[derive(Debug, Clone, Copy)]
pub enum Event<'t> {
    /// A node starts (preorder), at this byte.
    Open(Node<'t>, u32),
    /// The innermost open node ends, at this byte.
    Close(u32),
}

/// Sequential walk of a subtree's opens and closes ([`TreeView::events`]).
pub struct Events<'t> {
    tree: &'t TreeView,
    bits: RankBits<'t>,
    values: SeqIter<'t>,
    pos: usize,
    end: usize,
    id: u32,
}

impl<'t> Iterator for Events<'t> {
    type Item = Event<'t>;
    #[inline]
    fn next(&mut self) -> Option<Event<'t>> {
        if self.pos > self.end {
            return None;
        }
        let p = self.pos;
        self.pos += 1;
        let v = self.values.next().unwrap_or(0);
        if self.bits.bit(p) {
            let node = Node {
                tree: self.tree,
                id: self.id,
                pos: p as u32,
            };
            self.id += 1;
            Some(Event::Open(node, v))
        } else {
            Some(Event::Close(v))
        }
    }
}

/// A node of a [`TreeView`]. Cheap to copy; modelled on `tree_sitter::Node`.
#[derive(Clone, Copy)]
pub struct Node<'t> {
    pub(crate) tree: &'t TreeView,
    /// Preorder index.
    pub(crate) id: u32,
    /// Position of its open in the tree shape.
    pub(crate) pos: u32,
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.tree, other.tree) && self.id == other.id
    }
}
impl Eq for Node<'_> {}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{Node {} {:?} - {:?}}}",
            self.kind(),
            self.start_position(),
            self.end_position()
        )
    }
}

impl<'t> Node<'t> {
    #[inline]
    fn ty(&self) -> (u16, u16, u8) {
        self.tree.node_type(self.id)
    }
    #[inline]
    fn flags(&self) -> u8 {
        self.ty().2
    }
    #[inline]
    /// The close of this node; in a shape that never closes it (bytes that
    /// opened but fail `validate`), the end of the shape, so the node holds
    /// everything after it and has no next sibling: walks still see a forest.
    fn close(&self) -> usize {
        let bp = self.tree.bp();
        bp.find_close(self.pos as usize).unwrap_or(bp.bits.len)
    }

    /// Kind, field and flags with one type lookup (what [`Node::kind_id`],
    /// [`Node::field_id`] and the `is_*` methods read one at a time).
    #[inline]
    pub fn summary(&self) -> NodeSummary {
        let (kind_id, field_id, flags) = self.ty();
        NodeSummary {
            kind_id,
            field_id,
            flags,
        }
    }

    /// Preorder index of this node in its tree (the root is 0).
    pub fn id(&self) -> usize {
        self.id as usize
    }
    /// The tree this node belongs to.
    pub fn tree(&self) -> &'t TreeView {
        self.tree
    }
    /// Kind id (alias-aware, as `tree_sitter::Node::kind_id`).
    pub fn kind_id(&self) -> u16 {
        self.ty().0
    }
    /// Kind name.
    pub fn kind(&self) -> &'t str {
        self.tree.symbols.kind_name(self.kind_id())
    }
    /// Whether the node is named.
    pub fn is_named(&self) -> bool {
        self.flags() & TF_NAMED != 0
    }
    /// Whether the node is an extra (a comment, say).
    pub fn is_extra(&self) -> bool {
        self.flags() & TF_EXTRA != 0
    }
    /// Whether the node is an ERROR node.
    pub fn is_error(&self) -> bool {
        self.flags() & TF_ERROR != 0
    }
    /// Whether the node was inserted by error recovery.
    pub fn is_missing(&self) -> bool {
        self.flags() & TF_MISSING != 0
    }
    /// Whether the node is, or contains, an error.
    pub fn has_error(&self) -> bool {
        self.flags() & TF_HAS_ERROR != 0
    }
    /// Field id of this node within its parent (0 for none).
    pub fn field_id(&self) -> u16 {
        self.ty().1
    }
    /// Field name of this node within its parent.
    pub fn field_name(&self) -> Option<&'t str> {
        self.tree.symbols.field_name(self.field_id())
    }
    /// Start byte.
    #[inline]
    pub fn start_byte(&self) -> usize {
        self.tree.positions().get(self.pos as usize) as usize
    }
    /// End byte (exclusive).
    #[inline]
    pub fn end_byte(&self) -> usize {
        self.tree.positions().get(self.close()) as usize
    }
    /// Byte range.
    pub fn byte_range(&self) -> Range<usize> {
        self.start_byte()..self.end_byte()
    }
    /// Start position.
    pub fn start_position(&self) -> Point {
        self.tree.point_for_byte(self.start_byte())
    }
    /// End position.
    pub fn end_position(&self) -> Point {
        self.tree.point_for_byte(self.end_byte())
    }
    /// The node's text in `source` (the source it was parsed from).
    pub fn utf8_text<'s>(&self, source: &'s [u8]) -> Result<&'s str, std::str::Utf8Error> {
        std::str::from_utf8(source.get(self.byte_range()).unwrap_or_default())
    }

    /// Number of children (named and anonymous). O(children).
    pub fn child_count(&self) -> usize {
        self.children().count()
    }
    /// Number of nodes in this subtree, this node included.
    pub fn descendant_count(&self) -> usize {
        let size = (self.close() - self.pos as usize).div_ceil(2);
        let most = self
            .tree
            .node_count()
            .saturating_sub(self.id as usize)
            .max(1);
        size.clamp(1, most)
    }
    /// The first child. O(1).
    #[inline]
    pub fn first_child(&self) -> Option<Node<'t>> {
        let p = self.pos as usize + 1;
        self.tree.bits().bit(p).then(|| Node {
            tree: self.tree,
            id: self.id + 1,
            pos: p as u32,
        })
    }
    /// The parent.
    pub fn parent(&self) -> Option<Node<'t>> {
        let r = self.tree.bp().enclose(self.pos as usize)?;
        Some(Node {
            tree: self.tree,
            id: self.tree.bits().rank1(r) as u32,
            pos: r as u32,
        })
    }
    /// The next sibling.
    #[inline]
    pub fn next_sibling(&self) -> Option<Node<'t>> {
        if self.pos == 0 {
            return None;
        }
        let c = self.close();
        let p = c + 1;
        self.tree.bits().bit(p).then(|| Node {
            tree: self.tree,
            id: self.id + ((p - self.pos as usize) / 2) as u32,
            pos: p as u32,
        })
    }
    /// The previous sibling.
    pub fn prev_sibling(&self) -> Option<Node<'t>> {
        let pos = self.pos as usize;
        if pos == 0 || self.tree.bits().bit(pos - 1) {
            return None;
        }
        let o = self.tree.bp().find_open(pos - 1)?;
        Some(Node {
            tree: self.tree,
            id: self.id.saturating_sub(((pos - o) / 2) as u32),
            pos: o as u32,
        })
    }
    /// The last child.
    pub fn last_child(&self) -> Option<Node<'t>> {
        self.first_child()?;
        let c = self.close();
        let o = self.tree.bp().find_open(c.checked_sub(1)?)?;
        let pos = self.pos as usize;
        (o > pos).then(|| Node {
            tree: self.tree,
            id: self.id + 1 + ((o - pos - 1) / 2) as u32,
            pos: o as u32,
        })
    }
    /// The `i`th child. O(i).
    pub fn child(&self, i: usize) -> Option<Node<'t>> {
        self.children().nth(i)
    }
    /// The children from the one whose subtree holds shape position `q`
    /// (the first child if `q` is before them; none if after).
    fn children_from(&self, q: usize) -> Children<'t> {
        let Some(first) = self.first_child() else {
            return Children { next: None };
        };
        let p = self.pos as usize;
        if q <= p + 1 {
            return Children { next: Some(first) };
        }
        let close = self.close();
        if q >= close {
            return Children { next: None };
        }
        let bp = self.tree.bp();
        let d = bp.excess(p);
        let e = bp.excess(q);
        let open = if !bp.bits.bit(q) && e == d {
            // A child's close.
            bp.find_open(q)
        } else {
            // After the last close of a child (or the open of this node)
            // before `q`.
            match bp.bwd_search(q, e, d) {
                Some(Some(r)) => Some(r + 1),
                _ => None,
            }
        };
        let next = open.filter(|&o| o > p && o < close).map(|o| Node {
            tree: self.tree,
            id: self.tree.bits().rank1(o) as u32,
            pos: o as u32,
        });
        Children {
            next: next.or(Some(first)),
        }
    }

    /// The children, in order.
    pub fn children(&self) -> Children<'t> {
        Children {
            next: self.first_child(),
        }
    }
    /// The named children, in order.
    pub fn named_children(&self) -> impl Iterator<Item = Node<'t>> + use<'t> {
        self.children().filter(|c| c.is_named())
    }
    /// Number of named children. O(children).
    pub fn named_child_count(&self) -> usize {
        self.named_children().count()
    }
    /// The `i`th named child.
    pub fn named_child(&self, i: usize) -> Option<Node<'t>> {
        self.named_children().nth(i)
    }
    /// The child with field `name`, if any.
    pub fn child_by_field_name(&self, name: &str) -> Option<Node<'t>> {
        let id = self.tree.symbols.field_id(name)?;
        self.child_by_field_id(id)
    }
    /// The child with field id `id`, if any.
    pub fn child_by_field_id(&self, id: u16) -> Option<Node<'t>> {
        self.children().find(|c| c.field_id() == id)
    }
    /// The next named sibling.
    pub fn next_named_sibling(&self) -> Option<Node<'t>> {
        let mut n = self.next_sibling();
        while let Some(s) = n {
            if s.is_named() {
                return Some(s);
            }
            n = s.next_sibling();
        }
        None
    }
    /// The previous named sibling.
    pub fn prev_named_sibling(&self) -> Option<Node<'t>> {
        let mut n = self.prev_sibling();
        while let Some(s) = n {
            if s.is_named() {
                return Some(s);
            }
            n = s.prev_sibling();
        }
        None
    }
    /// This node and its descendants in preorder. Each step is O(1)
    /// (the next open in the tree shape).
    pub fn preorder(&self) -> Preorder<'t> {
        Preorder {
            tree: self.tree,
            bits: self.tree.bits(),
            pos: self.pos as usize,
            id: self.id,
            end: self.id + self.descendant_count() as u32,
        }
    }

    /// The smallest node (named or anonymous) that spans `start..end`, as
    /// `tree_sitter::Node::descendant_for_byte_range`.
    pub fn descendant_for_byte_range(&self, start: usize, end: usize) -> Option<Node<'t>> {
        self.descend(start, end, false)
    }
    /// The smallest named node that spans `start..end`.
    pub fn named_descendant_for_byte_range(&self, start: usize, end: usize) -> Option<Node<'t>> {
        self.descend(start, end, true)
    }
    /// The smallest node that spans the point range.
    pub fn descendant_for_point_range(&self, start: Point, end: Point) -> Option<Node<'t>> {
        if start > end {
            return None;
        }
        self.descend(
            self.tree.byte_for_point(start),
            self.tree.byte_for_point(end),
            false,
        )
    }
    /// The smallest named node that spans the point range.
    pub fn named_descendant_for_point_range(&self, start: Point, end: Point) -> Option<Node<'t>> {
        if start > end {
            return None;
        }
        self.descend(
            self.tree.byte_for_point(start),
            self.tree.byte_for_point(end),
            true,
        )
    }

    /// tree-sitter's `ts_node__descendant_for_byte_range` over the visible
    /// children. tree-sitter walks hidden nodes too: an empty-range query
    /// skips a hidden node that ends at the position (and every node in
    /// it), and stops in a hidden empty node; the tree's range exceptions
    /// (docs/FORMAT.md) say where that changes the outcome.
    fn descend(&self, range_start: usize, range_end: usize, named_only: bool) -> Option<Node<'t>> {
        if range_start > range_end {
            return None;
        }
        let exceptions = range_start == range_end && self.tree.has_range_exceptions();
        // tree-sitter skips every child that ends before `range_end`. The
        // positions are non-decreasing, so the first event at or after
        // `range_end` lies in the first child that does not: start there
        // (the rest of the loop is tree-sitter's).
        // (Only where they are: a tree whose positions are not — Ruby's
        // heredoc bodies come after the line that opens them — is stored
        // plain and walked from the first child.)
        let positions = self.tree.positions();
        let first_reaching = match (range_end.checked_sub(1), positions) {
            (Some(x), Seq::Ef(_)) => positions.count_le(u32::try_from(x).unwrap_or(u32::MAX)),
            _ => 0,
        };
        let mut node = *self;
        let mut last_relevant = *self;
        'down: loop {
            for child in node.children_from(first_reaching) {
                let child_end = child.end_byte();
                if child_end < range_end {
                    continue;
                }
                let child_start = child.start_byte();
                let is_empty = child_start == child_end;
                if if is_empty {
                    child_end < range_start
                } else {
                    child_end <= range_start
                } {
                    continue;
                }
                if range_start < child_start {
                    break;
                }
                if exceptions && child_start == range_start {
                    match self.tree.range_exception(child.id) {
                        Some(RANGE_SKIP) => continue,
                        Some(_) => return Some(last_relevant),
                        None => {}
                    }
                }
                node = child;
                if !named_only || child.is_named() {
                    last_relevant = child;
                }
                continue 'down;
            }
            return Some(last_relevant);
        }
    }

    /// The symbols of the hidden nodes that span exactly this node, with its
    /// range (a supertype over an expression, say), outermost first. They
    /// are entered by the query cursor after the node's
    /// [spans](TreeView::hidden_spans) starting here.
    pub fn wrappers(&self) -> Wrappers<'t> {
        let (first, len) = self.tree.chain(self.id);
        Wrappers {
            symbols: self.tree.sec(sec::CHAIN_SYMBOLS),
            next: first,
            end: first + len,
        }
    }

    /// Every hidden node whose first visible descendant is this node, in the
    /// walk's order: the spans starting here, then the wrappers.
    pub fn hidden_starting_here(&self) -> impl Iterator<Item = HiddenNode> + use<'t> {
        let id = self.id;
        let node = *self;
        let (start, end) = (self.start_byte() as u32, self.end_byte() as u32);
        let visible_end = id + self.descendant_count() as u32;
        self.tree
            .hidden_spans()
            .from_first(id as usize)
            .take_while(move |h| h.first == id)
            .map(move |h| {
                let (start_byte, end_byte) = h.range.unwrap_or_else(|| {
                    // Its visible descendants': to the end of the last
                    // top-level one.
                    let mut c = node;
                    while (c.id as usize + c.descendant_count()) < h.end as usize {
                        match c.next_sibling() {
                            Some(s) => c = s,
                            None => break,
                        }
                    }
                    (start, c.end_byte() as u32)
                });
                HiddenNode {
                    first: id,
                    end: h.end,
                    symbol: h.symbol,
                    start_byte,
                    end_byte,
                }
            })
            .chain(self.wrappers().map(move |symbol| HiddenNode {
                first: id,
                end: visible_end,
                symbol,
                start_byte: start,
                end_byte: end,
            }))
    }

    /// The status tree-sitter's query cursor computes for this node
    /// (`ts_tree_cursor_current_status`) when its walk starts above it.
    /// `hidden_chain` gives the grammar symbols of the node's hidden ancestors
    /// up to its visible parent, innermost first (from [`TreeView::hidden_spans`] and [`Node::wrappers`]);
    /// `is_supertype` says which symbols are supertypes in the grammar.
    pub fn query_facts(
        &self,
        hidden_chain: impl Iterator<Item = u16>,
        is_supertype: &dyn Fn(u16) -> bool,
    ) -> NodeFacts {
        let next = self.next_sibling();
        let later_named = next.is_some_and(|n| n.is_named() || n.next_named_sibling().is_some());
        self.query_facts_from(
            self.field_id(),
            next.is_some(),
            later_named,
            self.parent().map(|p| p.kind_id()),
            hidden_chain,
            is_supertype,
        )
    }

    /// [`Node::query_facts`] given what a walk over the tree already knows:
    /// the node's field id, whether it has a later sibling and a later named
    /// sibling, and its parent's kind (the visible parent's; `None` for the
    /// root).
    pub fn query_facts_from(
        &self,
        field_id: u16,
        has_later_siblings: bool,
        has_later_named_siblings: bool,
        parent_kind: Option<u16>,
        hidden_chain: impl Iterator<Item = u16>,
        is_supertype: &dyn Fn(u16) -> bool,
    ) -> NodeFacts {
        let facts = crate::facts::derive(
            field_id,
            has_later_siblings,
            has_later_named_siblings,
            parent_kind,
            hidden_chain,
            is_supertype,
        );
        if !self.tree.has_overrides() {
            return facts;
        }
        match self.tree.find(sec::OVERRIDES, OVERRIDE_STRIDE, self.id) {
            Some(i) => crate::facts::apply(facts, &self.tree.override_at(i)),
            None => facts,
        }
    }

    /// The S-expression of this subtree, exactly as `tree_sitter::Node::to_sexp`.
    pub fn to_sexp(&self) -> String {
        crate::sexp::to_sexp(*self)
    }

    pub(crate) fn error_char(&self) -> Option<i32> {
        self.tree.error_char(self.id)
    }
}

/// A node's kind, field and flags, read with one type lookup ([`Node::summary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeSummary {
    /// As [`Node::kind_id`].
    pub kind_id: u16,
    /// As [`Node::field_id`].
    pub field_id: u16,
    flags: u8,
}

impl NodeSummary {
    /// As [`Node::is_named`].
    pub fn is_named(&self) -> bool {
        self.flags & TF_NAMED != 0
    }
    /// As [`Node::is_extra`].
    pub fn is_extra(&self) -> bool {
        self.flags & TF_EXTRA != 0
    }
    /// As [`Node::is_error`].
    pub fn is_error(&self) -> bool {
        self.flags & TF_ERROR != 0
    }
    /// As [`Node::is_missing`].
    pub fn is_missing(&self) -> bool {
        self.flags & TF_MISSING != 0
    }
    /// As [`Node::has_error`].
    pub fn has_error(&self) -> bool {
        self.flags & TF_HAS_ERROR != 0
    }
}

/// The symbols of a node's [wrappers](Node::wrappers), outermost first.
#[derive(Clone)]
pub struct Wrappers<'t> {
    symbols: &'t [u8],
    next: usize,
    end: usize,
}

impl Iterator for Wrappers<'_> {
    type Item = u16;
    #[inline]
    fn next(&mut self) -> Option<u16> {
        (self.next < self.end).then(|| {
            self.next += 1;
            u16_at(self.symbols, (self.next - 1) * 2)
        })
    }
}

/// Iterator over a node's children.
pub struct Children<'t> {
    next: Option<Node<'t>>,
}

impl<'t> Iterator for Children<'t> {
    type Item = Node<'t>;
    #[inline]
    fn next(&mut self) -> Option<Node<'t>> {
        let n = self.next?;
        self.next = n.next_sibling();
        Some(n)
    }
}

/// Preorder iterator over a subtree.
pub struct Preorder<'t> {
    tree: &'t TreeView,
    bits: RankBits<'t>,
    /// Position of the next node's open.
    pos: usize,
    id: u32,
    end: u32,
}

impl<'t> Iterator for Preorder<'t> {
    type Item = Node<'t>;
    #[inline]
    fn next(&mut self) -> Option<Node<'t>> {
        if self.id >= self.end {
            return None;
        }
        let node = Node {
            tree: self.tree,
            id: self.id,
            pos: self.pos as u32,
        };
        self.id += 1;
        if self.id < self.end {
            // The next open after `pos`.
            let mut w = (self.pos + 1) / 64;
            let mut x = self.bits.word(w) & (!0u64 << ((self.pos + 1) % 64));
            let words = self.bits.len.div_ceil(64);
            while x == 0 {
                w += 1;
                if w >= words {
                    self.end = self.id;
                    return Some(node);
                }
                x = self.bits.word(w);
            }
            self.pos = w * 64 + x.trailing_zeros() as usize;
        }
        Some(node)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end - self.id) as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Preorder<'_> {}
