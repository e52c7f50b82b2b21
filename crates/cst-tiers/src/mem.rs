//! Warm and cold tiers: opaque byte values in memory, counted exactly.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::RwLock;
use rustc_hash::FxHashMap;

use crate::TierStats;

/// An in-memory tier of byte values (the warm tier holds encoded trees, the
/// cold tier compressed ones). Readers share a lock; values are `Bytes`, so
/// a get is a reference-count increment.
pub struct MemTier<K> {
    map: RwLock<FxHashMap<K, Bytes>>,
    bytes: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K: Hash + Eq + Clone> Default for MemTier<K> {
    fn default() -> Self {
        MemTier {
            map: RwLock::new(FxHashMap::default()),
            bytes: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl<K: Hash + Eq + Clone> MemTier<K> {
    /// An empty tier.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value under `key`.
    pub fn get(&self, key: &K) -> Option<Bytes> {
        let v = self.map.read().get(key).cloned();
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
    pub fn insert(&self, key: K, value: Bytes) -> Option<Bytes> {
        let len = value.len() as u64;
        let old = self.map.write().insert(key, value);
        self.bytes.fetch_add(len, Ordering::Relaxed);
        if let Some(o) = &old {
            self.bytes.fetch_sub(o.len() as u64, Ordering::Relaxed);
        }
        old
    }

    /// Removes and returns the value under `key`.
    pub fn remove(&self, key: &K) -> Option<Bytes> {
        let old = self.map.write().remove(key);
        if let Some(o) = &old {
            self.bytes.fetch_sub(o.len() as u64, Ordering::Relaxed);
        }
        old
    }

    /// Bytes held (sum of value lengths).
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
            checksum_failures: 0,
        }
    }
}
