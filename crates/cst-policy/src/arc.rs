//! ARC (Megiddo & Modha, FAST'03), generalised to byte weights.

use std::hash::Hash;

use rustc_hash::FxHashMap;

use crate::arena::{Arena, List};
use crate::{Eviction, MAX_CAPACITY, Policy};

const T1: u8 = 0;
const T2: u8 = 1;
const B1: u8 = 2;
const B2: u8 = 3;

/// Adaptive Replacement Cache.
///
/// Resident lists T1 (seen once recently) and T2 (seen at least twice), ghost
/// lists B1 and B2 of keys recently evicted from each, and a target `p` for
/// T1's share that a ghost hit moves: a B1 hit grows `p`, a B2 hit shrinks
/// it. All sizes are bytes; with unit weights this is exactly the algorithm
/// of the paper's Figure 4 (with `p` real-valued, as there), and the
/// simulator reproduces its published OLTP figures.
///
/// Weighted generalisation: list sizes are byte sums, `p` moves by the
/// paper's ratio times the weight of the entry that hit the ghost, and
/// `REPLACE` runs until the incoming entry fits.
pub struct Arc<K> {
    map: FxHashMap<K, u32>,
    arena: Arena<K>,
    lists: [List; 4],
    p: f64,
    capacity: u64,
}

impl<K: Hash + Eq + Clone> Arc<K> {
    /// An empty ARC holding at most `capacity` bytes (at most
    /// [`MAX_CAPACITY`], so that the directory's `2 × capacity` and every
    /// sum of list weights fit in a `u64`).
    pub fn new(capacity: u64) -> Self {
        let capacity = capacity.min(MAX_CAPACITY);
        let hint = capacity.min(1 << 16) as usize;
        Arc {
            map: FxHashMap::with_capacity_and_hasher(hint, Default::default()),
            arena: Arena::with_capacity(hint),
            lists: [List::default(); 4],
            p: 0.0,
            capacity,
        }
    }

    /// The current target size of T1, in bytes (for tests).
    pub fn target_t1(&self) -> f64 {
        self.p
    }

    #[inline]
    fn w(&self, l: u8) -> u64 {
        self.lists[l as usize].weight
    }

    fn resident(&self) -> u64 {
        self.w(T1) + self.w(T2)
    }

    fn relink(&mut self, i: u32, to: u8) {
        let from = self.arena.get(i).queue;
        self.arena.unlink(&mut self.lists[from as usize], i);
        self.arena.get_mut(i).queue = to;
        self.arena.push_front(&mut self.lists[to as usize], i);
    }

    /// Forget the oldest key of ghost list `l`.
    fn drop_ghost(&mut self, l: u8) {
        let i = self.lists[l as usize].tail().expect("ghost list not empty");
        self.arena.unlink(&mut self.lists[l as usize], i);
        let key = self.arena.free(i);
        self.map.remove(&key);
    }

    /// Evict the oldest entry of resident list `l` entirely (no ghost).
    fn evict_resident(&mut self, l: u8, evicted: &mut Vec<Eviction<K>>) {
        let i = self.lists[l as usize]
            .tail()
            .expect("resident list not empty");
        self.arena.unlink(&mut self.lists[l as usize], i);
        let weight = self.arena.get(i).weight;
        let key = self.arena.free(i);
        self.map.remove(&key);
        evicted.push(Eviction { key, weight });
    }

    /// The paper's REPLACE: move the LRU of T1 or T2 to its ghost list.
    fn replace(&mut self, in_b2: bool, evicted: &mut Vec<Eviction<K>>) {
        let t1 = self.w(T1) as f64;
        let from_t1 = !self.lists[T1 as usize].is_empty()
            && ((in_b2 && t1 == self.p) || t1 > self.p || self.lists[T2 as usize].is_empty());
        let (from, to) = if from_t1 { (T1, B1) } else { (T2, B2) };
        let i = self.lists[from as usize]
            .tail()
            .expect("resident list not empty");
        let weight = self.arena.get(i).weight;
        evicted.push(Eviction {
            key: self.arena.key(i).clone(),
            weight,
        });
        self.relink(i, to);
    }

    fn replace_until_fits(&mut self, incoming: u64, in_b2: bool, evicted: &mut Vec<Eviction<K>>) {
        while self.resident() + incoming > self.capacity {
            self.replace(in_b2, evicted);
        }
    }

    /// Trim ghost lists so the directory stays within twice the capacity.
    fn bound_ghosts(&mut self) {
        let c = self.capacity;
        while self.w(T1) + self.w(B1) > c && !self.lists[B1 as usize].is_empty() {
            self.drop_ghost(B1);
        }
        while self.resident() + self.w(B1) + self.w(B2) > 2 * c
            && !self.lists[B2 as usize].is_empty()
        {
            self.drop_ghost(B2);
        }
    }
}

impl<K: Hash + Eq + Clone> Policy<K> for Arc<K> {
    fn with_capacity(capacity: u64) -> Self {
        Arc::new(capacity)
    }

    fn name(&self) -> &'static str {
        "arc"
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn set_capacity(&mut self, capacity: u64, evicted: &mut Vec<Eviction<K>>) {
        let capacity = capacity.min(MAX_CAPACITY);
        self.capacity = capacity;
        self.p = self.p.min(capacity as f64);
        self.replace_until_fits(0, false, evicted);
        self.bound_ghosts();
    }

    fn used(&self) -> u64 {
        self.resident()
    }

    fn len(&self) -> usize {
        self.lists[T1 as usize].len + self.lists[T2 as usize].len
    }

    fn contains(&self, key: &K) -> bool {
        self.map
            .get(key)
            .is_some_and(|&i| self.arena.get(i).queue <= T2)
    }

    fn weight_of(&self, key: &K) -> Option<u64> {
        let &i = self.map.get(key)?;
        let n = self.arena.get(i);
        (n.queue <= T2).then_some(n.weight)
    }

    #[inline]
    fn access(&mut self, key: &K) -> bool {
        match self.map.get(key) {
            Some(&i) if self.arena.get(i).queue <= T2 => {
                self.relink(i, T2);
                true
            }
            _ => false,
        }
    }

    fn insert(&mut self, key: K, weight: u64, evicted: &mut Vec<Eviction<K>>) {
        let c = self.capacity;
        let found = self.map.get(&key).copied();
        if weight > c {
            if let Some(i) = found {
                let q = self.arena.get(i).queue;
                self.arena.unlink(&mut self.lists[q as usize], i);
                self.arena.free(i);
                self.map.remove(&key);
            }
            evicted.push(Eviction { key, weight });
            return;
        }
        match found {
            // Case I: resident. Update the weight and count an access.
            Some(i) if self.arena.get(i).queue <= T2 => {
                let q = self.arena.get(i).queue;
                self.arena
                    .set_weight(&mut self.lists[q as usize], i, weight);
                self.relink(i, T2);
                // REPLACE would never pick i (it is T2's newest and fits)
                // unless it is alone; then it fits by the check above.
                self.replace_until_fits(0, false, evicted);
            }
            // Cases II and III: a ghost hit adapts p, then the key is
            // fetched into T2.
            Some(i) => {
                let q = self.arena.get(i).queue;
                let (b1, b2) = (self.w(B1) as f64, self.w(B2) as f64);
                let wf = weight as f64;
                let in_b2 = q == B2;
                if in_b2 {
                    let delta = if b2 >= b1 { 1.0 } else { b1 / b2 };
                    self.p = (self.p - delta * wf).max(0.0);
                } else {
                    let delta = if b1 >= b2 { 1.0 } else { b2 / b1 };
                    self.p = (self.p + delta * wf).min(c as f64);
                }
                // Take the ghost off its list first so REPLACE sees the
                // directory without it, as in the paper.
                self.arena.unlink(&mut self.lists[q as usize], i);
                self.arena.get_mut(i).weight = weight;
                self.arena.get_mut(i).queue = T2;
                self.replace_until_fits(weight, in_b2, evicted);
                self.arena.push_front(&mut self.lists[T2 as usize], i);
                self.bound_ghosts();
            }
            // Case IV: a complete miss.
            None => {
                let t1 = self.w(T1);
                let l1 = t1 + self.w(B1);
                if l1 + weight > c {
                    if t1 + weight <= c {
                        while self.w(T1) + self.w(B1) + weight > c
                            && !self.lists[B1 as usize].is_empty()
                        {
                            self.drop_ghost(B1);
                        }
                        self.replace_until_fits(weight, false, evicted);
                    } else {
                        while self.w(T1) + weight > c {
                            self.evict_resident(T1, evicted);
                        }
                        self.replace_until_fits(weight, false, evicted);
                    }
                } else {
                    let total = self.resident() + self.w(B1) + self.w(B2);
                    if total + weight > c {
                        while self.resident() + self.w(B1) + self.w(B2) + weight > 2 * c
                            && !self.lists[B2 as usize].is_empty()
                        {
                            self.drop_ghost(B2);
                        }
                        self.replace_until_fits(weight, false, evicted);
                    }
                }
                let i = self.arena.alloc(key.clone(), weight, T1);
                self.arena.push_front(&mut self.lists[T1 as usize], i);
                self.map.insert(key, i);
                self.bound_ghosts();
            }
        }
    }

    fn remove(&mut self, key: &K) -> Option<u64> {
        let &i = self.map.get(key)?;
        let q = self.arena.get(i).queue;
        if q > T2 {
            return None;
        }
        self.map.remove(key);
        self.arena.unlink(&mut self.lists[q as usize], i);
        let w = self.arena.get(i).weight;
        self.arena.free(i);
        Some(w)
    }
}
