//! The tree as tree-sitter's query cursor walks it: visible nodes and the
//! hidden nodes it enters, built once per execution from a [`TreeView`]'s
//! query facts, and a cursor over it that moves exactly as tree-sitter's
//! internal `TreeCursor` moves (`lib/src/tree_cursor.c`).

use cst_bytecode::{
    Event, HiddenSpan, HiddenSpanIter, HiddenSpanPos, Node, NodePlace, NodeSummary, TreeView,
};

use crate::exec::Bounds;

pub(crate) const NIL: u32 = u32::MAX;

/// A node of the walk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QNode {
    pub visible: bool,
    pub first_child: u32,
    pub next_sibling: u32,
    pub start: u32,
    pub end: u32,
    /// Grammar symbol of a hidden node; the visible parent's kind of a
    /// visible one.
    pub symbol: u16,
    /// A visible node: bit 0, it has a later sibling; bit 1, a later named
    /// one; bit 2, it has a visible parent in the walk.
    pub later: u8,
    /// A visible node's kind, field and flags.
    pub summary: NodeSummary,
}

/// The walk's tree below (and including) one visible node.
///
/// With a candidate list (the preorder indices of the visible nodes a
/// pattern can start on), the subtree of a visible node that holds no
/// candidate is not built: the node is marked lazy ([`Lazy::NoCandidate`]) and built by
/// [`QTree::expand`] only if the execution must descend into it, which it
/// must only while states are in progress (`Exec::advance`).
///
/// With ranges (an included or a containing range narrower than the whole
/// tree), the subtree of a visible node whose range lies outside one of
/// them is not built either ([`Lazy::Outside`]): the execution descends into
/// such a node only while a state in progress needs a deeper node, and
/// expands it first, whether states are in progress or not. A query over a
/// window of a large file (an editor's viewport) builds the window and the
/// path to it, as tree-sitter visits them, not the whole tree.
pub(crate) struct QTree<'t> {
    pub view: &'t TreeView,
    pub nodes: Vec<QNode>,
    /// The visible node of each walk node (the root for hidden ones).
    vis: Vec<NodePlace>,
    /// Sorted preorder indices of the visible nodes a pattern can start on;
    /// `None`: every node can start one, build everything.
    candidates: Option<Vec<u32>>,
    /// The ranges narrower than the whole tree (see [`QTree`]).
    bounds: Vec<Bounds>,
    /// The lazy visible nodes' reasons and where the hidden spans after
    /// their opens start; a lazy node's `first_child` is [`LAZY_BASE`] plus
    /// its index here.
    lazies: Vec<(Lazy, HiddenSpanPos)>,
    /// The stacks of a build, kept for the next (an execution expands many
    /// lazy subtrees).
    scratch: Scratch,
    /// Whether the hidden nodes are left out (see [`QTree::build`]).
    visible_only: bool,
}

/// The buffers of a walk tree, emptied, with their capacity: a query
/// cursor keeps them from one execution for the next, which then neither
/// allocates them again nor touches fresh memory.
#[derive(Default)]
pub(crate) struct Buffers {
    nodes: Vec<QNode>,
    vis: Vec<NodePlace>,
    lazies: Vec<(Lazy, HiddenSpanPos)>,
    scratch: Scratch,
}

impl Buffers {
    /// Walk nodes a cursor keeps room for between executions, at most
    /// (about 9 MB): a larger walk tree's buffers are freed.
    const KEEP: usize = 1 << 18;

    /// Room for walk nodes.
    pub fn capacity(&self) -> usize {
        self.nodes.capacity()
    }
}

/// A build's stacks (see [`QTree::fill`]), empty between builds.
#[derive(Default)]
struct Scratch {
    open: Vec<Open>,
    vstack: Vec<VOpen>,
    pending: Vec<u32>,
}

/// `first_child` of a visible node whose subtree is not built yet, from
/// this value on (below [`NIL`]): `LAZY_BASE + i`, `i` its entry in
/// [`QTree::lazies`]. Walk indices stay below it: 2^31 walk nodes would
/// take over 70 GB (28 bytes each and 8 for their visible node), and a
/// tree holds fewer than 2^31 nodes (docs/FORMAT.md).
pub(crate) const LAZY_BASE: u32 = 1 << 31;

/// Why a visible walk node's subtree is not built yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lazy {
    /// No pattern can start in it.
    NoCandidate,
    /// It lies outside the ranges (it may hold candidates).
    Outside,
}

/// Open walk nodes of a build: (index in `nodes`, what ends it, last
/// child). A span ends at a visible index, a wrapper with its visible node
/// ([`WRAP`]), a visible node at its close ([`NIL`]).
type Open = (u32, u32, u32);
/// Open visible nodes of a build: (walk index, where their children's
/// entries in `pending` start, last visible child, end bound).
type VOpen = (u32, u32, u32, u32);
const WRAP: u32 = NIL - 1;
/// A build passes over the hidden spans inside a lazy subtree of more
/// nodes than this with [`HiddenSpanIter::skip_to`], else one by one as
/// the next open reads them.
const SPAN_SKIP_OVER: u32 = 64;

/// The hidden spans of a build, with one looked at ahead (and where the
/// iterator was before it).
struct Ahead<'t> {
    it: HiddenSpanIter<'t>,
    peeked: Option<(HiddenSpan, HiddenSpanPos)>,
}

impl Ahead<'_> {
    /// The next span if its first visible descendant is at or before `v`.
    #[inline]
    fn next_if_by(&mut self, v: u32) -> Option<HiddenSpan> {
        let (x, _) = match &self.peeked {
            Some(p) => p,
            None => {
                let pos = self.it.position();
                self.peeked.insert((self.it.next()?, pos))
            }
        };
        if x.first_visible() as u32 <= v {
            self.peeked.take().map(|(x, _)| x)
        } else {
            None
        }
    }

    /// Where the next span is.
    fn position(&self) -> HiddenSpanPos {
        match self.peeked {
            Some((_, pos)) => pos,
            None => self.it.position(),
        }
    }

    /// Passes over the spans whose first visible descendant is before
    /// `first` (every span taken so far is).
    fn skip_to(&mut self, first: u32) {
        match self.peeked {
            Some((x, _)) if x.first_visible() as u32 >= first => {}
            _ => {
                self.peeked = None;
                self.it.skip_to(first as usize);
            }
        }
    }
}

impl<'t> QTree<'t> {
    /// The tree below `root`: its visible descendants and the hidden nodes
    /// inside it, in the walk's order (index 0 is `root`), from one
    /// sequential pass over the subtree's opens and closes. With
    /// `candidates` (see [`QTree`]), subtrees without one are left lazy;
    /// those outside one of the ranges (`bounds`) too.
    /// `buffers`: where to build it (see [`Buffers`]).
    ///
    /// `visible_only`: leave the hidden nodes out, for an execution that
    /// cannot observe them (`Exec::new` says when): with the visible nodes
    /// alone, the cursor's moves reach the same visible nodes in the same
    /// order at the same depths.
    pub fn build(
        root: Node<'t>,
        candidates: Option<Vec<u32>>,
        bounds: &[Bounds],
        buffers: Buffers,
        visible_only: bool,
    ) -> QTree<'t> {
        let view = root.tree();
        let bounds: Vec<Bounds> = bounds
            .iter()
            .filter(|b| !b.is_everything())
            .copied()
            .collect();
        let mut tree = QTree {
            view,
            nodes: buffers.nodes,
            vis: buffers.vis,
            candidates,
            lazies: buffers.lazies,
            scratch: buffers.scratch,
            bounds,
            visible_only,
        };
        let size = match &tree.candidates {
            // About 12–17 walk nodes per candidate with the shipped tags
            // queries (the candidates' paths and their siblings).
            Some(c) => (c.len() * 16).min(root.descendant_count() * 2) + 16,
            // Only part of the tree is built, as it happens: no guess.
            None if !tree.bounds.is_empty() => 64,
            None if visible_only => root.descendant_count() + 16,
            // Every visible node, and the hidden ones: 0.6–1.5 per visible
            // node with the shipped grammars (a guess too small costs a
            // copy of the whole array).
            None => root.descendant_count() * 3 + 16,
        };
        tree.nodes.clear();
        tree.vis.clear();
        tree.lazies.clear();
        tree.nodes.reserve(size);
        tree.vis.reserve(size);
        tree.fill(root, None);
        tree
    }

    /// Empties the walk tree, handing its buffers out for the next build
    /// unless they hold room for more than [`Buffers::KEEP`] walk nodes.
    pub fn take_buffers(&mut self) -> Buffers {
        let mut nodes = std::mem::take(&mut self.nodes);
        let mut vis = std::mem::take(&mut self.vis);
        let mut lazies = std::mem::take(&mut self.lazies);
        if nodes.capacity() > Buffers::KEEP {
            return Buffers::default();
        }
        nodes.clear();
        vis.clear();
        lazies.clear();
        Buffers {
            nodes,
            vis,
            lazies,
            scratch: std::mem::take(&mut self.scratch),
        }
    }

    /// Whether the hidden nodes are left out (see [`QTree::build`]).
    pub fn visible_only(&self) -> bool {
        self.visible_only
    }

    /// Why visible walk node `q`'s subtree is not built yet, if it is not.
    pub fn laziness(&self, q: u32) -> Option<Lazy> {
        self.lazy_entry(q).map(|(why, _)| why)
    }

    /// The entry of lazy walk node `q` in [`QTree::lazies`].
    fn lazy_entry(&self, q: u32) -> Option<(Lazy, HiddenSpanPos)> {
        let c = self.nodes.get(q as usize)?.first_child;
        if c == NIL {
            return None;
        }
        c.checked_sub(LAZY_BASE)
            .and_then(|i| self.lazies.get(i as usize))
            .copied()
    }

    /// The `first_child` of a visible node left lazy for `why`, whose
    /// subtree's spans start at `pos`; `None` when no marker is left or the
    /// walk tree has reached [`LAZY_BASE`] nodes (the node is then built).
    fn mark_lazy(&mut self, why: Lazy, pos: HiddenSpanPos) -> Option<u32> {
        let i = u32::try_from(self.lazies.len()).ok()?;
        let marker = LAZY_BASE.checked_add(i).filter(|&m| m < NIL)?;
        if self.nodes.len() >= LAZY_BASE as usize {
            return None;
        }
        self.lazies.push((why, pos));
        Some(marker)
    }

    /// Builds the subtree of lazy visible walk node `q`: its descendants
    /// are appended, exactly as a build from the root would have made them
    /// (their subtrees without a candidate lazy again).
    pub fn expand(&mut self, q: u32) {
        let Some((_, pos)) = self.lazy_entry(q) else {
            return;
        };
        self.nodes[q as usize].first_child = NIL;
        let root = self.visible(q);
        self.fill(root, Some((q, pos)));
    }

    /// Whether the subtree of visible node `n` (preorder `v`) below `n`
    /// holds no candidate, so that it may be left lazy (with `n`'s
    /// descendant count if it was read); else the end of its subtree (one
    /// past its last descendant's preorder index) if it was read. `bound`:
    /// an end no descendant of `n` reaches (an ancestor's).
    ///
    /// `k`: where the candidates after the last `v` asked start; the
    /// `v`s of one fill increase, so it only moves forward.
    fn lazy(
        &self,
        n: Node<'t>,
        v: u32,
        bound: u32,
        k: &mut usize,
    ) -> Result<Option<usize>, Option<u32>> {
        let Some(c) = &self.candidates else {
            return Err(None);
        };
        while c.get(*k).is_some_and(|&x| x <= v) {
            *k += 1;
        }
        match c.get(*k) {
            None => Ok(None),
            Some(&x) if x >= bound => Ok(None),
            Some(&x) if x == v + 1 => Err(None),
            Some(&x) => {
                let size = n.descendant_count();
                let end = v + size as u32;
                if x >= end {
                    Ok(Some(size))
                } else {
                    Err(Some(end))
                }
            }
        }
    }

    /// Whether visible node `n`, which starts at `start`, lies outside one
    /// of the ranges: `range_intersects` (exec.rs) fails for it, so that
    /// the execution neither enters its children nor starts a pattern in
    /// them while no state in progress needs a deeper node. The node's end
    /// (`end`) is read only for a node that starts before a range.
    fn outside(&self, start: u32, mut end: impl FnMut() -> u32) -> bool {
        self.bounds
            .iter()
            .any(|b| b.starts_past(start) || b.ends_before(start, &mut end))
    }

    /// Appends the walk nodes of `root`'s subtree. `existing`: `root` is
    /// already walk node `existing.0` (an expansion), whose subtree's spans
    /// start at `existing.1`; else it is pushed first.
    fn fill(&mut self, root: Node<'t>, existing: Option<(u32, HiddenSpanPos)>) {
        let view = self.view;
        let r = root.id() as u32;
        let r_end = r + root.descendant_count() as u32;
        // An expansion's spans start where the build that left it lazy
        // was.
        // (Not read at all when the hidden nodes are left out: from the
        // start, without a seek.)
        let hidden = !self.visible_only;
        let mut spans = Ahead {
            it: match existing {
                Some((_, pos)) => view.hidden_spans().resume(pos),
                None if hidden => view.hidden_spans().from_first(r as usize + 1),
                None => view.hidden_spans().iter(),
            },
            peeked: None,
        };
        let existing = existing.map(|(q, _)| q);
        // The open walk nodes; the open visible nodes (walk index, where
        // their children's entries in `pending` start, last visible child,
        // an end none of their descendants reaches: see `lazy`); `pending`:
        // visible nodes with no later named sibling seen yet.
        let Scratch {
            mut open,
            mut vstack,
            mut pending,
        } = std::mem::take(&mut self.scratch);
        let push = |tree: &mut QTree<'t>,
                    open: &mut Vec<Open>,
                    node: QNode,
                    visible: Node<'t>,
                    ends: u32| {
            let index = tree.nodes.len() as u32;
            if let Some(top) = open.last_mut() {
                if top.2 == NIL {
                    tree.nodes[top.0 as usize].first_child = index;
                } else {
                    tree.nodes[top.2 as usize].next_sibling = index;
                }
                top.2 = index;
            }
            tree.nodes.push(node);
            tree.vis.push(visible.place());
            open.push((index, ends, NIL));
        };
        let is_span = |o: &Open| o.1 < WRAP;
        // Spans whose range is their visible descendants' end where the
        // last of those closes: the close before the span is popped.
        // (Their end is NIL until then.)
        let mut last_close = 0u32;
        let pop_span = |nodes: &mut Vec<QNode>, open: &mut Vec<Open>, last_close: u32| {
            if let Some((index, _, _)) = open.pop()
                && nodes[index as usize].end == NIL
            {
                nodes[index as usize].end = last_close;
            }
        };
        // A node's close: spans inside it end with it, so do its wrappers.
        let close = |tree: &mut QTree<'t>,
                     open: &mut Vec<Open>,
                     vstack: &mut Vec<VOpen>,
                     pending: &mut Vec<u32>,
                     last_close: &mut u32,
                     next: u32,
                     end: u32| {
            while open.last().is_some_and(|o| is_span(o) && o.1 <= next) {
                pop_span(&mut tree.nodes, open, *last_close);
            }
            if let Some((index, _, _)) = open.pop() {
                tree.nodes[index as usize].end = end;
            }
            if let Some((_, off, _, _)) = vstack.pop() {
                pending.truncate(off as usize);
            }
            while let Some(&(index, WRAP, _)) = open.last() {
                open.pop();
                tree.nodes[index as usize].end = end;
            }
            *last_close = end;
        };
        // Preorder index of the next visible node to open.
        let mut next = r;
        // The first candidate after `r`, then after each node opened.
        let mut k = self
            .candidates
            .as_ref()
            .map_or(0, |c| c.partition_point(|&x| x <= r));
        let mut events = view.events(root);
        while let Some(event) = events.next() {
            match event {
                Event::Open(n, start) => {
                    let v = n.id() as u32;
                    next = v + 1;
                    if v == r
                        && let Some(q) = existing
                    {
                        pending.push(q);
                        vstack.push((q, pending.len() as u32, NIL, r_end));
                        open.push((q, NIL, NIL));
                        continue;
                    }
                    // Spans that ended before `v`.
                    while open.last().is_some_and(|o| is_span(o) && o.1 <= v) {
                        pop_span(&mut self.nodes, &mut open, last_close);
                    }
                    while hidden && let Some(x) = spans.next_if_by(v) {
                        if x.first_visible() as u32 != v || x.visible_end() as u32 > r_end {
                            continue;
                        }
                        let (start, end) = match x.stored_range() {
                            Some(range) => (range.start as u32, range.end as u32),
                            None => (start, NIL),
                        };
                        let node = QNode {
                            visible: false,
                            first_child: NIL,
                            next_sibling: NIL,
                            start,
                            end,
                            symbol: x.grammar_symbol(),
                            later: 0,
                            summary: NodeSummary::default(),
                        };
                        push(self, &mut open, node, root, x.visible_end() as u32);
                    }
                    let (summary, wrappers) = n.summary_and_wrappers();
                    if v != r && hidden {
                        for symbol in wrappers {
                            let node = QNode {
                                visible: false,
                                first_child: NIL,
                                next_sibling: NIL,
                                start,
                                end: start,
                                symbol,
                                later: 0,
                                summary: NodeSummary::default(),
                            };
                            push(self, &mut open, node, root, WRAP);
                        }
                    }
                    let index = self.nodes.len() as u32;
                    let mut parent_kind = 0;
                    let mut later = 0;
                    if let Some(p) = vstack.last_mut() {
                        parent_kind = self.nodes[p.0 as usize].summary.kind_id;
                        later = 4;
                        // The previous visible sibling has a later one; the
                        // ones still waiting for a later named one get it
                        // if this node is named.
                        if p.2 != NIL {
                            self.nodes[p.2 as usize].later |= 1;
                        }
                        p.2 = index;
                        if summary.is_named() {
                            for &w in &pending[p.1 as usize..] {
                                self.nodes[w as usize].later |= 2;
                            }
                            pending.truncate(p.1 as usize);
                        }
                    }
                    let bound = vstack.last().map_or(r_end, |p| p.3);
                    // A leaf has nothing to leave unbuilt: its close comes
                    // next, and an expansion would build nothing. (Without
                    // candidates and ranges nothing is left unbuilt.)
                    let leaf = (self.candidates.is_some() || !self.bounds.is_empty())
                        && n.first_child().is_none();
                    let (lazy, bound, size) = match leaf {
                        true => (false, bound, None),
                        false => match self.lazy(n, v, bound, &mut k) {
                            Ok(size) => (v != r, bound, size),
                            Err(end) => (false, end.unwrap_or(bound), None),
                        },
                    };
                    // A node starting before a range is passed over on a
                    // copy of the walk to read its end: the walk goes on
                    // from the copy if the node is left unbuilt.
                    let mut ahead = None;
                    let outside = !lazy
                        && !leaf
                        && v != r
                        && !self.bounds.is_empty()
                        && self.outside(start, || {
                            let (_, end, _) = ahead.get_or_insert_with(|| {
                                let mut e = events.clone();
                                let (end, size) = e.skip_subtree(n);
                                (e, end, size)
                            });
                            *end
                        });
                    pending.push(index);
                    vstack.push((index, pending.len() as u32, NIL, bound));
                    // Left unbuilt with the spans from `v + 1` on, for its
                    // expansion: every one up to `v` is taken.
                    let why = match (lazy, outside) {
                        (true, _) => Some(Lazy::NoCandidate),
                        (false, true) => Some(Lazy::Outside),
                        (false, false) => None,
                    };
                    let first_child = why.and_then(|why| self.mark_lazy(why, spans.position()));
                    let node = QNode {
                        visible: true,
                        first_child: first_child.unwrap_or(NIL),
                        next_sibling: NIL,
                        start,
                        end: start,
                        symbol: parent_kind,
                        later,
                        summary,
                    };
                    push(self, &mut open, node, n, NIL);
                    if first_child.is_some() {
                        // Its subtree is passed over: its close comes next.
                        let (end, size) = match ahead {
                            Some((passed, end, size)) => {
                                events = passed;
                                (end, size)
                            }
                            None => match size {
                                Some(size) => events.skip_subtree_sized(n, size),
                                None => events.skip_subtree(n),
                            },
                        };
                        let size = size as u32;
                        next = v + size;
                        // Past the spans inside it.
                        if hidden && size > SPAN_SKIP_OVER {
                            spans.skip_to(next);
                        }
                        close(
                            self,
                            &mut open,
                            &mut vstack,
                            &mut pending,
                            &mut last_close,
                            next,
                            end,
                        );
                    }
                }
                Event::Close(end) => close(
                    self,
                    &mut open,
                    &mut vstack,
                    &mut pending,
                    &mut last_close,
                    next,
                    end,
                ),
            }
        }
        open.clear();
        vstack.clear();
        pending.clear();
        self.scratch = Scratch {
            open,
            vstack,
            pending,
        };
    }

    /// The visible node of walk node `q` (which must be visible).
    pub fn visible(&self, q: u32) -> Node<'t> {
        self.vis
            .get(q as usize)
            .and_then(|&p| self.view.node_at(p))
            .unwrap_or_else(|| self.view.root())
    }

    /// (has a later sibling, has a later named sibling, visible parent's
    /// kind) of visible walk node `q`.
    pub fn siblings(&self, q: u32) -> (bool, bool, Option<u16>) {
        let n = self.nodes.get(q as usize).copied().unwrap_or(QNode {
            visible: true,
            first_child: NIL,
            next_sibling: NIL,
            start: 0,
            end: 0,
            symbol: 0,
            later: 0,
            summary: NodeSummary::default(),
        });
        (
            n.later & 1 != 0,
            n.later & 2 != 0,
            (n.later & 4 != 0).then_some(n.symbol),
        )
    }

    /// Grammar symbol of hidden walk node `q`.
    pub fn hidden_symbol(&self, q: u32) -> u16 {
        self.nodes.get(q as usize).map_or(0, |n| n.symbol)
    }
}

/// What a move reached (`TreeCursorStep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    None,
    Hidden,
    Visible,
}

/// tree-sitter's `TreeCursor` over a [`QTree`]: a stack of walk nodes.
pub(crate) struct Cursor {
    pub stack: Vec<u32>,
}

impl Cursor {
    pub fn new() -> Cursor {
        Cursor { stack: vec![0] }
    }

    pub fn current(&self) -> u32 {
        self.stack.last().copied().unwrap_or(0)
    }

    fn step(t: &QTree<'_>, q: u32) -> Step {
        if t.nodes[q as usize].visible {
            Step::Visible
        } else {
            Step::Hidden
        }
    }

    /// `ts_tree_cursor_goto_first_child_internal`.
    pub fn goto_first_child(&mut self, t: &QTree<'_>) -> Step {
        let c = t.nodes[self.current() as usize].first_child;
        // NIL and the lazy: no child built.
        if c >= LAZY_BASE {
            return Step::None;
        }
        self.stack.push(c);
        Self::step(t, c)
    }

    /// `ts_tree_cursor_goto_next_sibling_internal`: the next sibling at this
    /// level, else at the levels of hidden ancestors, never past a visible one.
    pub fn goto_next_sibling(&mut self, t: &QTree<'_>) -> Step {
        let initial = self.stack.len();
        let mut level = initial.saturating_sub(1);
        while level >= 1 {
            let entry = self.stack[level];
            if level + 1 < initial && t.nodes[entry as usize].visible {
                break;
            }
            let sibling = t.nodes[entry as usize].next_sibling;
            if sibling != NIL {
                self.stack.truncate(level);
                self.stack.push(sibling);
                return Self::step(t, sibling);
            }
            level -= 1;
        }
        Step::None
    }

    /// `ts_tree_cursor_goto_parent`: to the nearest visible ancestor.
    pub fn goto_parent(&mut self, t: &QTree<'_>) -> bool {
        let n = self.stack.len();
        for i in (0..n.saturating_sub(1)).rev() {
            if i == 0 || t.nodes[self.stack[i] as usize].visible {
                self.stack.truncate(i + 1);
                return true;
            }
        }
        false
    }

    /// `ts_tree_cursor_parent_node`: the nearest visible ancestor's walk index.
    pub fn parent_node(&self, t: &QTree<'_>) -> Option<u32> {
        let n = self.stack.len();
        (0..n.saturating_sub(1))
            .rev()
            .find(|&i| i == 0 || t.nodes[self.stack[i] as usize].visible)
            .map(|i| self.stack[i])
    }

    /// Grammar symbols of the hidden entries between the current (visible)
    /// node and its visible parent, innermost first.
    pub fn hidden_chain<'a>(&'a self, t: &'a QTree<'_>) -> impl Iterator<Item = u16> + 'a {
        let n = self.stack.len();
        self.stack[..n.saturating_sub(1)]
            .iter()
            .enumerate()
            .rev()
            .take_while(move |&(i, &q)| i > 0 && !t.nodes[q as usize].visible)
            .map(move |(_, &q)| t.hidden_symbol(q))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cst_bytecode::{Symbols, TreeView};

    use super::*;

    fn view(id: &str, file: &str) -> TreeView {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../corpora/samples")
            .join(file);
        let source = std::fs::read(&path).unwrap();
        let g = cst_grammars::by_id(id).unwrap();
        let fp = g.fingerprint().unwrap().0;
        let tree = g.parser().unwrap().parse(&source, None).unwrap();
        let bytes = cst_bytecode::encode(&tree, &source, fp).unwrap();
        let symbols = Arc::new(Symbols::from_language(&g.language().unwrap(), fp));
        TreeView::open(&bytes, symbols).unwrap()
    }

    /// The samples the walk-tree tests build from: (language, file).
    const SAMPLES: [(&str, &str); 5] = [
        ("rust", "rust/sample.rs"),
        ("c", "c/sample.c"),
        ("python", "python/sample.py"),
        ("javascript", "javascript/sample.js"),
        ("typescript", "typescript/sample.ts"),
    ];

    /// A walk node as the engine can observe it (indices aside): depth,
    /// visible, start, end, symbol, later bits, kind, preorder index.
    type Observed = (u32, bool, u32, u32, u16, u8, u16, usize);

    /// The walk tree in the order of the walk.
    fn shape(t: &QTree<'_>) -> Vec<Observed> {
        let mut out = Vec::new();
        let mut stack = vec![(0u32, 0u32)];
        while let Some((q, depth)) = stack.pop() {
            let n = t.nodes[q as usize];
            assert!(
                n.first_child < LAZY_BASE || n.first_child == NIL,
                "a lazy node is left"
            );
            let id = if n.visible {
                t.visible(q).id()
            } else {
                usize::MAX
            };
            out.push((
                depth,
                n.visible,
                n.start,
                n.end,
                n.symbol,
                n.later,
                n.summary.kind_id,
                id,
            ));
            let mut children = Vec::new();
            let mut c = n.first_child;
            while c != NIL {
                children.push(c);
                c = t.nodes[c as usize].next_sibling;
            }
            stack.extend(children.into_iter().rev().map(|c| (c, depth + 1)));
        }
        out
    }

    /// A walk tree built lazily, with every lazy subtree expanded after,
    /// is the walk tree built whole; and a sparse candidate list leaves
    /// most of it unbuilt.
    #[test]
    fn lazy_subtrees_expand_to_the_whole_walk_tree() {
        for (id, file) in SAMPLES {
            let v = view(id, file);
            let root = v.root();
            let whole = QTree::build(root, None, &[], Buffers::default(), false);
            let expected = shape(&whole);
            // Kinds present in the tree, a few at a time.
            let mut kinds: Vec<u16> = root.preorder().map(|n| n.kind_id()).collect();
            kinds.sort_unstable();
            kinds.dedup();
            let mut sparse_seen = false;
            for (i, chunk) in kinds.chunks(7).enumerate() {
                let mut wanted = chunk.to_vec();
                wanted.truncate(1 + i % 3);
                let candidates = v.nodes_of_kinds(root, &wanted, usize::MAX).unwrap();
                let n = candidates.len();
                if n > 0 {
                    assert_eq!(v.nodes_of_kinds(root, &wanted, n - 1), None);
                }
                let expect: Vec<u32> = root
                    .preorder()
                    .filter(|n| wanted.contains(&n.kind_id()))
                    .map(|n| n.id() as u32)
                    .collect();
                assert_eq!(candidates, expect, "{id}: candidates of {wanted:?}");
                let mut lazy = QTree::build(
                    root,
                    Some(candidates.clone()),
                    &[],
                    Buffers::default(),
                    false,
                );
                if candidates.len() * 10 < root.descendant_count() {
                    assert!(
                        lazy.nodes.len() < whole.nodes.len(),
                        "{id}: {} candidates, yet {} of {} walk nodes built",
                        candidates.len(),
                        lazy.nodes.len(),
                        whole.nodes.len()
                    );
                    sparse_seen = true;
                }
                expand_all(&mut lazy);
                assert_eq!(shape(&lazy), expected, "{id}: candidates of {wanted:?}");
            }
            assert!(sparse_seen, "{id}: no sparse candidate list tried");
        }
    }

    /// Expands every lazy node, those the expansions append included.
    fn expand_all(t: &mut QTree<'_>) {
        let mut q = 0;
        while q < t.nodes.len() {
            t.expand(q as u32);
            q += 1;
        }
    }

    /// The visible walk nodes in walk order, each with the number of its
    /// visible ancestors instead of its walk depth.
    fn visible_shape(t: &QTree<'_>) -> Vec<Observed> {
        let mut out = Vec::new();
        let mut stack = vec![(0u32, 0u32)];
        while let Some((q, depth)) = stack.pop() {
            let n = t.nodes[q as usize];
            if n.visible {
                let id = t.vis[q as usize].id();
                out.push((
                    depth,
                    true,
                    n.start,
                    n.end,
                    n.symbol,
                    n.later,
                    n.summary.kind_id,
                    id,
                ));
            }
            let below = depth + u32::from(n.visible);
            let mut children = Vec::new();
            let mut c = n.first_child;
            while c != NIL && c < LAZY_BASE {
                children.push(c);
                c = t.nodes[c as usize].next_sibling;
            }
            stack.extend(children.into_iter().rev().map(|c| (c, below)));
        }
        out
    }

    /// A walk tree without hidden nodes is the whole walk tree's visible
    /// nodes, in the same order, at the same visible depths, with the same
    /// ranges, later-sibling bits and parent kinds; built lazily and
    /// expanded, too.
    #[test]
    fn a_visible_only_walk_tree_is_the_visible_part_of_the_whole() {
        for (id, file) in SAMPLES {
            let v = view(id, file);
            let root = v.root();
            let whole = QTree::build(root, None, &[], Buffers::default(), false);
            let expected = visible_shape(&whole);
            assert!(
                whole.nodes.iter().any(|n| !n.visible),
                "{id}: no hidden node"
            );
            let visible = QTree::build(root, None, &[], Buffers::default(), true);
            assert!(visible.nodes.iter().all(|n| n.visible), "{id}");
            assert_eq!(visible.nodes.len(), root.descendant_count(), "{id}");
            assert_eq!(visible_shape(&visible), expected, "{id}");
            let mut kinds: Vec<u16> = root.preorder().map(|n| n.kind_id()).collect();
            kinds.sort_unstable();
            kinds.dedup();
            for wanted in kinds.chunks(5) {
                let candidates = v.nodes_of_kinds(root, wanted, usize::MAX).unwrap();
                let mut lazy = QTree::build(root, Some(candidates), &[], Buffers::default(), true);
                expand_all(&mut lazy);
                assert!(lazy.nodes.iter().all(|n| n.visible), "{id}");
                assert_eq!(
                    visible_shape(&lazy),
                    expected,
                    "{id}: candidates of {wanted:?}"
                );
            }
        }
    }

    /// A walk tree built for byte or point ranges, with every lazy subtree
    /// expanded after, is the walk tree built whole; a narrow window leaves
    /// most of it unbuilt.
    #[test]
    fn subtrees_outside_the_ranges_expand_to_the_whole_walk_tree() {
        use crate::exec::Range;
        for (id, file) in SAMPLES {
            let v = view(id, file);
            let root = v.root();
            let expected = shape(&QTree::build(root, None, &[], Buffers::default(), false));
            let whole = expected.len();
            let len = root.end_byte() as u32;
            let mut narrow_seen = false;
            let kinds: Vec<u16> = root
                .preorder()
                .map(|n| n.kind_id())
                .filter(|k| k % 5 == 0)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            for (i, (a, b)) in [
                (len / 2, len / 2 + 40),
                (0, len / 8),
                (len - len / 8, len),
                (len / 3, len / 3),
                (len / 4, 3 * len / 4),
                (len, len),
            ]
            .into_iter()
            .enumerate()
            {
                let bytes = Range {
                    start_byte: a,
                    end_byte: b,
                    ..Range::ALL
                };
                let points = Range {
                    start_point: v.point_for_byte(a as usize),
                    end_point: v.point_for_byte(b as usize),
                    ..Range::ALL
                };
                for ranges in [
                    vec![bytes],
                    vec![points],
                    vec![Range::ALL, bytes],
                    vec![bytes, points],
                ] {
                    // Half of them with a sparse candidate list as well.
                    let candidates = (i % 2 == 1)
                        .then(|| v.nodes_of_kinds(root, &kinds, usize::MAX))
                        .flatten();
                    let bounds: Vec<Bounds> = ranges.iter().map(|r| Bounds::new(r, &v)).collect();
                    let mut t = QTree::build(root, candidates, &bounds, Buffers::default(), false);
                    if a == len / 2 && t.nodes.len() * 4 < whole {
                        narrow_seen = true;
                    }
                    expand_all(&mut t);
                    assert_eq!(shape(&t), expected, "{id}: ranges {ranges:?}");
                }
            }
            assert!(
                narrow_seen,
                "{id}: a 40-byte window built more than a quarter of the walk tree"
            );
        }
    }

    /// A walk tree built in the buffers of another (a reused query
    /// cursor's) is the one built in new buffers, lazily built or not, and
    /// the buffers come back empty with their room.
    #[test]
    fn reused_buffers_build_the_same_walk_tree() {
        let mut buffers = Buffers::default();
        for round in 0..2 {
            for (id, file) in SAMPLES {
                let v = view(id, file);
                let root = v.root();
                let kinds: Vec<u16> = root.children().map(|n| n.kind_id()).take(2).collect();
                let candidates = (round == 1)
                    .then(|| v.nodes_of_kinds(root, &kinds, usize::MAX))
                    .flatten();
                let mut fresh =
                    QTree::build(root, candidates.clone(), &[], Buffers::default(), false);
                let mut reused = QTree::build(root, candidates, &[], buffers, false);
                assert_eq!(reused.nodes.len(), fresh.nodes.len(), "{id}, round {round}");
                for t in [&mut fresh, &mut reused] {
                    expand_all(t);
                }
                assert_eq!(shape(&reused), shape(&fresh), "{id}, round {round}");
                let room = reused.nodes.capacity();
                buffers = reused.take_buffers();
                assert_eq!(buffers.capacity(), room, "{id}: room kept");
                assert!(buffers.nodes.is_empty() && buffers.vis.is_empty());
                assert!(buffers.lazies.is_empty());
            }
        }
    }
}
