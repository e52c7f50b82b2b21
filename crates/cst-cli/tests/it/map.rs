//! `cst map`: the ranked repo map of a generated workspace, as JSON and as
//! text, indexed on demand, within the token budget, with focus files left
//! out.

use std::path::Path;
use std::process::{Command, Output};

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

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = dir.path();
    let files = [
        (
            "core/store.py",
            "class Store:\n    def fetch_record(self, key):\n        return key\n\n\ndef open_store():\n    return Store()\n",
        ),
        (
            "app/one.py",
            "def handle_one():\n    s = open_store()\n    return s.fetch_record(1)\n",
        ),
        (
            "app/two.py",
            "def handle_two():\n    return open_store().fetch_record(2)\n",
        ),
        ("misc/unused.py", "def unused_helper():\n    return 0\n"),
        (
            "src/lib.rs",
            "pub fn parse_settings() -> u32 {\n    7\n}\n\nfn start() {\n    parse_settings();\n}\n",
        ),
    ];
    for (rel, text) in files {
        let p = r.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    dir
}

#[test]
fn map_prints_json_with_ranked_files_and_definitions() {
    let ws = workspace();
    let cache = tempfile::tempdir().expect("tempdir");
    let dir = ws.path().to_str().expect("UTF-8 path");
    // Nothing indexed yet: the command indexes first.
    let out = ok(&cst(
        cache.path(),
        ws.path(),
        &["map", dir, "--tokens", "1024", "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    let files = v["files"].as_array().expect("files");
    assert!(!files.is_empty(), "{v}");
    let paths: Vec<&str> = files.iter().filter_map(|f| f["path"].as_str()).collect();
    // Relative to DIR; the store referenced from two files ranks first,
    // above the file nobody references.
    assert_eq!(paths[0], "core/store.py", "{paths:?}");
    if let Some(unused) = paths.iter().position(|p| *p == "misc/unused.py") {
        assert!(unused > 0);
    }
    for f in files {
        let path = f["path"].as_str().expect("path");
        let text = std::fs::read_to_string(ws.path().join(path)).expect("a file of DIR");
        for d in f["definitions"].as_array().expect("definitions") {
            let name = d["name"].as_str().expect("name");
            let line = d["line"].as_u64().expect("line") as usize;
            let l = text.lines().nth(line - 1).expect("the line");
            assert!(l.contains(name), "{path}:{line} {l:?} lacks {name}");
        }
    }
    let names: Vec<&str> = files[0]["definitions"]
        .as_array()
        .expect("definitions")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert!(names.contains(&"open_store"), "{names:?}");
    assert!(v["tokens"].as_u64().expect("tokens") as f64 <= 1024.0 * 1.15);

    // Focus: the focus file is left out.
    let out = ok(&cst(
        cache.path(),
        ws.path(),
        &[
            "map",
            ".",
            "--tokens",
            "1024",
            "--json",
            "--focus",
            "app/one.py",
            "--mention",
            "parse_settings",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    let paths: Vec<&str> = v["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(!paths.contains(&"app/one.py"), "{paths:?}");
    assert!(paths.contains(&"core/store.py"), "{paths:?}");
}

#[test]
fn map_prints_text_within_the_budget() {
    let ws = workspace();
    let cache = tempfile::tempdir().expect("tempdir");
    ok(&cst(cache.path(), ws.path(), &["index", "."]));
    let out = ok(&cst(
        cache.path(),
        ws.path(),
        &["map", ".", "--tokens", "1024"],
    ));
    assert!(out.starts_with("core/store.py:\n"), "{out}");
    assert!(out.contains("│class Store:\n"), "{out}");
    assert!(out.contains("│    def fetch_record(self, key):\n"), "{out}");
    assert!(out.contains("│def open_store():\n"), "{out}");
    assert!(
        out.contains("src/lib.rs:\n│pub fn parse_settings() -> u32 {\n"),
        "{out}"
    );
    assert!(out.chars().count().div_ceil(4) as f64 <= 1024.0 * 1.15);
    // A small budget shows less.
    let small = ok(&cst(
        cache.path(),
        ws.path(),
        &["map", ".", "--tokens", "16"],
    ));
    assert!(small.len() < out.len(), "{small}");
    assert!(
        small.chars().count().div_ceil(4) as f64 <= 16.0 * 1.15,
        "{small}"
    );
    // Usage errors.
    let bad = cst(
        cache.path(),
        ws.path(),
        &["map", ".", "--focus", "no/such.py"],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
}
