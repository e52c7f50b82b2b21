//! `cargo xtask verify-corpus DIR…` / `--tier ci|full`: the differential
//! check of the format. Every file (of a detected language, or of the
//! manifest's language for a tier) is parsed, encoded, decoded and compared
//! node by node with the live tree.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use cst_bytecode::{Symbols, TreeView, encode, verify};
use cst_grammars::Grammar;

#[derive(Default, Clone)]
struct Tally {
    files: usize,
    lines: usize,
    nodes: usize,
    with_errors: usize,
    mismatches: usize,
    source_bytes: usize,
    encoded_bytes: usize,
    parse: Duration,
    encode: Duration,
    decode: Duration,
}

/// The files of `dirs` (languages detected) or of a manifest tier.
pub(crate) fn jobs(
    dirs: &[PathBuf],
    tier: Option<&str>,
    lang: Option<&str>,
) -> Result<Vec<(PathBuf, Option<&'static Grammar>)>> {
    let mut jobs = Vec::new();
    if let Some(tier) = tier {
        for l in crate::corpus::load()?.files(tier, lang)? {
            jobs.extend(l.files.into_iter().map(|f| (f, Some(l.lang))));
        }
    }
    let mut files = Vec::new();
    for d in dirs {
        anyhow::ensure!(d.is_dir(), "{} is not a directory", d.display());
        files.extend(crate::corpus::walk(d));
    }
    files.sort();
    jobs.extend(files.into_iter().map(|f| (f, None)));
    anyhow::ensure!(!jobs.is_empty(), "no files to check");
    Ok(jobs)
}

pub(crate) fn run(
    files: Vec<(PathBuf, Option<&'static Grammar>)>,
    max_bytes: u64,
    sexp: bool,
    threads: Option<usize>,
) -> Result<bool> {
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let queue = Mutex::new(files.into_iter());
    let tallies: Mutex<BTreeMap<&'static str, Tally>> = Mutex::new(BTreeMap::new());
    let problems: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let skipped: Mutex<BTreeMap<&'static str, usize>> = Mutex::new(BTreeMap::new());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            // tree-sitter's `to_sexp` (for --sexp) recurses once per subtree
            // level: deep real files (Go, 10K+ levels) need a large stack.
            let worker = std::thread::Builder::new().stack_size(1 << 30);
            worker
                .spawn_scoped(s, || {
                    let mut symbols: HashMap<&'static str, Arc<Symbols>> = HashMap::new();
                    let mut parsers: HashMap<&'static str, tree_sitter::Parser> = HashMap::new();
                    loop {
                        let Some((path, lang)) = queue.lock().unwrap().next() else {
                            break;
                        };
                        let skip = |why: &'static str| {
                            *skipped.lock().unwrap().entry(why).or_default() += 1
                        };
                        let Ok(meta) = std::fs::metadata(&path) else {
                            continue;
                        };
                        if meta.len() > max_bytes {
                            skip("too large");
                            continue;
                        }
                        let Ok(source) = std::fs::read(&path) else {
                            skip("unreadable");
                            continue;
                        };
                        let head = &source[..source.len().min(4096)];
                        let Some(g) = lang.or_else(|| cst_grammars::detect(&path, head)) else {
                            skip("unknown language");
                            continue;
                        };
                        if head.contains(&0) {
                            skip("binary");
                            continue;
                        }
                        match check(g, &path, &source, sexp, &mut symbols, &mut parsers) {
                            Ok(t) => {
                                let mut all = tallies.lock().unwrap();
                                let e = all.entry(g.id()).or_default();
                                add(e, &t);
                                if t.mismatches > 0 {
                                    problems
                                        .lock()
                                        .unwrap()
                                        .push(format!("{}: mismatch", path.display()));
                                }
                            }
                            Err(e) => {
                                problems
                                    .lock()
                                    .unwrap()
                                    .push(format!("{}: {e}", path.display()));
                                tallies
                                    .lock()
                                    .unwrap()
                                    .entry(g.id())
                                    .or_default()
                                    .mismatches += 1;
                            }
                        }
                    }
                })
                .expect("spawning a verify worker");
        }
    });
    let wall = started.elapsed();
    let tallies = tallies.into_inner().unwrap();
    let mut total = Tally::default();
    println!(
        "| language | files | lines | nodes | files with errors | mismatches | B/line (encoded) | parse ms | encode ms | open ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (id, t) in &tallies {
        print_row(id, t);
        add(&mut total, t);
    }
    print_row("**total**", &total);
    for (why, n) in skipped.into_inner().unwrap() {
        println!("skipped {n} files: {why}");
    }
    let problems = problems.into_inner().unwrap();
    for p in problems.iter().take(50) {
        eprintln!("MISMATCH {p}");
    }
    println!(
        "{} files, {} lines, {} nodes, {} languages, {} mismatches, wall {:.1} s on {threads} threads",
        total.files,
        total.lines,
        total.nodes,
        tallies.len(),
        total.mismatches,
        wall.as_secs_f64()
    );
    Ok(total.mismatches == 0)
}

fn add(into: &mut Tally, t: &Tally) {
    into.files += t.files;
    into.lines += t.lines;
    into.nodes += t.nodes;
    into.with_errors += t.with_errors;
    into.mismatches += t.mismatches;
    into.source_bytes += t.source_bytes;
    into.encoded_bytes += t.encoded_bytes;
    into.parse += t.parse;
    into.encode += t.encode;
    into.decode += t.decode;
}

fn print_row(id: &str, t: &Tally) {
    println!(
        "| {id} | {} | {} | {} | {} | {} | {:.2} | {} | {} | {} |",
        t.files,
        t.lines,
        t.nodes,
        t.with_errors,
        t.mismatches,
        t.encoded_bytes as f64 / t.lines.max(1) as f64,
        t.parse.as_millis(),
        t.encode.as_millis(),
        t.decode.as_millis()
    );
}

fn check(
    g: &'static Grammar,
    path: &Path,
    source: &[u8],
    sexp: bool,
    symbols: &mut HashMap<&'static str, Arc<Symbols>>,
    parsers: &mut HashMap<&'static str, tree_sitter::Parser>,
) -> Result<Tally> {
    let fingerprint = g.fingerprint()?.0;
    let parser = match parsers.entry(g.id()) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => v.insert(g.parser()?),
    };
    let syms = symbols
        .entry(g.id())
        .or_insert_with(|| {
            Arc::new(Symbols::from_language(
                &g.language().expect("compiled"),
                fingerprint,
            ))
        })
        .clone();
    let t0 = Instant::now();
    let tree = parser
        .parse(source, None)
        .ok_or_else(|| anyhow::anyhow!("no tree (parse cancelled)"))?;
    let t1 = Instant::now();
    let bytes = encode(&tree, source, fingerprint)?;
    let t2 = Instant::now();
    let view = TreeView::open(&bytes, syms)?;
    let t3 = Instant::now();
    let mut mismatches = 0;
    // What opening (O(1)) does not check: the deep structure.
    if let Err(e) = view.validate() {
        eprintln!("INVALID {}: {e}", path.display());
        mismatches += 1;
    } else if cst_bytecode::pack(&bytes)
        .and_then(|p| cst_bytecode::unpack(&p))
        .ok()
        .as_deref()
        != Some(&bytes[..])
    {
        // The form trees take on disk must give back the very same bytes.
        eprintln!(
            "PACKED {}: does not unpack to the same tree",
            path.display()
        );
        mismatches += 1;
    } else if let Err(m) = verify(&tree, &view) {
        eprintln!("MISMATCH {}: {m}", path.display());
        mismatches += 1;
    } else if sexp {
        let (ours, theirs) = (view.root().to_sexp(), tree.root_node().to_sexp());
        if ours != theirs {
            let at = ours
                .bytes()
                .zip(theirs.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(ours.len().min(theirs.len()));
            let around = |s: &str| {
                let mut from = at.saturating_sub(80).min(s.len());
                while !s.is_char_boundary(from) {
                    from -= 1;
                }
                let mut to = (at + 80).min(s.len());
                while !s.is_char_boundary(to) {
                    to += 1;
                }
                s[from..to].to_owned()
            };
            eprintln!(
                "MISMATCH {}: to_sexp differs at byte {at}\n  decoded: …{}…\n  live:    …{}…",
                path.display(),
                around(&ours),
                around(&theirs)
            );
            mismatches += 1;
        }
    }
    if mismatches == 0 {
        // Range queries: 8 ranges per file (empty and not), derived from
        // the file's length, against tree-sitter's answers.
        let (live, root) = (tree.root_node(), view.root());
        let len = source.len();
        let mut x = len as u64 ^ 0x9e37_79b9_7f4a_7c15;
        for k in 0..8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = (x % (len as u64 + 1)) as usize;
            let b = if k % 2 == 0 {
                a
            } else {
                (a + (x >> 40) as usize % 64).min(len)
            };
            let l = live.descendant_for_byte_range(a, b);
            let d = root.descendant_for_byte_range(a, b);
            let ln = live.named_descendant_for_byte_range(a, b);
            let dn = root.named_descendant_for_byte_range(a, b);
            let same = |l: Option<tree_sitter::Node<'_>>, d: Option<cst_bytecode::Node<'_>>| {
                l.map(|n| (n.kind_id(), n.byte_range())) == d.map(|n| (n.kind_id(), n.byte_range()))
            };
            if !same(l, d) || !same(ln, dn) {
                eprintln!(
                    "MISMATCH {}: descendant_for_byte_range({a}, {b}): live {:?} / {:?}, decoded {:?} / {:?}",
                    path.display(),
                    l,
                    ln,
                    d,
                    dn
                );
                mismatches += 1;
                break;
            }
        }
    }
    Ok(Tally {
        files: 1,
        lines: cst_grammars::smoke::count_lines(source),
        nodes: view.node_count(),
        with_errors: usize::from(tree.root_node().has_error()),
        mismatches,
        source_bytes: source.len(),
        encoded_bytes: bytes.len(),
        parse: t1 - t0,
        encode: t2 - t1,
        decode: t3 - t2,
    })
}
