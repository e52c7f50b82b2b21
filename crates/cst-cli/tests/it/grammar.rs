//! `cst grammar add | list | check | remove` and `cst languages --json`
//! through the binary: a grammar built from sources in the lock
//! (tree-sitter-json, under another id), probed by `cst grammar probe`,
//! indexed, stored and verified; a crashing grammar refused without taking
//! cst down; a replaced library refused until checked again.

use std::path::PathBuf;
use std::process::{Command, Output};

#[path = "../../../cst-loader/tests/common/lock.rs"]
mod lock;
use lock::package_dir;

struct Env {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    grammars: PathBuf,
    cache: PathBuf,
    ws: PathBuf,
}

fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let ws = root.join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    Env {
        home: root.join("home"),
        grammars: root.join("grammars"),
        cache: root.join("cache"),
        ws,
        _tmp: tmp,
    }
}

fn cst(e: &Env, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cst"))
        .current_dir(&e.ws)
        .env("HOME", &e.home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("CST_GRAMMAR_DIR")
        .arg("--grammar-dir")
        .arg(&e.grammars)
        .arg("--cache-dir")
        .arg(&e.cache)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn ok(o: &Output) -> String {
    let (out, err) = text(o);
    assert!(o.status.success(), "status {:?}\n{out}\n{err}", o.status);
    out
}

/// `cst grammar add` of the lock's tree-sitter-json as `json_dyn` for
/// `.jsondyn` files; its standard output.
fn add_json_dyn(e: &Env) -> String {
    let json = package_dir("tree-sitter-json").unwrap();
    ok(&cst(
        e,
        &[
            "grammar",
            "add",
            json.to_str().unwrap(),
            "--id",
            "json_dyn",
            "--ext",
            "jsondyn",
        ],
    ))
}

#[test]
fn a_grammar_added_from_sources_is_indexed_stored_and_verified() {
    let e = env();
    let out = add_json_dyn(&e);
    assert_eq!(out.trim(), "json_dyn", "add prints the new grammar's id");

    let doc = "{\"a\": [1, 2.5, true, null], \"b\": {\"c\": \"d\\n\"}}\n";
    std::fs::write(e.ws.join("x.jsondyn"), doc).unwrap();
    std::fs::write(e.ws.join("y.json"), doc).unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&ok(&cst(&e, &["index", ".", "--json"]))).unwrap();
    assert_eq!(report["languages"]["json_dyn"]["files"], 1, "{report}");
    assert_eq!(report["languages"]["json"]["files"], 1, "{report}");
    // The stored tree is the tree-sitter tree, node by node.
    let verify = ok(&cst(&e, &["verify"]));
    assert!(verify.contains(" 0 mismatches"), "{verify}");
    let loaded = ok(&cst(&e, &["show", "x.jsondyn"]));
    let builtin = ok(&cst(&e, &["show", "y.json"]));
    assert_eq!(loaded, builtin);

    // `cst languages --json` names where each grammar comes from.
    let langs: serde_json::Value =
        serde_json::from_str(&ok(&cst(&e, &["languages", "--json"]))).unwrap();
    let rows = langs.as_array().unwrap();
    let row = |id: &str| rows.iter().find(|r| r["id"] == id).cloned();
    assert_eq!(row("json_dyn").unwrap()["grammar"], "loaded");
    assert_eq!(row("json_dyn").unwrap()["extensions"][0], "jsondyn");
    assert_eq!(row("json").unwrap()["grammar"], "builtin");
    assert!(rows.len() >= 300, "{} catalogue rows", rows.len());
    assert!(
        rows.iter().any(|r| r["grammar"].is_null()),
        "languages without a grammar are listed with grammar null"
    );

    let list = ok(&cst(&e, &["grammar", "list"]));
    assert!(
        list.contains("json_dyn") && list.contains("built"),
        "{list}"
    );

    // Replace the library in the cache: the grammar is refused until
    // checked again, and cst says so instead of misreading trees.
    let approved = std::fs::read_to_string(e.grammars.join("approved.toml")).unwrap();
    let library = approved
        .lines()
        .find_map(|l| l.strip_prefix("library = \""))
        .unwrap()
        .trim_end_matches('"');
    let lib = e.grammars.join(library);
    let mut bytes = std::fs::read(&lib).unwrap();
    bytes.extend_from_slice(b"\0tampered");
    std::fs::write(&lib, bytes).unwrap();
    let out = cst(&e, &["show", "x.jsondyn"]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("changed since it was approved"), "{err}");
    ok(&cst(&e, &["grammar", "check", "json_dyn"]));
    assert_eq!(ok(&cst(&e, &["show", "x.jsondyn"])), builtin);

    ok(&cst(&e, &["grammar", "remove", "json_dyn"]));
    assert_eq!(cst(&e, &["show", "x.jsondyn"]).status.code(), Some(1));
}

#[test]
fn a_crashing_grammar_is_refused_by_the_probe_not_by_a_crash() {
    let e = env();
    let dir = e.ws.parent().unwrap().join("crash");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("src/parser.c"),
        "typedef struct TSLanguage TSLanguage;\n\
         const TSLanguage *tree_sitter_crashy(void) { volatile int *p = 0; *p = 1; return 0; }\n",
    )
    .unwrap();
    let out = cst(&e, &["grammar", "add", dir.to_str().unwrap()]);
    let (stdout, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{err}");
    assert!(
        err.contains("probe of crashy refused it: it crashed (signal"),
        "{err}"
    );
    // Nothing was approved; the next command runs as before.
    assert!(!ok(&cst(&e, &["grammar", "list"])).contains("crashy"));
}

#[test]
fn a_known_language_without_a_grammar_says_how_to_add_one() {
    let e = env();
    std::fs::write(e.ws.join("config.nu"), "let x = 1\n").unwrap();
    std::fs::write(e.ws.join("a.rs"), "fn main() {}\n").unwrap();
    let out = cst(&e, &["show", "config.nu"]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no grammar for"), "{err}");
    assert!(err.contains("cst grammar add"), "{err}");
    let out = ok(&cst(&e, &["index", "."]));
    assert!(
        out.contains("skipped 1 files: no grammar for the language"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("no grammar for ") && l.contains(" (1)")),
        "{out}"
    );
}

#[test]
fn compiled_parsers_are_imported_from_a_directory_and_editors_presets() {
    let e = env();
    // json built as an editor would, exporting another symbol.
    let json = package_dir("tree-sitter-json").unwrap();
    let parsers = e.ws.parent().unwrap().join("parsers");
    std::fs::create_dir_all(&parsers).unwrap();
    let parser_c = std::fs::read_to_string(json.join("src/parser.c")).unwrap();
    let c = parsers.join("parser.c");
    std::fs::write(
        &c,
        parser_c.replace("tree_sitter_json(", "tree_sitter_json_x("),
    )
    .unwrap();
    let so = std::env::consts::DLL_SUFFIX;
    let lib = parsers.join(format!("libtree_sitter_json_x{so}"));
    let status = Command::new("cc")
        .args(["-O1", "-w", "-fPIC", "-shared", "-I"])
        .arg(json.join("src"))
        .arg("-o")
        .arg(&lib)
        .arg(&c)
        .status()
        .unwrap();
    assert!(status.success());
    // The same library in nvim's directory of the fake home.
    let nvim = e.home.join(".local/share/nvim/site/parser");
    std::fs::create_dir_all(&nvim).unwrap();
    std::fs::copy(&lib, nvim.join(format!("json_x{so}"))).unwrap();

    let dry = ok(&cst(
        &e,
        &[
            "grammar",
            "import",
            "--dir",
            parsers.to_str().unwrap(),
            "--dry-run",
        ],
    ));
    assert!(dry.starts_with("json_x\t"), "{dry}");
    assert!(
        !ok(&cst(&e, &["grammar", "list"])).contains("json_x"),
        "a dry run imports nothing"
    );
    let out = ok(&cst(&e, &["grammar", "import", "--preset", "nvim"]));
    assert_eq!(out.trim(), "json_x");
    let list = ok(&cst(&e, &["grammar", "list"]));
    assert!(
        list.contains("json_x") && list.contains("imported"),
        "{list}"
    );
    // The workspace's own libraries are never imported.
    std::fs::copy(&lib, e.ws.join(format!("json_y{so}"))).unwrap();
    std::fs::create_dir_all(e.ws.join(".git")).unwrap();
    let inside = e.ws.join(format!("json_y{so}"));
    let out = cst(&e, &["grammar", "import", inside.to_str().unwrap()]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("grammars are never loaded from a workspace"),
        "{err}"
    );
}

#[test]
fn a_grammar_cache_inside_the_workspace_is_never_loaded() {
    let e = env();
    add_json_dyn(&e);
    // The same cache, as a repository would ship it.
    std::fs::create_dir_all(e.ws.join(".git")).unwrap();
    let inside = e.ws.join("grammars");
    let status = Command::new("cp")
        .arg("-r")
        .arg(&e.grammars)
        .arg(&inside)
        .status()
        .unwrap();
    assert!(status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_cst"))
        .current_dir(&e.ws)
        .env("HOME", &e.home)
        .args(["--grammar-dir", "grammars", "--cache-dir"])
        .arg(&e.cache)
        .args(["languages", "--json"])
        .output()
        .unwrap();
    let (stdout, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("inside") && err.contains("workspace"), "{err}");
    assert!(
        !stdout.contains("json_dyn"),
        "the workspace's grammar was loaded"
    );
}

/// `cst serve` started before the grammar exists: a file of its extension
/// is skipped, `cst grammar add` in another process approves the grammar,
/// and the running server loads it and reconciles the root, so that the
/// file is indexed and answered without a restart.
#[test]
fn a_running_server_picks_up_a_grammar_added_beside_it() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let e = env();
    let doc = "{\"a\": [1, 2.5, true, null], \"b\": {\"c\": \"d\\n\"}}\n";
    std::fs::write(e.ws.join("x.jsondyn"), doc).unwrap();
    std::fs::write(e.ws.join("y.json"), doc).unwrap();
    // The server's log, quoted by the assertions below.
    let log_path = e.home.with_file_name("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut server = Kill(
        Command::new(env!("CARGO_BIN_EXE_cst"))
            .current_dir(&e.ws)
            .env("HOME", &e.home)
            .env_remove("XDG_DATA_HOME")
            .env_remove("CST_GRAMMAR_DIR")
            .arg("--grammar-dir")
            .arg(&e.grammars)
            .arg("--cache-dir")
            .arg(&e.cache)
            .args(["serve", ".", "--addr", "127.0.0.1:0", "--no-remote"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    // The first line says where it listens; read it with a deadline.
    let stdout = server.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("no address line; server log:\n{}", server_log()));
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("address line: {line:?}; server log:\n{}", server_log()))
        .to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let status = || -> serde_json::Value {
        let mut r = agent
            .get(format!("http://{addr}/v1/status"))
            .call()
            .unwrap();
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    };
    let tree = |path: &str| -> (u16, String) {
        let mut r = agent
            .get(format!("http://{addr}/v1/tree?path={path}"))
            .call()
            .unwrap();
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while status()["ready"] != true {
        assert!(
            Instant::now() < deadline,
            "never ready; server log:\n{}",
            server_log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = status();
    assert_eq!(before["last_run"]["files"], 1, "only y.json: {before}");
    let (code, body) = tree("x.jsondyn");
    assert_ne!(code, 200, "no grammar yet: {body}");

    let out = add_json_dyn(&e);
    assert_eq!(out.trim(), "json_dyn");

    // The server polls approved.toml every two seconds, loads the grammar
    // and runs over the root again.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = status();
        if s["last_run"]["files"] == 2 && s["state"] == "idle" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not reconciled: {s}; server log:\n{}",
            server_log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, body) = tree("x.jsondyn");
    assert_eq!(code, 200, "{body}");
    let (_, builtin) = tree("y.json");
    assert_eq!(body, builtin, "the loaded grammar's tree is JSON's");
}
