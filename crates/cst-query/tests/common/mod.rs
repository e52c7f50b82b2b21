//! Shared by the differential tests: grammars, samples, peer-suite inputs,
//! and one function that checks a query on a source under many settings.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cst_bytecode::{Point, Symbols, TreeView, encode};
use cst_query::Query;
use cst_query::differential::{Settings, check};

pub struct Parsed {
    pub tree: tree_sitter::Tree,
    pub view: TreeView,
}

pub fn parse(id: &str, source: &[u8]) -> Parsed {
    let g = cst_grammars::by_id(id).unwrap();
    let mut parser = g.parser().unwrap();
    let tree = parser.parse(source, None).unwrap();
    let fp = g.fingerprint().unwrap().0;
    let bytes = encode(&tree, source, fp).unwrap();
    let symbols = Arc::new(Symbols::from_language(&g.language().unwrap(), fp));
    let view = TreeView::open(&bytes, symbols).unwrap();
    Parsed { tree, view }
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every sample file of grammar `id`.
pub fn samples(id: &str) -> Vec<Vec<u8>> {
    let dir = repo().join("corpora/samples").join(id);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// The inputs of a tree-sitter test corpus file (`=== name ===`, input,
/// `---`, expected tree): the inputs only.
pub fn corpus_inputs(text: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let is_header = |l: &str| l.len() >= 3 && l.trim_end().chars().all(|c| c == '=');
    let is_divider = |l: &str| l.len() >= 3 && l.trim_end().chars().all(|c| c == '-');
    let mut i = 0;
    while i < lines.len() {
        if is_header(lines[i]) {
            // name lines, then the closing header
            let mut j = i + 1;
            while j < lines.len() && !is_header(lines[j]) {
                j += 1;
            }
            let mut k = j + 1;
            while k < lines.len() && !is_divider(lines[k]) && !is_header(lines[k]) {
                k += 1;
            }
            if j < k && k <= lines.len() {
                let input = lines[j + 1..k].join("\n");
                out.push(input.trim_end_matches('\n').as_bytes().to_vec());
            }
            // skip the expected output
            while k < lines.len() && !is_header(lines[k]) {
                k += 1;
            }
            i = k;
        } else {
            i += 1;
        }
    }
    out
}

/// Inputs of the peer suite of `lang`, or `None` (with a message) when
/// `../shared` is absent; a failure then if `CI` is set.
pub fn peer_inputs(lang: &str) -> Option<Vec<Vec<u8>>> {
    let dir = repo()
        .join("../shared/peer-suites")
        .join(lang)
        .join("corpus");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        shared_input_absent(&dir, &format!("peer suite of {lang}"));
        return None;
    };
    let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        if let Ok(text) = std::fs::read_to_string(&p) {
            out.extend(corpus_inputs(&text));
        }
    }
    Some(out)
}

/// The settings every (query, source) pair is checked under: the whole
/// tree, byte and point ranges, containing ranges, small windows, start
/// depths, small match limits and a run on an inner node.
pub fn settings_for(source: &[u8], view: &TreeView) -> Vec<Settings> {
    let len = source.len();
    let lines = view.line_count();
    let mut out = vec![Settings::default()];
    out.push(Settings {
        byte_range: Some(len / 3..len / 2 + 1),
        ..Settings::default()
    });
    out.push(Settings {
        byte_range: Some(len / 2..len / 2),
        ..Settings::default()
    });
    out.push(Settings {
        point_range: Some(
            Point {
                row: lines / 4,
                column: 2,
            }..Point {
                row: lines / 2,
                column: 0,
            },
        ),
        ..Settings::default()
    });
    out.push(Settings {
        containing_byte_range: Some(len / 4..(3 * len) / 4),
        ..Settings::default()
    });
    out.push(Settings {
        containing_point_range: Some(
            Point { row: 1, column: 0 }..Point {
                row: lines.saturating_sub(1),
                column: 3,
            },
        ),
        byte_range: Some(len / 5..len),
        ..Settings::default()
    });
    // Windows, as an editor's viewport (the part outside them is left
    // unbuilt): a few bytes, a few rows, a containing window.
    out.push(Settings {
        byte_range: Some(len / 2..(len / 2 + 48).min(len)),
        ..Settings::default()
    });
    out.push(Settings {
        point_range: Some(
            Point {
                row: lines / 3,
                column: 0,
            }..Point {
                row: lines / 3 + 2,
                column: 5,
            },
        ),
        ..Settings::default()
    });
    out.push(Settings {
        containing_byte_range: Some(len / 3..(len / 3 + 200).min(len)),
        max_start_depth: Some(4),
        ..Settings::default()
    });
    for depth in [0, 1, 3] {
        out.push(Settings {
            max_start_depth: Some(depth),
            ..Settings::default()
        });
    }
    out.push(Settings {
        max_start_depth: Some(2),
        byte_range: Some(len / 2..len),
        ..Settings::default()
    });
    for limit in [1, 2, 8] {
        out.push(Settings {
            match_limit: Some(limit),
            ..Settings::default()
        });
    }
    if view.node_count() > 4 {
        out.push(Settings {
            node: Some(view.node_count() / 3),
            ..Settings::default()
        });
    }
    out
}

/// Checks `query` on `source` under every setting; panics with the first
/// difference. Returns (matches, captures) of the unrestricted run.
pub fn check_everywhere(what: &str, lang: &str, source: &[u8], query: &Query) -> (usize, usize) {
    let parsed = parse(lang, source);
    let mut counts = (0, 0);
    for (k, settings) in settings_for(source, &parsed.view).iter().enumerate() {
        match check(&parsed.tree, &parsed.view, source, query, settings) {
            Ok(c) => {
                if k == 0 {
                    counts = c;
                }
            }
            Err(d) => panic!("{what} ({lang}, {settings:?}): {d}"),
        }
    }
    counts
}

/// An input from `../shared` (beside the repository) is absent: with `CI`
/// set that is a failure, not a skip; elsewhere a loud SKIPPED line.
pub fn shared_input_absent(path: &std::path::Path, what: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!(
            "{what}: {} is absent, and CI is set: ../shared must sit beside the repository",
            path.display()
        );
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED: {what}: {} is absent !!!!!!!!\n",
        path.display()
    );
}
