//! Random `didChange` sequences (random ranges, inserted texts with
//! multi-byte and astral characters and CRLF, several changes per
//! notification) leave the server's document equal to the edits applied
//! to a `String` and parsed fresh: its semantic tokens, folding ranges,
//! diagnostics and root range are a fresh parse's.

use crate::common;

use common::*;
use cst_workspace::Encoding;
use proptest::prelude::*;
use serde_json::json;

const START: &str = "fn main() {\n    let s = \"é😀\";\r\n    if s.len() > 1 { return; }\n}\n\n/// doc\nstruct P { x: i32 }\n";

const PIECES: [&str; 12] = [
    "",
    "x",
    "é",
    "😀",
    "\n",
    "\r\n",
    "{",
    "}",
    "fn f() {}",
    "let a = 1;",
    "\"",
    "// c\n",
];

fn edit_strategy() -> impl Strategy<Value = Vec<Vec<(usize, usize, usize)>>> {
    // Per notification 1–3 changes; each (start fraction, length, piece).
    prop::collection::vec(
        prop::collection::vec((0usize..1000, 0usize..12, 0usize..PIECES.len()), 1..4),
        1..5,
    )
}

fn char_floor(t: &str, mut i: usize) -> usize {
    i = i.min(t.len());
    while !t.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn run(enc: Encoding, notifications: Vec<Vec<(usize, usize, usize)>>) {
    let offered: Option<&[&str]> = match enc {
        Encoding::Utf8 => Some(&["utf-8"]),
        Encoding::Utf16 => None,
    };
    let mut c = Client::start(&[], offered);
    let u = c.open("doc.rs", "rust", START);
    let mut text = START.to_string();
    for (v, changes) in notifications.into_iter().enumerate() {
        let mut events = Vec::new();
        for (at, len, piece) in changes {
            let s = char_floor(&text, at * text.len() / 1000);
            let mut e = char_floor(&text, s + len);
            // Never split a CRLF (a position cannot name the byte between).
            if e > 0 && e < text.len() && &text.as_bytes()[e - 1..e + 1] == b"\r\n" {
                e += 1;
            }
            let s = if s > 0 && s < text.len() && &text.as_bytes()[s - 1..s + 1] == b"\r\n" {
                s - 1
            } else {
                s
            };
            let e = e.max(s);
            events.push(json!({"range": range(&text, s, e, enc), "text": PIECES[piece]}));
            text.replace_range(s..e, PIECES[piece]);
        }
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": u, "version": v as i32 + 2}, "contentChanges": events}),
        );
    }
    let td = json!({"textDocument": {"uri": u}});
    let full = c.ok("textDocument/semanticTokens/full", td.clone());
    assert_eq!(
        paint_of(&text, &data_of(&full), enc),
        expected_paint("rust", &text)
    );
    let folds = c.ok("textDocument/foldingRange", td.clone());
    assert_eq!(folds_of(&folds), expected_folds("rust", &text));
    let d = c.diagnostics(&u);
    assert_eq!(
        diagnostics_of(&d),
        as_ranges(&text, &expected_diagnostics("rust", &text), enc)
    );
    let sel = c.ok(
        "textDocument/selectionRange",
        json!({"textDocument": {"uri": u}, "positions": [pos(&text, 0, enc)]}),
    );
    let chain = selection_of(&sel[0]);
    let tree = parse("rust", &text);
    let root = tree.root_node();
    assert_eq!(
        chain.last().cloned(),
        Some(range(&text, root.start_byte(), root.end_byte(), enc))
    );
    c.shutdown();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_changes_utf16(n in edit_strategy()) {
        run(Encoding::Utf16, n);
    }

    #[test]
    fn random_changes_utf8(n in edit_strategy()) {
        run(Encoding::Utf8, n);
    }
}
