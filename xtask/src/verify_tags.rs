//! `cargo xtask verify-tags [--tier ci|full] [--lang L] [PATH…]`: the
//! differential check of cst-tags. Every file of a language with a tags
//! query (its grammar crate's `tags.scm` + `locals.scm`, or the one cst
//! bundles) gets its tags from `tree_sitter_tags::TagsContext` (which parses
//! the file) and from cst-tags over the stored view, compared field by
//! field; any difference fails.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use cst_bytecode::Symbols;
use cst_grammars::Grammar;
use cst_tags::differential::{Pair, check};

/// The tags and locals queries of a grammar, in the facade's order.
fn sources(g: &Grammar) -> Vec<(cst_tags::bundled::Origin, &'static str, &'static str)> {
    cst_tags::bundled::candidates(g.id(), g.queries().tags, g.queries().locals)
}

#[derive(Default)]
struct Counts {
    files: usize,
    tags: usize,
    differences: usize,
    firsts: Vec<String>,
    leaked: usize,
    per_language: BTreeMap<&'static str, (usize, usize)>,
}

pub(crate) fn run(
    jobs: Vec<(PathBuf, Option<&'static Grammar>)>,
    lang: Option<&str>,
    max_bytes: u64,
    threads: Option<usize>,
) -> Result<bool> {
    let started = Instant::now();
    let mut files: Vec<(PathBuf, &'static Grammar)> = Vec::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for (path, g) in jobs {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.len() > max_bytes {
            *skipped.entry("too large".into()).or_default() += 1;
            continue;
        }
        let g = match g.or_else(|| cst_grammars::detect_path(&path)) {
            Some(g) => g,
            None => {
                *skipped.entry("unknown language".into()).or_default() += 1;
                continue;
            }
        };
        if lang.is_some_and(|l| l != g.id()) {
            continue;
        }
        files.push((path, g));
    }
    // One configuration pair per language present (the first query both
    // engines accept, as the facade picks it).
    let mut pairs: BTreeMap<&'static str, Arc<Pair>> = BTreeMap::new();
    let mut differences_compiling = 0;
    let mut langs: Vec<&'static Grammar> = files.iter().map(|f| f.1).collect();
    langs.sort_by_key(|g| g.id());
    langs.dedup_by_key(|g| g.id());
    for g in langs {
        let language = g.language().with_context(|| g.id())?;
        let mut notes = Vec::new();
        for (origin, tags, locals) in sources(g) {
            match Pair::new(&language, tags, locals) {
                Ok(p) => {
                    pairs.insert(g.id(), Arc::new(p));
                    break;
                }
                Err(e) => {
                    if !e.starts_with("both reject") {
                        differences_compiling += 1;
                    }
                    notes.push(format!("{origin:?} query: {e}"));
                }
            }
        }
        if !pairs.contains_key(g.id()) {
            for n in &notes {
                println!("{}: {n}", g.id());
            }
            let why = if notes.is_empty() {
                "no tags query".to_string()
            } else {
                "tags query rejected by both engines".to_string()
            };
            let n = files.iter().filter(|f| f.1.id() == g.id()).count();
            *skipped.entry(format!("{why} ({})", g.id())).or_default() += n;
        }
    }
    let files: Vec<(PathBuf, &'static Grammar)> = files
        .into_iter()
        .filter(|f| pairs.contains_key(f.1.id()))
        .collect();
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let counts = Mutex::new(Counts::default());
    let queue = Mutex::new(files.into_iter());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut context = tree_sitter_tags::TagsContext::new();
                let mut symbols: BTreeMap<&'static str, Arc<Symbols>> = BTreeMap::new();
                loop {
                    let Some((path, g)) = queue.lock().unwrap().next() else {
                        break;
                    };
                    let Ok(source) = std::fs::read(&path) else {
                        continue;
                    };
                    if source[..source.len().min(4096)].contains(&0) {
                        continue;
                    }
                    let pair = &pairs[g.id()];
                    let result =
                        (|| -> Result<Result<cst_tags::differential::Agreement, String>> {
                            let (_, view) =
                                crate::verify_queries::live_and_stored(g, &source, &mut symbols)?;
                            Ok(
                                check(pair, &mut context, &view, &source)
                                    .map_err(|d| d.to_string()),
                            )
                        })();
                    let mut c = counts.lock().unwrap();
                    match result {
                        Ok(Ok(a)) => {
                            let n = a.tags;
                            c.leaked += a.leaked_placeholders;
                            c.files += 1;
                            c.tags += n;
                            let e = c.per_language.entry(g.id()).or_default();
                            e.0 += 1;
                            e.1 += n;
                        }
                        Ok(Err(d)) => {
                            c.differences += 1;
                            if c.firsts.len() < 20 {
                                c.firsts.push(format!("{}: {d}", path.display()));
                            }
                        }
                        Err(e) => {
                            c.differences += 1;
                            c.firsts.push(format!("{}: {e:#}", path.display()));
                        }
                    }
                }
            });
        }
    });
    let c = counts.into_inner().unwrap();
    for (why, n) in &skipped {
        println!("skipped {n} files: {why}");
    }
    for (id, (f, t)) in &c.per_language {
        println!("{id:<16} {f:>7} files {t:>10} tags");
    }
    for f in &c.firsts {
        println!("DIFFERENCE {f}");
    }
    if c.leaked > 0 {
        println!(
            "tree-sitter-tags leaked {} @ignore placeholders (range usize::MAX; its final queue drain does not skip them); cst drops them",
            c.leaked
        );
    }
    let differences = c.differences + differences_compiling;
    println!(
        "{} languages, {} files, {} tags, {differences} differences ({:.1} s on {threads} threads)",
        c.per_language.len(),
        c.files,
        c.tags,
        started.elapsed().as_secs_f64()
    );
    Ok(differences == 0)
}
