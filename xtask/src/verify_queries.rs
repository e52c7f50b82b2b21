//! `cargo xtask verify-queries [--tier ci|full] [--query-dir DIR] [--lang L] [PATH…]`:
//! the differential check of cst-query. Every query (the grammars' shipped
//! ones, or an editor-style directory `<language>/<name>.scm`) runs over
//! every file with tree-sitter's `QueryCursor` on the live tree and with
//! cst-query on the decoded view, in matches and captures mode, over the
//! whole tree, a few random byte and point ranges and as many small windows
//! (an editor's viewport); any difference fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use cst_bytecode::{Point, Symbols, TreeView, encode};
use cst_grammars::Grammar;
use cst_query::Query;
use cst_query::differential::{Settings, check};

/// One compiled query.
struct Named {
    name: String,
    query: Query,
}

/// Compiled queries per language id.
type Queries = BTreeMap<&'static str, Vec<Named>>;

/// Options of one run.
pub(crate) struct Options {
    pub query_dir: Option<PathBuf>,
    pub ranges: usize,
    pub max_bytes: u64,
    pub threads: Option<usize>,
    pub lang: Option<String>,
}

/// Queries per language; prints what was skipped and why.
fn load_queries(langs: &[&'static Grammar], dir: Option<&Path>) -> Result<(Queries, usize, usize)> {
    let mut out: Queries = BTreeMap::new();
    let (total, skipped) = (std::cell::Cell::new(0usize), std::cell::Cell::new(0usize));
    let bump = |c: &std::cell::Cell<usize>, n: usize| c.set(c.get() + n);
    let mut compile = |g: &'static Grammar, name: String, source: &str| {
        bump(&total, 1);
        let language = match g.language() {
            Ok(l) => l,
            Err(e) => {
                bump(&skipped, 1);
                println!("skipped {name}: {e}");
                return;
            }
        };
        // A query tree-sitter itself rejects against our grammar version is
        // skipped and counted; cst must then reject it the same way.
        match (
            tree_sitter::Query::new(&language, source),
            Query::new(&language, source),
        ) {
            (Ok(_), Ok(query)) => out.entry(g.id()).or_default().push(Named { name, query }),
            (Err(e), Err(cst_query::Error::Query(ours))) if ours == e => {
                bump(&skipped, 1);
                println!(
                    "skipped {name}: tree-sitter rejects it ({:?} at {}:{})",
                    e.kind,
                    e.row + 1,
                    e.column + 1
                );
            }
            (theirs, ours) => {
                bump(&skipped, 1);
                println!(
                    "DIFFERENCE compiling {name}: tree-sitter {:?}, cst {:?}",
                    theirs.err().map(|e| e.message),
                    ours.err().map(|e| e.to_string())
                );
                DIFFERENCES.fetch_add(1, Ordering::Relaxed);
            }
        }
    };
    match dir {
        None => {
            for &g in langs {
                let q = g.queries();
                for (kind, source) in [
                    ("highlights", q.highlights),
                    ("tags", q.tags),
                    ("locals", q.locals),
                    ("injections", q.injections),
                ] {
                    if let Some(source) = source {
                        compile(g, format!("{}/{kind}.scm", g.id()), source);
                    }
                }
            }
        }
        Some(dir) => {
            // Every `.scm` file below `dir`; its language from (in this
            // order) its directory (`<language>/<name>.scm`, nvim and Helix),
            // its stem (`<name>/<language>.scm`, Textual), or its stem's
            // prefix (`<language>-<name>.scm`, aider).
            let mut files = Vec::new();
            let mut stack = vec![dir.to_path_buf()];
            while let Some(d) = stack.pop() {
                let rd =
                    std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))?;
                for e in rd.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "scm") {
                        files.push(p);
                    }
                }
            }
            files.sort();
            for file in files {
                let parent = file
                    .parent()
                    .and_then(|p| p.file_name())
                    .and_then(|n| n.to_str())
                    .unwrap_or("");
                let stem = file.file_stem().and_then(|n| n.to_str()).unwrap_or("");
                let name = file
                    .strip_prefix(dir)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                let g = lookup(parent)
                    .or_else(|| lookup(stem))
                    .or_else(|| stem.rsplit_once('-').and_then(|(l, _)| lookup(l)));
                match g {
                    Some(g) if langs.iter().any(|l| l.id() == g.id()) => {
                        match std::fs::read_to_string(&file) {
                            Ok(source) => compile(g, name, &source),
                            Err(e) => {
                                bump(&total, 1);
                                bump(&skipped, 1);
                                println!("skipped {name}: {e}");
                            }
                        }
                    }
                    Some(g) => println!("not run {name}: no file of {}", g.id()),
                    None => {
                        bump(&total, 1);
                        bump(&skipped, 1);
                        println!("skipped {name}: no language for it in the registry");
                    }
                }
            }
        }
    }
    Ok((out, total.get(), skipped.get()))
}

/// A registry grammar by id or alias.
fn lookup(name: &str) -> Option<&'static Grammar> {
    cst_grammars::by_id(name).or_else(|| cst_grammars::by_name(name))
}

static DIFFERENCES: AtomicUsize = AtomicUsize::new(0);

/// A small deterministic generator (xorshift) for the random ranges.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if n == 0 {
            0
        } else {
            (self.0 % n as u64) as usize
        }
    }
}

/// The whole tree, then `n` random byte ranges and `n` random point ranges,
/// and `n` windows of each kind (an editor's viewport: up to 2 KiB, up to
/// 40 rows, anywhere in the file).
fn settings(source: &[u8], view: &TreeView, n: usize, seed: u64) -> Vec<Settings> {
    let mut rng = Rng(seed | 1);
    let mut out = vec![Settings::default()];
    let (len, lines) = (source.len(), view.line_count());
    for _ in 0..n {
        let a = rng.below(len + 1);
        let b = a + rng.below(len + 1 - a);
        out.push(Settings {
            byte_range: Some(a..b),
            ..Settings::default()
        });
        let (r0, r1) = (rng.below(lines), rng.below(lines));
        let (r0, r1) = (r0.min(r1), r0.max(r1));
        let c0 = rng.below(8);
        out.push(rows((r0, c0), (r1, rng.below(80))));
        let a = rng.below(len + 1);
        out.push(Settings {
            byte_range: Some(a..(a + rng.below(2048)).min(len)),
            ..Settings::default()
        });
        let r0 = rng.below(lines);
        let c0 = rng.below(8);
        let r1 = r0 + rng.below(40);
        out.push(rows((r0, c0), (r1, rng.below(80))));
    }
    out
}

/// A point range from (row, column) `start` to `end`.
fn rows(start: (usize, usize), end: (usize, usize)) -> Settings {
    let point = |(row, column)| Point { row, column };
    Settings {
        point_range: Some(point(start)..point(end)),
        ..Settings::default()
    }
}

/// `source` parsed by `g`, and its tree encoded and opened as a view (the
/// two sides every differential check compares); `symbols` caches each
/// language's symbol table.
pub(crate) fn live_and_stored(
    g: &'static Grammar,
    source: &[u8],
    symbols: &mut BTreeMap<&'static str, Arc<Symbols>>,
) -> Result<(tree_sitter::Tree, TreeView)> {
    let fp = g.fingerprint()?.0;
    let syms = symbols
        .entry(g.id())
        .or_insert_with(|| Arc::new(Symbols::from_language(&g.language().expect("compiled"), fp)))
        .clone();
    let tree = g.parser()?.parse(source, None).context("no tree")?;
    let view = TreeView::open(&encode(&tree, source, fp)?, syms)?;
    Ok((tree, view))
}

/// The files of `paths` (files or directories) or of a manifest tier.
pub(crate) fn jobs(
    paths: &[PathBuf],
    tier: Option<&str>,
    lang: Option<&str>,
) -> Result<Vec<(PathBuf, Option<&'static Grammar>)>> {
    let (files, dirs): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.iter().cloned().partition(|p| p.is_file());
    let mut jobs: Vec<(PathBuf, Option<&'static Grammar>)> =
        files.into_iter().map(|f| (f, None)).collect();
    if tier.is_some() || !dirs.is_empty() {
        jobs.extend(crate::verify_corpus::jobs(
            &dirs,
            tier,
            if tier.is_some() { lang } else { None },
        )?);
    }
    anyhow::ensure!(!jobs.is_empty(), "no files to check");
    Ok(jobs)
}

pub(crate) fn run(
    jobs: Vec<(PathBuf, Option<&'static Grammar>)>,
    options: &Options,
) -> Result<bool> {
    let started = Instant::now();
    // Detect languages first, so queries are compiled for those present only.
    let mut files: Vec<(PathBuf, &'static Grammar)> = Vec::new();
    let mut skipped_files: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (path, lang) in jobs {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.len() > options.max_bytes {
            *skipped_files.entry("too large").or_default() += 1;
            continue;
        }
        // The first 4 KiB decide the language; the worker reads the file.
        let mut head = Vec::with_capacity(4096);
        if let Ok(f) = std::fs::File::open(&path) {
            use std::io::Read;
            let _ = f.take(4096).read_to_end(&mut head);
        }
        match lang.or_else(|| cst_grammars::detect(&path, &head)) {
            Some(g) if options.lang.as_deref().is_none_or(|l| l == g.id()) => files.push((path, g)),
            Some(_) => {}
            None => *skipped_files.entry("unknown language").or_default() += 1,
        }
    }
    let mut langs: Vec<&'static Grammar> = files.iter().map(|f| f.1).collect();
    langs.sort_by_key(|g| g.id());
    langs.dedup_by_key(|g| g.id());
    let (queries, total, skipped) = load_queries(&langs, options.query_dir.as_deref())?;
    let queries = Arc::new(queries);
    let threads = options
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let counts = Mutex::new((0usize, 0usize, 0usize, 0usize)); // files, runs, matches, captures
    let firsts: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let queue = Mutex::new(files.into_iter());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut symbols: BTreeMap<&'static str, Arc<Symbols>> = BTreeMap::new();
                loop {
                    let Some((path, g)) = queue.lock().unwrap().next() else {
                        break;
                    };
                    let Some(qs) = queries.get(g.id()) else {
                        continue;
                    };
                    let Ok(source) = std::fs::read(&path) else {
                        continue;
                    };
                    if source[..source.len().min(4096)].contains(&0) {
                        continue;
                    }
                    let result = (|| -> Result<(usize, usize, usize)> {
                        let (tree, view) = live_and_stored(g, &source, &mut symbols)?;
                        let seed = path
                            .to_string_lossy()
                            .bytes()
                            .fold(0xcbf29ce484222325u64, |h, b| {
                                (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
                            });
                        let (mut runs, mut m, mut c) = (0, 0, 0);
                        for named in qs {
                            for (k, st) in settings(&source, &view, options.ranges, seed)
                                .iter()
                                .enumerate()
                            {
                                runs += 1;
                                match check(&tree, &view, &source, &named.query, st) {
                                    Ok((a, b)) => {
                                        if k == 0 {
                                            m += a;
                                            c += b;
                                        }
                                    }
                                    Err(d) => {
                                        DIFFERENCES.fetch_add(1, Ordering::Relaxed);
                                        let mut f = firsts.lock().unwrap();
                                        if f.len() < 20 {
                                            f.push(format!(
                                                "{}: {} ({st:?}): {d}",
                                                path.display(),
                                                named.name
                                            ));
                                        }
                                    }
                                }
                            }
                        }
                        Ok((runs, m, c))
                    })();
                    match result {
                        Ok((runs, m, c)) => {
                            let mut t = counts.lock().unwrap();
                            t.0 += 1;
                            t.1 += runs;
                            t.2 += m;
                            t.3 += c;
                        }
                        Err(e) => {
                            DIFFERENCES.fetch_add(1, Ordering::Relaxed);
                            firsts
                                .lock()
                                .unwrap()
                                .push(format!("{}: {e:#}", path.display()));
                        }
                    }
                }
            });
        }
    });
    for (why, n) in skipped_files {
        println!("skipped {n} files: {why}");
    }
    let (files, runs, matches, captures) = counts.into_inner().unwrap();
    let differences = DIFFERENCES.load(Ordering::Relaxed);
    for f in firsts.into_inner().unwrap() {
        println!("DIFFERENCE {f}");
    }
    println!(
        "{} queries ({skipped} skipped), {files} files, {matches} matches, {captures} captures, {differences} differences",
        total - skipped
    );
    println!(
        "({runs} runs of both engines, each in matches and captures mode: whole tree + {} random byte and point ranges and as many windows per file and query; {:.1} s on {threads} threads)",
        options.ranges,
        started.elapsed().as_secs_f64()
    );
    Ok(differences == 0)
}
