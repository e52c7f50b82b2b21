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
//! - [`Cursor`] ([`TreeView::walk`], [`Node::walk`]): `tree_sitter::TreeCursor`
//!   over a view, move for move, O(1) amortised per move in a walk.
//! - [`verify`] (feature `tree-sitter`): node-by-node comparison with the live tree.
//! - [`compress`] / [`decompress`]: the dense form for cold and frozen storage
//!   (lz4, zstd, zstd with a trained [`Dictionary`]).
//!
//! Kind and field names come from [`Symbols`], built from the grammar once
//! and checked against the grammar fingerprint stored in every tree.

mod compress;
mod cursor;
#[cfg(feature = "tree-sitter")]
mod encode;
mod facts;
mod format;
mod layout;
mod legacy;
#[cfg(feature = "tree-sitter")]
mod live_facts;
mod pack;
mod sexp;
mod spans;
mod succinct;
mod symbols;
pub mod varint;
#[cfg(feature = "tree-sitter")]
mod verify;
mod view;

use std::ops::RangeInclusive;

pub use compress::{
    Codec, DENSE_MAGIC, DENSE_VERSION, Dictionary, MAX_RAW_LEN, compress, decompress, dictionary_id,
};
pub use cursor::{Cursor, CursorPreorder};
#[cfg(feature = "tree-sitter")]
pub use encode::{EncodeError, encode};
pub use facts::{HiddenNode, MAX_SUPERTYPES, NodeFacts};
pub use format::{HEADER_LEN, MAGIC, MIN_VERSION, QUERY_FACTS_VERSION, VERSION};
pub use pack::{PACKED_MAGIC, PACKED_VERSION, is_packed, pack, unpack};
pub use symbols::{ERROR_KIND, ERROR_REPEAT_KIND, Symbols};
#[cfg(feature = "tree-sitter")]
pub use verify::{Mismatch, verify};
pub use view::{
    Children, Event, Events, HiddenSpan, HiddenSpanIter, HiddenSpanPos, HiddenSpans, Node,
    NodePlace, NodeSummary, Point, Preorder, TreeView, Wrappers,
};

/// Harnesses shared by the fuzz targets (`fuzz/`) and the tests that replay
/// their findings, so both run exactly the same code.
#[doc(hidden)]
pub mod fuzzing {
    use std::sync::Arc;

    use crate::{HEADER_LEN, MAGIC, Symbols, TreeView, VERSION, reseal};

    /// Opens `data` as a tree and walks all of it. Byte 0 chooses the mode:
    /// odd values give the rest our magic, version, fingerprint, body length
    /// and a valid checksum, so the structural checks behind them are reached.
    pub fn decode_and_walk(data: &[u8], symbols: &Arc<Symbols>) {
        let Some((&mode, rest)) = data.split_first() else {
            return;
        };
        let mut bytes = rest.to_vec();
        if mode & 1 == 1 {
            if bytes.len() >= HEADER_LEN {
                // Bit 1 picks a version-3 header (the decoder of versions
                // 1 to 3), else bit 2 a version-4 one (read in place, as
                // the current one), else the current one.
                let version = match mode & 6 {
                    2 | 6 => 3u16,
                    4 => 4,
                    _ => VERSION,
                };
                bytes[..4].copy_from_slice(&MAGIC);
                bytes[4..6].copy_from_slice(&version.to_le_bytes());
                bytes[8..24].copy_from_slice(&symbols.fingerprint());
                let body_len = (bytes.len() - HEADER_LEN) as u32;
                bytes[40..44].copy_from_slice(&body_len.to_le_bytes());
            }
            reseal(&mut bytes);
        }
        let Ok(view) = TreeView::open(&bytes, symbols.clone()) else {
            return;
        };
        // Opening is O(1) and checks no node: bytes that passed it but not
        // the deep check must still be walked without a panic or a loop.
        let valid = view.validate().is_ok();
        let root = view.root();
        let mut n = 0usize;
        for node in root.preorder() {
            n += node.child_count() + node.kind().len() + node.named_child_count();
            let _ = (
                node.start_position(),
                node.end_position(),
                node.parent(),
                node.prev_sibling(),
            );
            let _ = node.descendant_for_byte_range(node.start_byte(), node.end_byte());
            let _ = node.descendant_for_point_range(node.start_position(), node.end_position());
            let _ = (
                node.field_name(),
                node.next_named_sibling(),
                node.last_child(),
            );
        }
        if valid {
            assert_eq!(root.preorder().count(), view.node_count());
        }
        let _ = (root.to_sexp(), n);
    }

    /// Decompresses `data` as a dense container, and unpacks it (and what
    /// it holds) as a packed tree: an unpacked tree must pack back to the
    /// same bytes and open.
    pub fn decompress(data: &[u8]) {
        let _ = crate::dictionary_id(data);
        if let Ok(raw) = crate::decompress(data, None) {
            assert!(raw.len() <= crate::MAX_RAW_LEN as usize);
            unpack(&raw);
        }
        unpack(data);
    }

    fn unpack(data: &[u8]) {
        if let Ok(tree) = crate::unpack(data) {
            let again = crate::pack(&tree).expect("an unpacked tree packs");
            assert_eq!(crate::unpack(&again).expect("and unpacks"), tree);
        }
    }

    /// The grammars of the `encode` target, by registry id; the input's
    /// first byte picks one (modulo their number). The caller (fuzz target
    /// or test) loads them: this crate does not know the registry.
    #[cfg(feature = "tree-sitter")]
    pub const ENCODE_GRAMMARS: &[&str] = &["rust", "python", "javascript", "json", "c", "go"];

    /// Splits an `encode` input into the grammar id it picks and the source.
    #[cfg(feature = "tree-sitter")]
    pub fn split_encode_input(data: &[u8]) -> Option<(&'static str, &[u8])> {
        let (&pick, source) = data.split_first()?;
        Some((
            ENCODE_GRAMMARS[usize::from(pick) % ENCODE_GRAMMARS.len()],
            source,
        ))
    }

    /// Parses `source` with `language`, encodes the tree, opens it and
    /// checks it against the live tree: `verify`, `to_sexp`, range queries,
    /// determinism of the encoder and a dense round trip. Any difference
    /// panics (a finding). `symbols` must be those of `language`.
    #[cfg(feature = "tree-sitter")]
    pub fn encode_and_verify(
        source: &[u8],
        language: &tree_sitter::Language,
        symbols: &Arc<Symbols>,
    ) {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(language).expect("the language loads");
        let Some(tree) = parser.parse(source, None) else {
            return;
        };
        let fingerprint = symbols.fingerprint();
        let bytes = crate::encode(&tree, source, fingerprint)
            .unwrap_or_else(|e| panic!("encoding a fresh parse failed: {e}"));
        assert_eq!(
            crate::encode(&tree, source, fingerprint).ok().as_deref(),
            Some(&bytes[..]),
            "the encoder is not deterministic"
        );
        let view = TreeView::open(&bytes, symbols.clone())
            .unwrap_or_else(|e| panic!("an encoded tree does not open: {e}"));
        if let Err(m) = crate::verify(&tree, &view) {
            panic!("decoded tree differs from the live tree: {m}");
        }
        let (live, root) = (tree.root_node(), view.root());
        assert_eq!(root.to_sexp(), live.to_sexp(), "to_sexp differs");
        assert_eq!(root.preorder().count(), live.descendant_count());
        let len = source.len();
        // Empty ranges (at the ends and inside), a range, a reversed range.
        let ranges = [
            (0, 0),
            (len / 3, len / 2),
            (len / 2, len / 2),
            (len, len),
            (len / 2, len / 3),
        ];
        for (a, b) in ranges {
            let l = live.descendant_for_byte_range(a, b);
            let d = root.descendant_for_byte_range(a, b);
            assert_eq!(
                l.map(|n| (n.kind_id(), n.byte_range())),
                d.map(|n| (n.kind_id(), n.byte_range())),
                "descendant_for_byte_range({a}, {b})"
            );
            let l = live.named_descendant_for_byte_range(a, b);
            let d = root.named_descendant_for_byte_range(a, b);
            assert_eq!(
                l.map(|n| (n.kind_id(), n.byte_range())),
                d.map(|n| (n.kind_id(), n.byte_range())),
                "named_descendant_for_byte_range({a}, {b})"
            );
        }
        let dense = crate::compress(&bytes, crate::Codec::Lz4, None).expect("lz4 compresses");
        assert_eq!(
            crate::decompress(&dense, None).ok().as_deref(),
            Some(&bytes[..])
        );
    }
}

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
