//! What a client counts: requests, bytes, records, refused objects by
//! reason, errors by kind, the breaker's state.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::breaker::BreakerState;
use crate::error::{ErrorKind, Reject};

/// Objects refused, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RejectCounts {
    /// Refs unsigned, signed by another key, or whose signature fails.
    pub signature: u64,
    /// Objects whose bytes do not hash to their name.
    pub hash: u64,
    /// Objects that do not parse.
    pub malformed: u64,
    /// Another layout version or records' format.
    pub version: u64,
    /// Records whose frame fails its check.
    pub record: u64,
}

/// Errors, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ErrorCounts {
    /// Calls refused by the breaker, no request made.
    pub disabled: u64,
    /// Credentials refused.
    pub auth: u64,
    /// Timeouts.
    pub timeout: u64,
    /// Unreachable or failing server.
    pub outage: u64,
    /// Objects missing.
    pub not_found: u64,
    /// Ref updates lost to a concurrent push.
    pub conflict: u64,
    /// Objects refused (see [`RejectCounts`]).
    pub rejected: u64,
    /// Unusable configuration.
    pub config: u64,
    /// Anything else.
    pub other: u64,
}

/// A copy of a client's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    /// Requests made to the store (each range read counts).
    pub requests: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Records fetched and checked.
    pub records_fetched: u64,
    /// Refused objects, by reason (records included).
    pub rejected: RejectCounts,
    /// Errors, by kind.
    pub errors: ErrorCounts,
    /// The breaker's state.
    pub breaker: BreakerState,
    /// Times the breaker opened.
    pub breaker_trips: u64,
}

/// The live counters.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    records_fetched: AtomicU64,
    rejected: [AtomicU64; 5],
    errors: [AtomicU64; 9],
}

fn reject_slot(r: Reject) -> usize {
    match r {
        Reject::Signature => 0,
        Reject::Hash => 1,
        Reject::Malformed => 2,
        Reject::Version => 3,
        Reject::Record => 4,
    }
}

fn error_slot(k: ErrorKind) -> usize {
    match k {
        ErrorKind::Disabled => 0,
        ErrorKind::Auth => 1,
        ErrorKind::Timeout => 2,
        ErrorKind::Outage => 3,
        ErrorKind::NotFound => 4,
        ErrorKind::Conflict => 5,
        ErrorKind::Rejected => 6,
        ErrorKind::Config => 7,
        ErrorKind::Other => 8,
    }
}

impl Stats {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Relaxed);
    }
    pub(crate) fn bytes_in(&self, n: u64) {
        self.bytes_in.fetch_add(n, Relaxed);
    }
    pub(crate) fn bytes_out(&self, n: u64) {
        self.bytes_out.fetch_add(n, Relaxed);
    }
    pub(crate) fn records(&self, n: u64) {
        self.records_fetched.fetch_add(n, Relaxed);
    }
    pub(crate) fn rejected(&self, r: Reject) {
        self.rejected[reject_slot(r)].fetch_add(1, Relaxed);
    }
    pub(crate) fn error(&self, k: ErrorKind) {
        self.errors[error_slot(k)].fetch_add(1, Relaxed);
    }

    /// A copy of the counters (with the breaker's state as given).
    pub fn snapshot(&self, breaker: BreakerState, breaker_trips: u64) -> StatsSnapshot {
        let r = |i: usize| self.rejected[i].load(Relaxed);
        let e = |i: usize| self.errors[i].load(Relaxed);
        StatsSnapshot {
            requests: self.requests.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            records_fetched: self.records_fetched.load(Relaxed),
            rejected: RejectCounts {
                signature: r(0),
                hash: r(1),
                malformed: r(2),
                version: r(3),
                record: r(4),
            },
            errors: ErrorCounts {
                disabled: e(0),
                auth: e(1),
                timeout: e(2),
                outage: e(3),
                not_found: e(4),
                conflict: e(5),
                rejected: e(6),
                config: e(7),
                other: e(8),
            },
            breaker,
            breaker_trips,
        }
    }
}

impl RejectCounts {
    /// All refused objects.
    pub fn total(&self) -> u64 {
        self.signature + self.hash + self.malformed + self.version + self.record
    }
}
