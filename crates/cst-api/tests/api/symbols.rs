//! The repo map and the symbol look-ups over HTTP: the map is the one
//! `cst_symbols::Ranker` gives in process, the look-ups follow the
//! workspace's edits at once, and every parameter is checked.

use cst_symbols::{MapOptions, Ranker, SymbolIndex};
use serde_json::Value;

use crate::common::{Server, Setup, enc};

const LIB: &str = "pub mod shapes;\n\npub fn helper(p: &shapes::Point) -> i32 {\n    p.norm()\n}\n\npub fn run() -> i32 {\n    helper(&shapes::Point::origin())\n}\n";
const SHAPES: &str = "pub struct Point {\n    pub x: i32,\n    pub y: i32,\n}\n\nimpl Point {\n    pub fn origin() -> Point {\n        Point { x: 0, y: 0 }\n    }\n\n    pub fn norm(&self) -> i32 {\n        self.x.abs() + self.y.abs()\n    }\n}\n";
const MAIN: &str = "fn main() {\n    let p = demo::shapes::Point::origin();\n    let n = p.norm() + demo::helper(&p);\n    std::process::exit(n);\n}\n";
const REPORT: &str = "def helper_report(points):\n    return [norm(p) for p in points]\n\n\ndef norm(p):\n    return abs(p.x) + abs(p.y)\n";

fn server() -> Server {
    Server::start(&[
        ("src/lib.rs", LIB),
        ("src/shapes.rs", SHAPES),
        ("src/main.rs", MAIN),
        ("tools/report.py", REPORT),
    ])
}

/// `v` without the fields every answer carries (generation, stale paths).
fn without_meta(mut v: Value) -> Value {
    let m = v.as_object_mut().expect("an object");
    for k in ["generation", "stale", "stale_count"] {
        assert!(m.remove(k).is_some(), "the answer lacks {k}");
    }
    v
}

/// The maps `cst_symbols` gives in process, one ranker answering
/// `options` in turn as the server's does (a personalised ranking starts
/// from the unpersonalised one kept, so its ranks depend on what the
/// ranker answered before, within the iteration's tolerance), through the
/// JSON text the server would write (both sides parse the same numbers).
fn in_process(s: &Server, options: &[MapOptions]) -> Vec<Value> {
    let index = SymbolIndex::build(&s.ws).unwrap();
    let mut ranker = Ranker::new();
    options
        .iter()
        .map(|o| {
            let map = ranker.map(&index, &s.ws, o).unwrap();
            serde_json::from_str(&serde_json::to_string(&map).unwrap()).unwrap()
        })
        .collect()
}

#[test]
fn the_map_is_the_rankers_map() {
    let s = server();
    let r = s.get("/v1/map");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.content_type.starts_with("application/json"));
    assert!(r.generation.is_some());
    let plain = without_meta(r.json());
    assert!(!plain["files"].as_array().unwrap().is_empty(), "{plain}");
    assert!(
        plain["text"].as_str().unwrap().contains("shapes.rs"),
        "{plain}"
    );
    // Focus files (relative or absolute) and mentions, as `cst map
    // --focus --mention` takes them; a focus file is left out.
    let abs = s.root().join("src/main.rs");
    let r = s.get(&format!(
        "/v1/map?tokens=256&focus={}&focus=tools/report.py&mention=helper&mention=origin",
        enc(abs.to_str().unwrap())
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    let focused = without_meta(r.json());
    assert!(
        focused["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["path"] != "src/main.rs" && f["path"] != "tools/report.py"),
        "{focused}"
    );
    let plain_options = MapOptions {
        tokens: 1024,
        ..MapOptions::default()
    };
    let focused_options = MapOptions {
        tokens: 256,
        focus: vec![abs, s.root().join("tools/report.py")],
        mention: vec!["helper".into(), "origin".into()],
    };
    let want = in_process(&s, &[plain_options.clone(), focused_options.clone()]);
    assert_eq!(plain, want[0]);
    assert_eq!(focused, want[1]);
    // A fresh ranker (`cst map --json`) gives the same map, its ranks
    // within the tolerance.
    let fresh = &in_process(&s, &[focused_options])[0];
    assert_eq!(focused["text"], fresh["text"]);
    assert_eq!(focused["tokens"], fresh["tokens"]);
    let names = |m: &Value| -> Vec<(Value, Vec<Value>)> {
        m["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let defs = f["definitions"].as_array().unwrap();
                (
                    f["path"].clone(),
                    defs.iter().map(|d| d["name"].clone()).collect(),
                )
            })
            .collect()
    };
    assert_eq!(names(&focused), names(fresh));
}

#[test]
fn symbol_search_ranks_exact_then_looser_matches() {
    let s = server();
    let v = s.get("/v1/symbols?query=helper").json();
    assert_eq!(v["query"], "helper");
    assert_eq!(v["truncated"], false);
    let hits = v["symbols"].as_array().unwrap();
    // `helper` exactly, then `helper_report` by prefix.
    assert_eq!(hits.len(), 2, "{v}");
    assert_eq!(
        hits[0],
        serde_json::json!({
            "name": "helper", "kind": "function", "path": "src/lib.rs",
            "start": {"line": 3, "column": 8, "byte": 24},
            "end": {"line": 3, "column": 14, "byte": 30},
            "bytes": [17, 73],
            "match": "exact", "score": 0,
        })
    );
    assert_eq!(hits[1]["name"], "helper_report");
    assert_eq!(hits[1]["path"], "tools/report.py");
    assert_eq!(hits[1]["match"], "prefix");
    // Fuzzy, bounded by `limit`.
    let v = s.get("/v1/symbols?query=hlpr&limit=1").json();
    assert_eq!(v["symbols"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["symbols"][0]["match"], "fuzzy");
    assert_eq!(v["truncated"], true);
    // Nothing matches: an empty list.
    let v = s.get("/v1/symbols?query=zzzz").json();
    assert_eq!(v["symbols"], serde_json::json!([]));
}

#[test]
fn definitions_and_references_rank_from_the_asking_file() {
    let s = server();
    // `norm` is defined in Rust and in Python: the asking file's
    // directory first.
    let v = s
        .get("/v1/definitions?name=norm&from=tools/report.py")
        .json();
    assert_eq!(v["name"], "norm");
    assert_eq!(v["total"], 2);
    assert_eq!(v["truncated"], false);
    assert!(v.get("references").is_none(), "{v}");
    let defs = v["definitions"].as_array().unwrap();
    let paths: Vec<&str> = defs.iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["tools/report.py", "src/shapes.rs"]);
    assert_eq!(defs[0]["start"]["line"], 5);
    assert_eq!(defs[1]["kind"], "method");
    let v = s.get("/v1/definitions?name=norm&from=src/lib.rs").json();
    assert_eq!(v["definitions"][0]["path"], "src/shapes.rs");
    // References: every call of `norm`, ranked from `src/main.rs`.
    let v = s.get("/v1/references?name=norm&from=src/main.rs").json();
    assert!(v.get("definitions").is_none(), "{v}");
    let refs = v["references"].as_array().unwrap();
    assert_eq!(v["total"].as_u64().unwrap() as usize, refs.len());
    assert!(refs.len() >= 3, "{v}");
    assert_eq!(refs[0]["path"], "src/main.rs");
    assert!(refs.iter().any(|r| r["path"] == "tools/report.py"), "{v}");
    let v = s.get("/v1/references?name=norm&limit=1").json();
    assert_eq!(v["references"].as_array().unwrap().len(), 1);
    assert_eq!(v["truncated"], true);
    // An unknown name: nothing.
    let v = s.get("/v1/definitions?name=nowhere").json();
    assert_eq!(v["definitions"], serde_json::json!([]));
    assert_eq!(v["total"], 0);
}

#[test]
fn bad_parameters_are_refused() {
    let s = server();
    for bad in [
        "/v1/map?tokens=0",
        "/v1/map?tokens=65537",
        "/v1/map?tokens=99999999999999999999999",
        "/v1/map?tokens=abc",
        "/v1/map?tokens=-1",
        "/v1/map?tokens=10&tokens=20",
        "/v1/map?depth=2",
        "/v1/map?mention=",
        "/v1/symbols",
        "/v1/symbols?query=",
        "/v1/symbols?query=a&limit=0",
        "/v1/symbols?query=a&limit=1001",
        "/v1/symbols?query=a&limit=many",
        "/v1/symbols?query=a&kind=function",
        "/v1/definitions",
        "/v1/definitions?name=",
        "/v1/references?name=a&limit=5001",
    ] {
        s.get(bad).assert_error(400, "invalid_input");
    }
    assert_eq!(s.get("/v1/map?tokens=65536").status, 200);
    // Paths that leave the workspace, before anything is read.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.rs"), "fn secret() {}\n").unwrap();
    let secret = outside.path().join("secret.rs");
    for bad in [
        "/v1/map?focus=../secret.rs".to_string(),
        format!("/v1/map?focus={}", enc(secret.to_str().unwrap())),
        "/v1/map?focus=src/lib.rs&focus=src/../../x.rs".to_string(),
        "/v1/definitions?name=norm&from=../x.rs".to_string(),
        format!(
            "/v1/references?name=norm&from={}",
            enc(secret.to_str().unwrap())
        ),
    ] {
        s.get(&bad).assert_error(403, "outside_workspace");
    }
    std::os::unix::fs::symlink(outside.path(), s.root().join("link")).unwrap();
    s.get("/v1/map?focus=link/secret.rs")
        .assert_error(403, "outside_workspace");
    // Wrong method.
    s.request("POST", "/v1/map", None, "")
        .assert_error(405, "method_not_allowed");
}

#[test]
fn an_edit_is_in_the_next_answer() {
    let s = server();
    let v = s.get("/v1/symbols?query=brand_new_thing").json();
    assert_eq!(v["symbols"], serde_json::json!([]), "{v}");
    // A new buffer, then an edit of an open file: each visible at once.
    let r = s.request(
        "PUT",
        "/v1/buffers/src/fresh.rs",
        None,
        "pub fn brand_new_thing() -> u8 { 7 }\n",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let generation = r.json()["generation"].as_u64().unwrap();
    let r = s.get("/v1/symbols?query=brand_new_thing");
    assert!(r.generation.unwrap() >= generation);
    let v = r.json();
    assert_eq!(v["symbols"][0]["path"], "src/fresh.rs", "{v}");
    assert_eq!(v["symbols"][0]["match"], "exact");
    let r = s.request(
        "PUT",
        "/v1/buffers/src/lib.rs",
        None,
        &format!("{LIB}\npub fn added_later() {{ run(); }}\n"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = s.get("/v1/definitions?name=added_later").json();
    assert_eq!(v["definitions"][0]["path"], "src/lib.rs", "{v}");
    assert_eq!(v["definitions"][0]["start"]["line"], 11);
    let v = s.get("/v1/references?name=run").json();
    assert_eq!(v["total"], 1, "{v}");
    // Closed: the file's own text again.
    assert_eq!(
        s.request("DELETE", "/v1/buffers/src/lib.rs", None, "")
            .status,
        200
    );
    let v = s.get("/v1/definitions?name=added_later").json();
    assert_eq!(v["definitions"], serde_json::json!([]), "{v}");
    // The map follows too.
    let v = s.get("/v1/map?mention=brand_new_thing").json();
    assert!(v["text"].as_str().unwrap().contains("fresh.rs"), "{v}");
}

#[test]
fn without_a_symbol_index_the_endpoints_say_so() {
    let mut setup = Setup::default();
    setup.options.symbols = None;
    let s = Server::start_with(&[("src/lib.rs", LIB)], setup);
    for path in [
        "/v1/map",
        "/v1/map?tokens=0",
        "/v1/symbols?query=helper",
        "/v1/definitions?name=helper",
        "/v1/references?name=helper",
    ] {
        s.get(path).assert_error(404, "symbols_disabled");
    }
    // The rest of the API is there.
    assert_eq!(s.get("/v1/outline?path=src/lib.rs").status, 200);
}

#[test]
fn the_endpoints_have_latency_histograms() {
    let s = server();
    for path in [
        "/v1/map",
        "/v1/symbols?query=norm",
        "/v1/definitions?name=norm",
        "/v1/references?name=norm",
    ] {
        assert_eq!(s.get(path).status, 200, "{path}");
    }
    let m = s.get("/metrics").body;
    for endpoint in ["map", "symbols", "definitions", "references"] {
        let line = format!("cst_http_request_duration_seconds_count{{endpoint=\"{endpoint}\"}} 1");
        assert!(m.contains(&line), "no {line} in\n{m}");
    }
}
