//! # cst-workspace — a workspace that stays current
//!
//! The layer every long-running front end of cst stands on (the HTTP API of
//! `cst serve`, and the language and MCP servers), and that an editor
//! written in Rust can embed without any of them. It holds, above the
//! [`cst`] facade:
//!
//! - the **store** of one directory, found and opened as every `cst`
//!   command opens it ([`discover`]: the root of a path, `cst.toml`, the
//!   cache directory, the fallback to reading beside another writer);
//! - an **overlay of open buffers** (text, version, live tree, line index):
//!   an edit is tree-sitter's incremental reparse and nothing else, and a
//!   buffer shadows its file for every answer without ever becoming what
//!   the store holds for it ([`Workspace::open_buffer`],
//!   [`Workspace::edit_buffer`], [`Workspace::close`]);
//! - the **watcher** (`cst-watch`) and a reconcile thread that keep the
//!   store in step with the disk;
//! - a **generation**, carried by every answer with the paths known to be
//!   stale ([`Meta`]).
//!
//! Answers ([`answers`]) are plain data with `serde::Serialize`, shared by
//! the command's JSON and the protocols. No async runtime: threads and
//! channels.
//!
//! **Durability.** The store's trees of files on disk are written through
//! (or re-derived from the files at the next start), so a crash loses no
//! tree of a file on disk. A buffer's text lives in memory only: what a
//! crash loses is buffer text the client has not saved, which the client
//! still holds.

pub mod answers;
mod buffer;
pub mod discover;
mod ops;
mod query;
mod reconcile;
pub mod text;
mod workspace;

pub use buffer::{Buffer, Change, Range, apply_changes};
pub use ops::{NodeRequest, TreeFormat};
pub use query::{PreparedQuery, QueryLimits, QueryRecord, QueryRequest, QuerySummary};
pub use text::{Encoding, LineIndex, Position};
pub use workspace::{
    BeforeIndex, BufferState, FileTree, GRAMMAR_POLL, GrammarReload, Meta, RunSummary, Status,
    WatchInfo, Workspace, WorkspaceOptions, drop_trees_of,
};

/// The facade this layer stands on.
pub use cst;

use std::path::PathBuf;

/// Errors of the workspace.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] cst::Error),
    /// A path leaves the workspace (`..` above the root, an absolute path
    /// elsewhere, a symbolic link pointing outside).
    #[error("{0}: outside the workspace")]
    OutsideWorkspace(String),
    /// A path that is not one (empty, or with a NUL byte).
    #[error("{0:?}: not a valid path")]
    BadPath(String),
    /// The file does not exist.
    #[error("{}: not found", .0.display())]
    NotFound(PathBuf),
    /// The path is not a regular file.
    #[error("{0}: not a file")]
    NotAFile(String),
    /// The root is not a directory.
    #[error("{}: not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// The file is not indexed (binary, too large, of no known language).
    #[error("{0}: not indexed (binary, too large, ignored or of no known language)")]
    NotIndexed(String),
    /// No language of that name, or none detected for the file.
    #[error("{0}: unknown language")]
    UnknownLanguage(String),
    /// No buffer is open for the path.
    #[error("{0}: no open buffer")]
    NotOpen(String),
    /// An edit does not fit the buffer's text.
    #[error("bad edit: {0}")]
    BadEdit(String),
    /// A buffer change carries a version not newer than the buffer's.
    #[error("stale version {got}: the buffer is at version {have}")]
    StaleVersion {
        /// The buffer's version.
        have: i64,
        /// The change's version.
        got: i64,
    },
    /// A request that cannot be answered as given.
    #[error("{0}")]
    Invalid(String),
    /// Reading a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The watcher could not start.
    #[error("watching: {0}")]
    Watch(cst_watch::Error),
}

impl Error {
    /// The kind of failure, as the facade classifies its own.
    pub fn kind(&self) -> cst::ErrorKind {
        use cst::ErrorKind as K;
        match self {
            Error::Cache(e) => e.kind(),
            Error::OutsideWorkspace(_) => K::PermissionDenied,
            Error::BadPath(_)
            | Error::BadEdit(_)
            | Error::Invalid(_)
            | Error::NotAFile(_)
            | Error::NotADirectory(_) => K::InvalidInput,
            Error::NotFound(_) | Error::NotOpen(_) => K::NotFound,
            Error::NotIndexed(_) | Error::UnknownLanguage(_) => K::Unsupported,
            Error::StaleVersion { .. } => K::Busy,
            Error::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => K::NotFound,
                std::io::ErrorKind::PermissionDenied => K::PermissionDenied,
                _ => K::Io,
            },
            Error::Watch(_) => K::Io,
        }
    }
}
