//! The navigable-in-place layout, format versions 4 and 5 (docs/FORMAT.md,
//! "Navigable tree, versions 4 and 5"): the writer (of version 5), from a
//! layout-neutral [`Flat`] tree, and the section table the reader checks at
//! open.

use rustc_hash::FxHashMap as HashMap;
use zerocopy::IntoBytes;
use zerocopy::byteorder::little_endian::{U16, U32};

use crate::facts::{FactOverride, HiddenNode};
use crate::format::{
    HEADER_LEN, Header, MAGIC, TF_ERROR, TF_EXTRA, TF_HAS_ERROR, TF_MISSING, TF_NAMED, checksum,
};
use crate::spans::Span;
use crate::succinct::{SeqStyle, build_bp_dirs, build_ranks, write_seq};

/// The first version of this layout (read in place).
pub(crate) const V4: u16 = 4;
/// The version the writer writes: version 4 with compact sequence
/// directories (sequence kinds 2 and 3).
pub(crate) const V5: u16 = 5;
/// How version 5 writes the positions: without zero samples (a byte →
/// node search, rare, takes a binary search over the one samples instead).
pub(crate) const EVENTS_STYLE: SeqStyle = SeqStyle::V5 { zeros: false };
/// How version 5 writes the line starts: with zero samples (byte → row,
/// for every point read, stays O(1)).
pub(crate) const LINES_STYLE: SeqStyle = SeqStyle::V5 { zeros: true };

/// Header flag (v4): the tree records query facts (the tables may be empty).
pub(crate) const HF4_QUERY_FACTS: u16 = 1;
/// Header flags versions 4 and 5 define.
pub(crate) const HF4_KNOWN: u16 = HF4_QUERY_FACTS;

/// The node flags a type carries (named, extra, missing, error, has_error).
pub(crate) const NODE_FLAGS: u8 = TF_NAMED | TF_EXTRA | TF_MISSING | TF_ERROR | TF_HAS_ERROR;

/// Number of sections; the body starts with their byte lengths (u32 each).
pub(crate) const SECTIONS: usize = 21;
pub(crate) const TABLE_LEN: usize = SECTIONS * 4;

/// Section indices, in body order.
pub(crate) mod sec {
    pub const PALETTE: usize = 0;
    pub const TYPES: usize = 1;
    pub const TYPE_OVERFLOW: usize = 2;
    pub const BP: usize = 3;
    pub const BP_RANKS: usize = 4;
    pub const BP_WORD_MINS: usize = 5;
    pub const BP_TREE: usize = 6;
    pub const EVENTS: usize = 7;
    pub const LINES: usize = 8;
    pub const ERROR_CHARS: usize = 9;
    pub const SEXP_INDEX: usize = 10;
    pub const SEXP_TEXT: usize = 11;
    pub const RANGE_EXCEPTIONS: usize = 12;
    pub const SPANS: usize = 13;
    pub const SPAN_INDEX: usize = 14;
    pub const SPAN_SYMBOLS: usize = 15;
    pub const CHAINS: usize = 16;
    pub const CHAIN_SYMBOLS: usize = 17;
    pub const OVERRIDES: usize = 18;
    pub const SUPERTYPES: usize = 19;
    pub const RESERVED: usize = 20;
}

/// Bytes per record of the fixed-width tables.
pub(crate) const PALETTE_STRIDE: usize = 8;
pub(crate) const TYPE_OVERFLOW_STRIDE: usize = 6;
pub(crate) const CHAIN_STRIDE: usize = 8;
pub(crate) const ERROR_CHAR_STRIDE: usize = 8;
pub(crate) const SEXP_STRIDE: usize = 12;
pub(crate) const RANGE_STRIDE: usize = 5;
pub(crate) const OVERRIDE_STRIDE: usize = 16;
/// Type byte meaning "the type index is in the overflow table".
pub(crate) const TYPE_ESCAPE: u8 = 255;

/// One node, layout-neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlatNode {
    pub kind: u16,
    pub field: u16,
    /// [`NODE_FLAGS`] bits only.
    pub flags: u8,
    pub start: u32,
    pub end: u32,
    pub children: u32,
}

/// A whole tree, layout-neutral: what the encoder collects from a live tree
/// and what a reader of versions 1 to 3 decodes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flat {
    pub fingerprint: [u8; 16],
    pub source_len: u32,
    /// Preorder, with child counts.
    pub nodes: Vec<FlatNode>,
    /// Start byte of every line; the first is 0.
    pub line_starts: Vec<u32>,
    /// (node, character), by node.
    pub error_chars: Vec<(u32, i32)>,
    /// (node, tree-sitter's S-expression of it), by node.
    pub sexp: Vec<(u32, String)>,
    /// (node, action), by node.
    pub range_exceptions: Vec<(u32, u8)>,
    /// Hidden nodes and status overrides, when the tree records them.
    pub facts: Option<(Vec<HiddenNode>, Vec<FactOverride>)>,
}

/// Why a [`Flat`] tree could not be laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LayoutError {
    TooManyNodeTypes,
    TooLarge,
    /// Child counts that do not describe one tree.
    Shape,
}

/// Lays `flat` out as the current version (5).
pub(crate) fn write(flat: &Flat) -> Result<Vec<u8>, LayoutError> {
    let n = flat.nodes.len();
    if n == 0 || n > (u32::MAX / 2) as usize {
        return Err(LayoutError::Shape);
    }
    // Hidden nodes that wrap exactly one visible node with its range (most
    // of them: supertypes and other hidden rules over a single child) are a
    // chain of symbols in the node's type; the others go to a side table.
    let (chain_of, chains, side) = match &flat.facts {
        Some((hidden, _)) => split_hidden(flat, hidden)?,
        None => (vec![0; n], Vec::new(), Vec::new()),
    };
    // Palette: by descending count, ties by key. Each node's type is looked
    // up once, as a provisional id in order of first appearance.
    type TypeKey = (u16, u16, u8, u32);
    let key = |i: usize, v: &FlatNode| (v.kind, v.field, v.flags & NODE_FLAGS, chain_of[i]);
    let mut ids: HashMap<TypeKey, u32> = HashMap::default();
    let mut keys: Vec<(TypeKey, u32)> = Vec::new();
    let mut provisional: Vec<u32> = Vec::with_capacity(n);
    for (i, v) in flat.nodes.iter().enumerate() {
        let k = key(i, v);
        let id = *ids.entry(k).or_insert_with(|| {
            keys.push((k, 0));
            keys.len() as u32 - 1
        });
        keys[id as usize].1 += 1;
        provisional.push(id);
    }
    if keys.len() > 1 << 16 || chains.len() >= 1 << 16 {
        return Err(LayoutError::TooManyNodeTypes);
    }
    let mut order: Vec<u32> = (0..keys.len() as u32).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&keys[a as usize], &keys[b as usize]);
        b.1.cmp(&a.1).then(a.0.cmp(&b.0))
    });
    // Provisional id -> palette index.
    let mut index = vec![0u32; keys.len()];
    for (i, &id) in order.iter().enumerate() {
        index[id as usize] = i as u32;
    }

    let mut sections: Vec<Vec<u8>> = vec![Vec::new(); SECTIONS];
    let out = &mut sections[sec::PALETTE];
    for &id in &order {
        let (kind, field, flags, chain) = keys[id as usize].0;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&field.to_le_bytes());
        out.push(flags);
        out.push(0);
        out.extend_from_slice(&(chain as u16).to_le_bytes());
    }
    let mut symbols = Vec::new();
    let out = &mut sections[sec::CHAINS];
    for c in &chains {
        out.extend_from_slice(&((symbols.len() / 2) as u32).to_le_bytes());
        out.extend_from_slice(&(c.len() as u32).to_le_bytes());
        for s in c {
            symbols.extend_from_slice(&s.to_le_bytes());
        }
    }
    sections[sec::CHAIN_SYMBOLS] = symbols;
    // Types: one byte each, the most frequent 255 types direct, the others
    // escaped to a table of (node, type) sorted by node.
    let mut overflow = Vec::new();
    let out = &mut sections[sec::TYPES];
    out.reserve(n);
    for (i, &id) in provisional.iter().enumerate() {
        let t = index[id as usize];
        if t < u32::from(TYPE_ESCAPE) {
            out.push(t as u8);
        } else {
            out.push(TYPE_ESCAPE);
            overflow.extend_from_slice(&(i as u32).to_le_bytes());
            overflow.extend_from_slice(&(t as u16).to_le_bytes());
        }
    }
    sections[sec::TYPE_OVERFLOW] = overflow;

    // Balanced parentheses and the event positions (open: start, close: end).
    let len = 2 * n;
    let mut words = vec![0u64; len.div_ceil(64)];
    let mut events: Vec<u32> = Vec::with_capacity(len);
    let mut stack: Vec<(u32, u32)> = Vec::new(); // (node, children still to come)
    for (i, v) in flat.nodes.iter().enumerate() {
        match stack.last_mut() {
            Some(top) if top.1 > 0 => top.1 -= 1,
            Some(_) => return Err(LayoutError::Shape),
            None if i > 0 => return Err(LayoutError::Shape),
            None => {}
        }
        let p = events.len();
        words[p / 64] |= 1 << (p % 64);
        events.push(v.start);
        if v.children > 0 {
            stack.push((i as u32, v.children));
            continue;
        }
        events.push(v.end);
        while let Some(&(p, 0)) = stack.last() {
            stack.pop();
            events.push(flat.nodes[p as usize].end);
        }
    }
    if !stack.is_empty() || events.len() != len {
        return Err(LayoutError::Shape);
    }
    let ranks = build_ranks(&words, len);
    let (mins, tree, _) = build_bp_dirs(&words, len);
    sections[sec::BP] = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    sections[sec::BP_RANKS] = ranks.iter().flat_map(|w| w.to_le_bytes()).collect();
    sections[sec::BP_WORD_MINS] = mins.iter().map(|&m| m as u8).collect();
    sections[sec::BP_TREE] = tree.iter().flat_map(|w| w.to_le_bytes()).collect();
    write_seq(&mut sections[sec::EVENTS], &events, EVENTS_STYLE);
    write_seq(&mut sections[sec::LINES], &flat.line_starts, LINES_STYLE);

    let out = &mut sections[sec::ERROR_CHARS];
    for &(node, ch) in &flat.error_chars {
        out.extend_from_slice(&node.to_le_bytes());
        out.extend_from_slice(&ch.to_le_bytes());
    }
    (sections[sec::SEXP_INDEX], sections[sec::SEXP_TEXT]) = sexp_tables(&flat.sexp);
    sections[sec::RANGE_EXCEPTIONS] = range_table(&flat.range_exceptions);
    let mut flags = 0;
    if let Some((hidden, overrides)) = &flat.facts {
        flags |= HF4_QUERY_FACTS;
        let _ = hidden;
        let (stream, index, symbols) = crate::spans::write(&side);
        sections[sec::SPANS] = stream;
        sections[sec::SPAN_INDEX] = index;
        sections[sec::SPAN_SYMBOLS] = symbols;
        let mut supertypes: Vec<u8> = Vec::new();
        let out = &mut sections[sec::OVERRIDES];
        for o in overrides {
            out.extend_from_slice(&o.node.to_le_bytes());
            out.push(o.mask);
            out.push(o.supertype_count);
            out.extend_from_slice(&o.field.to_le_bytes());
            out.extend_from_slice(&o.parent_kind.to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&((supertypes.len() / 2) as u32).to_le_bytes());
            for s in &o.supertypes[..usize::from(o.supertype_count)] {
                supertypes.extend_from_slice(&s.to_le_bytes());
            }
        }
        sections[sec::SUPERTYPES] = supertypes;
    }

    let header = Header {
        magic: MAGIC,
        version: U16::new(V5),
        flags: U16::new(flags),
        fingerprint: flat.fingerprint,
        node_count: U32::new(n as u32),
        source_len: U32::new(flat.source_len),
        line_count: U32::new(flat.line_starts.len() as u32),
        palette_len: U32::new(keys.len() as u32),
        body_len: U32::new(0),
        checksum: U32::new(0),
    };
    assemble(header, sections.iter().map(Vec::as_slice))
}

/// The header (body length and checksum filled in), the section table and
/// the sections.
fn assemble<'a>(
    mut header: Header,
    sections: impl Iterator<Item = &'a [u8]> + Clone,
) -> Result<Vec<u8>, LayoutError> {
    let body_len: usize = TABLE_LEN + sections.clone().map(<[u8]>::len).sum::<usize>();
    let body_len = u32::try_from(body_len).map_err(|_| LayoutError::TooLarge)?;
    let mut out = Vec::with_capacity(HEADER_LEN + body_len as usize);
    out.extend_from_slice(&[0; HEADER_LEN]);
    for s in sections.clone() {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    }
    for s in sections {
        out.extend_from_slice(s);
    }
    header.body_len = U32::new(body_len);
    header.checksum = U32::new(checksum(
        &header.as_bytes()[..HEADER_LEN - 4],
        &out[HEADER_LEN..],
    ));
    out[..HEADER_LEN].copy_from_slice(header.as_bytes());
    Ok(out)
}

/// The S-expression tables: index and text.
fn sexp_tables(sexp: &[(u32, String)]) -> (Vec<u8>, Vec<u8>) {
    let mut text = Vec::new();
    let mut index = Vec::with_capacity(sexp.len() * SEXP_STRIDE);
    for (node, s) in sexp {
        index.extend_from_slice(&node.to_le_bytes());
        index.extend_from_slice(&(text.len() as u32).to_le_bytes());
        index.extend_from_slice(&(s.len() as u32).to_le_bytes());
        text.extend_from_slice(s.as_bytes());
    }
    (index, text)
}

/// The range-exception table.
fn range_table(exceptions: &[(u32, u8)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(exceptions.len() * RANGE_STRIDE);
    for &(node, action) in exceptions {
        out.extend_from_slice(&node.to_le_bytes());
        out.push(action);
    }
    out
}

/// What [`write`] makes of `flat`, given what it made of `flat` with other
/// S-expression and range-exception tables (`bytes`, which nothing else
/// depends on): those two tables are replaced, the rest is kept. (The
/// encoder's, which needs tree-sitter.)
#[cfg(feature = "tree-sitter")]
pub(crate) fn replace_tables(bytes: &[u8], flat: &Flat) -> Result<Vec<u8>, LayoutError> {
    let header = Header::parse_unchecked(bytes).map_err(|_| LayoutError::Shape)?;
    let table = bytes
        .get(HEADER_LEN..HEADER_LEN + TABLE_LEN)
        .ok_or(LayoutError::Shape)?;
    let mut sections: Vec<&[u8]> = Vec::with_capacity(SECTIONS);
    let mut at = HEADER_LEN + TABLE_LEN;
    for len in table.chunks_exact(4) {
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let section = at
            .checked_add(len)
            .and_then(|end| bytes.get(at..end))
            .ok_or(LayoutError::Shape)?;
        sections.push(section);
        at += len;
    }
    let (sexp_index, sexp_text) = sexp_tables(&flat.sexp);
    let ranges = range_table(&flat.range_exceptions);
    sections[sec::SEXP_INDEX] = &sexp_index;
    sections[sec::SEXP_TEXT] = &sexp_text;
    sections[sec::RANGE_EXCEPTIONS] = &ranges;
    assemble(header, sections.iter().copied())
}

/// Every node's chain id, the chains, and the spans.
type SplitHidden = (Vec<u32>, Vec<Vec<u16>>, Vec<Span>);

/// Splits the hidden nodes (walk order) into each visible node's chain (the
/// longest run, at the end of the hidden nodes starting at it, of nodes
/// spanning exactly it with its range; outer first) and the rest. Returns
/// every node's chain id (0: none; else 1 + index into the chains), the
/// chains, and the rest in walk order.
fn split_hidden(flat: &Flat, hidden: &[HiddenNode]) -> Result<SplitHidden, LayoutError> {
    let n = flat.nodes.len();
    // One past the last node of each subtree.
    let mut sub_end = vec![0u32; n];
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for (i, v) in flat.nodes.iter().enumerate() {
        if let Some(top) = stack.last_mut() {
            top.1 = top.1.saturating_sub(1);
        }
        if v.children > 0 {
            stack.push((i as u32, v.children));
        } else {
            sub_end[i] = i as u32 + 1;
        }
        while let Some(&(p, 0)) = stack.last() {
            stack.pop();
            sub_end[p as usize] = i as u32 + 1;
        }
    }
    let mut chain_of = vec![0u32; n];
    let mut chains: Vec<Vec<u16>> = Vec::new();
    let mut ids: HashMap<Vec<u16>, u32> = HashMap::default();
    let mut side = Vec::new();
    let mut buf: Vec<u16> = Vec::new();
    let mut i = 0;
    while i < hidden.len() {
        let v = hidden[i].first as usize;
        let node = flat.nodes.get(v).ok_or(LayoutError::Shape)?;
        let mut j = i;
        while j < hidden.len() && hidden[j].first as usize == v {
            j += 1;
        }
        let exact = |h: &HiddenNode| {
            h.end == sub_end[v] && h.start_byte == node.start && h.end_byte == node.end
        };
        let mut k = j;
        while k > i && exact(&hidden[k - 1]) {
            k -= 1;
        }
        for h in &hidden[i..k] {
            // The range, unless it is its visible descendants'.
            let mut c = v;
            while (sub_end[c] as usize) < (h.end as usize).min(n) && (sub_end[c] as usize) < n {
                c = sub_end[c] as usize;
            }
            let derived = (node.start, flat.nodes[c].end);
            side.push(Span {
                first: h.first,
                end: h.end,
                symbol: h.symbol,
                range: (derived != (h.start_byte, h.end_byte))
                    .then_some((h.start_byte, h.end_byte)),
            });
        }
        if k < j {
            buf.clear();
            buf.extend(hidden[k..j].iter().map(|h| h.symbol));
            chain_of[v] = match ids.get(buf.as_slice()) {
                Some(&id) => id,
                None => {
                    chains.push(buf.clone());
                    let id = chains.len() as u32;
                    ids.insert(buf.clone(), id);
                    id
                }
            };
        }
        i = j;
    }
    Ok((chain_of, chains, side))
}
