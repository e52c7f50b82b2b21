//! `cargo xtask scale DIR`: the store at the size of a real tree, with the
//! release `cst` binary — cold index, warm re-index beside `git status`,
//! `show`, `stats`, `verify` (wall time and peak RSS of each process, from
//! GNU time), disk bytes per line (trees and sources apart, and without
//! sources), and store open time against store size (subsets of DIR).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// Wall seconds, peak RSS (KiB) and stdout of `cmd`, run under GNU time.
pub(crate) fn timed(cmd: Command) -> Result<(f64, u64, Vec<u8>)> {
    let report = tempfile_path("time");
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped
        .arg("-f")
        .arg("%e %M")
        .arg("-o")
        .arg(&report)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    let started = Instant::now();
    let out = wrapped
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("{cmd:?}"))?;
    let wall = started.elapsed().as_secs_f64();
    // `cst verify` exits 1 on a finding: the caller reads the output.
    if !(out.status.success() || out.status.code() == Some(1)) {
        bail!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    let rss = text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok((wall, rss, out.stdout))
}

fn tempfile_path(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("cst-xtask-{what}-{}", std::process::id()))
}

fn best(runs: usize, mut cmd: impl FnMut() -> Command) -> Result<(f64, u64, Vec<u8>)> {
    let mut out = (f64::INFINITY, 0, Vec::new());
    for _ in 0..runs.max(1) {
        let (t, rss, stdout) = timed(cmd())?;
        if t < out.0 {
            out = (t, rss, stdout);
        }
    }
    Ok(out)
}

pub(crate) fn json(bytes: &[u8]) -> Result<serde_json::Value> {
    serde_json::from_slice(bytes).context("cst printed no JSON")
}

pub(crate) fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => total += e.metadata().map_or(0, |m| m.len()),
                Err(_) => {}
            }
        }
    }
    total
}

/// The largest file of `dir` at most `near` bytes with the extension of `like`.
fn similar_file(dir: &Path, like: &Path, near: u64) -> Option<PathBuf> {
    let ext = like.extension()?;
    let mut found: Option<(u64, PathBuf)> = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(_) if p.extension() == Some(ext) => {
                    let len = e.metadata().map_or(0, |m| m.len());
                    if len <= near && found.as_ref().is_none_or(|f| len > f.0) {
                        found = Some((len, p));
                    }
                }
                _ => {}
            }
        }
    }
    found.map(|f| f.1)
}

pub(crate) struct Options {
    pub(crate) subsets: Vec<PathBuf>,
    pub(crate) show: Option<PathBuf>,
    pub(crate) runs: usize,
    pub(crate) without_sources: bool,
}

pub(crate) fn run(dir: &Path, o: &Options) -> Result<()> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("{}", dir.display()))?;
    crate::compare::build(&["-p", "cst-cli", "--bin", "cst"])?;
    let root = crate::root();
    let cst_bin = root.join("target/release/cst");
    let work = root.join("target/scale");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let cst = |cache: &Path| {
        let mut c = Command::new(&cst_bin);
        c.arg("--cache-dir").arg(cache);
        c
    };
    let show = match &o.show {
        Some(s) => dir.join(s),
        None => similar_file(&dir, Path::new("x.c"), 200_000)
            .or_else(|| similar_file(&dir, Path::new("x.rs"), 200_000))
            .context("no file to show: pass --show")?,
    };
    let show_bytes = std::fs::metadata(&show)?.len();
    println!(
        "tree: {}\nshown file: {} ({show_bytes} bytes)",
        dir.display(),
        show.display()
    );

    // 1. Cold index of the whole tree.
    let cache = work.join("full");
    let (t, rss, out) = timed({
        let mut c = cst(&cache);
        c.arg("index").arg(&dir).arg("--json");
        c
    })?;
    let r = json(&out)?;
    let lines: u64 = r["languages"]
        .as_object()
        .map(|m| m.values().filter_map(|l| l["lines"].as_u64()).sum())
        .unwrap_or(0);
    println!(
        "cold index: {t:.2} s, peak RSS {} MB, {} files ({} parsed), {lines} lines, skipped {}",
        rss / 1024,
        r["files"],
        r["parsed"],
        r["skipped"]
    );

    // 2. Warm re-index beside git status, the same tree, the same run.
    let (t_re, rss_re, out) = best(o.runs, || {
        let mut c = cst(&cache);
        c.arg("index").arg(&dir).arg("--json");
        c
    })?;
    let r = json(&out)?;
    println!(
        "warm re-index: {t_re:.3} s (best of {}), peak RSS {} MB, unread {}, hits {}, parsed {}",
        o.runs,
        rss_re / 1024,
        r["unread"],
        r["hits"],
        r["parsed"]
    );
    if dir.join(".git").exists() {
        let (t_git, _, out) = best(o.runs, || {
            let mut c = Command::new("git");
            c.arg("-C").arg(&dir).args(["status", "--porcelain"]);
            c
        })?;
        println!(
            "git status --porcelain: {t_git:.3} s (best of {}; {} lines of output); re-index / git status = {:.2}x",
            o.runs,
            out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(),
            t_re / t_git
        );
    } else {
        println!(
            "git status: SKIPPED ({} is not a git work tree)",
            dir.display()
        );
    }

    // 3. Disk bytes per line, open (stats), show, verify.
    let (t_stats, rss_stats, out) = best(o.runs, || {
        let mut c = cst(&cache);
        c.arg("stats").arg(&dir).arg("--json");
        c
    })?;
    let s = json(&out)?;
    let d = &s["disk"];
    println!(
        "store: {} bytes of segments for {} lines: {} B/line in all; trees {} B/line, sources {} B/line, dictionaries {} B, dead {} B",
        d["files"],
        d["lines"],
        d["files_per_line"],
        d["trees_per_line"],
        d["sources_per_line"],
        d["dictionaries"],
        d["dead"]
    );
    if let Some(langs) = d["languages"].as_object() {
        for (l, v) in langs {
            let lines = v["lines"].as_f64().unwrap_or(0.0).max(1.0);
            println!(
                "  {l:<12} {:>7} files {:>10} lines  trees {:>6.2} B/line  sources {:>6.2} B/line",
                v["files"].as_u64().unwrap_or(0),
                v["lines"].as_u64().unwrap_or(0),
                v["trees"].as_f64().unwrap_or(0.0) / lines,
                v["sources"].as_f64().unwrap_or(0.0) / lines
            );
        }
    }
    println!(
        "cst stats (open the store, load the path map): {t_stats:.3} s, peak RSS {} MB",
        rss_stats / 1024
    );
    let (t_show, rss_show, _) = best(o.runs, || {
        let mut c = cst(&cache);
        c.arg("show").arg(&show);
        c
    })?;
    println!(
        "cst show {}: {t_show:.3} s, peak RSS {} MB",
        show.display(),
        rss_show / 1024
    );
    let (t_verify, rss_verify, out) = timed({
        let mut c = cst(&cache);
        c.arg("verify").arg(&dir);
        c
    })?;
    let last = String::from_utf8_lossy(&out)
        .lines()
        .rfind(|l| !l.starts_with("MISMATCH") && !l.starts_with("MISSING"))
        .unwrap_or("")
        .to_string();
    println!(
        "cst verify: {t_verify:.1} s, peak RSS {} MB: {last}",
        rss_verify / 1024
    );

    // 4. Open time against store size: a store per subset.
    let mut rows = vec![(
        d["files"].as_u64().unwrap_or(0),
        t_stats,
        t_show,
        show.clone(),
    )];
    for (i, sub) in o.subsets.iter().enumerate() {
        let sub_dir = dir.join(sub);
        let cache = work.join(format!("subset-{i}"));
        let mut c = cst(&cache);
        c.arg("index").arg(&sub_dir).arg("--json");
        timed(c)?;
        let file = if show.starts_with(&sub_dir) {
            show.clone()
        } else {
            similar_file(&sub_dir, &show, show_bytes).unwrap_or_else(|| show.clone())
        };
        let (t_stats, _, out) = best(o.runs, || {
            let mut c = cst(&cache);
            c.arg("stats").arg(&sub_dir).arg("--json");
            c
        })?;
        let size = json(&out)?["disk"]["files"].as_u64().unwrap_or(0);
        let (t_show, _, _) = best(o.runs, || {
            let mut c = cst(&cache);
            c.arg("show").arg(&file);
            c
        })?;
        rows.push((size, t_stats, t_show, file));
    }
    rows.sort_by_key(|r| r.0);
    println!("| store | cst stats | cst show | shown file |");
    println!("|---:|---:|---:|---|");
    for (size, t_stats, t_show, file) in &rows {
        println!(
            "| {:.1} MB | {:.1} ms | {:.1} ms | {} |",
            *size as f64 / 1e6,
            t_stats * 1e3,
            t_show * 1e3,
            file.strip_prefix(&dir).unwrap_or(file).display()
        );
    }

    // 5. Without sources.
    if o.without_sources {
        let cache = work.join("no-sources");
        let mut c = cst(&cache);
        c.env("CST_STORE_SOURCE", "0")
            .arg("index")
            .arg(&dir)
            .arg("--json");
        let (t, rss, _) = timed(c)?;
        let mut c = cst(&cache);
        c.env("CST_STORE_SOURCE", "0")
            .arg("stats")
            .arg(&dir)
            .arg("--json");
        let (_, _, out) = timed(c)?;
        let s = json(&out)?;
        println!(
            "without sources: cold index {t:.1} s, peak RSS {} MB; store {} bytes ({} on disk in all): {} B/line, trees {} B/line",
            rss / 1024,
            s["disk"]["files"],
            dir_bytes(&cache),
            s["disk"]["files_per_line"],
            s["disk"]["trees_per_line"]
        );
    }
    Ok(())
}
