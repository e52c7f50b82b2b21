//! Counters: per tier, hits and misses, moves, latency histograms.

use std::sync::atomic::{AtomicU64, Ordering};

use cst_tiers::{FrozenStore, TierStats};

use crate::Cache;

/// The tiers' names, hottest first, as [`CacheStats::tiers`] orders them.
pub const TIER_NAMES: [&str; 4] = ["hot", "warm", "cold", "frozen"];

impl CacheStats {
    /// The counters of the tier called `name` (one of [`TIER_NAMES`]).
    pub fn tier(&self, name: &str) -> Option<&TierStats> {
        TIER_NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| &self.tiers[i])
    }
    /// The tiers with their names, hottest first.
    pub fn named_tiers(&self) -> impl Iterator<Item = (&'static str, &TierStats)> {
        TIER_NAMES.into_iter().zip(self.tiers.iter())
    }
}

/// Upper bounds (seconds) of the latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 11] = [
    1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1.0,
];

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
    fn snapshot(&self) -> LatencySnapshot {
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

/// A copy of a latency histogram: per-bucket counts (not cumulative; the
/// last bucket is +Inf), the number of observations and their sum.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencySnapshot {
    /// Observations per bucket of [`LATENCY_BUCKETS`], then +Inf.
    pub counts: Vec<u64>,
    /// Observations.
    pub count: u64,
    /// Sum of the observations in seconds.
    pub sum_seconds: f64,
}

/// Counters of the whole cache and of each tier.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CacheStats {
    /// Latency of `get`.
    pub get_latency: LatencySnapshot,
    /// Latency of inserting a file (hit or parse).
    pub insert_latency: LatencySnapshot,
    /// Hot, warm, cold and frozen tiers, in that order ([`TIER_NAMES`];
    /// by name: [`CacheStats::tier`]).
    pub tiers: [TierStats; 4],
    /// Lookups answered from any tier.
    pub hits: u64,
    /// Lookups that found nothing (or only a stale entry).
    pub misses: u64,
    /// Entries moved to a hotter tier.
    pub promotions: u64,
    /// Entries moved to a colder tier.
    pub demotions: u64,
    /// Entries dropped from memory (still on disk when the cache is persistent).
    pub evictions: u64,
    /// Files parsed.
    pub parses: u64,
    /// Paths known.
    pub paths: u64,
    /// Bytes of the frozen store's files.
    pub disk_bytes: u64,
    /// Files whose tags were computed from their tree (running the query).
    pub tags_computed: u64,
    /// Files whose tags were read back from the store.
    pub tags_reused: u64,
}

impl Cache {
    /// Counters.
    pub fn stats(&self) -> CacheStats {
        let i = &self.inner;
        let frozen = i
            .store
            .as_deref()
            .map(FrozenStore::stats)
            .unwrap_or_default();
        let mut tiers = [i.hot.stats(), i.warm.stats(), i.cold.stats(), frozen];
        let sum = |a: &[AtomicU64; 4]| a.iter().map(|c| c.load(Ordering::Relaxed)).sum::<u64>();
        for (t, s) in tiers.iter_mut().enumerate() {
            s.promotions = i.promotions[t].load(Ordering::Relaxed);
            s.demotions = i.demotions[t].load(Ordering::Relaxed);
            s.evictions = i.evictions[t].load(Ordering::Relaxed);
        }
        CacheStats {
            get_latency: i.get_latency.snapshot(),
            insert_latency: i.insert_latency.snapshot(),
            tiers,
            hits: i.hits.load(Ordering::Relaxed),
            misses: i.misses.load(Ordering::Relaxed),
            promotions: sum(&i.promotions),
            demotions: sum(&i.demotions),
            evictions: sum(&i.evictions),
            parses: i.parses.load(Ordering::Relaxed),
            paths: i.paths.read().len() as u64,
            disk_bytes: i.store.as_deref().map_or(0, FrozenStore::disk_bytes),
            tags_computed: i.compiled.tags_computed.load(Ordering::Relaxed),
            tags_reused: i.compiled.tags_reused.load(Ordering::Relaxed),
        }
    }
}
