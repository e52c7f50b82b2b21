//! The encoder: `tree_sitter::Tree` + source → encoded bytes (feature `tree-sitter`).

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use crate::facts::{FactOverride, HiddenNode, derive, override_for};
use crate::format::{
    RANGE_SKIP, RANGE_STOP, TF_ERROR, TF_EXTRA, TF_HAS_ERROR, TF_MISSING, TF_NAMED,
};
use crate::layout::{Flat, FlatNode, LayoutError};
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

type Raw = FlatNode;

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

    // 2. Depth, for rendering on a stack deep enough.
    let mut open: Vec<u32> = Vec::new(); // children still to come per open node
    let mut depth = 0;
    for n in &nodes {
        while open.last() == Some(&0) {
            open.pop();
        }
        if let Some(top) = open.last_mut() {
            *top -= 1;
        }
        if n.children > 0 {
            open.push(n.children);
            depth = depth.max(open.len());
        }
    }

    // 3. Query facts: hidden nodes and the statuses the visible tree does not imply.
    let (hidden, fact_overrides, skipped_before) = query_facts(tree, &nodes)?;

    // 4. Error characters, by node; line starts.
    let mut error_chars = Vec::new();
    let mut chars = unexpected.iter().copied();
    for (i, n) in nodes.iter().enumerate() {
        if n.children == 0 && n.flags & TF_ERROR != 0 && n.end > n.start {
            error_chars.push((i as u32, chars.next().unwrap_or(-1)));
        }
    }
    let mut line_starts = vec![0u32];
    line_starts.extend(
        source
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i as u32 + 1),
    );
    let visible_missing = nodes.iter().filter(|n| n.flags & TF_MISSING != 0).count();
    let mut flat = Flat {
        fingerprint,
        source_len: source.len() as u32,
        nodes,
        line_starts,
        error_chars,
        sexp: Vec::new(),
        range_exceptions: Vec::new(),
        facts: Some((hidden, fact_overrides)),
    };
    let mut bytes = lay_out(&flat, source.len())?;
    // The encoder reads its own output back (below) at most twice: the
    // names once, and no checks (the bytes were just written).
    let symbols = std::sync::OnceLock::new();
    let reopen = |bytes: &[u8]| {
        let symbols =
            symbols.get_or_init(|| Arc::new(Symbols::from_language(&tree.language(), fingerprint)));
        TreeView::from_trusted_bytes(bytes::Bytes::copy_from_slice(bytes), symbols.clone())
            .expect("the encoder's output opens")
    };
    // MISSING tokens of hidden kinds are invisible to the cursor, but
    // `to_sexp` prints them. Where the rendering of the encoded tree differs
    // from tree-sitter's, keep tree-sitter's rendering of the smallest printed
    // subtrees that differ. Only trees with errors can hold such tokens.
    // Cheap test first: tree-sitter prints one `(MISSING` per MISSING node,
    // visible or not; compare that count with the visible ones.
    if tree_has_error {
        let find = || {
            let mut overrides = BTreeMap::new();
            let root = tree.root_node();
            if root.to_sexp().matches("(MISSING ").count() != visible_missing {
                let view = reopen(&bytes);
                find_overrides(root, view.root(), &mut overrides);
            }
            overrides
        };
        let overrides = on_deep_stack(depth, find)?;
        if !overrides.is_empty() {
            flat.sexp = overrides.into_iter().collect();
            bytes = lay_out(&flat, source.len())?;
        }
    }
    // Empty-range queries at a zero-width node can take another way in
    // tree-sitter, whose walk also sees hidden nodes: record where.
    // So can a hidden empty node in front of a visible one (the walk passed
    // over hidden children there).
    // (parent, position) of every empty node but the root.
    let empty_starts: Vec<(u32, u32)> = if flat.nodes.iter().skip(1).any(|n| n.start == n.end) {
        let parents = parents(&flat.nodes);
        (1..flat.nodes.len())
            .filter(|&i| flat.nodes[i].start == flat.nodes[i].end)
            .filter_map(|i| parents[i].map(|p| (p, flat.nodes[i].start)))
            .collect()
    } else {
        Vec::new()
    };
    if !skipped_before.is_empty() || !empty_starts.is_empty() {
        let view = reopen(&bytes);
        let exceptions = range_exceptions(tree, &view, &empty_starts, &skipped_before);
        if !exceptions.is_empty() {
            flat.range_exceptions = exceptions.into_iter().collect();
            bytes = lay_out(&flat, source.len())?;
        }
    }
    Ok(bytes)
}

fn lay_out(flat: &Flat, source_len: usize) -> Result<Vec<u8>, EncodeError> {
    crate::layout::write(flat).map_err(|e| match e {
        LayoutError::TooManyNodeTypes => EncodeError::TooManyNodeTypes,
        LayoutError::TooLarge => EncodeError::SourceTooLarge(source_len),
        LayoutError::Shape => EncodeError::Layout,
    })
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
fn range_exceptions(
    tree: &tree_sitter::Tree,
    view: &TreeView,
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
    // Live nodes of those starts (`goto_descendant` finds a preorder index
    // through the subtree sizes).
    let mut live_of: HashMap<u32, tree_sitter::Node<'_>> = HashMap::default();
    let mut cursor = tree.walk();
    for &(start, _) in &starts {
        if let std::collections::hash_map::Entry::Vacant(slot) = live_of.entry(start) {
            cursor.goto_descendant(start as usize);
            slot.insert(cursor.node());
        }
    }
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
    let all_agree = starts.iter().all(|&(start, p)| {
        let (Some(l), Some(d)) = (live_of.get(&start), view.node(start as usize)) else {
            return true;
        };
        match (
            l.descendant_for_byte_range(p, p),
            d.descendant_for_byte_range(p, p),
        ) {
            (Some(l), Some(d)) => same(l, d),
            (l, d) => l.is_none() && d.is_none(),
        }
    });
    if all_agree {
        return BTreeMap::new();
    }
    // Live node ids -> preorder indices, for the exact comparison.
    let mut index_of: HashMap<usize, u32> = HashMap::default();
    let mut cursor = tree.walk();
    let mut i = 0u32;
    'walk: loop {
        index_of.insert(cursor.node().id(), i);
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

/// Hidden nodes, status overrides, and where the walk passed over hidden
/// children without visible descendants.
type QueryFacts = (Vec<HiddenNode>, Vec<FactOverride>, Vec<(u32, u32)>);

/// The hidden nodes of `tree` and the status overrides of its visible
/// nodes (`nodes`, in preorder), from tree-sitter's query-cursor walk.
fn query_facts(tree: &tree_sitter::Tree, nodes: &[Raw]) -> Result<QueryFacts, EncodeError> {
    let live = crate::live_facts::collect(tree);
    if live.status.len() != nodes.len() || !live.layout_ok {
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
    Ok((live.hidden, overrides, live.skipped_before))
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
