//! `corpus-bench`: the per-language measurement behind `cargo xtask bench`.
//! One process per language (so peak RSS is that language's), everything
//! measured in this one run, raw tree-sitter beside cst:
//!
//! ```text
//! corpus-bench --lang ID --files LIST [--threads N]
//! ```
//!
//! reads the file paths of `LIST` (one per line), prints one JSON object.
//! Built in release by `cargo xtask bench`; see docs/BENCHMARKS.md for what
//! each field means.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cst::grammars::Grammar;
use cst::{Cache, Config};
use serde_json::json;

fn heap_in_use() -> u64 {
    #[allow(unsafe_code)]
    // SAFETY: mallinfo2 only reads glibc's allocator counters; tree-sitter
    // allocates through the same malloc.
    let m = unsafe { libc::mallinfo2() };
    (m.uordblks + m.hblkhd) as u64
}

/// Peak resident set of this process, bytes (VmHWM).
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

struct File {
    path: PathBuf,
    source: Vec<u8>,
    lines: usize,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i]
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// The results of `q` under `node`: captures (`captures`) or matches,
/// through the lending methods, as tree-sitter's side reads its streaming
/// iterators (no match allocated per result).
fn count_results(
    cursor: &mut cst::query::QueryCursor,
    q: &cst::query::Query,
    node: cst::bytecode::Node<'_>,
    source: &[u8],
    captures: bool,
) -> Result<usize> {
    let mut n = 0;
    if captures {
        let mut it = cursor.captures(q, node, source)?;
        while it.next_capture().is_some() {
            n += 1;
        }
    } else {
        let mut it = cursor.matches(q, node, source)?;
        while it.next_match().is_some() {
            n += 1;
        }
    }
    Ok(n)
}

/// Inserts every file into `cache` from `threads` threads; wall time.
fn ingest(cache: &Cache, g: &'static Grammar, files: &[File], threads: usize) -> Result<Duration> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    let errors: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut errors = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        if let Err(e) = cache.insert_as(&f.path, g, f.source.clone()) {
                            errors.push(format!("{}: {e}", f.path.display()));
                        }
                    }
                    errors
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("ingest thread"))
            .collect()
    });
    if let Some(e) = errors.first() {
        bail!("{} files failed to ingest, first: {e}", errors.len());
    }
    Ok(started.elapsed())
}

/// Latencies of `get` over every file.
struct Gets {
    /// ns per 1,000 lines, per file.
    per_kline: Vec<f64>,
    /// ns per file.
    per_file: Vec<f64>,
    total: Duration,
}

/// `get` of every file: per-file latencies and the total time.
fn get_latencies(cache: &Cache, files: &[File]) -> Result<Gets> {
    let mut per_kline = Vec::with_capacity(files.len());
    let mut per_file = Vec::with_capacity(files.len());
    let started = Instant::now();
    for f in files {
        let t = Instant::now();
        let tree = cache
            .get(&f.path)?
            .with_context(|| format!("{} is not cached", f.path.display()))?;
        std::hint::black_box(tree.root().kind_id());
        let ns = t.elapsed().as_nanos() as f64;
        per_kline.push(ns * 1000.0 / f.lines.max(1) as f64);
        per_file.push(ns);
    }
    Ok(Gets {
        per_kline,
        per_file,
        total: started.elapsed(),
    })
}

const HUGE: u64 = 1 << 50;

/// Budgets, and whether sources are kept (the default; `false` for the
/// frozen-size measurement, so the disk holds the trees only).
fn config(hot: u64, warm: u64, cold: u64, store_source: bool) -> Config {
    codecs(hot, warm, cold, store_source, None)
}

/// As [`config`], with both codecs set to `codec` when given.
fn codecs(
    hot: u64,
    warm: u64,
    cold: u64,
    store_source: bool,
    codec: Option<cst::Compression>,
) -> Config {
    Config {
        compression: codec,
        hot_bytes: hot,
        warm_bytes: warm,
        cold_bytes: cold,
        store_source,
        max_file_bytes: u64::MAX,
        ..Config::default()
    }
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut lang, mut list, mut threads) = (None, None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lang" => lang = args.next(),
            "--files" => list = args.next().map(PathBuf::from),
            "--threads" => threads = args.next().and_then(|t| t.parse::<usize>().ok()),
            other => bail!("unknown argument `{other}`"),
        }
    }
    let lang = lang.context("--lang ID")?;
    let list = list.context("--files LIST")?;
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let g = cst::grammars::by_id(&lang).with_context(|| format!("`{lang}` is not compiled in"))?;
    let paths = std::fs::read_to_string(&list)?;
    let mut files = Vec::new();
    for p in paths.lines().filter(|l| !l.is_empty()) {
        let source = std::fs::read(p).with_context(|| format!("reading {p}"))?;
        let lines = cst::grammars::smoke::count_lines(&source);
        files.push(File {
            path: PathBuf::from(p),
            source,
            lines,
        });
    }
    let lines: usize = files.iter().map(|f| f.lines).sum();
    let bytes: usize = files.iter().map(|f| f.source.len()).sum();
    let fingerprint = g.fingerprint()?.0;
    let symbols = std::sync::Arc::new(cst::bytecode::Symbols::from_language(
        &g.language()?,
        fingerprint,
    ));

    // 1. Raw tree-sitter: parse every file, keep every tree (live-tree
    //    memory by malloc statistics), per-file parse time.
    let mut parser = g.parser()?;
    let heap0 = heap_in_use();
    let mut trees = Vec::with_capacity(files.len());
    let mut parse_ns = Vec::with_capacity(files.len());
    let t = Instant::now();
    for f in &files {
        let t1 = Instant::now();
        let tree = parser.parse(&f.source, None).context("parse cancelled")?;
        parse_ns.push(t1.elapsed().as_nanos() as f64 * 1000.0 / f.lines.max(1) as f64);
        trees.push(tree);
    }
    let parse = t.elapsed();
    let hot_bytes = heap_in_use().saturating_sub(heap0);

    // 2. Encoded and compressed sizes; traversal: TreeCursor vs TreeView.
    let mut warm_bytes = 0usize;
    let mut cold_bytes = 0usize;
    let mut cold_zstd_bytes = 0usize;
    let mut views = Vec::with_capacity(files.len());
    let mut nodes = 0usize;
    let mut encode = Duration::ZERO;
    for (f, tree) in files.iter().zip(&trees) {
        let t1 = Instant::now();
        let enc = cst::bytecode::encode(tree, &f.source, fingerprint)?;
        encode += t1.elapsed();
        warm_bytes += enc.len();
        // The cold tier's default codec (lz4), and zstd.
        cold_bytes += cst::bytecode::compress(&enc, cst::bytecode::Codec::Lz4, None)?.len();
        cold_zstd_bytes +=
            cst::bytecode::compress(&enc, cst::bytecode::Codec::Zstd(3), None)?.len();
        let view = cst::bytecode::TreeView::open(&enc, symbols.clone())?;
        nodes += view.node_count();
        views.push(view);
    }
    let mut cursor_best = Duration::MAX;
    let mut view_best = Duration::MAX;
    let mut events_best = Duration::MAX;
    let mut cst_cursor_best = Duration::MAX;
    for _ in 0..3 {
        let t1 = Instant::now();
        let mut sum = 0usize;
        for tree in &trees {
            let mut c = tree.walk();
            'walk: loop {
                let n = c.node();
                sum = sum.wrapping_add(usize::from(n.kind_id()) + n.end_byte() - n.start_byte());
                if c.goto_first_child() || c.goto_next_sibling() {
                    continue;
                }
                loop {
                    if !c.goto_parent() {
                        break 'walk;
                    }
                    if c.goto_next_sibling() {
                        break;
                    }
                }
            }
        }
        std::hint::black_box(sum);
        cursor_best = cursor_best.min(t1.elapsed());
        let t1 = Instant::now();
        let mut sum = 0usize;
        for v in &views {
            for n in v.root().preorder() {
                sum = sum.wrapping_add(usize::from(n.kind_id()) + n.end_byte() - n.start_byte());
            }
        }
        std::hint::black_box(sum);
        view_best = view_best.min(t1.elapsed());
        // The same through the sequential walk (`TreeView::events`): kind
        // and start at each open, end at each close.
        let t1 = Instant::now();
        let mut sum = 0usize;
        for v in &views {
            for e in v.events(v.root()) {
                match e {
                    cst::bytecode::Event::Open(n, start) => {
                        sum = sum
                            .wrapping_add(usize::from(n.kind_id()))
                            .wrapping_sub(start as usize)
                    }
                    cst::bytecode::Event::Close(end) => sum = sum.wrapping_add(end as usize),
                }
            }
        }
        std::hint::black_box(sum);
        events_best = events_best.min(t1.elapsed());
        // The same walk as tree-sitter's through `cst_bytecode::Cursor`
        // (kind through its node, start and end from the cursor).
        let t1 = Instant::now();
        let mut sum = 0usize;
        for v in &views {
            let mut c = v.walk();
            'walk: loop {
                let kind = usize::from(c.node().kind_id());
                sum = sum.wrapping_add(kind + c.end_byte() - c.start_byte());
                if c.goto_first_child() || c.goto_next_sibling() {
                    continue;
                }
                loop {
                    if !c.goto_parent() {
                        break 'walk;
                    }
                    if c.goto_next_sibling() {
                        break;
                    }
                }
            }
        }
        std::hint::black_box(sum);
        cst_cursor_best = cst_cursor_best.min(t1.elapsed());
    }
    // 2b. The grammar's highlights query in captures mode (as a
    //     highlighter runs it): tree-sitter's QueryCursor on the live trees
    //     vs cst-query on the views, best of 3 each; the capture counts
    //     must agree.
    let query = match g.queries().highlights {
        Some(h) => Some(cst::query::Query::new(&g.language()?, h)?),
        None => None,
    };
    // 2c. The grammar's tags query in matches mode (as tree-sitter-tags
    //     runs it): sparse, so cst-query visits only the subtrees a pattern
    //     can start in.
    let tags_query = match g.queries().tags {
        Some(t) => Some(cst::query::Query::new(&g.language()?, t)?),
        None => None,
    };
    let mut query_json = json!(null);
    let mut tags_json = json!(null);
    for (q, captures, out) in [
        (&query, true, &mut query_json),
        (&tags_query, false, &mut tags_json),
    ] {
        let Some(q) = q else { continue };
        use tree_sitter::StreamingIterator;
        let (mut ts_best, mut cst_best) = (Duration::MAX, Duration::MAX);
        let (mut ts_n, mut cst_n) = (0usize, 0usize);
        for _ in 0..3 {
            let mut cursor = tree_sitter::QueryCursor::new();
            let t1 = Instant::now();
            ts_n = 0;
            for (f, tree) in files.iter().zip(&trees) {
                let (root, text) = (tree.root_node(), f.source.as_slice());
                if captures {
                    let mut it = cursor.captures(q.inner(), root, text);
                    while it.next().is_some() {
                        ts_n += 1;
                    }
                } else {
                    let mut it = cursor.matches(q.inner(), root, text);
                    while it.next().is_some() {
                        ts_n += 1;
                    }
                }
            }
            ts_best = ts_best.min(t1.elapsed());
            let mut cursor = cst::query::QueryCursor::new();
            let t1 = Instant::now();
            cst_n = 0;
            for (f, v) in files.iter().zip(&views) {
                cst_n += count_results(&mut cursor, q, v.root(), &f.source, captures)?;
            }
            cst_best = cst_best.min(t1.elapsed());
        }
        anyhow::ensure!(
            ts_n == cst_n,
            "{}: tree-sitter {ts_n} results, cst {cst_n}",
            if captures { "highlights" } else { "tags" }
        );
        *out = json!({
            if captures { "captures" } else { "matches" }: ts_n,
            "tree_sitter_s": secs(ts_best),
            "cst_s": secs(cst_best),
            "cst_vs_tree_sitter": secs(ts_best) / secs(cst_best),
        });
    }
    // 2d. The highlights query over an editor's viewport: the 60 rows in
    //     the middle of each file (a point range, as Neovim's highlighter
    //     sets it), captures mode, best of 3 each; the counts must agree.
    let mut window_json = json!(null);
    if let Some(q) = &query {
        use tree_sitter::StreamingIterator;
        const ROWS: usize = 60;
        let windows: Vec<std::ops::Range<tree_sitter::Point>> = files
            .iter()
            .map(|f| {
                let first = f.lines.saturating_sub(ROWS) / 2;
                tree_sitter::Point::new(first, 0)..tree_sitter::Point::new(first + ROWS, 0)
            })
            .collect();
        let (mut ts_best, mut cst_best) = (Duration::MAX, Duration::MAX);
        let (mut ts_n, mut cst_n) = (0usize, 0usize);
        for _ in 0..3 {
            let t1 = Instant::now();
            ts_n = 0;
            for ((f, tree), w) in files.iter().zip(&trees).zip(&windows) {
                let mut cursor = tree_sitter::QueryCursor::new();
                cursor.set_point_range(w.clone());
                let mut it = cursor.captures(q.inner(), tree.root_node(), f.source.as_slice());
                while it.next().is_some() {
                    ts_n += 1;
                }
            }
            ts_best = ts_best.min(t1.elapsed());
            let t1 = Instant::now();
            cst_n = 0;
            for ((f, v), w) in files.iter().zip(&views).zip(&windows) {
                let mut cursor = cst::query::QueryCursor::new();
                let point = |row| cst::bytecode::Point { row, column: 0 };
                cursor.set_point_range(point(w.start.row)..point(w.end.row));
                cst_n += count_results(&mut cursor, q, v.root(), &f.source, true)?;
            }
            cst_best = cst_best.min(t1.elapsed());
        }
        anyhow::ensure!(
            ts_n == cst_n,
            "highlights over a window: tree-sitter {ts_n} captures, cst {cst_n}"
        );
        window_json = json!({
            "rows": ROWS,
            "captures": ts_n,
            "tree_sitter_s": secs(ts_best),
            "cst_s": secs(cst_best),
            "cst_vs_tree_sitter": secs(ts_best) / secs(cst_best),
        });
    }
    drop(views);

    // 3. Incremental edit: a newline inserted at the start of the middle
    //    line of up to 200 files, raw (tree.edit + reparse) vs Cache::edit.
    let sample: Vec<usize> = (0..files.len())
        .step_by((files.len() / 200).max(1))
        .collect();
    let edit_of = |src: &[u8]| {
        let mid = src.len() / 2;
        let at = src[..mid]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let row = src[..at].iter().filter(|&&b| b == b'\n').count();
        let mut new = Vec::with_capacity(src.len() + 1);
        new.extend_from_slice(&src[..at]);
        new.push(b'\n');
        new.extend_from_slice(&src[at..]);
        let p = tree_sitter::Point::new(row, 0);
        let edit = tree_sitter::InputEdit {
            start_byte: at,
            old_end_byte: at,
            new_end_byte: at + 1,
            start_position: p,
            old_end_position: p,
            new_end_position: tree_sitter::Point::new(row + 1, 0),
        };
        (edit, new)
    };
    // With few files each edit is timed several times (the best kept), so
    // that the p50 is over at least `EDITS` timings: a p50 of 4 single
    // edits (css) moved by 40% between runs of one binary.
    const EDITS: usize = 32;
    let reps = EDITS.div_ceil(sample.len().max(1));
    let mut raw_edit = Vec::new();
    for &i in &sample {
        let (edit, new) = edit_of(&files[i].source);
        let mut best = f64::MAX;
        for _ in 0..reps {
            let mut old = trees[i].clone();
            let t1 = Instant::now();
            old.edit(&edit);
            let tree = parser.parse(&new, Some(&old)).context("reparse")?;
            best = best.min(t1.elapsed().as_nanos() as f64);
            drop(tree);
        }
        raw_edit.push(best);
    }
    drop(trees);
    drop(parser);

    // 4. Ingest (parse + encode + compress + write-through to disk), 1
    //    thread and all threads; frozen bytes on disk; warm reopen.
    let tmp = tempfile::tempdir()?;
    let dir1 = tmp.path().join("one");
    let cache = Cache::open(&dir1, config(HUGE, HUGE, HUGE, false))?;
    let ingest_1 = ingest(&cache, g, &files, 1)?;
    cache.flush()?;
    let frozen_bytes = cache.stats().disk_bytes;
    // cst edit on the hot cache.
    let mut cst_edit = Vec::new();
    for &i in &sample {
        let (edit, new) = edit_of(&files[i].source);
        let mut best = f64::MAX;
        for rep in 0..reps {
            if rep > 0 {
                // The file as it was before the edit, untimed.
                cache.insert_as(&files[i].path, g, files[i].source.clone())?;
            }
            let new = new.clone();
            let t1 = Instant::now();
            cache.edit(&files[i].path, &edit, new)?;
            best = best.min(t1.elapsed().as_nanos() as f64);
        }
        cst_edit.push(best);
    }
    drop(cache);
    let dir_n = tmp.path().join("many");
    let cache = Cache::open(&dir_n, config(HUGE, HUGE, HUGE, true))?;
    let ingest_n = ingest(&cache, g, &files, threads)?;
    // 5a. get from the hot tier: budgets this large keep every tree hot.
    let hot_get = get_latencies(&cache, &files)?;
    // End to end, warm cache: parse + query vs Cache::get + query, for the
    // highlights (captures) and the tags (matches) queries.
    for (q, captures, out) in [
        (&query, true, &mut query_json),
        (&tags_query, false, &mut tags_json),
    ] {
        let Some(q) = q else { continue };
        use tree_sitter::StreamingIterator;
        let mut parser = g.parser()?;
        let mut cursor = tree_sitter::QueryCursor::new();
        let t1 = Instant::now();
        let mut n = 0usize;
        for f in &files {
            let tree = parser.parse(&f.source, None).context("parse cancelled")?;
            let (root, text) = (tree.root_node(), f.source.as_slice());
            if captures {
                let mut it = cursor.captures(q.inner(), root, text);
                while it.next().is_some() {
                    n += 1;
                }
            } else {
                let mut it = cursor.matches(q.inner(), root, text);
                while it.next().is_some() {
                    n += 1;
                }
            }
        }
        let parse_query = t1.elapsed();
        let mut cursor = cst::query::QueryCursor::new();
        let t1 = Instant::now();
        let mut m = 0usize;
        for f in &files {
            let tree = cache.get(&f.path)?.context("indexed file missing")?;
            let source = tree.source().context("source not kept")?;
            m += count_results(&mut cursor, q, tree.root(), source, captures)?;
        }
        let get_query = t1.elapsed();
        anyhow::ensure!(n == m, "end to end: tree-sitter {n} results, cst {m}");
        out["parse_query_s"] = json!(secs(parse_query));
        out["get_query_s"] = json!(secs(get_query));
        out["get_query_vs_parse_query"] = json!(secs(parse_query) / secs(get_query));
    }
    let t1 = Instant::now();
    cache.flush()?;
    drop(cache);
    let cold_ingest = ingest_n + t1.elapsed();
    // Warm reopen: open the store, get every file (served from disk).
    let t1 = Instant::now();
    let cache = Cache::open(&dir_n, config(0, 0, 0, true))?;
    let frozen_get = get_latencies(&cache, &files)?;
    let reopen = t1.elapsed();
    drop(cache);

    // 5b. get latency from warm and cold: caches whose budgets keep
    //     everything in that tier (hot was measured above).
    let warm_get = {
        let c = Cache::in_memory(config(0, HUGE, HUGE, true));
        ingest(&c, g, &files, threads)?;
        get_latencies(&c, &files)?
    };
    let cold_get = {
        let c = Cache::in_memory(config(0, 0, HUGE, true));
        ingest(&c, g, &files, threads)?;
        get_latencies(&c, &files)?
    };
    // 5c. The other codecs: cold zstd; disk none (read in place) and zstd
    //     (the defaults are lz4 for both).
    let cold_zstd_get = {
        use cst::Compression::Zstd;
        let c = Cache::in_memory(codecs(0, 0, HUGE, true, Some(Zstd)));
        ingest(&c, g, &files, threads)?;
        get_latencies(&c, &files)?
    };
    let mut disk = Vec::new();
    for (name, codec) in [
        ("none", cst::Compression::None),
        ("zstd", cst::Compression::Zstd),
    ] {
        let dir = tmp.path().join(name);
        let c = Cache::open(&dir, codecs(HUGE, HUGE, HUGE, false, Some(codec)))?;
        ingest(&c, g, &files, threads)?;
        c.flush()?;
        let bytes = c.stats().disk_bytes;
        drop(c);
        let c = Cache::open(&dir, codecs(0, 0, 0, true, Some(codec)))?;
        disk.push((name, get_latencies(&c, &files)?, bytes));
    }
    let tier = |mut gets: Gets| {
        let p50 = pct(&mut gets.per_kline, 0.5);
        let p99 = pct(&mut gets.per_kline, 0.99);
        json!({
            "p50_ns_per_kline": p50,
            "p99_ns_per_kline": p99,
            "p50_us_per_file": pct(&mut gets.per_file, 0.5) / 1e3,
            "p99_us_per_file": pct(&mut gets.per_file, 0.99) / 1e3,
            "total_s": secs(gets.total),
            "reparse_over_get": secs(parse) / secs(gets.total),
        })
    };
    let parse_p50 = pct(&mut parse_ns.clone(), 0.5);
    let parse_p99 = pct(&mut parse_ns, 0.99);
    let per_line = |b: u64| b as f64 / lines.max(1) as f64;
    let raw_edit_p50 = pct(&mut raw_edit, 0.5);
    let cst_edit_p50 = pct(&mut cst_edit, 0.5);
    let out = json!({
        "lang": lang,
        "files": files.len(),
        "lines": lines,
        "bytes": bytes,
        "nodes": nodes,
        "threads": threads,
        "parse_lines_per_s": lines as f64 / secs(parse),
        "parse_mb_per_s": bytes as f64 / 1e6 / secs(parse),
        "encode_share_of_parse": secs(encode) / secs(parse),
        "ingest_1t_lines_per_s": lines as f64 / secs(ingest_1),
        "ingest_nt_lines_per_s": lines as f64 / secs(ingest_n),
        "ingest_1t_vs_parse": secs(parse) / secs(ingest_1),
        "ingest_nt_vs_parse": secs(parse) / secs(ingest_n),
        "bytes_per_line": {
            "hot": per_line(hot_bytes),
            "warm": per_line(warm_bytes as u64),
            "cold": per_line(cold_bytes as u64),
            "frozen": per_line(frozen_bytes),
            "cold_zstd": per_line(cold_zstd_bytes as u64),
            "frozen_none": per_line(disk[0].2),
            "frozen_zstd": per_line(disk[1].2),
        },
        "lines_per_mb": {
            "hot": 1e6 / per_line(hot_bytes).max(1e-9),
            "warm": 1e6 / per_line(warm_bytes as u64).max(1e-9),
            "cold": 1e6 / per_line(cold_bytes as u64).max(1e-9),
            "frozen": 1e6 / per_line(frozen_bytes).max(1e-9),
        },
        "reparse": { "p50_ns_per_kline": parse_p50, "p99_ns_per_kline": parse_p99 },
        "get": {
            "hot": tier(hot_get),
            "warm": tier(warm_get),
            "cold": tier(cold_get),
            "frozen": tier(frozen_get),
            "cold_zstd": tier(cold_zstd_get),
            "frozen_none": tier(disk.remove(0).1),
            "frozen_zstd": tier(disk.remove(0).1),
        },
        "traversal": {
            "cursor_nodes_per_s": nodes as f64 / secs(cursor_best),
            "view_nodes_per_s": nodes as f64 / secs(view_best),
            "view_vs_cursor": secs(cursor_best) / secs(view_best),
            "events_nodes_per_s": nodes as f64 / secs(events_best),
            "events_vs_cursor": secs(cursor_best) / secs(events_best),
            "cst_cursor_nodes_per_s": nodes as f64 / secs(cst_cursor_best),
            "cst_cursor_vs_cursor": secs(cursor_best) / secs(cst_cursor_best),
        },
        "edit": {
            "files": sample.len(),
            "timed_per_file": reps,
            "raw_p50_us": raw_edit_p50 / 1e3,
            "cst_p50_us": cst_edit_p50 / 1e3,
            "cst_vs_raw": cst_edit_p50 / raw_edit_p50.max(1.0),
        },
        "query": query_json,
        "window_query": window_json,
        "tags_query": tags_json,
        "cold_ingest_s": secs(cold_ingest),
        "warm_reopen_s": secs(reopen),
        "reopen_vs_ingest": secs(reopen) / secs(cold_ingest),
        "peak_rss_mb": peak_rss() as f64 / 1e6,
    });
    println!("{out}");
    Ok(())
}
