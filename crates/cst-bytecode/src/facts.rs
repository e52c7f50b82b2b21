//! Query facts: what tree-sitter's query cursor sees of a tree that the
//! public node API hides (format version 3, docs/FORMAT.md "Query facts").
//!
//! tree-sitter's `QueryCursor` walks hidden nodes too (those with visible
//! descendants): their ranges steer its walk under a byte or point range,
//! repetition nodes are handled apart, and a query step on a supertype
//! matches a node whose hidden ancestors (up to its visible parent) include
//! that supertype. For every visible node the cursor also reads a status
//! (`ts_tree_cursor_current_status`): a field id, whether later siblings
//! exist, whether a later sibling can have the same field, and the
//! supertypes. A tree stores the hidden nodes, and only the statuses that
//! differ from what [`derive`] computes from the visible tree and the hidden
//! nodes.

/// At most this many supertypes are recorded per node, as tree-sitter does.
pub const MAX_SUPERTYPES: usize = 8;

/// A hidden node the query cursor enters: a node of a hidden kind with at
/// least one visible descendant. Its visible descendants are the visible
/// nodes `first_visible()..visible_end()` (preorder indices): whole subtrees
/// of consecutive children of one visible parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HiddenNode {
    pub(crate) first: u32,
    pub(crate) end: u32,
    pub(crate) symbol: u16,
    pub(crate) start_byte: u32,
    pub(crate) end_byte: u32,
}

impl HiddenNode {
    /// Preorder index of its first visible descendant.
    pub fn first_visible(&self) -> usize {
        self.first as usize
    }
    /// One past the preorder index of its last visible descendant.
    pub fn visible_end(&self) -> usize {
        self.end as usize
    }
    /// Its symbol as the grammar has it (`ts_node_grammar_symbol`; hidden
    /// nodes have no alias).
    pub fn grammar_symbol(&self) -> u16 {
        self.symbol
    }
    /// Start byte.
    pub fn start_byte(&self) -> usize {
        self.start_byte as usize
    }
    /// End byte (exclusive).
    pub fn end_byte(&self) -> usize {
        self.end_byte as usize
    }
}

/// The status tree-sitter's query cursor computes for a visible node
/// (`ts_tree_cursor_current_status`), for a walk started at the tree's root
/// or at any ancestor of the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeFacts {
    /// The field id, found walking up through hidden ancestors.
    pub field_id: u16,
    /// A later sibling exists (among the visible parent's flattened children).
    pub has_later_siblings: bool,
    /// A later named sibling exists.
    pub has_later_named_siblings: bool,
    /// The grammar lets a later sibling have the same field (a static fact of
    /// the production; false when there is no field).
    pub can_have_later_siblings_with_this_field: bool,
    /// The kind of the parent as the query cursor sees it
    /// (`ts_tree_cursor_parent_node`), when the walk starts above the
    /// parent; `None` for the root. Usually the visible parent's kind; an
    /// extra parent in an aliased slot reads as the alias.
    pub parent_kind: Option<u16>,
    pub(crate) supertypes: [u16; MAX_SUPERTYPES],
    pub(crate) supertype_count: u8,
}

impl NodeFacts {
    /// The supertypes: the node's kind if it is one, then its hidden
    /// supertype ancestors up to its visible parent, innermost first.
    pub fn supertypes(&self) -> &[u16] {
        &self.supertypes[..usize::from(self.supertype_count)]
    }

    pub(crate) fn set_supertypes(&mut self, list: &[u16]) {
        let n = list.len().min(MAX_SUPERTYPES);
        self.supertypes = [0; MAX_SUPERTYPES];
        self.supertypes[..n].copy_from_slice(&list[..n]);
        self.supertype_count = n as u8;
    }
}

/// A stored status override of one node (see [`derive`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FactOverride {
    pub node: u32,
    pub mask: u8,
    pub field: u16,
    pub parent_kind: u16,
    pub supertypes: [u16; MAX_SUPERTYPES],
    pub supertype_count: u8,
}

/// The status as the stored tree implies it, before overrides: the node's
/// own field id, later siblings as the visible children show them, no
/// later sibling with the same field, and the hidden ancestors (innermost
/// first) whose grammar symbol is a supertype.
pub(crate) fn derive(
    field_id: u16,
    has_later_siblings: bool,
    has_later_named_siblings: bool,
    parent_kind: Option<u16>,
    hidden_chain: impl Iterator<Item = u16>,
    is_supertype: &dyn Fn(u16) -> bool,
) -> NodeFacts {
    let mut facts = NodeFacts {
        field_id,
        has_later_siblings,
        has_later_named_siblings,
        parent_kind,
        ..NodeFacts::default()
    };
    for symbol in hidden_chain {
        if usize::from(facts.supertype_count) == MAX_SUPERTYPES {
            break;
        }
        if is_supertype(symbol) {
            facts.supertypes[usize::from(facts.supertype_count)] = symbol;
            facts.supertype_count += 1;
        }
    }
    facts
}

/// Applies a stored override to derived facts.
pub(crate) fn apply(mut facts: NodeFacts, o: &FactOverride) -> NodeFacts {
    use crate::format::{
        QF_FIELD, QF_FLIP_LATER, QF_FLIP_LATER_NAMED, QF_LATER_FIELD, QF_PARENT_KIND, QF_SUPERTYPES,
    };
    if o.mask & QF_FIELD != 0 {
        facts.field_id = o.field;
    }
    if o.mask & QF_PARENT_KIND != 0 {
        facts.parent_kind = Some(o.parent_kind);
    }
    if o.mask & QF_FLIP_LATER != 0 {
        facts.has_later_siblings = !facts.has_later_siblings;
    }
    if o.mask & QF_FLIP_LATER_NAMED != 0 {
        facts.has_later_named_siblings = !facts.has_later_named_siblings;
    }
    facts.can_have_later_siblings_with_this_field = o.mask & QF_LATER_FIELD != 0;
    if o.mask & QF_SUPERTYPES != 0 {
        facts.set_supertypes(&o.supertypes[..usize::from(o.supertype_count)]);
    }
    facts
}
