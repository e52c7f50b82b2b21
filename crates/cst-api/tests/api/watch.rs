//! Watching: files created, changed, renamed and deleted on disk are seen
//! through the API without a request to reconcile; a rename of unchanged
//! content is not a parse; a burst is one reconcile.

use std::time::{Duration, Instant};

use crate::common::{Server, Setup, fresh_sexp};

fn watching() -> Server {
    Server::start_with(
        &[
            ("src/a.rs", "fn a() {}\n"),
            ("target/skip.rs", "fn skipped() {}\n"),
            (".gitignore", "target/\n"),
            (".git/HEAD", "ref: refs/heads/main\n"),
        ],
        Setup {
            watch: true,
            ..Setup::default()
        },
    )
}

/// Waits (generously: the machine is shared) until `f` holds.
fn eventually(what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !f() {
        assert!(started.elapsed() < Duration::from_secs(20), "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
    started.elapsed()
}

#[test]
fn created_changed_renamed_and_deleted_files_are_seen() {
    let s = watching();
    let st = s.get("/v1/status").json();
    assert_eq!(st["watch"]["mode"], "native", "{st}");
    let root = s.root();
    // The ignored directory is neither indexed nor watched.
    assert!(
        !s.ws
            .cache()
            .paths()
            .iter()
            .any(|p| p.starts_with(root.join("target")))
    );
    // Created.
    std::fs::write(root.join("src/b.rs"), "fn b() {}\n").unwrap();
    let paths = || s.ws.cache().paths();
    eventually("b.rs indexed", || paths().contains(&root.join("src/b.rs")));
    assert_eq!(
        s.get("/v1/tree?path=src/b.rs").body,
        format!("{}\n", fresh_sexp("rust", "fn b() {}\n"))
    );
    // Changed.
    std::fs::write(root.join("src/b.rs"), "fn b2() -> u8 { 2 }\n").unwrap();
    eventually("b.rs changed", || {
        s.get("/v1/outline?path=src/b.rs").json()["items"][0]["name"] == "b2"
    });
    // Renamed, content unchanged: no parse.
    let parses = s.ws.cache().stats().parses;
    std::fs::rename(root.join("src/b.rs"), root.join("src/c.rs")).unwrap();
    eventually("c.rs indexed, b.rs forgotten", || {
        let p = paths();
        p.contains(&root.join("src/c.rs")) && !p.contains(&root.join("src/b.rs"))
    });
    assert_eq!(
        s.ws.cache().stats().parses,
        parses,
        "a rename is not a parse"
    );
    // Deleted.
    std::fs::remove_file(root.join("src/c.rs")).unwrap();
    eventually("c.rs forgotten", || {
        !paths().contains(&root.join("src/c.rs"))
    });
    s.get("/v1/tree?path=src/c.rs")
        .assert_error(404, "not_found");
    // A new directory with files.
    std::fs::create_dir_all(root.join("lib/deep")).unwrap();
    std::fs::write(root.join("lib/deep/d.py"), "def d(): pass\n").unwrap();
    eventually("d.py indexed", || {
        paths().contains(&root.join("lib/deep/d.py"))
    });
    // Written into the ignored directory: never indexed.
    std::fs::write(root.join("target/new.rs"), "fn new() {}\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(!paths().contains(&root.join("target/new.rs")));
    let st = s.get("/v1/status").json();
    assert!(st["generation"].as_u64().unwrap() > 1, "{st}");
    assert_eq!(st["stale_count"], 0, "{st}");
}

#[test]
fn a_checkout_burst_is_reconciled() {
    let s = watching();
    let root = s.root();
    let before = s.get("/v1/status").json()["reconciles"].as_u64().unwrap();
    for i in 0..1500 {
        std::fs::write(
            root.join(format!("src/burst{i}.rs")),
            format!("fn f{i}() {{}}\n"),
        )
        .unwrap();
    }
    eventually("all burst files indexed", || {
        s.ws.cache()
            .paths()
            .iter()
            .filter(|p| p.to_string_lossy().contains("burst"))
            .count()
            == 1500
    });
    let after = s.get("/v1/status").json();
    let batches = after["reconciles"].as_u64().unwrap() - before;
    // Debounced and coalesced: far fewer reconciles than files.
    assert!(batches < 50, "{batches} reconciles for 1500 files: {after}");
    assert_eq!(
        s.get("/v1/tree?path=src/burst777.rs").body,
        format!("{}\n", fresh_sexp("rust", "fn f777() {}\n"))
    );
}

#[test]
fn the_watcher_falls_back_to_polling_within_its_budget() {
    let dir_files: Vec<(String, String)> = (0..5)
        .map(|i| (format!("d{i}/x.rs"), "fn x() {}\n".to_string()))
        .collect();
    let refs: Vec<(&str, &str)> = dir_files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let s = crate::common::Server::start_budget(&refs, 2);
    let st = s.get("/v1/status").json();
    assert_eq!(st["watch"]["mode"], "polling", "{st}");
    assert!(st["watch"]["polling_reason"].is_string(), "{st}");
    let m = s.get("/metrics").body;
    assert!(m.contains("cst_watch_polling 1"), "{m}");
    let root = s.root();
    std::fs::write(root.join("d3/new.rs"), "fn polled() {}\n").unwrap();
    eventually("polled file indexed", || {
        s.ws.cache().paths().contains(&root.join("d3/new.rs"))
    });
}
