//! `workspace/symbol`, `definition` and `references` through the server
//! with cst-symbols' name index as its provider (what `cst lsp` runs),
//! checked against the files' own text: where the name is written.

use crate::common;

use common::{Client, uri};
use cst_workspace::Encoding;
use serde_json::{Value, json};

const A: &str = "pub fn parse_config(text: &str) -> usize {\n    text.len()\n}\n";
const B: &str = "fn main() {\n    let a = parse_config(\"x\");\n    let b = parse_config(\"😀y\");\n    let c = (\"😀é\", parse_config(\"w\"));\n    println!(\"{a} {b} {c:?}\");\n}\n";
const C: &str = "fn helper() -> usize {\n    parse_config(\"z\")\n}\n";

/// Byte offsets of every `parse_config` in `text`.
fn occurrences(text: &str) -> Vec<usize> {
    text.match_indices("parse_config").map(|(i, _)| i).collect()
}

/// (uri, range) of an LSP location.
fn loc(v: &Value) -> (String, Value) {
    (v["uri"].as_str().unwrap().to_string(), v["range"].clone())
}

#[test]
fn symbol_methods_answer_from_the_name_index() {
    // UTF-16 (no encoding offered), then UTF-8 negotiated: b.rs has a
    // reference after non-ASCII characters on its line, where the columns
    // of the two differ.
    symbol_methods(None, Encoding::Utf16);
    symbol_methods(Some(&["utf-8"]), Encoding::Utf8);
}

fn symbol_methods(offered: Option<&[&str]>, enc: Encoding) {
    let mut c = Client::start_with(
        &[("src/a.rs", A), ("src/b.rs", B), ("other/c.rs", C)],
        offered,
        true,
    );
    let [ua, ub, uc] = ["src/a.rs", "src/b.rs", "other/c.rs"].map(|p| uri(&c.root.join(p)));
    let name_range =
        |text: &str, at: usize| common::range(text, at, at + "parse_config".len(), enc);
    let caps = &c.init["capabilities"];
    assert_eq!(caps["workspaceSymbolProvider"], true, "{caps}");
    assert_eq!(caps["definitionProvider"], true);
    assert_eq!(caps["referencesProvider"], true);

    // workspace/symbol: a prefix finds the definition, at its name.
    let hits = c.ok("workspace/symbol", json!({"query": "parse_co"}));
    let first = &hits.as_array().unwrap()[0];
    assert_eq!(first["name"], "parse_config", "{hits}");
    assert_eq!(
        loc(&first["location"]),
        (ua.clone(), name_range(A, occurrences(A)[0]))
    );
    // A fuzzy query too.
    let hits = c.ok("workspace/symbol", json!({"query": "prscnfg"}));
    assert_eq!(hits[0]["name"], "parse_config", "{hits}");

    // definition from a call in b.rs (after an astral character on that
    // line for the second one: UTF-16 columns).
    for at in occurrences(B) {
        let defs = c.ok(
            "textDocument/definition",
            json!({"textDocument": {"uri": ub}, "position": common::pos(B, at + 3, enc)}),
        );
        let defs: Vec<(String, Value)> = defs.as_array().unwrap().iter().map(loc).collect();
        assert_eq!(defs, [(ua.clone(), name_range(A, occurrences(A)[0]))]);
    }

    // references from b.rs: its own two first, then c.rs.
    let refs = c.ok(
        "textDocument/references",
        json!({
            "textDocument": {"uri": ub},
            "position": common::pos(B, occurrences(B)[0], enc),
            "context": {"includeDeclaration": false}
        }),
    );
    let refs: Vec<(String, Value)> = refs.as_array().unwrap().iter().map(loc).collect();
    let mut expected: Vec<(String, Value)> = occurrences(B)
        .into_iter()
        .map(|at| (ub.clone(), name_range(B, at)))
        .collect();
    expected.push((uc.clone(), name_range(C, occurrences(C)[0])));
    assert_eq!(refs, expected);

    // With the declaration.
    let refs = c.ok(
        "textDocument/references",
        json!({
            "textDocument": {"uri": ua},
            "position": common::pos(A, occurrences(A)[0], enc),
            "context": {"includeDeclaration": true}
        }),
    );
    assert_eq!(refs.as_array().unwrap().len(), 5, "{refs}");

    // An open buffer's new definition is found (the overlay wins).
    let text = format!("{A}\npub fn parse_more() {{}}\n");
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": ua, "languageId": "rust", "version": 1, "text": text}}),
    );
    let hits = c.ok("workspace/symbol", json!({"query": "parse_more"}));
    assert_eq!(hits[0]["name"], "parse_more", "{hits}");
    assert_eq!(hits[0]["location"]["uri"], ua.as_str());

    // Nothing under the cursor: no definitions, no error.
    let none = c.ok(
        "textDocument/definition",
        json!({"textDocument": {"uri": uc}, "position": {"line": 0, "character": 2}}),
    );
    assert!(
        none.is_null()
            || none
                .as_array()
                .is_some_and(|a| a.iter().all(|l| l["uri"] != ua.as_str())),
        "{none}"
    );
    c.shutdown();
}
