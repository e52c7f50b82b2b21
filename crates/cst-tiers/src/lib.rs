//! # cst-tiers — where cst keeps trees
//!
//! Four tiers, hottest first. Each stores what it is given and counts exactly
//! what it holds; which entry lives where is decided by the caller (the `cst`
//! facade, with `cst-policy`). Apart from the hot tier, values are opaque
//! bytes: this crate knows nothing of the tree format.
//!
//! | tier | type | holds | accounting |
//! |---|---|---|---|
//! | hot | [`HotTier`] | live `tree_sitter::Tree` + source; the only tier that can edit and reparse incrementally | estimated live-tree bytes ([`estimate_tree_bytes`]) + source |
//! | warm | [`MemTier`] | encoded trees (`bytes::Bytes`) | exact |
//! | cold | [`MemTier`] | compressed encoded trees | exact |
//! | frozen | [`FrozenStore`] | records on disk, read through `memmap2` | exact (value bytes; `disk_bytes` for files) |
//!
//! Keys are content addresses ([`Key::for_tree`]): BLAKE3 of the source,
//! language id, grammar fingerprint and format version. No path goes into a
//! key; the path → key map is the caller's.

mod frozen;
#[doc(hidden)]
pub mod fuzzing;
mod hot;
mod mem;

use std::fmt;

pub use frozen::{
    FrozenError, FrozenOptions, FrozenStore, MAX_KEY_LEN, MAX_VALUE_LEN, Recovery, STORE_VERSION,
};
pub use hot::{HotEntry, HotTier, estimate_tree_bytes};
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

/// A content address: 32 bytes of BLAKE3.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub [u8; 32]);

impl Key {
    /// The key of the tree of `source` in `language_id`, parsed with the
    /// grammar of `fingerprint`, encoded with format `format_version`.
    /// Changing any of them changes the key: an unchanged file is found
    /// again after a restart, a grammar upgrade misses.
    pub fn for_tree(
        source: &[u8],
        language_id: &str,
        fingerprint: [u8; 16],
        format_version: u16,
    ) -> Key {
        let mut h = blake3::Hasher::new();
        h.update(b"cst-key/1");
        h.update(&(language_id.len() as u64).to_le_bytes());
        h.update(language_id.as_bytes());
        h.update(&fingerprint);
        h.update(&format_version.to_le_bytes());
        h.update(&(source.len() as u64).to_le_bytes());
        h.update(source);
        Key(*h.finalize().as_bytes())
    }

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
