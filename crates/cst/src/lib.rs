//! # cst — the facade
//!
//! The crate applications embed: a [`Cache`] of syntax trees for a whole
//! workspace, kept in four tiers under byte budgets and persisted on disk.
//! It is the only crate that composes the plumbing crates ([`grammars`],
//! [`bytecode`], [`tiers`], [`policy`], [`query`], [`loader`]).
//!
//! ```no_run
//! # fn main() -> Result<(), cst::Error> {
//! let cache = cst::Cache::open("/tmp/cst-cache", cst::Config::default())?;
//! let report = cache.index("my/workspace".as_ref(), &|_| {})?;
//! println!("{} files, {} lines", report.files(), report.lines());
//! if let Some(tree) = cache.get("my/workspace/src/main.rs")? {
//!     println!("{}", tree.root().to_sexp());
//! }
//! # Ok(()) }
//! ```
//!
//! Keys are content addresses (source, language, grammar fingerprint, format
//! version): an unchanged file is a hit, also after a restart; a changed file
//! or a grammar upgrade is parsed again.

mod cache;
mod codec;
mod config;
mod counters;
mod detached;
mod dicts;
mod hot;
mod keys;
mod lookup;
mod maintenance;
mod navigate;
mod paths;
mod placement;
#[cfg(feature = "remote")]
mod remote_tier;
mod stats;
mod tier;
mod walk;
mod writeback;

pub use cache::{Cache, Outcome, Tree, default_cache_dir};
pub use config::{Compression, Config, ConfigError, RemoteSettings};
pub use cst_bytecode as bytecode;
pub use cst_grammars as grammars;
/// Grammars loaded at run time (build, import, probe, approve, load).
pub use cst_loader as loader;
pub use cst_policy as policy;
pub use cst_query as query;
/// The remote tier's crate (keys, configuration, the client).
#[cfg(feature = "remote")]
pub use cst_remote as remote;
pub use cst_tags as tags;
pub use cst_tiers as tiers;
pub use detached::Detached;
pub use hot::estimate_tree_bytes;
pub use maintenance::{DictionaryInfo, DiskUsage, GcReport, LanguageUsage, VerifyReport};
pub use navigate::FileTags;
pub use paths::{OpenReport, PathMapStatus};
#[cfg(feature = "remote")]
pub use remote_tier::{PullOptions, PullSummary, PushOptions, PushSummary, RemoteProgress};
pub use stats::{CacheStats, LATENCY_BUCKETS, LatencySnapshot, TIER_NAMES};
/// The tree-sitter this build is pinned to (stored kind and field ids depend
/// on it): use it, not another version, for live trees and parsers.
pub use tree_sitter;
pub use walk::{IndexOptions, IndexReport, LanguageReport, Progress, SkipReason};

use std::path::PathBuf;

/// Errors of the cache.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No grammar claims the file.
    #[error("{0}: unknown language")]
    UnknownLanguage(PathBuf),
    /// The catalogue knows the file's language, but this build has no
    /// grammar for it (compiled in or loaded).
    #[error(
        "{path}: no grammar for {language}; add one with `cst grammar add <dir | .crate | .tgz>` \
         or import an editor's parser with `cst grammar import`"
    )]
    NoGrammar {
        /// The file.
        path: PathBuf,
        /// The language's display name.
        language: &'static str,
    },
    /// The grammar registry refused (not compiled in, incompatible ABI…).
    #[error(transparent)]
    Grammar(#[from] cst_grammars::Error),
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The on-disk store failed or is corrupt beyond repair.
    #[error(transparent)]
    Store(#[from] cst_tiers::FrozenError),
    /// A stored tree does not decode (it is dropped and will be re-parsed).
    #[error("stored tree for {path}: {source}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The error.
        source: cst_bytecode::DecodeError,
    },
    /// Encoding failed (e.g. a source over 4 GiB).
    #[error(transparent)]
    Encode(#[from] cst_bytecode::EncodeError),
    /// tree-sitter returned no tree.
    #[error("{0}: the parser returned no tree")]
    Parse(PathBuf),
    /// A source larger than [`Config::max_file_bytes`] (`index` counts such
    /// files as skipped, [`SkipReason::TooLarge`]).
    #[error("{path}: {bytes} bytes, over the limit of {limit} (max_file_bytes)")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
        /// `Config::max_file_bytes`.
        limit: u64,
    },
    /// The source on disk no longer matches the indexed content.
    #[error("{0}: the file changed since it was indexed")]
    SourceChanged(PathBuf),
    /// A worker thread panicked (a bug; reported instead of propagated).
    #[error("an indexing thread panicked")]
    WorkerPanicked,
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The source of a tree is neither kept nor readable (`store_source`
    /// off and the file gone or changed).
    #[error("the source of the tree is not available")]
    NoSource,
    /// A query did not compile, or cannot run over the tree.
    #[error(transparent)]
    Query(#[from] cst_query::Error),
    /// The language has no tags query (shipped or bundled).
    #[error("{0}: no tags query for this language")]
    NoTagsQuery(&'static str),
    /// The language's tags query failed.
    #[error("{language}: tags query: {source}")]
    Tags {
        /// The language id.
        language: &'static str,
        /// The error.
        source: cst_tags::Error,
    },
    /// Chunking failed (a zero budget).
    #[error(transparent)]
    Chunk(#[from] cst_tags::ChunkError),
    /// The operation needs a cache persisted on disk and opened to write.
    #[error("this needs a cache on disk, opened to write")]
    NoStore,
    /// The remote tier failed (a miss for the caller: index locally).
    #[cfg(feature = "remote")]
    #[error("remote: {0}")]
    Remote(#[from] cst_remote::Error),
}

/// What kind of failure an [`Error`] is: the one classification every
/// front end (exit codes, HTTP statuses, LSP and MCP errors) maps from, so
/// none of them inspects the variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Nothing is there: a file or a stored source that does not exist.
    NotFound,
    /// The request is wrong: a query that does not compile, a source over
    /// the size limit, an invalid configuration, a zero chunk budget.
    InvalidInput,
    /// The request is well formed but cst cannot answer it: a file of an
    /// unknown language, a grammar not compiled in, no tags query.
    Unsupported,
    /// Another party holds what is needed (the store's writer lock), or the
    /// file changed under the request: try again.
    Busy,
    /// Stored bytes are damaged.
    Corrupt,
    /// The operating system failed (a full disk, a read error).
    Io,
    /// Not allowed: the operating system's permissions, or a path that
    /// leaves the workspace.
    PermissionDenied,
    /// A bug in cst (a panicked worker, an incompatible tree-sitter).
    Internal,
}

impl ErrorKind {
    /// A stable lower-case name (`not_found`, `invalid_input`, …), for
    /// error codes in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Busy => "busy",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Io => "io",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Internal => "internal",
        }
    }
}

impl Error {
    /// The kind of failure (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        use cst_tiers::FrozenError as F;
        match self {
            Error::UnknownLanguage(_) | Error::NoGrammar { .. } | Error::NoTagsQuery(_) => {
                ErrorKind::Unsupported
            }
            Error::Grammar(_) => ErrorKind::Unsupported,
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ErrorKind::NotFound
            }
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::InvalidData => {
                ErrorKind::InvalidInput
            }
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                ErrorKind::PermissionDenied
            }
            Error::Io { .. } => ErrorKind::Io,
            Error::Store(F::Io { .. }) => ErrorKind::Io,
            Error::Store(F::Locked(_)) => ErrorKind::Busy,
            Error::Store(F::ReadOnly(_)) => ErrorKind::Busy,
            Error::Store(F::TooLarge { .. }) => ErrorKind::InvalidInput,
            Error::Store(F::Exhausted { .. }) => ErrorKind::Io,
            Error::Store(_) => ErrorKind::Corrupt,
            Error::Decode { .. } => ErrorKind::Corrupt,
            Error::Encode(_) | Error::TooLarge { .. } | Error::Config(_) | Error::Chunk(_) => {
                ErrorKind::InvalidInput
            }
            Error::Query(cst_query::Error::Incompatible(_)) => ErrorKind::Internal,
            Error::Query(_) => ErrorKind::InvalidInput,
            Error::SourceChanged(_) => ErrorKind::Busy,
            Error::NoSource => ErrorKind::NotFound,
            Error::Parse(_) | Error::WorkerPanicked | Error::Tags { .. } => ErrorKind::Internal,
            Error::NoStore => ErrorKind::Unsupported,
            #[cfg(feature = "remote")]
            Error::Remote(_) => ErrorKind::Io,
        }
    }
}
