//! Placement: which memory tier holds a key, and the moves between tiers,
//! under the policy of `cst-policy`. [`Placement`] owns the three tiers,
//! the policy (sharded by key) and its clock, and carries out the policy's
//! moves; what a move does to the bytes (encode, compress, decompress, write
//! an edited tree first) it asks of its owner, through [`Codecs`]. It knows
//! nothing of the cache that owns it.

use std::sync::atomic::{AtomicU64, Ordering};

use cst_tiers::{Key, MemTier, TierStats};
use parking_lot::{Mutex, MutexGuard};

use crate::counters::Counters;
use crate::hot::{HotEntry, HotTier};
use crate::tier::Tier;
use crate::{Config, Error};

/// One shard of the policy.
pub(crate) type Policy = cst_policy::TierPolicy<Key>;

/// Smallest per-shard budget of any tier: below it, sharding would make
/// large files spill out of a shard that is too small for them.
pub(crate) const MIN_SHARD_BYTES: u64 = 4 << 20;

/// Number of policy shards for `config`: a power of two, at most 16, such
/// that every tier's share stays at least [`MIN_SHARD_BYTES`] (so small
/// budgets, as in tests, keep one exact policy).
pub(crate) fn policy_shards(config: &Config) -> usize {
    let smallest = config
        .hot_bytes
        .min(config.warm_bytes)
        .min(config.cold_bytes);
    let n = (smallest / MIN_SHARD_BYTES).clamp(1, 16);
    1 << n.ilog2()
}

/// One policy shard: the configured budgets divided by `shards`.
fn new_policy(config: &Config, shards: usize) -> Policy {
    let share = |b: u64| b / shards as u64;
    // Hot entries are the trees parsed or edited here; nothing is promoted
    // into hot (that would need a parse). Two hits in cold promote an entry
    // to warm.
    let tiers = vec![
        cst_policy::TierConfig::new(share(config.hot_bytes)),
        cst_policy::TierConfig::new(share(config.warm_bytes)).promote_after(0),
        cst_policy::TierConfig::new(share(config.cold_bytes)).promote_after(2),
    ];
    // Estimated weight in the next tier until the exact size is known
    // (encoded ≈ 1/50 of a live tree, compressed ≈ 1/3 of encoded; see
    // docs/BENCHMARKS.md), then `set_weight` applies the exact size.
    cst_policy::TierPolicy::new(tiers)
        .expect("three tiers")
        .with_reweigh(|_, w, from, to| match (Tier::of(from), Tier::of(to)) {
            (Some(Tier::Hot), Some(Tier::Warm)) => (w / 50).max(64),
            (Some(Tier::Warm), Some(Tier::Cold)) => (w / 3).max(32),
            (Some(Tier::Cold), Some(Tier::Warm)) => w.saturating_mul(3),
            _ => w,
        })
}

/// What the moves between tiers need of the placement's owner: the
/// conversion of an entry for its new tier, and what leaves memory with it.
pub(crate) trait Codecs {
    /// A hot entry is about to leave the hot tier (it is still there): an
    /// edited tree not written yet is written now. Returns its encoded form
    /// when writing it made one.
    fn leaving_hot(&self, key: &Key) -> Option<bytes::Bytes>;
    /// The encoded form of a hot entry demoted to warm (`None`: it cannot
    /// be made, its language being unknown; the entry is dropped).
    fn encode(&self, key: &Key, entry: &HotEntry) -> Result<Option<bytes::Bytes>, Error>;
    /// An encoded tree compressed for the cold tier.
    fn compress(&self, key: &Key, raw: &bytes::Bytes) -> Result<bytes::Bytes, Error>;
    /// A cold entry decompressed for the warm tier (an error: unreadable,
    /// it is forgotten; the disk or a parse restores it).
    fn decompress(&self, dense: &bytes::Bytes) -> Result<bytes::Bytes, cst_bytecode::DecodeError>;
    /// `key` left memory: what was kept beside it goes too.
    fn forget(&self, key: &Key);
    /// The counters moves are counted in.
    fn counters(&self) -> &Counters;
}

/// What a batch of moves freed, dropped once the policy lock is released.
#[derive(Default)]
struct Freed {
    trees: Vec<HotEntry>,
    bytes: Vec<bytes::Bytes>,
}

/// The memory tiers and the policy that places keys in them.
pub(crate) struct Placement {
    /// Live trees.
    pub(crate) hot: HotTier<Key>,
    /// Encoded trees.
    pub(crate) warm: MemTier<Key>,
    /// Compressed trees.
    pub(crate) cold: MemTier<Key>,
    /// The policy, sharded by key: a key's tier decisions are made by one
    /// shard, whose budgets are the configured ones divided by the number
    /// of shards, so readers of different keys do not wait on one lock.
    policies: Box<[Mutex<Policy>]>,
    /// Logical clock for the policy (one tick per operation).
    clock: AtomicU64,
}

impl Placement {
    /// Empty tiers under `config`'s budgets.
    pub(crate) fn new(config: &Config) -> Placement {
        let shards = policy_shards(config);
        Placement {
            hot: HotTier::new(),
            warm: MemTier::new(),
            cold: MemTier::new(),
            policies: (0..shards)
                .map(|_| Mutex::new(new_policy(config, shards)))
                .collect(),
            clock: AtomicU64::new(0),
        }
    }

    /// The policy shard that decides for `key`.
    pub(crate) fn policy(&self, key: &Key) -> &Mutex<Policy> {
        let p = &self.policies;
        // Keys are BLAKE3 digests: any byte is uniform.
        &p[usize::from(key.as_bytes()[0]) & (p.len() - 1)]
    }

    /// The policy's time for a new operation.
    pub(crate) fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed)
    }

    /// The counters of `tier` (its own: entries, bytes, hits, misses).
    pub(crate) fn stats(&self, tier: Tier) -> TierStats {
        match tier {
            Tier::Hot => self.hot.stats(),
            Tier::Warm => self.warm.stats(),
            Tier::Cold => self.cold.stats(),
        }
    }

    /// Whether any tier holds `key`.
    pub(crate) fn holds(&self, key: &Key) -> bool {
        self.hot.contains(key) || self.warm.contains(key) || self.cold.contains(key)
    }

    /// Keeps `entry` hot under `key` (taking it out of a colder tier that
    /// holds it) and carries out the policy's moves.
    pub(crate) fn admit_hot(
        &self,
        key: Key,
        entry: HotEntry,
        codecs: &impl Codecs,
    ) -> Result<(), Error> {
        let weight = entry.bytes;
        let now = self.tick();
        // Under the policy lock: the key lives in exactly one tier, even if
        // another thread cached the same content meanwhile.
        let mut policy = self.policy(&key).lock();
        self.warm.remove(&key);
        self.cold.remove(&key);
        self.hot.insert(key, entry);
        let moves = policy.insert_at(key, weight, Tier::Hot.index(), now);
        self.apply(policy, moves, codecs)
    }

    /// Keeps `dense` (a record read from disk) cold under `key`, unless
    /// another thread brought the key into memory meanwhile.
    pub(crate) fn admit_cold(
        &self,
        key: Key,
        dense: bytes::Bytes,
        codecs: &impl Codecs,
    ) -> Result<(), Error> {
        let now = self.tick();
        let mut policy = self.policy(&key).lock();
        if policy.tier_of(&key).is_some() {
            return Ok(());
        }
        let weight = dense.len() as u64;
        self.cold.insert(key, dense);
        let moves = policy.insert_at(key, weight, Tier::Cold.index(), now);
        codecs.counters().promoted(Tier::Cold);
        self.apply(policy, moves, codecs)
    }

    /// Replaces hot `key`'s entry with `entry` (the same tree, now with its
    /// encoded form), if it is still hot and has none; its weight goes to
    /// the policy.
    pub(crate) fn replace_unencoded_hot(
        &self,
        key: &Key,
        entry: HotEntry,
        codecs: &impl Codecs,
    ) -> Result<(), Error> {
        let mut policy = self.policy(key).lock();
        // (A drop from memory leaves the policy first, under this lock.)
        if policy.tier_of(key) != Some(Tier::Hot.index())
            || self.hot.get_with(key, |e| e.encoded.is_none()) != Some(true)
        {
            return Ok(());
        }
        let weight = entry.bytes;
        self.hot.insert(*key, entry);
        let moves = policy.set_weight(key, weight);
        self.apply(policy, moves, codecs)
    }

    /// Records an access with the policy and carries out any promotion.
    pub(crate) fn touch(&self, key: &Key, codecs: &impl Codecs) -> Result<(), Error> {
        let now = self.tick();
        let mut policy = self.policy(key).lock();
        let (_, moves) = policy.access(key, now);
        self.apply(policy, moves, codecs)
    }

    /// Drops `key` from the policy and every tier (the policy first: a
    /// racing move under its lock then finds nothing to move).
    pub(crate) fn remove(&self, key: &Key) {
        self.policy(key).lock().remove(key);
        self.hot.remove(key);
        self.warm.remove(key);
        self.cold.remove(key);
    }

    /// Carries out the policy's moves, in order: a demotion re-encodes or
    /// compresses the entry for its new tier, a promotion from cold
    /// decompresses it, a drop frees it. Exact sizes go back to the policy,
    /// whose further moves are carried out after.
    ///
    /// Runs under the key's policy shard lock (`policy`), so moves of
    /// concurrent operations on a shard cannot interleave. What the moves
    /// free (live trees, buffers) is dropped after the lock is released.
    pub(crate) fn apply(
        &self,
        mut policy: MutexGuard<'_, Policy>,
        moves: Vec<cst_policy::Move<Key>>,
        codecs: &impl Codecs,
    ) -> Result<(), Error> {
        let mut freed = Freed::default();
        let result = self.apply_moves(&mut policy, moves, codecs, &mut freed);
        drop(policy);
        drop(freed);
        result
    }

    fn apply_moves(
        &self,
        policy: &mut Policy,
        moves: Vec<cst_policy::Move<Key>>,
        codecs: &impl Codecs,
        freed: &mut Freed,
    ) -> Result<(), Error> {
        let counters = codecs.counters();
        let mut queue: std::collections::VecDeque<cst_policy::Move<Key>> = moves.into();
        while let Some(m) = queue.pop_front() {
            let key = m.key;
            let Some(from) = Tier::of(m.from) else {
                continue;
            };
            let exact = match (from, m.to.map(Tier::of)) {
                (Tier::Hot, Some(Some(Tier::Warm))) => {
                    // An edited tree is written before it leaves hot (a
                    // reader that misses it in hot finds it on disk).
                    let written = codecs.leaving_hot(&key);
                    let Some(entry) = self.hot.remove(&key) else {
                        continue;
                    };
                    let encoded = match written.or_else(|| entry.encoded.clone()) {
                        Some(e) => Some(e),
                        None => codecs.encode(&key, &entry)?,
                    };
                    freed.trees.push(entry);
                    let Some(encoded) = encoded else {
                        continue;
                    };
                    let weight = encoded.len() as u64;
                    self.warm.insert(key, encoded);
                    counters.demoted(Tier::Hot);
                    Some(weight)
                }
                (Tier::Warm, Some(Some(Tier::Cold))) => {
                    let Some(raw) = self.warm.remove(&key) else {
                        continue;
                    };
                    let dense = codecs.compress(&key, &raw)?;
                    freed.bytes.push(raw);
                    let weight = dense.len() as u64;
                    self.cold.insert(key, dense);
                    counters.demoted(Tier::Warm);
                    Some(weight)
                }
                (Tier::Cold, Some(Some(Tier::Warm))) => {
                    let Some(dense) = self.cold.remove(&key) else {
                        continue;
                    };
                    let raw = match codecs.decompress(&dense) {
                        Ok(raw) => raw,
                        Err(_) => {
                            // Unreadable: forget it (disk or a parse restores it).
                            policy.remove(&key);
                            continue;
                        }
                    };
                    freed.bytes.push(dense);
                    let weight = raw.len() as u64;
                    self.warm.insert(key, raw);
                    counters.promoted(Tier::Warm);
                    Some(weight)
                }
                (from, None) => {
                    match from {
                        Tier::Hot => {
                            codecs.leaving_hot(&key);
                            freed.trees.extend(self.hot.remove(&key));
                        }
                        Tier::Warm => freed.bytes.extend(self.warm.remove(&key)),
                        Tier::Cold => freed.bytes.extend(self.cold.remove(&key)),
                    }
                    codecs.forget(&key);
                    counters.evicted(from);
                    None
                }
                _ => None,
            };
            if let Some(w) = exact
                && w != m.weight
            {
                queue.extend(policy.set_weight(&key, w));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::tree_key;

    #[test]
    fn policy_shards_follow_the_smallest_budget() {
        // Defaults: cold is 32 MiB → 8 shards of ≥ 4 MiB per tier.
        assert_eq!(policy_shards(&Config::default()), 8);
        let cfg = |hot, warm, cold| Config {
            hot_bytes: hot,
            warm_bytes: warm,
            cold_bytes: cold,
            ..Config::default()
        };
        // Small budgets (tests, embedded uses) keep one exact policy.
        assert_eq!(policy_shards(&cfg(1 << 30, 1 << 30, 0)), 1);
        assert_eq!(policy_shards(&cfg(1 << 30, 7 << 20, 1 << 30)), 1);
        assert_eq!(policy_shards(&cfg(1 << 30, 12 << 20, 1 << 30)), 2);
        // At most 16, always a power of two.
        assert_eq!(policy_shards(&cfg(1 << 40, 1 << 40, 1 << 40)), 16);
        assert_eq!(policy_shards(&cfg(1 << 30, 1 << 30, 40 << 20)), 8);
    }

    #[test]
    fn shards_split_budgets_and_every_key_has_one_shard() {
        let placement = Placement::new(&Config::default());
        let n = placement.policies.len();
        assert_eq!(n, 8);
        let total: u64 = placement
            .policies
            .iter()
            .map(|p| p.lock().config(Tier::Warm.index()).budget)
            .sum();
        assert!(total <= Config::default().warm_bytes);
        assert!(total > Config::default().warm_bytes - n as u64);
        // The shard of a key is a function of the key.
        let key = tree_key(b"fn main() {}", "rust", [0; 16], 1);
        assert!(std::ptr::eq(placement.policy(&key), placement.policy(&key)));
    }
}
