//! Trees of content that no path maps to: an editor's unsaved buffer.
//!
//! [`Cache::edit`] and [`Cache::insert`] file a tree under a path, and what
//! they file is what `cst show` and every reader of the store see. An open
//! buffer must never become that: its text is the client's until the client
//! saves it. A [`Detached`] tree holds the live tree, its parser and its
//! source, and is recorded nowhere: an edit is tree-sitter's incremental
//! reparse and nothing else; the encoded view the queries, tags and chunks
//! read is made once per version, when first asked for. Its parses are not
//! counted in [`CacheStats::parses`](crate::CacheStats) (the store's work).

use std::sync::{Arc, OnceLock};

use cst_bytecode::TreeView;
use cst_grammars::Grammar;

use crate::keys::content_keys;
use crate::paths::PathRecord;
use crate::{Cache, Error, Outcome, Tree};

/// A tree parsed from content alone (see the module documentation).
/// `Send`; not `Sync` (its parser is reused by [`Detached::edit`]).
pub struct Detached {
    cache: Cache,
    grammar: &'static Grammar,
    parser: tree_sitter::Parser,
    live: tree_sitter::Tree,
    source: Arc<[u8]>,
    /// Whether `live` came from an incremental reparse (then the view and a
    /// stored tree are made from a fresh parse: see `Cache::edit`).
    incremental: bool,
    /// A fresh parse of this version's text, made on first use when `live`
    /// is incremental (see [`Detached::fresh`]).
    fresh: OnceLock<tree_sitter::Tree>,
    /// The encoded view of this version, made on first use.
    view: OnceLock<Tree>,
}

impl std::fmt::Debug for Detached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detached")
            .field("language", &self.grammar.id())
            .field("bytes", &self.source.len())
            .finish()
    }
}

impl Cache {
    /// Parses `source` in `grammar` into a tree no path maps to (an open
    /// buffer): nothing is hashed, encoded, stored or mapped. Refuses a
    /// source over [`Config::max_file_bytes`](crate::Config::max_file_bytes).
    pub fn detached(
        &self,
        grammar: &'static Grammar,
        source: impl Into<Arc<[u8]>>,
    ) -> Result<Detached, Error> {
        let source = source.into();
        self.check_size(std::path::Path::new("<buffer>"), &source)?;
        let mut parser = grammar.parser()?;
        let live = parser
            .parse(&source[..], None)
            .ok_or_else(|| Error::Parse("<buffer>".into()))?;
        Ok(Detached {
            cache: self.clone(),
            grammar,
            parser,
            live,
            source,
            incremental: false,
            fresh: OnceLock::new(),
            view: OnceLock::new(),
        })
    }
}

impl Detached {
    /// Applies `edits` (in bytes and byte-column points, as tree-sitter's
    /// `InputEdit`, in order: each against the text the previous one left)
    /// whose result is `new_source`: one incremental reparse (a fresh
    /// parse where the last version had syntax errors), and nothing
    /// else. On an error the tree is left as it was.
    pub fn edit(
        &mut self,
        edits: &[tree_sitter::InputEdit],
        new_source: impl Into<Arc<[u8]>>,
    ) -> Result<(), Error> {
        let new_source = new_source.into();
        self.cache
            .check_size(std::path::Path::new("<buffer>"), &new_source)?;
        // A text with syntax errors is answered from a fresh parse (see
        // `fresh`): where the last version had errors, the new one is
        // parsed from scratch at once rather than incrementally first and
        // again from scratch when asked.
        let had_errors = self.live.root_node().has_error();
        let live = if had_errors {
            self.parser.parse(&new_source[..], None)
        } else {
            // The next edit starts from the fresh parse where one was made.
            let mut old = self.fresh.take().unwrap_or_else(|| self.live.clone());
            for edit in edits {
                old.edit(edit);
            }
            self.parser.parse(&new_source[..], Some(&old))
        }
        .ok_or_else(|| Error::Parse("<buffer>".into()))?;
        self.live = live;
        self.source = new_source;
        self.incremental = !had_errors;
        self.fresh = OnceLock::new();
        self.view = OnceLock::new();
        Ok(())
    }

    /// Replaces the whole text: a fresh parse (an edit that cannot be
    /// described as one range, or a client that sends full texts).
    pub fn replace(&mut self, new_source: impl Into<Arc<[u8]>>) -> Result<(), Error> {
        let new_source = new_source.into();
        self.cache
            .check_size(std::path::Path::new("<buffer>"), &new_source)?;
        let live = self
            .parser
            .parse(&new_source[..], None)
            .ok_or_else(|| Error::Parse("<buffer>".into()))?;
        self.live = live;
        self.source = new_source;
        self.incremental = false;
        self.fresh = OnceLock::new();
        self.view = OnceLock::new();
        Ok(())
    }

    /// Files this tree under `path`, as [`Cache::insert`] of its text
    /// would (without parsing again unless the tree was edited): for a
    /// buffer whose text is now the file's (the client saved it). A hit
    /// when the content is stored.
    pub fn store_as(&self, path: impl AsRef<std::path::Path>) -> Result<Outcome, Error> {
        let path = path.as_ref();
        let cache = &self.cache;
        let fingerprint = self.grammar.fingerprint()?.0;
        let (key, source_hash) = content_keys(
            &self.source,
            self.grammar.id(),
            fingerprint,
            cst_bytecode::VERSION,
        );
        let record = PathRecord {
            key,
            language: self.grammar.id(),
            source_hash,
            indexed: None,
        };
        let (outcome, replaced) = {
            let _mapping = cache.inner.content.read();
            if cache.cached_node_count(&key, self.grammar)?.is_none() {
                // An edited buffer's tree is stored as a fresh parse gives it.
                let tree = match self.fresh.get() {
                    Some(fresh) => {
                        crate::codec::exact_tree(self.grammar, fresh, &self.source, false)?
                    }
                    None => crate::codec::exact_tree(
                        self.grammar,
                        &self.live,
                        &self.source,
                        self.incremental,
                    )?,
                };
                cache.store_parsed(path, self.grammar, key, tree, self.source.clone())?;
                (Outcome::Parsed, cache.set_path(path, record))
            } else {
                (Outcome::Hit, cache.set_path(path, record))
            }
        };
        cache.forget_superseded(replaced, &key);
        Ok(outcome)
    }

    /// The live tree (for tree-sitter's own APIs).
    pub fn live(&self) -> &tree_sitter::Tree {
        &self.live
    }

    /// The tree a fresh parse of the current text gives: the live tree
    /// when it was not made by an incremental reparse, else a fresh parse,
    /// made once per version (and the base of the next edit). An
    /// incremental reparse gives the visible nodes of a fresh parse where
    /// the text parses without error; where error recovery ran, it may not,
    /// so answers that must equal a fresh parse read this tree.
    pub fn fresh(&self) -> Result<&tree_sitter::Tree, Error> {
        if !self.incremental {
            return Ok(&self.live);
        }
        if let Some(t) = self.fresh.get() {
            return Ok(t);
        }
        let tree = self
            .grammar
            .parser()?
            .parse(&self.source[..], None)
            .ok_or_else(|| Error::Parse("<buffer>".into()))?;
        Ok(self.fresh.get_or_init(|| tree))
    }

    /// The current text.
    pub fn source(&self) -> &Arc<[u8]> {
        &self.source
    }

    /// The language.
    pub fn language(&self) -> &'static Grammar {
        self.grammar
    }

    /// The tree as the cache hands trees out (queries, tags, outlines and
    /// chunks read it), encoded on first use for this version. It carries no
    /// content key: what is computed from it is not kept in the store.
    pub fn tree(&self) -> Result<Tree, Error> {
        if let Some(t) = self.view.get() {
            return Ok(t.clone());
        }
        // From the fresh parse (made here if not yet): the view records
        // hidden nodes, where an incremental reparse may differ.
        let (_, encoded) =
            crate::codec::encode_exact(self.grammar, self.fresh()?, &self.source, false)?;
        let encoded = bytes::Bytes::from(encoded);
        let view = TreeView::from_trusted_bytes(encoded, self.cache.symbols(self.grammar)?)
            .map_err(|source| Error::Decode {
                path: "<buffer>".into(),
                source,
            })?;
        let tree = Tree {
            view,
            source: Some(self.source.clone()),
            language: self.grammar,
            key: None,
        };
        Ok(self.view.get_or_init(|| tree).clone())
    }
}
