//! Maintenance: flushing, the path map's loading, verification, garbage
//! collection.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use cst_tiers::{FrozenStore, Key};

use crate::cache::Inner;
use crate::paths::{OpenReport, PATHS_KEY_V1, PATHS_KEYS, PathMapStatus, PathRecord};
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
    pub(crate) fn drop_from_memory(&self, key: &Key) {
        self.policy(key).lock().remove(key);
        self.inner.hot.remove(key);
        self.inner.warm.remove(key);
        self.inner.cold.remove(key);
        self.inner.sources.write().remove(key);
        self.inner.languages.write().remove(key);
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
    pub(crate) fn load_paths(&self) -> Result<(PathMapStatus, u64, u64), Error> {
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
    pub(crate) fn flush(&self) -> Result<(), Error> {
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
