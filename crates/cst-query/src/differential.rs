//! Differential checking against tree-sitter (feature `differential`): runs
//! one query with `tree_sitter::QueryCursor` on the live tree and with
//! [`QueryCursor`] on the decoded view, in matches mode and in captures
//! mode, and reports the first difference. Shared by the tests, `cargo xtask
//! verify-queries` and the `query` fuzz target, so all run the same check.

use std::fmt;

use tree_sitter::StreamingIterator;

use crate::{Error, Point, Query, QueryCursor, TreeView};

/// Cursor settings applied to both engines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `set_byte_range`.
    pub byte_range: Option<std::ops::Range<usize>>,
    /// `set_point_range`.
    pub point_range: Option<std::ops::Range<Point>>,
    /// `set_containing_byte_range`.
    pub containing_byte_range: Option<std::ops::Range<usize>>,
    /// `set_containing_point_range`.
    pub containing_point_range: Option<std::ops::Range<Point>>,
    /// `set_match_limit`.
    pub match_limit: Option<u32>,
    /// `set_max_start_depth`.
    pub max_start_depth: Option<u32>,
    /// Run on this node (preorder index) instead of the root.
    pub node: Option<usize>,
}

/// A captured node, engine-independently: (capture index, kind id, start, end).
pub type Cap = (u32, u16, usize, usize);

/// What one engine returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Results {
    /// Matches mode: (pattern index, captures).
    pub matches: Vec<(usize, Vec<Cap>)>,
    /// `did_exceed_match_limit` after matches mode.
    pub matches_exceeded: bool,
    /// Captures mode: (pattern index, capture position, the match's captures).
    pub captures: Vec<(usize, usize, Vec<Cap>)>,
    /// `did_exceed_match_limit` after captures mode.
    pub captures_exceeded: bool,
}

/// The first place where the engines disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `matches` or `captures`.
    pub mode: &'static str,
    /// Index of the first differing result.
    pub index: usize,
    /// tree-sitter's result there (`None`: it had no more).
    pub tree_sitter: Option<String>,
    /// cst-query's result there.
    pub cst: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} #{}: tree-sitter {}, cst {}",
            self.mode,
            self.index,
            self.tree_sitter.as_deref().unwrap_or("(end)"),
            self.cst.as_deref().unwrap_or("(end)")
        )
    }
}

fn ts_point(p: &Point) -> tree_sitter::Point {
    tree_sitter::Point {
        row: p.row,
        column: p.column,
    }
}

fn configure_ts(c: &mut tree_sitter::QueryCursor, s: &Settings) {
    if let Some(r) = &s.byte_range {
        c.set_byte_range(r.clone());
    }
    if let Some(r) = &s.point_range {
        c.set_point_range(ts_point(&r.start)..ts_point(&r.end));
    }
    if let Some(r) = &s.containing_byte_range {
        c.set_containing_byte_range(r.clone());
    }
    if let Some(r) = &s.containing_point_range {
        c.set_containing_point_range(ts_point(&r.start)..ts_point(&r.end));
    }
    if let Some(l) = s.match_limit {
        c.set_match_limit(l);
    }
    c.set_max_start_depth(s.max_start_depth);
}

fn configure(c: &mut QueryCursor, s: &Settings) {
    if let Some(r) = &s.byte_range {
        c.set_byte_range(r.clone());
    }
    if let Some(r) = &s.point_range {
        c.set_point_range(r.clone());
    }
    if let Some(r) = &s.containing_byte_range {
        c.set_containing_byte_range(r.clone());
    }
    if let Some(r) = &s.containing_point_range {
        c.set_containing_point_range(r.clone());
    }
    if let Some(l) = s.match_limit {
        c.set_match_limit(l);
    }
    c.set_max_start_depth(s.max_start_depth);
}

/// The node `settings.node` of the live tree (preorder, as the view counts).
fn live_node<'t>(tree: &'t tree_sitter::Tree, index: usize) -> Option<tree_sitter::Node<'t>> {
    let mut cursor = tree.walk();
    cursor.goto_descendant(index);
    (cursor.descendant_index() == index).then(|| cursor.node())
}

/// Settings that leave nothing out, over the ones a cursor had (every
/// setting of [`Settings`] reset: no end for the ranges, no match limit).
fn reset_ts(c: &mut tree_sitter::QueryCursor) {
    let (zero, end) = (
        tree_sitter::Point { row: 0, column: 0 },
        tree_sitter::Point {
            row: u32::MAX as usize,
            column: u32::MAX as usize,
        },
    );
    c.set_byte_range(0..u32::MAX as usize);
    c.set_point_range(zero..end);
    c.set_containing_byte_range(0..u32::MAX as usize);
    c.set_containing_point_range(zero..end);
    c.set_match_limit(u32::MAX);
    c.set_max_start_depth(None);
}

/// As [`reset_ts`].
fn reset(c: &mut QueryCursor) {
    let (zero, end) = (
        Point { row: 0, column: 0 },
        Point {
            row: u32::MAX as usize,
            column: u32::MAX as usize,
        },
    );
    c.set_byte_range(0..u32::MAX as usize);
    c.set_point_range(zero..end);
    c.set_containing_byte_range(0..u32::MAX as usize);
    c.set_containing_point_range(zero..end);
    c.set_match_limit(u32::MAX);
    c.set_max_start_depth(None);
}

/// The node `s.node` of the live tree, else its root.
fn ts_node<'t>(tree: &'t tree_sitter::Tree, s: &Settings) -> tree_sitter::Node<'t> {
    s.node
        .and_then(|i| live_node(tree, i))
        .unwrap_or_else(|| tree.root_node())
}

/// One mode of tree-sitter's run on `cursor` (configured), into `out`.
fn ts_mode(
    cursor: &mut tree_sitter::QueryCursor,
    query: &Query,
    node: tree_sitter::Node<'_>,
    source: &[u8],
    captures: bool,
    out: &mut Results,
) {
    let q = query.inner();
    let cap = |c: &tree_sitter::QueryCapture<'_>| {
        (
            c.index,
            c.node.kind_id(),
            c.node.start_byte(),
            c.node.end_byte(),
        )
    };
    if captures {
        let mut it = cursor.captures(q, node, source);
        while let Some((m, i)) = it.next() {
            out.captures
                .push((m.pattern_index, *i, m.captures.iter().map(cap).collect()));
        }
        drop(it);
        out.captures_exceeded = cursor.did_exceed_match_limit();
    } else {
        let mut it = cursor.matches(q, node, source);
        while let Some(m) = it.next() {
            out.matches
                .push((m.pattern_index, m.captures.iter().map(cap).collect()));
        }
        drop(it);
        out.matches_exceeded = cursor.did_exceed_match_limit();
    }
}

/// One mode of cst-query's run on `cursor` (configured), into `out`.
fn cst_mode(
    cursor: &mut QueryCursor,
    query: &Query,
    node: crate::Node<'_>,
    source: &[u8],
    captures: bool,
    out: &mut Results,
) -> Result<(), Error> {
    let cap =
        |c: &crate::QueryCapture<'_>| (c.index, c.kind_id, c.node.start_byte(), c.node.end_byte());
    if captures {
        for (m, i) in cursor.captures(query, node, source)? {
            out.captures
                .push((m.pattern_index, i, m.captures.iter().map(cap).collect()));
        }
        out.captures_exceeded = cursor.did_exceed_match_limit();
    } else {
        for m in cursor.matches(query, node, source)? {
            out.matches
                .push((m.pattern_index, m.captures.iter().map(cap).collect()));
        }
        out.matches_exceeded = cursor.did_exceed_match_limit();
    }
    Ok(())
}

/// The node `s.node` of the view, else its root.
fn cst_node<'t>(view: &'t TreeView, s: &Settings) -> crate::Node<'t> {
    s.node
        .and_then(|i| view.node(i))
        .unwrap_or_else(|| view.root())
}

/// tree-sitter's results for `query` on `tree` with `cursor`, used before
/// (its settings replaced by `s`): matches mode, then captures mode.
/// tree-sitter's cursor keeps its capture lists from one execution to the
/// next; cst-query's keeps them too, so a reused pair must agree.
pub fn run_tree_sitter_on(
    cursor: &mut tree_sitter::QueryCursor,
    tree: &tree_sitter::Tree,
    source: &[u8],
    query: &Query,
    s: &Settings,
) -> Results {
    let node = ts_node(tree, s);
    let mut out = Results::default();
    reset_ts(cursor);
    configure_ts(cursor, s);
    for captures in [false, true] {
        ts_mode(cursor, query, node, source, captures, &mut out);
    }
    out
}

/// cst-query's results as [`run_tree_sitter_on`] gets them.
pub fn run_cst_on(
    cursor: &mut QueryCursor,
    view: &TreeView,
    source: &[u8],
    query: &Query,
    s: &Settings,
) -> Result<Results, Error> {
    let node = cst_node(view, s);
    let mut out = Results::default();
    reset(cursor);
    configure(cursor, s);
    for captures in [false, true] {
        cst_mode(cursor, query, node, source, captures, &mut out)?;
    }
    Ok(out)
}

/// tree-sitter's results for `query` on `tree`, each mode on a new cursor.
pub fn run_tree_sitter(
    tree: &tree_sitter::Tree,
    source: &[u8],
    query: &Query,
    s: &Settings,
) -> Results {
    let node = ts_node(tree, s);
    let mut out = Results::default();
    for captures in [false, true] {
        let mut cursor = tree_sitter::QueryCursor::new();
        configure_ts(&mut cursor, s);
        ts_mode(&mut cursor, query, node, source, captures, &mut out);
    }
    out
}

/// cst-query's results for `query` on `view`, each mode on a new cursor.
pub fn run_cst(
    view: &TreeView,
    source: &[u8],
    query: &Query,
    s: &Settings,
) -> Result<Results, Error> {
    let node = cst_node(view, s);
    let mut out = Results::default();
    for captures in [false, true] {
        let mut cursor = QueryCursor::new();
        configure(&mut cursor, s);
        cst_mode(&mut cursor, query, node, source, captures, &mut out)?;
    }
    Ok(out)
}

/// Compares two results; `Ok((matches, captures))` when equal.
pub fn compare(ts: &Results, cst: &Results) -> Result<(usize, usize), Difference> {
    fn first<T: PartialEq + fmt::Debug>(
        mode: &'static str,
        a: &[T],
        b: &[T],
    ) -> Result<(), Difference> {
        let n = a.len().max(b.len());
        for i in 0..n {
            if a.get(i) != b.get(i) {
                return Err(Difference {
                    mode,
                    index: i,
                    tree_sitter: a.get(i).map(|x| format!("{x:?}")),
                    cst: b.get(i).map(|x| format!("{x:?}")),
                });
            }
        }
        Ok(())
    }
    first("matches", &ts.matches, &cst.matches)?;
    first("captures", &ts.captures, &cst.captures)?;
    let flag = |mode, a: bool, b: bool| {
        if a == b {
            Ok(())
        } else {
            Err(Difference {
                mode,
                index: 0,
                tree_sitter: Some(format!("did_exceed_match_limit {a}")),
                cst: Some(format!("did_exceed_match_limit {b}")),
            })
        }
    };
    flag("matches", ts.matches_exceeded, cst.matches_exceeded)?;
    flag("captures", ts.captures_exceeded, cst.captures_exceeded)?;
    Ok((ts.matches.len(), ts.captures.len()))
}

/// Runs both engines and compares them.
pub fn check(
    tree: &tree_sitter::Tree,
    view: &TreeView,
    source: &[u8],
    query: &Query,
    settings: &Settings,
) -> Result<(usize, usize), Difference> {
    let ts = run_tree_sitter(tree, source, query, settings);
    let cst = run_cst(view, source, query, settings).map_err(|e| Difference {
        mode: "run",
        index: 0,
        tree_sitter: Some("ran".into()),
        cst: Some(e.to_string()),
    })?;
    compare(&ts, &cst)
}
