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

use crate::{Cache, Error, Tree};

/// Compiled queries are kept per language: compiling a highlights query
/// costs 50–500 ms, running it over a stored tree microseconds.
#[derive(Default)]
pub(crate) struct Compiled {
    tags: RwLock<FxHashMap<&'static str, Option<Arc<TagsConfig>>>>,
    queries: Mutex<FxHashMap<(&'static str, [u8; 32]), Arc<Query>>>,
    pub(crate) tags_computed: std::sync::atomic::AtomicU64,
    pub(crate) tags_reused: std::sync::atomic::AtomicU64,
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
        let mut cursor = QueryCursor::new();
        Ok(cursor.matches(query, self.view.root(), source)?.collect())
    }

    fn source_or_err(&self) -> Result<&[u8], Error> {
        self.source.as_deref().ok_or(Error::NoSource)
    }
}

/// The tags of one file (see [`Cache::tags`]).
pub struct FileTags {
    tree: Tree,
    config: Arc<TagsConfig>,
    tags: Vec<Tag>,
}

impl FileTags {
    /// The tags, in tree-sitter-tags' order.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }
    /// The syntax type of a tag (`function`, `class`, `call`, …).
    pub fn kind(&self, tag: &Tag) -> &str {
        self.config.syntax_type_name(tag.syntax_type_id)
    }
    /// The tree the tags come from (with its source and language).
    pub fn tree(&self) -> &Tree {
        &self.tree
    }
    /// The source the tags point into.
    pub fn source(&self) -> &[u8] {
        self.tree.source.as_deref().unwrap_or_default()
    }
    /// The definitions nested by range: the file's outline.
    pub fn outline(&self) -> Vec<OutlineItem> {
        cst_tags::outline(&self.config, &self.tags, self.tree.view(), self.source())
    }
}

impl std::fmt::Debug for FileTags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTags")
            .field("language", &self.tree.language.id())
            .field("tags", &self.tags.len())
            .finish()
    }
}

/// Bumped when the tags cst computes for the same query could change.
const TAGS_ALGORITHM: &[u8] = b"cst-tags/1";

/// The store key of a tree's tags: the tree's key, `T`, and 16 bytes of a
/// hash of the grammar's candidate tags queries and the algorithm version,
/// so a query or algorithm change leaves old tags unused (and `gc` removes
/// them with their tree).
pub(crate) fn tags_record_key(key: &cst_tiers::Key, g: &Grammar) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    h.update(TAGS_ALGORITHM);
    for (tags, locals) in tags_sources(g) {
        for part in [tags, locals] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
    }
    let mut k = key.0.to_vec();
    k.push(b'T');
    k.extend_from_slice(&h.finalize().as_bytes()[..16]);
    k
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
    /// ([`cst_tags::bundled::candidates`]). `None`: no tags query.
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
            return Err(Error::Tags {
                language: g.id(),
                source: e,
            });
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
        let Some(tree) = self.get(path.as_ref())? else {
            return Ok(None);
        };
        self.tags_for(tree).map(Some)
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
        let threads = self.config().worker_threads().clamp(1, paths.len().max(1));
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<Result<Option<T>, Error>>>> =
            paths.iter().map(|_| Mutex::new(None)).collect();
        let work = || {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = paths.get(i) else { break };
                let r = match self.get(path) {
                    Ok(Some(tree)) => f(path, tree).map(Some),
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                };
                *slots[i].lock() = Some(r);
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
        let config = self
            .tags_config(tree.language)?
            .ok_or(Error::NoTagsQuery(tree.language.id()))?;
        let source = tree.source_or_err()?;
        let record = match (&self.inner.store, &tree.key) {
            (Some(store), Some(key)) => Some((store, tags_record_key(key, tree.language))),
            _ => None,
        };
        if let Some((store, rk)) = &record
            && let Ok(Some(bytes)) = store.get(rk)
        {
            match cst_tags::decode_tags(&bytes, source.len(), config.syntax_type_names().len()) {
                Ok(tags) => {
                    self.inner
                        .compiled
                        .tags_reused
                        .fetch_add(1, Ordering::Relaxed);
                    return Ok(FileTags { tree, config, tags });
                }
                // Damaged although its record checksum held (a bug, or a
                // layout of another version): computed again and replaced.
                Err(e) => tracing::warn!(error = %e, "stored tags dropped"),
            }
        }
        let tags = config
            .tags(tree.view.root(), source)
            .map_err(|source| Error::Tags {
                language: tree.language.id(),
                source,
            })?;
        self.inner
            .compiled
            .tags_computed
            .fetch_add(1, Ordering::Relaxed);
        if let Some((store, rk)) = record {
            // A cache that cannot write (a full disk) still answers.
            if let Err(e) = store.put(&rk, &cst_tags::encode_tags(&tags)) {
                tracing::warn!(error = %e, "tags not kept");
            }
        }
        Ok(FileTags { tree, config, tags })
    }

    /// AST-aware chunks of a tree from this cache, with symbol paths when its
    /// language has a tags query.
    pub fn chunks_for(&self, tree: &Tree, options: &ChunkOptions) -> Result<Vec<Chunk>, Error> {
        let source = tree.source_or_err()?;
        let outline = match self.tags_config(tree.language) {
            Ok(Some(config)) => {
                let tags = config
                    .tags(tree.view.root(), source)
                    .map_err(|source| Error::Tags {
                        language: tree.language.id(),
                        source,
                    })?;
                cst_tags::outline(&config, &tags, &tree.view, source)
            }
            // No tags query (or a broken one): chunks without symbol paths.
            Ok(None) | Err(_) => Vec::new(),
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
