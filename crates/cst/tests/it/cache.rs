//! The cache end to end: exact trees from every tier, persistence and
//! invalidation, budgets, skips, and a model-based test of the tier stack.

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cst::{Cache, Config, Outcome, SkipReason};
use proptest::prelude::*;

fn live_sexp(path: &Path, source: &[u8]) -> String {
    let g = cst::grammars::detect(path, source).unwrap();
    g.parser()
        .unwrap()
        .parse(source, None)
        .unwrap()
        .root_node()
        .to_sexp()
}

fn rust_source(i: usize) -> String {
    format!(
        "/// item {i}\npub fn f{i}(x: u32) -> u32 {{\n    let y = x * {i};\n    if y > 10 {{ y - 1 }} else {{ y + {i} }}\n}}\n"
    )
}

fn workspace(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src/nested")).unwrap();
    for i in 0..n {
        let sub = if i % 2 == 0 { "src" } else { "src/nested" };
        std::fs::write(root.join(format!("{sub}/m{i}.rs")), rust_source(i)).unwrap();
    }
    std::fs::write(
        root.join("src/app.py"),
        "def main():\n    return [x * 2 for x in range(10)]\n",
    )
    .unwrap();
    std::fs::write(root.join("data.bin"), [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
    std::fs::write(root.join("notes.unknownext"), "hello").unwrap();
    std::fs::write(root.join("big.rs"), "// x\n".repeat(40_000)).unwrap();
    std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
    std::fs::create_dir_all(root.join("ignored")).unwrap();
    std::fs::write(root.join("ignored/skip.rs"), "fn skipped() {}").unwrap();
    // `ignore` honours .gitignore inside a git work tree; mark it as one.
    std::fs::create_dir_all(root.join(".git")).unwrap();
    dir
}

fn small_config() -> Config {
    Config {
        max_file_bytes: 100_000,
        ..Config::default()
    }
}

#[test]
fn index_reindex_modify_and_reopen() {
    let ws = workspace(20);
    let cache_dir = tempfile::tempdir().unwrap();
    let root = ws.path();
    {
        let cache = Cache::open(cache_dir.path(), small_config()).unwrap();
        let r = cache.index(root, &|_| {}).unwrap();
        assert_eq!(r.languages["rust"].files, 20);
        assert_eq!(r.languages["python"].files, 1);
        assert_eq!((r.parsed, r.hits), (21, 0));
        assert_eq!(r.skipped.get(&SkipReason::Binary), Some(&1));
        // notes.unknownext; hidden files (.gitignore) are not walked.
        assert_eq!(r.skipped.get(&SkipReason::UnknownLanguage), Some(&1));
        assert_eq!(r.skipped.get(&SkipReason::TooLarge), Some(&1));
        assert!(
            cache.get(root.join("ignored/skip.rs")).unwrap().is_none(),
            ".gitignore is respected"
        );
        // Same process, again: all hits.
        let again = cache.index(root, &|_| {}).unwrap();
        assert_eq!((again.parsed, again.hits), (0, 21));
    }
    // After a restart: all hits, no parse; then one modified file is one parse.
    let cache = Cache::open(cache_dir.path(), small_config()).unwrap();
    let r = cache.index(root, &|_| {}).unwrap();
    assert_eq!((r.parsed, r.hits), (0, 21), "reopen finds everything");
    assert_eq!(cache.stats().parses, 0);
    std::fs::write(root.join("src/m4.rs"), rust_source(400)).unwrap();
    let r = cache.index(root, &|_| {}).unwrap();
    assert_eq!((r.parsed, r.hits), (1, 20));
    for i in [0usize, 3, 4, 17] {
        let sub = if i % 2 == 0 { "src" } else { "src/nested" };
        let path = root.join(format!("{sub}/m{i}.rs"));
        let source = std::fs::read(&path).unwrap();
        let tree = cache.get(&path).unwrap().expect("cached");
        assert_eq!(tree.root().to_sexp(), live_sexp(&path, &source));
        assert_eq!(tree.source(), Some(&source[..]));
    }
}

#[test]
fn trees_are_exact_from_every_tier_under_tiny_budgets() {
    // Budgets so small that entries are demoted to warm and cold and dropped.
    let config = Config {
        hot_bytes: 20_000,
        warm_bytes: 3_000,
        cold_bytes: 1_500,
        ..Config::default()
    };
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(cache_dir.path(), config).unwrap();
    let mut files = Vec::new();
    for i in 0..40 {
        let path = PathBuf::from(format!("/virtual/m{i}.rs"));
        let source = rust_source(i).into_bytes();
        assert_eq!(
            cache.insert(&path, source.clone()).unwrap(),
            Outcome::Parsed
        );
        files.push((path, source));
    }
    let s = cache.stats();
    assert!(s.demotions > 0 && s.evictions > 0, "{s:?}");
    assert!(
        s.tiers[0].bytes <= 20_000 && s.tiers[1].bytes <= 3_000 && s.tiers[2].bytes <= 1_500,
        "{s:?}"
    );
    for (path, source) in &files {
        let tree = cache.get(path).unwrap().expect("persisted, so never lost");
        assert_eq!(
            tree.root().to_sexp(),
            live_sexp(path, source),
            "{}",
            path.display()
        );
    }
    assert!(cache.stats().promotions > 0);
}

#[test]
fn every_codec_serves_exact_trees_from_cold_and_disk() {
    use cst::Compression::{Lz4, None as Raw, Zstd};
    for (cold, disk) in [
        (Raw, Raw),
        (Lz4, Raw),
        (Zstd, Lz4),
        (Lz4, Zstd),
        (Raw, Zstd),
    ] {
        let cache_dir = tempfile::tempdir().unwrap();
        let config = |hot, warm, cold_bytes| Config {
            hot_bytes: hot,
            warm_bytes: warm,
            cold_bytes,
            cold_compression: cold,
            disk_compression: disk,
            ..Config::default()
        };
        let mut files = Vec::new();
        let sizes;
        {
            // Everything demoted to the cold tier, written through to disk.
            let cache = Cache::open(cache_dir.path(), config(0, 0, 1 << 30)).unwrap();
            for i in 0..12 {
                let path = PathBuf::from(format!("/virtual/c{i}.rs"));
                let source = rust_source(i).into_bytes();
                cache.insert(&path, source.clone()).unwrap();
                files.push((path, source));
            }
            let s = cache.stats();
            assert_eq!(s.tiers[2].entries, 12, "{cold:?}/{disk:?}: {s:?}");
            for (path, source) in &files {
                let tree = cache.get(path).unwrap().expect("cold");
                assert_eq!(tree.root().to_sexp(), live_sexp(path, source));
            }
            cache.flush().unwrap();
            sizes = (s.tiers[2].bytes, cache.stats().disk_bytes);
        }
        // Reopened with no memory budgets: every get reads the disk.
        let cache = Cache::open(cache_dir.path(), config(0, 0, 0)).unwrap();
        for (path, source) in &files {
            let tree = cache.get(path).unwrap().expect("on disk");
            assert_eq!(
                tree.root().to_sexp(),
                live_sexp(path, source),
                "{cold:?}/{disk:?} {}",
                path.display()
            );
            assert_eq!(tree.source(), Some(&source[..]));
        }
        assert!(sizes.0 > 0 && sizes.1 > 0);
    }
}

#[test]
fn edit_reparses_incrementally_and_tree_gives_a_live_tree() {
    let cache = Cache::in_memory(Config::default());
    let path = Path::new("/v/lib.rs");
    cache.insert(path, b"fn a() {}\n".to_vec()).unwrap();
    let new = b"fn ab() {}\n".to_vec();
    let edit = tree_sitter::InputEdit {
        start_byte: 4,
        old_end_byte: 4,
        new_end_byte: 5,
        start_position: tree_sitter::Point { row: 0, column: 4 },
        old_end_position: tree_sitter::Point { row: 0, column: 4 },
        new_end_position: tree_sitter::Point { row: 0, column: 5 },
    };
    cache.edit(path, &edit, new.clone()).unwrap();
    let tree = cache.get(path).unwrap().unwrap();
    assert_eq!(tree.root().to_sexp(), live_sexp(path, &new));
    let live = cache.tree(path).unwrap().unwrap();
    assert_eq!(live.root_node().to_sexp(), live_sexp(path, &new));
    assert!(cache.remove(path).unwrap());
    assert!(cache.get(path).unwrap().is_none());
}

#[test]
fn unknown_languages_are_typed_errors() {
    let cache = Cache::in_memory(Config::default());
    assert!(matches!(
        cache.insert("/v/readme.unknownext", b"text".to_vec()),
        Err(cst::Error::UnknownLanguage(_))
    ));
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, u8),
    Get(u8),
    Remove(u8),
    Reopen,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    /// The whole tier stack against a map of path → content.
    #[test]
    fn the_tier_stack_behaves_like_a_map(ops in prop::collection::vec(prop_oneof![
        5 => (0u8..12, 0u8..6).prop_map(|(p, c)| Op::Insert(p, c)),
        5 => (0u8..12).prop_map(Op::Get),
        1 => (0u8..12).prop_map(Op::Remove),
        1 => Just(Op::Reopen),
    ], 1..60)) {
        let config = Config { hot_bytes: 6_000, warm_bytes: 1_500, cold_bytes: 800, ..Config::default() };
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Some(Cache::open(dir.path(), config.clone()).unwrap());
        let mut model: HashMap<u8, Vec<u8>> = HashMap::new();
        for op in ops {
            let c = cache.as_ref().unwrap();
            match op {
                Op::Insert(p, content) => {
                    let src = rust_source(usize::from(content)).into_bytes();
                    c.insert(format!("/m/{p}.rs"), src.clone()).unwrap();
                    model.insert(p, src);
                }
                Op::Get(p) => {
                    let path = PathBuf::from(format!("/m/{p}.rs"));
                    let got = c.get(&path).unwrap();
                    match model.get(&p) {
                        Some(src) => {
                            let tree = got.expect("a persisted entry is always found");
                            prop_assert_eq!(tree.root().to_sexp(), live_sexp(&path, src));
                            prop_assert_eq!(tree.source(), Some(&src[..]));
                        }
                        None => prop_assert!(got.is_none()),
                    }
                }
                Op::Remove(p) => {
                    prop_assert_eq!(c.remove(format!("/m/{p}.rs")).unwrap(), model.remove(&p).is_some());
                }
                Op::Reopen => {
                    drop(cache.take());
                    cache = Some(Cache::open(dir.path(), config.clone()).unwrap());
                }
            }
            let s = cache.as_ref().unwrap().stats();
            prop_assert!(s.tiers[0].bytes <= config.hot_bytes, "{s:?}");
            prop_assert!(s.tiers[1].bytes <= config.warm_bytes, "{s:?}");
            prop_assert!(s.tiers[2].bytes <= config.cold_bytes, "{s:?}");
            prop_assert_eq!(s.paths as usize, model.len());
        }
    }
}

#[test]
fn without_stored_sources_the_file_is_read_back_and_checked() {
    let ws = tempfile::tempdir().unwrap();
    let path = ws.path().join("lib.rs");
    std::fs::write(&path, rust_source(1)).unwrap();
    let config = Config {
        store_source: false,
        ..Config::default()
    };
    let cache_dir = tempfile::tempdir().unwrap();
    {
        let cache = Cache::open(cache_dir.path(), config.clone()).unwrap();
        cache.index(ws.path(), &|_| {}).unwrap();
    }
    let cache = Cache::open(cache_dir.path(), config).unwrap();
    let tree = cache.get(&path).unwrap().unwrap();
    assert_eq!(
        tree.source(),
        Some(rust_source(1).as_bytes()),
        "read from disk, hash checked"
    );
    std::fs::write(&path, "fn changed() {}\n").unwrap();
    assert!(
        matches!(cache.get(&path), Err(cst::Error::SourceChanged(_))),
        "a changed file is reported, not served"
    );
}

#[test]
fn concurrent_inserts_and_gets_keep_budgets_and_exact_trees() {
    let config = Config {
        hot_bytes: 30_000,
        warm_bytes: 4_000,
        cold_bytes: 2_000,
        ..Config::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path(), config.clone()).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let cache = cache.clone();
            s.spawn(move || {
                for round in 0..30 {
                    // Threads share paths and contents, so the same keys race.
                    let i = (t * 7 + round) % 24;
                    let path = PathBuf::from(format!("/c/m{i}.rs"));
                    let src = rust_source(i).into_bytes();
                    cache.insert(&path, src.clone()).unwrap();
                    let tree = cache.get(&path).unwrap().expect("just inserted");
                    assert_eq!(tree.root().to_sexp(), live_sexp(&path, &src));
                }
            });
        }
    });
    let s = cache.stats();
    assert!(s.tiers[0].bytes <= config.hot_bytes, "{s:?}");
    assert!(s.tiers[1].bytes <= config.warm_bytes, "{s:?}");
    assert!(s.tiers[2].bytes <= config.cold_bytes, "{s:?}");
    for i in 0..24 {
        let path = PathBuf::from(format!("/c/m{i}.rs"));
        if let Some(tree) = cache.get(&path).unwrap() {
            assert_eq!(
                tree.root().to_sexp(),
                live_sexp(&path, rust_source(i).as_bytes())
            );
        }
    }
}

#[test]
fn opening_and_closing_without_changes_writes_nothing() {
    let ws = workspace(3);
    let cache_dir = tempfile::tempdir().unwrap();
    {
        let cache = Cache::open(cache_dir.path(), small_config()).unwrap();
        cache.index(ws.path(), &|_| {}).unwrap();
    }
    let disk = |dir: &Path| -> u64 {
        std::fs::read_dir(dir.join("store"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum()
    };
    let before = disk(cache_dir.path());
    for _ in 0..3 {
        let cache = Cache::open(cache_dir.path(), small_config()).unwrap();
        // A re-index of unchanged files is all hits and changes no path.
        let r = cache.index(ws.path(), &|_| {}).unwrap();
        assert_eq!(r.parsed, 0);
        let _ = cache.stats();
    }
    assert_eq!(
        disk(cache_dir.path()),
        before,
        "read-only sessions appended records"
    );
}

/// Records of each kind in the store under `cache_dir`, as a reader opened
/// now sees them: (trees, sources).
fn stored_records(cache_dir: &Path) -> (usize, usize) {
    let store = cst::tiers::FrozenStore::open_read_only(
        cache_dir.join("store"),
        cst::tiers::FrozenOptions::default(),
    )
    .unwrap();
    let keys = store.keys();
    let trees = keys.iter().filter(|k| k.len() == 32).count();
    let sources = keys
        .iter()
        .filter(|k| k.len() == 33 && (k[32] == b'Z' || k[32] == b'S'))
        .count();
    (trees, sources)
}

/// Checks everything `cache` answers for `path` against a fresh parse of
/// `content`: the tree (node by node and as an S-expression), its source,
/// `source`, `live_tree`, and tags and chunks equal to those of a detached
/// tree of the same text.
fn check_answers(cache: &Cache, path: &Path, content: &[u8]) {
    common::check_served(cache, path, content).unwrap();
    let tree = cache.get(path).unwrap().unwrap();
    assert_eq!(tree.source(), Some(content));
    assert_eq!(tree.root().to_sexp(), live_sexp(path, content));
    assert_eq!(cache.source(path).unwrap().as_deref(), Some(content));
    let live = cache.live_tree(path).unwrap().unwrap();
    assert_eq!(live.root_node().to_sexp(), live_sexp(path, content));
    let g = cache.language_of(path).unwrap();
    let detached = cache.detached(g, content.to_vec()).unwrap();
    let expected = cache.tags_for(detached.tree().unwrap()).unwrap();
    let tags = cache.tags(path).unwrap().unwrap();
    assert_eq!(tags.tags(), expected.tags());
    assert_eq!(tags.source(), content);
    assert_eq!(
        cache.outline(path).unwrap().unwrap(),
        expected.outline(),
        "outline"
    );
    let options = cst::tags::ChunkOptions {
        max: 200,
        ..Default::default()
    };
    assert_eq!(
        cache.chunks(path, &options).unwrap().unwrap(),
        cache
            .chunks_for(&detached.tree().unwrap(), &options)
            .unwrap()
    );
}

/// `Cache::edit` is write-behind: a sequence of random edits is served
/// exactly (tree, source, tags, chunks) after each edit while nothing is
/// written; `flush` writes the last version only; a reader and a reopened
/// cache then see it.
#[test]
fn edits_are_exact_at_once_and_written_behind() {
    for (seed, rel) in [(1u64, "src/lib.rs"), (2, "app/main.py"), (3, "web/app.js")] {
        let cache_dir = tempfile::tempdir().unwrap();
        let path = PathBuf::from("/ws").join(rel);
        let mut rng = common::Rng::new(seed);
        let mut content = common::source_for(rel, 4 + seed * 6).into_bytes();
        let cache = Cache::open(cache_dir.path(), Config::default()).unwrap();
        cache.insert(&path, content.clone()).unwrap();
        // Tags once, so the language's tags kinds are stored now.
        cache.tags(&path).unwrap().unwrap();
        cache.flush().unwrap();
        let original = content.clone();
        assert_eq!(stored_records(cache_dir.path()), (1, 1));
        let disk = cache.stats().disk_bytes;
        for _ in 0..25 {
            let new = common::mutate(rel, &content, &mut rng);
            let edit = common::input_edit(&content, &new);
            cache.edit(&path, &edit, new.clone()).unwrap();
            content = new;
            check_answers(&cache, &path, &content);
            assert_eq!(
                cache.stats().disk_bytes,
                disk,
                "{rel}: an edit (or a reader of it) wrote to the store"
            );
        }
        assert_ne!(content, original);
        // A reader beside the writer sees the flushed content, exactly.
        let reader = Cache::open_read_only(cache_dir.path(), Config::default()).unwrap();
        common::check_served(&reader, &path, &original).unwrap();
        cache.flush().unwrap();
        assert!(cache.stats().disk_bytes > disk, "{rel}: flush wrote");
        // The original and the last version; no intermediate one.
        assert_eq!(stored_records(cache_dir.path()), (2, 2), "{rel}");
        reader.refresh().unwrap();
        common::check_served(&reader, &path, &content).unwrap();
        let reader = Cache::open_read_only(cache_dir.path(), Config::default()).unwrap();
        common::check_served(&reader, &path, &content).unwrap();
        drop(cache);
        let cache = Cache::open(cache_dir.path(), Config::default()).unwrap();
        common::check_served(&cache, &path, &content).unwrap();
        assert_eq!(cache.stats().parses, 0, "served from the store");
        check_answers(&cache, &path, &content);
        assert_eq!(stored_records(cache_dir.path()), (2, 2), "{rel}");
    }
}

#[test]
fn unflushed_edits_are_written_when_the_last_handle_is_dropped() {
    let cache_dir = tempfile::tempdir().unwrap();
    let path = Path::new("/ws/lib.rs");
    let old = rust_source(1).into_bytes();
    let new = rust_source(2).into_bytes();
    {
        let cache = Cache::open(cache_dir.path(), Config::default()).unwrap();
        cache.insert(path, old.clone()).unwrap();
        let clone = cache.clone();
        clone
            .edit(path, &common::input_edit(&old, &new), new.clone())
            .unwrap();
        drop(clone);
        // Not yet: another handle lives.
        assert_eq!(stored_records(cache_dir.path()).0, 1);
        cache.wait_for_maintenance();
        assert_eq!(stored_records(cache_dir.path()).0, 1);
    }
    assert_eq!(stored_records(cache_dir.path()).0, 2);
    let cache = Cache::open(cache_dir.path(), Config::default()).unwrap();
    common::check_served(&cache, path, &new).unwrap();
    assert_eq!(cache.stats().parses, 0);
    check_answers(&cache, path, &new);
}

/// Editing back to stored content writes nothing; a version another path
/// shares is written although the edited path moved on; a removed path's
/// pending version is not written.
#[test]
fn only_versions_a_path_maps_to_are_written() {
    let cache_dir = tempfile::tempdir().unwrap();
    let (p, q, r) = (
        Path::new("/ws/p.rs"),
        Path::new("/ws/q.rs"),
        Path::new("/ws/r.rs"),
    );
    let v: Vec<Vec<u8>> = (0..5).map(|i| rust_source(i).into_bytes()).collect();
    let cache = Cache::open(cache_dir.path(), Config::default()).unwrap();
    cache.insert(p, v[0].clone()).unwrap();
    cache.insert(r, v[4].clone()).unwrap();
    cache.flush().unwrap();
    assert_eq!(stored_records(cache_dir.path()), (2, 2));
    let edit = |path: &Path, from: usize, to: usize| {
        cache
            .edit(path, &common::input_edit(&v[from], &v[to]), v[to].clone())
            .unwrap();
    };
    // p: 0 → 1 → 0 (undo): nothing new to write.
    edit(p, 0, 1);
    edit(p, 1, 0);
    cache.flush().unwrap();
    assert_eq!(stored_records(cache_dir.path()), (2, 2));
    // p: 0 → 2, q takes the same content, p moves on to 3: both written.
    edit(p, 0, 2);
    assert_eq!(cache.insert(q, v[2].clone()).unwrap(), Outcome::Hit);
    edit(p, 2, 3);
    // r: 4 → 1, then forgotten: its version is not written.
    edit(r, 4, 1);
    assert!(cache.remove(r).unwrap());
    cache.flush().unwrap();
    assert_eq!(stored_records(cache_dir.path()), (4, 4));
    drop(cache);
    let cache = Cache::open(cache_dir.path(), Config::default()).unwrap();
    common::check_served(&cache, p, &v[3]).unwrap();
    common::check_served(&cache, q, &v[2]).unwrap();
    assert!(cache.get(r).unwrap().is_none());
    assert_eq!(cache.stats().parses, 0);
    check_answers(&cache, p, &v[3]);
    check_answers(&cache, q, &v[2]);
}

/// Under budgets too small to keep edited trees hot, each is written when
/// it leaves the hot tier: every tree stays exact, and after a flush and a
/// reopen every path is served from the store.
#[test]
fn edited_trees_leaving_hot_are_written_first() {
    let config = Config {
        hot_bytes: 20_000,
        warm_bytes: 3_000,
        cold_bytes: 1_500,
        store_source: false,
        ..Config::default()
    };
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(cache_dir.path(), config.clone()).unwrap();
    let mut rng = common::Rng::new(7);
    let mut files: Vec<(PathBuf, Vec<u8>)> = (0..12)
        .map(|i| {
            let rel = format!("src/m{i}.rs");
            (
                PathBuf::from("/ws").join(&rel),
                common::source_for(&rel, 100 + i).into_bytes(),
            )
        })
        .collect();
    for (path, content) in &files {
        cache.insert(path, content.clone()).unwrap();
    }
    for round in 0..60 {
        let i = rng.below(files.len() as u64) as usize;
        let (path, content) = &mut files[i];
        let new = common::mutate("x.rs", content, &mut rng);
        cache
            .edit(&*path, &common::input_edit(content, &new), new.clone())
            .unwrap();
        *content = new;
        // Sources are not kept: an edited tree is served with its own.
        common::check_served(&cache, path, content).unwrap();
        let (path, content) = &files[(i + round) % files.len()];
        common::check_served(&cache, path, content).unwrap();
        let s = cache.stats();
        assert!(s.tiers[0].bytes <= config.hot_bytes, "{s:?}");
    }
    assert!(cache.stats().demotions > 0);
    // (Trees out of hot have no source here: the files do not exist.)
    let v = cache.verify_all().unwrap();
    assert!(v.mismatches.is_empty(), "{v:?}");
    cache.flush().unwrap();
    drop(cache);
    let cache = Cache::open(cache_dir.path(), config).unwrap();
    for (path, content) in &files {
        let tree = cache.get(path).unwrap().expect("written");
        assert_eq!(tree.root().to_sexp(), live_sexp(path, content));
    }
    assert_eq!(cache.stats().parses, 0);
}
