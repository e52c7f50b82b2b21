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
#![allow(unsafe_code)]

use tree_sitter::ffi;

use crate::facts::{HiddenNode, MAX_SUPERTYPES, NodeFacts};

/// `TreeCursorStep` (tree_cursor.h).
const STEP_HIDDEN: u32 = 1;
const STEP_VISIBLE: u32 = 2;

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
}

/// What the query cursor sees of a live tree.
pub(crate) struct LiveFacts {
    /// Hidden nodes it enters, in its walk's order (outer before inner).
    pub hidden: Vec<HiddenNode>,
    /// (nearest visible ancestor, start byte) of every node the walk
    /// reaches after passing over hidden children without visible
    /// descendants: where a hidden empty node may sit in front of it, which
    /// steers an empty-range query at that position (`range_exceptions`).
    pub skipped_before: Vec<(u32, u32)>,
    /// Whether the cursor's stack read as the pinned tree-sitter lays it
    /// out at every step (`skipped_before` is complete only then).
    pub layout_ok: bool,
    /// The status of every visible node, in preorder.
    pub status: Vec<NodeFacts>,
    /// For every visible node, the grammar symbols of its hidden ancestors
    /// up to its visible parent, innermost first, as (offset, len) into `chains`.
    pub chain_of: Vec<(u32, u32)>,
    /// Concatenated chains.
    pub chains: Vec<u16>,
}

/// Owns a raw cursor and deletes it.
struct RawCursor(ffi::TSTreeCursor);

impl Drop for RawCursor {
    fn drop(&mut self) {
        // SAFETY: the cursor was made by `ts_tree_cursor_new` and is deleted once.
        unsafe { ffi::ts_tree_cursor_delete(&mut self.0) }
    }
}

/// Walks `tree` as tree-sitter's query cursor does (every node it can enter,
/// hidden ones included) and records the hidden nodes and each visible
/// node's status. Iterative: depth is bounded by memory only.
pub(crate) fn collect(tree: &tree_sitter::Tree) -> LiveFacts {
    let root = tree.root_node();
    // SAFETY: the node belongs to `tree`, which outlives the cursor.
    let mut cursor = RawCursor(unsafe { ffi::ts_tree_cursor_new(root.into_raw()) });
    let mut facts = LiveFacts {
        hidden: Vec::new(),
        status: Vec::with_capacity(root.descendant_count()),
        chain_of: Vec::with_capacity(root.descendant_count()),
        chains: Vec::new(),
        skipped_before: Vec::new(),
        layout_ok: true,
    };
    // Child index of the last entry visited at each depth of the stack.
    let mut last_index: Vec<Option<u32>> = Vec::new();
    // Open nodes: (visible end index, hidden symbol or None for visible,
    // visible index of a visible one).
    let mut open: Vec<(u32, Option<u16>, u32)> = Vec::new();
    let mut next_visible = 0u32;
    let mut on_visible = true;
    loop {
        // SAFETY: the cursor is valid and points into `tree`.
        let raw = unsafe { ffi::ts_tree_cursor_current_node(&cursor.0) };
        // SAFETY: a node of `tree`, used only while `tree` is borrowed.
        let node = unsafe { tree_sitter::Node::from_raw(raw) };
        let descendants = node.descendant_count() as u32;
        while open.last().is_some_and(|&(end, _, _)| end <= next_visible) {
            open.pop();
        }
        // Children passed over before this entry (hidden, with nothing
        // visible in them) leave a gap in the child indices.
        // SAFETY: the cursor is valid (see `top_entry`).
        match unsafe { top_entry(&cursor.0) } {
            Some((depth, child_index, bytes, subtree))
                if subtree == raw.id && bytes == raw.context[0] =>
            {
                if depth >= 2 {
                    let expected = last_index
                        .get(depth)
                        .copied()
                        .flatten()
                        .map_or(0, |i| i + 1);
                    if child_index > expected
                        && let Some(&(_, _, parent)) = open.iter().rev().find(|e| e.1.is_none())
                    {
                        facts
                            .skipped_before
                            .push((parent, node.start_byte() as u32));
                    }
                }
                last_index.resize(depth + 1, None);
                last_index[depth] = Some(child_index);
            }
            _ => facts.layout_ok = false,
        }
        if on_visible {
            let mut field = 0u16;
            let (mut later, mut later_named, mut later_field) = (false, false, false);
            let mut supertypes = [0u16; MAX_SUPERTYPES];
            let mut count = MAX_SUPERTYPES as u32;
            // SAFETY: all out-pointers are valid; `count` holds the capacity.
            unsafe {
                ts_tree_cursor_current_status(
                    &cursor.0,
                    &mut field,
                    &mut later,
                    &mut later_named,
                    &mut later_field,
                    supertypes.as_mut_ptr(),
                    &mut count,
                );
            }
            let mut status = NodeFacts {
                field_id: field,
                has_later_siblings: later,
                has_later_named_siblings: later_named,
                can_have_later_siblings_with_this_field: later_field,
                ..NodeFacts::default()
            };
            status.set_supertypes(&supertypes[..(count as usize).min(MAX_SUPERTYPES)]);
            // SAFETY: the cursor is valid; a null node has no tree.
            let parent = unsafe { ts_tree_cursor_parent_node(&cursor.0) };
            if !parent.tree.is_null() {
                // SAFETY: a node of `tree`.
                status.parent_kind = Some(unsafe { tree_sitter::Node::from_raw(parent) }.kind_id());
            }
            facts.status.push(status);
            let offset = facts.chains.len() as u32;
            for &(_, symbol, _) in open.iter().rev() {
                match symbol {
                    Some(s) => facts.chains.push(s),
                    None => break,
                }
            }
            facts
                .chain_of
                .push((offset, facts.chains.len() as u32 - offset));
            open.push((next_visible + descendants, None, next_visible));
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
            open.push((end, Some(node.grammar_id()), u32::MAX));
        }
        // SAFETY (all calls below): the cursor is valid.
        match unsafe { ts_tree_cursor_goto_first_child_internal(&mut cursor.0) } {
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
            match unsafe { ts_tree_cursor_goto_next_sibling_internal(&mut cursor.0) } {
                STEP_VISIBLE => {
                    on_visible = true;
                    break;
                }
                STEP_HIDDEN => {
                    on_visible = false;
                    break;
                }
                _ => {
                    if !unsafe { ffi::ts_tree_cursor_goto_parent(&mut cursor.0) } {
                        return facts;
                    }
                }
            }
        }
    }
}

/// (stack depth, child index, start byte, subtree) of the cursor's top
/// entry, read from tree-sitter 0.26.13's `TreeCursor` (`tree_cursor.h`):
/// `TSTreeCursor.id` is the stack's `contents`, `context[0]` its size, and
/// an entry is { subtree pointer, Length position (bytes, row, column),
/// child_index, structural_child_index, descendant_index }, 32 bytes. The
/// caller checks the subtree and the start against the current node's
/// (`ts_node_new` copies both from the entry).
///
/// # Safety
///
/// `c` must be a live cursor.
unsafe fn top_entry(c: &ffi::TSTreeCursor) -> Option<(usize, u32, u32, *const std::ffi::c_void)> {
    const ENTRY: usize = 32;
    let size = c.context[0] as usize;
    if size == 0 || c.id.is_null() {
        return None;
    }
    // SAFETY: `id` points to the cursor's `size` stack entries.
    unsafe {
        let e = (c.id as *const u8).add((size - 1) * ENTRY);
        let subtree = std::ptr::read_unaligned(e as *const *const std::ffi::c_void);
        let bytes = std::ptr::read_unaligned(e.add(8) as *const u32);
        let child_index = std::ptr::read_unaligned(e.add(20) as *const u32);
        Some((size, child_index, bytes, subtree))
    }
}
