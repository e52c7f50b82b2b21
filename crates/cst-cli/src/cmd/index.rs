//! `cst index`: index a workspace (or have its running server reconcile
//! it) and print the summary.

use std::collections::BTreeMap;

use cst_workspace::discover::Access;
use serde::Serialize;

use crate::Failure;
use crate::cmd::{remote, serve};
use crate::flags::{Cli, IndexArgs};
use crate::output::{self, print_pretty};
use crate::session;

/// `cst index --json`.
#[derive(Serialize)]
struct IndexOut {
    files: u64,
    lines: u64,
    nodes: u64,
    parsed: u64,
    hits: u64,
    unread: u64,
    removed: u64,
    /// Files skipped, by reason.
    skipped: BTreeMap<&'static str, u64>,
    /// Files of languages the catalogue knows and no grammar parses, per
    /// language name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    no_grammar: BTreeMap<&'static str, u64>,
    /// By language id.
    languages: BTreeMap<&'static str, LanguageOut>,
    seconds: f64,
    lines_per_second: f64,
    bytes: BytesOut,
    lines_per_mb: f64,
    /// The shared remote, when one is configured (and not `--no-remote`).
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<remote::IndexRemote>,
}

/// One language of [`IndexOut`].
#[derive(Serialize)]
struct LanguageOut {
    files: u64,
    lines: u64,
    nodes: u64,
    bytes: u64,
}

/// The bytes of each tier, and on disk.
#[derive(Serialize)]
struct BytesOut {
    hot: u64,
    warm: u64,
    cold: u64,
    frozen: u64,
    disk: u64,
}

pub(crate) fn run(cli: &Cli, args: &IndexArgs) -> Result<u8, Failure> {
    let dir = &args.dir;
    let workspace = dir
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let cache_dir = session::open_options(cli, Access::Write).cache_dir_of(&workspace);
    // A server writes this cache: it reconciles, on our behalf.
    if let Some(server) = serve::running_server(&cache_dir) {
        let v = serve::ask_reconcile(&server)?;
        if args.json {
            print_pretty(&v)?;
        } else {
            outln!(
                "{} files in {} ms; {} parsed, {} cached, {} forgotten (reconciled by the server at {}, generation {})",
                v["files"],
                v["millis"],
                v["parsed"],
                v["hits"],
                v["removed"],
                server.addr,
                v["generation"]
            );
        }
        return Ok(0);
    }
    let cache = session::open(cli, &workspace, Access::Write)?;
    // The shared remote first: what it holds is not parsed.
    let config = session::load_config(cli, &workspace)?;
    // Progress bars on a terminal, unless the output is JSON.
    let bars = output::progress_wanted(args.json);
    let mut pulled = if args.no_remote {
        None
    } else {
        remote::before_index(&config, &cache, &workspace, bars)
    };
    let bar = output::progress_bar(bars, "{spinner} {pos}/{len} files {wide_bar} {eta}");
    let options = if args.verify_content {
        cst::IndexOptions::verify_content()
    } else {
        cst::IndexOptions::default()
    };
    let report = cache.index_with(&workspace, &options, &|p| {
        if let Some(b) = &bar {
            b.set_length(p.total);
            b.set_position(p.done);
        }
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    cache.flush()?;
    if let Some((r, out)) = &mut pulled {
        remote::after_index(&config, &cache, &workspace, r, out, bars);
    }
    let remote_out = pulled.map(|(_, out)| out);
    if let Some(r) = &remote_out {
        remote::remember(&cache, "index", r);
    }
    let s = cache.stats();
    let secs = report.elapsed.as_secs_f64();
    let lines = report.lines();
    let memory: u64 = s.tiers[..3].iter().map(|t| t.bytes).sum();
    let lines_per_mb = if memory > 0 {
        lines as f64 / (memory as f64 / 1e6)
    } else {
        0.0
    };
    if args.json {
        print_pretty(&IndexOut {
            files: report.files(),
            lines,
            nodes: report.nodes(),
            parsed: report.parsed,
            hits: report.hits,
            unread: report.unread,
            removed: report.removed,
            skipped: report
                .skipped
                .iter()
                .map(|(r, n)| (r.as_str(), *n))
                .collect(),
            no_grammar: report.no_grammar.clone(),
            languages: report
                .languages
                .iter()
                .map(|(id, l)| {
                    let out = LanguageOut {
                        files: l.files,
                        lines: l.lines,
                        nodes: l.nodes,
                        bytes: l.bytes,
                    };
                    (*id, out)
                })
                .collect(),
            seconds: (secs * 1000.0).round() / 1000.0,
            lines_per_second: if secs > 0.0 {
                (lines as f64 / secs).round()
            } else {
                0.0
            },
            bytes: BytesOut {
                hot: s.tiers[0].bytes,
                warm: s.tiers[1].bytes,
                cold: s.tiers[2].bytes,
                frozen: s.tiers[3].bytes,
                disk: s.disk_bytes,
            },
            lines_per_mb: lines_per_mb.round(),
            remote: remote_out,
        })?;
        session::done_writing(cache)?;
        return Ok(0);
    }
    outln!(
        "{:<20} {:>8} {:>10} {:>12}",
        "language",
        "files",
        "lines",
        "nodes"
    );
    for (id, l) in &report.languages {
        outln!("{id:<20} {:>8} {:>10} {:>12}", l.files, l.lines, l.nodes);
    }
    outln!(
        "{} files, {} lines, {} nodes in {:.2} s ({:.0} lines/s); {} parsed, {} cached ({} unread: status unchanged)",
        report.files(),
        lines,
        report.nodes(),
        secs,
        lines as f64 / secs.max(1e-9),
        report.parsed,
        report.hits,
        report.unread
    );
    for (reason, n) in &report.skipped {
        outln!("skipped {n} files: {}", reason.as_str());
    }
    if !report.no_grammar.is_empty() {
        let mut by_count: Vec<(&&str, &u64)> = report.no_grammar.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        // The five with most files, then how many languages more.
        let mut list: Vec<String> = by_count
            .iter()
            .take(5)
            .map(|(l, n)| format!("{l} ({n})"))
            .collect();
        if by_count.len() > 5 {
            list.push(format!("{} more", by_count.len() - 5));
        }
        outln!(
            "no grammar for {}; add one with `cst grammar add <dir | .crate | .tgz>` or `cst grammar import`",
            list.join(", ")
        );
    }
    if report.removed > 0 {
        outln!(
            "forgot {} paths indexed earlier (deleted, now ignored or skipped)",
            report.removed
        );
    }
    outln!(
        "bytes: hot {} warm {} cold {} frozen {} (disk {}); {:.0} lines per MB of memory",
        s.tiers[0].bytes,
        s.tiers[1].bytes,
        s.tiers[2].bytes,
        s.tiers[3].bytes,
        s.disk_bytes,
        lines_per_mb
    );
    if let Some(r) = &remote_out {
        outln!(
            "remote: {} fetched ({} bytes, {} requests), {} refused{}{}",
            r.fetched,
            r.bytes,
            r.stats.requests,
            r.rejected,
            r.push
                .as_ref()
                .map(|p| format!("; pushed {} of {}", p.pushed, p.bundles))
                .unwrap_or_default(),
            r.error
                .as_ref()
                .map(|e| format!("; not used: {e}"))
                .unwrap_or_default()
        );
    }
    session::done_writing(cache)?;
    Ok(0)
}
