//! `textDocument/documentHighlight`: scope-resolved answers from locals
//! queries (JavaScript, Ruby, Starlark) and syntactic ones (C, Rust),
//! checked against hand-placed expectations and, at every token of the
//! current text, against an oracle over a fresh tree-sitter parse.

use crate::common;

use common::*;
use cst_workspace::Encoding;
use cst_workspace::cst::{grammars, tree_sitter};
use serde_json::json;

const TEXT: u64 = 1;
const READ: u64 = 2;
const WRITE: u64 = 3;

/// A highlight: bytes and kind.
type Hl = (usize, usize, u64);

const JS: &str = "let count = 0;\nfunction outer(step) {\n  let count = step;\n  count += 1;\n  if (count > 2) {\n    const step = count * 2;\n    return step;\n  }\n  return count + step; // count\n}\nconsole.log(count, outer(1), \"count\");\n";

const C: &str = "struct point { int x; int y; };\n/* x marks the spot */\nint x = 1;\nint get(struct point *p) {\n\tint y = x + p->x;\n\treturn y + x; // x\n}\nconst char *s = \"x\";\n";

const RUST: &str = "struct P { x: i32 }\nfn f(p: P) -> i32 {\n    let x = p.x; // x\n    let s = \"x\";\n    x + x\n}\nfn g() -> i32 { let x = 2; x }\n";

/// The server's highlights at byte `at`, in bytes.
fn highlights(c: &mut Client, u: &str, text: &str, at: usize, enc: Encoding) -> Vec<Hl> {
    let v = c.ok(
        "textDocument/documentHighlight",
        json!({"textDocument": {"uri": u}, "position": pos(text, at, enc)}),
    );
    let mut out: Vec<Hl> = v
        .as_array()
        .expect("a list, never null")
        .iter()
        .map(|h| {
            (
                offset(text, &h["range"]["start"], enc),
                offset(text, &h["range"]["end"], enc),
                h["kind"].as_u64().unwrap_or(TEXT),
            )
        })
        .collect();
    out.sort();
    out
}

/// The bytes of the `n`th (from 0) whole-word occurrence of `word`.
fn nth(text: &str, word: &str, n: usize) -> (usize, usize) {
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(word)
        .map(|(i, _)| i)
        .filter(|&i| {
            !is_word(text[..i].chars().next_back())
                && !is_word(text[i + word.len()..].chars().next())
        })
        .nth(n)
        .map(|i| (i, i + word.len()))
        .unwrap_or_else(|| panic!("occurrence {n} of {word}"))
}

/// Highlights of the occurrences `ns` of `word`, with kinds.
fn occ(text: &str, word: &str, ns: &[(usize, u64)]) -> Vec<Hl> {
    let mut out: Vec<Hl> = ns
        .iter()
        .map(|&(n, k)| {
            let (s, e) = nth(text, word, n);
            (s, e, k)
        })
        .collect();
    out.sort();
    out
}

// ---- the oracle: the documented rules over a fresh tree-sitter parse ----

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Scope,
    Def,
    Ref,
}

fn role(name: &str) -> Option<Role> {
    if name.split('.').any(|p| p.starts_with('_')) {
        return None;
    }
    let bare = name.strip_prefix("local.").unwrap_or(name);
    match bare {
        "scope" => Some(Role::Scope),
        "reference" => Some(Role::Ref),
        "definition" => Some(Role::Def),
        "definition.associated" => None,
        b if b.starts_with("definition.") => Some(Role::Def),
        _ => None,
    }
}

/// Locals resolved by ancestry (not by the server's walk): a definition
/// belongs to the smallest scope containing it (the next one out with
/// `definition.<kind>.scope "parent"`); a reference to the latest earlier
/// definition of its text in the smallest containing scope that has one,
/// stopping after a scope that does not inherit. `(defs, refs)`.
type Span = (usize, usize);
type Locals = (Vec<Span>, Vec<(Span, Option<usize>)>);

fn oracle_locals(lang: &str, text: &str, tree: &tree_sitter::Tree) -> Option<Locals> {
    use tree_sitter::StreamingIterator;
    let g = grammars::by_id(lang).expect("grammar");
    let q = tree_sitter::Query::new(&g.language().expect("language"), g.queries().locals?)
        .expect("locals");
    let mut scopes: Vec<(Span, bool)> = Vec::new();
    let mut defs: Vec<(Span, bool)> = Vec::new();
    let mut refs: Vec<Span> = Vec::new();
    let mut cursor = tree_sitter::QueryCursor::new();
    let mut caps = cursor.captures(&q, tree.root_node(), text.as_bytes());
    while let Some((m, i)) = caps.next() {
        let c = m.captures[*i];
        let name = q.capture_names()[c.index as usize];
        let span = (c.node.start_byte(), c.node.end_byte());
        let props = q.property_settings(m.pattern_index);
        match role(name) {
            Some(Role::Scope) => {
                let inherits = !props.iter().any(|p| {
                    &*p.key == "local.scope-inherits" && p.value.as_deref() != Some("true")
                });
                scopes.push((span, inherits));
            }
            Some(Role::Def) => {
                let key = format!("{}.scope", name.strip_prefix("local.").unwrap_or(name));
                let parent = props
                    .iter()
                    .any(|p| *p.key == key && p.value.as_deref() == Some("parent"));
                defs.push((span, parent));
            }
            Some(Role::Ref) => refs.push(span),
            None => {}
        }
    }
    defs.sort_by_key(|d| d.0);
    defs.dedup_by_key(|d| d.0);
    refs.sort();
    refs.dedup();
    refs.retain(|r| !defs.iter().any(|d| d.0 == *r));
    // The scopes containing a span, smallest first.
    let around = |s: Span| {
        let mut v: Vec<(Span, bool)> = scopes
            .iter()
            .copied()
            .filter(|(x, _)| x.0 <= s.0 && s.1 <= x.1 && x.0 < x.1)
            .collect();
        v.sort_by_key(|(x, _)| (x.1 - x.0, std::cmp::Reverse(x.0)));
        v.dedup_by_key(|(x, _)| *x);
        v
    };
    let home: Vec<Option<Span>> = defs
        .iter()
        .map(|(d, parent)| around(*d).get(usize::from(*parent)).map(|x| x.0))
        .collect();
    let name = |s: Span| &text[s.0..s.1];
    let resolved = refs
        .iter()
        .map(|&r| {
            let latest = |scope: Option<Span>| {
                (0..defs.len())
                    .filter(|&d| {
                        home[d] == scope && defs[d].0.0 < r.0 && name(defs[d].0) == name(r)
                    })
                    .max_by_key(|&d| defs[d].0.0)
            };
            let mut found = None;
            let mut reached_root = true;
            for (s, inherits) in around(r) {
                found = latest(Some(s));
                if found.is_some() || !inherits {
                    reached_root = found.is_none() && inherits;
                    break;
                }
            }
            if found.is_none() && reached_root {
                found = latest(None);
            }
            (r, found)
        })
        .collect();
    Some((defs.into_iter().map(|d| d.0).collect(), resolved))
}

/// The documented answer at byte `at` of `text`, from a fresh parse.
fn expected(lang: &str, text: &str, at: usize) -> Vec<Hl> {
    let tree = parse(lang, text);
    let locals = oracle_locals(lang, text, &tree);
    let captured = |s: Span| {
        locals
            .as_ref()
            .is_some_and(|(d, r)| d.contains(&s) || r.iter().any(|x| x.0 == s))
    };
    let is_name = |n: &tree_sitter::Node<'_>| {
        let s = (n.start_byte(), n.end_byte());
        (n.is_named() && !n.is_missing() && n.kind().contains("identifier") && n.child_count() == 0)
            || captured(s)
    };
    let root = tree.root_node();
    let node = root
        .descendant_for_byte_range(at, at)
        .filter(|n| is_name(n))
        .or_else(|| {
            let b = root.descendant_for_byte_range(at.checked_sub(1)?, at - 1)?;
            (b.end_byte() == at && is_name(&b)).then_some(b)
        });
    let Some(node) = node else {
        return Vec::new();
    };
    let span = (node.start_byte(), node.end_byte());
    if let Some((defs, refs)) = &locals {
        let def = defs
            .iter()
            .position(|d| *d == span)
            .or_else(|| refs.iter().find(|r| r.0 == span).and_then(|r| r.1));
        if let Some(d) = def {
            let mut out: Vec<Hl> = refs
                .iter()
                .filter(|r| r.1 == Some(d))
                .map(|r| (r.0.0, r.0.1, READ))
                .collect();
            out.push((defs[d].0, defs[d].1, WRITE));
            out.sort();
            return out;
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        let s = (n.start_byte(), n.end_byte());
        let local = locals
            .as_ref()
            .is_some_and(|(d, r)| d.contains(&s) || r.iter().any(|x| x.0 == s && x.1.is_some()));
        if n.child_count() == 0
            && n.is_named()
            && !n.is_missing()
            && n.kind() == node.kind()
            && text[s.0..s.1] == text[span.0..span.1]
            && !local
        {
            out.push((s.0, s.1, TEXT));
        }
        let mut c = n.walk();
        stack.extend(n.children(&mut c));
    }
    out.sort();
    out
}

/// The server agrees with the oracle at the start and end of every token
/// of `text`, and in the middle of each gap between tokens.
fn check_everywhere(c: &mut Client, u: &str, lang: &str, text: &str, enc: Encoding) {
    let tree = parse(lang, text);
    let mut offsets = vec![0, text.len()];
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.child_count() == 0 {
            offsets.extend([n.start_byte(), n.end_byte()]);
        }
        let mut w = n.walk();
        stack.extend(n.children(&mut w));
    }
    offsets.sort();
    offsets.dedup();
    let gaps: Vec<usize> = offsets.windows(2).map(|w| (w[0] + w[1]) / 2).collect();
    offsets.extend(gaps);
    offsets.sort();
    offsets.dedup();
    let mut named = 0;
    for at in offsets {
        if !text.is_char_boundary(at) {
            continue;
        }
        let want = expected(lang, text, at);
        named += usize::from(!want.is_empty());
        assert_eq!(
            highlights(c, u, text, at, enc),
            want,
            "at byte {at} of {text:?}"
        );
    }
    assert!(named > 0, "names were tried");
}

fn change(
    c: &mut Client,
    u: &str,
    version: i32,
    text: &str,
    edit: (usize, usize, &str),
    enc: Encoding,
) -> String {
    let (s, e, new) = edit;
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": version},
               "contentChanges": [{"range": range(text, s, e, enc), "text": new}]}),
    );
    let mut t = text.to_string();
    t.replace_range(s..e, new);
    t
}

#[test]
fn javascript_shadowing_and_parameters() {
    let enc = Encoding::Utf16;
    let mut c = Client::start(&[("app.js", JS)], None);
    assert_eq!(c.init["capabilities"]["documentHighlightProvider"], true);
    let u = uri(&c.root.join("app.js"));
    let at = |word: &str, n: usize| nth(JS, word, n).0 + 1;
    // Not open yet: the stored tree (cst's query engine).
    let outer_count = occ(JS, "count", &[(0, WRITE), (7, READ)]);
    assert_eq!(highlights(&mut c, &u, JS, at("count", 0), enc), outer_count);
    // Opened with the stored text: still the stored tree.
    c.open("app.js", "javascript", JS);
    assert_eq!(highlights(&mut c, &u, JS, at("count", 7), enc), outer_count);
    // The inner `count` shadows the outer: its own definition and uses
    // (not the one in the comment, nor the string).
    let inner_count = occ(
        JS,
        "count",
        &[(1, WRITE), (2, READ), (3, READ), (4, READ), (5, READ)],
    );
    for n in 1..=5 {
        assert_eq!(
            highlights(&mut c, &u, JS, at("count", n), enc),
            inner_count,
            "count {n}"
        );
    }
    // A cursor just past a name is on it.
    let end = nth(JS, "count", 3).1;
    assert_eq!(highlights(&mut c, &u, JS, end, enc), inner_count);
    // The parameter and its uses; the block's `step` shadows it.
    let param = occ(JS, "step", &[(0, WRITE), (1, READ), (4, READ)]);
    assert_eq!(highlights(&mut c, &u, JS, at("step", 1), enc), param);
    let inner_step = occ(JS, "step", &[(2, WRITE), (3, READ)]);
    assert_eq!(highlights(&mut c, &u, JS, at("step", 3), enc), inner_step);
    // Not locals (no definition in scope): the same names of the same
    // kind, syntactically.
    let outer = occ(JS, "outer", &[(0, TEXT), (1, TEXT)]);
    assert_eq!(highlights(&mut c, &u, JS, at("outer", 1), enc), outer);
    assert_eq!(
        highlights(&mut c, &u, JS, at("log", 0), enc),
        occ(JS, "log", &[(0, TEXT)])
    );
    check_everywhere(&mut c, &u, "javascript", JS, enc);

    // Edits (a live tree from now on): the inner `let count` becomes
    // `let total`; its former uses now resolve to the outer `count`.
    let (s, e) = nth(JS, "count", 1);
    let text = change(&mut c, &u, 2, JS, (s, e, "total"), enc);
    assert_eq!(
        highlights(&mut c, &u, &text, nth(&text, "count", 0).0, enc),
        occ(
            &text,
            "count",
            &[
                (0, WRITE),
                (1, READ),
                (2, READ),
                (3, READ),
                (4, READ),
                (6, READ)
            ]
        )
    );
    assert_eq!(
        highlights(&mut c, &u, &text, nth(&text, "total", 0).0, enc),
        occ(&text, "total", &[(0, WRITE)])
    );
    check_everywhere(&mut c, &u, "javascript", &text, enc);
    // An astral character and a syntax error before the names.
    let text = change(&mut c, &u, 3, &text, (0, 0, "const 😀 = \"𝄞\"; let\n"), enc);
    check_everywhere(&mut c, &u, "javascript", &text, enc);
    c.shutdown();
}

#[test]
fn ruby_method_scopes_do_not_inherit() {
    let src = "x = 1\ndef m\n  puts x\n  y = 2\n  y\nend\nx\n";
    let mut c = Client::start(&[], None);
    let u = c.open("a.rb", "ruby", src);
    let enc = Encoding::Utf16;
    // The `x` inside the method does not see the outer one.
    assert_eq!(
        highlights(&mut c, &u, src, nth(src, "x", 0).0, enc),
        occ(src, "x", &[(0, WRITE), (2, READ)])
    );
    assert_eq!(
        highlights(&mut c, &u, src, nth(src, "x", 1).0, enc),
        occ(src, "x", &[(1, TEXT)])
    );
    assert_eq!(
        highlights(&mut c, &u, src, nth(src, "y", 1).0, enc),
        occ(src, "y", &[(0, WRITE), (1, READ)])
    );
    check_everywhere(&mut c, &u, "ruby", src, enc);
    c.shutdown();
}

#[test]
fn starlark_function_names_live_in_the_parent_scope() {
    // The older capture spelling (`@definition.function`, `@reference`)
    // and `(#set! definition.function.scope "parent")`.
    let src = "def helper(a):\n    b = a\n    return b\n\ndef other(a):\n    return helper(a)\n\nhelper(1)\n";
    let mut c = Client::start(&[], None);
    let u = c.open("rules.bzl", "starlark", src);
    let enc = Encoding::Utf16;
    let helper = occ(src, "helper", &[(0, WRITE), (1, READ), (2, READ)]);
    assert_eq!(
        highlights(&mut c, &u, src, nth(src, "helper", 2).0, enc),
        helper
    );
    assert_eq!(
        highlights(&mut c, &u, src, nth(src, "a", 1).0, enc),
        occ(src, "a", &[(0, WRITE), (1, READ)])
    );
    assert_eq!(
        highlights(&mut c, &u, src, nth(src, "a", 3).0, enc),
        occ(src, "a", &[(2, WRITE), (3, READ)])
    );
    check_everywhere(&mut c, &u, "starlark", src, enc);
    c.shutdown();
}

#[test]
fn c_and_rust_are_syntactic() {
    let enc = Encoding::Utf16;
    let mut c = Client::start(&[("lib.c", C)], None);
    let uc = c.open("lib.c", "c", C);
    // The variable `x`: identifiers only, not the fields, the comments or
    // the string.
    let var = occ(C, "x", &[(2, TEXT), (3, TEXT), (5, TEXT)]);
    for n in [2, 3, 5] {
        assert_eq!(
            highlights(&mut c, &uc, C, nth(C, "x", n).0, enc),
            var,
            "x {n}"
        );
    }
    // The field `x`: field identifiers only.
    let field = occ(C, "x", &[(0, TEXT), (4, TEXT)]);
    assert_eq!(highlights(&mut c, &uc, C, nth(C, "x", 4).0, enc), field);
    // In a comment or a string: nothing.
    assert_eq!(highlights(&mut c, &uc, C, nth(C, "x", 1).0, enc), vec![]);
    assert_eq!(highlights(&mut c, &uc, C, nth(C, "x", 7).0, enc), vec![]);
    check_everywhere(&mut c, &uc, "c", C, enc);

    let ur = c.open("main.rs", "rust", RUST);
    // Syntactic: the `x` of `g` is highlighted with the `x` of `f`.
    let var = occ(
        RUST,
        "x",
        &[(1, TEXT), (5, TEXT), (6, TEXT), (7, TEXT), (8, TEXT)],
    );
    assert_eq!(highlights(&mut c, &ur, RUST, nth(RUST, "x", 5).0, enc), var);
    let field = occ(RUST, "x", &[(0, TEXT), (2, TEXT)]);
    assert_eq!(
        highlights(&mut c, &ur, RUST, nth(RUST, "x", 2).0, enc),
        field
    );
    // In a comment or a string: nothing.
    assert_eq!(
        highlights(&mut c, &ur, RUST, nth(RUST, "x", 3).0, enc),
        vec![]
    );
    assert_eq!(
        highlights(&mut c, &ur, RUST, nth(RUST, "x", 4).0, enc),
        vec![]
    );
    // Type identifiers are a kind of their own.
    assert_eq!(
        highlights(&mut c, &ur, RUST, nth(RUST, "P", 1).0, enc),
        occ(RUST, "P", &[(0, TEXT), (1, TEXT)])
    );
    check_everywhere(&mut c, &ur, "rust", RUST, enc);
    c.shutdown();
}

/// An edit made from the current text: bytes replaced and new text.
type Edit = dyn Fn(&str) -> (usize, usize, String);

/// Edits then highlights, in both encodings: each answer is the current
/// text's (compared at every token with a fresh parse of it).
fn edits_session(enc: Encoding) {
    let offered: Option<&[&str]> = match enc {
        Encoding::Utf8 => Some(&["utf-8"]),
        Encoding::Utf16 => None,
    };
    let mut c = Client::start(&[], offered);
    let u = c.open("main.rs", "rust", RUST);
    let mut text = RUST.to_string();
    let edits: [&Edit; 4] = [
        // Rename one use: it leaves the group.
        &|t| {
            let (s, e) = nth(t, "x", 6);
            (s, e, "y".to_string())
        },
        // An astral character before the names of a line.
        &|t| {
            let s = nth(t, "let", 0).0;
            (s, s, "/* 😀𝄞 */ ".to_string())
        },
        // A new use of `x`.
        &|t| {
            let (_, e) = nth(t, "x", 7);
            (e, e, " + x".to_string())
        },
        // A syntax error.
        &|t| {
            let s = t.rfind('}').expect("a brace");
            (s, s + 1, String::new())
        },
    ];
    for (i, edit) in edits.iter().enumerate() {
        let (s, e, new) = edit(&text);
        text = change(&mut c, &u, i as i32 + 2, &text, (s, e, &new), enc);
        check_everywhere(&mut c, &u, "rust", &text, enc);
    }
    c.shutdown();
}

#[test]
fn edits_in_utf16() {
    edits_session(Encoding::Utf16);
}

#[test]
fn edits_in_utf8() {
    edits_session(Encoding::Utf8);
}

#[test]
fn off_names_and_astral_positions() {
    let src = "let s = \"😀\"; let v = s + \"𝄞\" + s;\n  \n";
    let mut c = Client::start(&[], None);
    let u = c.open("a.js", "javascript", src);
    let enc = Encoding::Utf16;
    // Whitespace, punctuation, a string, an empty line, the end: [].
    for at in [
        src.find("= ").expect("space") + 1,
        src.find(';').expect("semicolon"),
        src.find('😀').expect("emoji"),
        src.len() - 2,
        src.len(),
    ] {
        assert_eq!(highlights(&mut c, &u, src, at, enc), vec![], "at {at}");
    }
    // UTF-16 columns, by hand: the last `s` is after two astral
    // characters (two code units each); on it, and just past it.
    for character in [33, 34] {
        let v = c.ok(
            "textDocument/documentHighlight",
            json!({"textDocument": {"uri": u}, "position": {"line": 0, "character": character}}),
        );
        let cols: Vec<(u64, u64, u64)> = v
            .as_array()
            .expect("a list")
            .iter()
            .map(|h| {
                (
                    h["range"]["start"]["character"].as_u64().expect("a column"),
                    h["range"]["end"]["character"].as_u64().expect("a column"),
                    h["kind"].as_u64().expect("a kind"),
                )
            })
            .collect();
        assert_eq!(cols, vec![(4, 5, WRITE), (22, 23, READ), (33, 34, READ)]);
    }
    // A position inside a surrogate pair is not a position of the text.
    let r = c.request(
        "textDocument/documentHighlight",
        json!({"textDocument": {"uri": u}, "position": {"line": 0, "character": 10}}),
    );
    assert_eq!(r.error.expect("an error").code, -32602);
    check_everywhere(&mut c, &u, "javascript", src, enc);
    c.shutdown();
}

#[test]
fn typescript_reads_javascript_locals_too() {
    // tree-sitter-typescript's locals.scm only adds typed parameters to
    // JavaScript's: the two are read together.
    let src = "const a = 1;\nfunction f(a: number, b?: string): number {\n  const c = a;\n  return c + a;\n}\nf(a);\n";
    let mut c = Client::start(&[], None);
    let u = c.open("a.ts", "typescript", src);
    let enc = Encoding::Utf16;
    assert_eq!(
        highlights(&mut c, &u, src, nth(src, "a", 2).0, enc),
        occ(src, "a", &[(1, WRITE), (2, READ), (3, READ)])
    );
    assert_eq!(
        highlights(&mut c, &u, src, nth(src, "a", 4).0, enc),
        occ(src, "a", &[(0, WRITE), (4, READ)])
    );
    assert_eq!(
        highlights(&mut c, &u, src, nth(src, "b", 0).0, enc),
        occ(src, "b", &[(0, WRITE)])
    );
    assert_eq!(
        highlights(&mut c, &u, src, nth(src, "c", 1).0, enc),
        occ(src, "c", &[(0, WRITE), (1, READ)])
    );
    c.shutdown();
}
