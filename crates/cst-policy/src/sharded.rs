//! A sharded, thread-safe wrapper: one mutex per shard, shard chosen by key
//! hash, so concurrent readers of different keys are not serialized on one
//! global lock.

use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;

use parking_lot::Mutex;
use rustc_hash::FxBuildHasher;

use crate::{Eviction, Policy};

/// `shards` independent policies, each with an equal share of the capacity.
///
/// Every operation locks exactly one shard for the duration of the call;
/// evictions are collected under the lock and handed back after it is
/// released, so the caller frees (or demotes) them outside any lock. An
/// entry heavier than one shard's capacity is not admitted.
pub struct Sharded<K, P> {
    shards: Box<[Mutex<P>]>,
    _key: PhantomData<fn(K)>,
}

impl<K: Hash + Eq + Clone, P: Policy<K>> Sharded<K, P> {
    /// `shards` shards (rounded up to a power of two, at least 1) sharing
    /// `capacity` bytes.
    pub fn new(capacity: u64, shards: usize) -> Self {
        let n = shards.max(1).next_power_of_two();
        let per = capacity / n as u64;
        let extra = capacity % n as u64;
        let shards = (0..n as u64)
            .map(|i| Mutex::new(P::with_capacity(per + u64::from(i < extra))))
            .collect();
        Sharded {
            shards,
            _key: PhantomData,
        }
    }

    #[inline]
    fn shard(&self, key: &K) -> &Mutex<P> {
        // Remix the hash so the shard index does not correlate with the bits
        // each shard's own hash table uses.
        let mut h = FxBuildHasher.hash_one(key);
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        &self.shards[(h as usize) & (self.shards.len() - 1)]
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.shards.len()
    }

    /// Look `key` up (records the hit); locks one shard.
    #[inline]
    pub fn access(&self, key: &K) -> bool {
        self.shard(key).lock().access(key)
    }

    /// True if `key` is resident (not an access).
    pub fn contains(&self, key: &K) -> bool {
        self.shard(key).lock().contains(key)
    }

    /// Admit `key` with `weight`; returns what left, after the lock is
    /// released.
    pub fn insert(&self, key: K, weight: u64) -> Vec<Eviction<K>> {
        let mut evicted = Vec::new();
        self.shard(&key).lock().insert(key, weight, &mut evicted);
        evicted
    }

    /// Remove `key`; returns its weight.
    pub fn remove(&self, key: &K) -> Option<u64> {
        self.shard(key).lock().remove(key)
    }

    /// Bytes resident over all shards (locks each in turn).
    pub fn used(&self) -> u64 {
        self.shards.iter().map(|s| s.lock().used()).sum()
    }

    /// Entries resident over all shards (locks each in turn).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    /// True if no shard holds anything.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total capacity in bytes.
    pub fn capacity(&self) -> u64 {
        self.shards.iter().map(|s| s.lock().capacity()).sum()
    }
}
