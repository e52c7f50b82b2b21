//! [`Cursor`]: a stateful walk over a [`TreeView`] with the API of
//! `tree_sitter::TreeCursor`.
//!
//! The cursor keeps the path from its root to the current node (each
//! node's open position and preorder index, and its close once known), so
//! that the moves of a walk are O(1) amortised: a first child is the next
//! bit of the tree shape, a next sibling the bit after the current node's
//! close (known without a search once the node's children were walked), a
//! parent the top of the path. Byte positions are decoded in order into a
//! small window as a walk moves forward ([`Cursor::start_byte`],
//! [`Cursor::end_byte`]), as [`TreeView::events`] decodes them, instead of
//! one Elias–Fano access per position, and each close is matched to its
//! open as it is decoded, so that a node's end is known at its open
//! without a search.
//!
//! The nodes it visits are those of `tree_sitter::TreeCursor`: the stored
//! tree is exactly the nodes tree-sitter's cursor visits (docs/FORMAT.md,
//! "What is stored"), so hidden nodes are never visited and aliased ones
//! are visited under their alias, as by [`Node`]. Hidden nodes matter to one
//! move only, [`Cursor::goto_first_child_for_byte`] (tree-sitter stops in a
//! hidden child whose range reaches the goal but whose visible children do
//! not); the cursor reads them from the tree's query facts.

use std::ops::Range;

use crate::succinct::{BYTE_EXCESS, BYTE_MIN, Bp, RankBits, Seq, SeqIter, u32_at, u64_at};
use crate::view::{Node, Point, TreeView};

/// A cached value not computed yet.
const UNKNOWN: u32 = u32::MAX;
/// Positions decoded ahead of (and kept behind) the cursor. A power of two.
const WINDOW: usize = 256;
/// Positions decoded at a time, at least.
const BATCH: usize = 64;

/// One node of the path: where it opens, its preorder index, and where it
/// closes once known.
#[derive(Clone, Copy, Debug)]
struct Frame {
    /// Position of its open in the tree shape (low half) and preorder
    /// index (high half), written and read together.
    at: u64,
    /// Position of its close, or [`UNKNOWN`].
    close: u32,
}

impl Frame {
    #[inline]
    fn new(pos: usize, id: u32) -> Frame {
        Frame {
            at: u64::from(pos as u32) | (u64::from(id) << 32),
            close: UNKNOWN,
        }
    }
    /// Position of its open.
    #[inline]
    fn pos(&self) -> u32 {
        self.at as u32
    }
    /// Preorder index.
    #[inline]
    fn id(&self) -> u32 {
        (self.at >> 32) as u32
    }
}

/// The positions (docs/FORMAT.md, section 7) decoded in order into a ring
/// of [`WINDOW`] values, with the closes of the opens among them matched
/// as they are decoded: a walk that moves forward decodes each value once
/// and finds an inner node's close without a search.
struct Window<'t> {
    seq: Seq<'t>,
    bits: RankBits<'t>,
    /// Index of the value decoded next.
    next: usize,
    /// Elias–Fano: the word of the high bits that holds the next value's
    /// one, and its ones not read yet.
    hi_word: usize,
    hi_ones: u64,
    /// Elias–Fano: the low bits not read yet of the word before `lo_word`
    /// (`lo_avail` of them).
    lo_buf: u64,
    lo_avail: u32,
    lo_word: usize,
    /// The lowest index held: `lo..next` are (at most [`WINDOW`]).
    lo: usize,
    /// `None` until the first use.
    rings: Option<Box<Rings>>,
    /// Number of opens decoded since the last seek and not closed yet.
    depth: usize,
}

struct Rings {
    /// The value at each held index (modulo [`WINDOW`]).
    values: [u32; WINDOW],
    /// For each held open, its close if decoded since, else [`UNKNOWN`].
    closes: [u32; WINDOW],
    /// The opens not closed yet, by depth modulo [`WINDOW`]: position
    /// (low half) and depth (high half). One overwritten by a deeper open
    /// is more than [`WINDOW`] positions behind, and needs no close.
    opens: [u64; WINDOW],
}

impl<'t> Window<'t> {
    fn new(seq: Seq<'t>, bits: RankBits<'t>) -> Window<'t> {
        Window {
            seq,
            bits,
            next: 0,
            hi_word: 0,
            hi_ones: 0,
            lo_buf: 0,
            lo_avail: 0,
            lo_word: 0,
            lo: 0,
            rings: None,
            depth: 0,
        }
    }

    /// Forgets what was decoded (for the sequence of another tree, say).
    fn reset(&mut self, seq: Seq<'t>, bits: RankBits<'t>) {
        self.seq = seq;
        self.bits = bits;
        self.next = 0;
        self.lo = 0;
        self.depth = 0;
        if self.rings.is_some() {
            self.seek(0);
        }
    }

    #[inline]
    fn held(&self, q: usize) -> Option<u32> {
        match &self.rings {
            Some(r) if q >= self.lo && q < self.next => Some(r.values[q & (WINDOW - 1)]),
            _ => None,
        }
    }

    /// Starts decoding at `q`.
    fn seek(&mut self, q: usize) {
        if self.rings.is_none() {
            self.rings = Some(Box::new(Rings {
                values: [0; WINDOW],
                closes: [UNKNOWN; WINDOW],
                opens: [0; WINDOW],
            }));
        }
        if let SeqIter::Ef { word, bits, ef, .. } = self.seq.iter_from(q) {
            (self.hi_word, self.hi_ones) = (word, bits);
            let bit = q.saturating_mul(ef.l.min(32) as usize);
            self.lo_word = bit / 64 + 1;
            self.lo_buf = u64_at(ef.lo, bit / 64) >> (bit % 64);
            self.lo_avail = 64 - (bit % 64) as u32;
        }
        self.next = q;
        self.lo = q;
        self.depth = 0;
    }

    /// Decodes the values from `next` up to and including `last`, matching
    /// each close to its open; stops early once the open at `watch` (if
    /// any) is matched, and returns its close. Needs the rings.
    #[inline]
    fn decode(&mut self, last: usize, watch: usize) -> Option<usize> {
        match self.seq {
            Seq::Ef(ef) => {
                // Value `q`: `((select1(hi, q) − q) << l) | low(q)`, the
                // ones of the high bits read in order (as `SeqIter`).
                let (mut word, mut ones) = (self.hi_word, self.hi_ones);
                let (mut buf, mut avail, mut lo_word) = (self.lo_buf, self.lo_avail, self.lo_word);
                let words = ef.hi_len.div_ceil(64);
                let l = ef.l.min(32);
                let mask = (1u64 << l) - 1;
                let found = self.decode_with(last, watch, |q| {
                    if q >= ef.len {
                        return 0;
                    }
                    while ones == 0 {
                        word += 1;
                        if word >= words {
                            return 0;
                        }
                        ones = u64_at(ef.hi, word);
                    }
                    let high = (word * 64 + ones.trailing_zeros() as usize).wrapping_sub(q);
                    ones &= ones - 1;
                    // The low bits in order, `l` at a time.
                    let low = if l == 0 {
                        0
                    } else if avail >= l {
                        let x = buf & mask;
                        buf >>= l;
                        avail -= l;
                        x
                    } else {
                        let next = u64_at(ef.lo, lo_word);
                        lo_word += 1;
                        let x = (buf | (next << avail)) & mask;
                        buf = next >> (l - avail);
                        avail = 64 - (l - avail);
                        x
                    };
                    (((high as u64) << l) | low) as u32
                });
                (self.hi_word, self.hi_ones) = (word, ones);
                (self.lo_buf, self.lo_avail, self.lo_word) = (buf, avail, lo_word);
                found
            }
            Seq::Plain { values, len } => {
                self.decode_with(
                    last,
                    watch,
                    |q| {
                        if q < len { u32_at(values, q * 4) } else { 0 }
                    },
                )
            }
        }
    }

    #[inline(always)]
    fn decode_with(
        &mut self,
        last: usize,
        watch: usize,
        mut value: impl FnMut(usize) -> u32,
    ) -> Option<usize> {
        let r = self.rings.as_deref_mut()?;
        let (mut q, mut lo, mut depth) = (self.next, self.lo, self.depth);
        let mut found = None;
        let (mut w, mut word) = (usize::MAX, 0u64);
        while q <= last {
            let slot = q & (WINDOW - 1);
            r.values[slot] = value(q);
            if q / 64 != w {
                w = q / 64;
                word = self.bits.word(w);
            }
            if q < self.bits.len && (word >> (q % 64)) & 1 != 0 {
                r.closes[slot] = UNKNOWN;
                r.opens[depth & (WINDOW - 1)] = q as u64 | ((depth as u64) << 32);
                depth += 1;
            } else if depth > 0 {
                depth -= 1;
                let entry = r.opens[depth & (WINDOW - 1)];
                let o = (entry as u32) as usize;
                // Unless it was overwritten by a deeper open, or its slot
                // reused.
                if (entry >> 32) as usize == depth && o + WINDOW > q {
                    r.closes[o & (WINDOW - 1)] = q as u32;
                    if o == watch {
                        found = Some(q);
                    }
                }
            }
            q += 1;
            if q - lo > WINDOW {
                lo = q - WINDOW;
            }
            if found.is_some() {
                break;
            }
        }
        self.next = q;
        self.lo = lo;
        self.depth = depth;
        found
    }

    /// Decodes up to and including `q` (≥ `next`); the value at `q`.
    #[inline]
    fn fill_to(&mut self, q: usize, keep: usize) -> u32 {
        // A batch at a time, while `keep` stays held; a small one right
        // after a seek (a jump may be followed by another).
        let size = (self.next - self.lo + 8).min(BATCH);
        let batch = (self.next + size - 1)
            .min(keep + WINDOW - 1)
            .min(self.bits.len.saturating_sub(1));
        self.decode(q.max(batch), usize::MAX);
        self.held(q).unwrap_or(0)
    }

    /// Makes `p` held if it is not behind the window: decoded forward, or
    /// from a seek when it is far ahead. Whether it is held.
    #[inline]
    fn reach(&mut self, p: usize) -> bool {
        if self.held(p).is_some() {
            return true;
        }
        if self.rings.is_some() && p < self.next {
            return false;
        }
        if self.rings.is_none() || p - self.next >= WINDOW {
            self.seek(p);
        }
        self.fill_to(p, p);
        true
    }

    /// The value at `q`, where the cursor is: held, decoded forward, or
    /// (behind the window) read directly.
    #[inline]
    fn at(&mut self, q: usize) -> u32 {
        if let Some(v) = self.held(q) {
            return v;
        }
        if self.reach(q) {
            self.held(q).unwrap_or(0)
        } else {
            self.seq.get(q)
        }
    }

    /// The close of the open at `p` if the window has matched it.
    #[inline]
    fn matched(&self, p: usize) -> Option<usize> {
        let r = self.rings.as_ref()?;
        let c = r.closes[p & (WINDOW - 1)];
        (p >= self.lo && p < self.next && c != UNKNOWN).then_some(c as usize)
    }

    /// The close of the open at `p`, decoding forward until it is matched
    /// while the window can hold everything from `p` on.
    fn close_ahead(&mut self, p: usize) -> Option<usize> {
        if let Some(c) = self.matched(p) {
            return Some(c);
        }
        if !self.reach(p) {
            return None;
        }
        if let Some(c) = self.matched(p) {
            return Some(c);
        }
        // While `p` stays held.
        let last = (p + WINDOW - 1).min(self.bits.len.saturating_sub(1));
        self.decode(last, p)
    }

    /// The value at `q`, ahead of the cursor at `from` (≤ `q`): decoded
    /// forward when the window can still hold everything from `from` on,
    /// else read directly.
    #[inline]
    fn ahead(&mut self, q: usize, from: usize) -> u32 {
        if let Some(v) = self.held(q) {
            return v;
        }
        if q >= from && q - from < WINDOW && self.reach(from) && q >= self.next {
            return self.fill_to(q, from);
        }
        self.seq.get(q)
    }
}

/// The close of the node with preorder index `id` opening at `p`, as
/// [`Node`] finds it (the end of the shape for a node never closed): a
/// leaf's is the next bit; an inner node's is the first position after
/// `p` where the excess falls below `E(p)`, taken from `id` rather than a
/// rank: the rest of the open's word byte by byte (most subtrees end
/// there), then the directories' search.
#[cfg(test)]
pub(crate) fn close_of_open(bp: &Bp<'_>, p: usize, id: u32) -> usize {
    if p + 1 < bp.bits.len && !bp.bits.bit(p + 1) {
        return p + 1;
    }
    search_close(bp, p, id)
}

#[inline(never)]
fn search_close(bp: &Bp<'_>, p: usize, id: u32) -> usize {
    let len = bp.bits.len;
    if p + 1 >= len {
        return len;
    }
    let start = p + 1;
    let (w, s) = (start / 64, start % 64);
    // Bits before `start` read as closes from an excess of `s` above the
    // open's: they never reach −1, and leave 0 at `start`.
    let x = bp.bits.word(w) & (!0u64 << s);
    let mut rel = s as i32;
    for k in 0..8 {
        let byte = ((x >> (8 * k)) & 0xff) as usize;
        if rel + i32::from(BYTE_MIN[byte]) <= -1 {
            for j in 0..8 {
                rel += if (byte >> j) & 1 != 0 { 1 } else { -1 };
                if rel <= -1 {
                    return (w * 64 + 8 * k + j).min(len);
                }
            }
        }
        rel += i32::from(BYTE_EXCESS[byte]);
    }
    // E(p) = 2 · rank1(p + 1) − (p + 1), and rank1(p + 1) = id + 1.
    let e = 2 * i64::from(id) + 1 - p as i64;
    let last = w * 64 + 63;
    if last + 1 >= len {
        return len;
    }
    bp.fwd_search(last, e + i64::from(rel), e - 1)
        .unwrap_or(len)
}

/// A cursor over a [`TreeView`], with the API and the semantics of
/// `tree_sitter::TreeCursor` ([`TreeView::walk`], [`Node::walk`]).
///
/// It starts at a node, its root, and never leaves that node's subtree:
/// at the root [`Cursor::goto_parent`] and the sibling moves return
/// `false`, [`Cursor::field_name`] is `None`, [`Cursor::depth`] and
/// [`Cursor::descendant_index`] count from it. The moves of a walk (first
/// child, next sibling, parent) are O(1) amortised; the last child and the
/// previous sibling take a backward search of the shape (as
/// [`Node::last_child`]), [`Cursor::goto_descendant`] O(depth) and
/// [`Cursor::goto_first_child_for_byte`] O(children).
///
/// Where tree-sitter 0.26's own cursor is inconsistent, this one gives
/// the answer tree-sitter gives for the same node reached without it:
/// after `goto_previous_sibling`, tree-sitter's `descendant_index` counts
/// from the node it moved to (its entry's index is left at 0), and a node
/// reached across an extra sibling can report the field of its next
/// sibling; and its `goto_previous_sibling` stops at the 256th child of a
/// node (tree-sitter issue #5950). Every other answer is tree-sitter's
/// (tests/it/cursor.rs compares them move for move).
pub struct Cursor<'t> {
    tree: &'t TreeView,
    bp: Bp<'t>,
    /// The ancestors of `cur` up to the root, root first (empty at the
    /// root).
    stack: Vec<Frame>,
    cur: Frame,
    positions: Window<'t>,
}

impl TreeView {
    /// A cursor at the root.
    pub fn walk(&self) -> Cursor<'_> {
        self.root().walk()
    }
}

impl<'t> Node<'t> {
    /// A cursor whose root is this node, as `tree_sitter::Node::walk`.
    pub fn walk(&self) -> Cursor<'t> {
        Cursor {
            tree: self.tree,
            bp: self.tree.bp(),
            stack: Vec::new(),
            cur: Frame::new(self.pos as usize, self.id),
            positions: Window::new(self.tree.positions(), self.tree.bits()),
        }
    }
}

impl Clone for Cursor<'_> {
    fn clone(&self) -> Self {
        Cursor {
            tree: self.tree,
            bp: self.bp,
            stack: self.stack.clone(),
            cur: self.cur,
            positions: Window::new(self.positions.seq, self.positions.bits),
        }
    }
}

impl std::fmt::Debug for Cursor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("node", &self.node())
            .field("depth", &self.depth())
            .finish()
    }
}

impl<'t> Cursor<'t> {
    /// The current node.
    #[inline(always)]
    pub fn node(&self) -> Node<'t> {
        Node {
            tree: self.tree,
            id: self.cur.id(),
            pos: self.cur.pos(),
        }
    }

    /// The tree the cursor walks.
    pub fn tree(&self) -> &'t TreeView {
        self.tree
    }

    #[inline]
    fn root(&self) -> Frame {
        self.stack.first().copied().unwrap_or(self.cur)
    }

    #[inline]
    fn bit(&self, p: usize) -> bool {
        self.bp.bits.bit(p)
    }

    /// The close of `f` (see [`close_of_open`]), from the window when it
    /// has matched it.
    #[inline(always)]
    fn close_of(&self, f: &Frame) -> usize {
        if f.close != UNKNOWN {
            return f.close as usize;
        }
        let p = f.pos() as usize;
        if p + 1 < self.bp.bits.len && !self.bit(p + 1) {
            return p + 1;
        }
        match self.positions.matched(p) {
            Some(c) => c,
            None => search_close(&self.bp, p, f.id()),
        }
    }

    /// The close of the current node, remembered.
    #[inline(always)]
    fn close(&mut self) -> usize {
        let c = self.close_of(&self.cur);
        self.cur.close = u32::try_from(c).unwrap_or(UNKNOWN);
        c
    }

    /// The open matching the close at `c`, whose excess is `e`.
    #[inline]
    fn open_of_close(&self, c: usize, e: i64) -> Option<usize> {
        if c > 0 && self.bit(c - 1) {
            return Some(c - 1);
        }
        match self.bp.bwd_search(c, e, e)? {
            Some(q) => Some(q + 1),
            None => Some(0),
        }
    }

    /// Number of nodes in the subtree of `f` (as [`Node::descendant_count`]).
    fn size_of(&self, f: &Frame) -> u32 {
        let size = (self.close_of(f).saturating_sub(f.pos() as usize)).div_ceil(2);
        let most = self
            .tree
            .node_count()
            .saturating_sub(f.id() as usize)
            .max(1);
        size.clamp(1, most) as u32
    }

    /// Moves to the first child; `false` (and no move) if there is none.
    #[inline(always)]
    pub fn goto_first_child(&mut self) -> bool {
        let p = self.cur.pos() as usize + 1;
        if !self.bit(p) {
            return false;
        }
        self.stack.push(self.cur);
        self.cur = Frame::new(p, self.cur.id().saturating_add(1));
        true
    }

    /// Moves to the last child; `false` (and no move) if there is none.
    pub fn goto_last_child(&mut self) -> bool {
        let p = self.cur.pos() as usize;
        if !self.bit(p + 1) {
            return false;
        }
        let c = self.close();
        let Some(last_close) = c.checked_sub(1) else {
            return false;
        };
        // The last child's close has the excess of this node's open.
        let e = 2 * i64::from(self.cur.id()) + 1 - p as i64;
        let Some(o) = self.open_of_close(last_close, e) else {
            return false;
        };
        if o <= p {
            return false;
        }
        let id = self
            .cur
            .id()
            .saturating_add(1)
            .saturating_add(((o - p - 1) / 2) as u32);
        self.stack.push(self.cur);
        self.cur = Frame::new(o, id);
        self.cur.close = last_close as u32;
        true
    }

    /// Moves to the next sibling; `false` (and no move) if there is none or
    /// the cursor is at its root.
    #[inline(always)]
    pub fn goto_next_sibling(&mut self) -> bool {
        if self.stack.is_empty() {
            return false;
        }
        let c = self.close();
        let q = c + 1;
        if self.bit(q) {
            let id = self
                .cur
                .id()
                .saturating_add(((q - self.cur.pos() as usize) / 2) as u32);
            self.cur = Frame::new(q, id);
            true
        } else {
            // The parent closes right after its last child.
            if q < self.bp.bits.len
                && let Some(parent) = self.stack.last_mut()
                && parent.close == UNKNOWN
            {
                parent.close = q as u32;
            }
            false
        }
    }

    /// Moves to the previous sibling; `false` (and no move) if there is
    /// none or the cursor is at its root.
    pub fn goto_previous_sibling(&mut self) -> bool {
        let Some(parent) = self.stack.last() else {
            return false;
        };
        let p = self.cur.pos() as usize;
        if p == 0 || self.bit(p - 1) {
            return false;
        }
        // E(p − 1) = E(p) − 1.
        let e = 2 * i64::from(self.cur.id()) - p as i64;
        let Some(o) = self.open_of_close(p - 1, e) else {
            return false;
        };
        if o <= parent.pos() as usize || o >= p {
            return false;
        }
        let id = self.cur.id().saturating_sub(((p - o) / 2) as u32);
        self.cur = Frame::new(o, id);
        self.cur.close = (p - 1) as u32;
        true
    }

    /// Moves to the parent; `false` (and no move) at the cursor's root.
    #[inline(always)]
    pub fn goto_parent(&mut self) -> bool {
        match self.stack.pop() {
            Some(parent) => {
                self.cur = parent;
                true
            }
            None => false,
        }
    }

    /// Moves to the `index`th node of the root's subtree in preorder (the
    /// root is 0), as `tree_sitter::TreeCursor::goto_descendant`: to the
    /// root when there is no such node. O(depth).
    pub fn goto_descendant(&mut self, index: usize) {
        let root = self.root();
        if index >= self.size_of(&root) as usize {
            self.stack.truncate(1);
            if let Some(root) = self.stack.pop() {
                self.cur = root;
            }
            return;
        }
        let target = root.id().saturating_add(index as u32);
        // Up to the nearest node of the path that holds the target.
        loop {
            let size = self.size_of(&self.cur);
            if self.cur.id() <= target && target - self.cur.id() < size {
                break;
            }
            if !self.goto_parent() {
                break;
            }
        }
        if self.cur.id() == target {
            return;
        }
        // Down: the target's ancestors below the current node, found from
        // the target up.
        let Some(tp) = self.bp.bits.select1(target as usize) else {
            return;
        };
        let top = self.cur.pos() as usize;
        self.stack.push(self.cur);
        let base = self.stack.len();
        let mut q = tp;
        while let Some(a) = self.bp.enclose(q) {
            if a <= top || a >= q {
                break;
            }
            let id = self.bp.bits.rank1(a) as u32;
            self.stack.push(Frame::new(a, id));
            q = a;
        }
        self.stack[base..].reverse();
        self.cur = Frame::new(tp, target);
    }

    /// Moves to the first child that ends after byte `byte` and returns its
    /// index among the children; `None` (and no move) if there is none.
    /// As tree-sitter, it does not look past a hidden child whose range
    /// reaches `byte` when none of that hidden node's visible children
    /// does (read from the query facts; a tree written without them,
    /// format versions 1 and 2, shows the visible children only).
    /// O(children).
    pub fn goto_first_child_for_byte(&mut self, byte: usize) -> Option<usize> {
        self.first_child_ending_after(byte as u64)
    }

    /// Moves to the first child that ends after `point` and returns its
    /// index among the children; `None` (and no move) if there is none.
    /// As [`Cursor::goto_first_child_for_byte`].
    pub fn goto_first_child_for_point(&mut self, point: Point) -> Option<usize> {
        // The positions after `point` are those after byte `t`: the point's
        // byte, or the last byte of its row when the column is past it.
        let lines = self.tree.lines();
        let rows = self.tree.line_count();
        if point.row >= rows {
            return None;
        }
        let start = u64::from(lines.get(point.row));
        let mut t = start.saturating_add(point.column as u64);
        if point.row + 1 < rows {
            t = t.min(u64::from(lines.get(point.row + 1)).saturating_sub(1));
        }
        self.first_child_ending_after(t)
    }

    fn first_child_ending_after(&mut self, goal: u64) -> Option<usize> {
        let p = self.cur.pos() as usize;
        if !self.bit(p + 1) {
            return None;
        }
        let positions = self.tree.positions();
        let spans = self.tree.hidden_spans();
        let mut hidden =
            (!spans.is_empty()).then(|| spans.from_first(self.cur.id() as usize + 1).peekable());
        // The least visible end of a hidden child (or nested hidden node)
        // seen so far that ends after the goal: tree-sitter enters it and
        // stops there if the goal's child is not in it.
        let mut dead_end = u32::MAX;
        let mut child = Frame::new(p + 1, self.cur.id().saturating_add(1));
        let mut index = 0usize;
        loop {
            let c = self.close_of(&child);
            let end = positions.get(c);
            if u64::from(end) > goal {
                if dead_end <= child.id() {
                    return None;
                }
                child.close = u32::try_from(c).unwrap_or(UNKNOWN);
                self.stack.push(self.cur);
                self.cur = child;
                return Some(index);
            }
            // The hidden nodes between this node and the child (those whose
            // first visible descendant is the child): only a stored range
            // can end after the child.
            if let Some(it) = hidden.as_mut() {
                let id = child.id() as usize;
                // A few entries forward (those of the previous child's
                // subtree), else a seek.
                let mut budget = 16usize;
                while let Some(h) = it.peek() {
                    if h.first_visible() >= id {
                        break;
                    }
                    if budget == 0 {
                        *it = spans.from_first(id).peekable();
                        budget = usize::MAX;
                        continue;
                    }
                    it.next();
                    budget -= 1;
                }
                while let Some(h) = it.next_if(|h| h.first_visible() == id) {
                    if h.stored_range().is_some_and(|r| r.end as u64 > goal) {
                        dead_end = dead_end.min(h.visible_end() as u32);
                    }
                }
            }
            index += 1;
            let q = c + 1;
            if !self.bit(q) {
                return None;
            }
            let id = child
                .id()
                .saturating_add(((q - child.pos() as usize) / 2) as u32);
            child = Frame::new(q, id);
        }
    }

    /// Field id of the current node in its parent (`None` for none, and
    /// at the cursor's root).
    #[inline]
    pub fn field_id(&self) -> Option<std::num::NonZeroU16> {
        if self.stack.is_empty() {
            return None;
        }
        std::num::NonZeroU16::new(self.tree.node_type(self.cur.id()).1)
    }

    /// Field name of the current node in its parent (`None` at the
    /// cursor's root).
    pub fn field_name(&self) -> Option<&'t str> {
        let id = self.field_id()?;
        self.tree.symbols().field_name(id.get())
    }

    /// Number of the current node's ancestors below the cursor's root (0 at
    /// the root).
    #[inline]
    pub fn depth(&self) -> u32 {
        self.stack.len() as u32
    }

    /// Index of the current node in the preorder of the root's subtree
    /// (the root is 0).
    #[inline]
    pub fn descendant_index(&self) -> usize {
        self.cur.id().saturating_sub(self.root().id()) as usize
    }

    /// Makes `node` the cursor's root and current node.
    pub fn reset(&mut self, node: Node<'t>) {
        if !std::ptr::eq(self.tree, node.tree) {
            self.tree = node.tree;
            self.bp = node.tree.bp();
            self.positions
                .reset(node.tree.positions(), node.tree.bits());
        }
        self.stack.clear();
        self.cur = Frame::new(node.pos as usize, node.id);
    }

    /// Makes this cursor a copy of `other` (its root, path and node).
    pub fn reset_to(&mut self, other: &Cursor<'t>) {
        if !std::ptr::eq(self.tree, other.tree) {
            self.tree = other.tree;
            self.bp = other.bp;
            self.positions
                .reset(other.tree.positions(), other.tree.bits());
        }
        self.stack.clone_from(&other.stack);
        self.cur = other.cur;
    }

    /// The current node's start byte, as `node().start_byte()`, read from
    /// the positions the cursor decodes in order as it moves forward.
    #[inline]
    pub fn start_byte(&mut self) -> usize {
        self.positions.at(self.cur.pos() as usize) as usize
    }

    /// The current node's end byte, as `node().end_byte()`, read as
    /// [`Cursor::start_byte`] when the node is small, directly otherwise.
    #[inline]
    pub fn end_byte(&mut self) -> usize {
        let p = self.cur.pos() as usize;
        if self.cur.close == UNKNOWN
            && self.bit(p + 1)
            && let Some(c) = self.positions.close_ahead(p)
        {
            self.cur.close = c as u32;
        }
        let c = self.close();
        self.positions.ahead(c, p) as usize
    }

    /// The current node's byte range, as `node().byte_range()`.
    pub fn byte_range(&mut self) -> Range<usize> {
        self.start_byte()..self.end_byte()
    }
}

#[cfg(all(test, feature = "tree-sitter"))]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::Symbols;

    fn view(id: &str, source: &[u8]) -> TreeView {
        let g = cst_grammars::by_id(id).unwrap();
        let fp = g.fingerprint().unwrap().0;
        let tree = g.parser().unwrap().parse(source, None).unwrap();
        let bytes = crate::encode(&tree, source, fp).unwrap();
        let symbols = Arc::new(Symbols::from_language(&g.language().unwrap(), fp));
        TreeView::open(&bytes, symbols).unwrap()
    }

    /// The window's decoded values and matched closes are the sequence's
    /// values and the shape's closes, and a walk reading ends finds the
    /// close of every node small enough for the window there (the
    /// differential tests cannot tell: a close the window misses is
    /// searched for instead).
    #[test]
    fn the_window_matches_closes_as_it_decodes() {
        let samples =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora/samples");
        for (id, file) in [
            ("rust", "rust/sample.rs"),
            ("c", "c/sample.c"),
            ("python", "python/sample.py"),
        ] {
            let source = std::fs::read(samples.join(file)).unwrap();
            let v = view(id, &source);
            let positions = v.positions();
            let mut c = v.walk();
            let (mut nodes, mut matched) = (0, 0);
            'walk: loop {
                let n = c.node();
                assert_eq!(c.end_byte(), n.end_byte(), "{id} end of {n:?}");
                assert_eq!(c.start_byte(), n.start_byte(), "{id} start of {n:?}");
                let p = n.pos as usize;
                let close = close_of_open(&v.bp(), p, n.id);
                let window = &c.positions;
                if close - p < WINDOW && close > p + 1 {
                    assert_eq!(window.matched(p), Some(close), "{id}: close of {n:?}");
                    matched += 1;
                }
                for q in window.lo..window.next {
                    assert_eq!(window.held(q), Some(positions.get(q)), "{id}: value {q}");
                }
                nodes += 1;
                if c.goto_first_child() || c.goto_next_sibling() {
                    continue;
                }
                loop {
                    if !c.goto_parent() {
                        break 'walk;
                    }
                    if c.goto_next_sibling() {
                        break;
                    }
                }
            }
            assert_eq!(nodes, v.node_count());
            assert!(matched > nodes / 10, "{id}: {matched} of {nodes} matched");
        }
    }
}
