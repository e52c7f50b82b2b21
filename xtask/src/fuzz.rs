//! `cargo xtask fuzz [--seconds N] [--target T]`: runs the cargo-fuzz targets
//! of `fuzz/` for N seconds each and reports executions and findings.
//! Needs `cargo install cargo-fuzz`; with a stable toolchain it sets
//! `RUSTC_BOOTSTRAP=1` so the sanitizer flags are accepted.

use std::process::Command;

use anyhow::{Context, Result, bail};

const TARGETS: &[&str] = &[
    "decode", "dense", "detect", "encode", "frozen", "policy", "query",
];

pub(crate) fn run(seconds: u64, only: Option<String>) -> Result<bool> {
    let fuzz_dir = crate::root().join("fuzz");
    let targets: Vec<&str> = match &only {
        Some(t) if TARGETS.contains(&t.as_str()) => vec![t.as_str()],
        Some(t) => bail!("unknown fuzz target `{t}` (known: {})", TARGETS.join(", ")),
        None => TARGETS.to_vec(),
    };
    // Without cargo-fuzz, `cargo fuzz` fails before fuzzing anything: say
    // so, rather than report a failed target.
    let has_cargo_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        bail!(
            "cargo-fuzz is not installed: `cargo install cargo-fuzz` (it needs nothing else; a stable toolchain works)"
        );
    }
    let mut ok = true;
    for target in targets {
        let artifacts = fuzz_dir.join("artifacts").join(target);
        let before = findings_in(&artifacts);
        let mut args = vec![
            "fuzz".to_owned(),
            "run".to_owned(),
            target.to_owned(),
            "--".to_owned(),
            format!("-max_total_time={seconds}"),
            "-print_final_stats=1".to_owned(),
        ];
        if target == "query" {
            // tree-sitter 0.26.13 itself leaks in `ts_query_new` on some
            // invalid queries (a field-prefixed pattern with an unknown field
            // returns without freeing its capture quantifiers); LeakSanitizer
            // would stop on that, not on cst's code.
            args.push("-detect_leaks=0".to_owned());
        }
        let mut command = Command::new("cargo");
        command
            .current_dir(&fuzz_dir)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(&args);
        if target == "query" {
            // ... and LeakSanitizer's report at exit, for the same reason.
            command.env("ASAN_OPTIONS", "detect_leaks=0");
        }
        let out = command
            .output()
            .context("running `cargo fuzz` (install it with `cargo install cargo-fuzz`)")?;
        let log = String::from_utf8_lossy(&out.stderr);
        let execs = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .map_or("?".to_owned(), |s| s.trim().to_owned());
        let cov = log
            .lines()
            .rev()
            .find_map(|l| {
                l.split("cov: ")
                    .nth(1)
                    .and_then(|r| r.split_whitespace().next())
            })
            .unwrap_or("?");
        let after = findings_in(&artifacts);
        let findings = after.saturating_sub(before);
        if !out.status.success() && findings == 0 && execs == "?" {
            // It never fuzzed (a build error, a missing toolchain part): not
            // a finding.
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "{target}: `cargo fuzz run` failed before fuzzing:\n{}",
                tail.join("\n")
            );
        }
        println!(
            "{target}: {execs} execs in {seconds} s, coverage {cov} edges, {findings} new findings"
        );
        if !out.status.success() || findings > 0 {
            ok = false;
            eprintln!(
                "{target}: failed; minimize with `cargo fuzz tmin {target} <artifact>` and commit it under fuzz/regressions/{target}/"
            );
        }
    }
    Ok(ok)
}

/// Artifacts that are findings: crashes, leaks, timeouts, OOMs. libFuzzer
/// also writes `slow-unit-*` inputs (over 10 s each, under sanitizers):
/// worth a look, not a failure.
fn findings_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with("slow-unit-"))
                .count()
        })
        .unwrap_or(0)
}
