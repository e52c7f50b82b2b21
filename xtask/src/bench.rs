//! `cargo xtask bench [--tier ci|full] [--lang L,…] [--compare BASE.json]`:
//! builds `corpus-bench` (benches/corpus_bench.rs) in release with the
//! tier's grammars, runs it once per language (a process each, so peak RSS
//! is per language), writes `bench-results/<tier>-<time>.json`, prints a
//! markdown table and, with `--compare`, fails on regressions. With
//! `--ab REV` it runs this checkout beside another build instead
//! (`bench_ab.rs`).
//!
//! Every figure is measured in the same process beside raw tree-sitter, and
//! the regression gate compares ratios to raw tree-sitter and sizes, not
//! absolute times (this machine is shared and noisy).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

pub(crate) fn run(
    tier: &str,
    langs: &[String],
    compare: Option<&Path>,
    threshold: f64,
) -> Result<bool> {
    let sets = select(tier, langs)?;
    let root = crate::root();
    let started = std::time::Instant::now();
    build(&root, &target_dir(), &sets)?;
    eprintln!(
        "built corpus-bench in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let exe = target_dir().join("release/corpus-bench");
    let lists = write_lists(tier, &sets)?;
    let mut results = Vec::new();
    for (s, list) in sets.iter().zip(&lists) {
        results.push(run_one(&exe, s.lang.id(), list)?);
    }
    let report = json!({
        "tier": tier,
        "time_utc": timestamp(),
        "commit": git(&root, &["rev-parse", "HEAD"]).unwrap_or_default(),
        "machine": machine(),
        "wall_s": started.elapsed().as_secs_f64(),
        "languages": results,
    });
    let dir = root.join("bench-results");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(format!("{tier}-{}.json", timestamp().replace(':', "")));
    std::fs::write(&file, serde_json::to_string_pretty(&report)?)?;
    print!("{}", markdown(&report));
    println!("\nwritten {}", file.display());
    match compare {
        None => Ok(true),
        Some(base) => {
            let base: Value = serde_json::from_slice(
                &std::fs::read(base).with_context(|| format!("reading {}", base.display()))?,
            )?;
            let regressions = regressions(&base, &report, threshold);
            if regressions.is_empty() {
                println!(
                    "no regression over {threshold}% against {}",
                    base["time_utc"]
                );
                Ok(true)
            } else {
                for r in &regressions {
                    println!("REGRESSION {r}");
                }
                Ok(false)
            }
        }
    }
}

/// The tier's corpora, only `langs` if any (each must have one).
pub(crate) fn select(tier: &str, langs: &[String]) -> Result<Vec<crate::corpus::LangFiles>> {
    let manifest = crate::corpus::load()?;
    let mut sets = manifest.files(tier, None)?;
    if !langs.is_empty() {
        for l in langs {
            if !sets.iter().any(|s| s.lang.id() == l) {
                bail!("language `{l}` has no corpus in tier {tier}");
            }
        }
        sets.retain(|s| langs.iter().any(|l| l == s.lang.id()));
    }
    for s in &sets {
        if s.files.is_empty() {
            bail!(
                "language `{}` of tier {tier} has no files (fetch the tier first)",
                s.lang.id()
            );
        }
    }
    Ok(sets)
}

/// The target directory cargo builds into.
pub(crate) fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"))
}

/// Builds `corpus-bench` in release with the grammars of `sets`, from the
/// workspace at `workspace` (this one, or another checkout), into
/// `target`. Two checkouts need two target directories: cargo names a
/// workspace member's artifacts by its path relative to the workspace, so
/// the second build would take the first one's as fresh.
pub(crate) fn build(
    workspace: &Path,
    target: &Path,
    sets: &[crate::corpus::LangFiles],
) -> Result<()> {
    let mut features = vec!["corpus".to_owned()];
    for s in sets {
        features.push(format!("cst-grammars/{}", s.lang.feature()));
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", target)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "cst-benches",
            "--bin",
            "corpus-bench",
        ])
        .arg("--features")
        .arg(features.join(","))
        .status()
        .context("building corpus-bench")?;
    if !status.success() {
        bail!("building corpus-bench in {} failed", workspace.display());
    }
    Ok(())
}

/// Writes each language's file list (`target/bench-lists/<id>.list`).
pub(crate) fn write_lists(
    tier: &str,
    sets: &[crate::corpus::LangFiles],
) -> Result<Vec<std::path::PathBuf>> {
    let lists = target_dir().join("bench-lists");
    std::fs::create_dir_all(&lists)?;
    let mut out = Vec::new();
    for s in sets {
        let list = lists.join(format!("{}.list", s.lang.id()));
        let mut text = String::new();
        for f in &s.files {
            text.push_str(f.to_str().context("non-UTF-8 corpus path")?);
            text.push('\n');
        }
        std::fs::write(&list, text).with_context(|| format!("tier {tier}: {}", list.display()))?;
        out.push(list);
    }
    Ok(out)
}

/// One run of `exe` (a `corpus-bench`) over one language's list: its JSON.
pub(crate) fn run_one(exe: &Path, lang: &str, list: &Path) -> Result<Value> {
    let t = std::time::Instant::now();
    let out = Command::new(exe)
        .args(["--lang", lang])
        .arg("--files")
        .arg(list)
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    if !out.status.success() {
        bail!(
            "corpus-bench failed for {lang}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("corpus-bench output")?;
    eprintln!(
        "{:<12} {:>8} lines  {:>6.1} s",
        lang,
        v["lines"],
        t.elapsed().as_secs_f64()
    );
    Ok(v)
}

/// `git args` in `dir`: its trimmed output, or an error with git's.
pub(crate) fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub(crate) fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    json!({
        "cpu": model,
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "mem_gib": mem_kb as f64 / (1 << 20) as f64,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "rustc": Command::new("rustc").arg("--version").output().ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default(),
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ` now (civil-from-days, no time crate needed).
pub(crate) fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// The markdown tables of a report.
pub(crate) fn markdown(r: &Value) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let m = &r["machine"];
    let commit = r["commit"].as_str().unwrap_or("");
    let _ = writeln!(
        s,
        "\ncorpus tier `{}`, {} UTC, commit {}, {} ({} cores, {:.0} GiB), {}\n",
        r["tier"].as_str().unwrap_or(""),
        r["time_utc"].as_str().unwrap_or(""),
        &commit[..commit.len().min(10)],
        m["cpu"].as_str().unwrap_or(""),
        m["cores"],
        f(&m["mem_gib"]),
        m["rustc"].as_str().unwrap_or("")
    );
    let langs = r["languages"].as_array().cloned().unwrap_or_default();
    let _ = writeln!(
        s,
        "| language | files | lines | parse MB/s | ingest 1t ÷ parse | ingest {}t ÷ parse | hot B/line | warm B/line | cold (lz4) B/line | frozen (lz4) B/line | frozen lines/MB | peak RSS MB |",
        langs
            .first()
            .map_or(0, |l| l["threads"].as_u64().unwrap_or(0))
    );
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for l in &langs {
        let b = &l["bytes_per_line"];
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.0} | {:.1} | {:.2} | {:.2} | {:.0} | {:.0} |",
            l["lang"].as_str().unwrap_or(""),
            l["files"],
            l["lines"],
            f(&l["parse_mb_per_s"]),
            f(&l["ingest_1t_vs_parse"]),
            f(&l["ingest_nt_vs_parse"]),
            f(&b["hot"]),
            f(&b["warm"]),
            f(&b["cold"]),
            f(&b["frozen"]),
            f(&l["lines_per_mb"]["frozen"]),
            f(&l["peak_rss_mb"]),
        );
    }
    let _ = writeln!(
        s,
        "\n| language | re-parse p50 µs/kline | get hot p50 / p99 | get warm p50 / p99 | get cold p50 / p99 | get frozen p50 / p99 | re-parse ÷ get, all files: hot / warm / cold / frozen | traversal Mnodes/s TreeCursor / Node / cst Cursor | Node ÷ TreeCursor | cst Cursor ÷ TreeCursor | edit µs raw / cst | reopen s / ingest s |"
    );
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for l in &langs {
        let g = &l["get"];
        let lat = |t: &str| {
            format!(
                "{:.1} / {:.1}",
                f(&g[t]["p50_ns_per_kline"]) / 1e3,
                f(&g[t]["p99_ns_per_kline"]) / 1e3
            )
        };
        let _ = writeln!(
            s,
            "| {} | {:.0} | {} | {} | {} | {} | {:.0}× / {:.0}× / {:.0}× / {:.0}× | {:.0} / {:.0} / {:.0} | {:.2} | {:.2} | {:.0} / {:.0} | {:.2} / {:.2} |",
            l["lang"].as_str().unwrap_or(""),
            f(&l["reparse"]["p50_ns_per_kline"]) / 1e3,
            lat("hot"),
            lat("warm"),
            lat("cold"),
            lat("frozen"),
            f(&g["hot"]["reparse_over_get"]),
            f(&g["warm"]["reparse_over_get"]),
            f(&g["cold"]["reparse_over_get"]),
            f(&g["frozen"]["reparse_over_get"]),
            f(&l["traversal"]["cursor_nodes_per_s"]) / 1e6,
            f(&l["traversal"]["view_nodes_per_s"]) / 1e6,
            f(&l["traversal"]["cst_cursor_nodes_per_s"]) / 1e6,
            f(&l["traversal"]["view_vs_cursor"]),
            f(&l["traversal"]["cst_cursor_vs_cursor"]),
            f(&l["edit"]["raw_p50_us"]),
            f(&l["edit"]["cst_p50_us"]),
            f(&l["warm_reopen_s"]),
            f(&l["cold_ingest_s"]),
        );
    }
    let _ = writeln!(
        s,
        "\n| language | get p50 / p99 µs per file: hot | warm | cold (lz4) | cold (zstd) | frozen (lz4) | frozen (zstd) | frozen (none) | re-parse ÷ get: cold zstd / frozen zstd / frozen none | B/line: cold zstd / frozen zstd / frozen none | traversal events Mnodes/s | events ÷ cursor | encode ÷ parse |"
    );
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for l in &langs {
        let g = &l["get"];
        let us = |t: &str| {
            format!(
                "{:.1} / {:.1}",
                f(&g[t]["p50_us_per_file"]),
                f(&g[t]["p99_us_per_file"])
            )
        };
        let b = &l["bytes_per_line"];
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.0}× / {:.0}× / {:.0}× | {:.2} / {:.2} / {:.2} | {:.0} | {:.2} | {:.2} |",
            l["lang"].as_str().unwrap_or(""),
            us("hot"),
            us("warm"),
            us("cold"),
            us("cold_zstd"),
            us("frozen"),
            us("frozen_zstd"),
            us("frozen_none"),
            f(&g["cold_zstd"]["reparse_over_get"]),
            f(&g["frozen_zstd"]["reparse_over_get"]),
            f(&g["frozen_none"]["reparse_over_get"]),
            f(&b["cold_zstd"]),
            f(&b["frozen_zstd"]),
            f(&b["frozen_none"]),
            f(&l["traversal"]["events_nodes_per_s"]) / 1e6,
            f(&l["traversal"]["events_vs_cursor"]),
            f(&l["encode_share_of_parse"]),
        );
    }
    query_table(&mut s, &langs, "query", "highlights", "captures");
    query_table(&mut s, &langs, "tags_query", "tags", "matches");
    let _ = writeln!(
        s,
        "\n| language | highlights captures, 60-row window | QueryCursor s | cst-query s | cst ÷ tree-sitter |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|");
    for l in langs.iter().filter(|l| l["window_query"].is_object()) {
        let q = &l["window_query"];
        let _ = writeln!(
            s,
            "| {} | {} | {:.4} | {:.4} | {:.2}× |",
            l["lang"].as_str().unwrap_or(""),
            q["captures"],
            f(&q["tree_sitter_s"]),
            f(&q["cst_s"]),
            f(&q["cst_vs_tree_sitter"]),
        );
    }
    s
}

/// The table of one query's measurements (`key` in each language's JSON,
/// with its result count under `count`).
fn query_table(s: &mut String, langs: &[Value], key: &str, name: &str, count: &str) {
    use std::fmt::Write as _;
    let _ = writeln!(
        s,
        "\n| language | {name} {count} | QueryCursor on live trees s | cst-query on views s | cst ÷ tree-sitter (engine) | parse + query s | get + query s | get+query ÷ parse+query |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for l in langs.iter().filter(|l| l[key].is_object()) {
        let q = &l[key];
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} | {:.3} | {:.2}× | {:.3} | {:.3} | {:.1}× |",
            l["lang"].as_str().unwrap_or(""),
            q[count],
            f(&q["tree_sitter_s"]),
            f(&q["cst_s"]),
            f(&q["cst_vs_tree_sitter"]),
            f(&q["parse_query_s"]),
            f(&q["get_query_s"]),
            f(&q["get_query_vs_parse_query"]),
        );
    }
}

/// Metrics gated by `--compare`: (path, higher is better). Ratios against
/// raw tree-sitter measured in the same run, and sizes; not raw times.
const GATED: &[(&[&str], bool)] = &[
    (&["ingest_1t_vs_parse"], true),
    (&["ingest_nt_vs_parse"], true),
    (&["bytes_per_line", "warm"], false),
    (&["bytes_per_line", "cold"], false),
    (&["bytes_per_line", "frozen"], false),
    (&["traversal", "view_vs_cursor"], true),
    (&["edit", "cst_vs_raw"], false),
    (&["reopen_vs_ingest"], false),
    (&["query", "cst_vs_tree_sitter"], true),
    (&["query", "get_query_vs_parse_query"], true),
    (&["tags_query", "cst_vs_tree_sitter"], true),
    (&["tags_query", "get_query_vs_parse_query"], true),
    (&["traversal", "cst_cursor_vs_cursor"], true),
    (&["window_query", "cst_vs_tree_sitter"], true),
];

/// Every gated figure: (name, path in a language's JSON, higher is better):
/// [`GATED`], and the get time relative to re-parse per tier.
pub(crate) fn gated() -> Vec<(String, Vec<&'static str>, bool)> {
    let mut out: Vec<(String, Vec<&'static str>, bool)> = GATED
        .iter()
        .map(|(p, hi)| (p.join("."), p.to_vec(), *hi))
        .collect();
    for t in ["hot", "warm", "cold", "frozen"] {
        out.push((
            format!("reparse÷get.{t}"),
            vec!["get", t, "reparse_over_get"],
            true,
        ));
    }
    out
}

/// The figure at `path` of `v` (NaN when absent).
pub(crate) fn at(v: &Value, path: &[&str]) -> f64 {
    f(path.iter().fold(v, |v, k| &v[*k]))
}

/// A gated figure worse than in the base.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Regression {
    pub lang: String,
    /// Its name in [`gated`].
    pub figure: String,
    pub was: f64,
    pub is: f64,
    /// How much worse, in percent.
    pub worse: f64,
}

impl std::fmt::Display for Regression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} {:.3} → {:.3} ({:.1}% worse)",
            self.lang, self.figure, self.was, self.is, self.worse
        )
    }
}

/// Each gated figure of `now` worse than in `base` by more than
/// `threshold` percent, language by language.
pub(crate) fn regressions(base: &Value, now: &Value, threshold: f64) -> Vec<Regression> {
    let mut out = Vec::new();
    let empty = Vec::new();
    let base_langs = base["languages"].as_array().unwrap_or(&empty);
    for l in now["languages"].as_array().unwrap_or(&empty) {
        let Some(b) = base_langs.iter().find(|b| b["lang"] == l["lang"]) else {
            continue;
        };
        for (name, path, higher_better) in gated() {
            let (was, is) = (at(b, &path), at(l, &path));
            if !was.is_finite() || !is.is_finite() || was == 0.0 {
                continue;
            }
            let change = (is - was) / was * 100.0;
            let worse = if higher_better { -change } else { change };
            if worse > threshold {
                out.push(Regression {
                    lang: l["lang"].as_str().unwrap_or("").to_owned(),
                    figure: name,
                    was,
                    is,
                    worse,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(ingest: f64, warm: f64, get_ratio: f64) -> Value {
        json!({
            "time_utc": "t",
            "languages": [{
                "lang": "rust",
                "ingest_1t_vs_parse": ingest,
                "bytes_per_line": { "warm": warm },
                "get": { "warm": { "reparse_over_get": get_ratio } },
            }],
        })
    }

    #[test]
    fn the_gate_flags_regressions_beyond_the_threshold_only() {
        let base = report(0.70, 17.0, 30.0);
        // Within 10%: throughput ratio a little lower, size a little larger.
        assert!(regressions(&base, &report(0.66, 18.0, 28.0), 10.0).is_empty());
        // Ingest ratio down 20% (higher is better) and warm size up 20%.
        let r = regressions(&base, &report(0.56, 20.4, 30.0), 10.0);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r.iter().any(|m| m.figure == "ingest_1t_vs_parse"));
        assert!(r.iter().any(|m| m.figure == "bytes_per_line.warm"));
        // Get much slower relative to re-parse.
        let r = regressions(&base, &report(0.70, 17.0, 20.0), 10.0);
        assert!(r.len() == 1 && r[0].figure == "reparse÷get.warm", "{r:?}");
        // Improvements are never flagged.
        assert!(regressions(&base, &report(0.9, 10.0, 60.0), 10.0).is_empty());
    }

    #[test]
    fn timestamps_are_utc_iso8601() {
        let t = timestamp();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z') && t.as_bytes()[10] == b'T');
    }
}
