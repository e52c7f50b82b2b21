//! `cargo xtask compare [--tier ci] [--lang L,…] [--runs N]`: cst beside
//! the tools users would pick instead, on the same files in the same run.
//!
//! - tags: `cst tags` from the warm store vs `ctags -R` (Universal Ctags)
//!   vs tree-sitter-tags (parse + tags), and cst-tags in process;
//! - workspace query: `cst query` vs `ast-grep run -p` with an equivalent
//!   pattern (the match counts are printed side by side);
//! - chunks: `cst chunks` (and cst in process) vs semantic-text-splitter's
//!   `CodeSplitter` (which parses), throughput and chunk sizes.
//!
//! Peers are found on PATH (`ctags`, `ast-grep`, `python3` with
//! `semantic_text_splitter`), `ast-grep` also under
//! `~/.local/ast-grep/node_modules/.bin` (`npm i --prefix ~/.local/ast-grep
//! @ast-grep/cli`, since Debian's `sg` clashes with the global one); a
//! missing peer is skipped with a message. The files are copied into
//! `target/compare/ws/<language>/…` so every tool sees the same tree.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// Patterns with the same meaning for cst (tree-sitter query) and ast-grep.
const QUERIES: &[(&str, &str, &str)] = &[
    (
        "rust",
        r#"(call_expression function: (field_expression field: (field_identifier) @m) arguments: (arguments) @a (#eq? @m "unwrap") (#eq? @a "()")) @call"#,
        "$A.unwrap()",
    ),
    (
        "python",
        r#"(call function: (identifier) @f (#eq? @f "print")) @call"#,
        "print($$$ARGS)",
    ),
    (
        "go",
        // ast-grep's pattern has no initializer (`if x, err := f(); …` does
        // not match it), but matches with or without an `else`.
        r#"(if_statement !initializer condition: (binary_expression left: (identifier) @e operator: "!=" right: (nil)) (#eq? @e "err")) @if"#,
        "if err != nil { $$$BODY }",
    ),
];

/// Python grammar modules for semantic-text-splitter, per language id.
const PY_GRAMMARS: &[(&str, &str)] = &[
    ("rust", "tree_sitter_rust"),
    ("python", "tree_sitter_python"),
    ("go", "tree_sitter_go"),
    ("c", "tree_sitter_c"),
    ("javascript", "tree_sitter_javascript"),
];

const SPLITTER: &str = r#"
import json, sys, time, importlib
from semantic_text_splitter import CodeSplitter
cap = int(sys.argv[2])
files = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1]) if l.strip()]
mods = dict(a.split("=") for a in sys.argv[3:])
splitters = {lang: CodeSplitter(importlib.import_module(m).language(), cap) for lang, m in mods.items()}
texts = []
for lang, path in files:
    if lang in splitters:
        with open(path, encoding="utf-8", errors="replace") as f:
            texts.append((lang, f.read()))
sizes = []
t = time.perf_counter()
for lang, text in texts:
    for _, chunk in splitters[lang].chunk_indices(text):
        sizes.append(len(chunk.encode("utf-8")))
secs = time.perf_counter() - t
sizes.sort()
q = lambda p: sizes[round((len(sizes) - 1) * p)] if sizes else 0
print(json.dumps({"files": len(texts), "chunks": len(sizes), "bytes": sum(sizes), "seconds": secs,
                  "size_p10": q(0.1), "size_p50": q(0.5), "size_p90": q(0.9), "size_max": q(1.0)}))
"#;

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn ast_grep() -> Option<PathBuf> {
    which("ast-grep").or_else(|| {
        let home = std::env::var_os("HOME")?;
        let p = PathBuf::from(home).join(".local/ast-grep/node_modules/.bin/ast-grep");
        p.is_file().then_some(p)
    })
}

/// Runs `cmd` `runs` times; the best wall time and the last stdout. Exit
/// status 1 is accepted (grep-like tools: nothing matched) only from
/// [`best_grep`].
fn best(runs: usize, cmd: impl FnMut() -> Command) -> Result<(f64, Vec<u8>)> {
    best_of(runs, false, cmd)
}

fn best_grep(runs: usize, cmd: impl FnMut() -> Command) -> Result<(f64, Vec<u8>)> {
    best_of(runs, true, cmd)
}

fn best_of(runs: usize, grep: bool, mut cmd: impl FnMut() -> Command) -> Result<(f64, Vec<u8>)> {
    let mut best = f64::INFINITY;
    let mut last = Vec::new();
    for _ in 0..runs.max(1) {
        let mut c = cmd();
        let started = Instant::now();
        let out = c
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("{c:?}"))?;
        let secs = started.elapsed().as_secs_f64();
        // grep-like tools exit 1 when nothing matched.
        let accepted = out.status.success() || (grep && out.status.code() == Some(1));
        if !accepted {
            bail!("{c:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        best = best.min(secs);
        last = out.stdout;
    }
    Ok((best, last))
}

pub(crate) fn build(args: &[&str]) -> Result<()> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(crate::root())
        .args(["build", "--release", "--locked"])
        .args(args)
        .status()
        .context("cargo build")?;
    anyhow::ensure!(status.success(), "cargo build {args:?} failed");
    Ok(())
}

pub(crate) fn run(tier: &str, langs: &[String], runs: usize) -> Result<()> {
    let root = crate::root();
    let out_dir = root.join("target/compare");
    let ws = out_dir.join("ws");
    let _ = std::fs::remove_dir_all(&ws);
    std::fs::create_dir_all(&ws)?;

    // 1. The same files for every tool.
    let manifest = crate::corpus::load()?;
    let mut list: Vec<(String, PathBuf)> = Vec::new();
    let mut lines_per_lang: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for set in manifest.files(tier, None)? {
        let id = set.lang.id().to_string();
        if !langs.contains(&id) {
            continue;
        }
        for (i, f) in set.files.iter().enumerate() {
            let Ok(source) = std::fs::read(f) else {
                continue;
            };
            if source.len() > 4 << 20 || source[..source.len().min(4096)].contains(&0) {
                continue;
            }
            let name = f.file_name().unwrap_or_default().to_string_lossy();
            let dest = ws.join(&id).join(format!("{i:05}-{name}"));
            std::fs::create_dir_all(dest.parent().unwrap())?;
            std::fs::write(&dest, &source)?;
            let e = lines_per_lang.entry(id.clone()).or_default();
            e.0 += 1;
            e.1 += source.iter().filter(|&&b| b == b'\n').count();
            list.push((id.clone(), dest));
        }
    }
    let total_lines: usize = lines_per_lang.values().map(|v| v.1).sum();
    anyhow::ensure!(
        !list.is_empty(),
        "no files: fetch the corpus (cargo xtask corpus fetch --tier {tier})"
    );
    let list_path = out_dir.join("files.list");
    std::fs::write(
        &list_path,
        list.iter()
            .map(|(id, p)| format!("{id}\t{}\n", p.display()))
            .collect::<String>(),
    )?;
    println!("files: {} ({total_lines} lines)", list.len());
    for (id, (f, l)) in &lines_per_lang {
        println!("  {id:<12} {f:>6} files {l:>9} lines");
    }

    // 2. Release builds of cst and the in-process runner.
    build(&["-p", "cst-cli", "--bin", "cst"])?;
    build(&[
        "-p",
        "cst-benches",
        "--features",
        "compare",
        "--bin",
        "compare-inproc",
    ])?;
    let cst_bin = root.join("target/release/cst");
    let inproc = root.join("target/release/compare-inproc");
    let cache = out_dir.join("cache");
    let _ = std::fs::remove_dir_all(&cache);
    let cst = |threads: usize, args: &[&str]| {
        let mut c = Command::new(&cst_bin);
        c.env("CST_THREADS", threads.to_string())
            .arg("--cache-dir")
            .arg(&cache)
            .args(args)
            .current_dir(&ws);
        c
    };
    let mut report = json!({"tier": tier, "files": list.len(), "lines": total_lines, "languages": lines_per_lang});
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut row_for = |lines: usize, what: &str, secs: f64, note: String| {
        let per_kline = secs * 1e6 / lines.max(1) as f64;
        rows.push((
            what.to_string(),
            format!("{secs:.3} s ({per_kline:.2} ms/kline)"),
            note,
        ));
    };

    let (cold, _) = best(1, || cst(2, &["index", ".", "--json"]))?;
    let (warm, _) = best(runs, || cst(2, &["index", ".", "--json"]))?;
    row_for(
        total_lines,
        "cst index (cold, 2 threads)",
        cold,
        String::new(),
    );
    row_for(
        total_lines,
        "cst index (warm re-index, 2 threads)",
        warm,
        String::new(),
    );

    // 3. Tags.
    let count_lines = |b: &[u8]| b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).count();
    // The first run computes every file's tags from its stored tree (and
    // keeps them); the runs after it read them back.
    let (first_tags, _) = best(1, || cst(2, &["tags", "."]))?;
    row_for(
        total_lines,
        "cst tags, first run (tags computed from stored trees, 2 threads)",
        first_tags,
        String::new(),
    );
    let (t2, out) = best(runs, || cst(2, &["tags", "."]))?;
    let cst_tags = count_lines(&out);
    let (t1, _) = best(runs, || cst(1, &["tags", "."]))?;
    row_for(
        total_lines,
        "cst tags (warm store, 2 threads)",
        t2,
        format!("{cst_tags} tags"),
    );
    row_for(
        total_lines,
        "cst tags (warm store, 1 thread)",
        t1,
        format!("{cst_tags} tags"),
    );
    let tags_file = out_dir.join("cst.tags");
    let (tc, _) = best(runs, || {
        let mut c = cst(1, &["tags", ".", "--ctags", "-o"]);
        c.arg(&tags_file);
        c
    })?;
    let cst_defs = std::fs::read_to_string(&tags_file)?
        .lines()
        .filter(|l| !l.starts_with("!_"))
        .count();
    row_for(
        total_lines,
        "cst tags --ctags (1 thread)",
        tc,
        format!("{cst_defs} definitions"),
    );
    report["tags"] = json!({"cst_first_run_seconds_2t": first_tags, "cst_seconds_2t": t2, "cst_seconds_1t": t1, "cst_ctags_seconds_1t": tc, "cst_tags": cst_tags, "cst_definitions": cst_defs});
    let (ts, ts_out) = best(1, || {
        let mut c = Command::new(&inproc);
        c.args(["tags-ts", "--files"])
            .arg(&list_path)
            .arg("--cache")
            .arg(&cache);
        c
    })?;
    let ts_json: Value = serde_json::from_slice(&ts_out)?;
    let ts_secs = ts_json["seconds"].as_f64().unwrap_or(ts);
    row_for(
        total_lines,
        "tree-sitter-tags (parse + tags, in process, 1 thread)",
        ts_secs,
        format!("{} tags", ts_json["tags"]),
    );
    let (_, lib_out) = best(1, || {
        let mut c = Command::new(&inproc);
        c.args(["tags-cst", "--files"])
            .arg(&list_path)
            .arg("--cache")
            .arg(&cache);
        c
    })?;
    let lib_json: Value = serde_json::from_slice(&lib_out)?;
    let lib_secs = lib_json["seconds"].as_f64().unwrap_or(0.0);
    row_for(
        total_lines,
        "cst-tags (warm cache, in process, 1 thread)",
        lib_secs,
        format!("{} tags", lib_json["tags"]),
    );
    report["tags"]["tree_sitter_tags"] = ts_json.clone();
    report["tags"]["cst_in_process"] = lib_json.clone();
    match which("ctags") {
        Some(ctags) => {
            let tags_out = out_dir.join("ctags.tags");
            let (secs, _) = best(runs, || {
                let mut c = Command::new(&ctags);
                c.args(["-R", "-f"])
                    .arg(&tags_out)
                    .arg(".")
                    .current_dir(&ws);
                c
            })?;
            let n = std::fs::read_to_string(&tags_out)?
                .lines()
                .filter(|l| !l.starts_with("!_"))
                .count();
            let version = Command::new(&ctags)
                .arg("--version")
                .output()
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_string()
                })
                .unwrap_or_default();
            row_for(
                total_lines,
                "ctags -R (Universal Ctags, 1 thread)",
                secs,
                format!("{n} tags; {version}"),
            );
            report["tags"]["ctags"] = json!({"seconds": secs, "tags": n, "version": version});
            println!(
                "ratios: ctags / cst tags --ctags (1 thread) {:.1}x; tree-sitter-tags / cst-tags in process {:.1}x; tree-sitter-tags / cst tags (1 thread) {:.1}x",
                secs / tc,
                ts_secs / lib_secs.max(1e-9),
                ts_secs / t1
            );
        }
        None => println!("SKIPPED ctags: not on PATH (apt-get install universal-ctags)"),
    }

    // 4. Workspace query vs ast-grep.
    let sg = ast_grep();
    if sg.is_none() {
        println!("SKIPPED ast-grep: not found (npm i --prefix ~/.local/ast-grep @ast-grep/cli)");
    }
    let mut queries = Vec::new();
    for (lang, ts_pattern, sg_pattern) in QUERIES {
        if !langs.iter().any(|l| l == lang) {
            continue;
        }
        let dir = ws.join(lang);
        let capture = ts_pattern
            .rsplit('@')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let (secs, out) = best(runs, || {
            let mut c = cst(
                2,
                &["query", ts_pattern, "--capture", &capture, "--lang", lang],
            );
            c.arg(&dir);
            c
        })?;
        let n = count_lines(&out);
        row_for(
            total_lines,
            &format!("cst query ({lang}, 2 threads)"),
            secs,
            format!("{n} matches"),
        );
        let mut q = json!({"language": lang, "cst_pattern": ts_pattern, "ast_grep_pattern": sg_pattern, "cst_seconds": secs, "cst_matches": n});
        if let Some(sg) = &sg {
            let (s2, out) = best_grep(runs, || {
                let mut c = Command::new(sg);
                c.args([
                    "run",
                    "-p",
                    sg_pattern,
                    "--lang",
                    lang,
                    "--json=stream",
                    "-j",
                    "2",
                ])
                .arg(&dir);
                c
            })?;
            let m = count_lines(&out);
            row_for(
                total_lines,
                &format!("ast-grep run -p ({lang}, 2 threads)"),
                s2,
                format!("{m} matches"),
            );
            q["ast_grep_seconds"] = json!(s2);
            q["ast_grep_matches"] = json!(m);
            println!(
                "ratio: ast-grep / cst query ({lang}) {:.1}x; matches {m} vs {n}",
                s2 / secs
            );
        }
        queries.push(q);
    }
    report["query"] = json!(queries);

    // Outline of the files of about 1,000 lines, from the warm cache.
    let (_, out) = best(1, || {
        let mut c = Command::new(&inproc);
        c.args(["outline-cst", "--files"])
            .arg(&list_path)
            .arg("--cache")
            .arg(&cache);
        c
    })?;
    let outline: Value = serde_json::from_slice(&out)?;
    let outline_row = (
        "cst outline, files of 800–1,200 lines (warm cache, in process)".to_string(),
        format!(
            "mean {:.3} ms, max {:.3} ms per file",
            outline["mean_ms"].as_f64().unwrap_or(0.0),
            outline["max_ms"].as_f64().unwrap_or(0.0)
        ),
        format!("{} files", outline["files"]),
    );
    report["outline"] = outline;

    // 5. Chunks vs semantic-text-splitter.
    let (cs, out) = best(runs, || {
        cst(1, &["chunks", ".", "--unit", "bytes", "--max", "1500"])
    })?;
    row_for(
        total_lines,
        "cst chunks (1 thread, 1500 bytes)",
        cs,
        format!("{} chunks", count_lines(&out)),
    );
    let (_, lib) = best(1, || {
        let mut c = Command::new(&inproc);
        c.args(["chunks-cst", "--max", "1500", "--files"])
            .arg(&list_path)
            .arg("--cache")
            .arg(&cache);
        c
    })?;
    let lib: Value = serde_json::from_slice(&lib)?;
    row_for(
        total_lines,
        "cst chunks (warm cache, in process, 1 thread)",
        lib["seconds"].as_f64().unwrap_or(0.0),
        format!(
            "{} chunks, sizes p10/p50/p90/max {}/{}/{}/{} B",
            lib["chunks"], lib["size_p10"], lib["size_p50"], lib["size_p90"], lib["size_max"]
        ),
    );
    report["chunks"] = json!({"cst_seconds_1t": cs, "cst_in_process": lib});
    let have_splitter = Command::new("python3")
        .args(["-c", "import semantic_text_splitter"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if have_splitter {
        let script = out_dir.join("code_splitter.py");
        std::fs::write(&script, SPLITTER)?;
        let mods: Vec<String> = PY_GRAMMARS
            .iter()
            .filter(|(l, m)| {
                langs.iter().any(|x| x == l)
                    && Command::new("python3")
                        .args(["-c", &format!("import {m}")])
                        .stderr(Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success())
            })
            .map(|(l, m)| format!("{l}={m}"))
            .collect();
        let (_, out) = best(1, || {
            let mut c = Command::new("python3");
            c.arg(&script).arg(&list_path).arg("1500").args(&mods);
            c
        })?;
        let v: Value = serde_json::from_slice(&out)?;
        row_for(
            total_lines,
            "semantic-text-splitter CodeSplitter (parse + split, 1 thread, 1500 chars)",
            v["seconds"].as_f64().unwrap_or(0.0),
            format!(
                "{} files, {} chunks, sizes p10/p50/p90/max {}/{}/{}/{} B",
                v["files"], v["chunks"], v["size_p10"], v["size_p50"], v["size_p90"], v["size_max"]
            ),
        );
        println!(
            "ratio: CodeSplitter / cst chunks in process {:.1}x; / cst chunks CLI {:.1}x (grammars: {})",
            v["seconds"].as_f64().unwrap_or(0.0)
                / lib["seconds"].as_f64().unwrap_or(1e-9).max(1e-9),
            v["seconds"].as_f64().unwrap_or(0.0) / cs,
            mods.join(" ")
        );
        report["chunks"]["code_splitter"] = v;
    } else {
        println!(
            "SKIPPED semantic-text-splitter: `pip install semantic-text-splitter tree-sitter-rust …`"
        );
    }

    rows.push(outline_row);
    println!();
    println!("| step | time | result |");
    println!("|---|---|---|");
    for (what, time, note) in &rows {
        println!("| {what} | {time} | {note} |");
    }
    let path = out_dir.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("\nwrote {}", path.display());
    Ok(())
}
