//! Answers about one file: its tree (as tree-sitter's S-expression or as
//! JSON), the node at a place, its outline, tags and chunks.

use cst::bytecode::{Node, Point};
use cst::tags::ChunkOptions;
use serde::Deserialize;

use crate::Error;
use crate::answers::{ChunkOut, NodeAt, NodeInfo, OutlineItemOut, OutlineOut, TagOut};
use crate::workspace::{FileTree, Workspace};

/// The most nodes a tree is printed as JSON with (about 150 bytes each).
pub const MAX_JSON_NODES: usize = 2_000_000;

/// How a tree is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TreeFormat {
    /// tree-sitter's S-expression (`cst show --sexp`).
    #[default]
    Sexp,
    /// Nested JSON objects (`cst show --json`).
    Json,
}

/// Where to look for a node: a byte offset, or a zero-based row and byte
/// column; the end of a range optional.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct NodeRequest {
    /// A byte offset.
    pub byte: Option<usize>,
    /// A zero-based row (with `column`).
    pub row: Option<usize>,
    /// A zero-based column in bytes (with `row`).
    pub column: Option<usize>,
    /// The end of a byte range (with `byte`).
    pub end_byte: Option<usize>,
    /// Any node, not only named ones.
    #[serde(default)]
    pub anonymous: bool,
}

impl NodeRequest {
    /// The byte range asked for, in `tree`.
    fn range(&self, tree: &cst::Tree) -> Result<(usize, usize), Error> {
        let len = tree.view().source_len();
        let start = match (self.byte, self.row, self.column) {
            (Some(b), None, None) => b,
            (None, Some(row), Some(column)) => tree.view().byte_for_point(Point { row, column }),
            _ => {
                return Err(Error::Invalid(
                    "give `byte`, or `row` and `column` (zero-based, column in bytes)".into(),
                ));
            }
        };
        let end = self.end_byte.unwrap_or(start);
        if start > len || end > len || end < start {
            return Err(Error::Invalid(format!(
                "bytes {start}..{end} are not a range of the file's {len} bytes"
            )));
        }
        Ok((start, end))
    }
}

impl Workspace {
    /// The tree of `file` printed in `format`: the S-expression exactly as
    /// `cst show --sexp` prints it (a line), or JSON. With `range`, the
    /// smallest node spanning it instead of the root.
    pub fn print_tree(
        &self,
        file: &FileTree,
        format: TreeFormat,
        range: Option<&NodeRequest>,
    ) -> Result<String, Error> {
        let tree = &file.tree;
        let node = match range {
            None => tree.root(),
            Some(r) => {
                let (s, e) = r.range(tree)?;
                tree.root()
                    .descendant_for_byte_range(s, e)
                    .unwrap_or_else(|| tree.root())
            }
        };
        Ok(match format {
            TreeFormat::Sexp => {
                let mut s = node.to_sexp();
                s.push('\n');
                s
            }
            TreeFormat::Json => {
                if node.descendant_count() > MAX_JSON_NODES {
                    return Err(Error::Invalid(format!(
                        "{} nodes: over {MAX_JSON_NODES} for JSON; ask for the S-expression or a range",
                        node.descendant_count()
                    )));
                }
                let mut s = serde_json_like::node_json(node);
                s.push('\n');
                s
            }
        })
    }

    /// The node of `file` at a place, with its ancestors.
    pub fn node_at(&self, file: &FileTree, at: &NodeRequest) -> Result<NodeAt, Error> {
        let tree = &file.tree;
        let (s, e) = at.range(tree)?;
        let root = tree.root();
        let node = if at.anonymous {
            root.descendant_for_byte_range(s, e)
        } else {
            root.named_descendant_for_byte_range(s, e)
        }
        .unwrap_or(root);
        let mut ancestors = Vec::new();
        let mut up = node.parent();
        while let Some(p) = up {
            ancestors.push(NodeInfo::of(p));
            up = p.parent();
        }
        let text = tree.source().and_then(|src| {
            let bytes = &src[node.byte_range()];
            (bytes.len() <= 4096)
                .then(|| std::str::from_utf8(bytes).ok().map(str::to_string))
                .flatten()
        });
        Ok(NodeAt {
            node: NodeInfo::of(node),
            text,
            ancestors,
        })
    }

    /// The outline of `file` (its definitions, nested).
    pub fn outline(&self, file: &FileTree) -> Result<OutlineOut, Error> {
        let language = file.tree.language().id();
        let tags = self.cache().tags_for(file.tree.clone())?;
        Ok(OutlineOut {
            path: file.rel.clone(),
            language,
            items: OutlineItemOut::list(&tags.outline()),
        })
    }

    /// The tags of `file` (definitions only, when asked).
    pub fn tags(&self, file: &FileTree, definitions_only: bool) -> Result<Vec<TagOut>, Error> {
        let ft = self.cache().tags_for(file.tree.clone())?;
        Ok(ft
            .tags()
            .iter()
            .filter(|t| !definitions_only || t.is_definition)
            .map(|t| TagOut::of(&file.rel, &ft, t))
            .collect())
    }

    /// The AST-aware chunks of `file`.
    pub fn chunks(&self, file: &FileTree, options: &ChunkOptions) -> Result<Vec<ChunkOut>, Error> {
        let chunks = self.cache().chunks_for(&file.tree, options)?;
        let source = file.tree.source().unwrap_or_default();
        Ok(chunks
            .iter()
            .map(|c| ChunkOut::of(&file.rel, file.tree.language(), c, source))
            .collect())
    }
}

/// The tree as JSON, written by hand (iteratively: a deep tree must not
/// overflow the stack), in the shape `cst show --json` prints.
mod serde_json_like {
    use super::Node;
    use std::fmt::Write;

    fn escape(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }

    fn open(out: &mut String, n: Node<'_>) {
        let (s, e) = (n.start_position(), n.end_position());
        out.push_str("{\"kind\":");
        escape(out, n.kind());
        let _ = write!(
            out,
            ",\"named\":{},\"start\":[{},{}],\"end\":[{},{}],\"bytes\":[{},{}]",
            n.is_named(),
            s.row,
            s.column,
            e.row,
            e.column,
            n.start_byte(),
            n.end_byte()
        );
        if let Some(f) = n.field_name() {
            out.push_str(",\"field\":");
            escape(out, f);
        }
        if n.is_error() {
            out.push_str(",\"error\":true");
        }
        if n.is_missing() {
            out.push_str(",\"missing\":true");
        }
    }

    /// `root` and its descendants.
    pub(super) fn node_json(root: Node<'_>) -> String {
        let mut out = String::new();
        // A stack of the nodes whose children are being written.
        let mut stack: Vec<Node<'_>> = Vec::new();
        let mut next = Some(root);
        loop {
            if let Some(n) = next {
                open(&mut out, n);
                if let Some(c) = n.first_child() {
                    out.push_str(",\"children\":[");
                    stack.push(n);
                    next = Some(c);
                } else {
                    out.push('}');
                    next = if stack.is_empty() {
                        None
                    } else {
                        n.next_sibling().inspect(|_| out.push(','))
                    };
                    if next.is_none() && stack.is_empty() {
                        break;
                    }
                }
            } else {
                // Close the innermost open node, then go on to its sibling.
                let Some(n) = stack.pop() else { break };
                out.push_str("]}");
                if stack.is_empty() {
                    break;
                }
                next = n.next_sibling().inspect(|_| out.push(','));
            }
        }
        out
    }
}
