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
    };
    // Open nodes: (visible end index, hidden symbol or None for visible).
    let mut open: Vec<(u32, Option<u16>)> = Vec::new();
    let mut next_visible = 0u32;
    let mut on_visible = true;
    loop {
        // SAFETY: the cursor is valid and points into `tree`.
        let raw = unsafe { ffi::ts_tree_cursor_current_node(&cursor.0) };
        // SAFETY: a node of `tree`, used only while `tree` is borrowed.
        let node = unsafe { tree_sitter::Node::from_raw(raw) };
        let descendants = node.descendant_count() as u32;
        while open.last().is_some_and(|&(end, _)| end <= next_visible) {
            open.pop();
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
