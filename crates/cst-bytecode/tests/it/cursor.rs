//! `cst_bytecode::Cursor` against `tree_sitter::TreeCursor`, move for move:
//! after every move, the value it returned and the current node (kind,
//! flags, range, points), its field, depth and descendant index must be
//! tree-sitter's.
//!
//! - property tests: random move sequences on trees of several languages,
//!   broken sources (ERROR and MISSING nodes) and extras among them;
//! - a corpus pass: full walks forward and backward, every descendant
//!   index, the child-for-byte and child-for-point searches at every
//!   child's boundaries, cursors rooted below the root, and a long random
//!   walk, over `corpora/samples/<lang>/` and, when it is there,
//!   `../shared/peer-suites/<lang>/corpus/` (a loud SKIPPED line if not,
//!   a failure if `CI` is set).
//!
//! tree-sitter 0.26.13's `goto_previous_sibling` leaves its cursor
//! inconsistent: the entries it creates get descendant index 0
//! (`ts_tree_cursor_child_iterator_previous` does not set it), their
//! structural child index is off by one across an extra sibling (so the
//! field of the next sibling can be reported), and it stops at a node's
//! 256th internal child (tree-sitter issue #5950). After every
//! `goto_previous_sibling` the tree-sitter cursor is therefore compared as
//! it moved (return value, node, depth), then re-placed on the same node by
//! `reset` + `goto_descendant` (a path without the quirk) and compared in
//! full; where its move itself differs, the move must agree with
//! `tree_sitter::Node::prev_sibling` and is counted as the upstream bug.

use std::sync::OnceLock;

use cst_bytecode::{Cursor, Point, TreeView};
use proptest::prelude::*;

use crate::common;

/// What is compared after every move.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    kind_id: u16,
    kind: String,
    named: bool,
    extra: bool,
    error: bool,
    missing: bool,
    start: usize,
    end: usize,
    start_point: (usize, usize),
    end_point: (usize, usize),
    field_id: Option<u16>,
    field_name: Option<String>,
    depth: u32,
    descendant_index: usize,
}

fn ts_state(c: &tree_sitter::TreeCursor<'_>) -> State {
    let n = c.node();
    State {
        kind_id: n.kind_id(),
        kind: n.kind().to_owned(),
        named: n.is_named(),
        extra: n.is_extra(),
        error: n.is_error(),
        missing: n.is_missing(),
        start: n.start_byte(),
        end: n.end_byte(),
        start_point: (n.start_position().row, n.start_position().column),
        end_point: (n.end_position().row, n.end_position().column),
        field_id: c.field_id().map(|f| f.get()),
        field_name: c.field_name().map(str::to_owned),
        depth: c.depth(),
        descendant_index: c.descendant_index(),
    }
}

fn our_state(c: &mut Cursor<'_>) -> Result<State, String> {
    let n = c.node();
    // The cursor's own positions (decoded in order) are the node's, read
    // in either order.
    let (start, end) = if c.descendant_index() % 3 == 1 {
        let end = c.end_byte();
        (c.start_byte(), end)
    } else {
        (c.start_byte(), c.end_byte())
    };
    if (start, end) != (n.start_byte(), n.end_byte()) || c.byte_range() != n.byte_range() {
        return Err(format!(
            "cursor positions {start}..{end}, node {:?}",
            n.byte_range()
        ));
    }
    Ok(State {
        kind_id: n.kind_id(),
        kind: n.kind().to_owned(),
        named: n.is_named(),
        extra: n.is_extra(),
        error: n.is_error(),
        missing: n.is_missing(),
        start: n.start_byte(),
        end: n.end_byte(),
        start_point: (n.start_position().row, n.start_position().column),
        end_point: (n.end_position().row, n.end_position().column),
        field_id: c.field_id().map(|f| f.get()),
        field_name: c.field_name().map(str::to_owned),
        depth: c.depth(),
        descendant_index: c.descendant_index(),
    })
}

/// The part of [`State`] tree-sitter keeps right across
/// `goto_previous_sibling`.
fn placement(s: &State) -> (u16, usize, usize, u32) {
    (s.kind_id, s.start, s.end, s.depth)
}

#[derive(Debug, Clone, Copy)]
enum Move {
    FirstChild,
    LastChild,
    NextSibling,
    PrevSibling,
    Parent,
    /// A descendant index (taken modulo the subtree's size + 2).
    Descendant(u32),
    /// Any byte (modulo the source length + 2).
    ForByte(u32),
    /// A boundary of a node (its index modulo the node count): start or
    /// end, minus 0 or 1, as a byte or as a point (`u8` picks).
    ForEdge(u32, u8),
    /// Any point (row modulo the line count + 2, column modulo 120).
    ForPoint(u32, u32),
    /// Reset both cursors to a node (index modulo the node count).
    Reset(u32),
    /// Continue with clones of both cursors.
    Clone,
}

/// Counts across a run.
#[derive(Default, Debug)]
struct Stats {
    moves: usize,
    /// tree-sitter's cursor re-placed after `goto_previous_sibling`.
    resyncs: usize,
    /// `goto_previous_sibling` of tree-sitter differing from its own
    /// `Node::prev_sibling` (issue #5950).
    upstream_prev: usize,
}

/// The two cursors over one tree.
struct Pair<'a> {
    tree: &'a tree_sitter::Tree,
    view: &'a TreeView,
    source: &'a [u8],
    ts: tree_sitter::TreeCursor<'a>,
    ts_root: tree_sitter::Node<'a>,
    ours: Cursor<'a>,
    log: Vec<Move>,
}

impl<'a> Pair<'a> {
    fn new(p: &'a common::Parsed, source: &'a [u8], start: usize) -> Pair<'a> {
        let k = start % p.view.node_count();
        let ts_root = ts_node(&p.tree, k);
        let ours = p.view.node(k).unwrap().walk();
        Pair {
            tree: &p.tree,
            view: &p.view,
            source,
            ts: ts_root.walk(),
            ts_root,
            ours,
            log: Vec::new(),
        }
    }

    fn fail(&self, what: &str) -> String {
        let tail: Vec<_> = self.log.iter().rev().take(12).rev().collect();
        format!(
            "{what}\n  after {} moves, the last: {tail:?}\n  source: {:?}",
            self.log.len(),
            String::from_utf8_lossy(&self.source[..self.source.len().min(200)])
        )
    }

    fn compare(&mut self, what: &str) -> Result<(), String> {
        let ours = our_state(&mut self.ours).map_err(|e| self.fail(&e))?;
        let theirs = ts_state(&self.ts);
        if ours != theirs {
            return Err(self.fail(&format!(
                "{what}: states differ\n  tree-sitter: {theirs:?}\n  cst:         {ours:?}"
            )));
        }
        Ok(())
    }

    fn returned<T: PartialEq + std::fmt::Debug>(
        &self,
        m: Move,
        ts: T,
        ours: T,
    ) -> Result<(), String> {
        if ts != ours {
            return Err(self.fail(&format!("{m:?} returned {ours:?}, tree-sitter {ts:?}")));
        }
        Ok(())
    }

    fn apply(&mut self, m: Move, stats: &mut Stats) -> Result<(), String> {
        self.log.push(m);
        stats.moves += 1;
        let len = self.source.len();
        match m {
            Move::FirstChild => {
                let (a, b) = (self.ts.goto_first_child(), self.ours.goto_first_child());
                self.returned(m, a, b)?;
            }
            Move::LastChild => {
                let (a, b) = (self.ts.goto_last_child(), self.ours.goto_last_child());
                self.returned(m, a, b)?;
            }
            Move::NextSibling => {
                let (a, b) = (self.ts.goto_next_sibling(), self.ours.goto_next_sibling());
                self.returned(m, a, b)?;
            }
            Move::Parent => {
                let (a, b) = (self.ts.goto_parent(), self.ours.goto_parent());
                self.returned(m, a, b)?;
            }
            Move::PrevSibling => return self.prev_sibling(stats),
            Move::Descendant(x) => {
                let size = self.ts_root.descendant_count();
                let i = x as usize % (size + 2);
                self.ts.goto_descendant(i);
                self.ours.goto_descendant(i);
            }
            Move::ForByte(x) => self.for_byte(x as usize % (len + 2))?,
            Move::ForEdge(x, pick) => {
                let n = self.view.node(x as usize % self.view.node_count()).unwrap();
                let byte = if pick & 1 == 0 {
                    n.start_byte()
                } else {
                    n.end_byte()
                };
                let byte = byte.saturating_sub(usize::from(pick & 2 != 0));
                if pick & 4 == 0 {
                    self.for_byte(byte)?;
                } else {
                    let p = self.view.point_for_byte(byte);
                    // Also a column past the end of the row.
                    let column = if pick & 8 != 0 {
                        p.column + 500
                    } else {
                        p.column
                    };
                    self.for_point(p.row, column)?;
                }
            }
            Move::ForPoint(r, c) => {
                let row = r as usize % (self.view.line_count() + 2);
                self.for_point(row, c as usize % 120)?;
            }
            Move::Reset(x) => {
                let k = x as usize % self.view.node_count();
                self.ts_root = ts_node(self.tree, k);
                self.ts.reset(self.ts_root);
                self.ours.reset(self.view.node(k).unwrap());
            }
            Move::Clone => {
                self.ts = self.ts.clone();
                let mut copy = self.view.walk();
                copy.reset_to(&self.ours);
                self.ours = if self.log.len().is_multiple_of(2) {
                    copy
                } else {
                    self.ours.clone()
                };
            }
        }
        self.compare(&format!("after {m:?}"))
    }

    fn for_byte(&mut self, byte: usize) -> Result<(), String> {
        let a = self.ts.goto_first_child_for_byte(byte);
        let b = self.ours.goto_first_child_for_byte(byte);
        self.returned(Move::ForByte(byte as u32), a, b)
    }

    fn for_point(&mut self, row: usize, column: usize) -> Result<(), String> {
        let a = self
            .ts
            .goto_first_child_for_point(tree_sitter::Point { row, column });
        let b = self.ours.goto_first_child_for_point(Point { row, column });
        if a != b {
            return Err(self.fail(&format!(
                "goto_first_child_for_point({row}, {column}) returned {b:?}, tree-sitter {a:?}"
            )));
        }
        Ok(())
    }

    /// `goto_previous_sibling`, with tree-sitter's cursor re-placed after it
    /// (see the module's comment).
    fn prev_sibling(&mut self, stats: &mut Stats) -> Result<(), String> {
        let before = self.ts.node();
        let at_root = self.ts.depth() == 0;
        let expected = if at_root { None } else { before.prev_sibling() };
        let a = self.ts.goto_previous_sibling();
        let b = self.ours.goto_previous_sibling();
        let ours = our_state(&mut self.ours).map_err(|e| self.fail(&e))?;
        let theirs = ts_state(&self.ts);
        if a != b || (a && placement(&theirs) != placement(&ours)) {
            // Only where tree-sitter's cursor also disagrees with its own
            // node API, and ours agrees with it (#5950).
            let want = expected.map(|n| (n.kind_id(), n.start_byte(), n.end_byte()));
            let got = b.then_some((ours.kind_id, ours.start, ours.end));
            let theirs_got = a.then_some((theirs.kind_id, theirs.start, theirs.end));
            if got != want || theirs_got == want {
                return Err(self.fail(&format!(
                    "goto_previous_sibling returned {b}, tree-sitter {a} (Node::prev_sibling: {want:?})\n  tree-sitter: {theirs:?}\n  cst:         {ours:?}"
                )));
            }
            stats.upstream_prev += 1;
        }
        // Re-placed on the same node by a path without the quirk.
        self.ts.reset(self.ts_root);
        self.ts.goto_descendant(self.ours.descendant_index());
        stats.resyncs += 1;
        self.compare("after PrevSibling (tree-sitter re-placed)")
    }
}

/// The live node with preorder index `k`.
fn ts_node(tree: &tree_sitter::Tree, k: usize) -> tree_sitter::Node<'_> {
    let mut c = tree.walk();
    c.goto_descendant(k);
    c.node()
}

fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn random_move(seed: &mut u64) -> Move {
    let x = xorshift(seed);
    let arg = (x >> 32) as u32;
    match x % 24 {
        0..=4 => Move::FirstChild,
        5..=6 => Move::LastChild,
        7..=11 => Move::NextSibling,
        12..=14 => Move::PrevSibling,
        15..=17 => Move::Parent,
        18 => Move::Descendant(arg),
        19 => Move::ForByte(arg),
        20 => Move::ForEdge(arg, (x >> 8) as u8),
        21 => Move::ForPoint(arg, (x >> 16) as u32),
        22 => Move::Reset(arg),
        _ => Move::Clone,
    }
}

/// Every deterministic check, then a random walk, on one source.
fn exhaustive(lang: &str, source: &[u8], stats: &mut Stats) -> Result<(), String> {
    let p = common::parse(lang, source);
    let n = p.view.node_count();
    let ctx = |e: String| format!("{lang}: {e}");

    // 1. Forward walk: first child, next sibling, parent.
    let mut pair = Pair::new(&p, source, 0);
    pair.compare("start").map_err(ctx)?;
    'walk: loop {
        if pair.try_move(Move::FirstChild, stats).map_err(ctx)? {
            continue;
        }
        while !pair.try_move(Move::NextSibling, stats).map_err(ctx)? {
            if !pair.try_move(Move::Parent, stats).map_err(ctx)? {
                break 'walk;
            }
        }
    }
    // 2. Backward walk: last child, previous sibling, parent.
    let mut pair = Pair::new(&p, source, 0);
    'back: loop {
        if pair.try_move(Move::LastChild, stats).map_err(ctx)? {
            continue;
        }
        while !pair.try_move(Move::PrevSibling, stats).map_err(ctx)? {
            if !pair.try_move(Move::Parent, stats).map_err(ctx)? {
                break 'back;
            }
        }
    }
    // 3. Every descendant index, in a scattered order, from wherever the
    //    cursor is, and two past the end.
    let mut pair = Pair::new(&p, source, 0);
    let step = if n > 7919 { 7907 } else { 7919 };
    for k in 0..n.min(20_000) + 2 {
        let i = if k < n { (k * step) % n } else { k };
        pair.apply(Move::Descendant(i as u32), stats).map_err(ctx)?;
    }
    // 4. Child for byte and for point at every child's boundaries (every
    //    node of small trees; a sample of large ones).
    let every = (n / 3000).max(1);
    for id in (0..n).step_by(every) {
        let node = p.view.node(id).unwrap();
        if node.child_count() == 0 {
            continue;
        }
        let mut goals = vec![node.start_byte(), node.end_byte(), node.end_byte() + 1];
        for c in node.children() {
            goals.extend([c.start_byte(), c.end_byte()]);
            goals.extend([
                c.start_byte().saturating_sub(1),
                c.end_byte().saturating_sub(1),
            ]);
        }
        goals.sort_unstable();
        goals.dedup();
        let mut pair = Pair::new(&p, source, id);
        for g in goals {
            pair.apply(Move::Reset(id as u32), stats).map_err(ctx)?;
            pair.for_byte(g).map_err(ctx)?;
            pair.compare(&format!("after ForByte({g})")).map_err(ctx)?;
            pair.apply(Move::Reset(id as u32), stats).map_err(ctx)?;
            let pt = p.view.point_for_byte(g);
            for column in [pt.column, pt.column + 1, pt.column + 1000] {
                pair.apply(Move::Reset(id as u32), stats).map_err(ctx)?;
                pair.for_point(pt.row, column).map_err(ctx)?;
                pair.compare(&format!("after ForPoint({}, {column})", pt.row))
                    .map_err(ctx)?;
            }
        }
    }
    // 5. Cursors rooted below the root: a full walk of the subtree, which
    //    must never leave it.
    for id in (1..n).step_by((n / 40).max(1)) {
        let mut pair = Pair::new(&p, source, id);
        pair.compare("start below the root").map_err(ctx)?;
        for m in [Move::Parent, Move::NextSibling, Move::PrevSibling] {
            pair.apply(m, stats).map_err(ctx)?;
        }
        'sub: loop {
            if pair.try_move(Move::FirstChild, stats).map_err(ctx)? {
                continue;
            }
            while !pair.try_move(Move::NextSibling, stats).map_err(ctx)? {
                if !pair.try_move(Move::Parent, stats).map_err(ctx)? {
                    break 'sub;
                }
            }
        }
    }
    // 6. The preorder of subtrees, through `Cursor::preorder`, against
    //    `Node::preorder`.
    for id in std::iter::once(0).chain((1..n).step_by((n / 40).max(1))) {
        preorder_matches(&p.view, id).map_err(ctx)?;
    }
    // 7. A random walk.
    let mut seed = 0x9e37_79b9_7f4a_7c15 ^ (source.len() as u64) ^ ((n as u64) << 20);
    let mut pair = Pair::new(&p, source, 0);
    for _ in 0..(4 * n).clamp(200, 5000) {
        pair.apply(random_move(&mut seed), stats).map_err(ctx)?;
    }
    Ok(())
}

/// `Node::preorder`'s nodes have the byte ranges the tree has, and
/// `Cursor::preorder` from node `id` yields what `Node::preorder` yields,
/// with the same sizes left and the nodes' byte ranges, whichever of them
/// is read (none, the start, the end, both, in either order), and from a
/// cursor that decoded positions elsewhere first.
fn preorder_matches(view: &TreeView, id: usize) -> Result<(), String> {
    let node = view.node(id).unwrap();
    let want: Vec<_> = node.preorder().collect();
    // A large subtree's nodes hold the ranges its walk decoded: they are
    // the ranges read from the tree.
    for w in &want {
        let read = view.node(w.id()).unwrap();
        if view.node_at(w.place()).map(|n| n.place()) != Some(read.place()) {
            return Err(format!("node {}: its place gives another node", w.id()));
        }
        if (w.start_byte(), w.end_byte()) != (read.start_byte(), read.end_byte()) {
            return Err(format!(
                "preorder of {node:?}: node {} has range {:?}, the tree {:?}",
                w.id(),
                w.byte_range(),
                read.byte_range()
            ));
        }
    }
    for (round, from) in [(0usize, None), (1, Some(0usize)), (2, Some(id / 2))] {
        let mut it = match from {
            None => node.walk().preorder(),
            Some(other) => {
                // A cursor that read positions at another node, moved here.
                let mut c = view.walk();
                c.goto_descendant(other);
                let _ = c.byte_range();
                c.reset(node);
                c.preorder()
            }
        };
        let mut k = 0;
        loop {
            let hint = it.size_hint();
            if hint != (want.len() - k, Some(want.len() - k)) {
                return Err(format!(
                    "preorder of {node:?}: size hint {hint:?} after {k}"
                ));
            }
            let Some(n) = it.next() else { break };
            if want.get(k) != Some(&n) {
                return Err(format!(
                    "preorder of {node:?}: node {k} is {n:?}, want {:?}",
                    want.get(k)
                ));
            }
            let range = match (k + round) % 5 {
                0 => None,
                1 => Some(it.start_byte()..n.end_byte()),
                2 => Some(n.start_byte()..it.end_byte()),
                3 => {
                    let end = it.end_byte();
                    Some(it.start_byte()..end)
                }
                _ => Some(it.byte_range()),
            };
            if let Some(r) = range
                && r != n.byte_range()
            {
                return Err(format!("preorder of {node:?}: node {n:?} has range {r:?}"));
            }
            k += 1;
        }
        if k != want.len() || it.next().is_some() {
            return Err(format!(
                "preorder of {node:?}: {k} nodes, want {}",
                want.len()
            ));
        }
    }
    Ok(())
}

impl Pair<'_> {
    /// A move that returns a bool, compared; its result.
    fn try_move(&mut self, m: Move, stats: &mut Stats) -> Result<bool, String> {
        let depth = self.ours.depth();
        let at = self.ours.descendant_index();
        self.apply(m, stats)?;
        Ok(self.ours.depth() != depth || self.ours.descendant_index() != at)
    }
}

/// Sources for the property tests: the samples of the core languages,
/// broken sources (ERROR and MISSING nodes), and extras among fields.
fn inputs() -> &'static [(&'static str, Vec<u8>, common::Parsed)] {
    static INPUTS: OnceLock<Vec<(&'static str, Vec<u8>, common::Parsed)>> = OnceLock::new();
    INPUTS.get_or_init(|| {
        let mut sources: Vec<(&'static str, Vec<u8>)> = ["rust", "python", "javascript", "c", "go", "json", "html", "bash"]
            .into_iter()
            .map(|id| (id, common::sample(id)))
            .collect();
        let broken: &[(&str, &[u8])] = &[
            ("rust", b"fn main() { let x = ; if { } }\n struct { @@@ }"),
            ("rust", b"fn f( {"),
            ("rust", b"fn f() { a /* c */ - b; g(/* x */ 1, // y\n 2) }\nstruct S { a: u32, // c\n b: u32 }"),
            ("python", b"def f(:\n  return )\nclass\n\x00\x01\xff"),
            ("python", b"def f(a, # c\n b): # d\n    return a # e\nx = [1, # f\n 2]\n"),
            ("javascript", b"function (a, { return a +; }}} \xe2\x82"),
            ("c", b"int main( { return 0 }\n#include\n"),
            ("c", b"int f(int a /* x */, int b) { return a /* y */ + b; }"),
            ("json", b"{\"a\": [1, 2,, }"),
            ("go", b"package main\nfunc main() { x := }\n"),
            ("bash", b"if then fi; case in esac ((("),
            ("html", b"<div><p>unclosed <b></div></span>"),
        ];
        sources.extend(broken.iter().map(|(l, s)| (*l, s.to_vec())));
        sources
            .into_iter()
            .map(|(l, s)| {
                let p = common::parse(l, &s);
                (l, s, p)
            })
            .collect()
    })
}

fn a_move() -> impl Strategy<Value = Move> {
    prop_oneof![
        5 => Just(Move::FirstChild),
        2 => Just(Move::LastChild),
        5 => Just(Move::NextSibling),
        3 => Just(Move::PrevSibling),
        3 => Just(Move::Parent),
        1 => any::<u32>().prop_map(Move::Descendant),
        1 => any::<u32>().prop_map(Move::ForByte),
        2 => (any::<u32>(), any::<u8>()).prop_map(|(a, b)| Move::ForEdge(a, b)),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Move::ForPoint(a, b)),
        1 => any::<u32>().prop_map(Move::Reset),
        1 => Just(Move::Clone),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_moves_match_tree_sitter(
        input in 0usize..64,
        start in prop_oneof![Just(0u32), any::<u32>()],
        moves in prop::collection::vec(a_move(), 1..250),
    ) {
        let inputs = inputs();
        let (lang, source, parsed) = &inputs[input % inputs.len()];
        let mut stats = Stats::default();
        let mut pair = Pair::new(parsed, source, start as usize);
        pair.compare("start").map_err(|e| TestCaseError::fail(format!("{lang}: {e}")))?;
        for m in moves {
            pair.apply(m, &mut stats)
                .map_err(|e| TestCaseError::fail(format!("{lang}: {e}")))?;
        }
    }
}

#[test]
fn samples_match_tree_sitter() {
    let mut stats = Stats::default();
    let (mut files, mut langs, mut not_compiled) = (0, 0, Vec::new());
    let mut dirs: Vec<_> = std::fs::read_dir(common::samples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        match cst_grammars::by_id(&id) {
            Some(g) if g.is_compiled() => {}
            _ => {
                not_compiled.push(id);
                continue;
            }
        }
        langs += 1;
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            let source = std::fs::read(&path).unwrap();
            exhaustive(&id, &source, &mut stats)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            files += 1;
        }
    }
    eprintln!(
        "cursor: {files} sample files of {langs} languages, {} moves compared, {} tree-sitter cursors re-placed after goto_previous_sibling, {} upstream goto_previous_sibling differences (#5950); {} sample languages not compiled in this build",
        stats.moves,
        stats.resyncs,
        stats.upstream_prev,
        not_compiled.len()
    );
    assert!(langs >= 10 && stats.moves > 10_000, "{langs} languages");
}

#[test]
fn peer_suites_match_tree_sitter() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peer-suites");
    if !root.exists() {
        common::shared_input_absent(&root, "cursor differential over the peer suites");
        return;
    }
    let mut stats = Stats::default();
    let mut inputs = 0;
    let mut langs = Vec::new();
    let mut suites: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("corpus").is_dir())
        .collect();
    suites.sort();
    for suite in suites {
        let id = suite.file_name().unwrap().to_string_lossy().into_owned();
        match cst_grammars::by_id(&id) {
            Some(g) if g.is_compiled() => {}
            _ => {
                eprintln!("cursor: peer suite {id}: grammar not compiled in, skipped");
                continue;
            }
        }
        let mut files: Vec<_> = std::fs::read_dir(suite.join("corpus"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let before = inputs;
        for file in files {
            for case in crate::peer_suites::parse_corpus(&std::fs::read(&file).unwrap()) {
                if case.skip {
                    continue;
                }
                exhaustive(&id, &case.input, &mut stats)
                    .unwrap_or_else(|e| panic!("{} / {}: {e}", file.display(), case.name));
                inputs += 1;
            }
        }
        langs.push(format!("{id} {}", inputs - before));
    }
    eprintln!(
        "cursor: peer suites: {inputs} inputs ({}), {} moves compared, {} tree-sitter cursors re-placed after goto_previous_sibling, {} upstream goto_previous_sibling differences (#5950)",
        langs.join(", "),
        stats.moves,
        stats.resyncs,
        stats.upstream_prev
    );
    assert!(inputs > 500, "only {inputs} peer-suite inputs");
}

/// Trees much larger than the cursor's window of positions (samples
/// repeated): full walks reading no position, the start, the end or both
/// in either order, from the root and from scattered nodes; random moves
/// with jumps forward and back; preorders. Every position read must be
/// the node's.
#[test]
fn positions_hold_over_large_trees() {
    for id in [
        "rust",
        "c",
        "python",
        "javascript",
        "go",
        "html",
        "css",
        "json",
    ] {
        let one = common::sample(id);
        let mut source = Vec::new();
        while source.len() < 200_000 {
            source.extend_from_slice(&one);
            source.push(b'\n');
        }
        let p = common::parse(id, &source);
        let view = &p.view;
        let n = view.node_count();
        let check = |c: &mut Cursor<'_>, k: usize| -> Result<(), String> {
            let node = c.node();
            let got = match k % 4 {
                0 => return Ok(()),
                1 => c.start_byte()..node.end_byte(),
                2 => node.start_byte()..c.end_byte(),
                _ => {
                    let end = c.end_byte();
                    c.start_byte()..end
                }
            };
            if got != node.byte_range() {
                return Err(format!(
                    "{id}: {node:?} read as {got:?} (pattern {})",
                    k % 4
                ));
            }
            Ok(())
        };
        // Full walks from the root and from scattered nodes.
        for (round, root) in std::iter::once(0).chain((1..n).step_by(n / 7)).enumerate() {
            let mut c = view.node(root).unwrap().walk();
            let mut k = round;
            'walk: loop {
                check(&mut c, k).unwrap();
                k = k.wrapping_mul(31).wrapping_add(7) >> 1;
                if c.goto_first_child() || c.goto_next_sibling() {
                    continue;
                }
                loop {
                    if !c.goto_parent() {
                        break 'walk;
                    }
                    if c.goto_next_sibling() {
                        break;
                    }
                }
            }
        }
        // Random moves, jumps among them.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut c = view.walk();
        for k in 0..200_000usize {
            let r = xorshift(&mut seed);
            match r % 16 {
                0 => c.goto_descendant((r >> 8) as usize % n),
                1..=5 => {
                    c.goto_first_child();
                }
                6..=10 => {
                    c.goto_next_sibling();
                }
                11 | 12 => {
                    c.goto_parent();
                }
                13 => {
                    c.goto_previous_sibling();
                }
                14 => {
                    c.goto_last_child();
                }
                _ => {
                    c.goto_first_child_for_byte((r >> 8) as usize % source.len());
                }
            }
            check(&mut c, k).unwrap();
        }
        // Preorders.
        for root in (0..n).step_by(n / 5) {
            preorder_matches(view, root).unwrap();
        }
    }
}
