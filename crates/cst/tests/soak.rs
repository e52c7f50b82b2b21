//! Concurrency soak: 8 threads mix `get`, `insert`, `edit`, `remove`,
//! `index`, `flush` and `gc` on one persistent cache with small budgets for
//! a bounded time (5 s; `CST_LONG_TESTS=1` runs 120 s, `CST_SOAK_SECS=N`
//! overrides both). Throughout: every served tree is exact (each thread
//! knows what its own paths hold; trees of shared paths must match their own
//! source, one of the contents written there), and at quiescent checkpoints
//! every tier is within its budget. At the end `verify_all` finds no
//! mismatch and nothing missing. The resident set size is sampled
//! (`/proc/self/statm`) and must stay flat after warm-up: the maximum of the
//! last quarter at most 1.5 × the maximum of the first quarter.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use common::{Rng, check_tree, long_mode, mutate, source_for};
use cst::{Cache, Config};

const THREADS: usize = 8;
/// Paths owned by each thread, and paths all threads write.
const OWN: u64 = 12;
const SHARED: u64 = 8;
/// Contents of shared paths come from this many variants, so threads
/// cache (and remove) the same keys at once.
const SHARED_VARIANTS: u64 = 6;

fn config() -> Config {
    Config {
        hot_bytes: 600_000,
        warm_bytes: 60_000,
        cold_bytes: 30_000,
        threads: 2,
        // A bounded store: removed and replaced contents leave the disk
        // through the budget and background compaction (which then run
        // beside everything else), as they once left it through `remove`.
        disk_bytes: 1 << 20,
        compact_dead_bytes: 256 << 10,
        segment_bytes: 256 << 10,
        ..Config::default()
    }
}

fn own_path(t: usize, i: u64) -> PathBuf {
    let ext = ["rs", "py", "js", "json", "go"][(i % 5) as usize];
    PathBuf::from(format!("/soak/t{t}/f{i}.{ext}"))
}

fn shared_path(i: u64) -> PathBuf {
    PathBuf::from(format!("/soak/shared/f{i}.rs"))
}

#[derive(Default)]
struct Counts {
    ops: [AtomicU64; 8],
}

const OP_NAMES: [&str; 8] = [
    "get", "insert", "edit", "remove", "index", "flush", "gc", "shared",
];

/// One worker: random operations until `deadline`; returns its failures.
fn worker(
    t: usize,
    cache: &Cache,
    ws: &Path,
    ws_files: &[(PathBuf, Vec<u8>)],
    gate: &RwLock<()>,
    counts: &Counts,
    deadline: Instant,
) -> Result<(), String> {
    let mut rng = Rng::new(0x50a4 + t as u64);
    let mut model: HashMap<PathBuf, Vec<u8>> = HashMap::new();
    let shared_sources: Vec<Vec<u8>> = (0..SHARED_VARIANTS)
        .map(|v| source_for("x.rs", v).into_bytes())
        .collect();
    while Instant::now() < deadline {
        let _running = gate.read().unwrap();
        let i = rng.below(OWN);
        let path = own_path(t, i);
        let rel = path.to_string_lossy().into_owned();
        let op = match rng.below(100) {
            0..40 => 0,
            40..58 => 1,
            58..72 => 2,
            72..80 => 3,
            80..83 => 4,
            83..86 => 5,
            86..87 if t == 0 => 6,
            _ => 7,
        };
        counts.ops[op].fetch_add(1, Ordering::Relaxed);
        match op {
            0 => {
                let got = cache.get(&path).map_err(|e| format!("get: {e}"))?;
                match (got, model.get(&path)) {
                    (Some(tree), Some(content)) => {
                        if tree.source() != Some(&content[..]) {
                            let tree_ok = check_tree(&path, &tree, content).is_ok();
                            return Err(format!(
                                "{rel}: served source differs: {:?} bytes served, {} expected \
                                 (the tree {} the expected content)",
                                tree.source().map(<[u8]>::len),
                                content.len(),
                                if tree_ok { "matches" } else { "does not match" }
                            ));
                        }
                        check_tree(&path, &tree, content)?;
                    }
                    (None, None) => {}
                    (Some(_), None) => return Err(format!("{rel}: removed but served")),
                    (None, Some(_)) => return Err(format!("{rel}: inserted but lost")),
                }
            }
            1 => {
                // Contents repeat (content addresses are shared across
                // threads and paths), with occasional fresh ones.
                let variant = if rng.below(4) == 0 {
                    rng.next()
                } else {
                    rng.below(40)
                };
                let src = source_for(&rel, variant).into_bytes();
                cache
                    .insert(&path, src.clone())
                    .map_err(|e| format!("insert: {e}"))?;
                model.insert(path, src);
            }
            2 => {
                let Some(old) = model.get(&path).cloned() else {
                    continue;
                };
                let new = mutate(&rel, &old, &mut rng);
                let edit = common::input_edit(&old, &new);
                cache
                    .edit(&path, &edit, new.clone())
                    .map_err(|e| format!("edit: {e}"))?;
                model.insert(path, new);
            }
            3 => {
                let was = cache.remove(&path).map_err(|e| format!("remove: {e}"))?;
                if was != model.remove(&path).is_some() {
                    return Err(format!("{rel}: remove returned {was}"));
                }
            }
            4 => {
                let r = cache
                    .index(ws, &|_| {})
                    .map_err(|e| format!("index: {e}"))?;
                if r.files() != ws_files.len() as u64 {
                    return Err(format!("index found {} files", r.files()));
                }
                let (p, content) = &ws_files[rng.below(ws_files.len() as u64) as usize];
                common::check_served(cache, p, content)?;
            }
            5 => cache.flush().map_err(|e| format!("flush: {e}"))?,
            6 => drop(cache.gc().map_err(|e| format!("gc: {e}"))?),
            _ => {
                let p = shared_path(rng.below(SHARED));
                match rng.below(3) {
                    0 => {
                        let src = shared_sources[rng.below(SHARED_VARIANTS) as usize].clone();
                        cache
                            .insert(&p, src)
                            .map_err(|e| format!("shared insert: {e}"))?;
                    }
                    1 => drop(
                        cache
                            .remove(&p)
                            .map_err(|e| format!("shared remove: {e}"))?,
                    ),
                    _ => {
                        if let Some(tree) = cache.get(&p).map_err(|e| format!("get: {e}"))? {
                            let src = tree.source().ok_or("shared: no source")?.to_vec();
                            if !shared_sources.contains(&src) {
                                return Err("shared: a source never written".into());
                            }
                            check_tree(&p, &tree, &src)?;
                        }
                    }
                }
            }
        }
    }
    // At the end, everything this thread holds is served exactly.
    let _running = gate.read().unwrap();
    for (path, content) in &model {
        common::check_served(cache, path, content).map_err(|e| format!("final: {e}"))?;
    }
    Ok(())
}

#[test]
fn eight_threads_mixing_operations_keep_budgets_exact_trees_and_flat_memory() {
    let secs: u64 = std::env::var("CST_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if long_mode() { 120 } else { 5 });
    let ws = tempfile::tempdir().unwrap();
    let names = common::generate_workspace(ws.path(), 25, 25, 99);
    let ws_files: Vec<(PathBuf, Vec<u8>)> = names
        .iter()
        .map(|rel| {
            let p = ws.path().join(rel);
            let c = std::fs::read(&p).unwrap();
            (p, c)
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let config = config();
    let cache = Cache::open(dir.path(), config.clone()).unwrap();
    let gate = RwLock::new(());
    let counts = Counts::default();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let samples: Mutex<Vec<(f64, u64, u64)>> = Mutex::new(Vec::new());
    let budget_checks = AtomicU64::new(0);
    let budget_failure: Mutex<Option<String>> = Mutex::new(None);
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (cache, ws, ws_files, gate, counts) =
                    (&cache, ws.path(), &ws_files[..], &gate, &counts);
                s.spawn(move || worker(t, cache, ws, ws_files, gate, counts, deadline))
            })
            .collect();
        // The monitor: RSS every 100 ms; budgets at a quiescent point
        // (every worker between operations) every 500 ms.
        let interval = Duration::from_millis(100);
        let mut tick = 0u64;
        while Instant::now() < deadline {
            std::thread::sleep(interval);
            tick += 1;
            let (rss, file) = common::rss_and_file_bytes();
            samples
                .lock()
                .unwrap()
                .push((started.elapsed().as_secs_f64(), rss, file));
            if tick.is_multiple_of(5) {
                let _quiet = gate.write().unwrap();
                let st = cache.stats();
                budget_checks.fetch_add(1, Ordering::Relaxed);
                let over = [
                    ("hot", st.tiers[0].bytes, config.hot_bytes),
                    ("warm", st.tiers[1].bytes, config.warm_bytes),
                    ("cold", st.tiers[2].bytes, config.cold_bytes),
                ]
                .into_iter()
                .find(|(_, b, limit)| b > limit);
                if let Some((tier, b, limit)) = over {
                    budget_failure
                        .lock()
                        .unwrap()
                        .get_or_insert(format!("{tier} tier holds {b} bytes over its {limit}"));
                }
            }
        }
        handles
            .into_iter()
            .enumerate()
            .filter_map(|(t, h)| match h.join() {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("thread {t}: {e}")),
                Err(_) => Some(format!("thread {t} panicked")),
            })
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let stats = cache.stats();
    let v = cache.verify_all().unwrap();
    let ops: Vec<String> = OP_NAMES
        .iter()
        .zip(&counts.ops)
        .map(|(n, c)| format!("{n} {}", c.load(Ordering::Relaxed)))
        .collect();
    let total: u64 = counts.ops.iter().map(|c| c.load(Ordering::Relaxed)).sum();

    // The RSS curve: after a warm-up of the first fifth, the maximum of the
    // last quarter against that of the first quarter.
    let samples = samples.into_inner().unwrap();
    let steady = &samples[samples.len() / 5..];
    let q = (steady.len() / 4).max(1);
    let max_of = |s: &[(f64, u64, u64)]| s.iter().map(|x| x.1).max().unwrap_or(0);
    let mib = |b: u64| b as f64 / 1048576.0;
    let (first, last) = (max_of(&steady[..q]), max_of(&steady[steady.len() - q..]));
    let step = (samples.len() / 24).max(1);
    let curve: Vec<String> = samples
        .iter()
        .step_by(step)
        .map(|&(t, rss, file)| format!("{t:.0}s:{:.1}/{:.1}", mib(rss), mib(rss - file)))
        .collect();
    println!(
        "soak: {THREADS} threads, {elapsed:.1} s, {total} operations ({:.0}/s: {}); \
         {} budget checks; verify_all: {} files, {} mismatches, {} missing; \
         hits {}, misses {}, parses {}, promotions {}, demotions {}, evictions {}, disk {} KiB",
        total as f64 / elapsed,
        ops.join(", "),
        budget_checks.load(Ordering::Relaxed),
        v.files,
        v.mismatches.len(),
        v.missing.len(),
        stats.hits,
        stats.misses,
        stats.parses,
        stats.promotions,
        stats.demotions,
        stats.evictions,
        stats.disk_bytes / 1024,
    );
    println!(
        "soak RSS (MiB): first-quarter max {:.1}, last-quarter max {:.1} (ratio {:.2}); \
         curve (time: RSS/anonymous) {}",
        mib(first),
        mib(last),
        last as f64 / first.max(1) as f64,
        curve.join(" ")
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if let Some(e) = budget_failure.into_inner().unwrap() {
        panic!("{e}");
    }
    assert!(
        v.mismatches.is_empty() && v.missing.is_empty(),
        "verify_all: {v:?}"
    );
    for (tier, b, limit) in [
        ("hot", stats.tiers[0].bytes, config.hot_bytes),
        ("warm", stats.tiers[1].bytes, config.warm_bytes),
        ("cold", stats.tiers[2].bytes, config.cold_bytes),
    ] {
        assert!(b <= limit, "{tier}: {b} > {limit}");
    }
    assert!(stats.demotions > 0 && stats.evictions > 0, "{stats:?}");
    assert!(
        last as f64 <= 1.5 * first as f64,
        "RSS grew from {first} to {last} bytes"
    );
}
