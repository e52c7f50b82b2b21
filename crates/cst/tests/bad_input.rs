//! Bad input through the facade, one test each: binary files, invalid UTF-8,
//! empty files, a 100 MB source, a 100,000-deep nesting, unknown extensions,
//! unreadable files, symlink loops, special files, and a file rewritten
//! while it is indexed. Each ends in a typed error or a skip counted with its
//! reason (or an exact tree): no panic, no stack overflow, no hang.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{check_served, check_tree, fresh_parse};
use cst::{Cache, Config, SkipReason};

/// Runs `f` on a thread with a `stack` of bytes, failing the test if it
/// takes longer than `limit` (a hang) or panics.
fn bounded<T: Send + 'static>(
    name: &str,
    limit: Duration,
    stack: usize,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new()
        .name(name.to_owned())
        .stack_size(stack)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap();
    match rx.recv_timeout(limit) {
        Ok(v) => {
            handle.join().unwrap();
            v
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name}: no result within {limit:?} (a hang)")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // The thread panicked: re-raise its panic here.
            match handle.join() {
                Err(p) => std::panic::resume_unwind(p),
                Ok(()) => unreachable!("sent nothing and did not panic"),
            }
        }
    }
}

const MIB: usize = 1 << 20;

fn skipped(r: &cst::IndexReport, why: SkipReason) -> u64 {
    r.skipped.get(&why).copied().unwrap_or(0)
}

fn temp_cache() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path(), Config::default()).unwrap();
    (dir, cache)
}

#[test]
fn binary_files_are_a_counted_skip_and_an_explicit_insert_is_exact() {
    let ws = tempfile::tempdir().unwrap();
    let blob: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut with_nul = b"fn main() {}\n".to_vec();
    with_nul.extend_from_slice(&blob);
    with_nul[20] = 0;
    std::fs::write(ws.path().join("blob.rs"), &with_nul).unwrap();
    std::fs::write(ws.path().join("image.png"), &blob).unwrap();
    std::fs::write(ws.path().join("ok.rs"), "fn ok() {}\n").unwrap();
    let (_d, cache) = temp_cache();
    let r = bounded("binary", Duration::from_secs(60), 2 * MIB, {
        let cache = cache.clone();
        let root = ws.path().to_path_buf();
        move || cache.index(&root, &|_| {}).unwrap()
    });
    assert_eq!(skipped(&r, SkipReason::Binary), 2, "{r:?}");
    assert_eq!(r.files(), 1);
    assert!(cache.get(ws.path().join("blob.rs")).unwrap().is_none());
    // Told explicitly that it is Rust, the cache parses it: ERROR nodes, exact.
    let path = Path::new("/v/blob.rs");
    cache.insert(path, with_nul.clone()).unwrap();
    check_served(&cache, path, &with_nul).unwrap();
    assert!(cache.get(path).unwrap().unwrap().root().has_error());
}

/// The index reads a file's first 8 KiB, decides binary (a NUL there) and
/// language from them and the path, and only then reads the rest: the
/// boundary and a file read in two parts are exact.
#[test]
fn the_head_decides_binary_and_language_and_the_rest_is_read_exactly() {
    let ws = tempfile::tempdir().unwrap();
    let mut long = Vec::new();
    for i in 0..2_000 {
        long.extend_from_slice(format!("fn f{i}(x: u32) -> u32 {{ x + {i} }}\n").as_bytes());
    }
    assert!(long.len() > 3 * 8192);
    let mut nul_in_head = long.clone();
    nul_in_head[8191] = 0;
    let mut nul_after_head = long.clone();
    nul_after_head[8192] = 0;
    let script = b"#!/usr/bin/env python3\nprint('no extension')\n".to_vec();
    std::fs::write(ws.path().join("long.rs"), &long).unwrap();
    std::fs::write(ws.path().join("nul_in_head.rs"), &nul_in_head).unwrap();
    std::fs::write(ws.path().join("nul_after_head.rs"), &nul_after_head).unwrap();
    std::fs::write(ws.path().join("script"), &script).unwrap();
    std::fs::write(ws.path().join("notes.unknownext"), &long).unwrap();
    let (_d, cache) = temp_cache();
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!(skipped(&r, SkipReason::Binary), 1, "{r:?}");
    assert_eq!(skipped(&r, SkipReason::UnknownLanguage), 1, "{r:?}");
    assert_eq!(r.files(), 3, "{r:?}");
    assert!(
        cache
            .get(ws.path().join("nul_in_head.rs"))
            .unwrap()
            .is_none()
    );
    for (name, bytes) in [
        ("long.rs", &long),
        ("nul_after_head.rs", &nul_after_head),
        ("script", &script),
    ] {
        check_served(&cache, &ws.path().join(name), bytes).unwrap();
    }
    assert!(
        cache
            .get(ws.path().join("nul_after_head.rs"))
            .unwrap()
            .unwrap()
            .root()
            .has_error()
    );
}

#[test]
fn invalid_utf8_is_parsed_exactly() {
    let ws = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8]); 3] = [
        (
            "bad.py",
            b"s = '\xff\xfe'\nt = \"\xc3\x28\"\n# \x80\x80\x80\ndef f(\xe2\x82):\n    pass\n",
        ),
        (
            "bad.js",
            b"const s = \"\xf0\x28\x8c\x28\";\n// \xc0\xaf\nlet x\xff = 1;\n",
        ),
        (
            "bad.rs",
            b"fn main() { let s = \"\xed\xa0\x80\"; } // \xf8\x88\x80\x80\x80\n",
        ),
    ];
    for (name, bytes) in cases {
        assert!(std::str::from_utf8(bytes).is_err());
        std::fs::write(ws.path().join(name), bytes).unwrap();
    }
    let (_d, cache) = temp_cache();
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!(r.files(), 3, "{r:?}");
    for (name, bytes) in cases {
        check_served(&cache, &ws.path().join(name), bytes).unwrap();
    }
    assert!(cache.verify_all().unwrap().mismatches.is_empty());
}

#[test]
fn empty_files_are_parsed_exactly() {
    let ws = tempfile::tempdir().unwrap();
    for name in ["empty.rs", "empty.py", "empty.json", "empty.go"] {
        std::fs::write(ws.path().join(name), b"").unwrap();
    }
    let (_d, cache) = temp_cache();
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!(r.files(), 4, "{r:?}");
    // All four have the same (empty) content but different languages: four trees.
    assert_eq!(r.parsed, 4);
    for name in ["empty.rs", "empty.py", "empty.json", "empty.go"] {
        check_served(&cache, &ws.path().join(name), b"").unwrap();
    }
    let tree = cache.get(ws.path().join("empty.rs")).unwrap().unwrap();
    assert_eq!(tree.root().to_sexp(), "(source_file)");
    cache.insert("/v/e.rs", Vec::new()).unwrap();
    check_served(&cache, Path::new("/v/e.rs"), b"").unwrap();
}

#[test]
fn a_100_mb_source_is_a_fast_counted_skip_or_a_typed_error() {
    let ws = tempfile::tempdir().unwrap();
    let path = ws.path().join("huge.rs");
    let line = b"pub fn f(x: u32) -> u32 { x.wrapping_mul(2_654_435_761) }\n";
    let huge: Vec<u8> = line.iter().copied().cycle().take(100 * MIB).collect();
    std::fs::write(&path, &huge).unwrap();
    std::fs::write(ws.path().join("small.rs"), line).unwrap();
    let (_d, cache) = temp_cache();
    let rss_before = common::rss_bytes();
    let started = Instant::now();
    let r = bounded("huge", Duration::from_secs(30), 2 * MIB, {
        let cache = cache.clone();
        let root = ws.path().to_path_buf();
        move || cache.index(&root, &|_| {}).unwrap()
    });
    let took = started.elapsed();
    assert_eq!(skipped(&r, SkipReason::TooLarge), 1, "{r:?}");
    assert_eq!(r.files(), 1);
    assert!(took < Duration::from_secs(5), "skipping took {took:?}");
    let grown = common::rss_bytes().saturating_sub(rss_before);
    assert!(grown < 32 * MIB as u64, "index grew RSS by {grown} bytes");
    assert!(cache.get(&path).unwrap().is_none());
    // Handed over directly: a typed error, before any parsing.
    let started = Instant::now();
    match cache.insert(&path, huge.clone()) {
        Err(cst::Error::TooLarge { bytes, limit, .. }) => {
            assert_eq!(
                (bytes, limit),
                (100 * MIB as u64, Config::default().max_file_bytes)
            )
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let small = ws.path().join("small.rs");
    let edit = common::input_edit(line, &huge);
    assert!(matches!(
        cache.edit(&small, &edit, huge),
        Err(cst::Error::TooLarge { .. })
    ));
    assert!(started.elapsed() < Duration::from_secs(5));
    check_served(&cache, &small, line).unwrap();
    assert_eq!(cache.stats().parses, 1, "nothing large was parsed");
}

/// `[[[…]]]` and `((((…))))`, `depth` deep, in JSON, JavaScript and Python.
fn deep_sources(depth: usize) -> Vec<(&'static str, Vec<u8>)> {
    let nest = |open: &[u8], inner: &[u8], close: &[u8], pre: &[u8], post: &[u8]| {
        let mut s = pre.to_vec();
        for _ in 0..depth {
            s.extend_from_slice(open);
        }
        s.extend_from_slice(inner);
        for _ in 0..depth {
            s.extend_from_slice(close);
        }
        s.extend_from_slice(post);
        s
    };
    vec![
        ("deep.json", nest(b"[", b"", b"]", b"", b"\n")),
        ("deep.js", nest(b"(", b"1", b")", b"let x = ", b";\n")),
        ("deep.py", nest(b"(", b"1", b")", b"x = ", b"\n")),
    ]
}

#[test]
fn a_100000_deep_nesting_does_not_overflow_the_stack() {
    const DEPTH: usize = 100_000;
    let ws = tempfile::tempdir().unwrap();
    for (name, src) in deep_sources(DEPTH) {
        std::fs::write(ws.path().join(name), src).unwrap();
    }
    let cache_dir = tempfile::tempdir().unwrap();
    let root = ws.path().to_path_buf();
    let dir = cache_dir.path().to_path_buf();
    // Index (on the cache's worker threads), then get / walk / to_sexp /
    // verify / edit / reopen on a 512 KiB stack.
    bounded("deep", Duration::from_secs(300), 512 * 1024, move || {
        let cache = Cache::open(&dir, Config::default()).unwrap();
        let r = cache.index(&root, &|_| {}).unwrap();
        assert_eq!(r.files(), 3, "{r:?}");
        for (name, src) in deep_sources(DEPTH) {
            let path = root.join(name);
            let tree = cache.get(&path).unwrap().expect("indexed");
            let live = fresh_parse(&path, &src).unwrap();
            // Node by node (tree-sitter's own to_sexp recurses, so not that).
            cst::bytecode::verify(&live, tree.view()).unwrap();
            let sexp = tree.root().to_sexp();
            assert!(sexp.len() > DEPTH, "{name}");
            let walked = tree.root().preorder().count();
            assert_eq!(walked, tree.view().node_count());
            assert!(walked > DEPTH, "{name}: {walked} nodes");
            // The innermost node, around the middle of the source: its
            // ancestors are the whole nesting.
            let deepest = tree
                .root()
                .descendant_for_byte_range(src.len() / 2, src.len() / 2)
                .unwrap();
            let mut up = 0;
            let mut n = Some(deepest);
            while let Some(p) = n {
                up += 1;
                n = p.parent();
            }
            assert!(up > DEPTH / 2, "{name}: depth {up}");
            // An incremental edit of the deep tree, and the live tree.
            let mut new = src.clone();
            let at = new.iter().position(|&b| b == b'1').unwrap_or(DEPTH);
            new.insert(at, b' ');
            let edit = common::input_edit(&src, &new);
            cache.edit(&path, &edit, new.clone()).unwrap();
            let tree = cache.get(&path).unwrap().unwrap();
            cst::bytecode::verify(&fresh_parse(&path, &new).unwrap(), tree.view()).unwrap();
            drop(cache.tree(&path).unwrap().expect("a live tree"));
        }
        let v = cache.verify_all().unwrap();
        assert!(v.mismatches.is_empty() && v.missing.is_empty(), "{v:?}");
        drop(cache);
        // From disk, in a fresh cache: decoded from the frozen tier.
        let cache = Cache::open(&dir, Config::default()).unwrap();
        let v = cache.verify_all().unwrap();
        assert!(v.mismatches.is_empty() && v.missing.is_empty(), "{v:?}");
        assert_eq!(v.files, 3);
    });
}

#[test]
fn unknown_extensions_are_a_counted_skip_or_a_typed_error() {
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("notes.zzqx"), "some text\n").unwrap();
    std::fs::write(ws.path().join("Makefile.zzqx.bak"), "all:\n").unwrap();
    std::fs::write(ws.path().join("noext"), "plain\n").unwrap();
    let (_d, cache) = temp_cache();
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    assert_eq!(skipped(&r, SkipReason::UnknownLanguage), 3, "{r:?}");
    assert_eq!(r.files(), 0);
    assert!(matches!(
        cache.insert("/v/notes.zzqx", b"text".to_vec()),
        Err(cst::Error::UnknownLanguage(_))
    ));
}

#[test]
fn an_unreadable_file_is_a_counted_skip() {
    use std::os::unix::fs::PermissionsExt;
    let ws = tempfile::tempdir().unwrap();
    let path = ws.path().join("secret.rs");
    std::fs::write(&path, "fn secret() {}\n").unwrap();
    std::fs::write(ws.path().join("open.rs"), "fn open() {}\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    // As root (or with CAP_DAC_OVERRIDE) mode 000 does not deny reads.
    let denied = std::fs::read(&path).is_err();
    let (_d, cache) = temp_cache();
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    if denied {
        assert_eq!(skipped(&r, SkipReason::Unreadable), 1, "{r:?}");
        assert_eq!(r.files(), 1);
        assert!(cache.get(&path).unwrap().is_none());
    } else {
        eprintln!("mode 000 does not deny reads here (root?): the skip is not asserted");
        assert_eq!(r.files(), 2, "{r:?}");
    }
    // An unreadable directory: its entries are counted, never fatal.
    let sub = ws.path().join("locked");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("inside.rs"), "fn inside() {}\n").unwrap();
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o000)).unwrap();
    let denied = std::fs::read_dir(&sub).is_err();
    let r = cache.index(ws.path(), &|_| {}).unwrap();
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
    if denied {
        assert!(skipped(&r, SkipReason::Unreadable) >= 1, "{r:?}");
    }
}

#[test]
fn symlink_loops_and_special_files_are_counted_skips_without_hanging() {
    use std::os::unix::fs::symlink;
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path();
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("real.rs"), "fn real() {}\n").unwrap();
    symlink("loop_b.rs", root.join("loop_a.rs")).unwrap();
    symlink("loop_a.rs", root.join("loop_b.rs")).unwrap();
    symlink("self.rs", root.join("self.rs")).unwrap();
    symlink("..", root.join("sub/up")).unwrap(); // a directory cycle if followed
    symlink("real.rs", root.join("alias.rs")).unwrap();
    symlink("/nonexistent/target.rs", root.join("dangling.rs")).unwrap();
    let fifo = root.join("pipe.rs");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    let (_d, cache) = temp_cache();
    let r = bounded("symlinks", Duration::from_secs(60), 2 * MIB, {
        let cache = cache.clone();
        let root = root.to_path_buf();
        move || cache.index(&root, &|_| {}).unwrap()
    });
    assert_eq!(r.files(), 1, "{r:?}");
    assert_eq!(skipped(&r, SkipReason::Symlink), 6, "{r:?}");
    if made {
        assert_eq!(skipped(&r, SkipReason::NotRegular), 1, "{r:?}");
    }
    check_served(&cache, &root.join("real.rs"), b"fn real() {}\n").unwrap();
    assert!(cache.get(root.join("alias.rs")).unwrap().is_none());
    // Indexing through a looping symlink as the root: a counted skip or a typed error.
    let looped = bounded("loop root", Duration::from_secs(60), 2 * MIB, {
        let cache = cache.clone();
        let root = root.join("loop_a.rs");
        move || cache.index(&root, &|_| {})
    });
    match looped {
        Ok(r) => assert_eq!(r.files(), 0, "{r:?}"),
        Err(e) => eprintln!("looping root: {e}"),
    }
}

#[test]
fn a_file_rewritten_while_it_is_indexed_is_exact_or_a_counted_skip() {
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path().to_path_buf();
    let names = common::generate_workspace(&root, 20, 20, 3);
    let target = root.join("src/hot.rs");
    // Three versions of different sizes, and the empty file a rewrite
    // passes through (truncate, then write).
    let versions: Vec<Vec<u8>> = (0..3u64)
        .map(|v| common::source_for("x.rs", v * 5 + 1).into_bytes())
        .collect();
    std::fs::write(&target, &versions[0]).unwrap();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, target, versions) = (stop.clone(), target.clone(), versions.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                std::fs::write(&target, &versions[(n % 3) as usize]).unwrap();
                n += 1;
            }
            std::fs::write(&target, &versions[0]).unwrap();
            n
        })
    };
    let (_d, cache) = temp_cache();
    let (mut indexed, mut changed, mut absent) = (0, 0, 0);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let r = bounded("rewrite", Duration::from_secs(60), 2 * MIB, {
            let cache = cache.clone();
            let root = root.clone();
            move || cache.index(&root, &|_| {}).unwrap()
        });
        assert_eq!(r.files() + skipped(&r, SkipReason::Changed), 21, "{r:?}");
        changed += skipped(&r, SkipReason::Changed);
        // Served, the tree is exact for the source it comes with, which is
        // one of the versions (or the empty file between two writes).
        match cache.get(&target) {
            Ok(Some(tree)) => {
                indexed += 1;
                let src = tree.source().expect("kept").to_vec();
                assert!(
                    src.is_empty() || versions.contains(&src),
                    "a torn read was indexed ({} bytes)",
                    src.len()
                );
                check_tree(&target, &tree, &src).unwrap();
            }
            Ok(None) => absent += 1,
            Err(e) => panic!("get: {e}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let writes = writer.join().unwrap();
    let r = cache.index(&root, &|_| {}).unwrap();
    assert_eq!(r.files(), 21, "{r:?}");
    check_served(&cache, &target, &versions[0]).unwrap();
    for rel in &names {
        let p: PathBuf = root.join(rel);
        check_served(&cache, &p, &std::fs::read(&p).unwrap()).unwrap();
    }
    println!(
        "rewritten while indexed: {writes} rewrites; the file was served after {indexed} runs, \
         skipped as changed {changed} times, absent after {absent} runs"
    );
}
