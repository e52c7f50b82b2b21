//! `cargo xtask bench-remote DIR`: the remote tier on a real tree, with the
//! release `cst` binary against a real S3 server (s3s-fs on loopback, the
//! server `cargo xtask s3` runs) behind a proxy that adds latency.
//!
//! Cache A indexes DIR cold (no remote) and pushes it once per pack size;
//! then, for each pack size and each added latency, a fresh cache B runs
//! `cst index DIR --json` with the remote: files parsed, requests, bytes,
//! and wall time against A's cold index, all from the same run. With
//! `--per-record`, the same bundles are also stored one object per record
//! (as a cache without packs would) and fetched through the same proxy with
//! the pull's parallelism (`parallel_reads`, 4): requests and the time of
//! the fetch alone, a lower bound of such a design's pull.
//!
//! The proxy delays the first bytes of each request on a connection (the
//! client speaking after the server did, or first): one added round trip
//! per HTTP request, as a remote region would, with connections reused.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::scale::{dir_bytes, json, timed};

/// What `run` measures.
pub(crate) struct Options {
    /// Pack sizes (MiB) pushed and pulled.
    pub(crate) packs: Vec<u64>,
    /// Added latencies (ms per request).
    pub(crate) latencies: Vec<u64>,
    /// Also store and fetch one object per record.
    pub(crate) per_record: bool,
    /// Where the caches, keys and the server's data go (emptied first).
    pub(crate) work: Option<PathBuf>,
}

/// The server child, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback TCP proxy to `upstream` that sleeps `delay_ms` before
/// forwarding each request's first bytes.
struct Proxy {
    addr: String,
    delay_ms: Arc<AtomicU64>,
}

impl Proxy {
    fn start(upstream: String) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let delay_ms = Arc::new(AtomicU64::new(0));
        let delay = delay_ms.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                // True while the client's next bytes start a new request.
                let turn = Arc::new(AtomicBool::new(true));
                let (t2, d) = (turn.clone(), delay.clone());
                std::thread::spawn(move || pipe(client, server, &turn, Some(&d)));
                std::thread::spawn(move || pipe(s2, c2, &t2, None));
            }
        });
        Ok(Proxy { addr, delay_ms })
    }

    fn set_delay(&self, ms: u64) {
        self.delay_ms.store(ms, Ordering::SeqCst);
    }
}

/// Copies `from` to `to` until either ends. Upstream (`delay` given): sleeps
/// before the first chunk of each request. Downstream: each chunk of the
/// answer marks that the client's next bytes are a new request.
fn pipe(mut from: TcpStream, mut to: TcpStream, turn: &AtomicBool, delay: Option<&AtomicU64>) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        match delay {
            Some(ms) => {
                if turn.swap(false, Ordering::SeqCst) {
                    let ms = ms.load(Ordering::SeqCst);
                    if ms > 0 {
                        std::thread::sleep(Duration::from_millis(ms));
                    }
                }
            }
            None => turn.store(true, Ordering::SeqCst),
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

// The loopback server's credentials and bucket: `cargo xtask s3`'s.
use crate::s3::{ACCESS_KEY, BUCKET, SECRET_KEY};

/// One B run.
struct Pull {
    pack_mib: u64,
    latency_ms: u64,
    wall: f64,
    parsed: u64,
    files: u64,
    fetched: u64,
    bytes: u64,
    requests: u64,
    rejected: u64,
}

pub(crate) fn run(dir: &Path, o: &Options) -> Result<()> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("{}", dir.display()))?;
    crate::compare::build(&["-p", "cst-cli", "--bin", "cst"])?;
    let root = crate::root();
    let cst_bin = root.join("target/release/cst");
    let work = o
        .work
        .clone()
        .unwrap_or_else(|| root.join("target/bench-remote"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;

    // The server, as `cargo xtask s3 serve` runs it, on a free port.
    let data = work.join("s3");
    let addr_file = work.join("s3.addr");
    let log = std::fs::File::create(work.join("s3.log"))?;
    let server = Server(
        Command::new(std::env::current_exe()?)
            .args(["s3", "serve", "--port", "0", "--dir"])
            .arg(&data)
            .arg("--addr-file")
            .arg(&addr_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting s3s-fs")?,
    );
    let started = Instant::now();
    let server_addr = loop {
        if let Ok(a) = std::fs::read_to_string(&addr_file)
            && !a.trim().is_empty()
        {
            break a.trim().to_owned();
        }
        ensure!(
            started.elapsed() < Duration::from_secs(30),
            "s3s-fs did not start; see {}",
            work.join("s3.log").display()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let proxy = Proxy::start(server_addr.clone())?;

    // Keys.
    let keys = work.join("keys");
    let out = Command::new(&cst_bin)
        .args(["remote", "keygen"])
        .arg(&keys)
        .output()?;
    ensure!(
        out.status.success(),
        "cst remote keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(keys.join("remote.pub"))?
        .trim()
        .to_owned();

    // A command of the release binary with a clean remote environment:
    // `remote` = (prefix, endpoint, signing) or none.
    let cst = |cache: &Path, remote: Option<(&str, &str, bool)>| {
        let mut c = Command::new(&cst_bin);
        c.arg("--cache-dir").arg(cache);
        for (k, _) in std::env::vars() {
            if k.starts_with("CST_REMOTE_") || k.starts_with("AWS_") {
                c.env_remove(k);
            }
        }
        if let Some((prefix, endpoint, signing)) = remote {
            c.env("CST_REMOTE_URL", format!("s3://{BUCKET}/{prefix}"))
                .env("CST_REMOTE_PUBLIC_KEY", &public)
                .env("AWS_ENDPOINT_URL", format!("http://{endpoint}"))
                .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
                .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ALLOW_HTTP", "true");
            if signing {
                c.env("CST_REMOTE_SIGNING_KEY_FILE", keys.join("remote.key"));
            }
        }
        c
    };

    // 1. A: a cold index, no remote.
    let a = work.join("A");
    let (a_wall, a_rss, out) = timed({
        let mut c = cst(&a, None);
        c.arg("index").arg(&dir).arg("--json").arg("--no-remote");
        c
    })?;
    let r = json(&out)?;
    let lines: u64 = r["languages"]
        .as_object()
        .map(|m| m.values().filter_map(|l| l["lines"].as_u64()).sum())
        .unwrap_or(0);
    let files = r["files"].as_u64().unwrap_or(0);
    println!(
        "tree: {} ({files} files, {lines} lines)\nA cold index: {a_wall:.2} s, peak RSS {} MB, parsed {}",
        dir.display(),
        a_rss / 1024,
        r["parsed"]
    );
    let (_, _, out) = timed({
        let mut c = cst(&a, None);
        c.arg("stats").arg(&dir).arg("--json");
        c
    })?;
    let s = json(&out)?;
    let disk = &s["disk"];
    let store_records: u64 = ["trees", "sources", "tags", "dictionaries"]
        .iter()
        .filter_map(|k| disk[*k].as_u64())
        .sum();
    println!(
        "A's store: {store_records} bytes of records (trees {}, sources {}, tags {}, dictionaries {}); {} bytes on disk",
        disk["trees"],
        disk["sources"],
        disk["tags"],
        disk["dictionaries"],
        dir_bytes(&a)
    );

    // 2. A pushes once per pack size (no added latency).
    let mut pushes = Vec::new();
    for &p in &o.packs {
        let prefix = format!("p{p}");
        let (wall, rss, out) = timed({
            let mut c = cst(&a, Some((&prefix, &server_addr, true)));
            c.env("CST_REMOTE_PACK_MIB", p.to_string())
                .arg("push")
                .arg(&dir)
                .arg("--json");
            c
        })?;
        let r = json(&out)?;
        let packs = std::fs::read_dir(data.join(BUCKET).join(&prefix).join("cst/v1/packs"))
            .map(|d| d.count())
            .unwrap_or(0);
        println!(
            "push {p:>2} MiB packs: {wall:.2} s, peak RSS {} MB, {} bundles, {packs} packs, {} bytes, {} requests",
            rss / 1024,
            r["push"]["pushed"],
            r["push"]["bytes"],
            r["remote"]["requests"]
        );
        pushes.push(serde_json::json!({
            "pack_mib": p, "wall_s": wall, "rss_kib": rss, "packs": packs,
            "bundles": r["push"]["pushed"], "bytes": r["push"]["bytes"],
            "requests": r["remote"]["requests"],
        }));
    }

    // 3. B: a fresh cache per pack size and latency.
    let b = work.join("B");
    let mut pulls = Vec::new();
    for &p in &o.packs {
        for &l in &o.latencies {
            proxy.set_delay(l);
            let _ = std::fs::remove_dir_all(&b);
            let prefix = format!("p{p}");
            let (wall, _, out) = timed({
                let mut c = cst(&b, Some((&prefix, &proxy.addr, false)));
                c.arg("index").arg(&dir).arg("--json");
                c
            })?;
            let r = json(&out)?;
            let remote = &r["remote"];
            if let Some(e) = remote["error"].as_str() {
                bail!("B ({p} MiB, {l} ms): the remote failed: {e}");
            }
            let pull = Pull {
                pack_mib: p,
                latency_ms: l,
                wall,
                parsed: r["parsed"].as_u64().unwrap_or(0),
                files: r["files"].as_u64().unwrap_or(0),
                fetched: remote["fetched"].as_u64().unwrap_or(0),
                bytes: remote["bytes"].as_u64().unwrap_or(0),
                requests: remote["stats"]["requests"].as_u64().unwrap_or(0),
                rejected: remote["rejected"].as_u64().unwrap_or(0),
            };
            println!(
                "pull {p:>2} MiB, +{l:>2} ms: {:.2} s = {:.3}x A, parsed {} of {}, fetched {}, {} bytes = {:.3}x A's records, {} requests, rejected {}",
                pull.wall,
                pull.wall / a_wall,
                pull.parsed,
                pull.files,
                pull.fetched,
                pull.bytes,
                pull.bytes as f64 / store_records.max(1) as f64,
                pull.requests,
                pull.rejected
            );
            pulls.push(pull);
        }
    }
    proxy.set_delay(0);

    // 4. One object per record: the bundles of the 16 MiB (or first) push.
    let mut per_record = Vec::new();
    if o.per_record {
        let p = if o.packs.contains(&16) {
            16
        } else {
            o.packs[0]
        };
        per_record = one_object_per_record(
            &data.join(BUCKET).join(format!("p{p}/cst/v1/packs")),
            &server_addr,
            &proxy,
            &o.latencies,
        )?;
        for (l, n, bytes, wall) in &per_record {
            println!(
                "one object per record, +{l:>2} ms: {n} GETs, {bytes} bytes, fetch alone {wall:.2} s = {:.3}x A",
                wall / a_wall
            );
        }
    }

    let results = serde_json::json!({
        "dir": dir, "files": files, "lines": lines,
        "a": { "wall_s": a_wall, "rss_kib": a_rss, "store_record_bytes": store_records },
        "pushes": pushes,
        "pulls": pulls.iter().map(|p| serde_json::json!({
            "pack_mib": p.pack_mib, "latency_ms": p.latency_ms, "wall_s": p.wall,
            "ratio_to_a": p.wall / a_wall, "parsed": p.parsed, "files": p.files,
            "fetched": p.fetched, "bytes": p.bytes,
            "bytes_ratio": p.bytes as f64 / store_records.max(1) as f64,
            "requests": p.requests, "rejected": p.rejected,
        })).collect::<Vec<_>>(),
        "per_record": per_record.iter().map(|(l, n, bytes, wall)| serde_json::json!({
            "latency_ms": l, "requests": n, "bytes": bytes, "fetch_s": wall,
            "ratio_to_a": wall / a_wall,
        })).collect::<Vec<_>>(),
    });
    let path = work.join("results.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&results)?)?;
    println!("results: {}", path.display());
    drop(server);
    Ok(())
}

/// Stores every record of the packs in `packs_dir` as its own object
/// (`per-record/<key hex>`, straight to the server), then for each latency
/// GETs them all through the proxy, 4 at a time (the pull's
/// `parallel_reads`). Returns (latency, requests, bytes, seconds).
fn one_object_per_record(
    packs_dir: &Path,
    server: &str,
    proxy: &Proxy,
    latencies: &[u64],
) -> Result<Vec<(u64, u64, u64, f64)>> {
    use futures::StreamExt;
    use object_store::{ObjectStoreExt, path::Path as ObjectPath};

    let mut records: Vec<(String, bytes::Bytes)> = Vec::new();
    for e in std::fs::read_dir(packs_dir)
        .with_context(|| format!("{}", packs_dir.display()))?
        .flatten()
    {
        let bytes = bytes::Bytes::from(std::fs::read(e.path())?);
        let pack = cst_remote::pack::Pack::parse(bytes)
            .map_err(|err| anyhow::anyhow!("{}: {err}", e.path().display()))?;
        for r in pack.records() {
            let (key, body) = r.map_err(|err| anyhow::anyhow!("{err}"))?;
            records.push((cst_remote::to_hex(&key), body));
        }
    }
    let store = |endpoint: &str| {
        object_store::aws::AmazonS3Builder::new()
            .with_endpoint(format!("http://{endpoint}"))
            .with_bucket_name(BUCKET)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .with_region("us-east-1")
            .with_allow_http(true)
            .build()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let direct = Arc::new(store(server)?);
    let started = Instant::now();
    rt.block_on(async {
        let puts = futures::stream::iter(records.iter().map(|(k, body)| {
            let s = direct.clone();
            async move {
                s.put(
                    &ObjectPath::from(format!("per-record/{k}")),
                    body.clone().into(),
                )
                .await
            }
        }))
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
        puts.into_iter().collect::<Result<Vec<_>, _>>()
    })?;
    eprintln!(
        "stored {} records one object each in {:.1} s",
        records.len(),
        started.elapsed().as_secs_f64()
    );
    let through = Arc::new(store(&proxy.addr)?);
    let mut out = Vec::new();
    for &l in latencies {
        proxy.set_delay(l);
        let started = Instant::now();
        let bytes: u64 = rt.block_on(async {
            let gets = futures::stream::iter(records.iter().map(|(k, _)| {
                let s = through.clone();
                async move {
                    let r = s.get(&ObjectPath::from(format!("per-record/{k}"))).await?;
                    r.bytes().await.map(|b| b.len() as u64)
                }
            }))
            .buffer_unordered(4)
            .collect::<Vec<_>>()
            .await;
            gets.into_iter().sum::<Result<u64, _>>()
        })?;
        out.push((
            l,
            records.len() as u64,
            bytes,
            started.elapsed().as_secs_f64(),
        ));
    }
    proxy.set_delay(0);
    Ok(out)
}
