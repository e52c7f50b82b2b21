//! The client's [`Error`]: every one of them is a miss for the caller.

use crate::{config, layout, manifest, pack};

/// Why an object was refused (counted in [`StatsSnapshot::rejected`]).
///
/// [`StatsSnapshot::rejected`]: crate::StatsSnapshot::rejected
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reject {
    /// A ref unsigned, signed by another key, or whose signature fails.
    Signature,
    /// An object whose bytes do not hash to its name, or of the wrong size.
    Hash,
    /// An object that does not parse (truncated, inconsistent).
    Malformed,
    /// A layout version this build does not read, or another records'
    /// format than the reader's.
    Version,
    /// A record whose frame fails its check or disagrees with the index.
    Record,
}

impl Reject {
    /// Every reason, in a fixed order.
    pub const ALL: [Reject; 5] = [
        Reject::Signature,
        Reject::Hash,
        Reject::Malformed,
        Reject::Version,
        Reject::Record,
    ];

    pub(crate) fn of_pack(e: &pack::Error) -> Self {
        match e {
            pack::Error::Version { .. } => Reject::Version,
            pack::Error::Record(_) => Reject::Record,
            _ => Reject::Malformed,
        }
    }

    pub(crate) fn of_manifest(e: &manifest::Error) -> Self {
        match e {
            manifest::Error::Version { .. } | manifest::Error::Format { .. } => Reject::Version,
            manifest::Error::Unsigned
            | manifest::Error::WrongKey(_)
            | manifest::Error::BadSignature => Reject::Signature,
            _ => Reject::Malformed,
        }
    }
}

/// What kind of [`Error`] (counted in [`StatsSnapshot::errors`]).
///
/// [`StatsSnapshot::errors`]: crate::StatsSnapshot::errors
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The breaker is open or off: no request was made.
    Disabled,
    /// 401/403: the credentials were refused.
    Auth,
    /// An operation ran out of time.
    Timeout,
    /// The server is unreachable or failing (connect errors, 5xx after
    /// retries, broken connections).
    Outage,
    /// An object that should exist does not.
    NotFound,
    /// A concurrent push moved the ref.
    Conflict,
    /// An object failed a check.
    Rejected,
    /// The configuration is unusable.
    Config,
    /// Anything else the store reported.
    Other,
}

/// A remote operation that did not succeed. Each is a miss: the caller
/// goes on without the remote.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The breaker is open (repeated outages) or off (credentials refused):
    /// no request was made.
    #[error("remote disabled: {0}")]
    Disabled(String),
    /// The server refused the credentials (401/403).
    #[error("remote refused the credentials: {0}")]
    Auth(String),
    /// The operation ran out of time.
    #[error("remote timed out: {0}")]
    Timeout(String),
    /// The server is unreachable or failing.
    #[error("remote unavailable: {0}")]
    Outage(String),
    /// An object that should exist does not.
    #[error("remote object missing: {0}")]
    NotFound(String),
    /// Another push moved the ref meanwhile, and retrying did not help.
    #[error("ref moved by a concurrent push: {0}")]
    Conflict(String),
    /// An object failed a check and was not used.
    #[error("remote object {object} refused ({reason:?}): {detail}")]
    Rejected {
        /// The object's name.
        object: String,
        /// Why, as counted.
        reason: Reject,
        /// The check that failed.
        detail: String,
    },
    /// No public key is configured: refs cannot be checked, so nothing is
    /// read.
    #[error("no public key configured for the remote (CST_REMOTE_PUBLIC_KEY): nothing is read")]
    NoPublicKey,
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] config::Error),
    /// A branch name the layout does not allow.
    #[error(transparent)]
    Branch(#[from] layout::BranchError),
    /// Anything else the store reported.
    #[error("remote error: {0}")]
    Other(String),
}

impl Error {
    /// The error's kind, as counted.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Disabled(_) => ErrorKind::Disabled,
            Error::Auth(_) => ErrorKind::Auth,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::Outage(_) => ErrorKind::Outage,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::Rejected { .. } => ErrorKind::Rejected,
            Error::NoPublicKey | Error::Config(_) | Error::Branch(_) => ErrorKind::Config,
            Error::Other(_) => ErrorKind::Other,
        }
    }

    /// Classifies an object store error.
    pub(crate) fn from_store(e: object_store::Error) -> Self {
        use object_store::Error as E;
        match e {
            E::NotFound { path, .. } => Error::NotFound(path),
            E::PermissionDenied { .. } | E::Unauthenticated { .. } => Error::Auth(e.to_string()),
            E::Precondition { .. } | E::AlreadyExists { .. } => Error::Conflict(e.to_string()),
            E::Generic { .. } | E::JoinError { .. } => {
                let text = chain(&e);
                if timed_out(&e) {
                    Error::Timeout(text)
                } else {
                    Error::Outage(text)
                }
            }
            other => Error::Other(chain(&other)),
        }
    }
}

/// Whether `e` failed by a timeout: the HTTP client's kind where the chain
/// has one, an I/O `TimedOut`, else the words "timed out". (Not the word
/// "timeout": every retry error names its `retry_timeout` setting, a
/// refused connection included.)
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    use object_store::client::{HttpError, HttpErrorKind};
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(h) = err.downcast_ref::<HttpError>() {
            return matches!(h.kind(), HttpErrorKind::Timeout);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        next = err.source();
    }
    chain(e).to_ascii_lowercase().contains("timed out")
}

/// An error and its sources, joined by ": ".
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut next = e.source();
    while let Some(src) = next {
        let t = src.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        next = src.source();
    }
    s
}
