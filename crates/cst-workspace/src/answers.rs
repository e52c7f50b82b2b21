//! What the workspace answers, as plain data: the same structs give the
//! command's JSON, the HTTP API's bodies and (later) the protocol servers'
//! results. Lines and columns are one-based here, columns in bytes, as the
//! command has always printed them; every range carries its bytes too.

use serde::Serialize;

use cst::bytecode::{Node, Point};
use cst::tags::{Chunk, OutlineItem, Tag};
use cst::{FileTags, grammars::Grammar};

/// A place in a file: one-based line, one-based column in bytes, and the
/// byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Place {
    /// Line, from 1.
    pub line: usize,
    /// Column in bytes, from 1.
    pub column: usize,
    /// Byte offset, from 0.
    pub byte: usize,
}

impl Place {
    /// The place of a tree-sitter point at byte `byte`.
    pub fn new(p: Point, byte: usize) -> Place {
        Place {
            line: p.row + 1,
            column: p.column + 1,
            byte,
        }
    }
}

/// One node, without its children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    /// The kind (`function_item`, `identifier`, `(`…).
    pub kind: String,
    /// Named (not an anonymous token).
    pub named: bool,
    /// The field its parent holds it in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Where it starts.
    pub start: Place,
    /// Where it ends (exclusive).
    pub end: Place,
    /// An ERROR node.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub error: bool,
    /// A MISSING node (inserted by error recovery).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
    /// Its children.
    pub child_count: usize,
}

impl NodeInfo {
    /// The facts of `n`.
    pub fn of(n: Node<'_>) -> NodeInfo {
        NodeInfo {
            kind: n.kind().to_string(),
            named: n.is_named(),
            field: n.field_name().map(str::to_string),
            start: Place::new(n.start_position(), n.start_byte()),
            end: Place::new(n.end_position(), n.end_byte()),
            error: n.is_error(),
            missing: n.is_missing(),
            child_count: n.child_count(),
        }
    }
}

/// The node at a place, and the nodes that hold it, innermost first.
#[derive(Debug, Clone, Serialize)]
pub struct NodeAt {
    /// The smallest node (named, unless asked otherwise) spanning the place.
    pub node: NodeInfo,
    /// Its text, when it is UTF-8 and at most 4 KiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Its parent, grandparent, … up to the root.
    pub ancestors: Vec<NodeInfo>,
}

/// One tag (a definition or a reference), as `cst tags --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct TagOut {
    /// The file, as shown to the user.
    pub path: String,
    /// The language id.
    pub language: &'static str,
    /// The name.
    pub name: String,
    /// The syntax type (`function`, `class`, `call`…).
    pub kind: String,
    /// A definition (else a reference).
    pub is_definition: bool,
    /// Where the tag's node starts (line and byte column, one-based).
    pub start: LineColumn,
    /// Where it ends.
    pub end: LineColumn,
    /// The name's bytes.
    pub name_bytes: [usize; 2],
    /// The node's bytes.
    pub bytes: [usize; 2],
    /// The name's columns in UTF-16 units (tree-sitter-tags' `span`).
    pub utf16_columns: [usize; 2],
    /// The line of the name (up to 180 bytes, as tree-sitter-tags).
    pub line: String,
    /// The documentation comment, when the query captures one.
    pub docs: Option<String>,
}

/// A one-based line and byte column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineColumn {
    /// Line, from 1.
    pub line: usize,
    /// Column in bytes, from 1.
    pub column: usize,
}

impl TagOut {
    /// The tag `t` of `ft` in file `path`.
    pub fn of(path: &str, ft: &FileTags, t: &Tag) -> TagOut {
        let source = ft.source();
        TagOut {
            path: path.to_string(),
            language: ft.language().id(),
            name: t.name(source).into_owned(),
            kind: ft.kind(t).to_string(),
            is_definition: t.is_definition,
            start: LineColumn {
                line: t.span.start.row + 1,
                column: t.span.start.column + 1,
            },
            end: LineColumn {
                line: t.span.end.row + 1,
                column: t.span.end.column + 1,
            },
            name_bytes: [t.name_range.start, t.name_range.end],
            bytes: [t.range.start, t.range.end],
            utf16_columns: [t.utf16_column_range.start, t.utf16_column_range.end],
            line: t.line(source).into_owned(),
            docs: t.docs.clone(),
        }
    }
}

/// A file's outline, as `cst outline --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct OutlineOut {
    /// The file, as shown to the user.
    pub path: String,
    /// The language id.
    pub language: &'static str,
    /// The top-level definitions, each with its nested ones.
    pub items: Vec<OutlineItemOut>,
}

/// One definition of an outline.
#[derive(Debug, Clone, Serialize)]
pub struct OutlineItemOut {
    /// The syntax type.
    pub kind: String,
    /// The name.
    pub name: String,
    /// Where it starts.
    pub start: LineColumn,
    /// The last line it covers, and the column after its end.
    pub end: LineColumn,
    /// Its bytes.
    pub bytes: [usize; 2],
    /// Its name's bytes.
    pub name_bytes: [usize; 2],
    /// The definitions inside it.
    pub children: Vec<OutlineItemOut>,
}

/// The last line an item covers (one-based): an end at column 0 of a later
/// line is the line before.
pub fn end_line(it: &OutlineItem) -> usize {
    if it.end.column == 0 && it.end.row > it.start.row {
        it.end.row
    } else {
        it.end.row + 1
    }
}

impl OutlineItemOut {
    /// The outline items `items`, nested, built without recursion (a deeply
    /// nested outline must not overflow the stack).
    pub fn list(items: &[OutlineItem]) -> Vec<OutlineItemOut> {
        items.iter().map(Self::of).collect()
    }

    fn of(it: &OutlineItem) -> OutlineItemOut {
        let walk = it.walk();
        let mut built: Vec<Option<OutlineItemOut>> = vec![None; walk.len()];
        // The children of walk[i] are the following entries at depth d+1
        // until one at depth <= d: built from the end.
        for i in (0..walk.len()).rev() {
            let (d, item) = walk[i];
            let mut children = Vec::new();
            let mut j = i + 1;
            while j < walk.len() && walk[j].0 > d {
                if walk[j].0 == d + 1 {
                    children.push(built[j].take().expect("children are built first"));
                }
                j += 1;
            }
            built[i] = Some(OutlineItemOut {
                kind: item.kind.clone(),
                name: item.name.clone(),
                start: LineColumn {
                    line: item.start.row + 1,
                    column: item.start.column + 1,
                },
                end: LineColumn {
                    line: end_line(item),
                    column: item.end.column + 1,
                },
                bytes: [item.range.start, item.range.end],
                name_bytes: [item.name_range.start, item.name_range.end],
                children,
            });
        }
        built[0].take().expect("the root is built")
    }
}

/// One chunk, as `cst chunks --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ChunkOut {
    /// The file, as shown to the user.
    pub path: String,
    /// The language id.
    pub language: &'static str,
    /// A stable id (language, symbol path and text).
    pub id: String,
    /// Its bytes.
    pub bytes: [usize; 2],
    /// Its bytes with the preceding context lines.
    pub context_bytes: [usize; 2],
    /// Its first and last lines (one-based).
    pub lines: [usize; 2],
    /// Its size in the budget's unit.
    pub size: usize,
    /// Larger than the budget (one node that could not be split).
    pub oversized: bool,
    /// The definitions it lies in, outermost first.
    pub symbol_path: Vec<SymbolOut>,
    /// Its text.
    pub text: String,
}

/// One step of a symbol path.
#[derive(Debug, Clone, Serialize)]
pub struct SymbolOut {
    /// The syntax type.
    pub kind: String,
    /// The name.
    pub name: String,
}

impl ChunkOut {
    /// Chunk `c` of a file of language `g` whose source is `source`.
    pub fn of(path: &str, g: &Grammar, c: &Chunk, source: &[u8]) -> ChunkOut {
        let (first, last) = c.lines();
        ChunkOut {
            path: path.to_string(),
            language: g.id(),
            id: c.id.to_string(),
            bytes: [c.range.start, c.range.end],
            context_bytes: [c.context.start, c.context.end],
            lines: [first, last],
            size: c.size,
            oversized: c.oversized,
            symbol_path: c
                .symbol_path
                .iter()
                .map(|s| SymbolOut {
                    kind: s.kind.to_string(),
                    name: s.name.to_string(),
                })
                .collect(),
            text: String::from_utf8_lossy(&source[c.range.clone()]).into_owned(),
        }
    }
}

/// One capture of a query match.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureOut {
    /// The capture's name (without `@`).
    pub name: String,
    /// The node's kind.
    pub kind: String,
    /// Where the node starts.
    pub start: Place,
    /// Where it ends.
    pub end: Place,
    /// The node's text (when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One query match in one file.
#[derive(Debug, Clone, Serialize)]
pub struct MatchOut {
    /// The file, relative to the workspace root.
    pub path: String,
    /// The language id.
    pub language: &'static str,
    /// The index of the pattern that matched.
    pub pattern: usize,
    /// Its captures (only the asked-for one, with a capture filter).
    pub captures: Vec<CaptureOut>,
}
