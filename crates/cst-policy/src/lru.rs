//! Exact least-recently-used replacement, weighted by bytes.

use std::hash::Hash;

use rustc_hash::FxHashMap;

use crate::arena::{Arena, List};
use crate::{Eviction, MAX_CAPACITY, Policy};

/// Exact LRU: a hit moves the entry to the most-recently-used end; room is
/// made by evicting from the least-recently-used end until the new entry fits.
///
/// The comparator of the simulator: with unit weights it reproduces the
/// published LRU hit ratios of the ARC traces to the last digit.
pub struct Lru<K> {
    map: FxHashMap<K, u32>,
    arena: Arena<K>,
    list: List,
    capacity: u64,
}

impl<K: Hash + Eq + Clone> Lru<K> {
    /// An empty LRU holding at most `capacity` bytes (at most
    /// [`MAX_CAPACITY`]).
    pub fn new(capacity: u64) -> Self {
        let capacity = capacity.min(MAX_CAPACITY);
        let hint = capacity.min(1 << 16) as usize;
        Lru {
            map: FxHashMap::with_capacity_and_hasher(hint, Default::default()),
            arena: Arena::with_capacity(hint),
            list: List::default(),
            capacity,
        }
    }

    fn evict_one(&mut self, evicted: &mut Vec<Eviction<K>>) {
        let i = self.list.tail().expect("evicting from an empty LRU");
        self.arena.unlink(&mut self.list, i);
        let weight = self.arena.get(i).weight;
        let key = self.arena.free(i);
        self.map.remove(&key);
        evicted.push(Eviction { key, weight });
    }

    fn make_room(&mut self, incoming: u64, evicted: &mut Vec<Eviction<K>>) {
        while self.list.weight + incoming > self.capacity {
            self.evict_one(evicted);
        }
    }

    /// Keys from least to most recently used (for tests and debugging).
    pub fn keys_lru_first(&self) -> impl Iterator<Item = &K> + '_ {
        self.arena
            .iter_oldest_first(&self.list)
            .map(|i| self.arena.key(i))
    }
}

impl<K: Hash + Eq + Clone> Policy<K> for Lru<K> {
    fn with_capacity(capacity: u64) -> Self {
        Lru::new(capacity)
    }

    fn name(&self) -> &'static str {
        "lru"
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn set_capacity(&mut self, capacity: u64, evicted: &mut Vec<Eviction<K>>) {
        self.capacity = capacity.min(MAX_CAPACITY);
        self.make_room(0, evicted);
    }

    fn used(&self) -> u64 {
        self.list.weight
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn contains(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    fn weight_of(&self, key: &K) -> Option<u64> {
        self.map.get(key).map(|&i| self.arena.get(i).weight)
    }

    #[inline]
    fn access(&mut self, key: &K) -> bool {
        match self.map.get(key) {
            Some(&i) => {
                self.arena.move_to_front(&mut self.list, i);
                true
            }
            None => false,
        }
    }

    fn insert(&mut self, key: K, weight: u64, evicted: &mut Vec<Eviction<K>>) {
        if let Some(&i) = self.map.get(&key) {
            if weight > self.capacity {
                // Refused before it is weighed in: the list's sum stays
                // within twice the capacity, which cannot overflow.
                self.remove(&key);
                evicted.push(Eviction { key, weight });
            } else {
                self.arena.set_weight(&mut self.list, i, weight);
                self.arena.move_to_front(&mut self.list, i);
                // Never evicts the entry itself: it is the newest and fits.
                self.make_room(0, evicted);
            }
            return;
        }
        if weight > self.capacity {
            evicted.push(Eviction { key, weight });
            return;
        }
        self.make_room(weight, evicted);
        let i = self.arena.alloc(key.clone(), weight, 0);
        self.arena.push_front(&mut self.list, i);
        self.map.insert(key, i);
    }

    fn remove(&mut self, key: &K) -> Option<u64> {
        let i = self.map.remove(key)?;
        self.arena.unlink(&mut self.list, i);
        let w = self.arena.get(i).weight;
        self.arena.free(i);
        Some(w)
    }
}
