//! One view over the two kinds of trees a document has: the stored tree
//! (a `cst::Tree`, read in place; a document opened with the text the
//! store holds is answered from it, nothing parsed) and the live tree of
//! an open buffer (`tree_sitter::Tree`, after the client's edits). The
//! handlers are written once over [`SyntaxNode`] and [`Snapshot::captures`].

use std::ops::Range;
use std::sync::Arc;

use cst_workspace::LineIndex;
use cst_workspace::cst::{self, bytecode, grammars::Grammar, tree_sitter};

/// What the handlers read of a node; both trees' nodes have it.
pub(crate) trait SyntaxNode: Copy {
    fn kind(&self) -> &str;
    fn is_named(&self) -> bool;
    fn is_error(&self) -> bool;
    fn is_missing(&self) -> bool;
    fn has_error(&self) -> bool;
    fn start_byte(&self) -> usize;
    fn end_byte(&self) -> usize;
    fn parent(&self) -> Option<Self>;
    /// The children, in order (zero-width MISSING ones included: walked
    /// with a cursor, as `next_sibling` can step over them).
    fn children(&self) -> Vec<Self>;
    fn descendant_for_byte_range(&self, start: usize, end: usize) -> Option<Self>;
}

impl<'t> SyntaxNode for tree_sitter::Node<'t> {
    fn kind(&self) -> &str {
        tree_sitter::Node::kind(self)
    }
    fn is_named(&self) -> bool {
        tree_sitter::Node::is_named(self)
    }
    fn is_error(&self) -> bool {
        tree_sitter::Node::is_error(self)
    }
    fn is_missing(&self) -> bool {
        tree_sitter::Node::is_missing(self)
    }
    fn has_error(&self) -> bool {
        tree_sitter::Node::has_error(self)
    }
    fn start_byte(&self) -> usize {
        tree_sitter::Node::start_byte(self)
    }
    fn end_byte(&self) -> usize {
        tree_sitter::Node::end_byte(self)
    }
    fn parent(&self) -> Option<Self> {
        tree_sitter::Node::parent(self)
    }
    fn children(&self) -> Vec<Self> {
        let mut cursor = self.walk();
        tree_sitter::Node::children(self, &mut cursor).collect()
    }
    fn descendant_for_byte_range(&self, start: usize, end: usize) -> Option<Self> {
        tree_sitter::Node::descendant_for_byte_range(self, start, end)
    }
}

impl<'t> SyntaxNode for bytecode::Node<'t> {
    fn kind(&self) -> &str {
        bytecode::Node::kind(self)
    }
    fn is_named(&self) -> bool {
        bytecode::Node::is_named(self)
    }
    fn is_error(&self) -> bool {
        bytecode::Node::is_error(self)
    }
    fn is_missing(&self) -> bool {
        bytecode::Node::is_missing(self)
    }
    fn has_error(&self) -> bool {
        bytecode::Node::has_error(self)
    }
    fn start_byte(&self) -> usize {
        bytecode::Node::start_byte(self)
    }
    fn end_byte(&self) -> usize {
        bytecode::Node::end_byte(self)
    }
    fn parent(&self) -> Option<Self> {
        bytecode::Node::parent(self)
    }
    fn children(&self) -> Vec<Self> {
        bytecode::Node::children(self).collect()
    }
    fn descendant_for_byte_range(&self, start: usize, end: usize) -> Option<Self> {
        bytecode::Node::descendant_for_byte_range(self, start, end)
    }
}

/// The tree of one version of a document.
#[derive(Clone)]
pub(crate) enum Tree {
    /// The store's tree of exactly this text.
    Stored(Box<cst::Tree>),
    /// The open buffer's live tree.
    Live(tree_sitter::Tree),
}

/// One version of a document, as requests read it (cheap to share).
pub(crate) struct Snapshot {
    pub(crate) version: i32,
    pub(crate) text: Arc<[u8]>,
    pub(crate) lines: Arc<LineIndex>,
    pub(crate) grammar: &'static Grammar,
    pub(crate) tree: Tree,
}

/// One capture of a query: its node's bytes, the capture index and the
/// pattern index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Capture {
    pub(crate) range: (usize, usize),
    pub(crate) capture: u32,
    pub(crate) pattern: usize,
}

/// Runs `f` on the root node of either tree.
macro_rules! with_root {
    ($snap:expr, |$root:ident| $body:expr) => {
        match &$snap.tree {
            $crate::syntax::Tree::Stored(t) => {
                let $root = t.root();
                $body
            }
            $crate::syntax::Tree::Live(t) => {
                let $root = t.root_node();
                $body
            }
        }
    };
}
pub(crate) use with_root;

impl Snapshot {
    /// The captures of `query` (compiled for both engines) over bytes
    /// `range`, in the query cursor's capture order.
    pub(crate) fn captures(
        &self,
        query: &CompiledQuery,
        range: Range<usize>,
    ) -> Result<Vec<Capture>, String> {
        let mut out = Vec::new();
        match &self.tree {
            Tree::Stored(t) => {
                let mut cursor = cst::query::QueryCursor::new();
                cursor.set_byte_range(range);
                let mut caps = cursor
                    .captures(&query.stored, t.root(), &self.text[..])
                    .map_err(|e| e.to_string())?;
                while let Some((m, i)) = caps.next_capture() {
                    let c = &m.captures[i];
                    out.push(Capture {
                        range: (c.node.start_byte(), c.node.end_byte()),
                        capture: c.index,
                        pattern: m.pattern_index,
                    });
                }
            }
            Tree::Live(t) => {
                use tree_sitter::StreamingIterator;
                let mut cursor = tree_sitter::QueryCursor::new();
                cursor.set_byte_range(range);
                let mut caps = cursor.captures(&query.live, t.root_node(), &self.text[..]);
                while let Some((m, i)) = caps.next() {
                    let c = &m.captures[*i];
                    out.push(Capture {
                        range: (c.node.start_byte(), c.node.end_byte()),
                        capture: c.index,
                        pattern: m.pattern_index,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// A query compiled for the stored trees (cst-query) and the live ones
/// (tree-sitter).
pub(crate) struct CompiledQuery {
    pub(crate) stored: Arc<cst::query::Query>,
    pub(crate) live: tree_sitter::Query,
}

impl CompiledQuery {
    pub(crate) fn capture_names(&self) -> &[&str] {
        self.live.capture_names()
    }
}
