//! # cst-lsp — a language server on the workspace layer
//!
//! `cst lsp` speaks the Language Server Protocol over stdio and answers
//! from `cst-workspace`: the store of the client's root (`rootUri`, or the
//! first workspace folder) and the overlay of the client's open documents.
//!
//! The shape is rust-analyzer's (`lsp-server` + `lsp-types`): one ordered
//! main loop ([`main_loop`]) applies every notification that changes state
//! (`didOpen`, `didChange`, `didClose`, `didSave`,
//! `didChangeWatchedFiles`) in order, and hands requests to a small worker
//! pool ([`dispatch`]) with a snapshot of the document they were made
//! against. A request whose document moved on to another version before
//! its answer was ready is answered with `ContentModified` (-32801); a
//! `$/cancelRequest` for a request not started yet, with
//! `RequestCancelled` (-32800).
//!
//! Methods: `textDocument/documentSymbol` (hierarchical, from the
//! outline), `foldingRange`, `selectionRange`, `documentHighlight` (the
//! grammar's locals query resolving scopes where it ships one, as
//! tree-sitter-highlight does; else syntactic: the leaves of the same kind
//! and text), `semanticTokens/full`, `/full/delta` and `/range` (the
//! grammars' highlights queries on a published legend), syntax
//! diagnostics (`publishDiagnostics`: ERROR and MISSING nodes).
//! `workspace/symbol`, `definition` and `references` are delegated to a
//! [`SymbolProvider`] when one is given (and advertised only then).
//!
//! Positions are in the negotiated encoding: UTF-8 when the client offers
//! it, UTF-16 otherwise.

pub mod caps;
pub mod convert;
mod dispatch;
mod docs;
mod handlers;
pub mod main_loop;
pub mod provider;
mod symbols;
mod syntax;

use std::path::PathBuf;

pub use cst_workspace::GrammarReload;
pub use cst_workspace::discover::{Access, OpenOptions};
pub use handlers::folding::is_fold_kind;
pub use handlers::semantic::{LEGEND_MODIFIERS, LEGEND_TYPES, token_type_of};
pub use provider::{LineSpan, SymbolHit, SymbolLocation, SymbolProvider};
pub use symbols::IndexProvider;

/// How the server opens its workspace and runs.
pub struct LspOptions {
    /// Where the cache is and how to open it (the access falls back to
    /// reading beside another writer: `Access::WriteOrRead`).
    pub open: OpenOptions,
    /// Keep the store current with cst's own watcher (besides the client's
    /// `didChangeWatchedFiles`).
    pub watch: bool,
    /// Index the workspace when it opens (in the background).
    pub index_on_open: bool,
    /// Worker threads answering requests (at least 1).
    pub workers: usize,
    /// The provider of `workspace/symbol`, `definition` and `references`;
    /// those capabilities are advertised only when it is set.
    pub symbols: Option<Box<dyn SymbolProvider>>,
    /// Grammars approved while the server runs (see
    /// `cst_workspace::WorkspaceOptions::grammar_reload`).
    pub grammar_reload: Option<GrammarReload>,
}

impl std::fmt::Debug for LspOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LspOptions")
            .field("open", &self.open)
            .field("watch", &self.watch)
            .field("index_on_open", &self.index_on_open)
            .field("workers", &self.workers)
            .field("symbols", &self.symbols.is_some())
            .field("grammar_reload", &self.grammar_reload.is_some())
            .finish()
    }
}

impl Default for LspOptions {
    fn default() -> Self {
        LspOptions {
            open: OpenOptions {
                access: Access::WriteOrRead,
                ..OpenOptions::default()
            },
            watch: true,
            index_on_open: true,
            workers: 2,
            symbols: None,
            grammar_reload: None,
        }
    }
}

/// Errors that end the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection failed (the client went away, a malformed frame
    /// during the handshake).
    #[error("connection: {0}")]
    Protocol(String),
    /// The workspace could not be opened.
    #[error("workspace {}: {source}", root.display())]
    Workspace {
        /// The root asked for.
        root: PathBuf,
        /// Why.
        source: Box<cst_workspace::Error>,
    },
    /// The client gave no usable root (`rootUri`, `rootPath` or a
    /// workspace folder with a `file:` URI).
    #[error("no workspace root: {0}")]
    NoRoot(String),
    /// Reading or writing stdio failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<lsp_server::ProtocolError> for Error {
    fn from(e: lsp_server::ProtocolError) -> Self {
        Error::Protocol(e.to_string())
    }
}

/// Serves one client on `connection` until it shuts down and exits.
pub fn run(connection: lsp_server::Connection, options: LspOptions) -> Result<(), Error> {
    main_loop::run(connection, options)
}

/// Serves one client over stdin and stdout (nothing else may write to
/// stdout meanwhile: it is the protocol's channel).
pub fn stdio(options: LspOptions) -> Result<(), Error> {
    let (connection, io_threads) = lsp_server::Connection::stdio();
    let result = run(connection, options);
    io_threads.join()?;
    result
}
