//! Files far above the old 4 MiB limit are indexed and served exactly by
//! default (`max_file_bytes` is 64 MiB); the memory tiers stay within their
//! budgets (a tree too large for a tier's share lives on disk only), and a
//! file over the limit is still skipped without being read.

use cst::{Cache, Config, SkipReason};

#[test]
fn a_file_of_several_mebibytes_is_indexed_served_and_exact() {
    let dir = tempfile::tempdir().unwrap();
    // ~6 MiB of JSON, one record per line.
    let mut text = String::from("[\n");
    let mut i = 0;
    while text.len() < 6 << 20 {
        text.push_str(&format!(
            "  {{\"id\": {i}, \"name\": \"item-{i}\", \"tags\": [\"a\", \"b\", {i}.5], \"ok\": true}},\n"
        ));
        i += 1;
    }
    text.push_str("  null\n]\n");
    let big = dir.path().join("big.json");
    std::fs::write(&big, &text).unwrap();
    let store = tempfile::tempdir().unwrap();
    let config = Config::default();
    assert_eq!(config.max_file_bytes, 64 << 20);
    let cache = Cache::open(store.path(), config.clone()).unwrap();
    let r = cache.index(dir.path(), &|_| {}).unwrap();
    assert_eq!((r.files(), r.parsed), (1, 1), "{:?}", r.skipped);
    let tree = cache.get(&big).unwrap().unwrap();
    assert_eq!(tree.source().unwrap().len(), text.len());
    let live = cst::grammars::by_id("json")
        .unwrap()
        .parser()
        .unwrap()
        .parse(&text, None)
        .unwrap();
    assert_eq!(
        tree.view().node_count(),
        live.root_node().descendant_count()
    );
    let report = cache.verify_all().unwrap();
    assert_eq!((report.files, report.mismatches.len()), (1, 0));
    let s = cache.stats();
    assert!(
        s.tiers[0].bytes <= config.hot_bytes,
        "hot {}",
        s.tiers[0].bytes
    );
    assert!(
        s.tiers[1].bytes <= config.warm_bytes,
        "warm {}",
        s.tiers[1].bytes
    );
    assert!(
        s.tiers[2].bytes <= config.cold_bytes,
        "cold {}",
        s.tiers[2].bytes
    );

    // Over the limit: skipped unread.
    let small = Config {
        max_file_bytes: 1 << 20,
        ..Config::default()
    };
    let cache = Cache::in_memory(small);
    let r = cache.index(dir.path(), &|_| {}).unwrap();
    assert_eq!(r.skipped.get(&SkipReason::TooLarge), Some(&1));
}
