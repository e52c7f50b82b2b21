//! The symbol provider of `cst lsp`: `workspace/symbol`, `definition` and
//! `references` answered from cst-symbols' name index over the stored tags
//! of the whole workspace (open buffers included), kept between requests
//! and refreshed when the workspace's generation moves.
//!
//! Definitions and references are syntactic: by the name under the cursor,
//! every candidate, ranked (the asking file, its directory, then the
//! rest) — never claimed precise.

use std::path::Path;

use cst_symbols::{LiveIndex, SymbolIndex};
use cst_workspace::Workspace;

use crate::provider::{LineSpan, SymbolHit, SymbolLocation, SymbolProvider};

/// Most answers of one `workspace/symbol` request.
const WORKSPACE_SYMBOLS: usize = 256;

/// The provider backed by a [`SymbolIndex`] kept current with the
/// workspace's generation ([`LiveIndex`]).
#[derive(Debug, Default)]
pub struct IndexProvider {
    index: LiveIndex,
}

impl IndexProvider {
    /// Runs `f` on the index, current as of now.
    fn with<T>(&self, ws: &Workspace, f: impl FnOnce(&SymbolIndex) -> T) -> Result<T, String> {
        self.index
            .with(ws, |index, _| f(index))
            .map_err(|e| e.to_string())
    }

    fn located(symbols: Vec<&cst_symbols::Symbol>) -> Vec<SymbolLocation> {
        symbols.into_iter().map(location_of).collect()
    }
}

/// Where a symbol's name is, with its lines and columns.
fn location_of(s: &cst_symbols::Symbol) -> SymbolLocation {
    SymbolLocation {
        path: s.path.clone(),
        start_byte: s.bytes.start,
        end_byte: s.bytes.end,
        lines: Some(LineSpan {
            start_line: s.line.saturating_sub(1),
            start_column: s.column,
            end_line: s.end_line.saturating_sub(1),
            end_column: s.end_column,
            ascii: s.ascii,
        }),
    }
}

/// The identifier around byte `offset` of `path`'s current text (an open
/// buffer's, else the stored source): the longest run of identifier
/// characters (letters, digits, `_`, `$`, and any non-ASCII character)
/// touching it.
fn name_at(ws: &Workspace, path: &Path, offset: usize) -> Result<Option<String>, String> {
    let file = ws.file_at(path).map_err(|e| e.to_string())?;
    let Some(text) = file.tree.source() else {
        return Ok(None);
    };
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
    let at = offset.min(text.len());
    let mut start = at;
    while start > 0 && is_ident(text[start - 1]) {
        start -= 1;
    }
    let mut end = at;
    while end < text.len() && is_ident(text[end]) {
        end += 1;
    }
    if start == end {
        return Ok(None);
    }
    Ok(std::str::from_utf8(&text[start..end])
        .ok()
        .map(str::to_owned))
}

impl SymbolProvider for IndexProvider {
    fn workspace_symbols(&self, ws: &Workspace, query: &str) -> Result<Vec<SymbolHit>, String> {
        self.with(ws, |index| {
            index
                .search(query, WORKSPACE_SYMBOLS)
                .into_iter()
                .map(|h| SymbolHit {
                    name: h.symbol.name.clone(),
                    kind: h.symbol.kind.clone(),
                    container: None,
                    location: location_of(&h.symbol),
                })
                .collect()
        })
    }

    fn definition(
        &self,
        ws: &Workspace,
        path: &Path,
        offset: usize,
    ) -> Result<Vec<SymbolLocation>, String> {
        let Some(name) = name_at(ws, path, offset)? else {
            return Ok(Vec::new());
        };
        self.with(ws, |index| {
            Self::located(index.definitions(&name, Some(path)))
        })
    }

    fn references(
        &self,
        ws: &Workspace,
        path: &Path,
        offset: usize,
        include_declaration: bool,
    ) -> Result<Vec<SymbolLocation>, String> {
        let Some(name) = name_at(ws, path, offset)? else {
            return Ok(Vec::new());
        };
        self.with(ws, |index| {
            let mut found = Self::located(index.references(&name, Some(path)));
            if include_declaration {
                found.extend(Self::located(index.definitions(&name, Some(path))));
            }
            found
        })
    }
}
