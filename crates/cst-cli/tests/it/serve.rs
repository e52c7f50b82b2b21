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
    serve_with(cache, ws, &[], &[])
}

/// The remote's variables, cleared for every server of these tests
/// unless given.
const REMOTE_VARS: [&str; 4] = [
    "CST_REMOTE_URL",
    "CST_REMOTE_PUBLIC_KEY",
    "CST_REMOTE_SIGNING_KEY_FILE",
    "CST_REMOTE_BRANCH",
];

/// `cst serve` with more arguments and these variables set, once ready.
fn serve_with(cache: &Path, ws: &Path, args: &[&str], env: &[(&str, String)]) -> Serving {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cst"));
    c.arg("--cache-dir")
        .arg(cache)
        .args(["serve", ws.to_str().unwrap(), "--addr", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    for k in REMOTE_VARS
        .iter()
        .chain(&["AWS_SESSION_TOKEN", "AWS_PROFILE"])
    {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
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

/// `cst` with the remote's variables cleared, then these set.
fn cst_env(cache: &Path, args: &[&str], env: &[(&str, String)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cst"));
    c.arg("--cache-dir")
        .arg(cache)
        .args(args)
        .stdin(Stdio::null());
    for k in REMOTE_VARS {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "cst {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The sum of the samples of `name` (with any labels) in Prometheus text.
fn metric(body: &str, name: &str) -> f64 {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let bare = series.split('{').next()?;
            (bare == name).then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

/// A remote in a directory with a signed push of [`workspace`]'s files:
/// the keys' directory, the remote's, and the `cst.toml` naming them.
fn pushed_remote() -> (tempfile::TempDir, tempfile::TempDir, String) {
    let keys = tempfile::tempdir().unwrap();
    cst_env(
        keys.path(),
        &["remote", "keygen", keys.path().to_str().unwrap()],
        &[],
    );
    let public = std::fs::read_to_string(keys.path().join("remote.pub")).unwrap();
    let remote_dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[remote]\nurl = \"file://{}\"\npublic_key = \"{}\"\n",
        remote_dir.path().display(),
        public.trim()
    );
    let a = workspace();
    std::fs::write(a.path().join("cst.toml"), &toml).unwrap();
    let a_cache = tempfile::tempdir().unwrap();
    let out = cst_env(
        a_cache.path(),
        &["push", a.path().to_str().unwrap(), "--json"],
        &[(
            "CST_REMOTE_SIGNING_KEY_FILE",
            keys.path().join("remote.key").display().to_string(),
        )],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["push"]["pushed"].as_u64().unwrap() > 20, "{v}");
    (keys, remote_dir, toml)
}

/// `cst serve` pulls from the remote before its first index, as
/// `cst index` does: a fresh cache parses nothing, and `/metrics` counts
/// what was fetched; `cst stats` shows the pull.
#[test]
fn serve_pulls_from_the_remote_before_its_first_index() {
    let (_keys, _remote, toml) = pushed_remote();
    let b = workspace();
    std::fs::write(b.path().join("cst.toml"), &toml).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let s = serve(cache.path(), b.path());
    let (status, body) = s.get("/v1/status");
    assert_eq!(status, 200, "{body}");
    let st: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(st["last_run"]["parsed"], 0, "{st}");
    assert!(st["last_run"]["files"].as_u64().unwrap() > 20, "{st}");
    let (status, m) = s.get("/metrics");
    assert_eq!(status, 200, "{m}");
    assert_eq!(metric(&m, "cst_remote_configured"), 1.0, "{m}");
    assert!(metric(&m, "cst_remote_bundles_fetched_total") > 20.0, "{m}");
    assert!(metric(&m, "cst_remote_bytes_in_total") > 0.0, "{m}");
    assert!(metric(&m, "cst_remote_requests_total") > 0.0, "{m}");
    assert_eq!(metric(&m, "cst_remote_pulls_total"), 1.0, "{m}");
    assert_eq!(metric(&m, "cst_remote_pull_failures_total"), 0.0, "{m}");
    assert_eq!(metric(&m, "cst_remote_rejected_objects_total"), 0.0, "{m}");
    assert_eq!(metric(&m, "cst_remote_errors_total"), 0.0, "{m}");
    assert!(
        m.contains("cst_remote_breaker_state{state=\"closed\"} 1"),
        "{m}"
    );
    assert!(!m.contains("cst_remote_disabled{"), "{m}");
    assert_eq!(metric(&m, "cst_parses_total"), 0.0, "{m}");
    // A tree served from what the remote held.
    let text = std::fs::read_to_string(b.path().join("src/m3.rs")).unwrap();
    let (status, body) = s.get("/v1/tree?path=src/m3.rs");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.trim_end(), fresh(&text));
    let out = cst_env(
        cache.path(),
        &["stats", b.path().to_str().unwrap(), "--json"],
        &[],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["remote"]["command"], "serve", "{v}");
    assert!(
        v["remote"]["report"]["fetched"].as_u64().unwrap() > 20,
        "{v}"
    );
    drop(s);

    // `--no-remote`: nothing asked, the reason said in /metrics.
    let c = workspace();
    std::fs::write(c.path().join("cst.toml"), &toml).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let s = serve_with(cache.path(), c.path(), &["--no-remote"], &[]);
    let (_, m) = s.get("/metrics");
    assert!(m.contains("cst_remote_disabled{reason=\"flag\"} 1"), "{m}");
    assert_eq!(metric(&m, "cst_remote_requests_total"), 0.0, "{m}");
    assert!(metric(&m, "cst_parses_total") > 20.0, "{m}");
}

/// A remote that is damaged or cannot be reached is a miss: the server
/// starts, indexes locally, and `/metrics` counts the refusal or the
/// error.
#[test]
fn a_broken_remote_is_a_miss_counted_in_metrics() {
    let (_keys, remote_dir, toml) = pushed_remote();
    // A flipped byte in the middle of the pack.
    crate::remote::flip_a_pack_byte(remote_dir.path());
    let b = workspace();
    std::fs::write(b.path().join("cst.toml"), &toml).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let s = serve(cache.path(), b.path());
    let (_, body) = s.get("/v1/status");
    let st: serde_json::Value = serde_json::from_str(&body).unwrap();
    let files = st["last_run"]["files"].as_u64().unwrap();
    assert!(files > 20, "{st}");
    assert_eq!(st["last_run"]["parsed"], files, "{st}");
    let (_, m) = s.get("/metrics");
    assert_eq!(metric(&m, "cst_remote_bundles_fetched_total"), 0.0, "{m}");
    assert!(metric(&m, "cst_remote_packs_refused_total") >= 1.0, "{m}");
    assert!(
        metric(&m, "cst_remote_rejected_objects_total") >= 1.0,
        "{m}"
    );
    assert!(metric(&m, "cst_remote_errors_total") >= 1.0, "{m}");
    let (status, body) = s.get("/v1/tree?path=src/m3.rs");
    assert_eq!(status, 200, "{body}");
    drop(s);

    // An S3 endpoint nobody listens on: an outage, counted; the server
    // is ready after the client's bounded retries, having parsed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = workspace();
    let cache = tempfile::tempdir().unwrap();
    let public = toml
        .lines()
        .find_map(|l| l.strip_prefix("public_key = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    let started = Instant::now();
    let env = [
        ("CST_REMOTE_URL", "s3://cst-bucket/team".to_string()),
        ("CST_REMOTE_PUBLIC_KEY", public),
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        ("AWS_ALLOW_HTTP", "true".to_string()),
        ("AWS_ACCESS_KEY_ID", "cst-test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "cst-test-secret".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ];
    let s = serve_with(cache.path(), c.path(), &[], &env);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let (_, body) = s.get("/v1/status");
    let st: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(st["last_run"]["parsed"], st["last_run"]["files"], "{st}");
    let (_, m) = s.get("/metrics");
    assert_eq!(metric(&m, "cst_remote_configured"), 1.0, "{m}");
    assert_eq!(metric(&m, "cst_remote_pull_failures_total"), 1.0, "{m}");
    // A refused connection is an outage, not a timeout.
    assert!(
        m.lines().any(
            |l| l.starts_with("cst_remote_errors_total{kind=\"outage\"}") && !l.ends_with(" 0")
        ),
        "{m}"
    );
    assert!(
        m.lines()
            .any(|l| l == "cst_remote_errors_total{kind=\"timeout\"} 0"),
        "{m}"
    );
    assert_eq!(metric(&m, "cst_remote_bundles_fetched_total"), 0.0, "{m}");
}
