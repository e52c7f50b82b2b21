//! S3-FIFO (Yang et al., SOSP'23), weighted by bytes: the default policy.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::arena::{Arena, List};
use crate::{Eviction, MAX_CAPACITY, Policy};

const SMALL: u8 = 0;
const MAIN: u8 = 1;

/// Parameters of [`S3Fifo`]. The defaults are the tuned values documented in
/// the crate docs ("Choosing S3-FIFO's parameters").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct S3FifoConfig {
    /// Share of the capacity (bytes) given to the small (probationary) FIFO.
    pub small_ratio: f64,
    /// Keys the ghost remembers, as a multiple of the number of resident
    /// entries.
    pub ghost_ratio: f64,
    /// Cap of the per-entry access counter (3 = two bits).
    pub max_freq: u8,
    /// Hits an entry needs while in the small FIFO to move to the main FIFO
    /// instead of being evicted (2 = the paper's `freq > 1`).
    pub promote_threshold: u8,
}

impl Default for S3FifoConfig {
    fn default() -> Self {
        S3FifoConfig {
            small_ratio: 0.10,
            ghost_ratio: 1.10,
            max_freq: 3,
            promote_threshold: 2,
        }
    }
}

/// Keys recently evicted from the small FIFO, remembered by a 32-bit
/// fingerprint only (no key is kept alive), in a set-associative table of
/// 64-byte buckets of `WAYS` slots.
///
/// Each slot holds a fingerprint and a stamp, the ghost clock (keys pushed
/// so far, wrapping) when it was pushed; an entry is live while fewer than
/// `limit` keys have been pushed after it, which makes the ghost a FIFO of
/// the last `limit` keys. A push into a full bucket overwrites its oldest
/// slot, so an entry may be forgotten early when its bucket is crowded; the
/// table keeps at least two slots per remembered key to make that rare. A
/// push or a lookup touches one cache line and never allocates (except to
/// grow the table), and nothing is removed in a separate pass.
struct Ghost {
    slots: Vec<Slot>,
    /// Buckets − 1 (a power of two minus one).
    mask: usize,
    clock: u32,
    limit: u32,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    /// Fingerprint `| 1`; 0 marks an empty slot.
    tag: u32,
    stamp: u32,
}

const WAYS: usize = 8;

impl Ghost {
    fn new() -> Self {
        Ghost {
            slots: Vec::new(),
            mask: 0,
            clock: 0,
            limit: 0,
        }
    }

    /// Bucket start and tag of a key hash. The bucket is a function of the
    /// tag alone, so the table can grow without the keys' hashes.
    #[inline]
    fn locate(&self, hash: u64) -> (usize, u32) {
        let tag = (hash >> 32) as u32 | 1;
        (self.bucket_of(tag), tag)
    }

    #[inline]
    fn bucket_of(&self, tag: u32) -> usize {
        ((u64::from(tag).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & self.mask) * WAYS
    }

    #[inline]
    fn live(&self, s: &Slot) -> bool {
        s.tag != 0 && self.clock.wrapping_sub(s.stamp) < self.limit
    }

    /// True if `hash` is remembered (for tests).
    fn contains(&self, hash: u64) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let (b, tag) = self.locate(hash);
        self.slots[b..b + WAYS]
            .iter()
            .any(|s| s.tag == tag && self.live(s))
    }

    /// Forget `hash`; true if it was remembered.
    #[inline]
    fn take(&mut self, hash: u64) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let (b, tag) = self.locate(hash);
        let (clock, limit) = (self.clock, self.limit);
        for s in &mut self.slots[b..b + WAYS] {
            if s.tag == tag {
                s.tag = 0;
                return clock.wrapping_sub(s.stamp) < limit;
            }
        }
        false
    }

    /// Remember `hash`; the ghost spans the last `limit` keys pushed.
    fn push(&mut self, hash: u64, limit: usize) {
        self.limit = u32::try_from(limit)
            .unwrap_or(u32::MAX >> 1)
            .min(u32::MAX >> 1);
        if self.limit == 0 {
            return;
        }
        if self.slots.len() < 2 * limit.max(WAYS) {
            self.grow(2 * limit.max(WAYS));
        }
        self.clock = self.clock.wrapping_add(1);
        let (b, tag) = self.locate(hash);
        let mut pick = b;
        let mut oldest = 0;
        for i in b..b + WAYS {
            let s = self.slots[i];
            if s.tag == tag || !self.live(&s) {
                pick = i;
                break;
            }
            let age = self.clock.wrapping_sub(s.stamp);
            if age > oldest {
                oldest = age;
                pick = i;
            }
        }
        self.slots[pick] = Slot {
            tag,
            stamp: self.clock,
        };
    }

    fn grow(&mut self, min_slots: usize) {
        let buckets = min_slots.div_ceil(WAYS).next_power_of_two();
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); buckets * WAYS]);
        self.mask = buckets - 1;
        for s in old {
            if self.live(&s) {
                let b = self.bucket_of(s.tag);
                if let Some(slot) = self.slots[b..b + WAYS].iter_mut().find(|t| t.tag == 0) {
                    *slot = s;
                }
            }
        }
    }
}

/// S3-FIFO: a small FIFO where new entries prove themselves, a main FIFO
/// with a small access counter per entry (CLOCK-like reinsertion), and a
/// ghost FIFO of recently evicted keys.
///
/// - A new key enters the small FIFO, unless the ghost remembers it: then it
///   goes straight to main.
/// - A hit only bumps the entry's counter (capped at `max_freq`); nothing
///   moves, so the hit path is a hash lookup and a byte store.
/// - To make room: while the small FIFO holds more than its share, its oldest
///   entry either moves to main (counter ≥ `promote_threshold`) or leaves,
///   remembered by the ghost. Otherwise main's oldest entry is reinserted with
///   its counter decremented if the counter is non-zero, else evicted.
///
/// One-hit wonders therefore leave after a short stay in the small FIFO
/// ("quick demotion"), which is what makes S3-FIFO scan-resistant.
pub struct S3Fifo<K> {
    /// Arena index of every resident key, hashed by the key (4 bytes per
    /// entry: the table stays small enough to sit in cache, and a key is
    /// stored once, in the arena).
    map: HashTable<u32>,
    arena: Arena<K>,
    small: List,
    main: List,
    ghost: Ghost,
    capacity: u64,
    small_target: u64,
    cfg: S3FifoConfig,
}

impl<K: Hash + Eq + Clone> S3Fifo<K> {
    /// An empty S3-FIFO of `capacity` bytes with the default parameters.
    pub fn new(capacity: u64) -> Self {
        Self::with_config(capacity, S3FifoConfig::default())
    }

    /// An empty S3-FIFO of `capacity` bytes (at most [`MAX_CAPACITY`]) with
    /// explicit parameters.
    pub fn with_config(capacity: u64, cfg: S3FifoConfig) -> Self {
        let capacity = capacity.min(MAX_CAPACITY);
        let hint = capacity.min(1 << 16) as usize;
        let mut s = S3Fifo {
            map: HashTable::with_capacity(hint),
            arena: Arena::with_capacity(hint),
            small: List::default(),
            main: List::default(),
            ghost: Ghost::new(),
            capacity,
            small_target: 0,
            cfg,
        };
        s.set_targets();
        s
    }

    /// The parameters in use.
    pub fn config(&self) -> S3FifoConfig {
        self.cfg
    }

    fn set_targets(&mut self) {
        let c = self.capacity as f64;
        self.small_target = (c * self.cfg.small_ratio) as u64;
    }

    #[inline]
    fn hash(key: &K) -> u64 {
        FxBuildHasher.hash_one(key)
    }

    /// Arena index of `key` (whose hash is `hash`), if resident.
    #[inline]
    fn find(&self, hash: u64, key: &K) -> Option<u32> {
        let arena = &self.arena;
        self.map.find(hash, |&i| arena.key(i) == key).copied()
    }

    /// Forget arena index `i` (whose key hashes to `hash`) in the map.
    #[inline]
    fn unmap(&mut self, hash: u64, i: u32) {
        if let Ok(e) = self.map.find_entry(hash, |&j| j == i) {
            e.remove();
        }
    }

    /// True if `key` is resident in the main FIFO (for tests).
    pub fn in_main(&self, key: &K) -> bool {
        self.find(Self::hash(key), key)
            .is_some_and(|i| self.arena.get(i).queue == MAIN)
    }

    /// True if the ghost remembers `key` (for tests).
    pub fn in_ghost(&self, key: &K) -> bool {
        self.ghost.contains(Self::hash(key))
    }

    fn evict_node(&mut self, i: u32, hash: u64, evicted: &mut Vec<Eviction<K>>) {
        self.unmap(hash, i);
        let weight = self.arena.get(i).weight;
        let key = self.arena.free(i);
        evicted.push(Eviction { key, weight });
    }

    /// One step of eviction from the small FIFO: promote or evict its oldest.
    fn step_small(&mut self, evicted: &mut Vec<Eviction<K>>) {
        let i = self.small.tail().expect("small FIFO is not empty");
        self.arena.unlink(&mut self.small, i);
        let n = self.arena.get_mut(i);
        if n.freq >= self.cfg.promote_threshold {
            n.freq = 0;
            n.queue = MAIN;
            self.arena.push_front(&mut self.main, i);
        } else {
            let h = Self::hash(self.arena.key(i));
            let limit = (self.map.len() as f64 * self.cfg.ghost_ratio) as usize;
            self.ghost.push(h, limit);
            self.evict_node(i, h, evicted);
        }
    }

    /// One step of eviction from the main FIFO: reinsert or evict its oldest.
    fn step_main(&mut self, evicted: &mut Vec<Eviction<K>>) {
        let i = self.main.tail().expect("main FIFO is not empty");
        let n = self.arena.get_mut(i);
        if n.freq > 0 {
            n.freq -= 1;
            self.arena.move_to_front(&mut self.main, i);
        } else {
            self.arena.unlink(&mut self.main, i);
            let h = Self::hash(self.arena.key(i));
            self.evict_node(i, h, evicted);
        }
    }

    fn make_room(&mut self, incoming: u64, evicted: &mut Vec<Eviction<K>>) {
        while self.small.weight + self.main.weight + incoming > self.capacity {
            if !self.small.is_empty()
                && (self.small.weight > self.small_target || self.main.is_empty())
            {
                self.step_small(evicted);
            } else {
                self.step_main(evicted);
            }
        }
    }

    #[inline]
    fn list_of(&mut self, queue: u8) -> &mut List {
        if queue == SMALL {
            &mut self.small
        } else {
            &mut self.main
        }
    }
}

impl<K: Hash + Eq + Clone> Policy<K> for S3Fifo<K> {
    fn with_capacity(capacity: u64) -> Self {
        S3Fifo::new(capacity)
    }

    fn name(&self) -> &'static str {
        "s3fifo"
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn set_capacity(&mut self, capacity: u64, evicted: &mut Vec<Eviction<K>>) {
        self.capacity = capacity.min(MAX_CAPACITY);
        self.set_targets();
        self.make_room(0, evicted);
    }

    fn used(&self) -> u64 {
        self.small.weight + self.main.weight
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn contains(&self, key: &K) -> bool {
        self.find(Self::hash(key), key).is_some()
    }

    fn weight_of(&self, key: &K) -> Option<u64> {
        self.find(Self::hash(key), key)
            .map(|i| self.arena.get(i).weight)
    }

    #[inline]
    fn access(&mut self, key: &K) -> bool {
        match self.find(Self::hash(key), key) {
            Some(i) => {
                let n = self.arena.get_mut(i);
                if n.freq < self.cfg.max_freq {
                    n.freq += 1;
                }
                true
            }
            None => false,
        }
    }

    fn insert(&mut self, key: K, weight: u64, evicted: &mut Vec<Eviction<K>>) {
        let hash = Self::hash(&key);
        if let Some(i) = self.find(hash, &key) {
            if weight > self.capacity {
                self.remove(&key);
                evicted.push(Eviction { key, weight });
                return;
            }
            let queue = self.arena.get(i).queue;
            let mut list = *self.list_of(queue);
            self.arena.set_weight(&mut list, i, weight);
            *self.list_of(queue) = list;
            self.access(&key);
            // The entry may itself be evicted if it is the oldest: then it is
            // reported like any other eviction.
            self.make_room(0, evicted);
            return;
        }
        if weight > self.capacity {
            evicted.push(Eviction { key, weight });
            return;
        }
        let to_main = self.ghost.take(hash);
        self.make_room(weight, evicted);
        let queue = if to_main { MAIN } else { SMALL };
        let i = self.arena.alloc(key, weight, queue);
        let mut list = *self.list_of(queue);
        self.arena.push_front(&mut list, i);
        *self.list_of(queue) = list;
        let arena = &self.arena;
        self.map
            .insert_unique(hash, i, |&j| Self::hash(arena.key(j)));
    }

    fn remove(&mut self, key: &K) -> Option<u64> {
        let hash = Self::hash(key);
        let i = self.find(hash, key)?;
        self.unmap(hash, i);
        let queue = self.arena.get(i).queue;
        let mut list = *self.list_of(queue);
        self.arena.unlink(&mut list, i);
        *self.list_of(queue) = list;
        let w = self.arena.get(i).weight;
        self.arena.free(i);
        Some(w)
    }
}
