//! The extension point for `workspace/symbol`, `textDocument/definition`
//! and `textDocument/references`, which cst-symbols answers (not this
//! crate). The server advertises those three capabilities only when
//! [`LspOptions::symbols`](crate::LspOptions) holds a provider, calls it
//! on a worker thread, and converts its byte ranges to the client's
//! positions (from the open document's text, else the stored source).

use std::path::{Path, PathBuf};

use cst_workspace::Workspace;

/// A place in a file: its path (absolute) and a byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolLocation {
    /// The file.
    pub path: PathBuf,
    /// The first byte.
    pub start_byte: usize,
    /// The end (exclusive).
    pub end_byte: usize,
    /// The same range in lines and byte columns, when the provider knows
    /// it: the server then converts it without reading the file where the
    /// negotiated encoding is UTF-8 or the file is ASCII.
    pub lines: Option<LineSpan>,
}

/// A range in zero-based lines and byte columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSpan {
    /// The first line.
    pub start_line: u32,
    /// The first column, in bytes.
    pub start_column: u32,
    /// The last line.
    pub end_line: u32,
    /// The end column (exclusive), in bytes.
    pub end_column: u32,
    /// The file's text is ASCII (byte columns are UTF-16 columns too).
    pub ascii: bool,
}

/// One answer of `workspace/symbol`.
#[derive(Debug, Clone)]
pub struct SymbolHit {
    /// The name.
    pub name: String,
    /// The syntax type (`function`, `struct`…: mapped to an LSP kind).
    pub kind: String,
    /// The enclosing symbol's name, if any.
    pub container: Option<String>,
    /// Where it is defined.
    pub location: SymbolLocation,
}

/// What answers the three symbol methods. Called from worker threads with
/// the server's workspace (whose open buffers shadow files on disk).
pub trait SymbolProvider: Send + Sync {
    /// `workspace/symbol`: the symbols matching `query`.
    fn workspace_symbols(&self, ws: &Workspace, query: &str) -> Result<Vec<SymbolHit>, String>;

    /// `textDocument/definition`: the definitions of what is at byte
    /// `offset` of `path`.
    fn definition(
        &self,
        ws: &Workspace,
        path: &Path,
        offset: usize,
    ) -> Result<Vec<SymbolLocation>, String>;

    /// `textDocument/references`: the references to what is at byte
    /// `offset` of `path` (with its declaration when asked).
    fn references(
        &self,
        ws: &Workspace,
        path: &Path,
        offset: usize,
        include_declaration: bool,
    ) -> Result<Vec<SymbolLocation>, String>;
}
