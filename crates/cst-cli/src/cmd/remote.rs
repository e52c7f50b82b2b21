//! `cst push`, `cst pull` and `cst remote keygen`: the shared remote tier
//! (crate `cst-remote`, docs/REMOTE.md). The remote is `[remote] url` in
//! `cst.toml` or `CST_REMOTE_URL`; the endpoint and credentials come from
//! the `AWS_*` variables; refs are checked with `[remote] public_key` or
//! `CST_REMOTE_PUBLIC_KEY`, and signed with the private key in
//! `CST_REMOTE_SIGNING_KEY_FILE` (only where pushes are allowed).
//!
//! Also the remote's use by the other commands: the pull before
//! `cst index` and the push after it, the pull before `cst serve`'s first
//! index and its counters for `/metrics` ([`ServeRemote`]), and the
//! transfers' progress bars (on a terminal, without `--json`).

use std::path::Path;

use cst_workspace::cst::remote::{PublicKey, Remote, RemoteConfig, keys};
use cst_workspace::cst::{self, Config};
use cst_workspace::discover::Access;

use crate::Failure;
use crate::flags::{Cli, KeygenArgs, PullArgs, PushArgs, RemoteGcArgs};
use crate::output::{self, print_pretty};
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
/// With `bar`, the pull draws a progress bar.
pub(crate) fn before_index(
    config: &Config,
    cache: &cst::Cache,
    root: &Path,
    bar: bool,
) -> Option<(Remote, IndexRemote)> {
    let (remote, branch) = match configured(config)? {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cst: remote: {}; indexing locally", e.error);
            return None;
        }
    };
    let progress = transfer_bar(bar, "packs");
    let options = cst::PullOptions::new(config.remote.verify_sample).only_for(root);
    let out = pull_before_index(cache, &remote, &branch, &options, &|p| {
        draw(progress.as_ref(), p)
    });
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    Some((remote, out))
}

/// How a push of `config` compacts (`now`: `cst push --compact`).
fn push_options(config: &Config, now: bool) -> cst::PushOptions {
    let over = if now {
        0
    } else {
        usize::try_from(config.remote.compact_over).unwrap_or(usize::MAX)
    };
    cst::PushOptions::default().compact_over(Some(over))
}

/// The remote `config` names, opened, and its branch: `None` when no
/// remote is configured, an error when its configuration is unusable.
pub(crate) fn configured(config: &Config) -> Option<Result<(Remote, String), Failure>> {
    config.remote.url.as_ref()?;
    Some(remote_of(config))
}

/// Pulls what `remote`'s `branch` holds and the store lacks (only what
/// the files under `options.only_for` need), before an index (`cst
/// index`, `cst serve`'s first index). A remote that fails is
/// a miss: said on stderr and in the answer, and the index parses.
pub(crate) fn pull_before_index(
    cache: &cst::Cache,
    remote: &Remote,
    branch: &str,
    options: &cst::PullOptions,
    progress: &dyn Fn(cst::RemoteProgress),
) -> IndexRemote {
    let mut out = IndexRemote {
        fetched: 0,
        bytes: 0,
        rejected: 0,
        pull: None,
        push: None,
        error: None,
        stats: remote.stats(),
    };
    match cache.pull_remote_with(remote, branch, options, progress) {
        Ok(s) => {
            out.fetched = s.imported;
            out.bytes = s.bytes;
            out.rejected = s.rejected.values().sum::<u64>() + s.packs_refused;
            out.pull = Some(s);
        }
        Err(e) => {
            eprintln!("cst: {e}; indexing locally");
            out.error = Some(e.to_string());
        }
    }
    out.stats = remote.stats();
    out
}

/// A progress bar of a transfer on stderr (`unit`s handled, bytes moved),
/// when `show`: see [`output::progress_bar`].
fn transfer_bar(show: bool, unit: &str) -> Option<indicatif::ProgressBar> {
    output::progress_bar(
        show,
        &format!("{{spinner}} remote: {{pos}}/{{len}} {unit}, {{msg}} {{wide_bar}} {{eta}}"),
    )
}

/// Shows `p` on `bar`.
fn draw(bar: Option<&indicatif::ProgressBar>, p: cst::RemoteProgress) {
    if let Some(b) = bar {
        b.set_length(p.total);
        b.set_position(p.done);
        b.set_message(indicatif::HumanBytes(p.bytes).to_string());
    }
}

/// The remote of `cst serve`: opened at start, pulled from before the
/// first index (on the workspace's reconcile thread, so the server
/// listens meanwhile and is ready after), and counted in `/metrics`
/// (`cst_remote_*`): the client's counters and the pulls' summaries.
#[derive(Debug)]
pub(crate) struct ServeRemote {
    /// A remote is configured.
    configured: bool,
    /// Why it is not used, when that is known at start.
    disabled: Option<&'static str>,
    /// The client and its branch.
    remote: Option<(Remote, String)>,
    verify_sample: f64,
    /// The workspace: only what its files need is fetched.
    root: std::path::PathBuf,
    pulls: std::sync::Mutex<Pulls>,
}

/// What `cst serve`'s pulls did, summed.
#[derive(Debug, Default)]
struct Pulls {
    count: u64,
    failures: u64,
    fetched: u64,
    present: u64,
    packs: u64,
    packs_refused: u64,
    rejected: std::collections::BTreeMap<String, u64>,
}

impl ServeRemote {
    /// The remote `config` names (none with `opt_out`: `--no-remote`). An
    /// unusable configuration is said on stderr and counted, never fatal.
    pub(crate) fn new(config: &Config, opt_out: bool, root: &Path) -> ServeRemote {
        let mut me = ServeRemote {
            configured: config.remote.url.is_some(),
            disabled: None,
            remote: None,
            verify_sample: config.remote.verify_sample,
            root: root.to_path_buf(),
            pulls: std::sync::Mutex::default(),
        };
        if opt_out {
            me.disabled = me.configured.then_some("flag");
            return me;
        }
        match configured(config) {
            None => {}
            Some(Ok(r)) => me.remote = Some(r),
            Some(Err(e)) => {
                eprintln!("cst: remote: {}; indexing locally", e.error);
                me.disabled = Some("config");
            }
        }
        me
    }

    /// Whether there is a remote to pull from.
    pub(crate) fn is_open(&self) -> bool {
        self.remote.is_some()
    }

    /// Pulls into `cache` (before the first index); kept for `cst stats`
    /// and counted for `/metrics`. Never fails: a failure is a miss.
    pub(crate) fn pull(&self, cache: &cst::Cache) {
        let Some((remote, branch)) = &self.remote else {
            return;
        };
        let options = cst::PullOptions::new(self.verify_sample).only_for(&self.root);
        let out = pull_before_index(cache, remote, branch, &options, &|_| {});
        {
            let mut p = self.pulls.lock().unwrap_or_else(|e| e.into_inner());
            p.count += 1;
            match &out.pull {
                Some(s) => {
                    p.fetched += s.imported;
                    p.present += s.present;
                    p.packs += s.packs;
                    p.packs_refused += s.packs_refused;
                    for (reason, n) in &s.rejected {
                        *p.rejected.entry(reason.clone()).or_default() += n;
                    }
                }
                None => p.failures += 1,
            }
        }
        remember(cache, "serve", &out);
    }
}

impl cst_api::RemoteStatus for ServeRemote {
    fn remote_metrics(&self) -> cst_api::RemoteMetrics {
        use cst_workspace::cst::remote::BreakerState;
        let mut m = cst_api::RemoteMetrics::default();
        m.configured = self.configured;
        m.disabled = self.disabled;
        m.breaker = "closed";
        if let Some((remote, _)) = &self.remote {
            let s = remote.stats();
            m.requests = s.requests;
            m.bytes_in = s.bytes_in;
            m.bytes_out = s.bytes_out;
            let r = s.rejected;
            m.rejected_objects = vec![
                ("signature", r.signature),
                ("hash", r.hash),
                ("malformed", r.malformed),
                ("version", r.version),
                ("record", r.record),
            ];
            let e = s.errors;
            m.errors = vec![
                ("disabled", e.disabled),
                ("auth", e.auth),
                ("timeout", e.timeout),
                ("outage", e.outage),
                ("not_found", e.not_found),
                ("conflict", e.conflict),
                ("rejected", e.rejected),
                ("config", e.config),
                ("other", e.other),
            ];
            m.breaker = match s.breaker {
                BreakerState::Closed => "closed",
                BreakerState::ReadOnly => "read_only",
                BreakerState::Open => "open",
                BreakerState::Off => "off",
            };
            m.breaker_trips = s.breaker_trips;
            m.disabled = match s.breaker {
                BreakerState::Open => Some("breaker_open"),
                BreakerState::Off => Some("credentials"),
                _ if remote.config().public_key.is_none() => Some("no_public_key"),
                _ => None,
            };
        }
        let p = self.pulls.lock().unwrap_or_else(|e| e.into_inner());
        m.pulls = p.count;
        m.pull_failures = p.failures;
        m.bundles_fetched = p.fetched;
        m.bundles_present = p.present;
        m.packs_fetched = p.packs;
        m.packs_refused = p.packs_refused;
        m.rejected_bundles = p.rejected.iter().map(|(k, v)| (k.clone(), *v)).collect();
        m
    }
}

/// After `cst index`, with `[remote] write`: pushes what was indexed
/// (with `bar`, drawing a progress bar).
pub(crate) fn after_index(
    config: &Config,
    cache: &cst::Cache,
    root: &Path,
    remote: &Remote,
    out: &mut IndexRemote,
    bar: bool,
) {
    if config.remote.write {
        let progress = transfer_bar(bar, "bundles");
        let pushed = signing_key().and_then(|key| {
            cache
                .push_remote_with(
                    remote,
                    &config.remote.branch,
                    &key,
                    root,
                    &push_options(config, false),
                    &|p| {
                        draw(progress.as_ref(), p);
                    },
                )
                .map_err(|e| Failure::from(anyhow::anyhow!("{e}")))
        });
        if let Some(b) = progress {
            b.finish_and_clear();
        }
        match pushed {
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
    rc.pack_target = config.remote.pack_mib << 20;
    let remote = Remote::open(rc).map_err(|e| anyhow::anyhow!("{e}"))?;
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
    let progress = transfer_bar(output::progress_wanted(args.json), "bundles");
    let options = push_options(&config, args.compact);
    let pushed = cache.push_remote_with(&remote, &branch, &key, &root, &options, &|p| {
        draw(progress.as_ref(), p);
    });
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    let summary = pushed?;
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
    let progress = transfer_bar(output::progress_wanted(args.json), "packs");
    let mut options = cst::PullOptions::new(config.remote.verify_sample);
    if !args.all {
        options = options.only_for(&root);
    }
    let pulled = cache.pull_remote_with(&remote, &branch, &options, &|p| {
        draw(progress.as_ref(), p);
    });
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    let pulled = match pulled {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("cst: {e}; indexing locally");
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

pub(crate) fn gc(cli: &Cli, args: &RemoteGcArgs) -> Result<u8, Failure> {
    let root = session::canonical(&args.dir)?;
    let config = session::load_config(cli, &root)?;
    let (remote, _) = remote_of(&config)?;
    // Only a writer collects: the key proves it (its public half is the
    // key refs are checked against when none is configured).
    signing_key()?;
    let grace = std::time::Duration::from_secs(args.grace_hours.saturating_mul(3600));
    let report = remote
        .gc(grace, args.dry_run)
        .map_err(|e| anyhow::anyhow!("remote gc: {e}"))?;
    if args.json {
        print_pretty(&serde_json::json!({
            "dry_run": args.dry_run,
            "gc": report,
            "remote": remote.stats(),
        }))?;
    } else {
        outln!(
            "{} branches; {} objects referenced, {} younger than {} h kept, {} {} ({} bytes)",
            report.branches.len(),
            report.referenced,
            report.young,
            args.grace_hours,
            report.deleted,
            if args.dry_run { "to delete" } else { "deleted" },
            report.deleted_bytes
        );
    }
    Ok(0)
}
