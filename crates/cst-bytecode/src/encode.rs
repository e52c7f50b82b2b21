//! The encoder: `tree_sitter::Tree` + source → encoded bytes (feature `tree-sitter`).

use std::collections::HashMap;

use zerocopy::IntoBytes;
use zerocopy::byteorder::little_endian::{U16, U32};

use crate::format::{
    ARITY_ESCAPE, HEADER_LEN, HF_ERROR_CHARS, HF_SEXP_OVERRIDES, Header, MAGIC, TF_ERROR,
    TF_EXPLICIT_RANGE, TF_EXTRA, TF_FIXED_LEN, TF_HAS_ERROR, TF_MISSING, TF_NAMED, VERSION,
    checksum, put_varint, zigzag,
};

/// Why a tree could not be encoded.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// Sources of 4 GiB or more do not fit the format's 32-bit offsets.
    #[error("source of {0} bytes is too large (limit 4 GiB - 1)")]
    SourceTooLarge(usize),
    /// The tree spans bytes the given source does not have.
    #[error("the tree ends at byte {tree_end} but the source has {source_len} bytes")]
    SourceMismatch {
        /// End byte of the tree's root.
        tree_end: usize,
        /// Length of the source given.
        source_len: usize,
    },
    /// More distinct node types than the format's 16-bit palette index allows.
    #[error("more than 65,536 distinct node types in one tree")]
    TooManyNodeTypes,
}

/// One node as the cursor saw it.
struct Raw {
    kind: u16,
    field: u16,
    flags: u8,
    start: u32,
    end: u32,
    children: u32,
}

/// Palette key: everything about a node's type except its fixed length.
type Key = (u16, u16, u8, u8);

/// Encodes `tree`, parsed from `source`, for a grammar with `fingerprint`.
///
/// Visits every node a `TreeCursor` visits (named and anonymous, extras,
/// ERROR and MISSING) iteratively, so depth is bounded only by memory. The
/// output is deterministic: the same tree and source give the same bytes.
pub fn encode(
    tree: &tree_sitter::Tree,
    source: &[u8],
    fingerprint: [u8; 16],
) -> Result<Vec<u8>, EncodeError> {
    let source_len =
        u32::try_from(source.len()).map_err(|_| EncodeError::SourceTooLarge(source.len()))?;
    let root = tree.root_node();
    if root.end_byte() > source.len() {
        return Err(EncodeError::SourceMismatch {
            tree_end: root.end_byte(),
            source_len: source.len(),
        });
    }

    // 1. Walk.
    let mut nodes: Vec<Raw> = Vec::with_capacity(root.descendant_count());
    // Nodes that have an error but are neither ERROR nor MISSING: the error
    // may be a MISSING token hidden from the cursor (see step 2).
    let mut error_holders: Vec<(usize, tree_sitter::Node<'_>)> = Vec::new();
    let mut cursor = tree.walk();
    'walk: loop {
        let n = cursor.node();
        let mut flags = 0;
        if n.is_named() {
            flags |= TF_NAMED;
        }
        if n.is_extra() {
            flags |= TF_EXTRA;
        }
        if n.is_missing() {
            flags |= TF_MISSING;
        }
        if n.is_error() {
            flags |= TF_ERROR;
        }
        if n.has_error() {
            flags |= TF_HAS_ERROR;
            if !n.is_error() && !n.is_missing() {
                error_holders.push((nodes.len(), n));
            }
        }
        nodes.push(Raw {
            kind: n.kind_id(),
            field: cursor.field_id().map_or(0, |f| f.get()),
            flags,
            start: n.start_byte() as u32,
            end: n.end_byte() as u32,
            children: n.child_count() as u32,
        });
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }

    // 2. Ranges that cannot be derived from the first and last child, and
    //    errors that no visible child explains.
    let mut stack: Vec<(usize, u32, usize)> = Vec::new(); // (node, children left, last child)
    let mut parent_of: Vec<u32> = vec![u32::MAX; nodes.len()];
    let mut child_has_error = vec![false; nodes.len()];
    for i in 0..nodes.len() {
        if let Some(top) = stack.last_mut() {
            top.1 -= 1;
            top.2 = i;
            parent_of[i] = top.0 as u32;
            if nodes[i].flags & TF_HAS_ERROR != 0 {
                child_has_error[top.0] = true;
            }
        }
        if nodes[i].children > 0 {
            stack.push((i, nodes[i].children, i));
        }
        while let Some(&(p, 0, last)) = stack.last() {
            stack.pop();
            if nodes[p].start != nodes[p + 1].start || nodes[p].end != nodes[last].end {
                nodes[p].flags |= TF_EXPLICIT_RANGE;
            }
        }
    }

    // A node with an error that neither it nor a visible child explains holds
    // a MISSING token hidden from the cursor, which `to_sexp` still prints.
    // Keep tree-sitter's own rendering of the nearest printed node above it.
    let mut overrides: Vec<(u32, String)> = Vec::new();
    for &(i, node) in &error_holders {
        if child_has_error[i] {
            continue;
        }
        let (mut j, mut n) = (i, node);
        while nodes[j].flags & TF_NAMED == 0 {
            match (parent_of[j], n.parent()) {
                (p, Some(pn)) if p != u32::MAX => (j, n) = (p as usize, pn),
                _ => break,
            }
        }
        if j != 0 && !overrides.iter().any(|o| o.0 as usize == j) {
            overrides.push((j as u32, n.to_sexp()));
        }
    }
    overrides.sort();

    // 3. Palette: frequency order, then key order (deterministic).
    let key = |n: &Raw| -> Key {
        let arity = if n.children >= u32::from(ARITY_ESCAPE) {
            ARITY_ESCAPE
        } else {
            n.children as u8
        };
        (n.kind, n.field, n.flags, arity)
    };
    // key -> (count, Some(len) while every leaf of the key has that length)
    let mut stats: HashMap<Key, (u32, Option<u32>)> = HashMap::new();
    for n in &nodes {
        let k = key(n);
        let len = n.end - n.start;
        let e = stats.entry(k).or_insert((0, (k.3 == 0).then_some(len)));
        e.0 += 1;
        if e.1 != Some(len) {
            e.1 = None;
        }
    }
    if stats.len() > usize::from(u16::MAX) + 1 {
        return Err(EncodeError::TooManyNodeTypes);
    }
    let mut palette: Vec<(Key, u32, Option<u32>)> =
        stats.into_iter().map(|(k, (c, l))| (k, c, l)).collect();
    palette.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let index: HashMap<Key, u32> = palette
        .iter()
        .enumerate()
        .map(|(i, p)| (p.0, i as u32))
        .collect();

    let mut body = Vec::with_capacity(nodes.len() * 3 + source.len() / 16);
    for &((kind, field, flags, arity), _, fixed) in &palette {
        put_varint(&mut body, u64::from(kind));
        put_varint(&mut body, u64::from(field));
        body.push(flags | if fixed.is_some() { TF_FIXED_LEN } else { 0 });
        body.push(arity);
        if let Some(len) = fixed {
            put_varint(&mut body, u64::from(len));
        }
    }

    // 4. Nodes.
    let mut pos: i64 = 0;
    let mut error_chars: Vec<(u32, i32)> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let k = key(n);
        let t = index[&k];
        put_varint(&mut body, u64::from(t));
        if k.3 == ARITY_ESCAPE {
            put_varint(&mut body, u64::from(n.children));
        }
        let len = u64::from(n.end - n.start);
        if n.children == 0 {
            let gap = zigzag(i64::from(n.start) - pos);
            if palette[t as usize].2.is_some() {
                put_varint(&mut body, gap);
            } else if gap < 3 {
                put_varint(&mut body, (len << 2) | gap);
            } else {
                put_varint(&mut body, (len << 2) | 3);
                put_varint(&mut body, gap);
            }
            pos = i64::from(n.end);
            if n.flags & TF_ERROR != 0 && len > 0 {
                error_chars.push((i as u32, first_char(&source[n.start as usize..])));
            }
        } else if n.flags & TF_EXPLICIT_RANGE != 0 {
            put_varint(&mut body, zigzag(i64::from(n.start) - pos));
            put_varint(&mut body, len);
        }
    }

    // 5. Line table: the length of every line but the last.
    let mut line_count = 1u32;
    let mut line_start = 0usize;
    for (i, _) in source.iter().enumerate().filter(|(_, b)| **b == b'\n') {
        put_varint(&mut body, (i + 1 - line_start) as u64);
        line_start = i + 1;
        line_count += 1;
    }

    // 6. Error characters.
    let mut flags = 0u16;
    if !error_chars.is_empty() {
        flags |= HF_ERROR_CHARS;
        put_varint(&mut body, error_chars.len() as u64);
        let mut prev = 0u32;
        for (j, &(node, ch)) in error_chars.iter().enumerate() {
            put_varint(
                &mut body,
                u64::from(if j == 0 { node } else { node - prev - 1 }),
            );
            put_varint(&mut body, zigzag(i64::from(ch)));
            prev = node;
        }
    }

    if !overrides.is_empty() {
        flags |= HF_SEXP_OVERRIDES;
        put_varint(&mut body, overrides.len() as u64);
        let mut prev = 0u32;
        for (j, (node, text)) in overrides.iter().enumerate() {
            put_varint(
                &mut body,
                u64::from(if j == 0 { *node } else { node - prev - 1 }),
            );
            put_varint(&mut body, text.len() as u64);
            body.extend_from_slice(text.as_bytes());
            prev = *node;
        }
    }
    let body_len =
        u32::try_from(body.len()).map_err(|_| EncodeError::SourceTooLarge(source.len()))?;

    let mut header = Header {
        magic: MAGIC,
        version: U16::new(VERSION),
        flags: U16::new(flags),
        fingerprint,
        node_count: U32::new(nodes.len() as u32),
        source_len: U32::new(source_len),
        line_count: U32::new(line_count),
        palette_len: U32::new(palette.len() as u32),
        body_len: U32::new(body_len),
        checksum: U32::new(0),
    };
    header.checksum = U32::new(checksum(&header.as_bytes()[..HEADER_LEN - 4], &body));
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// The first character of `bytes` as tree-sitter's UTF-8 lexer decodes it:
/// the code point, or -1 for an invalid sequence (`TS_DECODE_ERROR`).
pub(crate) fn first_char(bytes: &[u8]) -> i32 {
    let head = &bytes[..bytes.len().min(4)];
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
    };
    valid.chars().next().map_or(-1, |c| c as i32)
}
