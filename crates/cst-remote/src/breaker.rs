//! The circuit breaker: when to stop asking the remote.
//!
//! - `threshold` consecutive outage errors (connect failures, timeouts,
//!   5xx after retries) **open** it: no request is made for `cooldown`
//!   (or, without one, for the rest of the process); then one probe is let
//!   through, which closes it on success and reopens it on failure.
//! - Credentials refused (401/403) on a read turn the remote **off** for the
//!   rest of the process; on a write, only pushes are turned off
//!   (**read-only**). Either is logged once, with what to check.
//! - Anything else (a missing or refused object) leaves it as it is: the
//!   server answered.
//!
//! Like Turborepo's outage breaker and ccache's "failed for the rest of the
//! invocation"; the clock is [`Instant`], read only when it is open.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::error::{Error, ErrorKind};

/// The breaker's state, as reported in the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Requests go through.
    #[default]
    Closed,
    /// Reads go through; pushes were refused credentials and are off.
    ReadOnly,
    /// Repeated outages: no request until the cool-down ends.
    Open,
    /// Credentials refused on a read: no request for the rest of the process.
    Off,
}

#[derive(Debug, Default)]
struct Inner {
    consecutive: u32,
    /// `Some(None)`: open for good; `Some(Some(t))`: open until `t`.
    open: Option<Option<Instant>>,
    probing: bool,
    reads_off: Option<String>,
    writes_off: Option<String>,
    trips: u64,
}

/// The breaker of one client.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Option<Duration>,
    what: String,
    inner: Mutex<Inner>,
}

impl Breaker {
    /// A closed breaker for the remote `what` (its URL, for messages).
    pub fn new(threshold: u32, cooldown: Option<Duration>, what: impl Into<String>) -> Self {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            what: what.into(),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// May a request be made? `Err(Disabled)` if not.
    pub fn admit(&self, write: bool) -> Result<(), Error> {
        let mut s = self.inner.lock();
        if let Some(why) = &s.reads_off {
            return Err(Error::Disabled(why.clone()));
        }
        if write && let Some(why) = &s.writes_off {
            return Err(Error::Disabled(why.clone()));
        }
        match s.open {
            None => Ok(()),
            Some(Some(until)) if !s.probing && Instant::now() >= until => {
                s.probing = true;
                Ok(())
            }
            Some(_) => Err(Error::Disabled(format!(
                "{}: breaker open after {} consecutive errors",
                self.what, self.threshold
            ))),
        }
    }

    /// Records the outcome of an admitted request.
    pub fn record(&self, outcome: Result<(), &Error>, write: bool) {
        let mut s = self.inner.lock();
        let kind = outcome.err().map(Error::kind);
        match kind {
            None | Some(ErrorKind::NotFound | ErrorKind::Rejected | ErrorKind::Conflict) => {
                s.consecutive = 0;
                if s.probing {
                    s.probing = false;
                    s.open = None;
                    tracing::info!("{}: remote reachable again, breaker closed", self.what);
                }
            }
            Some(ErrorKind::Timeout | ErrorKind::Outage) => {
                s.consecutive = s.consecutive.saturating_add(1);
                if s.probing {
                    s.probing = false;
                    s.open = Some(self.cooldown.map(|c| Instant::now() + c));
                } else if s.open.is_none() && s.consecutive >= self.threshold {
                    s.open = Some(self.cooldown.map(|c| Instant::now() + c));
                    s.trips += 1;
                    let err = outcome.err().map(ToString::to_string).unwrap_or_default();
                    match self.cooldown {
                        Some(c) => tracing::warn!(
                            "{}: {} consecutive remote errors (last: {err}); not asking again for {}s",
                            self.what,
                            s.consecutive,
                            c.as_secs()
                        ),
                        None => tracing::warn!(
                            "{}: {} consecutive remote errors (last: {err}); remote off for this process",
                            self.what,
                            s.consecutive
                        ),
                    }
                }
            }
            Some(ErrorKind::Auth) => {
                let err = outcome.err().map(ToString::to_string).unwrap_or_default();
                if write {
                    if s.writes_off.is_none() {
                        let why = format!(
                            "{}: the server refused the credentials for writing ({err}); \
                             pushes are off for this process (reads go on). Check \
                             AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy",
                            self.what
                        );
                        tracing::error!("{why}");
                        s.writes_off = Some(why);
                    }
                } else if s.reads_off.is_none() {
                    let why = format!(
                        "{}: the server refused the credentials ({err}); the remote is off \
                         for this process. Check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, \
                         AWS_REGION and the bucket policy (readers need s3:GetObject and \
                         s3:ListBucket, or a missing object answers 403)",
                        self.what
                    );
                    tracing::error!("{why}");
                    s.reads_off = Some(why);
                }
            }
            Some(ErrorKind::Disabled | ErrorKind::Config | ErrorKind::Other) => {}
        }
    }

    /// The state now.
    pub fn state(&self) -> BreakerState {
        let s = self.inner.lock();
        if s.reads_off.is_some() {
            BreakerState::Off
        } else if s.open.is_some() {
            BreakerState::Open
        } else if s.writes_off.is_some() {
            BreakerState::ReadOnly
        } else {
            BreakerState::Closed
        }
    }

    /// Why requests are refused, if they all are (or pushes are).
    pub fn reason(&self) -> Option<String> {
        let s = self.inner.lock();
        s.reads_off
            .clone()
            .or_else(|| {
                s.open.is_some().then(|| {
                    format!(
                        "{}: breaker open after {} consecutive errors",
                        self.what, self.threshold
                    )
                })
            })
            .or_else(|| s.writes_off.clone())
    }

    /// Times the breaker opened.
    pub fn trips(&self) -> u64 {
        self.inner.lock().trips
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outage() -> Error {
        Error::Outage("503".into())
    }

    #[test]
    fn opens_after_threshold_and_probes_after_cooldown() {
        let b = Breaker::new(3, Some(Duration::from_millis(30)), "r");
        for _ in 0..2 {
            b.admit(false).unwrap();
            b.record(Err(&outage()), false);
        }
        // A success resets the count.
        b.record(Ok(()), false);
        for _ in 0..3 {
            b.admit(false).unwrap();
            b.record(Err(&outage()), false);
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert!(matches!(b.admit(false), Err(Error::Disabled(_))));
        std::thread::sleep(Duration::from_millis(40));
        b.admit(false).unwrap(); // the probe
        assert!(b.admit(false).is_err(), "one probe at a time");
        b.record(Err(&outage()), false);
        assert!(b.admit(false).is_err(), "reopened");
        std::thread::sleep(Duration::from_millis(40));
        b.admit(false).unwrap();
        b.record(Ok(()), false);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.trips(), 1);
    }

    #[test]
    fn without_cooldown_it_stays_open() {
        let b = Breaker::new(1, None, "r");
        b.record(Err(&Error::Timeout("t".into())), false);
        std::thread::sleep(Duration::from_millis(5));
        assert!(b.admit(false).is_err());
    }

    #[test]
    fn auth_turns_off_reads_or_writes() {
        let b = Breaker::new(3, None, "r");
        b.record(Err(&Error::Auth("403".into())), true);
        assert_eq!(b.state(), BreakerState::ReadOnly);
        b.admit(false).unwrap();
        assert!(b.admit(true).is_err());
        b.record(Err(&Error::Auth("403".into())), false);
        assert_eq!(b.state(), BreakerState::Off);
        assert!(b.admit(false).is_err());
        assert!(b.reason().unwrap().contains("credentials"));
    }

    #[test]
    fn refused_objects_do_not_trip_it() {
        let b = Breaker::new(1, None, "r");
        b.record(
            Err(&Error::Rejected {
                object: "x".into(),
                reason: crate::Reject::Hash,
                detail: String::new(),
            }),
            false,
        );
        b.record(Err(&Error::NotFound("x".into())), false);
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
