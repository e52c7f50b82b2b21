//! Property tests: queries generated from a grammar's node kinds, supertypes
//! and fields (nodes, fields, negated fields, anonymous nodes, wildcards,
//! ERROR, MISSING, alternations, groups, anchors, quantifiers, captures,
//! predicates) × code-like text (cuts and splices of the smoke samples) and
//! garbage, in rust, python, javascript, c, json and go, under random
//! cursor settings. Both compilers must agree (error kind and offset), then
//! both engines, result for result. `PROPTEST_CASES` scales the run.
//! Also replays the `query` fuzz target's findings and seeds.

use crate::common;

use std::path::Path;
use std::sync::OnceLock;

use cst_query::differential::Settings;
use cst_query::fuzzing::{
    Choices, Lang, compare, generate_query, generate_settings, query_and_compare,
};
use proptest::prelude::*;

const LANGS: &[&str] = &["rust", "python", "javascript", "c", "json", "go"];

fn langs() -> &'static Vec<Lang> {
    static L: OnceLock<Vec<Lang>> = OnceLock::new();
    L.get_or_init(|| {
        LANGS
            .iter()
            .map(|id| {
                let g = cst_grammars::by_id(id).unwrap();
                Lang::new(g.language().unwrap(), g.fingerprint().unwrap().0)
            })
            .collect()
    })
}

fn samples() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        LANGS
            .iter()
            .map(|id| common::samples(id).concat())
            .collect()
    })
}

/// Code-like text: a slice of the language's sample, sometimes with a cut
/// spliced in from elsewhere (unbalanced brackets, half tokens).
fn code_like(lang: usize, a: usize, b: usize, splice: Option<(usize, usize)>) -> Vec<u8> {
    let s = &samples()[lang];
    if s.is_empty() {
        return Vec::new();
    }
    let start = a % s.len();
    let end = (start + 1 + b % 1500).min(s.len());
    let mut out = s[start..end].to_vec();
    if let Some((x, y)) = splice {
        let at = x % (out.len() + 1);
        let from = y % s.len();
        let piece = &s[from..(from + 40).min(s.len())];
        out.splice(at..at, piece.iter().copied());
    }
    out
}

fn garbage() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            Just(b'('),
            Just(b')'),
            Just(b'{'),
            Just(b'}'),
            Just(b'['),
            Just(b']'),
            Just(b';'),
            Just(b','),
            Just(b'"'),
            Just(b'\n'),
            Just(b' '),
            Just(b'='),
            b'a'..=b'z',
            b'0'..=b'9',
            any::<u8>(),
        ],
        0..200,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300),
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_queries_on_code(
        lang in 0..LANGS.len(),
        choices in proptest::collection::vec(any::<u8>(), 64..256),
        a in any::<usize>(),
        b in any::<usize>(),
        splice in proptest::option::of((any::<usize>(), any::<usize>())),
    ) {
        let l = &langs()[lang];
        let mut c = Choices::new(&choices);
        let query = generate_query(&l.vocabulary, &mut c);
        let source = code_like(lang, a, b, splice);
        let lines = source.iter().filter(|&&x| x == b'\n').count() + 1;
        let settings = generate_settings(&mut c, source.len(), lines);
        compare(l, &query, &source, &settings);
    }

    #[test]
    fn generated_queries_on_garbage(
        lang in 0..LANGS.len(),
        choices in proptest::collection::vec(any::<u8>(), 64..256),
        source in garbage(),
    ) {
        let l = &langs()[lang];
        let mut c = Choices::new(&choices);
        let query = generate_query(&l.vocabulary, &mut c);
        let lines = source.iter().filter(|&&x| x == b'\n').count() + 1;
        let settings = generate_settings(&mut c, source.len(), lines);
        compare(l, &query, &source, &settings);
    }
}

/// Enough generated queries compile for the property tests to mean
/// something (the rest are rejected identically by both compilers).
#[test]
fn generated_queries_mostly_compile() {
    let mut compiled = 0;
    for seed in 0..400u32 {
        let lang = seed as usize % LANGS.len();
        let bytes: Vec<u8> = (0..200u32)
            .map(|i| (seed.wrapping_mul(2654435761).wrapping_add(i * 40503) >> 13) as u8)
            .collect();
        let l = &langs()[lang];
        let query = generate_query(&l.vocabulary, &mut Choices::new(&bytes));
        if compare(l, &query, b"", &Default::default()) {
            compiled += 1;
        }
    }
    assert!(
        compiled >= 100,
        "only {compiled} of 400 generated queries compiled"
    );
}

/// Every input the `query` fuzz target crashed on, and its seed corpus.
#[test]
fn fuzz_regressions_and_seeds_replay() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut n = 0;
    for kind in ["regressions", "corpus"] {
        let Ok(dir) = std::fs::read_dir(fuzz.join(kind).join("query")) else {
            continue;
        };
        let mut paths: Vec<_> = dir.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for p in paths {
            if p.file_name().unwrap().to_string_lossy().starts_with('.') {
                continue;
            }
            query_and_compare(&std::fs::read(&p).unwrap(), langs());
            n += 1;
        }
    }
    eprintln!("replayed {n} query fuzz inputs");
}

/// Ruby's heredoc bodies lie past the end of the nodes that hold them, so
/// a subtree inside a range can still hold a node outside it: repetitions
/// deferred at the root under every byte range that ends inside such a
/// file give what tree-sitter gives.
#[test]
fn ranges_over_heredocs_keep_deferred_matches_as_tree_sitter() {
    let g = cst_grammars::by_id("ruby").unwrap();
    let ruby = Lang::new(g.language().unwrap(), g.fingerprint().unwrap().0);
    let source = b"foo(<<~EOS, bar(1))\n  body #{x}\nEOS\nbaz(<<-A, <<-B)\n a\nA\n b\nB\nqux\n";
    for query in [
        "((program)+ @p)",
        "(program)+ @p",
        "((call)+ @c)",
        "((_)+ @c)",
        "((heredoc_body)+ @h)",
    ] {
        for end in 0..=source.len() {
            for start in [0, end / 2] {
                let s = Settings {
                    byte_range: Some(start..end),
                    ..Default::default()
                };
                assert!(compare(&ruby, query, source, &s), "{query} compiles");
            }
        }
    }
}

/// Found by `generated_queries_on_garbage`: a repetition matched at the
/// root is deferred (it might grow), and tree-sitter finishes it when the
/// walk leaves the root. A range that ends before the root's last (hidden)
/// child makes tree-sitter step over that child without descending, and
/// its climb back to the root then runs as if on a hidden node: the root
/// is never left as a visible node and the deferred match is dropped. cst
/// passed over the lazy ERROR subtree as a whole and finished the match.
#[test]
fn a_range_ending_before_a_hidden_last_child_drops_deferred_matches() {
    let json = &langs()[LANGS.iter().position(|&l| l == "json").unwrap()];
    let source = b"((((}(((,\n{[";
    let point = |row, column| cst_query::Point { row, column };
    let mut settings: Vec<Settings> = [0..11, 2..5, 0..12, 11..12]
        .into_iter()
        .map(|r| Settings {
            byte_range: Some(r),
            ..Default::default()
        })
        .collect();
    settings.push(Settings {
        point_range: Some(point(0, 0)..point(1, 1)),
        ..Default::default()
    });
    settings.push(Settings {
        containing_byte_range: Some(0..11),
        ..Default::default()
    });
    for depth in 0..3 {
        settings.push(Settings {
            max_start_depth: Some(depth),
            ..Default::default()
        });
    }
    for query in [
        "((document)+ @c0)",
        "(document)+ @c0",
        "((_)+ @c0)",
        "((document)* @c0)",
        "((document) @c0)",
        "(ERROR)+ @e",
    ] {
        for s in &settings {
            assert!(compare(json, query, source, s), "{query} compiles");
        }
    }
}
