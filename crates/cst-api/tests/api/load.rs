//! A bounded load test on loopback: 16 clients for 5 s (120 s with
//! `CST_LONG_TESTS=1`) mix trees, nodes, outlines, tags, queries and
//! buffer edits; every answer is compared with the library's (or a fresh
//! parse); latencies per endpoint (p50/p99) and the resident memory are
//! reported. 0 errors and 0 wrong answers are required.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::{Server, agent, fresh_sexp};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Latencies counted in fixed logarithmic buckets (2% apart, from 1 µs):
/// percentiles within 2%, and the test's own memory flat however long it
/// runs (a list of every latency would grow with the run and blur the RSS
/// check).
#[derive(Clone)]
struct Hist {
    counts: Vec<u64>,
}

const STEP: f64 = 1.02;
const BUCKETS: usize = 1300;

impl Hist {
    fn new() -> Hist {
        Hist {
            counts: vec![0; BUCKETS],
        }
    }
    fn add(&mut self, d: Duration) {
        let us = d.as_secs_f64() * 1e6;
        let i = if us <= 1.0 {
            0
        } else {
            ((us.ln() / STEP.ln()) as usize).min(BUCKETS - 1)
        };
        self.counts[i] += 1;
    }
    fn merge(&mut self, other: &Hist) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }
    fn len(&self) -> u64 {
        self.counts.iter().sum()
    }
    /// The upper bound of the bucket holding the `p` quantile.
    fn percentile(&self, p: f64) -> Duration {
        let n = self.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let rank = ((n - 1) as f64 * p).round() as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen > rank {
                return Duration::from_secs_f64(STEP.powi(i as i32 + 1) / 1e6);
            }
        }
        Duration::MAX
    }
}

#[test]
fn sixteen_clients_mixed_requests_no_errors_no_wrong_answers() {
    let long = std::env::var("CST_LONG_TESTS").is_ok_and(|v| v == "1");
    let secs = if long { 120 } else { 5 };
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora/samples");
    let rust = std::fs::read_to_string(base.join("rust/sample.rs")).unwrap();
    let python = std::fs::read_to_string(base.join("python/sample.py")).unwrap();
    let mut files: Vec<(String, String)> = Vec::new();
    for i in 0..40 {
        files.push((format!("src/r{i}.rs"), format!("// file {i}\n{rust}")));
        files.push((format!("py/p{i}.py"), format!("# file {i}\n{python}")));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let s = Server::start(&refs);
    // What every answer must be, from the library and tree-sitter.
    let expected: BTreeMap<String, (String, Vec<String>, usize)> = files
        .iter()
        .map(|(p, text)| {
            let lang = if p.ends_with(".rs") { "rust" } else { "python" };
            let full = s.root().join(p);
            let outline: Vec<String> =
                s.ws.cache()
                    .outline(&full)
                    .unwrap()
                    .unwrap()
                    .iter()
                    .map(|i| i.name.clone())
                    .collect();
            let tags = s.ws.cache().tags(&full).unwrap().unwrap().tags().len();
            (
                p.clone(),
                (format!("{}\n", fresh_sexp(lang, text)), outline, tags),
            )
        })
        .collect();
    let query_count: usize = {
        let (_, recs) =
            s.query(&serde_json::json!({"pattern": "(function_item name: (identifier) @n)"}));
        recs.last().unwrap()["matches"].as_u64().unwrap() as usize
    };
    assert!(query_count > 0);
    let latencies: Mutex<BTreeMap<&'static str, Hist>> = Mutex::new(BTreeMap::new());
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let rss_start = rss_kib();
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    // The resident memory every second: it grows while caches, pools and
    // compiled queries warm up, then must stay flat.
    let rss_series: Mutex<Vec<u64>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        let series = &rss_series;
        scope.spawn(move || {
            while Instant::now() < until {
                series.lock().unwrap().push(rss_kib());
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        for client in 0..16usize {
            let (s, expected, latencies, failures, files) =
                (&s, &expected, &latencies, &failures, &files);
            scope.spawn(move || {
                let agent = agent();
                let mut local: BTreeMap<&'static str, Hist> = BTreeMap::new();
                let mut i = client;
                let buffer = format!("buf/c{client}.rs");
                let mut version = 0i64;
                while Instant::now() < until {
                    i += 1;
                    let (path, _) = &files[i % files.len()];
                    let (sexp, outline, tags) = &expected[path];
                    let kind = ["tree", "node", "outline", "tags", "query", "edit"][i % 6];
                    let started = Instant::now();
                    let result: Result<(), String> = (|| {
                        let get = |url: String| -> Result<String, String> {
                            let mut r = agent.get(format!("{}{url}", s.base)).call().map_err(|e| e.to_string())?;
                            let status = r.status().as_u16();
                            let body = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
                            if status != 200 {
                                return Err(format!("{url}: {status} {body}"));
                            }
                            Ok(body)
                        };
                        match kind {
                            "tree" => {
                                let body = get(format!("/v1/tree?path={path}"))?;
                                (body == *sexp).then_some(()).ok_or(format!("wrong tree of {path}"))
                            }
                            "node" => {
                                let v: serde_json::Value = serde_json::from_str(&get(format!("/v1/node?path={path}&byte=0"))?).map_err(|e| e.to_string())?;
                                let root = v["ancestors"].as_array().and_then(|a| a.last()).map(|r| r["kind"].clone());
                                let want = if path.ends_with(".rs") { "source_file" } else { "module" };
                                (root == Some(serde_json::json!(want))).then_some(()).ok_or(format!("wrong node of {path}: {v}"))
                            }
                            "outline" => {
                                let v: serde_json::Value = serde_json::from_str(&get(format!("/v1/outline?path={path}"))?).map_err(|e| e.to_string())?;
                                let names: Vec<String> = v["items"].as_array().map(|a| a.iter().map(|i| i["name"].as_str().unwrap_or("").to_string()).collect()).unwrap_or_default();
                                (names == *outline).then_some(()).ok_or(format!("wrong outline of {path}"))
                            }
                            "tags" => {
                                let v: serde_json::Value = serde_json::from_str(&get(format!("/v1/tags?path={path}"))?).map_err(|e| e.to_string())?;
                                (v["tags"].as_array().map(Vec::len) == Some(*tags)).then_some(()).ok_or(format!("wrong tags of {path}"))
                            }
                            "query" => {
                                let mut r = agent
                                    .post(format!("{}/v1/query", s.base))
                                    .send_json(serde_json::json!({"pattern": "(function_item name: (identifier) @n)", "paths": ["src"]}))
                                    .map_err(|e| e.to_string())?;
                                let body = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
                                let last: serde_json::Value = serde_json::from_str(body.lines().last().unwrap_or("")).map_err(|e| e.to_string())?;
                                (last["matches"] == query_count).then_some(()).ok_or(format!("wrong query count: {last}"))
                            }
                            _ => {
                                version += 1;
                                let text = format!("fn client_{client}_v{version}() -> u64 {{ {version} }}\n");
                                let mut r = agent
                                    .put(format!("{}/v1/buffers/{buffer}?version={version}", s.base))
                                    .send(&text)
                                    .map_err(|e| e.to_string())?;
                                let status = r.status().as_u16();
                                let body = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
                                if status != 200 {
                                    return Err(format!("edit: {status} {body}"));
                                }
                                let got = get(format!("/v1/tree?path={buffer}"))?;
                                (got == format!("{}\n", fresh_sexp("rust", &text))).then_some(()).ok_or(format!("wrong buffer tree {buffer}"))
                            }
                        }
                    })();
                    local.entry(kind).or_insert_with(Hist::new).add(started.elapsed());
                    if let Err(e) = result {
                        failures.lock().unwrap().push(e);
                    }
                }
                let mut all = latencies.lock().unwrap();
                for (k, v) in local {
                    all.entry(k).or_insert_with(Hist::new).merge(&v);
                }
            });
        }
    });
    let rss_end = rss_kib();
    let failures = failures.into_inner().unwrap();
    let mut total = 0;
    for (kind, v) in latencies.into_inner().unwrap() {
        total += v.len();
        eprintln!(
            "load {kind:<8} n={:>6} p50={:>8.3} ms p99={:>8.3} ms",
            v.len(),
            v.percentile(0.5).as_secs_f64() * 1e3,
            v.percentile(0.99).as_secs_f64() * 1e3
        );
    }
    eprintln!(
        "load: {total} requests in {secs} s by 16 clients, {} failures; RSS {} KiB -> {} KiB",
        failures.len(),
        rss_start,
        rss_end
    );
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(total > 100, "only {total} requests");
    let series = rss_series.into_inner().unwrap();
    // After the first quarter of the run (warm), the rest must be flat.
    let warm = series.get(series.len() / 4).copied().unwrap_or(rss_start);
    let peak_late = series[series.len() / 4..]
        .iter()
        .copied()
        .max()
        .unwrap_or(rss_end);
    let step = (series.len() / 12).max(1);
    eprintln!(
        "load: RSS every {step} s (KiB): {:?}",
        series.iter().step_by(step).collect::<Vec<_>>()
    );
    eprintln!("load: RSS warm {warm} KiB, peak after {peak_late} KiB, end {rss_end} KiB");
    if long {
        // Flat memory once warm: within a quarter of the warm figure.
        assert!(
            peak_late.max(rss_end) <= warm + warm / 4,
            "RSS grew after warming up: {warm} -> {peak_late} KiB (series {series:?})"
        );
    }
}
