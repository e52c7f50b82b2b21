//! `textDocument/selectionRange`: for each position, the smallest node
//! there (named or not: the token first), then each ancestor whose range
//! is larger, up to the root.

use lsp_types::SelectionRange;

use crate::convert::TextLines;
use crate::syntax::{Snapshot, SyntaxNode, with_root};

pub(crate) fn selection_ranges(
    snap: &Snapshot,
    lines: TextLines<'_>,
    positions: &[lsp_types::Position],
) -> Result<Vec<SelectionRange>, String> {
    positions
        .iter()
        .map(|p| {
            let offset = lines.offset(*p)?;
            let chain = with_root!(snap, |root| chain(root, offset));
            let mut built: Option<SelectionRange> = None;
            for (s, e) in chain.into_iter().rev() {
                built = Some(SelectionRange {
                    range: lines.range(s, e),
                    parent: built.map(Box::new),
                });
            }
            Ok(built.unwrap_or(SelectionRange {
                range: lines.range(offset, offset),
                parent: None,
            }))
        })
        .collect()
}

/// The byte ranges from the node at `offset` up to the root, each larger
/// than the one before.
fn chain<N: SyntaxNode>(root: N, offset: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut node = root.descendant_for_byte_range(offset, offset);
    while let Some(n) = node {
        let r = (n.start_byte(), n.end_byte());
        if out.last() != Some(&r) {
            out.push(r);
        }
        node = n.parent();
    }
    out
}
