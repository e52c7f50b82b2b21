//! Reading an encoded tree where it lies: [`TreeView`] and its [`Node`]s.
//!
//! A version-4 or version-5 tree is navigated in its bytes (docs/FORMAT.md,
//! "Navigable tree, versions 4 and 5"): opening checks the header, the
//! section table and the section sizes (and, unless the bytes are trusted,
//! the checksum), and builds nothing. Older versions are decoded and laid
//! out as the current version at open.
//!
//! This module holds [`TreeView`] and its accessors; the trust boundary
//! (opening and validation) is in `open`, [`Node`] in `node`, and the
//! iterators over a view in `iter`.

mod iter;
mod kinds;
mod node;
mod open;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::Symbols;
use crate::facts::{FactOverride, MAX_SUPERTYPES};
use crate::format::HEADER_LEN;
use crate::layout::{
    CHAIN_STRIDE, ERROR_CHAR_STRIDE, OVERRIDE_STRIDE, PALETTE_STRIDE, RANGE_STRIDE, SECTIONS,
    SEXP_STRIDE, TABLE_LEN, TYPE_ESCAPE, TYPE_OVERFLOW_STRIDE, sec,
};
use crate::spans::Spans;
use crate::succinct::{Bp, RankBits, Seq, SeqLayout, u16_at, u32_at};

pub use iter::{
    Children, Event, Events, HiddenSpan, HiddenSpanIter, HiddenSpanPos, HiddenSpans, Preorder,
    Wrappers,
};
pub use node::{Node, NodePlace, NodeSummary};

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
    /// Format version the tree was written with (versions 1 to 3 were laid
    /// out as the current version at open).
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

    /// Position `k` (of the open or close at shape position `k`), as
    /// `self.positions().get(k)` without building the sequence's parts.
    #[inline]
    pub(crate) fn position(&self, k: usize) -> u32 {
        self.positions.get(self.sec(sec::EVENTS), k)
    }

    #[inline]
    pub(crate) fn lines(&self) -> Seq<'_> {
        self.lines.seq(self.sec(sec::LINES))
    }

    /// The encoded bytes (version 4 or 5; a tree of an older version as
    /// laid out at open). What a memory tier keeps and [`TreeView::from_trusted_bytes`]
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
        Node::at(self, 0, 0)
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
        Some(Node::at(self, id as u32, pos as u32))
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
        self.chain_at(usize::from(u16_at(
            p,
            self.type_index(id) * PALETTE_STRIDE + 6,
        )))
    }

    /// (kind, field, flags) and the hidden chain of node `id`, with one
    /// type lookup.
    #[inline]
    pub(crate) fn node_type_and_chain(&self, id: u32) -> ((u16, u16, u8), (usize, usize)) {
        let p = self.sec(sec::PALETTE);
        let at = self.type_index(id) * PALETTE_STRIDE;
        (
            (
                u16_at(p, at),
                u16_at(p, at + 2),
                p.get(at + 4).copied().unwrap_or(0),
            ),
            self.chain_at(usize::from(u16_at(p, at + 6))),
        )
    }

    /// The hidden chain `c` of a palette entry (0: none): (first symbol,
    /// count).
    #[inline]
    fn chain_at(&self, c: usize) -> (usize, usize) {
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

impl fmt::Debug for TreeView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeView")
            .field("version", &self.version)
            .field("nodes", &self.node_count())
            .field("source_len", &self.source_len)
            .finish()
    }
}
