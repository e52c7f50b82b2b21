//! The cache's counters: atomics bumped where events happen (hits, misses,
//! parses, moves between tiers, tags, latencies), read together into a
//! [`CacheStats`].

use std::sync::atomic::{AtomicU64, Ordering};

use crate::stats::{CacheStats, LATENCY_BUCKETS, LatencySnapshot};
use crate::tier::Tier;

/// The cache's counters, each an atomic bumped where the event happens and
/// read together by `Cache::stats`.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    parses: AtomicU64,
    /// Per tier (hot, warm, cold, frozen; `TIER_NAMES`): moves in from
    /// colder tiers, out to colder tiers, and drops.
    promotions: [AtomicU64; 4],
    demotions: [AtomicU64; 4],
    evictions: [AtomicU64; 4],
    tags_computed: AtomicU64,
    tags_reused: AtomicU64,
    /// Latency of `get`.
    pub(crate) get_latency: Latency,
    /// Latency of an insert (hit or parse).
    pub(crate) insert_latency: Latency,
}

/// One more.
fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// A lookup answered.
    pub(crate) fn hit(&self) {
        bump(&self.hits);
    }
    /// A lookup that found nothing.
    pub(crate) fn miss(&self) {
        bump(&self.misses);
    }
    /// A file parsed.
    pub(crate) fn parsed(&self) {
        bump(&self.parses);
    }
    /// An entry moved into `tier` from a colder one (or the disk).
    pub(crate) fn promoted(&self, tier: Tier) {
        bump(&self.promotions[tier.index()]);
    }
    /// An entry moved out of `tier` to a colder one.
    pub(crate) fn demoted(&self, tier: Tier) {
        bump(&self.demotions[tier.index()]);
    }
    /// An entry dropped from `tier`.
    pub(crate) fn evicted(&self, tier: Tier) {
        bump(&self.evictions[tier.index()]);
    }
    /// Tags computed from a tree.
    pub(crate) fn tags_computed(&self) {
        bump(&self.tags_computed);
    }
    /// Tags read back from the store.
    pub(crate) fn tags_reused(&self) {
        bump(&self.tags_reused);
    }

    /// The counters into `stats` (whose tiers' own counters are set).
    pub(crate) fn read_into(&self, stats: &mut CacheStats) {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let sum = |a: &[AtomicU64; 4]| a.iter().map(load).sum::<u64>();
        for (t, s) in stats.tiers.iter_mut().enumerate() {
            s.promotions = load(&self.promotions[t]);
            s.demotions = load(&self.demotions[t]);
            s.evictions = load(&self.evictions[t]);
        }
        stats.get_latency = self.get_latency.snapshot();
        stats.insert_latency = self.insert_latency.snapshot();
        stats.hits = load(&self.hits);
        stats.misses = load(&self.misses);
        stats.promotions = sum(&self.promotions);
        stats.demotions = sum(&self.demotions);
        stats.evictions = sum(&self.evictions);
        stats.parses = load(&self.parses);
        stats.tags_computed = load(&self.tags_computed);
        stats.tags_reused = load(&self.tags_reused);
    }
}

/// A latency histogram with the fixed [`LATENCY_BUCKETS`].
#[derive(Debug, Default)]
pub(crate) struct Latency {
    buckets: [AtomicU64; 12],
    sum_ns: AtomicU64,
}

impl Latency {
    pub(crate) fn record(&self, d: std::time::Duration) {
        let s = d.as_secs_f64();
        let i = LATENCY_BUCKETS
            .iter()
            .position(|&b| s <= b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_ns
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }
    pub(crate) fn snapshot(&self) -> LatencySnapshot {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        LatencySnapshot {
            count: counts.iter().sum(),
            sum_seconds: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
            counts,
        }
    }
}
