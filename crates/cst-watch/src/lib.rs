//! Watching a workspace for changed files.
//!
//! A [`Watcher`] keeps a long-running server (`cst serve --watch`) current as
//! files under a root directory are created, changed, renamed and deleted. It
//! reports [`Batch`]es of absolute paths on a crossbeam channel; the consumer
//! re-reads the changed files and forgets the removed ones.
//!
//! Two backends:
//!
//! - **Native** (`native.rs`): one non-recursive notify watch per directory
//!   that the index walk would enter (`recurse.rs`: `.gitignore`, `.ignore`
//!   and hidden-file rules of `ignore`, never `.git`), so ignored trees such
//!   as `target/` or `node_modules/` cost no watches and no events.
//! - **Polling** (`poll.rs`): when the directories exceed the watch budget,
//!   a watch cannot be added, or [`WatchOptions::force_poll`] is set, the tree
//!   is walked every [`WatchOptions::poll_interval`] and compared with the
//!   previous walk.
//!
//! Whenever events may have been missed (queue overflow, an error, a burst of
//! more than [`WatchOptions::burst`] paths, an ignore file changed, the switch
//! to polling) the batch says [`Batch::rescan`]: the consumer must reconcile
//! the whole tree. The crate is synchronous: threads and channels, no async
//! runtime, and no panics on I/O errors (they are counted in
//! [`WatchStatus::errors`]).

mod batch;
mod native;
mod poll;
mod recurse;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam::channel::{self, Receiver, Sender, TryRecvError};
use parking_lot::Mutex;

/// How to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOptions {
    /// The debounce window: a batch gathers events until this long passes
    /// without one (for at most 1 s or ten windows), so a burst is seen
    /// whole; the paths of its events are unioned, never replaced. Default
    /// 75 ms.
    pub debounce: Duration,
    /// The watch budget: how many directories may be watched natively. Above
    /// it the watcher polls. Default 8192, or half of
    /// `/proc/sys/fs/inotify/max_user_watches` when that is less (the limit
    /// is per user, shared with editors and other tools).
    pub max_watches: usize,
    /// The period of the polling fallback. Default 1 s.
    pub poll_interval: Duration,
    /// A batch of more paths than this is reported as one [`Batch::rescan`]
    /// instead (a `git checkout` is one reconcile, not thousands of events).
    /// Default 1000.
    pub burst: usize,
    /// Poll only, never watch natively (tests, network filesystems where
    /// inotify sees no remote changes).
    pub force_poll: bool,
}

impl Default for WatchOptions {
    fn default() -> WatchOptions {
        WatchOptions {
            debounce: Duration::from_millis(75),
            max_watches: default_max_watches(),
            poll_interval: Duration::from_secs(1),
            burst: 1000,
            force_poll: false,
        }
    }
}

/// The default watch budget: 8192, or half the system's inotify watch limit
/// when that is smaller.
pub fn default_max_watches() -> usize {
    const CAP: usize = 8192;
    std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .map_or(CAP, |limit| CAP.min(limit / 2))
}

/// What changed under the root since the previous batch.
///
/// Apply `removed` before `changed`: a path may be in both roles across a
/// replacement (a file replaced by a directory of files).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Files created, modified (metadata-only changes included), or the
    /// target of a rename: absolute paths under the root, never directories,
    /// deduplicated and sorted. Entries that are not regular files (symbolic
    /// links, sockets) are included so the consumer can forget an earlier
    /// regular file at that path; it skips them as `cst index` does.
    pub changed: Vec<PathBuf>,
    /// Paths that no longer exist: files, or a deleted or renamed-away
    /// directory, reported once as the directory path (everything under it
    /// is gone too). Deduplicated and sorted. May name a path the consumer
    /// never indexed (an ignored file that was deleted): forgetting it is a
    /// no-op.
    pub removed: Vec<PathBuf>,
    /// Events may have been missed: the consumer must reconcile the whole
    /// tree. `changed` and `removed` may then be empty.
    pub rescan: bool,
}

impl Batch {
    /// A batch that only asks for a rescan.
    pub fn rescan() -> Batch {
        Batch {
            changed: Vec::new(),
            removed: Vec::new(),
            rescan: true,
        }
    }

    /// True when the batch reports nothing at all.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty() && !self.rescan
    }
}

/// How the watcher learns about changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Operating-system notifications (inotify on Linux), one watch per
    /// directory.
    Native,
    /// Walking the tree every [`WatchOptions::poll_interval`].
    Polling,
}

/// A snapshot of what the watcher is doing, for `cst serve` status output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchStatus {
    /// The current backend.
    pub mode: Mode,
    /// Directories watched natively (0 when polling).
    pub watched_dirs: usize,
    /// The watch budget in force.
    pub max_watches: usize,
    /// Why the watcher polls, when it does.
    pub polling_reason: Option<String>,
    /// Batches sent.
    pub batches: u64,
    /// Of the batches, those with [`Batch::rescan`] set.
    pub rescans: u64,
    /// Times the kernel queue overflowed (notify asked for a rescan).
    pub overflows: u64,
    /// I/O and notify errors met: unreadable entries, directories that could
    /// not be watched, errors of notify (those also cause a rescan). They
    /// never stop the watcher.
    pub errors: u64,
}

/// Why a watcher could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The root could not be inspected.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The root is not a directory.
    #[error("{}: not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// The watcher thread could not be started.
    #[error("cannot start the watcher thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A running watcher. Dropping it stops and joins its thread.
#[derive(Debug)]
pub struct Watcher {
    root: PathBuf,
    status: Arc<Mutex<WatchStatus>>,
    /// Never sent on: dropping it disconnects the receivers, which is the
    /// stop signal (a disconnected channel wakes every `select!` at once).
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching `root` (made absolute, not canonicalised, so reported
    /// paths start with the root as given). Batches go to `sink`; when its
    /// receiver is dropped the watcher stops quietly.
    ///
    /// Native watches are in place when this returns, so a change made right
    /// after is reported. Failing to watch natively is not an error: the
    /// watcher polls instead (see [`WatchStatus::polling_reason`]).
    pub fn start(
        root: &Path,
        options: WatchOptions,
        sink: Sender<Batch>,
    ) -> Result<Watcher, Error> {
        let root = std::path::absolute(root).map_err(|source| Error::Io {
            path: root.to_path_buf(),
            source,
        })?;
        let meta = std::fs::metadata(&root).map_err(|source| Error::Io {
            path: root.clone(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(Error::NotADirectory(root));
        }
        let status = Arc::new(Mutex::new(WatchStatus {
            mode: Mode::Native,
            watched_dirs: 0,
            max_watches: options.max_watches,
            polling_reason: None,
            batches: 0,
            rescans: 0,
            overflows: 0,
            errors: 0,
        }));
        let (stop_tx, stop_rx) = channel::bounded::<()>(0);
        let ctx = Ctx {
            root: root.clone(),
            options,
            sink,
            stop: Stop(stop_rx),
            status: status.clone(),
        };
        // Set up in the caller's thread, so that whatever happens after
        // `start` returns is seen.
        let thread = if ctx.options.force_poll {
            let baseline = poll::Poller::new(&ctx, "polling forced by WatchOptions::force_poll");
            spawn("cst-watch-poll", move || baseline.run(&ctx, false))?
        } else {
            match native::Native::start(&ctx) {
                Ok(native) => spawn("cst-watch-native", move || native.run(&ctx))?,
                Err(reason) => {
                    let poller = poll::Poller::fallback(&ctx, reason);
                    spawn("cst-watch-poll", move || poller.run(&ctx, true))?
                }
            }
        };
        Ok(Watcher {
            root,
            status,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// What the watcher is doing now.
    pub fn status(&self) -> WatchStatus {
        self.status.lock().clone()
    }

    /// The absolute root being watched.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // The thread checks the stop signal while waiting and while
            // walking, so this returns promptly.
            let _ = thread.join();
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, Error> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .map_err(Error::Thread)
}

/// The stop signal: disconnected when the [`Watcher`] is dropped.
#[derive(Debug)]
pub(crate) struct Stop(pub(crate) Receiver<()>);

impl Stop {
    /// True once the watcher is being dropped.
    pub(crate) fn requested(&self) -> bool {
        !matches!(self.0.try_recv(), Err(TryRecvError::Empty))
    }

    /// Sleeps for `d`, or less if stopped; false when stopped.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        matches!(
            self.0.recv_timeout(d),
            Err(channel::RecvTimeoutError::Timeout)
        )
    }
}

/// What the watcher thread works with.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) root: PathBuf,
    pub(crate) options: WatchOptions,
    pub(crate) sink: Sender<Batch>,
    pub(crate) stop: Stop,
    pub(crate) status: Arc<Mutex<WatchStatus>>,
}

impl Ctx {
    /// Sends a batch, waiting for room in a bounded sink but never past a
    /// stop. False when the thread must end (stopped, or nobody listens).
    pub(crate) fn send(&self, batch: Batch) -> bool {
        let rescan = batch.rescan;
        // Counted before it is handed over: a consumer that has the batch
        // must find it counted.
        {
            let mut s = self.status.lock();
            s.batches += 1;
            s.rescans += u64::from(rescan);
        }
        let sent = channel::select! {
            send(self.sink, batch) -> r => r.is_ok(),
            recv(self.stop.0) -> _ => false,
        };
        if !sent {
            let mut s = self.status.lock();
            s.batches -= 1;
            s.rescans -= u64::from(rescan);
        }
        sent
    }

    /// Counts `n` errors.
    pub(crate) fn errors(&self, n: u64) {
        if n > 0 {
            self.status.lock().errors += n;
        }
    }
}
