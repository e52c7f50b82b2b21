//! Trees, nodes, outlines, tags, chunks and queries of files on disk equal
//! what the library (and tree-sitter) give for the same files.

use crate::common::{Server, enc, fresh_sexp};

const LIB: &str = "pub struct Point { x: i32, y: i32 }\n\nimpl Point {\n    pub fn norm(&self) -> i32 {\n        self.x.abs() + self.y.abs()\n    }\n}\n\nfn helper(p: &Point) -> i32 { p.norm() }\n";
const TOOL: &str = "import os\n\ndef main():\n    print(os.getcwd())\n";

fn server() -> Server {
    Server::start(&[("src/lib.rs", LIB), ("tools/tool.py", TOOL)])
}

#[test]
fn tree_sexp_is_tree_sitters_and_json_nests_the_same_nodes() {
    let s = server();
    let r = s.get("/v1/tree?path=src/lib.rs&format=sexp");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.content_type.starts_with("text/plain"));
    assert_eq!(r.body, format!("{}\n", fresh_sexp("rust", LIB)));
    assert!(r.generation.is_some());
    // An absolute path inside the workspace is the same file.
    let abs = s.root().join("src/lib.rs");
    let r2 = s.get(&format!("/v1/tree?path={}", enc(abs.to_str().unwrap())));
    assert_eq!(r2.body, r.body);
    // JSON: every node, nested.
    let j = s.get("/v1/tree?path=tools/tool.py&format=json").json();
    assert_eq!(j["kind"], "module");
    fn count(v: &serde_json::Value) -> usize {
        1 + v["children"]
            .as_array()
            .map_or(0, |c| c.iter().map(count).sum())
    }
    let g = cst_workspace::cst::grammars::by_id("python").unwrap();
    let live = g.parser().unwrap().parse(TOOL, None).unwrap();
    let mut n = 0;
    let mut c = live.walk();
    'walk: loop {
        n += 1;
        if c.goto_first_child() {
            continue;
        }
        while !c.goto_next_sibling() {
            if !c.goto_parent() {
                break 'walk;
            }
        }
    }
    assert_eq!(count(&j), n);
    // A range: the smallest node spanning it.
    let r = s.get("/v1/tree?path=src/lib.rs&byte=11&end_byte=16");
    assert_eq!(r.body, "(type_identifier)\n");
}

#[test]
fn node_at_a_place_with_its_ancestors() {
    let s = server();
    // `norm` in `pub fn norm`: line 3 (zero-based), column 11.
    let v = s.get("/v1/node?path=src/lib.rs&row=3&column=12").json();
    assert_eq!(v["node"]["kind"], "identifier", "{v}");
    assert_eq!(v["text"], "norm");
    assert_eq!(v["node"]["start"]["line"], 4);
    let kinds: Vec<&str> = v["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "function_item",
            "declaration_list",
            "impl_item",
            "source_file"
        ]
    );
    let b = s
        .get("/v1/node?path=src/lib.rs&byte=0&anonymous=true")
        .json();
    assert_eq!(b["node"]["kind"], "pub");
    s.get("/v1/node?path=src/lib.rs&byte=100000")
        .assert_error(400, "invalid_input");
    s.get("/v1/node?path=src/lib.rs")
        .assert_error(400, "invalid_input");
}

#[test]
fn outline_tags_and_chunks_equal_the_librarys() {
    let s = server();
    let cache = s.ws.cache();
    let path = s.root().join("src/lib.rs");
    let outline = s.get("/v1/outline?path=src/lib.rs").json();
    let items = &outline["items"];
    let lib = cache.outline(&path).unwrap().unwrap();
    assert_eq!(items.as_array().unwrap().len(), lib.len());
    let names: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        lib.iter().map(|i| i.name.as_str()).collect::<Vec<_>>()
    );
    assert_eq!(items[1]["children"][0]["name"], "norm", "{outline}");
    assert!(outline["generation"].as_u64().unwrap() >= 1);

    let tags = s.get("/v1/tags?path=src/lib.rs").json();
    let lib_tags = cache.tags(&path).unwrap().unwrap();
    let got: Vec<(String, bool, u64)> = tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["is_definition"].as_bool().unwrap(),
                t["name_bytes"][0].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, bool, u64)> = lib_tags
        .tags()
        .iter()
        .map(|t| {
            (
                t.name(lib_tags.source()).into_owned(),
                t.is_definition,
                t.name_range.start as u64,
            )
        })
        .collect();
    assert_eq!(got, want);
    let defs = s.get("/v1/tags?path=src/lib.rs&definitions=true").json();
    assert!(
        defs["tags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["is_definition"] == true)
    );

    let chunks = s.get("/v1/chunks?path=src/lib.rs&max=40&unit=bytes").json();
    let list = chunks["chunks"].as_array().unwrap();
    assert!(list.len() > 1);
    // The chunks tile the file.
    let text: String = list.iter().map(|c| c["text"].as_str().unwrap()).collect();
    assert_eq!(text, LIB);
    s.get("/v1/chunks?path=src/lib.rs&max=0")
        .assert_error(400, "invalid_input");
    s.get("/v1/chunks?path=src/lib.rs&unit=parsecs")
        .assert_error(400, "invalid_input");
}

#[test]
fn query_streams_matches_then_a_summary_with_caps() {
    let s = server();
    let (status, records) = s.query(&serde_json::json!({
        "pattern": "(function_item name: (identifier) @name)",
        "text": true,
    }));
    assert_eq!(status, 200);
    let (last, matches) = records.split_last().unwrap();
    assert_eq!(last["type"], "summary", "{last}");
    let names: Vec<&str> = matches
        .iter()
        .map(|m| m["captures"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["norm", "helper"]);
    assert_eq!(matches[0]["path"], "src/lib.rs");
    assert_eq!(matches[0]["captures"][0]["start"]["line"], 4);
    assert_eq!(
        matches[0]["captures"][0]["start"]["byte"],
        LIB.find("norm").unwrap()
    );
    assert_eq!(last["matches"], 2);
    assert_eq!(last["limit_hit"], false);
    assert_eq!(last["deadline_hit"], false);
    // A cap on matches.
    let (_, records) = s.query(&serde_json::json!({
        "pattern": "(identifier) @id", "max_matches": 3,
    }));
    let last = records.last().unwrap();
    assert_eq!(last["limit_hit"], true, "{last}");
    assert_eq!(records.len(), 4);
    // A named query the grammars ship, one language, a glob.
    let (_, records) = s.query(&serde_json::json!({
        "query": "highlights", "language": "python", "globs": ["tools/*.py"], "capture": "function.builtin",
    }));
    let (last, matches) = records.split_last().unwrap();
    assert!(last["matches"].as_u64().unwrap() >= 1, "{last}");
    assert!(matches.iter().all(|m| m["path"] == "tools/tool.py"));
    // Errors before the stream: a pattern that does not compile, no pattern.
    let (status, body) = s.query(&serde_json::json!({"pattern": "(function_item"}));
    assert_eq!(status, 400, "{body:?}");
    assert_eq!(body[0]["error"]["code"], "invalid_input");
    let (status, _) = s.query(&serde_json::json!({"paths": ["src"]}));
    assert_eq!(status, 400);
    let (status, body) = s.query(&serde_json::json!({"pattern": "(x) @x", "paths": ["../.."]}));
    assert_eq!(status, 403, "{body:?}");
}

#[test]
fn status_stats_reconcile_and_probes() {
    let s = server();
    assert_eq!(s.get("/healthz").status, 200);
    assert_eq!(s.get("/readyz").status, 200);
    let st = s.get("/v1/status").json();
    assert_eq!(st["ready"], true);
    assert_eq!(st["last_run"]["files"], 2, "{st}");
    let stats = s.get("/v1/stats").json();
    assert_eq!(stats["paths"], 2, "{stats}");
    std::fs::write(s.root().join("src/new.rs"), "fn added() {}\n").unwrap();
    let r = s.request("POST", "/v1/reconcile", None, "").json();
    assert_eq!(r["parsed"], 1, "{r}");
    assert_eq!(r["files"], 3, "{r}");
    let m = s.get("/metrics");
    assert!(
        m.body.contains("cst_http_request_duration_seconds_bucket"),
        "{}",
        m.body
    );
    assert!(m.body.contains("cst_generation"));
    assert!(m.body.contains("cst_hits_total"));
}

/// The shared remote's counters, as the server's owner reports them
/// (`ServerOptions::remote`), in both text formats; without a source,
/// only `cst_remote_configured 0`.
#[test]
fn metrics_carry_the_remote_counters() {
    #[derive(Debug)]
    struct Fake;
    impl cst_api::RemoteStatus for Fake {
        fn remote_metrics(&self) -> cst_api::RemoteMetrics {
            let mut m = cst_api::RemoteMetrics::default();
            m.configured = true;
            m.disabled = Some("breaker_open");
            m.requests = 7;
            m.bytes_in = 4096;
            m.bundles_fetched = 3;
            m.pulls = 1;
            m.rejected_objects = vec![("hash", 2)];
            m.rejected_bundles = vec![("another grammar version".into(), 5)];
            m.errors = vec![("outage", 3)];
            m.breaker = "open";
            m
        }
    }
    let s = server();
    let m = s.get("/metrics").body;
    assert!(m.contains("\ncst_remote_configured 0\n"), "{m}");
    assert!(!m.contains("cst_remote_requests"), "{m}");

    let mut setup = crate::common::Setup::default();
    setup.options.remote = Some(std::sync::Arc::new(Fake));
    let s = Server::start_with(&[("src/lib.rs", LIB)], setup);
    let m = s.get("/metrics").body;
    for line in [
        "cst_remote_configured 1",
        "cst_remote_disabled{reason=\"breaker_open\"} 1",
        "# TYPE cst_remote_requests_total counter",
        "cst_remote_requests_total 7",
        "cst_remote_bytes_in_total 4096",
        "cst_remote_bundles_fetched_total 3",
        "cst_remote_pulls_total 1",
        "cst_remote_rejected_objects_total{reason=\"hash\"} 2",
        "cst_remote_rejected_bundles_total{reason=\"another grammar version\"} 5",
        "cst_remote_errors_total{kind=\"outage\"} 3",
        "cst_remote_breaker_state{state=\"open\"} 1",
        "cst_remote_breaker_state{state=\"closed\"} 0",
    ] {
        assert!(m.lines().any(|l| l == line), "{line:?} missing:\n{m}");
    }
    let mut r = s
        .agent
        .get(format!("{}/metrics", s.base))
        .header("Accept", "application/openmetrics-text")
        .call()
        .unwrap();
    let om = r.body_mut().read_to_string().unwrap();
    assert!(om.contains("# TYPE cst_remote_requests counter\n"), "{om}");
    assert!(om.contains("\ncst_remote_requests_total 7\n"), "{om}");
    assert!(om.ends_with("# EOF\n"), "{om}");
}
