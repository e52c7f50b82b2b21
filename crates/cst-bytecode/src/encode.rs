//! The encoder: `tree_sitter::Tree` + source → encoded bytes (feature `tree-sitter`).

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;
use zerocopy::IntoBytes;
use zerocopy::byteorder::little_endian::{U16, U32};

use crate::facts::{FactOverride, HiddenNode, derive, override_for};
use crate::format::{
    ARITY_ESCAPE, HEADER_LEN, HF_ERROR_CHARS, HF_QUERY_FACTS, HF_RANGE_EXCEPTIONS,
    HF_SEXP_OVERRIDES, Header, MAGIC, QF_FIELD, QF_PARENT_KIND, QF_SUPERTYPES, RANGE_SKIP,
    RANGE_STOP, TF_ERROR, TF_EXPLICIT_RANGE, TF_EXTRA, TF_FIXED_LEN, TF_HAS_ERROR, TF_MISSING,
    TF_NAMED, VERSION, checksum, put_varint, zigzag,
};
use crate::sexp::render;
use crate::{Node, Symbols, TreeView};

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
    /// The tree is so deep that no thread with a stack for tree-sitter's
    /// recursive rendering of it could be started.
    #[error("tree of depth {depth} is too deep to render (no thread with a large enough stack)")]
    TooDeep {
        /// Visible depth of the tree.
        depth: usize,
    },
    /// tree-sitter's query-cursor walk saw another number of visible nodes
    /// than its public cursor (a bug in cst or an unsupported tree-sitter).
    #[error("query facts: the internal walk saw {internal} visible nodes, the cursor {public}")]
    FactsMismatch {
        /// Visible nodes of the internal walk.
        internal: usize,
        /// Nodes of the public walk.
        public: usize,
    },
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

fn key(n: &Raw) -> Key {
    let arity = if n.children >= u32::from(ARITY_ESCAPE) {
        ARITY_ESCAPE
    } else {
        n.children as u8
    };
    (n.kind, n.field, n.flags, arity)
}

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
    // The lookahead character of each ERROR leaf, in preorder (see `unexpected_char`).
    let mut unexpected: Vec<i32> = Vec::new();
    // Named-ness is a property of the (alias-aware) kind id: look it up
    // instead of asking each node.
    let language = tree.language();
    let named: Vec<bool> = (0..language.node_kind_count())
        .map(|id| language.node_kind_is_named(id as u16))
        .collect();
    let tree_has_error = root.has_error();
    let mut cursor = tree.walk();
    'walk: loop {
        let n = cursor.node();
        let kind = n.kind_id();
        let is_error = kind == crate::ERROR_KIND;
        let mut flags = 0;
        if is_error || named.get(usize::from(kind)).copied().unwrap_or(false) {
            flags |= TF_NAMED;
        }
        if n.is_extra() {
            flags |= TF_EXTRA;
        }
        // A tree without errors has no MISSING node and no node with an
        // error: skip two calls per node.
        if tree_has_error && n.is_missing() {
            flags |= TF_MISSING;
        }
        if is_error {
            flags |= TF_ERROR;
        }
        if tree_has_error && n.has_error() {
            flags |= TF_HAS_ERROR;
        }
        let (start, end, children) = (
            n.start_byte() as u32,
            n.end_byte() as u32,
            n.child_count() as u32,
        );
        if is_error && children == 0 && end > start {
            unexpected.push(unexpected_char(&n));
        }
        nodes.push(Raw {
            kind,
            field: cursor.field_id().map_or(0, |f| f.get()),
            flags,
            start,
            end,
            children,
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

    // 2. Ranges that cannot be derived from the first and last child.
    let mut stack: Vec<(usize, u32, usize)> = Vec::new(); // (node, children left, last child)
    let mut depth = 0;
    for i in 0..nodes.len() {
        depth = depth.max(stack.len());
        if let Some(top) = stack.last_mut() {
            top.1 -= 1;
            top.2 = i;
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

    // 3. Palette: frequency order, then key order (deterministic).
    // key -> (count, Some(len) while every leaf of the key has that length)
    let mut stats: HashMap<Key, (u32, Option<u32>)> = HashMap::default();
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

    // 4. Query facts: hidden nodes and the statuses the visible tree does not imply.
    let (hidden, fact_overrides) = query_facts(tree, &nodes)?;

    let parts = Parts {
        nodes: &nodes,
        palette: &palette,
        index: &index,
        unexpected: &unexpected,
        source,
        fingerprint,
        hidden: &hidden,
        fact_overrides: &fact_overrides,
    };
    let mut overrides = BTreeMap::new();
    let no_exceptions = BTreeMap::new();
    let mut bytes = parts.assemble(&overrides, &no_exceptions)?;
    // MISSING tokens of hidden kinds are invisible to the cursor, but
    // `to_sexp` prints them. Where the rendering of the encoded tree differs
    // from tree-sitter's, keep tree-sitter's rendering of the smallest printed
    // subtrees that differ. Only trees with errors can hold such tokens.
    // Cheap test first: tree-sitter prints one `(MISSING` per MISSING node,
    // visible or not; compare that count with the visible ones.
    let visible_missing = nodes.iter().filter(|n| n.flags & TF_MISSING != 0).count();
    if tree_has_error {
        let find = || {
            let mut overrides = BTreeMap::new();
            let root = tree.root_node();
            if root.to_sexp().matches("(MISSING ").count() != visible_missing {
                let symbols = Arc::new(Symbols::from_language(&tree.language(), fingerprint));
                let view = TreeView::open(&bytes, symbols).expect("the encoder's output decodes");
                find_overrides(root, view.root(), &mut overrides);
            }
            overrides
        };
        overrides = on_deep_stack(depth, find)?;
        if !overrides.is_empty() {
            bytes = parts.assemble(&overrides, &no_exceptions)?;
        }
    }
    // Empty-range queries at a zero-width node can take another way in
    // tree-sitter, whose walk also sees hidden nodes: record where.
    if nodes.iter().skip(1).any(|n| n.start == n.end) {
        let symbols = Arc::new(Symbols::from_language(&tree.language(), fingerprint));
        let view = TreeView::open(&bytes, symbols).expect("the encoder's output decodes");
        let exceptions = range_exceptions(tree, &view);
        if !exceptions.is_empty() {
            bytes = parts.assemble(&overrides, &exceptions)?;
        }
    }
    Ok(bytes)
}

/// Where the visible children alone would steer an empty-range query
/// (`descendant_for_byte_range(p, p)`) differently from tree-sitter, whose
/// walk also passes through hidden nodes: it skips a hidden node that ends
/// at `p` with whatever is in it (an empty visible node at its end is then
/// out of reach), and stops in a hidden empty node. Only a query `(p, p)`
/// at a child starting at `p` can differ that way (see `TreeView`'s
/// `descend`). From the parent of every empty node, tree-sitter's answer
/// for its position is compared with the walk over the visible children,
/// level by level along tree-sitter's path, and each difference becomes an
/// exception: [`RANGE_SKIP`] on a child tree-sitter passes over,
/// [`RANGE_STOP`] on the child the visible walk would enter where
/// tree-sitter stops. That covers every difference in reach of an empty
/// visible node (the visible walk only goes wrong by entering one, or a
/// node below it).
///
/// Not covered: a hidden empty node in front of a non-empty visible node
/// starting at the same position, with no empty visible node there (never
/// seen in the grammars tested; finding it would take a query at the start
/// of every node, quadratic in a wide node).
fn range_exceptions(tree: &tree_sitter::Tree, view: &TreeView) -> BTreeMap<u32, u8> {
    use std::collections::BTreeSet;
    let root = view.root();
    // Where tree-sitter's walks start: each parent of an empty node, with
    // the empty node's position.
    let mut starts: BTreeSet<(u32, usize)> = BTreeSet::new();
    for n in root.preorder().skip(1) {
        if n.start_byte() == n.end_byte() {
            let p = n.start_byte();
            if let Some(parent) = n.parent() {
                starts.insert((parent.id() as u32, p));
            }
        }
    }
    // Live nodes of those starts, and live node ids -> preorder indices.
    let wanted: BTreeSet<u32> = starts.iter().map(|s| s.0).collect();
    let mut live_of: HashMap<u32, tree_sitter::Node<'_>> = HashMap::default();
    let mut index_of: HashMap<usize, u32> = HashMap::default();
    let mut cursor = tree.walk();
    let mut i = 0u32;
    'walk: loop {
        let n = cursor.node();
        index_of.insert(n.id(), i);
        if wanted.contains(&i) {
            live_of.insert(i, n);
        }
        i += 1;
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }

    let mut exceptions: BTreeMap<u32, u8> = BTreeMap::new();
    // (node, position) pairs whose level already agrees with tree-sitter.
    let mut settled: BTreeSet<(u32, usize)> = BTreeSet::new();
    for (start, p) in starts {
        if settled.contains(&(start, p)) {
            continue;
        }
        let Some(target) = live_of[&start]
            .descendant_for_byte_range(p, p)
            .and_then(|r| index_of.get(&r.id()).copied())
        else {
            continue;
        };
        // tree-sitter's path: from `start` down to `target`.
        let mut path = vec![target];
        let mut at = view.node(target as usize).expect("an index of this tree");
        while at.id() as u32 != start {
            match at.parent() {
                Some(up) => {
                    path.push(up.id() as u32);
                    at = up;
                }
                None => break,
            }
        }
        if at.id() as u32 != start {
            continue;
        }
        path.reverse();
        for (k, &v) in path.iter().enumerate() {
            if !settled.insert((v, p)) {
                break;
            }
            let want = path.get(k + 1).copied();
            // The child the visible walk enters at `v`, given the
            // exceptions so far; adjust until it is tree-sitter's.
            loop {
                let node = view.node(v as usize).expect("an index of this tree");
                match (first_passing(node, p, &exceptions), want) {
                    (Some(c), Some(w)) if c == w => break,
                    (Some(c), Some(w)) if c < w => {
                        exceptions.insert(c, RANGE_SKIP);
                    }
                    (Some(c), None) => {
                        exceptions.insert(c, RANGE_STOP);
                        break;
                    }
                    // Agreed on stopping, or tree-sitter entered a child the
                    // visible filter rejects (cannot happen: same filter).
                    _ => break,
                }
            }
        }
    }
    exceptions
}

/// The child an empty-range query at `p` enters at `v` (`None`: it stops),
/// under `exceptions`; mirrors `Node::descend`.
fn first_passing(v: Node<'_>, p: usize, exceptions: &BTreeMap<u32, u8>) -> Option<u32> {
    for c in v.children() {
        let (start, end) = (c.start_byte(), c.end_byte());
        if end < p || (start != end && end <= p) {
            continue;
        }
        if p < start {
            return None;
        }
        match exceptions.get(&(c.id() as u32)) {
            Some(&RANGE_SKIP) if start == p => continue,
            Some(_) if start == p => return None,
            _ => return Some(c.id() as u32),
        }
    }
    None
}

/// Visible depth up to which tree-sitter's recursive `to_sexp` (C,
/// `ts_subtree__write_to_string`, one frame per subtree level, hidden ones
/// included) runs on the caller's stack; deeper trees get a thread of their
/// own with a stack sized for them, so no input overflows the caller's stack.
const SHALLOW: usize = 512;

/// Runs `f` here when the tree is shallow, else on a scoped thread with a
/// stack of 64 MiB + 16 KiB per visible level (hidden levels included at up
/// to ~90 frames of ~180 B per visible one), at most 2 GiB of address space
/// (only touched pages are committed).
fn on_deep_stack<T: Send>(depth: usize, f: impl FnOnce() -> T + Send) -> Result<T, EncodeError> {
    if depth <= SHALLOW {
        return Ok(f());
    }
    let stack = (64usize << 20)
        .saturating_add(depth.saturating_mul(16 << 10))
        .min(2 << 30);
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("cst-encode-deep".into())
            .stack_size(stack)
            .spawn_scoped(s, f)
            .map_err(|_| EncodeError::TooDeep { depth })?;
        match handle.join() {
            Ok(v) => Ok(v),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The hidden nodes of `tree` and the status overrides of its visible
/// nodes (`nodes`, in preorder), from tree-sitter's query-cursor walk.
fn query_facts(
    tree: &tree_sitter::Tree,
    nodes: &[Raw],
) -> Result<(Vec<HiddenNode>, Vec<FactOverride>), EncodeError> {
    let live = crate::live_facts::collect(tree);
    if live.status.len() != nodes.len() {
        return Err(EncodeError::FactsMismatch {
            internal: live.status.len(),
            public: nodes.len(),
        });
    }
    let language = tree.language();
    let supertype: Vec<bool> = (0..language.node_kind_count())
        .map(|id| language.node_kind_is_supertype(id as u16))
        .collect();
    let is_supertype = |s: u16| supertype.get(usize::from(s)).copied().unwrap_or(false);
    let later = later_siblings(nodes);
    let parents = parents(nodes);
    let mut overrides = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let (offset, len) = live.chain_of[i];
        let chain = &live.chains[offset as usize..(offset + len) as usize];
        let derived = derive(
            n.field,
            later[i] & 1 != 0,
            later[i] & 2 != 0,
            parents[i].map(|p| nodes[p as usize].kind),
            chain.iter().copied(),
            &is_supertype,
        );
        if let Some(o) = override_for(i as u32, &derived, &live.status[i]) {
            overrides.push(o);
        }
    }
    Ok((live.hidden, overrides))
}

/// One past the last node of each node's subtree (preorder, with child counts).
fn subtree_ends(nodes: &[Raw]) -> Vec<u32> {
    let mut ends = vec![0u32; nodes.len()];
    // (node, children still to come)
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        if let Some(top) = stack.last_mut() {
            top.1 -= 1;
        }
        if n.children > 0 {
            stack.push((i as u32, n.children));
        } else {
            ends[i] = i as u32 + 1;
        }
        while let Some(&(p, 0)) = stack.last() {
            stack.pop();
            ends[p as usize] = i as u32 + 1;
        }
    }
    ends
}

/// The range a hidden node spanning visible nodes `first..end` has when
/// nothing but them is in it: the first one's start to the end of the last
/// top-level one (the sibling of `first` whose subtree ends at `end`).
/// `TreeView` derives it the same way.
fn derived_range(nodes: &[Raw], subtree_end: &[u32], first: u32, end: u32) -> (u32, u32) {
    let mut c = first as usize;
    while subtree_end[c] < end && (subtree_end[c] as usize) < nodes.len() {
        c = subtree_end[c] as usize;
    }
    (nodes[first as usize].start, nodes[c].end)
}

/// The parent of each node (preorder, with child counts).
fn parents(nodes: &[Raw]) -> Vec<Option<u32>> {
    let mut out = Vec::with_capacity(nodes.len());
    // (node, children still to come)
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        while stack.last().is_some_and(|t| t.1 == 0) {
            stack.pop();
        }
        out.push(stack.last().map(|t| t.0));
        if let Some(top) = stack.last_mut() {
            top.1 -= 1;
        }
        if n.children > 0 {
            stack.push((i as u32, n.children));
        }
    }
    out
}

/// For each node (preorder, with child counts): bit 0 if a later sibling
/// exists, bit 1 if a later named sibling exists.
fn later_siblings(nodes: &[Raw]) -> Vec<u8> {
    let mut bits = vec![0u8; nodes.len()];
    // Children of each open node, in order.
    let mut stack: Vec<(u32, Vec<u32>)> = Vec::new();
    let close = |children: &[u32], bits: &mut [u8]| {
        let (mut any, mut named) = (false, false);
        for &c in children.iter().rev() {
            bits[c as usize] = u8::from(any) | (u8::from(named) << 1);
            any = true;
            named |= nodes[c as usize].flags & TF_NAMED != 0;
        }
    };
    for (i, n) in nodes.iter().enumerate() {
        if let Some(top) = stack.last_mut() {
            top.1.push(i as u32);
        }
        if n.children > 0 {
            stack.push((n.children, Vec::new()));
        }
        while stack
            .last()
            .is_some_and(|(count, children)| children.len() as u32 == *count)
        {
            let (_, children) = stack.pop().unwrap_or_default();
            close(&children, &mut bits);
        }
    }
    bits
}

struct Parts<'a> {
    nodes: &'a [Raw],
    palette: &'a [(Key, u32, Option<u32>)],
    index: &'a HashMap<Key, u32>,
    unexpected: &'a [i32],
    source: &'a [u8],
    fingerprint: [u8; 16],
    hidden: &'a [HiddenNode],
    fact_overrides: &'a [FactOverride],
}

impl Parts<'_> {
    fn assemble(
        &self,
        overrides: &BTreeMap<u32, String>,
        exceptions: &BTreeMap<u32, u8>,
    ) -> Result<Vec<u8>, EncodeError> {
        let Parts {
            nodes,
            palette,
            index,
            unexpected,
            source,
            fingerprint,
            hidden,
            fact_overrides,
        } = *self;
        let source_len = source.len() as u32;
        let mut body = Vec::with_capacity(nodes.len() * 3 + source.len() / 16);
        for &((kind, field, flags, arity), _, fixed) in palette {
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
        let mut unexpected_chars = unexpected.iter().copied();
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
                    error_chars.push((i as u32, unexpected_chars.next().unwrap_or(-1)));
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

        if !exceptions.is_empty() {
            flags |= HF_RANGE_EXCEPTIONS;
            put_varint(&mut body, exceptions.len() as u64);
            let mut prev = 0u32;
            for (j, (&node, &action)) in exceptions.iter().enumerate() {
                put_varint(
                    &mut body,
                    u64::from(if j == 0 { node } else { node - prev - 1 }),
                );
                body.push(action);
                prev = node;
            }
        }
        if !hidden.is_empty() || !fact_overrides.is_empty() {
            flags |= HF_QUERY_FACTS;
            put_varint(&mut body, hidden.len() as u64);
            // The hidden symbols of this tree, most frequent first.
            let mut counts: HashMap<u16, u32> = HashMap::default();
            for h in hidden {
                *counts.entry(h.symbol).or_default() += 1;
            }
            let mut symbols: Vec<(u16, u32)> = counts.into_iter().collect();
            symbols.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let slot: HashMap<u16, u32> = symbols
                .iter()
                .enumerate()
                .map(|(i, s)| (s.0, i as u32))
                .collect();
            if !hidden.is_empty() {
                put_varint(&mut body, symbols.len() as u64);
                for &(symbol, _) in &symbols {
                    put_varint(&mut body, u64::from(symbol));
                }
            }
            let mut prev_first = 0u32;
            let subtree_end = subtree_ends(nodes);
            for h in hidden {
                // The range, unless it is its visible descendants' (from the
                // first one's start to the last top-level one's end).
                let (start, end) = derived_range(nodes, &subtree_end, h.first, h.end);
                let explicit = start != h.start_byte || end != h.end_byte;
                let delta = u64::from(h.first - prev_first);
                let head = (u64::from(h.end - h.first - 1) << 4)
                    | (u64::from(explicit) << 3)
                    | delta.min(7);
                put_varint(&mut body, head);
                if delta >= 7 {
                    put_varint(&mut body, delta - 7);
                }
                put_varint(&mut body, u64::from(slot[&h.symbol]));
                if explicit {
                    put_varint(
                        &mut body,
                        zigzag(i64::from(start) - i64::from(h.start_byte)),
                    );
                    put_varint(&mut body, u64::from(h.end_byte - h.start_byte));
                }
                prev_first = h.first;
            }
            put_varint(&mut body, fact_overrides.len() as u64);
            let mut prev = 0u32;
            for (j, o) in fact_overrides.iter().enumerate() {
                put_varint(
                    &mut body,
                    u64::from(if j == 0 { o.node } else { o.node - prev - 1 }),
                );
                body.push(o.mask);
                if o.mask & QF_FIELD != 0 {
                    put_varint(&mut body, u64::from(o.field));
                }
                if o.mask & QF_PARENT_KIND != 0 {
                    put_varint(&mut body, u64::from(o.parent_kind));
                }
                if o.mask & QF_SUPERTYPES != 0 {
                    body.push(o.supertype_count);
                    for &s in &o.supertypes[..usize::from(o.supertype_count)] {
                        put_varint(&mut body, u64::from(s));
                    }
                }
                prev = o.node;
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
}

/// Post-order search for printed subtrees whose rendering differs from
/// tree-sitter's; records tree-sitter's rendering for the smallest ones.
fn find_overrides(
    live: tree_sitter::Node<'_>,
    decoded: Node<'_>,
    overrides: &mut BTreeMap<u32, String>,
) {
    // (live, decoded, children visited?)
    let mut stack = vec![(live, decoded, false)];
    while let Some((l, d, visited)) = stack.pop() {
        let rendered = render(d, &|id| overrides.get(&id).cloned());
        if !visited {
            if l.to_sexp() == rendered {
                continue;
            }
            stack.push((l, d, true));
            for (i, dc) in d.children().enumerate() {
                if let Some(lc) = l.child(i as u32)
                    && lc.has_error()
                {
                    stack.push((lc, dc, false));
                }
            }
        } else if d.is_named() || d.is_missing() {
            let expected = l.to_sexp();
            if expected != rendered {
                overrides.insert(d.id() as u32, expected);
            }
        }
    }
}

/// The lookahead character tree-sitter stored in an ERROR leaf: the
/// character the lexer was looking at when it gave up, which need not be the
/// leaf's first character (at the end of input it is `\0`). The public API
/// exposes it only through `to_sexp`, as `(UNEXPECTED c)`; read it back from
/// there. Rendering: `INVALID` (-1), `'\0'`, `'\n'`, `'\t'`, `'\r'`,
/// `'c'` for printable ASCII, else the decimal code point.
///
/// An ERROR node the cursor sees as a leaf may still have children of
/// hidden kinds with nothing visible in them: tree-sitter then prints it as
/// a plain `(ERROR)`, not as `(UNEXPECTED c)`; that is recorded as
/// [`crate::format::NOT_UNEXPECTED`].
fn unexpected_char(node: &tree_sitter::Node<'_>) -> i32 {
    let sexp = node.to_sexp();
    let Some(repr) = sexp
        .strip_prefix("(UNEXPECTED ")
        .and_then(|r| r.strip_suffix(')'))
    else {
        return crate::format::NOT_UNEXPECTED;
    };
    match repr {
        "INVALID" => -1,
        "'\\0'" => 0,
        "'\\n'" => 10,
        "'\\t'" => 9,
        "'\\r'" => 13,
        r if r.len() == 3 && r.starts_with('\'') && r.ends_with('\'') => i32::from(r.as_bytes()[1]),
        r => r.parse().unwrap_or(-1),
    }
}
