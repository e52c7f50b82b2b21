//! cst-query against tree_sitter::QueryCursor: every query the compiled
//! grammars ship (highlights, tags, locals, injections) on every smoke
//! sample, and on the peer suites' inputs, under many cursor settings.
//! Result for result, in order, in matches and captures mode.

use crate::common;

use cst_query::Query;

type Shipped = (&'static str, &'static str);

fn shipped(g: &cst_grammars::Grammar) -> Vec<Shipped> {
    let q = g.queries();
    [
        ("highlights", q.highlights),
        ("tags", q.tags),
        ("locals", q.locals),
        ("injections", q.injections),
    ]
    .into_iter()
    .filter_map(|(n, s)| s.map(|s| (n, s)))
    .collect()
}

/// Compiles a shipped query; `None` (said) when tree-sitter itself rejects
/// it against our grammar version.
fn compile(g: &cst_grammars::Grammar, name: &str, source: &str) -> Option<Query> {
    let language = g.language().unwrap();
    match Query::new(&language, source) {
        Ok(q) => Some(q),
        Err(e) => {
            // The rejection must be tree-sitter's own.
            assert!(
                tree_sitter::Query::new(&language, source).is_err(),
                "{} {name}: cst rejects what tree-sitter accepts: {e}",
                g.id()
            );
            eprintln!("{} {name}: tree-sitter rejects it: {e}", g.id());
            None
        }
    }
}

#[test]
fn shipped_queries_on_samples() {
    let (mut queries, mut files, mut matches, mut captures) = (0, 0, 0, 0);
    for g in cst_grammars::compiled() {
        let qs = shipped(g);
        if qs.is_empty() {
            continue;
        }
        let samples = common::samples(g.id());
        for (name, source) in qs {
            let Some(query) = compile(g, name, source) else {
                continue;
            };
            queries += 1;
            for sample in &samples {
                let (m, c) =
                    common::check_everywhere(&format!("{} {name}", g.id()), g.id(), sample, &query);
                files += 1;
                matches += m;
                captures += c;
            }
        }
    }
    eprintln!(
        "{queries} queries, {files} query x sample pairs, {matches} matches, {captures} captures, 0 differences"
    );
    assert!(queries > 50, "only {queries} shipped queries compiled");
    assert!(matches > 1000 && captures > 1000);
}

/// The languages with a peer suite in `../shared/peer-suites`.
const PEER_SUITES: [&str; 8] = [
    "rust",
    "python",
    "javascript",
    "c",
    "go",
    "json",
    "bash",
    "html",
];

#[test]
fn shipped_queries_on_peer_suites() {
    let mut checked = 0;
    for lang in PEER_SUITES {
        let Some(inputs) = common::peer_inputs(lang) else {
            return;
        };
        let g = cst_grammars::by_id(lang).unwrap();
        for (name, source) in shipped(g) {
            let Some(query) = compile(g, name, source) else {
                continue;
            };
            for input in &inputs {
                common::check_everywhere(
                    &format!("{lang} {name} (peer suite)"),
                    lang,
                    input,
                    &query,
                );
                checked += 1;
            }
        }
    }
    eprintln!("{checked} query x peer-suite input pairs, 0 differences");
    assert!(checked > 500);
}

/// A predicate written after its pattern's closing paren is a pattern of
/// its own with no node (as in aider's hcl tags query): compiled and run as
/// tree-sitter does (a program with two end markers in a row).
#[test]
fn predicate_only_patterns() {
    let source = "fn a() {} fn b() { a(); }";
    let query_source =
        "(function_item name: (identifier) @name) (#eq? @name \"a\")\n(call_expression) @call";
    let g = cst_grammars::by_id("rust").unwrap();
    let query = Query::new(&g.language().unwrap(), query_source).unwrap();
    assert_eq!(query.pattern_count(), 3);
    let (matches, _) =
        common::check_everywhere("predicate-only pattern", "rust", source.as_bytes(), &query);
    assert!(matches >= 2, "{matches} matches");
}

/// The lending methods (`next_match`, `next_capture`) return what the
/// iterators return, match for match, with predicates (rust's highlights
/// have `#match?`), a match limit and a window; the match limit flag too.
#[test]
fn lending_methods_return_what_the_iterators_return() {
    use cst_query::QueryCursor;
    let mut checked = 0;
    for id in ["rust", "c", "python", "javascript"] {
        let g = cst_grammars::by_id(id).unwrap();
        let language = g.language().unwrap();
        for (name, source) in shipped(g) {
            let query = Query::new(&language, source).unwrap();
            for sample in common::samples(id) {
                let parsed = common::parse(id, &sample);
                let root = parsed.view.root();
                let len = sample.len();
                for setting in 0..3 {
                    let cursor = || {
                        let mut c = QueryCursor::new();
                        match setting {
                            1 => c.set_match_limit(2),
                            2 => {
                                c.set_byte_range(len / 3..len / 3 + 300);
                            }
                            _ => {}
                        }
                        c
                    };
                    let (mut a, mut b) = (cursor(), cursor());
                    let owned: Vec<_> = a.matches(&query, root, &sample).unwrap().collect();
                    let mut lent = Vec::new();
                    let mut it = b.matches(&query, root, &sample).unwrap();
                    while let Some(m) = it.next_match() {
                        lent.push(m.clone());
                    }
                    drop(it);
                    assert_eq!(owned, lent, "{id} {name} matches, setting {setting}");
                    assert_eq!(a.did_exceed_match_limit(), b.did_exceed_match_limit());
                    let (mut a, mut b) = (cursor(), cursor());
                    let owned: Vec<_> = a.captures(&query, root, &sample).unwrap().collect();
                    let mut lent = Vec::new();
                    let mut it = b.captures(&query, root, &sample).unwrap();
                    while let Some((m, i)) = it.next_capture() {
                        lent.push((m.clone(), i));
                    }
                    drop(it);
                    assert_eq!(owned, lent, "{id} {name} captures, setting {setting}");
                    assert_eq!(a.did_exceed_match_limit(), b.did_exceed_match_limit());
                    checked += owned.len();
                }
            }
        }
    }
    assert!(checked > 1000, "{checked} captures compared");
}

/// One cursor of each engine runs a sequence of executions, each with
/// other settings than the last (a lower match limit after a higher one,
/// ranges, a subtree, a start depth, and back): a reused cursor keeps its
/// buffers and capture lists from one execution to the next, as
/// tree-sitter's does, and answers as tree-sitter's reused cursor answers.
#[test]
fn reused_cursors_answer_as_tree_sitter_s() {
    use cst_query::differential::{Settings, compare, run_cst_on, run_tree_sitter_on};
    let (mut runs, mut results) = (0, 0);
    for id in ["rust", "c", "python", "javascript", "go"] {
        let g = cst_grammars::by_id(id).unwrap();
        for (name, source) in shipped(g) {
            let Some(query) = compile(g, name, source) else {
                continue;
            };
            let (mut ts, mut cst) = (
                tree_sitter::QueryCursor::new(),
                cst_query::QueryCursor::new(),
            );
            for sample in common::samples(id) {
                let parsed = common::parse(id, &sample);
                let len = sample.len();
                let nodes = parsed.view.node_count();
                let sequence = [
                    Settings::default(),
                    Settings {
                        match_limit: Some(2),
                        ..Settings::default()
                    },
                    Settings {
                        match_limit: Some(64),
                        ..Settings::default()
                    },
                    Settings {
                        match_limit: Some(1),
                        byte_range: Some(len / 4..len / 4 + 400),
                        ..Settings::default()
                    },
                    Settings {
                        node: Some(nodes / 3),
                        ..Settings::default()
                    },
                    Settings {
                        containing_byte_range: Some(len / 5..len / 2),
                        ..Settings::default()
                    },
                    Settings {
                        max_start_depth: Some(2),
                        ..Settings::default()
                    },
                    Settings::default(),
                ];
                for (step, s) in sequence.iter().enumerate() {
                    let a = run_tree_sitter_on(&mut ts, &parsed.tree, &sample, &query, s);
                    let b = run_cst_on(&mut cst, &parsed.view, &sample, &query, s).unwrap();
                    if let Err(d) = compare(&a, &b) {
                        panic!("{id} {name}, step {step} ({s:?}) of a reused cursor: {d}");
                    }
                    runs += 1;
                    results += a.matches.len() + a.captures.len();
                }
            }
        }
    }
    eprintln!("{runs} executions on reused cursors, {results} results, 0 differences");
    assert!(
        runs > 50 && results > 10_000,
        "{runs} runs, {results} results"
    );
}

/// A pattern that needs a node of a kind the tree does not hold (a child,
/// a grandchild) starts nowhere in matches mode (its start kind is left
/// out of the candidates); its results and every other pattern's stay
/// tree-sitter's, in both modes and every setting, in a tree without that
/// kind and in one with it.
#[test]
fn patterns_needing_an_absent_kind() {
    let query_source = "(declaration type: (union_specifier name: (type_identifier) @name)) @union\n\
        (function_declarator declarator: (identifier) @name) @function\n\
        (init_declarator value: (number_literal) @value)\n\
        (function_definition body: (compound_statement (goto_statement) @goto)) @jumps";
    let g = cst_grammars::by_id("c").unwrap();
    let query = Query::new(&g.language().unwrap(), query_source).unwrap();
    let without = "int f(int a) { int x = 1; int y; char *s = \"u\"; return x + a; }\n\
        static int g(void) { long z = 2; for (int i = 0; i < 3; i++) { int w = i; } return 0; }\n";
    let with = format!(
        "{without}union u {{ int a; float b; }} v;\nunion w {{ int c; }};\nint h(void) {{ goto out; out: return 1; }}\n"
    );
    let (m1, _) = common::check_everywhere("no union, no goto", "c", without.as_bytes(), &query);
    let (m2, _) = common::check_everywhere("unions and a goto", "c", with.as_bytes(), &query);
    assert!(m1 >= 4, "{m1} matches");
    assert!(m2 > m1, "{m2} matches with unions and a goto, {m1} without");
}

/// Patterns whose states wait through deep subtrees (a member of a class
/// body, Swift's tags query has them): the states are often those a
/// longest-match pass that changed nothing left, at a node no state can
/// take and at one where four or more states are in progress, and the pass
/// is not run again (both skips run here). Patterns also start inside
/// those subtrees (locals), so the walk goes through them, with states
/// added and finished between such nodes; impls nested in function bodies,
/// alternations (several states of one pattern), every setting of
/// `check_everywhere`, both modes, against tree-sitter.
#[test]
fn states_waiting_through_deep_subtrees() {
    let query_source = "(impl_item body: (declaration_list [(function_item name: (identifier) @name) \
        (const_item name: (identifier) @name) (type_item name: (type_identifier) @name)])) @member\n\
        (impl_item body: (declaration_list (function_item name: (identifier) @first) . \
        (function_item name: (identifier) @second))) @pair\n\
        (let_declaration pattern: (identifier) @local)";
    let g = cst_grammars::by_id("rust").unwrap();
    let query = Query::new(&g.language().unwrap(), query_source).unwrap();
    let text = "impl A {\n    const N: u8 = 1;\n    fn f(&self) -> u32 {\n        let x = 1;\n        \
        if x > 0 { let y = [x, 2, 3].iter().map(|v| v * 2).sum::<u32>(); return y; }\n        \
        loop { match x { 1 => break, _ => { let z = (x, x); } } }\n        x\n    }\n    \
        fn g() {\n        struct L;\n        impl L { fn h() { let w = 5; } type T = u8; }\n        \
        let q = || { let r = 1; r + 1 };\n    }\n    type U = i64;\n}\n\
        fn free() { let a = vec![1, 2, 3]; for b in a { let c = b * 2; } }\n";
    let (matches, captures) =
        common::check_everywhere("impls with deep bodies", "rust", text.as_bytes(), &query);
    assert!(matches >= 10, "{matches} matches");
    assert!(captures > matches, "{captures} captures, {matches} matches");
}

/// Steps naming a supertype, on walk trees without hidden nodes where no
/// span of the tree has a supertype's symbol (a node's wrappers then hold
/// every supertype above it), and with them where one does: every supertype
/// of every compiled grammar that has them, as a pattern's node and as a
/// child, on every sample and peer-suite input, every setting of
/// `check_everywhere` (those with ranges or a start depth walk the hidden
/// nodes), both modes, against tree-sitter. (No input of the samples, the
/// peer suites or the ci tier has a supertype span: the fallback is the
/// walk with hidden nodes every ranged execution takes.)
#[test]
fn supertype_steps_with_and_without_hidden_walk_nodes() {
    let (mut without, mut with, mut matches) = (0, 0, 0);
    for g in cst_grammars::compiled() {
        let language = g.language().unwrap();
        let supertypes = language.supertypes();
        let source: String = supertypes
            .iter()
            .filter_map(|&s| language.node_kind_for_id(s))
            .map(|name| format!("({name}) @node\n(_ ({name}) @child) @parent\n"))
            .collect();
        if source.is_empty() {
            continue;
        }
        let query = Query::new(&language, &source)
            .unwrap_or_else(|e| panic!("{}: {e:?}\n{source}", g.id()));
        let mut inputs = common::samples(g.id());
        if PEER_SUITES.contains(&g.id()) {
            inputs.extend(common::peer_inputs(g.id()).unwrap_or_default());
        }
        for input in inputs {
            let parsed = common::parse(g.id(), &input);
            let supertype_span = parsed
                .view
                .hidden_spans()
                .symbols()
                .any(|s| supertypes.contains(&s));
            let (m, _) = common::check_everywhere("supertypes", g.id(), &input, &query);
            matches += m;
            match supertype_span {
                true => with += 1,
                false => without += 1,
            }
        }
    }
    eprintln!("{matches} matches; {without} trees without a supertype span, {with} with");
    assert!(
        without > 0,
        "{without} trees without a supertype span, {with} with"
    );
    assert!(matches > 1000, "{matches} matches");
}

/// An iterator whose byte or point range is narrowed while it runs (after
/// no result, one, a third or half of them; to a quarter of the text or to
/// one byte), with every third match removed on the way, answers as
/// tree-sitter's: an execution that started on the whole tree may leave the
/// hidden nodes out of its walk (they change nothing there), and is run
/// again with them when its range changes. Every shipped query on every
/// sample and on the peer suites' inputs, both modes.
#[test]
fn ranges_changed_while_iterating() {
    let mut compared = 0;
    for g in cst_grammars::compiled() {
        let mut inputs = common::samples(g.id());
        if PEER_SUITES.contains(&g.id()) {
            inputs.extend(common::peer_inputs(g.id()).unwrap_or_default());
        }
        for (name, source) in shipped(g) {
            let Some(query) = compile(g, name, source) else {
                continue;
            };
            for input in &inputs {
                compared += range_change(g.id(), name, &query, input);
            }
        }
    }
    eprintln!("{compared} results compared, 0 differences");
    // (Over 600,000 with the peer suites; the samples alone give fewer.)
    assert!(compared > 10_000, "{compared} results compared");
}

/// [`ranges_changed_while_iterating`] for one query and text: the number
/// of results compared.
fn range_change(id: &str, name: &str, query: &Query, text: &[u8]) -> usize {
    use tree_sitter::StreamingIterator;
    type Seen = Vec<(usize, u32, usize, usize, u16)>;
    let parsed = common::parse(id, text);
    let (len, rows) = (text.len(), text.iter().filter(|&&b| b == b'\n').count());
    let total = {
        let mut c = tree_sitter::QueryCursor::new();
        let mut it = c.captures(query.inner(), parsed.tree.root_node(), text);
        let mut n = 0;
        while it.next().is_some() {
            n += 1;
        }
        n
    };
    let mut compared = 0;
    for after in [0, 1, total / 3, total / 2] {
        for window in 0..4 {
            // Bytes or rows: a quarter of the text from a third in, or one.
            let (points, wide) = (window % 2 == 1, window < 2);
            let bytes = if wide {
                len / 3..len / 3 + len / 4 + 1
            } else {
                len / 2..len / 2 + 1
            };
            let rows = if wide {
                rows / 3..rows / 3 + rows / 4 + 1
            } else {
                rows / 2..rows / 2 + 1
            };
            let ts_points =
                tree_sitter::Point::new(rows.start, 0)..tree_sitter::Point::new(rows.end, 0);
            let cst_points = cst_bytecode::Point {
                row: rows.start,
                column: 0,
            }..cst_bytecode::Point {
                row: rows.end,
                column: 0,
            };
            for captures in [false, true] {
                let (mut ts, mut ours): (Seen, Seen) = (Vec::new(), Vec::new());
                let mut c = tree_sitter::QueryCursor::new();
                let root = parsed.tree.root_node();
                if captures {
                    let mut it = c.captures(query.inner(), root, text);
                    for k in 0.. {
                        if k == after {
                            match points {
                                true => it.set_point_range(ts_points.clone()),
                                false => it.set_byte_range(bytes.clone()),
                            }
                        }
                        let Some((m, i)) = it.next() else { break };
                        let (c, n) = (m.captures[*i], m.captures[*i].node);
                        ts.push((
                            m.pattern_index,
                            c.index,
                            n.start_byte(),
                            n.end_byte(),
                            n.kind_id(),
                        ));
                        if m.id() % 3 == 0 {
                            m.remove();
                        }
                    }
                } else {
                    let mut it = c.matches(query.inner(), root, text);
                    for k in 0.. {
                        if k == after {
                            match points {
                                true => it.set_point_range(ts_points.clone()),
                                false => it.set_byte_range(bytes.clone()),
                            }
                        }
                        let Some(m) = it.next() else { break };
                        for c in m.captures {
                            let n = c.node;
                            ts.push((
                                m.pattern_index,
                                c.index,
                                n.start_byte(),
                                n.end_byte(),
                                n.kind_id(),
                            ));
                        }
                    }
                }
                let mut c = cst_query::QueryCursor::new();
                let root = parsed.view.root();
                if captures {
                    let mut it = c.captures(query, root, text).unwrap();
                    for k in 0.. {
                        if k == after {
                            match points {
                                true => it.set_point_range(cst_points.clone()),
                                false => it.set_byte_range(bytes.clone()),
                            }
                        }
                        let Some((m, i)) = it.next() else { break };
                        let (c, n) = (&m.captures[i], m.captures[i].node);
                        ours.push((
                            m.pattern_index,
                            c.index,
                            n.start_byte(),
                            n.end_byte(),
                            c.kind_id,
                        ));
                        if m.id() % 3 == 0 {
                            it.remove_match(m.id());
                        }
                    }
                } else {
                    let mut it = c.matches(query, root, text).unwrap();
                    for k in 0.. {
                        if k == after {
                            match points {
                                true => it.set_point_range(cst_points.clone()),
                                false => it.set_byte_range(bytes.clone()),
                            }
                        }
                        let Some(m) = it.next() else { break };
                        for c in &m.captures {
                            ours.push((
                                m.pattern_index,
                                c.index,
                                c.node.start_byte(),
                                c.node.end_byte(),
                                c.kind_id,
                            ));
                        }
                    }
                }
                assert_eq!(
                    ts,
                    ours,
                    "{id} {name}: range changed after {after} results (window {window}, captures: {captures}) on {:?}",
                    String::from_utf8_lossy(&text[..text.len().min(200)])
                );
                compared += ts.len();
            }
        }
    }
    compared
}
