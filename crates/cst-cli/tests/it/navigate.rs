//! `cst tags`, `cst outline`, `cst chunks` and `cst query` on a generated
//! workspace: the tags equal tree-sitter-tags' on the same files, the ctags
//! file is sorted and points at the right lines, the outline nests, the
//! chunks tile each file and keep their ids across an edit elsewhere, the
//! query prints ripgrep-style lines and JSON, and the exit codes hold.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn cst(cache: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cst"))
        .current_dir(cwd)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .output()
        .expect("cst runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

const LIB: &str = r#"//! A library.

/// A cache.
pub struct Cache {
    map: std::collections::HashMap<String, String>,
}

impl Cache {
    /// Gets a value.
    pub fn get(&self, key: &str) -> Option<&String> {
        self.map.get(key)
    }

    pub fn put(&mut self, key: String, value: String) {
        self.map.insert(key, value);
    }
}

pub fn helper() -> u32 {
    compute(1)
}

fn compute(x: u32) -> u32 {
    x + 1
}
"#;

const TOOL: &str = "import os\n\nclass Tool:\n    def run(self):\n        return os.getcwd()\n\ndef main():\n    Tool().run()\n";

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::create_dir_all(r.join("src")).unwrap();
    std::fs::create_dir_all(r.join(".git")).unwrap();
    std::fs::write(r.join("src/lib.rs"), LIB).unwrap();
    std::fs::write(r.join("src/tool.py"), TOOL).unwrap();
    std::fs::write(r.join("README.md"), "# Title\n\nText.\n").unwrap();
    dir
}

/// tree-sitter-tags on a live parse: (name, kind, is_definition, row, column).
fn peer_tags(id: &str, source: &[u8]) -> Vec<(String, String, bool, usize, usize)> {
    let g = cst::grammars::by_id(id).unwrap();
    let config = tree_sitter_tags::TagsConfiguration::new(
        g.language().unwrap(),
        g.queries().tags.unwrap(),
        g.queries().locals.unwrap_or(""),
    )
    .unwrap();
    let mut context = tree_sitter_tags::TagsContext::new();
    let (tags, _) = context.generate_tags(&config, source, None).unwrap();
    tags.map(|t| {
        let t = t.unwrap();
        (
            String::from_utf8_lossy(&source[t.name_range.clone()]).into_owned(),
            config.syntax_type_name(t.syntax_type_id).to_string(),
            t.is_definition,
            t.span.start.row,
            t.span.start.column,
        )
    })
    .collect()
}

#[test]
fn tags_equal_tree_sitter_tags_and_make_a_ctags_file() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let root = ws.path();
    let lines = json_lines(&ok(&cst(cache.path(), root, &["tags", ".", "--json"])));
    for (file, id, source) in [("src/lib.rs", "rust", LIB), ("src/tool.py", "python", TOOL)] {
        let ours: Vec<(String, String, bool, usize, usize)> = lines
            .iter()
            .filter(|v| v["path"] == file)
            .map(|v| {
                assert_eq!(v["language"], id);
                (
                    v["name"].as_str().unwrap().to_string(),
                    v["kind"].as_str().unwrap().to_string(),
                    v["is_definition"].as_bool().unwrap(),
                    v["start"]["line"].as_u64().unwrap() as usize - 1,
                    v["start"]["column"].as_u64().unwrap() as usize - 1,
                )
            })
            .collect();
        assert_eq!(ours, peer_tags(id, source.as_bytes()), "{file}");
    }
    let doc = lines
        .iter()
        .find(|v| v["name"] == "Cache" && v["kind"] == "class")
        .unwrap();
    assert_eq!(doc["line"], "pub struct Cache {");

    // Text: `path:line:col: def|ref kind name`.
    let text = ok(&cst(cache.path(), root, &["tags", "src", "--definitions"]));
    assert!(
        text.lines()
            .any(|l| l == "src/lib.rs:10:12: def method get"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l == "src/tool.py:3:7: def class Tool"),
        "{text}"
    );
    assert!(!text.contains(" ref "), "{text}");

    // A ctags file: header, sorted, patterns and line numbers that match.
    let out = cst(cache.path(), root, &["tags", ".", "--ctags", "-o", "tags"]);
    ok(&out);
    let tags = std::fs::read_to_string(root.join("tags")).unwrap();
    let body: Vec<&str> = tags.lines().filter(|l| !l.starts_with("!_TAG_")).collect();
    assert!(tags.starts_with("!_TAG_FILE_FORMAT\t2\t"), "{tags}");
    assert!(tags.contains("!_TAG_FILE_SORTED\t1\t"));
    let mut sorted = body.clone();
    sorted.sort();
    assert_eq!(body, sorted, "sorted by name");
    let mut names = Vec::new();
    for l in &body {
        let f: Vec<&str> = l.split('\t').collect();
        assert!(f.len() >= 5, "{l}");
        let (name, file, pattern) = (f[0], f[1], f[2]);
        let line: usize = f
            .iter()
            .find_map(|x| x.strip_prefix("line:"))
            .unwrap()
            .parse()
            .unwrap();
        let content = std::fs::read_to_string(root.join(file)).unwrap();
        let actual = content.lines().nth(line - 1).unwrap();
        let expected = format!(
            "/^{}$/;\"",
            actual.replace('\\', "\\\\").replace('/', "\\/")
        );
        assert_eq!(pattern, expected, "{l}");
        assert!(actual.contains(name), "{l}");
        names.push(name);
    }
    for n in [
        "Cache", "Tool", "compute", "get", "helper", "main", "put", "run",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    // References are left out unless asked for.
    assert!(!tags.contains("roles:ref"));
    let with_refs = ok(&cst(
        cache.path(),
        root,
        &["tags", ".", "--ctags", "--references", "-o", "-"],
    ));
    assert!(with_refs.contains("compute\tsrc/lib.rs\t") && with_refs.contains("roles:ref"));
}

#[test]
fn outline_nests_definitions() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let root = ws.path();
    let text = ok(&cst(cache.path(), root, &["outline", "src/lib.rs"]));
    assert_eq!(
        text,
        "class Cache  4-6\nimplementation Cache  8-17\n  method get  10-12\n  method put  14-16\nfunction helper  19-21\nfunction compute  23-25\n"
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&cst(
        cache.path(),
        root,
        &["outline", "src/lib.rs", "--json"],
    )))
    .unwrap();
    assert_eq!(v["language"], "rust");
    assert_eq!(v["items"][1]["children"][0]["name"], "get");
    assert_eq!(v["items"][1]["children"][0]["start"]["line"], 10);
    // `show --outline` is the same outline.
    assert_eq!(
        ok(&cst(
            cache.path(),
            root,
            &["show", "src/lib.rs", "--outline"]
        )),
        text
    );
    // A language without a tags query: exit 1 with a reason.
    let md = cst(cache.path(), root, &["outline", "README.md"]);
    assert_eq!(
        md.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&md.stderr)
    );
    assert!(String::from_utf8_lossy(&md.stderr).contains("no tags query"));
}

#[test]
fn chunks_tile_files_and_keep_ids_across_an_edit_elsewhere() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let root = ws.path();
    let run = |args: &[&str]| json_lines(&ok(&cst(cache.path(), root, args)));
    let before = run(&["chunks", "src", "--max", "60", "--json"]);
    for (file, source) in [("src/lib.rs", LIB), ("src/tool.py", TOOL)] {
        let mine: Vec<&serde_json::Value> = before.iter().filter(|c| c["path"] == file).collect();
        assert!(mine.len() >= 2, "{file}: {} chunks", mine.len());
        let joined: String = mine.iter().map(|c| c["text"].as_str().unwrap()).collect();
        assert_eq!(joined, source, "{file}: chunks tile the file");
        let mut pos = 0;
        for c in &mine {
            assert_eq!(c["bytes"][0].as_u64().unwrap() as usize, pos);
            pos = c["bytes"][1].as_u64().unwrap() as usize;
            assert!(
                c["oversized"] == false && c["size"].as_u64().unwrap() <= 60,
                "{c}"
            );
        }
    }
    assert!(before.iter().any(|c| c["symbol_path"][0]["name"] == "Cache" && c["symbol_path"][1]["name"] == "get"));

    // Edit `compute` only and re-index: the other chunks keep their ids.
    let edited = LIB.replace("x + 1", "x + 2");
    std::fs::write(root.join("src/lib.rs"), &edited).unwrap();
    let after = run(&["chunks", "src/lib.rs", "--max", "60", "--json", "--index"]);
    let ids = |v: &[serde_json::Value]| -> Vec<(String, String)> {
        v.iter()
            .filter(|c| c["path"] == "src/lib.rs")
            .map(|c| {
                (
                    c["id"].as_str().unwrap().to_string(),
                    c["text"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (b, a) = (ids(&before), ids(&after));
    let changed: Vec<_> = b.iter().filter(|x| !a.contains(x)).collect();
    assert_eq!(
        changed.len(),
        1,
        "only the edited chunk changes: {changed:?}"
    );
    assert!(changed[0].1.contains("x + 1"));

    // Text mode and usage errors.
    let text = ok(&cst(
        cache.path(),
        root,
        &["chunks", "src/tool.py", "--unit", "bytes", "--max", "40"],
    ));
    assert!(
        text.lines().all(|l| l.starts_with("src/tool.py:")),
        "{text}"
    );
    let bad = cst(cache.path(), root, &["chunks", "src", "--unit", "words"]);
    assert_eq!(bad.status.code(), Some(2));
    let zero = cst(cache.path(), root, &["chunks", "src", "--max", "0"]);
    assert_eq!(zero.status.code(), Some(2));
}

#[test]
fn query_prints_like_ripgrep_and_fails_like_tree_sitter() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let root = ws.path();
    let pattern = "(function_item name: (identifier) @name)";
    let text = ok(&cst(cache.path(), root, &["query", pattern]));
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        vec![
            "src/lib.rs:10:12:     pub fn get(&self, key: &str) -> Option<&String> {",
            "src/lib.rs:14:12:     pub fn put(&mut self, key: String, value: String) {",
            "src/lib.rs:19:8: pub fn helper() -> u32 {",
            "src/lib.rs:23:4: fn compute(x: u32) -> u32 {",
        ]
    );
    // Several languages: a pattern applies where it compiles.
    let py = ok(&cst(
        cache.path(),
        root,
        &[
            "query",
            "(function_definition name: (identifier) @f)",
            "--json",
        ],
    ));
    let v = json_lines(&py);
    assert_eq!(v.len(), 2);
    assert_eq!(
        (v[0]["text"].as_str(), v[0]["language"].as_str()),
        (Some("run"), Some("python"))
    );
    assert_eq!(v[1]["start"]["line"], 7);
    // --capture picks one capture; --lang one language.
    let two = "(call_expression function: (identifier) @callee arguments: (arguments) @args)";
    let only = json_lines(&ok(&cst(
        cache.path(),
        root,
        &[
            "query",
            two,
            "--capture",
            "callee",
            "--json",
            "--lang",
            "rust",
        ],
    )));
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["text"], "compute");
    // No match: exit 1, like grep.
    let none = cst(
        cache.path(),
        root,
        &["query", "(macro_invocation) @m", "--lang", "rust"],
    );
    assert_eq!(none.status.code(), Some(1));
    assert!(none.stdout.is_empty());
    // A pattern that does not compile: exit 2, tree-sitter's message and offset.
    let bad = cst(
        cache.path(),
        root,
        &[
            "query",
            "(function_item name: (identifer) @n)",
            "--lang",
            "rust",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("Query error at 1:23. Invalid node type \"identifer\""),
        "{err}"
    );
    assert!(err.contains("byte offset 22"), "{err}");
    let syntax = cst(cache.path(), root, &["query", "(function_item"]);
    assert_eq!(syntax.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&syntax.stderr).contains("Invalid syntax"));
    let nocap = cst(cache.path(), root, &["query", "(function_item)"]);
    assert_eq!(nocap.status.code(), Some(2));
}

#[test]
fn a_closed_stdout_ends_quietly_with_status_0() {
    let ws = workspace();
    let big: String = (0..5000)
        .map(|i| format!("fn f{i}() {{ g{i}(); }}\n"))
        .collect();
    std::fs::write(ws.path().join("src/big.rs"), big).unwrap();
    let cache = tempfile::tempdir().unwrap();
    // Index first so the tags command only reads and prints.
    ok(&cst(cache.path(), ws.path(), &["index", "."]));
    for args in [
        &["tags", "."][..],
        &["languages"][..],
        &["query", "(identifier) @i", "."][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cst"))
            .current_dir(ws.path())
            .arg("--cache-dir")
            .arg(cache.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        // The reader is dropped here: stdout is closed.
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "{args:?}"
        );
    }
}

#[cfg(feature = "tokens")]
#[test]
fn chunks_count_tokens_with_the_tokens_feature() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let out = ok(&cst(
        cache.path(),
        ws.path(),
        &[
            "chunks",
            "src/lib.rs",
            "--unit",
            "tokens",
            "--max",
            "40",
            "--json",
        ],
    ));
    let chunks = json_lines(&out);
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    let joined: String = chunks.iter().map(|c| c["text"].as_str().unwrap()).collect();
    assert_eq!(joined, LIB);
    assert!(
        chunks
            .iter()
            .all(|c| c["size"].as_u64().unwrap() <= 40 || c["oversized"] == true)
    );
}

#[cfg(not(feature = "tokens"))]
#[test]
fn chunks_in_tokens_need_the_feature() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let out = cst(
        cache.path(),
        ws.path(),
        &["chunks", "src", "--unit", "tokens"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tokens"));
}
