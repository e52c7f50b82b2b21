//! The smoke matrix under `cargo test`: every sample of every compiled
//! language parses with no ERROR and no MISSING node, and every compiled
//! language has a sample (`corpora/samples/<id>/`).

use std::path::Path;

use cst_grammars::smoke::check_sample;

#[test]
fn every_compiled_language_has_a_clean_sample() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora/samples");
    let mut failures = Vec::new();
    let mut ok = 0;
    for g in cst_grammars::compiled() {
        let files: Vec<_> = match std::fs::read_dir(samples.join(g.id())) {
            Ok(rd) => rd
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .collect(),
            Err(_) => Vec::new(),
        };
        if files.is_empty() {
            failures.push(format!("{}: no sample", g.id()));
            continue;
        }
        let mut clean = true;
        for path in files {
            let source = std::fs::read(&path).unwrap();
            let report = check_sample(g, &source).unwrap();
            if report.lines < 30 {
                failures.push(format!(
                    "{}: {} has {} lines (< 30)",
                    g.id(),
                    path.display(),
                    report.lines
                ));
                clean = false;
            }
            if let Some((row, col)) = report.first_problem {
                failures.push(format!(
                    "{}: {} has {} ERROR / {} MISSING nodes, first at {}:{}",
                    g.id(),
                    path.display(),
                    report.errors,
                    report.missing,
                    row + 1,
                    col + 1
                ));
                clean = false;
            }
        }
        ok += usize::from(clean);
    }
    assert!(
        failures.is_empty(),
        "{} languages ok; failures:\n{}",
        ok,
        failures.join("\n")
    );
}

#[test]
fn a_broken_sample_is_reported() {
    let rust = cst_grammars::by_id("rust").unwrap();
    if !rust.is_compiled() {
        return;
    }
    let report = check_sample(rust, b"fn main() { let x = ; }\n").unwrap();
    assert!(!report.is_clean());
    assert!(report.first_problem.is_some());
    let clean = check_sample(rust, b"fn main() {}\n").unwrap();
    assert!(clean.is_clean());
    assert_eq!(clean.lines, 1);
    assert_eq!(clean.root_kind, "source_file");
}
