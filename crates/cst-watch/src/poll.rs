//! The polling fallback: walk the tree every `poll_interval` and compare.
//!
//! Used when native watching is impossible or unwise (more directories than
//! the watch budget, a watch that cannot be added, a network filesystem).
//! Each walk records (kind, size, modification time) per entry with the same
//! ignore rules as the index walk, so a changed ignore file simply shows up
//! as the files it now hides (removed) or reveals (changed).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::batch::Coalescer;
use crate::{Batch, Ctx, Mode, recurse};

/// How long walks look at the stop signal, in entries.
const STOP_EVERY: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    /// Symbolic links and special files: reported like files (the consumer
    /// decides), but not read.
    Other,
}

/// What one walk saw of one entry. Directories carry no size or time: their
/// modification time moves with every child, which says nothing new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    kind: Kind,
    size: u64,
    mtime: Option<SystemTime>,
}

/// Every entry under the root (the root excluded) at one walk.
type Snapshot = HashMap<PathBuf, Entry>;

/// The polling backend's state: the previous walk.
#[derive(Debug)]
pub(crate) struct Poller {
    snapshot: Snapshot,
}

impl Poller {
    /// Polls because the options say so.
    pub(crate) fn new(ctx: &Ctx, reason: &str) -> Poller {
        enter(ctx, reason.to_string());
        Poller {
            snapshot: snapshot(ctx).unwrap_or_default(),
        }
    }

    /// Polls because native watching failed or would exceed the budget. The
    /// switch happens at most once per watcher, so this warns once.
    pub(crate) fn fallback(ctx: &Ctx, reason: String) -> Poller {
        tracing::warn!(
            root = %ctx.root.display(),
            "file watching falls back to polling every {:?}: {reason}",
            ctx.options.poll_interval
        );
        enter(ctx, reason);
        // The baseline is taken before the rescan batch goes out: whatever
        // changes after it is found by the next walk, whatever changed before
        // by the consumer's reconcile.
        Poller {
            snapshot: snapshot(ctx).unwrap_or_default(),
        }
    }

    /// Polls until stopped or until nobody listens. `announce` sends the
    /// rescan batch of a switch to polling first.
    pub(crate) fn run(mut self, ctx: &Ctx, announce: bool) {
        if announce && !ctx.send(Batch::rescan()) {
            return;
        }
        while ctx.stop.sleep(ctx.options.poll_interval) {
            let Some(next) = snapshot(ctx) else {
                return;
            };
            let mut out = Coalescer::default();
            diff(&self.snapshot, &next, &mut out);
            self.snapshot = next;
            if let Some(batch) = out.finish(ctx.options.burst)
                && !ctx.send(batch)
            {
                return;
            }
        }
    }
}

fn enter(ctx: &Ctx, reason: String) {
    let mut s = ctx.status.lock();
    s.mode = Mode::Polling;
    s.watched_dirs = 0;
    s.polling_reason = Some(reason);
}

/// Walks the tree; `None` when stopped midway.
fn snapshot(ctx: &Ctx) -> Option<Snapshot> {
    let mut snap = Snapshot::new();
    let mut errors = 0;
    for (i, entry) in recurse::walker(&ctx.root).build().enumerate() {
        if i % STOP_EVERY == 0 && ctx.stop.requested() {
            return None;
        }
        let e = match entry {
            Ok(e) if e.depth() > 0 => e,
            Ok(_) => continue,
            Err(_) => {
                errors += 1;
                continue;
            }
        };
        // Gone since it was listed: the next walk will not see it either.
        let Ok(meta) = e.metadata() else { continue };
        let entry = if meta.is_dir() {
            Entry {
                kind: Kind::Dir,
                size: 0,
                mtime: None,
            }
        } else {
            Entry {
                kind: if meta.is_file() {
                    Kind::File
                } else {
                    Kind::Other
                },
                size: meta.len(),
                mtime: meta.modified().ok(),
            }
        };
        snap.insert(e.into_path(), entry);
    }
    ctx.errors(errors);
    Some(snap)
}

/// What changed between two walks.
fn diff(old: &Snapshot, new: &Snapshot, out: &mut Coalescer) {
    for (path, now) in new {
        match old.get(path) {
            None if now.kind != Kind::Dir => out.change(path.clone()),
            None => {}
            Some(was) if was == now => {}
            // A file replaced by a directory: the file is gone; the
            // directory's files are new entries of their own.
            Some(was) if was.kind != Kind::Dir && now.kind == Kind::Dir => out.remove(path.clone()),
            Some(_) if now.kind != Kind::Dir => out.change(path.clone()),
            Some(_) => {}
        }
    }
    for path in old.keys() {
        if !new.contains_key(path) {
            out.remove(path.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64) -> Entry {
        Entry {
            kind: Kind::File,
            size,
            mtime: None,
        }
    }
    const DIR: Entry = Entry {
        kind: Kind::Dir,
        size: 0,
        mtime: None,
    };

    #[test]
    fn diff_reports_created_modified_removed() {
        let old: Snapshot = [
            ("/r/same.rs", file(1)),
            ("/r/mod.rs", file(1)),
            ("/r/del.rs", file(1)),
            ("/r/gone", DIR),
            ("/r/gone/x.rs", file(1)),
            ("/r/became_dir", file(1)),
        ]
        .into_iter()
        .map(|(p, e)| (PathBuf::from(p), e))
        .collect();
        let new: Snapshot = [
            ("/r/same.rs", file(1)),
            ("/r/mod.rs", file(2)),
            ("/r/new.rs", file(1)),
            ("/r/newdir", DIR),
            ("/r/became_dir", DIR),
            ("/r/became_dir/y.rs", file(1)),
        ]
        .into_iter()
        .map(|(p, e)| (PathBuf::from(p), e))
        .collect();
        let mut out = Coalescer::default();
        diff(&old, &new, &mut out);
        let b = out.finish(100).unwrap();
        let paths = |v: &[&str]| v.iter().map(PathBuf::from).collect::<Vec<_>>();
        assert_eq!(
            b.changed,
            paths(&["/r/became_dir/y.rs", "/r/mod.rs", "/r/new.rs"])
        );
        assert_eq!(b.removed, paths(&["/r/became_dir", "/r/del.rs", "/r/gone"]));
        assert!(!b.rescan);
    }
}
