//! The query facts of a live tree, read with tree-sitter's own cursor
//! internals (feature `tree-sitter`).
//!
//! The public API never shows hidden nodes, nor the status the query cursor
//! computes per node. tree-sitter's C library has both as non-static
//! functions of `lib/src/tree_cursor.c` (`ts_tree_cursor_goto_first_child_internal`,
//! `ts_tree_cursor_goto_next_sibling_internal`, `ts_tree_cursor_current_status`),
//! linked into every build with the `tree-sitter` crate; this module calls
//! them exactly as `ts_query_cursor__advance` does. Their signatures are
//! those of the pinned tree-sitter (`=0.26.13`, checked by a tidy test).
//!
//! All unsafe code is in [`RawCursor`], a thin wrapper whose methods are
//! safe to call while the tree is borrowed. Two walks use it: [`walk`], the
//! encoder's only walk (every visible node's data, the hidden nodes and the
//! status overrides in one pass), and [`collect`], the verifier's separate
//! reading of the plain facts, kept independent of the encoder's.
#![deny(clippy::undocumented_unsafe_blocks)]

use std::marker::PhantomData;

use rustc_hash::FxHashMap as HashMap;
use tree_sitter::ffi;

use crate::facts::{FactOverride, HiddenNode, MAX_SUPERTYPES, NodeFacts};
use crate::format::{
    QF_FIELD, QF_FLIP_LATER, QF_FLIP_LATER_NAMED, QF_LATER_FIELD, QF_PARENT_KIND, QF_SUPERTYPES,
    TF_ERROR, TF_EXTRA, TF_HAS_ERROR, TF_MISSING, TF_NAMED,
};
use crate::layout::FlatNode;

/// `TreeCursorStep` (tree_cursor.h).
const STEP_HIDDEN: u32 = 1;
const STEP_VISIBLE: u32 = 2;

#[allow(unsafe_code)]
unsafe extern "C" {
    fn ts_tree_cursor_goto_first_child_internal(cursor: *mut ffi::TSTreeCursor) -> u32;
    fn ts_tree_cursor_goto_next_sibling_internal(cursor: *mut ffi::TSTreeCursor) -> u32;
    fn ts_tree_cursor_current_status(
        cursor: *const ffi::TSTreeCursor,
        field_id: *mut u16,
        has_later_siblings: *mut bool,
        has_later_named_siblings: *mut bool,
        can_have_later_siblings_with_this_field: *mut bool,
        supertypes: *mut u16,
        supertype_count: *mut u32,
    );
    fn ts_tree_cursor_parent_node(cursor: *const ffi::TSTreeCursor) -> ffi::TSNode;
    fn ts_language_public_symbol(language: *const ffi::TSLanguage, symbol: u16) -> u16;
}

/// The public symbol (the kind id a node reports) of every symbol of
/// `language`, internal ones and aliases included: tree-sitter's
/// `ts_language_public_symbol` over `0..node_kind_count()`, which is the
/// length of the grammar's `ts_symbol_map`. That function is declared in
/// tree-sitter's internal `language.h`, not `api.h`; it links because the
/// library is built statically (a version that inlined it would fail to
/// link, not misbehave).
#[allow(unsafe_code)]
pub(crate) fn public_symbols(language: &tree_sitter::Language) -> Vec<u16> {
    let count = language.node_kind_count().min(usize::from(u16::MAX - 1));
    let raw = language.clone().into_raw();
    let map = (0..count as u16)
        // SAFETY: `raw` is a live language (the clone's reference, released
        // below); `ts_language_public_symbol` reads `public_symbol_map[symbol]`,
        // which the generated parser sizes `symbol_count + alias_count`, the
        // count `node_kind_count()` reports, so every index is in bounds.
        .map(|s| unsafe { ts_language_public_symbol(raw, s) })
        .collect();
    // SAFETY: gives back the reference `into_raw` took from the clone.
    drop(unsafe { tree_sitter::Language::from_raw(raw) });
    map
}

/// The top entry of the cursor's stack (tree-sitter's `TreeCursorEntry`).
#[derive(Clone, Copy)]
struct Entry {
    /// Stack size: 1 at the root.
    depth: usize,
    /// Index among the parent subtree's children (hidden ones included).
    child_index: u32,
    /// Address of the entry's `Subtree`, a slot of its parent's children
    /// array (the node's id).
    subtree: usize,
    /// The node's start byte.
    start: u32,
}

/// A `TSTreeCursor` of `'tree`, moved with tree-sitter's internal steps.
/// Every method is safe while the tree is borrowed; the cursor is deleted
/// on drop.
struct RawCursor<'tree> {
    raw: ffi::TSTreeCursor,
    tree: PhantomData<&'tree tree_sitter::Tree>,
}

#[allow(unsafe_code)]
impl Drop for RawCursor<'_> {
    fn drop(&mut self) {
        // SAFETY: the cursor was made by `ts_tree_cursor_new` and is deleted once.
        unsafe { ffi::ts_tree_cursor_delete(&mut self.raw) }
    }
}

#[allow(unsafe_code)]
impl<'tree> RawCursor<'tree> {
    /// A cursor at the root of `tree`.
    fn new(tree: &'tree tree_sitter::Tree) -> Self {
        // SAFETY: the node belongs to `tree`, which outlives the cursor.
        let raw = unsafe { ffi::ts_tree_cursor_new(tree.root_node().into_raw()) };
        RawCursor {
            raw,
            tree: PhantomData,
        }
    }

    /// The current node (`ts_tree_cursor_current_node`, what
    /// `TreeCursor::node` returns at the same place).
    fn node(&self) -> tree_sitter::Node<'tree> {
        // SAFETY: the cursor is valid and points into the tree.
        let raw = unsafe { ffi::ts_tree_cursor_current_node(&self.raw) };
        // SAFETY: a node of the tree, which `'tree` borrows.
        unsafe { tree_sitter::Node::from_raw(raw) }
    }

    /// One step down: [`STEP_VISIBLE`], [`STEP_HIDDEN`], or 0 (no child).
    fn first_child(&mut self) -> u32 {
        // SAFETY: the cursor is valid.
        unsafe { ts_tree_cursor_goto_first_child_internal(&mut self.raw) }
    }

    /// One step to the next sibling (out of hidden parents, never past a
    /// visible one): [`STEP_VISIBLE`], [`STEP_HIDDEN`], or 0.
    fn next_sibling(&mut self) -> u32 {
        // SAFETY: the cursor is valid.
        unsafe { ts_tree_cursor_goto_next_sibling_internal(&mut self.raw) }
    }

    /// Up to the visible parent; false at the root.
    fn parent(&mut self) -> bool {
        // SAFETY: the cursor is valid.
        unsafe { ffi::ts_tree_cursor_goto_parent(&mut self.raw) }
    }

    /// `TreeCursor::field_id` at the same place (0: none).
    fn field_id(&self) -> u16 {
        // SAFETY: the cursor is valid.
        unsafe { ffi::ts_tree_cursor_current_field_id(&self.raw) }
    }

    /// The query cursor's status of the current node, but the parent kind.
    fn status(&self) -> Status {
        let mut status = Status {
            supertypes: [0; MAX_SUPERTYPES],
            count: MAX_SUPERTYPES as u32,
            field: 0,
            later: false,
            later_named: false,
            later_field: false,
        };
        // SAFETY: the cursor is valid; all out-pointers are valid and
        // `count` holds the capacity of `supertypes`.
        unsafe {
            ts_tree_cursor_current_status(
                &self.raw,
                &mut status.field,
                &mut status.later,
                &mut status.later_named,
                &mut status.later_field,
                status.supertypes.as_mut_ptr(),
                &mut status.count,
            );
        }
        status.count = status.count.min(MAX_SUPERTYPES as u32);
        status
    }

    /// The kind of the parent as the query cursor reads it
    /// (`ts_tree_cursor_parent_node`); `None` at the root.
    fn parent_kind(&self) -> Option<u16> {
        // SAFETY: the cursor is valid.
        let parent = unsafe { ts_tree_cursor_parent_node(&self.raw) };
        if parent.tree.is_null() {
            return None;
        }
        // SAFETY: not null, so a node of the tree.
        Some(unsafe { tree_sitter::Node::from_raw(parent) }.kind_id())
    }

    /// The cursor's top entry, read from tree-sitter 0.26.13's `TreeCursor`
    /// (`tree_cursor.h`): `TSTreeCursor.id` is the stack's `contents`,
    /// `context[0]` its size, and an entry is { subtree pointer, Length
    /// position (bytes, row, column), child_index, structural_child_index,
    /// descendant_index }, 32 bytes. `None` unless the entry's subtree and
    /// start byte are those of `node`, the current node (`ts_node_new`
    /// copies both from the entry).
    fn top_entry(&self, node: &tree_sitter::Node<'tree>) -> Option<Entry> {
        const ENTRY: usize = 32;
        let c = &self.raw;
        let size = c.context[0] as usize;
        if size == 0 || c.id.is_null() {
            return None;
        }
        // SAFETY: `id` points to the cursor's `size` stack entries of
        // `ENTRY` bytes; the three fields read lie inside the last one.
        let (subtree, bytes, child_index) = unsafe {
            let e = (c.id as *const u8).add((size - 1) * ENTRY);
            (
                std::ptr::read_unaligned(e as *const usize),
                std::ptr::read_unaligned(e.add(8) as *const u32),
                std::ptr::read_unaligned(e.add(20) as *const u32),
            )
        };
        let raw = node.into_raw();
        (subtree == raw.id as usize && bytes == raw.context[0]).then_some(Entry {
            depth: size,
            child_index,
            subtree,
            start: bytes,
        })
    }

    /// The children array of `entry`'s subtree, as its data says: to be
    /// checked against an entered child ([`Children::check`]) before use.
    /// tree-sitter 0.26.13 (`subtree.h`): a `Subtree` is 8 bytes, an inline
    /// leaf (no children) when bit 0 is set, else a pointer to its
    /// `SubtreeHeapData`, whose `child_count` (u32) is at byte 36 and whose
    /// children array ends where it starts (`ts_subtree_children`).
    fn children(&self, entry: &Entry) -> Children {
        // SAFETY: `entry.subtree` is the id of a node of the tree (checked
        // in `top_entry`), the address of its `Subtree`: `ts_node__subtree`
        // reads it the same way.
        let value = unsafe { std::ptr::read_unaligned(entry.subtree as *const usize) };
        if value & 1 == 1 || value == 0 {
            return Children { base: 0, count: 0 };
        }
        // SAFETY: a `Subtree` that is not inline points to its
        // `SubtreeHeapData`, over 40 bytes long.
        let count = unsafe { std::ptr::read_unaligned((value + 36) as *const u32) };
        Children {
            base: value.wrapping_sub(8 * count as usize),
            count,
        }
    }

    /// Whether the subtree in slot `index` of `children` has an error
    /// (`ts_node_has_error`: a MISSING node or an error cost); false past
    /// the last slot.
    fn slot_has_error(&self, children: CheckedChildren, index: u32) -> bool {
        if index >= children.count {
            return false;
        }
        let node = ffi::TSNode {
            context: [0; 4],
            id: (children.base + 8 * index as usize) as *const std::ffi::c_void,
            tree: self.raw.tree as *const ffi::TSTree,
        };
        // SAFETY: the slots of a checked children array (`Children::check`)
        // hold `Subtree`s of the tree, which `'tree` borrows;
        // `ts_node_has_error` reads only the node's `Subtree`.
        unsafe { ffi::ts_node_has_error(node) }
    }
}

/// A subtree's children array as its data says, not yet trusted.
#[derive(Clone, Copy)]
struct Children {
    base: usize,
    count: u32,
}

/// A children array confirmed by the slot of an entered child: `count`
/// slots of 8 bytes from `base`.
#[derive(Clone, Copy)]
struct CheckedChildren {
    base: usize,
    count: u32,
}

impl Children {
    /// The array, if `entry`, an entered child of its subtree, lies where
    /// the array says its slot is: then `base` and `count` are the
    /// subtree's (another count would move the base).
    fn check(self, entry: &Entry) -> Option<CheckedChildren> {
        (entry.child_index < self.count
            && self.base.wrapping_add(8 * entry.child_index as usize) == entry.subtree)
            .then_some(CheckedChildren {
                base: self.base,
                count: self.count,
            })
    }
}

/// What `ts_tree_cursor_current_status` reports.
struct Status {
    supertypes: [u16; MAX_SUPERTYPES],
    /// At most [`MAX_SUPERTYPES`].
    count: u32,
    field: u16,
    later: bool,
    later_named: bool,
    later_field: bool,
}

impl Status {
    fn supertypes(&self) -> &[u16] {
        &self.supertypes[..self.count as usize]
    }

    fn facts(&self, parent_kind: Option<u16>) -> NodeFacts {
        let mut facts = NodeFacts {
            field_id: self.field,
            has_later_siblings: self.later,
            has_later_named_siblings: self.later_named,
            can_have_later_siblings_with_this_field: self.later_field,
            parent_kind,
            ..NodeFacts::default()
        };
        facts.set_supertypes(self.supertypes());
        facts
    }
}

/// What the query cursor sees of a live tree.
pub(crate) struct LiveFacts {
    /// Hidden nodes it enters, in its walk's order (outer before inner).
    pub hidden: Vec<HiddenNode>,
    /// The status of every visible node, in preorder.
    pub status: Vec<NodeFacts>,
    /// For every visible node, the grammar symbols of its hidden ancestors
    /// up to its visible parent, innermost first, as (offset, len) into `chains`.
    pub chain_of: Vec<(u32, u32)>,
    /// Concatenated chains.
    pub chains: Vec<u16>,
}

/// Walks `tree` as tree-sitter's query cursor does (every node it can enter,
/// hidden ones included) and records the hidden nodes and each visible
/// node's status, for the verifier (the encoder has [`walk`]). Iterative:
/// depth is bounded by memory only.
pub(crate) fn collect(tree: &tree_sitter::Tree) -> LiveFacts {
    let root = tree.root_node();
    let mut cursor = RawCursor::new(tree);
    let mut facts = LiveFacts {
        hidden: Vec::new(),
        status: Vec::with_capacity(root.descendant_count()),
        chain_of: Vec::with_capacity(root.descendant_count()),
        chains: Vec::new(),
    };
    // Open nodes: (visible end index, hidden symbol or None for visible).
    let mut open: Vec<(u32, Option<u16>)> = Vec::new();
    let mut next_visible = 0u32;
    let mut on_visible = true;
    loop {
        let node = cursor.node();
        let descendants = node.descendant_count() as u32;
        while open.last().is_some_and(|&(end, _)| end <= next_visible) {
            open.pop();
        }
        if on_visible {
            let status = cursor.status().facts(cursor.parent_kind());
            facts.status.push(status);
            let offset = facts.chains.len() as u32;
            for &(_, symbol) in open.iter().rev() {
                match symbol {
                    Some(s) => facts.chains.push(s),
                    None => break,
                }
            }
            facts
                .chain_of
                .push((offset, facts.chains.len() as u32 - offset));
            open.push((next_visible + descendants, None));
            next_visible += 1;
        } else {
            let end = next_visible + descendants.saturating_sub(1);
            facts.hidden.push(HiddenNode {
                first: next_visible,
                end,
                symbol: node.grammar_id(),
                start_byte: node.start_byte() as u32,
                end_byte: node.end_byte() as u32,
            });
            open.push((end, Some(node.grammar_id())));
        }
        match cursor.first_child() {
            STEP_VISIBLE => {
                on_visible = true;
                continue;
            }
            STEP_HIDDEN => {
                on_visible = false;
                continue;
            }
            _ => {}
        }
        loop {
            match cursor.next_sibling() {
                STEP_VISIBLE => {
                    on_visible = true;
                    break;
                }
                STEP_HIDDEN => {
                    on_visible = false;
                    break;
                }
                _ => {
                    if !cursor.parent() {
                        return facts;
                    }
                }
            }
        }
    }
}

/// Kind tables of a language, indexed by kind id. (Namedness is read from
/// each node: a kind id does not always tell it, see `walk`.)
pub(crate) struct KindTables {
    /// Supertype symbols.
    pub supertype: Vec<bool>,
}

impl KindTables {
    pub(crate) fn new(language: &tree_sitter::Language) -> Self {
        let count = language.node_kind_count();
        let supertype = (0..count)
            .map(|id| language.node_kind_is_supertype(id as u16))
            .collect();
        KindTables { supertype }
    }
}

/// Everything the encoder reads from a live tree, in one walk.
pub(crate) struct Walked<'tree> {
    /// Every visible node (what a `TreeCursor` walk visits), in preorder.
    pub nodes: Vec<FlatNode>,
    /// (node, lookahead character) of every ERROR leaf with a non-empty
    /// range, by node (`unexpected`'s values).
    pub error_chars: Vec<(u32, i32)>,
    /// Hidden nodes the query cursor enters, in its walk's order.
    pub hidden: Vec<HiddenNode>,
    /// The statuses that differ from what the visible tree and the hidden
    /// nodes imply (`facts::derive`), by node.
    pub overrides: Vec<FactOverride>,
    /// (nearest visible ancestor, start byte) of every node the walk
    /// reaches after passing over hidden children without visible
    /// descendants: where a hidden empty node may sit in front of it, which
    /// steers an empty-range query at that position (`range_exceptions`).
    pub skipped_before: Vec<(u32, u32)>,
    /// (visible parent, position) of every empty visible node but the root.
    pub empty_starts: Vec<(u32, u32)>,
    /// The live nodes of the parents in `skipped_before` and `empty_starts`.
    pub live_parents: HashMap<u32, tree_sitter::Node<'tree>>,
    /// Every visible node's id (`Node::id`), in preorder.
    pub ids: Vec<usize>,
    /// Visible depth (the root alone: 1) of the deepest node with children.
    pub depth: usize,
    /// Visible MISSING nodes.
    pub visible_missing: usize,
    /// Where a MISSING node may hide where the walk does not go (trees with
    /// errors only).
    pub hidden_missing: HiddenMissing<'tree>,
}

/// Where MISSING nodes the walk does not enter may be: in subtrees it passed
/// over that have an error.
#[derive(Debug, Default)]
pub(crate) struct HiddenMissing<'tree> {
    /// The nearest visible ancestor of every such subtree (preorder
    /// index and live node, in walk order, possibly repeated).
    pub owners: Vec<(u32, tree_sitter::Node<'tree>)>,
    /// Whether the children of a node with an error could not be read
    /// (then such subtrees may be anywhere).
    pub unknown: bool,
}

impl HiddenMissing<'_> {
    /// Whether there may be any.
    pub(crate) fn any(&self) -> bool {
        self.unknown || !self.owners.is_empty()
    }
}

/// Why [`walk`] failed.
pub(crate) enum WalkError {
    /// The cursor's stack did not read as the pinned tree-sitter lays it out.
    Stack,
    /// The child counts do not describe the walk.
    Shape,
}

/// A node on the cursor's stack.
struct Frame {
    /// `None` for a visible node, else the hidden node's grammar symbol.
    hidden: Option<u16>,
    /// The child index the next entered child would have if none were
    /// passed over.
    next_child: u32,
    /// Whether this node or a hidden node between it and its nearest
    /// visible ancestor-or-self (the root excepted) is an extra: only then
    /// can `ts_tree_cursor_parent_node` read another parent than the walk's.
    extra_chain: bool,
    /// Children to check for errors in passed-over slots (nodes with an
    /// error only).
    scan: Option<Scan>,
}

/// A node's children array, before and after an entered child confirmed it.
#[derive(Clone, Copy)]
enum Scan {
    Unchecked(Children),
    Checked(CheckedChildren),
}

/// A visible node on the cursor's stack, with its children's later-sibling
/// bookkeeping.
struct VisFrame<'tree> {
    index: u32,
    kind: u16,
    node: tree_sitter::Node<'tree>,
    /// Its visible children, and how many the walk entered so far.
    children: u32,
    seen: u32,
    /// Its last visible child so far and that child's live later-sibling bits.
    last: Option<(u32, u8)>,
    /// Where its children without a later named sibling so far start in
    /// the shared `pending` stack.
    pending_from: usize,
    /// Whether `node` is in `live_parents`.
    recorded: bool,
}

/// Live later-sibling bits of a status.
const LATER: u8 = 1;
const LATER_NAMED: u8 = 2;

/// The encoder's walk: tree-sitter's query-cursor walk (every node it can
/// enter, hidden ones included), reading at each visible node what a
/// `TreeCursor` walk reads (the two visit the same visible nodes in the same
/// order, at the same cursor stacks) and the query cursor's status, and
/// keeping only the statuses the visible tree does not imply. Iterative, no
/// allocation per node beyond the outputs: depth is bounded by memory only.
/// `unexpected` gives an ERROR leaf's lookahead character.
pub(crate) fn walk<'tree>(
    tree: &'tree tree_sitter::Tree,
    kinds: &KindTables,
    unexpected: &dyn Fn(&tree_sitter::Node<'tree>) -> i32,
) -> Result<Walked<'tree>, WalkError> {
    let root = tree.root_node();
    let tree_has_error = root.has_error();
    let is_supertype = |s: u16| {
        kinds
            .supertype
            .get(usize::from(s))
            .copied()
            .unwrap_or(false)
    };
    let mut cursor = RawCursor::new(tree);
    let mut out = Walked {
        nodes: Vec::with_capacity(root.descendant_count()),
        error_chars: Vec::new(),
        hidden: Vec::new(),
        overrides: Vec::new(),
        skipped_before: Vec::new(),
        empty_starts: Vec::new(),
        live_parents: HashMap::default(),
        ids: Vec::with_capacity(root.descendant_count()),
        depth: 0,
        visible_missing: 0,
        hidden_missing: HiddenMissing::default(),
    };
    // Later-sibling flips, found when a node's later siblings are known.
    let mut flips: Vec<(u32, u8)> = Vec::new();
    // The cursor's stack (`frames[d - 1]` at depth `d`), and its visible nodes.
    let mut frames: Vec<Frame> = Vec::new();
    let mut vis: Vec<VisFrame<'tree>> = Vec::new();
    // Visible children without a later named sibling so far (index, live
    // bits), one segment per open visible node.
    let mut pending: Vec<(u32, u8)> = Vec::new();
    let mut next_visible = 0u32;
    let mut on_visible = true;
    loop {
        let node = cursor.node();
        let entry = cursor.top_entry(&node).ok_or(WalkError::Stack)?;
        // A visible node without visible children has nothing the cursor
        // enters (`child_count` counts what `TreeCursor` visits).
        let mut leaf = false;
        // Close what the cursor left.
        if frames.len() + 1 < entry.depth {
            return Err(WalkError::Stack);
        }
        while frames.len() >= entry.depth {
            close(
                &mut frames,
                &mut vis,
                &mut pending,
                &mut flips,
                &cursor,
                &mut out.hidden_missing,
            );
        }
        let start = entry.start;
        if let Some(parent) = frames.last_mut() {
            // Children passed over before this entry (hidden, with nothing
            // visible in them) leave a gap in the child indices.
            if entry.child_index > parent.next_child
                && let Some(v) = vis.last_mut()
            {
                out.skipped_before.push((v.index, start));
                if !v.recorded {
                    v.recorded = true;
                    out.live_parents.insert(v.index, v.node);
                }
            }
            if let Some(scan) = &mut parent.scan {
                let checked = match *scan {
                    Scan::Unchecked(children) => children.check(&entry),
                    Scan::Checked(children) => Some(children).filter(|c| {
                        c.base.wrapping_add(8 * entry.child_index as usize) == entry.subtree
                    }),
                };
                match checked {
                    Some(children) => {
                        *scan = Scan::Checked(children);
                        if (parent.next_child..entry.child_index)
                            .any(|i| cursor.slot_has_error(children, i))
                            && let Some(v) = vis.last()
                        {
                            out.hidden_missing.owners.push((v.index, v.node));
                        }
                    }
                    None => {
                        out.hidden_missing.unknown = true;
                        parent.scan = None;
                    }
                }
            }
            parent.next_child = entry.child_index + 1;
        }
        let has_error = tree_has_error && node.has_error();
        let scan = (has_error && !out.hidden_missing.unknown)
            .then(|| Scan::Unchecked(cursor.children(&entry)));
        if on_visible {
            let index = next_visible;
            next_visible += 1;
            let kind = node.kind_id();
            let is_error = kind == crate::ERROR_KIND;
            let is_extra = node.is_extra();
            let mut flags = 0;
            // The node's own namedness, not its kind id's: a grammar whose
            // symbol map merges tokens of different namedness (vim's `*`
            // onto `wildcard`) has nodes whose kind id says otherwise.
            if node.is_named() {
                flags |= TF_NAMED;
            }
            if is_extra {
                flags |= TF_EXTRA;
            }
            // A tree without errors has no MISSING node and no node with
            // an error: skip two calls per node.
            if tree_has_error && node.is_missing() {
                flags |= TF_MISSING;
                out.visible_missing += 1;
            }
            if is_error {
                flags |= TF_ERROR;
            }
            if has_error {
                flags |= TF_HAS_ERROR;
            }
            let end = node.end_byte() as u32;
            let children = node.child_count() as u32;
            // The query cursor's status. Its field search visits every
            // node `ts_tree_cursor_current_field_id` visits, in the same
            // order with the same lookups (it goes on past extras, where
            // that one stops): no field there, none here.
            let status = cursor.status();
            let field = if status.field == 0 {
                0
            } else {
                cursor.field_id()
            };
            if is_error && children == 0 && end > start {
                out.error_chars.push((index, unexpected(&node)));
            }
            out.ids.push(entry.subtree);
            out.nodes.push(FlatNode {
                kind,
                field,
                flags,
                start,
                end,
                children,
            });

            // The status, against the one the stored tree implies.
            let live_bits = u8::from(status.later) | (u8::from(status.later_named) << 1);
            let mut mask = 0;
            if status.field != field {
                mask |= QF_FIELD;
            }
            if status.later_field {
                mask |= QF_LATER_FIELD;
            }
            // The derived supertypes: the hidden ancestors up to the
            // visible parent, innermost first, that are supertypes.
            let live_supertypes = status.supertypes();
            let mut same = true;
            let mut k = 0;
            for f in frames.iter().rev() {
                let Some(symbol) = f.hidden else { break };
                if k == MAX_SUPERTYPES {
                    break;
                }
                if is_supertype(symbol) {
                    if live_supertypes.get(k) != Some(&symbol) {
                        same = false;
                        break;
                    }
                    k += 1;
                }
            }
            if !same || k != live_supertypes.len() {
                mask |= QF_SUPERTYPES;
            }
            let mut parent_kind = 0;
            match vis.last_mut() {
                Some(parent) => {
                    parent.seen += 1;
                    // `ts_tree_cursor_parent_node` reads the walk's visible
                    // parent, with its kind, unless an extra lies between.
                    if frames.last().is_some_and(|f| f.extra_chain)
                        && let Some(live) = cursor.parent_kind()
                        && live != parent.kind
                    {
                        mask |= QF_PARENT_KIND;
                        parent_kind = live;
                    }
                    // The previous child has a later sibling: this one.
                    if let Some((previous, bits)) = parent.last
                        && bits & LATER == 0
                    {
                        flips.push((previous, QF_FLIP_LATER));
                    }
                    parent.last = Some((index, live_bits));
                    if flags & TF_NAMED != 0 {
                        for &(j, bits) in &pending[parent.pending_from..] {
                            if bits & LATER_NAMED == 0 {
                                flips.push((j, QF_FLIP_LATER_NAMED));
                            }
                        }
                        pending.truncate(parent.pending_from);
                    }
                    pending.push((index, live_bits));
                    if start == end {
                        out.empty_starts.push((parent.index, start));
                        if !parent.recorded {
                            parent.recorded = true;
                            out.live_parents.insert(parent.index, parent.node);
                        }
                    }
                }
                None => {
                    // The root: no sibling, no parent.
                    if live_bits & LATER != 0 {
                        mask |= QF_FLIP_LATER;
                    }
                    if live_bits & LATER_NAMED != 0 {
                        mask |= QF_FLIP_LATER_NAMED;
                    }
                    if let Some(live) = cursor.parent_kind() {
                        mask |= QF_PARENT_KIND;
                        parent_kind = live;
                    }
                }
            }
            if mask != 0 {
                let mut o = FactOverride {
                    node: index,
                    mask,
                    field: 0,
                    parent_kind,
                    supertypes: [0; MAX_SUPERTYPES],
                    supertype_count: 0,
                };
                if mask & QF_FIELD != 0 {
                    o.field = status.field;
                }
                if mask & QF_SUPERTYPES != 0 {
                    o.supertypes = status.supertypes;
                    o.supertype_count = status.count as u8;
                }
                out.overrides.push(o);
            }
            frames.push(Frame {
                hidden: None,
                next_child: 0,
                extra_chain: is_extra && entry.depth > 1,
                scan,
            });
            vis.push(VisFrame {
                index,
                kind,
                node,
                children,
                seen: 0,
                last: None,
                pending_from: pending.len(),
                recorded: false,
            });
            if children > 0 {
                out.depth = out.depth.max(vis.len());
            } else {
                leaf = true;
            }
        } else {
            let descendants = node.descendant_count() as u32;
            let symbol = node.grammar_id();
            out.hidden.push(HiddenNode {
                first: next_visible,
                end: next_visible + descendants.saturating_sub(1),
                symbol,
                start_byte: start,
                end_byte: node.end_byte() as u32,
            });
            let extra_chain = node.is_extra() || frames.last().is_some_and(|f| f.extra_chain);
            frames.push(Frame {
                hidden: Some(symbol),
                next_child: 0,
                extra_chain,
                scan,
            });
        }
        match if leaf { 0 } else { cursor.first_child() } {
            STEP_VISIBLE => {
                on_visible = true;
                continue;
            }
            STEP_HIDDEN => {
                on_visible = false;
                continue;
            }
            _ => {}
        }
        // On to the next sibling, climbing as needed. Past the last visible
        // child of a visible node there is none: go up without looking
        // (`vis[level - 1]` is the visible node whose subtree is done).
        let mut level = if on_visible { vis.len() } else { 0 };
        loop {
            if level >= 2
                && let Some(parent) = vis.get(level - 2)
                && parent.seen == parent.children
                && cursor.parent()
            {
                level -= 1;
                continue;
            }
            level = level.saturating_sub(1);
            match cursor.next_sibling() {
                STEP_VISIBLE => {
                    on_visible = true;
                    break;
                }
                STEP_HIDDEN => {
                    on_visible = false;
                    break;
                }
                _ => {
                    if !cursor.parent() {
                        // Every visible node, or the child counts did not
                        // describe the walk.
                        if out.nodes.len() != root.descendant_count() {
                            return Err(WalkError::Shape);
                        }
                        while !frames.is_empty() {
                            close(
                                &mut frames,
                                &mut vis,
                                &mut pending,
                                &mut flips,
                                &cursor,
                                &mut out.hidden_missing,
                            );
                        }
                        merge_flips(&mut out.overrides, flips);
                        return Ok(out);
                    }
                }
            }
        }
    }
}

/// Closes the top frame: its last visible child has no later sibling, its
/// children still pending have no later named one; its passed-over
/// trailing children are checked for errors.
fn close<'tree>(
    frames: &mut Vec<Frame>,
    vis: &mut Vec<VisFrame<'tree>>,
    pending: &mut Vec<(u32, u8)>,
    flips: &mut Vec<(u32, u8)>,
    cursor: &RawCursor<'_>,
    hidden_missing: &mut HiddenMissing<'tree>,
) {
    let Some(frame) = frames.pop() else { return };
    if let Some(scan) = frame.scan {
        let found = match scan {
            Scan::Checked(children) => {
                (frame.next_child..children.count).any(|i| cursor.slot_has_error(children, i))
            }
            // Without an entered child the array cannot be checked: assume
            // the worst when it has children.
            Scan::Unchecked(children) => children.count > 0,
        };
        // The frame's nearest visible ancestor-or-self: still on `vis`.
        if found && let Some(v) = vis.last() {
            hidden_missing.owners.push((v.index, v.node));
        }
    }
    if frame.hidden.is_some() {
        return;
    }
    let Some(v) = vis.pop() else { return };
    if let Some((last, bits)) = v.last
        && bits & LATER != 0
    {
        flips.push((last, QF_FLIP_LATER));
    }
    for &(j, bits) in &pending[v.pending_from..] {
        if bits & LATER_NAMED != 0 {
            flips.push((j, QF_FLIP_LATER_NAMED));
        }
    }
    pending.truncate(v.pending_from);
}

/// Adds the later-sibling flips (any order) to the overrides (by node).
fn merge_flips(overrides: &mut Vec<FactOverride>, mut flips: Vec<(u32, u8)>) {
    if flips.is_empty() {
        return;
    }
    flips.sort_unstable();
    let blank = |node| FactOverride {
        node,
        mask: 0,
        field: 0,
        parent_kind: 0,
        supertypes: [0; MAX_SUPERTYPES],
        supertype_count: 0,
    };
    let mut merged = Vec::with_capacity(overrides.len() + flips.len());
    let mut flips = flips.into_iter().peekable();
    for o in overrides.drain(..) {
        while let Some(&(node, _)) = flips.peek()
            && node < o.node
        {
            let mut f = blank(node);
            while let Some(&(n, mask)) = flips.peek()
                && n == node
            {
                f.mask |= mask;
                flips.next();
            }
            merged.push(f);
        }
        let mut o = o;
        while let Some(&(n, mask)) = flips.peek()
            && n == o.node
        {
            o.mask |= mask;
            flips.next();
        }
        merged.push(o);
    }
    while let Some(&(node, _)) = flips.peek() {
        let mut f = blank(node);
        while let Some(&(n, mask)) = flips.peek()
            && n == node
        {
            f.mask |= mask;
            flips.next();
        }
        merged.push(f);
    }
    *overrides = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::derive;

    /// What the walk computes, read the plain way: a `TreeCursor` walk for
    /// the visible nodes, [`collect`] for the statuses, [`derive`] for what
    /// the stored tree implies, and each difference as an override.
    fn plain(tree: &tree_sitter::Tree) -> (Vec<FlatNode>, Vec<HiddenNode>, Vec<FactOverride>) {
        let language = tree.language();
        let has_error = tree.root_node().has_error();
        let mut nodes = Vec::new();
        let mut cursor = tree.walk();
        'walk: loop {
            let n = cursor.node();
            let mut flags = 0;
            if n.is_named() {
                flags |= TF_NAMED;
            }
            if n.is_extra() {
                flags |= TF_EXTRA;
            }
            if has_error && n.is_missing() {
                flags |= TF_MISSING;
            }
            if n.kind_id() == crate::ERROR_KIND {
                flags |= TF_ERROR;
            }
            if has_error && n.has_error() {
                flags |= TF_HAS_ERROR;
            }
            nodes.push(FlatNode {
                kind: n.kind_id(),
                field: cursor.field_id().map_or(0, |f| f.get()),
                flags,
                start: n.start_byte() as u32,
                end: n.end_byte() as u32,
                children: n.child_count() as u32,
            });
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    break 'walk;
                }
            }
        }
        // Parents and later siblings, from the child counts.
        let mut parent = vec![None; nodes.len()];
        let mut later = vec![(false, false); nodes.len()];
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        let mut open: Vec<(usize, u32)> = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            while open.last().is_some_and(|t| t.1 == 0) {
                open.pop();
            }
            if let Some(top) = open.last_mut() {
                top.1 -= 1;
                parent[i] = Some(top.0);
                children[top.0].push(i);
            }
            if n.children > 0 {
                open.push((i, n.children));
            }
        }
        for c in &children {
            for (k, &i) in c.iter().enumerate() {
                let rest = &c[k + 1..];
                later[i] = (
                    !rest.is_empty(),
                    rest.iter().any(|&j| nodes[j].flags & TF_NAMED != 0),
                );
            }
        }
        let live = collect(tree);
        assert_eq!(live.status.len(), nodes.len());
        let mut overrides = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            let (offset, len) = live.chain_of[i];
            let chain = &live.chains[offset as usize..(offset + len) as usize];
            let derived = derive(
                n.field,
                later[i].0,
                later[i].1,
                parent[i].map(|p| nodes[p].kind),
                chain.iter().copied(),
                &|s| language.node_kind_is_supertype(s),
            );
            let status = &live.status[i];
            let mut o = FactOverride {
                node: i as u32,
                mask: 0,
                field: 0,
                parent_kind: 0,
                supertypes: [0; MAX_SUPERTYPES],
                supertype_count: 0,
            };
            if status.field_id != derived.field_id {
                o.mask |= QF_FIELD;
                o.field = status.field_id;
            }
            if status.parent_kind != derived.parent_kind
                && let Some(kind) = status.parent_kind
            {
                o.mask |= QF_PARENT_KIND;
                o.parent_kind = kind;
            }
            if status.has_later_siblings != derived.has_later_siblings {
                o.mask |= QF_FLIP_LATER;
            }
            if status.has_later_named_siblings != derived.has_later_named_siblings {
                o.mask |= QF_FLIP_LATER_NAMED;
            }
            if status.can_have_later_siblings_with_this_field {
                o.mask |= QF_LATER_FIELD;
            }
            if status.supertypes() != derived.supertypes() {
                o.mask |= QF_SUPERTYPES;
                o.supertypes = status.supertypes;
                o.supertype_count = status.supertype_count;
            }
            if o.mask != 0 {
                overrides.push(o);
            }
        }
        (nodes, live.hidden, overrides)
    }

    fn check(id: &str, source: &[u8]) {
        let g = cst_grammars::by_id(id).expect("a grammar of the registry");
        let mut parser = g.parser().expect("a grammar compiled in");
        let tree = parser.parse(source, None).expect("a tree");
        let kinds = KindTables::new(&tree.language());
        let Ok(walked) = walk(&tree, &kinds, &|_| 0) else {
            panic!("{id}: the walk failed");
        };
        let (nodes, hidden, overrides) = plain(&tree);
        assert!(walked.nodes == nodes, "{id}: visible nodes differ");
        assert!(walked.hidden == hidden, "{id}: hidden nodes differ");
        assert!(
            walked.overrides == overrides,
            "{id}: status overrides differ"
        );
        assert!(
            walked.hidden_missing.any() || !tree.root_node().has_error() || {
                // No MISSING node the walk passed over: tree-sitter prints
                // only the visible ones.
                let missing = nodes.iter().filter(|n| n.flags & TF_MISSING != 0).count();
                tree.root_node().to_sexp().matches("(MISSING ").count() == missing
            },
            "{id}: a MISSING node was passed over unnoticed"
        );
    }

    #[test]
    fn the_walk_reads_what_the_plain_walks_read() {
        let samples =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora/samples");
        let mut checked = 0;
        for g in cst_grammars::all() {
            if g.language().is_err() {
                continue;
            }
            let Ok(dir) = std::fs::read_dir(samples.join(g.id())) else {
                continue;
            };
            for file in dir.flatten() {
                let source = std::fs::read(file.path()).expect("a readable sample");
                check(g.id(), &source);
                checked += 1;
            }
        }
        assert!(checked >= 10, "only {checked} samples");
        // Trees with errors, MISSING nodes (hidden ones too), extras in odd
        // places and empty nodes.
        for (id, source) in [
            (
                "rust",
                &b"fn main() { let x = ; if { } }\n struct { @@@ }"[..],
            ),
            ("rust", b"fn f( {"),
            ("rust", b"fn f() { let x = 1 }"),
            (
                "c",
                b"int main( { return 0 }\n#define X(a) a\nstruct s { int a",
            ),
            ("c", b"#ifndef A\n#define A\nvoid f(void) { g(; }\n#endif\n"),
            ("python", b"def f(:\n  return [1, 2\nclass C:\n"),
            ("python", b"if x:\n    pass\nelse:\n    y = (1,\n"),
            ("javascript", b"function f( { return 1 }\nlet x = {a: 1, b"),
            (
                "css",
                b"a b { color: red; }\n.c > d e { x: 1 }\n@media (x { }",
            ),
            ("go", b"package p\nfunc f() { x := []int{1, 2\n}\n"),
            ("json", b"{\"a\": [1, 2, {\"b\": }]}"),
        ] {
            check(id, source);
        }
    }
}
