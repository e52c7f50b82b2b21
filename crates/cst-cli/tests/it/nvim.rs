//! Neovim (headless, `--clean -u NONE`) as the client of `cst lsp`: it
//! opens a Rust file of a temporary workspace, asks for document symbols,
//! folding ranges and semantic tokens, edits the buffer and asks again;
//! the answers are compared with a fresh parse of the buffer's text.
//! Without `nvim` on PATH the test says "SKIPPED: nvim not found" and
//! passes.

use std::process::Command;

use cst::{grammars, tree_sitter};
use serde_json::Value;

const SOURCE: &str = "// one\n// two\nfn main() {\n    let s = \"é\";\n    println!(\"{}\", s);\n}\n\nstruct Point {\n    x: i32,\n}\n\nimpl Point {\n    fn get(&self) -> i32 {\n        self.x\n    }\n}\n";

const SCRIPT: &str = r#"
local out = vim.env.CST_OUT
local function finish(results)
  local f = io.open(out, 'w')
  f:write(vim.fn.json_encode(results))
  f:close()
  vim.cmd('qa!')
end
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.CST_FILE))
local bufnr = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = 'cst',
  cmd = { vim.env.CST_BIN, 'lsp', '--no-watch' },
  root_dir = vim.env.CST_ROOT,
  flags = { debounce_text_changes = 0 },
})
if not id then finish({ error = 'start_client failed' }) return end
vim.lsp.buf_attach_client(bufnr, id)
local client
local ok = vim.wait(20000, function()
  client = vim.lsp.get_client_by_id(id)
  return client ~= nil and client.initialized == true
end, 20)
if not ok then finish({ error = 'no attach' }) return end
local td = { uri = vim.uri_from_bufnr(bufnr) }
local function ask(method)
  local r, err = client.request_sync(method, { textDocument = td }, 20000, bufnr)
  if not r then return { error = tostring(err) } end
  if r.err then return { error = r.err } end
  return r.result
end
local function text()
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n') .. '\n'
end
local function round()
  return {
    text = text(),
    symbols = ask('textDocument/documentSymbol'),
    folds = ask('textDocument/foldingRange'),
    tokens = ask('textDocument/semanticTokens/full'),
  }
end
local results = { encoding = client.offset_encoding }
results.before = round()
vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { 'fn added() { let z = "😀"; }', '/* a', '   b */' })
vim.api.nvim_buf_set_lines(bufnr, 9, 10, false, { '    y: u8, // 😀 here' })
vim.wait(200)
results.after = round()
finish(results)
"#;

fn pos(text: &str, offset: usize) -> Value {
    // UTF-16 columns (Neovim 0.7 offers no other encoding).
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count();
    let character: usize = text[line_start..offset].chars().map(char::len_utf16).sum();
    serde_json::json!({"line": line, "character": character})
}

fn expected_symbols(text: &str) -> Vec<(String, Value, Value)> {
    let cache = cst::Cache::in_memory(cst::Config::default());
    let g = grammars::by_id("rust").expect("rust");
    let tree = cache
        .detached(g, text.as_bytes().to_vec())
        .expect("parse")
        .tree()
        .expect("tree");
    let tags = cache.tags_for(tree).expect("tags");
    let items = cst_workspace::answers::OutlineItemOut::list(&tags.outline());
    let mut out = Vec::new();
    let mut stack: Vec<&cst_workspace::answers::OutlineItemOut> = items.iter().rev().collect();
    while let Some(it) = stack.pop() {
        out.push((
            it.name.clone(),
            pos(text, it.bytes[0]),
            pos(text, it.bytes[1]),
        ));
        stack.extend(it.children.iter().rev());
    }
    out
}

fn symbols_of(v: &Value) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = v.as_array().expect("symbols").iter().rev().collect();
    while let Some(s) = stack.pop() {
        out.push((
            s["name"].as_str().expect("name").to_string(),
            s["range"]["start"].clone(),
            s["range"]["end"].clone(),
        ));
        if let Some(c) = s["children"].as_array() {
            stack.extend(c.iter().rev());
        }
    }
    out
}

fn expected_folds(text: &str) -> Vec<(u64, u64)> {
    fn last(n: tree_sitter::Node<'_>) -> usize {
        let e = n.end_position();
        if e.column == 0 && e.row > n.start_position().row {
            e.row - 1
        } else {
            e.row
        }
    }
    let tree = grammars::by_id("rust")
        .expect("rust")
        .parser()
        .expect("parser")
        .parse(text, None)
        .expect("tree");
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.is_named() && cst_lsp::is_fold_kind(n.kind()) && last(n) > n.start_position().row {
            out.push((n.start_position().row as u64, last(n) as u64));
        }
        let mut run: Option<(usize, usize)> = None;
        let mut c = n.walk();
        for k in n.children(&mut c) {
            let single =
                k.is_named() && k.kind().contains("comment") && k.start_position().row == last(k);
            let r = k.start_position().row;
            run = match (single, run) {
                (true, Some((s, e))) if r == e + 1 => Some((s, r)),
                (true, prev) => {
                    if let Some((s, e)) = prev.filter(|(s, e)| e > s) {
                        out.push((s as u64, e as u64));
                    }
                    Some((r, r))
                }
                (false, prev) => {
                    if let Some((s, e)) = prev.filter(|(s, e)| e > s) {
                        out.push((s as u64, e as u64));
                    }
                    None
                }
            };
            stack.push(k);
        }
        if let Some((s, e)) = run.filter(|(s, e)| e > s) {
            out.push((s as u64, e as u64));
        }
    }
    out.sort_by_key(|&(s, e)| (s, std::cmp::Reverse(e)));
    out.dedup();
    out
}

/// Per UTF-16 position (line, column), the token type the highlights
/// query gives a fresh parse (innermost capture; first pattern of a node).
fn expected_tokens(text: &str) -> Vec<(u64, u64, u64)> {
    use tree_sitter::StreamingIterator;
    let g = grammars::by_id("rust").expect("rust");
    let q = tree_sitter::Query::new(
        &g.language().expect("language"),
        g.queries().highlights.expect("hl"),
    )
    .expect("query");
    let tree = g.parser().expect("parser").parse(text, None).expect("tree");
    type Best = Option<(usize, usize, u32)>;
    let mut best: Vec<Best> = vec![None; text.len()];
    let mut cursor = tree_sitter::QueryCursor::new();
    let mut caps = cursor.captures(&q, tree.root_node(), text.as_bytes());
    while let Some((m, i)) = caps.next() {
        let c = m.captures[*i];
        let Some((t, _)) = cst_lsp::token_type_of(q.capture_names()[c.index as usize]) else {
            continue;
        };
        let size = c.node.end_byte() - c.node.start_byte();
        for slot in &mut best[c.node.start_byte()..c.node.end_byte()] {
            if slot.is_none_or(|(s, p, _)| size < s || (size == s && m.pattern_index < p)) {
                *slot = Some((size, m.pattern_index, t));
            }
        }
    }
    let mut out = Vec::new();
    for (b, ch) in text.char_indices() {
        if ch == '\n' {
            continue;
        }
        if let Some((_, _, t)) = best[b] {
            let p = pos(text, b);
            out.push((
                p["line"].as_u64().expect("l"),
                p["character"].as_u64().expect("c"),
                t as u64,
            ));
        }
    }
    out
}

/// The same from the server's encoded tokens.
fn tokens_of(text: &str, v: &Value) -> Vec<(u64, u64, u64)> {
    let data: Vec<u64> = v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|x| x.as_u64().expect("n"))
        .collect();
    let lines: Vec<&str> = text.split('\n').collect();
    let (mut line, mut col) = (0u64, 0u64);
    let mut out = Vec::new();
    for t in data.chunks(5) {
        if t[0] > 0 {
            line += t[0];
            col = t[1];
        } else {
            col += t[1];
        }
        // Every UTF-16 column the token covers that starts a character.
        let mut c16 = 0u64;
        for ch in lines[line as usize].chars() {
            if c16 >= col && c16 < col + t[2] {
                out.push((line, c16, t[3]));
            }
            c16 += ch.len_utf16() as u64;
        }
    }
    out
}

#[test]
fn neovim_drives_cst_lsp() {
    let found = Command::new("nvim").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nvim not found");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).expect("mkdir");
    let root = root.canonicalize().expect("canonical");
    let file = root.join("main.rs");
    std::fs::write(&file, SOURCE).expect("write");
    let script = dir.path().join("client.lua");
    std::fs::write(&script, SCRIPT).expect("script");
    let out = dir.path().join("out.json");
    let mut child = Command::new("nvim")
        .args(["--headless", "--clean", "-u", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("CST_BIN", env!("CARGO_BIN_EXE_cst"))
        .env("CST_ROOT", &root)
        .env("CST_FILE", &file)
        .env("CST_OUT", &out)
        .env("CST_CACHE_DIR", dir.path().join("cache"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_CACHE_HOME", dir.path().join("xdg-cache"))
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("nvim runs");
    // A watchdog: the script bounds its own waits, but a hung nvim must
    // fail the test, not hold CI.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish within 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "nvim: {status}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("results")).expect("JSON");
    assert!(results.get("error").is_none(), "{results}");
    assert_eq!(results["encoding"], "utf-16");
    for round in ["before", "after"] {
        let r = &results[round];
        let text = r["text"].as_str().expect("text");
        for k in ["symbols", "folds", "tokens"] {
            assert!(r[k].get("error").is_none(), "{round} {k}: {}", r[k]);
        }
        let syms = symbols_of(&r["symbols"]);
        assert!(!syms.is_empty());
        assert_eq!(syms, expected_symbols(text), "{round}: documentSymbol");
        let folds: Vec<(u64, u64)> = r["folds"]
            .as_array()
            .expect("folds")
            .iter()
            .map(|f| {
                (
                    f["startLine"].as_u64().expect("s"),
                    f["endLine"].as_u64().expect("e"),
                )
            })
            .collect();
        assert_eq!(folds, expected_folds(text), "{round}: foldingRange");
        assert_eq!(
            tokens_of(text, &r["tokens"]),
            expected_tokens(text),
            "{round}: semanticTokens"
        );
    }
    assert_ne!(results["before"]["text"], results["after"]["text"]);
}
