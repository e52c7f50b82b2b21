//! cst's shared remote tier: opaque records in signed, content-addressed
//! packs on S3-compatible object storage (or a directory, or memory).
//!
//! CI indexes once and pushes; every clone pulls what it lacks instead of
//! parsing. This crate knows nothing of trees: it stores `(key, bytes)`
//! records, where the key is the caller's 32-byte content address, and
//! returns exactly the bytes that were pushed or nothing.
//!
//! The formats and the trust model are specified in `docs/REMOTE.md`:
//!
//! - [`pack`]: packs of records (each framed with a checksum) and their index;
//! - [`manifest`]: the manifest listing packs, dictionaries and grammar
//!   fingerprints, and the per-branch [`Ref`] that signs it;
//! - [`keys`]: ed25519 keys, their files and their text form;
//! - [`config`]: [`RemoteConfig`], from `cst.toml` values and `CST_REMOTE_*`;
//! - [`client`]: [`Remote`], the synchronous client with its own runtime;
//! - [`stats`] and [`breaker`]: what the client counts, and when it stops
//!   asking.
//!
//! Every failure is a miss for the caller: the client's methods return
//! [`Error`], which is never a reason to fail a build.

pub mod breaker;
pub mod client;
pub mod config;
pub mod error;
pub mod keys;
pub mod layout;
pub mod manifest;
pub mod pack;
pub mod stats;

pub use breaker::BreakerState;
pub use client::{GcReport, Push, PushReport, Remote, VerifiedManifest, VerifiedPack};
pub use config::RemoteConfig;
pub use error::{Error, Reject};
pub use keys::{PublicKey, SigningKey};
pub use manifest::{DictEntry, Fingerprint, Manifest, PackEntry, Ref};
pub use pack::{IndexEntry, PackIndex, PackWriter};
pub use stats::StatsSnapshot;

/// The object store API, for [`Remote::with_store`] (tests, embedding).
pub use object_store;

/// A record's key: the caller's 32-byte content address (BLAKE3).
pub type Key = [u8; 32];

/// An object's name: the BLAKE3 hash of its bytes.
pub type Digest = [u8; 32];

/// The BLAKE3 hash of `bytes`, the name of an immutable object.
pub fn digest(bytes: &[u8]) -> Digest {
    *blake3::hash(bytes).as_bytes()
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

/// Parses exactly `N` bytes of hex (either case); `None` otherwise.
pub fn from_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(s[2 * i])? << 4) | nibble(s[2 * i + 1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let b = [0u8, 1, 0xab, 0xff];
        assert_eq!(to_hex(&b), "0001abff");
        assert_eq!(from_hex::<4>("0001ABff"), Some(b));
        assert_eq!(from_hex::<4>("0001abf"), None);
        assert_eq!(from_hex::<4>("0001abfg"), None);
    }
}
