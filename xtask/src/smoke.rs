//! `cargo xtask smoke`: the smoke matrix over `corpora/samples/<id>/`.

use std::path::Path;

use anyhow::{Context, Result};
use cst_grammars::smoke::check_sample;

/// One row of the matrix.
struct Row {
    id: &'static str,
    krate: String,
    abi: usize,
    files: usize,
    lines: usize,
    nodes: usize,
    errors: usize,
    missing: usize,
    micros: u128,
    problem: Option<String>,
}

/// Runs the matrix; `Ok(true)` when every selected language is ok.
pub(crate) fn run(samples: &Path, only: &[String]) -> Result<bool> {
    for id in only {
        anyhow::ensure!(
            cst_grammars::by_id(id).is_some(),
            "unknown language id `{id}`"
        );
    }
    let selected: Vec<_> = cst_grammars::compiled()
        .filter(|g| only.is_empty() || only.iter().any(|o| o == g.id()))
        .collect();
    let mut rows = Vec::new();
    for g in &selected {
        let dir = samples.join(g.id());
        let mut row = Row {
            id: g.id(),
            krate: format!("{}@{}", g.crate_name(), g.crate_version()),
            abi: g.abi_version()?,
            files: 0,
            lines: 0,
            nodes: 0,
            errors: 0,
            missing: 0,
            micros: 0,
            problem: None,
        };
        let mut entries: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect(),
            Err(_) => Vec::new(),
        };
        entries.sort();
        if entries.is_empty() {
            row.problem = Some(format!("no sample in {}", dir.display()));
        }
        for path in entries {
            let source =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let report =
                check_sample(g, &source).with_context(|| format!("parsing {}", path.display()))?;
            row.files += 1;
            row.lines += report.lines;
            row.nodes += report.nodes;
            row.errors += report.errors;
            row.missing += report.missing;
            row.micros += report.parse_time.as_micros();
            if let (Some((r, c)), None) = (report.first_problem, &row.problem) {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                row.problem = Some(format!("{name}:{}:{}: ERROR/MISSING node", r + 1, c + 1));
            }
        }
        rows.push(row);
    }
    println!(
        "| {:<18} | {:<38} | {:>3} | {:>5} | {:>6} | {:>7} | {:>5} | {:>7} | {:>8} |",
        "language", "crate", "abi", "files", "lines", "nodes", "ERROR", "MISSING", "parse µs"
    );
    println!(
        "|{:-<20}|{:-<40}|{:-<5}|{:-<7}|{:-<8}|{:-<9}|{:-<7}|{:-<9}|{:-<10}|",
        "", "", "", "", "", "", "", "", ""
    );
    for r in &rows {
        println!(
            "| {:<18} | {:<38} | {:>3} | {:>5} | {:>6} | {:>7} | {:>5} | {:>7} | {:>8} |",
            r.id, r.krate, r.abi, r.files, r.lines, r.nodes, r.errors, r.missing, r.micros
        );
    }
    let failed: Vec<&Row> = rows.iter().filter(|r| r.problem.is_some()).collect();
    for r in &failed {
        eprintln!(
            "FAIL {}: {}",
            r.id,
            r.problem.as_deref().unwrap_or_default()
        );
    }
    let ok = rows.len() - failed.len();
    println!("{ok}/{} languages ok", rows.len());
    Ok(failed.is_empty())
}
