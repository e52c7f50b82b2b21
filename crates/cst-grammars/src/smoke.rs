//! The smoke check: parse a sample with a grammar and count what went wrong.
//!
//! Used by `cargo xtask smoke` and by this crate's tests over
//! `corpora/samples/<language-id>/`.

use std::time::{Duration, Instant};

use crate::{Error, Grammar};

/// What parsing one sample found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleReport {
    /// Source lines (a final line without `\n` counts).
    pub lines: usize,
    /// Nodes in the tree, named and anonymous.
    pub nodes: usize,
    /// `ERROR` nodes.
    pub errors: usize,
    /// `MISSING` nodes.
    pub missing: usize,
    /// Kind of the root node.
    pub root_kind: &'static str,
    /// Parse wall time.
    pub parse_time: Duration,
    /// Where the first ERROR or MISSING node starts (row, column; zero-based).
    pub first_problem: Option<(usize, usize)>,
}

impl SampleReport {
    /// No ERROR and no MISSING node.
    pub fn is_clean(&self) -> bool {
        self.errors == 0 && self.missing == 0
    }
}

/// Why a sample could not be checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SmokeError {
    /// The grammar is not usable in this build.
    #[error(transparent)]
    Grammar(#[from] Error),
    /// tree-sitter returned no tree.
    #[error("the parser returned no tree")]
    NoTree,
}

/// Parses `source` with `grammar` and counts nodes, ERROR and MISSING nodes.
/// The walk is iterative, so deep trees do not overflow the stack.
pub fn check_sample(grammar: &Grammar, source: &[u8]) -> Result<SampleReport, SmokeError> {
    let mut parser = grammar.parser()?;
    let start = Instant::now();
    let tree = parser.parse(source, None).ok_or(SmokeError::NoTree)?;
    let parse_time = start.elapsed();
    let mut report = SampleReport {
        lines: count_lines(source),
        nodes: 0,
        errors: 0,
        missing: 0,
        root_kind: tree.root_node().kind(),
        parse_time,
        first_problem: None,
    };
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        report.nodes += 1;
        let problem = node.is_error() || node.is_missing();
        report.errors += usize::from(node.is_error());
        report.missing += usize::from(node.is_missing());
        if problem && report.first_problem.is_none() {
            let p = node.start_position();
            report.first_problem = Some((p.row, p.column));
        }
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    Ok(report)
}

/// Lines of a source: newline count, plus one for a last line without `\n`.
pub fn count_lines(source: &[u8]) -> usize {
    let newlines = source.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(source.last().is_some_and(|&b| b != b'\n'))
}
