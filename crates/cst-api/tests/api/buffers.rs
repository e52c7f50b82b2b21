//! Open buffers: their text shadows the file for every answer, edits in
//! UTF-8 or UTF-16 columns (astral characters, CRLF) give the tree a fresh
//! parse gives, and the store never takes a buffer's text as the file's.

use crate::common::{Server, fresh_sexp};

const DISK: &str = "fn on_disk() -> u32 { 1 }\n";

/// A tiny deterministic generator (the test must replay the same edits).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The LSP position of byte `at` of `text` (a char boundary), counted
/// without the workspace's line index: lines end at `\n`, and a `\r`
/// before it is part of the break.
fn position(text: &str, at: usize, utf16: bool) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = &text[start..at];
    let n = if utf16 {
        col.encode_utf16().count()
    } else {
        col.len()
    };
    (line, n)
}

fn boundary(text: &str, rng: &mut Rng) -> usize {
    let mut at = rng.below(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    // Never between `\r` and `\n` (not a place an editor can name).
    let b = text.as_bytes();
    if at > 0 && at < b.len() && b[at - 1] == b'\r' && b[at] == b'\n' {
        at -= 1;
    }
    at
}

#[test]
fn random_edits_in_utf16_and_utf8_equal_a_fresh_parse() {
    let s = Server::start(&[("src/edit.rs", DISK)]);
    let mut text = String::from("// ✓ 😀 CRLF\r\nfn main() {\r\n    let s = \"𝄞 a\";\r\n}\r\n");
    let r = s.request("PUT", "/v1/buffers/src/edit.rs?version=1", None, &text);
    assert_eq!(r.status, 200, "{}", r.body);
    let inserts = [
        "x",
        "😀",
        "\r\n",
        "é",
        "fn f() {}\n",
        "{",
        "}",
        "\"",
        "𝄞𝄞",
        "",
    ];
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for version in 2..80i64 {
        let utf16 = version % 2 == 0;
        let a = boundary(&text, &mut rng);
        let b = boundary(&text, &mut rng);
        let (start, end) = (a.min(b), a.max(b).min(a.min(b) + 12));
        let mut end = end;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let bytes = text.as_bytes();
        if end > start && bytes[end - 1] == b'\r' && bytes.get(end) == Some(&b'\n') {
            end -= 1;
        }
        let new = inserts[rng.below(inserts.len())];
        let (sl, sc) = position(&text, start, utf16);
        let (el, ec) = position(&text, end, utf16);
        let body = serde_json::json!({
            "version": version,
            "encoding": if utf16 { "utf-16" } else { "utf-8" },
            "edits": [{"range": {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}}, "text": new}],
        });
        let r = s.request("PATCH", "/v1/buffers/src/edit.rs", None, &body.to_string());
        assert_eq!(r.status, 200, "step {version}: {}", r.body);
        text.replace_range(start..end, new);
        let tree = s.get("/v1/tree?path=src/edit.rs");
        assert_eq!(
            tree.body,
            format!("{}\n", fresh_sexp("rust", &text)),
            "step {version}, text {text:?}"
        );
    }
    // The text the server holds is the model's.
    let b = s.get("/v1/buffers/src/edit.rs").json();
    assert_eq!(b["text"], text);
    assert_eq!(b["version"], 79);
    // An older version is refused and changes nothing.
    let stale = serde_json::json!({"version": 5, "edits": [{"text": "fn gone() {}"}]});
    let r = s.request("PATCH", "/v1/buffers/src/edit.rs", None, &stale.to_string());
    r.assert_error(409, "stale_version");
    assert_eq!(s.get("/v1/buffers/src/edit.rs").json()["text"], text);
}

#[test]
fn a_buffer_shadows_its_file_and_never_becomes_the_stored_file() {
    let s = Server::start(&[("src/a.rs", DISK)]);
    let path = s.root().join("src/a.rs");
    let unsaved = "fn in_buffer() -> u32 { 2 }\nfn more() {}\n";
    let r = s.request("PUT", "/v1/buffers/src/a.rs", None, unsaved);
    assert_eq!(r.status, 200, "{}", r.body);
    let g1 = r.json()["generation"].as_u64().unwrap();
    assert_eq!(r.body.matches("\"generation\"").count(), 1, "{}", r.body);
    // Every endpoint sees the buffer.
    assert_eq!(
        s.get("/v1/tree?path=src/a.rs").body,
        format!("{}\n", fresh_sexp("rust", unsaved))
    );
    let outline = s.get("/v1/outline?path=src/a.rs").json();
    assert_eq!(outline["items"][0]["name"], "in_buffer", "{outline}");
    let (_, recs) = s.query(
        &serde_json::json!({"pattern": "(function_item name: (identifier) @n)", "text": true}),
    );
    let names: Vec<&str> = recs[..recs.len() - 1]
        .iter()
        .map(|m| m["captures"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["in_buffer", "more"]);
    // Edits through PUT with the edits media type, in bytes.
    let body =
        serde_json::json!({"edits": [{"start_byte": 3, "old_end_byte": 12, "text": "renamed"}]});
    let r = s.request(
        "PUT",
        "/v1/buffers/src/a.rs",
        Some(cst_api::EDITS_MEDIA_TYPE),
        &body.to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["generation"].as_u64().unwrap() > g1);
    let edited = unsaved.replacen("in_buffer", "renamed", 1);
    assert_eq!(
        s.get("/v1/tree?path=src/a.rs").body,
        format!("{}\n", fresh_sexp("rust", &edited))
    );
    // The store still maps the file to what is on disk: a reader of the
    // store (what `cst show` reads) never sees the buffer.
    s.ws.flush().unwrap();
    let stored = s.ws.cache().get(&path).unwrap().unwrap();
    assert_eq!(stored.source(), Some(DISK.as_bytes()));
    let reader = cst_workspace::cst::Cache::open_read_only(
        s._cache.path(),
        cst_workspace::cst::Config::default(),
    )
    .unwrap();
    let t = reader.get(&path).unwrap().unwrap();
    assert_eq!(t.source(), Some(DISK.as_bytes()));
    // Closing: answers come from the file again.
    let r = s.request("DELETE", "/v1/buffers/src/a.rs", None, "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        s.get("/v1/tree?path=src/a.rs").body,
        format!("{}\n", fresh_sexp("rust", DISK))
    );
    s.request("DELETE", "/v1/buffers/src/a.rs", None, "")
        .assert_error(404, "not_open");
}

#[test]
fn a_saved_buffer_is_stored_without_parsing_again() {
    let s = Server::start(&[("src/a.rs", DISK)]);
    let path = s.root().join("src/a.rs");
    let text = "fn saved() {}\n";
    assert_eq!(
        s.request("PUT", "/v1/buffers/src/a.rs", None, text).status,
        200
    );
    std::fs::write(&path, text).unwrap();
    let parses = s.ws.cache().stats().parses;
    assert_eq!(
        s.request("DELETE", "/v1/buffers/src/a.rs", None, "").status,
        200
    );
    assert_eq!(
        s.ws.cache().stats().parses,
        parses,
        "the buffer's tree was stored"
    );
    let stored = s.ws.cache().get(&path).unwrap().unwrap();
    assert_eq!(stored.source(), Some(text.as_bytes()));
    assert_eq!(stored.root().to_sexp(), fresh_sexp("rust", text));
}

#[test]
fn a_new_file_can_be_a_buffer_before_it_exists() {
    let s = Server::start(&[("src/a.rs", DISK)]);
    let r = s.request(
        "PUT",
        "/v1/buffers/src/new/mod.py?language=python",
        None,
        "x = 1\n",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["language"], "python");
    let l = s.get("/v1/buffers").json();
    assert_eq!(l["buffers"][0], "src/new/mod.py");
    assert_eq!(
        s.get("/v1/tree?path=src/new/mod.py").body,
        format!("{}\n", fresh_sexp("python", "x = 1\n"))
    );
    assert_eq!(
        s.request("DELETE", "/v1/buffers/src/new/mod.py", None, "")
            .status,
        200
    );
    s.get("/v1/tree?path=src/new/mod.py")
        .assert_error(404, "not_found");
}
