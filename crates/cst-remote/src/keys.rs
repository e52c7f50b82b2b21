//! ed25519 keys: generation, files and text form (`docs/REMOTE.md`,
//! "Keys").
//!
//! Text form: a key is 64 hexadecimal digits (either case; written in
//! lowercase): the 32-byte public key, or the 32-byte secret seed of a
//! signing key. Files hold that text and a newline; surrounding whitespace
//! is ignored when reading. [`keygen`] writes `DIR/remote.key` (the seed,
//! mode 0600, never overwritten) and `DIR/remote.pub`.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// File name of the signing key [`keygen`] writes.
pub const SIGNING_KEY_FILE: &str = "remote.key";
/// File name of the public key [`keygen`] writes.
pub const PUBLIC_KEY_FILE: &str = "remote.pub";

/// A key that cannot be made, read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not 64 hex digits, or not a valid ed25519 public key.
    #[error("{0}: expected 64 hex digits of an ed25519 key")]
    Parse(&'static str),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The system's random source failed.
    #[error("no randomness for a key: {0}")]
    Random(String),
}

/// A public key: what readers hold to check refs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl PublicKey {
    /// From its 32 bytes; `Err` if they are not a point of the curve.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, Error> {
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map(PublicKey)
            .map_err(|_| Error::Parse("public key"))
    }

    /// Its 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// From its text form (64 hex digits, whitespace around ignored).
    pub fn from_hex(s: &str) -> Result<Self, Error> {
        let b = crate::from_hex::<32>(s.trim()).ok_or(Error::Parse("public key"))?;
        Self::from_bytes(&b)
    }

    /// Its text form: 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        crate::to_hex(&self.to_bytes())
    }

    /// Reads a public key file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        Self::from_hex(&read(path)?)
    }

    pub(crate) fn dalek(&self) -> &ed25519_dalek::VerifyingKey {
        &self.0
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A signing key: only where writes are allowed (protected-branch CI).
/// Its `Debug` shows only the public half; the secret is zeroed on drop.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// From a 32-byte secret seed (tests use fixed seeds: ed25519 is
    /// deterministic, so their signatures are too).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// A new key from the system's random source.
    pub fn generate() -> Result<Self, Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Random(e.to_string()))?;
        let key = Self::from_seed(seed);
        seed.fill(0);
        Ok(key)
    }

    /// From its text form (64 hex digits of the seed).
    pub fn from_hex(s: &str) -> Result<Self, Error> {
        crate::from_hex::<32>(s.trim())
            .map(Self::from_seed)
            .ok_or(Error::Parse("signing key"))
    }

    /// Its text form: 64 lowercase hex digits of the seed. Secret.
    pub fn to_hex(&self) -> String {
        crate::to_hex(self.0.as_bytes())
    }

    /// Reads a signing key file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        Self::from_hex(&read(path)?)
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub(crate) fn dalek(&self) -> &ed25519_dalek::SigningKey {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(public {})", self.public().to_hex())
    }
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Generates a key pair into `dir` (created if missing): `remote.key`,
/// the secret, created new with mode 0600 (an existing one is an error,
/// never overwritten), then `remote.pub`. Returns the key.
pub fn keygen(dir: &Path) -> Result<SigningKey, Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let key = SigningKey::generate()?;
    let secret = dir.join(SIGNING_KEY_FILE);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(&secret).map_err(io(&secret))?;
    writeln!(f, "{}", key.to_hex())
        .and_then(|()| f.sync_all())
        .map_err(io(&secret))?;
    let public = dir.join(PUBLIC_KEY_FILE);
    std::fs::write(&public, format!("{}\n", key.public().to_hex())).map_err(io(&public))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_writes_a_private_key_and_a_public_one() {
        let dir = tempfile::tempdir().unwrap();
        let key = keygen(dir.path()).unwrap();
        let secret = dir.path().join(SIGNING_KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = SigningKey::load(&secret).unwrap();
        assert_eq!(back.to_hex(), key.to_hex());
        let public = PublicKey::load(&dir.path().join(PUBLIC_KEY_FILE)).unwrap();
        assert_eq!(public, key.public());
        // Never overwritten.
        assert!(matches!(keygen(dir.path()), Err(Error::Io { .. })));
        assert_eq!(SigningKey::load(&secret).unwrap().to_hex(), key.to_hex());
    }

    #[test]
    fn text_forms() {
        let k = SigningKey::from_seed([7; 32]);
        assert_eq!(k.to_hex(), "07".repeat(32));
        let p = k.public();
        assert_eq!(
            PublicKey::from_hex(&format!(" {}\n", p.to_hex())).unwrap(),
            p
        );
        assert_eq!(PublicKey::from_hex(&p.to_hex().to_uppercase()).unwrap(), p);
        assert!(PublicKey::from_hex("abc").is_err());
        assert!(format!("{k:?}").contains(&p.to_hex()));
        assert!(!format!("{k:?}").contains(&"07".repeat(32)));
    }
}
