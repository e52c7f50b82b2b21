//! The client through object_store's AmazonS3 against a real S3 server:
//! s3s-fs, started in this process on 127.0.0.1:0 with an access key set
//! (so every request's SigV4 signature is checked), over plain http.
//!
//! `Remote::open` reads the endpoint and credentials from the `AWS_*`
//! variables, as it does for people. Setting variables in a running test
//! process is unsound, so each scenario runs in a child process (this test
//! binary again, filtered to `child`) with its own environment, talking to
//! the server in the parent.
//!
//! With `CST_S3_TEST_ENDPOINT` set (and `CST_S3_TEST_ACCESS_KEY`,
//! `CST_S3_TEST_SECRET_KEY`, `CST_S3_TEST_BUCKET`, optionally
//! `CST_S3_TEST_REGION`), the scenarios run against that server instead,
//! under a prefix of their own in a bucket that must exist
//! (docs/REMOTE.md, "The S3 tests against another server"). What needs the
//! in-process server, or a server that checks signatures, prints a line
//! starting `SKIPPED (external S3 endpoint)` instead of passing silently.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cst_remote::{BreakerState, Error, Fingerprint, Push, Remote, RemoteConfig, SigningKey};

const ACCESS_KEY: &str = "cst-test-access";
const SECRET_KEY: &str = "cst-test-secret-0123456789";
const BUCKET: &str = "cst-bucket";
const SCENARIO: &str = "CST_REMOTE_S3_SCENARIO";
/// Set in a child when the server is an external one.
const EXTERNAL: &str = "CST_REMOTE_S3_EXTERNAL";

/// Where the scenarios run: the in-process server, or an external one.
struct Target {
    endpoint: String,
    access: String,
    secret: String,
    bucket: String,
    region: String,
    /// The remote's prefix in the bucket.
    prefix: String,
    external: bool,
}

impl Target {
    /// The external endpoint `CST_S3_TEST_ENDPOINT` names, if set: a prefix
    /// of its own per run, so runs and tests do not collide.
    fn external() -> Option<Target> {
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
        Some(Target {
            endpoint,
            access: need("CST_S3_TEST_ACCESS_KEY"),
            secret: need("CST_S3_TEST_SECRET_KEY"),
            bucket: need("CST_S3_TEST_BUCKET"),
            region: std::env::var("CST_S3_TEST_REGION").unwrap_or_else(|_| "us-east-1".into()),
            prefix: format!("cst-test-{}-{nanos}/team/cache", std::process::id()),
            external: true,
        })
    }

    fn in_process(endpoint: String) -> Target {
        Target {
            endpoint,
            access: ACCESS_KEY.into(),
            secret: SECRET_KEY.into(),
            bucket: BUCKET.into(),
            region: "us-east-1".into(),
            prefix: "team/cache".into(),
            external: false,
        }
    }

    /// A client of the bucket, outside `Remote` (checks from the parent).
    fn store(&self) -> cst_remote::object_store::aws::AmazonS3 {
        cst_remote::object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_access_key_id(&self.access)
            .with_secret_access_key(&self.secret)
            .with_region(&self.region)
            .with_bucket_name(&self.bucket)
            .build()
            .unwrap()
    }

    /// The objects under the remote's prefix (their paths after it).
    fn list(&self) -> Result<Vec<String>, cst_remote::object_store::Error> {
        use cst_remote::object_store::ObjectStore as _;
        use futures::TryStreamExt as _;
        let store = self.store();
        let prefix = cst_remote::object_store::path::Path::from(self.prefix.as_str());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let metas: Vec<_> = rt.block_on(store.list(Some(&prefix)).try_collect())?;
        Ok(metas
            .into_iter()
            .map(|m| m.location.as_ref()[self.prefix.len() + 1..].to_owned())
            .collect())
    }
}

/// Starts s3s-fs over `root` on a loopback port; it runs until the
/// returned runtime is dropped.
fn start_server(root: &std::path::Path) -> (tokio::runtime::Runtime, SocketAddr) {
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
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
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

fn run_child(scenario: &str, t: &Target, endpoint: &str, secret: &str) {
    let key = SigningKey::from_seed([7; 32]);
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, scenario)
        .env("CST_REMOTE_URL", format!("s3://{}/{}", t.bucket, t.prefix))
        .env("CST_REMOTE_PUBLIC_KEY", key.public().to_hex())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", &t.access)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", &t.region)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE");
    if t.external {
        c.env(EXTERNAL, "1");
    }
    let out = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "scenario {scenario} failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "scenario {scenario} ran no test:\n{text}"
    );
    // Past the harness's capture of `println!`: a skip must be seen.
    for line in text
        .lines()
        .filter_map(|l| l.find("SKIPPED").map(|i| &l[i..]))
    {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

#[test]
fn push_and_fetch_through_s3() {
    if let Some(t) = Target::external() {
        // The bucket must exist (object_store cannot create one).
        if let Err(e) = t.list() {
            panic!(
                "{}: cannot list bucket {} (create it first): {e}",
                t.endpoint, t.bucket
            );
        }
        run_child("ok", &t, &t.endpoint, &t.secret);
        run_child("bad-key", &t, &t.endpoint, "not-the-secret");
        // The objects are where docs/REMOTE.md says.
        let names = t.list().unwrap();
        assert!(names.iter().any(|n| n == "cst/v1/refs/main"), "{names:?}");
        let packs = names.iter().filter(|n| n.starts_with("cst/v1/packs/"));
        assert!(packs.count() >= 2, "{names:?}");
        // A server that is down is a port where nothing listens; that
        // needs no server at all.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = format!("http://{}", free.local_addr().unwrap());
        drop(free);
        run_child("down", &t, &dead, &t.secret);
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let (rt, addr) = start_server(root.path());
    let endpoint = format!("http://{addr}");
    let t = Target::in_process(endpoint.clone());
    run_child("ok", &t, &endpoint, SECRET_KEY);
    run_child("bad-key", &t, &endpoint, "not-the-secret");
    // The objects are where docs/REMOTE.md says.
    let base = root.path().join(BUCKET).join("team/cache/cst/v1");
    assert!(base.join("refs/main").is_file());
    assert!(std::fs::read_dir(base.join("packs")).unwrap().count() >= 2);
    drop(rt);
    // A port where nothing listens.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    run_child("down", &t, &dead, SECRET_KEY);
}

/// One scenario, in a child process (see the module's comment); does
/// nothing when run directly.
#[test]
fn child() {
    let Ok(scenario) = std::env::var(SCENARIO) else {
        return;
    };
    let mut config = RemoteConfig::from_env().unwrap().unwrap();
    // Short backoffs keep the failing scenarios quick.
    config.init_backoff = Duration::from_millis(50);
    config.max_backoff = Duration::from_millis(100);
    config.breaker_cooldown = None;
    let r = Remote::open(config).unwrap();
    let key = SigningKey::from_seed([7; 32]);
    let fps = [Fingerprint {
        id: "rust".into(),
        fingerprint: [1; 16],
    }];
    let dicts = [("trees/rust".to_owned(), Bytes::from_static(b"dictionary"))];
    let push = Push {
        branch: "main",
        format: 4,
        fingerprints: &fps,
        dicts: &dicts,
        signing_key: &key,
        compact_over: None,
    };
    let recs = |n: u32| {
        (0..n)
            .map(|i| {
                (
                    cst_remote::digest(&i.to_le_bytes()),
                    Bytes::from(vec![i as u8; 100 + i as usize]),
                )
            })
            .collect::<Vec<_>>()
    };
    match scenario.as_str() {
        "ok" => {
            assert!(r.fetch_ref("main").unwrap().is_none());
            let first = r.push(&push, recs(40)).unwrap();
            assert_eq!(first.records_pushed, 40);
            // The second push updates the ref conditionally (If-Match).
            let second = r.push(&push, recs(60)).unwrap();
            assert_eq!(second.records_pushed, 20);
            let m = r.fetch_ref("main").unwrap().unwrap();
            assert_eq!(m.manifest.generation, 2);
            assert_eq!(m.manifest.packs.len(), 2);
            let mut all = Vec::new();
            for p in &m.manifest.packs {
                let index = r.fetch_index(p).unwrap();
                // A few records by range, then all of them (the whole pack).
                let few: Vec<_> = index.iter().take(2).collect();
                for (e, b) in few.iter().zip(r.fetch_records(p, &few).unwrap()) {
                    assert_eq!(b.unwrap().len(), e.body_len());
                }
                let every: Vec<_> = index.iter().collect();
                for (e, b) in every.iter().zip(r.fetch_records(p, &every).unwrap()) {
                    all.push((e.key, b.unwrap()));
                }
            }
            all.sort();
            let mut want = recs(60);
            want.sort();
            assert_eq!(all, want);
            assert_eq!(r.fetch_dict(&m.manifest.dicts[0]).unwrap(), dicts[0].1);
            let s = r.stats();
            assert_eq!(s.rejected.total(), 0);
            assert_eq!(s.breaker, BreakerState::Closed);
        }
        "bad-key" => {
            // SigV4 with the wrong secret: 403, one clear message, then off.
            let got = r.fetch_ref("main");
            if std::env::var_os(EXTERNAL).is_some() && got.is_ok() {
                // Relayed by the parent (this child's output is captured).
                println!(
                    "SKIPPED (external S3 endpoint): push_and_fetch_through_s3 (wrong \
                     credentials) needs a server that checks SigV4 signatures: this one \
                     answered a request signed with a wrong secret"
                );
                return;
            }
            let e = got.unwrap_err();
            assert!(matches!(e, Error::Auth(_)), "{e}");
            assert!(matches!(r.fetch_ref("main"), Err(Error::Disabled(_))));
            assert_eq!(r.breaker_state(), BreakerState::Off);
            assert_eq!(r.stats().requests, 1);
        }
        "down" => {
            let t = Instant::now();
            for _ in 0..10 {
                assert!(r.fetch_ref("main").is_err());
            }
            let s = r.stats();
            assert_eq!(s.errors.outage + s.errors.timeout, 3, "{s:?}");
            assert_eq!(s.errors.disabled, 7);
            assert_eq!(s.breaker, BreakerState::Open);
            assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        }
        other => panic!("unknown scenario {other}"),
    }
}
