//! The store at scale: trees of vanished paths kept for the disk budget (a
//! branch switched away and back parses nothing), the budget evicting the
//! oldest unreferenced records first, background compaction, trained
//! dictionaries for trees and sources, and compressed sources read back.

use crate::common;

use std::path::Path;

use common::{check_served, files_under};
use cst::{Cache, Compression, Config};

fn config() -> Config {
    Config {
        threads: 2,
        ..Config::default()
    }
}

/// A Rust file of about `fns` functions, different for each `variant`.
fn rust_source(variant: usize, fns: usize) -> String {
    let mut s = format!("//! Module {variant}.\n\nuse std::collections::HashMap;\n\n");
    for f in 0..fns {
        s += &format!(
            "/// Doc for f{f}.\npub fn f{variant}_{f}(map: &mut HashMap<String, u64>, x: u64) -> Option<u64> {{\n    let key = format!(\"k{{}}\", x % {m});\n    let v = map.entry(key).or_insert(0);\n    *v += x.wrapping_mul({variant}) ^ {f};\n    if *v > {f} {{ Some(*v - {f}) }} else {{ None }}\n}}\n\n",
            m = f + 3
        );
    }
    s
}

fn write_tree(root: &Path, files: usize, fns: usize, seed: usize) {
    for i in 0..files {
        let p = root.join(format!("src/m{i}.rs"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, rust_source(seed + i, fns)).unwrap();
    }
}

#[test]
fn a_branch_switched_away_and_back_parses_nothing() {
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_tree(ws.path(), 40, 5, 0);
    let files = files_under(ws.path());
    let saved: Vec<(std::path::PathBuf, Vec<u8>)> = files
        .iter()
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();
    {
        let cache = Cache::open(dir.path(), config()).unwrap();
        let r = cache.index(ws.path(), &|_| {}).unwrap();
        assert_eq!(r.parsed, 40);
        cache.flush().unwrap();
    }
    // A checkout that hides every file.
    for p in &files {
        std::fs::remove_file(p).unwrap();
    }
    {
        let cache = Cache::open(dir.path(), config()).unwrap();
        let r = cache.index(ws.path(), &|_| {}).unwrap();
        assert_eq!(r.removed, 40);
        cache.flush().unwrap();
        assert!(cache.paths().is_empty());
        let u = cache.disk_usage();
        assert!(u.unreferenced > 0, "the trees stay on disk: {u:?}");
    }
    // And back: every file found again without a parse, in a new process's cache.
    for (p, b) in &saved {
        std::fs::write(p, b).unwrap();
    }
    let cache = Cache::open(dir.path(), config()).unwrap();
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!((r.parsed, r.hits + r.unread), (0, 40), "{r:?}");
    assert_eq!(cache.stats().parses, 0);
    for (p, b) in &saved {
        check_served(&cache, p, b).unwrap();
    }
    assert_eq!(cache.disk_usage().unreferenced, 0);
}

#[test]
fn the_disk_budget_evicts_the_oldest_unreferenced_trees_first() {
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let unlimited = Config {
        disk_bytes: 0,
        ..config()
    };
    let cache = Cache::open(dir.path(), unlimited.clone()).unwrap();
    // Three generations of the same 20 paths, each forgotten by the next.
    for generation in 0..3 {
        write_tree(ws.path(), 20, 4, generation * 1000);
        cache.index(ws.path(), &|_| {}).unwrap();
        cache.flush().unwrap();
    }
    let u = cache.disk_usage();
    assert!(u.unreferenced > 0);
    let live_referenced = u.trees + u.sources + u.tags - u.unreferenced;
    drop(cache);
    // A budget that holds what the paths refer to and about one more generation.
    let budget_cfg = Config {
        disk_bytes: live_referenced * 2 + u.other + u.dictionaries + 4096,
        ..config()
    };
    let cache = Cache::open(dir.path(), budget_cfg).unwrap();
    cache.flush().unwrap();
    let after = cache.disk_usage();
    assert!(
        after.unreferenced < u.unreferenced,
        "nothing evicted: {after:?}"
    );
    // Generation 0 (the oldest) went first: its content comes back parsed
    // (as much of it as the budget needed gone), generation 1's from the store.
    let g0 = {
        write_tree(ws.path(), 20, 4, 0);
        cache.index(ws.path(), &|_| {}).unwrap()
    };
    write_tree(ws.path(), 20, 4, 1000);
    let g1 = cache.index(ws.path(), &|_| {}).unwrap();
    assert!(g0.parsed > 0, "the oldest generation was evicted: {g0:?}");
    assert_eq!(g1.parsed, 0, "the newer one was kept: {g1:?}");
    // Every served tree is exact, and what paths refer to was never evicted.
    for p in files_under(ws.path()) {
        check_served(&cache, &p, &std::fs::read(&p).unwrap()).unwrap();
    }
}

#[test]
fn dead_bytes_are_compacted_in_the_background() {
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        segment_bytes: 32 << 10,
        compact_dead_bytes: 64 << 10,
        disk_bytes: 1,
        ..config()
    };
    let cache = Cache::open(dir.path(), cfg.clone()).unwrap();
    for generation in 0..6 {
        write_tree(ws.path(), 20, 6, generation * 100);
        cache.index(ws.path(), &|_| {}).unwrap();
        // Over budget: unreferenced generations are removed, then compacted.
        cache.flush().unwrap();
    }
    cache.wait_for_maintenance();
    let u = cache.disk_usage();
    assert_eq!(u.unreferenced, 0, "{u:?}");
    assert!(
        u.dead * 4 < u.files_bytes.max(1) || u.dead < cfg.compact_dead_bytes,
        "dead bytes left: {u:?}"
    );
    // A reader opened beside the writer reads everything exactly.
    let reader = Cache::open_read_only(dir.path(), cfg).unwrap();
    for p in files_under(ws.path()) {
        check_served(&reader, &p, &std::fs::read(&p).unwrap()).unwrap();
    }
}

#[test]
fn dictionaries_are_trained_stored_and_used_and_old_records_stay_readable() {
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Written first with lz4 trees and no dictionaries (an older store).
    let old = Config {
        disk_compression: Compression::Lz4,
        dictionaries: false,
        ..config()
    };
    write_tree(ws.path(), 10, 30, 0);
    {
        let cache = Cache::open(dir.path(), old).unwrap();
        cache.index(ws.path(), &|_| {}).unwrap();
        cache.flush().unwrap();
        assert!(cache.disk_usage().dictionary_list.is_empty());
    }
    // Enough files for both dictionaries of Rust.
    let more = tempfile::tempdir().unwrap();
    write_tree(more.path(), 320, 30, 500);
    {
        let cache = Cache::open(dir.path(), config()).unwrap();
        cache.index(more.path(), &|_| {}).unwrap();
        cache.flush().unwrap();
        let kinds: Vec<_> = cache
            .disk_usage()
            .dictionary_list
            .iter()
            .map(|d| (d.language, d.kind))
            .collect();
        assert_eq!(kinds, vec![("rust", "trees"), ("rust", "sources")]);
    }
    // A new process: the dictionaries are read back and new records use
    // them: the same 20 files take fewer bytes than in a store without.
    let late = tempfile::tempdir().unwrap();
    write_tree(late.path(), 20, 30, 9000);
    let cache = Cache::open(dir.path(), config()).unwrap();
    let before = cache.disk_usage();
    cache.index(late.path(), &|_| {}).unwrap();
    cache.flush().unwrap();
    let after = cache.disk_usage();
    drop(cache);
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = Cache::open(
        plain_dir.path(),
        Config {
            dictionaries: false,
            ..config()
        },
    )
    .unwrap();
    plain.index(late.path(), &|_| {}).unwrap();
    plain.flush().unwrap();
    let p = plain.disk_usage();
    let (trees, sources) = (after.trees - before.trees, after.sources - before.sources);
    assert!(
        trees < p.trees,
        "trees: {trees} B with dictionaries, {} B without",
        p.trees
    );
    assert!(
        sources < p.sources,
        "sources: {sources} B with dictionaries, {} B without",
        p.sources
    );
    // Old records (lz4, no dictionary) and new ones read exactly, in a reader.
    let cache = Cache::open_read_only(dir.path(), config()).unwrap();
    let mut n = 0;
    for root in [ws.path(), more.path(), late.path()] {
        for p in files_under(root) {
            check_served(&cache, &p, &std::fs::read(&p).unwrap()).unwrap();
            n += 1;
        }
    }
    let v = cache.verify_all().unwrap();
    assert!(v.mismatches.is_empty() && v.missing.is_empty(), "{v:?}");
    assert_eq!(v.files, n);
}

#[test]
fn sources_are_stored_compressed() {
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_tree(ws.path(), 5, 40, 3);
    let raw: u64 = files_under(ws.path())
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let cache = Cache::open(dir.path(), config()).unwrap();
    cache.index(ws.path(), &|_| {}).unwrap();
    cache.flush().unwrap();
    let u = cache.disk_usage();
    assert!(
        u.sources * 3 < raw,
        "sources {} B for {raw} B of files",
        u.sources
    );
    // Read back from the store, not the files.
    for p in files_under(ws.path()) {
        let content = std::fs::read(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        check_served(&cache, &p, &content).unwrap();
    }
}

#[test]
fn a_read_only_cache_serves_files_it_parsed_itself_after_evicting_them() {
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_tree(ws.path(), 30, 20, 7);
    // Nothing stored: a reader parses in memory, under budgets too small to
    // keep the trees, and must still serve each of them exactly.
    let tiny = Config {
        hot_bytes: 20_000,
        warm_bytes: 4_000,
        cold_bytes: 2_000,
        ..config()
    };
    let cache = Cache::open_read_only(dir.path(), tiny).unwrap();
    cache.index(ws.path(), &|_| {}).unwrap();
    assert!(cache.stats().evictions > 0, "the budgets evicted nothing");
    for p in files_under(ws.path()) {
        check_served(&cache, &p, &std::fs::read(&p).unwrap()).unwrap();
    }
    assert!(
        !dir.path().join("store").exists(),
        "a reader created the store"
    );
}
