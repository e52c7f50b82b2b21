//! The service's targets, measured side by side in one run:
//!
//! - a one-keystroke edit of a ~1,000-line Rust file: tree-sitter's own
//!   incremental reparse (`raw`), `Cache::edit`, an open buffer of the
//!   workspace layer (`buffer`), and the same edit through the HTTP
//!   endpoint on loopback (`http`; its overhead is the difference);
//! - a file written on disk until the workspace's watcher makes it visible
//!   (library) and until `GET /v1/tree` shows it (HTTP).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use cst_workspace::discover::OpenOptions;
use cst_workspace::{Change, Encoding, Workspace, WorkspaceOptions};

/// The two texts an edit alternates between: `a`, and `a` with one
/// character typed in the middle line.
fn texts() -> (Vec<u8>, Vec<u8>, usize) {
    let a = cst_benches::sample_lines("rust", 1000);
    let middle = a.len() / 2;
    let at = middle + a[middle..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut b = a.clone();
    b.insert(at, b'x');
    (a, b, at)
}

fn point(text: &[u8], at: usize) -> tree_sitter::Point {
    let row = text[..at].iter().filter(|&&c| c == b'\n').count();
    let col = at
        - text[..at]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
    tree_sitter::Point { row, column: col }
}

/// The edit from `a` to `b` (typing) and back (deleting).
fn edits(a: &[u8], at: usize) -> [tree_sitter::InputEdit; 2] {
    let p = point(a, at);
    let p1 = tree_sitter::Point {
        row: p.row,
        column: p.column + 1,
    };
    [
        tree_sitter::InputEdit {
            start_byte: at,
            old_end_byte: at,
            new_end_byte: at + 1,
            start_position: p,
            old_end_position: p,
            new_end_position: p1,
        },
        tree_sitter::InputEdit {
            start_byte: at,
            old_end_byte: at + 1,
            new_end_byte: at,
            start_position: p,
            old_end_position: p1,
            new_end_position: p,
        },
    ]
}

fn workspace(dir: &std::path::Path, cache: &std::path::Path, watch: bool) -> Workspace {
    let ws = Workspace::open(
        dir,
        None,
        WorkspaceOptions {
            open: OpenOptions {
                cache_dir: Some(cache.to_path_buf()),
                ..OpenOptions::default()
            },
            watch,
            watch_options: cst_watch::WatchOptions {
                debounce: Duration::from_millis(50),
                ..cst_watch::WatchOptions::default()
            },
            ..WorkspaceOptions::default()
        },
    )
    .expect("workspace opens");
    assert!(ws.wait_ready(Duration::from_secs(120)));
    ws
}

fn edit(c: &mut Criterion) {
    let (a, b, at) = texts();
    let [typing, deleting] = edits(&a, at);
    let grammar = cst::grammars::by_id("rust").unwrap();
    let mut group = c.benchmark_group("edit-keystroke/rust-1000-lines");

    // Raw tree-sitter: tree.edit + incremental reparse.
    let mut parser = grammar.parser().unwrap();
    let mut tree = parser.parse(&a, None).unwrap();
    let mut on_b = false;
    group.bench_function("raw", |bench| {
        bench.iter(|| {
            let (edit, text) = if on_b { (&deleting, &a) } else { (&typing, &b) };
            tree.edit(edit);
            tree = parser.parse(black_box(text), Some(&tree)).unwrap();
            on_b = !on_b;
        })
    });

    // Cache::edit on a persistent cache.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.rs");
    std::fs::write(&file, &a).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cst::Cache::open(cache_dir.path(), cst::Config::default()).unwrap();
    cache.insert(&file, a.clone()).unwrap();
    // The texts as the cache keeps them (shared, not copied per edit: the
    // raw reparse above borrows its text too).
    let (arc_a, arc_b): (std::sync::Arc<[u8]>, std::sync::Arc<[u8]>) =
        (a.clone().into(), b.clone().into());
    let mut on_b = false;
    group.bench_function("cache-edit", |bench| {
        bench.iter(|| {
            let (edit, text) = if on_b {
                (&deleting, &arc_a)
            } else {
                (&typing, &arc_b)
            };
            cache.edit(&file, edit, text.clone()).unwrap();
            on_b = !on_b;
        })
    });
    drop(cache);

    // The workspace's open buffer (a byte edit, as an editor sends it).
    let cache_dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), cache_dir.path(), false);
    let text_a = String::from_utf8(a.clone()).unwrap();
    ws.open_buffer(&file, text_a, None, None).unwrap();
    let type_x = [Change::Bytes {
        start_byte: at,
        old_end_byte: at,
        text: "x".into(),
    }];
    let delete_x = [Change::Bytes {
        start_byte: at,
        old_end_byte: at + 1,
        text: String::new(),
    }];
    let mut on_b = false;
    group.bench_function("buffer", |bench| {
        bench.iter(|| {
            let change = if on_b { &delete_x } else { &type_x };
            ws.edit_buffer(&file, change, Encoding::Utf8, None).unwrap();
            on_b = !on_b;
        })
    });

    // The same edit through the HTTP endpoint.
    let running = cst_api::start(
        ws.clone(),
        cst_api::ServerOptions {
            listen: cst_api::Listen::Tcp("127.0.0.1:0".parse().unwrap()),
            ..cst_api::ServerOptions::default()
        },
        false,
    )
    .unwrap();
    let url = format!("http://{}/v1/buffers/big.rs", running.local());
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let bodies = [
        format!("{{\"edits\":[{{\"start_byte\":{at},\"old_end_byte\":{at},\"text\":\"x\"}}]}}"),
        format!(
            "{{\"edits\":[{{\"start_byte\":{at},\"old_end_byte\":{},\"text\":\"\"}}]}}",
            at + 1
        ),
    ];
    let mut on_b = false;
    group.bench_function("http", |bench| {
        bench.iter(|| {
            let body = &bodies[usize::from(on_b)];
            let r = agent
                .patch(&url)
                .header("Content-Type", "application/json")
                .send(body.as_str())
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            on_b = !on_b;
        })
    });
    // An empty request to the same server: the HTTP overhead alone.
    let healthz = format!("http://{}/healthz", running.local());
    group.bench_function("http-overhead-healthz", |bench| {
        bench.iter(|| agent.get(&healthz).call().unwrap().status())
    });
    group.finish();
    running.stop();
}

fn watch(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/a.rs"), "fn a() {}\n").unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), cache_dir.path(), true);
    let running = cst_api::start(
        ws.clone(),
        cst_api::ServerOptions {
            listen: cst_api::Listen::Tcp("127.0.0.1:0".parse().unwrap()),
            ..cst_api::ServerOptions::default()
        },
        false,
    )
    .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut group = c.benchmark_group("watch-file-written-to-visible");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(20));
    let mut n = 0u64;
    let root = ws.root().to_path_buf();
    group.bench_function("library", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let path = root.join(format!("src/w{n}.rs"));
                let started = Instant::now();
                std::fs::write(&path, format!("fn w{n}() {{}}\n")).unwrap();
                while ws.cache().get(&path).ok().flatten().is_none() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                total += started.elapsed();
            }
            total
        })
    });
    let base = format!("http://{}", running.local());
    group.bench_function("http", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let name = format!("src/h{n}.rs");
                let started = Instant::now();
                std::fs::write(root.join(&name), format!("fn h{n}() {{}}\n")).unwrap();
                // Through the outline, which answers from the store only
                // once the file is indexed (a tree request would index it
                // on demand and measure nothing of the watcher).
                loop {
                    let ok = ws.cache().paths().contains(&root.join(&name))
                        && agent
                            .get(format!("{base}/v1/outline?path={name}"))
                            .call()
                            .is_ok_and(|r| r.status().as_u16() == 200);
                    if ok {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                total += started.elapsed();
            }
            total
        })
    });
    group.finish();
    running.stop();
}

criterion_group!(benches, edit, watch);
criterion_main!(benches);
