//! # cst — the facade
//!
//! The crate applications embed: a [`Cache`] of syntax trees for a whole
//! workspace, kept in four tiers under byte budgets and persisted on disk.
//! It is the only crate that composes the plumbing crates ([`grammars`],
//! [`bytecode`], [`tiers`], [`policy`], [`query`]).
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
mod config;
mod dicts;
mod hot;
mod maintenance;
mod navigate;
mod paths;
mod placement;
mod stats;
mod walk;

pub use cache::{Cache, Outcome, Tree, default_cache_dir};
pub use config::{Compression, Config, ConfigError};
pub use cst_bytecode as bytecode;
pub use cst_grammars as grammars;
pub use cst_policy as policy;
pub use cst_query as query;
pub use cst_tags as tags;
pub use cst_tiers as tiers;
pub use hot::estimate_tree_bytes;
pub use maintenance::{DictionaryInfo, DiskUsage, GcReport, LanguageUsage, VerifyReport};
pub use navigate::FileTags;
pub use paths::{OpenReport, PathMapStatus};
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
}
