//! Tags from stored trees equal tree-sitter-tags' tags on the live parse,
//! field by field, for every language with a tags query (shipped by its
//! grammar crate or bundled by cst), on the smoke samples and on the
//! grammars' own test corpora in `../shared/peer-suites`.

use crate::common;

use cst_tags::differential::{Pair, check};

/// Every candidate tags query of a grammar, in the facade's order.
fn candidates(g: &cst_grammars::Grammar) -> Vec<(&'static str, &'static str)> {
    cst_tags::bundled::candidates(g.id(), g.queries().tags, g.queries().locals)
        .into_iter()
        .map(|(_, t, l)| (t, l))
        .collect()
}

/// The first candidate both engines accept (as the facade picks it).
fn queries(g: &cst_grammars::Grammar) -> Option<(&'static str, &'static str)> {
    let language = g.language().ok()?;
    candidates(g)
        .into_iter()
        .find(|(t, l)| Pair::new(&language, t, l).is_ok())
}

fn run(id: &str, inputs: &[Vec<u8>], pair: &Pair) -> (usize, usize) {
    let mut context = tree_sitter_tags::TagsContext::new();
    let (mut files, mut tags) = (0, 0);
    for source in inputs {
        let parsed = common::parse(id, source);
        match check(pair, &mut context, &parsed.view, source) {
            Ok(a) => tags += a.tags,
            Err(d) => panic!(
                "{id}: {d}\n--- source ---\n{}",
                String::from_utf8_lossy(source)
            ),
        }
        files += 1;
    }
    (files, tags)
}

#[test]
fn every_tags_query_agrees_with_tree_sitter_tags_on_the_samples() {
    let (mut langs, mut total, mut rejected) = (0, 0, 0);
    for g in cst_grammars::compiled() {
        let language = g.language().unwrap();
        let mut pair = None;
        for (tags, locals) in candidates(g) {
            match Pair::new(&language, tags, locals) {
                Ok(p) => {
                    pair = Some(p);
                    break;
                }
                // A shipped query tree-sitter-tags itself rejects (C#'s
                // `@module`, Swift's locals): cst rejects it the same way,
                // and the next candidate is tried.
                Err(e) if e.starts_with("both reject") => {
                    eprintln!("{}: {e}", g.id());
                    rejected += 1;
                }
                Err(e) => panic!("{}: {e}", g.id()),
            }
        }
        let Some(pair) = pair else { continue };
        let samples = common::samples(g.id());
        let (_, n) = run(g.id(), &samples, &pair);
        langs += 1;
        total += n;
    }
    // 31 grammars ship tags.scm; the bundled queries add more.
    eprintln!("{langs} languages agree, {total} tags; {rejected} queries rejected by both");
    let shipped = cst_grammars::compiled()
        .filter(|g| g.queries().tags.is_some())
        .count();
    let bundled_only = cst_tags::bundled::languages()
        .filter(|id| cst_grammars::by_id(id).is_some_and(|g| g.queries().tags.is_none()))
        .count();
    // Every language with a query gets tags; only C# and Swift ship a
    // query (or locals) that tree-sitter-tags rejects.
    assert_eq!(langs, shipped + bundled_only, "languages with tags");
    assert_eq!(rejected, 2, "shipped queries rejected");
    assert!(total > 1000, "only {total} tags over all samples");
}

#[test]
fn tags_agree_on_the_peer_suites() {
    let mut checked = 0;
    for lang in [
        "rust",
        "python",
        "javascript",
        "go",
        "c",
        "bash",
        "html",
        "json",
    ] {
        let g = cst_grammars::by_id(lang).unwrap();
        let Some((tags, locals)) = queries(g) else {
            eprintln!("{lang}: no tags query");
            continue;
        };
        let Some(inputs) = common::peer_inputs(lang) else {
            continue;
        };
        let pair = Pair::new(&g.language().unwrap(), tags, locals).unwrap();
        let (files, n) = run(lang, &inputs, &pair);
        eprintln!("{lang}: {files} inputs, {n} tags, 0 differences");
        checked += files;
    }
    if checked == 0 {
        eprintln!("SKIPPED: no peer suite found (../shared/peer-suites)");
    }
}

#[test]
fn locals_suppress_references() {
    // Ruby ships locals.scm and a call pattern with `(#is-not? local)`; a
    // method scope does not inherit (`local.scope-inherits false`).
    let g = cst_grammars::by_id("ruby").unwrap();
    let (tags, locals) = queries(g).unwrap();
    let pair = Pair::new(&g.language().unwrap(), tags, locals).unwrap();
    let source = b"x = 1\ndef foo(a)\n  b = a\n  b\n  bar\n  x\nend\n";
    let parsed = common::parse("ruby", source);
    let ours = pair.ours.tags(parsed.view.root(), source).unwrap();
    let names: Vec<(String, &str, bool)> = ours
        .iter()
        .map(|t| {
            let kind = pair.ours.syntax_type_name(t.syntax_type_id);
            (t.name(source).into_owned(), kind, t.is_definition)
        })
        .collect();
    assert!(names.contains(&("foo".into(), "method", true)), "{names:?}");
    assert!(names.contains(&("bar".into(), "call", false)), "{names:?}");
    // `x` is local to the top level only: the method does not inherit it.
    assert!(names.contains(&("x".into(), "call", false)), "{names:?}");
    // `a` and `b` are locals of the method: no reference tags.
    assert!(!names.iter().any(|n| n.0 == "a" || n.0 == "b"), "{names:?}");
    let mut context = tree_sitter_tags::TagsContext::new();
    assert_eq!(
        check(&pair, &mut context, &parsed.view, source),
        Ok(cst_tags::differential::Agreement {
            tags: ours.len(),
            leaked_placeholders: 0
        })
    );
}

#[test]
fn docs_are_selected_adjacent_and_stripped() {
    let g = cst_grammars::by_id("javascript").unwrap();
    let (tags, locals) = queries(g).unwrap();
    let pair = Pair::new(&g.language().unwrap(), tags, locals).unwrap();
    let source = b"// Far.\n\n// Adds.\n// Twice.\nfunction add(a, b) { return a + b; }\n";
    let parsed = common::parse("javascript", source);
    let ours = pair.ours.tags(parsed.view.root(), source).unwrap();
    let add = ours.iter().find(|t| t.name(source) == "add").unwrap();
    assert!(add.is_definition);
    assert_eq!(add.docs.as_deref(), Some("Adds.\nTwice."));
    assert_eq!(add.line(source), "function add(a, b) { return a + b; }");
    assert_eq!(add.span.start.row, 4);
    let mut context = tree_sitter_tags::TagsContext::new();
    assert_eq!(
        check(&pair, &mut context, &parsed.view, source),
        Ok(cst_tags::differential::Agreement {
            tags: ours.len(),
            leaked_placeholders: 0
        })
    );
}
