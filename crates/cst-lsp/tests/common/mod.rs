//! A client over an in-memory connection, and the expectations computed
//! from a fresh tree-sitter parse of a text.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use cst_workspace::cst::{self, grammars, tree_sitter};
use cst_workspace::{Encoding, LineIndex, Position};
use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use serde_json::{Value, json};

pub struct Client {
    pub conn: Connection,
    pub server: Option<std::thread::JoinHandle<Result<(), cst_lsp::Error>>>,
    next: i32,
    pub notifications: Vec<Notification>,
    /// Responses that arrived while another was awaited (the server
    /// answers from a pool: not in request order).
    early: Vec<Response>,
    pub init: Value,
    pub _dir: tempfile::TempDir,
    pub root: std::path::PathBuf,
}

impl Client {
    /// A server on a new workspace holding `files`, initialized with
    /// `encodings` offered (`None`: no `general.positionEncodings`).
    pub fn start(files: &[(&str, &str)], encodings: Option<&[&str]>) -> Client {
        Client::start_with(files, encodings, false)
    }

    /// [`Client::start`]; with `symbols`, the workspace is indexed when it
    /// opens and the server answers the symbol methods from the name index.
    pub fn start_with(files: &[(&str, &str)], encodings: Option<&[&str]>, symbols: bool) -> Client {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).expect("mkdir");
        for (name, text) in files {
            let p = root.join(name);
            std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        let root = root.canonicalize().expect("canonical");
        let (server, client) = Connection::memory();
        let options = cst_lsp::LspOptions {
            open: cst_lsp::OpenOptions {
                cache_dir: Some(dir.path().join("cache")),
                ..cst_lsp::LspOptions::default().open
            },
            watch: false,
            index_on_open: symbols,
            symbols: symbols.then(|| {
                Box::new(cst_lsp::IndexProvider::default()) as Box<dyn cst_lsp::SymbolProvider>
            }),
            ..cst_lsp::LspOptions::default()
        };
        let handle = std::thread::spawn(move || cst_lsp::run(server, options));
        let mut c = Client {
            conn: client,
            server: Some(handle),
            next: 1,
            notifications: Vec::new(),
            early: Vec::new(),
            init: Value::Null,
            _dir: dir,
            root: root.clone(),
        };
        let mut caps = json!({});
        if let Some(e) = encodings {
            caps = json!({ "general": { "positionEncodings": e } });
        }
        let init = c.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(&root),
                "capabilities": caps,
            }),
        );
        c.init = init.result.expect("initialize result");
        c.notify("initialized", json!({}));
        c
    }

    pub fn send_request(&mut self, method: &str, params: Value) -> RequestId {
        let id: RequestId = self.next.into();
        self.next += 1;
        self.conn
            .sender
            .send(Message::Request(Request {
                id: id.clone(),
                method: method.into(),
                params,
            }))
            .expect("send");
        id
    }

    pub fn wait_response(&mut self, id: &RequestId) -> Response {
        if let Some(i) = self.early.iter().position(|r| &r.id == id) {
            return self.early.remove(i);
        }
        loop {
            let m = self
                .conn
                .receiver
                .recv_timeout(Duration::from_secs(60))
                .expect("an answer in time");
            match m {
                Message::Response(r) if &r.id == id => return r,
                Message::Response(r) => self.early.push(r),
                Message::Notification(n) => self.notifications.push(n),
                Message::Request(_) => {}
            }
        }
    }

    pub fn request(&mut self, method: &str, params: Value) -> Response {
        let id = self.send_request(method, params);
        self.wait_response(&id)
    }

    /// The result of a request that must succeed.
    pub fn ok(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        if let Some(e) = r.error {
            panic!("{method}: error {} {}", e.code, e.message);
        }
        r.result.expect("a result")
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.conn
            .sender
            .send(Message::Notification(Notification {
                method: method.into(),
                params,
            }))
            .expect("send");
    }

    pub fn open(&mut self, name: &str, language: &str, text: &str) -> String {
        let u = uri(&self.root.join(name));
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": u, "languageId": language, "version": 1, "text": text}}),
        );
        u
    }

    /// The last diagnostics published for `uri` (waits with a request
    /// round trip: notifications before it are in order).
    pub fn diagnostics(&mut self, u: &str) -> Value {
        self.ok(
            "textDocument/foldingRange",
            json!({"textDocument": {"uri": u}}),
        );
        self.notifications
            .iter()
            .rev()
            .find(|n| n.method == "textDocument/publishDiagnostics" && n.params["uri"] == u)
            .map(|n| n.params["diagnostics"].clone())
            .expect("diagnostics published")
    }

    pub fn shutdown(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert!(r.error.is_none(), "shutdown: {:?}", r.error);
        self.notify("exit", Value::Null);
        let h = self.server.take().expect("running");
        h.join().expect("no panic").expect("clean exit");
    }
}

pub fn uri(p: &Path) -> String {
    lsp_types::Url::from_file_path(p)
        .expect("absolute")
        .to_string()
}

pub fn parse(language: &str, text: &str) -> tree_sitter::Tree {
    grammars::by_id(language)
        .expect("grammar")
        .parser()
        .expect("parser")
        .parse(text, None)
        .expect("a tree")
}

/// A protocol position of byte `offset`.
pub fn pos(text: &str, offset: usize, enc: Encoding) -> Value {
    let p = LineIndex::new(text.as_bytes()).position(text.as_bytes(), offset, enc);
    json!({"line": p.line, "character": p.character})
}

pub fn range(text: &str, s: usize, e: usize, enc: Encoding) -> Value {
    json!({"start": pos(text, s, enc), "end": pos(text, e, enc)})
}

/// The byte offset of a protocol position.
pub fn offset(text: &str, p: &Value, enc: Encoding) -> usize {
    let p = Position {
        line: p["line"].as_u64().expect("line") as u32,
        character: p["character"].as_u64().expect("character") as u32,
    };
    LineIndex::new(text.as_bytes())
        .offset(text.as_bytes(), p, enc)
        .expect("a position in the text")
}

// ---- expectations from a fresh parse ----

/// Folding ranges by the documented rule, computed recursively over every
/// node of a fresh parse.
pub fn expected_folds(language: &str, text: &str) -> Vec<(u64, u64, bool)> {
    fn last(n: tree_sitter::Node<'_>) -> usize {
        let e = n.end_position();
        if e.column == 0 && e.row > n.start_position().row {
            e.row - 1
        } else {
            e.row
        }
    }
    fn walk(n: tree_sitter::Node<'_>, out: &mut Vec<(u64, u64, bool)>) {
        let comment = n.kind().contains("comment");
        if n.is_named() && cst_lsp::is_fold_kind(n.kind()) && last(n) > n.start_position().row {
            out.push((n.start_position().row as u64, last(n) as u64, comment));
        }
        let mut run: Option<(usize, usize)> = None;
        let mut c = n.walk();
        for k in n.children(&mut c) {
            let single =
                k.is_named() && k.kind().contains("comment") && k.start_position().row == last(k);
            if single {
                let r = k.start_position().row;
                run = match run {
                    Some((s, e)) if r == e + 1 => Some((s, r)),
                    Some((s, e)) => {
                        if e > s {
                            out.push((s as u64, e as u64, true));
                        }
                        Some((r, r))
                    }
                    None => Some((r, r)),
                };
            } else if let Some((s, e)) = run.take()
                && e > s
            {
                out.push((s as u64, e as u64, true));
            }
            walk(k, out);
        }
        if let Some((s, e)) = run
            && e > s
        {
            out.push((s as u64, e as u64, true));
        }
    }
    let tree = parse(language, text);
    let mut out = Vec::new();
    walk(tree.root_node(), &mut out);
    out.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
    out.dedup_by_key(|r| (r.0, r.1));
    out
}

pub fn folds_of(v: &Value) -> Vec<(u64, u64, bool)> {
    v.as_array()
        .expect("folds")
        .iter()
        .map(|f| {
            (
                f["startLine"].as_u64().expect("start"),
                f["endLine"].as_u64().expect("end"),
                f["kind"] == "comment",
            )
        })
        .collect()
}

/// Per byte, the token (type, modifiers) the highlights query gives a
/// fresh parse: of the captures (with a token) covering the byte, the
/// smallest node's; of one node's, the first pattern's. Line breaks get
/// none.
pub fn expected_paint(language: &str, text: &str) -> Vec<Option<(u32, u32)>> {
    use tree_sitter::StreamingIterator;
    let g = grammars::by_id(language).expect("grammar");
    let q = tree_sitter::Query::new(
        &g.language().expect("language"),
        g.queries().highlights.expect("highlights"),
    )
    .expect("query");
    let tree = parse(language, text);
    let mut cursor = tree_sitter::QueryCursor::new();
    type Best = Option<(usize, usize, (u32, u32))>;
    let mut best: Vec<Best> = vec![None; text.len()];
    let mut caps = cursor.captures(&q, tree.root_node(), text.as_bytes());
    while let Some((m, i)) = caps.next() {
        let c = m.captures[*i];
        let Some(tok) = cst_lsp::token_type_of(q.capture_names()[c.index as usize]) else {
            continue;
        };
        let size = c.node.end_byte() - c.node.start_byte();
        for slot in &mut best[c.node.start_byte()..c.node.end_byte()] {
            let better = match *slot {
                None => true,
                Some((s, p, _)) => size < s || (size == s && m.pattern_index < p),
            };
            if better {
                *slot = Some((size, m.pattern_index, tok));
            }
        }
    }
    let bytes = text.as_bytes();
    (0..text.len())
        .map(|b| {
            if bytes[b] == b'\n' || (bytes[b] == b'\r' && bytes.get(b + 1) == Some(&b'\n')) {
                None
            } else {
                best[b].map(|x| x.2)
            }
        })
        .collect()
}

/// Per byte, the token the server's encoded data gives (decoded in
/// `enc`), checking that no token crosses a line end.
pub fn paint_of(text: &str, data: &[u64], enc: Encoding) -> Vec<Option<(u32, u32)>> {
    let mut out = vec![None; text.len()];
    let (mut line, mut col) = (0u64, 0u64);
    for t in data.chunks(5) {
        if t[0] > 0 {
            line += t[0];
            col = t[1];
        } else {
            col += t[1];
        }
        let s = offset(text, &json!({"line": line, "character": col}), enc);
        let e = offset(text, &json!({"line": line, "character": col + t[2]}), enc);
        assert!(
            !text[s..e].contains('\n'),
            "a token crosses a line end: {:?}",
            &text[s..e]
        );
        assert!(e > s, "an empty token");
        for slot in &mut out[s..e] {
            assert!(slot.is_none(), "overlapping tokens");
            *slot = Some((t[3] as u32, t[4] as u32));
        }
    }
    out
}

pub fn data_of(v: &Value) -> Vec<u64> {
    v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|x| x.as_u64().expect("u32"))
        .collect()
}

/// Diagnostics of a fresh parse: (start byte, end byte, message).
pub fn expected_diagnostics(language: &str, text: &str) -> Vec<(usize, usize, String)> {
    let tree = parse(language, text);
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.is_missing() {
            out.push((
                n.start_byte(),
                n.end_byte(),
                format!("missing {}", n.kind()),
            ));
        } else if n.is_error() {
            out.push((n.start_byte(), n.end_byte(), "syntax error".into()));
        }
        let mut c = n.walk();
        let kids: Vec<_> = n.children(&mut c).collect();
        stack.extend(kids.into_iter().rev());
    }
    out
}

pub fn diagnostics_of(v: &Value) -> Vec<(Value, String)> {
    v.as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["range"].clone(),
                d["message"].as_str().expect("message").to_string(),
            )
        })
        .collect()
}

/// Byte-range expectations as protocol ranges.
pub fn as_ranges<T: Clone>(text: &str, v: &[(usize, usize, T)], enc: Encoding) -> Vec<(Value, T)> {
    v.iter()
        .map(|(s, e, t)| (range(text, *s, *e, enc), t.clone()))
        .collect()
}

/// The outline of a fresh parse, flattened in preorder: (depth, name,
/// item bytes, name bytes).
pub fn expected_symbols(language: &str, text: &str) -> Vec<(usize, String, usize, usize)> {
    let cache = cst::Cache::in_memory(cst::Config::default());
    let g = grammars::by_id(language).expect("grammar");
    let tree = cache
        .detached(g, text.as_bytes().to_vec())
        .expect("parse")
        .tree()
        .expect("tree");
    let tags = cache.tags_for(tree).expect("tags");
    let items = cst_workspace::answers::OutlineItemOut::list(&tags.outline());
    let mut out = Vec::new();
    fn walk(
        items: &[cst_workspace::answers::OutlineItemOut],
        depth: usize,
        out: &mut Vec<(usize, String, usize, usize)>,
    ) {
        for it in items {
            out.push((depth, it.name.clone(), it.bytes[0], it.bytes[1]));
            walk(&it.children, depth + 1, out);
        }
    }
    walk(&items, 0, &mut out);
    out
}

pub fn symbols_of(v: &Value) -> Vec<(usize, String, Value)> {
    fn walk(items: &Value, depth: usize, out: &mut Vec<(usize, String, Value)>) {
        for it in items.as_array().expect("symbols") {
            out.push((
                depth,
                it["name"].as_str().expect("name").to_string(),
                it["range"].clone(),
            ));
            if let Some(c) = it.get("children") {
                walk(c, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(v, 0, &mut out);
    out
}

pub fn symbols_as_ranges(
    text: &str,
    v: &[(usize, String, usize, usize)],
    enc: Encoding,
) -> Vec<(usize, String, Value)> {
    v.iter()
        .map(|(d, n, s, e)| (*d, n.clone(), range(text, *s, *e, enc)))
        .collect()
}

/// The selection chain at byte `at` of a fresh parse: byte ranges, from
/// the smallest node to the root, each larger than the last.
pub fn expected_selection(language: &str, text: &str, at: usize) -> Vec<(usize, usize)> {
    let tree = parse(language, text);
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut n = tree.root_node().descendant_for_byte_range(at, at);
    while let Some(x) = n {
        let r = (x.start_byte(), x.end_byte());
        if out.last() != Some(&r) {
            out.push(r);
        }
        n = x.parent();
    }
    out
}

pub fn selection_of(v: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cur = Some(v);
    while let Some(s) = cur {
        out.push(s["range"].clone());
        cur = s.get("parent");
    }
    out
}
