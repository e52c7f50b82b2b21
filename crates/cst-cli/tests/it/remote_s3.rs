//! `cst push` and `cst index` against a real S3 server: s3s-fs started in
//! this test process on loopback with an access key (every request's
//! SigV4 signature checked), reached through the `AWS_*` variables as
//! people reach theirs. Two caches share one bucket; a server that is
//! down, wrong credentials and a connection cut in the middle of a pack
//! are misses: the index parses, and every tree verifies.
//!
//! With `CST_S3_TEST_ENDPOINT` set (and `CST_S3_TEST_ACCESS_KEY`,
//! `CST_S3_TEST_SECRET_KEY`, `CST_S3_TEST_BUCKET`, optionally
//! `CST_S3_TEST_REGION`), the test runs against that server instead, under
//! a prefix of its own in a bucket that must exist (docs/REMOTE.md, "The S3
//! tests against another server"). The steps that need the in-process
//! server (a restart on the same port), or a server that checks
//! signatures, print a line starting `SKIPPED (external S3 endpoint)`.

use std::io::Write as _;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const ACCESS_KEY: &str = "cst-test-access";
const SECRET_KEY: &str = "cst-test-secret-0123456789";
const BUCKET: &str = "cst-bucket";
const TEST: &str = "two_caches_share_a_bucket_and_every_failure_is_a_miss";

/// Where the test runs: the in-process server, or an external one.
struct Target {
    access: String,
    secret: String,
    bucket: String,
    region: String,
    /// The remote's prefix in the bucket.
    prefix: String,
}

impl Target {
    /// The external endpoint `CST_S3_TEST_ENDPOINT` names, if set, and its
    /// target: a prefix of its own per run, so runs do not collide.
    fn external() -> Option<(String, Target)> {
        let endpoint = std::env::var("CST_S3_TEST_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())?;
        let need = |k: &str| {
            std::env::var(k).unwrap_or_else(|_| panic!("CST_S3_TEST_ENDPOINT is set: set {k} too"))
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let t = Target {
            access: need("CST_S3_TEST_ACCESS_KEY"),
            secret: need("CST_S3_TEST_SECRET_KEY"),
            bucket: need("CST_S3_TEST_BUCKET"),
            region: std::env::var("CST_S3_TEST_REGION").unwrap_or_else(|_| "us-east-1".into()),
            prefix: format!("cst-test-{}-{nanos}/team", std::process::id()),
        };
        Some((endpoint, t))
    }

    fn in_process() -> Target {
        Target {
            access: ACCESS_KEY.into(),
            secret: SECRET_KEY.into(),
            bucket: BUCKET.into(),
            region: "us-east-1".into(),
            prefix: "team".into(),
        }
    }

    /// Fails, saying what to do, when the bucket cannot be listed (object
    /// store cannot create one).
    fn check_bucket(&self, endpoint: &str) {
        use cst::remote::object_store::ObjectStore as _;
        let store = cst::remote::object_store::aws::AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_access_key_id(&self.access)
            .with_secret_access_key(&self.secret)
            .with_region(&self.region)
            .with_bucket_name(&self.bucket)
            .build()
            .unwrap();
        let prefix = cst::remote::object_store::path::Path::from(self.prefix.as_str());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        if let Err(e) = rt.block_on(store.list_with_delimiter(Some(&prefix))) {
            panic!(
                "{endpoint}: cannot list bucket {} (create it first): {e}",
                self.bucket
            );
        }
    }
}

/// Says, past the test harness's capture of `println!`, that a step did
/// not run against the external endpoint.
fn skipped(step: &str, why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED (external S3 endpoint): {TEST} ({step}) {why}"
    );
}

/// s3s-fs over `root`, on `port` (0: any); runs until the runtime drops.
fn s3_server(root: &Path, port: u16) -> (tokio::runtime::Runtime, SocketAddr) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder as ConnBuilder;
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
    let fs = s3s_fs::FileSystem::new(root).unwrap();
    let mut b = s3s::service::S3ServiceBuilder::new(fs);
    b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = b.build();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let conn = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
    (rt, addr)
}

/// A proxy to `upstream` that cuts every connection after it has sent
/// `budget` bytes back to the client (a transfer dying half-way).
fn cutting_proxy(
    upstream: SocketAddr,
    budget: u64,
) -> (tokio::runtime::Runtime, SocketAddr, Arc<AtomicU64>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let cuts = Arc::new(AtomicU64::new(0));
    let counted = cuts.clone();
    rt.spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            let cuts = counted.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut cr, &mut sw).await;
                });
                let mut sent = 0u64;
                let mut buf = vec![0u8; 16 << 10];
                loop {
                    let n = match sr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let n = n.min((budget - sent) as usize);
                    if cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    sent += n as u64;
                    if sent >= budget {
                        cuts.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                up.abort();
            });
        }
    });
    (rt, addr, cuts)
}

fn cst(
    cache: &Path,
    args: &[&str],
    t: &Target,
    endpoint: &str,
    secret: &str,
    extra: &[(&str, String)],
) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cst"));
    c.arg("--cache-dir")
        .arg(cache)
        .args(args)
        .stdin(Stdio::null())
        .env("CST_REMOTE_URL", format!("s3://{}/{}", t.bucket, t.prefix))
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", &t.access)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", &t.region)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("CST_REMOTE_SIGNING_KEY_FILE");
    for (k, v) in extra {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn workspace(dir: &Path, files: usize) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    for i in 0..files {
        let mut text = String::new();
        for f in 0..30 {
            text += &format!(
                "/// {i} {f}\npub fn f{i}_{f}(x: u64) -> u64 {{\n    x.wrapping_mul({f}) ^ {i}\n}}\n\n"
            );
        }
        std::fs::write(dir.join(format!("src/m{i}.rs")), text).unwrap();
    }
}

fn verified(cache: &Path, ws: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_cst"))
        .arg("--cache-dir")
        .arg(cache)
        .args(["verify", ws.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("0 mismatches"),
        "{text}"
    );
}

#[test]
fn two_caches_share_a_bucket_and_every_failure_is_a_miss() {
    let data = tempfile::tempdir().unwrap();
    // The in-process server, or the external endpoint (`server` None).
    let (server, addr, endpoint, t) = match Target::external() {
        Some((endpoint, t)) => {
            t.check_bucket(&endpoint);
            let authority = endpoint
                .strip_prefix("http://")
                .unwrap_or_else(|| panic!("{endpoint}: only http:// endpoints"))
                .trim_end_matches('/');
            let addr = authority.to_socket_addrs().unwrap().next().unwrap();
            (None, addr, endpoint, t)
        }
        None => {
            let (server, addr) = s3_server(data.path(), 0);
            (
                Some(server),
                addr,
                format!("http://{addr}"),
                Target::in_process(),
            )
        }
    };
    let secret = t.secret.clone();
    let keys = tempfile::tempdir().unwrap();
    let key_dir = keys.path().join("k");
    let out = Command::new(env!("CARGO_BIN_EXE_cst"))
        .args(["remote", "keygen", key_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let public = std::fs::read_to_string(key_dir.join("remote.pub")).unwrap();
    let public = ("CST_REMOTE_PUBLIC_KEY", public.trim().to_string());
    let signing = (
        "CST_REMOTE_SIGNING_KEY_FILE",
        key_dir.join("remote.key").display().to_string(),
    );

    // CI: cache A indexes and pushes.
    let ws = tempfile::tempdir().unwrap();
    workspace(ws.path(), 40);
    let a = tempfile::tempdir().unwrap();
    let v = json(&cst(
        a.path(),
        &["push", ws.path().to_str().unwrap(), "--json"],
        &t,
        &endpoint,
        &secret,
        &[signing.clone(), public.clone()],
    ));
    assert_eq!(v["push"]["pushed"], 40, "{v}");
    // (On an external server, B's pull below shows the objects are there.)
    if server.is_some() {
        assert!(
            data.path()
                .join(BUCKET)
                .join("team/cst/v1/refs/main")
                .is_file()
        );
    }

    // B: the same files, another cache: nothing parsed.
    let b = tempfile::tempdir().unwrap();
    let index = |cache: &Path, endpoint: &str, secret: &str| {
        json(&cst(
            cache,
            &[
                "index",
                ws.path().to_str().unwrap(),
                "--json",
                "--verify-content",
            ],
            &t,
            endpoint,
            secret,
            std::slice::from_ref(&public),
        ))
    };
    let v = index(b.path(), &endpoint, &secret);
    assert_eq!(
        (v["parsed"].as_u64(), v["remote"]["fetched"].as_u64()),
        (Some(0), Some(40)),
        "{v}"
    );
    verified(b.path(), ws.path());

    // Wrong credentials: refused (403), one clear message, local parse.
    let c = tempfile::tempdir().unwrap();
    let out = cst(
        c.path(),
        &["index", ws.path().to_str().unwrap(), "--json"],
        &t,
        &endpoint,
        "not-the-secret",
        std::slice::from_ref(&public),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v = json(&out);
    if server.is_none() && v["remote"]["error"].is_null() {
        skipped(
            "wrong credentials",
            "needs a server that checks SigV4 signatures: this one answered a wrong secret",
        );
    } else {
        assert_eq!(v["parsed"], 40, "{v}");
        assert!(v["remote"]["error"].is_string(), "{v}");
        assert!(stderr.contains("indexing locally"), "{stderr}");
    }
    verified(c.path(), ws.path());

    // A connection cut half-way through the pack: no wrong tree; the
    // pack is refused (or retried) and what is missing is parsed.
    let (proxy, proxy_addr, cuts) = cutting_proxy(addr, 20_000);
    let d = tempfile::tempdir().unwrap();
    let v = index(d.path(), &format!("http://{proxy_addr}"), &secret);
    assert!(
        cuts.load(Ordering::Relaxed) >= 1,
        "the proxy never cut: {v}"
    );
    eprintln!(
        "cut half-way: {} connections cut, {} fetched, {} parsed, remote {}",
        cuts.load(Ordering::Relaxed),
        v["remote"]["fetched"],
        v["parsed"],
        v["remote"]["error"]
    );
    assert_eq!(
        v["parsed"].as_u64().unwrap() + v["remote"]["fetched"].as_u64().unwrap(),
        40,
        "{v}"
    );
    verified(d.path(), ws.path());
    drop(proxy);

    // The server down: a miss, quickly, and the index parses. (An
    // external server stays up: a port where nothing listens stands in.)
    let down = match server {
        Some(server) => {
            drop(server);
            endpoint.clone()
        }
        None => {
            let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let dead = format!("http://{}", free.local_addr().unwrap());
            drop(free);
            dead
        }
    };
    let e = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let v = index(e.path(), &down, &secret);
    assert_eq!(v["parsed"], 40, "{v}");
    assert!(v["remote"]["error"].is_string(), "{v}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    eprintln!(
        "server down: index in {:?}, remote {}",
        started.elapsed(),
        v["remote"]["error"]
    );
    verified(e.path(), ws.path());

    // Back on the same port: the next index fetches again.
    if down != endpoint {
        skipped("restart on the same port", "needs the in-process server");
        return;
    }
    let (_server, _) = s3_server(data.path(), addr.port());
    let f = tempfile::tempdir().unwrap();
    let v = index(f.path(), &endpoint, &secret);
    assert_eq!(
        (v["parsed"].as_u64(), v["remote"]["fetched"].as_u64()),
        (Some(0), Some(40)),
        "{v}"
    );
    verified(f.path(), ws.path());
}
