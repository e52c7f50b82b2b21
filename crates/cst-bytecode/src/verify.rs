//! Node-by-node comparison of a decoded tree with the live tree (feature `tree-sitter`).

use std::fmt;

use crate::facts::HiddenNode;
use crate::view::{Point, TreeView};

/// The first difference between a live tree and its decoded form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Preorder index of the node.
    pub node: usize,
    /// Path from the root: `kind[child index]` steps.
    pub path: String,
    /// The attribute that differs.
    pub what: &'static str,
    /// The live tree's value.
    pub live: String,
    /// The decoded tree's value.
    pub decoded: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node {} at {}: {} differs (live {}, decoded {})",
            self.node, self.path, self.what, self.live, self.decoded
        )
    }
}

impl std::error::Error for Mismatch {}

fn point(p: tree_sitter::Point) -> Point {
    Point {
        row: p.row,
        column: p.column,
    }
}

/// Compares every node of `tree` with `view` in preorder: kind id, kind name, named,
/// extra, error, missing, has_error, field id, start/end byte and point, and
/// child count; and the node counts. Returns the first difference.
pub fn verify(tree: &tree_sitter::Tree, view: &TreeView) -> Result<(), Mismatch> {
    let mut cursor = tree.walk();
    let mut path: Vec<(String, usize)> = vec![(tree.root_node().kind().to_owned(), 0)];
    let mut id = 0usize;
    'walk: loop {
        let n = cursor.node();
        let mismatch = |what: &'static str, live: String, decoded: String| Mismatch {
            node: id,
            path: path
                .iter()
                .map(|(k, i)| format!("{k}[{i}]"))
                .collect::<Vec<_>>()
                .join("/"),
            what,
            live,
            decoded,
        };
        let Some(d) = view.node(id) else {
            return Err(mismatch(
                "node count",
                format!("> {id}"),
                view.node_count().to_string(),
            ));
        };
        macro_rules! check {
            ($what:literal, $live:expr, $decoded:expr) => {
                let (l, r) = ($live, $decoded);
                if l != r {
                    return Err(mismatch($what, format!("{l:?}"), format!("{r:?}")));
                }
            };
        }
        check!("kind_id", n.kind_id(), d.kind_id());
        check!("kind", n.kind(), d.kind());
        check!("is_named", n.is_named(), d.is_named());
        check!("is_extra", n.is_extra(), d.is_extra());
        check!("is_error", n.is_error(), d.is_error());
        check!("is_missing", n.is_missing(), d.is_missing());
        check!("has_error", n.has_error(), d.has_error());
        check!(
            "field_id",
            cursor.field_id().map_or(0, |f| f.get()),
            d.field_id()
        );
        check!("start_byte", n.start_byte(), d.start_byte());
        check!("end_byte", n.end_byte(), d.end_byte());
        check!("start_point", point(n.start_position()), d.start_position());
        check!("end_point", point(n.end_position()), d.end_position());
        check!("child_count", n.child_count(), d.child_count());
        id += 1;
        if cursor.goto_first_child() {
            path.push((cursor.node().kind().to_owned(), 0));
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                if let Some(last) = path.last_mut() {
                    last.0 = cursor.node().kind().to_owned();
                    last.1 += 1;
                }
                break;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
            path.pop();
        }
    }
    if id != view.node_count() {
        return Err(Mismatch {
            node: id,
            path: String::new(),
            what: "node count",
            live: id.to_string(),
            decoded: view.node_count().to_string(),
        });
    }
    if view.has_query_facts() {
        verify_query_facts(tree, view)?;
    }
    Ok(())
}

/// Compares the hidden nodes and every node's query-cursor status with
/// tree-sitter's own walk.
fn verify_query_facts(tree: &tree_sitter::Tree, view: &TreeView) -> Result<(), Mismatch> {
    let live = crate::live_facts::collect(tree);
    let differs = |node: usize, what: &'static str, live: String, decoded: String| Mismatch {
        node,
        path: String::new(),
        what,
        live,
        decoded,
    };
    let decoded: Vec<HiddenNode> = view
        .root()
        .preorder()
        .flat_map(|n| n.hidden_starting_here())
        .collect();
    if live.hidden.len() != decoded.len() {
        return Err(differs(
            0,
            "hidden node count",
            live.hidden.len().to_string(),
            decoded.len().to_string(),
        ));
    }
    for (l, d) in live.hidden.iter().zip(&decoded) {
        if l != d {
            return Err(differs(
                l.first_visible(),
                "hidden node",
                format!("{l:?}"),
                format!("{d:?}"),
            ));
        }
    }
    let language = tree.language();
    let is_supertype = |s: u16| language.node_kind_is_supertype(s);
    for (i, status) in live.status.iter().enumerate() {
        let Some(node) = view.node(i) else {
            return Err(differs(
                i,
                "node count",
                live.status.len().to_string(),
                view.node_count().to_string(),
            ));
        };
        let (offset, len) = live.chain_of[i];
        let chain = &live.chains[offset as usize..(offset + len) as usize];
        let decoded = node.query_facts(chain.iter().copied(), &is_supertype);
        if decoded != *status {
            return Err(differs(
                i,
                "query status",
                format!("{status:?}"),
                format!("{decoded:?}"),
            ));
        }
    }
    Ok(())
}
