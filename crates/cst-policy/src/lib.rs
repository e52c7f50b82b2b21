//! # cst-policy — cache policy for cst
//!
//! Pure decision logic: which entries stay in which tier under byte budgets.
//! No I/O, no clock (time is a number the caller passes in), no knowledge of
//! trees; keys are any `K: Hash + Eq + Clone` and weights are bytes (`u64`).
//!
//! ## Replacement policies
//!
//! One trait, [`Policy`], with three implementations and an oracle:
//!
//! - [`S3Fifo`] — **the default.** S3-FIFO (Yang et al., SOSP'23): a small
//!   probationary FIFO, a main FIFO with a 2-bit access counter per entry,
//!   and a ghost of recently evicted keys. Hits only bump a counter (≈ 8 ns),
//!   one-hit wonders leave quickly, so a scan cannot flush the hot set.
//! - [`Lru`] — exact LRU, the baseline (reproduces the published LRU figures
//!   of the ARC traces exactly).
//! - [`Arc`] — ARC (Megiddo & Modha, FAST'03), generalised to byte weights
//!   and exact in the unit-weight case (reproduces the published ARC
//!   figures).
//! - [`belady_hits`] — Bélády's MIN, the offline optimum for unit weights
//!   (needs the future, so it is a function over a whole trace).
//!
//! All are O(1) per operation over an index-based arena (`u32` links, no
//! allocation per entry once grown) and an `FxHashMap`. Evictions are pushed
//! onto a caller-supplied `Vec` ([`Eviction`]): nothing is dropped silently.
//! [`Sharded`] wraps any policy for concurrent use: one `parking_lot` mutex
//! per shard, shard chosen by key hash, evictions returned after the lock is
//! released — readers of different shards never wait for each other.
//!
//! ## Choosing S3-FIFO's parameters
//!
//! [`S3FifoConfig::default`] is `small_ratio 0.10, ghost_ratio 1.1,
//! max_freq 3, promote_threshold 2`, tuned with `cargo xtask policy-sim` on
//! the ARC traces (OLTP; P2 and P6 at 8,192 – 524,288 entries):
//!
//! - `promote_threshold 2` (the paper's `freq > 1`: two hits while in the
//!   small FIFO earn a place in main) beat 1 everywhere that mattered: +0.7
//!   points on OLTP at 1,000 entries, and it is what lets S3-FIFO overtake
//!   LRU and ARC on P6 at 524,288 entries.
//! - `small_ratio 0.10`, the paper's value: 0.05 lost ~1.5 points on OLTP,
//!   0.2 lost 2–3 points on P2 and P6 at small sizes.
//! - `ghost_ratio 1.1` (the ghost remembers 1.1× as many keys as are
//!   resident, i.e. a little more than the paper's "as many as main"): a
//!   larger ghost (1.5–2.0) helps P6 at 8,192 but loses 5–12 points on P6 at
//!   32,768, where ghost readmissions flood main; 0.9–1.0 lose P6 at 8,192 to
//!   ARC. 1.1 is the smallest ghost that beats ARC at every size tried.
//! - `max_freq 3` (two bits) beat 1 by 0.5–1 point on OLTP.
//! - Ghost hits go straight to main (as in the paper).
//!
//! The ghost is a set-associative table of 32-bit fingerprints (8 per
//! 64-byte bucket) rather than a queue of keys: no key is kept alive, a push
//! or lookup touches one cache line, and it never shrinks or compacts.
//!
//! ## The tier-move model
//!
//! [`TierPolicy`] decides over N ordered tiers (0 = hot, then warm, cold,
//! frozen), each a [`TierConfig`]: a byte budget, an optional idle
//! threshold, and a promotion threshold; each tier has its own replacement
//! policy (S3-FIFO by default).
//!
//! - **Admission**: [`insert`](TierPolicy::insert) admits into tier 0,
//!   [`insert_at`](TierPolicy::insert_at) into any tier.
//! - **Eviction demotes**: when a tier's policy evicts to stay within its
//!   budget, the entry moves to the next tier (which may evict in turn);
//!   from the last tier it is dropped.
//! - **Promotion**: `promote_after` hits while in a tier move an entry one
//!   tier up (what it displaces moves down).
//! - **Idle demotion**: [`tick(now)`](TierPolicy::tick) demotes every entry
//!   idle for at least its tier's `idle_after`, in clock units the caller
//!   chooses (the policy never reads a clock).
//! - **Pinning**: a [pinned](TierPolicy::pin) entry sits in tier 0 outside
//!   its replacement policy: never evicted, never demoted. Its bytes count
//!   toward tier 0's budget (unpinned entries make room); if pins alone
//!   exceed the budget, [`over_budget`](TierPolicy::over_budget) reports the
//!   excess — the only case where a budget is exceeded.
//! - **Every move is returned** as a [`Move`] (key, from, to or dropped,
//!   weight, [`Cause`]) in decision order. The policy holds no values, so the
//!   caller carries the moves out (encode, compress, write, free) after the
//!   call, outside any lock.
//! - **Weights across tiers**: an entry's size usually changes with its tier
//!   (encoded vs compressed). [`with_reweigh`](TierPolicy::with_reweigh)
//!   gives the new weight at decision time (an estimate, e.g. a compression
//!   ratio); [`set_weight`](TierPolicy::set_weight) applies the exact size
//!   once known, and returns any moves that causes.
//!
//! ## Simulation
//!
//! [`sim`] replays traces with unit weights and generates synthetic Zipf
//! streams; `cargo xtask policy-sim` drives it over the ARC traces.

#![forbid(unsafe_code)]

mod arc;
mod arena;
#[doc(hidden)]
pub mod fuzzing;
mod lru;
mod opt;
mod s3fifo;
mod sharded;
pub mod sim;
mod tier;

pub use arc::Arc;
pub use lru::Lru;
pub use opt::{belady_hits, belady_hits_bypass};
pub use s3fifo::{S3Fifo, S3FifoConfig};
pub use sharded::Sharded;
pub use tier::{Cause, Move, Reweigh, TierConfig, TierPolicy};

/// An entry a policy let go, handed back to the caller (never dropped
/// silently): its key and its weight in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eviction<K> {
    /// The key that left.
    pub key: K,
    /// Its weight when it left.
    pub weight: u64,
}

/// The largest capacity a policy holds, 4 EiB (2^62 bytes); larger ones are
/// clamped to it (see [`Policy`]).
pub const MAX_CAPACITY: u64 = 1 << 62;

/// A replacement policy over keys `K` with byte weights, under a byte
/// capacity.
///
/// The contract, common to every implementation:
/// - [`access`](Policy::access) is the lookup: it returns whether `key` is
///   resident and records the hit. A miss changes nothing visible (ghost
///   state may be consulted later by `insert`).
/// - [`insert`](Policy::insert) admits `key` with `weight`, evicting as
///   needed; every entry that leaves is pushed onto `evicted`. An entry
///   heavier than the whole capacity is not admitted: it is pushed onto
///   `evicted` at once. Inserting a resident key updates its weight and
///   counts as an access.
/// - After any call, [`used`](Policy::used) ≤ [`capacity`](Policy::capacity).
/// - A capacity above [`MAX_CAPACITY`] (e.g. `u64::MAX` for "unbounded") is
///   held as `MAX_CAPACITY`, which [`capacity`](Policy::capacity) reports:
///   then no sum of weights a policy forms (ARC's directory spans twice the
///   capacity) can overflow, whatever the weights.
/// - Nothing is dropped silently: the caller learns of every departure
///   through `evicted` or the return value of [`remove`](Policy::remove).
pub trait Policy<K> {
    /// An empty policy of `capacity` bytes with default parameters.
    fn with_capacity(capacity: u64) -> Self
    where
        Self: Sized;

    /// A short lowercase name (`"s3fifo"`, `"lru"`, `"arc"`).
    fn name(&self) -> &'static str;

    /// The capacity in bytes.
    fn capacity(&self) -> u64;

    /// Change the capacity; entries evicted to fit are pushed onto `evicted`.
    fn set_capacity(&mut self, capacity: u64, evicted: &mut Vec<Eviction<K>>);

    /// Bytes resident.
    fn used(&self) -> u64;

    /// Entries resident.
    fn len(&self) -> usize;

    /// True if nothing is resident.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if `key` is resident (does not count as an access).
    fn contains(&self, key: &K) -> bool;

    /// The weight of a resident `key`.
    fn weight_of(&self, key: &K) -> Option<u64>;

    /// Look `key` up: true on a hit, which is recorded.
    fn access(&mut self, key: &K) -> bool;

    /// Admit `key` with `weight` bytes (or update a resident key's weight);
    /// departures are pushed onto `evicted`.
    fn insert(&mut self, key: K, weight: u64, evicted: &mut Vec<Eviction<K>>);

    /// Remove a resident `key`; returns its weight. Not an eviction: nothing
    /// is pushed anywhere and no ghost remembers it.
    fn remove(&mut self, key: &K) -> Option<u64>;
}

/// Errors of the tier policy.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A tier policy needs at least one tier.
    #[error("a tier policy needs at least one tier")]
    NoTiers,
    /// Tiers are numbered with a byte.
    #[error("{0} tiers: at most 255 are supported")]
    TooManyTiers(usize),
    /// The key is not tracked.
    #[error("key not found")]
    NotFound,
}
