//! Tier decisions under per-tier byte budgets.

use std::hash::Hash;

use rustc_hash::FxHashMap;

use crate::{Error, Eviction, Policy, S3Fifo};

/// Budget and thresholds of one tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierConfig {
    /// Bytes the tier may hold.
    pub budget: u64,
    /// An unpinned entry not accessed for this many clock units leaves the
    /// tier on the next [`TierPolicy::tick`] (demoted, or dropped from the
    /// last tier). `None`: no idle demotion.
    pub idle_after: Option<u64>,
    /// Hits an entry needs while in this tier to be promoted one tier up.
    /// 0 never promotes; ignored for the top tier.
    pub promote_after: u32,
}

impl TierConfig {
    /// A tier of `budget` bytes, no idle demotion, promotion after 2 hits.
    pub fn new(budget: u64) -> Self {
        TierConfig {
            budget,
            idle_after: None,
            promote_after: 2,
        }
    }

    /// The same tier with idle demotion after `units` of the caller's clock.
    pub fn idle_after(mut self, units: u64) -> Self {
        self.idle_after = Some(units);
        self
    }

    /// The same tier promoting after `hits` hits (0: never).
    pub fn promote_after(mut self, hits: u32) -> Self {
        self.promote_after = hits;
        self
    }
}

/// Why an entry moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// Its tier needed room (eviction by that tier's replacement policy).
    Budget,
    /// It sat idle longer than its tier's `idle_after`.
    Idle,
    /// It was hit `promote_after` times in its tier.
    Promotion,
    /// It was pinned, which brings it to the top tier.
    Pin,
}

/// One move decided by a [`TierPolicy`]: the caller carries it out (encode,
/// compress, write to disk, free). Moves are listed in the order they were
/// decided; a key may move more than once in one list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move<K> {
    /// The entry.
    pub key: K,
    /// The tier it left.
    pub from: usize,
    /// The tier it entered, or `None` if it was dropped from the last tier.
    pub to: Option<usize>,
    /// Its weight in bytes: in the destination tier (after the reweigh
    /// function), or its last weight if dropped.
    pub weight: u64,
    /// Why it moved.
    pub cause: Cause,
}

#[derive(Clone, Copy, Debug)]
struct Meta {
    tier: u8,
    pinned: bool,
    hits: u32,
    weight: u64,
    last: u64,
    /// Admission order: breaks ties between equally idle entries.
    seq: u64,
}

/// The function giving an entry's weight in a new tier:
/// `(key, weight, from, to) -> new weight`.
pub type Reweigh<K> = Box<dyn Fn(&K, u64, usize, usize) -> u64 + Send + Sync>;

/// Tier decisions over N ordered tiers (0 = hottest), each with a byte
/// budget and its own replacement policy `P` (S3-FIFO by default).
///
/// See the crate docs ("The tier-move model") for the full semantics. In
/// short: entries are admitted into a tier; a tier's policy evicts to make
/// room, and evicted entries are demoted to the next tier (dropped from the
/// last); `promote_after` hits in a tier promote one tier up; [`tick`]
/// demotes idle entries; pinned entries stay in tier 0 outside its policy.
/// Every decision is returned as a [`Move`].
///
/// [`tick`]: TierPolicy::tick
pub struct TierPolicy<K, P = S3Fifo<K>> {
    configs: Vec<TierConfig>,
    policies: Vec<P>,
    meta: FxHashMap<K, Meta>,
    /// Sum of pinned weights. Pins are outside any policy's capacity, so
    /// their sum is not bounded by a budget: a `u128` cannot overflow.
    pinned_bytes: u128,
    reweigh: Option<Reweigh<K>>,
    seq: u64,
}

impl<K: Hash + Eq + Clone, P: Policy<K>> TierPolicy<K, P> {
    /// Tiers in order, hottest first; each tier's policy is
    /// `P::with_capacity(budget)`.
    ///
    /// # Errors
    /// [`Error::NoTiers`] for an empty list, [`Error::TooManyTiers`] for
    /// more than 255.
    pub fn new(tiers: Vec<TierConfig>) -> Result<Self, Error> {
        if tiers.is_empty() {
            return Err(Error::NoTiers);
        }
        if tiers.len() > usize::from(u8::MAX) {
            return Err(Error::TooManyTiers(tiers.len()));
        }
        let policies = tiers.iter().map(|c| P::with_capacity(c.budget)).collect();
        Ok(TierPolicy {
            configs: tiers,
            policies,
            meta: FxHashMap::default(),
            pinned_bytes: 0,
            reweigh: None,
            seq: 0,
        })
    }

    /// Set the function that gives an entry's weight when it moves from one
    /// tier to another (e.g. compressed size ≈ a ratio of encoded size). The
    /// default keeps the weight. Exact sizes known later are applied with
    /// [`set_weight`](Self::set_weight).
    pub fn with_reweigh(
        mut self,
        f: impl Fn(&K, u64, usize, usize) -> u64 + Send + Sync + 'static,
    ) -> Self {
        self.reweigh = Some(Box::new(f));
        self
    }

    /// Number of tiers.
    pub fn tiers(&self) -> usize {
        self.configs.len()
    }

    /// The configuration of tier `t`.
    pub fn config(&self, t: usize) -> &TierConfig {
        &self.configs[t]
    }

    /// Entries tracked, over all tiers.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// True if no entry is tracked.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// The tier holding `key`.
    pub fn tier_of(&self, key: &K) -> Option<usize> {
        self.meta.get(key).map(|m| usize::from(m.tier))
    }

    /// The weight of `key` in its tier.
    pub fn weight_of(&self, key: &K) -> Option<u64> {
        self.meta.get(key).map(|m| m.weight)
    }

    /// True if `key` is pinned.
    pub fn is_pinned(&self, key: &K) -> bool {
        self.meta.get(key).is_some_and(|m| m.pinned)
    }

    /// Bytes held by tier `t` (pinned bytes count toward tier 0; saturates
    /// at `u64::MAX`).
    pub fn used(&self, t: usize) -> u64 {
        let pinned = if t == 0 { self.pinned_bytes } else { 0 };
        saturate(u128::from(self.policies[t].used()) + pinned)
    }

    /// Bytes of pinned entries (saturates at `u64::MAX`).
    pub fn pinned_bytes(&self) -> u64 {
        saturate(self.pinned_bytes)
    }

    /// By how many bytes pinned entries alone exceed tier 0's budget, if
    /// they do. This is the only way a budget is exceeded: tier 0 then holds
    /// nothing but pinned entries, and the excess is reported here rather
    /// than resolved by unpinning anything.
    pub fn over_budget(&self) -> Option<u64> {
        self.pinned_bytes
            .checked_sub(u128::from(self.configs[0].budget))
            .filter(|&x| x > 0)
            .map(saturate)
    }

    /// Change tier `t`'s budget; entries that no longer fit move down.
    pub fn set_budget(&mut self, t: usize, budget: u64) -> Vec<Move<K>> {
        self.configs[t].budget = budget;
        let mut moves = Vec::new();
        self.resize(t, &mut moves);
        moves
    }

    /// Admit `key` with `weight` bytes into tier 0 at time `now`. A key
    /// already tracked is first taken out of its tier (a pinned key stays
    /// pinned with the new weight).
    pub fn insert(&mut self, key: K, weight: u64, now: u64) -> Vec<Move<K>> {
        self.insert_at(key, weight, 0, now)
    }

    /// Admit `key` with `weight` bytes into tier `t` (e.g. entries found on
    /// disk at start-up enter the last tier), like [`insert`](Self::insert).
    pub fn insert_at(&mut self, key: K, weight: u64, t: usize, now: u64) -> Vec<Move<K>> {
        assert!(t < self.tiers(), "tier {t} out of range");
        let mut moves = Vec::new();
        if let Some(m) = self.meta.get_mut(&key) {
            if m.pinned {
                m.last = now;
                let old = std::mem::replace(&mut m.weight, weight);
                self.repin_weight(old, weight, &mut moves);
                return moves;
            }
            let from = usize::from(m.tier);
            self.policies[from].remove(&key);
        }
        self.seq += 1;
        self.meta.insert(
            key.clone(),
            Meta {
                tier: t as u8,
                pinned: false,
                hits: 0,
                weight,
                last: now,
                seq: self.seq,
            },
        );
        self.place(key, weight, t, &mut moves);
        moves
    }

    /// Look `key` up at time `now`: the tier it is in (`None`: a miss), and
    /// the moves the hit caused (a promotion and what it displaced).
    pub fn access(&mut self, key: &K, now: u64) -> (Option<usize>, Vec<Move<K>>) {
        let mut moves = Vec::new();
        let Some(m) = self.meta.get_mut(key) else {
            return (None, moves);
        };
        m.last = now;
        let t = usize::from(m.tier);
        if m.pinned {
            return (Some(0), moves);
        }
        m.hits += 1;
        let promote =
            t > 0 && self.configs[t].promote_after > 0 && m.hits >= self.configs[t].promote_after;
        self.policies[t].access(key);
        if promote {
            let w = m.weight;
            self.policies[t].remove(key);
            let nw = self.reweighed(key, w, t, t - 1);
            self.record(
                key.clone(),
                t,
                Some(t - 1),
                nw,
                Cause::Promotion,
                &mut moves,
            );
            self.place(key.clone(), nw, t - 1, &mut moves);
        }
        (Some(t), moves)
    }

    /// Forget `key`; returns its tier and weight. Not a move: the caller
    /// asked for it.
    pub fn remove(&mut self, key: &K) -> Option<(usize, u64)> {
        let m = self.meta.remove(key)?;
        let t = usize::from(m.tier);
        if m.pinned {
            self.pinned_bytes -= u128::from(m.weight);
            let mut moves = Vec::new();
            // Capacity only grows: nothing moves.
            self.resize(0, &mut moves);
            debug_assert!(moves.is_empty());
        } else {
            self.policies[t].remove(key);
        }
        Some((t, m.weight))
    }

    /// Set the weight of `key` in its tier (e.g. the exact compressed size
    /// once known); entries that no longer fit move down, possibly `key`
    /// itself.
    pub fn set_weight(&mut self, key: &K, weight: u64) -> Vec<Move<K>> {
        let mut moves = Vec::new();
        let Some(m) = self.meta.get_mut(key) else {
            return moves;
        };
        let old = std::mem::replace(&mut m.weight, weight);
        if m.pinned {
            self.repin_weight(old, weight, &mut moves);
            return moves;
        }
        let t = usize::from(m.tier);
        let mut ev = Vec::new();
        self.policies[t].insert(key.clone(), weight, &mut ev);
        self.cascade(t, ev, &mut moves);
        moves
    }

    /// Pin `key`: it moves to tier 0 and stays there, outside tier 0's
    /// replacement policy, never evicted nor demoted until
    /// [`unpin`](Self::unpin)ned. Its bytes still count toward tier 0's
    /// budget: unpinned entries make room, and if pinned bytes alone exceed
    /// the budget, [`over_budget`](Self::over_budget) says by how much.
    ///
    /// # Errors
    /// [`Error::NotFound`] if `key` is not tracked.
    pub fn pin(&mut self, key: &K) -> Result<Vec<Move<K>>, Error> {
        let mut moves = Vec::new();
        let m = *self.meta.get(key).ok_or(Error::NotFound)?;
        if m.pinned {
            return Ok(moves);
        }
        let t = usize::from(m.tier);
        self.policies[t].remove(key);
        let w = if t == 0 {
            m.weight
        } else {
            let nw = self.reweighed(key, m.weight, t, 0);
            self.record(key.clone(), t, Some(0), nw, Cause::Pin, &mut moves);
            nw
        };
        let e = self.meta.get_mut(key).expect("tracked");
        e.pinned = true;
        e.tier = 0;
        e.hits = 0;
        e.weight = w;
        self.pinned_bytes += u128::from(w);
        self.resize(0, &mut moves);
        Ok(moves)
    }

    /// Unpin `key`: it rejoins tier 0's replacement policy as a fresh entry.
    /// Nothing happens if it is not pinned.
    pub fn unpin(&mut self, key: &K) -> Vec<Move<K>> {
        let mut moves = Vec::new();
        let Some(m) = self.meta.get_mut(key) else {
            return moves;
        };
        if !m.pinned {
            return moves;
        }
        m.pinned = false;
        let w = m.weight;
        self.pinned_bytes -= u128::from(w);
        self.resize(0, &mut moves);
        self.place(key.clone(), w, 0, &mut moves);
        moves
    }

    /// Advance the injected clock to `now`: every unpinned entry whose last
    /// access is at least its tier's `idle_after` ago leaves that tier
    /// (demoted one tier, or dropped from the last), tier by tier from the
    /// top, least recently used first (ties in admission order), so an entry idle long enough falls several tiers.
    /// Costs O(entries): call it periodically, not per access.
    pub fn tick(&mut self, now: u64) -> Vec<Move<K>> {
        let mut moves = Vec::new();
        for t in 0..self.tiers() {
            let Some(idle) = self.configs[t].idle_after else {
                continue;
            };
            let mut idle_keys: Vec<(u64, u64, K)> = self
                .meta
                .iter()
                .filter(|(_, m)| {
                    usize::from(m.tier) == t && !m.pinned && now.saturating_sub(m.last) >= idle
                })
                .map(|(k, m)| (m.last, m.seq, k.clone()))
                .collect();
            idle_keys.sort_unstable_by_key(|&(last, seq, _)| (last, seq));
            for (_, _, key) in idle_keys {
                // An earlier demotion's cascade may already have moved it.
                let Some(m) = self.meta.get(&key) else {
                    continue;
                };
                if usize::from(m.tier) != t {
                    continue;
                }
                let w = m.weight;
                self.policies[t].remove(&key);
                self.demote(key, w, t, Cause::Idle, &mut moves);
            }
        }
        moves
    }

    // --- internals ---

    fn reweighed(&self, key: &K, w: u64, from: usize, to: usize) -> u64 {
        match &self.reweigh {
            Some(f) => f(key, w, from, to),
            None => w,
        }
    }

    fn record(
        &mut self,
        key: K,
        from: usize,
        to: Option<usize>,
        weight: u64,
        cause: Cause,
        moves: &mut Vec<Move<K>>,
    ) {
        match to {
            Some(t) => {
                let m = self.meta.get_mut(&key).expect("tracked");
                m.tier = t as u8;
                m.hits = 0;
                m.weight = weight;
            }
            None => {
                self.meta.remove(&key);
            }
        }
        moves.push(Move {
            key,
            from,
            to,
            weight,
            cause,
        });
    }

    /// Move `key` (already out of tier `t`'s policy) down one tier, or drop it.
    fn demote(&mut self, key: K, w: u64, t: usize, cause: Cause, moves: &mut Vec<Move<K>>) {
        if t + 1 < self.tiers() {
            let nw = self.reweighed(&key, w, t, t + 1);
            self.record(key.clone(), t, Some(t + 1), nw, cause, moves);
            self.place(key, nw, t + 1, moves);
        } else {
            self.record(key, t, None, w, cause, moves);
        }
    }

    /// Insert `key` (whose meta already says tier `t`) into tier `t`'s
    /// policy and cascade what it evicts.
    fn place(&mut self, key: K, w: u64, t: usize, moves: &mut Vec<Move<K>>) {
        let mut ev = Vec::new();
        self.policies[t].insert(key, w, &mut ev);
        self.cascade(t, ev, moves);
    }

    /// Demote every eviction of tier `t` (they left its policy already).
    fn cascade(&mut self, t: usize, ev: Vec<Eviction<K>>, moves: &mut Vec<Move<K>>) {
        for Eviction { key, weight } in ev {
            self.demote(key, weight, t, Cause::Budget, moves);
        }
    }

    /// Re-derive tier `t`'s policy capacity from its budget (and pins).
    fn resize(&mut self, t: usize, moves: &mut Vec<Move<K>>) {
        let cap = if t == 0 {
            saturate(u128::from(self.configs[0].budget).saturating_sub(self.pinned_bytes))
        } else {
            self.configs[t].budget
        };
        let mut ev = Vec::new();
        self.policies[t].set_capacity(cap, &mut ev);
        self.cascade(t, ev, moves);
    }

    /// A pinned key's weight changed from `old` to `new` (meta updated).
    fn repin_weight(&mut self, old: u64, new: u64, moves: &mut Vec<Move<K>>) {
        self.pinned_bytes = self.pinned_bytes - u128::from(old) + u128::from(new);
        self.resize(0, moves);
    }
}

/// A byte count as a `u64`, `u64::MAX` if it does not fit.
fn saturate(x: u128) -> u64 {
    u64::try_from(x).unwrap_or(u64::MAX)
}
