//! A command's session with its workspace: the flags turned into the
//! workspace layer's open options (`cst_workspace::discover`), the notes
//! and exit codes the command adds, and the end of the session.

use std::path::{Path, PathBuf};

use cst::{Cache, Config};
use cst_workspace::discover::{self, Access, OpenOptions};

use crate::Failure;
use crate::flags::Cli;

/// How the flags open a cache for `access`: `--wait` makes a writer queue.
pub(crate) fn open_options(cli: &Cli, access: Access) -> OpenOptions {
    let access = match access {
        Access::Write | Access::WriteOrRead if cli.wait => Access::WriteWaiting,
        other => other,
    };
    OpenOptions {
        cache_dir: cli.cache_dir.clone(),
        config_file: cli.config.clone(),
        access,
    }
}

/// The configuration of the workspace at `root`. A `--config` that does not
/// exist is a usage error.
pub(crate) fn load_config(cli: &Cli, root: &Path) -> Result<Config, Failure> {
    discover::load_config(cli.config.as_deref(), root).map_err(|e| match e {
        cst_workspace::Error::NotFound(p) => {
            Failure::usage(format!("--config {}: no such file", p.display()))
        }
        e => e.into(),
    })
}

/// Opens the cache of the workspace at `root` for `access`, saying so when
/// another writer makes it read-only.
pub(crate) fn open(cli: &Cli, root: &Path, access: Access) -> Result<Cache, Failure> {
    let config = load_config(cli, root)?;
    let opened = discover::open_cache(root, config, &open_options(cli, access))?;
    if opened.fell_back_to_read {
        eprintln!(
            "cst: another process writes the cache; reading it as it is (results are not kept; --wait to queue)"
        );
    }
    Ok(opened.cache)
}

/// `p`, canonical; an error names it.
pub(crate) fn canonical(p: &Path) -> Result<PathBuf, Failure> {
    p.canonicalize()
        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()).into())
}

/// The indexed files under `paths` (files or directories), and the cache.
pub(crate) struct Selection {
    pub cache: Cache,
    pub files: Vec<PathBuf>,
    /// Where printed paths are relative to.
    pub base: PathBuf,
}

/// Opens the workspace cache of `paths` (default: the current directory),
/// to write if no other process does, and lists its indexed files under
/// them, indexing first the ones with nothing indexed (all with `reindex`).
pub(crate) fn select(cli: &Cli, paths: &[PathBuf], reindex: bool) -> Result<Selection, Failure> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let paths: Vec<PathBuf> = paths
        .iter()
        .map(|p| canonical(p))
        .collect::<Result<_, _>>()?;
    let root = discover::find_root(&paths[0], cli.cache_dir.is_some());
    let cache = open(cli, &root, Access::WriteOrRead)?;
    let files = discover::select(&cache, &paths, reindex)?;
    let base = std::env::current_dir()
        .ok()
        .and_then(|d| d.canonicalize().ok())
        .unwrap_or_default();
    Ok(Selection { cache, files, base })
}

/// Ends a command that only read the cache. A read-only cache has nothing
/// to write back, and freeing the maps of a large store (every path, every
/// record) took a fifth of `cst show` on the Linux kernel's; the process
/// exits next, which frees them at once.
pub(crate) fn done_reading(cache: Cache) {
    debug_assert!(cache.is_read_only());
    std::mem::forget(cache);
}

/// Ends a command that wrote the cache: makes everything durable, waits for
/// a background compaction it started (as dropping the cache would), then
/// leaves the memory to the exiting process, as [`done_reading`] does.
pub(crate) fn done_writing(cache: Cache) -> Result<(), Failure> {
    cache.flush()?;
    cache.wait_for_maintenance();
    std::mem::forget(cache);
    Ok(())
}

/// Ends a command that may have written or only read the cache.
pub(crate) fn finish(cache: Cache) -> Result<(), Failure> {
    if cache.is_read_only() {
        done_reading(cache);
        Ok(())
    } else {
        done_writing(cache)
    }
}
