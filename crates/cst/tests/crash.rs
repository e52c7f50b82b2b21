//! Crash test of the facade: a child process indexes a generated workspace in
//! a loop (`Cache::open`, `index`, edits, creations and deletions of files
//! told to the cache with `edit` / `insert` / `remove`, `flush`, sometimes
//! `gc`, close) and is killed with SIGKILL at random moments. After each kill
//! the cache must open, `verify_all` must find no mismatch, and after a
//! re-index every file of the workspace must be served with exactly the tree
//! of a fresh parse of its current content (and a deleted file not at all).
//!
//! 20 kills by default; `CST_LONG_TESTS=1` runs 100 (`CST_CRASH_KILLS=N`
//! overrides both). A `harness = false` test: run without arguments it is
//! the parent; with `CST_FACADE_CRASH_CHILD` set it is the child.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Rng, check_served, files_under, long_mode, mutate, source_for, universe};
use cst::{Cache, Config};

/// Files a workspace may hold; 24 exist at the start.
const UNIVERSE: usize = 30;

fn config(store_source: bool) -> Config {
    Config {
        // Small budgets, so trees move between tiers while the child works.
        hot_bytes: 150_000,
        warm_bytes: 12_000,
        cold_bytes: 6_000,
        threads: 2,
        store_source,
        ..Config::default()
    }
}

/// The child: works on the workspace until it is killed, printing the phase
/// it enters so the parent can tell where each kill landed.
fn child(cache_dir: &Path, ws: &Path, seed: u64, store_source: bool) {
    let mut rng = Rng::new(seed);
    let names = universe(UNIVERSE);
    let mut out = std::io::stdout().lock();
    let mut phase = |name: &str| {
        writeln!(out, "phase {name}").unwrap();
        out.flush().unwrap();
    };
    loop {
        phase("open");
        let cache = Cache::open(cache_dir, config(store_source)).expect("child: open");
        for _ in 0..1 + rng.below(2) {
            phase("index");
            cache.index(ws, &|_| {}).expect("child: index");
            phase("edit");
            for _ in 0..1 + rng.below(5) {
                let rel = &names[rng.below(UNIVERSE as u64) as usize];
                let path = ws.join(rel);
                let on_disk = std::fs::read(&path).ok();
                match (rng.below(10), on_disk) {
                    // An editor's change, told to the cache as an edit of
                    // what the cache holds (incremental reparse).
                    (0..=5, Some(old)) => {
                        let new = mutate(rel, &old, &mut rng);
                        std::fs::write(&path, &new).unwrap();
                        let cached = cache
                            .get(&path)
                            .ok()
                            .flatten()
                            .and_then(|t| t.source().map(<[u8]>::to_vec));
                        match cached {
                            Some(held) => {
                                let edit = common::input_edit(&held, &new);
                                cache.edit(&path, &edit, new).expect("child: edit");
                            }
                            None => {
                                cache.insert(&path, new).expect("child: insert");
                            }
                        }
                    }
                    // A change the cache is not told about (the next index finds it).
                    (6 | 7, Some(old)) => {
                        std::fs::write(&path, mutate(rel, &old, &mut rng)).unwrap();
                    }
                    // A deletion, told to the cache.
                    (8, Some(_)) => {
                        std::fs::remove_file(&path).unwrap();
                        cache.remove(&path).expect("child: remove");
                    }
                    // A deletion the cache is not told about.
                    (9, Some(_)) => std::fs::remove_file(&path).unwrap(),
                    // A new file.
                    (_, None) => {
                        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                        let src = source_for(rel, rng.next());
                        std::fs::write(&path, &src).unwrap();
                        if rng.below(2) == 0 {
                            cache
                                .insert(&path, src.into_bytes())
                                .expect("child: insert");
                        }
                    }
                    _ => {}
                }
            }
            phase("flush");
            cache.flush().expect("child: flush");
            if rng.below(4) == 0 {
                phase("gc");
                cache.gc().expect("child: gc");
            }
        }
        phase("close");
        drop(cache);
    }
}

/// What the parent saw after one kill.
#[derive(Default)]
struct Checked {
    repaired: bool,
    missing_before_index: usize,
    files: usize,
    deleted: usize,
}

/// Checks the cache after a kill.
fn check(cache_dir: &Path, ws: &Path, store_source: bool) -> Result<Checked, String> {
    let mut seen = Checked::default();
    let cache = Cache::open(cache_dir, config(store_source))
        .map_err(|e| format!("open after kill: {e}"))?;
    seen.repaired = cache
        .recovery()
        .is_some_and(|r| *r != cst::tiers::Recovery::default());
    // What the cache holds must be exact for the content it was indexed
    // with, before any re-index.
    let v = cache.verify_all().map_err(|e| format!("verify_all: {e}"))?;
    if !v.mismatches.is_empty() {
        return Err(format!("verify_all mismatches: {:?}", v.mismatches));
    }
    seen.missing_before_index = v.missing.len();
    // A re-index brings the cache up to date with the workspace: every file
    // exact, every deleted file gone.
    cache
        .index(ws, &|_| {})
        .map_err(|e| format!("index after kill: {e}"))?;
    let present = files_under(ws);
    for path in &present {
        let content = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        check_served(&cache, path, &content)?;
    }
    seen.files = present.len();
    for rel in universe(UNIVERSE) {
        let path = ws.join(rel);
        if !path.exists() {
            seen.deleted += 1;
            match cache.get(&path) {
                Ok(None) => {}
                Ok(Some(_)) => return Err(format!("{}: deleted but served", path.display())),
                Err(e) => return Err(format!("{}: get: {e}", path.display())),
            }
        }
    }
    let v = cache
        .verify_all()
        .map_err(|e| format!("verify_all after index: {e}"))?;
    if !v.mismatches.is_empty() || !v.missing.is_empty() {
        return Err(format!(
            "after index: mismatches {:?}, missing {:?}",
            v.mismatches, v.missing
        ));
    }
    cache.flush().map_err(|e| format!("flush: {e}"))?;
    Ok(seen)
}

fn main() {
    if let Ok(dir) = std::env::var("CST_FACADE_CRASH_CHILD") {
        let ws = std::env::var("CST_FACADE_CRASH_WS").unwrap();
        let seed = std::env::var("CST_FACADE_CRASH_SEED")
            .unwrap()
            .parse()
            .unwrap();
        let store_source = std::env::var("CST_FACADE_CRASH_SOURCES").as_deref() == Ok("1");
        child(Path::new(&dir), Path::new(&ws), seed, store_source);
        return;
    }
    // `cargo test -- --list` and filters: this binary holds one test.
    if std::env::args().any(|a| a == "--list") {
        println!("facade_crash: test");
        return;
    }
    let kills: usize = std::env::var("CST_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if long_mode() { 100 } else { 20 });
    let started = Instant::now();
    let cache_dir = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    common::generate_workspace(ws.path(), UNIVERSE, 24, 7);
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::new(0x5eed_c0de);
    let mut failures = Vec::new();
    let mut phases: BTreeMap<String, usize> = BTreeMap::new();
    let (mut repaired, mut missing, mut files, mut deleted) = (0, 0, 0, 0);
    for round in 0..kills {
        // Sources kept in the store, or read back from the files (checked by hash).
        let store_source = round % 3 != 2;
        let mut child = Command::new(&exe)
            .env("CST_FACADE_CRASH_CHILD", cache_dir.path())
            .env("CST_FACADE_CRASH_WS", ws.path())
            .env("CST_FACADE_CRASH_SEED", rng.next().to_string())
            .env(
                "CST_FACADE_CRASH_SOURCES",
                if store_source { "1" } else { "0" },
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = String::from("(not started)");
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(p) = line.strip_prefix("phase ") {
                    last = p.to_owned();
                }
            }
            last
        });
        // Half the kills early (start-up, open, first index), half later.
        let delay = if rng.below(2) == 0 {
            5 + rng.below(150)
        } else {
            150 + rng.below(900)
        };
        std::thread::sleep(Duration::from_millis(delay));
        let exited = child.try_wait().unwrap();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let phase = reader.join().unwrap();
        if let Some(status) = exited {
            failures.push(format!(
                "round {round}: the child exited by itself ({status}) in {phase}"
            ));
            continue;
        }
        *phases.entry(phase).or_default() += 1;
        match check(cache_dir.path(), ws.path(), store_source) {
            Ok(c) => {
                repaired += usize::from(c.repaired);
                missing += c.missing_before_index;
                files += c.files;
                deleted += c.deleted;
            }
            Err(e) => failures.push(format!("round {round}: {e}")),
        }
    }
    let phases: Vec<String> = phases.iter().map(|(p, n)| format!("{p} {n}")).collect();
    println!(
        "facade crash test: {kills} kills, {} failures, {repaired} opens repaired the store, \
         {files} files and {deleted} deleted paths checked exact after re-index, \
         {missing} paths missing before re-index; kills by phase: {}; {:.1} s",
        failures.len(),
        phases.join(", "),
        started.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        eprintln!("{}", failures.join("\n"));
        std::process::exit(1);
    }
    assert!(files > 0, "nothing was checked");
    println!("1 passed, 0 failed");
}
