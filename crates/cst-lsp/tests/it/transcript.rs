//! Transcripts over an in-memory connection: every answer is compared
//! with what a fresh tree-sitter parse of the document's current text
//! gives.

use crate::common;

use common::*;
use cst_workspace::Encoding;
use serde_json::{Value, json};

const RUST: &str = "// one\n// two\nfn main() {\n    let s = \"😀\";\r\n    println!(\"{}\", s);\n}\n\nstruct Point {\n    x: i32,\n    y: i32,\n}\n\nimpl Point {\n    fn norm(&self) -> i32 {\n        self.x * self.x + self.y * self.y\n    }\n}\n";

const C: &str = "#include <stdio.h>\n\n/* a\n   comment */\nstatic int add(int a, int b)\n{\n\treturn a + b;\n}\n\nstruct pair {\n\tint a;\n\tint b;\n};\n\nint main(void)\n{\n\tprintf(\"%d\\n\", add(1, 2));\n\treturn 0;\n}\n";

fn check_all(c: &mut Client, u: &str, lang: &str, text: &str, enc: Encoding) {
    let td = json!({"textDocument": {"uri": u}});
    // documentSymbol.
    let syms = c.ok("textDocument/documentSymbol", td.clone());
    let want = expected_symbols(lang, text);
    assert!(!want.is_empty(), "the samples have definitions");
    assert_eq!(
        symbols_of(&syms),
        symbols_as_ranges(text, &want, enc),
        "documentSymbol"
    );
    // foldingRange.
    let folds = c.ok("textDocument/foldingRange", td.clone());
    assert_eq!(folds_of(&folds), expected_folds(lang, text), "foldingRange");
    // semanticTokens/full.
    let full = c.ok("textDocument/semanticTokens/full", td.clone());
    let data = data_of(&full);
    assert_eq!(
        paint_of(text, &data, enc),
        expected_paint(lang, text),
        "semanticTokens/full"
    );
    // semanticTokens/range of the middle lines: the full answer's tokens on them.
    let lines = text.split('\n').count() as u64;
    let (a, b) = (1u64, (lines / 2).max(1));
    let r = c.ok(
        "textDocument/semanticTokens/range",
        json!({"textDocument": {"uri": u}, "range": {"start": {"line": a, "character": 3}, "end": {"line": b, "character": 0}}}),
    );
    let want_paint: Vec<_> = {
        let full = expected_paint(lang, text);
        let idx = cst_workspace::LineIndex::new(text.as_bytes());
        let s = idx
            .line_range(text.as_bytes(), a as usize)
            .map_or(text.len(), |r| r.start);
        let e = idx
            .line_range(text.as_bytes(), b as usize + 1)
            .map_or(text.len(), |r| r.start);
        full.iter()
            .enumerate()
            .map(|(i, t)| if i >= s && i < e { *t } else { None })
            .collect()
    };
    assert_eq!(
        paint_of(text, &data_of(&r), enc),
        want_paint,
        "semanticTokens/range"
    );
    // selectionRange at a few places.
    for at in [0, text.len() / 3, text.len() / 2, text.len()] {
        let mut at = at;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let sel = c.ok(
            "textDocument/selectionRange",
            json!({"textDocument": {"uri": u}, "positions": [pos(text, at, enc)]}),
        );
        let want: Vec<Value> = expected_selection(lang, text, at)
            .into_iter()
            .map(|(s, e)| range(text, s, e, enc))
            .collect();
        assert_eq!(selection_of(&sel[0]), want, "selectionRange at {at}");
    }
    // Diagnostics.
    let d = c.diagnostics(u);
    assert_eq!(
        diagnostics_of(&d),
        as_ranges(text, &expected_diagnostics(lang, text), enc),
        "diagnostics"
    );
}

fn change(
    c: &mut Client,
    u: &str,
    version: i32,
    text: &str,
    (s, e, new): (usize, usize, &str),
    enc: Encoding,
) {
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": version},
               "contentChanges": [{"range": range(text, s, e, enc), "text": new}]}),
    );
}

fn splice(text: &str, s: usize, e: usize, new: &str) -> String {
    let mut t = text.to_string();
    t.replace_range(s..e, new);
    t
}

#[test]
fn negotiates_utf8_when_offered_else_utf16() {
    let c = Client::start(&[], Some(&["utf-16", "utf-8"]));
    assert_eq!(c.init["capabilities"]["positionEncoding"], "utf-8");
    let legend = &c.init["capabilities"]["semanticTokensProvider"]["legend"]["tokenTypes"];
    assert!(
        legend
            .as_array()
            .is_some_and(|a| a.contains(&json!("function")))
    );
    // No provider: the symbol methods are not advertised.
    assert!(
        c.init["capabilities"]
            .get("definitionProvider")
            .is_none_or(Value::is_null)
    );
    c.shutdown();
    let c = Client::start(&[], None);
    assert_eq!(c.init["capabilities"]["positionEncoding"], "utf-16");
    c.shutdown();
}

fn session(enc: Encoding) {
    let offered: Option<&[&str]> = match enc {
        Encoding::Utf8 => Some(&["utf-8"]),
        Encoding::Utf16 => None,
    };
    let mut c = Client::start(&[("main.rs", RUST), ("lib.c", C)], offered);
    let ur = c.open("main.rs", "rust", RUST);
    let uc = c.open("lib.c", "c", C);
    check_all(&mut c, &ur, "rust", RUST, enc);
    check_all(&mut c, &uc, "c", C, enc);

    // Edits in the negotiated encoding: astral characters and CRLF.
    let mut text = RUST.to_string();
    let mut v = 1;
    let smile = text.find('😀').expect("the emoji");
    let edits: Vec<(usize, usize, &str)> = vec![
        (smile, smile + '😀'.len_utf8(), "🎉x😀"),
        (
            smile + "🎉x😀".len(),
            smile + "🎉x😀".len(),
            "\r\n    let t = 1;\r\n",
        ),
        (0, 0, "// 𝄞 clef\r\n"),
    ];
    for (s, e, new) in edits {
        v += 1;
        change(&mut c, &ur, v, &text, (s, e, new), enc);
        text = splice(&text, s, e, new);
        check_all(&mut c, &ur, "rust", &text, enc);
    }
    // A syntax error appears, then goes.
    let brace = text.rfind('}').expect("a brace");
    v += 1;
    change(&mut c, &ur, v, &text, (brace, brace + 1, ""), enc);
    text = splice(&text, brace, brace + 1, "");
    check_all(&mut c, &ur, "rust", &text, enc);
    assert!(!expected_diagnostics("rust", &text).is_empty());
    v += 1;
    change(&mut c, &ur, v, &text, (brace, brace, "}"), enc);
    text = splice(&text, brace, brace, "}");
    check_all(&mut c, &ur, "rust", &text, enc);

    // C: a MISSING node.
    let ret = C.find("return 0;").expect("return") + "return 0".len();
    change(&mut c, &uc, 2, C, (ret, ret + 1, ""), enc);
    let ctext = splice(C, ret, ret + 1, "");
    check_all(&mut c, &uc, "c", &ctext, enc);
    assert!(
        expected_diagnostics("c", &ctext)
            .iter()
            .any(|d| d.2.starts_with("missing"))
    );
    c.shutdown();
}

#[test]
fn rust_and_c_in_utf16() {
    session(Encoding::Utf16);
}

#[test]
fn rust_and_c_in_utf8() {
    session(Encoding::Utf8);
}

#[test]
fn semantic_tokens_delta_is_one_edit() {
    let mut c = Client::start(&[("main.rs", RUST)], Some(&["utf-8"]));
    let u = c.open("main.rs", "rust", RUST);
    let td = json!({"textDocument": {"uri": u}});
    let first = c.ok("textDocument/semanticTokens/full", td.clone());
    let mut data = data_of(&first);
    let id = first["resultId"].as_str().expect("a result id").to_string();
    let at = RUST.find("struct Point").expect("struct");
    change(
        &mut c,
        &u,
        2,
        RUST,
        (at, at, "fn added() {}\n"),
        Encoding::Utf8,
    );
    let text = splice(RUST, at, at, "fn added() {}\n");
    let delta = c.ok(
        "textDocument/semanticTokens/full/delta",
        json!({"textDocument": {"uri": u}, "previousResultId": id}),
    );
    let edits = delta["edits"].as_array().expect("a delta");
    assert_eq!(edits.len(), 1);
    let e = &edits[0];
    let (s, n) = (
        e["start"].as_u64().expect("start") as usize,
        e["deleteCount"].as_u64().expect("count") as usize,
    );
    let ins: Vec<u64> = e["data"]
        .as_array()
        .map_or(Vec::new(), |a| a.iter().filter_map(Value::as_u64).collect());
    data.splice(s..s + n, ins);
    let full = c.ok("textDocument/semanticTokens/full", td.clone());
    assert_eq!(data, data_of(&full));
    assert_eq!(
        paint_of(&text, &data, Encoding::Utf8),
        expected_paint("rust", &text)
    );
    // An unknown previous id: the full tokens.
    let again = c.ok(
        "textDocument/semanticTokens/full/delta",
        json!({"textDocument": {"uri": u}, "previousResultId": "nope"}),
    );
    assert_eq!(data_of(&again), data);
    c.shutdown();
}

#[test]
fn stored_file_served_before_and_after_open() {
    let mut c = Client::start(&[("lib.c", C)], None);
    let u = uri(&c.root.join("lib.c"));
    // Not open: the stored tree (indexed on demand).
    let folds = c.ok(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": u}}),
    );
    assert_eq!(folds_of(&folds), expected_folds("c", C));
    // Opened with the stored text: answered from the store, then edited.
    c.open("lib.c", "c", C);
    check_all(&mut c, &u, "c", C, Encoding::Utf16);
    change(&mut c, &u, 2, C, (0, 0, "int x;\n"), Encoding::Utf16);
    let text = splice(C, 0, 0, "int x;\n");
    check_all(&mut c, &u, "c", &text, Encoding::Utf16);
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": u}}));
    // Closed: the file again.
    let folds = c.ok(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": u}}),
    );
    assert_eq!(folds_of(&folds), expected_folds("c", C));
    c.shutdown();
}

#[test]
fn errors_are_answers_not_panics() {
    let mut c = Client::start(&[("main.rs", RUST)], None);
    let u = c.open("main.rs", "rust", RUST);
    let r = c.request("textDocument/noSuchMethod", json!({}));
    assert_eq!(r.error.expect("an error").code, -32601);
    let r = c.request("textDocument/documentSymbol", json!({"textDocument": 42}));
    assert_eq!(r.error.expect("an error").code, -32602);
    let r = c.request("textDocument/foldingRange", Value::Null);
    assert_eq!(r.error.expect("an error").code, -32602);
    // A position inside a surrogate pair.
    let smile = RUST.find('😀').expect("emoji");
    let p = pos(RUST, smile, Encoding::Utf16);
    let inside = json!({"line": p["line"], "character": p["character"].as_u64().expect("col") + 1});
    let r = c.request(
        "textDocument/selectionRange",
        json!({"textDocument": {"uri": u}, "positions": [inside]}),
    );
    assert_eq!(r.error.expect("an error").code, -32602);
    // A document outside the workspace, never opened.
    let r = c.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": "file:///nonexistent/elsewhere.rs"}}),
    );
    assert!(r.error.is_some());
    // A non-file URI.
    let r = c.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": "untitled:Untitled-1"}}),
    );
    assert!(r.error.is_some());
    // A bad change is refused, and the document stays as it was.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 3, "character": 14}, "end": {"line": 0, "character": 0}}, "text": "x"}]}),
    );
    check_all(&mut c, &u, "rust", RUST, Encoding::Utf16);
    // Still serving.
    let ok = c.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": u}}),
    );
    assert!(ok.error.is_none());
    c.shutdown();
}

#[test]
fn cancelled_and_stale_requests() {
    let mut c = Client::start(&[("lib.c", C)], None);
    let u = c.open("lib.c", "c", C);
    // Requests then changes in a burst: each answer is either exact for
    // its version or ContentModified; a cancelled one may be -32800.
    let mut ids = Vec::new();
    let mut text = C.to_string();
    for v in 2..12 {
        ids.push(c.send_request(
            "textDocument/semanticTokens/full",
            json!({"textDocument": {"uri": u}}),
        ));
        c.notify("$/cancelRequest", json!({"id": ids.last().map(|i| i.to_string().trim_matches('"').parse::<i32>().unwrap_or(0))}));
        change(&mut c, &u, v, &text, (0, 0, " "), Encoding::Utf16);
        text = splice(&text, 0, 0, " ");
    }
    for id in ids {
        let r = c.wait_response(&id);
        match r.error {
            Some(e) => assert!([-32800, -32801].contains(&e.code), "{e:?}"),
            None => assert!(r.result.is_some()),
        }
    }
    check_all(&mut c, &u, "c", &text, Encoding::Utf16);
    c.shutdown();
}
