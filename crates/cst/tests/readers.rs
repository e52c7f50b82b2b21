//! Readers beside a writer that is killed: a child process writes a
//! generated workspace's cache in a loop (open, index, changes to files told
//! with `edit` / `insert` / `remove` or found by the next index, flush,
//! sometimes `gc`; small segments and a low threshold, so background
//! compactions run) and is killed with SIGKILL at random moments, then
//! started again. All the while, reader threads of this process open the
//! cache read-only (`Cache::open_read_only`), refresh it, and read every
//! indexed path. Every tree a reader is served must equal a fresh parse of
//! the source served with it, and that source must be one the writer wrote
//! to that path: no torn record, no wrong tree, no source of another file.
//!
//! 8 kills by default; `CST_LONG_TESTS=1` runs 40. A `harness = false`
//! test: with `CST_READERS_CHILD` set it is the writer.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Rng, check_tree, long_mode, mutate, source_for, universe};
use cst::{Cache, Config};

const UNIVERSE: usize = 30;

fn config() -> Config {
    Config {
        hot_bytes: 150_000,
        warm_bytes: 12_000,
        cold_bytes: 6_000,
        threads: 2,
        segment_bytes: 16 << 10,
        compact_dead_bytes: 32 << 10,
        ..Config::default()
    }
}

fn hash(b: &[u8]) -> String {
    blake3::hash(b).to_hex().to_string()
}

/// The writer: prints `wrote <rel> <hash>` before each file it writes (so
/// the parent knows every content a path may be served with), then works.
fn child(cache_dir: &Path, ws: &Path, seed: u64) {
    let mut rng = Rng::new(seed);
    let names = universe(UNIVERSE);
    let mut out = std::io::stdout().lock();
    loop {
        let cache = Cache::open_waiting(cache_dir, config()).expect("child: open");
        for _ in 0..1 + rng.below(3) {
            cache.index(ws, &|_| {}).expect("child: index");
            for _ in 0..1 + rng.below(6) {
                let rel = &names[rng.below(UNIVERSE as u64) as usize];
                let path = ws.join(rel);
                let new = match std::fs::read(&path) {
                    Ok(_) if rng.below(8) == 0 => {
                        std::fs::remove_file(&path).unwrap();
                        cache.remove(&path).expect("child: remove");
                        continue;
                    }
                    Ok(old) => mutate(rel, &old, &mut rng),
                    Err(_) => source_for(rel, rng.next()).into_bytes(),
                };
                writeln!(out, "wrote {rel} {}", hash(&new)).unwrap();
                out.flush().unwrap();
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                // Atomically, as editors save: a kill mid-write must not
                // leave a file the test never announced.
                let tmp = path.with_extension("tmp-write");
                std::fs::write(&tmp, &new).unwrap();
                std::fs::rename(&tmp, &path).unwrap();
                if rng.below(2) == 0 {
                    cache.insert(&path, new).expect("child: insert");
                }
            }
            cache.flush().expect("child: flush");
            if rng.below(5) == 0 {
                cache.gc().expect("child: gc");
            }
        }
        drop(cache);
    }
}

/// Contents each path was ever written with, by the generator or the writer.
type Written = Arc<Mutex<HashMap<PathBuf, HashSet<String>>>>;

/// Reads every indexed path of a read-only cache; returns the trees checked.
fn read_all(cache: &Cache, written: &Written) -> Result<u64, String> {
    let mut checked = 0;
    for path in cache.paths() {
        let tree = match cache.get(&path) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => return Err(format!("{}: get failed: {e}", path.display())),
        };
        let source = tree
            .source()
            .ok_or_else(|| format!("{}: served without its source", path.display()))?
            .to_vec();
        let h = hash(&source);
        // The writer announces a content before writing it; give the
        // announcement a moment to arrive.
        let known = |w: &Written| w.lock().unwrap().get(&path).is_some_and(|s| s.contains(&h));
        if !known(written) {
            std::thread::sleep(Duration::from_millis(300));
            if !known(written) {
                return Err(format!(
                    "{}: served a source never written to it",
                    path.display()
                ));
            }
        }
        check_tree(&path, &tree, &source)?;
        checked += 1;
    }
    Ok(checked)
}

fn main() {
    if let Ok(dir) = std::env::var("CST_READERS_CHILD") {
        let ws = std::env::var("CST_READERS_WS").unwrap();
        let seed = std::env::var("CST_READERS_SEED").unwrap().parse().unwrap();
        child(Path::new(&dir), Path::new(&ws), seed);
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        println!("readers_beside_a_killed_writer: test");
        return;
    }
    let kills: usize = if long_mode() { 40 } else { 8 };
    let started = Instant::now();
    let cache_dir = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let names = common::generate_workspace(ws.path(), UNIVERSE, 24, 11);
    let written: Written = Arc::default();
    for rel in &names {
        if let Ok(b) = std::fs::read(ws.path().join(rel)) {
            written
                .lock()
                .unwrap()
                .entry(ws.path().join(rel))
                .or_default()
                .insert(hash(&b));
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (checked, opens) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (dir, written, stop) = (
                cache_dir.path().to_path_buf(),
                written.clone(),
                stop.clone(),
            );
            let (checked, opens, failures) = (checked.clone(), opens.clone(), failures.clone());
            std::thread::spawn(move || {
                let mut round = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    round += 1;
                    let cache = match Cache::open_read_only(&dir, config()) {
                        Ok(c) => c,
                        Err(e) => {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("reader {r}: open: {e}"));
                            return;
                        }
                    };
                    opens.fetch_add(1, Ordering::Relaxed);
                    // Reopened, or refreshed in place, in turn.
                    for _ in 0..1 + round % 3 {
                        match read_all(&cache, &written) {
                            Ok(n) => {
                                checked.fetch_add(n, Ordering::Relaxed);
                            }
                            Err(e) => {
                                failures.lock().unwrap().push(format!("reader {r}: {e}"));
                                return;
                            }
                        }
                        if let Err(e) = cache.refresh() {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("reader {r}: refresh: {e}"));
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::new(0xdead_beef);
    for round in 0..kills {
        let mut child = Command::new(&exe)
            .env("CST_READERS_CHILD", cache_dir.path())
            .env("CST_READERS_WS", ws.path())
            .env("CST_READERS_SEED", rng.next().to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (w, root) = (written.clone(), ws.path().to_path_buf());
        let announcements = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut parts = line.splitn(3, ' ');
                if let (Some("wrote"), Some(rel), Some(h)) =
                    (parts.next(), parts.next(), parts.next())
                {
                    w.lock()
                        .unwrap()
                        .entry(root.join(rel))
                        .or_default()
                        .insert(h.to_owned());
                }
            }
        });
        std::thread::sleep(Duration::from_millis(200 + rng.below(1200)));
        if let Some(status) = child.try_wait().unwrap() {
            failures.lock().unwrap().push(format!(
                "round {round}: the writer exited by itself ({status})"
            ));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        announcements.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for h in readers {
        h.join().unwrap();
    }
    let (checked, opens) = (
        checked.load(Ordering::Relaxed),
        opens.load(Ordering::Relaxed),
    );
    println!(
        "readers beside a killed writer: {kills} kills, {opens} read-only opens, {checked} trees checked exact, {} failures ({:.1} s)",
        failures.lock().unwrap().len(),
        started.elapsed().as_secs_f64()
    );
    let failures = failures.lock().unwrap();
    if !failures.is_empty() || checked == 0 {
        for f in failures.iter() {
            eprintln!("FAILURE: {f}");
        }
        eprintln!("test readers_beside_a_killed_writer ... FAILED");
        std::process::exit(1);
    }
    println!("test readers_beside_a_killed_writer ... ok");
}
