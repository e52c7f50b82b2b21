//! Manifests and refs (`docs/REMOTE.md`, "Manifest", "Ref", "Signature").
//!
//! A manifest lists what a remote holds for one branch: the record format
//! version, the grammar fingerprints, the packs (with their indexes) and the
//! trained dictionaries. It is immutable and named by its BLAKE3 digest. A
//! ref, the only object ever replaced, names a manifest and signs it with
//! ed25519: the signature covers a domain-separation prefix, the branch
//! and the manifest's digest, so a ref cannot be replayed on another branch
//! and a manifest cannot change under a signature.

use ed25519_dalek::Signer;

use crate::keys::{PublicKey, SigningKey};
use crate::{Digest, layout};

/// Magic of a manifest.
pub const MANIFEST_MAGIC: [u8; 4] = *b"CSTM";
/// Magic of a ref.
pub const REF_MAGIC: [u8; 4] = *b"CSTR";
/// The manifest and ref version this build writes and reads.
pub const VERSION: u16 = 1;
/// Bytes of a manifest's fixed header.
pub const MANIFEST_HEADER: usize = 80;
/// Bytes of a pack entry in a manifest.
pub const PACK_ENTRY: usize = 80;
/// Bytes of a ref.
pub const REF_LEN: usize = 136;
/// The prefix of every signed message.
pub const SIGNING_DOMAIN: &[u8; 18] = b"cst-remote/v1/ref\0";

/// Why bytes were refused as a manifest or a ref, or a ref's signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Fewer bytes than the structure needs.
    #[error("{what} truncated: {len} bytes, needs {need}")]
    Truncated {
        /// The structure.
        what: &'static str,
        /// Bytes there are.
        len: usize,
        /// Bytes it needs.
        need: usize,
    },
    /// Not the magic of the structure.
    #[error("{what}: bad magic")]
    Magic {
        /// The structure.
        what: &'static str,
    },
    /// A layout version this build does not read.
    #[error("{what}: version {found}, this build reads version {VERSION}")]
    Version {
        /// The structure.
        what: &'static str,
        /// The version found.
        found: u16,
    },
    /// Flags or reserved fields that must be zero are not.
    #[error("{what}: unknown flags or non-zero reserved field")]
    Reserved {
        /// The structure.
        what: &'static str,
    },
    /// The manifest is inconsistent (order, duplicates, text, length).
    #[error("manifest: {0}")]
    Malformed(&'static str),
    /// The records' format is not the one the reader expects.
    #[error("manifest holds records of format {found}, expected {expected}")]
    Format {
        /// The manifest's format.
        found: u32,
        /// The reader's.
        expected: u32,
    },
    /// The ref carries no signature (all zero).
    #[error("ref is unsigned")]
    Unsigned,
    /// The ref is signed by another key than the reader's.
    #[error("ref is signed by another key ({0})")]
    WrongKey(String),
    /// The signature does not verify.
    #[error("ref signature does not verify")]
    BadSignature,
    /// A branch name the layout does not allow.
    #[error(transparent)]
    Branch(#[from] layout::BranchError),
    /// A manifest that cannot be encoded (a name too long or empty).
    #[error("cannot encode manifest: {0}")]
    Encode(&'static str),
}

/// A grammar fingerprint the manifest's records were made with: opaque
/// to this crate (the facade's grammar id and 16-byte fingerprint).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint {
    /// The grammar's id (1 to 255 bytes of UTF-8).
    pub id: String,
    /// Its fingerprint.
    pub fingerprint: [u8; 16],
}

/// A pack the manifest lists, with its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PackEntry {
    /// BLAKE3 of the pack: its name.
    pub pack: Digest,
    /// Bytes of the pack.
    pub size: u64,
    /// Records in the pack.
    pub records: u32,
    /// BLAKE3 of its index: the index's name.
    pub index: Digest,
    /// Bytes of the index.
    pub index_size: u32,
}

/// A trained dictionary the manifest lists: an opaque blob with a label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DictEntry {
    /// The caller's label (1 to 255 bytes of UTF-8), e.g. `trees/rust`.
    pub name: String,
    /// BLAKE3 of the blob: its name.
    pub digest: Digest,
    /// Bytes of the blob.
    pub size: u64,
}

/// What a remote holds for one branch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    /// The records' format version (the caller's; opaque here).
    pub format: u32,
    /// 1 for a first push, the parent's plus one after.
    pub generation: u64,
    /// When it was made, in seconds since the Unix epoch (informational).
    pub created: u64,
    /// The digest of the manifest it extends, if any.
    pub parent: Option<Digest>,
    /// Grammar fingerprints, sorted, no duplicates.
    pub fingerprints: Vec<Fingerprint>,
    /// Packs, oldest first, no duplicates.
    pub packs: Vec<PackEntry>,
    /// Dictionaries, sorted by (name, digest), no duplicates.
    pub dicts: Vec<DictEntry>,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let Some(end) = end else {
            return Err(Error::Truncated {
                what: "manifest",
                len: self.b.len(),
                need: self.at.saturating_add(n),
            });
        };
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        Ok(self.take(N)?.try_into().expect("N"))
    }
    fn name(&mut self) -> Result<String, Error> {
        let n = self.u8()? as usize;
        if n == 0 {
            return Err(Error::Malformed("empty name"));
        }
        let s = self.take(n)?;
        String::from_utf8(s.to_vec()).map_err(|_| Error::Malformed("name is not UTF-8"))
    }
}

fn put_name(out: &mut Vec<u8>, s: &str) -> Result<(), Error> {
    let n = u8::try_from(s.len()).map_err(|_| Error::Encode("name longer than 255 bytes"))?;
    if n == 0 {
        return Err(Error::Encode("empty name"));
    }
    out.push(n);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

impl Manifest {
    /// Sorts and deduplicates the fingerprints and dictionaries and drops
    /// repeated packs (the first stays): the canonical form [`encode`]
    /// writes and [`decode`] requires.
    ///
    /// [`encode`]: Manifest::encode
    /// [`decode`]: Manifest::decode
    pub fn normalize(&mut self) {
        self.fingerprints.sort();
        self.fingerprints.dedup();
        self.dicts.sort();
        self.dicts.dedup();
        let mut seen = std::collections::HashSet::new();
        self.packs.retain(|p| seen.insert(p.pack));
    }

    /// The manifest's bytes, in canonical form (see [`Manifest::normalize`]).
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut m = self.clone();
        m.normalize();
        let count = |n: usize| u32::try_from(n).map_err(|_| Error::Encode("too many entries"));
        let mut out = Vec::with_capacity(MANIFEST_HEADER + m.packs.len() * PACK_ENTRY + 64);
        out.extend_from_slice(&MANIFEST_MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&m.format.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&m.generation.to_le_bytes());
        out.extend_from_slice(&m.created.to_le_bytes());
        out.extend_from_slice(&m.parent.unwrap_or([0; 32]));
        out.extend_from_slice(&count(m.fingerprints.len())?.to_le_bytes());
        out.extend_from_slice(&count(m.packs.len())?.to_le_bytes());
        out.extend_from_slice(&count(m.dicts.len())?.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for f in &m.fingerprints {
            put_name(&mut out, &f.id)?;
            out.extend_from_slice(&f.fingerprint);
        }
        for p in &m.packs {
            out.extend_from_slice(&p.pack);
            out.extend_from_slice(&p.size.to_le_bytes());
            out.extend_from_slice(&p.records.to_le_bytes());
            out.extend_from_slice(&p.index);
            out.extend_from_slice(&p.index_size.to_le_bytes());
        }
        for d in &m.dicts {
            put_name(&mut out, &d.name)?;
            out.extend_from_slice(&d.digest);
            out.extend_from_slice(&d.size.to_le_bytes());
        }
        Ok(out)
    }

    /// Parses a manifest, which must be in canonical form and end exactly
    /// after its last entry.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "manifest";
        if bytes.len() < MANIFEST_HEADER {
            return Err(Error::Truncated {
                what: WHAT,
                len: bytes.len(),
                need: MANIFEST_HEADER,
            });
        }
        let mut r = Reader { b: bytes, at: 0 };
        if r.arr::<4>()? != MANIFEST_MAGIC {
            return Err(Error::Magic { what: WHAT });
        }
        let version = u16::from_le_bytes(r.arr()?);
        if version != VERSION {
            return Err(Error::Version {
                what: WHAT,
                found: version,
            });
        }
        let flags = u16::from_le_bytes(r.arr()?);
        let format = r.u32()?;
        let reserved = r.u32()?;
        if flags != 0 || reserved != 0 {
            return Err(Error::Reserved { what: WHAT });
        }
        let generation = r.u64()?;
        let created = r.u64()?;
        let parent: Digest = r.arr()?;
        let (nf, np, nd) = (r.u32()? as usize, r.u32()? as usize, r.u32()? as usize);
        if r.u32()? != 0 {
            return Err(Error::Reserved { what: WHAT });
        }
        // Every entry takes at least 17 bytes: counts beyond the bytes left
        // are refused before anything is allocated for them.
        let left = bytes.len() - MANIFEST_HEADER;
        if nf.saturating_mul(18) > left
            || np.saturating_mul(PACK_ENTRY) > left
            || nd.saturating_mul(42) > left
        {
            return Err(Error::Truncated {
                what: WHAT,
                len: bytes.len(),
                need: MANIFEST_HEADER
                    .saturating_add(nf.saturating_mul(18))
                    .saturating_add(np.saturating_mul(PACK_ENTRY))
                    .saturating_add(nd.saturating_mul(42)),
            });
        }
        let mut fingerprints = Vec::with_capacity(nf);
        for _ in 0..nf {
            let id = r.name()?;
            let fingerprint = r.arr()?;
            fingerprints.push(Fingerprint { id, fingerprint });
        }
        let mut packs = Vec::with_capacity(np);
        for _ in 0..np {
            packs.push(PackEntry {
                pack: r.arr()?,
                size: r.u64()?,
                records: r.u32()?,
                index: r.arr()?,
                index_size: r.u32()?,
            });
        }
        let mut dicts = Vec::with_capacity(nd);
        for _ in 0..nd {
            let name = r.name()?;
            dicts.push(DictEntry {
                name,
                digest: r.arr()?,
                size: r.u64()?,
            });
        }
        if r.at != bytes.len() {
            return Err(Error::Malformed("bytes after the last entry"));
        }
        if !fingerprints.windows(2).all(|w| w[0] < w[1]) {
            return Err(Error::Malformed("fingerprints not sorted or repeated"));
        }
        if !dicts.windows(2).all(|w| w[0] < w[1]) {
            return Err(Error::Malformed("dictionaries not sorted or repeated"));
        }
        let mut seen = std::collections::HashSet::with_capacity(np);
        if !packs.iter().all(|p| seen.insert(p.pack)) {
            return Err(Error::Malformed("pack listed twice"));
        }
        Ok(Manifest {
            format,
            generation,
            created,
            parent: (parent != [0; 32]).then_some(parent),
            fingerprints,
            packs,
            dicts,
        })
    }

    /// `Err(Format)` unless the records are of format `expected`.
    pub fn check_format(&self, expected: u32) -> Result<(), Error> {
        if self.format == expected {
            Ok(())
        } else {
            Err(Error::Format {
                found: self.format,
                expected,
            })
        }
    }

    /// Records in all packs (with repeats across packs).
    pub fn records(&self) -> u64 {
        self.packs.iter().map(|p| u64::from(p.records)).sum()
    }
}

/// The message a ref's signature covers: [`SIGNING_DOMAIN`], the branch's
/// length (u16 LE) and bytes, and the manifest's digest.
pub fn signed_message(branch: &str, manifest: &Digest) -> Result<Vec<u8>, Error> {
    layout::check_branch(branch)?;
    let mut m = Vec::with_capacity(SIGNING_DOMAIN.len() + 2 + branch.len() + 32);
    m.extend_from_slice(SIGNING_DOMAIN);
    m.extend_from_slice(&(branch.len() as u16).to_le_bytes());
    m.extend_from_slice(branch.as_bytes());
    m.extend_from_slice(manifest);
    Ok(m)
}

/// A branch's pointer to its manifest, signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ref {
    /// The signer's public key.
    pub public_key: [u8; 32],
    /// The manifest's digest.
    pub manifest: Digest,
    /// ed25519 over [`signed_message`].
    pub signature: [u8; 64],
}

impl Ref {
    /// Signs `manifest` as `branch`'s.
    pub fn sign(branch: &str, manifest: Digest, key: &SigningKey) -> Result<Self, Error> {
        let msg = signed_message(branch, &manifest)?;
        Ok(Ref {
            public_key: key.public().to_bytes(),
            manifest,
            signature: key.dalek().sign(&msg).to_bytes(),
        })
    }

    /// The ref's 136 bytes.
    pub fn encode(&self) -> [u8; REF_LEN] {
        let mut out = [0u8; REF_LEN];
        out[..4].copy_from_slice(&REF_MAGIC);
        out[4..6].copy_from_slice(&VERSION.to_le_bytes());
        out[8..40].copy_from_slice(&self.public_key);
        out[40..72].copy_from_slice(&self.manifest);
        out[72..].copy_from_slice(&self.signature);
        out
    }

    /// Parses a ref (not yet verified: see [`Ref::verify`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "ref";
        if bytes.len() < REF_LEN {
            return Err(Error::Truncated {
                what: WHAT,
                len: bytes.len(),
                need: REF_LEN,
            });
        }
        if bytes.len() > REF_LEN {
            return Err(Error::Malformed("ref longer than 136 bytes"));
        }
        if bytes[..4] != REF_MAGIC {
            return Err(Error::Magic { what: WHAT });
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != VERSION {
            return Err(Error::Version {
                what: WHAT,
                found: version,
            });
        }
        if bytes[6..8] != [0, 0] {
            return Err(Error::Reserved { what: WHAT });
        }
        Ok(Ref {
            public_key: bytes[8..40].try_into().expect("32"),
            manifest: bytes[40..72].try_into().expect("32"),
            signature: bytes[72..136].try_into().expect("64"),
        })
    }

    /// Checks that `key` signed this ref for `branch`: the ref names the
    /// key, and the signature verifies (strictly: no malleable encodings).
    pub fn verify(&self, branch: &str, key: &PublicKey) -> Result<(), Error> {
        if self.signature == [0; 64] {
            return Err(Error::Unsigned);
        }
        if self.public_key != key.to_bytes() {
            return Err(Error::WrongKey(crate::to_hex(&self.public_key)));
        }
        let msg = signed_message(branch, &self.manifest)?;
        let sig = ed25519_dalek::Signature::from_bytes(&self.signature);
        key.dalek()
            .verify_strict(&msg, &sig)
            .map_err(|_| Error::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        Manifest {
            format: 4,
            generation: 2,
            created: 1_700_000_000,
            parent: Some([9; 32]),
            fingerprints: vec![
                Fingerprint {
                    id: "rust".into(),
                    fingerprint: [1; 16],
                },
                Fingerprint {
                    id: "c".into(),
                    fingerprint: [2; 16],
                },
            ],
            packs: vec![PackEntry {
                pack: [3; 32],
                size: 1000,
                records: 10,
                index: [4; 32],
                index_size: 624,
            }],
            dicts: vec![DictEntry {
                name: "trees/rust".into(),
                digest: [5; 32],
                size: 4096,
            }],
        }
    }

    #[test]
    fn manifest_round_trips_in_canonical_form() {
        let m = sample();
        let b = m.encode().unwrap();
        let mut n = m.clone();
        n.normalize();
        assert_eq!(Manifest::decode(&b).unwrap(), n);
        assert_eq!(n.fingerprints[0].id, "c");
        let empty = Manifest::default();
        assert_eq!(Manifest::decode(&empty.encode().unwrap()).unwrap(), empty);
    }

    #[test]
    fn manifest_damage_is_refused_or_harmless() {
        // The manifest is named by its digest, which catches any flip; the
        // parser alone must never panic, whatever the bytes.
        let b = sample().encode().unwrap();
        for cut in 0..b.len() {
            assert!(Manifest::decode(&b[..cut]).is_err(), "cut {cut}");
        }
        for at in 0..b.len() {
            for bit in 0..8 {
                let mut d = b.clone();
                d[at] ^= 1 << bit;
                let _ = Manifest::decode(&d);
                assert_ne!(crate::digest(&d), crate::digest(&b));
            }
        }
    }

    #[test]
    fn non_canonical_is_refused() {
        let mut m = sample();
        m.normalize();
        let mut b = m.encode().unwrap();
        // Swap the two fingerprint ids' first letters: "c" then "rust" → not sorted.
        let f0 = MANIFEST_HEADER + 1;
        assert_eq!(b[f0], b'c');
        b[f0] = b'z';
        assert_eq!(
            Manifest::decode(&b),
            Err(Error::Malformed("fingerprints not sorted or repeated"))
        );
    }

    #[test]
    fn refs_sign_and_verify() {
        let key = SigningKey::from_seed([7; 32]);
        let other = SigningKey::from_seed([8; 32]);
        let r = Ref::sign("main", [1; 32], &key).unwrap();
        let back = Ref::decode(&r.encode()).unwrap();
        assert_eq!(back, r);
        back.verify("main", &key.public()).unwrap();
        assert_eq!(back.verify("dev", &key.public()), Err(Error::BadSignature));
        assert!(matches!(
            back.verify("main", &other.public()),
            Err(Error::WrongKey(_))
        ));
        // Signed by another key that names itself: still the wrong key.
        let forged = Ref::sign("main", [1; 32], &other).unwrap();
        assert!(matches!(
            forged.verify("main", &key.public()),
            Err(Error::WrongKey(_))
        ));
        // Another key's signature under our key's name.
        let mut spoofed = forged;
        spoofed.public_key = key.public().to_bytes();
        assert_eq!(
            spoofed.verify("main", &key.public()),
            Err(Error::BadSignature)
        );
        let mut unsigned = r;
        unsigned.signature = [0; 64];
        assert_eq!(unsigned.verify("main", &key.public()), Err(Error::Unsigned));
    }

    #[test]
    fn every_ref_flip_is_refused() {
        let key = SigningKey::from_seed([7; 32]);
        let b = Ref::sign("main", [1; 32], &key).unwrap().encode();
        for cut in 0..b.len() {
            assert!(Ref::decode(&b[..cut]).is_err());
        }
        for at in 0..b.len() {
            for bit in 0..8 {
                let mut d = b;
                d[at] ^= 1 << bit;
                let ok = Ref::decode(&d).and_then(|r| r.verify("main", &key.public()));
                assert!(ok.is_err(), "flip at {at} bit {bit} verified");
            }
        }
    }
}
