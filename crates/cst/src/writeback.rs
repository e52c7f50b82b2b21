//! Write-behind of edited trees.
//!
//! [`Cache::edit`] reparses incrementally and keeps the live tree hot; its
//! encoding, compression and writing to the store are deferred. Until then
//! the content key is *pending*: it lives in the hot tier (served exactly
//! from the live tree, encoded on first `get`) and in `Inner::pending`,
//! which holds what writing it needs. A pending key is written
//!
//! - by `Inner::flush` ([`Cache::flush`], the drop of the last handle, the
//!   path-map flushes of `gc` and the disk budget), before the path map
//!   that names it: every key a stored path map names has its record on
//!   disk, so a reader (`open_read_only`) or a reopened cache never finds a
//!   path mapped to a missing record;
//! - when the policy moves it out of the hot tier (a demotion or a drop),
//!   under the shard lock and while it is still hot (a reader that misses
//!   it there finds it on disk), so memory stays within the budgets.
//!
//! A pending key that no path maps to any more (the intermediate version of
//! a file edited again, or of a removed path) is dropped from memory and
//! never written (decided under the exclusive content lock: at once when
//! it is free, else at the next `flush`).
//!
//! Invariants (a cache that writes to a store): every key in a memory tier
//! has its record on disk or is pending; a path map is written only after
//! every pending key it names. Lock order: the content lock, a policy
//! shard, `pending`, then the path map and the tiers (`pending` and the
//! path map are never held the other way round).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cst_grammars::Grammar;
use cst_tiers::{FrozenStore, Key};
use parking_lot::{Mutex, MutexGuard};
use rustc_hash::FxHashMap;

use crate::cache::Inner;
use crate::hot::HotEntry;
use crate::keys::StoreKey;
use crate::paths::PathRecord;
use crate::{Cache, Error};

/// An edited tree not written to the store yet.
pub(crate) struct Pending {
    pub grammar: &'static Grammar,
    /// The path it was edited as (for messages).
    pub path: PathBuf,
    /// The live tree and its source (reference-counted clones of the hot
    /// entry's: they keep it writable if a write on demotion fails).
    pub entry: HotEntry,
}

/// Pending keys, by key.
pub(crate) type PendingMap = FxHashMap<Key, Pending>;

/// The write-behind state of a cache: its pending trees, and the pending
/// keys a path moved away from that are not decided yet (dropped if no path
/// maps to them; see [`Cache::forget_superseded`]).
#[derive(Default)]
pub(crate) struct WriteBehind {
    pending: Mutex<PendingMap>,
    superseded: Mutex<Vec<Key>>,
}

impl WriteBehind {
    /// Whether `key` is an edited tree not written yet.
    pub(crate) fn is_pending(&self, key: &Key) -> bool {
        let pending = self.pending.lock();
        !pending.is_empty() && pending.contains_key(key)
    }
    /// `key` is no longer pending (written, or no path maps to it).
    pub(crate) fn discard(&self, key: &Key) {
        if self.is_pending(key) {
            self.pending.lock().remove(key);
        }
    }

    /// The pending trees, locked: while the guard lives no pending key is
    /// written by another thread, and none leaves `pending` unwritten.
    pub(crate) fn lock(&self) -> MutexGuard<'_, PendingMap> {
        self.pending.lock()
    }

    /// Pending keys an edit could not decide on.
    #[cfg(test)]
    pub(crate) fn undecided(&self) -> Vec<Key> {
        self.superseded.lock().clone()
    }
}

impl Inner {
    /// The store, when this cache may write to it.
    pub(crate) fn writable_store(&self) -> Option<&FrozenStore> {
        match &self.store {
            Some(s) if !self.read_only => Some(s),
            _ => None,
        }
    }

    /// Writes the records of a tree: its compressed source (when sources
    /// are kept) and its tree, then offers both as dictionary samples.
    pub(crate) fn write_records(
        &self,
        store: &FrozenStore,
        grammar: &'static Grammar,
        key: &Key,
        encoded: &bytes::Bytes,
        source: &[u8],
        path: &Path,
    ) -> Result<(), Error> {
        let codec = self.config.disk_codec();
        let dense = self.pack(encoded, codec, Some(grammar.id()), path)?;
        // The source first: a thread (or, after a crash, a reopened cache)
        // that finds the tree on disk must find its source too.
        if self.config.store_source {
            let packed = self.pack_source(grammar.id(), source, path)?;
            store.put(&StoreKey::Source(*key).bytes(), &packed)?;
        }
        store.put(&StoreKey::Tree(*key).bytes(), &dense)?;
        if self.config.dictionaries {
            if codec == crate::Compression::Zstd
                && self.dicts.wants(grammar.id(), crate::dicts::Kind::Tree)
                && let Ok(packed) = cst_bytecode::pack(encoded)
            {
                // Trained on what it will compress: packed trees.
                self.dicts
                    .offer(store, grammar.id(), crate::dicts::Kind::Tree, &packed);
            }
            if self.config.store_source {
                self.dicts
                    .offer(store, grammar.id(), crate::dicts::Kind::Source, source);
            }
        }
        Ok(())
    }

    /// Writes pending `key`: encoded (unless a reader already encoded it),
    /// compressed and put in the store. Returns the encoded tree.
    fn persist(&self, store: &FrozenStore, key: &Key, p: &Pending) -> Result<bytes::Bytes, Error> {
        let hot = &self.placement.hot;
        let kept = match hot.contains(key) {
            true => hot.get_with(key, |e| e.encoded.clone()).flatten(),
            false => None,
        };
        let encoded = match kept.or_else(|| p.entry.encoded.clone()) {
            Some(e) => e,
            None => bytes::Bytes::from(
                crate::codec::encode_exact(
                    p.grammar,
                    &p.entry.tree,
                    &p.entry.source,
                    p.entry.incremental,
                )?
                .1,
            ),
        };
        self.write_records(store, p.grammar, key, &encoded, &p.entry.source, &p.path)?;
        Ok(encoded)
    }

    /// A hot entry is about to leave the hot tier (demoted or dropped, under
    /// its policy shard's lock): written first if it is pending, while it is
    /// still hot. Returns its encoded tree when writing made one. A failed
    /// write is logged and the key stays pending (its tree held by the
    /// pending entry) for the next flush, which reports the error.
    pub(crate) fn settle(&self, key: &Key) -> Option<bytes::Bytes> {
        if !self.writeback.is_pending(key) {
            return None;
        }
        let store = self.writable_store()?;
        let mut pending = self.writeback.lock();
        let p = pending.get(key)?;
        match self.persist(store, key, p) {
            Ok(encoded) => {
                pending.remove(key);
                Some(encoded)
            }
            Err(e) => {
                tracing::warn!(path = %p.path.display(), error = %e,
                    "an edited tree leaving memory could not be written: kept for the next flush");
                None
            }
        }
    }

    /// Writes every pending key that a path maps to, in `entries` (the path
    /// map about to be written) or, without them, in the map now. Called by
    /// `flush` with `pending` locked, so no key it finds unpending is being
    /// written by another thread.
    pub(crate) fn persist_named(
        &self,
        store: &FrozenStore,
        pending: &mut PendingMap,
        entries: Option<&[(PathBuf, PathRecord)]>,
    ) -> Result<(), Error> {
        if pending.is_empty() {
            return Ok(());
        }
        let named: Vec<Key> = match entries {
            Some(entries) => {
                let mut seen = rustc_hash::FxHashSet::default();
                entries
                    .iter()
                    .map(|(_, r)| r.key)
                    .filter(|k| pending.contains_key(k) && seen.insert(*k))
                    .collect()
            }
            None => {
                let paths = self.paths.read();
                pending
                    .keys()
                    .filter(|k| paths.is_referenced(k))
                    .copied()
                    .collect()
            }
        };
        for key in named {
            let p = pending.get(&key).expect("a pending key");
            self.persist(store, &key, p)?;
            pending.remove(&key);
        }
        Ok(())
    }
}

impl Cache {
    /// Keeps the tree of an edit: hot, with its source, and pending (not
    /// written) unless the store holds its content already. Nothing is
    /// encoded, compressed or written here (unless the policy moves a
    /// pending tree out of the hot tier to make room). Called under the
    /// content lock (shared), before the path is mapped to `key`.
    pub(crate) fn keep_edited(
        &self,
        path: &Path,
        grammar: &'static Grammar,
        key: Key,
        tree: tree_sitter::Tree,
        source: Arc<[u8]>,
        incremental: bool,
    ) -> Result<(), Error> {
        self.inner.counters.parsed();
        self.inner.languages.write().insert(key, grammar.id());
        if self.inner.config.store_source {
            self.inner.sources.write().insert(key, source.clone());
        }
        let entry = HotEntry::new(tree, source).incremental(incremental);
        if let Some(store) = self.inner.writable_store()
            && !store.contains(&StoreKey::Tree(key).bytes())
        {
            self.inner.writeback.pending.lock().insert(
                key,
                Pending {
                    grammar,
                    path: path.to_path_buf(),
                    entry: entry.clone(),
                },
            );
        }
        self.admit_hot(key, entry)
    }

    /// After a path was mapped away from `replaced` (to `now`): a pending
    /// key no path maps to any more is an intermediate version of an edited
    /// file, dropped from memory and never written. Decided under the
    /// exclusive content lock, as `remove` decides, so no thread maps a path
    /// to it meanwhile; taken without waiting (an edit does not wait for an
    /// index run's inserts): when it is busy, the key is decided by the next
    /// edit that gets it, or by [`Cache::flush`].
    pub(crate) fn forget_superseded(&self, replaced: Option<PathRecord>, now: &Key) {
        let Some(old) = replaced.filter(|r| r.key != *now) else {
            return;
        };
        let writeback = &self.inner.writeback;
        if !writeback.is_pending(&old.key) {
            return;
        }
        match self.inner.content.try_write() {
            Some(_deciding) => {
                let mut keys = std::mem::take(&mut *writeback.superseded.lock());
                keys.push(old.key);
                self.drop_unmapped(keys);
            }
            None => writeback.superseded.lock().push(old.key),
        }
    }

    /// Decides the superseded keys left undecided (see
    /// [`Cache::forget_superseded`]), waiting for the content lock.
    pub(crate) fn forget_superseded_later(&self) {
        let writeback = &self.inner.writeback;
        if writeback.superseded.lock().is_empty() {
            return;
        }
        let _deciding = self.inner.content.write();
        let keys = std::mem::take(&mut *writeback.superseded.lock());
        self.drop_unmapped(keys);
    }

    /// Drops from memory the pending keys of `keys` no path maps to. Under
    /// the exclusive content lock.
    fn drop_unmapped(&self, keys: Vec<Key>) {
        // (Pending first, then the map: never one lock inside the other.)
        let pending: Vec<Key> = keys
            .into_iter()
            .filter(|k| self.inner.writeback.is_pending(k))
            .collect();
        if pending.is_empty() {
            return;
        }
        let unmapped: Vec<Key> = {
            let paths = self.inner.paths.read();
            pending
                .into_iter()
                .filter(|k| !paths.is_referenced(k))
                .collect()
        };
        for key in unmapped {
            self.drop_from_memory(&key);
        }
    }

    /// Keeps `encoded` beside the live tree of hot `key` (made by a reader
    /// of an edited tree), so later readers and the write need not encode
    /// again; its weight goes to the policy.
    pub(crate) fn keep_encoded(
        &self,
        key: &Key,
        tree: tree_sitter::Tree,
        source: Arc<[u8]>,
        encoded: bytes::Bytes,
    ) -> Result<(), Error> {
        let entry = HotEntry::new(tree, source).with_encoded(encoded);
        self.inner
            .placement
            .replace_unencoded_hot(key, entry, &*self.inner)
    }
}

#[cfg(test)]
mod tests {
    use crate::keys::tree_key;
    use crate::{Cache, Config};

    fn edit_of(old: &[u8], new: &[u8]) -> tree_sitter::InputEdit {
        // Whole-text replacement (the sources differ in one place).
        let p = |s: &[u8]| tree_sitter::Point {
            row: s.iter().filter(|&&b| b == b'\n').count(),
            column: s.len() - s.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1),
        };
        tree_sitter::InputEdit {
            start_byte: 0,
            old_end_byte: old.len(),
            new_end_byte: new.len(),
            start_position: p(b""),
            old_end_position: p(old),
            new_end_position: p(new),
        }
    }

    /// An edit does not wait for the content lock to drop the version it
    /// superseded: a busy lock leaves the decision to the next flush, which
    /// drops it unwritten.
    #[test]
    fn superseded_versions_are_decided_by_flush_when_the_lock_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), Config::default()).unwrap();
        let g = cst_grammars::by_id("rust").unwrap();
        let key = |s: &[u8]| tree_key(s, "rust", g.fingerprint().unwrap().0, cst_bytecode::VERSION);
        let v: Vec<Vec<u8>> = (0..3)
            .map(|i| format!("fn f{i}() {{ let x = {i}; }}\n").into_bytes())
            .collect();
        let path = std::path::Path::new("/ws/lib.rs");
        cache.insert(path, v[0].clone()).unwrap();
        cache.flush().unwrap();
        {
            // A reader holds the content lock: the edits cannot decide.
            let _reading = cache.inner.content.read();
            cache
                .edit(path, &edit_of(&v[0], &v[1]), v[1].clone())
                .unwrap();
            cache
                .edit(path, &edit_of(&v[1], &v[2]), v[2].clone())
                .unwrap();
        }
        assert!(cache.inner.writeback.is_pending(&key(&v[1])));
        assert!(cache.inner.writeback.is_pending(&key(&v[2])));
        assert_eq!(cache.inner.writeback.undecided(), vec![key(&v[1])]);
        let store = cache.inner.store.clone().unwrap();
        assert!(!store.contains(key(&v[2]).as_bytes()));
        cache.flush().unwrap();
        assert!(cache.inner.writeback.undecided().is_empty());
        assert!(cache.inner.writeback.lock().is_empty());
        assert!(store.contains(key(&v[0]).as_bytes()));
        assert!(
            !store.contains(key(&v[1]).as_bytes()),
            "superseded: not written"
        );
        assert!(store.contains(key(&v[2]).as_bytes()));
        assert!(
            !cache.inner.placement.holds(&key(&v[1])),
            "and not in memory"
        );
        let tree = cache.get(path).unwrap().unwrap();
        assert_eq!(tree.source(), Some(&v[2][..]));
    }
}
