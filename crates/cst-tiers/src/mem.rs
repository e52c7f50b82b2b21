//! In-memory tiers: values counted by weight (warm and cold hold `Bytes`,
//! hot holds live trees).

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::RwLock;
use rustc_hash::FxHashMap;

use crate::TierStats;

/// What a value weighs in its tier's accounting.
pub trait Weigh: Clone {
    /// Accounted bytes.
    fn weight(&self) -> u64;
}

impl Weigh for Bytes {
    fn weight(&self) -> u64 {
        self.len() as u64
    }
}

/// An in-memory tier. Readers share a lock and get a clone of the value
/// (`Bytes` clones, and the facade's live trees, are reference-count increments),
/// so the lock is never held while a value is used.
pub struct MemTier<K, V = Bytes> {
    map: RwLock<FxHashMap<K, V>>,
    bytes: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K: Hash + Eq + Clone, V: Weigh> Default for MemTier<K, V> {
    fn default() -> Self {
        MemTier {
            map: RwLock::new(FxHashMap::default()),
            bytes: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Weigh> MemTier<K, V> {
    /// An empty tier.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value under `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        let v = self.map.read().get(key).cloned();
        let counter = if v.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        v
    }

    /// `f` of the value under `key`, without cloning the value (a live
    /// tree's clone allocates); counted as a lookup.
    pub fn get_with<T>(&self, key: &K, f: impl FnOnce(&V) -> T) -> Option<T> {
        let v = self.map.read().get(key).map(f);
        let counter = if v.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        v
    }

    /// Whether `key` is held (not counted as a lookup).
    pub fn contains(&self, key: &K) -> bool {
        self.map.read().contains_key(key)
    }

    /// Stores `value`; returns the value it replaced.
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        let added = value.weight();
        let old = self.map.write().insert(key, value);
        self.bytes.fetch_add(added, Ordering::Relaxed);
        if let Some(o) = &old {
            self.bytes.fetch_sub(o.weight(), Ordering::Relaxed);
        }
        old
    }

    /// Removes and returns the value under `key`.
    pub fn remove(&self, key: &K) -> Option<V> {
        let old = self.map.write().remove(key);
        if let Some(o) = &old {
            self.bytes.fetch_sub(o.weight(), Ordering::Relaxed);
        }
        old
    }

    /// Accounted bytes (sum of weights).
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.read().len()
    }

    /// Whether the tier is empty.
    pub fn is_empty(&self) -> bool {
        self.map.read().is_empty()
    }

    /// Counters.
    pub fn stats(&self) -> TierStats {
        TierStats {
            entries: self.len() as u64,
            bytes: self.bytes(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            ..TierStats::default()
        }
    }
}
