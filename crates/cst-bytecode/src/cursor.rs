//! [`Cursor`]: a stateful walk over a [`TreeView`] with the API of
//! `tree_sitter::TreeCursor`.
//!
//! The cursor keeps the path from its root to the current node (each
//! node's open position and preorder index, and its close once known), so
//! that the moves of a walk are O(1) amortised: a first child is the next
//! bit of the tree shape, a next sibling the bit after the current node's
//! close (known without a search once the node's children were walked), a
//! parent the top of the path. Byte positions are decoded in order as a
//! walk moves forward ([`Cursor::start_byte`], [`Cursor::end_byte`]), a
//! word of the tree shape (64 positions) at a time, into a window of the
//! last [`WINDOW`], instead of one Elias–Fano access per position; each
//! close is matched to its open as it is decoded (without a branch on the
//! shape; a leaf's close is the next position), so that a node's end is
//! known at its open without a search. A cursor that jumps about reads
//! positions directly until it walks again.
//!
//! [`CursorPreorder`] ([`Cursor::preorder`]) yields a subtree's nodes as
//! [`Node::preorder`] does, with the byte range of each read from the same
//! window.
//!
//! The nodes it visits are those of `tree_sitter::TreeCursor`: the stored
//! tree is exactly the nodes tree-sitter's cursor visits (docs/FORMAT.md,
//! "What is stored"), so hidden nodes are never visited and aliased ones
//! are visited under their alias, as by [`Node`]. Hidden nodes matter to one
//! move only, [`Cursor::goto_first_child_for_byte`] (tree-sitter stops in a
//! hidden child whose range reaches the goal but whose visible children do
//! not); the cursor reads them from the tree's query facts.

use std::hint::select_unpredictable;
use std::ops::Range;

use crate::succinct::{Bp, Ef, RankBits, Seq, SeqIter, u32_at, u64_at, word_fwd};
use crate::view::{Node, Point, TreeView};

/// A cached value not computed yet.
const UNKNOWN: u32 = u32::MAX;
/// Positions held behind the decoding front: a power of two, a multiple of
/// [`CHUNK`].
const WINDOW: usize = 1024;
const MASK: usize = WINDOW - 1;
/// Positions decoded at a time: one word of the tree shape.
const CHUNK: usize = 64;

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

/// The positions (docs/FORMAT.md, section 7) decoded in order, a word of
/// the tree shape at a time, into a ring of [`WINDOW`] values, with the
/// closes of the opens among them matched as they are decoded: a walk that
/// moves forward decodes each value once and finds an inner node's close
/// without a search.
struct Window<'t> {
    seq: Seq<'t>,
    bits: RankBits<'t>,
    /// The values `lo..next` are held (`next − lo` ≤ [`WINDOW`]); `next`
    /// is a multiple of [`CHUNK`] or the end of the shape.
    lo: usize,
    next: usize,
    /// Elias–Fano: the word of the high bits that holds the next value's
    /// one, and its ones not read yet.
    hi_word: usize,
    hi_ones: u64,
    /// Opens minus closes decoded since the last seek (wrapping: it may
    /// fall below zero).
    depth: usize,
    /// The last position read that was not held and not near the
    /// decoded ones.
    last_miss: usize,
    /// `None` until the first use.
    rings: Option<Box<Rings>>,
}

/// A position no read is near.
const FAR: usize = usize::MAX / 2;

struct Rings {
    /// The value at each held position (modulo [`WINDOW`]).
    values: [u32; WINDOW],
    /// For each held open, its close if decoded since, else [`UNKNOWN`];
    /// the last entry takes the writes that match nothing.
    closes: [u32; WINDOW + 1],
    /// The opens not closed yet, by depth modulo [`WINDOW`] (see
    /// [`Window::decode_chunk`]).
    opens: [u32; WINDOW],
}

impl<'t> Window<'t> {
    fn new(seq: Seq<'t>, bits: RankBits<'t>) -> Window<'t> {
        Window {
            seq,
            bits,
            lo: 0,
            next: 0,
            hi_word: 0,
            hi_ones: 0,
            depth: 0,
            last_miss: FAR,
            rings: None,
        }
    }

    /// Forgets what was decoded (for the sequence of another tree, say).
    fn reset(&mut self, seq: Seq<'t>, bits: RankBits<'t>) {
        self.seq = seq;
        self.bits = bits;
        self.lo = 0;
        self.next = 0;
        self.last_miss = FAR;
        if let Some(r) = self.rings.as_deref_mut() {
            // Stack entries of the other tree.
            r.opens.fill(u32::MAX);
            self.seek(0);
        }
    }

    /// The value at `q` if held.
    #[inline(always)]
    fn held(&self, q: usize) -> Option<u32> {
        if q >= self.lo && q < self.next {
            // `next > lo` only once the rings exist.
            self.rings.as_deref().map(|r| r.values[q & MASK])
        } else {
            None
        }
    }

    /// The close of the open at `p` and its value if the window has
    /// matched it (`leaf`: whether the node is a leaf, whose close is the
    /// next position).
    #[inline(always)]
    fn matched_end(&self, p: usize, leaf: bool) -> Option<(u32, u32)> {
        if p >= self.lo && p < self.next {
            let r = self.rings.as_deref()?;
            // UNKNOWN (not matched yet) is past `next`.
            let c = select_unpredictable(leaf, p + 1, r.closes[p & MASK] as usize);
            (c < self.next).then(|| (c as u32, r.values[c & MASK]))
        } else {
            None
        }
    }

    /// The close of the open at `p`, an inner node's, if the window has
    /// matched it.
    #[inline(always)]
    fn matched(&self, p: usize) -> Option<usize> {
        if p >= self.lo && p < self.next {
            let c = self.rings.as_deref()?.closes[p & MASK];
            (c != UNKNOWN).then_some(c as usize)
        } else {
            None
        }
    }

    /// Starts decoding at the chunk holding `q`.
    #[cold]
    fn seek(&mut self, q: usize) {
        if self.rings.is_none() {
            self.rings = Some(Box::new(Rings {
                values: [0; WINDOW],
                closes: [UNKNOWN; WINDOW + 1],
                opens: [u32::MAX; WINDOW],
            }));
        }
        let q = q - q % CHUNK;
        if q < self.next {
            // Entries of the stack from positions after the seek.
            if let Some(r) = self.rings.as_deref_mut() {
                r.opens.fill(u32::MAX);
            }
        }
        if let SeqIter::Ef { word, bits, .. } = self.seq.iter_from(q) {
            (self.hi_word, self.hi_ones) = (word, bits);
        }
        self.lo = q;
        self.next = q;
        self.depth = 0;
    }

    /// Decodes the next chunk: its values, then the closes among them
    /// matched to their opens. Needs the rings.
    #[inline]
    fn decode_chunk(&mut self) {
        let q0 = self.next;
        let len = self.bits.len;
        let Some(r) = self.rings.as_deref_mut() else {
            return;
        };
        if q0 >= len {
            return;
        }
        let count = (len - q0).min(CHUNK);
        let base = q0 & MASK;
        let values = &mut r.values[base..base + count];
        match self.seq {
            Seq::Ef(ef) => {
                let state = (self.hi_word, self.hi_ones);
                (self.hi_word, self.hi_ones) = ef_chunk(&ef, q0, state, values);
            }
            Seq::Plain { values: plain, .. } => {
                for (j, v) in values.iter_mut().enumerate() {
                    *v = u32_at(plain, (q0 + j) * 4);
                }
            }
        }
        // Matching, without branches on the shape. Every slot of the chunk
        // starts UNKNOWN; every position is written as a push (overwritten
        // by the next push when it is a close), and a close writes itself
        // at its open's slot if the open stays held once the chunk is
        // decoded (`o < q`, `q − o < WINDOW − CHUNK`), else at the spare
        // slot. The depth counts from the seek and may fall below it; the
        // entries of levels not pushed since are older than the seek (or
        // cleared), so that a close whose open is not held matches nothing
        // held, and one read at a level overwritten by a deeper or
        // shallower entry is at least [`WINDOW`] − 1 positions behind.
        r.closes[base..base + count].fill(UNKNOWN);
        let x = self.bits.word(q0 / CHUNK);
        let mut depth = self.depth;
        // A leaf's open and close (`10`, both in the chunk) leave the
        // stack as it was: skipped (a leaf's close is the next position).
        let all = u64::MAX >> (CHUNK - count);
        let leaves = x & !(x >> 1) & (all >> 1);
        let mut rest = all & !(leaves | (leaves << 1));
        while rest != 0 {
            let j = rest.trailing_zeros() as usize;
            rest &= rest.wrapping_sub(1);
            let q = q0 + j;
            let open = ((x >> j) & 1) as usize;
            let top = r.opens[depth.wrapping_sub(1) & MASK] as usize;
            r.opens[depth & MASK] = q as u32;
            let matched = (q.wrapping_sub(top).wrapping_sub(1) < WINDOW - CHUNK - 1) & (open == 0);
            r.closes[select_unpredictable(matched, top & MASK, WINDOW)] = q as u32;
            depth = depth.wrapping_add(2 * open).wrapping_sub(1);
        }
        self.depth = depth;
        self.next = q0 + count;
        self.lo = self.lo.max(self.next.saturating_sub(WINDOW));
    }

    /// Makes `p` held if it is not behind the window: decoded forward
    /// when it is near, else from a seek when the read before that was
    /// not held was near it too (a cursor that jumps once and then walks,
    /// or one that reads a few positions here and there, reads them
    /// directly). Whether it is held.
    #[inline(never)]
    fn reach(&mut self, p: usize) -> bool {
        if p < self.lo || p >= self.bits.len {
            return false;
        }
        if self.rings.is_none() || p >= self.next + 2 * CHUNK {
            let near = p.abs_diff(self.last_miss) < 2 * CHUNK;
            self.last_miss = p;
            if !near {
                return false;
            }
            self.seek(p);
        }
        while self.next <= p {
            self.decode_chunk();
        }
        true
    }

    /// The value at `q`, where the cursor is: held, decoded forward, or
    /// (behind the window) read directly.
    #[inline(always)]
    fn at(&mut self, q: usize) -> u32 {
        match self.held(q) {
            Some(v) => v,
            None => self.at_slow(q),
        }
    }

    #[inline(never)]
    fn at_slow(&mut self, q: usize) -> u32 {
        if self.reach(q) {
            self.held(q).unwrap_or(0)
        } else {
            self.seq.get(q)
        }
    }

    /// The close of the open at `p` (an inner node's), decoding forward
    /// until it is matched while `p` stays held.
    #[inline(never)]
    fn close_ahead(&mut self, p: usize) -> Option<usize> {
        if !self.reach(p) {
            return None;
        }
        loop {
            if let Some(c) = self.matched(p) {
                return Some(c);
            }
            if self.next >= self.bits.len || self.next + CHUNK > p + WINDOW {
                return None;
            }
            self.decode_chunk();
        }
    }

    /// The value at `c`, the close of the open at `p` (≤ `c`), where the
    /// cursor is: held, decoded forward when the window can still hold
    /// `p`, else read directly.
    #[inline(always)]
    fn at_close(&mut self, c: usize, p: usize) -> u32 {
        match self.held(c) {
            Some(v) => v,
            None => self.at_close_slow(c, p),
        }
    }

    #[inline(never)]
    fn at_close_slow(&mut self, c: usize, p: usize) -> u32 {
        // While `p` stays held.
        if c >= p && c + CHUNK < p + WINDOW && c < self.bits.len && self.reach(p) {
            while self.next <= c {
                self.decode_chunk();
            }
            if let Some(v) = self.held(c) {
                return v;
            }
        }
        self.seq.get(c)
    }
}

/// Decodes the values `q0..q0 + values.len()` (at most [`CHUNK`]) of `ef`
/// from `(word, ones)`, the state of its high bits; the state after.
/// Value `k` is `((select1(hi, k) − k) << l) | low(k)`: the ones of the
/// high bits read in order (as `SeqIter`), the low bits a word load each.
#[inline(always)]
fn ef_chunk(
    ef: &Ef<'_>,
    q0: usize,
    (mut word, mut ones): (usize, u64),
    values: &mut [u32],
) -> (usize, u64) {
    let l = ef.l.min(32) as usize;
    let words = ef.hi_len.div_ceil(64);
    let mut high = |j: usize| {
        if ones == 0 {
            (word, ones) = next_ones(ef.hi, word, words);
        }
        let pos = word * 64 + ones.trailing_zeros() as usize;
        ones &= ones.wrapping_sub(1);
        (pos.wrapping_sub(q0 + j) as u64).wrapping_shl(l as u32)
    };
    let mask = (1u64 << l) - 1;
    let first = q0 * l / 8;
    let last = (q0 + values.len()).saturating_sub(1) * l / 8 + 8;
    match ef.lo.get(first..last) {
        _ if l == 0 => {
            for (j, v) in values.iter_mut().enumerate() {
                *v = high(j) as u32;
            }
        }
        // The eight bytes from each value's first are in the section.
        Some(lo) => {
            let mut bit = q0 * l % 8;
            for (j, v) in values.iter_mut().enumerate() {
                let at = bit / 8;
                let w = lo
                    .get(at..at + 8)
                    .and_then(|b| b.try_into().ok())
                    .map_or(0, u64::from_le_bytes);
                *v = (high(j) | ((w >> (bit % 8)) & mask)) as u32;
                bit += l;
            }
        }
        None => {
            for (j, v) in values.iter_mut().enumerate() {
                *v = (high(j) | u64::from(ef.low(q0 + j))) as u32;
            }
        }
    }
    (word, ones)
}

impl Window<'_> {
    /// The end byte of the node `f` (its close remembered in `f`): held,
    /// decoded forward, else read directly.
    #[inline(always)]
    fn end_of(&mut self, bp: &Bp<'_>, f: &mut Frame) -> u32 {
        let p = f.pos() as usize;
        if f.close == UNKNOWN {
            match self.matched_end(p, !self.bits.bit(p + 1)) {
                Some((c, end)) => {
                    f.close = c;
                    end
                }
                None => self.end_of_slow(bp, f),
            }
        } else {
            self.at_close(f.close as usize, p)
        }
    }

    /// [`Window::end_of`] when the window has not matched the close.
    #[inline(never)]
    fn end_of_slow(&mut self, bp: &Bp<'_>, f: &mut Frame) -> u32 {
        let p = f.pos() as usize;
        let c = if p + 1 < self.bits.len && !self.bits.bit(p + 1) {
            p + 1
        } else {
            match self.close_ahead(p) {
                Some(c) => c,
                None => search_close(bp, p, f.id()),
            }
        };
        f.close = c as u32;
        self.at_close(c, p)
    }
}

/// The next word of `hi` (from `word + 1`, below `words`) with ones, and
/// its ones; `(words, 0)` if there is none.
#[inline(never)]
fn next_ones(hi: &[u8], mut word: usize, words: usize) -> (usize, u64) {
    while word + 1 < words {
        word += 1;
        let x = u64_at(hi, word);
        if x != 0 {
            return (word, x);
        }
    }
    (words, 0)
}

/// The close of the node with preorder index `id` opening at `p`, as
/// [`Node`] finds it (the end of the shape for a node never closed): a
/// leaf's is the next bit; an inner node's is the first position after
/// `p` where the excess falls below `E(p)`, taken from `id` rather than a
/// rank: the rest of the open's word byte by byte (most subtrees end
/// there), then the directories' search.
#[cfg(all(test, feature = "tree-sitter"))]
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
    let w = (p + 1) / 64;
    let rel = match word_fwd(bp.bits.word(w), (p + 1) % 64, 0, -1) {
        Ok(j) => return (w * 64 + j).min(len),
        Err(rel) => rel,
    };
    // E(p) = 2 · rank1(p + 1) − (p + 1), and rank1(p + 1) = id + 1.
    let e = 2 * i64::from(id) + 1 - p as i64;
    let last = w * 64 + 63;
    if last + 1 >= len {
        return len;
    }
    bp.fwd_search(last, e + rel, e - 1).unwrap_or(len)
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
        Node::at(self.tree, self.cur.id(), self.cur.pos())
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
        let p = self.cur.pos() as usize;
        let c = self.close();
        let q = c + 1;
        if self.bit(q) {
            let id = self.cur.id().saturating_add(((q - p) / 2) as u32);
            self.cur = Frame::new(q, id);
            true
        } else {
            // The parent closes right after its last child.
            if q < self.bp.bits.len
                && let Some(parent) = self.stack.last_mut()
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
        self.positions.end_of(&self.bp, &mut self.cur) as usize
    }

    /// The current node's byte range, as `node().byte_range()`.
    pub fn byte_range(&mut self) -> Range<usize> {
        self.start_byte()..self.end_byte()
    }

    /// The current node and its descendants in preorder, as
    /// `node().preorder()` yields them, with the positions this cursor
    /// decoded ([`CursorPreorder`]).
    pub fn preorder(self) -> CursorPreorder<'t> {
        let node = self.node();
        CursorPreorder {
            positions: self.positions,
            ..CursorPreorder::new(node)
        }
    }
}

/// A node and its descendants in preorder, as [`Node::preorder`] yields
/// them, with the byte range of the node yielded last read as a
/// [`Cursor`] reads it ([`CursorPreorder::start_byte`],
/// [`CursorPreorder::end_byte`]): the positions decoded in order, each
/// close matched to its open, instead of one Elias–Fano access and one
/// close search per node.
///
/// ```
/// use cst_bytecode::{CursorPreorder, Node};
///
/// /// Every node's byte range under `root`, in preorder.
/// fn ranges(root: Node<'_>) -> Vec<std::ops::Range<usize>> {
///     let mut nodes = CursorPreorder::new(root);
///     let mut out = Vec::new();
///     while let Some(node) = nodes.next() {
///         let range = nodes.byte_range();
///         debug_assert_eq!(range, node.byte_range());
///         out.push(range);
///     }
///     out
/// }
/// ```
pub struct CursorPreorder<'t> {
    tree: &'t TreeView,
    bp: Bp<'t>,
    /// The node yielded last (or, before the first, the first).
    cur: Frame,
    started: bool,
    /// Preorder index past the last node.
    end: u32,
    positions: Window<'t>,
}

impl<'t> CursorPreorder<'t> {
    /// `node` and its descendants.
    pub fn new(node: Node<'t>) -> CursorPreorder<'t> {
        Self::with_count(node, node.descendant_count())
    }

    /// `node` and its `count` descendants (itself included), as
    /// [`Node::descendant_count`] gives them.
    pub(crate) fn with_count(node: Node<'t>, count: usize) -> CursorPreorder<'t> {
        let end = node.id + count as u32;
        CursorPreorder {
            tree: node.tree,
            bp: node.tree.bp(),
            cur: Frame::new(node.pos as usize, node.id),
            started: false,
            end,
            positions: Window::new(node.tree.positions(), node.tree.bits()),
        }
    }

    /// The start byte of the node yielded last, as its
    /// [`Node::start_byte`].
    #[inline]
    pub fn start_byte(&mut self) -> usize {
        self.positions.at(self.cur.pos() as usize) as usize
    }

    /// The end byte of the node yielded last, as its [`Node::end_byte`].
    #[inline]
    pub fn end_byte(&mut self) -> usize {
        self.positions.end_of(&self.bp, &mut self.cur) as usize
    }

    /// The byte range of the node yielded last, as its
    /// [`Node::byte_range`].
    #[inline]
    pub fn byte_range(&mut self) -> Range<usize> {
        self.start_byte()..self.end_byte()
    }
}

impl<'t> CursorPreorder<'t> {
    /// The next node, holding its start and end bytes ([`Preorder`]).
    ///
    /// [`Preorder`]: crate::Preorder
    #[inline]
    pub(crate) fn next_with_range(&mut self) -> Option<Node<'t>> {
        let mut node = self.next()?;
        node.start = self.start_byte() as u32;
        node.end = self.end_byte() as u32;
        Some(node)
    }
}

impl<'t> Iterator for CursorPreorder<'t> {
    type Item = Node<'t>;

    #[inline]
    fn next(&mut self) -> Option<Node<'t>> {
        if self.started {
            let id = self.cur.id().wrapping_add(1);
            if id >= self.end {
                self.end = self.cur.id();
                return None;
            }
            // The next open after the last node's.
            let Some(next) = self.bp.bits.next_one(self.cur.pos() as usize + 1) else {
                self.end = self.cur.id();
                return None;
            };
            self.cur = Frame::new(next, id);
        } else {
            if self.cur.id() >= self.end {
                return None;
            }
            self.started = true;
        }
        Some(Node::at(self.tree, self.cur.id(), self.cur.pos()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let next = if self.started {
            self.cur.id().wrapping_add(1)
        } else {
            self.cur.id()
        };
        let n = self.end.saturating_sub(next) as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for CursorPreorder<'_> {}

impl std::iter::FusedIterator for CursorPreorder<'_> {}

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
            ("html", "html/sample.html"),
        ] {
            let source = std::fs::read(samples.join(file)).unwrap();
            let v = view(id, &source);
            let positions = v.positions();
            let mut c = v.walk();
            let (mut nodes, mut matched) = (0, 0);
            'walk: loop {
                let n = c.node();
                if nodes % 3 == 1 {
                    assert_eq!(c.start_byte(), n.start_byte(), "{id} start of {n:?}");
                    assert_eq!(c.end_byte(), n.end_byte(), "{id} end of {n:?}");
                } else {
                    assert_eq!(c.end_byte(), n.end_byte(), "{id} end of {n:?}");
                    assert_eq!(c.start_byte(), n.start_byte(), "{id} start of {n:?}");
                }
                let p = n.pos as usize;
                let close = close_of_open(&v.bp(), p, n.id);
                let window = &c.positions;
                if close - p < WINDOW - CHUNK && close > p + 1 {
                    assert_eq!(
                        window.matched(p),
                        Some(close),
                        "{id}: close of {n:?} at {p}, window {}..{}, slot {:?}",
                        window.lo,
                        window.next,
                        window.rings.as_deref().map(|r| r.closes[p & MASK])
                    );
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
