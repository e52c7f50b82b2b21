//! `cst push`, `cst pull` and `cst remote keygen`: the shared remote tier
//! (crate `cst-remote`, docs/REMOTE.md). The remote is `[remote] url` in
//! `cst.toml` or `CST_REMOTE_URL`; the endpoint and credentials come from
//! the `AWS_*` variables; refs are checked with `[remote] public_key` or
//! `CST_REMOTE_PUBLIC_KEY`, and signed with the private key in
//! `CST_REMOTE_SIGNING_KEY_FILE` (only where pushes are allowed).

use std::path::Path;

use cst_workspace::cst::remote::{PublicKey, Remote, RemoteConfig, keys};
use cst_workspace::cst::{self, Config};
use cst_workspace::discover::Access;

use crate::Failure;
use crate::flags::{Cli, KeygenArgs, PullArgs, PushArgs};
use crate::output::print_pretty;
use crate::session;

/// What `cst index` did with the remote: the pull before the index, the
/// push after it, a failure (a miss), and the client's counters.
#[derive(serde::Serialize)]
pub(crate) struct IndexRemote {
    /// Bundles fetched and kept in the local store.
    pub fetched: u64,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Objects and bundles refused (damaged, unsigned, lying).
    pub rejected: u64,
    /// The pull's details.
    pub pull: Option<cst::PullSummary>,
    /// The push's, with `[remote] write`.
    pub push: Option<cst::PushSummary>,
    /// Why the remote was not used (it is then a miss).
    pub error: Option<String>,
    /// The client's counters.
    pub stats: cst_workspace::cst::remote::StatsSnapshot,
}

/// Before `cst index`: pulls what the remote holds and the store lacks,
/// when a remote and its public key are configured. `None` when no
/// remote is configured; a remote that fails is reported in the answer.
pub(crate) fn before_index(config: &Config, cache: &cst::Cache) -> Option<(Remote, IndexRemote)> {
    config.remote.url.as_ref()?;
    let (remote, branch) = match remote_of(config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cst: remote: {}; indexing locally", e.error);
            return None;
        }
    };
    let mut out = IndexRemote {
        fetched: 0,
        bytes: 0,
        rejected: 0,
        pull: None,
        push: None,
        error: None,
        stats: remote.stats(),
    };
    match cache.pull_remote(&remote, &branch, config.remote.verify_sample) {
        Ok(s) => {
            out.fetched = s.imported;
            out.bytes = s.bytes;
            out.rejected = s.rejected.values().sum::<u64>() + s.packs_refused;
            out.pull = Some(s);
        }
        Err(e) => {
            eprintln!("cst: remote: {e}; indexing locally");
            out.error = Some(e.to_string());
        }
    }
    Some((remote, out))
}

/// After `cst index`, with `[remote] write`: pushes what was indexed.
pub(crate) fn after_index(
    config: &Config,
    cache: &cst::Cache,
    root: &Path,
    remote: &Remote,
    out: &mut IndexRemote,
) {
    if config.remote.write {
        match signing_key().and_then(|key| {
            cache
                .push_remote(remote, &config.remote.branch, &key, root)
                .map_err(|e| Failure::from(anyhow::anyhow!("{e}")))
        }) {
            Ok(s) => out.push = Some(s),
            Err(e) => {
                eprintln!("cst: remote push: {}", e.error);
                out.error.get_or_insert(e.error.to_string());
            }
        }
    }
    out.stats = remote.stats();
    out.rejected = out.rejected.max(out.stats.rejected.total());
}

/// Where the last command's use of the remote is kept (for `cst stats`).
fn last_file(cache: &cst::Cache) -> Option<std::path::PathBuf> {
    cache.dir().map(|d| d.join("remote").join("last.json"))
}

/// Keeps `report` (what the remote did for this command, with the time)
/// for `cst stats`; a failure to write is only logged.
pub(crate) fn remember(cache: &cst::Cache, command: &str, report: &impl serde::Serialize) {
    let Some(path) = last_file(cache) else {
        return;
    };
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let v = serde_json::json!({ "command": command, "at": at, "report": report });
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, v.to_string()));
    if let Err(e) = written {
        eprintln!(
            "cst: {}: {e} (the remote report is not kept)",
            path.display()
        );
    }
}

/// The remote report the last command kept, if any.
pub(crate) fn last(cache: &cst::Cache) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(last_file(cache)?).ok()?;
    serde_json::from_str(&text).ok()
}

/// The signing key named by `CST_REMOTE_SIGNING_KEY_FILE`.
fn signing_key() -> Result<keys::SigningKey, Failure> {
    std::env::var_os("CST_REMOTE_SIGNING_KEY_FILE")
        .ok_or_else(|| {
            Failure::usage("no signing key: CST_REMOTE_SIGNING_KEY_FILE names the private key file (`cst remote keygen DIR` makes one)")
        })
        .and_then(|p| {
            keys::SigningKey::load(Path::new(&p))
                .map_err(|e| Failure::usage(format!("CST_REMOTE_SIGNING_KEY_FILE: {e}")))
        })
}

/// The remote of `config`, and its branch.
fn remote_of(config: &Config) -> Result<(Remote, String), Failure> {
    let Some(url) = config.remote.url.clone() else {
        return Err(Failure::usage(
            "no remote: set `[remote] url = \"s3://BUCKET/PREFIX\"` in cst.toml or CST_REMOTE_URL",
        ));
    };
    let mut rc = RemoteConfig::new(url);
    if let Some(pk) = &config.remote.public_key {
        rc.public_key = Some(
            PublicKey::from_hex(pk)
                .map_err(|e| Failure::usage(format!("[remote] public_key: {e}")))?,
        );
    }
    rc.apply_env()
        .map_err(|e| Failure::usage(format!("remote configuration: {e}")))?;
    rc.expected_format = Some(u32::from(cst::bytecode::VERSION));
    let remote = Remote::open(rc).map_err(|e| anyhow::anyhow!("remote: {e}"))?;
    Ok((remote, config.remote.branch.clone()))
}

pub(crate) fn push(cli: &Cli, args: &PushArgs) -> Result<u8, Failure> {
    let root = session::canonical(&args.dir)?;
    let config = session::load_config(cli, &root)?;
    let (remote, branch) = remote_of(&config)?;
    let branch = args.branch.clone().unwrap_or(branch);
    let key = signing_key()?;
    let cache = session::open(cli, &root, Access::WriteOrRead)?;
    // What is pushed is the disk's content: indexed first (nothing parsed
    // when the store is current).
    if !cache.is_read_only() {
        cache.index(&root, &|_| {})?;
    }
    let summary = cache.push_remote(&remote, &branch, &key, &root)?;
    remember(
        &cache,
        "push",
        &serde_json::json!({ "push": summary, "stats": remote.stats() }),
    );
    if args.json {
        print_pretty(&serde_json::json!({
            "branch": branch,
            "push": summary,
            "remote": remote.stats(),
        }))?;
    } else {
        outln!(
            "{} bundles ({} already on the remote, {} pushed, {} skipped), {} dictionaries, {} bytes uploaded; ref {} {}",
            summary.bundles,
            summary.present,
            summary.pushed,
            summary.skipped,
            summary.dictionaries,
            summary.bytes,
            branch,
            if summary.ref_updated {
                "moved"
            } else {
                "unchanged"
            }
        );
    }
    Ok(0)
}

pub(crate) fn pull(cli: &Cli, args: &PullArgs) -> Result<u8, Failure> {
    let root = session::canonical(&args.dir)?;
    let config = session::load_config(cli, &root)?;
    let (remote, branch) = remote_of(&config)?;
    let branch = args.branch.clone().unwrap_or(branch);
    let cache = session::open(cli, &root, Access::Write)?;
    // A remote that fails is a miss: reported, and the index runs locally.
    let pulled = match cache.pull_remote(&remote, &branch, config.remote.verify_sample) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("cst: remote: {e}; indexing locally");
            None
        }
    };
    remember(
        &cache,
        "pull",
        &serde_json::json!({ "pull": pulled, "stats": remote.stats() }),
    );
    let index = if args.no_index {
        None
    } else {
        Some(cache.index(&root, &|_| {})?)
    };
    if args.json {
        print_pretty(&serde_json::json!({
            "branch": branch,
            "pull": pulled,
            "parsed": index.as_ref().map(|r| r.parsed),
            "files": index.as_ref().map(|r| r.files()),
            "remote": remote.stats(),
        }))?;
    } else {
        if let Some(s) = &pulled {
            let rejected: u64 = s.rejected.values().sum();
            outln!(
                "pulled {} packs: {} bundles, {} imported, {} already here, {} rejected, {} verified by a fresh parse; {} bytes in {} requests",
                s.packs,
                s.bundles,
                s.imported,
                s.present,
                rejected,
                s.verified,
                s.bytes,
                s.requests
            );
            for (reason, n) in &s.rejected {
                outln!("  rejected {n}: {reason}");
            }
        }
        if let Some(r) = &index {
            outln!("indexed {} files: {} parsed", r.files(), r.parsed);
        }
    }
    cache.flush()?;
    Ok(0)
}

pub(crate) fn keygen(args: &KeygenArgs) -> Result<u8, Failure> {
    let key = keys::keygen(&args.dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    outln!(
        "wrote {} (private: give it only to writers, as CST_REMOTE_SIGNING_KEY_FILE) and {}",
        args.dir.join("remote.key").display(),
        args.dir.join("remote.pub").display()
    );
    outln!(
        "public key (for readers' `[remote] public_key`): {}",
        key.public().to_hex()
    );
    Ok(0)
}
