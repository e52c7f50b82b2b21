//! The tree as tree-sitter's query cursor walks it: visible nodes and the
//! hidden nodes it enters, built once per execution from a [`TreeView`]'s
//! query facts, and a cursor over it that moves exactly as tree-sitter's
//! internal `TreeCursor` moves (`lib/src/tree_cursor.c`).

use cst_bytecode::{Event, Node, NodeSummary, Point, TreeView};

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
pub(crate) struct QTree<'t> {
    pub view: &'t TreeView,
    pub nodes: Vec<QNode>,
    /// The visible node of each walk node (the root for hidden ones).
    vis: Vec<Node<'t>>,
}

impl<'t> QTree<'t> {
    /// The tree below `root`: its visible descendants and the hidden nodes
    /// inside it, in the walk's order (index 0 is `root`), from one
    /// sequential pass over the subtree's opens and closes.
    pub fn build(root: Node<'t>) -> QTree<'t> {
        let view = root.tree();
        let r = root.id() as u32;
        let r_end = r + root.descendant_count() as u32;
        let mut spans = view.hidden_spans().from_first(r as usize + 1).peekable();
        let mut nodes: Vec<QNode> = Vec::with_capacity((r_end - r) as usize + 16);
        let mut vis: Vec<Node<'t>> = Vec::with_capacity((r_end - r) as usize + 16);
        // Open walk nodes: (index in `nodes`, what ends it, last child): a
        // span ends at a visible index, a wrapper with its visible node
        // (WRAP), a visible node at its close (NIL).
        let mut open: Vec<(u32, u32, u32)> = Vec::new();
        const WRAP: u32 = NIL - 1;
        let push = |nodes: &mut Vec<QNode>,
                    vis: &mut Vec<Node<'t>>,
                    open: &mut Vec<(u32, u32, u32)>,
                    node: QNode,
                    visible: Node<'t>,
                    ends: u32| {
            let index = nodes.len() as u32;
            if let Some(top) = open.last_mut() {
                if top.2 == NIL {
                    nodes[top.0 as usize].first_child = index;
                } else {
                    nodes[top.2 as usize].next_sibling = index;
                }
                top.2 = index;
            }
            nodes.push(node);
            vis.push(visible);
            open.push((index, ends, NIL));
        };
        let is_span = |o: &(u32, u32, u32)| o.1 < WRAP;
        // Spans whose range is their visible descendants' end where the
        // last of those closes: the close before the span is popped.
        // (Their end is NIL until then.)
        let mut last_close = 0u32;
        let pop_span =
            |nodes: &mut Vec<QNode>, open: &mut Vec<(u32, u32, u32)>, last_close: u32| {
                if let Some((index, _, _)) = open.pop()
                    && nodes[index as usize].end == NIL
                {
                    nodes[index as usize].end = last_close;
                }
            };
        // Open visible nodes: (walk index, where their children's entries in
        // `pending` start, last visible child); `pending`: visible nodes
        // with no later named sibling seen yet.
        let mut vstack: Vec<(u32, u32, u32)> = Vec::new();
        let mut pending: Vec<u32> = Vec::new();
        // Preorder index of the next visible node to open.
        let mut next = r;
        for event in view.events(root) {
            match event {
                Event::Open(n, start) => {
                    let v = n.id() as u32;
                    next = v + 1;
                    // Spans that ended before `v`.
                    while open.last().is_some_and(|o| is_span(o) && o.1 <= v) {
                        pop_span(&mut nodes, &mut open, last_close);
                    }
                    while let Some(x) = spans.next_if(|x| x.first_visible() as u32 <= v) {
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
                        push(
                            &mut nodes,
                            &mut vis,
                            &mut open,
                            node,
                            root,
                            x.visible_end() as u32,
                        );
                    }
                    if v != r {
                        for symbol in n.wrappers() {
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
                            push(&mut nodes, &mut vis, &mut open, node, root, WRAP);
                        }
                    }
                    let index = nodes.len() as u32;
                    let summary = n.summary();
                    let mut parent_kind = 0;
                    let mut later = 0;
                    if let Some(p) = vstack.last_mut() {
                        parent_kind = nodes[p.0 as usize].summary.kind_id;
                        later = 4;
                        // The previous visible sibling has a later one; the
                        // ones still waiting for a later named one get it
                        // if this node is named.
                        if p.2 != NIL {
                            nodes[p.2 as usize].later |= 1;
                        }
                        p.2 = index;
                        if summary.is_named() {
                            for &w in &pending[p.1 as usize..] {
                                nodes[w as usize].later |= 2;
                            }
                            pending.truncate(p.1 as usize);
                        }
                    }
                    pending.push(index);
                    vstack.push((index, pending.len() as u32, NIL));
                    let node = QNode {
                        visible: true,
                        first_child: NIL,
                        next_sibling: NIL,
                        start,
                        end: start,
                        symbol: parent_kind,
                        later,
                        summary,
                    };
                    push(&mut nodes, &mut vis, &mut open, node, n, NIL);
                }
                Event::Close(end) => {
                    // Spans inside the closing node end with it.
                    while open.last().is_some_and(|o| is_span(o) && o.1 <= next) {
                        pop_span(&mut nodes, &mut open, last_close);
                    }
                    if let Some((index, _, _)) = open.pop() {
                        nodes[index as usize].end = end;
                    }
                    if let Some((_, off, _)) = vstack.pop() {
                        pending.truncate(off as usize);
                    }
                    while let Some(&(index, WRAP, _)) = open.last() {
                        open.pop();
                        nodes[index as usize].end = end;
                    }
                    last_close = end;
                }
            }
        }
        QTree { view, nodes, vis }
    }

    pub fn point(&self, byte: u32) -> Point {
        self.view.point_for_byte(byte as usize)
    }

    /// The visible node of walk node `q` (which must be visible).
    pub fn visible(&self, q: u32) -> Node<'t> {
        self.vis
            .get(q as usize)
            .copied()
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
        if c == NIL {
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
