//! # cst-bytecode — the cst tree format
//!
//! A lossless, compact encoding of tree-sitter syntax trees, and a navigable
//! view over it that needs no tree-sitter. The byte layout is specified in
//! `docs/FORMAT.md`; this crate is its reference implementation.
//!
//! - [`encode`] (feature `tree-sitter`): `tree_sitter::Tree` + source → bytes.
//!   Every node a `TreeCursor` visits is kept with its kind, field, flags,
//!   byte range and (via a line table) its points.
//! - [`TreeView::open`]: bytes → a navigable tree whose [`Node`] API follows
//!   tree-sitter's, including [`Node::to_sexp`] rendered exactly as tree-sitter
//!   renders it. Any byte string gives a view or a typed [`DecodeError`].
//! - [`verify`] (feature `tree-sitter`): node-by-node comparison with the live tree.
//! - [`compress`] / [`decompress`]: the dense form for cold and frozen storage
//!   (lz4, zstd, zstd with a trained [`Dictionary`]).
//!
//! Kind and field names come from [`Symbols`], built from the grammar once
//! and checked against the grammar fingerprint stored in every tree.

mod compress;
#[cfg(feature = "tree-sitter")]
mod encode;
mod format;
mod sexp;
mod symbols;
#[cfg(feature = "tree-sitter")]
mod verify;
mod view;

use std::ops::RangeInclusive;

pub use compress::{
    Codec, DENSE_MAGIC, DENSE_VERSION, Dictionary, MAX_RAW_LEN, compress, decompress, dictionary_id,
};
#[cfg(feature = "tree-sitter")]
pub use encode::{EncodeError, encode};
pub use format::{HEADER_LEN, MAGIC, MIN_VERSION, VERSION};
pub use symbols::{ERROR_KIND, ERROR_REPEAT_KIND, Symbols};
#[cfg(feature = "tree-sitter")]
pub use verify::{Mismatch, verify};
pub use view::{Children, Node, Point, Preorder, TreeView};

/// Recomputes the checksum of an encoded tree after its bytes were changed.
/// For fuzzing and corruption tests, which must reach the structural checks
/// behind the checksum. Does nothing to inputs shorter than a header.
#[doc(hidden)]
pub fn reseal(bytes: &mut [u8]) {
    if bytes.len() >= HEADER_LEN {
        let sum = format::checksum(&bytes[..HEADER_LEN - 4], &bytes[HEADER_LEN..]);
        bytes[HEADER_LEN - 4..HEADER_LEN].copy_from_slice(&sum.to_le_bytes());
    }
}

/// Why bytes could not be read as an encoded tree or container.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes do not start with the format's magic.
    #[error("not a cst tree (bad magic)")]
    BadMagic,
    /// Written by a format version this reader does not read.
    #[error("format version {found} is not supported (this reader reads {supported:?})")]
    UnsupportedVersion {
        /// Version in the header.
        found: u16,
        /// Versions this reader reads.
        supported: RangeInclusive<u16>,
    },
    /// The bytes end before the header says they should.
    #[error("truncated: need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The checksum does not match the content.
    #[error("checksum mismatch (stored {expected:#010x}, computed {actual:#010x})")]
    ChecksumMismatch {
        /// Stored checksum.
        expected: u32,
        /// Checksum of the bytes.
        actual: u32,
    },
    /// The content is inconsistent.
    #[error("corrupt at byte {offset}: {what}")]
    Corrupt {
        /// Byte offset where the problem was found.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The tree was encoded for another grammar (or grammar version).
    #[error("tree is for grammar {tree:02x?}, symbols are for {symbols:02x?}")]
    GrammarMismatch {
        /// Fingerprint in the tree.
        tree: [u8; 16],
        /// Fingerprint of the symbols given.
        symbols: [u8; 16],
    },
    /// A compressed container needs a dictionary that was not given.
    #[error("compressed with dictionary {id:#010x}, given {given:?}")]
    MissingDictionary {
        /// The dictionary id the container needs.
        id: u32,
        /// The id of the dictionary given, if any.
        given: Option<u32>,
    },
}
