//! tree-sitter's own query tests (`crates/cli/src/tests/query_test.rs` of
//! the tree-sitter repository, 0.26), ported: the same languages, queries,
//! sources and cursor settings, run with both `tree_sitter::QueryCursor` (on
//! the live tree) and cst-query (on the stored view), which must agree result
//! for result, in matches and captures mode. Nothing is hard-coded: the
//! oracle is tree-sitter, run in the same test. Each case is also run under
//! extra settings of this port's own (the common sweep,
//! `common::settings_for`).
//!
//! KNOWN DIFFERENCE (storage, not the query engine; one upstream test): a
//! tree parsed with included ranges whose points disagree with its text
//! keeps those points in tree-sitter, while a stored view computes points
//! from the text; there, point-range settings select other nodes. The test
//! is marked (`known_difference`), reports it without failing, fails once it
//! no longer shows, and checks that `cst_bytecode::verify` reports the
//! stored tree's points as differing (the format says so loudly). A
//! regression found while porting (hidden named nodes outside a range) is
//! `hidden_named_nodes_outside_range`.
//!
//! Query-compilation tests (errors, impossible patterns, metadata) check that
//! `cst_query::Query::new` succeeds exactly when `tree_sitter::Query::new`
//! does, with the same error (kind, offset, row, column, message), and that
//! the query metadata (captures, quantifiers, pattern ranges, rootedness,
//! non-locality, predicates, properties, guaranteed steps at every offset)
//! is the same.
//!
//! One Rust test per upstream test, with the upstream name; a failure names
//! the upstream test and the case number within it.
//!
//! Not ported (the API or the grammar does not exist here):
//! - test_grammar_with_aliased_literal_query: generates a grammar at test time (tree-sitter-generate and a C compiler); cst-grammars has no such grammar.
//! - test_query_with_anonymous_error_node: uses the `anonymous_error` test-fixture grammar, which cst-grammars does not have.
//! - test_query_assertion_on_unreachable_node_with_child: generates a grammar at test time; not in cst-grammars.
//! - test_query_supertype_with_anonymous_node: generates a grammar at test time; not in cst-grammars.
//!
//! Ported in part (the inputs are checked; one aspect has no cst counterpart):
//! - test_query_random: upstream draws patterns with its `rand`-based helper and checks them against a naive matcher; here an analogous deterministic generator draws patterns from a Rust source and checks them differentially (same match limit, 64).
//! - test_query_captures_within_byte_range_assigned_after_iterating: both ranges from the start here; the running iterator is narrowed after five captures, as upstream does, in `..._driven`.
//! - test_query_captures_with_matches_removed: without removals here; with `remove_match` during iteration, as upstream, in `..._driven`.
//! - test_query_captures_with_matches_removed_before_they_finish: likewise (`..._driven`).
//! - test_query_text_callback_returns_chunks: cst takes the source as one slice, not a chunked `TextProvider`; the predicates are checked on the contiguous source.
//! - test_query_execution_with_timeout: cst has no progress callback (`matches_with_options`); the uninterrupted run is checked.
//! - test_query_lifetime_is_separate_from_nodes_lifetime: a compile-time property of tree-sitter's API; only the query and source are checked.
#![cfg(feature = "differential")]

use crate::common;

use std::fmt::Write as _;
use std::sync::Arc;

use common::Parsed;
use cst_bytecode::{Symbols, TreeView, encode};
use cst_query::differential::{Cap, Settings, check, run_tree_sitter};
use cst_query::{Point, Query, QueryCursor};
use tree_sitter::StreamingIterator;

// ---------------------------------------------------------------------------
// Harness

/// One upstream test: its cases and the differences found in them.
struct Upstream {
    name: &'static str,
    cases: usize,
    failures: Vec<String>,
    /// A known difference of the engines, expected under some of the extra
    /// settings (never under upstream's own): reported, not failed, and
    /// required to still show (a mark that no longer applies fails).
    known: Option<Known>,
    known_seen: usize,
}

/// A known difference between the engines, and the extra settings it shows
/// under.
#[derive(Clone, Copy)]
struct Known {
    what: &'static str,
    applies: fn(&Settings) -> bool,
}

/// KNOWN DIFFERENCE (storage, not the query engine): a tree parsed with an
/// included range whose points disagree with the text (upstream's
/// `test_query_execution_with_points_causing_underflow` gives (0, 0) for
/// byte 24) keeps those points in tree-sitter, while a stored view computes
/// every point from the source text; so point-range settings select
/// different nodes. Byte ranges and everything else agree.
const STORED_POINTS: Known = Known {
    what: "stored views compute points from the text, not from the parser's included ranges",
    applies: |s| s.point_range.is_some() || s.containing_point_range.is_some(),
};

fn language(lang: &str) -> tree_sitter::Language {
    cst_grammars::by_id(lang)
        .unwrap_or_else(|| panic!("no grammar {lang}"))
        .language()
        .unwrap_or_else(|e| panic!("grammar {lang}: {e}"))
}

/// Stores `tree` (parsed from `source` with grammar `lang`) and opens it.
fn store(lang: &str, tree: tree_sitter::Tree, source: &[u8]) -> Parsed {
    let g = cst_grammars::by_id(lang).unwrap();
    let fp = g.fingerprint().unwrap().0;
    let bytes = encode(&tree, source, fp).unwrap();
    let symbols = Arc::new(Symbols::from_language(&g.language().unwrap(), fp));
    let view = TreeView::open(&bytes, symbols).unwrap();
    Parsed { tree, view }
}

/// The preorder index of `node` in `tree` (as `Settings::node` counts).
fn preorder_index(tree: &tree_sitter::Tree, node: tree_sitter::Node<'_>) -> usize {
    let mut cursor = tree.walk();
    for i in 0..tree.root_node().descendant_count() {
        cursor.goto_descendant(i);
        if cursor.node() == node {
            return i;
        }
    }
    panic!("node not in tree")
}

/// `unindent::unindent` / `indoc!`: drops a leading newline and the common
/// indentation of the lines after the first (whitespace-only lines don't
/// count and are emptied).
fn unindent(s: &str) -> String {
    let ignore_first_line = s.starts_with('\n');
    let lines: Vec<&str> = s.split('\n').collect();
    let spaces = lines
        .iter()
        .skip(1)
        .filter_map(|l| l.find(|c: char| c != ' ' && c != '\t'))
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 1 || (i == 1 && !ignore_first_line) {
            out.push('\n');
        }
        if i == 0 {
            out.push_str(line);
        } else if line.len() > spaces {
            out.push_str(&line[spaces..]);
        }
    }
    out
}

fn bytes(range: std::ops::Range<usize>) -> Settings {
    Settings {
        byte_range: Some(range),
        ..Settings::default()
    }
}

fn point(row: usize, column: usize) -> Point {
    Point { row, column }
}

fn points(start: (usize, usize), end: (usize, usize)) -> Settings {
    Settings {
        point_range: Some(point(start.0, start.1)..point(end.0, end.1)),
        ..Settings::default()
    }
}

fn match_limit(limit: u32) -> Settings {
    Settings {
        match_limit: Some(limit),
        ..Settings::default()
    }
}

fn depth(depth: u32) -> Settings {
    Settings {
        max_start_depth: Some(depth),
        ..Settings::default()
    }
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, ts: T, cst: T) -> Result<(), String> {
    if ts == cst {
        Ok(())
    } else {
        Err(format!("{what}: tree-sitter {ts:?}, cst {cst:?}"))
    }
}

/// Everything a compiled query tells about itself, compared.
fn same_metadata(ts: &tree_sitter::Query, cst: &Query, source: &str) -> Result<(), String> {
    same("pattern_count", ts.pattern_count(), cst.pattern_count())?;
    same("capture_names", ts.capture_names(), cst.capture_names())?;
    for name in ts.capture_names() {
        same(
            &format!("capture_index_for_name({name})"),
            ts.capture_index_for_name(name),
            cst.capture_index_for_name(name),
        )?;
    }
    for i in 0..ts.pattern_count() {
        let p = |what: &str| format!("pattern {i}: {what}");
        same(
            &p("capture_quantifiers"),
            ts.capture_quantifiers(i),
            cst.capture_quantifiers(i),
        )?;
        same(
            &p("start_byte_for_pattern"),
            ts.start_byte_for_pattern(i),
            cst.start_byte_for_pattern(i),
        )?;
        same(
            &p("end_byte_for_pattern"),
            ts.end_byte_for_pattern(i),
            cst.end_byte_for_pattern(i),
        )?;
        same(
            &p("is_pattern_rooted"),
            ts.is_pattern_rooted(i),
            cst.is_pattern_rooted(i),
        )?;
        same(
            &p("is_pattern_non_local"),
            ts.is_pattern_non_local(i),
            cst.is_pattern_non_local(i),
        )?;
        same(
            &p("general_predicates"),
            ts.general_predicates(i),
            cst.general_predicates(i),
        )?;
        same(
            &p("property_settings"),
            ts.property_settings(i),
            cst.property_settings(i),
        )?;
        same(
            &p("property_predicates"),
            ts.property_predicates(i),
            cst.property_predicates(i),
        )?;
    }
    for offset in 0..=source.len() {
        same(
            &format!("is_pattern_guaranteed_at_step({offset})"),
            ts.is_pattern_guaranteed_at_step(offset),
            cst.is_pattern_guaranteed_at_step(offset),
        )?;
    }
    Ok(())
}

fn cap(c: &cst_query::QueryCapture<'_>) -> Cap {
    (
        c.index,
        c.node.kind_id(),
        c.node.start_byte(),
        c.node.end_byte(),
    )
}

impl Upstream {
    fn new(name: &'static str) -> Upstream {
        Upstream {
            name,
            cases: 0,
            failures: Vec::new(),
            known: None,
            known_seen: 0,
        }
    }

    /// Marks this test as showing `known` under some extra settings.
    fn known_difference(mut self, known: Known) -> Upstream {
        self.known = Some(known);
        self
    }

    fn label(&self) -> String {
        format!("{} case {}", self.name, self.cases)
    }

    fn fail(&mut self, message: String) {
        let label = self.label();
        eprintln!("DIFFERENCE {label}: {message}");
        self.failures.push(format!("{label}: {message}"));
    }

    /// Compiles `source` with both engines: they must agree on success, on
    /// the error, and on the query's metadata. `None` when both reject it.
    fn query(&mut self, lang: &str, source: &str) -> Option<Query> {
        let language = language(lang);
        let ts = tree_sitter::Query::new(&language, source);
        let cst = Query::new(&language, source);
        match (ts, cst) {
            (Ok(ts), Ok(cst)) => {
                if let Err(e) = same_metadata(&ts, &cst, source) {
                    self.fail(format!("{lang} query {source:?}: {e}"));
                }
                Some(cst)
            }
            (Err(ts), Err(cst_query::Error::Query(cst))) => {
                if ts != cst {
                    self.fail(format!(
                        "{lang} query {source:?}: tree-sitter's error {ts:?}, cst's {cst:?}"
                    ));
                } else {
                    eprintln!("{}: {lang}: both reject {source:?}: {ts:?}", self.label());
                }
                None
            }
            (Err(ts), Ok(_)) => {
                self.fail(format!(
                    "{lang} query {source:?}: tree-sitter rejects it ({ts:?}), cst accepts it"
                ));
                None
            }
            (Ok(_), Err(cst)) => {
                self.fail(format!(
                    "{lang} query {source:?}: tree-sitter accepts it, cst rejects it ({cst})"
                ));
                None
            }
            (Err(ts), Err(cst)) => {
                self.fail(format!(
                    "{lang} query {source:?}: tree-sitter's error {ts:?}, cst's {cst}"
                ));
                None
            }
        }
    }

    /// A compile-only case (errors, metadata).
    fn compile(&mut self, lang: &str, source: &str) {
        self.cases += 1;
        if self.query(lang, source).is_some() {
            eprintln!("{}: {lang}: both accept {source:?}", self.label());
        }
    }

    /// Checks a compiled query on a parsed source under `upstream` settings
    /// (none: the defaults), then under the common sweep.
    fn check(
        &mut self,
        lang: &str,
        parsed: &Parsed,
        source: &[u8],
        query: &Query,
        query_source: &str,
        upstream: &[Settings],
    ) {
        let extra = common::settings_for(source, &parsed.view);
        self.check_with(lang, parsed, source, query, query_source, upstream, &extra);
    }

    /// Checks under `upstream` settings (none: the defaults), then under
    /// `extra` settings of this port's own.
    #[allow(clippy::too_many_arguments)]
    fn check_with(
        &mut self,
        lang: &str,
        parsed: &Parsed,
        source: &[u8],
        query: &Query,
        query_source: &str,
        upstream: &[Settings],
        extra: &[Settings],
    ) {
        self.cases += 1;
        let defaults = [Settings::default()];
        let upstream = if upstream.is_empty() {
            &defaults[..]
        } else {
            upstream
        };
        let text: String = String::from_utf8_lossy(source).chars().take(400).collect();
        let mut counts = Vec::new();
        for s in upstream {
            match check(&parsed.tree, &parsed.view, source, query, s) {
                Ok(c) => counts.push(c),
                Err(d) => self.fail(format!(
                    "{lang}, query {query_source:?}, source {text:?}, upstream settings {s:?}: {d}"
                )),
            }
        }
        for s in extra {
            if let Err(d) = check(&parsed.tree, &parsed.view, source, query, s) {
                let message = format!(
                    "{lang}, query {query_source:?}, source {text:?}, extra settings {s:?}: {d}"
                );
                match self.known {
                    Some(known) if (known.applies)(s) => {
                        self.known_seen += 1;
                        eprintln!(
                            "KNOWN DIFFERENCE ({}) {}: {message}",
                            known.what,
                            self.label()
                        );
                    }
                    _ => self.fail(message),
                }
            }
        }
        eprintln!(
            "{}: {lang}: (matches, captures) {counts:?} under upstream settings, {} extra settings",
            self.label(),
            extra.len()
        );
    }

    /// Compiles and checks one (language, query, source) case.
    fn run_with(&mut self, lang: &str, query_source: &str, source: &str, upstream: &[Settings]) {
        match self.query(lang, query_source) {
            Some(query) => {
                let parsed = common::parse(lang, source.as_bytes());
                self.check(
                    lang,
                    &parsed,
                    source.as_bytes(),
                    &query,
                    query_source,
                    upstream,
                );
            }
            None => {
                self.cases += 1;
                let label = self.label();
                self.fail(format!(
                    "{lang}: the query does not compile with this grammar: {query_source:?}"
                ));
                eprintln!("{label}: not run");
            }
        }
    }

    fn run(&mut self, lang: &str, query_source: &str, source: &str) {
        self.run_with(lang, query_source, source, &[]);
    }

    fn finish(self) {
        eprintln!(
            "{}: {} cases, {} known differences",
            self.name, self.cases, self.known_seen
        );
        assert!(self.cases > 0, "{}: no cases", self.name);
        if let Some(known) = self.known {
            assert!(
                self.known_seen > 0,
                "{}: marked with the known difference \"{}\", which no longer shows: remove the mark",
                self.name,
                known.what
            );
        }
        assert!(
            self.failures.is_empty(),
            "{} differences:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------
// Query errors

#[test]
fn test_query_errors_on_invalid_syntax() {
    let mut t = Upstream::new("test_query_errors_on_invalid_syntax");
    for (lang, q) in [
        ("javascript", "(if_statement)"),
        (
            "javascript",
            "(if_statement condition:(parenthesized_expression (identifier)))",
        ),
        // Mismatched parens
        ("javascript", "(if_statement"),
        ("javascript", "; comment 1\n; comment 2\n  (if_statement))"),
        // A bare identifier not followed by a colon; a colon with no pattern
        ("javascript", "(if_statement identifier)"),
        ("javascript", "(if_statement condition:)"),
        // Unterminated string
        ("javascript", r#"(identifier) "h "#),
        // Empty tree pattern
        ("javascript", r"((identifier) ()"),
        // Empty alternation
        ("javascript", r"((identifier) [])"),
        // Unclosed sibling expression with predicate
        ("javascript", r"((identifier) (#a?)"),
        // Predicate not ending in `?` or `!`
        ("javascript", r"((identifier) (#a))"),
        // Unclosed predicate
        ("javascript", r"((identifier) @x (#eq? @x a"),
        // A child anchor needs a child node
        ("javascript", r"(statement_block .)"),
        // A negated field operator needs a field name
        ("javascript", r"(statement_block ! (if_statement))"),
        // Unclosed alternation within a tree
        ("c", r#"(parameter_list [ ")" @foo)"#),
        // Unclosed tree within an alternation
        (
            "python",
            r"[(unary_operator (_) @operand) (not_operator (_) @operand]",
        ),
        // MISSING with a full pattern, with several identifiers
        ("c", r"(MISSING (function_declarator (identifier))) "),
        ("c", r"(MISSING function_declarator function_declarator) "),
        ("javascript", "(statement / export_statement)"),
    ] {
        t.compile(lang, q);
    }
    t.finish();
}

#[test]
fn test_query_errors_on_invalid_symbols() {
    let mut t = Upstream::new("test_query_errors_on_invalid_symbols");
    for q in [
        "\">>>>\"",
        "\"te\\\"st\"",
        "\"\\\\\" @cap",
        "(clas)",
        "(if_statement (arrayyyyy))",
        "(if_statement condition: (non_existent3))",
        "(if_statement condit: (identifier))",
        "(if_statement conditioning: (identifier))",
        "(if_statement !alternativ)",
        "(if_statement !alternatives)",
        "fakefield: (identifier)",
    ] {
        t.compile("javascript", q);
    }
    t.finish();
}

#[test]
fn test_query_errors_on_invalid_predicates() {
    let mut t = Upstream::new("test_query_errors_on_invalid_predicates");
    for q in [
        "((identifier) @id (@id))",
        "((identifier) @id (#eq? @id))",
        "((identifier) @id (#eq? @id @ok))",
    ] {
        t.compile("javascript", q);
    }
    t.finish();
}

#[test]
fn test_query_errors_on_impossible_patterns() {
    let mut t = Upstream::new("test_query_errors_on_impossible_patterns");
    for (lang, q) in [
        (
            "javascript",
            "(binary_expression left: (expression (identifier)) left: (expression (identifier)))",
        ),
        (
            "javascript",
            "(function_declaration name: (identifier) (statement_block))",
        ),
        (
            "javascript",
            "(function_declaration name: (statement_block))",
        ),
        ("ruby", "(call receiver:(call))"),
        ("ruby", "(call receiver:(binary))"),
        (
            "javascript",
            "[
                (function_expression (identifier))
                (function_declaration (identifier))
                (generator_function_declaration (identifier))
            ]",
        ),
        (
            "javascript",
            "[
                    (function_expression (identifier))
                    (function_declaration (object))
                    (generator_function_declaration (identifier))
                ]",
        ),
        ("javascript", "(identifier (identifier))"),
        ("javascript", "(true (true))"),
        (
            "javascript",
            "(if_statement
                condition: (parenthesized_expression (expression) @cond))",
        ),
        ("javascript", "(if_statement condition: (expression))"),
        ("javascript", "(identifier/identifier)"),
        // (upstream: only when the grammar's ABI is at least 15)
        ("javascript", "(statement/identifier)"),
        ("javascript", "(statement/pattern)"),
    ] {
        t.compile(lang, q);
    }
    t.finish();
}

#[test]
fn test_query_verifies_possible_patterns_with_aliased_parent_nodes() {
    let mut t = Upstream::new("test_query_verifies_possible_patterns_with_aliased_parent_nodes");
    t.compile("ruby", "(destructured_parameter (identifier))");
    t.compile("ruby", "(destructured_parameter (string))");
    t.finish();
}

#[test]
fn test_query_error_does_not_oob() {
    let mut t = Upstream::new("test_query_error_does_not_oob");
    t.compile("javascript", "(clas");
    t.finish();
}

#[test]
fn test_query_compiler_oob_access() {
    let mut t = Upstream::new("test_query_compiler_oob_access");
    t.compile("java", "(package_declaration _ (_) @name _)");
    t.finish();
}

#[test]
fn test_query_with_predicate_causing_oob_access() {
    let mut t = Upstream::new("test_query_with_predicate_causing_oob_access");
    t.compile(
        "rust",
        "(call_expression
     function: (scoped_identifier
       path: (scoped_identifier (identifier) @_regex (#any-of? @_regex \"Regex\" \"RegexBuilder\") .))
     (#set! injection.language \"regex\"))",
    );
    t.finish();
}

// ---------------------------------------------------------------------------
// Matches

#[test]
fn test_query_matches_with_simple_pattern() {
    let mut t = Upstream::new("test_query_matches_with_simple_pattern");
    t.run(
        "javascript",
        "(function_declaration name: (identifier) @fn-name)",
        "function one() { two(); function three() {} }",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_multiple_on_same_root() {
    let mut t = Upstream::new("test_query_matches_with_multiple_on_same_root");
    t.run(
        "javascript",
        "(class_declaration
                name: (identifier) @the-class-name
                (class_body
                    (method_definition
                        name: (property_identifier) @the-method-name)))",
        "
            class Person {
                // the constructor
                constructor(name) { this.name = name; }

                // the getter
                getFullName() { return this.name; }
            }
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_multiple_patterns_different_roots() {
    let mut t = Upstream::new("test_query_matches_with_multiple_patterns_different_roots");
    t.run(
        "javascript",
        "
                (function_declaration name:(identifier) @fn-def)
                (call_expression function:(identifier) @fn-ref)
            ",
        "
            function f1() {
                f2(f3());
            }
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_multiple_patterns_same_root() {
    let mut t = Upstream::new("test_query_matches_with_multiple_patterns_same_root");
    t.run(
        "javascript",
        "
              (pair
                key: (property_identifier) @method-def
                value: (function_expression))

              (pair
                key: (property_identifier) @method-def
                value: (arrow_function))
            ",
        "
            a = {
                b: () => { return c; },
                d: function() { return d; }
            };
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_nesting_and_no_fields() {
    let mut t = Upstream::new("test_query_matches_with_nesting_and_no_fields");
    t.run(
        "javascript",
        "
                (array
                    (array
                        (identifier) @x1
                        (identifier) @x2))
            ",
        "
            [[a]];
            [[c, d], [e, f, g, h]];
            [[h], [i]];
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_many_results() {
    let mut t = Upstream::new("test_query_matches_with_many_results");
    t.run(
        "javascript",
        "(array (identifier) @element)",
        &"[hello];\n".repeat(50),
    );
    t.finish();
}

#[test]
fn test_query_matches_with_many_overlapping_results() {
    let mut t = Upstream::new("test_query_matches_with_many_overlapping_results");
    // Deeply nested chained function calls: a .foo(bar(BAZ)) .foo(bar(BAZ)) ...
    let source = format!("a{}", "\n  .foo(bar(BAZ))".repeat(1024));
    t.run(
        "javascript",
        r#"
            (call_expression
                function: (member_expression
                    property: (property_identifier) @method))
            (call_expression
                function: (identifier) @function)
            ((identifier) @constant
             (#match? @constant "[A-Z\\d_]+"))
            "#,
        &source,
    );
    t.finish();
}

#[test]
fn test_query_matches_capturing_error_nodes() {
    let mut t = Upstream::new("test_query_matches_capturing_error_nodes");
    t.run(
        "javascript",
        "
            (ERROR (identifier) @the-error-identifier) @the-error
            ",
        "function a(b,, c, d :e:) {}",
    );
    t.finish();
}

#[test]
fn test_query_matches_capturing_missing_nodes() {
    let mut t = Upstream::new("test_query_matches_capturing_missing_nodes");
    // Missing anonymous nodes
    t.run(
        "javascript",
        r#"
            (MISSING
              ; Comments should be valid
            ) @missing
            (MISSING
              ; Comments should be valid
              ";"
              ; Comments should be valid
              ) @missing-semicolon
            "#,
        "
            x = function(a) { b; } function(c) { d; }
            //                    ^ MISSING semicolon here
            ",
    );
    // Missing named nodes
    t.run(
        "c",
        "(MISSING field_identifier) @missing-field-ident
            (MISSING identifier) @missing-ident
            (MISSING) @missing-anything",
        "
            int main() {
              if (a.) {
              //    ^ MISSING field_identifier here
                b();
                c();

                if (*) d();
                //   ^ MISSING identifier here
              }
            }
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_extra_children() {
    let mut t = Upstream::new("test_query_matches_with_extra_children");
    t.run(
        "ruby",
        "
            (program(comment) @top_level_comment)
            (argument_list (heredoc_body) @heredoc_in_args)
            ",
        "
            # top-level
            puts(
                # not-top-level
                <<-IN_ARGS, bar.baz
                HELLO
                IN_ARGS
            )

            puts <<-NOT_IN_ARGS
            NO
            NOT_IN_ARGS
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_named_wildcard() {
    let mut t = Upstream::new("test_query_matches_with_named_wildcard");
    t.run(
        "javascript",
        "
            (return_statement (_) @the-return-value)
            (binary_expression operator: _ @the-operator)
            ",
        "return a + b - c;",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_wildcard_at_the_root() {
    let mut t = Upstream::new("test_query_matches_with_wildcard_at_the_root");
    t.run(
        "javascript",
        "
            (_
                (comment) @doc
                .
                (function_declaration
                    name: (identifier) @name))
            ",
        "/* one */ var x; /* two */ function y() {} /* three */ class Z {}",
    );
    t.run(
        "javascript",
        "
                (_ (string) @a)
                (_ (number) @b)
                (_ (true) @c)
                (_ (false) @d)
            ",
        "['hi', x(true), {y: false}]",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_wildcard_within_wildcard() {
    let mut t = Upstream::new("test_query_matches_with_wildcard_within_wildcard");
    t.run(
        "javascript",
        "
            (_ (_) @child) @parent
            ",
        "/* a */ b; c;",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_immediate_siblings() {
    let mut t = Upstream::new("test_query_matches_with_immediate_siblings");
    t.run(
        "python",
        "
            (dotted_name
                (identifier) @parent
                .
                (identifier) @child)
            (dotted_name
                (identifier) @last-child
                .)
            (list
                .
                (_) @first-element)
            ",
        "import a.b.c.d; return [w, [1, y], z]",
    );
    t.run(
        "python",
        "
            (block . (_) @first-stmt)
            (block (_) @stmt)
            (block (_) @last-stmt .)
            ",
        "
            if a:
                b()
                c()
                if d(): e(); f()
                g()
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_last_named_child() {
    let mut t = Upstream::new("test_query_matches_with_last_named_child");
    t.run(
        "c",
        "(compound_statement
                (_)
                (_)
                (expression_statement
                    (identifier) @last_id) .)",
        "
            void one() { a; b; c; }
            void two() { d; e; }
            void three() { f; g; h; i; }
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_negated_fields() {
    let mut t = Upstream::new("test_query_matches_with_negated_fields");
    t.run(
        "javascript",
        "
            (import_specifier
                !alias
                name: (identifier) @import_name)

            (export_specifier
                !alias
                name: (identifier) @export_name)

            (export_statement
                !decorator
                !source
                (_) @exported)

            ; This negated field list is an extension of a previous
            ; negated field list. The order of the children and negated
            ; fields doesn't matter.
            (export_statement
                !decorator
                !source
                (_) @exported_expr
                !declaration)

            ; This negated field list is a prefix of a previous
            ; negated field list.
            (export_statement
                !decorator
                (_) @export_child .)
            ",
        "
            import {a as b, c} from 'p1';
            export {g, h as i} from 'p2';

            @foo
            export default 1;

            export var j = 1;

            export default k;
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_field_at_root() {
    let mut t = Upstream::new("test_query_matches_with_field_at_root");
    t.run(
        "javascript",
        "name: (identifier) @name",
        "
            a();
            function b() {}
            class c extends d {}
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_repeated_leaf_nodes() {
    let mut t = Upstream::new("test_query_matches_with_repeated_leaf_nodes");
    t.run(
        "javascript",
        "
            (
                (comment)+ @doc
                .
                (class_declaration
                    name: (identifier) @name)
            )

            (
                (comment)+ @doc
                .
                (function_declaration
                    name: (identifier) @name)
            )
            ",
        "
            // one
            // two
            a();

            // three
            {
                // four
                // five
                // six
                class B {}

                // seven
                c();

                // eight
                function d() {}
            }
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_optional_nodes_inside_of_repetitions() {
    let mut t = Upstream::new("test_query_matches_with_optional_nodes_inside_of_repetitions");
    t.run(
        "javascript",
        r#"(array (","? (number) @num)+)"#,
        r"
            var a = [1, 2, 3, 4]
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_top_level_repetitions() {
    let mut t = Upstream::new("test_query_matches_with_top_level_repetitions");
    t.run(
        "javascript",
        r"
            (comment)+ @doc
            ",
        r"
            // a
            // b
            // c

            d()

            // e
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_non_terminal_repetitions_within_root() {
    let mut t = Upstream::new("test_query_matches_with_non_terminal_repetitions_within_root");
    t.run(
        "javascript",
        "(_ (expression_statement (identifier) @id)+)",
        r"
            function f() {
                d;
                e;
                f;
                g;
            }
            a;
            b;
            c;
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_nested_repetitions() {
    let mut t = Upstream::new("test_query_matches_with_nested_repetitions");
    t.run(
        "javascript",
        r#"
            (variable_declaration
                (","? (variable_declarator name: (identifier) @x))+)+
            "#,
        r"
            var a = b, c, d
            var e, f

            // more
            var g
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_multiple_repetition_patterns_that_intersect_other_pattern() {
    let mut t = Upstream::new(
        "test_query_matches_with_multiple_repetition_patterns_that_intersect_other_pattern",
    );
    let source = format!(
        "theObject\n{}\n.theMethod()",
        "  // the comment\n".repeat(64)
    );
    t.run(
        "javascript",
        r"
            (call_expression
                function: (member_expression
                    property: (property_identifier) @name)) @ref.method

            ((comment)* @doc (function_declaration))
            ((comment)* @doc (generator_function_declaration))
            ((comment)* @doc (class_declaration))
            ((comment)* @doc (lexical_declaration))
            ((comment)* @doc (variable_declaration))
            ((comment)* @doc (method_definition))

            (comment) @comment
            ",
        &source,
    );
    t.finish();
}

#[test]
fn test_query_matches_with_trailing_repetitions_of_last_child() {
    let mut t = Upstream::new("test_query_matches_with_trailing_repetitions_of_last_child");
    t.run(
        "javascript",
        "
            (unary_expression (primary_expression)+ @operand)
            ",
        "
            a = typeof (!b && ~c);
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_leading_zero_or_more_repeated_leaf_nodes() {
    let mut t = Upstream::new("test_query_matches_with_leading_zero_or_more_repeated_leaf_nodes");
    t.run(
        "javascript",
        "
            (
                (comment)* @doc
                .
                (function_declaration
                    name: (identifier) @name)
            )
            ",
        "
            function a() {
                // one
                var b;

                function c() {}

                // two
                // three
                var d;

                // four
                // five
                function e() {

                }
            }

            // six
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_trailing_optional_nodes() {
    let mut t = Upstream::new("test_query_matches_with_trailing_optional_nodes");
    let query = "
            (class_declaration
                name: (identifier) @class
                (class_heritage
                  (identifier) @superclass)?)
            ";
    t.run("javascript", query, "class A {}");
    t.run(
        "javascript",
        query,
        "
            class A {}
            class B extends C {}
            class D extends (E.F) {}
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_nested_optional_nodes() {
    let mut t = Upstream::new("test_query_matches_with_nested_optional_nodes");
    t.run(
        "javascript",
        "
            (call_expression
                function: (identifier) @outer-fn
                arguments: (arguments
                    (call_expression
                        function: (identifier) @inner-fn
                        arguments: (arguments
                            (number)? @num))?))
            ",
        r"
            a(b, c(), d(null, 1, 2))
            e()
            f(g())
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_repeated_internal_nodes() {
    let mut t = Upstream::new("test_query_matches_with_repeated_internal_nodes");
    t.run(
        "javascript",
        "
            (_
                (method_definition
                    (decorator (identifier) @deco)+
                    name: (property_identifier) @name))
            ",
        "
            class A {
                @c
                @d
                e() {}
            }
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_simple_alternatives() {
    let mut t = Upstream::new("test_query_matches_with_simple_alternatives");
    t.run(
        "javascript",
        "
            (pair
                key: [(property_identifier) (string)] @key
                value: [(function_expression) @val1 (arrow_function) @val2])
            ",
        "
            a = {
                b: c,
                'd': e => f,
                g: {
                    h: function i() {},
                    'x': null,
                    j: _ => k
                },
                'l': function m() {},
            };
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_alternatives_in_repetitions() {
    let mut t = Upstream::new("test_query_matches_with_alternatives_in_repetitions");
    t.run(
        "javascript",
        r#"
            (array
                [(identifier) (string)] @el
                .
                (
                    ","
                    .
                    [(identifier) (string)] @el
                )*)
            "#,
        "
            a = [b, 'c', d, 1, e, 'f', 'g', h];
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_alternatives_at_root() {
    let mut t = Upstream::new("test_query_matches_with_alternatives_at_root");
    t.run(
        "javascript",
        r#"
            [
                "if"
                "else"
                "function"
                "throw"
                "return"
            ] @keyword
            "#,
        "
            function a(b, c, d) {
                if (b) {
                    return c;
                } else {
                    throw d;
                }
            }
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_alternatives_under_fields() {
    let mut t = Upstream::new("test_query_matches_with_alternatives_under_fields");
    t.run(
        "javascript",
        r"
            (assignment_expression
                left: [
                    (identifier) @variable
                    (member_expression property: (property_identifier) @variable)
                ])
            ",
        "
            a = b;
            b = c.d;
            e.f = g;
            h.i = j.k;
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_in_language_with_simple_aliases() {
    let mut t = Upstream::new("test_query_matches_in_language_with_simple_aliases");
    t.run(
        "html",
        "(tag_name) @tag",
        "
            <div>
                <script>hi</script>
                <style>hi</style>
            </div>
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_different_tokens_with_the_same_string_value() {
    let mut t =
        Upstream::new("test_query_matches_with_different_tokens_with_the_same_string_value");
    t.run(
        "rust",
        r#"
                "<" @less
                ">" @greater
                "#,
        "const A: B<C> = d < e || f > g;",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_too_many_permutations_to_track() {
    let mut t = Upstream::new("test_query_matches_with_too_many_permutations_to_track");
    let mut source = "hello, ".repeat(50);
    source.insert(0, '[');
    source.push_str("];");
    t.run_with(
        "javascript",
        "
            (array (identifier) @pre (identifier) @post)
        ",
        &source,
        &[match_limit(32)],
    );
    t.finish();
}

#[test]
fn test_query_sibling_patterns_dont_match_children_of_an_error() {
    let mut t = Upstream::new("test_query_sibling_patterns_dont_match_children_of_an_error");
    t.run(
        "rust",
        r#"
            ("{" @open "}" @close)

            [
              (line_comment)
              (block_comment)
            ] @comment

            ("<" @first "<" @second)
            "#,
        "
            fn a() {}

            <<<<<<<<<< add pub b fn () {}
            // comment 1
            pub fn b() {
            /* comment 2 */
            ==========
            pub fn c() {
            // comment 3
            >>>>>>>>>> add pub c fn () {}
            }
        ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_alternatives_and_too_many_permutations_to_track() {
    let mut t =
        Upstream::new("test_query_matches_with_alternatives_and_too_many_permutations_to_track");
    t.run_with(
        "javascript",
        "
            (
                (comment) @doc
                ; not immediate
                (class_declaration) @class
            )

            (call_expression
                function: [
                    (identifier) @function
                    (member_expression property: (property_identifier) @method)
                ])
            ",
        &"/* hi */ a.b(); ".repeat(50),
        &[match_limit(32)],
    );
    t.finish();
}

#[test]
fn test_repetitions_before_with_alternatives() {
    let mut t = Upstream::new("test_repetitions_before_with_alternatives");
    t.run(
        "rust",
        r"
            (
                (line_comment)* @comment
                .
                [
                    (struct_item name: (_) @name)
                    (function_item name: (_) @name)
                    (enum_item name: (_) @name)
                    (impl_item type: (_) @name)
                ]
            )
            ",
        r"
            // a
            // b
            fn c() {}

            // d
            // e
            impl F {}
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_anonymous_tokens() {
    let mut t = Upstream::new("test_query_matches_with_anonymous_tokens");
    t.run(
        "javascript",
        r#"
            ";" @punctuation
            "&&" @operator
            "\"" @quote
            "#,
        r#"foo(a && "b");"#,
    );
    t.finish();
}

#[test]
fn test_query_matches_with_supertypes() {
    let mut t = Upstream::new("test_query_matches_with_supertypes");
    t.run(
        "python",
        r"
            (argument_list (expression) @arg)

            (keyword_argument
                value: (expression) @kw_arg)

            (assignment
              left: (identifier) @var_def)

            (primary_expression/identifier) @var_ref
            ",
        "
                a = b.c(
                    [d],
                    # a comment
                    e=f
                )
            ",
    );
    t.finish();
}

// ---------------------------------------------------------------------------
// Ranges

#[test]
#[allow(clippy::reversed_empty_ranges)]
fn test_query_matches_within_byte_range() {
    let mut t = Upstream::new("test_query_matches_within_byte_range");
    t.run_with(
        "javascript",
        "(identifier) @element",
        "[a, b, c, d, e, f, g]",
        // An end byte of zero means no end.
        &[bytes(0..8), bytes(5..15), bytes(12..0)],
    );
    t.finish();
}

#[test]
fn test_query_matches_within_point_range() {
    let mut t = Upstream::new("test_query_matches_within_point_range");
    let source = unindent(
        "
            [
              a, b,
              c, d,
              e, f,
              g, h,
              i, j,
              k, l,
            ]
        ",
    );
    t.run_with(
        "javascript",
        "(identifier) @element",
        &source,
        // A zero end point means no end.
        &[
            points((1, 0), (2, 3)),
            points((2, 0), (3, 3)),
            points((4, 1), (0, 0)),
        ],
    );
    t.finish();
}

#[test]
fn test_query_captures_within_byte_range() {
    let mut t = Upstream::new("test_query_captures_within_byte_range");
    t.run_with(
        "c",
        "
            (call_expression
                function: (identifier) @function
                arguments: (argument_list (string_literal) @string.arg))

            (string_literal) @string
           ",
        r#"DEFUN ("safe-length", Fsafe_length, Ssafe_length, 1, 1, 0)"#,
        &[bytes(3..27)],
    );
    t.finish();
}

const NEXT_CAPTURE_QUERY: &str = "(function_definition name: (identifier) @function)
             (attribute attribute: (identifier) @property)
             ((identifier) @variable)";

#[test]
fn test_query_cursor_next_capture_with_byte_range() {
    let mut t = Upstream::new("test_query_cursor_next_capture_with_byte_range");
    t.run_with(
        "python",
        NEXT_CAPTURE_QUERY,
        "def func():\n  foo.bar.baz()\n",
        &[bytes(12..17)],
    );
    t.finish();
}

#[test]
fn test_query_cursor_next_capture_with_point_range() {
    let mut t = Upstream::new("test_query_cursor_next_capture_with_point_range");
    t.run_with(
        "python",
        NEXT_CAPTURE_QUERY,
        "def func():\n  foo.bar.baz()\n",
        &[points((1, 0), (1, 5))],
    );
    t.finish();
}

#[test]
fn test_query_matches_with_unrooted_patterns_intersecting_byte_range() {
    let mut t = Upstream::new("test_query_matches_with_unrooted_patterns_intersecting_byte_range");
    let source = "mod a { fn a<B: C, D: E>(f: B) { g(f) } }";
    // within the type parameter list; from there to within the function body
    let start = source.find("D: E>").unwrap();
    let end = source.find("g(f)").unwrap();
    t.run_with(
        "rust",
        r#"
            ("{" @left "}" @right)
            ("<" @left ">" @right)
            "#,
        source,
        &[bytes(start..start), bytes(start..end)],
    );
    t.finish();
}

#[test]
fn test_query_matches_with_wildcard_at_root_intersecting_byte_range() {
    let mut t = Upstream::new("test_query_matches_with_wildcard_at_root_intersecting_byte_range");
    let source = "
            class A:
                def b():
                    if c:
                        d
                    else:
                        e
        "
    .trim();
    // After the first line of the class, the function and the if statement.
    let offsets = [
        source.find("A:").unwrap() + 2,
        source.find("b():").unwrap() + 4,
        source.find("c:").unwrap() + 2,
    ];
    t.run_with(
        "python",
        "
            [
                (_ body: (block))
                (_ consequence: (block))
            ] @indent
            ",
        source,
        &offsets.map(|o| bytes(o..o)),
    );
    t.finish();
}

#[test]
fn test_query_captures_within_byte_range_assigned_after_iterating() {
    let mut t = Upstream::new("test_query_captures_within_byte_range_assigned_after_iterating");
    let source = "
        mod m1 {
            mod m2 {
                fn f1() -> Option<()> { Some(()) }
            }
            fn f2() -> Result<()> { Ok(()) }
            fn f3() {}
        }
        ";
    // Upstream takes five captures, then narrows the running iterator's
    // range; cst cannot, so both ranges are checked from the start.
    t.run_with(
        "rust",
        r#"
            (function_item
                name: (identifier) @fn_name)

            (mod_item
                name: (identifier) @mod_name
                body: (declaration_list
                    "{" @lbrace
                    "}" @rbrace))

            ; functions that return Result<()>
            ((function_item
                return_type: (generic_type
                    type: (type_identifier) @result
                    type_arguments: (type_arguments
                        (unit_type)))
                body: _ @fallible_fn_body)
             (#eq? @result "Result"))
            "#,
        source,
        &[
            Settings::default(),
            bytes(source.find("Ok").unwrap()..source.len()),
        ],
    );
    t.finish();
}

#[test]
fn test_query_matches_within_range_of_long_repetition() {
    let mut t = Upstream::new("test_query_matches_within_range_of_long_repetition");
    let source = unindent(
        "
            fn zero() {}
            fn one() {}
            fn two() {}
            fn three() {}
            fn four() {}
            fn five() {}
            fn six() {}
            fn seven() {}
            fn eight() {}
            fn nine() {}
            fn ten() {}
            fn eleven() {}
            fn twelve() {}
        ",
    );
    t.run_with(
        "rust",
        "
            (function_item name: (identifier) @fn-name)
            ",
        &source,
        &[points((8, 0), (20, 0))],
    );
    t.finish();
}

#[test]
fn test_query_matches_contained_within_range() {
    let mut t = Upstream::new("test_query_matches_contained_within_range");
    let source = unindent(
        r#"
            [
                {"key1": "value1"},
                {"key2": "value2"},
                {"key3": "value3"},
                {"key4": "value4"},
                {"key5": "value5"},
                {"key6": "value6"},
                {"key7": "value7"},
                {"key8": "value8"},
                {"key9": "value9"},
                {"key10": "value10"},
                {"key11": "value11"},
                {"key12": "value12"},
            ]
        "#,
    );
    t.run_with(
        "json",
        r#"
            ("[" @l_bracket "]" @r_bracket)
            ("{" @l_brace "}" @r_brace)
            "#,
        &source,
        &[Settings {
            containing_point_range: Some(point(5, 0)..point(7, 0)),
            ..Settings::default()
        }],
    );
    t.finish();
}

// ---------------------------------------------------------------------------
// Cursors, captures, disabling

#[test]
fn test_query_matches_different_queries_same_cursor() {
    let mut t = Upstream::new("test_query_matches_different_queries_same_cursor");
    let sources = [
        "
            (array (identifier) @id1)
        ",
        "
            (array (identifier) @id1)
            (pair (identifier) @id2)
        ",
        "
            (array (identifier) @id1)
            (pair (identifier) @id2)
            (parenthesized_expression (identifier) @id3)
        ",
    ];
    let source = "[a, {b: b}, (c)];";
    let parsed = common::parse("javascript", source.as_bytes());
    let queries: Vec<Query> = sources
        .iter()
        .map(|q| t.query("javascript", q).unwrap())
        .collect();
    for (q, query) in sources.iter().zip(&queries) {
        t.check("javascript", &parsed, source.as_bytes(), query, q, &[]);
    }
    // One cst cursor, reused for query 1, then 3, then 2, as upstream.
    t.cases += 1;
    let mut cursor = QueryCursor::new();
    for i in [0, 2, 1] {
        let ts = run_tree_sitter(
            &parsed.tree,
            source.as_bytes(),
            &queries[i],
            &Settings::default(),
        );
        let matches: Vec<(usize, Vec<Cap>)> = cursor
            .matches(&queries[i], parsed.view.root(), source.as_bytes())
            .unwrap()
            .map(|m| (m.pattern_index, m.captures.iter().map(cap).collect()))
            .collect();
        let captures: Vec<(usize, usize, Vec<Cap>)> = cursor
            .captures(&queries[i], parsed.view.root(), source.as_bytes())
            .unwrap()
            .map(|(m, k)| (m.pattern_index, k, m.captures.iter().map(cap).collect()))
            .collect();
        if let Err(e) = same("matches with a reused cursor", &ts.matches, &matches)
            .and_then(|()| same("captures with a reused cursor", &ts.captures, &captures))
        {
            t.fail(format!("query {}: {e}", i + 1));
        }
    }
    t.finish();
}

#[test]
fn test_query_matches_with_multiple_captures_on_a_node() {
    let mut t = Upstream::new("test_query_matches_with_multiple_captures_on_a_node");
    let q = "(function_declaration
                (identifier) @name1 @name2 @name3
                (statement_block) @body1 @body2)";
    let source = "function foo() { return 1; }";
    let parsed = common::parse("javascript", source.as_bytes());
    let mut query = t.query("javascript", q).unwrap();
    t.check("javascript", &parsed, source.as_bytes(), &query, q, &[]);
    // Disabling a capture works with several captures on one node.
    query.disable_capture("name2");
    t.check(
        "javascript",
        &parsed,
        source.as_bytes(),
        &query,
        &format!("{q} (name2 disabled)"),
        &[],
    );
    t.finish();
}

#[test]
fn test_query_matches_with_captured_wildcard_at_root() {
    let mut t = Upstream::new("test_query_matches_with_captured_wildcard_at_root");
    t.run(
        "python",
        "
            ; captured wildcard at the root
            (_ [
                (except_clause (block) @block)
                (finally_clause (block) @block)
            ]) @stmt

            [
                (while_statement (block) @block)
                (if_statement (block) @block)

                ; captured wildcard at the root within an alternation
                (_ [
                    (else_clause (block) @block)
                    (elif_clause (block) @block)
                ])

                (try_statement (block) @block)
                (for_statement (block) @block)
            ] @stmt
            ",
        "
        for i in j:
            while True:
                if a:
                    print b
                elif c:
                    print d
                else:
                    try:
                        print f
                    except:
                        print g
                    finally:
                        print h
            else:
                print i
        "
        .trim(),
    );
    t.finish();
}

#[test]
fn test_query_matches_with_no_captures() {
    let mut t = Upstream::new("test_query_matches_with_no_captures");
    t.run(
        "javascript",
        r"
            (identifier)
            (string) @s
            ",
        "
            a = 'hi';
            b = 'bye';
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_repeated_fields() {
    let mut t = Upstream::new("test_query_matches_with_repeated_fields");
    t.run(
        "c",
        "(field_declaration declarator: (field_identifier) @field)",
        "
            struct S {
                int a, b, c;
            };
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_deeply_nested_patterns_with_fields() {
    let mut t = Upstream::new("test_query_matches_with_deeply_nested_patterns_with_fields");
    t.run(
        "python",
        "
            (call
                function: (_) @func
                arguments: (_) @args)
            (call
                function: (attribute
                    object: (_) @receiver
                    attribute: (identifier) @method)
                arguments: (argument_list))

            ; These don't match anything, but they require additional
            ; states to keep track of their captures.
            (call
                function: (_) @fn
                arguments: (argument_list
                    (keyword_argument
                        name: (identifier) @name
                        value: (_) @val) @arg) @args) @call
            (call
                function: (identifier) @fn
                (#eq? @fn \"super\")) @super_call
            ",
        "
            a(1).b(2).c(3).d(4).e(5).f(6).g(7).h(8)
            ",
    );
    t.finish();
}

#[test]
fn test_query_matches_with_alternations_and_predicates() {
    let mut t = Upstream::new("test_query_matches_with_alternations_and_predicates");
    t.run(
        "java",
        "
            (block
                [
                    (local_variable_declaration
                        (variable_declarator
                            (identifier) @def.a
                            (string_literal) @lit.a
                        )
                    )
                    (local_variable_declaration
                        (variable_declarator
                            (identifier) @def.b
                            (null_literal) @lit.b
                        )
                    )
                ]
                (expression_statement
                    (method_invocation [
                        (argument_list
                            (identifier) @ref.a
                            (string_literal)
                        )
                        (argument_list
                            (null_literal)
                            (identifier) @ref.b
                        )
                    ])
                )
                (#eq? @def.a @ref.a )
                (#eq? @def.b @ref.b )
            )
            ",
        r#"
            void test() {
                int a = "foo";
                f(null, b);
            }
            "#,
    );
    t.finish();
}

#[test]
fn test_query_matches_with_indefinite_step_containing_no_captures() {
    let mut t = Upstream::new("test_query_matches_with_indefinite_step_containing_no_captures");
    t.run(
        "c",
        "(struct_specifier
                name: (type_identifier) @name
                body: (field_declaration_list
                    (field_declaration
                        type: (union_specifier))))",
        "
            struct LacksUnionField {
                int a;
                struct {
                    B c;
                } d;
                G *h;
            };

            struct HasUnionField {
                int a;
                struct {
                    B c;
                } d;
                union {
                    bool e;
                    float f;
                } g;
                G *h;
            };
            ",
    );
    t.finish();
}

#[test]
fn test_query_captures_basic() {
    let mut t = Upstream::new("test_query_captures_basic");
    t.run(
        "javascript",
        r#"
            (pair
              key: _ @method.def
              (function_expression
                name: (identifier) @method.alias))

            (variable_declarator
              name: _ @function.def
              value: (function_expression
                name: (identifier) @function.alias))

            ":" @delimiter
            "=" @operator
            "#,
        "
          a({
            bc: function de() {
              const fg = function hi() {}
            },
            jk: function lm() {
              const no = function pq() {}
            },
          });
        ",
    );
    t.finish();
}

#[test]
fn test_query_captures_with_text_conditions() {
    let mut t = Upstream::new("test_query_captures_with_text_conditions");
    t.run(
        "javascript",
        r#"
            ((identifier) @constant
             (#match? @constant "^[A-Z]{2,}$"))

             ((identifier) @constructor
              (#match? @constructor "^[A-Z]"))

            ((identifier) @function.builtin
             (#eq? @function.builtin "require"))

            ((identifier) @variable.builtin
              (#any-of? @variable.builtin
                        "arguments"
                        "module"
                        "console"
                        "window"
                        "document"))

            ((identifier) @variable
             (#not-match? @variable "^(lambda|load)$"))
            "#,
        "
          toad
          load
          panda
          lambda
          const ab = require('./ab');
          new Cd(EF);
          document;
          module;
          console;
        ",
    );
    t.finish();
}

#[test]
fn test_query_captures_with_predicates() {
    let mut t = Upstream::new("test_query_captures_with_predicates");
    let source = "const a = window.b";
    // Upstream checks this query's properties and predicates only; it is
    // run on the test's source too.
    t.run(
        "javascript",
        r"
            ((call_expression (identifier) @foo)
             (#set! name something)
             (#set! cool)
             (#something! @foo omg))

            ((property_identifier) @bar
             (#is? cool)
             (#is-not? name something))",
        source,
    );
    t.run(
        "javascript",
        r#"((identifier) @variable.builtin
                (#match? @variable.builtin "^(arguments|module|console|window|document)$")
                (#is-not? local))
            "#,
        source,
    );
    t.finish();
}

#[test]
fn test_query_captures_with_quoted_predicate_args() {
    let mut t = Upstream::new("test_query_captures_with_quoted_predicate_args");
    t.compile(
        "javascript",
        r#"
            ((call_expression (identifier) @foo)
             (#set! one "\"something\ngreat\""))

            ((identifier)
             (#set! two "\\s(\r?\n)*$"))

            ((function_declaration)
             (#set! three "\"something\ngreat\""))
            "#,
    );
    t.finish();
}

#[test]
fn test_query_captures_with_duplicates() {
    let mut t = Upstream::new("test_query_captures_with_duplicates");
    t.run(
        "javascript",
        r"
            (variable_declarator
                name: (identifier) @function
                value: (function_expression))

            (identifier) @variable
            ",
        "
          var x = function() {};
        ",
    );
    t.finish();
}

#[test]
fn test_query_captures_with_many_nested_results_without_fields() {
    let mut t = Upstream::new("test_query_captures_with_many_nested_results_without_fields");
    let mut source = "x = { y: {\n".to_owned();
    for i in 0..50 {
        writeln!(&mut source, "    method{i}: $ => null,").unwrap();
    }
    source.push_str("}};\n");
    t.run(
        "javascript",
        r#"
            (pair
              key: _ @method-def
              (arrow_function))

            ":" @colon
            "," @comma
            "#,
        &source,
    );
    t.finish();
}

#[test]
fn test_query_captures_with_many_nested_results_with_fields() {
    let mut t = Upstream::new("test_query_captures_with_many_nested_results_with_fields");
    let mut source = "a ? {".to_owned();
    for i in 0..50 {
        writeln!(&mut source, "  x: y{i} ? y{i}.z : null,").unwrap();
    }
    source.push_str("} : null;\n");
    t.run(
        "javascript",
        r"
            ((ternary_expression
                condition: (identifier) @left
                consequence: (member_expression
                    object: (identifier) @right)
                alternative: (null))
             (#eq? @left @right))
            ",
        &source,
    );
    t.finish();
}

#[test]
fn test_query_captures_with_too_many_nested_results() {
    let mut t = Upstream::new("test_query_captures_with_too_many_nested_results");
    t.run_with(
        "javascript",
        r"
            ;; easy 👇
            (call_expression
              function: (member_expression
                property: (property_identifier) @method-name))

            ;; hard 👇
            (call_expression
              function: (member_expression
                property: (property_identifier) @template-tag)
              arguments: (template_string)) @template-call
            ",
        "
        a(b => {
            b.c0().d0 `😄`;
            b.c1().d1 `😄`;
            b.c2().d2 `😄`;
            b.c3().d3 `😄`;
            b.c4().d4 `😄`;
            b.c5().d5 `😄`;
            b.c6().d6 `😄`;
            b.c7().d7 `😄`;
            b.c8().d8 `😄`;
            b.c9().d9 `😄`;
        }).e().f ``;
        "
        .trim(),
        &[match_limit(32)],
    );
    t.finish();
}

#[test]
fn test_query_captures_with_definite_pattern_containing_many_nested_matches() {
    let mut t =
        Upstream::new("test_query_captures_with_definite_pattern_containing_many_nested_matches");
    t.run(
        "javascript",
        r#"
            (array
              "[" @l-bracket
              "]" @r-bracket)

            "." @dot
            "#,
        "
        [
            a.b.c.d.e.f.g.h.i,
            a.b.c.d.e.f.g.h.i,
            a.b.c.d.e.f.g.h.i,
            a.b.c.d.e.f.g.h.i,
            a.b.c.d.e.f.g.h.i,
        ]
        ",
    );
    t.finish();
}

#[test]
fn test_query_captures_ordered_by_both_start_and_end_positions() {
    let mut t = Upstream::new("test_query_captures_ordered_by_both_start_and_end_positions");
    t.run(
        "javascript",
        r"
            (call_expression) @call
            (member_expression) @member
            (identifier) @variable
            ",
        "
          a.b(c.d().e).f;
        ",
    );
    t.finish();
}

#[test]
fn test_query_captures_with_matches_removed() {
    let mut t = Upstream::new("test_query_captures_with_matches_removed");
    // Upstream removes the matches whose capture text is "a"; cst has no
    // `QueryMatch::remove`, so the query is checked without removals.
    t.run(
        "javascript",
        r"
            (binary_expression
                left: (identifier) @left
                operator: _ @op
                right: (identifier) @right)
            ",
        "
          a === b && c > d && e < f;
        ",
    );
    t.finish();
}

#[test]
fn test_query_captures_with_matches_removed_before_they_finish() {
    let mut t = Upstream::new("test_query_captures_with_matches_removed_before_they_finish");
    // As above: checked without `remove`.
    t.run(
        "javascript",
        r#"
            (namespace_import
              "*" @star
              "as" @as
              (identifier) @identifier)
            "#,
        "
          import * as name from 'module-name';
        ",
    );
    t.finish();
}

#[test]
fn test_query_captures_and_matches_iterators_are_fused() {
    let mut t = Upstream::new("test_query_captures_and_matches_iterators_are_fused");
    let q = r"
            (comment) @comment
            ";
    let source = "
          // one
          // two
          // three
          /* unfinished
        ";
    let parsed = common::parse("javascript", source.as_bytes());
    let query = t.query("javascript", q).unwrap();
    t.check("javascript", &parsed, source.as_bytes(), &query, q, &[]);
    // Once exhausted, cst's iterators stay exhausted, as tree-sitter's do.
    t.cases += 1;
    let ts = run_tree_sitter(
        &parsed.tree,
        source.as_bytes(),
        &query,
        &Settings::default(),
    );
    let mut cursor = QueryCursor::new();
    let mut captures = cursor
        .captures(&query, parsed.view.root(), source.as_bytes())
        .unwrap();
    let n = captures.by_ref().count();
    let fused = (0..3).all(|_| captures.next().is_none());
    drop(captures);
    if n != ts.captures.len() || !fused {
        t.fail(format!(
            "captures: tree-sitter {} then none, cst {n} then fused {fused}",
            ts.captures.len()
        ));
    }
    let mut matches = cursor
        .matches(&query, parsed.view.root(), source.as_bytes())
        .unwrap();
    let n = matches.by_ref().count();
    let fused = (0..3).all(|_| matches.next().is_none());
    drop(matches);
    if n != ts.matches.len() || !fused {
        t.fail(format!(
            "matches: tree-sitter {} then none, cst {n} then fused {fused}",
            ts.matches.len()
        ));
    }
    t.finish();
}

#[test]
fn test_query_text_callback_returns_chunks() {
    let mut t = Upstream::new("test_query_text_callback_returns_chunks");
    // Upstream serves the text in 3-byte chunks; cst takes one slice.
    t.run(
        "javascript",
        r#"
            ((identifier) @leading_upper
             (#match? @leading_upper "^[A-Z][A-Z_]*[a-z]"))
            ((identifier) @all_upper
             (#match? @all_upper "^[A-Z][A-Z_]*$"))
            ((identifier) @all_lower
             (#match? @all_lower "^[a-z][a-z_]*$"))
            "#,
        "SOMETHING[a] = transform(AnotherThing[b].property[c], PARAMETER);",
    );
    t.finish();
}

// ---------------------------------------------------------------------------
// Query metadata

#[test]
fn test_query_start_end_byte_for_pattern() {
    let mut t = Upstream::new("test_query_start_end_byte_for_pattern");
    let patterns_1 = unindent(
        r#"
        "+" @operator
        "-" @operator
        "*" @operator
        "=" @operator
        "=>" @operator
    "#,
    );
    let patterns_2 = unindent(
        "
        (identifier) @a
        (string) @b
    ",
    );
    let patterns_3 = unindent(
        "
        ((identifier) @b (#match? @b i))
        (function_declaration name: (identifier) @c)
        (method_definition name: (property_identifier) @d)
    ",
    );
    t.compile("javascript", &(patterns_1 + &patterns_2 + &patterns_3));
    t.finish();
}

#[test]
fn test_query_capture_names() {
    let mut t = Upstream::new("test_query_capture_names");
    t.compile(
        "javascript",
        r#"
            (if_statement
              condition: (parenthesized_expression (binary_expression
                left: _ @left-operand
                operator: "||"
                right: _ @right-operand))
              consequence: (statement_block) @body)

            (while_statement
              condition: _ @loop-condition)
            "#,
    );
    t.finish();
}

#[test]
fn test_query_lifetime_is_separate_from_nodes_lifetime() {
    let mut t = Upstream::new("test_query_lifetime_is_separate_from_nodes_lifetime");
    t.run("javascript", r"(call_expression) @call", "a(1); b(2);");
    t.finish();
}

#[test]
fn test_query_with_no_patterns() {
    let mut t = Upstream::new("test_query_with_no_patterns");
    t.compile("javascript", "");
    t.finish();
}

#[test]
fn test_query_comments() {
    let mut t = Upstream::new("test_query_comments");
    t.run(
        "javascript",
        "
                ; this is my first comment
                ; i have two comments here
                (function_declaration
                    ; there is also a comment here
                    ; and here
                    name: (identifier) @fn-name)",
        "function one() { }",
    );
    t.finish();
}

#[test]
fn test_query_disable_pattern() {
    let mut t = Upstream::new("test_query_disable_pattern");
    let q = "
                (function_declaration
                    name: (identifier) @name)
                (function_declaration
                    body: (statement_block) @body)
                (class_declaration
                    name: (identifier) @name)
                (class_declaration
                    body: (class_body) @body)
            ";
    let source = "class A { constructor() {} } function b() { return 1; }";
    let parsed = common::parse("javascript", source.as_bytes());
    let mut query = t.query("javascript", q).unwrap();
    // disable the patterns that match names
    query.disable_pattern(0);
    query.disable_pattern(2);
    t.check(
        "javascript",
        &parsed,
        source.as_bytes(),
        &query,
        &format!("{q} (patterns 0 and 2 disabled)"),
        &[],
    );
    t.finish();
}

#[test]
fn test_query_alternative_predicate_prefix() {
    let mut t = Upstream::new("test_query_alternative_predicate_prefix");
    t.run(
        "c",
        r#"
            ((call_expression
              function: (identifier) @keyword
              arguments: (argument_list
                          (string_literal) @function))
             (.eq? @keyword "DEFUN"))
        "#,
        r#"
            DEFUN ("identity", Fidentity, Sidentity, 1, 1, 0,
                   doc: /* Return the argument unchanged.  */
                   attributes: const)
              (Lisp_Object arg)
            {
              return arg;
            }
        "#,
    );
    t.finish();
}

#[test]
fn test_query_is_pattern_guaranteed_at_step() {
    let mut t = Upstream::new("test_query_is_pattern_guaranteed_at_step");
    // (description, language, pattern); every offset of the pattern is
    // compared, not only upstream's substrings.
    let rows = [
        (
            "no guaranteed steps",
            "python",
            r"(expression_statement (string))",
        ),
        ("all guaranteed steps", "javascript", r#"(object "{" "}")"#),
        (
            "a fallible step that is optional",
            "javascript",
            r#"(object "{" (identifier)? @foo "}")"#,
        ),
        (
            "multiple fallible steps that are optional",
            "javascript",
            r#"(object "{" (identifier)? @id1 ("," (identifier) @id2)? "}")"#,
        ),
        (
            "guaranteed step after fallibe step",
            "javascript",
            r#"(pair (property_identifier) ":")"#,
        ),
        (
            "fallible step in between two guaranteed steps",
            "javascript",
            r#"(ternary_expression
                condition: (_)
                "?"
                consequence: (call_expression)
                ":"
                alternative: (_))"#,
        ),
        (
            "one guaranteed step after a repetition",
            "javascript",
            r#"(object "{" (_) "}")"#,
        ),
        (
            "guaranteed steps after multiple repetitions",
            "json",
            r#"(object "{" (pair) "," (pair) "," (_) "}")"#,
        ),
        (
            "a guaranteed step with a field",
            "javascript",
            r"(binary_expression left: (expression) right: (_))",
        ),
        (
            "multiple guaranteed steps with fields",
            "javascript",
            r"(function_declaration name: (identifier) body: (statement_block))",
        ),
        (
            "nesting, one guaranteed step",
            "javascript",
            r#"
                (function_declaration
                    name: (identifier)
                    body: (statement_block "{" (expression_statement) "}"))"#,
        ),
        (
            "a guaranteed step after some deeply nested hidden nodes",
            "ruby",
            r#"
            (singleton_class
                value: (constant)
                "end")
            "#,
        ),
        (
            "nesting, no guaranteed steps",
            "javascript",
            r"
            (call_expression
                function: (member_expression
                  property: (property_identifier) @template-tag)
                arguments: (template_string)) @template-call
            ",
        ),
        (
            "a guaranteed step after a nested node",
            "javascript",
            r#"
            (subscript_expression
                object: (member_expression
                    object: (identifier) @obj
                    property: (property_identifier) @prop)
                "[")
            "#,
        ),
        (
            "a step that is fallible due to a predicate",
            "javascript",
            r#"
            (subscript_expression
                object: (member_expression
                    object: (identifier) @obj
                    property: (property_identifier) @prop)
                "["
                (#match? @prop "foo"))
            "#,
        ),
        (
            "alternation where one branch has guaranteed steps",
            "javascript",
            r"
            [
                (unary_expression (identifier))
                (call_expression
                  function: (_)
                  arguments: (_))
                (binary_expression right: (call_expression))
            ]
            ",
        ),
        (
            "guaranteed step at the end of an aliased parent node",
            "ruby",
            r#"
            (method_parameters "(" (identifier) @id")")
            "#,
        ),
        (
            "long, but not too long to analyze",
            "javascript",
            r#"
            (object "{" (pair) (pair) (pair) (pair) "}")
            "#,
        ),
        (
            "too long to analyze",
            "javascript",
            r#"
            (object "{" (pair) (pair) (pair) (pair) (pair) (pair) (pair) (pair) (pair) (pair) (pair) (pair) "}")
            "#,
        ),
        (
            "hidden nodes that have several fields",
            "java",
            r"
            (method_declaration name: (identifier))
            ",
        ),
        (
            "top-level non-terminal extra nodes",
            "ruby",
            r"
            (heredoc_body
                (interpolation)
                (heredoc_end) @end)
            ",
        ),
    ];
    for (description, lang, pattern) in rows {
        eprintln!("  query example: {description:?}");
        t.compile(lang, pattern);
    }
    t.finish();
}

#[test]
fn test_query_is_pattern_rooted() {
    let mut t = Upstream::new("test_query_is_pattern_rooted");
    for pattern in [
        r"(identifier)",
        r"(function_definition name: (identifier))",
        r#"["if" "def" (identifier) (comment)]"#,
        r"[
                (function_definition name: (identifier))
                (class_definition name: (identifier))
                (block)
            ]",
        r#"("{" "}")"#,
        r"(comment)*",
        r#"[
                (block)
                (class_definition)
                ("(" ")")
                (function_definition)
            ]"#,
        r"[
                (block)
                (class_definition)
                (comment)*
                (function_definition)
            ]",
    ] {
        t.compile("python", pattern);
    }
    t.finish();
}

#[test]
fn test_query_is_pattern_non_local() {
    let mut t = Upstream::new("test_query_is_pattern_non_local");
    for (lang, pattern) in [
        ("python", r"(identifier)"),
        ("python", r"((identifier) (identifier))"),
        ("python", r"((return_statement) (return_statement))"),
        ("python", r"((function_definition) (class_definition))"),
        ("python", r#"("{" "}")"#),
        ("javascript", r#"(_ "{" "}") @foo"#),
        (
            "javascript",
            r"(_ (method_definition) (method_definition)) @foo",
        ),
        ("javascript", r"(method_definition)+ @foo"),
        ("javascript", r"(return_statement)+ @foo"),
        ("javascript", r"(return_statement) @foo"),
    ] {
        t.compile(lang, pattern);
    }
    t.finish();
}

#[test]
fn test_capture_quantifiers() {
    let mut t = Upstream::new("test_capture_quantifiers");
    for (lang, pattern) in [
        // Simple quantifiers
        (
            "python",
            r"
                (module) @mod
            ",
        ),
        (
            "javascript",
            r"
                (array (_)* @elems) @array
            ",
        ),
        (
            "javascript",
            r"
                (array (_)+ @elems) @array
            ",
        ),
        // Nested quantifiers
        (
            "javascript",
            r"
                (array (call_expression (arguments (_) @arg))? @call) @array
            ",
        ),
        (
            "javascript",
            r"
                (array (call_expression (arguments (_)? @arg))+ @call) @array
            ",
        ),
        (
            "javascript",
            r"
                (array (call_expression (arguments (_)+ @args))? @call) @array
            ",
        ),
        // Quantifiers in alternations
        (
            "javascript",
            r"[
                (function_declaration name:(identifier) @name)
                (call_expression function:(identifier) @name)
            ]",
        ),
        (
            "javascript",
            r"[
                (function_declaration name:(identifier) @name)
                (function_expression)
            ] @fun",
        ),
        (
            "javascript",
            r"[
                (call_expression arguments: (arguments (_)+ @args))
                (new_expression  arguments: (arguments (_)? @args))
            ] @call",
        ),
        // Quantifiers in siblings
        (
            "javascript",
            r"
                (call_expression (arguments (identifier)? @self (_)* @args)) @call
            ",
        ),
        (
            "javascript",
            r"
                (call_expression (arguments (identifier) @args (_)* @args)) @call
            ",
        ),
        // Combined scenarios
        (
            "javascript",
            r"
                (array
                    (call_expression
                        (arguments [
                            (identifier) @self
                            (_)+ @args
                        ])
                    )+ @call
                ) @array
            ",
        ),
        // Multiple patterns
        (
            "javascript",
            r"
                (function_declaration name: (identifier) @x)
                (statement_identifier) @y
                (property_identifier)+ @z
                (array (identifier)* @x)
            ",
        ),
        (
            "javascript",
            r"
            [
                (array (identifier) @x)
                (function_declaration name: (identifier)+ @x)
            ]
            [
                (array (identifier) @x)
                (function_declaration name: (identifier)+ @x)
            ]
            ",
        ),
    ] {
        t.compile(lang, pattern);
    }
    t.finish();
}

#[test]
fn test_query_quantified_captures() {
    let mut t = Upstream::new("test_query_quantified_captures");
    let code = unindent(
        "
            /// foo
            /// bar
            /// baz

            void main() {}

            /// qux
            /// quux
            // quuz
        ",
    );
    // doc comments where all must match the prefix; where one must
    t.run(
        "c",
        r#"
                ((comment)+ @comment.documentation
                  (#match? @comment.documentation "^///"))
            "#,
        &code,
    );
    t.run(
        "c",
        r#"
                ((comment)+ @comment.documentation
                  (#any-match? @comment.documentation "^///"))
            "#,
        &code,
    );
    t.finish();
}

// ---------------------------------------------------------------------------
// Start depth

#[test]
fn test_query_max_start_depth() {
    let mut t = Upstream::new("test_query_max_start_depth");
    let source = unindent(
        "
        if (a1 && a2) {
            if (b1 && b2) { }
            if (c) { }
        }
        if (d) {
            if (e1 && e2) { }
            if (f) { }
        }
    ",
    );
    let deep = r"
                (if_statement
                    condition: (parenthesized_expression
                        (binary_expression)
                    )
                ) @capture
            ";
    for (description, d, pattern) in [
        (
            "depth 0: match translation unit",
            0,
            r"
                (translation_unit) @capture
            ",
        ),
        (
            "depth 0: match none",
            0,
            r"
                (if_statement) @capture
            ",
        ),
        (
            "depth 1: match 2 if statements at the top level",
            1,
            r"
                (if_statement) @capture
            ",
        ),
        (
            "depth 1 with deep pattern: match the only the first if statement",
            1,
            deep,
        ),
        (
            "depth 3 with deep pattern: match all if statements with a binexpr condition",
            3,
            deep,
        ),
    ] {
        eprintln!("  query example: {description:?}");
        t.run_with("c", pattern, &source, &[depth(d)]);
    }
    t.finish();
}

#[test]
fn test_query_max_start_depth_more() {
    let mut t = Upstream::new("test_query_max_start_depth_more");
    let source = unindent(
        "
        {
            { }
            {
                { }
            }
        }
    ",
    );
    let q = "(compound_statement) @capture";
    let parsed = common::parse("c", source.as_bytes());
    let query = t.query("c", q).unwrap();
    // Run on the first match's node, the outer compound statement.
    let node = {
        let mut cursor = tree_sitter::QueryCursor::new();
        let mut matches = cursor.matches(query.inner(), parsed.tree.root_node(), source.as_bytes());
        matches.next().unwrap().captures[0].node
    };
    assert_eq!(node.kind(), "compound_statement");
    let index = preorder_index(&parsed.tree, node);
    for d in [0, 1, 2] {
        t.check(
            "c",
            &parsed,
            source.as_bytes(),
            &query,
            q,
            &[Settings {
                max_start_depth: Some(d),
                node: Some(index),
                ..Settings::default()
            }],
        );
    }
    t.finish();
}

// ---------------------------------------------------------------------------
// Later regressions

#[test]
fn test_consecutive_zero_or_modifiers() {
    let mut t = Upstream::new("test_consecutive_zero_or_modifiers");
    for q in [
        "(comment)*** @capture",
        "(comment)??? @capture",
        "(comment)*?* @capture",
        "(comment)?*? @capture",
    ] {
        for source in ["", "/**/ /**/ /**/"] {
            t.run("javascript", q, source);
        }
    }
    t.finish();
}

#[test]
fn test_query_with_first_child_in_group_is_anchor() {
    let mut t = Upstream::new("test_query_with_first_child_in_group_is_anchor");
    t.run(
        "c",
        r#"
            (parameter_list
              .
              ((parameter_declaration) @constant
                (#match? @constant "^int")))"#,
        r"void fun(int a, char b, int c) { };",
    );
    t.finish();
}

#[test]
fn test_query_wildcard_with_immediate_first_child() {
    let mut t = Upstream::new("test_query_wildcard_with_immediate_first_child");
    t.run(
        "javascript",
        "(_ . (identifier) @firstChild)",
        "function name(one, two, three) { }",
    );
    t.finish();
}

#[test]
fn test_query_on_empty_source_code() {
    let mut t = Upstream::new("test_query_on_empty_source_code");
    t.run("javascript", "(program) @program", "");
    t.finish();
}

#[test]
fn test_query_execution_with_timeout() {
    let mut t = Upstream::new("test_query_execution_with_timeout");
    // Upstream first interrupts the run with a progress callback; cst has
    // none, so the uninterrupted run is checked.
    t.run(
        "javascript",
        "(function_declaration) @function",
        &"function foo() { while (true) { } }\n".repeat(1000),
    );
    t.finish();
}

#[test]
fn test_query_execution_with_points_causing_underflow() {
    let mut t = Upstream::new("test_query_execution_with_points_causing_underflow")
        .known_difference(STORED_POINTS);
    let code = r#"fn main() {
    println!("{:?}", foo());
}"#;
    let q = "(call_expression) @cap";
    let query = t.query("rust", q).unwrap();
    let mut parser = cst_grammars::by_id("rust").unwrap().parser().unwrap();
    parser
        .set_included_ranges(&[tree_sitter::Range {
            start_byte: 24,
            end_byte: 39,
            start_point: tree_sitter::Point::new(0, 0), // 5, 12
            end_point: tree_sitter::Point::new(0, 0),   // 5, 27
        }])
        .unwrap();
    let mut tree = parser.parse(code, None).unwrap();
    let parsed = store("rust", tree.clone(), code.as_bytes());
    // The stored tree's points are the text's, not the parser's: verify
    // says so.
    let mismatch = cst_bytecode::verify(&parsed.tree, &parsed.view)
        .expect_err("verify must report the points the view cannot keep");
    assert!(mismatch.what.contains("point"), "{mismatch}");
    t.check("rust", &parsed, code.as_bytes(), &query, q, &[]);
    tree.edit(&tree_sitter::InputEdit {
        start_byte: 40,
        old_end_byte: 40,
        new_end_byte: 41,
        start_position: tree_sitter::Point::new(1, 28),
        old_end_position: tree_sitter::Point::new(1, 28),
        new_end_position: tree_sitter::Point::new(2, 0),
    });
    let tree2 = parser.parse(code, Some(&tree)).unwrap();
    let parsed2 = store("rust", tree2, code.as_bytes());
    t.check("rust", &parsed2, code.as_bytes(), &query, q, &[]);
    t.finish();
}

#[test]
fn test_wildcard_behavior_before_anchor() {
    let mut t = Upstream::new("test_wildcard_behavior_before_anchor");
    let source = "
        (a, b)
        (c, d,)
    ";
    // Any *named* node, then *any* node, immediately before a closing paren.
    t.run("python", r#"(tuple (_) @last . ")" .) @match"#, source);
    t.run("python", r#"(tuple _ @last . ")" .) @match"#, source);
    t.finish();
}

#[test]
fn test_pattern_alternatives_follow_last_child_constraint() {
    let mut t = Upstream::new("test_pattern_alternatives_follow_last_child_constraint");
    let code = "
fn f() {
    if a {} // <- should NOT match
    if b {}
}";
    t.run(
        "rust",
        "(block
        [
            (type_cast_expression)
            (expression_statement)
        ] @last
        .
        )",
        code,
    );
    t.run(
        "rust",
        "(block
        [
            (expression_statement)
            (type_cast_expression)
        ] @last
        .
        )",
        code,
    );
    t.finish();
}

#[test]
fn test_wildcard_parent_allows_fallible_child_patterns() {
    let mut t = Upstream::new("test_wildcard_parent_allows_fallible_child_patterns");
    t.run(
        "javascript",
        "(function_declaration
          (_
            (expression_statement)
          )
        ) @part",
        r#"
function foo() {
    "bar"
}
    "#,
    );
    t.finish();
}

#[test]
fn test_unfinished_captures_are_not_definite_with_pending_anchors() {
    let mut t = Upstream::new("test_unfinished_captures_are_not_definite_with_pending_anchors");
    t.run(
        "javascript",
        r#"(array (_) @foo . "]")"#,
        "
const foo = [
  1, 2, 3
]
",
    );
    t.finish();
}

#[test]
fn test_query_allows_error_nodes_with_children() {
    let mut t = Upstream::new("test_query_allows_error_nodes_with_children");
    t.run(
        "cpp",
        "(initializer_list (ERROR) @error)",
        "SomeStruct foo{.bar{}};",
    );
    t.finish();
}

// ---------------------------------------------------------------------------
// Random patterns

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A pattern drawn from a tree, as upstream's `Pattern` helper draws them.
struct Drawn {
    kind: String,
    named: bool,
    field: Option<&'static str>,
    capture: Option<&'static str>,
    children: Vec<Drawn>,
}

const CAPTURE_NAMES: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight",
];

impl Drawn {
    /// A pattern for a node at a random offset and depth, sometimes with
    /// some of its following siblings.
    fn in_tree(tree: &tree_sitter::Tree, rng: &mut Rng) -> Drawn {
        let mut cursor = tree.walk();
        let mut max_depth = 0;
        let offset = rng.below(cursor.node().end_byte());
        while cursor.goto_first_child_for_byte(offset).is_some() {
            max_depth += 1;
        }
        for _ in 0..rng.below(max_depth + 1) {
            cursor.goto_parent();
        }
        let mut roots = vec![Drawn::for_node(&mut cursor, rng)];
        while roots.len() < 5 && cursor.goto_next_sibling() {
            if rng.chance(20) {
                roots.push(Drawn::for_node(&mut cursor, rng));
            }
        }
        if roots.len() == 1 || (roots[0].kind == "_" && !roots[0].named) {
            // A list of siblings can't start with an anonymous wildcard.
            roots.pop().unwrap()
        } else {
            // nor with a field.
            roots[0].field = None;
            Drawn {
                kind: String::new(),
                named: true,
                field: None,
                capture: None,
                children: roots,
            }
        }
    }

    fn for_node(cursor: &mut tree_sitter::TreeCursor<'_>, rng: &mut Rng) -> Drawn {
        let node = cursor.node();
        let (kind, named) = if rng.chance(90) {
            (node.kind().to_owned(), node.is_named())
        } else {
            ("_".to_owned(), node.is_named() && rng.chance(80))
        };
        let field = if rng.chance(75) {
            cursor.field_name()
        } else {
            None
        };
        let capture = rng
            .chance(70)
            .then(|| CAPTURE_NAMES[rng.below(CAPTURE_NAMES.len())]);
        let mut children = Vec::new();
        if named && cursor.goto_first_child() {
            let max_children = rng.below(4);
            while cursor.goto_next_sibling() {
                if rng.chance(60) {
                    children.push(Drawn::for_node(cursor, rng));
                    if children.len() >= max_children {
                        break;
                    }
                }
            }
            cursor.goto_parent();
        }
        Drawn {
            kind,
            named,
            field,
            capture,
            children,
        }
    }

    fn write(&self, out: &mut String, indent: usize) {
        if let Some(field) = self.field {
            write!(out, "{field}: ").unwrap();
        }
        if self.named {
            out.push('(');
            out.push_str(&self.kind);
            let mut has_contents = !self.kind.is_empty();
            for child in &self.children {
                if has_contents {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent + 2));
                }
                child.write(out, indent + 2);
                has_contents = true;
            }
            out.push(')');
        } else if self.kind == "_" {
            out.push('_');
        } else {
            let escaped = self.kind.replace('\\', "\\\\").replace('"', "\\\"");
            write!(out, "\"{escaped}\"").unwrap();
        }
        if let Some(capture) = self.capture {
            write!(out, " @{capture}").unwrap();
        }
    }
}

#[test]
fn test_query_random() {
    let mut t = Upstream::new("test_query_random");
    // Upstream draws from and runs on its query_helpers.rs; here a Rust
    // source of this repository serves both.
    let source = include_str!("../common/mod.rs");
    let parsed = common::parse("rust", source.as_bytes());
    let (mut accepted, mut rejected) = (0, 0);
    for seed in 0..300u64 {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0xbf58_476d_1ce4_e5b9) | 1);
        let mut pattern = String::new();
        Drawn::in_tree(&parsed.tree, &mut rng).write(&mut pattern, 0);
        match t.query("rust", &pattern) {
            Some(query) => {
                accepted += 1;
                // Upstream's match limit, then settings of this port's own.
                let extra = [
                    Settings::default(),
                    bytes(source.len() / 3..source.len() / 2),
                    depth(rng.below(8) as u32),
                ];
                t.check_with(
                    "rust",
                    &parsed,
                    source.as_bytes(),
                    &query,
                    &pattern,
                    &[match_limit(64)],
                    &extra,
                );
            }
            None => {
                t.cases += 1;
                rejected += 1;
            }
        }
    }
    eprintln!("test_query_random: {accepted} patterns compiled, {rejected} rejected by both");
    assert!(accepted > 200);
    t.finish();
}

/// Captures mode with a caller's hand in it, on both engines: `act` sees
/// each (match id, capture text) and says whether to remove the match (as
/// `QueryMatch::remove` does); after `narrow_after` captures, the running
/// iterator's byte range becomes `narrow`. Returns the (pattern, capture
/// index, text) of each capture kept.
#[allow(clippy::type_complexity)]
fn captures_driven(
    lang: &str,
    query_source: &str,
    source: &str,
    remove: &dyn Fn(&str) -> bool,
    narrow: Option<(usize, std::ops::Range<usize>)>,
) -> (Vec<(usize, u32, String)>, Vec<(usize, u32, String)>) {
    use tree_sitter::StreamingIterator;
    let query = Query::new(&language(lang), query_source).unwrap();
    let parsed = common::parse(lang, source.as_bytes());
    let text = |r: std::ops::Range<usize>| source[r].to_owned();
    let mut ts = Vec::new();
    let mut cursor = tree_sitter::QueryCursor::new();
    let mut it = cursor.captures(query.inner(), parsed.tree.root_node(), source.as_bytes());
    let mut seen = 0;
    while let Some((m, i)) = it.next() {
        let c = m.captures[*i];
        let t = text(c.node.byte_range());
        seen += 1;
        if remove(&t) {
            m.remove();
        } else {
            ts.push((m.pattern_index, c.index, t));
        }
        if let Some((after, range)) = &narrow
            && seen == *after
        {
            it.set_byte_range(range.clone());
        }
    }
    let mut ours = Vec::new();
    let mut cursor = cst_query::QueryCursor::new();
    let mut it = cursor
        .captures(&query, parsed.view.root(), source.as_bytes())
        .unwrap();
    let mut seen = 0;
    while let Some((m, i)) = it.next() {
        let c = m.captures[i];
        let t = text(c.node.byte_range());
        seen += 1;
        if remove(&t) {
            it.remove_match(m.id());
        } else {
            ours.push((m.pattern_index, c.index, t));
        }
        if let Some((after, range)) = &narrow
            && seen == *after
        {
            it.set_byte_range(range.clone());
        }
    }
    (ts, ours)
}

#[test]
fn test_query_captures_with_matches_removed_driven() {
    // Upstream's test as written: remove every match whose capture is `a`.
    let (ts, ours) = captures_driven(
        "javascript",
        "(binary_expression left: (identifier) @left operator: _ @op right: (identifier) @right)",
        "a === b && c > d && e < f;",
        &|t| t == "a",
        None,
    );
    assert!(!ts.is_empty());
    assert_eq!(ts, ours);
}

#[test]
fn test_query_captures_with_matches_removed_before_they_finish_driven() {
    let (ts, ours) = captures_driven(
        "javascript",
        r#"(namespace_import "*" @star "as" @as (identifier) @identifier)"#,
        "import * as name from 'module-name';",
        &|t| t == "as",
        None,
    );
    assert!(!ts.is_empty());
    assert_eq!(ts, ours);
}

#[test]
fn test_query_captures_within_byte_range_assigned_after_iterating_driven() {
    let source = "
        mod m1 {
            mod m2 {
                fn f1() -> Option<()> { Some(()) }
            }
            fn f2() -> Result<()> { Ok(()) }
            fn f3() {}
        }
        ";
    let query = r#"
        (function_item name: (identifier) @fn_name)
        (mod_item name: (identifier) @mod_name body: (declaration_list "{" @lbrace "}" @rbrace))
        ((function_item
            return_type: (generic_type type: (type_identifier) @result type_arguments: (type_arguments (unit_type)))
            body: _ @fallible_fn_body)
         (#eq? @result "Result"))
        "#;
    let start = source.find("Ok").unwrap();
    let (ts, ours) = captures_driven(
        "rust",
        query,
        source,
        &|_| false,
        Some((5, start..source.len())),
    );
    assert!(ts.len() > 5);
    assert_eq!(ts, ours);
}

// ---------------------------------------------------------------------------
// Regressions found while porting

/// A regression test found while porting (cst-query treated every hidden
/// symbol as a repetition node, so it did not descend into hidden named
/// nodes outside an included range, and missed non-rooted patterns that
/// start there; tree-sitter tests the grammar's raw `named` flag). In `[a, 'hi', x(true), {y: false}]`, `a` and `'hi'` sit in hidden
/// `expression`/`primary_expression` nodes (supertypes) directly under the
/// array; the ranges intersect the array but not them. Patterns whose first
/// node is anonymous (`"," (string)`) or that are rooted (`(array
/// (identifier) (string))`) agree.
#[test]
fn known_difference_hidden_named_nodes_outside_range() {
    let mut t = Upstream::new("known_difference_hidden_named_nodes_outside_range");
    let source = "[a, 'hi', x(true), {y: false}]";
    let parsed = common::parse("javascript", source.as_bytes());
    for q in [
        "(_ (identifier) @a)",
        "(_ (string) @a)",
        "((identifier) @a \",\" @b)",
        "((identifier) @a . (string) @b)",
        "((identifier) @a)+",
        "(\",\" @x (string) @a)",
        "(array (identifier) @a (string) @b)",
    ] {
        let query = t.query("javascript", q).unwrap();
        t.check_with(
            "javascript",
            &parsed,
            source.as_bytes(),
            &query,
            q,
            &[],
            &[bytes(25..26), bytes(0..1), points((0, 25), (0, 26))],
        );
    }
    t.finish();
}
