//! `cargo xtask compare [--tier ci] [--lang L,…] [--runs N] [--only
//! tier|map]`: cst beside the tools users would pick instead, on the same
//! files in the same run.
//!
//! - tags: `cst tags` from the warm store vs `ctags -R` (Universal Ctags)
//!   vs tree-sitter-tags (parse + tags), and cst-tags in process;
//! - workspace query: `cst query` vs `ast-grep run -p` with an equivalent
//!   pattern (the match counts are printed side by side);
//! - chunks: `cst chunks` (and cst in process) vs semantic-text-splitter's
//!   `CodeSplitter` (which parses), throughput and chunk sizes;
//! - repo map (`--only map`): `cst map --tokens 1024` vs aider's `RepoMap`
//!   (PyPI `aider-chat`, driven by `xtask/peers/aider_map.py`) on this
//!   workspace's `crates/`, a pinned Flask sdist (whole, and its `.py`
//!   files alone) and pip from the ci tier: times (aider with its tags
//!   cache cold and warm), the ranked files (top 20) and definitions the
//!   two agree on. aider runs from `$CST_AIDER_PYTHON` or
//!   `~/.cache/cst-compare/aider-venv/bin/python` (`python3 -m venv …;
//!   …/bin/pip install aider-chat==0.86.2`); without it only cst runs.
//!
//! Peers are found on PATH (`ctags`, `ast-grep`, `python3` with
//! `semantic_text_splitter`), `ast-grep` also under
//! `~/.local/ast-grep/node_modules/.bin` (`npm i --prefix ~/.local/ast-grep
//! @ast-grep/cli`, since Debian's `sg` clashes with the global one); a
//! missing peer is skipped with a message. The files are copied into
//! `target/compare/ws/<language>/…` so every tool sees the same tree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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

/// The steps of `cargo xtask compare`, for `--only`.
pub(crate) const STEPS: &[&str] = &["tier", "map", "kernel"];

/// A row of the summary table: step, time, result.
type Row = (String, String, String);

pub(crate) fn run(
    tier: &str,
    langs: &[String],
    runs: usize,
    only: &[String],
    kernel: Option<&Path>,
) -> Result<()> {
    for o in only {
        anyhow::ensure!(
            STEPS.contains(&o.as_str()),
            "--only {o}: the steps are {}",
            STEPS.join(", ")
        );
    }
    let wanted = |step: &str| only.is_empty() || only.iter().any(|o| o == step);
    let root = crate::root();
    let out_dir = root.join("target/compare");
    std::fs::create_dir_all(&out_dir)?;
    build(&["-p", "cst-cli", "--bin", "cst"])?;
    let mut report = json!({});
    let mut rows: Vec<Row> = Vec::new();
    if wanted("tier") {
        tier_steps(tier, langs, runs, &mut report, &mut rows)?;
    }
    if wanted("map") {
        report["repo_map"] = repo_map(runs, &mut rows)?;
    }
    if wanted("kernel") {
        match kernel {
            Some(dir) => report["kernel_query"] = kernel_query(dir, runs, &mut rows)?,
            None => println!("SKIPPED kernel: no --kernel DIR (a Linux source tree)"),
        }
    }
    println!();
    println!("| step | time | result |");
    println!("|---|---|---|");
    for (what, time, note) in &rows {
        println!("| {what} | {time} | {note} |");
    }
    let name = if only.is_empty() {
        "report.json".to_string()
    } else {
        format!("report-{}.json", only.join("-"))
    };
    let path = out_dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("\nwrote {}", path.display());
    Ok(())
}

/// The tier steps: index, tags, workspace queries, outline and chunks on
/// the corpus tier's files, beside ctags, tree-sitter-tags, ast-grep and
/// semantic-text-splitter.
fn tier_steps(
    tier: &str,
    langs: &[String],
    runs: usize,
    into: &mut Value,
    rows: &mut Vec<Row>,
) -> Result<()> {
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

    // 2. Release builds of cst (made by `run`) and the in-process runner.
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
    if let (Some(into), Value::Object(report)) = (into.as_object_mut(), report) {
        into.extend(report);
    }
    Ok(())
}

// ---------------------------------------------------------------- repo map --

/// The repo map's token budget (aider's default `--map-tokens`).
const MAP_TOKENS: usize = 1024;
/// A budget that shows the best files well beyond [`MAP_TOKENS`], for the
/// top-[`TOP_FILES`] comparison (aider's full ranked list needs no budget).
const FULL_MAP_TOKENS: usize = 16384;
/// Ranked files compared.
const TOP_FILES: usize = 20;
/// Definitions compared per file agreeing in the top files: the best few.
const TOP_DEFS: usize = 5;
/// The Python project both tools map: PyPI name, version, sdist file and
/// its sha256 (a Python repository aider handles, 17,874 lines of Python).
const PY_PROJECT: (&str, &str, &str, &str) = (
    "flask",
    "3.1.2",
    "flask-3.1.2.tar.gz",
    "bf656c15c80190ed628ad08cdfd3aaa35beb087855e2f494910aa3774cc4fd87",
);
const AIDER_INSTALL: &str = "python3 -m venv ~/.cache/cst-compare/aider-venv && \
     ~/.cache/cst-compare/aider-venv/bin/pip install aider-chat==0.86.2, or set CST_AIDER_PYTHON";

/// The Python of the environment aider-chat is installed in:
/// `$CST_AIDER_PYTHON`, else `~/.cache/cst-compare/aider-venv/bin/python`.
fn aider_python() -> std::result::Result<PathBuf, String> {
    let p = match std::env::var_os("CST_AIDER_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME").ok_or("HOME is not set")?)
            .join(".cache/cst-compare/aider-venv/bin/python"),
    };
    if !p.is_file() {
        return Err(format!("{} not found ({AIDER_INSTALL})", p.display()));
    }
    let imports = Command::new(&p)
        .args(["-c", "import aider.repomap"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !imports {
        return Err(format!(
            "{} cannot import aider.repomap ({AIDER_INSTALL})",
            p.display()
        ));
    }
    Ok(p)
}

/// Whether a directory entry is left out of the trees both tools map:
/// hidden entries and `target/`.
fn skipped(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.') || name == "target"
}

/// Copies the regular files under `from` that `keep` keeps to `to`
/// (hidden entries and `target/` left out).
fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)?.flatten() {
        if skipped(&e.file_name()) {
            continue;
        }
        let ft = e.file_type()?;
        if ft.is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()), keep)?;
        } else if ft.is_file() && keep(&e.path()) {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

/// The regular files under `dir` relative to it, sorted (hidden entries
/// and `target/` left out): what aider is given.
fn tree_files(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            if skipped(&e.file_name()) {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            match e.file_type() {
                Ok(ft) if ft.is_dir() => walk(&e.path(), &r, out),
                Ok(ft) if ft.is_file() => out.push(r),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

/// The pinned Python project's sdist, downloaded with pip (once, checked
/// against its sha256) and unpacked under `base`; its directory.
fn python_project(out_dir: &Path, base: &Path) -> Result<PathBuf> {
    let (name, version, file, sha256) = PY_PROJECT;
    let downloads = out_dir.join("downloads");
    std::fs::create_dir_all(&downloads)?;
    let archive = downloads.join(file);
    let ok =
        |p: &Path| -> Result<bool> { Ok(p.is_file() && crate::corpus::sha256_file(p)? == sha256) };
    if !ok(&archive)? {
        let _ = std::fs::remove_file(&archive);
        let out = Command::new("python3")
            .args(["-m", "pip", "download", "--no-deps", "-q", "-d"])
            .arg(&downloads)
            // Only this package from source (never `:all:`: build deps too).
            .args(["--no-binary", name])
            .arg(format!("{name}=={version}"))
            .output()
            .context("python3 -m pip download")?;
        anyhow::ensure!(
            out.status.success(),
            "pip download {name}=={version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if !ok(&archive)? {
            bail!(
                "{}: not produced by pip, or its sha256 is not the pinned {sha256}",
                archive.display()
            );
        }
    }
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(base)
        .arg("--no-same-owner")
        .status()
        .context("tar")?;
    anyhow::ensure!(status.success(), "tar -xf {}", archive.display());
    Ok(base.join(format!("{name}-{version}")))
}

/// The trees both tools map, fresh: this workspace's `crates/`, the
/// pinned Python project as released and reduced to its Python files (cst
/// tags data and markup languages that aider does not: the reduced tree
/// compares the ranking alone), and pip from the corpus's ci tier when it
/// was fetched (a larger Python tree).
fn map_repos(out_dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let base = out_dir.join("ws-map");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base)?;
    let all = |_: &Path| true;
    let python = |p: &Path| p.extension().is_some_and(|e| e == "py");
    let ws = base.join("cst");
    copy_tree(&crate::root().join("crates"), &ws, &all)?;
    let mut repos = vec![("cst (this workspace's crates/)".to_string(), ws)];
    let (name, version, _, _) = PY_PROJECT;
    match python_project(out_dir, &base) {
        Ok(dir) => {
            let py = base.join(format!("{name}-{version}-py"));
            copy_tree(&dir, &py, &python)?;
            repos.push((format!("{name} {version} (sdist)"), dir));
            repos.push((format!("{name} {version} (its .py files only)"), py));
        }
        Err(e) => println!("SKIPPED {name} {version}: {e:#}"),
    }
    let pip = crate::corpus::corpora_dir().join("src/pip");
    if pip.join("pip").is_dir() {
        let dir = base.join("pip-25.3");
        copy_tree(&pip.join("pip"), &dir.join("pip"), &all)?;
        repos.push(("pip 25.3 (corpus tier ci)".to_string(), dir));
    } else {
        println!(
            "SKIPPED pip 25.3: not fetched (cargo xtask corpus fetch --tier ci --lang python)"
        );
    }
    Ok(repos)
}

/// The paths of the first `n` files of a JSON list of `{path, …}`.
fn paths_of(files: &Value, n: usize) -> Vec<String> {
    files
        .as_array()
        .map(|a| {
            a.iter()
                .take(n)
                .filter_map(|f| f["path"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The definitions (name, line) of `path` in a JSON list of `{path,
/// definitions: [{name, line}]}`, best first.
fn defs_of(files: &Value, path: &str) -> Vec<(String, u64)> {
    files
        .as_array()
        .and_then(|a| a.iter().find(|f| f["path"].as_str() == Some(path)))
        .and_then(|f| f["definitions"].as_array())
        .map(|d| {
            d.iter()
                .filter_map(|d| Some((d["name"].as_str()?.to_string(), d["line"].as_u64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Definitions, references and files with tags in `cst tags` output
/// (`path:line:col: def|ref kind name`).
fn count_tags(out: &[u8]) -> Value {
    let (mut defs, mut refs) = (0usize, 0usize);
    let mut files = std::collections::BTreeSet::new();
    for line in String::from_utf8_lossy(out).lines() {
        let Some((place, rest)) = line.split_once(": ") else {
            continue;
        };
        let path = place.rsplitn(3, ':').nth(2).unwrap_or(place);
        files.insert(path.to_string());
        if rest.starts_with("def ") {
            defs += 1;
        } else {
            refs += 1;
        }
    }
    json!({"files_with_tags": files.len(), "definitions": defs, "references": refs})
}

/// `cst map` beside aider's `RepoMap` (`xtask/peers/aider_map.py`) on the
/// same trees and budget: times, the files the maps show, the top
/// [`TOP_FILES`] ranked files and their definitions.
fn repo_map(runs: usize, rows: &mut Vec<Row>) -> Result<Value> {
    let root = crate::root();
    let out_dir = root.join("target/compare");
    let cst_bin = root.join("target/release/cst");
    let driver = root.join("xtask/peers/aider_map.py");
    let python = aider_python();
    if let Err(e) = &python {
        println!("SKIPPED aider: {e}");
    }
    let mut row = |lines: usize, what: String, secs: f64, note: String| {
        let per_kline = secs * 1e6 / lines.max(1) as f64;
        rows.push((what, format!("{secs:.3} s ({per_kline:.2} ms/kline)"), note));
    };
    let tokens = MAP_TOKENS.to_string();
    let full_tokens = FULL_MAP_TOKENS.to_string();
    let mut results = Vec::new();
    for (name, dir) in map_repos(&out_dir)? {
        let slug = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let cache = out_dir.join(format!("map-cache-{slug}"));
        let _ = std::fs::remove_dir_all(&cache);
        let cst = |args: &[&str]| {
            let mut c = Command::new(&cst_bin);
            c.env("CST_THREADS", "2")
                .arg("--cache-dir")
                .arg(&cache)
                .args(args)
                .arg(&dir)
                .current_dir(&dir);
            c
        };
        let (index_secs, out) = best(1, || cst(&["index", "--json"]))?;
        let index: Value = serde_json::from_slice(&out)?;
        let lines = index["lines"].as_u64().unwrap_or(0) as usize;
        println!(
            "\nrepo map: {name}: {} files, {lines} lines indexed by cst ({})",
            index["files"],
            dir.display()
        );
        let (first, _) = best(1, || cst(&["map", "--tokens", &tokens, "--json"]))?;
        let (warm, out) = best(runs, || cst(&["map", "--tokens", &tokens, "--json"]))?;
        let cst_map: Value = serde_json::from_slice(&out)?;
        let (_, out) = best(1, || cst(&["map", "--tokens", &full_tokens, "--json"]))?;
        let cst_full: Value = serde_json::from_slice(&out)?;
        let (_, out) = best(1, || cst(&["tags"]))?;
        let cst_tags = count_tags(&out);
        let cst_files = paths_of(&cst_map["files"], usize::MAX);
        row(
            lines,
            format!("cst index ({name}, cold, 2 threads)"),
            index_secs,
            format!("{} files", index["files"]),
        );
        row(
            lines,
            format!("cst map --tokens {MAP_TOKENS}, first run ({name})"),
            first,
            String::new(),
        );
        row(
            lines,
            format!("cst map --tokens {MAP_TOKENS} ({name}, warm store)"),
            warm,
            format!("{} files, {} tokens", cst_files.len(), cst_map["tokens"]),
        );
        let mut r = json!({
            "repo": name,
            "dir": dir,
            "files": index["files"],
            "lines": lines,
            "tokens": MAP_TOKENS,
            "cst": {
                "index_seconds": index_secs,
                "first_map_seconds": first,
                "map_seconds": warm,
                "map_tokens": cst_map["tokens"],
                "map_files": cst_files,
                "top_files": paths_of(&cst_full["files"], TOP_FILES),
                "tags": cst_tags,
            },
        });
        let Ok(py) = &python else {
            results.push(r);
            continue;
        };
        let list = out_dir.join(format!("map-{slug}.files"));
        std::fs::write(
            &list,
            tree_files(&dir)
                .iter()
                .map(|f| format!("{f}\n"))
                .collect::<String>(),
        )?;
        let aider_json = out_dir.join(format!("map-aider-{slug}.json"));
        let started = Instant::now();
        // aider walks sets of paths and names: a fixed hash seed makes its
        // ranking (ties, and the order it weighs a name's definers) repeat.
        let out = Command::new(py)
            .env("PYTHONHASHSEED", "0")
            .arg(&driver)
            .arg(&dir)
            .arg(&tokens)
            .arg(&aider_json)
            .arg("--files")
            .arg(&list)
            .arg("--runs")
            .arg(runs.max(1).to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("{} {}", py.display(), driver.display()))?;
        let process_secs = started.elapsed().as_secs_f64();
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(5).collect();
            println!(
                "SKIPPED aider on {name}: the driver failed: {}",
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            );
            results.push(r);
            continue;
        }
        let a: Value = serde_json::from_str(&std::fs::read_to_string(&aider_json)?)?;
        let version = a["aider_version"].as_str().unwrap_or("?").to_string();
        let cold = a["cold_seconds"].as_f64().unwrap_or(0.0);
        let a_warm = a["warm_seconds"].as_f64().unwrap_or(0.0);
        let a_session = a["session_seconds"].as_f64().unwrap_or(0.0);
        let aider_files = paths_of(&a["map_files"], usize::MAX);
        row(
            lines,
            format!("aider {version} RepoMap ({name}, cold: no tags cache)"),
            cold,
            format!("{} files, {} tokens", aider_files.len(), a["map_tokens"]),
        );
        row(
            lines,
            format!("aider {version} RepoMap ({name}, warm tags cache)"),
            a_warm,
            format!(
                "{} files, {} tokens; Python imports {:.2} s more",
                aider_files.len(),
                a["map_tokens"],
                a["import_seconds"].as_f64().unwrap_or(0.0)
            ),
        );
        row(
            lines,
            format!("aider {version} RepoMap ({name}, again in the same session)"),
            a_session,
            String::new(),
        );
        let ratio_warm = a_warm / warm;
        let ratio_session = a_session / warm;
        let ratio_cold = cold / (index_secs + first);
        let ratio_cold_warm = cold / warm;
        println!(
            "time: cst map {warm:.3} s (first run {first:.3} s, index {index_secs:.3} s); aider cold {cold:.3} s, warm {a_warm:.3} s, same session {a_session:.3} s"
        );
        println!(
            "ratios: aider warm / cst map (warm store) {ratio_warm:.1}x; aider same session / cst map {ratio_session:.1}x; aider cold / (cst index + first map) {ratio_cold:.1}x; aider cold / cst map (warm store) {ratio_cold_warm:.0}x"
        );
        println!(
            "tags: cst {} definitions, {} references in {} files; aider {} definitions, {} references ({} backfilled by Pygments in {} files) in {} files",
            cst_tags["definitions"],
            cst_tags["references"],
            cst_tags["files_with_tags"],
            a["tags"]["definitions"],
            a["tags"]["references"],
            a["tags"]["backfilled_references"],
            a["tags"]["backfilled_files"].as_array().map_or(0, Vec::len),
            a["tags"]["files_with_tags"],
        );

        // The top ranked files: cst's map with a large budget, aider's
        // whole ranked list (files in order of their first definition).
        let top_cst = paths_of(&cst_full["files"], TOP_FILES);
        let top_aider = paths_of(&a["ranked_files"], TOP_FILES);
        let agree: Vec<&String> = top_cst.iter().filter(|p| top_aider.contains(p)).collect();
        let cst_only: Vec<&String> = top_cst.iter().filter(|p| !top_aider.contains(p)).collect();
        let aider_only: Vec<&String> = top_aider.iter().filter(|p| !top_cst.contains(p)).collect();
        println!(
            "top-{TOP_FILES} ranked files: {} agree; cst only {cst_only:?}; aider only {aider_only:?}",
            agree.len()
        );
        let (mut shared_defs, mut compared_defs) = (0, 0);
        let mut per_file = Vec::new();
        for p in &agree {
            let c = defs_of(&cst_full["files"], p);
            let d = defs_of(&a["ranked_files"], p);
            let k = TOP_DEFS.min(c.len()).min(d.len());
            let cn: Vec<&str> = c.iter().take(k).map(|x| x.0.as_str()).collect();
            let dn: Vec<&str> = d.iter().take(k).map(|x| x.0.as_str()).collect();
            let shared = cn.iter().filter(|n| dn.contains(n)).count();
            shared_defs += shared;
            compared_defs += k;
            let at = |l: &[String]| l.iter().position(|x| x == *p).map_or(0, |i| i + 1);
            println!(
                "  #{:<2} / #{:<2} {p}: best {k} definitions, {shared} shared (cst {cn:?}, aider {dn:?})",
                at(&top_cst),
                at(&top_aider)
            );
            per_file.push(json!({"path": p, "cst_position": at(&top_cst), "aider_position": at(&top_aider), "cst": cn, "aider": dn, "shared": shared}));
        }
        println!(
            "top-{TOP_FILES} definitions: {shared_defs} of {compared_defs} shared (the best {TOP_DEFS} of each agreeing file)"
        );

        // The maps at the budget: the files both show and their definitions.
        let mut map_shared = Vec::new();
        let (mut names_shared, mut same_line) = (0, 0);
        for p in aider_files.iter().filter(|p| cst_files.contains(p)) {
            let c = defs_of(&cst_map["files"], p);
            let d = defs_of(&a["map_files"], p);
            let shared: Vec<&(String, u64)> =
                c.iter().filter(|x| d.iter().any(|y| y.0 == x.0)).collect();
            names_shared += shared.len();
            same_line += shared.iter().filter(|x| d.contains(x)).count();
            println!(
                "  map {p}: definitions cst {}, aider {}, shared {}",
                c.len(),
                d.len(),
                shared.len()
            );
            map_shared.push(json!({"path": p, "cst": c.iter().map(|x| &x.0).collect::<Vec<_>>(), "aider": d.iter().map(|x| &x.0).collect::<Vec<_>>(), "shared": shared.len()}));
        }
        println!(
            "maps at {MAP_TOKENS} tokens: cst {} files ({} tokens), aider {} files ({} tokens), {} shared; {names_shared} shared definitions ({same_line} on the same line)",
            cst_files.len(),
            cst_map["tokens"],
            aider_files.len(),
            a["map_tokens"],
            map_shared.len()
        );
        r["aider"] = json!({
            "version": version,
            "cold_seconds": cold,
            "warm_seconds": a_warm,
            "session_seconds": a_session,
            "import_seconds": a["import_seconds"],
            "process_seconds": process_secs,
            "map_tokens": a["map_tokens"],
            "map_files": aider_files,
            "top_files": top_aider,
            "tags": a["tags"],
            "graph_nodes": a["graph_nodes"],
            "pythonhashseed": a["pythonhashseed"],
        });
        r["ratio_warm"] = json!(ratio_warm);
        r["ratio_session"] = json!(ratio_session);
        r["ratio_cold"] = json!(ratio_cold);
        r["ratio_cold_vs_warm_store"] = json!(ratio_cold_warm);
        r["top"] = json!({"n": TOP_FILES, "agree": agree.len(), "cst_only": cst_only, "aider_only": aider_only, "definitions_shared": shared_defs, "definitions_compared": compared_defs, "files": per_file});
        r["map"] = json!({"shared_files": map_shared, "definitions_shared": names_shared, "same_line": same_line});
        results.push(r);
    }
    Ok(json!(results))
}

/// The kernel step's query: every call of `kfree`, as a tree-sitter query
/// and as an ast-grep rule. (ast-grep's pattern `kfree($$$ARGS)` parses,
/// alone, as something else in C and finds 71 calls of 37,635; the rule
/// says what the query says.)
const KERNEL_QUERY: (&str, &str) = (
    r#"(call_expression function: (identifier) @f (#eq? @f "kfree")) @call"#,
    "id: kfree\nlanguage: c\nrule:\n  kind: call_expression\n  has:\n    field: function\n    kind: identifier\n    regex: ^kfree$\n",
);

/// (path relative to the tree, 0-based line) of each match.
type Places = std::collections::BTreeSet<(String, u64)>;

/// One-pattern `cst query` over a warm store of a Linux tree beside
/// `ast-grep run -p` on the same tree: times (best of `runs`, 2 threads
/// each) and whether both find the same calls.
fn kernel_query(dir: &Path, runs: usize, rows: &mut Vec<Row>) -> Result<Value> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("--kernel {}", dir.display()))?;
    let root = crate::root();
    let cst_bin = root.join("target/release/cst");
    // The tree's default store (under ~/.cache/cst), as a user's: warm
    // after the first run (a cold index of the kernel takes minutes).
    let cst = |args: &[&str]| {
        let mut c = Command::new(&cst_bin);
        c.env("CST_THREADS", "2").args(args).current_dir(&dir);
        c
    };
    let t = Instant::now();
    let out = cst(&["index", "--json", "."]).output()?;
    anyhow::ensure!(
        out.status.success(),
        "cst index: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index: Value = serde_json::from_slice(&out.stdout)?;
    println!(
        "kernel: {} files, {} lines in the store ({:.1} s to index)",
        index["files"],
        index["lines"],
        t.elapsed().as_secs_f64()
    );
    let lines = index["lines"].as_u64().unwrap_or(0) as usize;
    let (ts, sg) = KERNEL_QUERY;
    let (cst_secs, out) = best_grep(runs, || {
        // No `--lang`: cst detects some headers as C++, and the query
        // runs in every language it compiles for; ast-grep reads `.h`
        // as C.
        cst(&["query", ts, "--capture", "call", "--json", "."])
    })?;
    let mut cst_places = Places::new();
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line)?;
        let path = v["path"].as_str().unwrap_or("").trim_start_matches("./");
        cst_places.insert((path.to_string(), v["start"]["line"].as_u64().unwrap_or(0)));
    }
    let mut result = json!({
        "dir": dir.display().to_string(), "files": index["files"], "lines": lines,
        "cst_pattern": ts, "ast_grep_rule": sg,
        "cst_seconds": cst_secs, "cst_matches": cst_places.len(),
    });
    let per_kline = |secs: f64| secs * 1e6 / lines.max(1) as f64;
    rows.push((
        "cst query, kernel (2 threads, warm store)".into(),
        format!("{cst_secs:.3} s ({:.3} ms/kline)", per_kline(cst_secs)),
        format!("{} matches", cst_places.len()),
    ));
    let Some(sg_bin) = ast_grep() else {
        println!("SKIPPED ast-grep: not found (npm i --prefix ~/.local/ast-grep @ast-grep/cli)");
        return Ok(result);
    };
    let (sg_secs, out) = best_grep(runs, || {
        let mut c = Command::new(&sg_bin);
        c.args([
            "scan",
            "--inline-rules",
            sg,
            "--json=stream",
            "-j",
            "2",
            ".",
        ])
        .current_dir(&dir);
        c
    })?;
    let mut sg_places = Places::new();
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line)?;
        let path = v["file"].as_str().unwrap_or("").trim_start_matches("./");
        // ast-grep counts lines from 0, cst from 1.
        sg_places.insert((
            path.to_string(),
            v["range"]["start"]["line"].as_u64().unwrap_or(0) + 1,
        ));
    }
    let only_cst: Vec<_> = cst_places.difference(&sg_places).take(5).collect();
    let only_sg: Vec<_> = sg_places.difference(&cst_places).take(5).collect();
    let (n_only_cst, n_only_sg) = (
        cst_places.difference(&sg_places).count(),
        sg_places.difference(&cst_places).count(),
    );
    rows.push((
        "ast-grep scan (rule), kernel (2 threads)".into(),
        format!("{sg_secs:.3} s ({:.3} ms/kline)", per_kline(sg_secs)),
        format!("{} matches", sg_places.len()),
    ));
    println!(
        "ratio: ast-grep / cst query (kernel) {:.1}x; matches {} vs {}; only cst {n_only_cst} {only_cst:?}; only ast-grep {n_only_sg} {only_sg:?}",
        sg_secs / cst_secs,
        sg_places.len(),
        cst_places.len()
    );
    result["ast_grep_seconds"] = json!(sg_secs);
    result["ast_grep_matches"] = json!(sg_places.len());
    result["ratio"] = json!(sg_secs / cst_secs);
    result["only_cst"] = json!(n_only_cst);
    result["only_ast_grep"] = json!(n_only_sg);
    Ok(result)
}
