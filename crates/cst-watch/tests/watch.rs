//! The watcher against a real filesystem (tempdirs) and real inotify.
//!
//! Bounds are generous (seconds) so a loaded machine does not flake; every
//! wait collects batches until what is expected has arrived, since one change
//! may be split over several batches.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam::channel::{self, Receiver};
use cst_watch::{Batch, Mode, WatchOptions, Watcher};
use tempfile::TempDir;

/// How long to wait for something that must happen.
const PATIENCE: Duration = Duration::from_secs(10);

/// A temporary directory whose name is not hidden (the default `.tmpXXXX`
/// would be a hidden directory to the ignore rules).
fn tempdir() -> TempDir {
    tempfile::Builder::new()
        .prefix("cst-watch-")
        .tempdir()
        .expect("tempdir")
}

fn options() -> WatchOptions {
    WatchOptions {
        debounce: Duration::from_millis(50),
        ..WatchOptions::default()
    }
}

fn polling_options() -> WatchOptions {
    WatchOptions {
        poll_interval: Duration::from_millis(100),
        ..options()
    }
}

fn start(root: &Path, options: WatchOptions) -> (Watcher, Receiver<Batch>) {
    let (tx, rx) = channel::unbounded();
    let watcher = Watcher::start(root, options, tx).expect("start");
    (watcher, rx)
}

/// Everything received so far.
#[derive(Debug, Default)]
struct Seen {
    changed: BTreeSet<PathBuf>,
    removed: BTreeSet<PathBuf>,
    batches: Vec<Batch>,
}

impl Seen {
    fn rescans(&self) -> usize {
        self.batches.iter().filter(|b| b.rescan).count()
    }
}

/// Receives until `done` holds; panics (showing what came) after PATIENCE.
fn collect_until(rx: &Receiver<Batch>, seen: &mut Seen, done: impl Fn(&Seen) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done(seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.min(Duration::from_secs(5))) {
            Ok(batch) => {
                seen.changed.extend(batch.changed.iter().cloned());
                seen.removed.extend(batch.removed.iter().cloned());
                seen.batches.push(batch);
            }
            Err(_) if Instant::now() < deadline => {}
            Err(e) => panic!("{e}: expected batches did not come; got {seen:#?}"),
        }
    }
}

fn wait_for(rx: &Receiver<Batch>, done: impl Fn(&Seen) -> bool) -> Seen {
    let mut seen = Seen::default();
    collect_until(rx, &mut seen, done);
    seen
}

/// Receives whatever comes within `d`.
fn drain_for(rx: &Receiver<Batch>, seen: &mut Seen, d: Duration) {
    let deadline = Instant::now() + d;
    while let Ok(batch) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        seen.changed.extend(batch.changed.iter().cloned());
        seen.removed.extend(batch.removed.iter().cloned());
        seen.batches.push(batch);
    }
}

fn write(path: &Path, content: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, content).expect("write");
}

#[test]
fn created_file_is_changed() {
    let dir = tempdir();
    let root = dir.path();
    let (watcher, rx) = start(root, options());
    assert_eq!(watcher.status().mode, Mode::Native);
    assert_eq!(watcher.status().watched_dirs, 1);
    let file = root.join("new.rs");
    write(&file, "fn main() {}");
    let seen = wait_for(&rx, |s| s.changed.contains(&file));
    assert!(seen.removed.is_empty(), "{seen:?}");
    assert_eq!(seen.rescans(), 0);
    assert!(watcher.status().batches >= 1);
}

#[test]
fn modified_file_is_changed() {
    let dir = tempdir();
    let root = dir.path();
    let file = root.join("src/lib.rs");
    write(&file, "fn a() {}");
    let (watcher, rx) = start(root, options());
    assert_eq!(watcher.status().watched_dirs, 2);
    write(&file, "fn a() {} fn b() {}");
    let seen = wait_for(&rx, |s| s.changed.contains(&file));
    assert!(seen.removed.is_empty(), "{seen:?}");
}

#[test]
fn deleted_file_is_removed() {
    let dir = tempdir();
    let root = dir.path();
    let file = root.join("old.rs");
    write(&file, "fn a() {}");
    let (_watcher, rx) = start(root, options());
    fs::remove_file(&file).unwrap();
    let seen = wait_for(&rx, |s| s.removed.contains(&file));
    assert!(!seen.changed.contains(&file), "{seen:?}");
}

#[test]
fn rename_removes_old_and_changes_new() {
    let dir = tempdir();
    let root = dir.path();
    let old = root.join("a.rs");
    let new = root.join("b.rs");
    write(&old, "fn a() {}");
    let (_watcher, rx) = start(root, options());
    fs::rename(&old, &new).unwrap();
    let seen = wait_for(&rx, |s| {
        s.removed.contains(&old) && s.changed.contains(&new)
    });
    assert!(!seen.changed.contains(&old), "{seen:?}");
    assert!(!seen.removed.contains(&new), "{seen:?}");
}

#[test]
fn new_directory_reports_its_files_and_is_watched() {
    let dir = tempdir();
    let root = dir.path();
    let (watcher, rx) = start(root, options());
    // Written before the watcher can have watched the new directories: the
    // files must come from the listing that follows the watch.
    fs::create_dir_all(root.join("new/sub")).unwrap();
    let a = root.join("new/sub/a.rs");
    let b = root.join("new/b.rs");
    write(&a, "fn a() {}");
    write(&b, "fn b() {}");
    let seen = wait_for(&rx, |s| s.changed.contains(&a) && s.changed.contains(&b));
    for p in &seen.changed {
        assert!(
            p.is_file(),
            "a directory reported as changed: {}",
            p.display()
        );
    }
    assert_eq!(watcher.status().watched_dirs, 3);
    // Later writes come from the new watches.
    let c = root.join("new/sub/c.rs");
    write(&c, "fn c() {}");
    wait_for(&rx, |s| s.changed.contains(&c));
}

#[test]
fn ignored_directory_is_neither_watched_nor_reported() {
    let dir = tempdir();
    let root = dir.path();
    // `.gitignore` applies inside a git repository, as for `cst index`.
    fs::create_dir(root.join(".git")).unwrap();
    write(&root.join(".gitignore"), "target/\n*.log\n");
    fs::create_dir_all(root.join("target/debug/deps")).unwrap();
    fs::create_dir_all(root.join("src")).unwrap();
    let (watcher, rx) = start(root, options());
    // The root and src/; not target/ (3 directories), not .git/.
    assert_eq!(watcher.status().watched_dirs, 2);

    write(&root.join("target/debug/main.rs"), "fn main() {}");
    write(&root.join("target/x.rs"), "fn x() {}");
    fs::create_dir_all(root.join("target/new")).unwrap();
    write(&root.join("target/new/y.rs"), "fn y() {}");
    write(&root.join("build.log"), "log");
    write(&root.join(".git/HEAD"), "ref: refs/heads/main\n");
    // Written last: once it is reported, everything before has been handled.
    let sentinel = root.join("src/sentinel.rs");
    write(&sentinel, "fn s() {}");
    let mut seen = wait_for(&rx, |s| s.changed.contains(&sentinel));
    drain_for(&rx, &mut seen, Duration::from_millis(300));
    for p in seen.changed.iter().chain(&seen.removed) {
        assert!(
            !p.starts_with(root.join("target"))
                && !p.starts_with(root.join(".git"))
                && p.extension().is_none_or(|e| e != "log"),
            "ignored path reported: {}",
            p.display()
        );
    }
    assert_eq!(seen.rescans(), 0, "{seen:?}");
    assert_eq!(watcher.status().watched_dirs, 2);
}

#[test]
fn changed_ignore_file_rescans_and_replans() {
    let dir = tempdir();
    let root = dir.path();
    fs::create_dir(root.join(".git")).unwrap();
    write(&root.join(".gitignore"), "target/\n");
    fs::create_dir_all(root.join("target/debug")).unwrap();
    let (watcher, rx) = start(root, options());
    assert_eq!(watcher.status().watched_dirs, 1);
    write(&root.join(".gitignore"), "# nothing ignored\n");
    wait_for(&rx, |s| s.rescans() > 0);
    assert_eq!(watcher.status().watched_dirs, 3);
    // target/ is now watched: its changes are reported.
    let file = root.join("target/debug/now.rs");
    write(&file, "fn now() {}");
    wait_for(&rx, |s| s.changed.contains(&file));
}

#[test]
fn removed_directory_is_reported_once() {
    let dir = tempdir();
    let root = dir.path();
    let gone = root.join("gone");
    write(&gone.join("deep/x.rs"), "fn x() {}");
    write(&gone.join("y.rs"), "fn y() {}");
    let (watcher, rx) = start(root, options());
    assert_eq!(watcher.status().watched_dirs, 3);
    fs::remove_dir_all(&gone).unwrap();
    let seen = wait_for(&rx, |s| s.removed.contains(&gone));
    let batch = seen
        .batches
        .iter()
        .find(|b| b.removed.contains(&gone))
        .unwrap();
    // Within the batch that names the directory, nothing under it.
    assert!(
        batch
            .removed
            .iter()
            .all(|p| p == &gone || !p.starts_with(&gone)),
        "{batch:?}"
    );
    assert!(seen.changed.is_empty(), "{seen:?}");
    assert_eq!(watcher.status().watched_dirs, 1);
}

#[test]
fn renamed_directory_moves_its_watches() {
    let dir = tempdir();
    let root = dir.path();
    write(&root.join("old/sub/x.rs"), "fn x() {}");
    let (watcher, rx) = start(root, options());
    assert_eq!(watcher.status().watched_dirs, 3);
    fs::rename(root.join("old"), root.join("new")).unwrap();
    let moved = root.join("new/sub/x.rs");
    wait_for(&rx, |s| {
        s.removed.contains(&root.join("old")) && s.changed.contains(&moved)
    });
    assert_eq!(watcher.status().watched_dirs, 3);
    let later = root.join("new/sub/later.rs");
    write(&later, "fn later() {}");
    wait_for(&rx, |s| s.changed.contains(&later));
}

#[test]
fn burst_becomes_one_rescan() {
    let dir = tempdir();
    let root = dir.path();
    let options = WatchOptions {
        burst: 50,
        ..options()
    };
    let (watcher, rx) = start(root, options);
    // A checkout: 200 files, some in new directories.
    for i in 0..200 {
        write(&root.join(format!("gen{}/f{i:03}.rs", i % 4)), "fn f() {}");
    }
    let seen = wait_for(&rx, |s| s.rescans() > 0);
    let rescan = seen.batches.iter().find(|b| b.rescan).unwrap();
    assert!(
        rescan.changed.is_empty() && rescan.removed.is_empty(),
        "{rescan:?}"
    );
    // No batch over the burst.
    assert!(
        seen.batches
            .iter()
            .all(|b| b.changed.len() + b.removed.len() <= 50)
    );
    assert!(watcher.status().rescans >= 1);
    assert_eq!(watcher.status().mode, Mode::Native);
    // The re-plan after the burst watches the new directories.
    assert_eq!(watcher.status().watched_dirs, 5);
    let later = root.join("gen3/later.rs");
    write(&later, "fn later() {}");
    wait_for(&rx, |s| s.changed.contains(&later));
}

#[test]
fn directory_deleted_and_made_again_is_watched_again() {
    let dir = tempdir();
    let root = dir.path();
    let sub = root.join("sub");
    write(&sub.join("old.rs"), "fn old() {}");
    let (watcher, rx) = start(root, options());
    fs::remove_dir_all(&sub).unwrap();
    fs::create_dir(&sub).unwrap();
    let fresh = sub.join("fresh.rs");
    write(&fresh, "fn fresh() {}");
    wait_for(&rx, |s| s.changed.contains(&fresh));
    assert_eq!(watcher.status().watched_dirs, 2);
    let later = sub.join("later.rs");
    write(&later, "fn later() {}");
    wait_for(&rx, |s| s.changed.contains(&later));
}

/// Create, modify and delete a file and see each reported.
fn polling_reports_create_modify_delete(root: &Path, rx: &Receiver<Batch>) {
    let file = root.join("a/p.rs");
    write(&file, "fn p() {}");
    wait_for(rx, |s| s.changed.contains(&file));
    // A different size: a change even where timestamps are coarse.
    write(&file, "fn p() { let _longer = 1; }");
    wait_for(rx, |s| s.changed.contains(&file));
    fs::remove_file(&file).unwrap();
    wait_for(rx, |s| s.removed.contains(&file));
    let b = root.join("b");
    fs::remove_dir_all(&b).unwrap();
    let seen = wait_for(rx, |s| s.removed.contains(&b));
    assert!(
        seen.removed.iter().all(|p| p == &b || !p.starts_with(&b)),
        "{seen:?}"
    );
}

#[test]
fn over_budget_falls_back_to_polling() {
    let dir = tempdir();
    let root = dir.path();
    write(&root.join("a/x.rs"), "fn x() {}");
    write(&root.join("b/c/y.rs"), "fn y() {}");
    let options = WatchOptions {
        max_watches: 1,
        ..polling_options()
    };
    let (watcher, rx) = start(root, options);
    let status = watcher.status();
    assert_eq!(status.mode, Mode::Polling);
    assert_eq!(status.watched_dirs, 0);
    assert_eq!(status.max_watches, 1);
    assert!(status.polling_reason.is_some(), "{status:?}");
    // The switch is announced as one rescan.
    let seen = wait_for(&rx, |s| s.rescans() > 0);
    assert_eq!(seen.batches[0], Batch::rescan());
    polling_reports_create_modify_delete(root, &rx);
}

#[test]
fn forced_polling_reports_changes() {
    let dir = tempdir();
    let root = dir.path();
    write(&root.join("a/x.rs"), "fn x() {}");
    write(&root.join("b/c/y.rs"), "fn y() {}");
    let options = WatchOptions {
        force_poll: true,
        ..polling_options()
    };
    let (watcher, rx) = start(root, options);
    let status = watcher.status();
    assert_eq!(status.mode, Mode::Polling);
    assert!(status.polling_reason.is_some(), "{status:?}");
    polling_reports_create_modify_delete(root, &rx);
    assert_eq!(watcher.status().rescans, 0);
}

#[test]
fn drop_returns_promptly() {
    let dir = tempdir();
    let root = dir.path();
    write(&root.join("a/x.rs"), "fn x() {}");

    // Idle.
    let (watcher, _rx) = start(root, options());
    let t = Instant::now();
    drop(watcher);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    // Blocked on a full sink nobody reads.
    let (tx, rx) = channel::bounded(1);
    let watcher = Watcher::start(root, options(), tx).unwrap();
    for i in 0..3 {
        write(&root.join(format!("f{i}.rs")), "x");
        std::thread::sleep(Duration::from_millis(300));
    }
    let t = Instant::now();
    drop(watcher);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    drop(rx);

    // Polling, with a long interval.
    let (watcher, _rx) = start(
        root,
        WatchOptions {
            force_poll: true,
            poll_interval: Duration::from_secs(60),
            ..options()
        },
    );
    let t = Instant::now();
    drop(watcher);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    // The consumer went away first: the thread ends on its own, and drop
    // still returns.
    let (watcher, rx) = start(root, options());
    drop(rx);
    write(&root.join("after.rs"), "x");
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    drop(watcher);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn start_rejects_a_file() {
    let dir = tempdir();
    let file = dir.path().join("f.rs");
    write(&file, "x");
    let (tx, _rx) = channel::unbounded();
    assert!(matches!(
        Watcher::start(&file, options(), tx),
        Err(cst_watch::Error::NotADirectory(_))
    ));
}

#[test]
fn growing_past_the_budget_switches_to_polling() {
    let dir = tempdir();
    let root = dir.path();
    fs::create_dir(root.join("a")).unwrap();
    let options = WatchOptions {
        max_watches: 2,
        ..polling_options()
    };
    let (watcher, rx) = start(root, options);
    assert_eq!(watcher.status().mode, Mode::Native);
    assert_eq!(watcher.status().watched_dirs, 2);
    fs::create_dir(root.join("b")).unwrap();
    wait_for(&rx, |s| s.rescans() > 0);
    let status = watcher.status();
    assert_eq!(status.mode, Mode::Polling);
    assert_eq!(status.watched_dirs, 0);
    assert!(status.polling_reason.is_some(), "{status:?}");
    polling_reports_create_modify_delete(root, &rx);
}

/// A tree large enough that its watches are added through every notify
/// watcher at once: all are in place, and a change in any directory is seen.
#[test]
fn a_large_tree_is_watched_through_every_shard() {
    let dir = tempdir();
    let root = dir.path().canonicalize().unwrap();
    let mut dirs = Vec::new();
    for a in 0..20 {
        for b in 0..15 {
            let d = root.join(format!("a{a}/b{b}"));
            fs::create_dir_all(&d).unwrap();
            dirs.push(d);
        }
    }
    let (watcher, rx) = start(&root, options());
    // The root, 20 `a` directories and 300 `b` directories.
    assert_eq!(watcher.status().watched_dirs, 321);
    let files: Vec<PathBuf> = dirs.iter().step_by(7).map(|d| d.join("new.rs")).collect();
    for f in &files {
        write(f, "fn x() {}\n");
    }
    wait_for(&rx, |s| files.iter().all(|f| s.changed.contains(f)));
}

/// Directories made while the watcher starts (after the walk read their
/// parent, before that parent's watch was added, or after) are all watched
/// once `start` returns: a file written in each afterwards is seen.
#[test]
fn directories_made_during_start_are_watched() {
    let dir = tempdir();
    let root = dir.path().canonicalize().unwrap();
    for a in 0..40 {
        for b in 0..10 {
            fs::create_dir_all(root.join(format!("a{a}/b{b}"))).unwrap();
        }
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let maker = {
        let (root, stop) = (root.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut made = Vec::new();
            let mut n = 0;
            // At most 400 (a batch of more paths than the burst limit
            // would be a rescan, which says nothing about the watches).
            while !stop.load(std::sync::atomic::Ordering::Acquire) && n < 400 {
                let d = root.join(format!("a{}/b{}/new{n}", n % 40, n % 10));
                fs::create_dir(&d).unwrap();
                made.push(d);
                n += 1;
                std::thread::sleep(Duration::from_micros(200));
            }
            made
        })
    };
    // Let the maker run before, during and a little after the start.
    std::thread::sleep(Duration::from_millis(5));
    let (watcher, rx) = start(&root, options());
    std::thread::sleep(Duration::from_millis(5));
    stop.store(true, std::sync::atomic::Ordering::Release);
    let made = maker.join().unwrap();
    assert!(!made.is_empty());
    // Those made after `start` returned are reported as new directories
    // (and watched); wait until the last one has been.
    let last = made.last().unwrap().clone();
    let mut seen = Seen::default();
    drain_for(&rx, &mut seen, Duration::from_millis(300));
    let files: Vec<PathBuf> = made.iter().map(|d| d.join("f.rs")).collect();
    for f in &files {
        write(f, "fn f() {}\n");
    }
    let before = seen.rescans();
    collect_until(&rx, &mut seen, |s| {
        files.iter().all(|f| s.changed.contains(f))
    });
    assert_eq!(
        seen.rescans(),
        before,
        "seen through a rescan, not the watches"
    );
    assert!(
        watcher.status().watched_dirs >= 1 + 40 + 400 + made.len(),
        "{} watched, {} made ({last:?} last)",
        watcher.status().watched_dirs,
        made.len()
    );
}

/// Renames and moves of watched directories, many times over: a directory
/// keeps its inode, and one inotify instance gives a second watch of the
/// same inode the same descriptor, so the watch under the old name must go
/// before the one under the new name is added (removing it afterwards
/// would remove both). After every move, a file written deep in the moved
/// tree is seen.
#[test]
fn directories_moved_again_and_again_stay_watched() {
    let dir = tempdir();
    let root = dir.path();
    for d in ["a", "b"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    write(&root.join("a/t0/sub/deep/x.rs"), "fn x() {}");
    let (_watcher, rx) = start(root, options());
    let mut at = root.join("a/t0");
    for i in 1..=12 {
        // Alternately a rename in place and a move to the other parent.
        let parent = if i % 2 == 0 { "a" } else { "b" };
        let to = root.join(format!("{parent}/t{i}"));
        fs::rename(&at, &to).unwrap();
        at = to;
        let moved = at.join("sub/deep/x.rs");
        wait_for(&rx, |s| s.changed.contains(&moved));
        let later = at.join(format!("sub/deep/later{i}.rs"));
        write(&later, "fn later() {}");
        wait_for(&rx, |s| s.changed.contains(&later));
    }
}
