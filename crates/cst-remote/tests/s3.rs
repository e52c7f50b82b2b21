//! The client through object_store's AmazonS3 against a real S3 server:
//! s3s-fs, started in this process on 127.0.0.1:0 with an access key set
//! (so every request's SigV4 signature is checked), over plain http.
//!
//! `Remote::open` reads the endpoint and credentials from the `AWS_*`
//! variables, as it does for people. Setting variables in a running test
//! process is unsound, so each scenario runs in a child process (this test
//! binary again, filtered to `child`) with its own environment, talking to
//! the server in the parent.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cst_remote::{BreakerState, Error, Fingerprint, Push, Remote, RemoteConfig, SigningKey};

const ACCESS_KEY: &str = "cst-test-access";
const SECRET_KEY: &str = "cst-test-secret-0123456789";
const BUCKET: &str = "cst-bucket";
const SCENARIO: &str = "CST_REMOTE_S3_SCENARIO";

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

fn run_child(scenario: &str, endpoint: &str, secret: &str) {
    let key = SigningKey::from_seed([7; 32]);
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, scenario)
        .env("CST_REMOTE_URL", format!("s3://{BUCKET}/team/cache"))
        .env("CST_REMOTE_PUBLIC_KEY", key.public().to_hex())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
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
}

#[test]
fn push_and_fetch_through_s3() {
    let root = tempfile::tempdir().unwrap();
    let (rt, addr) = start_server(root.path());
    let endpoint = format!("http://{addr}");
    run_child("ok", &endpoint, SECRET_KEY);
    run_child("bad-key", &endpoint, "not-the-secret");
    // The objects are where docs/REMOTE.md says.
    let base = root.path().join(BUCKET).join("team/cache/cst/v1");
    assert!(base.join("refs/main").is_file());
    assert!(std::fs::read_dir(base.join("packs")).unwrap().count() >= 2);
    drop(rt);
    // A port where nothing listens.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    run_child("down", &dead, SECRET_KEY);
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
            let e = r.fetch_ref("main").unwrap_err();
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
