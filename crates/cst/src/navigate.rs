//! Using stored trees: queries, tags, outlines, chunks, and workspace-wide
//! iteration in parallel. Nothing here parses: every answer is computed
//! from the stored tree and source.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cst_grammars::Grammar;
use cst_query::{Query, QueryCursor, QueryMatch};
use cst_tags::{Chunk, ChunkOptions, OutlineItem, Tag, TagsConfig};
use parking_lot::{Mutex, RwLock};
use rustc_hash::FxHashMap;

use crate::keys::{StoreKey, TagsHash};
use crate::{Cache, Error, Tree};

/// A compiled query's language and the BLAKE3 hash of its text.
type QueryKey = (&'static str, [u8; 32]);

/// Compiled queries are kept per language: compiling a highlights query
/// costs 50–500 ms, running it over a stored tree microseconds.
#[derive(Default)]
pub(crate) struct Compiled {
    tags: RwLock<FxHashMap<&'static str, Option<Arc<TagsConfig>>>>,
    queries: Mutex<FxHashMap<QueryKey, Arc<Query>>>,
    /// Per language: the hash in its tags record keys, and its syntax type
    /// names (which reading stored tags needs, compiling nothing).
    tags_hash: RwLock<FxHashMap<&'static str, TagsHash>>,
    kinds: RwLock<FxHashMap<&'static str, Arc<[String]>>>,
}

/// Most distinct ad-hoc queries kept compiled (the oldest half is dropped
/// past it).
const MAX_COMPILED_QUERIES: usize = 256;

impl Tree {
    /// The matches of `query` over the whole tree, in tree-sitter's order.
    /// The query must be compiled for this tree's language
    /// ([`Cache::query`] compiles and caches one).
    pub fn query<'t>(&'t self, query: &Query) -> Result<Vec<QueryMatch<'t>>, Error> {
        let source = self.source_or_err()?;
        // A literal the query needs is not in the source: nothing to walk.
        if !query.could_match(source) {
            return Ok(Vec::new());
        }
        let mut cursor = QueryCursor::new();
        Ok(cursor.matches(query, self.view.root(), source)?.collect())
    }

    fn source_or_err(&self) -> Result<&[u8], Error> {
        self.source.as_deref().ok_or(Error::NoSource)
    }
}

/// The tags of one file (see [`Cache::tags`]).
pub struct FileTags {
    language: &'static Grammar,
    /// Shared with the tree, or the buffer it was decompressed into.
    source: bytes::Bytes,
    kinds: Arc<[String]>,
    tags: Vec<Tag>,
}

impl FileTags {
    /// The tags, in tree-sitter-tags' order.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }
    /// The syntax type of a tag (`function`, `class`, `call`, …).
    pub fn kind(&self, tag: &Tag) -> &str {
        self.kinds
            .get(tag.syntax_type_id as usize)
            .map_or("", String::as_str)
    }
    /// The language of the file.
    pub fn language(&self) -> &'static Grammar {
        self.language
    }
    /// The source the tags point into.
    pub fn source(&self) -> &[u8] {
        &self.source
    }
    /// The definitions nested by range: the file's outline.
    pub fn outline(&self) -> Vec<OutlineItem> {
        cst_tags::outline_with(&self.kinds, &self.tags, &self.source)
    }
}

impl std::fmt::Debug for FileTags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTags")
            .field("language", &self.language.id())
            .field("tags", &self.tags.len())
            .finish()
    }
}

/// Bumped when the tags cst computes for the same query could change.
const TAGS_ALGORITHM: &[u8] = b"cst-tags/1";

/// The hash in a language's tags record keys: the first half of a BLAKE3
/// hash of the algorithm version and the language's candidate tags
/// queries, so a query or algorithm change leaves old tags unused (and
/// `gc` removes them with their tree).
fn tags_hash(g: &Grammar) -> TagsHash {
    let mut h = blake3::Hasher::new();
    h.update(TAGS_ALGORITHM);
    for (tags, locals) in tags_sources(g) {
        for part in [tags, locals] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
    }
    h.finalize().as_bytes()[..16].try_into().expect("16 bytes")
}

/// `u32` count, then per name a `u32` length and UTF-8 bytes (LE).
fn encode_kinds(kinds: &[String]) -> Vec<u8> {
    let mut out = (kinds.len() as u32).to_le_bytes().to_vec();
    for k in kinds {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(k.as_bytes());
    }
    out
}

fn decode_kinds(bytes: &[u8]) -> Option<Vec<String>> {
    let u32_at = |i: usize| -> Option<usize> {
        Some(u32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?) as usize)
    };
    let n = u32_at(0)?;
    if n > bytes.len() / 4 {
        return None;
    }
    let (mut pos, mut out) = (4, Vec::with_capacity(n));
    for _ in 0..n {
        let len = u32_at(pos)?;
        let text = bytes.get(pos + 4..(pos + 4).checked_add(len)?)?;
        out.push(String::from_utf8(text.to_vec()).ok()?);
        pos += 4 + len;
    }
    (pos == bytes.len()).then_some(out)
}

/// The tags queries to try for a grammar, in order.
fn tags_sources(g: &Grammar) -> Vec<(&'static str, &'static str)> {
    let q = g.queries();
    cst_tags::bundled::candidates(g.id(), q.tags, q.locals)
        .into_iter()
        .map(|(_, t, l)| (t, l))
        .collect()
}

impl Cache {
    /// The tags configuration of a language, compiled once: the grammar
    /// crate's `tags.scm` and `locals.scm`; if tree-sitter-tags would reject
    /// those, its `tags.scm` alone; where the crate ships none (or one that
    /// is rejected), the query cst bundles
    /// ([`cst_tags::bundled::candidates`]). `None`: no tags query (or none
    /// that compiles, which is logged once).
    pub fn tags_config(&self, g: &'static Grammar) -> Result<Option<Arc<TagsConfig>>, Error> {
        if let Some(c) = self.inner.compiled.tags.read().get(g.id()) {
            return Ok(c.clone());
        }
        let language = g.language()?;
        let mut found = None;
        let mut first_error = None;
        for (tags, locals) in tags_sources(g) {
            match TagsConfig::new(&language, tags, locals) {
                Ok(c) => {
                    found = Some(Arc::new(c));
                    break;
                }
                Err(e) => {
                    tracing::debug!(language = g.id(), error = %e, "tags query rejected");
                    first_error.get_or_insert(e);
                }
            }
        }
        if found.is_none()
            && let Some(e) = first_error
        {
            // Every candidate was rejected (none is, for the queries this
            // build ships; tests hold that): said once, then the language
            // has no tags query.
            tracing::warn!(language = g.id(), error = %e, "no usable tags query");
        }
        self.inner
            .compiled
            .tags
            .write()
            .insert(g.id(), found.clone());
        Ok(found)
    }

    /// `source` compiled as a query for `g`, cached by language and text.
    pub fn query(&self, g: &'static Grammar, source: &str) -> Result<Arc<Query>, Error> {
        let key = (g.id(), *blake3::hash(source.as_bytes()).as_bytes());
        if let Some(q) = self.inner.compiled.queries.lock().get(&key) {
            return Ok(q.clone());
        }
        let q = Arc::new(Query::new(&g.language()?, source)?);
        let mut map = self.inner.compiled.queries.lock();
        if map.len() >= MAX_COMPILED_QUERIES {
            let drop: Vec<_> = map.keys().take(MAX_COMPILED_QUERIES / 2).copied().collect();
            for k in drop {
                map.remove(&k);
            }
        }
        Ok(map.entry(key).or_insert(q).clone())
    }

    /// The tags of an indexed file, computed from its stored tree. `None`:
    /// the path is not indexed; [`Error::NoTagsQuery`]: its language has no
    /// tags query.
    pub fn tags(&self, path: impl AsRef<Path>) -> Result<Option<FileTags>, Error> {
        let path = path.as_ref();
        let Some((key, g)) = self.record_of(path) else {
            return Ok(None);
        };
        if tags_sources(g).is_empty() {
            return Err(Error::NoTagsQuery(g.id()));
        }
        // Tags kept earlier: read with the source only (no tree, no query).
        // Key, language and source come from one reading of the record.
        if let Some(store) = &self.inner.store
            && store.contains(&StoreKey::Tags(key, self.tags_hash(g)).bytes())
            && let Some(kinds) = self.stored_kinds(g)
            && let Some((key, g, source)) = self.indexed_source(path)?
            && let Ok(Some(bytes)) = store.get(&StoreKey::Tags(key, self.tags_hash(g)).bytes())
            && let Some(t) = self.read_kept(g, &bytes, source, kinds)
        {
            return Ok(Some(t));
        }
        let Some(tree) = self.get(path)? else {
            return Ok(None);
        };
        self.tags_for(tree).map(Some)
    }

    /// A fingerprint of what [`Cache::tags`] gives for `path` now: BLAKE3
    /// over its indexed content key (source, language, grammar, format),
    /// and its language's tags query. It changes whenever those tags may;
    /// read from the path map alone (nothing is decoded). `None`: the path
    /// is not indexed. For caches of data derived from a file's tags.
    pub fn tags_fingerprint(&self, path: impl AsRef<Path>) -> Option<[u8; 32]> {
        let (key, g) = self.record_of(path.as_ref())?;
        let mut h = blake3::Hasher::new();
        h.update(b"cst-tags-fingerprint/1");
        h.update(&key.0);
        h.update(&(g.id().len() as u64).to_le_bytes());
        h.update(g.id().as_bytes());
        h.update(&self.tags_hash(g));
        Some(*h.finalize().as_bytes())
    }

    /// The indexed source of `path` (kept in the store or read back and
    /// checked against the indexed hash), without loading its tree.
    pub fn source(&self, path: impl AsRef<Path>) -> Result<Option<Arc<[u8]>>, Error> {
        self.source_for(path.as_ref())
    }

    /// The language `path` is indexed in.
    pub fn language_of(&self, path: impl AsRef<Path>) -> Option<&'static Grammar> {
        self.record_of(path.as_ref()).map(|(_, g)| g)
    }

    /// Tags kept in the store, decoded and checked against the source and
    /// the syntax types; `None` when they fail (damaged although the record
    /// checksum held, or written by another layout): computed again then.
    fn read_kept(
        &self,
        g: &'static Grammar,
        bytes: &[u8],
        source: bytes::Bytes,
        kinds: Arc<[String]>,
    ) -> Option<FileTags> {
        match cst_tags::decode_tags(bytes, source.len(), kinds.len()) {
            Ok(tags) => {
                self.inner.counters.tags_reused();
                Some(FileTags {
                    language: g,
                    source,
                    kinds,
                    tags,
                })
            }
            Err(e) => {
                tracing::warn!(language = g.id(), error = %e, "stored tags dropped");
                None
            }
        }
    }

    /// The memoized tags hash of a language.
    pub(crate) fn tags_hash(&self, g: &'static Grammar) -> TagsHash {
        if let Some(h) = self.inner.compiled.tags_hash.read().get(g.id()) {
            return *h;
        }
        let h = tags_hash(g);
        self.inner.compiled.tags_hash.write().insert(g.id(), h);
        h
    }

    /// A language's syntax type names as stored beside its tags (`None`
    /// if not stored yet or unreadable).
    fn stored_kinds(&self, g: &'static Grammar) -> Option<Arc<[String]>> {
        if let Some(k) = self.inner.compiled.kinds.read().get(g.id()) {
            return Some(k.clone());
        }
        let store = self.inner.store.as_ref()?;
        let bytes = store
            .get(&StoreKey::TagsKinds(self.tags_hash(g)).bytes())
            .ok()??;
        let kinds: Arc<[String]> = decode_kinds(&bytes)?.into();
        self.inner
            .compiled
            .kinds
            .write()
            .insert(g.id(), kinds.clone());
        Some(kinds)
    }

    /// Keeps a language's syntax type names (in memory, and in the store
    /// beside its tags).
    fn keep_kinds(&self, g: &'static Grammar, config: &TagsConfig) -> Arc<[String]> {
        // Kept already (in memory, or in the store by an earlier process):
        // nothing is written.
        if let Some(k) = self.stored_kinds(g)
            && *k == *config.syntax_type_names()
        {
            return k;
        }
        let kinds: Arc<[String]> = config.syntax_type_names().to_vec().into();
        if let Some(store) = self.writable_store()
            && let Err(e) = store.put(
                &StoreKey::TagsKinds(self.tags_hash(g)).bytes(),
                &encode_kinds(&kinds),
            )
        {
            tracing::warn!(error = %e, "tags kinds not kept");
        }
        self.inner
            .compiled
            .kinds
            .write()
            .insert(g.id(), kinds.clone());
        kinds
    }

    /// The outline of an indexed file: its definitions, nested.
    pub fn outline(&self, path: impl AsRef<Path>) -> Result<Option<Vec<OutlineItem>>, Error> {
        Ok(self.tags(path)?.map(|t| t.outline()))
    }

    /// AST-aware chunks of an indexed file (see [`cst_tags::chunks`]), with
    /// symbol paths when its language has a tags query.
    pub fn chunks(
        &self,
        path: impl AsRef<Path>,
        options: &ChunkOptions,
    ) -> Result<Option<Vec<Chunk>>, Error> {
        let Some(tree) = self.get(path.as_ref())? else {
            return Ok(None);
        };
        self.chunks_for(&tree, options).map(Some)
    }

    /// Runs `f` on the stored tree of each of `paths` on the cache's worker
    /// threads ([`crate::Config::threads`]), and returns the results in the
    /// order of `paths`. A path that is not indexed gives `Ok(None)`.
    pub fn par_map<T, F>(&self, paths: &[PathBuf], f: F) -> Vec<Result<Option<T>, Error>>
    where
        T: Send,
        F: Fn(&Path, Tree) -> Result<T, Error> + Sync,
    {
        self.par_each(paths, |path| match self.get(path)? {
            Some(tree) => f(path, tree).map(Some),
            None => Ok(None),
        })
    }

    /// Runs `f` on each of `paths` on the cache's worker threads and
    /// returns the results in the order of `paths` (for work that needs no
    /// tree, such as [`Cache::tags`], which may read stored tags only).
    pub fn par_each<T, F>(&self, paths: &[PathBuf], f: F) -> Vec<Result<T, Error>>
    where
        T: Send,
        F: Fn(&Path) -> Result<T, Error> + Sync,
    {
        let threads = self.config().worker_threads().clamp(1, paths.len().max(1));
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<Result<T, Error>>>> =
            paths.iter().map(|_| Mutex::new(None)).collect();
        let work = || {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = paths.get(i) else { break };
                *slots[i].lock() = Some(f(path));
            }
        };
        if threads == 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(work);
                }
            });
        }
        slots
            .into_iter()
            .map(|s| s.into_inner().unwrap_or(Err(Error::WorkerPanicked)))
            .collect()
    }
}

impl Cache {
    /// The tags of a tree from this cache ([`Error::NoTagsQuery`] when its
    /// language has no tags query). A persistent cache keeps the tags it
    /// computes beside the tree, so asking again reads them back instead of
    /// running the query.
    pub fn tags_for(&self, tree: Tree) -> Result<FileTags, Error> {
        let g = tree.language;
        let config = self.tags_config(g)?.ok_or(Error::NoTagsQuery(g.id()))?;
        let source = bytes::Bytes::from_owner(tree.source.clone().ok_or(Error::NoSource)?);
        let kinds = self.keep_kinds(g, &config);
        let record = match (&self.inner.store, &tree.key) {
            (Some(store), Some(key)) => {
                Some((store, StoreKey::Tags(*key, self.tags_hash(g)).bytes()))
            }
            _ => None,
        };
        if let Some((store, rk)) = &record
            && let Ok(Some(bytes)) = store.get(rk)
            && let Some(t) = self.read_kept(g, &bytes, source.clone(), kinds.clone())
        {
            return Ok(t);
        }
        let tags = config
            .tags(tree.view.root(), &source)
            .map_err(|source| Error::Tags {
                language: g.id(),
                source,
            })?;
        self.inner.counters.tags_computed();
        if let Some((_, rk)) = record
            && let Some(store) = self.writable_store()
            && !tree
                .key
                .is_some_and(|k| self.inner.writeback.is_pending(&k))
        {
            // A cache that cannot write (a full disk) still answers; a
            // read-only one does not try; the tags of an edited tree not
            // written yet are not kept (a version edited again would leave
            // them behind).
            if let Err(e) = store.put(&rk, &cst_tags::encode_tags(&tags)) {
                tracing::warn!(error = %e, "tags not kept");
            }
        }
        Ok(FileTags {
            language: g,
            source,
            kinds,
            tags,
        })
    }

    /// AST-aware chunks of a tree from this cache, with symbol paths when its
    /// language has a tags query.
    pub fn chunks_for(&self, tree: &Tree, options: &ChunkOptions) -> Result<Vec<Chunk>, Error> {
        let source = tree.source_or_err()?;
        let outline = match self.tags_for(tree.clone()) {
            Ok(t) => t.outline(),
            // No tags query (or a broken one): chunks without symbol paths.
            Err(Error::NoTagsQuery(_) | Error::Tags { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(cst_tags::chunks(
            &tree.view,
            source,
            &outline,
            tree.language.id(),
            options,
        )?)
    }
}

impl Tree {
    /// AST-aware chunks of this tree's source (no symbol paths; use
    /// [`Cache::chunks`] for those).
    pub fn chunks(&self, options: &ChunkOptions) -> Result<Vec<Chunk>, Error> {
        let source = self.source_or_err()?;
        Ok(cst_tags::chunks(
            &self.view,
            source,
            &[],
            self.language.id(),
            options,
        )?)
    }
}
