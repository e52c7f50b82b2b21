//! Deterministic trace replay and synthetic access streams, shared by the
//! simulator (`cargo xtask policy-sim`), the benchmarks and the tests.
//! Pure logic: traces come in as iterators or slices.

use crate::{Eviction, Policy};

/// Hits and accesses of one replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Accesses replayed.
    pub accesses: u64,
    /// Accesses that hit.
    pub hits: u64,
}

impl ReplayStats {
    /// Hits as a percentage of accesses (0 for an empty trace).
    pub fn hit_ratio(&self) -> f64 {
        if self.accesses == 0 {
            0.0
        } else {
            100.0 * self.hits as f64 / self.accesses as f64
        }
    }
}

/// Replay `trace` through `policy` with unit weights, the convention of the
/// published ARC-trace results: each access is a lookup, and a miss inserts
/// the key (weight 1).
pub fn replay<K: Clone, P: Policy<K> + ?Sized>(
    policy: &mut P,
    trace: impl IntoIterator<Item = K>,
) -> ReplayStats {
    let mut stats = ReplayStats::default();
    let mut evicted: Vec<Eviction<K>> = Vec::with_capacity(8);
    for key in trace {
        stats.accesses += 1;
        if policy.access(&key) {
            stats.hits += 1;
        } else {
            policy.insert(key, 1, &mut evicted);
            evicted.clear();
        }
    }
    stats
}

/// SplitMix64: a tiny, fast, seedable generator (deterministic streams).
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in [0, 1).
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// An endless Zipf(`alpha`) stream over keys `0..keys` (key 0 the most
/// popular), drawn by inverse CDF. Deterministic for a given seed.
#[derive(Clone, Debug)]
pub struct Zipf {
    cdf: Vec<f64>,
    rng: SplitMix64,
}

impl Zipf {
    /// A Zipf stream; `keys` must be at least 1.
    ///
    /// # Panics
    /// If `keys` is 0 or `alpha` is negative or not finite.
    pub fn new(alpha: f64, keys: u64, seed: u64) -> Self {
        assert!(keys >= 1, "a Zipf stream needs at least one key");
        assert!(alpha.is_finite() && alpha >= 0.0, "alpha must be ≥ 0");
        let mut cdf = Vec::with_capacity(keys as usize);
        let mut acc = 0.0;
        for k in 1..=keys {
            acc += (k as f64).powf(-alpha);
            cdf.push(acc);
        }
        for c in &mut cdf {
            *c /= acc;
        }
        Zipf {
            cdf,
            rng: SplitMix64::new(seed),
        }
    }
}

impl Iterator for Zipf {
    type Item = u64;

    #[inline]
    fn next(&mut self) -> Option<u64> {
        let u = self.rng.next_f64();
        let i = self.cdf.partition_point(|&c| c <= u);
        Some(i.min(self.cdf.len() - 1) as u64)
    }
}
