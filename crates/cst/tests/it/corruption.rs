//! Corruption through the facade: a workspace is indexed into a persistent
//! cache and closed; then, round after round, a copy of its frozen store
//! (`<cache>/store/`: segments and index) gets random bit flips,
//! truncations and zeroed 4 KiB pages, and the cache is reopened. Every
//! damage to live bytes must be detected and reported (the open's recovery
//! report, or checksum failures counted on reads); nothing wrong is ever
//! served; a re-index parses the affected files again, after which every
//! tree equals a fresh parse, and the repair is durable (the next open finds
//! everything without parsing).
//!
//! 30 rounds by default; `CST_LONG_TESTS=1` runs 300 (`CST_CORRUPTION_ROUNDS=N`
//! overrides both).

use crate::common;

use std::ops::Range;
use std::path::{Path, PathBuf};

use common::{Rng, check_served, check_tree, files_under, long_mode};
use cst::{Cache, Config};

fn config() -> Config {
    Config {
        hot_bytes: 200_000,
        warm_bytes: 20_000,
        cold_bytes: 10_000,
        threads: 2,
        ..Config::default()
    }
}

/// Byte ranges of a store file that hold live data: for each segment, its
/// header and the records the index points at; all of the index.
fn live_ranges(store: &Path) -> Vec<(PathBuf, Vec<Range<u64>>)> {
    let index = std::fs::read(store.join("index.cst")).unwrap();
    let mut r = &index[16..index.len() - 4];
    let mut take = |n: usize| {
        let (a, b) = r.split_at(n);
        r = b;
        a
    };
    let u32v = |b: &[u8]| u64::from(u32::from_le_bytes(b.try_into().unwrap()));
    let u64v = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
    let nseg = u32v(take(4));
    for _ in 0..nseg {
        take(12);
    }
    take(8); // next sequence number
    // Snapshot version 2: a table of 32-byte entries (key offset in the
    // heap, record offset, sequence, segment, value length), then the keys.
    assert_eq!(&index[4..6], &2u16.to_le_bytes(), "snapshot version");
    let n = u64v(take(8)) as usize;
    let heap_len = u64v(take(8));
    let table = take(n * 32);
    let mut per_segment: std::collections::BTreeMap<u64, Vec<Range<u64>>> = Default::default();
    for i in 0..n {
        let e = &table[i * 32..i * 32 + 32];
        let key_off = u64v(&e[..8]);
        let key_end = if i + 1 < n {
            u64v(&table[(i + 1) * 32..(i + 1) * 32 + 8])
        } else {
            heap_len
        };
        let klen = key_end - key_off;
        let offset = u64v(&e[8..16]);
        let segment = u32v(&e[24..28]);
        let vlen = u32v(&e[28..32]);
        per_segment
            .entry(segment)
            .or_insert_with(|| std::iter::once(0..16).collect())
            .push(offset..offset + 28 + klen + vlen);
    }
    let mut out: Vec<(PathBuf, Vec<Range<u64>>)> = per_segment
        .into_iter()
        .map(|(id, ranges)| (store.join(format!("seg-{id:08}.cst")), ranges))
        .collect();
    out.push((
        store.join("index.cst"),
        std::iter::once(0..index.len() as u64).collect(),
    ));
    out
}

/// The files damage may hit: segments and the index.
fn store_files(store: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("seg-") || name == "index.cst"
        })
        .collect();
    files.sort();
    files
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Damage {
    BitFlip,
    Truncate,
    ZeroPage,
    /// A bit flip in a segment header's version field: corruption, not a
    /// store of another version.
    HeaderVersionFlip,
}

/// Damages one store file; returns it and the byte offsets that changed.
fn damage(store: &Path, kind: Damage, rng: &mut Rng) -> (PathBuf, Vec<u64>) {
    let files = store_files(store);
    let segments: Vec<&PathBuf> = files
        .iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
        .collect();
    let file = match kind {
        Damage::HeaderVersionFlip => segments[rng.below(segments.len() as u64) as usize].clone(),
        _ => files[rng.below(files.len() as u64) as usize].clone(),
    };
    let before = std::fs::read(&file).unwrap();
    if before.len() < 16 {
        // Emptied by an earlier damage of this round: nothing left to hit.
        return (file, Vec::new());
    }
    let mut after = before.clone();
    match kind {
        Damage::BitFlip => {
            let i = rng.below(after.len() as u64) as usize;
            after[i] ^= 1 << rng.below(8);
        }
        Damage::HeaderVersionFlip => after[4 + rng.below(2) as usize] ^= 1 << rng.below(8),
        Damage::Truncate => after.truncate(rng.below(after.len() as u64) as usize),
        Damage::ZeroPage => {
            let pages = after.len().div_ceil(4096) as u64;
            let start = rng.below(pages) as usize * 4096;
            let end = (start + 4096).min(after.len());
            after[start..end].fill(0);
        }
    }
    std::fs::write(&file, &after).unwrap();
    let mut changed: Vec<u64> = (0..after.len())
        .filter(|&i| before[i] != after[i])
        .map(|i| i as u64)
        .collect();
    changed.extend(after.len() as u64..before.len() as u64);
    (file, changed)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Indexes `ws` into a cache at `dir` over three sessions (so the store has
/// several segments), then collects garbage so every stored record is live.
fn build_pristine(dir: &Path, ws: &Path, names: &[String]) {
    let half = names.len() / 2;
    // Session 1 sees half of the files, session 2 all, session 3 a few changed.
    let hidden = tempfile::tempdir().unwrap();
    for rel in &names[half..] {
        let to = hidden.path().join(rel.replace('/', "_"));
        std::fs::rename(ws.join(rel), to).unwrap();
    }
    Cache::open(dir, config())
        .unwrap()
        .index(ws, &|_| {})
        .unwrap();
    for rel in &names[half..] {
        std::fs::rename(hidden.path().join(rel.replace('/', "_")), ws.join(rel)).unwrap();
    }
    Cache::open(dir, config())
        .unwrap()
        .index(ws, &|_| {})
        .unwrap();
    for (i, rel) in names.iter().enumerate().step_by(7) {
        std::fs::write(ws.join(rel), common::source_for(rel, 1000 + i as u64)).unwrap();
    }
    let cache = Cache::open(dir, config()).unwrap();
    cache.index(ws, &|_| {}).unwrap();
    cache.gc().unwrap();
    assert!(cache.verify_all().unwrap().mismatches.is_empty());
}

#[derive(Default, Debug)]
struct Tally {
    rounds: u64,
    damages: u64,
    live_damages: u64,
    rounds_hitting_live: u64,
    detected_rounds: u64,
    open_errors: u64,
    reparsed: u64,
    checksum_failures: u64,
    index_rebuilds: u64,
    torn_tails: u64,
}

/// One round: damage a copy of the pristine store, reopen, check.
fn round(
    round: u64,
    pristine: &Path,
    live: &[(PathBuf, Vec<Range<u64>>)],
    ws: &Path,
    rng: &mut Rng,
    tally: &mut Tally,
) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    copy_dir(&pristine.join("store"), &store);
    let kinds = [Damage::BitFlip, Damage::Truncate, Damage::ZeroPage];
    let n = if round % 5 == 4 { 3 } else { 1 };
    let mut hit_live = false;
    let mut what = Vec::new();
    for i in 0..n {
        let kind = if round % 10 == 9 && i == 0 {
            Damage::HeaderVersionFlip
        } else {
            kinds[rng.below(3) as usize]
        };
        let (file, changed) = damage(&store, kind, rng);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let ranges = live
            .iter()
            .find(|(p, _)| p.file_name() == file.file_name())
            .map(|(_, r)| r.as_slice())
            .unwrap_or(&[]);
        let live_hit = changed.iter().any(|o| ranges.iter().any(|r| r.contains(o)));
        what.push(format!(
            "{kind:?} of {name} ({} bytes changed{})",
            changed.len(),
            if live_hit { ", live" } else { "" }
        ));
        tally.damages += 1;
        tally.live_damages += u64::from(live_hit);
        hit_live |= live_hit;
    }
    tally.rounds += 1;
    tally.rounds_hitting_live += u64::from(hit_live);
    let what = what.join(" + ");

    let cache = match Cache::open(dir.path(), config()) {
        Ok(c) => c,
        Err(e) => {
            tally.open_errors += 1;
            return Err(format!("{what}: the cache must still open: {e}"));
        }
    };
    let rec = cache.recovery().cloned().unwrap_or_default();
    tally.index_rebuilds += u64::from(rec.index_rebuilt);
    tally.torn_tails += u64::from(rec.torn_tail_bytes > 0);
    // Before a re-index: whatever is served is exact for the source it comes with.
    let v = cache
        .verify_all()
        .map_err(|e| format!("{what}: verify_all: {e}"))?;
    if !v.mismatches.is_empty() {
        return Err(format!("{what}: mismatches {:?}", v.mismatches));
    }
    let files = files_under(ws);
    for path in &files {
        match cache.get(path) {
            Ok(Some(tree)) => {
                let content = std::fs::read(path).unwrap();
                let source = tree.source().unwrap_or(&content).to_vec();
                check_tree(path, &tree, &source).map_err(|e| format!("{what}: {e}"))?;
            }
            // Not found, or found without its source while the file differs
            // from it (an older path map recovered from the segments).
            Ok(None) | Err(cst::Error::SourceChanged(_)) => {}
            Err(e) => return Err(format!("{what}: get {}: {e}", path.display())),
        }
    }
    let report = cache
        .index(ws, &|_| {})
        .map_err(|e| format!("{what}: index: {e}"))?;
    tally.reparsed += report.parsed;
    for path in &files {
        let content = std::fs::read(path).unwrap();
        check_served(&cache, path, &content).map_err(|e| format!("{what}: {e}"))?;
    }
    let failures = cache.stats().tiers[3].checksum_failures;
    tally.checksum_failures += failures;
    let detected = rec != cst::tiers::Recovery::default() || failures > 0;
    tally.detected_rounds += u64::from(detected);
    if hit_live && !detected {
        return Err(format!("{what}: live bytes damaged without a report"));
    }
    if (report.parsed > 0 || !v.missing.is_empty()) && !detected {
        return Err(format!(
            "{what}: {} re-parsed, {} missing, and nothing reported",
            report.parsed,
            v.missing.len()
        ));
    }
    let v = cache
        .verify_all()
        .map_err(|e| format!("{what}: verify_all after index: {e}"))?;
    if !v.mismatches.is_empty() || !v.missing.is_empty() {
        return Err(format!(
            "{what}: after index: mismatches {:?}, missing {:?}",
            v.mismatches, v.missing
        ));
    }
    drop(cache);
    // The repair is durable: the next open finds every file without parsing.
    let cache =
        Cache::open(dir.path(), config()).map_err(|e| format!("{what}: second open: {e}"))?;
    let again = cache
        .index(ws, &|_| {})
        .map_err(|e| format!("{what}: second index: {e}"))?;
    if again.parsed != 0 {
        return Err(format!(
            "{what}: {} files parsed again after the repair",
            again.parsed
        ));
    }
    for path in &files {
        let content = std::fs::read(path).unwrap();
        check_served(&cache, path, &content).map_err(|e| format!("{what}: reopened: {e}"))?;
    }
    Ok(())
}

#[test]
fn corruption_of_the_frozen_store_is_detected_repaired_and_never_served() {
    let rounds: u64 = std::env::var("CST_CORRUPTION_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if long_mode() { 300 } else { 30 });
    let started = std::time::Instant::now();
    let ws = tempfile::tempdir().unwrap();
    let names = common::generate_workspace(ws.path(), 40, 40, 11);
    let pristine = tempfile::tempdir().unwrap();
    build_pristine(pristine.path(), ws.path(), &names);
    let live = live_ranges(&pristine.path().join("store"));
    assert!(live.len() >= 3, "several segments: {live:?}");
    let mut rng = Rng::new(0xc0ff_ee00);
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for r in 0..rounds {
        if let Err(e) = round(r, pristine.path(), &live, ws.path(), &mut rng, &mut tally) {
            failures.push(format!("round {r}: {e}"));
        }
    }
    println!(
        "facade corruption test: {rounds} rounds, {} failures, {} damages ({} to live bytes, \
         in {} rounds), {} rounds reported (recovery or checksum failures), {} index rebuilds, \
         {} torn tails cut, {} checksum failures on reads, {} files re-parsed, {} open errors; {:.1} s",
        failures.len(),
        tally.damages,
        tally.live_damages,
        tally.rounds_hitting_live,
        tally.detected_rounds,
        tally.index_rebuilds,
        tally.torn_tails,
        tally.checksum_failures,
        tally.reparsed,
        tally.open_errors,
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(tally.rounds_hitting_live > 0 && tally.reparsed > 0);
}
