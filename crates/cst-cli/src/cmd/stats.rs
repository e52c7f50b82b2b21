//! `cst stats`: the counters of the cache and its tiers, what opening the
//! store found, and the disk's use by kind and language.

use std::collections::BTreeMap;

use cst::{CacheStats, DiskUsage, OpenReport};
use cst_workspace::discover::Access;
use serde::Serialize;

use crate::Failure;
use crate::flags::{Cli, StatsArgs};
use crate::output::print_pretty;
use crate::session;

/// `cst stats --json`.
#[derive(Serialize)]
struct StatsOut {
    paths: u64,
    disk_bytes: u64,
    disk: DiskOut,
    hits: u64,
    misses: u64,
    promotions: u64,
    demotions: u64,
    evictions: u64,
    parses: u64,
    tags_computed: u64,
    tags_reused: u64,
    /// What opening the store found.
    open: OpenOut,
    /// By tier name (hot, warm, cold, frozen).
    tiers: BTreeMap<&'static str, TierOut>,
    /// What the shared remote did for the last command that used it
    /// (`index`, `pull` or `push`): fetched, bytes, refusals by reason,
    /// errors by kind, the breaker.
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<serde_json::Value>,
}

/// One tier of [`StatsOut`].
#[derive(Serialize)]
struct TierOut {
    entries: u64,
    bytes: u64,
    hits: u64,
    misses: u64,
    promotions: u64,
    demotions: u64,
    evictions: u64,
    checksum_failures: u64,
}

/// What opening the store found.
#[derive(Serialize)]
struct OpenOut {
    lost_data: bool,
    /// The path map's status, as `Debug` prints it.
    path_map: String,
    paths_dropped: u64,
    corrupt_records: u64,
    index_entries_dropped: u64,
    torn_tail_bytes: u64,
    index_rebuilt: bool,
}

/// The store's bytes on disk, by kind; `*_per_line` are bytes per source
/// line, to two decimals.
#[derive(Serialize)]
struct DiskOut {
    files: u64,
    dead: u64,
    trees: u64,
    sources: u64,
    tags: u64,
    dictionaries: u64,
    other: u64,
    unreferenced: u64,
    lines: u64,
    trees_per_line: f64,
    sources_per_line: f64,
    files_per_line: f64,
    dictionary_list: Vec<DictionaryOut>,
    /// By language id.
    languages: BTreeMap<&'static str, LanguageDiskOut>,
}

/// One trained dictionary.
#[derive(Serialize)]
struct DictionaryOut {
    language: &'static str,
    kind: &'static str,
    id: u32,
    bytes: u64,
}

/// One language's share of the disk.
#[derive(Serialize)]
struct LanguageDiskOut {
    files: u64,
    lines: u64,
    trees: u64,
    sources: u64,
}

impl StatsOut {
    fn of(s: &CacheStats, u: &DiskUsage, o: &OpenReport) -> StatsOut {
        let per_line = |b: u64| (u.per_line(b) * 100.0).round() / 100.0;
        StatsOut {
            paths: s.paths,
            disk_bytes: s.disk_bytes,
            disk: DiskOut {
                files: u.files_bytes,
                dead: u.dead,
                trees: u.trees,
                sources: u.sources,
                tags: u.tags,
                dictionaries: u.dictionaries,
                other: u.other,
                unreferenced: u.unreferenced,
                lines: u.lines,
                trees_per_line: per_line(u.trees),
                sources_per_line: per_line(u.sources),
                files_per_line: per_line(u.files_bytes),
                dictionary_list: u
                    .dictionary_list
                    .iter()
                    .map(|d| DictionaryOut {
                        language: d.language,
                        kind: d.kind,
                        id: d.id,
                        bytes: d.bytes,
                    })
                    .collect(),
                languages: u
                    .languages
                    .iter()
                    .map(|(l, x)| {
                        let out = LanguageDiskOut {
                            files: x.files,
                            lines: x.lines,
                            trees: x.trees,
                            sources: x.sources,
                        };
                        (*l, out)
                    })
                    .collect(),
            },
            hits: s.hits,
            misses: s.misses,
            promotions: s.promotions,
            demotions: s.demotions,
            evictions: s.evictions,
            parses: s.parses,
            tags_computed: s.tags_computed,
            tags_reused: s.tags_reused,
            open: OpenOut {
                lost_data: o.lost_data(),
                path_map: format!("{:?}", o.path_map),
                paths_dropped: o.paths_dropped,
                corrupt_records: o.store.corrupt_records,
                index_entries_dropped: o.store.index_entries_dropped,
                torn_tail_bytes: o.store.torn_tail_bytes,
                index_rebuilt: o.store.index_rebuilt,
            },
            tiers: cst::TIER_NAMES
                .iter()
                .zip(&s.tiers)
                .map(|(n, t)| {
                    let out = TierOut {
                        entries: t.entries,
                        bytes: t.bytes,
                        hits: t.hits,
                        misses: t.misses,
                        promotions: t.promotions,
                        demotions: t.demotions,
                        evictions: t.evictions,
                        checksum_failures: t.checksum_failures,
                    };
                    (*n, out)
                })
                .collect(),
            remote: None,
        }
    }
}

pub(crate) fn run(cli: &Cli, args: &StatsArgs) -> Result<u8, Failure> {
    let cache = session::open(cli, &args.dir, Access::Read)?;
    let s = cache.stats();
    let u = cache.disk_usage();
    if args.json {
        let mut out = StatsOut::of(&s, &u, &cache.open_report());
        out.remote = super::remote::last(&cache);
        print_pretty(&out)?;
        session::done_reading(cache);
        return Ok(0);
    }
    let per_line = |b: u64| (u.per_line(b) * 100.0).round() / 100.0;
    for line in cache.open_report().lines() {
        outln!("{line}");
    }
    if let Some(r) = super::remote::last(&cache) {
        outln!(
            "remote (last `cst {}`): {}",
            r["command"].as_str().unwrap_or("?"),
            r["report"]
        );
    }
    outln!(
        "paths {}  disk {} B  hits {}  misses {}  promotions {}  demotions {}  evictions {}",
        s.paths,
        s.disk_bytes,
        s.hits,
        s.misses,
        s.promotions,
        s.demotions,
        s.evictions
    );
    for (n, t) in cst::TIER_NAMES.iter().zip(&s.tiers) {
        outln!(
            "{n:<7} entries {:>8}  bytes {:>12}  checksum failures {}",
            t.entries,
            t.bytes,
            t.checksum_failures
        );
    }
    outln!(
        "disk    {} lines: trees {} B ({} B/line), sources {} B ({} B/line), tags {} B, dictionaries {} B, unreferenced {} B, dead {} B; {} B/line in all",
        u.lines,
        u.trees,
        per_line(u.trees),
        u.sources,
        per_line(u.sources),
        u.tags,
        u.dictionaries,
        u.unreferenced,
        u.dead,
        per_line(u.files_bytes)
    );
    for (l, x) in &u.languages {
        let pl = |b: u64| {
            if x.lines == 0 {
                0.0
            } else {
                b as f64 / x.lines as f64
            }
        };
        outln!(
            "  {l:<12} {:>7} files {:>10} lines  trees {:>6.2} B/line  sources {:>6.2} B/line",
            x.files,
            x.lines,
            pl(x.trees),
            pl(x.sources)
        );
    }
    for d in &u.dictionary_list {
        outln!(
            "dictionary {} {}: {:#010x}, {} B",
            d.language,
            d.kind,
            d.id,
            d.bytes
        );
    }
    session::done_reading(cache);
    Ok(0)
}
