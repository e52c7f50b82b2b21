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

use ignore::WalkBuilder;

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
pub(crate) fn list(
    dir: &Path,
    dir_limit: usize,
    stop: &Stop,
    errors: &mut u64,
) -> Result<Listing, Cut> {
    let mut found = Listing::default();
    for (i, entry) in walker(dir).build().enumerate() {
        if i % STOP_EVERY == 0 && stop.requested() {
            return Err(Cut::Stopped);
        }
        match entry {
            Ok(e) if e.file_type().is_some_and(|t| t.is_dir()) => {
                if found.dirs.len() == dir_limit {
                    return Err(Cut::TooMany);
                }
                found.dirs.push(Dir {
                    ino: e.ino(),
                    path: e.into_path(),
                });
            }
            Ok(e) => found.files.push(e.into_path()),
            Err(_) => *errors += 1,
        }
    }
    Ok(found)
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
