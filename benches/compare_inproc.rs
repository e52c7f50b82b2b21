//! `compare-inproc`: the in-process sides of `cargo xtask compare`, built in
//! release beside the `cst` binary:
//!
//! ```text
//! compare-inproc tags-ts   --files LIST --cache DIR  # tree-sitter-tags: parse + tags
//! compare-inproc tags-cst  --files LIST --cache DIR  # cst-tags from the store
//! compare-inproc chunks-cst --files LIST --cache DIR --max N
//! ```
//!
//! `LIST` holds one `language-id<TAB>path` per line. Each mode prints one
//! JSON object (files, counts, seconds). Single-threaded: the figures are
//! per core. The cst modes open the store, read every tree once (the store
//! is then warm in memory, as in `cst serve`), then time a second pass.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cst::tags::{ChunkOptions, Unit};
use cst::{Cache, Config};
use serde_json::json;

fn list(path: &str) -> Result<Vec<(&'static cst::grammars::Grammar, PathBuf)>> {
    let text = std::fs::read_to_string(path).with_context(|| path.to_string())?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (id, p) = line.split_once('\t').context("`id<TAB>path` lines")?;
        let g = cst::grammars::by_id(id).with_context(|| format!("unknown language {id}"))?;
        out.push((g, PathBuf::from(p)));
    }
    Ok(out)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn pct(v: &mut [usize], p: f64) -> usize {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_default();
    let files = list(&arg(&args, "--files").context("--files LIST")?)?;
    match mode.as_str() {
        "tags-ts" => {
            // The language each file is stored under (as `cst index`
            // detected it), so both sides tag the same files the same way.
            let cache = open(&arg(&args, "--cache").context("--cache DIR")?)?;
            let mut stored = Vec::with_capacity(files.len());
            for (g, p) in files {
                let g = cache.get(&p)?.map_or(g, |t| t.language());
                stored.push((g, p));
            }
            drop(cache);
            tags_ts(&stored)
        }
        "tags-cst" => tags_cst(&files, &arg(&args, "--cache").context("--cache DIR")?),
        "chunks-cst" => {
            let max = arg(&args, "--max").map_or(Ok(1500), |m| m.parse())?;
            chunks_cst(&files, &arg(&args, "--cache").context("--cache DIR")?, max)
        }
        "outline-cst" => outline_cst(&files, &arg(&args, "--cache").context("--cache DIR")?),
        other => bail!("unknown mode `{other}` (tags-ts, tags-cst, chunks-cst, outline-cst)"),
    }
}

/// tree-sitter-tags as its users run it: `generate_tags` parses the source.
fn tags_ts(files: &[(&'static cst::grammars::Grammar, PathBuf)]) -> Result<()> {
    let mut configs: std::collections::BTreeMap<&str, Option<tree_sitter_tags::TagsConfiguration>> =
        Default::default();
    let sources: Vec<Vec<u8>> = files
        .iter()
        .map(|(_, p)| std::fs::read(p).with_context(|| p.display().to_string()))
        .collect::<Result<_>>()?;
    // Compile first (not timed: cst caches compiled queries too).
    for (g, _) in files {
        configs.entry(g.id()).or_insert_with(|| {
            let q = g.queries();
            cst::tags::bundled::candidates(g.id(), q.tags, q.locals)
                .into_iter()
                .find_map(|(_, t, l)| {
                    tree_sitter_tags::TagsConfiguration::new(g.language().ok()?, t, l).ok()
                })
        });
    }
    let mut context = tree_sitter_tags::TagsContext::new();
    let (mut tags, mut done, mut lines) = (0usize, 0usize, 0usize);
    let started = Instant::now();
    for ((g, _), source) in files.iter().zip(&sources) {
        let Some(config) = configs[g.id()].as_ref() else {
            continue;
        };
        let (iter, _) = context.generate_tags(config, source, None)?;
        for t in iter {
            t?;
            tags += 1;
        }
        done += 1;
        lines += source.iter().filter(|&&b| b == b'\n').count();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"mode": "tags-ts", "files": done, "lines": lines, "tags": tags, "seconds": seconds})
    );
    Ok(())
}

fn open(cache: &str) -> Result<Cache> {
    // Room for every tree in memory: the second pass is the warm one.
    let config = Config {
        hot_bytes: 0,
        warm_bytes: 8 << 30,
        cold_bytes: 0,
        threads: 1,
        ..Config::default()
    };
    Ok(Cache::open(cache, config)?)
}

fn tags_cst(files: &[(&'static cst::grammars::Grammar, PathBuf)], cache: &str) -> Result<()> {
    let cache = open(cache)?;
    let pass = || -> Result<(usize, usize)> {
        let (mut tags, mut done) = (0, 0);
        for (g, p) in files {
            if cache.tags_config(g)?.is_none() {
                continue;
            }
            let t = match cache.tags(p) {
                Ok(Some(t)) => t,
                Ok(None) => bail!("{} is not indexed", p.display()),
                Err(cst::Error::NoTagsQuery(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            tags += t.tags().len();
            done += 1;
        }
        Ok((tags, done))
    };
    let first = Instant::now();
    pass()?;
    let first = first.elapsed().as_secs_f64();
    let started = Instant::now();
    let (tags, done) = pass()?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"mode": "tags-cst", "files": done, "tags": tags, "seconds": seconds, "first_pass_seconds": first})
    );
    Ok(())
}

/// `Cache::outline` per file of 800–1,200 lines, second pass: mean and max.
fn outline_cst(files: &[(&'static cst::grammars::Grammar, PathBuf)], cache: &str) -> Result<()> {
    let cache = open(cache)?;
    let mut picked = Vec::new();
    for (_, p) in files {
        let lines = std::fs::read(p)?.iter().filter(|&&b| b == b'\n').count();
        if (800..=1200).contains(&lines) {
            picked.push(p);
        }
    }
    let mut times = Vec::new();
    for pass in 0..2 {
        for p in &picked {
            let started = Instant::now();
            let items = match cache.outline(p) {
                Ok(Some(items)) => items,
                Ok(None) => bail!("{} is not indexed", p.display()),
                Err(cst::Error::NoTagsQuery(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            let t = started.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(items);
            if pass == 1 {
                times.push(t);
            }
        }
    }
    let n = times.len().max(1) as f64;
    println!(
        "{}",
        json!({"mode": "outline-cst", "files": times.len(),
               "mean_ms": times.iter().sum::<f64>() / n,
               "max_ms": times.iter().copied().fold(0.0, f64::max)})
    );
    Ok(())
}

fn chunks_cst(
    files: &[(&'static cst::grammars::Grammar, PathBuf)],
    cache: &str,
    max: usize,
) -> Result<()> {
    let cache = open(cache)?;
    let options = ChunkOptions {
        max,
        unit: Unit::Bytes,
        overlap_lines: 0,
    };
    let pass = || -> Result<(Vec<usize>, usize, usize)> {
        let (mut sizes, mut bytes, mut done) = (Vec::new(), 0, 0);
        for (_, p) in files {
            let Some(chunks) = cache.chunks(p, &options)? else {
                bail!("{} is not indexed", p.display());
            };
            for c in &chunks {
                sizes.push(c.range.len());
                bytes += c.range.len();
            }
            done += 1;
        }
        Ok((sizes, bytes, done))
    };
    pass()?;
    let started = Instant::now();
    let (mut sizes, bytes, done) = pass()?;
    let seconds = started.elapsed().as_secs_f64();
    let n = sizes.len();
    println!(
        "{}",
        json!({"mode": "chunks-cst", "files": done, "chunks": n, "bytes": bytes, "seconds": seconds,
               "size_p10": pct(&mut sizes, 0.1), "size_p50": pct(&mut sizes, 0.5),
               "size_p90": pct(&mut sizes, 0.9), "size_max": pct(&mut sizes, 1.0)})
    );
    Ok(())
}
