//! Hostile and malformed requests get a JSON error with a 4xx status:
//! paths that leave the workspace, bad parameters and bodies, unknown
//! routes and methods, oversized bodies, missing or wrong tokens.

use crate::common::{Server, Setup, enc};

fn server() -> Server {
    Server::start(&[("src/lib.rs", "fn main() {}\n"), ("README", "not code\n")])
}

#[test]
fn paths_outside_the_workspace_are_refused() {
    let s = server();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.rs"), "fn secret() {}\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), s.root().join("escape")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.rs"),
        s.root().join("src/link.rs"),
    )
    .unwrap();
    let secret = outside.path().join("secret.rs");
    for p in [
        "../secret.rs".to_string(),
        "src/../../secret.rs".to_string(),
        secret.to_str().unwrap().to_string(),
        "/etc/passwd".to_string(),
        "escape/secret.rs".to_string(),
        "src/link.rs".to_string(),
    ] {
        for endpoint in ["tree", "outline", "tags", "chunks"] {
            let r = s.get(&format!("/v1/{endpoint}?path={}", enc(&p)));
            assert_eq!(r.status, 403, "{endpoint} {p}: {}", r.body);
            r.assert_error(403, "outside_workspace");
        }
        let r = s.request(
            "PUT",
            &format!("/v1/buffers/{}", enc(&p)),
            None,
            "fn x() {}",
        );
        assert!(
            r.status == 403 || r.status == 404,
            "buffer {p}: {} {}",
            r.status,
            r.body
        );
    }
    // Nothing outside was read or indexed.
    let paths = s.ws.cache().paths();
    assert!(paths.iter().all(|p| p.starts_with(s.root())), "{paths:?}");
}

#[test]
fn malformed_requests_get_json_errors() {
    let s = server();
    s.get("/v1/tree").assert_error(400, "invalid_input");
    s.get("/v1/tree?path=src/lib.rs&format=xml")
        .assert_error(400, "invalid_input");
    s.get("/v1/tree?path=src/lib.rs&bogus=1")
        .assert_error(400, "invalid_input");
    s.get("/v1/tree?path=src/lib.rs&byte=-1")
        .assert_error(400, "invalid_input");
    s.get("/v1/tree?path=%00")
        .assert_error(400, "invalid_input");
    s.get("/v1/tree?path=nope.rs")
        .assert_error(404, "not_found");
    s.get("/v1/tree?path=README")
        .assert_error(422, "unsupported");
    s.get("/v1/tree?path=src")
        .assert_error(400, "invalid_input");
    s.get("/v1/nothing").assert_error(404, "no_route");
    s.request("DELETE", "/v1/tree", None, "")
        .assert_error(405, "method_not_allowed");
    s.request("POST", "/v1/query", Some("application/json"), "{not json")
        .assert_error(400, "invalid_input");
    s.request(
        "POST",
        "/v1/query",
        Some("application/json"),
        "{\"pattern\": 7}",
    )
    .assert_error(400, "invalid_input");
    s.request(
        "POST",
        "/v1/query",
        Some("application/json"),
        "{\"patern\": \"(x) @x\"}",
    )
    .assert_error(400, "invalid_input");
    s.request("PATCH", "/v1/buffers/src/lib.rs", None, "{\"edits\": []}")
        .assert_error(404, "not_open");
    s.request("PUT", "/v1/buffers/src/lib.rs", None, "fn main() {}")
        .json();
    s.request(
        "PATCH",
        "/v1/buffers/src/lib.rs",
        None,
        "{\"edits\": [{\"start_byte\": 5, \"old_end_byte\": 1, \"text\": \"\"}]}",
    )
    .assert_error(400, "bad_edit");
    s.request(
        "PATCH",
        "/v1/buffers/src/lib.rs",
        None,
        "{\"edits\": [{\"start_byte\": 0, \"old_end_byte\": 999999, \"text\": \"\"}]}",
    )
    .assert_error(400, "bad_edit");
    s.request("PATCH", "/v1/buffers/src/lib.rs", None, "[1,2,3]")
        .assert_error(400, "invalid_input");
    // The buffer is as it was after every refused edit.
    assert_eq!(
        s.get("/v1/buffers/src/lib.rs").json()["text"],
        "fn main() {}"
    );
    // Non-UTF-8 text.
    let url = format!("{}/v1/buffers/src/x.rs", s.base);
    let mut r = s.agent.put(&url).send(&[0xffu8, 0xfe, 0x00][..]).unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.body_mut().read_json().unwrap();
    assert_eq!(body["error"]["code"], "invalid_input");
    // An unknown language for a buffer.
    s.request("PUT", "/v1/buffers/notes.unknownext", None, "text")
        .assert_error(422, "unsupported");
}

#[test]
fn bodies_over_the_limit_are_refused() {
    let mut setup = Setup::default();
    setup.options.max_body_bytes = 64 * 1024;
    let s = Server::start_with(&[("src/lib.rs", "fn main() {}\n")], setup);
    let big = "x".repeat(65 * 1024);
    s.request("PUT", "/v1/buffers/src/big.rs", None, &big)
        .assert_error(413, "too_large");
    let q = format!("{{\"pattern\": \"{big}\"}}");
    s.request("POST", "/v1/query", Some("application/json"), &q)
        .assert_error(413, "too_large");
    // The server is fine afterwards.
    assert_eq!(s.get("/v1/tree?path=src/lib.rs").status, 200);
}

#[test]
fn a_token_is_checked_and_required_off_loopback() {
    let token = "0123456789abcdef-token".to_string();
    let setup = Setup {
        token: Some(token.clone()),
        ..Setup::default()
    };
    let mut s = Server::start_with(&[("src/lib.rs", "fn main() {}\n")], setup);
    assert_eq!(s.get("/v1/tree?path=src/lib.rs").status, 200);
    assert_eq!(s.get("/metrics").status, 200);
    s.token = None;
    s.get("/v1/tree?path=src/lib.rs")
        .assert_error(401, "unauthorized");
    s.get("/metrics").assert_error(401, "unauthorized");
    assert_eq!(s.get("/healthz").status, 200, "probes need no token");
    s.token = Some("0123456789abcdef-tokeX".into());
    s.get("/v1/tree?path=src/lib.rs")
        .assert_error(401, "unauthorized");
    s.token = Some(token[..5].into());
    s.get("/v1/tree?path=src/lib.rs")
        .assert_error(401, "unauthorized");
    // Off loopback without a token: the server does not start.
    let err = cst_api::start(
        s.ws.clone(),
        cst_api::ServerOptions {
            listen: cst_api::Listen::Tcp("0.0.0.0:0".parse().unwrap()),
            token: None,
            ..cst_api::ServerOptions::default()
        },
        false,
    )
    .unwrap_err();
    assert!(matches!(err, cst_api::Error::TokenRequired(_)), "{err}");
}

#[test]
fn a_client_that_goes_away_mid_stream_does_not_stop_the_server() {
    use std::io::{Read, Write};
    let files: Vec<(String, String)> = (0..200)
        .map(|i| {
            (
                format!("src/m{i}.rs"),
                format!("fn f{i}() {{ let a = {i}; }}\n").repeat(50),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let s = Server::start(&refs);
    let addr = s.base.strip_prefix("http://").unwrap().to_string();
    for _ in 0..5 {
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        let body = "{\"pattern\": \"(identifier) @id\"}";
        write!(
            c,
            "POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut buf = [0u8; 512];
        let _ = c.read(&mut buf).unwrap();
        drop(c);
    }
    // Garbage on the wire.
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    c.write_all(b"\x00\x01GARBAGE / HTTP/9\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    assert_eq!(s.get("/v1/tree?path=src/m1.rs").status, 200);
    let (_, records) = s.query(&serde_json::json!({"pattern": "(function_item) @f"}));
    // 50 functions in each of 200 files.
    assert_eq!(records.last().unwrap()["matches"], 10_000);
}

#[test]
fn a_unix_socket_serves_the_same_api() {
    use std::io::{Read, Write};
    let s = Server::start(&[("src/lib.rs", "fn main() {}\n")]);
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("cst.sock");
    let running = cst_api::start(
        s.ws.clone(),
        cst_api::ServerOptions {
            listen: cst_api::Listen::Unix(sock.clone()),
            ..cst_api::ServerOptions::default()
        },
        false,
    )
    .unwrap();
    assert!(cst_api::is_local(running.local()));
    let mut c = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    write!(
        c,
        "GET /v1/tree?path=src/lib.rs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(
        out.ends_with(&format!(
            "{}\n",
            crate::common::fresh_sexp("rust", "fn main() {}\n")
        )),
        "{out}"
    );
    running.stop();
}

#[test]
fn gc_runs_on_the_servers_store() {
    let s = Server::start(&[
        ("src/lib.rs", "fn main() {}\n"),
        ("src/b.rs", "fn b() {}\n"),
    ]);
    std::fs::remove_file(s.root().join("src/b.rs")).unwrap();
    assert_eq!(s.request("POST", "/v1/reconcile", None, "").status, 200);
    let r = s.request("POST", "/v1/gc", None, "").json();
    assert!(r["removed"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(s.get("/v1/tree?path=src/lib.rs").status, 200);
}

#[test]
fn without_a_token_only_requests_naming_this_machine_are_served() {
    use std::io::{Read, Write};
    let s = server();
    let addr = s.base.strip_prefix("http://").unwrap().to_string();
    let ask = |host: &str| -> String {
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            c,
            "GET /v1/tree?path=src/lib.rs HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        out
    };
    // A page that rebound its name to 127.0.0.1 sends its own name.
    for host in [
        "evil.example",
        "evil.example:9464",
        "10.0.0.1",
        "localhost.evil.example",
    ] {
        let out = ask(host);
        assert!(out.starts_with("HTTP/1.1 403"), "{host}: {out}");
        assert!(out.contains("forbidden_host"), "{out}");
    }
    for host in [
        "localhost",
        "LOCALHOST:1",
        "127.0.0.1",
        "127.0.0.1:9464",
        "[::1]:9464",
        "[::1]",
    ] {
        let out = ask(host);
        assert!(out.starts_with("HTTP/1.1 200"), "{host}: {out}");
    }
}
