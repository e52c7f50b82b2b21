//! `cst map`: aider's ranked repo map from the stored tags (crate
//! `cst-symbols`): the symbol index of the workspace, PageRank over its
//! definitions and references, rendered within a token budget.

use std::io::Write;
use std::path::{Path, PathBuf};

use cst_symbols::{MapOptions, Ranker, SymbolIndex};
use cst_workspace::discover::Access;
use cst_workspace::{Workspace, WorkspaceOptions};

use crate::Failure;
use crate::cmd::serve;
use crate::flags::{Cli, MapArgs};
use crate::output::print_pretty;
use crate::session;

pub(crate) fn run(cli: &Cli, args: &MapArgs) -> Result<u8, Failure> {
    let root = session::canonical(&args.dir)?;
    if !root.is_dir() {
        return Err(Failure::usage(format!(
            "{}: not a directory",
            args.dir.display()
        )));
    }
    let focus = args
        .focus
        .iter()
        .map(|f| focus_path(f, &root))
        .collect::<Result<Vec<_>, _>>()?;
    // A server writes this workspace's cache: it holds the current index
    // (its buffers and what it has not flushed yet); ask it.
    let cache_dir = session::open_options(cli, Access::WriteOrRead).cache_dir_of(&root);
    if let Some(server) = serve::running_server(&cache_dir) {
        let mut query: Vec<(&str, String)> = vec![("tokens", args.tokens.to_string())];
        for f in &focus {
            let rel = f.strip_prefix(&root).unwrap_or(f);
            query.push(("focus", rel.to_string_lossy().into_owned()));
        }
        for m in &args.mention {
            query.push(("mention", m.clone()));
        }
        let mut v = serve::ask_get(&server, "/v1/map", &query)?;
        // The same object as without a server (`RepoMap`).
        if let Some(o) = v.as_object_mut() {
            for k in ["generation", "stale", "stale_count"] {
                o.remove(k);
            }
        }
        if args.json {
            print_pretty(&v)?;
        } else {
            let mut out = std::io::stdout().lock();
            out.write_all(v["text"].as_str().unwrap_or_default().as_bytes())?;
            out.flush()?;
        }
        return Ok(0);
    }
    // The store as the other reading commands open it: to write unless
    // another process does (a running server), else read beside it.
    let ws = Workspace::open(
        &root,
        None,
        WorkspaceOptions {
            open: session::open_options(cli, Access::WriteOrRead),
            watch: false,
            index_on_open: false,
            ..WorkspaceOptions::default()
        },
    )?;
    let read_only = ws.cache().is_read_only();
    if read_only {
        eprintln!(
            "cst: another process writes the cache; reading it as it is (results are not kept; --wait to queue)"
        );
    }
    // Nothing stored under the directory yet: index it first.
    if !read_only && !ws.cache().paths().iter().any(|p| p.starts_with(&root)) {
        ws.reconcile()?;
    }
    let started = std::time::Instant::now();
    let index = SymbolIndex::build(&ws)?;
    if cli.verbose {
        eprintln!(
            "cst: {} files, {} tags read in {:.0?}",
            index.files(),
            index.symbols(),
            started.elapsed()
        );
    }
    let started = std::time::Instant::now();
    let map = Ranker::new().map(
        &index,
        &ws,
        &MapOptions {
            tokens: args.tokens,
            focus,
            mention: args.mention.clone(),
        },
    )?;
    if cli.verbose {
        eprintln!("cst: ranked and rendered in {:.0?}", started.elapsed());
    }
    if args.json {
        print_pretty(&map)?;
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(map.text.as_bytes())?;
        out.flush()?;
    }
    // Keep the tags computed on the way; then leave the memory of a large
    // store to the exiting process (as `session::finish` does).
    if !read_only {
        ws.flush()?;
        ws.cache().wait_for_maintenance();
    }
    std::mem::forget(map);
    std::mem::forget(index);
    std::mem::forget(ws);
    Ok(0)
}

/// A `--focus` file: relative to the current directory, or else to the
/// workspace root.
fn focus_path(f: &Path, root: &Path) -> Result<PathBuf, Failure> {
    f.canonicalize()
        .or_else(|_| root.join(f).canonicalize())
        .map_err(|e| Failure::usage(format!("--focus {}: {e}", f.display())))
}
