//! `cargo bench -p cst-benches --bench lsp`: the latency of `cst lsp`'s
//! per-document requests on one large file, beside a fresh tree-sitter
//! parse of the same text measured in the same run.
//!
//! The server runs in process over `lsp_server::Connection::memory()` on a
//! workspace holding a copy of the file, indexed first (the file is
//! stored). Each round:
//!
//! - **cold open**: `didOpen` with the stored text, then at once
//!   `documentSymbol`, `foldingRange` and `semanticTokens/range` (60 lines
//!   in the middle), each timed from its send to its response (so the
//!   first includes the main loop's `didOpen`);
//! - **after an edit**: a one-line `didChange` (a comment line inserted),
//!   then `semanticTokens/range` and `documentSymbol`, twice: the first
//!   edit makes the document's buffer (one parse of the edited text), the
//!   second is an edit of an open buffer;
//! - `didClose`.
//!
//! Before the rounds, 120 `workspace/symbol` requests (30 queries of
//! every kind, four times) are timed.
//!
//! The file: `CST_LSP_FILE` (e.g. the kernel's `kernel/sched/core.c`),
//! else the largest `.c` file of `../shared/peer-suites` or of the
//! corpora samples; the workspace: `CST_LSP_ROOT` (holding the file, with
//! its usual cache, e.g. an indexed kernel tree), else a new one holding a
//! copy of the file. `CST_LSP_ROUNDS` rounds (default 40). The server has
//! every grammar, as `cst lsp` does: a build with fewer would drop the
//! other languages' files from the workspace's store when it reconciles. Prints p50, p90,
//! p99 and max per request, and the parse for scale.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{Value, json};

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is ignored.
    let Some(file) = pick_file() else {
        println!("SKIPPED lsp bench: no C file found (set CST_LSP_FILE)");
        return;
    };
    let rounds: usize = std::env::var("CST_LSP_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let text = std::fs::read_to_string(&file).expect("the file is UTF-8");
    let lines = text.lines().count();
    println!(
        "lsp bench: {} ({} lines, {} bytes), {rounds} rounds",
        file.display(),
        lines,
        text.len()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    // `CST_LSP_ROOT`: a workspace (holding the file) with its own cache,
    // e.g. an indexed kernel tree; else a new one holding a copy.
    let given_root = std::env::var_os("CST_LSP_ROOT").map(PathBuf::from);
    let (root, path, cache_dir) = match &given_root {
        Some(r) => {
            let root = r.canonicalize().expect("CST_LSP_ROOT exists");
            let path = file.canonicalize().expect("the file exists");
            assert!(
                path.starts_with(&root),
                "CST_LSP_FILE is not under CST_LSP_ROOT"
            );
            (root, path, None)
        }
        None => {
            let root = dir.path().join("ws");
            std::fs::create_dir_all(&root).expect("mkdir");
            let name = file.file_name().expect("a file name").to_owned();
            std::fs::write(root.join(&name), &text).expect("copy");
            let root = root.canonicalize().expect("canonical");
            let path = root.join(&name);
            (root, path, Some(dir.path().join("cache")))
        }
    };
    let uri = format!("file://{}", path.display());

    let (server, conn) = Connection::memory();
    let options = cst_lsp::LspOptions {
        open: cst_lsp::OpenOptions {
            cache_dir,
            ..cst_lsp::LspOptions::default().open
        },
        watch: false,
        index_on_open: true,
        symbols: Some(Box::new(cst_lsp::IndexProvider::default())),
        ..cst_lsp::LspOptions::default()
    };
    let handle = std::thread::spawn(move || cst_lsp::run(server, options));
    let mut c = Client { conn, next: 1 };
    c.call(
        "initialize",
        json!({"processId": null, "rootUri": format!("file://{}", root.display()),
               "capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}}}),
    );
    c.notify("initialized", json!({}));

    // The stored tree is there (the workspace indexes on open: wait for
    // the first answer on the file from an open/close cycle).
    let mid = (lines / 2) as u32;
    let range =
        json!({"start": {"line": mid, "character": 0}, "end": {"line": mid + 60, "character": 0}});
    let doc = json!({"uri": uri});
    let warm_up = |c: &mut Client, version: i32| {
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "c", "version": version, "text": text}}),
        );
        c.call("textDocument/documentSymbol", json!({"textDocument": doc}));
        c.call(
            "textDocument/semanticTokens/range",
            json!({"textDocument": doc, "range": range}),
        );
        c.notify("textDocument/didClose", json!({"textDocument": doc}));
    };
    std::thread::sleep(Duration::from_millis(500));
    warm_up(&mut c, 1);
    warm_up(&mut c, 1);

    // workspace/symbol: the first request builds the name index (from
    // the cache's snapshot when there is one); then queries of every
    // kind (exact, prefix, substring, fuzzy, none), timed.
    let started = Instant::now();
    c.call("workspace/symbol", json!({"query": "main"}));
    println!(
        "workspace/symbol, first (builds the index): {:.0?}",
        started.elapsed()
    );
    let queries = [
        "schedule",
        "sched_",
        "task_struct",
        "mutex_lock",
        "kmalloc",
        "rcu_read",
        "spin_lock_irq",
        "init",
        "dev",
        "xfs_",
        "ext4_fill",
        "tcp_v4",
        "skb_put",
        "wake_up",
        "copy_from",
        "zzqx",
        "sys_open",
        "printk",
        "list_add",
        "memcpy",
        "irq",
        "pci_",
        "usb_",
        "get",
        "set",
        "alloc_pages",
        "vfs_read",
        "do_fork",
        "kfree",
        "atomic_inc",
    ];
    let mut wsym = Vec::new();
    for _ in 0..4 {
        for q in queries {
            let s = Instant::now();
            c.call("workspace/symbol", json!({"query": q}));
            wsym.push(s.elapsed());
        }
    }

    let mut t: [Vec<Duration>; 7] = Default::default();
    let names = [
        "cold documentSymbol",
        "cold foldingRange",
        "cold semanticTokens/range",
        "1st edit semanticTokens/range",
        "1st edit documentSymbol",
        "2nd edit semanticTokens/range",
        "2nd edit documentSymbol",
    ];
    let mut version = 10;
    // `CST_LSP_COLD_ONLY=1`: no edits (to profile the cold requests).
    let cold_only = std::env::var_os("CST_LSP_COLD_ONLY").is_some();
    // `CST_LSP_PAUSE_MS`: a pause after each round (work the server left
    // for later then does not overlap the next round).
    let pause: Option<u64> = std::env::var("CST_LSP_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok());
    for round in 0..rounds {
        version += 1;
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "c", "version": version, "text": text}}),
        );
        t[0].push(c.timed("textDocument/documentSymbol", json!({"textDocument": doc})));
        t[1].push(c.timed("textDocument/foldingRange", json!({"textDocument": doc})));
        t[2].push(c.timed(
            "textDocument/semanticTokens/range",
            json!({"textDocument": doc, "range": range}),
        ));
        if cold_only {
            c.notify("textDocument/didClose", json!({"textDocument": doc}));
            continue;
        }
        // Two one-line edits: a comment line inserted near the middle;
        // the first opens the buffer, the second is a steady-state edit.
        for (k, slot) in [(0usize, 3usize), (1, 5)] {
            let at = mid + 10 + (round % 7) as u32 + k as u32;
            version += 1;
            c.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": uri, "version": version},
                       "contentChanges": [{"range": {"start": {"line": at, "character": 0}, "end": {"line": at, "character": 0}},
                                           "text": "// x\n"}]}),
            );
            t[slot].push(c.timed(
                "textDocument/semanticTokens/range",
                json!({"textDocument": doc, "range": range}),
            ));
            t[slot + 1].push(c.timed("textDocument/documentSymbol", json!({"textDocument": doc})));
        }
        c.notify("textDocument/didClose", json!({"textDocument": doc}));
        if let Some(ms) = pause {
            std::thread::sleep(Duration::from_millis(ms));
        }
    }

    // A fresh parse of the same text, for scale.
    let g = cst_grammars::detect(&path, text.as_bytes()).expect("a language");
    let mut parser = g.parser().expect("a parser");
    let mut parse = Vec::new();
    for _ in 0..rounds.min(20) {
        let s = Instant::now();
        let tree = parser.parse(text.as_bytes(), None).expect("parsed");
        parse.push(s.elapsed());
        drop(tree);
    }

    for (name, v) in names.iter().zip(t.iter_mut()) {
        if v.is_empty() {
            continue;
        }
        println!("{name:<30} {}", summary(v));
    }
    println!(
        "{:<30} {}",
        "tree-sitter parse (fresh)",
        summary(&mut parse)
    );
    println!("{:<30} {}", "workspace/symbol", summary(&mut wsym));

    c.call("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    drop(c);
    let _ = handle.join();
}

fn summary(v: &mut [Duration]) -> String {
    v.sort();
    let q = |p: f64| {
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i].as_secs_f64() * 1e3
    };
    format!(
        "p50 {:7.2} ms  p90 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms",
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    )
}

struct Client {
    conn: Connection,
    next: i32,
}

impl Client {
    fn notify(&mut self, method: &str, params: Value) {
        self.conn
            .sender
            .send(Message::Notification(Notification::new(
                method.into(),
                params,
            )))
            .expect("send");
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = RequestId::from(self.next);
        self.next += 1;
        self.conn
            .sender
            .send(Message::Request(Request::new(
                id.clone(),
                method.into(),
                params,
            )))
            .expect("send");
        loop {
            match self
                .conn
                .receiver
                .recv_timeout(Duration::from_secs(120))
                .expect("an answer within 120 s")
            {
                Message::Response(r) if r.id == id => {
                    if let Some(e) = r.error {
                        panic!("{method}: {e:?}");
                    }
                    return r.result.unwrap_or(Value::Null);
                }
                Message::Request(r) => {
                    // Server-to-client requests (e.g. a refresh): answered.
                    let _ = self
                        .conn
                        .sender
                        .send(Message::Response(lsp_server::Response::new_ok(
                            r.id,
                            Value::Null,
                        )));
                }
                _ => {}
            }
        }
    }

    fn timed(&mut self, method: &str, params: Value) -> Duration {
        let s = Instant::now();
        let v = self.call(method, params);
        let d = s.elapsed();
        assert!(!v.is_null(), "{method}: no result");
        d
    }
}

/// The file to measure (see the module documentation).
fn pick_file() -> Option<PathBuf> {
    if let Ok(f) = std::env::var("CST_LSP_FILE") {
        return Some(PathBuf::from(f));
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut best: Option<(u64, PathBuf)> = None;
    for dir in [
        here.join("../../shared/peer-suites"),
        here.join("../corpora/samples"),
    ] {
        walk(&dir, &mut |p| {
            if p.extension().is_some_and(|e| e == "c")
                && let Ok(m) = std::fs::metadata(p)
                && best.as_ref().is_none_or(|(n, _)| m.len() > *n)
            {
                best = Some((m.len(), p.to_path_buf()));
            }
        });
    }
    best.map(|(_, p)| p)
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, f);
        } else {
            f(&p);
        }
    }
}
