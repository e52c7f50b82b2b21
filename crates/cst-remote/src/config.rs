//! [`RemoteConfig`]: where the remote is, the keys, and the client's bounds.
//!
//! The facade fills it from `cst.toml`'s `[remote]` table and then applies
//! the environment ([`RemoteConfig::apply_env`]): `CST_REMOTE_URL`,
//! `CST_REMOTE_PUBLIC_KEY` (64 hex digits), `CST_REMOTE_SIGNING_KEY_FILE`
//! (a file written by [`keygen`](crate::keys::keygen)). The S3 endpoint and
//! credentials come from object_store's `AWS_*` variables
//! (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, `AWS_ALLOW_HTTP=true` for a plain-http endpoint…).

use std::path::PathBuf;
use std::time::Duration;

use crate::keys::{self, PublicKey, SigningKey};

/// The remote's URL.
pub const ENV_URL: &str = "CST_REMOTE_URL";
/// The readers' public key, 64 hex digits.
pub const ENV_PUBLIC_KEY: &str = "CST_REMOTE_PUBLIC_KEY";
/// A file holding the signing key (writers only).
pub const ENV_SIGNING_KEY_FILE: &str = "CST_REMOTE_SIGNING_KEY_FILE";

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A URL this crate does not understand.
    #[error(
        "remote URL {0:?}: expected s3://BUCKET[/PREFIX], file:///ABSOLUTE/PATH or memory://[PREFIX]"
    )]
    Url(String),
    /// The store could not be set up (a bad AWS_* setting, a directory
    /// that cannot be made).
    #[error("remote store: {0}")]
    Store(String),
    /// A key in the environment or a key file is unusable.
    #[error("{var}: {source}")]
    Key {
        /// The variable.
        var: &'static str,
        /// Why.
        source: keys::Error,
    },
}

/// Where a remote lives, parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `s3://BUCKET/PREFIX`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The prefix inside it (no leading or trailing `/`; may be empty).
        prefix: String,
    },
    /// `file:///PATH`: a directory.
    File(PathBuf),
    /// `memory://PREFIX`: a store in memory, new for each client (tests).
    Memory(String),
}

impl Location {
    /// Parses a remote URL.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = || Error::Url(url.to_owned());
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        match scheme {
            "s3" => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() || bucket.contains(['?', '#']) || prefix.contains(['?', '#']) {
                    return Err(bad());
                }
                Ok(Location::S3 {
                    bucket: bucket.to_owned(),
                    prefix: prefix.trim_matches('/').to_owned(),
                })
            }
            "file" => {
                if !rest.starts_with('/') {
                    return Err(bad());
                }
                Ok(Location::File(PathBuf::from(rest)))
            }
            "memory" => Ok(Location::Memory(rest.trim_matches('/').to_owned())),
            _ => Err(bad()),
        }
    }
}

/// Everything [`Remote::open`](crate::Remote::open) needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemoteConfig {
    /// `s3://BUCKET/PREFIX`, `file:///PATH` or `memory://PREFIX`.
    pub url: String,
    /// The key refs must be signed with. Without it nothing is read.
    pub public_key: Option<PublicKey>,
    /// The key to sign refs with: only where pushes are allowed.
    pub signing_key: Option<SigningKey>,
    /// If set, a manifest of another records' format is refused.
    pub expected_format: Option<u32>,
    /// TCP connect timeout (object_store's default: 5 s).
    pub connect_timeout: Duration,
    /// Timeout of one HTTP request (object_store's default: 30 s).
    pub request_timeout: Duration,
    /// Retries of a failed request (object_store's default: 10).
    pub max_retries: usize,
    /// No retry starts later than this after the first try (default 3 min).
    pub retry_timeout: Duration,
    /// First backoff between retries (doubling, jittered).
    pub init_backoff: Duration,
    /// Longest backoff between retries.
    pub max_backoff: Duration,
    /// Bound on one operation as a whole, retries included, on any store.
    pub op_timeout: Duration,
    /// Consecutive outage errors (connect, timeout, 5xx) that open the
    /// breaker.
    pub breaker_threshold: u32,
    /// How long the breaker stays open before one probe; `None`: for the
    /// rest of the process.
    pub breaker_cooldown: Option<Duration>,
    /// A pushed pack is closed once it reaches this many bytes.
    pub pack_target: u64,
    /// Ranges of one pack closer than this are read in one request.
    pub coalesce_gap: u64,
    /// A coalesced range never grows past this.
    pub max_range: u64,
    /// Range requests in flight at once.
    pub parallel_reads: usize,
    /// A fetch wanting at least this fraction of a pack's bytes reads the
    /// whole pack (one request, checked against its name) instead.
    pub whole_pack_fraction: f64,
}

impl RemoteConfig {
    /// The defaults for `url`: connect 2 s, request 10 s, 2 retries within
    /// 15 s (backoff 1 s then 2 s, jittered), 20 s per operation; the breaker
    /// opens after 3 consecutive outages for 5 minutes; 16 MiB packs; ranges
    /// coalesced across gaps under 1 MiB up to 8 MiB, 4 in flight; whole
    /// packs when half of one is wanted.
    pub fn new(url: impl Into<String>) -> Self {
        RemoteConfig {
            url: url.into(),
            public_key: None,
            signing_key: None,
            expected_format: None,
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            max_retries: 2,
            retry_timeout: Duration::from_secs(15),
            init_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(4),
            op_timeout: Duration::from_secs(20),
            breaker_threshold: 3,
            breaker_cooldown: Some(Duration::from_secs(300)),
            pack_target: 16 << 20,
            coalesce_gap: 1 << 20,
            max_range: 8 << 20,
            parallel_reads: 4,
            whole_pack_fraction: 0.5,
        }
    }

    /// A configuration from the environment alone: `None` without
    /// `CST_REMOTE_URL`.
    pub fn from_env() -> Result<Option<Self>, Error> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// [`from_env`](Self::from_env) with the variables from `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        match var(ENV_URL).filter(|u| !u.is_empty()) {
            None => Ok(None),
            Some(url) => {
                let mut c = RemoteConfig::new(url);
                c.apply_vars(var)?;
                Ok(Some(c))
            }
        }
    }

    /// Overrides the URL and keys with the `CST_REMOTE_*` variables that
    /// are set (the environment wins over `cst.toml`).
    pub fn apply_env(&mut self) -> Result<(), Error> {
        self.apply_vars(|k| std::env::var(k).ok())
    }

    /// [`apply_env`](Self::apply_env) with the variables from `var`.
    pub fn apply_vars(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), Error> {
        let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        if let Some(url) = var(ENV_URL) {
            self.url = url;
        }
        if let Some(hex) = var(ENV_PUBLIC_KEY) {
            self.public_key = Some(PublicKey::from_hex(&hex).map_err(|source| Error::Key {
                var: ENV_PUBLIC_KEY,
                source,
            })?);
        }
        if let Some(file) = var(ENV_SIGNING_KEY_FILE) {
            let key =
                SigningKey::load(std::path::Path::new(&file)).map_err(|source| Error::Key {
                    var: ENV_SIGNING_KEY_FILE,
                    source,
                })?;
            // A writer reads what it wrote: its own public key by default.
            self.public_key.get_or_insert_with(|| key.public());
            self.signing_key = Some(key);
        }
        Ok(())
    }

    /// The parsed URL.
    pub fn location(&self) -> Result<Location, Error> {
        Location::parse(&self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            Location::parse("s3://bkt/team/cache/").unwrap(),
            Location::S3 {
                bucket: "bkt".into(),
                prefix: "team/cache".into()
            }
        );
        assert_eq!(
            Location::parse("s3://bkt").unwrap(),
            Location::S3 {
                bucket: "bkt".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            Location::parse("file:///tmp/r").unwrap(),
            Location::File("/tmp/r".into())
        );
        assert_eq!(
            Location::parse("memory://").unwrap(),
            Location::Memory(String::new())
        );
        for bad in ["s3://", "file://rel", "http://x", "bkt/x", "s3:///x"] {
            assert!(Location::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::keys::keygen(dir.path()).unwrap();
        let key_file = dir.path().join("remote.key").display().to_string();
        let vars = |k: &str| match k {
            ENV_URL => Some("s3://b/p".to_owned()),
            ENV_SIGNING_KEY_FILE => Some(key_file.clone()),
            _ => None,
        };
        let c = RemoteConfig::from_vars(vars).unwrap().unwrap();
        assert_eq!(c.url, "s3://b/p");
        assert_eq!(c.public_key, Some(key.public()));
        assert!(RemoteConfig::from_vars(|_| None).unwrap().is_none());
        let bad = |k: &str| match k {
            ENV_URL => Some("s3://b".to_owned()),
            ENV_PUBLIC_KEY => Some("zz".to_owned()),
            _ => None,
        };
        assert!(matches!(
            RemoteConfig::from_vars(bad),
            Err(Error::Key {
                var: ENV_PUBLIC_KEY,
                ..
            })
        ));
    }
}
