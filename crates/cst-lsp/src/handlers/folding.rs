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

/// The last line a node covers.
fn last_line<N: SyntaxNode>(n: &N) -> usize {
    if n.end_column() == 0 && n.end_row() > n.start_row() {
        n.end_row() - 1
    } else {
        n.end_row()
    }
}

pub(crate) fn folding_ranges(snap: &Snapshot) -> Vec<FoldingRange> {
    with_root!(snap, |root| collect(root))
}

fn collect<N: SyntaxNode>(root: N) -> Vec<FoldingRange> {
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
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_named() && is_fold_kind(node.kind()) && node.start_row() < node.end_row() {
            push(node.start_row(), last_line(&node), is_comment(node.kind()));
        }
        // The children: runs of single-line comments, and the multi-line
        // children to visit (pushed in reverse for document order).
        let mut visit = Vec::new();
        let mut run: Option<(usize, usize)> = None;
        for c in node.children() {
            let single_comment =
                c.is_named() && is_comment(c.kind()) && c.start_row() == last_line(&c);
            if single_comment {
                run = match run {
                    Some((s, e)) if c.start_row() == e + 1 => Some((s, c.start_row())),
                    Some((s, e)) => {
                        push(s, e, true);
                        Some((c.start_row(), c.start_row()))
                    }
                    None => Some((c.start_row(), c.start_row())),
                };
            } else {
                if let Some((s, e)) = run.take() {
                    push(s, e, true);
                }
                if c.start_row() < c.end_row() {
                    visit.push(c);
                }
            }
        }
        if let Some((s, e)) = run {
            push(s, e, true);
        }
        stack.extend(visit.into_iter().rev());
    }
    out.sort_by_key(|r| (r.start_line, std::cmp::Reverse(r.end_line)));
    out.dedup_by_key(|r| (r.start_line, r.end_line));
    out
}
