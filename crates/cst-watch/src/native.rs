//! The native backend: one non-recursive notify watch per directory, and a
//! trailing debounce of our own (the events of a burst, with their paths
//! unioned, until the window passes without one).
//!
//! Not notify-debouncer-full: its `watch` checks each new root against
//! every root it holds (`Path` equality, component by component), which
//! made placing the Linux kernel's 5,095 watches take 1.3 s, five times
//! the whole warm index; and its rename stitching is not needed here.
//!
//! A recursive notify watch would also watch `target/`, `node_modules/` and
//! `.git/`, spending the user's inotify budget and flooding the queue with
//! events nobody wants; so the watcher recurses itself (`recurse.rs`) and
//! adds a directory's watch only when the index walk would enter it.
//!
//! Events are resolved against the filesystem rather than trusted: the
//! debounced events say *which* paths to look at, a `stat` says what they are
//! now. That makes every odd sequence (create + delete within a window, an
//! editor's write-to-temporary-then-rename, a directory replaced by a file)
//! come out as the final state.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crossbeam::channel::{self, Receiver};
use notify::EventKind;
use notify::Watcher as _;
use notify::event::{ModifyKind, RemoveKind, RenameMode};

use crate::batch::Coalescer;
use crate::poll::Poller;
use crate::recurse::{self, Cut, Dir};
use crate::{Batch, Ctx};

/// What notify's handler forwards: one event, or an error.
type Delivery = notify::Result<notify::Event>;

/// The native backend's state.
pub(crate) struct Native {
    /// notify watchers, each with its own inotify instance and event
    /// thread; a directory's watch lives in the one [`shard`] names. Adding
    /// a watch is a round trip to notify's thread (about 90 µs, mostly
    /// waiting), so the watches of a large tree are added through all of
    /// them at once.
    watchers: Vec<notify::RecommendedWatcher>,
    /// Events of notify, forwarded by its handler (which runs on notify's
    /// thread and must not block).
    events: Receiver<Delivery>,
    /// The directories watched, exactly those the index walk enters, with
    /// the inode each watch is on.
    watched: BTreeMap<PathBuf, Option<u64>>,
    /// The watched directory of each inode. A directory renamed or moved
    /// keeps its inode; one inotify instance gives a second watch of the
    /// same inode the same descriptor, so removing the watch under the old
    /// name would remove the new one. The old name's watch is dropped
    /// before the new one is added.
    by_ino: HashMap<u64, PathBuf>,
}

impl std::fmt::Debug for Native {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Native")
            .field("watched", &self.watched.len())
            .finish_non_exhaustive()
    }
}

/// Why native watching cannot go on.
#[derive(Debug)]
enum Fail {
    /// Over the budget, or a watch could not be added: poll instead.
    Budget(String),
    /// The watcher is being dropped.
    Stopped,
}

impl From<Cut> for Fail {
    fn from(cut: Cut) -> Fail {
        match cut {
            Cut::TooMany => Fail::Budget("more directories than the watch budget".to_string()),
            Cut::Stopped => Fail::Stopped,
        }
    }
}

/// What the events of one run of deliveries said about one path: the union
/// of all of them (a later event never hides an earlier one).
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    /// Created, or the target of a rename: a directory must be (re)watched.
    created: bool,
    /// Deleted as a directory: if it was not watched, it was ignored.
    removed_dir: bool,
}

/// Deliveries gathered into one batch.
#[derive(Debug, Default)]
struct Pending {
    /// Every path named, even in a burst: the re-plan then renews the
    /// watches of the directories among them.
    paths: BTreeMap<PathBuf, Seen>,
    /// Events were lost (queue overflow, an error).
    lost: bool,
    fatal: Option<String>,
}

impl Pending {
    fn see(&mut self, path: &Path, f: impl FnOnce(&mut Seen)) {
        if let Some(seen) = self.paths.get_mut(path) {
            f(seen);
        } else {
            f(self.paths.entry(path.to_path_buf()).or_default());
        }
    }
}

/// Which watches a plan adds again although a watch of that name exists.
#[derive(Clone, Copy)]
enum Renew<'a> {
    /// Those whose directory is now another inode (deleted or moved away
    /// and made again while its events went unseen).
    Moved,
    /// Also the directories these events name: one deleted and made again
    /// may have got its old inode number back.
    Named(&'a BTreeMap<PathBuf, Seen>),
    /// All of them: events were lost.
    All,
}

impl Renew<'_> {
    fn forces(self, dir: &Path) -> bool {
        match self {
            Renew::Moved => false,
            Renew::Named(paths) => paths.contains_key(dir),
            Renew::All => true,
        }
    }
}

/// After a batch: go on, or switch to polling.
enum Next {
    Continue,
    FallBack(String),
    Stop,
}

impl Native {
    /// Plans and adds the watches of the whole tree, in the caller's thread.
    /// `Err` is the reason to poll instead.
    pub(crate) fn start(ctx: &Ctx) -> Result<Native, String> {
        let (tx, events) = channel::unbounded();
        let watchers = (0..SHARDS)
            .map(|_| {
                let tx = tx.clone();
                notify::recommended_watcher(move |r: Delivery| {
                    // Opening and reading say nothing about content, and
                    // every directory an index walk lists raises them: they
                    // are dropped here, on notify's thread, not forwarded.
                    if matches!(&r, Ok(e) if matches!(e.kind, EventKind::Access(_)) && !e.need_rescan())
                    {
                        return;
                    }
                    // The receiver is gone only when the watcher thread has ended.
                    let _ = tx.send(r);
                })
                .map_err(|e| format!("cannot start native watching: {e}"))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut native = Native {
            watchers,
            events,
            watched: BTreeMap::new(),
            by_ino: HashMap::new(),
        };
        let root = ctx.root.clone();
        match native.plan(ctx, &root, Renew::Moved, None) {
            Ok(()) => {}
            Err(Fail::Budget(reason)) => return Err(reason),
            Err(Fail::Stopped) => return Err("stopped while starting".to_string()),
        }
        native.publish(ctx);
        Ok(native)
    }

    /// The watcher thread: gathers deliveries into batches until stopped or
    /// until nobody listens; falls back to polling when it must.
    pub(crate) fn run(mut self, ctx: &Ctx) {
        // A trailing debounce: a batch gathers events until the window
        // passes without one (pending paths are unioned, never replaced).
        // A batch is held at most `hold`, so a change that never settles is
        // still reported.
        let gap = ctx.options.debounce.max(Duration::from_millis(5));
        let hold = (ctx.options.debounce * 10).max(Duration::from_secs(1));
        loop {
            let first = channel::select! {
                recv(ctx.stop.0) -> _ => return,
                recv(self.events) -> r => r,
            };
            let Ok(first) = first else {
                return self.fall_back(ctx, "the notify event thread ended".to_string());
            };
            let mut pending = Pending::default();
            self.absorb(ctx, &mut pending, first);
            let until = Instant::now() + hold;
            while Instant::now() < until {
                let next = channel::select! {
                    recv(ctx.stop.0) -> _ => return,
                    recv(self.events) -> r => r,
                    default(gap) => break,
                };
                match next {
                    Ok(r) => self.absorb(ctx, &mut pending, r),
                    Err(_) => break,
                }
            }
            let (batch, next) = self.settle(ctx, pending);
            if let Some(batch) = batch {
                tracing::debug!(
                    changed = batch.changed.len(),
                    removed = batch.removed.len(),
                    rescan = batch.rescan,
                    "watch batch"
                );
                if !ctx.send(batch) {
                    return;
                }
            }
            match next {
                Next::Continue => {}
                Next::FallBack(reason) => return self.fall_back(ctx, reason),
                Next::Stop => return,
            }
        }
    }

    /// Drops every native watch and polls from now on.
    fn fall_back(self, ctx: &Ctx, reason: String) {
        // Dropping the watcher closes the inotify instance, which releases
        // all its watches at once.
        drop(self);
        Poller::fallback(ctx, reason).run(ctx, true);
    }

    /// Records one delivery.
    fn absorb(&self, ctx: &Ctx, pending: &mut Pending, delivery: Delivery) {
        let events = match delivery {
            Ok(event) => [event],
            Err(e) => {
                ctx.errors(1);
                if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) {
                    pending.fatal = Some(format!("the inotify watch limit was reached: {e}"));
                } else {
                    tracing::debug!("watch error, rescanning: {e}");
                    pending.lost = true;
                }
                return;
            }
        };
        for event in events {
            if event.need_rescan() {
                ctx.status.lock().overflows += 1;
                pending.lost = true;
                continue;
            }
            match event.kind {
                // Reads say nothing about content; `Other` is notify's
                // meta-events.
                EventKind::Access(_) | EventKind::Other => {}
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)) if event.paths.len() == 2 => {
                    pending.see(&event.paths[0], |_| {});
                    pending.see(&event.paths[1], |s| s.created = true);
                }
                EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(RenameMode::To)) => {
                    for p in &event.paths {
                        pending.see(p, |s| s.created = true);
                    }
                }
                EventKind::Remove(RemoveKind::Folder) => {
                    for p in &event.paths {
                        pending.see(p, |s| s.removed_dir = true);
                    }
                }
                // Data and metadata changes, removals of files, a rename's
                // source, `Any`: what the path is now decides.
                _ => {
                    for p in &event.paths {
                        pending.see(p, |_| {});
                    }
                }
            }
        }
    }

    /// Turns gathered events into a batch, updating the watches.
    fn settle(&mut self, ctx: &Ctx, pending: Pending) -> (Option<Batch>, Next) {
        if let Some(reason) = pending.fatal {
            return (None, Next::FallBack(reason));
        }
        let mut out = Coalescer::default();
        // A burst is not resolved path by path: only a rescan can come out
        // of it, and the re-plan below updates the watches.
        let burst = pending.paths.len() > ctx.options.burst;
        let mut replan = pending.lost || burst;
        let mut next = Next::Continue;
        if burst {
            tracing::debug!("a burst of more than {} paths: rescan", ctx.options.burst);
        } else {
            match self.resolve(ctx, &pending.paths, &mut out) {
                Ok(Resolved::Done { ignore_changed }) => replan |= ignore_changed,
                Ok(Resolved::RootGone) => {
                    // Report it, then poll: a root that comes back is seen.
                    next = Next::FallBack("the root directory was removed".to_string());
                    replan = false;
                }
                Err(Fail::Budget(reason)) => return (None, Next::FallBack(reason)),
                Err(Fail::Stopped) => return (None, Next::Stop),
            }
        }
        if replan {
            let renew = if pending.lost {
                Renew::All
            } else {
                Renew::Named(&pending.paths)
            };
            let root = ctx.root.clone();
            match self.plan(ctx, &root, renew, None) {
                Ok(()) => out.rescan(),
                Err(Fail::Budget(reason)) => return (None, Next::FallBack(reason)),
                Err(Fail::Stopped) => return (None, Next::Stop),
            }
        }
        self.publish(ctx);
        (out.finish(ctx.options.burst), next)
    }

    /// Looks at each path as it is now.
    fn resolve(
        &mut self,
        ctx: &Ctx,
        paths: &BTreeMap<PathBuf, Seen>,
        out: &mut Coalescer,
    ) -> Result<Resolved, Fail> {
        let mut ignore_changed = false;
        let mut errors = 0;
        // Per parent directory, the entries the index walk would visit:
        // the exact ignore verdict, listed once per batch.
        let mut listings: HashMap<PathBuf, HashSet<PathBuf>> = HashMap::new();
        let mut allowed = |parent: &Path, path: &Path, errors: &mut u64| {
            listings
                .entry(parent.to_path_buf())
                .or_insert_with(|| recurse::children(parent, errors))
                .contains(path)
        };
        // Sorted: a directory comes before anything under it.
        for (path, seen) in paths {
            let (path, seen) = (path.clone(), *seen);
            if path == ctx.root {
                if !path.is_dir() {
                    self.watched.clear();
                    self.by_ino.clear();
                    out.remove(path);
                    return Ok(Resolved::RootGone);
                }
                continue;
            }
            let Some(parent) = path.parent().filter(|p| p.starts_with(&ctx.root)) else {
                continue;
            };
            let parent_watched = self.watched.contains_key(parent);
            if parent_watched && recurse::is_ignore_file(&path) {
                ignore_changed = true;
            }
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => {
                    let watched = self.watched.contains_key(&path);
                    if watched && !seen.created {
                        // A metadata change of a watched directory.
                        continue;
                    }
                    if !parent_watched || !allowed(parent, &path, &mut errors) {
                        continue;
                    }
                    if watched {
                        // Deleted and made again within the window: the old
                        // watches died with the old directory.
                        self.unwatch_subtree(&path);
                    }
                    // Files written before the watch was added raised no
                    // event: `plan` reports what is already there.
                    self.plan(ctx, &path, Renew::Moved, Some(out))?;
                }
                Ok(_) => {
                    if self.watched.contains_key(&path) {
                        // A directory replaced by a file.
                        self.unwatch_subtree(&path);
                        out.remove(path.clone());
                    }
                    if parent_watched && allowed(parent, &path, &mut errors) {
                        out.change(path);
                    }
                }
                Err(e) if is_gone(&e) => {
                    if self.watched.contains_key(&path) {
                        self.unwatch_subtree(&path);
                        out.remove(path);
                    } else if parent_watched && !seen.removed_dir {
                        // An unwatched directory was an ignored one; a file
                        // cannot be checked against the ignore rules any more,
                        // and forgetting an unknown path costs nothing.
                        out.remove(path);
                    }
                }
                Err(e) => {
                    // Cannot tell: let the consumer try and find out.
                    tracing::debug!("{}: {e}", path.display());
                    errors += 1;
                    if parent_watched {
                        out.change(path);
                    }
                }
            }
        }
        ctx.errors(errors);
        Ok(Resolved::Done { ignore_changed })
    }

    /// Watches the directories under `top` (itself included) that the index
    /// walk enters, then looks again at those that may have changed since
    /// the walk began: what appeared in between raised no event, so its
    /// directories are watched in turn and, when `out` is given, its files
    /// reported (with those of the walk).
    ///
    /// Watches under `top` of directories no longer there (or now ignored)
    /// are dropped; existing watches are added again as `renew` says.
    fn plan(
        &mut self,
        ctx: &Ctx,
        top: &Path,
        renew: Renew<'_>,
        mut out: Option<&mut Coalescer>,
    ) -> Result<(), Fail> {
        let max = ctx.options.max_watches;
        let mut errors = 0;
        let mut tried: HashSet<PathBuf> = HashSet::new();
        let mut todo = vec![top.to_path_buf()];
        while let Some(dir) = todo.pop() {
            let began = SystemTime::now();
            let listed = recurse::list(&dir, max, out.is_some(), &ctx.stop, &mut errors)?;
            let keep: HashSet<&Path> = listed.dirs.iter().map(|d| d.path.as_path()).collect();
            let gone: Vec<PathBuf> = self
                .subtree(&dir)
                .filter(|d| !keep.contains(d.as_path()))
                .collect();
            for d in gone {
                self.unwatch_one(&d);
            }
            let new = listed
                .dirs
                .iter()
                .filter(|d| !self.watched.contains_key(&d.path))
                .count();
            if self.watched.len() + new > max {
                return Err(Fail::Budget(format!(
                    "more than {max} directories to watch (the watch budget)"
                )));
            }
            let mut add = Vec::new();
            for d in &listed.dirs {
                let stale = match self.watched.get(&d.path) {
                    None => true,
                    Some(ino) => *ino != d.ino || renew.forces(&d.path),
                };
                if stale && tried.insert(d.path.clone()) {
                    if self.watched.contains_key(&d.path) {
                        // notify keeps one watch per name: drop the old one,
                        // which may follow the old directory elsewhere.
                        self.unwatch_one(&d.path);
                    }
                    add.push(d.clone());
                }
            }
            self.watch_all(ctx, add)?;
            if let Some(out) = out.as_deref_mut() {
                for f in &listed.files {
                    out.change(f.clone());
                }
            }
            // Entries made in a directory after the walk read it raised no
            // event if its watch came later. Such a directory's change time
            // is at or after `began` (a directory's entries cannot change
            // without it); the margin covers coarse timestamps and clocks
            // (git's racy-file rule). Only those directories are listed again.
            for d in listed.dirs.iter().filter(|d| changed_since(&d.path, began)) {
                let again = recurse::list_one(&d.path, &mut errors);
                for sub in again.dirs {
                    if !self.watched.contains_key(&sub.path) && !tried.contains(&sub.path) {
                        todo.push(sub.path);
                    }
                }
                if let Some(out) = out.as_deref_mut() {
                    for f in again.files {
                        out.change(f);
                    }
                }
            }
        }
        ctx.errors(errors);
        Ok(())
    }

    /// Adds the watches of `dirs`, through every shard at once when there
    /// are many.
    fn watch_all(&mut self, ctx: &Ctx, dirs: Vec<Dir>) -> Result<(), Fail> {
        // A directory now here under a new name is still watched under
        // its old one (its events not seen yet, or in a later batch):
        // that watch goes first (see `by_ino`).
        for d in &dirs {
            if let Some(old) = d
                .ino
                .and_then(|ino| self.by_ino.get(&ino))
                .filter(|p| **p != d.path)
                .cloned()
            {
                self.unwatch_one(&old);
            }
        }
        let mut by_shard: Vec<Vec<Dir>> = vec![Vec::new(); self.watchers.len()];
        for d in dirs {
            by_shard[shard(&d.path, self.watchers.len())].push(d);
        }
        let results: Vec<Vec<(Dir, notify::Result<()>)>> =
            if by_shard.iter().map(Vec::len).sum::<usize>() < PARALLEL_FROM {
                self.watchers
                    .iter_mut()
                    .zip(by_shard)
                    .map(|(w, dirs)| add_watches(w, dirs, &ctx.stop))
                    .collect()
            } else {
                std::thread::scope(|scope| {
                    let handles: Vec<_> = self
                        .watchers
                        .iter_mut()
                        .zip(by_shard)
                        .map(|(w, dirs)| scope.spawn(|| add_watches(w, dirs, &ctx.stop)))
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().map_err(|_| ()))
                        .collect::<Result<Vec<_>, ()>>()
                })
                .map_err(|()| Fail::Budget("a thread adding watches panicked".to_string()))?
            };
        if ctx.stop.requested() {
            return Err(Fail::Stopped);
        }
        let mut failed = None;
        for (dir, result) in results.into_iter().flatten() {
            match result {
                Ok(()) => {
                    if let Some(ino) = dir.ino {
                        self.by_ino.insert(ino, dir.path.clone());
                    }
                    self.watched.insert(dir.path, dir.ino);
                }
                // Removed since it was listed: its removal is an event of
                // its parent's watch. Nothing to do with the budget.
                Err(e) if is_vanished(&e) => {}
                // An unreadable directory cannot be watched, nor indexed.
                Err(e) if is_denied(&e) => {
                    tracing::debug!("{}: {e}", dir.path.display());
                    ctx.errors(1);
                }
                // ENOSPC (the user's inotify watch limit) and anything else.
                Err(e) => {
                    failed.get_or_insert(format!("cannot watch {}: {e}", dir.path.display()));
                }
            }
        }
        match failed {
            Some(reason) => Err(Fail::Budget(reason)),
            None => Ok(()),
        }
    }

    /// The watched directories under `dir`, itself included.
    fn subtree<'a>(&'a self, dir: &'a Path) -> impl Iterator<Item = PathBuf> + 'a {
        // Paths order by components, so a directory's descendants follow it.
        self.watched
            .range(dir.to_path_buf()..)
            .take_while(move |(d, _)| d.starts_with(dir))
            .map(|(d, _)| d.clone())
    }

    /// Drops the watches of `dir` and everything under it.
    fn unwatch_subtree(&mut self, dir: &Path) {
        let doomed: Vec<PathBuf> = self.subtree(dir).collect();
        for d in doomed {
            self.unwatch_one(&d);
        }
    }

    fn unwatch_one(&mut self, dir: &Path) {
        // notify already dropped the watch of a deleted or moved directory
        // itself; the error that then comes back means nothing.
        let n = self.watchers.len();
        let _ = self.watchers[shard(dir, n)].unwatch(dir);
        if let Some(Some(ino)) = self.watched.remove(dir)
            && self.by_ino.get(&ino).is_some_and(|p| p == dir)
        {
            self.by_ino.remove(&ino);
        }
    }

    fn publish(&self, ctx: &Ctx) {
        ctx.status.lock().watched_dirs = self.watched.len();
    }
}

/// How many notify watchers (inotify instances) a native watcher uses. The
/// default per-user limit of instances is 128.
const SHARDS: usize = 4;

/// Below this many watches to add, they are added from the calling thread.
const PARALLEL_FROM: usize = 64;

/// How far before a walk a directory's change time still counts as a change
/// during it (git's racy-file margin: coarse timestamps, 1 s granularity).
const RACY: Duration = Duration::from_secs(2);

/// The shard whose watcher holds `dir`'s watch.
fn shard(dir: &Path, shards: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut h);
    (h.finish() % shards as u64) as usize
}

/// Adds the watches of `dirs` with `watcher`, in order; stops early (the
/// rest unreported) when the watcher is being dropped.
fn add_watches(
    watcher: &mut notify::RecommendedWatcher,
    dirs: Vec<Dir>,
    stop: &crate::Stop,
) -> Vec<(Dir, notify::Result<()>)> {
    let mut out = Vec::with_capacity(dirs.len());
    for (i, d) in dirs.into_iter().enumerate() {
        if i % 256 == 255 && stop.requested() {
            break;
        }
        let r = watcher.watch(&d.path, notify::RecursiveMode::NonRecursive);
        out.push((d, r));
    }
    out
}

/// Whether `dir` may have changed since `began` (or cannot be told).
fn changed_since(dir: &Path, began: SystemTime) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return true;
    };
    // The later of the modification and status-change times.
    let at = |secs: i64, nanos: i64| {
        u64::try_from(secs)
            .ok()
            .map(|s| SystemTime::UNIX_EPOCH + Duration::new(s, nanos.clamp(0, 999_999_999) as u32))
    };
    let (Some(m), Some(c)) = (
        at(meta.mtime(), meta.mtime_nsec()),
        at(meta.ctime(), meta.ctime_nsec()),
    ) else {
        return true;
    };
    m.max(c) + RACY >= began
}

/// What `resolve` found.
enum Resolved {
    Done { ignore_changed: bool },
    RootGone,
}

fn is_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn is_vanished(e: &notify::Error) -> bool {
    match &e.kind {
        notify::ErrorKind::PathNotFound => true,
        notify::ErrorKind::Io(io) => is_gone(io),
        _ => false,
    }
}

fn is_denied(e: &notify::Error) -> bool {
    matches!(&e.kind, notify::ErrorKind::Io(io) if io.kind() == io::ErrorKind::PermissionDenied)
}
