//! `cst serve` as users run it: the other commands beside it, and a
//! `kill -9` under load followed by a restart that gives the same answers.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::create_dir_all(r.join("src")).unwrap();
    for i in 0..20 {
        std::fs::write(
            r.join(format!("src/m{i}.rs")),
            format!("pub fn f{i}() -> u32 {{ {i} + 1 }}\n\npub struct S{i} {{ a: u8 }}\n"),
        )
        .unwrap();
    }
    std::fs::write(r.join("src/tool.py"), "def main():\n    return 1\n").unwrap();
    dir
}

fn cst(cache: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cst"))
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

struct Serving {
    child: Child,
    addr: String,
}

fn serve(cache: &Path, ws: &Path) -> Serving {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cst"))
        .arg("--cache-dir")
        .arg(cache)
        .args(["serve", ws.to_str().unwrap(), "--addr", "127.0.0.1:0"])
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
    let s = Serving { child, addr };
    let deadline = Instant::now() + Duration::from_secs(120);
    while s.get("/readyz").0 != 200 {
        assert!(Instant::now() < deadline, "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    s
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A client of a server's address.
struct Client(String);

impl Serving {
    fn get(&self, path: &str) -> (u16, String) {
        Client(self.addr.clone()).get(path)
    }
    fn client(&self) -> Client {
        Client(self.addr.clone())
    }
}

impl Client {
    fn get(&self, path: &str) -> (u16, String) {
        match agent().get(format!("http://{}{path}", self.0)).call() {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(e) => (0, e.to_string()),
        }
    }
    fn put(&self, path: &str, body: &str) -> (u16, String) {
        match agent().put(format!("http://{}{path}", self.0)).send(body) {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(e) => (0, e.to_string()),
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fresh(text: &str) -> String {
    let tree = cst::grammars::by_id("rust")
        .unwrap()
        .parser()
        .unwrap()
        .parse(text, None)
        .unwrap();
    tree.root_node().to_sexp()
}

#[test]
fn commands_run_beside_a_server_and_index_asks_it_to_reconcile() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let s = serve(cache.path(), ws.path());
    let root = ws.path().canonicalize().unwrap();
    // A file the server has not seen yet (no watcher race: it is new).
    std::fs::write(root.join("src/late.rs"), "fn late() {}\n").unwrap();
    let out = cst(cache.path(), &["index", root.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"], 22, "{v}");
    assert!(
        v["generation"].as_u64().is_some(),
        "answered by the server: {v}"
    );
    // show, query, tags, outline, chunks, stats and verify: never refused.
    let file = root.join("src/m3.rs");
    let text = std::fs::read_to_string(&file).unwrap();
    let out = cst(cache.path(), &["show", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        fresh(&text)
    );
    for args in [
        vec![
            "query",
            "(function_item name: (identifier) @f)",
            root.to_str().unwrap(),
        ],
        vec!["tags", root.to_str().unwrap()],
        vec!["outline", file.to_str().unwrap()],
        vec!["chunks", root.to_str().unwrap()],
        vec!["stats", root.to_str().unwrap()],
        vec!["verify", root.to_str().unwrap()],
        vec!["gc", root.to_str().unwrap()],
    ] {
        let out = cst(cache.path(), &args);
        assert!(
            out.status.success(),
            "cst {args:?} beside a server: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = cst(
        cache.path(),
        &[
            "query",
            "(function_item name: (identifier) @f)",
            root.to_str().unwrap(),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("late.rs"));
    // The server answers the same.
    let (status, body) = s.get("/v1/tree?path=src/late.rs");
    assert_eq!(status, 200);
    assert_eq!(body.trim_end(), fresh("fn late() {}\n"));
}

#[test]
fn a_killed_server_restarts_with_the_same_answers() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let root = ws.path().canonicalize().unwrap();
    let mut s = serve(cache.path(), ws.path());
    let before: Vec<(u16, String)> = (0..20)
        .map(|i| s.get(&format!("/v1/tree?path=src/m{i}.rs")))
        .collect();
    assert!(before.iter().all(|(st, _)| *st == 200));
    // Under load — reads, buffer edits, files written on disk — kill -9.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let client = s.client();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (s, stop, root) = (&client, &stop, &root);
            scope.spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let _ = s.get(&format!("/v1/tree?path=src/m{}.rs", n % 20));
                    let _ = s.put(
                        &format!("/v1/buffers/src/m{t}.rs"),
                        &format!("fn unsaved_{n}() {{}}\n"),
                    );
                    let _ = std::fs::write(
                        root.join(format!("src/w{t}.rs")),
                        format!("fn written_{n}() {{}}\n"),
                    );
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        // SIGKILL: no flush, no goodbye.
        s.child.kill().unwrap();
        s.child.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    drop(s);
    let s = serve(cache.path(), ws.path());
    // The files on disk, as they are now: the same answers as before for
    // the files nobody wrote, fresh parses for the ones written.
    for (i, b) in before.iter().enumerate() {
        assert_eq!(&s.get(&format!("/v1/tree?path=src/m{i}.rs")), b, "m{i}.rs");
    }
    for t in 0..4 {
        let text = std::fs::read_to_string(root.join(format!("src/w{t}.rs"))).unwrap();
        let (status, body) = s.get(&format!("/v1/tree?path=src/w{t}.rs"));
        assert_eq!(status, 200);
        assert_eq!(body.trim_end(), fresh(&text), "w{t}.rs");
    }
    // Unsaved buffer text is gone (the client holds it), never stored.
    let (status, _) = s.get("/v1/buffers/src/m0.rs");
    assert_eq!(status, 404);
    drop(s);
    // The store is consistent: every stored tree equals a fresh parse.
    let out = cst(cache.path(), &["verify", root.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The repo map and the symbol look-ups of `cst serve` (one symbol index,
/// shared with `/mcp`): the map is `cst map --json`'s for the same
/// workspace, and an edit through a buffer is in the next look-up.
#[test]
fn the_server_answers_the_repo_map_and_symbols() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let s = serve(cache.path(), ws.path());
    let root = ws.path().canonicalize().unwrap();
    // `cst map` beside the server asks it (the server's index holds what
    // it has not flushed to the store yet).
    let (status, body) = s.get("/v1/map?tokens=512");
    assert_eq!(status, 200, "{body}");
    let mut served: serde_json::Value = serde_json::from_str(&body).unwrap();
    for k in ["generation", "stale", "stale_count"] {
        served.as_object_mut().unwrap().remove(k);
    }
    let out = cst(
        cache.path(),
        &["map", root.to_str().unwrap(), "--tokens", "512", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(served, printed);
    assert!(
        printed["files"].as_array().is_some_and(|f| !f.is_empty()),
        "{printed}"
    );
    // The text form, with a focus file, is the server's text.
    let (status, body) = s.get("/v1/map?tokens=512&focus=src/m1.rs");
    assert_eq!(status, 200, "{body}");
    let served: serde_json::Value = serde_json::from_str(&body).unwrap();
    let out = cst(
        cache.path(),
        &[
            "map",
            root.to_str().unwrap(),
            "--tokens",
            "512",
            "--focus",
            "src/m1.rs",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        served["text"].as_str().unwrap()
    );
    let c = s.client();
    let (status, body) = c.put("/v1/buffers/src/m3.rs", "pub fn just_typed() {}\n");
    assert_eq!(status, 200, "{body}");
    let (status, body) = s.get("/v1/symbols?query=just_typed");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["symbols"][0]["path"], "src/m3.rs", "{v}");
    let (_, body) = s.get("/v1/definitions?name=f3");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["total"], 0, "the buffer shadows the file: {v}");
}
