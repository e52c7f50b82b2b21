//! # cst-tiers — where cst keeps trees
//!
//! Storage for cst's tiers. Each stores what it is given and counts exactly
//! what it holds; which entry lives where is decided by the caller (the `cst`
//! facade, with `cst-policy`). Values are opaque: this crate knows nothing of
//! trees, their format or tree-sitter.
//!
//! | tier | type | holds | accounting |
//! |---|---|---|---|
//! | hot, warm, cold | [`MemTier`] | any [`Weigh`] value: the facade keeps live trees (hot), encoded trees (warm) and compressed ones (cold) | the values' weights |
//! | frozen | [`FrozenStore`] | records on disk, read through `memmap2` | exact (value bytes; `disk_bytes` for files) |
//!
//! Keys ([`Key`]) are 32-byte content addresses made by the caller. No path
//! goes into a key; the path → key map is the caller's.

mod frozen;
#[doc(hidden)]
pub mod fuzzing;
mod mem;

use std::fmt;

pub use frozen::{
    Entry, FrozenError, FrozenOptions, FrozenStore, MAX_KEY_LEN, MAX_VALUE_LEN, Recovery,
    STORE_VERSION,
};
pub use mem::{MemTier, Weigh};

/// Counters of one tier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TierStats {
    /// Entries held.
    pub entries: u64,
    /// Bytes held (as the tier accounts them).
    pub bytes: u64,
    /// Lookups that found the key.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Records that failed their checksum (never served).
    pub checksum_failures: u64,
    /// Entries moved into this tier from a colder one (filled in by the
    /// composer that moves entries; the tiers themselves never move any).
    pub promotions: u64,
    /// Entries moved from this tier to a colder one (idem).
    pub demotions: u64,
    /// Entries dropped from this tier (idem).
    pub evictions: u64,
}

/// A content address: 32 bytes (BLAKE3, made by the caller).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub [u8; 32]);

impl Key {
    /// The key as bytes (for the frozen store).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}
