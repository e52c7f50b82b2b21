//! The real `cst` binary on generated workspaces: index, re-index (all hits,
//! no parse), modify one file (exactly one parse), verify (0 mismatches),
//! `show --sexp` equal to tree-sitter's, stats, gc, exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn cst(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cst"))
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .output()
        .expect("cst runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::create_dir_all(r.join("src")).unwrap();
    for i in 0..12 {
        std::fs::write(
            r.join(format!("src/m{i}.rs")),
            format!("pub fn f{i}() -> u32 {{ {i} + 1 }}\n"),
        )
        .unwrap();
    }
    std::fs::write(
        r.join("src/tool.py"),
        "import os\n\ndef main():\n    print(os.getcwd())\n",
    )
    .unwrap();
    std::fs::write(
        r.join("src/app.js"),
        "export const add = (a, b) => a + b;\n",
    )
    .unwrap();
    std::fs::write(r.join("blob.bin"), [0u8, 1, 2, 3]).unwrap();
    dir
}

#[test]
fn index_reindex_modify_verify_show() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let dir = ws.path().to_str().unwrap();
    let first = json(&cst(cache.path(), &["index", dir, "--json"]));
    assert_eq!(first["files"], 14);
    assert_eq!(first["parsed"], 14);
    assert_eq!(first["skipped"]["binary"], 1);
    assert_eq!(first["languages"]["rust"]["files"], 12);

    let second = json(&cst(cache.path(), &["index", dir, "--json"]));
    assert_eq!(
        (second["parsed"].as_u64(), second["hits"].as_u64()),
        (Some(0), Some(14)),
        "re-index: all hits"
    );

    std::fs::write(ws.path().join("src/m3.rs"), "pub fn changed() {}\n").unwrap();
    let third = json(&cst(cache.path(), &["index", dir, "--json"]));
    assert_eq!(
        (third["parsed"].as_u64(), third["hits"].as_u64()),
        (Some(1), Some(13)),
        "one modified file"
    );
    assert_eq!(third["removed"], 0);

    // A deleted file is forgotten (and said so), then indexed again when back.
    let m4 = ws.path().join("src/m4.rs");
    let kept = std::fs::read(&m4).unwrap();
    std::fs::remove_file(&m4).unwrap();
    let out = cst(cache.path(), &["index", dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("forgot 1 paths indexed earlier"), "{text}");
    std::fs::write(&m4, kept).unwrap();
    let back = json(&cst(cache.path(), &["index", dir, "--json"]));
    assert_eq!(
        (back["files"].as_u64(), back["removed"].as_u64()),
        (Some(14), Some(0))
    );

    let verify = cst(cache.path(), &["verify", dir]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("14 files"),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains(" 0 mismatches"));

    let file = ws.path().join("src/tool.py");
    let show = cst(cache.path(), &["show", file.to_str().unwrap(), "--sexp"]);
    assert!(show.status.success());
    let source = std::fs::read(&file).unwrap();
    let g = cst::grammars::by_id("python").unwrap();
    let expected = g
        .parser()
        .unwrap()
        .parse(&source, None)
        .unwrap()
        .root_node()
        .to_sexp();
    assert_eq!(String::from_utf8_lossy(&show.stdout).trim_end(), expected);

    let tree = json(&cst(
        cache.path(),
        &["show", file.to_str().unwrap(), "--json"],
    ));
    assert_eq!(tree["kind"], "module");

    let stats = json(&cst(cache.path(), &["stats", dir, "--json"]));
    assert_eq!(stats["paths"], 14);
    assert!(stats["disk_bytes"].as_u64().unwrap() > 0);

    let gc = cst(cache.path(), &["gc", dir]);
    assert!(gc.status.success());
    assert!(
        String::from_utf8_lossy(&gc.stdout).contains("removed 2 unreferenced records"),
        "{}",
        String::from_utf8_lossy(&gc.stdout)
    );
}

#[test]
fn exit_codes_and_one_line_errors() {
    let cache = tempfile::tempdir().unwrap();
    let usage = cst(cache.path(), &["no-such-command"]);
    assert_eq!(usage.status.code(), Some(2));
    let missing = cst(cache.path(), &["show", "/definitely/not/here.rs"]);
    assert_eq!(missing.status.code(), Some(3));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("notes.unknownext");
    std::fs::write(&unknown, "x").unwrap();
    let out = cst(cache.path(), &["show", unknown.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let help = cst(cache.path(), &["--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit codes: 0 ok; 1 a check failed"));
    let langs = json(&cst(cache.path(), &["languages", "--json"]));
    assert!(langs.as_array().unwrap().len() >= 100);
    // An explicit --config that does not exist is a usage error.
    let ws = workspace();
    let nothing = ws.path().join("nope.toml");
    let out = cst(
        cache.path(),
        &[
            "--config",
            nothing.to_str().unwrap(),
            "stats",
            ws.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
}

#[test]
fn serve_answers_health_readiness_and_metrics() {
    use std::io::{BufRead, BufReader, Read, Write};
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cst"))
        .arg("--cache-dir")
        .arg(cache.path())
        .args([
            "serve",
            ws.path().to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .expect("address line")
        .to_owned();
    let request = |path: &str, headers: &str| -> String {
        let mut s = std::net::TcpStream::connect(&addr)
            .unwrap_or_else(|e| panic!("connect {addr} for {path}: {e}"));
        // hyper keeps HTTP/1.1 connections open unless told otherwise.
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let get = |path: &str| request(path, "");
    assert!(get("/healthz").starts_with("HTTP/1.1 200"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !get("/readyz").starts_with("HTTP/1.1 200") {
        assert!(std::time::Instant::now() < deadline, "never ready");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let metrics = get("/metrics");
    let open_metrics = request(
        "/metrics",
        "Accept: application/openmetrics-text; version=1.0.0\r\n",
    );
    assert!(open_metrics.contains("application/openmetrics-text"));
    assert!(
        open_metrics.trim_end().ends_with("# EOF"),
        "OpenMetrics ends with # EOF"
    );
    assert!(get("/nope").starts_with("HTTP/1.1 404"));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(metrics.starts_with("HTTP/1.1 200"));
    let body = metrics.split("\r\n\r\n").nth(1).unwrap();
    for name in [
        "cst_hits_total",
        "cst_misses_total",
        "cst_evictions_total",
        "cst_checksum_failures_total",
        "cst_tier_bytes{tier=\"hot\"}",
        "cst_insert_latency_seconds_bucket",
        "cst_get_latency_seconds_count",
    ] {
        assert!(body.contains(name), "{name} missing from\n{body}");
    }
    assert!(
        body.contains("# TYPE cst_hits_total counter"),
        "classic format names counters by their samples"
    );
    // Every sample line is `name{labels} value` with a numeric value.
    for l in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let v = l.rsplit(' ').next().unwrap();
        assert!(v.parse::<f64>().is_ok() || v == "+Inf", "bad sample: {l}");
    }
    // promtool, when installed (Debian's `prometheus` package), must accept it too.
    if let Ok(mut p) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        p.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
        let out = p.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        eprintln!("promtool not installed: checked the format by hand only");
    }
}

#[test]
fn verify_says_when_a_damaged_store_lost_data() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let dir = ws.path().to_str().unwrap();
    json(&cst(cache.path(), &["index", dir, "--json"]));
    let clean = cst(cache.path(), &["verify", dir]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    // 50 flipped bytes in every segment, at positions from a fixed seed.
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for e in std::fs::read_dir(cache.path().join("store")).unwrap() {
        let p = e.unwrap().path();
        if !p.file_name().unwrap().to_string_lossy().starts_with("seg-") {
            continue;
        }
        let mut bytes = std::fs::read(&p).unwrap();
        for _ in 0..50 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x % bytes.len() as u64) as usize;
            bytes[i] ^= 0xff;
        }
        std::fs::write(&p, &bytes).unwrap();
    }
    let out = cst(cache.path(), &["verify", dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("the store lost data"), "{text}");
    let stats = cst(cache.path(), &["stats", dir, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    // What open found is reported (the reads of verify are another session).
    assert!(v["open"]["path_map"].is_string());
}

#[test]
fn readers_run_beside_a_writer_and_writers_wait_when_asked() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let ws_s = ws.path().to_str().unwrap();
    let out = cst(cache.path(), &["index", ws_s, "--json"]);
    let parsed = json(&out)["parsed"].clone();
    assert!(parsed.as_u64().unwrap() > 10, "{parsed}");
    // A writer holds the cache (as `cst serve` or a long `cst index` would).
    let writer = cst::Cache::open(cache.path(), cst::Config::default()).unwrap();
    let file = ws.path().join("src/m3.rs");
    let file_s = file.to_str().unwrap();
    // show, stats and verify read beside it.
    let out = cst(cache.path(), &["show", file_s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = cst::grammars::by_id("rust")
        .unwrap()
        .parser()
        .unwrap()
        .parse(std::fs::read(&file).unwrap(), None)
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        live.root_node().to_sexp()
    );
    let s = json(&cst(cache.path(), &["stats", ws_s, "--json"]));
    assert_eq!(s["paths"], parsed);
    assert!(s["disk"]["sources_per_line"].as_f64().unwrap() > 0.0, "{s}");
    let out = cst(cache.path(), &["verify", ws_s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{parsed} files")));
    // tags reads when it cannot write, and says so.
    let out = cst(cache.path(), &["tags", ws_s, "--definitions"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("f3"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another process writes the cache"));
    // A writer without --wait is refused (exit 4); with --wait it queues.
    let out = cst(cache.path(), &["index", ws_s]);
    assert_eq!(out.status.code(), Some(4));
    let child = Command::new(env!("CARGO_BIN_EXE_cst"))
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["--wait", "index", ws_s, "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    drop(writer);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["parsed"], 0, "{r}");
}
