//! Maintenance: flushing, the path map's loading, verification, garbage
//! collection.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use cst_tiers::{FrozenStore, Key};
use rustc_hash::FxHashMap;

use crate::cache::Inner;
use crate::keys::{PathCopy, StoreKey};
use crate::paths::{OpenReport, PathMapStatus, PathRecord};
use crate::{Cache, Error};

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

impl Cache {
    /// Compares the stored tree of every indexed path with a fresh parse of
    /// its source, node by node (`cst_bytecode::verify`).
    pub fn verify_all(&self) -> Result<VerifyReport, Error> {
        /// One file's verdict.
        enum Verdict {
            Exact(u64),
            Missing,
            Differs(String),
        }
        let records: Vec<(PathBuf, PathRecord)> = self.inner.paths.read().iter().collect();
        let paths: Vec<PathBuf> = records.into_iter().map(|r| r.0).collect();
        // On the worker threads: a parse per file is the cost.
        let verdicts = self.par_each(&paths, |path| {
            let tree = match self.get(path) {
                Ok(Some(tree)) => tree,
                // The source is not kept and the file no longer matches it:
                // the indexed source cannot be found (re-index the file).
                Ok(None) | Err(Error::SourceChanged(_)) => return Ok(Verdict::Missing),
                Err(e) => return Err(e),
            };
            let Some(source) = tree.source() else {
                return Ok(Verdict::Missing);
            };
            // The served tree's own language (the path may have been
            // inserted again, in another language, since the list was taken).
            let grammar = tree.language();
            let live = grammar
                .parser()?
                .parse(source, None)
                .ok_or_else(|| Error::Parse(path.to_path_buf()))?;
            Ok(match cst_bytecode::verify(&live, tree.view()) {
                Ok(()) => Verdict::Exact(tree.view().node_count() as u64),
                Err(m) => Verdict::Differs(m.to_string()),
            })
        });
        let mut report = VerifyReport::default();
        for (path, verdict) in paths.into_iter().zip(verdicts) {
            match verdict? {
                Verdict::Exact(nodes) => {
                    report.files += 1;
                    report.nodes += nodes;
                }
                Verdict::Differs(m) => {
                    report.files += 1;
                    report.mismatches.push((path, m));
                }
                Verdict::Missing => report.missing.push(path),
            }
        }
        report.mismatches.sort();
        report.missing.sort();
        Ok(report)
    }

    /// Removes stored trees, sources and tags no path refers to, then
    /// compacts the segments that are mostly dead.
    pub fn gc(&self) -> Result<GcReport, Error> {
        let Some(store) = self.writable_store() else {
            return match &self.inner.store {
                Some(s) => Err(cst_tiers::FrozenError::ReadOnly(s.dir().to_path_buf()).into()),
                None => Ok(GcReport::default()),
            };
        };
        self.wait_for_maintenance();
        let removed = self.remove_unreferenced(u64::MAX)?;
        self.inner.paths.write().detach();
        let reclaimed_bytes = store.compact()?;
        Ok(GcReport {
            removed,
            reclaimed_bytes,
        })
    }

    /// Deletes the stored records no path refers to, oldest written first,
    /// until `to_free` bytes of records are gone (or none is left). Returns
    /// the records removed.
    fn remove_unreferenced(&self, to_free: u64) -> Result<u64, Error> {
        let Some(store) = self.writable_store() else {
            return Ok(0);
        };
        // Decided under the exclusive content lock, held to the end: no
        // path is mapped to (or away from) a key meanwhile.
        let deciding = self.inner.content.write();
        let live: rustc_hash::FxHashSet<Key> =
            self.inner.paths.read().values().map(|r| r.key).collect();
        let mut groups: Vec<Group> = content_groups(store)
            .into_values()
            .filter(|g| !live.contains(&g.key))
            .collect();
        if groups.is_empty() {
            return Ok(0);
        }
        groups.sort_by_key(|g| g.seq);
        // The path map goes to disk first, both copies: a crash in the
        // middle of the removals, or damage to one copy later, then leaves no
        // stored path pointing at a removed tree.
        self.inner.flush()?;
        self.inner.paths_dirty.store(true, Ordering::Release);
        self.inner.flush()?;
        let (mut removed, mut freed) = (0, 0);
        for g in groups {
            if freed >= to_free {
                break;
            }
            // Out of memory too: a tier must never hold a key whose record
            // is gone from disk (an insert of the same content would find it
            // there, and lose it on its eviction).
            self.drop_from_memory(&g.key);
            for k in &g.records {
                store.remove(k)?;
                removed += 1;
            }
            freed += g.bytes;
        }
        drop(deciding);
        self.inner.flush()?;
        Ok(removed)
    }

    /// Keeps the store within its budget: when the live records exceed
    /// [`Config::disk_bytes`](crate::Config::disk_bytes), deletes records
    /// no path refers to, oldest first; then starts a background compaction
    /// when dead bytes pass the threshold. Done by [`Cache::flush`].
    fn keep_disk_budget(&self) -> Result<(), Error> {
        let Some(store) = self.writable_store() else {
            return Ok(());
        };
        let budget = self.inner.config.disk_bytes;
        let live = store.live_bytes();
        if budget > 0 && live > budget {
            let removed = self.remove_unreferenced(live - budget)?;
            tracing::info!(removed, budget, "disk budget: unreferenced records removed");
        }
        self.compact_in_background();
        Ok(())
    }

    /// Starts compacting in a background thread when the store's dead
    /// bytes exceed a quarter of its files and `Config::compact_dead_bytes`
    /// (and no compaction runs already). Readers are not held up.
    fn compact_in_background(&self) {
        let Some(store) = self.inner.store.as_ref().filter(|_| !self.inner.read_only) else {
            return;
        };
        let disk = store.disk_bytes();
        let dead = disk.saturating_sub(store.live_bytes());
        if dead < self.inner.config.compact_dead_bytes.max(1) || dead.saturating_mul(4) < disk {
            return;
        }
        let mut slot = self.inner.compactor.lock();
        if slot.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        if let Some(h) = slot.take() {
            let _ = h.join();
        }
        self.inner.paths.write().detach();
        let store = store.clone();
        let spawned = std::thread::Builder::new()
            .name("cst-compact".into())
            .spawn(
                move || match store.compact_with(COMPACT_SEGMENT_DEAD_RATIO) {
                    Ok(bytes) => tracing::info!(bytes, "background compaction reclaimed"),
                    Err(e) => tracing::warn!(error = %e, "background compaction failed"),
                },
            );
        match spawned {
            Ok(h) => *slot = Some(h),
            Err(e) => tracing::warn!(error = %e, "could not start a compaction thread"),
        }
    }

    /// Waits for a background compaction, if one runs.
    pub fn wait_for_maintenance(&self) {
        if let Some(h) = self.inner.compactor.lock().take() {
            let _ = h.join();
        }
    }

    /// What the store holds on disk, by kind of record, with the lines of
    /// the indexed files (for bytes per line).
    pub fn disk_usage(&self) -> DiskUsage {
        let Some(store) = self.inner.store.as_deref() else {
            return DiskUsage::default();
        };
        let mut u = DiskUsage {
            files_bytes: store.disk_bytes(),
            ..DiskUsage::default()
        };
        u.dead = u.files_bytes.saturating_sub(store.live_bytes());
        // Each content once: its language and lines.
        let live: FxHashMap<Key, (&'static str, u64)> = self
            .inner
            .paths
            .read()
            .values()
            .map(|r| (r.key, (r.language, r.indexed.map_or(0, |i| i.lines))))
            .collect();
        for &(language, lines) in live.values() {
            u.lines += lines;
            let l = u.languages.entry(language).or_default();
            l.files += 1;
            l.lines += lines;
        }
        for e in store.entries() {
            let key = StoreKey::parse(&e.key);
            let Some(content) = key.and_then(|k| k.content()) else {
                match key {
                    Some(StoreKey::Dictionary(_) | StoreKey::DictionaryDirectory) => {
                        u.dictionaries += e.record_bytes;
                    }
                    _ => u.other += e.record_bytes,
                }
                continue;
            };
            let language = live.get(&content).map(|l| l.0);
            let lang = language.map(|l| u.languages.entry(l).or_default());
            match key {
                Some(StoreKey::Tree(_)) => {
                    u.trees += e.record_bytes;
                    if let Some(l) = lang {
                        l.trees += e.record_bytes;
                    }
                }
                Some(StoreKey::Source(_) | StoreKey::RawSource(_)) => {
                    u.sources += e.record_bytes;
                    if let Some(l) = lang {
                        l.sources += e.record_bytes;
                    }
                }
                _ => u.tags += e.record_bytes,
            }
            if language.is_none() {
                u.unreferenced += e.record_bytes;
            }
        }
        u.dictionary_list = self
            .inner
            .dicts
            .list(Some(store))
            .into_iter()
            .map(|(l, k, id, bytes)| DictionaryInfo {
                language: l,
                kind: match k {
                    crate::dicts::Kind::Tree => "trees",
                    crate::dicts::Kind::Source => "sources",
                },
                id,
                bytes: bytes as u64,
            })
            .collect();
        u
    }

    /// Drops `key` from every memory tier, the policy and the sources.
    pub(crate) fn drop_from_memory(&self, key: &Key) {
        // Not written, if it was pending: no path maps to it.
        self.inner.writeback.discard(key);
        self.inner.placement.remove(key);
        self.inner.sources.write().remove(key);
        self.inner.languages.write().remove(key);
    }

    /// What opening the on-disk store found and repaired (a torn tail, a
    /// rebuilt index, corrupt records skipped); `None` for an in-memory
    /// cache. Corruption met later, on reads, is counted in
    /// `stats().tiers[3].checksum_failures`.
    pub fn recovery(&self) -> Option<&cst_tiers::Recovery> {
        self.inner.store.as_deref().map(FrozenStore::recovery)
    }

    /// Makes everything durable: the path map and the store. Also done when
    /// the last clone of the cache is dropped. Then keeps the disk budget
    /// (see [`Config::disk_bytes`](crate::Config::disk_bytes)).
    pub fn flush(&self) -> Result<(), Error> {
        // Intermediate versions of edited files left undecided are dropped,
        // not written.
        self.forget_superseded_later();
        self.inner.flush()?;
        self.keep_disk_budget()
    }

    /// Loads the path map written by `flush`; records of unknown languages
    /// (a build without that grammar) are skipped.
    /// Reads the path map: the newest copy that reads whole, else the other
    /// one, else what can be read; returns its status, the paths loaded and
    /// the paths dropped.
    pub(crate) fn load_paths(&self) -> Result<(PathMapStatus, u64, u64), Error> {
        let Some(store) = &self.inner.store else {
            return Ok((PathMapStatus::Empty, 0, 0));
        };
        let stamp = crate::paths::build_stamp();
        let mut copies: Vec<(u64, bytes::Bytes)> = Vec::new();
        let mut damaged = 0;
        for copy in PathCopy::BOTH {
            match store.get(&StoreKey::PathMap(copy).bytes()) {
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
        // Each copy is read in place: scanned, not decoded (`PathMap::scan`).
        type Scanned = (crate::paths::PathMap, crate::paths::Scan);
        let (mut whole, mut partial) = (None::<Scanned>, None::<Scanned>);
        for (_, b) in &copies {
            // Read where it lies (a writer copies it out before it compacts).
            match crate::paths::PathMap::scan(b.clone(), stamp) {
                Some(d) if !d.1.truncated => {
                    whole = Some(d);
                    break;
                }
                Some(d) => {
                    damaged += 1;
                    if partial.as_ref().is_none_or(|p| d.1.entries > p.1.entries) {
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
                    .store(d.1.generation, Ordering::Release);
                (status, d)
            }
            None => match store.get(&StoreKey::PathMapV1.bytes()) {
                // A map written before version 2: read once, then
                // rewritten as version 2 at the next flush.
                Ok(Some(b)) => {
                    self.inner.paths_dirty.store(true, Ordering::Release);
                    let d = crate::paths::decode_v1(&b);
                    let map = crate::paths::PathMap::from_entries(d.entries);
                    (PathMapStatus::Migrated, (map, d.scan))
                }
                Ok(None) | Err(cst_tiers::FrozenError::Corrupt { .. }) => {
                    // No map: lost if the store holds trees (content keys).
                    let trees = store
                        .keys()
                        .iter()
                        .filter(|k| matches!(StoreKey::parse(k), Some(StoreKey::Tree(_))))
                        .count();
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
        let (fresh, decoded) = decoded;
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
        // Read aside and swapped in: a reader's refresh never shows an
        // empty map in between.
        // (The languages of keys are learnt when their trees are read.)
        let n = fresh.len() as u64;
        *self.inner.paths.write() = fresh;
        Ok((status, n, dropped))
    }

    /// What opening the cache found and repaired: the store's recovery and
    /// the path map's status (a default report for an in-memory cache).
    pub fn open_report(&self) -> OpenReport {
        self.inner.open_report.get().cloned().unwrap_or_default()
    }
}

/// A dead fraction past which a background compaction rewrites a segment.
const COMPACT_SEGMENT_DEAD_RATIO: f64 = 0.25;

/// The records of one content key: its tree, source and tags.
struct Group {
    key: Key,
    /// The newest record's sequence number.
    seq: u64,
    bytes: u64,
    records: Vec<Box<[u8]>>,
}

/// The store's content records grouped by key.
fn content_groups(store: &FrozenStore) -> FxHashMap<Key, Group> {
    let mut groups: FxHashMap<Key, Group> = FxHashMap::default();
    for e in store.entries() {
        let Some(key) = StoreKey::parse(&e.key).and_then(|k| k.content()) else {
            continue;
        };
        let g = groups.entry(key).or_insert(Group {
            key,
            seq: 0,
            bytes: 0,
            records: Vec::new(),
        });
        g.seq = g.seq.max(e.seq);
        g.bytes += e.record_bytes;
        g.records.push(e.key);
    }
    groups
}

/// What [`Cache::disk_usage`] found: bytes of records on disk by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskUsage {
    /// Bytes of the store's segment files.
    pub files_bytes: u64,
    /// Of which dead (replaced or deleted records, until compaction).
    pub dead: u64,
    /// Tree records (headers included).
    pub trees: u64,
    /// Source records.
    pub sources: u64,
    /// Tags records.
    pub tags: u64,
    /// Dictionary records.
    pub dictionaries: u64,
    /// Other reserved records (the path map).
    pub other: u64,
    /// Of trees, sources and tags: records no path refers to (kept for the
    /// disk budget).
    pub unreferenced: u64,
    /// Lines of the indexed files (each content counted once; files
    /// inserted without an index run count 0).
    pub lines: u64,
    /// The current dictionaries.
    pub dictionary_list: Vec<DictionaryInfo>,
    /// Per language: indexed files, lines, tree and source bytes of the
    /// contents paths refer to.
    pub languages: std::collections::BTreeMap<&'static str, LanguageUsage>,
}

/// One language's share of [`DiskUsage`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LanguageUsage {
    /// Distinct contents indexed.
    pub files: u64,
    /// Their lines.
    pub lines: u64,
    /// Bytes of their tree records.
    pub trees: u64,
    /// Bytes of their source records.
    pub sources: u64,
}

/// A trained dictionary, as [`DiskUsage`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictionaryInfo {
    /// Its language.
    pub language: &'static str,
    /// `"trees"` or `"sources"`.
    pub kind: &'static str,
    /// Its id (named by each record compressed with it).
    pub id: u32,
    /// Its size.
    pub bytes: u64,
}

impl DiskUsage {
    /// Bytes per line of `bytes` (0 without lines).
    pub fn per_line(&self, bytes: u64) -> f64 {
        if self.lines == 0 {
            0.0
        } else {
            bytes as f64 / self.lines as f64
        }
    }
}

impl Inner {
    pub(crate) fn flush(&self) -> Result<(), Error> {
        let Some(store) = self.writable_store() else {
            return Ok(());
        };
        let _one_at_a_time = self.flushing.lock();
        let dirty = self.paths_dirty.swap(false, Ordering::AcqRel);
        let result = (|| -> Result<(), Error> {
            // Edited trees first, then the path map that names them: a map
            // on disk never names a tree that is not. Taken under the
            // pending lock, the map's copy names no key another thread is
            // writing (a key leaves `pending` once written).
            let mut pending = self.writeback.lock();
            if !dirty {
                // Nothing new in the path map: only the store may have
                // writes (and edited trees, if any, their records).
                self.persist_named(store, &mut pending, None)?;
                drop(pending);
                return Ok(store.flush()?);
            }
            let owned: Vec<(PathBuf, PathRecord)> = self.paths.read().iter().collect();
            self.persist_named(store, &mut pending, Some(&owned))?;
            drop(pending);
            let entries: Vec<(&PathBuf, &PathRecord)> = owned.iter().map(|(p, r)| (p, r)).collect();
            // The other copy than the last one: a crash or damage while this
            // one is written leaves the previous map readable.
            let generation = self.paths_generation.load(Ordering::Acquire) + 1;
            let out = crate::paths::encode(&entries, crate::paths::build_stamp(), generation);
            drop(entries);
            store.put(
                &StoreKey::PathMap(PathCopy::of_generation(generation)).bytes(),
                &out,
            )?;
            self.paths_generation.store(generation, Ordering::Release);
            let v1 = StoreKey::PathMapV1.bytes();
            if store.contains(&v1) {
                store.remove(&v1)?;
            }
            store.flush()?;
            Ok(())
        })();
        if result.is_err() && dirty {
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
        // A compaction under way is finished (it holds its own handle on the
        // store; cut short, it would leave work for the next one).
        if let Some(h) = self.compactor.get_mut().take() {
            let _ = h.join();
        }
    }
}
