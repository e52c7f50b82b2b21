//! `textDocument/foldingRange`. The grammars ship no `folds.scm`, so the
//! rule is cst's own, the same for every language:
//!
//! - a **named node spanning two lines or more** folds when its kind is
//!   block-like ([`is_fold_kind`]: it contains `block`, `body`,
//!   `compound`, `list`, `arguments`, `parameters`, `initializer`,
//!   `preproc_if` or `preproc_ifdef`, or is a comment); kind `Comment`
//!   for comments, `Imports` for `use_declaration`/`preproc_include` runs
//!   is not attempted;
//! - a **run of comments on consecutive lines** (siblings, each a
//!   `comment`-kind node) spanning two lines or more folds as one
//!   `Comment` range;
//! - a range covers lines `start..=end`, where `end` is the node's end
//!   row, or the row before when the node ends at column 0; ranges are
//!   sorted by start line (longer first), one per distinct line pair.
//!
//! Single-line nodes are not descended into: no multi-line node is inside
//! one.

use lsp_types::{FoldingRange, FoldingRangeKind};

use cst_workspace::LineIndex;

use crate::syntax::{Snapshot, SyntaxNode, with_root};

/// Whether a named node of this kind folds when it spans lines.
pub fn is_fold_kind(kind: &str) -> bool {
    const PARTS: [&str; 9] = [
        "block",
        "body",
        "compound",
        "list",
        "arguments",
        "parameters",
        "initializer",
        "preproc_if",
        "preproc_ifdef",
    ];
    is_comment(kind) || PARTS.iter().any(|p| kind.contains(p))
}

fn is_comment(kind: &str) -> bool {
    kind.contains("comment")
}

/// A node's first and last line (the last is the row before its end when
/// it ends at column 0 of a later line), from the document's line index
/// (a binary search over line starts: cheaper than either tree's rows).
fn lines_of<N: SyntaxNode>(n: &N, lines: &LineIndex) -> (usize, usize) {
    let start = lines.point(n.start_byte()).row;
    let end = lines.point(n.end_byte());
    let last = if end.column == 0 && end.row > start {
        end.row - 1
    } else {
        end.row
    };
    (start, last)
}

pub(crate) fn folding_ranges(snap: &Snapshot) -> Vec<FoldingRange> {
    let lines = &*snap.lines;
    with_root!(snap, |root| collect(root, lines))
}

fn collect<N: SyntaxNode>(root: N, lines: &LineIndex) -> Vec<FoldingRange> {
    let mut out: Vec<FoldingRange> = Vec::new();
    let mut push = |start: usize, end: usize, comment: bool| {
        if end <= start {
            return;
        }
        let r = FoldingRange {
            start_line: start as u32,
            start_character: None,
            end_line: end as u32,
            end_character: None,
            kind: comment.then_some(FoldingRangeKind::Comment),
            collapsed_text: None,
        };
        out.push(r);
    };
    // Preorder over multi-line nodes, without recursion.
    let (start, last) = lines_of(&root, lines);
    let mut stack = vec![(root, start, last)];
    let mut visit = Vec::new();
    while let Some((node, start, last)) = stack.pop() {
        if node.is_named() && is_fold_kind(node.kind()) && start < last {
            push(start, last, is_comment(node.kind()));
        }
        // The children: runs of single-line comments, and the multi-line
        // children to visit (pushed in reverse for document order).
        let mut run: Option<(usize, usize)> = None;
        for c in node.children() {
            let (c_start, c_last) = lines_of(&c, lines);
            let single_comment = c_start == c_last && c.is_named() && is_comment(c.kind());
            if single_comment {
                run = match run {
                    Some((s, e)) if c_start == e + 1 => Some((s, c_start)),
                    Some((s, e)) => {
                        push(s, e, true);
                        Some((c_start, c_start))
                    }
                    None => Some((c_start, c_start)),
                };
            } else {
                if let Some((s, e)) = run.take() {
                    push(s, e, true);
                }
                // Spans two rows or more (its end row past its start row:
                // it may still end at column 0 of the next line, and so
                // fold nothing itself, yet hold nothing that folds).
                if c_last > c_start || lines.point(c.end_byte()).row > c_start {
                    visit.push((c, c_start, c_last));
                }
            }
        }
        if let Some((s, e)) = run {
            push(s, e, true);
        }
        stack.extend(visit.drain(..).rev());
    }
    out.sort_by_key(|r| (r.start_line, std::cmp::Reverse(r.end_line)));
    out.dedup_by_key(|r| (r.start_line, r.end_line));
    out
}
