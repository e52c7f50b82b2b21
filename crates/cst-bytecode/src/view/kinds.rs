//! Where the nodes of given kinds are, read from the types section without
//! a walk, and passing over a subtree in [`Events`]: what a query engine
//! needs to visit only the subtrees a pattern can start in.

use super::{Events, Node, TreeView};
use crate::layout::sec;
use crate::layout::{PALETTE_STRIDE, TYPE_ESCAPE};
use crate::succinct::u16_at;

impl TreeView {
    /// For each of `kinds` (alias-aware kind ids, as [`Node::kind_id`];
    /// sorted), whether some node of the tree is of it: read from the
    /// palette of node types in one pass, without looking at a node.
    pub fn kinds_present(&self, kinds: &[u16]) -> Vec<bool> {
        let mut present = vec![false; kinds.len()];
        let (Some(&lo), Some(&hi)) = (kinds.first(), kinds.last()) else {
            return present;
        };
        let mut missing = kinds.len();
        for entry in self.sec(sec::PALETTE).chunks_exact(PALETTE_STRIDE) {
            let kind = u16_at(entry, 0);
            if kind < lo || kind > hi {
                continue;
            }
            if let Ok(i) = kinds.binary_search(&kind)
                && !present[i]
            {
                present[i] = true;
                missing -= 1;
                if missing == 0 {
                    break;
                }
            }
        }
        present
    }

    /// The preorder indices of the nodes of `node`'s subtree (`node`
    /// included) whose kind (alias-aware, as [`Node::kind_id`]) is in
    /// `kinds`, which must be sorted, in preorder.
    ///
    /// Reads one byte per node (the node's type) and each type of the
    /// palette once: no decoding of the shape or the positions. `None` as
    /// soon as more than `limit` are found.
    pub fn nodes_of_kinds(&self, node: Node<'_>, kinds: &[u16], limit: usize) -> Option<Vec<u32>> {
        let mut out = Vec::new();
        if kinds.is_empty() {
            return Some(out);
        }
        let palette = self.sec(sec::PALETTE);
        let wanted: Vec<bool> = (0..usize::from(TYPE_ESCAPE))
            .map(|t| {
                let at = t * PALETTE_STRIDE;
                at + 2 <= palette.len() && kinds.binary_search(&u16_at(palette, at)).is_ok()
            })
            .collect();
        let first = node.id as usize;
        let end = first + node.descendant_count();
        let types = self.sec(sec::TYPES);
        let Some(types) = types.get(first..end.min(types.len())) else {
            return Some(out);
        };
        for (i, &t) in types.iter().enumerate() {
            let id = (first + i) as u32;
            let hit = if t == TYPE_ESCAPE {
                kinds.binary_search(&self.node_type(id).0).is_ok()
            } else {
                wanted[usize::from(t)]
            };
            if hit {
                if out.len() == limit {
                    return None;
                }
                out.push(id);
            }
        }
        Some(out)
    }
}

/// Subtrees of more positions than this are passed over with a seek.
const SEEK_OVER: usize = 1024;

impl Events<'_> {
    /// Passes over the descendants and the close of `node`, the node of the
    /// [`Event::Open`](super::Event::Open) just returned, and returns its
    /// end byte (what its [`Event::Close`](super::Event::Close) would have
    /// held) and its [descendant count](Node::descendant_count). The walk
    /// goes on with the node after it. Given another node, it passes over
    /// nothing and returns `node`'s end byte and descendant count.
    pub fn skip_subtree(&mut self, node: Node<'_>) -> (u32, usize) {
        self.skip_subtree_closing(node, None)
    }

    /// As [`Events::skip_subtree`], for a node whose
    /// [descendant count](Node::descendant_count) the caller has read
    /// already: its close is not searched for again.
    pub fn skip_subtree_sized(&mut self, node: Node<'_>, size: usize) -> (u32, usize) {
        // A subtree of `size` nodes closes `2 · size − 1` positions after
        // its open (a shape that does not balance gets a bounded close).
        let close = (node.pos as usize).saturating_add(size.max(1).saturating_mul(2) - 1);
        self.skip_subtree_closing(node, Some(close))
    }

    fn skip_subtree_closing(&mut self, node: Node<'_>, close: Option<usize>) -> (u32, usize) {
        let p = node.pos as usize;
        if p + 1 != self.pos || node.id + 1 != self.id {
            return (node.end_byte() as u32, node.descendant_count());
        }
        let c = close.unwrap_or_else(|| node.close()).min(self.end);
        // Counting the ones of a few words of the high bits is cheaper
        // than a seek.
        if c - p <= SEEK_OVER {
            self.values.pass(c - p - 1);
        } else {
            self.values = self.tree.positions().iter_from(c);
        }
        let end = self.values.next().unwrap_or(0);
        self.pos = c + 1;
        let size = (c - p).div_ceil(2).max(1);
        self.id = node.id + size as u32;
        (end, size)
    }
}
