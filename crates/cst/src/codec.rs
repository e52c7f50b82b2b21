//! The codecs of the facade: a tree's bytes as the cold tier and the disk
//! keep them (lz4, or zstd over the packed form, with the language's trained
//! dictionary), sources as stored, and their way back; and the conversions
//! the moves between tiers ask for ([`Codecs`]).

use std::path::Path;
use std::sync::Arc;

use cst_bytecode::Codec;
use cst_tiers::Key;

use crate::cache::Inner;
use crate::counters::Counters;
use crate::hot::HotEntry;
use crate::placement::Codecs;
use crate::{Compression, Error};

/// Encodes the tree of `source` exactly as a fresh parse gives it: `tree`
/// itself when it was made by a full parse, else (`incremental`) a fresh
/// parse of `source`, done here, off the edit's path. Returns the tree that
/// was encoded (the fresh one replaces an incremental tree as the base of
/// later edits) and its encoding.
///
/// Why: tree-sitter's incremental reparse gives the visible nodes of a
/// fresh parse, but may nest the hidden nodes of repetitions differently,
/// and those steer the query cursor (the stored tree records them). A
/// stored or served tree must equal a fresh parse node by node.
pub(crate) fn encode_exact(
    grammar: &'static cst_grammars::Grammar,
    tree: &tree_sitter::Tree,
    source: &[u8],
    incremental: bool,
) -> Result<(tree_sitter::Tree, Vec<u8>), Error> {
    let tree = exact_tree(grammar, tree, source, incremental)?;
    let encoded = cst_bytecode::encode(&tree, source, grammar.fingerprint()?.0)?;
    Ok((tree, encoded))
}

/// `tree`, or a fresh parse of `source` when `tree` is `incremental` (see
/// [`encode_exact`]).
pub(crate) fn exact_tree(
    grammar: &'static cst_grammars::Grammar,
    tree: &tree_sitter::Tree,
    source: &[u8],
    incremental: bool,
) -> Result<tree_sitter::Tree, Error> {
    if !incremental {
        return Ok(tree.clone());
    }
    grammar
        .parser()?
        .parse(source, None)
        .ok_or_else(|| Error::Parse("<edited>".into()))
}

impl Inner {
    /// A tree's bytes as `codec` keeps them: the tree itself (`None`, read
    /// in place) or a dense container.
    pub(crate) fn pack(
        &self,
        raw: &bytes::Bytes,
        codec: Compression,
        language: Option<&'static str>,
        path: &Path,
    ) -> Result<bytes::Bytes, Error> {
        let (codec, dict) = match codec {
            Compression::None => return Ok(raw.clone()),
            Compression::Lz4 => (Codec::Lz4, None),
            Compression::Zstd => (
                Codec::Zstd(self.config.zstd_level),
                language.and_then(|l| self.dictionary_for(l, crate::dicts::Kind::Tree)),
            ),
        };
        // zstd compresses the packed form (byte-aligned, several times
        // smaller compressed); lz4 the tree as it is (the fastest to read).
        let packed;
        let input: &[u8] = if codec == Codec::Lz4 {
            raw
        } else {
            packed = cst_bytecode::pack(raw).map_err(|e| Error::Decode {
                path: path.to_path_buf(),
                source: e,
            })?;
            &packed
        };
        cst_bytecode::compress(input, codec, dict.as_deref())
            .map(bytes::Bytes::from)
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    /// A source as stored: a zstd container, with the language's source
    /// dictionary once one is trained.
    pub(crate) fn pack_source(
        &self,
        language: &'static str,
        source: &[u8],
        path: &Path,
    ) -> Result<Vec<u8>, Error> {
        let dict = self.dictionary_for(language, crate::dicts::Kind::Source);
        cst_bytecode::compress(source, Codec::Zstd(self.config.zstd_level), dict.as_deref())
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    /// The current dictionary of `language` and `kind`, when the cache
    /// uses dictionaries.
    pub(crate) fn dictionary_for(
        &self,
        language: &'static str,
        kind: crate::dicts::Kind,
    ) -> Option<Arc<cst_bytecode::Dictionary>> {
        if !self.config.dictionaries {
            return None;
        }
        self.dicts.current(self.store.as_deref(), language, kind)
    }

    /// The bytes of a compressed container, decompressed with the
    /// dictionary it names (read from the store when not yet in memory).
    pub(crate) fn decompress(&self, dense: &[u8]) -> Result<Vec<u8>, cst_bytecode::DecodeError> {
        let id = cst_bytecode::dictionary_id(dense)?;
        let dict = match id {
            0 => None,
            id => self.dicts.get(self.store.as_deref(), id),
        };
        cst_bytecode::decompress(dense, dict.as_deref())
    }

    /// The tree bytes of a record of the cold tier or the disk: the tree
    /// itself (codec `none`) or a dense container, decompressed (its
    /// checksum checked).
    pub(crate) fn unpack(
        &self,
        record: &bytes::Bytes,
    ) -> Result<bytes::Bytes, cst_bytecode::DecodeError> {
        if record.starts_with(&cst_bytecode::MAGIC) {
            return Ok(record.clone());
        }
        let raw = self.decompress(record)?;
        if cst_bytecode::is_packed(&raw) {
            return cst_bytecode::unpack(&raw).map(bytes::Bytes::from);
        }
        Ok(raw.into())
    }
}

impl Codecs for Inner {
    fn leaving_hot(&self, key: &Key) -> Option<bytes::Bytes> {
        self.settle(key)
    }

    fn encode(&self, key: &Key, entry: &HotEntry) -> Result<Option<bytes::Bytes>, Error> {
        let language = self.languages.read().get(key).copied();
        let Some(g) = language.and_then(cst_grammars::by_id) else {
            return Ok(None);
        };
        let (_, encoded) = encode_exact(g, &entry.tree, &entry.source, entry.incremental)?;
        Ok(Some(encoded.into()))
    }

    fn compress(&self, key: &Key, raw: &bytes::Bytes) -> Result<bytes::Bytes, Error> {
        let language = self.languages.read().get(key).copied();
        self.pack(raw, self.config.cold_codec(), language, Path::new(""))
    }

    fn decompress(&self, dense: &bytes::Bytes) -> Result<bytes::Bytes, cst_bytecode::DecodeError> {
        self.unpack(dense)
    }

    fn forget(&self, key: &Key) {
        // Out of memory, the source goes too: a persistent cache reads it
        // back from the store (or the file). Kept, the sources of every
        // version ever cached grew without bound (and the language of
        // every key).
        self.sources.write().remove(key);
        self.languages.write().remove(key);
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }
}
