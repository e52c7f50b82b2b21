//! Reading format versions 1 to 3 (a varint stream that must be decoded
//! in one pass): [`decode`] validates every byte, as those versions always
//! did, and returns the tree as a [`Flat`], which the view re-lays out as
//! the current version (docs/FORMAT.md: "an older version builds its index at open
//! and is re-encoded on its next write").

use std::sync::Arc;

use crate::facts::{FactOverride, HiddenNode, MAX_SUPERTYPES};
use crate::format::{
    ARITY_ESCAPE, HEADER_LEN, HF_ERROR_CHARS, HF_KNOWN, HF_QUERY_FACTS, HF_RANGE_EXCEPTIONS,
    HF_SEXP_OVERRIDES, Header, QF_FIELD, QF_KNOWN, QF_PARENT_KIND, QF_SUPERTYPES,
    QUERY_FACTS_VERSION, RANGE_SKIP, RANGE_STOP, Reader, TF_ERROR, TF_EXPLICIT_RANGE, TF_FIXED_LEN,
    TF_KNOWN, unzigzag,
};
use crate::layout::{Flat, FlatNode, NODE_FLAGS};
use crate::{DecodeError, Symbols};

/// One entry of the per-tree node-type palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeType {
    pub kind: u16,
    pub field: u16,
    pub flags: u8,
    pub arity: u8,
    pub fixed_len: u32,
}

/// A tree of version 1 to 3, decoded.
struct Decoded {
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

impl Decoded {
    fn open(header: &Header, body: &[u8], symbols: Arc<Symbols>) -> Result<Decoded, DecodeError> {
        if header.flags.get() & !HF_KNOWN != 0 {
            return Err(DecodeError::Corrupt {
                offset: 6,
                what: "unknown header flags",
            });
        }
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
        let mut view = Decoded {
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

    fn node_type(&self, i: u32) -> &NodeType {
        &self.types[usize::from(self.nodes[i as usize].ty)]
    }

    fn is_error_leaf(&self, i: u32) -> bool {
        let t = self.node_type(i);
        t.flags & TF_ERROR != 0
            && self.nodes[i as usize].child_count == 0
            && self.nodes[i as usize].end > self.nodes[i as usize].start
    }
}

/// Decodes a tree of version 1 to 3 (`header` and `body` already checked by
/// [`Header::parse`]) into the layout-neutral form.
pub(crate) fn decode(
    header: &Header,
    body: &[u8],
    symbols: Arc<Symbols>,
) -> Result<Flat, DecodeError> {
    let d = Decoded::open(header, body, symbols)?;
    let facts = (d.version >= QUERY_FACTS_VERSION).then_some((d.hidden, d.fact_overrides));
    Ok(Flat {
        fingerprint: header.fingerprint,
        source_len: d.source_len,
        nodes: d
            .nodes
            .iter()
            .map(|n| {
                let t = &d.types[usize::from(n.ty)];
                FlatNode {
                    kind: t.kind,
                    field: t.field,
                    flags: t.flags & NODE_FLAGS,
                    start: n.start,
                    end: n.end,
                    children: n.child_count,
                }
            })
            .collect(),
        line_starts: d.line_starts,
        error_chars: d.error_chars,
        sexp: d
            .sexp_overrides
            .into_iter()
            .map(|(i, s)| (i, s.into_string()))
            .collect(),
        range_exceptions: d.range_exceptions,
        facts,
    })
}
