//! The cache: tiers, placement, persistence.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cst_bytecode::{Symbols, TreeView};
use cst_grammars::Grammar;
use cst_tiers::{FrozenOptions, FrozenStore, Key};

use crate::hot::HotEntry;
use crate::keys::{StoreKey, content_keys};
use parking_lot::{Mutex, RwLock};
use rustc_hash::FxHashMap;

use crate::counters::Counters;
use crate::paths::PathMap;
use crate::placement::Placement;
use crate::stats::CacheStats;
use crate::tier::Tier;
use crate::walk::{IndexReport, Progress};
use crate::{Config, Error};

use crate::paths::{Indexed, OpenReport, PathRecord};

/// What `insert` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The same content (language, grammar, format) was already cached.
    Hit,
    /// An index run trusted the file's unchanged status and did not read it
    /// (a hit too; `insert` never returns it).
    Unread,
    /// The file was parsed.
    Parsed,
}

/// A tree handed out by the cache: the same type whichever tier it came
/// from. Navigate it with [`Tree::root`]; it needs no tree-sitter.
#[derive(Clone)]
pub struct Tree {
    pub(crate) view: TreeView,
    pub(crate) source: Option<Arc<[u8]>>,
    pub(crate) language: &'static Grammar,
    /// The content key it is cached under (for data derived from it).
    pub(crate) key: Option<Key>,
}

impl Tree {
    /// The root node.
    pub fn root(&self) -> cst_bytecode::Node<'_> {
        self.view.root()
    }
    /// The decoded tree.
    pub fn view(&self) -> &TreeView {
        &self.view
    }
    /// The source, when the cache keeps it (or read it back).
    pub fn source(&self) -> Option<&[u8]> {
        self.source.as_deref()
    }
    /// The language.
    pub fn language(&self) -> &'static Grammar {
        self.language
    }
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree")
            .field("language", &self.language.id())
            .field("nodes", &self.view.node_count())
            .finish()
    }
}

/// A path's content key, language and indexed source, read together.
pub(crate) type IndexedSource = (Key, &'static Grammar, bytes::Bytes);

/// The default cache directory of a workspace: `$XDG_CACHE_HOME/cst/<name>-<hash>`
/// (or `~/.cache/cst/...`), where the hash is of the workspace's canonical path.
pub fn default_cache_dir(workspace: &Path) -> PathBuf {
    let canonical = workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.to_path_buf());
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("cst");
    let name = canonical
        .file_name()
        .map_or("root".into(), |n| n.to_string_lossy().into_owned());
    let hash = blake3::hash(canonical.to_string_lossy().as_bytes()).to_hex();
    base.join(format!("{name}-{}", &hash[..16]))
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) store: Option<Arc<FrozenStore>>,
    /// Opened with [`Cache::open_read_only`]: nothing is written to disk.
    pub(crate) read_only: bool,
    /// The store's trained dictionaries.
    pub(crate) dicts: crate::dicts::Dicts,
    /// The background compaction, while one runs.
    pub(crate) compactor: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The memory tiers and the policy placing keys in them.
    pub(crate) placement: Placement,
    /// Source of each cached key (kept when `store_source`; hot entries hold theirs too).
    pub(crate) sources: RwLock<FxHashMap<Key, Arc<[u8]>>>,
    pub(crate) paths: RwLock<PathMap>,
    /// The path map changed since it was last written.
    pub(crate) paths_dirty: std::sync::atomic::AtomicBool,
    /// Flush number of the path map copy last read or written.
    pub(crate) paths_generation: AtomicU64,
    /// One path-map flush at a time: from taking the dirty flag to storing
    /// the generation, so two flushes never write one copy out of order.
    pub(crate) flushing: Mutex<()>,
    /// What opening found (set once by `open`).
    pub(crate) open_report: std::sync::OnceLock<OpenReport>,
    /// Orders the users of content-addressed data against its removers:
    /// `get` holds it shared while it finds a key and admits it to memory,
    /// `insert` and `edit` from finding or storing a key to mapping their
    /// path to it; `remove` and `gc` hold it exclusively while they decide
    /// that no path maps to a key and delete it. Without it a key another
    /// thread was mapping could be deleted under it (its tree then lost, or
    /// served without its source), or come back to memory with no record on
    /// disk.
    pub(crate) content: RwLock<()>,
    pub(crate) languages: RwLock<FxHashMap<Key, &'static str>>,
    pub(crate) symbols: RwLock<FxHashMap<&'static str, Arc<Symbols>>>,
    /// Hits, misses, parses, moves, latencies.
    pub(crate) counters: Counters,
    /// Compiled queries and tags configurations (see `navigate.rs`).
    pub(crate) compiled: crate::navigate::Compiled,
    /// Edited trees not written to the store yet (see `writeback.rs`).
    pub(crate) writeback: crate::writeback::WriteBehind,
    /// The directory a persisted cache was opened in (set once by
    /// `from_store`).
    pub(crate) dir: std::sync::OnceLock<std::path::PathBuf>,
}

/// A cache of syntax trees. `Send + Sync` and cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct Cache {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("persistent", &self.inner.store.is_some())
            .finish()
    }
}

impl Cache {
    /// A cache persisted in `dir` (created if needed), opened to write.
    /// Paths and trees indexed earlier are found again without parsing.
    /// Fails with `Error::Store(FrozenError::Locked)` while another writer
    /// (`cst index`, `cst serve`) has it open; see [`Cache::open_waiting`]
    /// and [`Cache::open_read_only`].
    pub fn open(dir: impl AsRef<Path>, config: Config) -> Result<Cache, Error> {
        let store = FrozenStore::open(dir.as_ref().join("store"), store_options(&config, false))?;
        Cache::from_store(dir.as_ref(), store, config, false)
    }

    /// Like [`Cache::open`], waiting for another writer to close the cache
    /// instead of failing.
    pub fn open_waiting(dir: impl AsRef<Path>, config: Config) -> Result<Cache, Error> {
        let store = FrozenStore::open(dir.as_ref().join("store"), store_options(&config, true))?;
        Cache::from_store(dir.as_ref(), store, config, false)
    }

    /// A cache persisted in `dir`, opened to read beside whichever process
    /// writes it: a consistent snapshot of what was flushed (or written)
    /// when it opened; [`Cache::refresh`] brings newer data. Nothing is ever
    /// written to disk: trees parsed here (a file not indexed yet, say) stay
    /// in memory, and `gc` fails. A directory that does not exist is an
    /// empty cache (and is not created).
    pub fn open_read_only(dir: impl AsRef<Path>, config: Config) -> Result<Cache, Error> {
        let store =
            FrozenStore::open_read_only(dir.as_ref().join("store"), store_options(&config, false))?;
        Cache::from_store(dir.as_ref(), store, config, true)
    }

    fn from_store(
        dir: &Path,
        store: FrozenStore,
        config: Config,
        read_only: bool,
    ) -> Result<Cache, Error> {
        let recovery = store.recovery();
        if *recovery != cst_tiers::Recovery::default() && !read_only {
            tracing::warn!(dir = %dir.display(), ?recovery, "the store was repaired on open");
        }
        let recovery = recovery.clone();
        let dicts = crate::dicts::Dicts::load(&store);
        let cache = Cache::with_store(Some(store), config, read_only, dicts);
        let _ = cache.inner.dir.set(dir.to_path_buf());
        let (path_map, paths, paths_dropped) = cache.load_paths()?;
        let report = OpenReport {
            store: recovery,
            path_map,
            paths,
            paths_dropped,
        };
        if report.lost_data() {
            tracing::warn!(dir = %dir.display(), ?report, "opening the cache lost data");
        }
        let _ = cache.inner.open_report.set(report);
        Ok(cache)
    }

    /// The directory a persisted cache lives in (`None` in memory). Layers
    /// above may keep files of their own there (cst-symbols keeps a
    /// snapshot of its symbol index under `symbols/`); the store itself is
    /// under `store/`.
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir.get().map(|d| d.as_path())
    }

    /// Whether the cache was opened with [`Cache::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// A read-only cache: loads what the writer stored since this cache
    /// opened (or last refreshed): the store's records and the path map.
    /// Trees handed out before stay valid. Does nothing for a cache that
    /// writes (its state is always current) or lives in memory.
    pub fn refresh(&self) -> Result<(), Error> {
        let Some(store) = &self.inner.store else {
            return Ok(());
        };
        if !self.inner.read_only {
            return Ok(());
        }
        store.refresh()?;
        self.inner.dicts.reload(store);
        self.load_paths()?;
        Ok(())
    }

    /// The store, when this cache may write to it.
    pub(crate) fn writable_store(&self) -> Option<&FrozenStore> {
        self.inner.writable_store()
    }

    /// A cache in memory only.
    pub fn in_memory(config: Config) -> Cache {
        Cache::with_store(None, config, false, Default::default())
    }

    pub(crate) fn with_store(
        store: Option<FrozenStore>,
        config: Config,
        read_only: bool,
        dicts: crate::dicts::Dicts,
    ) -> Cache {
        let placement = Placement::new(&config);
        Cache {
            inner: Arc::new(Inner {
                config,
                store: store.map(Arc::new),
                read_only,
                dicts,
                compactor: Mutex::new(None),
                placement,
                sources: RwLock::new(FxHashMap::default()),
                paths: RwLock::new(PathMap::default()),
                paths_dirty: Default::default(),
                paths_generation: AtomicU64::new(0),
                flushing: Mutex::new(()),
                open_report: std::sync::OnceLock::new(),
                content: RwLock::new(()),
                languages: RwLock::new(FxHashMap::default()),
                symbols: RwLock::new(FxHashMap::default()),
                counters: Counters::default(),
                compiled: Default::default(),
                writeback: Default::default(),
                dir: std::sync::OnceLock::new(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Counters: the cache's, and each tier's.
    pub fn stats(&self) -> CacheStats {
        let i = &self.inner;
        let frozen = i
            .store
            .as_deref()
            .map(FrozenStore::stats)
            .unwrap_or_default();
        let mut stats = CacheStats {
            tiers: [
                i.placement.stats(Tier::Hot),
                i.placement.stats(Tier::Warm),
                i.placement.stats(Tier::Cold),
                frozen,
            ],
            paths: i.paths.read().len() as u64,
            disk_bytes: i.store.as_deref().map_or(0, FrozenStore::disk_bytes),
            ..CacheStats::default()
        };
        i.counters.read_into(&mut stats);
        stats
    }

    /// Every indexed path, sorted.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.inner.paths.read().keys().collect();
        out.sort();
        out
    }

    pub(crate) fn symbols(&self, g: &'static Grammar) -> Result<Arc<Symbols>, Error> {
        if let Some(s) = self.inner.symbols.read().get(g.id()) {
            return Ok(s.clone());
        }
        let s = Arc::new(Symbols::from_language(&g.language()?, g.fingerprint()?.0));
        Ok(self
            .inner
            .symbols
            .write()
            .entry(g.id())
            .or_insert(s)
            .clone())
    }

    /// Detects the language of `path`, parses `source` and caches the tree.
    pub fn insert(&self, path: impl AsRef<Path>, source: Vec<u8>) -> Result<Outcome, Error> {
        let path = path.as_ref();
        let head = &source[..source.len().min(8192)];
        let grammar =
            cst_grammars::detect(path, head).ok_or_else(
                || match cst_grammars::catalogue::detect(path, head) {
                    Some(e) => Error::NoGrammar {
                        path: path.to_path_buf(),
                        language: e.name(),
                    },
                    None => Error::UnknownLanguage(path.to_path_buf()),
                },
            )?;
        self.insert_as(path, grammar, source)
    }

    /// Like [`insert`](Self::insert), in the given language instead of the
    /// detected one (files without a telling extension, or a language
    /// override).
    pub fn insert_as(
        &self,
        path: impl AsRef<Path>,
        grammar: &'static Grammar,
        source: Vec<u8>,
    ) -> Result<Outcome, Error> {
        let mut parser = grammar.parser()?;
        Ok(self
            .insert_parsed(path.as_ref(), grammar, source, &mut parser)?
            .0)
    }

    /// Caches `source` of `path` in `grammar`, parsing with `parser` unless
    /// the same content is cached already. Returns the outcome and node count.
    pub(crate) fn insert_parsed(
        &self,
        path: &Path,
        grammar: &'static Grammar,
        source: Vec<u8>,
        parser: &mut tree_sitter::Parser,
    ) -> Result<(Outcome, u64, Key), Error> {
        let started = std::time::Instant::now();
        let result = self.insert_parsed_inner(path, grammar, source, parser);
        self.inner.counters.insert_latency.record(started.elapsed());
        result
    }

    pub(crate) fn insert_parsed_inner(
        &self,
        path: &Path,
        grammar: &'static Grammar,
        source: Vec<u8>,
        parser: &mut tree_sitter::Parser,
    ) -> Result<(Outcome, u64, Key), Error> {
        self.check_size(path, &source)?;
        let fingerprint = grammar.fingerprint()?.0;
        let (key, source_hash) =
            content_keys(&source, grammar.id(), fingerprint, cst_bytecode::VERSION);
        let record = PathRecord {
            key,
            language: grammar.id(),
            source_hash,
            indexed: None,
        };
        let hit = {
            let _mapping = self.inner.content.read();
            self.cached_node_count(&key, grammar)?
                .map(|nodes| (nodes, self.set_path(path, record.clone())))
        };
        if let Some((nodes, replaced)) = hit {
            self.forget_superseded(replaced, &key);
            return Ok((Outcome::Hit, nodes, key));
        }
        let source: Arc<[u8]> = source.into();
        let tree = parser
            .parse(&source, None)
            .ok_or_else(|| Error::Parse(path.to_path_buf()))?;
        let nodes = tree.root_node().descendant_count() as u64;
        let replaced = {
            let _mapping = self.inner.content.read();
            self.inner.counters.parsed();
            self.store_parsed(path, grammar, key, tree, source)?;
            self.set_path(path, record)
        };
        self.forget_superseded(replaced, &key);
        Ok((Outcome::Parsed, nodes, key))
    }

    /// Notes what an index run learnt about `path` (its status, lines and
    /// nodes), so that the next run can trust it without reading the file.
    pub(crate) fn note_indexed(&self, path: &Path, key: Key, indexed: Indexed) {
        let mut paths = self.inner.paths.write();
        // Only the content that was read: an `insert` or `edit` of the path
        // in between mapped it to something the status does not describe.
        let Some(r) = paths.get_mut(path).filter(|r| r.key == key) else {
            return;
        };
        // A newer note of the same status matters only when it makes the
        // file trusted (it is no longer racy): otherwise the map is left as
        // it is, and a session that changed nothing writes nothing.
        let worth_it = match &r.indexed {
            None => true,
            Some(old) => {
                Indexed { stat_ns: 0, ..*old }
                    != Indexed {
                        stat_ns: 0,
                        ..indexed
                    }
                    || (old.is_racy() && !indexed.is_racy())
            }
        };
        if worth_it {
            r.indexed = Some(indexed);
            self.inner.paths_dirty.store(true, Ordering::Release);
        }
    }

    /// An index-run hit without reading `path`: its status is the one noted
    /// when it was last read (not racily), its grammar is unchanged and its
    /// tree is still stored. Returns (language, lines, nodes).
    pub(crate) fn stat_hit(
        &self,
        path: &Path,
        now: &crate::paths::FileStat,
    ) -> Option<(&'static str, u64, u64)> {
        let (key, language, indexed) = {
            let paths = self.inner.paths.read();
            let r = paths.get(path)?;
            (r.key, r.language, r.indexed?)
        };
        let g = cst_grammars::by_id(language)?;
        let fingerprint = g.fingerprint().ok()?.0;
        if !indexed.trusts(now, &fingerprint) {
            return None;
        }
        let present = match &self.inner.store {
            Some(store) => store.contains(&StoreKey::Tree(key).bytes()),
            None => self.inner.placement.holds(&key),
        };
        present.then_some((language, indexed.lines, indexed.nodes))
    }

    /// Refuses a source over `Config::max_file_bytes` before any parsing.
    pub(crate) fn check_size(&self, path: &Path, source: &[u8]) -> Result<(), Error> {
        let limit = self.inner.config.max_file_bytes;
        if source.len() as u64 > limit {
            return Err(Error::TooLarge {
                path: path.to_path_buf(),
                bytes: source.len() as u64,
                limit,
            });
        }
        Ok(())
    }

    /// Maps `path` to `record`, marking the path map for the next flush
    /// only when it changed (a re-index of unchanged files writes nothing).
    /// Returns the record it replaced, if it changed one (for
    /// [`Cache::forget_superseded`]).
    pub(crate) fn set_path(&self, path: &Path, record: PathRecord) -> Option<PathRecord> {
        let mut paths = self.inner.paths.write();
        // An unchanged record keeps what an index run noted about the file.
        let unchanged = paths
            .get(path)
            .is_some_and(|r| r.key == record.key && r.source_hash == record.source_hash);
        if unchanged {
            return None;
        }
        self.inner.paths_dirty.store(true, Ordering::Release);
        paths.insert(path.to_path_buf(), record)
    }

    /// Keeps a freshly parsed tree: the compressed tree (and source) go to
    /// disk, the live tree to the hot tier, and the policy's moves are done.
    /// Returns the encoded tree. The caller counts the parse, if it parsed
    /// (a saved buffer's tree is stored without one).
    pub(crate) fn store_parsed(
        &self,
        path: &Path,
        grammar: &'static Grammar,
        key: Key,
        tree: tree_sitter::Tree,
        source: Arc<[u8]>,
    ) -> Result<bytes::Bytes, Error> {
        // Encoded once: kept beside the live tree (so `get` and a demotion
        // to warm need no re-encoding) and, compressed, written to disk.
        let encoded = bytes::Bytes::from(cst_bytecode::encode(
            &tree,
            &source,
            grammar.fingerprint()?.0,
        )?);
        if let Some(store) = self.writable_store() {
            self.inner
                .write_records(store, grammar, &key, &encoded, &source, path)?;
            // Written: no longer pending if an edit made the same content.
            self.inner.writeback.discard(&key);
        }
        self.inner.languages.write().insert(key, grammar.id());
        if self.inner.config.store_source {
            self.inner.sources.write().insert(key, source.clone());
        }
        let entry = HotEntry::new(tree, source).with_encoded(encoded.clone());
        self.admit_hot(key, entry)?;
        Ok(encoded)
    }

    /// Admits `entry` to the hot tier under `key` and carries out the
    /// policy's moves.
    pub(crate) fn admit_hot(&self, key: Key, entry: HotEntry) -> Result<(), Error> {
        self.inner.placement.admit_hot(key, entry, &*self.inner)
    }

    /// The tree of `path`, from whichever tier holds it; `None` if the path
    /// was never indexed (or its tree was dropped from an in-memory cache).
    pub fn get(&self, path: impl AsRef<Path>) -> Result<Option<Tree>, Error> {
        let started = std::time::Instant::now();
        let path = path.as_ref();
        let mut result = self.get_inner(path);
        if self.inner.read_only && matches!(result, Ok(None)) {
            result = self.reparse(path);
        }
        self.inner.counters.get_latency.record(started.elapsed());
        result
    }

    /// A read-only cache: the tree of a path it parsed itself (a file the
    /// store does not hold) left memory, and there is no record of it on
    /// disk: the file is parsed again if it still has the indexed content.
    fn reparse(&self, path: &Path) -> Result<Option<Tree>, Error> {
        let Some(record) = self.inner.paths.read().get(path) else {
            return Ok(None);
        };
        let Some(grammar) = cst_grammars::by_id(record.language) else {
            return Ok(None);
        };
        let Ok(source) = std::fs::read(path) else {
            return Ok(None);
        };
        if *blake3::hash(&source).as_bytes() != record.source_hash {
            return Err(Error::SourceChanged(path.to_path_buf()));
        }
        // Served from this parse (budgets too small to keep it would drop it
        // again at once), and kept in memory for the next get when it fits.
        let tree = grammar
            .parser()?
            .parse(&source, None)
            .ok_or_else(|| Error::Parse(path.to_path_buf()))?;
        // Encoded once, by `store_parsed` (which also counts the parse).
        let source: Arc<[u8]> = source.into();
        let encoded = {
            let _mapping = self.inner.content.read();
            self.inner.counters.parsed();
            self.store_parsed(path, grammar, record.key, tree, source.clone())?
        };
        let view =
            TreeView::from_trusted_bytes(encoded, self.symbols(grammar)?).map_err(|source| {
                Error::Decode {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        self.inner.counters.hit();
        Ok(Some(Tree {
            view,
            source: Some(source),
            language: grammar,
            key: Some(record.key),
        }))
    }

    pub(crate) fn get_inner(&self, path: &Path) -> Result<Option<Tree>, Error> {
        let _reading = self.inner.content.read();
        let Some(record) = self.inner.paths.read().get(path) else {
            self.inner.counters.miss();
            return Ok(None);
        };
        let grammar =
            cst_grammars::by_id(record.language).expect("ids in the path map are registry ids");
        // The encoded bytes kept beside the live tree, and its source (the
        // tree itself is cloned only when it must be encoded: an edited
        // tree's first reader encodes it, and keeps the result).
        let hot = self
            .inner
            .placement
            .hot
            .get_with(&record.key, |e| match &e.encoded {
                Some(bytes) => (Ok(bytes.clone()), e.source.clone()),
                None => (Err((e.tree.clone(), e.incremental)), e.source.clone()),
            });
        let mut hot_source = None;
        let view = if let Some((encoded, source)) = hot {
            let encoded = match encoded {
                Ok(bytes) => bytes,
                Err((tree, incremental)) => {
                    let (tree, bytes) =
                        crate::codec::encode_exact(grammar, &tree, &source, incremental)?;
                    let bytes = bytes::Bytes::from(bytes);
                    self.keep_encoded(&record.key, tree, source.clone(), bytes.clone())?;
                    bytes
                }
            };
            self.touch(&record.key)?;
            hot_source = Some(source);
            // Written by this process: opened in place, in O(1).
            TreeView::from_trusted_bytes(encoded, self.symbols(grammar)?).map_err(|source| {
                Error::Decode {
                    path: path.to_path_buf(),
                    source,
                }
            })?
        } else {
            match self.load_view(&record.key, grammar, path)? {
                Some(v) => v,
                None => {
                    self.inner.counters.miss();
                    return Ok(None);
                }
            }
        };
        self.inner.counters.hit();
        // A live tree's own source (an edited file's, whatever the file on
        // disk holds); else the kept, stored or read-back one.
        let source = match hot_source {
            Some(s) => Some(s),
            None => self.source_of(&record, path)?,
        };
        Ok(Some(Tree {
            view,
            source,
            language: grammar,
            key: Some(record.key),
        }))
    }

    /// The content key and language `path` is indexed under.
    pub(crate) fn record_of(&self, path: &Path) -> Option<(Key, &'static Grammar)> {
        let record = self.inner.paths.read().get(path)?;
        let g = cst_grammars::by_id(record.language)?;
        Some((record.key, g))
    }

    /// The key, language and indexed source of `path`, from one reading of
    /// its record (so the three belong together).
    pub(crate) fn indexed_source(&self, path: &Path) -> Result<Option<IndexedSource>, Error> {
        // (Under the content lock, as `get`: an edited version the path
        // moved away from may leave memory, unwritten, once it is released.)
        let _reading = self.inner.content.read();
        let Some(record) = self.inner.paths.read().get(path) else {
            return Ok(None);
        };
        let Some(g) = cst_grammars::by_id(record.language) else {
            return Ok(None);
        };
        let source = match self.memory_source(&record.key) {
            Some(s) => Some(bytes::Bytes::from_owner(s)),
            None => self.stored_source(&record, path)?,
        };
        Ok(source.map(|s| (record.key, g, s)))
    }

    /// The indexed source of `path` (without its tree).
    pub(crate) fn source_for(&self, path: &Path) -> Result<Option<Arc<[u8]>>, Error> {
        let _reading = self.inner.content.read();
        let Some(record) = self.inner.paths.read().get(path) else {
            return Ok(None);
        };
        self.source_of(&record, path)
    }

    /// The source of a path: kept in memory, in the store, or read from disk
    /// (checked against the indexed hash).
    pub(crate) fn source_of(
        &self,
        record: &PathRecord,
        path: &Path,
    ) -> Result<Option<Arc<[u8]>>, Error> {
        if let Some(s) = self.memory_source(&record.key) {
            return Ok(Some(s));
        }
        Ok(self.stored_source(record, path)?.map(|s| Arc::from(&s[..])))
    }

    /// The source of `key` kept in memory: with the sources, or beside its
    /// live tree (an edited tree's, also when sources are not kept).
    fn memory_source(&self, key: &Key) -> Option<Arc<[u8]>> {
        if let Some(s) = self.inner.sources.read().get(key) {
            return Some(s.clone());
        }
        // (`contains` first: a lookup that finds nothing is not a miss.)
        let hot = &self.inner.placement.hot;
        if !hot.contains(key) {
            return None;
        }
        hot.get_with(key, |e| e.source.clone())
    }

    /// The source of a path from the store or the disk (not from memory),
    /// in the buffer it was read or decompressed into.
    fn stored_source(
        &self,
        record: &PathRecord,
        path: &Path,
    ) -> Result<Option<bytes::Bytes>, Error> {
        // From the store: the record's checksum held and it is filed under
        // this content's key (which the store checks), so it is not hashed
        // again; a file read from disk is.
        if let Some(store) = &self.inner.store {
            match store.get(&StoreKey::Source(record.key).bytes()) {
                Ok(Some(packed)) => match self.inner.decompress(&packed) {
                    Ok(s) => return Ok(Some(s.into())),
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "stored source unreadable");
                    }
                },
                Ok(None) => {
                    if let Ok(Some(s)) = store.get(&StoreKey::RawSource(record.key).bytes()) {
                        return Ok(Some(s));
                    }
                }
                Err(_) => {}
            }
        }
        match std::fs::read(path) {
            Ok(s) if *blake3::hash(&s).as_bytes() == record.source_hash => Ok(Some(s.into())),
            Ok(_) => Err(Error::SourceChanged(path.to_path_buf())),
            Err(_) => Ok(None),
        }
    }

    /// The same as [`Cache::live_tree`] (its older name).
    pub fn tree(&self, path: impl AsRef<Path>) -> Result<Option<tree_sitter::Tree>, Error> {
        self.live_tree(path)
    }

    /// A live `tree_sitter::Tree` of `path` (for tree-sitter's own APIs,
    /// such as incremental re-parsing or its query cursor): the hot tree, or
    /// a fresh parse of the stored source. [`Cache::get`] is the cheap way
    /// to read a tree.
    pub fn live_tree(&self, path: impl AsRef<Path>) -> Result<Option<tree_sitter::Tree>, Error> {
        let path = path.as_ref();
        let (record, source) = {
            let _reading = self.inner.content.read();
            let Some(record) = self.inner.paths.read().get(path) else {
                return Ok(None);
            };
            if let Some(e) = self.inner.placement.hot.get(&record.key) {
                self.touch(&record.key)?;
                return Ok(Some(e.tree));
            }
            let Some(source) = self.source_of(&record, path)? else {
                return Ok(None);
            };
            (record, source)
        };
        let grammar = cst_grammars::by_id(record.language).expect("registry id");
        let tree = grammar
            .parser()?
            .parse(&source, None)
            .ok_or_else(|| Error::Parse(path.to_path_buf()))?;
        self.inner.counters.parsed();
        Ok(Some(tree))
    }

    /// Applies an edit: reparses incrementally from the hot tree when there
    /// is one (a full parse otherwise) and caches the result for `path`.
    ///
    /// Write-behind: on the caller's thread only the reparse and the content
    /// hashes are done; the new tree is kept hot (every reader — `get`,
    /// `tags`, `outline`, `chunks`, `live_tree`, `source` — answers from the
    /// new content at once, `get` encoding it on first use) and is encoded,
    /// compressed and written to the store later: by [`Cache::flush`], when
    /// the last handle is dropped, or when the memory budget moves it out of
    /// the hot tier. Of consecutive edits of a path only the last version is
    /// written; the intermediate ones leave memory.
    ///
    /// Exactness: what is encoded (for the first reader or the store) is a
    /// fresh parse of the new content, made then, not the incremental tree:
    /// tree-sitter may nest the hidden nodes of an incrementally reparsed
    /// tree differently from a fresh parse, and a served or stored tree
    /// equals a fresh parse node by node. The fresh tree then replaces the
    /// incremental one as the base of the next edit.
    ///
    /// Durability: a crash loses the edits not flushed yet (the caller's
    /// text; the path then maps to the content of the last flush), never a
    /// stored tree of content that was flushed. A path map on disk names
    /// only trees on disk (`flush` writes the edited trees first), so the
    /// store stays consistent and a reader beside the writer
    /// ([`Cache::open_read_only`]) never finds a path mapped to a missing
    /// record.
    pub fn edit(
        &self,
        path: impl AsRef<Path>,
        edit: &tree_sitter::InputEdit,
        new_source: impl Into<Arc<[u8]>>,
    ) -> Result<(), Error> {
        let path = path.as_ref();
        let source: Arc<[u8]> = new_source.into();
        let Some(record) = self.inner.paths.read().get(path) else {
            return self.insert(path, source.to_vec()).map(|_| ());
        };
        self.check_size(path, &source)?;
        let grammar = cst_grammars::by_id(record.language).expect("registry id");
        let mut parser = grammar.parser()?;
        let old = self.inner.placement.hot.get(&record.key).map(|e| {
            let mut t = e.tree;
            t.edit(edit);
            t
        });
        let tree = parser
            .parse(&source[..], old.as_ref())
            .ok_or_else(|| Error::Parse(path.to_path_buf()))?;
        let incremental = old.is_some();
        drop(old);
        // Cached under the new content's key.
        let (key, source_hash) = content_keys(
            &source,
            grammar.id(),
            grammar.fingerprint()?.0,
            cst_bytecode::VERSION,
        );
        let replaced = {
            let _mapping = self.inner.content.read();
            self.keep_edited(path, grammar, key, tree, source, incremental)?;
            self.set_path(
                path,
                PathRecord {
                    key,
                    language: grammar.id(),
                    source_hash,
                    indexed: None,
                },
            )
        };
        self.forget_superseded(replaced, &key);
        Ok(())
    }

    /// Forgets `path`. Its tree leaves memory unless another path has the
    /// same content; on disk it stays, with its source and tags, until the
    /// disk budget ([`Config::disk_bytes`]) or [`Cache::gc`] removes it, so
    /// the same content coming back (a branch switched away and back) is
    /// found without parsing.
    pub fn remove(&self, path: impl AsRef<Path>) -> Result<bool, Error> {
        let _deciding = self.inner.content.write();
        let (record, shared) = {
            let mut paths = self.inner.paths.write();
            let Some(record) = paths.remove(path.as_ref()) else {
                return Ok(false);
            };
            let shared = paths.is_referenced(&record.key);
            (record, shared)
        };
        self.inner.paths_dirty.store(true, Ordering::Release);
        if !shared {
            self.drop_from_memory(&record.key);
        }
        Ok(true)
    }

    /// Indexes every file under `dir` (respecting `.gitignore`), in parallel.
    /// A file whose status (size, modification and change times, inode,
    /// device) is the one noted when it was last read — not within 2 s of
    /// that read, git's racy rule — is counted as a hit without reading it.
    pub fn index(
        &self,
        dir: &Path,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<IndexReport, Error> {
        crate::walk::index(self, dir, &crate::IndexOptions::default(), progress)
    }

    /// [`Cache::index`] with options (such as
    /// [`IndexOptions::verify_content`](crate::IndexOptions::verify_content)).
    pub fn index_with(
        &self,
        dir: &Path,
        options: &crate::IndexOptions,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<IndexReport, Error> {
        crate::walk::index(self, dir, options, progress)
    }

    /// Forgets every known path under `dir` that is not in `keep` (files of
    /// an index run that are gone, or now skipped or ignored), so no tree of
    /// a vanished or stale file is served. Returns how many were forgotten.
    pub(crate) fn forget_under(
        &self,
        dir: &Path,
        keep: &rustc_hash::FxHashSet<&[u8]>,
    ) -> Result<u64, Error> {
        let dir_bytes = dir.as_os_str().as_encoded_bytes();
        let plain_dir = cfg!(unix) && is_plain(dir_bytes);
        let stale: Vec<PathBuf> = self
            .inner
            .paths
            .read()
            .key_bytes()
            .filter(|p| !keep.contains(p))
            .filter(|p| {
                // The bytes decide for plain paths (no empty or `.`
                // components); `Path`'s component rule for the others.
                if plain_dir && is_plain(p) {
                    p.strip_prefix(dir_bytes)
                        .is_some_and(|rest| rest.is_empty() || rest[0] == b'/')
                } else {
                    crate::paths::path_from_bytes(p).starts_with(dir)
                }
            })
            .map(crate::paths::path_from_bytes)
            .collect();
        let mut forgotten = 0;
        for path in stale {
            forgotten += u64::from(self.remove(&path)?);
        }
        Ok(forgotten)
    }
}

/// Whether a path's bytes have no empty, `.` or trailing components (a
/// `/` after a `/`, a `.` after a `/`, a final `/`) and do not start with
/// `.`: then one path is under another exactly when its bytes continue the
/// other's with a `/` (a conservative test: `/.git` is not plain).
fn is_plain(b: &[u8]) -> bool {
    !b.is_empty()
        && !b.starts_with(b".")
        && !b.ends_with(b"/")
        && !b
            .windows(2)
            .any(|w| w[0] == b'/' && (w[1] == b'/' || w[1] == b'.'))
}

/// The store's options for `config`.
fn store_options(config: &Config, wait_for_lock: bool) -> FrozenOptions {
    FrozenOptions {
        segment_bytes: config.segment_bytes.max(4096),
        wait_for_lock,
        ..FrozenOptions::default()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::is_plain;
    use std::path::Path;

    /// For plain paths, "its bytes continue the directory's with a `/`" is
    /// `Path::starts_with`.
    #[test]
    fn plain_paths_are_under_a_dir_by_their_bytes() {
        let paths = [
            "/ws/a.rs",
            "/ws",
            "/wsx/a.rs",
            "/ws/sub/b.rs",
            "/w",
            "/ws/",
            "/ws//a.rs",
            "/ws/./a.rs",
            "/ws/.git/x",
            "ws/a.rs",
            "./ws/a.rs",
            "/ws/a.rs/",
            "/ws/..",
            "/",
        ];
        let dirs = ["/ws", "/ws/sub", "/w", "/ws/", "/", "/ws/.", "ws"];
        for d in dirs {
            for p in paths {
                let (pb, db) = (p.as_bytes(), d.as_bytes());
                if is_plain(pb) && is_plain(db) {
                    let by_bytes = pb
                        .strip_prefix(db)
                        .is_some_and(|rest| rest.is_empty() || rest[0] == b'/');
                    assert_eq!(by_bytes, Path::new(p).starts_with(d), "{p} under {d}");
                }
            }
        }
        assert!(is_plain(b"/ws/a.rs") && is_plain(b"/ws/a..b"));
        assert!(!is_plain(b"/ws/.git") && !is_plain(b"/ws//a") && !is_plain(b"/ws/"));
    }
}
