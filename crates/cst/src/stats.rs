//! What [`Cache::stats`](crate::Cache::stats) reports: per tier, hits and
//! misses, moves, latency histograms (counted by `counters.rs`).

use cst_tiers::TierStats;

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
