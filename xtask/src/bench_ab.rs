//! `cargo xtask bench --ab REV [--rounds N] [--tier T] [--lang L,…]`: the
//! corpus benchmark of two builds, this checkout (head) and `REV` (base, a
//! detached worktree under `target/ab/`), run alternately in one session.
//!
//! `--compare` holds a run against a baseline taken on another day: the
//! machine drifts in between (the get latencies of a few µs most), so a
//! change can be the machine's. Here both builds meet the same machine:
//! each language runs `rounds` times per build, the builds alternating
//! (base first in even rounds, head first in odd ones), and each gated
//! figure (`bench::gated`) is the best of its rounds on each side. A
//! regression is a figure whose best on head is worse than its best on
//! base by more than the threshold, and worse than every base run (where
//! a base run was as bad, the change is within the runs' spread: said,
//! not failed). The base builds into `target/ab/target` (its own: see
//! `bench::build`), kept for the next A/B run; each binary is copied out
//! after its build.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::bench;

pub(crate) fn run(
    tier: &str,
    langs: &[String],
    rev: &str,
    rounds: usize,
    threshold: f64,
) -> Result<bool> {
    if rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    let root = crate::root();
    let sets = bench::select(tier, langs)?;
    let base = bench::git(
        &root,
        &["rev-parse", "--verify", &format!("{rev}^{{commit}}")],
    )?;
    let head = bench::git(&root, &["rev-parse", "HEAD"])?;
    let dirty = !bench::git(&root, &["status", "--porcelain", "--untracked-files=no"])?.is_empty();
    let ab = bench::target_dir().join("ab");
    std::fs::create_dir_all(&ab)?;
    let tree = ab.join(format!("src-{}", &base[..base.len().min(12)]));
    if !tree.join("Cargo.toml").is_file() {
        // A worktree left half made, or removed by hand: start again.
        let _ = std::fs::remove_dir_all(&tree);
        bench::git(&root, &["worktree", "prune"])?;
        let path = tree.to_str().context("non-UTF-8 target directory")?;
        bench::git(
            &root,
            &["worktree", "add", "--detach", "--force", path, &base],
        )?;
    }
    let started = std::time::Instant::now();
    let mut exes = Vec::new();
    let targets = [ab.join("target"), bench::target_dir()];
    for ((name, workspace), target) in [("base", tree.as_path()), ("head", root.as_path())]
        .into_iter()
        .zip(&targets)
    {
        bench::build(workspace, target, &sets)?;
        let exe = ab.join(format!("corpus-bench-{name}"));
        std::fs::copy(target.join("release/corpus-bench"), &exe)
            .with_context(|| format!("copying the {name} corpus-bench"))?;
        exes.push(exe);
    }
    eprintln!(
        "built base {} and head {}{} in {:.0} s",
        &base[..base.len().min(12)],
        &head[..head.len().min(12)],
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        },
        started.elapsed().as_secs_f64()
    );
    let lists = bench::write_lists(tier, &sets)?;
    // Per language: the base's runs, the head's runs.
    let mut runs: BTreeMap<&str, [Vec<Value>; 2]> = BTreeMap::new();
    for round in 0..rounds {
        for (s, list) in sets.iter().zip(&lists) {
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for side in order {
                eprint!("round {} {} ", round + 1, ["base", "head"][side]);
                let v = bench::run_one(&exes[side], s.lang.id(), list)?;
                runs.entry(s.lang.id()).or_default()[side].push(v);
            }
        }
    }
    let sides = [0, 1].map(|side| {
        json!({
            "languages": runs.values().map(|r| best(&r[side])).collect::<Vec<_>>(),
        })
    });
    print!("{}", table(&sides[0], &sides[1], threshold));
    let report = json!({
        "tier": tier,
        "time_utc": bench::timestamp(),
        "base": base,
        "head": head,
        "head_dirty": dirty,
        "rounds": rounds,
        "machine": bench::machine(),
        "wall_s": started.elapsed().as_secs_f64(),
        "best": { "base": sides[0], "head": sides[1] },
        "runs": runs.iter().map(|(l, r)| (l.to_string(), json!({ "base": r[0], "head": r[1] })))
            .collect::<serde_json::Map<_, _>>(),
    });
    let dir = root.join("bench-results");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(format!(
        "ab-{tier}-{}.json",
        bench::timestamp().replace(':', "")
    ));
    std::fs::write(&file, serde_json::to_string_pretty(&report)?)?;
    println!("\nwritten {}", file.display());
    let (regressions, spread) = verdicts(&runs, threshold);
    for r in &spread {
        println!("within the runs' spread (a base run was as bad): {r}");
    }
    for r in &regressions {
        println!("REGRESSION {r}");
    }
    let failed = !regressions.is_empty();
    if !failed {
        println!(
            "no regression over {threshold}%: head against base {}, best of {rounds} alternating rounds",
            &base[..base.len().min(12)]
        );
    }
    Ok(!failed)
}

/// The figures whose best on head is worse than their best on base by more
/// than `threshold` percent: (regressions, those a base run was as bad as).
fn verdicts(
    runs: &BTreeMap<&str, [Vec<Value>; 2]>,
    threshold: f64,
) -> (Vec<bench::Regression>, Vec<bench::Regression>) {
    let side = |i: usize, f: fn(&[Value]) -> Value| json!({ "languages": runs.values().map(|r| f(&r[i])).collect::<Vec<_>>() });
    let flagged = bench::regressions(&side(0, best), &side(1, best), threshold);
    // The head's best worse than every base run as well.
    let beyond = bench::regressions(&side(0, worst), &side(1, best), 0.0);
    flagged.into_iter().partition(|r| {
        beyond
            .iter()
            .any(|c| c.lang == r.lang && c.figure == r.figure)
    })
}

/// One language's runs as one report: each gated figure the best of the
/// runs (the highest where higher is better, else the lowest), the rest
/// from the first run.
fn best(runs: &[Value]) -> Value {
    fold(runs, true)
}

/// As [`best`], with each gated figure the worst of the runs.
fn worst(runs: &[Value]) -> Value {
    fold(runs, false)
}

fn fold(runs: &[Value], best: bool) -> Value {
    let mut out = runs.first().cloned().unwrap_or(Value::Null);
    for (_, path, higher) in bench::gated() {
        let values = runs
            .iter()
            .map(|r| bench::at(r, &path))
            .filter(|v| v.is_finite());
        let x = match higher == best {
            true => values.fold(f64::NAN, f64::max),
            false => values.fold(f64::NAN, f64::min),
        };
        if x.is_finite() {
            set(&mut out, &path, json!(x));
        }
    }
    out
}

/// Sets `v[path]` (objects made on the way).
fn set(v: &mut Value, path: &[&str], x: Value) {
    let mut at = v;
    for k in path {
        if !at.is_object() {
            *at = json!({});
        }
        at = &mut at[*k];
    }
    *at = x;
}

/// The gated figures of both sides, language by language: those that moved
/// by more than half the threshold either way, and how many did not.
fn table(base: &Value, head: &Value, threshold: f64) -> String {
    use std::fmt::Write as _;
    let mut s = String::from(
        "\n| language | figure | base (best) | head (best) | change | |\n|---|---|---:|---:|---:|---|\n",
    );
    let (mut steady, mut compared) = (0, 0);
    let empty = Vec::new();
    let heads = head["languages"].as_array().unwrap_or(&empty);
    for b in base["languages"].as_array().unwrap_or(&empty) {
        let Some(h) = heads.iter().find(|h| h["lang"] == b["lang"]) else {
            continue;
        };
        for (name, path, higher) in bench::gated() {
            let (was, is) = (bench::at(b, &path), bench::at(h, &path));
            if !was.is_finite() || !is.is_finite() || was == 0.0 {
                continue;
            }
            compared += 1;
            let change = (is - was) / was * 100.0;
            if change.abs() <= threshold / 2.0 {
                steady += 1;
                continue;
            }
            let better = (change > 0.0) == higher;
            let _ = writeln!(
                s,
                "| {} | {name} | {was:.3} | {is:.3} | {change:+.1}% | {} |",
                b["lang"].as_str().unwrap_or(""),
                if better { "better" } else { "worse" }
            );
        }
    }
    let _ = writeln!(
        s,
        "\n{steady} of {compared} gated figures within ±{:.1}%.",
        threshold / 2.0
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lang: &str, ingest: f64, warm: f64, hot_get: f64) -> Value {
        json!({
            "lang": lang,
            "ingest_1t_vs_parse": ingest,
            "bytes_per_line": { "warm": warm },
            "get": { "hot": { "reparse_over_get": hot_get } },
            "lines": 10,
        })
    }

    #[test]
    fn the_best_of_the_rounds_is_taken_per_figure_and_direction() {
        let b = best(&[run("c", 0.50, 20.0, 300.0), run("c", 0.60, 21.0, 250.0)]);
        // Higher is better for ingest and get, lower for bytes per line.
        assert_eq!(bench::at(&b, &["ingest_1t_vs_parse"]), 0.60);
        assert_eq!(bench::at(&b, &["bytes_per_line", "warm"]), 20.0);
        assert_eq!(bench::at(&b, &["get", "hot", "reparse_over_get"]), 300.0);
        // What is not gated comes from the first run.
        assert_eq!(b["lines"], 10);
        let w = worst(&[run("c", 0.50, 20.0, 300.0), run("c", 0.60, 21.0, 250.0)]);
        assert_eq!(bench::at(&w, &["ingest_1t_vs_parse"]), 0.50);
        assert_eq!(bench::at(&w, &["bytes_per_line", "warm"]), 21.0);
        assert_eq!(bench::at(&w, &["get", "hot", "reparse_over_get"]), 250.0);
        // A figure missing from some rounds: the best of the others.
        let mut partial = run("c", 0.55, 19.0, 310.0);
        partial["bytes_per_line"] = Value::Null;
        let b = best(&[partial, run("c", 0.50, 22.0, 100.0)]);
        assert_eq!(bench::at(&b, &["bytes_per_line", "warm"]), 22.0);
        assert_eq!(bench::at(&b, &["get", "hot", "reparse_over_get"]), 310.0);
    }

    #[test]
    fn a_regression_is_worse_than_every_base_run() {
        let mut runs: BTreeMap<&str, [Vec<Value>; 2]> = BTreeMap::new();
        // Ingest: base 0.50 and 0.60, head 0.45 and 0.52: 13% under the
        // base's best, but a base run was as bad. Warm size: 20 and 20.5
        // against 23 and 24: 15% larger than any base run.
        runs.insert(
            "c",
            [
                vec![run("c", 0.50, 20.0, 300.0), run("c", 0.60, 20.5, 300.0)],
                vec![run("c", 0.45, 23.0, 300.0), run("c", 0.52, 24.0, 300.0)],
            ],
        );
        let (regressions, spread) = verdicts(&runs, 10.0);
        assert_eq!(regressions.len(), 1, "{regressions:?}");
        assert!(
            regressions[0]
                .to_string()
                .starts_with("c: bytes_per_line.warm 20.000 → 23.000"),
            "{regressions:?}"
        );
        assert_eq!(spread.len(), 1, "{spread:?}");
        assert!(
            spread[0]
                .to_string()
                .starts_with("c: ingest_1t_vs_parse 0.600 → 0.520"),
            "{spread:?}"
        );
    }

    #[test]
    fn the_table_lists_what_moved_and_counts_the_rest() {
        let base = json!({ "languages": [run("c", 0.50, 20.0, 300.0)] });
        let head = json!({ "languages": [run("c", 0.40, 20.2, 330.0)] });
        let t = table(&base, &head, 10.0);
        assert!(
            t.contains("| c | ingest_1t_vs_parse | 0.500 | 0.400 | -20.0% | worse |"),
            "{t}"
        );
        assert!(
            t.contains("| c | reparse÷get.hot | 300.000 | 330.000 | +10.0% | better |"),
            "{t}"
        );
        assert!(!t.contains("bytes_per_line"), "{t}");
        assert!(t.contains("1 of 3 gated figures within ±5.0%."), "{t}");
        let r = bench::regressions(&base, &head, 10.0);
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(
            r[0].lang == "c" && r[0].figure == "ingest_1t_vs_parse",
            "{r:?}"
        );
    }
}
