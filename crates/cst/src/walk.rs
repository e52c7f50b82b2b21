//! Indexing a directory: a `.gitignore`-aware walk, then parallel parsing
//! with one parser per language per worker thread.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use crate::{Cache, Error, Outcome};

/// Why a file was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// No grammar claims the file.
    UnknownLanguage,
    /// The language is known but its grammar is not compiled in.
    NotCompiled,
    /// The catalogue knows the language, but this build has no grammar for
    /// it (compiled in or loaded: `cst grammar add`); see
    /// [`IndexReport::no_grammar`].
    NoGrammar,
    /// The file looks binary (a NUL byte in its first 8 KiB).
    Binary,
    /// Larger than `Config::max_file_bytes`.
    TooLarge,
    /// It could not be read.
    Unreadable,
    /// It changed while being indexed (its size or modification time moved
    /// under us); the next run picks it up.
    Changed,
    /// A symbolic link: never followed (it may loop or leave the workspace).
    Symlink,
    /// Not a regular file (a FIFO, socket or device: reading it may block).
    NotRegular,
}

impl SkipReason {
    /// A short lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::UnknownLanguage => "unknown language",
            SkipReason::NotCompiled => "language not compiled in",
            SkipReason::NoGrammar => "no grammar for the language",
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too large",
            SkipReason::Unreadable => "unreadable",
            SkipReason::Changed => "changed while read",
            SkipReason::Symlink => "symbolic link",
            SkipReason::NotRegular => "not a regular file",
        }
    }
}

/// Per-language figures of an index run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LanguageReport {
    /// Files indexed.
    pub files: u64,
    /// Source lines.
    pub lines: u64,
    /// Nodes.
    pub nodes: u64,
    /// Source bytes.
    pub bytes: u64,
}

/// What an index run did.
#[derive(Debug, Clone, Default)]
pub struct IndexReport {
    /// Per language id.
    pub languages: BTreeMap<&'static str, LanguageReport>,
    /// Files skipped, per reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Of the files skipped for [`SkipReason::NoGrammar`], how many per
    /// language (the catalogue's display name): what `cst grammar add`
    /// would bring in.
    pub no_grammar: BTreeMap<&'static str, u64>,
    /// Files found already cached (same content, grammar and format).
    pub hits: u64,
    /// Of the hits, files not even read: their status was the one noted when
    /// they were last read ([`IndexOptions::verify_content`] turns this off).
    pub unread: u64,
    /// Files parsed.
    pub parsed: u64,
    /// Paths under the directory that earlier runs indexed and this one did
    /// not (deleted, or now skipped or ignored): forgotten, so the cache never
    /// serves the tree of a vanished or stale file.
    pub removed: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl IndexReport {
    /// Files indexed (hits + parsed).
    pub fn files(&self) -> u64 {
        self.languages.values().map(|l| l.files).sum()
    }
    /// Lines indexed.
    pub fn lines(&self) -> u64 {
        self.languages.values().map(|l| l.lines).sum()
    }
    /// Nodes indexed.
    pub fn nodes(&self) -> u64 {
        self.languages.values().map(|l| l.nodes).sum()
    }
}

/// Progress of an index run, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Files handled so far (indexed or skipped).
    pub done: u64,
    /// Files found by the walk.
    pub total: u64,
}

/// How to index a directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexOptions {
    /// Read and hash every file, trusting no file status (by default a file
    /// whose size, modification and change times, inode and device are the
    /// ones noted when it was last read, not racily, is a hit unread).
    pub verify_content: bool,
}

impl IndexOptions {
    /// Options that read and hash every file.
    pub fn verify_content() -> IndexOptions {
        IndexOptions {
            verify_content: true,
        }
    }
}

/// What one walking thread found.
type Found = (Vec<PathBuf>, BTreeMap<SkipReason, u64>);

/// One walking thread's findings, merged into `found` when it is dropped.
struct Collector<'a> {
    found: &'a Mutex<Found>,
    files: Vec<PathBuf>,
    skipped: BTreeMap<SkipReason, u64>,
}

impl Drop for Collector<'_> {
    fn drop(&mut self) {
        let mut f = self.found.lock().unwrap_or_else(|p| p.into_inner());
        f.0.append(&mut self.files);
        for (k, v) in std::mem::take(&mut self.skipped) {
            *f.1.entry(k).or_default() += v;
        }
    }
}

/// The files under `dir` (`ignore`'s parallel walk on `threads` threads,
/// honouring ignore files; links never followed) and what was skipped.
/// The walk runs on the worker threads too: on the Linux kernel it was a
/// fifth of a warm re-index.
fn walk(dir: &Path, threads: usize) -> Found {
    let found: Mutex<Found> = Mutex::default();
    ignore::WalkBuilder::new(dir)
        .follow_links(false)
        .threads(threads)
        .build_parallel()
        .run(|| {
            // Each walking thread collects on its own and hands over what
            // it found when it is done (the collector's drop).
            let mut c = Collector {
                found: &found,
                files: Vec::new(),
                skipped: BTreeMap::new(),
            };
            Box::new(move |entry| {
                match entry {
                    Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                        c.files.push(e.into_path())
                    }
                    Ok(e) if e.path_is_symlink() => {
                        *c.skipped.entry(SkipReason::Symlink).or_default() += 1
                    }
                    Ok(e) if e.file_type().is_some_and(|t| !t.is_dir()) => {
                        *c.skipped.entry(SkipReason::NotRegular).or_default() += 1
                    }
                    Ok(_) => {}
                    // Loops, permission errors: counted, never fatal.
                    Err(_) => *c.skipped.entry(SkipReason::Unreadable).or_default() += 1,
                }
                ignore::WalkState::Continue
            })
        });
    found.into_inner().expect("walk lock")
}

pub(crate) fn index(
    cache: &Cache,
    dir: &Path,
    options: &IndexOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<IndexReport, Error> {
    let started = Instant::now();
    let config = cache.config();
    let (files, skipped) = walk(dir, config.worker_threads());
    let report = IndexReport {
        skipped,
        ..IndexReport::default()
    };
    // By bytes: `Path`'s component-wise order cost as much as the walk.
    let files = sort_by_bytes(files);
    let total = files.len() as u64;
    let queue = Mutex::new(files.into_iter());
    let done = AtomicU64::new(0);
    let merged = Mutex::new(report);
    let max = config.max_file_bytes;
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let indexed: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    crossbeam::thread::scope(|s| {
        for _ in 0..config.worker_threads() {
            s.spawn(|_| {
                let mut parsers: FxHashMap<&'static str, tree_sitter::Parser> =
                    FxHashMap::default();
                let mut local = IndexReport::default();
                let mut local_indexed = Vec::new();
                loop {
                    let Some(path) = queue.lock().expect("queue lock").next() else {
                        break;
                    };
                    match index_one(cache, &path, max, options, &mut parsers) {
                        Ok(Ok((lang, outcome, lines, nodes, bytes))) => {
                            let l = local.languages.entry(lang).or_default();
                            l.files += 1;
                            l.lines += lines;
                            l.nodes += nodes;
                            l.bytes += bytes;
                            match outcome {
                                Outcome::Hit => local.hits += 1,
                                Outcome::Unread => {
                                    local.hits += 1;
                                    local.unread += 1;
                                }
                                Outcome::Parsed => local.parsed += 1,
                            }
                            local_indexed.push(path);
                        }
                        Ok(Err(reason)) => {
                            tracing::debug!(path = %path.display(), reason = reason.as_str(), "skipped");
                            *local.skipped.entry(reason).or_default() += 1;
                            if reason == SkipReason::NoGrammar
                                && let Some(e) = cst_grammars::catalogue::detect_path(&path)
                            {
                                *local.no_grammar.entry(e.name()).or_default() += 1;
                            }
                        }
                        Err(e) => {
                            first_error.lock().expect("error lock").get_or_insert(e);
                            break;
                        }
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress(Progress { done: n, total });
                }
                indexed.lock().expect("indexed lock").extend(local_indexed);
                let mut m = merged.lock().expect("report lock");
                for (k, v) in local.languages {
                    let e = m.languages.entry(k).or_default();
                    e.files += v.files;
                    e.lines += v.lines;
                    e.nodes += v.nodes;
                    e.bytes += v.bytes;
                }
                for (k, v) in local.skipped {
                    *m.skipped.entry(k).or_default() += v;
                }
                for (k, v) in local.no_grammar {
                    *m.no_grammar.entry(k).or_default() += v;
                }
                m.hits += local.hits;
                m.unread += local.unread;
                m.parsed += local.parsed;
            });
        }
    })
    .map_err(|_| Error::WorkerPanicked)?;
    if let Some(e) = first_error.into_inner().expect("error lock") {
        return Err(e);
    }
    let mut report = merged.into_inner().expect("report lock");
    let indexed = indexed.into_inner().expect("indexed lock");
    // By bytes (hashing a `Path` walks its components).
    let keep: rustc_hash::FxHashSet<&[u8]> = indexed
        .iter()
        .map(|p| p.as_os_str().as_encoded_bytes())
        .collect();
    report.removed = cache.forget_under(dir, &keep)?;
    report.elapsed = started.elapsed();
    Ok(report)
}

type Indexed = (&'static str, Outcome, u64, u64, u64);

/// The bytes of a file's head that decide whether it is binary (a NUL
/// among them) and, with its path, its language (a shebang, say).
const HEAD_BYTES: usize = 8192;

/// A file as [`read_one`] found it.
enum FileRead {
    /// Unchanged since it was last indexed (by its status): not read.
    /// Its language, lines, nodes and bytes.
    Unread(&'static str, u64, u64, u64),
    /// Its bytes, read whole and unchanged while read.
    Source {
        grammar: &'static cst_grammars::Grammar,
        source: Vec<u8>,
        stat: crate::paths::FileStat,
        stat_ns: i64,
    },
}

/// Reads `path` for indexing: its status first (a status hit is not
/// read), then its head (binary? which language?), then the rest, checked
/// unchanged while it was read.
fn read_one(
    cache: &Cache,
    path: &Path,
    max: u64,
    options: &IndexOptions,
) -> Result<FileRead, SkipReason> {
    // The time first, then the status: a file modified within the
    // timestamp granularity before this moment is never trusted unread.
    let stat_ns = crate::paths::now_ns();
    let Ok(meta) = std::fs::metadata(path) else {
        return Err(SkipReason::Unreadable);
    };
    if meta.len() > max {
        return Err(SkipReason::TooLarge);
    }
    let stat = crate::paths::FileStat::of(&meta);
    if !options.verify_content
        && let Some((lang, lines, nodes)) = cache.stat_hit(path, &stat)
    {
        return Ok(FileRead::Unread(lang, lines, nodes, meta.len()));
    }
    let Ok(mut file) = std::fs::File::open(path) else {
        return Err(SkipReason::Unreadable);
    };
    // The head first: a binary file or one of no known language is not read
    // further (every warm re-index meets them again: 4,433 in the kernel).
    let mut source = Vec::with_capacity(meta.len() as usize);
    if (&mut file)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut source)
        .is_err()
    {
        return Err(SkipReason::Unreadable);
    }
    if source.contains(&0) {
        return Err(SkipReason::Binary);
    }
    let Some(grammar) = cst_grammars::detect(path, &source) else {
        return Err(
            // By the path alone, as `IndexReport::no_grammar` counts it.
            if cst_grammars::catalogue::detect_path(path).is_some() {
                SkipReason::NoGrammar
            } else {
                SkipReason::UnknownLanguage
            },
        );
    };
    if !grammar.is_available() {
        return Err(SkipReason::NotCompiled);
    }
    let rest = (max + 1).saturating_sub(source.len() as u64);
    if file.take(rest).read_to_end(&mut source).is_err() {
        return Err(SkipReason::Unreadable);
    }
    if source.len() as u64 > max {
        return Err(SkipReason::TooLarge);
    }
    // Size or modification time moved while we read: what we hold may be
    // a mix of two versions (still parsed exactly, but of no real content).
    let unchanged = std::fs::metadata(path).is_ok_and(|after| {
        after.len() == meta.len() && after.modified().ok() == meta.modified().ok()
    });
    if source.len() as u64 != meta.len() || !unchanged {
        return Err(SkipReason::Changed);
    }
    Ok(FileRead::Source {
        grammar,
        source,
        stat,
        stat_ns,
    })
}

fn index_one(
    cache: &Cache,
    path: &Path,
    max: u64,
    options: &IndexOptions,
    parsers: &mut FxHashMap<&'static str, tree_sitter::Parser>,
) -> Result<Result<Indexed, SkipReason>, Error> {
    let (grammar, source, stat, stat_ns) = match read_one(cache, path, max, options) {
        Err(reason) => return Ok(Err(reason)),
        Ok(FileRead::Unread(lang, lines, nodes, bytes)) => {
            return Ok(Ok((lang, Outcome::Unread, lines, nodes, bytes)));
        }
        Ok(FileRead::Source {
            grammar,
            source,
            stat,
            stat_ns,
        }) => (grammar, source, stat, stat_ns),
    };
    let parser = match parsers.entry(grammar.id()) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => v.insert(grammar.parser()?),
    };
    let lines = cst_grammars::smoke::count_lines(&source) as u64;
    let bytes = source.len() as u64;
    let (outcome, nodes, key) = cache.insert_parsed(path, grammar, source, parser)?;
    cache.note_indexed(
        path,
        key,
        crate::paths::Indexed {
            stat,
            stat_ns,
            lines,
            nodes,
            fingerprint: grammar.fingerprint()?.0,
        },
    );
    Ok(Ok((grammar.id(), outcome, lines, nodes, bytes)))
}

#[cfg(feature = "remote")]
/// The content keys of the files under `dir` that an index would parse
/// now: read and detected as [`index`] reads them (a status hit is not
/// read), whose tree the store lacks. A remote pull fetches only these.
pub(crate) fn wanted_keys(
    cache: &Cache,
    dir: &Path,
) -> Result<rustc_hash::FxHashSet<[u8; 32]>, Error> {
    let store = cache.writable_store().ok_or(Error::NoStore)?;
    let config = cache.config();
    let (files, _) = walk(dir, config.worker_threads());
    let queue = Mutex::new(files.into_iter());
    let wanted = Mutex::new(rustc_hash::FxHashSet::default());
    let options = IndexOptions::default();
    let max = config.max_file_bytes;
    crossbeam::thread::scope(|s| {
        for _ in 0..config.worker_threads() {
            s.spawn(|_| {
                let mut local = Vec::new();
                loop {
                    let Some(path) = queue.lock().expect("queue lock").next() else {
                        break;
                    };
                    let Ok(FileRead::Source {
                        grammar, source, ..
                    }) = read_one(cache, &path, max, &options)
                    else {
                        continue;
                    };
                    let Ok(fingerprint) = grammar.fingerprint() else {
                        continue;
                    };
                    let key = crate::keys::content_keys(
                        &source,
                        grammar.id(),
                        fingerprint.0,
                        cst_bytecode::VERSION,
                    )
                    .0;
                    if !store.contains(&crate::keys::StoreKey::Tree(key).bytes()) {
                        local.push(key.0);
                    }
                }
                wanted.lock().expect("wanted lock").extend(local);
            });
        }
    })
    .map_err(|_| Error::WorkerPanicked)?;
    Ok(wanted.into_inner().expect("wanted lock"))
}

/// `files` sorted by their bytes. They share their root: each is keyed by
/// the eight bytes after the prefix common to all (a u64 compare decides
/// most pairs), then by all its bytes. (Paths hold no NUL byte, so the zero
/// padding of a short key orders it as its bytes do.)
fn sort_by_bytes(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let Some(first) = files.first().map(|f| f.as_os_str().as_encoded_bytes()) else {
        return files;
    };
    let mut common = first.len();
    for f in &files {
        let b = f.as_os_str().as_encoded_bytes();
        common = b
            .iter()
            .zip(&first[..common])
            .take_while(|(x, y)| x == y)
            .count();
    }
    let mut keyed: Vec<(u64, PathBuf)> = files
        .into_iter()
        .map(|f| {
            let tail = &f.as_os_str().as_encoded_bytes()[common..];
            let mut eight = [0u8; 8];
            let n = tail.len().min(8);
            eight[..n].copy_from_slice(&tail[..n]);
            (u64::from_be_bytes(eight), f)
        })
        .collect();
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            a.1.as_os_str()
                .as_encoded_bytes()
                .cmp(b.1.as_os_str().as_encoded_bytes())
        })
    });
    keyed.into_iter().map(|(_, f)| f).collect()
}

#[cfg(test)]
mod sort_tests {
    use super::sort_by_bytes;
    use std::path::PathBuf;

    #[test]
    fn paths_sort_by_their_bytes() {
        let mut names: Vec<String> = vec![
            "/ws/a",
            "/ws/ab",
            "/ws/abcdefghij/x",
            "/ws/abcdefghi",
            "/ws/abcdefgh",
            "/ws/b.rs",
            "/ws/B.rs",
            "/ws/a/b/c",
            "/ws/a-b",
            "/ws/\u{e9}t\u{e9}.rs",
            "/ws/z",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        for i in 0..200 {
            names.push(format!("/ws/dir{}/file{}.c", i % 7, (i * 7919) % 1000));
        }
        let files: Vec<PathBuf> = names.iter().rev().map(PathBuf::from).collect();
        let mut want = files.clone();
        want.sort_by(|a, b| {
            a.as_os_str()
                .as_encoded_bytes()
                .cmp(b.as_os_str().as_encoded_bytes())
        });
        assert_eq!(sort_by_bytes(files), want);
        assert_eq!(sort_by_bytes(Vec::new()), Vec::<PathBuf>::new());
        let one = vec![PathBuf::from("/x")];
        assert_eq!(sort_by_bytes(one.clone()), one);
    }
}
