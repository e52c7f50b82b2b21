//! Crash test: a child process writes to a frozen store in a loop and is
//! killed with SIGKILL at random moments; after each kill the store must
//! open, serve only correct values, and hold everything the child had
//! flushed. 50 kills by default; `CST_LONG_TESTS=1` runs 300.
//!
//! A `harness = false` test: run without arguments it is the parent; with
//! `CST_CRASH_CHILD_DIR` set it is the child writer.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use cst_tiers::{FrozenOptions, FrozenStore};

fn opts() -> FrozenOptions {
    FrozenOptions {
        segment_bytes: 64 * 1024,
        compact_dead_ratio: 0.3,
        sync: true,
        ..FrozenOptions::default()
    }
}

fn key(i: u64) -> Vec<u8> {
    // Keys repeat every 5,000 writes, so values are overwritten and compaction has work.
    format!("k{:05}", i % 5000).into_bytes()
}

fn value(i: u64) -> Vec<u8> {
    let len = (i * 7919 % 2000) as usize + 8;
    let mut v = i.to_le_bytes().to_vec();
    v.extend((0..len).map(|j| (i as usize ^ j) as u8));
    v
}

fn child(dir: &Path, base: u64) {
    let store = FrozenStore::open(dir, opts()).expect("child opens the store");
    let mut out = std::io::stdout().lock();
    let mut i = base;
    loop {
        store.put(&key(i), &value(i)).unwrap();
        if i.is_multiple_of(17) {
            store.remove(&key(i.wrapping_mul(31))).unwrap();
        }
        if i % 20 == 19 {
            store.flush().unwrap();
            writeln!(out, "flushed {i}").unwrap();
            out.flush().unwrap();
        }
        if i % 500 == 499 {
            store.compact().unwrap();
        }
        i += 1;
    }
}

/// Checks the store after a kill; returns the number of entries.
fn check(dir: &Path, last_flushed: Option<u64>) -> Result<u64, String> {
    let store = FrozenStore::open(dir, opts()).map_err(|e| format!("open after kill: {e}"))?;
    for k in store.keys() {
        let v = store
            .get(&k)
            .map_err(|e| format!("get: {e}"))?
            .ok_or("indexed key not served")?;
        let i = u64::from_le_bytes(v[..8].try_into().unwrap());
        if k[..] != key(i)[..] || v[..] != value(i)[..] {
            return Err(format!("wrong value for {}", String::from_utf8_lossy(&k)));
        }
    }
    if let Some(last) = last_flushed {
        // The last flushed write must be there unless a later write of the
        // same key replaced it (then that one is, and it is checked above)
        // or a later remove deleted it.
        if !store.contains(&key(last)) {
            let removed_later = (last + 1..last + 64)
                .any(|j| j.is_multiple_of(17) && key(j.wrapping_mul(31)) == key(last));
            if !removed_later {
                return Err(format!("flushed write {last} lost"));
            }
        }
    }
    Ok(store.stats().entries)
}

fn main() {
    if let Some(dir) = std::env::var_os("CST_CRASH_CHILD_DIR") {
        let base = std::env::var("CST_CRASH_BASE").unwrap().parse().unwrap();
        child(Path::new(&dir), base);
        return;
    }
    let kills = if std::env::var_os("CST_LONG_TESTS").is_some() {
        300
    } else {
        50
    };
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = 0x2545f4914f6cdd1du64;
    let mut failures = Vec::new();
    let mut entries = 0;
    for round in 0..kills {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let mut child = Command::new(&exe)
            .env("CST_CRASH_CHILD_DIR", dir.path())
            .env("CST_CRASH_BASE", (round as u64 * 1_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("flushed ") {
                    last = n.parse::<u64>().ok();
                }
            }
            last
        });
        std::thread::sleep(Duration::from_millis(5 + rng % 120));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let last = reader.join().unwrap();
        match check(dir.path(), last) {
            Ok(n) => entries = n,
            Err(e) => failures.push(format!("round {round}: {e}")),
        }
    }
    println!(
        "crash test: {kills} kills, {} failures, {entries} entries at the end",
        failures.len()
    );
    if !failures.is_empty() {
        eprintln!("{}", failures.join("\n"));
        std::process::exit(1);
    }
    assert!(entries > 0, "the child never got to write");
    println!("1 passed, 0 failed");
}
