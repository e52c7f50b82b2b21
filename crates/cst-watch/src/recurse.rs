//! Ignore-aware directory listing: the walk `cst index` does.
//!
//! notify cannot skip ignored directories inside a recursive watch, so the
//! watcher recurses itself with `ignore`'s standard filters (`.gitignore`
//! inside a git repository, `.ignore`, `.git/info/exclude`, the global git
//! excludes, hidden files), never following links and never entering `.git`.
//! Walking from a subdirectory applies the ignore files of its parents too,
//! so a walk of one directory agrees with the whole-tree walk about it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ignore::{WalkBuilder, WalkState};
use parking_lot::Mutex;

use crate::Stop;

/// How often (in entries) long walks look at the stop signal.
const STOP_EVERY: usize = 256;

/// The index walk over `dir`.
pub(crate) fn walker(dir: &Path) -> WalkBuilder {
    let mut builder = WalkBuilder::new(dir);
    builder
        .follow_links(false)
        // Hidden-file filtering already skips `.git`; this keeps it skipped
        // whatever the defaults become (it can hold 10k+ directories).
        .filter_entry(|e| e.file_name() != ".git");
    builder
}

/// Why a directory walk stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// More directories than the budget allows.
    TooMany,
    /// The watcher is being dropped.
    Stopped,
}

/// A directory the index walk enters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dir {
    pub(crate) path: PathBuf,
    /// Its inode number (no extra `stat`: the walk has it): a directory
    /// deleted and made again under the same name has a new one.
    pub(crate) ino: Option<u64>,
}

/// What the index walk finds under a directory.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Directories, the walked one included, parents before children.
    pub(crate) dirs: Vec<Dir>,
    /// Everything else: regular files, symbolic links, special files.
    pub(crate) files: Vec<PathBuf>,
}

/// Walks `dir`, giving up with [`Cut::TooMany`] as soon as there are more
/// than `dir_limit` directories. Unreadable entries are counted in `errors`.
/// The walk runs on up to four threads (ignore's parallel walker); the
/// directories come out sorted (a parent before its children), the files
/// (only when `files`) in no order.
pub(crate) fn list(
    dir: &Path,
    dir_limit: usize,
    files: bool,
    stop: &Stop,
    errors: &mut u64,
) -> Result<Listing, Cut> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let found = Mutex::new(Listing::default());
    let cut: Mutex<Option<Cut>> = Mutex::new(None);
    let dirs = AtomicUsize::new(0);
    let failed = AtomicU64::new(0);
    walker(dir).threads(threads).build_parallel().run(|| {
        let mut seen = 0usize;
        let (found, cut, dirs, failed) = (&found, &cut, &dirs, &failed);
        Box::new(move |entry| {
            seen += 1;
            if seen.is_multiple_of(STOP_EVERY) && stop.requested() {
                cut.lock().get_or_insert(Cut::Stopped);
                return WalkState::Quit;
            }
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_dir()) => {
                    if dirs.fetch_add(1, Ordering::Relaxed) >= dir_limit {
                        cut.lock().get_or_insert(Cut::TooMany);
                        return WalkState::Quit;
                    }
                    found.lock().dirs.push(Dir {
                        ino: e.ino(),
                        path: e.into_path(),
                    });
                }
                Ok(e) if files => found.lock().files.push(e.into_path()),
                Ok(_) => {}
                Err(_) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            WalkState::Continue
        })
    });
    *errors += failed.into_inner();
    if let Some(cut) = cut.into_inner() {
        return Err(cut);
    }
    let mut found = found.into_inner();
    found.dirs.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// The directories and files directly in `dir` that the index walk would
/// visit, `dir` itself not included.
pub(crate) fn list_one(dir: &Path, errors: &mut u64) -> Listing {
    let mut found = Listing::default();
    for entry in walker(dir).max_depth(Some(1)).build() {
        match entry {
            Ok(e) if e.depth() == 0 => {}
            Ok(e) if e.file_type().is_some_and(|t| t.is_dir()) => found.dirs.push(Dir {
                ino: e.ino(),
                path: e.into_path(),
            }),
            Ok(e) => found.files.push(e.into_path()),
            Err(_) => *errors += 1,
        }
    }
    found
}

/// The entries of `dir` the index walk would visit (not `dir` itself): the
/// exact ignore verdict for paths that exist, rules of all parents included.
pub(crate) fn children(dir: &Path, errors: &mut u64) -> HashSet<PathBuf> {
    let mut found = HashSet::new();
    for entry in walker(dir).max_depth(Some(1)).build() {
        match entry {
            Ok(e) if e.depth() == 1 => {
                found.insert(e.into_path());
            }
            Ok(_) => {}
            Err(_) => *errors += 1,
        }
    }
    found
}

/// True for the files whose change changes what is ignored.
pub(crate) fn is_ignore_file(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n == ".gitignore" || n == ".ignore")
}
