//! # cst-symbols — workspace symbols from stored tags
//!
//! Everything here is computed from the tags cst keeps beside its stored
//! trees (`cst::Cache::tags`, tree-sitter-tags semantics): nothing is
//! parsed again.
//!
//! - [`SymbolIndex`]: every definition and reference of a workspace (the
//!   store's files under its root, with open buffers shadowing their
//!   files), compact (names interned, a small fixed-size record per tag),
//!   built in parallel and refreshed incrementally
//!   ([`SymbolIndex::refresh`] re-reads only what changed);
//! - [`SymbolIndex::search`]: `workspace/symbol` — exact, prefix,
//!   substring and fuzzy name matches of definitions, ranked;
//! - [`SymbolIndex::definitions`] / [`SymbolIndex::references`]: by name,
//!   ranked by proximity to a file (same file, same directory, then by
//!   common path prefix). These are **syntactic**: a name matches every
//!   definition of that name, whatever scope, type or module it lives in;
//!   they are never precise the way a compiler's answers are;
//! - [`Ranker`]: aider's repo map — a graph of files (an edge from a file
//!   referencing a name to each file defining it), personalised PageRank,
//!   ranked definitions rendered within a token budget ([`RepoMap`]).
//!
//! Token counts are estimates: characters / 4 (see [`estimate_tokens`]).

mod index;
mod intern;
mod live;
mod map;
mod persist;
mod rank;
mod render;
mod search;

use std::ops::Range;
use std::path::PathBuf;

pub use index::{RefreshReport, SymbolIndex};
pub use live::LiveIndex;
pub use map::{MapDef, MapFile, MapOptions, Ranker, RepoMap};
pub use render::estimate_tokens;
pub use search::{MatchKind, SymbolHit};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The workspace failed.
    #[error(transparent)]
    Workspace(#[from] cst_workspace::Error),
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] cst_workspace::cst::Error),
    /// A request that cannot be answered as given.
    #[error("{0}")]
    Invalid(String),
    /// The workspace's first index is still running.
    #[error(
        "the workspace's first index is still running ({done} of {total} files); try again soon"
    )]
    NotReady {
        /// Files done.
        done: u64,
        /// Files in all.
        total: u64,
    },
}

impl Error {
    /// The kind of failure, as the facade classifies its own.
    pub fn kind(&self) -> cst_workspace::cst::ErrorKind {
        match self {
            Error::Workspace(e) => e.kind(),
            Error::Cache(e) => e.kind(),
            Error::Invalid(_) => cst_workspace::cst::ErrorKind::InvalidInput,
            Error::NotReady { .. } => cst_workspace::cst::ErrorKind::Busy,
        }
    }
}

/// One tag of the index: a definition or a reference of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The name.
    pub name: String,
    /// The syntax type (`function`, `class`, `call`, …).
    pub kind: String,
    /// The file (absolute).
    pub path: PathBuf,
    /// The line of the name, from 1.
    pub line: u32,
    /// The column of the name, from 0, in bytes.
    pub column: u32,
    /// The line where the name ends, from 1.
    pub end_line: u32,
    /// The column where the name ends (exclusive), from 0, in bytes.
    pub end_column: u32,
    /// A definition (else a reference).
    pub is_definition: bool,
    /// The name's bytes in the file.
    pub bytes: Range<usize>,
    /// The tagged node's bytes (the whole definition or reference, joined
    /// with the name's).
    pub node_bytes: Range<usize>,
    /// The file's text is ASCII: its byte columns are also its UTF-16 and
    /// UTF-32 columns (a server converts positions without reading it).
    pub ascii: bool,
}
