//! # cst-query — tree-sitter queries over stored trees
//!
//! Runs tree-sitter's query language (`highlights.scm`, `tags.scm`,
//! `locals.scm`, `injections.scm`, any pattern) over a [`TreeView`] — a tree
//! stored by cst, read in place, with no live `tree_sitter::Tree` — and gives
//! the results `tree_sitter::QueryCursor` gives on the live tree: the same
//! matches and captures, in the same order, with the same range, match-limit
//! and start-depth behaviour, and text predicates evaluated as the
//! `tree-sitter` Rust binding evaluates them.
//!
//! ```no_run
//! # fn demo(language: &tree_sitter::Language, view: &cst_bytecode::TreeView, source: &[u8]) -> Result<(), cst_query::Error> {
//! let query = cst_query::Query::new(language, "(function_item name: (identifier) @name)")?;
//! let mut cursor = cst_query::QueryCursor::new();
//! for m in cursor.matches(&query, view.root(), source)? {
//!     for c in &m.captures {
//!         println!("{} {:?}", query.capture_names()[c.index as usize], c.node.byte_range());
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! The iterators return owned matches; `QueryMatches::next_match` and
//! `QueryCaptures::next_capture` lend one instead, refilled in place, as
//! tree-sitter's `StreamingIterator`s do (no allocation per result).
//!
//! How: tree-sitter compiles the query (so a query it rejects is rejected
//! here with its error kind and offset, and the grammar-table analysis its
//! matching depends on is its own); cst-query copies the compiled program
//! out once (`raw.rs` says why and how) and executes it itself, walking the
//! view and the hidden nodes and node statuses stored beside it (format
//! version 3, "query facts" in docs/FORMAT.md).
//!
//! Layering: this crate reads views; it composes no storage or cache.

#[cfg(feature = "differential")]
pub mod differential;
mod exec;
#[cfg(feature = "differential")]
#[doc(hidden)]
pub mod fuzzing;
mod predicate;
mod raw;
mod tree;

use std::ops::Range as StdRange;

pub use cst_bytecode::{Node, Point, TreeView};
pub use tree_sitter::{
    CaptureQuantifier, QueryError, QueryErrorKind, QueryPredicate, QueryPredicateArg, QueryProperty,
};

use exec::{Exec, Options, Range, RawMatch};
use predicate::TextPredicate;
use raw::Program;

/// Why a query could not be compiled or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// tree-sitter rejected the query: its kind, offset, row, column and message.
    #[error("invalid query: {0}")]
    Query(#[from] QueryError),
    /// The tree was stored by a format version without query facts (before
    /// 3); encode it again (a cache does so on its next write).
    #[error("the tree has no query facts (format version {version}); encode it again")]
    NoQueryFacts {
        /// The tree's format version.
        version: u16,
    },
    /// The tree's grammar has other node kinds or fields than the query's.
    #[error(
        "the tree's grammar ({tree_kinds} kinds, {tree_fields} fields) is not the query's ({query_kinds} kinds, {query_fields} fields)"
    )]
    GrammarMismatch {
        /// Kinds of the tree's grammar.
        tree_kinds: usize,
        /// Fields of the tree's grammar.
        tree_fields: usize,
        /// Kinds of the query's grammar.
        query_kinds: usize,
        /// Fields of the query's grammar.
        query_fields: usize,
    },
    /// The linked tree-sitter's compiled queries are not laid out as this
    /// crate expects (a tree-sitter other than the pinned 0.26.13).
    #[error("incompatible tree-sitter: {0}")]
    Incompatible(&'static str),
}

/// Per-symbol metadata of the grammar the matcher needs: the grammar's own
/// flags (`TSSymbolMetadata`), not the folded public symbol type.
#[derive(Debug, Clone)]
pub(crate) struct KindTable {
    named: Vec<bool>,
    visible: Vec<bool>,
    supertype: Vec<bool>,
}

impl KindTable {
    fn new(language: &tree_sitter::Language) -> KindTable {
        let meta = raw::symbol_metadata(language);
        KindTable {
            visible: meta.iter().map(|m| m.0).collect(),
            named: meta.iter().map(|m| m.1).collect(),
            supertype: meta.iter().map(|m| m.2).collect(),
        }
    }
    pub(crate) fn is_named(&self, s: u16) -> bool {
        match s {
            cst_bytecode::ERROR_KIND => true,
            cst_bytecode::ERROR_REPEAT_KIND => false,
            _ => self.named.get(usize::from(s)).copied().unwrap_or(false),
        }
    }
    pub(crate) fn is_visible(&self, s: u16) -> bool {
        match s {
            cst_bytecode::ERROR_KIND => true,
            cst_bytecode::ERROR_REPEAT_KIND => false,
            _ => self.visible.get(usize::from(s)).copied().unwrap_or(false),
        }
    }
    pub(crate) fn is_supertype(&self, s: u16) -> bool {
        self.supertype.get(usize::from(s)).copied().unwrap_or(false)
    }
}

/// A compiled query: tree-sitter's `Query`, runnable over stored trees.
pub struct Query {
    inner: tree_sitter::Query,
    program: Program,
    kinds: KindTable,
    text_predicates: Vec<Vec<TextPredicate>>,
    field_count: usize,
    disabled_captures: Vec<u32>,
    disabled_patterns: Vec<usize>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("patterns", &self.pattern_count())
            .field("captures", &self.capture_names())
            .finish_non_exhaustive()
    }
}

impl Query {
    /// Compiles `source` for `language`. Errors are tree-sitter's, with the
    /// same kind, offset, row, column and message.
    pub fn new(language: &tree_sitter::Language, source: &str) -> Result<Query, Error> {
        let (inner, program) = raw::extract(language, source)?;
        let text_predicates = program
            .predicates
            .iter()
            .map(|p| predicate::text_predicates(p))
            .collect();
        Ok(Query {
            inner,
            program,
            kinds: KindTable::new(language),
            text_predicates,
            field_count: language.field_count(),
            disabled_captures: Vec::new(),
            disabled_patterns: Vec::new(),
        })
    }

    /// Whether the query could match anything in `source`: `false` only
    /// when every (enabled) pattern has a capture that occurs exactly once
    /// in each of its matches and must equal a literal (`#eq? @c "text"`,
    /// `#any-of? @c "a" "b"`; not `#any-eq?`, which a string never fails)
    /// that `source` does not contain — then no
    /// match can exist and walking the tree can be skipped, as a literal
    /// prefilter in a search tool would. `true` promises nothing.
    pub fn could_match(&self, source: &[u8]) -> bool {
        'patterns: for (p, predicates) in self.text_predicates.iter().enumerate() {
            if self.disabled_patterns.contains(&p) {
                continue;
            }
            let quantifiers = self.inner.capture_quantifiers(p);
            for predicate in predicates {
                let (capture, literals): (u32, &[Box<str>]) = match predicate {
                    // `#eq?` only: `#any-eq?` against a string is always
                    // satisfied (the binding returns true after the loop).
                    TextPredicate::EqString(c, s, true, true) => (*c, std::slice::from_ref(s)),
                    TextPredicate::AnyString(c, values, true) => (*c, values),
                    _ => continue,
                };
                // A capture that may be absent satisfies the predicate
                // vacuously; an empty literal can equal an empty node.
                if self.disabled_captures.contains(&capture)
                    || quantifiers.get(capture as usize) != Some(&CaptureQuantifier::One)
                    || literals.iter().any(|l| l.is_empty())
                {
                    continue;
                }
                if !literals
                    .iter()
                    .any(|l| memchr::memmem::find(source, l.as_bytes()).is_some())
                {
                    continue 'patterns;
                }
            }
            return true;
        }
        false
    }

    /// The tree-sitter query this one was compiled as (for everything this
    /// API does not repeat).
    pub fn inner(&self) -> &tree_sitter::Query {
        &self.inner
    }
    /// Number of patterns.
    pub fn pattern_count(&self) -> usize {
        self.inner.pattern_count()
    }
    /// Capture names, by capture index.
    pub fn capture_names(&self) -> &[&str] {
        self.inner.capture_names()
    }
    /// The index of the capture named `name`.
    pub fn capture_index_for_name(&self, name: &str) -> Option<u32> {
        self.inner.capture_index_for_name(name)
    }
    /// The quantifier of each capture in pattern `index`.
    pub fn capture_quantifiers(&self, index: usize) -> &[CaptureQuantifier] {
        self.inner.capture_quantifiers(index)
    }
    /// Byte offset where pattern `index` starts in the query source.
    pub fn start_byte_for_pattern(&self, index: usize) -> usize {
        self.inner.start_byte_for_pattern(index)
    }
    /// Byte offset where pattern `index` ends in the query source.
    pub fn end_byte_for_pattern(&self, index: usize) -> usize {
        self.inner.end_byte_for_pattern(index)
    }
    /// Whether pattern `index` has a single root node.
    pub fn is_pattern_rooted(&self, index: usize) -> bool {
        self.inner.is_pattern_rooted(index)
    }
    /// Whether pattern `index` is non-local (tree-sitter's analysis).
    pub fn is_pattern_non_local(&self, index: usize) -> bool {
        self.inner.is_pattern_non_local(index)
    }
    /// Whether the step at `byte_offset` of the query source is guaranteed
    /// to match once reached.
    pub fn is_pattern_guaranteed_at_step(&self, byte_offset: usize) -> bool {
        self.inner.is_pattern_guaranteed_at_step(byte_offset)
    }
    /// Predicates of pattern `index` that are neither text predicates nor
    /// properties (`select-adjacent!`, `strip!`, …): returned, never applied.
    pub fn general_predicates(&self, index: usize) -> &[QueryPredicate] {
        self.inner.general_predicates(index)
    }
    /// `#set!` properties of pattern `index`.
    pub fn property_settings(&self, index: usize) -> &[QueryProperty] {
        self.inner.property_settings(index)
    }
    /// `#is?` / `#is-not?` properties of pattern `index` (true for `is?`).
    pub fn property_predicates(&self, index: usize) -> &[(QueryProperty, bool)] {
        self.inner.property_predicates(index)
    }

    /// Stops capturing `name` (`ts_query_disable_capture`).
    pub fn disable_capture(&mut self, name: &str) {
        if let Some(id) = self.inner.capture_index_for_name(name) {
            self.disabled_captures.push(id);
            let id = id as u16;
            for step in &mut self.program.steps {
                if let Some(i) = step.capture_ids.iter().position(|&c| c == id) {
                    step.capture_ids[i..].rotate_left(1);
                    let last = step.capture_ids.len() - 1;
                    step.capture_ids[last] = raw::NONE;
                }
            }
        }
        self.inner.disable_capture(name);
    }

    /// Stops matching pattern `index` (`ts_query_disable_pattern`).
    pub fn disable_pattern(&mut self, index: usize) {
        self.disabled_patterns.push(index);
        self.program
            .pattern_map
            .retain(|e| usize::from(e.pattern_index) != index);
        self.program.index_pattern_map();
        self.inner.disable_pattern(index);
    }

    fn check(&self, node: &Node<'_>) -> Result<(), Error> {
        let view = node.tree();
        if !view.has_query_facts() {
            return Err(Error::NoQueryFacts {
                version: view.version(),
            });
        }
        let symbols = view.symbols();
        if symbols.kind_count() != self.kinds.named.len()
            || symbols.field_count() != self.field_count
        {
            return Err(Error::GrammarMismatch {
                tree_kinds: symbols.kind_count(),
                tree_fields: symbols.field_count(),
                query_kinds: self.kinds.named.len(),
                query_fields: self.field_count,
            });
        }
        Ok(())
    }
}

/// A captured node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryCapture<'t> {
    /// The node.
    pub node: Node<'t>,
    /// The capture's index in [`Query::capture_names`].
    pub index: u32,
    /// The kind id tree-sitter's `QueryCursor` reports for the node. It is
    /// `node.kind_id()` except in one case: a pattern whose root is a
    /// wildcard captures that root from its child, through
    /// `ts_tree_cursor_parent_node`, which applies the parent's slot alias
    /// even to an ERROR or extra parent (tree-sitter's own `TreeCursor`
    /// reports such a node as unaliased).
    pub kind_id: u16,
}

/// A match of one pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryMatch<'t> {
    /// The pattern that matched.
    pub pattern_index: usize,
    /// Its captures, in the order they were made (not by capture index).
    pub captures: Vec<QueryCapture<'t>>,
    id: u32,
}

impl<'t> QueryMatch<'t> {
    /// A match to fill (no captures).
    fn empty() -> QueryMatch<'t> {
        QueryMatch {
            pattern_index: 0,
            captures: Vec::new(),
            id: 0,
        }
    }

    /// The match's id (assigned when it is first returned).
    pub fn id(&self) -> u32 {
        self.id
    }
    /// The nodes captured by capture `index`.
    pub fn nodes_for_capture_index(&self, index: u32) -> impl Iterator<Item = Node<'t>> + '_ {
        self.captures
            .iter()
            .filter(move |c| c.index == index)
            .map(|c| c.node)
    }
}

/// Settings for running queries, as `tree_sitter::QueryCursor` has them.
///
/// Like tree-sitter's, a cursor keeps what an execution allocated (its
/// capture lists, and here the walk tree's buffers) for its next one, so
/// that one cursor run over many trees allocates little; a match limit
/// counts the capture lists kept too, as tree-sitter's does. A clone
/// starts as a new cursor with the same settings.
#[derive(Debug, Clone)]
pub struct QueryCursor {
    match_limit: u32,
    included: Range,
    containing: Range,
    max_start_depth: u32,
    did_exceed_match_limit: bool,
    spare: Spare,
}

/// The buffers a cursor keeps between executions ([`exec::Buffers`]): not
/// a setting, so a clone starts without them.
#[derive(Default)]
struct Spare(exec::Buffers);

impl Clone for Spare {
    fn clone(&self) -> Self {
        Spare::default()
    }
}

impl std::fmt::Debug for Spare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "room for {} walk nodes", self.0.capacity())
    }
}

impl Default for QueryCursor {
    fn default() -> Self {
        Self::new()
    }
}

impl QueryCursor {
    /// A cursor with no range restriction and no match limit.
    pub fn new() -> QueryCursor {
        QueryCursor {
            match_limit: u32::MAX,
            included: Range::ALL,
            containing: Range::ALL,
            max_start_depth: u32::MAX,
            did_exceed_match_limit: false,
            spare: Spare::default(),
        }
    }
    /// The most in-progress matches (capture lists) kept at once.
    pub fn match_limit(&self) -> u32 {
        self.match_limit
    }
    /// Sets the match limit.
    pub fn set_match_limit(&mut self, limit: u32) {
        self.match_limit = limit;
    }
    /// Whether the last execution dropped in-progress matches for the limit.
    pub fn did_exceed_match_limit(&self) -> bool {
        self.did_exceed_match_limit
    }
    /// Only return matches that intersect `range` (an end of 0: no end).
    pub fn set_byte_range(&mut self, range: StdRange<usize>) -> &mut Self {
        set_bytes(&mut self.included, range);
        self
    }
    /// Only return matches that intersect `range` (an end of (0, 0): no end).
    pub fn set_point_range(&mut self, range: StdRange<Point>) -> &mut Self {
        set_points(&mut self.included, range);
        self
    }
    /// Only return matches whose nodes all lie inside `range`.
    pub fn set_containing_byte_range(&mut self, range: StdRange<usize>) -> &mut Self {
        set_bytes(&mut self.containing, range);
        self
    }
    /// Only return matches whose nodes all lie inside `range`.
    pub fn set_containing_point_range(&mut self, range: StdRange<Point>) -> &mut Self {
        set_points(&mut self.containing, range);
        self
    }
    /// Deepest level below the executed node at which a pattern may start
    /// (`None`: no limit).
    pub fn set_max_start_depth(&mut self, depth: Option<u32>) -> &mut Self {
        self.max_start_depth = depth.unwrap_or(u32::MAX);
        self
    }

    fn options(&self, matches_only: bool) -> Options {
        Options {
            included: self.included,
            containing: self.containing,
            max_start_depth: self.max_start_depth,
            match_limit: self.match_limit,
            matches_only,
        }
    }

    /// The matches of `query` in the subtree of `node`, in the order
    /// tree-sitter finds them. `source` is the text the tree was parsed from.
    pub fn matches<'c, 't>(
        &'c mut self,
        query: &'c Query,
        node: Node<'t>,
        source: &'c [u8],
    ) -> Result<QueryMatches<'c, 't>, Error> {
        Ok(QueryMatches {
            inner: self.execute(query, node, source, true)?,
        })
    }

    /// The captures of `query` in the subtree of `node`, ordered by position,
    /// each with its match and its index in the match's captures.
    pub fn captures<'c, 't>(
        &'c mut self,
        query: &'c Query,
        node: Node<'t>,
        source: &'c [u8],
    ) -> Result<QueryCaptures<'c, 't>, Error> {
        Ok(QueryCaptures {
            inner: self.execute(query, node, source, false)?,
        })
    }

    /// An execution of `query` on `node` with this cursor's settings and
    /// the buffers it kept; `matches_only`: for [`QueryCursor::matches`].
    fn execute<'c, 't>(
        &'c mut self,
        query: &'c Query,
        node: Node<'t>,
        source: &'c [u8],
        matches_only: bool,
    ) -> Result<Iter<'c, 't>, Error> {
        query.check(&node)?;
        self.did_exceed_match_limit = false;
        let buffers = std::mem::take(&mut self.spare.0);
        let options = self.options(matches_only);
        let exec = Exec::new(&query.program, &query.kinds, node, &options, buffers);
        Ok(Iter {
            exec,
            query,
            source,
            cursor: self,
            texts: Vec::new(),
            lent: QueryMatch::empty(),
        })
    }
}

/// `ts_query_cursor_set_byte_range` on `r`: an end of 0 is no end; a start
/// past the end changes nothing.
fn set_bytes(r: &mut Range, range: StdRange<usize>) {
    // The binding converts with `as u32`, as here.
    let (start, mut end) = (range.start as u32, range.end as u32);
    if end == 0 {
        end = u32::MAX;
    }
    if start <= end {
        r.start_byte = start;
        r.end_byte = end;
    }
}

/// `ts_query_cursor_set_point_range` on `r`.
fn set_points(r: &mut Range, range: StdRange<Point>) {
    let (start, end) = point_range(range);
    if start <= end {
        r.start_point = start;
        r.end_point = end;
    }
}

fn point_range(range: StdRange<Point>) -> (Point, Point) {
    // The binding converts with `as u32`, as here.
    let clamp = |p: Point| Point {
        row: p.row as u32 as usize,
        column: p.column as u32 as usize,
    };
    let (start, mut end) = (clamp(range.start), clamp(range.end));
    if end == (Point { row: 0, column: 0 }) {
        end = exec::POINT_MAX;
    }
    (start, end)
}

struct Iter<'c, 't> {
    exec: Exec<'c, 't>,
    query: &'c Query,
    source: &'c [u8],
    cursor: &'c mut QueryCursor,
    /// The captured texts a predicate check reads (kept for the next).
    texts: Vec<(u32, &'c [u8])>,
    /// The match the lending methods return (`next_match`,
    /// `next_capture`), refilled in place.
    lent: QueryMatch<'t>,
}

/// The execution's buffers go back to the cursor for its next one.
impl Drop for Iter<'_, '_> {
    fn drop(&mut self) {
        self.cursor.spare.0 = self.exec.take_buffers();
    }
}

impl<'c, 't> Iter<'c, 't> {
    /// Whether the match returned last (`m`) satisfies its pattern's text
    /// predicates.
    fn satisfies(&mut self, m: &RawMatch) -> bool {
        let predicates = &self.query.text_predicates[usize::from(m.pattern_index)];
        if predicates.is_empty() {
            return true;
        }
        let source = self.source;
        self.texts.clear();
        self.texts.extend(self.exec.captures().iter().map(|c| {
            let text = source
                .get(c.start as usize..c.end as usize)
                .unwrap_or_default();
            (u32::from(c.index), text)
        }));
        predicate::satisfies(predicates, &self.texts)
    }

    /// The match returned last (`m`), as the API has it.
    fn convert(&self, m: RawMatch) -> QueryMatch<'t> {
        let mut out = QueryMatch {
            captures: Vec::with_capacity(self.exec.captures().len()),
            ..QueryMatch::empty()
        };
        fill_match(&self.exec, m, &mut out);
        out
    }

    /// The next match that satisfies its predicates, as `QueryMatches`
    /// returns it.
    fn next_raw_match(&mut self) -> Option<RawMatch> {
        let result = loop {
            match self.exec.next_match() {
                Some(m) if self.satisfies(&m) => break Some(m),
                Some(_) => continue,
                None => break None,
            }
        };
        self.cursor.did_exceed_match_limit = self.exec.did_exceed_match_limit;
        result
    }

    /// The next capture whose match satisfies its predicates, as
    /// `QueryCaptures` returns it.
    fn next_raw_capture(&mut self) -> Option<(RawMatch, usize)> {
        let result = loop {
            match self.exec.next_capture() {
                Some((m, i)) if self.satisfies(&m) => break Some((m, i)),
                Some((m, _)) => self.exec.remove_match(m.id),
                None => break None,
            }
        };
        self.cursor.did_exceed_match_limit = self.exec.did_exceed_match_limit;
        result
    }
}

/// The match `exec` returned last (`m`), as the API has it, into `out`
/// (its captures' buffer reused).
fn fill_match<'t>(exec: &Exec<'_, 't>, m: RawMatch, out: &mut QueryMatch<'t>) {
    let tree = exec.tree();
    out.pattern_index = usize::from(m.pattern_index);
    out.id = m.id;
    out.captures.clear();
    out.captures
        .extend(exec.captures().iter().map(|c| QueryCapture {
            node: tree.visible(c.node),
            index: u32::from(c.index),
            kind_id: c.kind,
        }));
}

/// The matches of a query, in the order tree-sitter returns them.
pub struct QueryMatches<'c, 't> {
    inner: Iter<'c, 't>,
}

/// The controls both iterators share, as tree-sitter's have them.
macro_rules! iterator_controls {
    ($name:ident) => {
        impl $name<'_, '_> {
            /// Whether in-progress matches were dropped for the match limit so far.
            pub fn did_exceed_match_limit(&self) -> bool {
                self.inner.exec.did_exceed_match_limit
            }
            /// Drops the match with this id, finished or in progress, so none of
            /// its remaining captures is returned (`QueryMatch::remove`).
            pub fn remove_match(&mut self, id: u32) {
                self.inner.exec.remove_match(id);
            }
            /// Changes the byte range while iterating, as tree-sitter allows.
            pub fn set_byte_range(&mut self, range: StdRange<usize>) {
                let mut r = self.inner.exec.included();
                set_bytes(&mut r, range);
                self.inner.exec.set_included(r);
            }
            /// Changes the point range while iterating.
            pub fn set_point_range(&mut self, range: StdRange<Point>) {
                let mut r = self.inner.exec.included();
                set_points(&mut r, range);
                self.inner.exec.set_included(r);
            }
        }
    };
}

iterator_controls!(QueryMatches);
iterator_controls!(QueryCaptures);

impl<'t> QueryMatches<'_, 't> {
    /// The next match, lent until the next call: what [`Iterator::next`]
    /// returns, without allocating a match each time (its captures are
    /// refilled in place, as tree-sitter's `StreamingIterator` does).
    pub fn next_match(&mut self) -> Option<&QueryMatch<'t>> {
        let it = &mut self.inner;
        let m = it.next_raw_match()?;
        fill_match(&it.exec, m, &mut it.lent);
        Some(&it.lent)
    }
}

impl<'t> Iterator for QueryMatches<'_, 't> {
    type Item = QueryMatch<'t>;
    fn next(&mut self) -> Option<QueryMatch<'t>> {
        let it = &mut self.inner;
        it.next_raw_match().map(|m| it.convert(m))
    }
}

/// The captures of a query, in the order tree-sitter returns them: each
/// item is a match and the index, in its captures, of the capture it
/// stands for.
pub struct QueryCaptures<'c, 't> {
    inner: Iter<'c, 't>,
}

impl<'t> QueryCaptures<'_, 't> {
    /// The next capture, with its match lent until the next call: what
    /// [`Iterator::next`] returns, without allocating a match each time
    /// (its captures are refilled in place, as tree-sitter's
    /// `StreamingIterator` does).
    pub fn next_capture(&mut self) -> Option<(&QueryMatch<'t>, usize)> {
        let it = &mut self.inner;
        let (m, i) = it.next_raw_capture()?;
        fill_match(&it.exec, m, &mut it.lent);
        Some((&it.lent, i))
    }
}

impl<'t> Iterator for QueryCaptures<'_, 't> {
    type Item = (QueryMatch<'t>, usize);
    fn next(&mut self) -> Option<(QueryMatch<'t>, usize)> {
        let it = &mut self.inner;
        it.next_raw_capture().map(|(m, i)| (it.convert(m), i))
    }
}
