//! The iterators over a view: hidden spans, the sequential walk of opens and
//! closes ([`Events`]), wrappers, children and preorder.

use std::ops::Range;

use crate::spans::{SpanIter, Spans};
use crate::succinct::{RankBits, SeqIter, u16_at};

use super::{Node, TreeView};

/// The hidden spans of a tree, read in place (see [`TreeView::hidden_spans`]).
#[derive(Clone, Copy)]
pub struct HiddenSpans<'t> {
    pub(super) spans: Spans<'t>,
}

/// A hidden node spanning several children of a visible node, or with a
/// range of its own (see [`TreeView::hidden_spans`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HiddenSpan {
    pub(super) first: u32,
    pub(super) end: u32,
    pub(super) symbol: u16,
    pub(super) range: Option<(u32, u32)>,
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
    /// The spans from where an iterator over them was
    /// ([`HiddenSpanIter::position`]). O(1). A position taken from another
    /// tree's spans yields bounded garbage: at most as many spans as there
    /// are, ending at the first that does not decode.
    pub fn resume(&self, pos: HiddenSpanPos) -> HiddenSpanIter<'t> {
        HiddenSpanIter {
            inner: self.spans.resume(pos.0),
        }
    }
    /// All of them, in the walk's order.
    pub fn iter(&self) -> HiddenSpanIter<'t> {
        HiddenSpanIter {
            inner: self.spans.iter(),
        }
    }
    /// The grammar symbols the spans have, each once, ascending: O(1) per
    /// symbol, no span decoded.
    pub fn symbols(&self) -> impl Iterator<Item = u16> + 't {
        self.spans
            .symbols
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
}

/// Iterator over [`HiddenSpans`].
#[derive(Clone)]
pub struct HiddenSpanIter<'t> {
    inner: SpanIter<'t>,
}

/// Where a [`HiddenSpanIter`] is, to resume from with
/// [`HiddenSpans::resume`] (12 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HiddenSpanPos((u32, u32, u32));

impl HiddenSpanIter<'_> {
    /// Where it is: [`HiddenSpans::resume`] yields from there what it
    /// would yield.
    pub fn position(&self) -> HiddenSpanPos {
        HiddenSpanPos(self.inner.position())
    }

    /// Passes over the spans whose first visible descendant is before
    /// `first`, forward only: O(log spans) when they are many, one by one
    /// when they are few. Afterwards the iterator yields what
    /// [`HiddenSpans::from_first`] yields, if every span it yielded
    /// already starts before `first`.
    pub fn skip_to(&mut self, first: usize) {
        self.inner.skip_to(u32::try_from(first).unwrap_or(u32::MAX));
    }
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
/// A clone walks on from where the original is, independently.
#[derive(Clone)]
pub struct Events<'t> {
    pub(super) tree: &'t TreeView,
    pub(super) bits: RankBits<'t>,
    pub(super) values: SeqIter<'t>,
    pub(super) pos: usize,
    pub(super) end: usize,
    pub(super) id: u32,
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
            let mut node = Node::at(self.tree, self.id, p as u32);
            node.start = v;
            self.id += 1;
            Some(Event::Open(node, v))
        } else {
            Some(Event::Close(v))
        }
    }
}

/// The symbols of a node's [wrappers](Node::wrappers), outermost first.
#[derive(Clone)]
pub struct Wrappers<'t> {
    pub(super) symbols: &'t [u8],
    pub(super) next: usize,
    pub(super) end: usize,
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

impl DoubleEndedIterator for Wrappers<'_> {
    /// Innermost first.
    #[inline]
    fn next_back(&mut self) -> Option<u16> {
        (self.next < self.end).then(|| {
            self.end -= 1;
            u16_at(self.symbols, self.end * 2)
        })
    }
}

/// Iterator over a node's children.
pub struct Children<'t> {
    pub(super) next: Option<Node<'t>>,
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

/// Preorder iterator over a subtree ([`Node::preorder`]).
///
/// A subtree of [`CURSOR_WALK`] nodes or more is walked as
/// [`CursorPreorder`](crate::CursorPreorder) walks it: the positions are
/// decoded in order and each close matched to its open, and every node
/// yielded holds its start and end bytes, so that reading them costs no
/// Elias–Fano access and no close search. A smaller one is walked on the
/// tree shape alone (its nodes read their positions when asked).
pub struct Preorder<'t> {
    pub(super) walk: Walk<'t>,
}

// The iterator is made once per walk and stays where it is made: boxing
// the larger variant would cost an allocation and an indirection per node.
#[allow(clippy::large_enum_variant)]
pub(super) enum Walk<'t> {
    Shape {
        tree: &'t TreeView,
        bits: RankBits<'t>,
        /// Position of the next node's open.
        pos: usize,
        id: u32,
        end: u32,
    },
    Cursor(crate::CursorPreorder<'t>),
}

/// The size of subtree from which [`Preorder`] decodes positions in order
/// (below it, setting up the decoding costs more than it saves).
pub(super) const CURSOR_WALK: usize = 128;

impl<'t> Iterator for Preorder<'t> {
    type Item = Node<'t>;
    #[inline]
    fn next(&mut self) -> Option<Node<'t>> {
        let (tree, bits, pos, id, end) = match &mut self.walk {
            Walk::Cursor(c) => return c.next_with_range(),
            Walk::Shape {
                tree,
                bits,
                pos,
                id,
                end,
            } => (*tree, bits, pos, id, end),
        };
        if *id >= *end {
            return None;
        }
        let node = Node::at(tree, *id, *pos as u32);
        *id += 1;
        if *id < *end {
            // The next open after `pos`.
            match bits.next_one(*pos + 1) {
                Some(next) => *pos = next,
                None => *end = *id,
            }
        }
        Some(node)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.walk {
            Walk::Shape { id, end, .. } => {
                let n = (end - id) as usize;
                (n, Some(n))
            }
            Walk::Cursor(c) => c.size_hint(),
        }
    }
}

impl ExactSizeIterator for Preorder<'_> {}
