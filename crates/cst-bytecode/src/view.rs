//! Reading an encoded tree: [`TreeView`] and its [`Node`]s.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::facts::{FactOverride, HiddenNode, MAX_SUPERTYPES, NodeFacts};
use crate::format::{
    ARITY_ESCAPE, HEADER_LEN, HF_ERROR_CHARS, HF_QUERY_FACTS, HF_RANGE_EXCEPTIONS,
    HF_SEXP_OVERRIDES, Header, QF_FIELD, QF_KNOWN, QF_PARENT_KIND, QF_SUPERTYPES,
    QUERY_FACTS_VERSION, RANGE_SKIP, RANGE_STOP, Reader, TF_ERROR, TF_EXPLICIT_RANGE, TF_EXTRA,
    TF_FIXED_LEN, TF_HAS_ERROR, TF_KNOWN, TF_MISSING, TF_NAMED, unzigzag,
};
use crate::{DecodeError, Symbols};

/// A position in the source: zero-based row and byte column, as tree-sitter counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Point {
    /// Zero-based line number (lines end at `\n`).
    pub row: usize,
    /// Zero-based byte offset within the line.
    pub column: usize,
}

/// One entry of the per-tree node-type palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeType {
    pub kind: u16,
    pub field: u16,
    pub flags: u8,
    pub arity: u8,
    pub fixed_len: u32,
}

/// A decoded, navigable tree.
///
/// Opening validates every byte and builds, in one O(n) pass, the index that
/// makes parent, first-child and next-sibling moves O(1). The view owns that
/// index and does not borrow the encoded bytes, so it may outlive a memory map.
pub struct TreeView {
    symbols: Arc<Symbols>,
    source_len: u32,
    types: Vec<NodeType>,
    nodes: Vec<NodeRec>,
    line_starts: Vec<u32>,
    error_chars: Vec<(u32, i32)>,
    sexp_overrides: Vec<(u32, Box<str>)>,
    /// Nodes an empty-range query at their start handles as tree-sitter's
    /// hidden nodes make it ([`RANGE_SKIP`] or [`RANGE_STOP`]), by index.
    range_exceptions: Vec<(u32, u8)>,
    /// Format version the tree was written with.
    version: u16,
    /// Hidden nodes the query cursor enters (version 3 on), in its walk's order.
    hidden: Vec<HiddenNode>,
    /// Node statuses that differ from the derived ones, by node index.
    fact_overrides: Vec<FactOverride>,
}

const NO_PARENT: u32 = u32::MAX;

/// One node of the index: everything a move or a query needs, in one place.
#[derive(Clone, Copy)]
struct NodeRec {
    start: u32,
    end: u32,
    parent: u32,
    /// Index one past the last node of this subtree (= next sibling, if any).
    subtree_end: u32,
    child_count: u32,
    ty: u16,
}

impl TreeView {
    /// Decodes `bytes` (an encoded tree) with the names of its grammar.
    ///
    /// Every input gives `Ok` or a typed error; allocations are bounded by the
    /// length of `bytes`.
    pub fn open(bytes: &[u8], symbols: Arc<Symbols>) -> Result<TreeView, DecodeError> {
        let (header, body) = Header::parse(bytes)?;
        if header.fingerprint != symbols.fingerprint() {
            return Err(DecodeError::GrammarMismatch {
                tree: header.fingerprint,
                symbols: symbols.fingerprint(),
            });
        }
        let node_count = header.node_count.get() as usize;
        let palette_len = header.palette_len.get() as usize;
        let line_count = header.line_count.get() as usize;
        let source_len = header.source_len.get();
        // Every node, palette entry and line takes at least one body byte.
        if node_count == 0 || node_count > body.len() {
            return Err(DecodeError::Corrupt {
                offset: 24,
                what: "node count",
            });
        }
        if palette_len == 0 || palette_len > body.len() || palette_len > usize::from(u16::MAX) + 1 {
            return Err(DecodeError::Corrupt {
                offset: 36,
                what: "palette length",
            });
        }
        if line_count == 0
            || line_count - 1 > body.len()
            || line_count as u64 > u64::from(source_len) + 1
        {
            return Err(DecodeError::Corrupt {
                offset: 32,
                what: "line count",
            });
        }
        let mut r = Reader::new(body, HEADER_LEN);

        // Palette.
        let mut types = Vec::with_capacity(palette_len);
        for _ in 0..palette_len {
            let off = r.offset();
            let kind = r.varint_u32("palette kind")?;
            let field = r.varint_u32("palette field")?;
            let flags = r.u8("palette flags")?;
            let arity = r.u8("palette arity")?;
            let kind = u16::try_from(kind).map_err(|_| DecodeError::Corrupt {
                offset: off,
                what: "palette kind",
            })?;
            let field = u16::try_from(field).map_err(|_| DecodeError::Corrupt {
                offset: off,
                what: "palette field",
            })?;
            if !symbols.is_kind(kind) {
                return Err(DecodeError::Corrupt {
                    offset: off,
                    what: "kind id unknown to the grammar",
                });
            }
            if field != 0 && symbols.field_name(field).is_none() {
                return Err(DecodeError::Corrupt {
                    offset: off,
                    what: "field id unknown to the grammar",
                });
            }
            if flags & !TF_KNOWN != 0 || arity > ARITY_ESCAPE {
                return Err(DecodeError::Corrupt {
                    offset: off,
                    what: "palette flags",
                });
            }
            let leaf = arity == 0;
            if (flags & TF_FIXED_LEN != 0 && !leaf) || (flags & TF_EXPLICIT_RANGE != 0 && leaf) {
                return Err(DecodeError::Corrupt {
                    offset: off,
                    what: "palette flags",
                });
            }
            let fixed_len = if flags & TF_FIXED_LEN != 0 {
                r.varint_u32("palette length")?
            } else {
                0
            };
            types.push(NodeType {
                kind,
                field,
                flags,
                arity,
                fixed_len,
            });
        }

        // Nodes, in preorder.
        let mut view = TreeView {
            symbols,
            source_len,
            types,
            nodes: Vec::with_capacity(node_count),
            line_starts: Vec::new(),
            error_chars: Vec::new(),
            sexp_overrides: Vec::new(),
            range_exceptions: Vec::new(),
            version: header.version.get(),
            hidden: Vec::new(),
            fact_overrides: Vec::new(),
        };
        let error_leaves = view.decode_nodes(&mut r, node_count)?;

        // Line table.
        let mut line_starts = Vec::with_capacity(line_count);
        line_starts.push(0u32);
        let mut at: u64 = 0;
        for _ in 1..line_count {
            let off = r.offset();
            let len = r.varint("line length")?;
            at = at.saturating_add(len);
            if len == 0 || at > u64::from(source_len) {
                return Err(DecodeError::Corrupt {
                    offset: off,
                    what: "line length",
                });
            }
            line_starts.push(at as u32);
        }
        view.line_starts = line_starts;

        // Error characters.
        if header.flags.get() & HF_ERROR_CHARS != 0 {
            let off = r.offset();
            let count = r.varint("error character count")?;
            if count == 0 || count > r.remaining() as u64 {
                return Err(DecodeError::Corrupt {
                    offset: off,
                    what: "error character count",
                });
            }
            let mut node: u64 = 0;
            let mut chars = Vec::with_capacity(count as usize);
            for i in 0..count {
                let off = r.offset();
                let delta = r.varint("error character node")?;
                node = if i == 0 {
                    delta
                } else {
                    node.saturating_add(delta).saturating_add(1)
                };
                let ch = unzigzag(r.varint("error character")?);
                if node >= node_count as u64 || !view.is_error_leaf(node as u32) {
                    return Err(DecodeError::Corrupt {
                        offset: off,
                        what: "error character node",
                    });
                }
                let ch = i32::try_from(ch).map_err(|_| DecodeError::Corrupt {
                    offset: off,
                    what: "error character",
                })?;
                chars.push((node as u32, ch));
            }
            view.error_chars = chars;
        }
        // S-expression overrides (subtrees holding MISSING tokens the cursor cannot see).
        if header.flags.get() & HF_SEXP_OVERRIDES != 0 {
            let off = r.offset();
            let count = r.varint("override count")?;
            if count == 0 || count > r.remaining() as u64 {
                return Err(DecodeError::Corrupt {
                    offset: off,
                    what: "override count",
                });
            }
            let mut node: u64 = 0;
            for i in 0..count {
                let off = r.offset();
                let delta = r.varint("override node")?;
                node = if i == 0 {
                    delta
                } else {
                    node.saturating_add(delta).saturating_add(1)
                };
                let len = r.varint("override length")?;
                if node >= node_count as u64 || len > r.remaining() as u64 {
                    return Err(DecodeError::Corrupt {
                        offset: off,
                        what: "override",
                    });
                }
                let text = r.bytes(len as usize, "override text")?;
                let text = std::str::from_utf8(text).map_err(|_| DecodeError::Corrupt {
                    offset: off,
                    what: "override text is not UTF-8",
                })?;
                view.sexp_overrides.push((node as u32, text.into()));
            }
        }
        // Range-query exceptions (where tree-sitter's hidden nodes steer an
        // empty-range query differently from the visible children).
        if header.flags.get() & HF_RANGE_EXCEPTIONS != 0 {
            let off = r.offset();
            let count = r.varint("range exception count")?;
            if count == 0 || count > r.remaining() as u64 {
                return Err(DecodeError::Corrupt {
                    offset: off,
                    what: "range exception count",
                });
            }
            let mut node: u64 = 0;
            let mut exceptions = Vec::with_capacity(count as usize);
            for i in 0..count {
                let off = r.offset();
                let delta = r.varint("range exception node")?;
                node = if i == 0 {
                    delta
                } else {
                    node.saturating_add(delta).saturating_add(1)
                };
                let action = r.u8("range exception action")?;
                let ok = node != 0
                    && node < node_count as u64
                    && match action {
                        RANGE_SKIP => {
                            let n = &view.nodes[node as usize];
                            n.start == n.end
                        }
                        RANGE_STOP => true,
                        _ => false,
                    };
                if !ok {
                    return Err(DecodeError::Corrupt {
                        offset: off,
                        what: "range exception",
                    });
                }
                exceptions.push((node as u32, action));
            }
            view.range_exceptions = exceptions;
        }
        if header.flags.get() & HF_QUERY_FACTS != 0 {
            if view.version < QUERY_FACTS_VERSION {
                return Err(DecodeError::Corrupt {
                    offset: 6,
                    what: "query facts in a version without them",
                });
            }
            view.decode_query_facts(&mut r)?;
        }
        if r.remaining() != 0 {
            return Err(DecodeError::Corrupt {
                offset: r.offset(),
                what: "unread bytes at the end of the body",
            });
        }
        if error_leaves != view.error_chars.len() {
            return Err(DecodeError::Corrupt {
                offset: HEADER_LEN,
                what: "error characters do not match error leaves",
            });
        }
        Ok(view)
    }

    /// Decodes the node stream; returns the number of ERROR leaves with a
    /// non-empty range (each must have an error character).
    fn decode_nodes(
        &mut self,
        r: &mut Reader<'_>,
        node_count: usize,
    ) -> Result<usize, DecodeError> {
        let mut error_leaves = 0usize;
        let source_len = u64::from(self.source_len);
        // Open internal nodes: (index, children still to read, last child seen).
        let mut stack: Vec<(u32, u32, u32)> = Vec::new();
        let mut pos: u64 = 0; // end of the previous leaf
        for i in 0..node_count as u32 {
            let off = r.offset();
            let t = r.varint("node type")?;
            let Some(&ty) = self.types.get(t as usize) else {
                return Err(DecodeError::Corrupt {
                    offset: off,
                    what: "node type index",
                });
            };
            let children = if ty.arity == ARITY_ESCAPE {
                let c = r.varint_u32("child count")?;
                if c < u32::from(ARITY_ESCAPE) {
                    return Err(DecodeError::Corrupt {
                        offset: off,
                        what: "child count",
                    });
                }
                c
            } else {
                u32::from(ty.arity)
            };
            let (start, end) = if children == 0 {
                let (gap, len) = if ty.flags & TF_FIXED_LEN != 0 {
                    (unzigzag(r.varint("leaf gap")?), u64::from(ty.fixed_len))
                } else {
                    let v = r.varint("leaf span")?;
                    let gap = if v & 3 == 3 {
                        unzigzag(r.varint("leaf gap")?)
                    } else {
                        unzigzag(v & 3)
                    };
                    (gap, v >> 2)
                };
                let start = (pos as i64).saturating_add(gap);
                if start < 0 || (start as u64).saturating_add(len) > source_len {
                    return Err(DecodeError::Corrupt {
                        offset: off,
                        what: "leaf range outside the source",
                    });
                }
                pos = start as u64 + len;
                error_leaves += usize::from(ty.flags & TF_ERROR != 0 && len > 0);
                (start as u32, pos as u32)
            } else if ty.flags & TF_EXPLICIT_RANGE != 0 {
                let start = (pos as i64).saturating_add(unzigzag(r.varint("node start")?));
                let len = r.varint("node length")?;
                if start < 0 || (start as u64).saturating_add(len) > source_len {
                    return Err(DecodeError::Corrupt {
                        offset: off,
                        what: "node range outside the source",
                    });
                }
                (start as u32, (start as u64 + len) as u32)
            } else {
                (0, 0) // derived when its last child is read
            };
            let parent = match stack.last_mut() {
                Some(top) => {
                    top.1 -= 1;
                    top.2 = i;
                    top.0
                }
                None if i == 0 => NO_PARENT,
                None => {
                    return Err(DecodeError::Corrupt {
                        offset: off,
                        what: "node after the end of the root",
                    });
                }
            };
            self.nodes.push(NodeRec {
                start,
                end,
                parent,
                subtree_end: i + 1,
                child_count: children,
                ty: t as u16,
            });
            if children > 0 {
                stack.push((i, children, i));
            }
            // Close every node whose last child was just read.
            while let Some(&(p, 0, last)) = stack.last() {
                stack.pop();
                let p = p as usize;
                let (first_start, last_end) =
                    (self.nodes[p + 1].start, self.nodes[last as usize].end);
                let rec = &mut self.nodes[p];
                rec.subtree_end = i + 1;
                if self.types[usize::from(rec.ty)].flags & TF_EXPLICIT_RANGE == 0 {
                    rec.start = first_start;
                    rec.end = last_end;
                }
            }
        }
        if !stack.is_empty() {
            return Err(DecodeError::Corrupt {
                offset: r.offset(),
                what: "tree ends inside a node",
            });
        }
        Ok(error_leaves)
    }

    /// Reads and checks the hidden-node and status-override tables.
    fn decode_query_facts(&mut self, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        let node_count = self.nodes.len() as u64;
        let corrupt = |offset: usize, what: &'static str| DecodeError::Corrupt { offset, what };
        let off = r.offset();
        let count = r.varint("hidden node count")?;
        if count > r.remaining() as u64 {
            return Err(corrupt(off, "hidden node count"));
        }
        let mut hidden = Vec::with_capacity(count as usize);
        // The tree's hidden symbols (the entries index them).
        let mut palette: Vec<u16> = Vec::new();
        if count > 0 {
            let off = r.offset();
            let n = r.varint("hidden symbol count")?;
            if n == 0 || n > count || n > r.remaining() as u64 {
                return Err(corrupt(off, "hidden symbol count"));
            }
            for _ in 0..n {
                let off = r.offset();
                let symbol = r.varint("hidden symbol")?;
                palette.push(
                    u16::try_from(symbol)
                        .ok()
                        .filter(|&s| self.symbols.is_kind(s))
                        .ok_or(corrupt(off, "hidden node symbol"))?,
                );
            }
        }
        // Open hidden spans (visible end), to check their nesting.
        let mut open: Vec<u32> = Vec::new();
        let mut first: u64 = 0;
        for _ in 0..count {
            let off = r.offset();
            let head = r.varint("hidden node")?;
            let mut delta = head & 7;
            if delta == 7 {
                delta = delta.saturating_add(r.varint("hidden node first")?);
            }
            first = first.saturating_add(delta);
            let (span, explicit) = ((head >> 4).saturating_add(1), head & 8 != 0);
            let slot = r.varint("hidden node symbol")?;
            let explicit_range = if explicit {
                let gap = unzigzag(r.varint("hidden node start")?);
                let len = r.varint("hidden node length")?;
                Some((gap, len))
            } else {
                None
            };
            let end = first.saturating_add(span);
            if first == 0 || span == 0 || end > node_count {
                return Err(corrupt(off, "hidden node span"));
            }
            let (f, e) = (first as u32, end as u32);
            let parent = self.nodes[f as usize].parent;
            let parent_end = self.nodes[parent as usize].subtree_end;
            // The span is whole subtrees of consecutive children of `parent`.
            if e > parent_end || (e < parent_end && self.nodes[e as usize].parent != parent) {
                return Err(corrupt(off, "hidden node span"));
            }
            while open.last().is_some_and(|&end| end <= f) {
                open.pop();
            }
            if open.last().is_some_and(|&end| e > end) {
                return Err(corrupt(off, "hidden nodes overlap"));
            }
            open.push(e);
            let (start, len) = match explicit_range {
                Some((gap, len)) => (
                    i64::from(self.nodes[f as usize].start).saturating_sub(gap),
                    len,
                ),
                None => {
                    // Its visible descendants' range: the first one's start
                    // to the end of the last top-level one.
                    let mut c = f as usize;
                    while self.nodes[c].subtree_end < e {
                        c = self.nodes[c].subtree_end as usize;
                    }
                    let (a, b) = (self.nodes[f as usize].start, self.nodes[c].end);
                    (i64::from(a), u64::from(b.saturating_sub(a)))
                }
            };
            if start < 0 || (start as u64).saturating_add(len) > u64::from(self.source_len) {
                return Err(corrupt(off, "hidden node range outside the source"));
            }
            let symbol = *palette
                .get(slot as usize)
                .ok_or(corrupt(off, "hidden node symbol"))?;
            hidden.push(HiddenNode {
                first: f,
                end: e,
                symbol,
                start_byte: start as u32,
                end_byte: (start as u64 + len) as u32,
            });
        }
        let off = r.offset();
        let count = r.varint("status override count")?;
        if count > r.remaining() as u64 {
            return Err(corrupt(off, "status override count"));
        }
        let mut overrides = Vec::with_capacity(count as usize);
        let mut node: u64 = 0;
        for i in 0..count {
            let off = r.offset();
            let delta = r.varint("status override node")?;
            node = if i == 0 {
                delta
            } else {
                node.saturating_add(delta).saturating_add(1)
            };
            let mask = r.u8("status override mask")?;
            if node >= node_count || mask == 0 || mask & !QF_KNOWN != 0 {
                return Err(corrupt(off, "status override"));
            }
            let mut o = FactOverride {
                node: node as u32,
                mask,
                field: 0,
                parent_kind: 0,
                supertypes: [0; MAX_SUPERTYPES],
                supertype_count: 0,
            };
            if mask & QF_FIELD != 0 {
                let field = r.varint("status override field")?;
                o.field = u16::try_from(field)
                    .ok()
                    .filter(|&f| f == 0 || self.symbols.field_name(f).is_some())
                    .ok_or(corrupt(off, "status override field"))?;
            }
            if mask & QF_PARENT_KIND != 0 {
                let kind = r.varint("status override parent kind")?;
                o.parent_kind = u16::try_from(kind)
                    .ok()
                    .filter(|&k| self.symbols.is_kind(k))
                    .ok_or(corrupt(off, "status override parent kind"))?;
            }
            if mask & QF_SUPERTYPES != 0 {
                let n = r.u8("status override supertype count")?;
                if usize::from(n) > MAX_SUPERTYPES {
                    return Err(corrupt(off, "status override supertype count"));
                }
                for k in 0..usize::from(n) {
                    let s = r.varint("status override supertype")?;
                    o.supertypes[k] = u16::try_from(s)
                        .ok()
                        .filter(|&s| self.symbols.is_kind(s))
                        .ok_or(corrupt(off, "status override supertype"))?;
                }
                o.supertype_count = n;
            }
            overrides.push(o);
        }
        if hidden.is_empty() && overrides.is_empty() {
            return Err(corrupt(off, "empty query facts"));
        }
        self.hidden = hidden;
        self.fact_overrides = overrides;
        Ok(())
    }

    /// Format version the tree was written with.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// Whether the tree carries query facts (version 3 on): hidden nodes and
    /// node statuses, which running tree-sitter queries exactly needs.
    pub fn has_query_facts(&self) -> bool {
        self.version >= QUERY_FACTS_VERSION
    }

    /// The hidden nodes tree-sitter's query cursor enters (nodes of hidden
    /// kinds with visible descendants), in its walk's order: by first visible
    /// descendant, outer before inner. Empty before version 3.
    pub fn hidden_nodes(&self) -> &[HiddenNode] {
        &self.hidden
    }

    fn node_type(&self, i: u32) -> &NodeType {
        &self.types[usize::from(self.nodes[i as usize].ty)]
    }

    fn is_error_leaf(&self, i: u32) -> bool {
        let t = self.node_type(i);
        t.flags & TF_ERROR != 0
            && self.nodes[i as usize].child_count == 0
            && self.nodes[i as usize].end > self.nodes[i as usize].start
    }

    /// The root node.
    pub fn root(&self) -> Node<'_> {
        Node { tree: self, id: 0 }
    }

    /// Number of nodes (named and anonymous).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The node with preorder index `id` (the root is 0).
    pub fn node(&self, id: usize) -> Option<Node<'_>> {
        (id < self.nodes.len()).then_some(Node {
            tree: self,
            id: id as u32,
        })
    }

    /// Length of the source the tree was parsed from.
    pub fn source_len(&self) -> usize {
        self.source_len as usize
    }

    /// Number of source lines (`\n` count + 1).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The grammar names used by this view.
    pub fn symbols(&self) -> &Arc<Symbols> {
        &self.symbols
    }

    /// The source position of byte offset `byte`.
    pub fn point_for_byte(&self, byte: usize) -> Point {
        let row = self
            .line_starts
            .partition_point(|&s| s as usize <= byte)
            .saturating_sub(1);
        Point {
            row,
            column: byte - self.line_starts[row] as usize,
        }
    }

    /// The byte offset of a source position (clamped to the line table).
    pub fn byte_for_point(&self, p: Point) -> usize {
        match self.line_starts.get(p.row) {
            Some(&s) => (s as usize).saturating_add(p.column),
            None => self.source_len as usize,
        }
    }

    /// Heap bytes held by the view's index (not counting the symbols).
    pub fn heap_bytes(&self) -> usize {
        self.types.capacity() * size_of::<NodeType>()
            + self.nodes.capacity() * size_of::<NodeRec>()
            + self.line_starts.capacity() * 4
            + self.error_chars.capacity() * 8
            + self.range_exceptions.capacity() * 8
            + self.hidden.capacity() * size_of::<HiddenNode>()
            + self.fact_overrides.capacity() * size_of::<FactOverride>()
            + self
                .sexp_overrides
                .iter()
                .map(|o| o.1.len() + 16)
                .sum::<usize>()
    }

    pub(crate) fn sexp_override(&self, id: u32) -> Option<&str> {
        self.sexp_overrides
            .binary_search_by_key(&id, |e| e.0)
            .ok()
            .map(|i| &*self.sexp_overrides[i].1)
    }

    /// The range-query exception of node `id`, if any.
    fn range_exception(&self, id: u32) -> Option<u8> {
        self.range_exceptions
            .binary_search_by_key(&id, |e| e.0)
            .ok()
            .map(|i| self.range_exceptions[i].1)
    }

    pub(crate) fn error_char(&self, id: u32) -> Option<i32> {
        self.error_chars
            .binary_search_by_key(&id, |e| e.0)
            .ok()
            .map(|i| self.error_chars[i].1)
    }
}

impl fmt::Debug for TreeView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeView")
            .field("nodes", &self.node_count())
            .field("source_len", &self.source_len)
            .finish()
    }
}

/// A node of a [`TreeView`]. Cheap to copy; modelled on `tree_sitter::Node`.
#[derive(Clone, Copy)]
pub struct Node<'t> {
    tree: &'t TreeView,
    id: u32,
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.tree, other.tree) && self.id == other.id
    }
}
impl Eq for Node<'_> {}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{Node {} {:?} - {:?}}}",
            self.kind(),
            self.start_position(),
            self.end_position()
        )
    }
}

impl<'t> Node<'t> {
    fn ty(&self) -> &'t NodeType {
        self.tree.node_type(self.id)
    }
    fn at(&self, id: u32) -> Node<'t> {
        Node {
            tree: self.tree,
            id,
        }
    }

    /// Preorder index of this node in its tree (the root is 0).
    pub fn id(&self) -> usize {
        self.id as usize
    }
    /// The tree this node belongs to.
    pub fn tree(&self) -> &'t TreeView {
        self.tree
    }
    /// Kind id (alias-aware, as `tree_sitter::Node::kind_id`).
    pub fn kind_id(&self) -> u16 {
        self.ty().kind
    }
    /// Kind name.
    pub fn kind(&self) -> &'t str {
        self.tree.symbols.kind_name(self.kind_id())
    }
    /// Whether the node is named.
    pub fn is_named(&self) -> bool {
        self.ty().flags & TF_NAMED != 0
    }
    /// Whether the node is an extra (a comment, say).
    pub fn is_extra(&self) -> bool {
        self.ty().flags & TF_EXTRA != 0
    }
    /// Whether the node is an ERROR node.
    pub fn is_error(&self) -> bool {
        self.ty().flags & TF_ERROR != 0
    }
    /// Whether the node was inserted by error recovery.
    pub fn is_missing(&self) -> bool {
        self.ty().flags & TF_MISSING != 0
    }
    /// Whether the node is, or contains, an error.
    pub fn has_error(&self) -> bool {
        self.ty().flags & TF_HAS_ERROR != 0
    }
    /// Field id of this node within its parent (0 for none).
    pub fn field_id(&self) -> u16 {
        self.ty().field
    }
    /// Field name of this node within its parent.
    pub fn field_name(&self) -> Option<&'t str> {
        self.tree.symbols.field_name(self.field_id())
    }
    /// Start byte.
    pub fn start_byte(&self) -> usize {
        self.tree.nodes[self.id as usize].start as usize
    }
    /// End byte (exclusive).
    pub fn end_byte(&self) -> usize {
        self.tree.nodes[self.id as usize].end as usize
    }
    /// Byte range.
    pub fn byte_range(&self) -> Range<usize> {
        self.start_byte()..self.end_byte()
    }
    /// Start position.
    pub fn start_position(&self) -> Point {
        self.tree.point_for_byte(self.start_byte())
    }
    /// End position.
    pub fn end_position(&self) -> Point {
        self.tree.point_for_byte(self.end_byte())
    }
    /// The node's text in `source` (the source it was parsed from).
    pub fn utf8_text<'s>(&self, source: &'s [u8]) -> Result<&'s str, std::str::Utf8Error> {
        std::str::from_utf8(source.get(self.byte_range()).unwrap_or_default())
    }

    /// Number of children (named and anonymous). O(1).
    pub fn child_count(&self) -> usize {
        self.tree.nodes[self.id as usize].child_count as usize
    }
    /// Number of nodes in this subtree, this node included. O(1).
    pub fn descendant_count(&self) -> usize {
        (self.tree.nodes[self.id as usize].subtree_end - self.id) as usize
    }
    /// The first child. O(1).
    pub fn first_child(&self) -> Option<Node<'t>> {
        (self.child_count() > 0).then(|| self.at(self.id + 1))
    }
    /// The parent. O(1).
    pub fn parent(&self) -> Option<Node<'t>> {
        let p = self.tree.nodes[self.id as usize].parent;
        (p != NO_PARENT).then(|| self.at(p))
    }
    /// The next sibling. O(1).
    pub fn next_sibling(&self) -> Option<Node<'t>> {
        let p = self.tree.nodes[self.id as usize].parent;
        if p == NO_PARENT {
            return None;
        }
        let next = self.tree.nodes[self.id as usize].subtree_end;
        (next < self.tree.nodes[p as usize].subtree_end).then(|| self.at(next))
    }
    /// The previous sibling. O(number of earlier siblings).
    pub fn prev_sibling(&self) -> Option<Node<'t>> {
        let p = self.tree.nodes[self.id as usize].parent;
        if p == NO_PARENT || p + 1 == self.id {
            return None;
        }
        let mut c = p + 1;
        loop {
            let next = self.tree.nodes[c as usize].subtree_end;
            if next == self.id {
                return Some(self.at(c));
            }
            c = next;
        }
    }
    /// The last child. O(number of children).
    pub fn last_child(&self) -> Option<Node<'t>> {
        self.children().last()
    }
    /// The `i`th child. O(i).
    pub fn child(&self, i: usize) -> Option<Node<'t>> {
        self.children().nth(i)
    }
    /// The children, in order.
    pub fn children(&self) -> Children<'t> {
        Children {
            next: self.first_child(),
        }
    }
    /// The named children, in order.
    pub fn named_children(&self) -> impl Iterator<Item = Node<'t>> + use<'t> {
        self.children().filter(|c| c.is_named())
    }
    /// Number of named children. O(children).
    pub fn named_child_count(&self) -> usize {
        self.named_children().count()
    }
    /// The `i`th named child.
    pub fn named_child(&self, i: usize) -> Option<Node<'t>> {
        self.named_children().nth(i)
    }
    /// The child with field `name`, if any.
    pub fn child_by_field_name(&self, name: &str) -> Option<Node<'t>> {
        let id = self.tree.symbols.field_id(name)?;
        self.children().find(|c| c.field_id() == id)
    }
    /// The next named sibling.
    pub fn next_named_sibling(&self) -> Option<Node<'t>> {
        let mut n = self.next_sibling();
        while let Some(s) = n {
            if s.is_named() {
                return Some(s);
            }
            n = s.next_sibling();
        }
        None
    }
    /// The previous named sibling.
    pub fn prev_named_sibling(&self) -> Option<Node<'t>> {
        let mut n = self.prev_sibling();
        while let Some(s) = n {
            if s.is_named() {
                return Some(s);
            }
            n = s.prev_sibling();
        }
        None
    }
    /// This node and its descendants in preorder. Each step is O(1).
    pub fn preorder(&self) -> Preorder<'t> {
        Preorder {
            tree: self.tree,
            next: self.id,
            end: self.tree.nodes[self.id as usize].subtree_end,
        }
    }

    /// The smallest node (named or anonymous) that spans `start..end`, as
    /// `tree_sitter::Node::descendant_for_byte_range`.
    pub fn descendant_for_byte_range(&self, start: usize, end: usize) -> Option<Node<'t>> {
        self.descend(start, end, false)
    }
    /// The smallest named node that spans `start..end`.
    pub fn named_descendant_for_byte_range(&self, start: usize, end: usize) -> Option<Node<'t>> {
        self.descend(start, end, true)
    }
    /// The smallest node that spans the point range.
    pub fn descendant_for_point_range(&self, start: Point, end: Point) -> Option<Node<'t>> {
        if start > end {
            return None;
        }
        self.descend(
            self.tree.byte_for_point(start),
            self.tree.byte_for_point(end),
            false,
        )
    }
    /// The smallest named node that spans the point range.
    pub fn named_descendant_for_point_range(&self, start: Point, end: Point) -> Option<Node<'t>> {
        if start > end {
            return None;
        }
        self.descend(
            self.tree.byte_for_point(start),
            self.tree.byte_for_point(end),
            true,
        )
    }

    /// tree-sitter's `ts_node__descendant_for_byte_range` over the visible
    /// children. tree-sitter walks hidden nodes too: an empty-range query
    /// skips a hidden node that ends at the position (and every node in
    /// it), and stops in a hidden empty node; the tree's range exceptions
    /// (docs/FORMAT.md) say where that changes the outcome.
    fn descend(&self, range_start: usize, range_end: usize, named_only: bool) -> Option<Node<'t>> {
        if range_start > range_end {
            return None;
        }
        let exceptions = range_start == range_end && !self.tree.range_exceptions.is_empty();
        let mut node = *self;
        let mut last_relevant = *self;
        'down: loop {
            for child in node.children() {
                let child_end = child.end_byte();
                if child_end < range_end {
                    continue;
                }
                let is_empty = child.start_byte() == child_end;
                if if is_empty {
                    child_end < range_start
                } else {
                    child_end <= range_start
                } {
                    continue;
                }
                if range_start < child.start_byte() {
                    break;
                }
                if exceptions && child.start_byte() == range_start {
                    match self.tree.range_exception(child.id) {
                        Some(RANGE_SKIP) => continue,
                        Some(_) => return Some(last_relevant),
                        None => {}
                    }
                }
                node = child;
                if !named_only || child.is_named() {
                    last_relevant = child;
                }
                continue 'down;
            }
            return Some(last_relevant);
        }
    }

    /// The status tree-sitter's query cursor computes for this node
    /// (`ts_tree_cursor_current_status`) when its walk starts above it.
    /// `hidden_chain` gives the grammar symbols of the node's hidden ancestors
    /// up to its visible parent, innermost first (from [`TreeView::hidden_nodes`]);
    /// `is_supertype` says which symbols are supertypes in the grammar.
    pub fn query_facts(
        &self,
        hidden_chain: impl Iterator<Item = u16>,
        is_supertype: &dyn Fn(u16) -> bool,
    ) -> NodeFacts {
        let next = self.next_sibling();
        let later_named = next.is_some_and(|n| n.is_named() || n.next_named_sibling().is_some());
        let facts = crate::facts::derive(
            self.field_id(),
            next.is_some(),
            later_named,
            self.parent().map(|p| p.kind_id()),
            hidden_chain,
            is_supertype,
        );
        let overrides = &self.tree.fact_overrides;
        match overrides.binary_search_by_key(&self.id, |o| o.node) {
            Ok(i) => crate::facts::apply(facts, &overrides[i]),
            Err(_) => facts,
        }
    }

    /// The S-expression of this subtree, exactly as `tree_sitter::Node::to_sexp`.
    pub fn to_sexp(&self) -> String {
        crate::sexp::to_sexp(*self)
    }

    pub(crate) fn error_char(&self) -> Option<i32> {
        self.tree.error_char(self.id)
    }
}

/// Iterator over a node's children.
pub struct Children<'t> {
    next: Option<Node<'t>>,
}

impl<'t> Iterator for Children<'t> {
    type Item = Node<'t>;
    fn next(&mut self) -> Option<Node<'t>> {
        let n = self.next?;
        self.next = n.next_sibling();
        Some(n)
    }
}

/// Preorder iterator over a subtree.
pub struct Preorder<'t> {
    tree: &'t TreeView,
    next: u32,
    end: u32,
}

impl<'t> Iterator for Preorder<'t> {
    type Item = Node<'t>;
    #[inline]
    fn next(&mut self) -> Option<Node<'t>> {
        (self.next < self.end).then(|| {
            self.next += 1;
            Node {
                tree: self.tree,
                id: self.next - 1,
            }
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end - self.next) as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Preorder<'_> {}
