//! `textDocument/documentSymbol`: the workspace layer's outline (the tags
//! query's definitions nested by range), as hierarchical `DocumentSymbol`s:
//! the item's bytes as `range`, its name's as `selectionRange` (the whole
//! range when the name lies outside it), its syntax type as the kind.

use cst_workspace::answers::OutlineItemOut;
use lsp_types::DocumentSymbol;

use crate::convert::{TextLines, symbol_kind};

pub(crate) fn document_symbols(
    items: &[OutlineItemOut],
    lines: TextLines<'_>,
) -> Vec<DocumentSymbol> {
    // Built bottom-up without recursion: a (post-order) stack of each
    // level's finished children.
    enum Step<'a> {
        Enter(&'a OutlineItemOut),
        Leave(&'a OutlineItemOut),
    }
    let mut done: Vec<Vec<DocumentSymbol>> = vec![Vec::new()];
    let mut stack: Vec<Step<'_>> = items.iter().rev().map(Step::Enter).collect();
    while let Some(step) = stack.pop() {
        match step {
            Step::Enter(it) => {
                done.push(Vec::new());
                stack.push(Step::Leave(it));
                stack.extend(it.children.iter().rev().map(Step::Enter));
            }
            Step::Leave(it) => {
                let children = done.pop().unwrap_or_default();
                let range = lines.range(it.bytes[0], it.bytes[1]);
                let name_inside =
                    it.name_bytes[0] >= it.bytes[0] && it.name_bytes[1] <= it.bytes[1];
                let selection_range = if name_inside {
                    lines.range(it.name_bytes[0], it.name_bytes[1])
                } else {
                    range
                };
                #[allow(deprecated)]
                let symbol = DocumentSymbol {
                    name: if it.name.is_empty() {
                        "_".into()
                    } else {
                        it.name.clone()
                    },
                    detail: None,
                    kind: symbol_kind(&it.kind),
                    tags: None,
                    deprecated: None,
                    range,
                    selection_range,
                    children: Some(children),
                };
                if let Some(level) = done.last_mut() {
                    level.push(symbol);
                }
            }
        }
    }
    done.pop().unwrap_or_default()
}
