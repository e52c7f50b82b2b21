//! The grammars' own test corpora (`../shared/peer-suites/<lang>/corpus`):
//! for every test, the decoded tree's `to_sexp()` must equal the live tree's,
//! in 100% of tests. Agreement with the expected output is reported
//! separately (differences there are grammar-version matters).
//! Skips with a message when `../shared` is absent (fails when `CI` is set).

use crate::common;

use std::path::Path;

pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) input: Vec<u8>,
    expected: String,
    pub(crate) skip: bool,
    error: bool,
}

fn header_suffix(line: &str) -> Option<&str> {
    let rest = line.trim_start_matches('=');
    (line.len() - rest.len() >= 3).then_some(rest)
}

fn is_header_line(line: &str, suffix: &str) -> bool {
    header_suffix(line) == Some(suffix)
}

/// Splits a corpus file into tests, following tree-sitter's test.rs rules.
pub(crate) fn parse_corpus(text: &[u8]) -> Vec<Case> {
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let s = |l: &[u8]| String::from_utf8_lossy(l).into_owned();
    let Some(suffix) = lines
        .iter()
        .find_map(|l| header_suffix(&s(l)).map(str::to_owned))
    else {
        return vec![];
    };
    // Header = header line, name lines (then attributes), closing header line.
    let header_at = |i: usize| -> Option<(usize, Vec<String>, Vec<String>)> {
        if !is_header_line(&s(lines[i]), &suffix) {
            return None;
        }
        let (mut names, mut attrs) = (Vec::new(), Vec::new());
        for (j, line) in lines.iter().enumerate().skip(i + 1) {
            let l = s(line);
            if is_header_line(&l, &suffix) {
                return (!names.is_empty()).then_some((j, names, attrs));
            }
            let t = l.trim();
            if t.starts_with(':') && !names.is_empty() {
                attrs.push(t.to_owned());
            } else if t.is_empty() {
                if attrs.is_empty() {
                    return None;
                }
            } else if attrs.is_empty() {
                names.push(t.to_owned());
            } else {
                return None;
            }
        }
        None
    };
    let mut headers = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some((close, names, attrs)) = header_at(i) {
            headers.push((i, close, names, attrs));
            i = close + 1;
        } else {
            i += 1;
        }
    }
    let mut cases = Vec::new();
    for (k, (_, close, names, attrs)) in headers.iter().enumerate() {
        let end = headers.get(k + 1).map_or(lines.len(), |h| h.0);
        let body = &lines[close + 1..end];
        // The longest divider wins; on ties the later one.
        let mut div: Option<(usize, usize)> = None;
        for (j, l) in body.iter().enumerate() {
            let l = s(l);
            let rest = l.trim_start_matches('-');
            if l.len() - rest.len() >= 3
                && rest == suffix
                && div.is_none_or(|(_, len)| l.len() >= len)
            {
                div = Some((j, l.len()));
            }
        }
        let Some((d, _)) = div else { continue };
        let mut input = body[..d].join(&b'\n');
        if input.last() == Some(&b'\r') {
            input.pop();
        }
        let expected = body[d + 1..]
            .iter()
            .map(|l| s(l))
            .collect::<Vec<_>>()
            .join("\n");
        cases.push(Case {
            name: names.join(" / "),
            input,
            expected,
            skip: attrs
                .iter()
                .any(|a| a == ":skip" || a == ":cst" || a.starts_with(":language(")),
            error: attrs.iter().any(|a| a == ":error"),
        });
    }
    cases
}

fn normalize(sexp: &str) -> String {
    let kept: Vec<&str> = sexp
        .lines()
        .filter(|l| !l.trim_start().starts_with(';'))
        .collect();
    let collapsed = kept
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    collapsed.replace(" )", ")")
}

fn strip_fields(sexp: &str) -> String {
    // Remove `word: ` prefixes.
    let mut out = String::with_capacity(sexp.len());
    for tok in sexp.split(' ') {
        if tok.ends_with(':')
            && tok[..tok.len() - 1]
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_')
            && tok.len() > 1
        {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(tok);
    }
    out
}

#[test]
fn peer_suites_decode_to_the_live_sexp() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peer-suites");
    if !root.exists() {
        common::shared_input_absent(&root, "peer suites decode to the live sexp");
        return;
    }
    let mut total = 0;
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for lang in [
        "bash",
        "c",
        "go",
        "html",
        "javascript",
        "json",
        "python",
        "rust",
    ] {
        let grammar = cst_grammars::by_id(lang).unwrap();
        if !grammar.is_compiled() {
            continue;
        }
        let mut files: Vec<_> = std::fs::read_dir(root.join(lang).join("corpus"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let (mut tests, mut agree, mut skipped) = (0, 0, 0);
        for file in files {
            for case in parse_corpus(&std::fs::read(&file).unwrap()) {
                if case.skip {
                    skipped += 1;
                    continue;
                }
                let p = common::parse(lang, &case.input);
                let live = p.tree.root_node().to_sexp();
                let decoded = p.view.root().to_sexp();
                tests += 1;
                if live != decoded {
                    failures.push(format!(
                        "{lang} {}: {}\n  live:    {live}\n  decoded: {decoded}",
                        file.display(),
                        case.name
                    ));
                    continue;
                }
                if let Err(m) = cst_bytecode::verify(&p.tree, &p.view) {
                    failures.push(format!("{lang} {}: verify: {m}", case.name));
                }
                let expected = normalize(&case.expected);
                let actual = if expected.contains(": (") {
                    decoded
                } else {
                    strip_fields(&decoded)
                };
                let matches = if case.error {
                    p.view.root().has_error()
                } else {
                    normalize(&actual) == expected
                };
                agree += usize::from(matches);
            }
        }
        total += tests;
        report.push(format!(
            "{lang}@{}: {tests} tests, decoded == live in all; {agree}/{tests} agree with the expected output ({skipped} skipped by attribute)",
            grammar.crate_version()
        ));
    }
    eprintln!("{}", report.join("\n"));
    assert!(
        failures.is_empty(),
        "{} of {total} tests decode differently from the live tree:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        total > 500,
        "only {total} tests found: the corpus parser is broken"
    );
}
