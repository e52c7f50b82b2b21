//! The encoder: `tree_sitter::Tree` + source → encoded bytes (feature `tree-sitter`).

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use crate::format::{RANGE_SKIP, RANGE_STOP};
use crate::layout::{Flat, LayoutError};
use crate::live_facts::{KindTables, WalkError, Walked};
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
    /// The tree's shape could not be laid out (a bug in cst).
    #[error("the tree could not be laid out (child counts do not describe one tree)")]
    Layout,
    /// tree-sitter's query-cursor walk could not be read (its cursor is not
    /// laid out as the pinned tree-sitter's: a bug in cst or an unsupported
    /// tree-sitter).
    #[error("query facts: the internal walk saw {internal} visible nodes, the cursor {public}")]
    FactsMismatch {
        /// Visible nodes of the internal walk.
        internal: usize,
        /// Nodes of the public walk.
        public: usize,
    },
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

    // 1. One walk: every visible node, the ERROR leaves' lookahead
    // characters (see `unexpected_char`), and the query facts: hidden nodes
    // and the statuses the visible tree does not imply.
    let kinds = KindTables::new(&tree.language());
    let walked = crate::live_facts::walk(tree, &kinds, &unexpected_char).map_err(|e| match e {
        // The cursor's stack did not read as expected (an unsupported
        // tree-sitter): its facts cannot be trusted.
        WalkError::Stack => {
            let nodes = root.descendant_count();
            EncodeError::FactsMismatch {
                internal: nodes,
                public: nodes,
            }
        }
        WalkError::Shape => EncodeError::Layout,
    })?;
    let Walked {
        nodes,
        error_chars,
        hidden,
        overrides: fact_overrides,
        skipped_before,
        empty_starts,
        live_parents,
        ids,
        depth,
        visible_missing,
        hidden_missing,
    } = walked;

    // 2. Line starts; lay out.
    let mut flat = Flat {
        fingerprint,
        source_len: source.len() as u32,
        nodes,
        line_starts: line_starts(source),
        error_chars,
        sexp: Vec::new(),
        range_exceptions: Vec::new(),
        facts: Some((hidden, fact_overrides)),
    };
    let mut bytes = lay_out(&flat, source.len())?;
    // The encoder reads its own output back (below) at most twice, with no
    // checks (the bytes were just written), and with the grammar's names
    // only to render it (`names`): the rest reads ids.
    let reopen = |bytes: &bytes::Bytes, names: bool| {
        let symbols = match names {
            true => None,
            false => Symbols::new(fingerprint, Vec::new(), Vec::new()).ok(),
        }
        .unwrap_or_else(|| Symbols::from_language(&tree.language(), fingerprint));
        TreeView::from_trusted_bytes(bytes.clone(), Arc::new(symbols))
            .expect("the encoder's output opens")
    };
    // MISSING tokens of hidden kinds are invisible to the cursor, but
    // `to_sexp` prints them. Where the rendering of the encoded tree differs
    // from tree-sitter's, keep tree-sitter's rendering of the smallest printed
    // subtrees that differ. Only trees with errors can hold such tokens, and
    // only in a subtree with an error that the walk passed over
    // (`hidden_missing`). Then the cheap test: tree-sitter prints one
    // `(MISSING` per MISSING node, visible or not; compare that count with
    // the visible ones, in the subtrees of the outermost visible nodes that
    // hold such places (the whole tree when the places are not known).
    if hidden_missing.any() {
        let shared = bytes::Bytes::from(bytes);
        // Subtrees without such a place render alike: only those with one
        // are compared (all when the places are not known).
        let mut owners = hidden_missing.owners;
        owners.sort_unstable_by_key(|&(index, _)| index);
        owners.dedup_by_key(|&mut (index, _)| index);
        let known = !hidden_missing.unknown;
        let indices: Vec<u32> = owners.iter().map(|&(index, _)| index).collect();
        let nodes = &flat.nodes;
        let find = || {
            let mut overrides = BTreeMap::new();
            let root = tree.root_node();
            let view = std::cell::OnceCell::new();
            let view = || view.get_or_init(|| reopen(&shared, true));
            if !known {
                let sexp = root.to_sexp();
                if sexp.matches("(MISSING ").count() != visible_missing {
                    find_overrides(root, Some(sexp), view().root(), None, &mut overrides);
                }
                return overrides;
            }
            // The differences lie in the owners' subtrees: searched from
            // each outermost owner that differs, unless one cannot hold
            // an override itself (an anonymous node is not printed on its
            // own): then from the root, as when the places are not known.
            for (first, end, live) in outermost(&owners) {
                let sexp = live.to_sexp();
                let visible = nodes
                    .get(first as usize..end)
                    .unwrap_or_default()
                    .iter()
                    .filter(|n| n.flags & crate::format::TF_MISSING != 0)
                    .count();
                if sexp.matches("(MISSING ").count() == visible {
                    continue;
                }
                match view().node(first as usize) {
                    Some(d) if d.is_named() || d.is_missing() => {
                        find_overrides(live, Some(sexp), d, Some(&indices), &mut overrides);
                    }
                    _ => {
                        overrides.clear();
                        find_overrides(root, None, view().root(), Some(&indices), &mut overrides);
                        break;
                    }
                }
            }
            overrides
        };
        let overrides = on_deep_stack(depth, find)?;
        bytes = Vec::from(shared);
        if !overrides.is_empty() {
            flat.sexp = overrides.into_iter().collect();
            bytes = replace_tables(&bytes, &flat, source.len())?;
        }
    }
    // Empty-range queries at a zero-width node can take another way in
    // tree-sitter, whose walk also sees hidden nodes: record where.
    // So can a hidden empty node in front of a visible one (the walk passed
    // over hidden children there).
    if !skipped_before.is_empty() || !empty_starts.is_empty() {
        let shared = bytes::Bytes::from(bytes);
        let exceptions = {
            let view = reopen(&shared, false);
            range_exceptions(&view, &live_parents, &ids, &empty_starts, &skipped_before)
        };
        bytes = Vec::from(shared);
        if !exceptions.is_empty() {
            flat.range_exceptions = exceptions.into_iter().collect();
            bytes = replace_tables(&bytes, &flat, source.len())?;
        }
    }
    Ok(bytes)
}

/// The start byte of every line: 0, then one past each `\n`.
fn line_starts(source: &[u8]) -> Vec<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let newlines = u64::from(b'\n') * ONES;
    let mut out = Vec::with_capacity(source.len() / 32 + 1);
    out.push(0);
    let mut chunks = source.chunks_exact(8);
    let mut at = 0u32;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ newlines;
        // Some byte of `x` is zero (a `\n` in the chunk), or no byte is.
        if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
            for (i, &b) in chunk.iter().enumerate() {
                if b == b'\n' {
                    out.push(at + i as u32 + 1);
                }
            }
        }
        at += 8;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b == b'\n' {
            out.push(at + i as u32 + 1);
        }
    }
    out
}

fn lay_out(flat: &Flat, source_len: usize) -> Result<Vec<u8>, EncodeError> {
    crate::layout::write(flat).map_err(|e| layout_error(e, source_len))
}

/// `lay_out(flat)`, from `bytes` = `lay_out` of `flat` with other
/// S-expression and range-exception tables.
fn replace_tables(bytes: &[u8], flat: &Flat, source_len: usize) -> Result<Vec<u8>, EncodeError> {
    crate::layout::replace_tables(bytes, flat).map_err(|e| layout_error(e, source_len))
}

fn layout_error(e: LayoutError, source_len: usize) -> EncodeError {
    match e {
        LayoutError::TooManyNodeTypes => EncodeError::TooManyNodeTypes,
        LayoutError::TooLarge => EncodeError::SourceTooLarge(source_len),
        LayoutError::Shape => EncodeError::Layout,
    }
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
/// `skipped_before` adds the starts where a hidden empty node may sit in
/// front of a non-empty visible node with no empty visible node there: the
/// places tree-sitter's internal walk passed over hidden children with
/// nothing visible in them (Scala's automatic semicolon, Ruby's heredoc body
/// start).
fn range_exceptions<'tree>(
    view: &TreeView,
    live_of: &HashMap<u32, tree_sitter::Node<'tree>>,
    ids: &[usize],
    empty_starts: &[(u32, u32)],
    skipped_before: &[(u32, u32)],
) -> BTreeMap<u32, u8> {
    use std::collections::BTreeSet;
    // Where tree-sitter's walks start: each parent of an empty node, with
    // the empty node's position, and the places `skipped_before` names.
    let mut starts: BTreeSet<(u32, usize)> = skipped_before
        .iter()
        .map(|&(parent, p)| (parent, p as usize))
        .collect();
    starts.extend(empty_starts.iter().map(|&(parent, p)| (parent, p as usize)));
    // (`live_of` has the live node of every start, from the walk.)
    // tree-sitter's answer and the visible walk's, for every start.
    let answers: Vec<_> = starts
        .iter()
        .map(|&(start, p)| {
            let live = live_of.get(&start);
            let decoded = view.node(start as usize);
            let answers = live.zip(decoded).map(|(l, d)| {
                (
                    l.descendant_for_byte_range(p, p),
                    d.descendant_for_byte_range(p, p),
                )
            });
            (start, p, answers)
        })
        .collect();
    // Most starts agree already: a node is told apart from every other
    // node containing the position by its kind, range and size.
    let same = |l: tree_sitter::Node<'_>, d: Node<'_>| {
        (
            l.kind_id(),
            l.start_byte(),
            l.end_byte(),
            l.descendant_count(),
        ) == (
            d.kind_id(),
            d.start_byte(),
            d.end_byte(),
            d.descendant_count(),
        )
    };
    let all_agree = answers.iter().all(|(_, _, answers)| match answers {
        None => true,
        Some((Some(l), Some(d))) => same(*l, *d),
        Some((l, d)) => l.is_none() && d.is_none(),
    });
    if all_agree {
        return BTreeMap::new();
    }
    // An exception acts only at its node's start, so the starts of one
    // position are settled apart from the others'. A position all of whose
    // starts reach exactly tree-sitter's node (or where both stop at none)
    // needs none: the visible walk follows tree-sitter's path at every
    // level. The others are settled below.
    let exact = |answers: &Option<(Option<tree_sitter::Node<'_>>, Option<Node<'_>>)>| match answers
    {
        Some((Some(l), Some(d))) => ids.get(d.id()) == Some(&l.id()),
        Some((None, None)) => true,
        _ => false,
    };
    let mut open_positions: BTreeSet<usize> = BTreeSet::new();
    for (_, p, answers) in &answers {
        if !exact(answers) {
            open_positions.insert(*p);
        }
    }
    // Live node ids -> preorder indices, for the exact comparison: the
    // visible walk's node or one of its ancestors, most often; else by a
    // map built once.
    let index_map: std::cell::OnceCell<HashMap<usize, u32>> = std::cell::OnceCell::new();
    let index_of = |live: tree_sitter::Node<'_>, near: Option<Node<'_>>| -> Option<u32> {
        let mut at = near;
        while let Some(n) = at {
            if ids.get(n.id()) == Some(&live.id()) {
                return Some(n.id() as u32);
            }
            at = n.parent();
        }
        index_map
            .get_or_init(|| {
                let mut map = HashMap::with_capacity_and_hasher(ids.len(), Default::default());
                for (i, &id) in ids.iter().enumerate() {
                    map.insert(id, i as u32);
                }
                map
            })
            .get(&live.id())
            .copied()
    };

    let mut exceptions: BTreeMap<u32, u8> = BTreeMap::new();
    // (node, position) pairs whose level already agrees with tree-sitter.
    let mut settled: BTreeSet<(u32, usize)> = BTreeSet::new();
    for (start, p, answers) in answers {
        if !open_positions.contains(&p) || settled.contains(&(start, p)) {
            continue;
        }
        let Some(target) = answers
            .and_then(|(l, d)| Some((l?, d)))
            .and_then(|(l, d)| index_of(l, d))
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

/// The owners (sorted by preorder index) that lie in no earlier one's
/// subtree: (preorder index, one past its subtree's last, live node).
fn outermost<'a, 'tree>(
    owners: &'a [(u32, tree_sitter::Node<'tree>)],
) -> impl Iterator<Item = (u32, usize, tree_sitter::Node<'tree>)> + 'a {
    let mut covered = 0usize;
    owners.iter().filter_map(move |&(first, live)| {
        if (first as usize) < covered {
            return None;
        }
        covered = first as usize + live.descendant_count();
        Some((first, covered, live))
    })
}

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

/// Post-order search for printed subtrees whose rendering differs from
/// tree-sitter's; records tree-sitter's rendering for the smallest ones.
/// With `owners` (sorted), a subtree holding none of them renders as
/// tree-sitter's (it holds no MISSING node the walk did not see) and is not
/// compared. `live_sexp`: `live.to_sexp()`, if known.
fn find_overrides(
    live: tree_sitter::Node<'_>,
    mut live_sexp: Option<String>,
    decoded: Node<'_>,
    owners: Option<&[u32]>,
    overrides: &mut BTreeMap<u32, String>,
) {
    let holds_owner = |d: Node<'_>| {
        owners.is_none_or(|owners| {
            let first = d.id() as u32;
            let end = first.saturating_add(d.descendant_count() as u32);
            let at = owners.partition_point(|&o| o < first);
            owners.get(at).is_some_and(|&o| o < end)
        })
    };
    // (live, decoded, tree-sitter's rendering once known (then the
    // children were visited))
    let mut stack = vec![(live, decoded, None)];
    let mut cursor = live.walk();
    while let Some((l, d, expected)) = stack.pop() {
        match expected {
            None => {
                if !holds_owner(d) {
                    continue;
                }
                let expected = match live_sexp.take() {
                    Some(root) if l == live => root,
                    _ => l.to_sexp(),
                };
                if expected == render(d, &|id| overrides.get(&id).cloned()) {
                    continue;
                }
                stack.push((l, d, Some(expected)));
                for (lc, dc) in l.children(&mut cursor).zip(d.children()) {
                    if lc.has_error() {
                        stack.push((lc, dc, None));
                    }
                }
            }
            Some(expected) => {
                if (d.is_named() || d.is_missing())
                    && expected != render(d, &|id| overrides.get(&id).cloned())
                {
                    overrides.insert(d.id() as u32, expected);
                }
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
