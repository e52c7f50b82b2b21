//! `cst mcp` driven by an MCP client from another ecosystem: the Python
//! `mcp` SDK (PyPI), which `.ci/run` installs. The client (tests/mcp/
//! client.py) starts `cst mcp DIR` over stdio, lists the tools and calls
//! each; every answer is checked here against what the other commands of
//! the same binary give for the same workspace (`cst outline --json`,
//! `cst tags --json`, `cst chunks --json`, `cst query`). Without python3
//! or its `mcp` package the test says loudly that it skipped.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A workspace whose files define and use each other's names.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("cst-mcp-")
        .tempdir()
        .unwrap();
    let r = dir.path();
    write(
        r,
        "src/config.rs",
        "pub struct Config {\n    pub name: String,\n}\n\npub fn parse_config(text: &str) -> Config {\n    Config { name: text.to_string() }\n}\n",
    );
    write(
        r,
        "src/main.rs",
        "mod config;\nuse config::parse_config;\n\nfn main() {\n    let c = parse_config(\"a\");\n    let d = parse_config(\"b\");\n    run(c, d);\n}\n\nfn run(a: config::Config, b: config::Config) {\n    println!(\"{} {}\", a.name, b.name);\n}\n",
    );
    write(
        r,
        "src/util/helpers.rs",
        "use crate::config::parse_config;\n\npub fn helper() -> u32 {\n    let c = parse_config(\"c\");\n    c.name.len() as u32\n}\n",
    );
    write(
        r,
        "py/app.py",
        "class App:\n    def run(self):\n        return helper_py()\n\n\ndef helper_py():\n    return 1\n",
    );
    dir
}

fn cst(cache: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cst"))
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cst {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn python_mcp_available() -> bool {
    Command::new("python3")
        .args(["-c", "import mcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The client's report for `calls`, with `server` telling it how to
/// reach the server: the arguments of `cst` over stdio, or `{"url": …}`.
fn run_client(root: &Path, server: &Value, calls: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/client.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_cst"))
        .arg(root)
        .arg(server.to_string())
        .arg(calls.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the MCP client failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The (name, path, line) of every tag `cst tags --json` gives for `name`.
fn tags_named(cache: &Path, root: &Path, name: &str, definitions: bool) -> Vec<(String, u64)> {
    let out = cst(cache, &["tags", root.to_str().unwrap(), "--json"]);
    let mut found: Vec<(String, u64)> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|t| t["name"] == name && t["is_definition"] == definitions)
        .map(|t| {
            let path = t["path"].as_str().unwrap();
            let rel = Path::new(path)
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| path.to_string());
            (rel, t["start"]["line"].as_u64().unwrap())
        })
        .collect();
    found.sort();
    found
}

fn listed(v: &Value, key: &str) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["line"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_python_mcp_client_lists_and_calls_every_tool() {
    if !python_mcp_available() {
        eprintln!(
            "SKIPPED: python3 with the `mcp` package (pip install mcp) not found; \
             `cst mcp` was not tested against a real client"
        );
        return;
    }
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let root = ws.path().canonicalize().unwrap();
    let r = root.to_str().unwrap();
    cst(cache.path(), &["index", r]);
    let calls = json!([
        ["status", {}],
        ["outline", {"path": "src/config.rs"}],
        ["symbols", {"name": "parse_conf"}],
        ["symbols", {"path": "py/app.py"}],
        ["definition", {"name": "parse_config", "from": "src/main.rs"}],
        ["references", {"name": "parse_config", "from": "src/main.rs"}],
        ["references", {"name": "parse_config", "limit": 1}],
        ["query", {"pattern": "(function_item name: (identifier) @name)", "language": "rust"}],
        ["chunks", {"path": "src/main.rs"}],
        ["repo_map", {"tokens": 512}],
        ["outline", {"path": "../outside.rs"}],
        ["symbols", {}],
        ["query", {"pattern": "(identifier) @i", "language": "rust", "offset": u64::MAX, "limit": u64::MAX}],
        ["references", {"name": "parse_config", "offset": u64::MAX}],
        ["status", {}]
    ]);
    let stdio = json!([
        "--cache-dir",
        cache.path().to_str().unwrap(),
        "mcp",
        root.to_str().unwrap()
    ]);
    let report = run_client(&root, &stdio, &calls);
    let expected_tools = [
        "chunks",
        "definition",
        "outline",
        "query",
        "references",
        "repo_map",
        "status",
        "symbols",
    ];
    assert_eq!(report["tools"], json!(expected_tools), "{report}");
    assert_eq!(report["server"], "cst");
    for t in expected_tools {
        assert_eq!(
            report["schemas"][t]["type"], "object",
            "{t} has an input schema"
        );
    }
    let calls = report["calls"].as_array().unwrap();
    let call = |i: usize| &calls[i];
    // Every successful answer carries the generation, in its text too.
    for (i, c) in calls.iter().enumerate().take(10) {
        assert!(!c["is_error"].as_bool().unwrap(), "call {i}: {c}");
        assert!(
            c["structured"]["generation"].as_u64().is_some(),
            "call {i}: {c}"
        );
        assert!(
            c["text"].as_str().unwrap().contains("generation"),
            "call {i}: {c}"
        );
    }
    // status: the server's own first index may still run at the first
    // call; the tools over the whole workspace wait for it, so after them
    // it has finished.
    assert_eq!(call(0)["structured"]["root"], r, "{}", call(0));
    assert_eq!(call(14)["structured"]["ready"], true, "{}", call(14));
    // outline: the same as `cst outline --json`.
    let outline: Value = serde_json::from_str(&cst(
        cache.path(),
        &[
            "outline",
            root.join("src/config.rs").to_str().unwrap(),
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(call(1)["structured"]["outline"]["items"], outline["items"]);
    assert!(call(1)["text"].as_str().unwrap().contains("parse_config"));
    // symbols by name: the prefix finds the definition.
    let hits = call(2)["structured"]["symbols"].as_array().unwrap();
    assert_eq!(hits[0]["name"], "parse_config", "{}", call(2));
    assert_eq!(hits[0]["path"], "src/config.rs");
    // symbols of a file: its definitions.
    let names: Vec<&str> = call(3)["structured"]["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["App", "run", "helper_py"]);
    // definition and references: those of `cst tags`.
    assert_eq!(
        listed(&call(4)["structured"], "definitions"),
        tags_named(cache.path(), &root, "parse_config", true)
    );
    let refs = tags_named(cache.path(), &root, "parse_config", false);
    assert_eq!(refs.len(), 3, "{refs:?}");
    assert_eq!(listed(&call(5)["structured"], "references"), refs);
    // Ranked from src/main.rs: its own references first.
    assert_eq!(
        call(5)["structured"]["references"][0]["path"],
        "src/main.rs"
    );
    // Pagination.
    assert_eq!(
        call(6)["structured"]["references"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(call(6)["structured"]["next_offset"], 1);
    // query: the matches of `cst query` (one line per capture).
    let cli_matches = cst(
        cache.path(),
        &[
            "query",
            "(function_item name: (identifier) @name)",
            r,
            "--lang",
            "rust",
        ],
    )
    .lines()
    .count();
    let q = &call(7)["structured"];
    assert_eq!(q["matches"].as_array().unwrap().len(), cli_matches, "{q}");
    assert_eq!(
        q["summary"]["matches"].as_u64().unwrap() as usize,
        cli_matches
    );
    // chunks: those of `cst chunks --json`.
    let chunks: Vec<Value> = cst(
        cache.path(),
        &[
            "chunks",
            root.join("src/main.rs").to_str().unwrap(),
            "--json",
        ],
    )
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    let got = call(8)["structured"]["chunks"].as_array().unwrap();
    assert_eq!(got.len(), chunks.len());
    for (a, b) in got.iter().zip(&chunks) {
        assert_eq!(a["text"], b["text"]);
        assert_eq!(a["lines"], b["lines"]);
    }
    // repo_map: files, best first, with their definitions; the file whose
    // definitions everything uses comes first.
    let map = &call(9)["structured"];
    let files = map["files"].as_array().unwrap();
    assert!(!files.is_empty(), "{map}");
    assert_eq!(files[0]["path"], "src/config.rs", "{map}");
    assert!(call(9)["text"].as_str().unwrap().contains("src/config.rs"));
    // Errors are tool errors the model can read, not crashes.
    assert!(call(10)["is_error"].as_bool().unwrap(), "{}", call(10));
    assert!(call(11)["is_error"].as_bool().unwrap(), "{}", call(11));
    // Hostile pages: empty answers, no overflow.
    for i in [12, 13] {
        assert!(!call(i)["is_error"].as_bool().unwrap(), "{}", call(i));
        assert!(
            call(i)["structured"]["next_offset"].is_null(),
            "{}",
            call(i)
        );
    }
    assert!(
        call(12)["structured"]["matches"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// The same server over MCP's streamable HTTP transport, at `/mcp` on a
/// running `cst serve`, with the same Python client.
#[test]
fn a_python_mcp_client_talks_to_cst_serve_at_mcp() {
    if !python_mcp_available() {
        eprintln!(
            "SKIPPED: python3 with the `mcp` package (pip install mcp) not found; \
             /mcp on `cst serve` was not tested against a real client"
        );
        return;
    }
    use std::io::{BufRead, BufReader};
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let root = ws.path().canonicalize().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cst"))
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["serve", root.to_str().unwrap(), "--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("address line: {line:?}"))
        .to_owned();
    // `definition` first: it waits for the server's first index, which
    // `status` then reports finished.
    let calls = json!([
        ["definition", {"name": "parse_config"}],
        ["status", {}],
        ["outline", {"path": "src/config.rs"}],
        ["outline", {"path": "/etc/passwd"}]
    ]);
    let url = json!({ "url": format!("http://{addr}/mcp") });
    let report = run_client(&root, &url, &calls);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(report["server"], "cst", "{report}");
    assert_eq!(report["tools"].as_array().unwrap().len(), 8, "{report}");
    let calls = report["calls"].as_array().unwrap();
    assert_eq!(calls[1]["structured"]["ready"], true, "{}", calls[1]);
    let outline: Value = serde_json::from_str(&cst(
        cache.path(),
        &[
            "outline",
            root.join("src/config.rs").to_str().unwrap(),
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(calls[2]["structured"]["outline"]["items"], outline["items"]);
    assert_eq!(
        listed(&calls[0]["structured"], "definitions"),
        tags_named(cache.path(), &root, "parse_config", true)
    );
    assert!(calls[3]["is_error"].as_bool().unwrap(), "{}", calls[3]);
}
