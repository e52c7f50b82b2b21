//! [`Node`], a node of a [`TreeView`] read in place, and its [`NodeSummary`].

use std::fmt;
use std::ops::Range;

use crate::facts::{HiddenNode, NodeFacts};
use crate::format::{RANGE_SKIP, TF_ERROR, TF_EXTRA, TF_HAS_ERROR, TF_MISSING, TF_NAMED};
use crate::layout::{OVERRIDE_STRIDE, sec};
use crate::succinct::Seq;

use super::iter::{CURSOR_WALK, Walk};
use super::{Children, Point, Preorder, TreeView, Wrappers};

/// A node of a [`TreeView`]. Cheap to copy; modelled on `tree_sitter::Node`.
#[derive(Clone, Copy)]
pub struct Node<'t> {
    pub(crate) tree: &'t TreeView,
    /// Preorder index.
    pub(crate) id: u32,
    /// Position of its open in the tree shape.
    pub(crate) pos: u32,
    /// Its start and end bytes when the walk that made it had them at
    /// hand ([`Node::preorder`], [`TreeView::events`]), else [`UNKNOWN`].
    pub(crate) start: u32,
    pub(crate) end: u32,
}

/// Where a [`Node`] is in its tree, without the tree: 8 bytes, for tables
/// of many nodes ([`Node::place`], [`TreeView::node_at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodePlace {
    id: u32,
    pos: u32,
}

impl NodePlace {
    /// Preorder index of the node (as [`Node::id`]).
    pub fn id(&self) -> usize {
        self.id as usize
    }
}

impl TreeView {
    /// The node at `place` (from [`Node::place`] on this tree); `None`
    /// if no node of this tree can be there. O(1): the preorder index is
    /// not checked against the position, so a place taken from another
    /// tree may give a node whose kind is read at one node and whose
    /// range at another (every accessor stays total).
    #[inline]
    pub fn node_at(&self, place: NodePlace) -> Option<Node<'_>> {
        let bits = self.bits();
        (place.id < self.node_count
            && (place.pos as usize) < bits.len
            && bits.bit(place.pos as usize))
        .then(|| Node::at(self, place.id, place.pos))
    }
}

/// A position a [`Node`] does not hold (it reads it from the tree). A real
/// position equal to it is read from the tree too, which gives the same.
pub(crate) const UNKNOWN: u32 = u32::MAX;

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
    /// The node with preorder index `id` whose open is at `pos`.
    #[inline(always)]
    pub(crate) fn at(tree: &'t TreeView, id: u32, pos: u32) -> Node<'t> {
        Node {
            tree,
            id,
            pos,
            start: UNKNOWN,
            end: UNKNOWN,
        }
    }

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
    pub(super) fn close(&self) -> usize {
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

    /// Where this node is in its tree ([`TreeView::node_at`]).
    #[inline]
    pub fn place(&self) -> NodePlace {
        NodePlace {
            id: self.id,
            pos: self.pos,
        }
    }
    /// Preorder index of this node in its tree (the root is 0).
    #[inline]
    pub fn id(&self) -> usize {
        self.id as usize
    }
    /// The tree this node belongs to.
    #[inline]
    pub fn tree(&self) -> &'t TreeView {
        self.tree
    }
    /// Kind id (alias-aware, as `tree_sitter::Node::kind_id`).
    #[inline]
    pub fn kind_id(&self) -> u16 {
        self.ty().0
    }
    /// Kind name.
    #[inline]
    pub fn kind(&self) -> &'t str {
        self.tree
            .symbols
            .node_kind_name(self.kind_id(), self.is_named())
    }
    /// Whether the node is named.
    #[inline]
    pub fn is_named(&self) -> bool {
        self.flags() & TF_NAMED != 0
    }
    /// Whether the node is an extra (a comment, say).
    #[inline]
    pub fn is_extra(&self) -> bool {
        self.flags() & TF_EXTRA != 0
    }
    /// Whether the node is an ERROR node.
    #[inline]
    pub fn is_error(&self) -> bool {
        self.flags() & TF_ERROR != 0
    }
    /// Whether the node was inserted by error recovery.
    #[inline]
    pub fn is_missing(&self) -> bool {
        self.flags() & TF_MISSING != 0
    }
    /// Whether the node is, or contains, an error.
    #[inline]
    pub fn has_error(&self) -> bool {
        self.flags() & TF_HAS_ERROR != 0
    }
    /// Field id of this node within its parent (0 for none).
    #[inline]
    pub fn field_id(&self) -> u16 {
        self.ty().1
    }
    /// Field name of this node within its parent.
    #[inline]
    pub fn field_name(&self) -> Option<&'t str> {
        self.tree.symbols.field_name(self.field_id())
    }
    /// Start byte.
    #[inline]
    pub fn start_byte(&self) -> usize {
        if self.start != UNKNOWN {
            return self.start as usize;
        }
        self.tree.position(self.pos as usize) as usize
    }
    /// End byte (exclusive).
    #[inline]
    pub fn end_byte(&self) -> usize {
        if self.end != UNKNOWN {
            return self.end as usize;
        }
        self.tree.position(self.close()) as usize
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
        self.tree
            .bits()
            .bit(p)
            .then(|| Node::at(self.tree, self.id + 1, p as u32))
    }
    /// The parent.
    pub fn parent(&self) -> Option<Node<'t>> {
        let r = self.tree.bp().enclose(self.pos as usize)?;
        Some(Node::at(
            self.tree,
            self.tree.bits().rank1(r) as u32,
            r as u32,
        ))
    }
    /// The next sibling.
    #[inline]
    pub fn next_sibling(&self) -> Option<Node<'t>> {
        if self.pos == 0 {
            return None;
        }
        let c = self.close();
        let p = c + 1;
        self.tree.bits().bit(p).then(|| {
            Node::at(
                self.tree,
                self.id + ((p - self.pos as usize) / 2) as u32,
                p as u32,
            )
        })
    }
    /// The previous sibling.
    pub fn prev_sibling(&self) -> Option<Node<'t>> {
        let pos = self.pos as usize;
        if pos == 0 || self.tree.bits().bit(pos - 1) {
            return None;
        }
        let o = self.tree.bp().find_open(pos - 1)?;
        Some(Node::at(
            self.tree,
            self.id.saturating_sub(((pos - o) / 2) as u32),
            o as u32,
        ))
    }
    /// The last child.
    pub fn last_child(&self) -> Option<Node<'t>> {
        self.first_child()?;
        let c = self.close();
        let o = self.tree.bp().find_open(c.checked_sub(1)?)?;
        let pos = self.pos as usize;
        (o > pos).then(|| {
            Node::at(
                self.tree,
                self.id + 1 + ((o - pos - 1) / 2) as u32,
                o as u32,
            )
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
        let next = open
            .filter(|&o| o > p && o < close)
            .map(|o| Node::at(self.tree, self.tree.bits().rank1(o) as u32, o as u32));
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
    /// amortised; in a subtree of 128 nodes or more the nodes yielded hold
    /// their byte ranges, decoded in order ([`Preorder`]).
    pub fn preorder(&self) -> Preorder<'t> {
        let count = self.descendant_count();
        let walk = if count >= CURSOR_WALK {
            Walk::Cursor(crate::CursorPreorder::with_count(*self, count))
        } else {
            Walk::Shape {
                tree: self.tree,
                bits: self.tree.bits(),
                pos: self.pos as usize,
                id: self.id,
                end: self.id + count as u32,
            }
        };
        Preorder { walk }
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
        self.wrappers_of(self.tree.chain(self.id))
    }

    /// The wrappers of a hidden chain (first symbol, count).
    #[inline]
    fn wrappers_of(&self, (first, len): (usize, usize)) -> Wrappers<'t> {
        Wrappers {
            symbols: self.tree.sec(sec::CHAIN_SYMBOLS),
            next: first,
            end: first + len,
        }
    }

    /// [`Node::summary`] and [`Node::wrappers`] with one type lookup.
    #[inline]
    pub fn summary_and_wrappers(&self) -> (NodeSummary, Wrappers<'t>) {
        let ((kind_id, field_id, flags), chain) = self.tree.node_type_and_chain(self.id);
        (
            NodeSummary {
                kind_id,
                field_id,
                flags,
            },
            self.wrappers_of(chain),
        )
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
