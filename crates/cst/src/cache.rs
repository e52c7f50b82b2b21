//! The cache: tiers, placement, persistence.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cst_bytecode::{Codec, Symbols, TreeView};
use cst_grammars::Grammar;
use cst_tiers::{FrozenOptions, FrozenStore, Key, MemTier, TierStats};

use crate::hot::{HotEntry, HotTier, tree_key};
use parking_lot::{Mutex, MutexGuard, RwLock};
use rustc_hash::FxHashMap;

use crate::walk::{IndexReport, Progress};
use crate::{Compression, Config, Error};

/// Tier numbers, hottest first (`cst-policy` orders tiers the same way).
const HOT: usize = 0;
const WARM: usize = 1;
const COLD: usize = 2;

use crate::paths::{Indexed, OpenReport, PATHS_KEY_V1, PATHS_KEYS, PathMapStatus, PathRecord};

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
pub(crate) type IndexedSource = (Key, &'static Grammar, Arc<[u8]>);

/// The tiers' names, hottest first, as [`CacheStats::tiers`] orders them.
pub const TIER_NAMES: [&str; 4] = ["hot", "warm", "cold", "frozen"];

impl CacheStats {
    /// The counters of the tier called `name` (one of [`TIER_NAMES`]).
    pub fn tier(&self, name: &str) -> Option<&TierStats> {
        TIER_NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| &self.tiers[i])
    }
    /// The tiers with their names, hottest first.
    pub fn named_tiers(&self) -> impl Iterator<Item = (&'static str, &TierStats)> {
        TIER_NAMES.into_iter().zip(self.tiers.iter())
    }
}

/// What [`Cache::gc`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Records removed (trees, sources and tags no path refers to).
    pub removed: u64,
    /// Bytes of segment files reclaimed by compaction.
    pub reclaimed_bytes: u64,
}

/// What [`Cache::verify_all`] found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Files compared.
    pub files: u64,
    /// Nodes compared.
    pub nodes: u64,
    /// Files whose stored tree differs from a fresh parse, with the first difference.
    pub mismatches: Vec<(PathBuf, String)>,
    /// Indexed paths whose tree or source could not be found.
    pub missing: Vec<PathBuf>,
}

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

/// Upper bounds (seconds) of the latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 11] = [
    1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1.0,
];

/// A latency histogram with the fixed [`LATENCY_BUCKETS`].
#[derive(Debug, Default)]
pub(crate) struct Latency {
    buckets: [AtomicU64; 12],
    sum_ns: AtomicU64,
}

impl Latency {
    fn record(&self, d: std::time::Duration) {
        let s = d.as_secs_f64();
        let i = LATENCY_BUCKETS
            .iter()
            .position(|&b| s <= b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_ns
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }
    fn snapshot(&self) -> LatencySnapshot {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        LatencySnapshot {
            count: counts.iter().sum(),
            sum_seconds: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
            counts,
        }
    }
}

/// A copy of a latency histogram: per-bucket counts (not cumulative; the
/// last bucket is +Inf), the number of observations and their sum.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencySnapshot {
    /// Observations per bucket of [`LATENCY_BUCKETS`], then +Inf.
    pub counts: Vec<u64>,
    /// Observations.
    pub count: u64,
    /// Sum of the observations in seconds.
    pub sum_seconds: f64,
}

/// Counters of the whole cache and of each tier.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CacheStats {
    /// Latency of `get`.
    pub get_latency: LatencySnapshot,
    /// Latency of inserting a file (hit or parse).
    pub insert_latency: LatencySnapshot,
    /// Hot, warm, cold and frozen tiers, in that order ([`TIER_NAMES`];
    /// by name: [`CacheStats::tier`]).
    pub tiers: [TierStats; 4],
    /// Lookups answered from any tier.
    pub hits: u64,
    /// Lookups that found nothing (or only a stale entry).
    pub misses: u64,
    /// Entries moved to a hotter tier.
    pub promotions: u64,
    /// Entries moved to a colder tier.
    pub demotions: u64,
    /// Entries dropped from memory (still on disk when the cache is persistent).
    pub evictions: u64,
    /// Files parsed.
    pub parses: u64,
    /// Paths known.
    pub paths: u64,
    /// Bytes of the frozen store's files.
    pub disk_bytes: u64,
    /// Files whose tags were computed from their tree (running the query).
    pub tags_computed: u64,
    /// Files whose tags were read back from the store.
    pub tags_reused: u64,
}

/// Smallest per-shard budget of any tier: below it, sharding would make
/// large files spill out of a shard that is too small for them.
const MIN_SHARD_BYTES: u64 = 4 << 20;

/// Number of policy shards for `config`: a power of two, at most 16, such
/// that every tier's share stays at least [`MIN_SHARD_BYTES`] (so small
/// budgets, as in tests, keep one exact policy).
fn policy_shards(config: &Config) -> usize {
    let smallest = config
        .hot_bytes
        .min(config.warm_bytes)
        .min(config.cold_bytes);
    let n = (smallest / MIN_SHARD_BYTES).clamp(1, 16);
    1 << n.ilog2()
}

/// One policy shard: the configured budgets divided by `shards`.
fn new_policy(config: &Config, shards: usize) -> cst_policy::TierPolicy<Key> {
    let share = |b: u64| b / shards as u64;
    // Hot entries are the trees parsed or edited here; nothing is promoted
    // into hot (that would need a parse). Two hits in cold promote an entry
    // to warm.
    let tiers = vec![
        cst_policy::TierConfig::new(share(config.hot_bytes)),
        cst_policy::TierConfig::new(share(config.warm_bytes)).promote_after(0),
        cst_policy::TierConfig::new(share(config.cold_bytes)).promote_after(2),
    ];
    // Estimated weight in the next tier until the exact size is known
    // (encoded ≈ 1/50 of a live tree, compressed ≈ 1/3 of encoded; see
    // docs/BENCHMARKS.md), then `set_weight` applies the exact size.
    cst_policy::TierPolicy::new(tiers)
        .expect("three tiers")
        .with_reweigh(|_, w, from, to| match (from, to) {
            (HOT, WARM) => (w / 50).max(64),
            (WARM, COLD) => (w / 3).max(32),
            (COLD, WARM) => w.saturating_mul(3),
            _ => w,
        })
}

/// What a batch of moves freed, dropped once the policy lock is released.
#[derive(Default)]
struct Freed {
    trees: Vec<HotEntry>,
    bytes: Vec<bytes::Bytes>,
}

/// Path → record, with a count of the paths that refer to each key (so
/// `remove` knows in O(1) whether another path shares the content).
#[derive(Default)]
struct PathMap {
    by_path: FxHashMap<PathBuf, PathRecord>,
    refs: FxHashMap<Key, u32>,
}

impl PathMap {
    fn get(&self, path: &Path) -> Option<&PathRecord> {
        self.by_path.get(path)
    }

    fn insert(&mut self, path: PathBuf, record: PathRecord) -> Option<PathRecord> {
        *self.refs.entry(record.key).or_default() += 1;
        let old = self.by_path.insert(path, record);
        if let Some(o) = &old {
            self.unref(&o.key);
        }
        old
    }

    /// The record of `path`, to change what does not move its key.
    fn get_mut(&mut self, path: &Path) -> Option<&mut PathRecord> {
        self.by_path.get_mut(path)
    }

    fn remove(&mut self, path: &Path) -> Option<PathRecord> {
        let old = self.by_path.remove(path);
        if let Some(o) = &old {
            self.unref(&o.key);
        }
        old
    }

    fn unref(&mut self, key: &Key) {
        if let Some(n) = self.refs.get_mut(key) {
            *n -= 1;
            if *n == 0 {
                self.refs.remove(key);
            }
        }
    }

    /// True if some path refers to `key`.
    fn is_referenced(&self, key: &Key) -> bool {
        self.refs.contains_key(key)
    }

    fn len(&self) -> usize {
        self.by_path.len()
    }

    fn keys(&self) -> impl Iterator<Item = &PathBuf> {
        self.by_path.keys()
    }

    fn values(&self) -> impl Iterator<Item = &PathRecord> {
        self.by_path.values()
    }

    fn iter(&self) -> impl Iterator<Item = (&PathBuf, &PathRecord)> {
        self.by_path.iter()
    }
}

pub(crate) struct Inner {
    config: Config,
    pub(crate) store: Option<FrozenStore>,
    hot: HotTier<Key>,
    warm: MemTier<Key>,
    cold: MemTier<Key>,
    /// Source of each cached key (kept when `store_source`; hot entries hold theirs too).
    sources: RwLock<FxHashMap<Key, Arc<[u8]>>>,
    paths: RwLock<PathMap>,
    /// The path map changed since it was last written.
    paths_dirty: std::sync::atomic::AtomicBool,
    /// Flush number of the path map copy last read or written.
    paths_generation: AtomicU64,
    /// One path-map flush at a time: from taking the dirty flag to storing
    /// the generation, so two flushes never write one copy out of order.
    flushing: Mutex<()>,
    /// What opening found (set once by `open`).
    open_report: std::sync::OnceLock<OpenReport>,
    /// Orders the users of content-addressed data against its removers:
    /// `get` holds it shared while it finds a key and admits it to memory,
    /// `insert` and `edit` from finding or storing a key to mapping their
    /// path to it; `remove` and `gc` hold it exclusively while they decide
    /// that no path maps to a key and delete it. Without it a key another
    /// thread was mapping could be deleted under it (its tree then lost, or
    /// served without its source), or come back to memory with no record on
    /// disk.
    content: RwLock<()>,
    languages: RwLock<FxHashMap<Key, &'static str>>,
    symbols: RwLock<FxHashMap<&'static str, Arc<Symbols>>>,
    /// The policy, sharded by key: a key's tier decisions are made by one
    /// shard, whose budgets are the configured ones divided by the number of
    /// shards, so readers of different keys do not wait on one lock.
    policies: Box<[Mutex<cst_policy::TierPolicy<Key>>]>,
    /// Logical clock for the policy (one tick per operation).
    clock: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Per tier (hot, warm, cold, frozen): moves in from colder tiers, out
    /// to colder tiers, and drops.
    promotions: [AtomicU64; 4],
    demotions: [AtomicU64; 4],
    evictions: [AtomicU64; 4],
    parses: AtomicU64,
    get_latency: Latency,
    insert_latency: Latency,
    /// Compiled queries and tags configurations (see `navigate.rs`).
    pub(crate) compiled: crate::navigate::Compiled,
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
    /// A cache persisted in `dir` (created if needed). Paths and trees indexed
    /// earlier are found again without parsing.
    pub fn open(dir: impl AsRef<Path>, config: Config) -> Result<Cache, Error> {
        let store = FrozenStore::open(dir.as_ref().join("store"), FrozenOptions::default())?;
        let recovery = store.recovery();
        if *recovery != cst_tiers::Recovery::default() {
            tracing::warn!(dir = %dir.as_ref().display(), ?recovery, "the store was repaired on open");
        }
        let recovery = recovery.clone();
        let cache = Cache::with_store(Some(store), config);
        let (path_map, paths, paths_dropped) = cache.load_paths()?;
        let report = OpenReport {
            store: recovery,
            path_map,
            paths,
            paths_dropped,
        };
        if report.lost_data() {
            tracing::warn!(dir = %dir.as_ref().display(), ?report, "opening the cache lost data");
        }
        let _ = cache.inner.open_report.set(report);
        Ok(cache)
    }

    /// A cache in memory only.
    pub fn in_memory(config: Config) -> Cache {
        Cache::with_store(None, config)
    }

    fn with_store(store: Option<FrozenStore>, config: Config) -> Cache {
        let shards = policy_shards(&config);
        let policies = (0..shards)
            .map(|_| Mutex::new(new_policy(&config, shards)))
            .collect();
        Cache {
            inner: Arc::new(Inner {
                config,
                store,
                hot: HotTier::new(),
                warm: MemTier::new(),
                cold: MemTier::new(),
                sources: RwLock::new(FxHashMap::default()),
                paths: RwLock::new(PathMap::default()),
                paths_dirty: Default::default(),
                paths_generation: AtomicU64::new(0),
                flushing: Mutex::new(()),
                open_report: std::sync::OnceLock::new(),
                content: RwLock::new(()),
                languages: RwLock::new(FxHashMap::default()),
                symbols: RwLock::new(FxHashMap::default()),
                policies,
                clock: AtomicU64::new(0),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                promotions: Default::default(),
                demotions: Default::default(),
                evictions: Default::default(),
                parses: AtomicU64::new(0),
                get_latency: Latency::default(),
                insert_latency: Latency::default(),
                compiled: Default::default(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Every indexed path, sorted.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.inner.paths.read().keys().cloned().collect();
        out.sort();
        out
    }

    fn symbols(&self, g: &'static Grammar) -> Result<Arc<Symbols>, Error> {
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

    /// A tree's bytes as `codec` keeps them: the tree itself (`None`, read
    /// in place) or a dense container.
    fn pack(
        &self,
        raw: &bytes::Bytes,
        codec: Compression,
        path: &Path,
    ) -> Result<bytes::Bytes, Error> {
        let codec = match codec {
            Compression::None => return Ok(raw.clone()),
            Compression::Lz4 => Codec::Lz4,
            Compression::Zstd => Codec::Zstd(self.inner.config.zstd_level),
        };
        cst_bytecode::compress(raw, codec, None)
            .map(bytes::Bytes::from)
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Detects the language of `path`, parses `source` and caches the tree.
    pub fn insert(&self, path: impl AsRef<Path>, source: Vec<u8>) -> Result<Outcome, Error> {
        let path = path.as_ref();
        let head = &source[..source.len().min(8192)];
        let grammar = cst_grammars::detect(path, head)
            .ok_or_else(|| Error::UnknownLanguage(path.to_path_buf()))?;
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
        self.inner.insert_latency.record(started.elapsed());
        result
    }

    fn insert_parsed_inner(
        &self,
        path: &Path,
        grammar: &'static Grammar,
        source: Vec<u8>,
        parser: &mut tree_sitter::Parser,
    ) -> Result<(Outcome, u64, Key), Error> {
        self.check_size(path, &source)?;
        let fingerprint = grammar.fingerprint()?.0;
        let key = tree_key(&source, grammar.id(), fingerprint, cst_bytecode::VERSION);
        let source_hash = *blake3::hash(&source).as_bytes();
        let record = PathRecord {
            key,
            language: grammar.id(),
            source_hash,
            indexed: None,
        };
        {
            let _mapping = self.inner.content.read();
            if let Some(nodes) = self.cached_node_count(&key, grammar)? {
                self.set_path(path, record);
                return Ok((Outcome::Hit, nodes, key));
            }
        }
        let source: Arc<[u8]> = source.into();
        let tree = parser
            .parse(&source, None)
            .ok_or_else(|| Error::Parse(path.to_path_buf()))?;
        let nodes = tree.root_node().descendant_count() as u64;
        let _mapping = self.inner.content.read();
        self.store_parsed(path, grammar, key, tree, source)?;
        self.set_path(path, record);
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
            Some(store) => store.contains(key.as_bytes()),
            None => {
                self.inner.hot.contains(&key)
                    || self.inner.warm.contains(&key)
                    || self.inner.cold.contains(&key)
            }
        };
        present.then_some((language, indexed.lines, indexed.nodes))
    }

    /// Refuses a source over `Config::max_file_bytes` before any parsing.
    fn check_size(&self, path: &Path, source: &[u8]) -> Result<(), Error> {
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
    fn set_path(&self, path: &Path, record: PathRecord) {
        let mut paths = self.inner.paths.write();
        // An unchanged record keeps what an index run noted about the file.
        let unchanged = paths
            .get(path)
            .is_some_and(|r| r.key == record.key && r.source_hash == record.source_hash);
        if !unchanged {
            paths.insert(path.to_path_buf(), record);
            self.inner.paths_dirty.store(true, Ordering::Release);
        }
    }

    /// Keeps a freshly parsed tree: the compressed tree (and source) go to
    /// disk, the live tree to the hot tier, and the policy's moves are done.
    fn store_parsed(
        &self,
        path: &Path,
        grammar: &'static Grammar,
        key: Key,
        tree: tree_sitter::Tree,
        source: Arc<[u8]>,
    ) -> Result<(), Error> {
        self.inner.parses.fetch_add(1, Ordering::Relaxed);
        // Encoded once: kept beside the live tree (so `get` and a demotion
        // to warm need no re-encoding) and, compressed, written to disk.
        let encoded = bytes::Bytes::from(cst_bytecode::encode(
            &tree,
            &source,
            grammar.fingerprint()?.0,
        )?);
        if let Some(store) = &self.inner.store {
            let dense = self.pack(&encoded, self.inner.config.disk_codec(), path)?;
            // The source first: a thread (or, after a crash, a reopened
            // cache) that finds the tree on disk must find its source too.
            if self.inner.config.store_source {
                store.put(&source_key(&key), &source)?;
            }
            store.put(key.as_bytes(), &dense)?;
        }
        self.inner.languages.write().insert(key, grammar.id());
        if self.inner.config.store_source {
            self.inner.sources.write().insert(key, source.clone());
        }
        let entry = HotEntry::new(tree, source).with_encoded(encoded);
        let weight = entry.bytes;
        let now = self.tick();
        // Under the policy lock: the key lives in exactly one tier, even if
        // another thread cached the same content meanwhile.
        let mut policy = self.policy(&key).lock();
        self.inner.warm.remove(&key);
        self.inner.cold.remove(&key);
        self.inner.hot.insert(key, entry);
        let moves = policy.insert_at(key, weight, HOT, now);
        self.apply(policy, moves)
    }

    /// Node count of `key` if it is cached in any tier (a hit).
    fn cached_node_count(
        &self,
        key: &Key,
        grammar: &'static Grammar,
    ) -> Result<Option<u64>, Error> {
        if let Some(e) = self.inner.hot.get(key) {
            self.touch(key)?;
            return Ok(Some(e.tree.root_node().descendant_count() as u64));
        }
        match self.load_view(key, grammar, Path::new(""))? {
            Some(view) => Ok(Some(view.node_count() as u64)),
            None => Ok(None),
        }
    }

    /// Records an access with the policy and carries out any promotion.
    fn touch(&self, key: &Key) -> Result<(), Error> {
        let now = self.tick();
        let mut policy = self.policy(key).lock();
        let (_, moves) = policy.access(key, now);
        self.apply(policy, moves)
    }

    /// The policy shard that decides for `key`.
    fn policy(&self, key: &Key) -> &Mutex<cst_policy::TierPolicy<Key>> {
        let p = &self.inner.policies;
        // Keys are BLAKE3 digests: any byte is uniform.
        &p[usize::from(key.as_bytes()[0]) & (p.len() - 1)]
    }

    fn tick(&self) -> u64 {
        self.inner.clock.fetch_add(1, Ordering::Relaxed)
    }

    /// The decoded tree of `key` from the warm, cold or frozen tier, or
    /// `None`. A hit is recorded with the policy (which may promote it); an
    /// entry read from disk enters the cold tier.
    fn load_view(
        &self,
        key: &Key,
        grammar: &'static Grammar,
        path: &Path,
    ) -> Result<Option<TreeView>, Error> {
        let symbols = self.symbols(grammar)?;
        let decode_err = |source| Error::Decode {
            path: path.to_path_buf(),
            source,
        };
        if self.inner.warm.contains(key) || self.inner.cold.contains(key) {
            self.touch(key)?;
        }
        if let Some(bytes) = self.inner.warm.get(key) {
            // Checked when it entered memory: opened in place, in O(1).
            return Ok(Some(
                TreeView::from_trusted_bytes(bytes, symbols).map_err(decode_err)?,
            ));
        }
        let dense = match self.inner.cold.get(key) {
            Some(d) => d,
            None => {
                let Some(store) = &self.inner.store else {
                    return Ok(None);
                };
                let dense = match store.get(key.as_bytes()) {
                    Ok(Some(v)) => v,
                    Ok(None) => return Ok(None),
                    // A corrupt record is counted by the store and treated
                    // as a miss: the file is parsed again.
                    Err(e @ cst_tiers::FrozenError::Corrupt { .. }) => {
                        tracing::warn!(path = %path.display(), error = %e, "corrupt stored tree: parsing again");
                        return Ok(None);
                    }
                    Err(e) => return Err(e.into()),
                };
                // The record's checksum held; check that it opens before
                // admitting it to memory.
                let Ok(view) = open_record(&dense, symbols, true) else {
                    return Ok(None);
                };
                self.inner.languages.write().insert(*key, grammar.id());
                let now = self.tick();
                let mut policy = self.policy(key).lock();
                // Another thread may have brought it in meanwhile.
                if policy.tier_of(key).is_none() {
                    self.inner.cold.insert(*key, dense.clone());
                    let moves = policy.insert_at(*key, dense.len() as u64, COLD, now);
                    self.inner.promotions[COLD].fetch_add(1, Ordering::Relaxed);
                    self.apply(policy, moves)?;
                }
                return Ok(Some(view));
            }
        };
        Ok(Some(
            open_record(&dense, symbols, false).map_err(decode_err)?,
        ))
    }

    /// Carries out the policy's moves, in order: a demotion re-encodes or
    /// compresses the entry for its new tier, a promotion from cold
    /// decompresses it, a drop frees it. Exact sizes go back to the policy,
    /// whose further moves are carried out after.
    ///
    /// Runs under the key's policy shard lock (`policy`), so moves of
    /// concurrent operations on a shard cannot interleave. What the moves
    /// free (live trees, buffers) is dropped after the lock is released.
    fn apply(
        &self,
        mut policy: MutexGuard<'_, cst_policy::TierPolicy<Key>>,
        moves: Vec<cst_policy::Move<Key>>,
    ) -> Result<(), Error> {
        let mut freed = Freed::default();
        let result = self.apply_moves(&mut policy, moves, &mut freed);
        drop(policy);
        drop(freed);
        result
    }

    fn apply_moves(
        &self,
        policy: &mut cst_policy::TierPolicy<Key>,
        moves: Vec<cst_policy::Move<Key>>,
        freed: &mut Freed,
    ) -> Result<(), Error> {
        let mut queue: std::collections::VecDeque<cst_policy::Move<Key>> = moves.into();
        while let Some(m) = queue.pop_front() {
            let key = m.key;
            let exact = match (m.from, m.to) {
                (HOT, Some(WARM)) => {
                    let Some(entry) = self.inner.hot.remove(&key) else {
                        continue;
                    };
                    let encoded = match entry.encoded.clone() {
                        Some(e) => e,
                        None => {
                            let lang = self.inner.languages.read().get(&key).copied();
                            let Some(g) = lang.and_then(cst_grammars::by_id) else {
                                continue;
                            };
                            cst_bytecode::encode(&entry.tree, &entry.source, g.fingerprint()?.0)?
                                .into()
                        }
                    };
                    freed.trees.push(entry);
                    let weight = encoded.len() as u64;
                    self.inner.warm.insert(key, encoded);
                    self.inner.demotions[HOT].fetch_add(1, Ordering::Relaxed);
                    Some(weight)
                }
                (WARM, Some(COLD)) => {
                    let Some(raw) = self.inner.warm.remove(&key) else {
                        continue;
                    };
                    let dense = self.pack(&raw, self.inner.config.cold_codec(), Path::new(""))?;
                    freed.bytes.push(raw);
                    let weight = dense.len() as u64;
                    self.inner.cold.insert(key, dense);
                    self.inner.demotions[WARM].fetch_add(1, Ordering::Relaxed);
                    Some(weight)
                }
                (COLD, Some(WARM)) => {
                    let Some(dense) = self.inner.cold.remove(&key) else {
                        continue;
                    };
                    let raw = match unpack(&dense) {
                        Ok(raw) => raw,
                        Err(_) => {
                            // Unreadable: forget it (disk or a parse restores it).
                            policy.remove(&key);
                            continue;
                        }
                    };
                    freed.bytes.push(dense);
                    let weight = raw.len() as u64;
                    self.inner.warm.insert(key, raw);
                    self.inner.promotions[WARM].fetch_add(1, Ordering::Relaxed);
                    Some(weight)
                }
                (from, None) => {
                    match from {
                        HOT => freed.trees.extend(self.inner.hot.remove(&key)),
                        WARM => freed.bytes.extend(self.inner.warm.remove(&key)),
                        _ => freed.bytes.extend(self.inner.cold.remove(&key)),
                    }
                    // Out of memory, the source goes too: a persistent
                    // cache reads it back from the store (or the file).
                    // Kept, the sources of every version ever cached grew
                    // without bound (and the language of every key).
                    self.inner.sources.write().remove(&key);
                    self.inner.languages.write().remove(&key);
                    self.inner.evictions[from.min(COLD)].fetch_add(1, Ordering::Relaxed);
                    None
                }
                _ => None,
            };
            if let Some(w) = exact
                && w != m.weight
            {
                queue.extend(policy.set_weight(&key, w));
            }
        }
        Ok(())
    }

    /// The tree of `path`, from whichever tier holds it; `None` if the path
    /// was never indexed (or its tree was dropped from an in-memory cache).
    pub fn get(&self, path: impl AsRef<Path>) -> Result<Option<Tree>, Error> {
        let started = std::time::Instant::now();
        let result = self.get_inner(path.as_ref());
        self.inner.get_latency.record(started.elapsed());
        result
    }

    fn get_inner(&self, path: &Path) -> Result<Option<Tree>, Error> {
        let _reading = self.inner.content.read();
        let Some(record) = self.inner.paths.read().get(path).cloned() else {
            self.inner.misses.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        };
        let grammar =
            cst_grammars::by_id(record.language).expect("ids in the path map are registry ids");
        // The encoded bytes kept beside the live tree (the tree itself is
        // not cloned: that allocates).
        let hot = self.inner.hot.get_with(&record.key, |e| match &e.encoded {
            Some(bytes) => Ok(bytes.clone()),
            None => grammar
                .fingerprint()
                .map_err(Error::from)
                .and_then(|fp| Ok(cst_bytecode::encode(&e.tree, &e.source, fp.0)?.into())),
        });
        let view = if let Some(encoded) = hot {
            self.touch(&record.key)?;
            let encoded: bytes::Bytes = encoded?;
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
                    self.inner.misses.fetch_add(1, Ordering::Relaxed);
                    return Ok(None);
                }
            }
        };
        self.inner.hits.fetch_add(1, Ordering::Relaxed);
        let source = self.source_of(&record, path)?;
        Ok(Some(Tree {
            view,
            source,
            language: grammar,
            key: Some(record.key),
        }))
    }

    /// The content key and language `path` is indexed under.
    pub(crate) fn record_of(&self, path: &Path) -> Option<(Key, &'static Grammar)> {
        let record = self.inner.paths.read().get(path).cloned()?;
        let g = cst_grammars::by_id(record.language)?;
        Some((record.key, g))
    }

    /// The key, language and indexed source of `path`, from one reading of
    /// its record (so the three belong together).
    pub(crate) fn indexed_source(&self, path: &Path) -> Result<Option<IndexedSource>, Error> {
        let Some(record) = self.inner.paths.read().get(path).cloned() else {
            return Ok(None);
        };
        let Some(g) = cst_grammars::by_id(record.language) else {
            return Ok(None);
        };
        Ok(self.source_of(&record, path)?.map(|s| (record.key, g, s)))
    }

    /// The indexed source of `path` (without its tree).
    pub(crate) fn source_for(&self, path: &Path) -> Result<Option<Arc<[u8]>>, Error> {
        let Some(record) = self.inner.paths.read().get(path).cloned() else {
            return Ok(None);
        };
        self.source_of(&record, path)
    }

    /// The source of a path: kept in memory, in the store, or read from disk
    /// (checked against the indexed hash).
    fn source_of(&self, record: &PathRecord, path: &Path) -> Result<Option<Arc<[u8]>>, Error> {
        if let Some(s) = self.inner.sources.read().get(&record.key) {
            return Ok(Some(s.clone()));
        }
        // From the store: the record's checksum held and it is filed under
        // this content's key (which the store checks), so it is not hashed
        // again; a file read from disk is.
        if let Some(store) = &self.inner.store
            && let Ok(Some(s)) = store.get(&source_key(&record.key))
        {
            return Ok(Some(Arc::from(&s[..])));
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
        let Some(record) = self.inner.paths.read().get(path).cloned() else {
            return Ok(None);
        };
        if let Some(e) = self.inner.hot.get(&record.key) {
            self.touch(&record.key)?;
            return Ok(Some(e.tree));
        }
        let Some(source) = self.source_of(&record, path)? else {
            return Ok(None);
        };
        let grammar = cst_grammars::by_id(record.language).expect("registry id");
        let tree = grammar
            .parser()?
            .parse(&source, None)
            .ok_or_else(|| Error::Parse(path.to_path_buf()))?;
        self.inner.parses.fetch_add(1, Ordering::Relaxed);
        Ok(Some(tree))
    }

    /// Applies an edit: reparses incrementally from the hot tree when there
    /// is one (a full parse otherwise) and caches the result for `path`.
    pub fn edit(
        &self,
        path: impl AsRef<Path>,
        edit: &tree_sitter::InputEdit,
        new_source: Vec<u8>,
    ) -> Result<(), Error> {
        let path = path.as_ref();
        let Some(record) = self.inner.paths.read().get(path).cloned() else {
            return self.insert(path, new_source).map(|_| ());
        };
        self.check_size(path, &new_source)?;
        let grammar = cst_grammars::by_id(record.language).expect("registry id");
        let mut parser = grammar.parser()?;
        let old = self.inner.hot.get(&record.key).map(|e| {
            let mut t = e.tree;
            t.edit(edit);
            t
        });
        let tree = parser
            .parse(&new_source, old.as_ref())
            .ok_or_else(|| Error::Parse(path.to_path_buf()))?;
        // Cache under the new content's key.
        let key = tree_key(
            &new_source,
            grammar.id(),
            grammar.fingerprint()?.0,
            cst_bytecode::VERSION,
        );
        let source: Arc<[u8]> = new_source.into();
        let _mapping = self.inner.content.read();
        self.store_parsed(path, grammar, key, tree, source.clone())?;
        let source_hash = *blake3::hash(&source).as_bytes();
        self.set_path(
            path,
            PathRecord {
                key,
                language: grammar.id(),
                source_hash,
                indexed: None,
            },
        );
        Ok(())
    }

    /// Forgets `path`. Its tree stays cached while another path has the same content.
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
            self.policy(&record.key).lock().remove(&record.key);
            self.inner.hot.remove(&record.key);
            self.inner.warm.remove(&record.key);
            self.inner.cold.remove(&record.key);
            self.inner.sources.write().remove(&record.key);
            if let Some(store) = &self.inner.store {
                store.remove(record.key.as_bytes())?;
                store.remove(&source_key(&record.key))?;
                if let Some(g) = cst_grammars::by_id(record.language) {
                    store.remove(&crate::navigate::tags_record_key(
                        &record.key,
                        &self.tags_hash(g),
                    ))?;
                }
            }
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
        keep: &rustc_hash::FxHashSet<PathBuf>,
    ) -> Result<u64, Error> {
        let stale: Vec<PathBuf> = self
            .inner
            .paths
            .read()
            .keys()
            .filter(|p| p.starts_with(dir) && !keep.contains(*p))
            .cloned()
            .collect();
        let mut forgotten = 0;
        for path in stale {
            forgotten += u64::from(self.remove(&path)?);
        }
        Ok(forgotten)
    }

    /// Compares the stored tree of every indexed path with a fresh parse of
    /// its source, node by node (`cst_bytecode::verify`).
    pub fn verify_all(&self) -> Result<VerifyReport, Error> {
        let records: Vec<(PathBuf, PathRecord)> = self
            .inner
            .paths
            .read()
            .iter()
            .map(|(p, r)| (p.clone(), r.clone()))
            .collect();
        let mut report = VerifyReport::default();
        for (path, record) in records {
            let grammar = cst_grammars::by_id(record.language).expect("registry id");
            let tree = match self.get(&path) {
                Ok(Some(tree)) => tree,
                // The source is not kept and the file no longer matches it:
                // the indexed source cannot be found (re-index the file).
                Ok(None) | Err(Error::SourceChanged(_)) => {
                    report.missing.push(path);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(source) = tree.source() else {
                report.missing.push(path);
                continue;
            };
            let live = grammar
                .parser()?
                .parse(source, None)
                .ok_or_else(|| Error::Parse(path.clone()))?;
            report.files += 1;
            report.nodes += tree.view().node_count() as u64;
            if let Err(m) = cst_bytecode::verify(&live, tree.view()) {
                report.mismatches.push((path, m.to_string()));
            }
        }
        report.mismatches.sort();
        report.missing.sort();
        Ok(report)
    }

    /// Removes stored trees, sources and tags no path refers to, then
    /// compacts the store.
    pub fn gc(&self) -> Result<GcReport, Error> {
        let Some(store) = &self.inner.store else {
            return Ok(GcReport::default());
        };
        // The path map goes to disk first, both copies: a crash in the
        // middle of the removals, or damage to one copy later, then leaves no
        // stored path pointing at a removed tree.
        self.flush()?;
        self.inner.paths_dirty.store(true, Ordering::Release);
        self.flush()?;
        let deciding = self.inner.content.write();
        let live: rustc_hash::FxHashSet<Key> =
            self.inner.paths.read().values().map(|r| r.key).collect();
        let mut removed = 0;
        for k in store.keys() {
            // Trees (32 bytes), sources (`S`) and tags (`T` + 16 bytes).
            let key_part = if (k.len() == 33 && k[32] == b'S') || (k.len() == 49 && k[32] == b'T') {
                &k[..32]
            } else {
                &k[..]
            };
            if key_part.len() != 32 {
                continue; // reserved records (the path map)
            }
            let key = Key(key_part.try_into().expect("32 bytes"));
            if !live.contains(&key) {
                // Out of memory too: a tier must never hold a key whose
                // record is gone from disk (an insert of the same content
                // would find it there, and lose it on its eviction).
                self.drop_from_memory(&key);
                store.remove(&k)?;
                removed += 1;
            }
        }
        drop(deciding);
        self.flush()?;
        let reclaimed_bytes = store.compact()?;
        Ok(GcReport {
            removed,
            reclaimed_bytes,
        })
    }

    /// Drops `key` from every memory tier, the policy and the sources.
    fn drop_from_memory(&self, key: &Key) {
        self.policy(key).lock().remove(key);
        self.inner.hot.remove(key);
        self.inner.warm.remove(key);
        self.inner.cold.remove(key);
        self.inner.sources.write().remove(key);
        self.inner.languages.write().remove(key);
    }

    /// Counters.
    pub fn stats(&self) -> CacheStats {
        let i = &self.inner;
        let frozen = i.store.as_ref().map(FrozenStore::stats).unwrap_or_default();
        let mut tiers = [i.hot.stats(), i.warm.stats(), i.cold.stats(), frozen];
        let sum = |a: &[AtomicU64; 4]| a.iter().map(|c| c.load(Ordering::Relaxed)).sum::<u64>();
        for (t, s) in tiers.iter_mut().enumerate() {
            s.promotions = i.promotions[t].load(Ordering::Relaxed);
            s.demotions = i.demotions[t].load(Ordering::Relaxed);
            s.evictions = i.evictions[t].load(Ordering::Relaxed);
        }
        CacheStats {
            get_latency: i.get_latency.snapshot(),
            insert_latency: i.insert_latency.snapshot(),
            tiers,
            hits: i.hits.load(Ordering::Relaxed),
            misses: i.misses.load(Ordering::Relaxed),
            promotions: sum(&i.promotions),
            demotions: sum(&i.demotions),
            evictions: sum(&i.evictions),
            parses: i.parses.load(Ordering::Relaxed),
            paths: i.paths.read().len() as u64,
            disk_bytes: i.store.as_ref().map_or(0, FrozenStore::disk_bytes),
            tags_computed: i.compiled.tags_computed.load(Ordering::Relaxed),
            tags_reused: i.compiled.tags_reused.load(Ordering::Relaxed),
        }
    }

    /// What opening the on-disk store found and repaired (a torn tail, a
    /// rebuilt index, corrupt records skipped); `None` for an in-memory
    /// cache. Corruption met later, on reads, is counted in
    /// `stats().tiers[3].checksum_failures`.
    pub fn recovery(&self) -> Option<&cst_tiers::Recovery> {
        self.inner.store.as_ref().map(FrozenStore::recovery)
    }

    /// Makes everything durable: the path map and the store. Also done when
    /// the last clone of the cache is dropped.
    pub fn flush(&self) -> Result<(), Error> {
        self.inner.flush()
    }

    /// Loads the path map written by `flush`; records of unknown languages
    /// (a build without that grammar) are skipped.
    /// Reads the path map: the newest copy that reads whole, else the other
    /// one, else what can be read; returns its status, the paths loaded and
    /// the paths dropped.
    fn load_paths(&self) -> Result<(PathMapStatus, u64, u64), Error> {
        let Some(store) = &self.inner.store else {
            return Ok((PathMapStatus::Empty, 0, 0));
        };
        let stamp = crate::paths::build_stamp();
        let mut copies: Vec<(u64, bytes::Bytes)> = Vec::new();
        let mut damaged = 0;
        for key in PATHS_KEYS {
            match store.get(key) {
                Ok(Some(b)) => match crate::paths::generation_of(&b) {
                    Some(generation) => copies.push((generation, b)),
                    None => damaged += 1,
                },
                Ok(None) => {}
                Err(cst_tiers::FrozenError::Corrupt { .. }) => damaged += 1,
                Err(e) => return Err(e.into()),
            }
        }
        // The newest copy that decodes whole; an older one is decoded only
        // when it does not (the entries are read once on a healthy open).
        // Failing that, the fuller of the truncated ones.
        copies.sort_by_key(|c| std::cmp::Reverse(c.0));
        let (mut whole, mut partial) = (None, None::<crate::paths::Decoded>);
        for (_, b) in &copies {
            match crate::paths::decode(b, stamp) {
                Some(d) if !d.truncated => {
                    whole = Some(d);
                    break;
                }
                Some(d) => {
                    damaged += 1;
                    if partial
                        .as_ref()
                        .is_none_or(|p| d.entries.len() > p.entries.len())
                    {
                        partial = Some(d);
                    }
                }
                None => damaged += 1,
            }
        }
        let chosen = match whole {
            Some(d) => Some((true, d)),
            None => partial.map(|d| (false, d)),
        };
        let (status, decoded) = match chosen {
            Some((whole, d)) => {
                let status = match (whole, damaged) {
                    (true, 0) => PathMapStatus::Current,
                    (true, _) => PathMapStatus::PreviousCopy,
                    (false, _) => PathMapStatus::Partial,
                };
                if damaged > 0 {
                    // Rewrite both copies at the next flush.
                    self.inner.paths_dirty.store(true, Ordering::Release);
                }
                self.inner
                    .paths_generation
                    .store(d.generation, Ordering::Release);
                (status, d)
            }
            None => match store.get(PATHS_KEY_V1) {
                // A map written before version 2: read once, then
                // rewritten as version 2 at the next flush.
                Ok(Some(b)) => {
                    self.inner.paths_dirty.store(true, Ordering::Release);
                    (PathMapStatus::Migrated, crate::paths::decode_v1(&b))
                }
                Ok(None) | Err(cst_tiers::FrozenError::Corrupt { .. }) => {
                    // No map: lost if the store holds trees (content keys).
                    let trees = store.keys().iter().filter(|k| k.len() == 32).count();
                    let status = if damaged > 0 || trees > 0 {
                        PathMapStatus::Lost
                    } else {
                        PathMapStatus::Empty
                    };
                    return Ok((status, 0, 0));
                }
                Err(e) => return Err(e.into()),
            },
        };
        if decoded.stale_stamp {
            tracing::info!("path map of another cst build: every file is read once");
        }
        if decoded.unknown > 0 {
            // Not lost: a build with those grammars reads them again (this
            // one forgets them at its next flush).
            tracing::warn!(
                paths = decoded.unknown,
                "paths of languages this build lacks are not loaded"
            );
        }
        let dropped = decoded.dropped;
        let mut paths = self.inner.paths.write();
        let mut languages = self.inner.languages.write();
        for (path, record) in decoded.entries {
            languages.insert(record.key, record.language);
            paths.insert(path, record);
        }
        Ok((status, paths.len() as u64, dropped))
    }

    /// What opening the cache found and repaired: the store's recovery and
    /// the path map's status (a default report for an in-memory cache).
    pub fn open_report(&self) -> OpenReport {
        self.inner.open_report.get().cloned().unwrap_or_default()
    }
}

impl Inner {
    fn flush(&self) -> Result<(), Error> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let _one_at_a_time = self.flushing.lock();
        if !self.paths_dirty.swap(false, Ordering::AcqRel) {
            // Nothing new in the path map: only the store may have writes.
            return Ok(store.flush()?);
        }
        let result = (|| -> Result<(), Error> {
            let paths = self.paths.read();
            let entries: Vec<(&PathBuf, &PathRecord)> = paths.iter().collect();
            // The other copy than the last one: a crash or damage while this
            // one is written leaves the previous map readable.
            let generation = self.paths_generation.load(Ordering::Acquire) + 1;
            let out = crate::paths::encode(&entries, crate::paths::build_stamp(), generation);
            drop(entries);
            drop(paths);
            store.put(PATHS_KEYS[(generation % 2) as usize], &out)?;
            self.paths_generation.store(generation, Ordering::Release);
            if store.contains(PATHS_KEY_V1) {
                store.remove(PATHS_KEY_V1)?;
            }
            store.flush()?;
            Ok(())
        })();
        if result.is_err() {
            // Not written: the next flush (or the one on drop) tries again.
            self.paths_dirty.store(true, Ordering::Release);
        }
        result
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Persistence on drop. An error cannot be reported here; the store's
        // recovery repairs whatever a failed flush leaves behind.
        let _ = self.flush();
    }
}

fn source_key(key: &Key) -> Vec<u8> {
    let mut k = key.0.to_vec();
    k.push(b'S');
    k
}

/// The tree bytes of a record of the cold tier or the disk: the tree itself
/// (codec `none`) or a dense container, decompressed (its checksum checked).
fn unpack(record: &bytes::Bytes) -> Result<bytes::Bytes, cst_bytecode::DecodeError> {
    if record.starts_with(&cst_bytecode::MAGIC) {
        return Ok(record.clone());
    }
    cst_bytecode::decompress(record, None).map(bytes::Bytes::from)
}

/// Opens a record of the cold tier or the disk: in place for codec `none`
/// (no copy), else decompressed. A record read from disk is checked as
/// bytes crossing a trust boundary are (checksum, shape directories,
/// palette: `TreeView::from_bytes`); one of the cold tier was checked when
/// it entered memory.
fn open_record(
    record: &bytes::Bytes,
    symbols: Arc<Symbols>,
    from_disk: bool,
) -> Result<TreeView, cst_bytecode::DecodeError> {
    let raw = unpack(record)?;
    if from_disk {
        TreeView::from_bytes(raw, symbols)
    } else {
        TreeView::from_trusted_bytes(raw, symbols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_shards_follow_the_smallest_budget() {
        // Defaults: cold is 32 MiB → 8 shards of ≥ 4 MiB per tier.
        assert_eq!(policy_shards(&Config::default()), 8);
        let cfg = |hot, warm, cold| Config {
            hot_bytes: hot,
            warm_bytes: warm,
            cold_bytes: cold,
            ..Config::default()
        };
        // Small budgets (tests, embedded uses) keep one exact policy.
        assert_eq!(policy_shards(&cfg(1 << 30, 1 << 30, 0)), 1);
        assert_eq!(policy_shards(&cfg(1 << 30, 7 << 20, 1 << 30)), 1);
        assert_eq!(policy_shards(&cfg(1 << 30, 12 << 20, 1 << 30)), 2);
        // At most 16, always a power of two.
        assert_eq!(policy_shards(&cfg(1 << 40, 1 << 40, 1 << 40)), 16);
        assert_eq!(policy_shards(&cfg(1 << 30, 1 << 30, 40 << 20)), 8);
    }

    #[test]
    fn shards_split_budgets_and_every_key_has_one_shard() {
        let cache = Cache::in_memory(Config::default());
        let n = cache.inner.policies.len();
        assert_eq!(n, 8);
        let total: u64 = cache
            .inner
            .policies
            .iter()
            .map(|p| p.lock().config(WARM).budget)
            .sum();
        assert!(total <= Config::default().warm_bytes);
        assert!(total > Config::default().warm_bytes - n as u64);
        // The shard of a key is a function of the key.
        let key = tree_key(b"fn main() {}", "rust", [0; 16], 1);
        assert!(std::ptr::eq(cache.policy(&key), cache.policy(&key)));
    }

    #[test]
    fn path_map_counts_references() {
        let mut m = PathMap::default();
        let rec = |k: u8| PathRecord {
            key: Key([k; 32]),
            language: "rust",
            source_hash: [0; 32],
            indexed: None,
        };
        m.insert("a".into(), rec(1));
        m.insert("b".into(), rec(1));
        assert!(m.is_referenced(&Key([1; 32])));
        m.remove(Path::new("a"));
        assert!(m.is_referenced(&Key([1; 32])));
        // Re-pointing a path releases its old key.
        m.insert("b".into(), rec(2));
        assert!(!m.is_referenced(&Key([1; 32])));
        assert!(m.is_referenced(&Key([2; 32])));
        m.remove(Path::new("b"));
        assert!(!m.is_referenced(&Key([2; 32])));
        assert_eq!(m.len(), 0);
    }
}
