//! `cst serve`: `/healthz`, `/readyz` and `/metrics` (Prometheus text format,
//! via prometheus-client) over HTTP on a loopback address by default.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cst::Cache;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

/// Exports the cache's counters on each scrape.
#[derive(Debug)]
struct CacheCollector(Cache);

impl Collector for CacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let s = self.0.stats();
        let counters: [(&str, &str, u64); 7] = [
            ("cst_hits", "Lookups answered from a tier", s.hits),
            ("cst_misses", "Lookups that found nothing", s.misses),
            (
                "cst_promotions",
                "Entries moved to a hotter tier",
                s.promotions,
            ),
            (
                "cst_demotions",
                "Entries moved to a colder tier",
                s.demotions,
            ),
            ("cst_evictions", "Entries dropped from memory", s.evictions),
            ("cst_parses", "Files parsed", s.parses),
            (
                "cst_checksum_failures",
                "Stored records that failed their checksum (never served)",
                s.tiers.iter().map(|t| t.checksum_failures).sum(),
            ),
        ];
        for (name, help, v) in counters {
            let c = ConstCounter::new(v);
            c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)?;
        }
        let tiers = ["hot", "warm", "cold", "frozen"];
        for (name, help, pick) in [
            ("cst_tier_bytes", "Bytes held per tier", 0usize),
            ("cst_tier_entries", "Entries held per tier", 1),
        ] {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (tier, t) in tiers.iter().zip(&s.tiers) {
                let v = if pick == 0 { t.bytes } else { t.entries } as i64;
                let g = ConstGauge::new(v);
                g.encode(family.encode_family(&[("tier", *tier)])?)?;
            }
        }
        let g = ConstGauge::new(s.disk_bytes as i64);
        g.encode(encoder.encode_descriptor(
            "cst_disk_bytes",
            "Bytes of the store's files",
            None,
            g.metric_type(),
        )?)?;
        let g = ConstGauge::new(s.paths as i64);
        g.encode(encoder.encode_descriptor(
            "cst_paths",
            "Indexed paths",
            None,
            g.metric_type(),
        )?)?;
        for (name, help, h) in [
            ("cst_get_latency", "Latency of get", &s.get_latency),
            (
                "cst_insert_latency",
                "Latency of inserting a file",
                &s.insert_latency,
            ),
        ] {
            let mut cumulative = 0;
            let buckets: Vec<(f64, u64)> = cst::LATENCY_BUCKETS
                .iter()
                .copied()
                .chain([f64::INFINITY])
                .zip(&h.counts)
                .map(|(b, c)| {
                    cumulative += c;
                    (b, cumulative)
                })
                .collect();
            encoder
                .encode_descriptor(name, help, Some(&Unit::Seconds), MetricType::Histogram)?
                .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                    h.sum_seconds,
                    h.count,
                    &buckets,
                    None,
                )?;
        }
        Ok(())
    }
}

/// Serves until the process is stopped. `ready` turns true when the initial index is done.
pub(crate) fn serve(cache: Cache, addr: &str, ready: Arc<AtomicBool>) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let mut registry = Registry::default();
    registry.register_collector(Box::new(CacheCollector(cache)));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        // One request per connection; a bad client cannot stop the server.
        let _ = handle(stream, &registry, &ready);
    }
    Ok(())
}

/// The classic Prometheus text format (0.0.4) from OpenMetrics text, for
/// scrapers that do not ask for OpenMetrics: counter descriptors take the
/// `_total` name of their samples, `# UNIT` and `# EOF` lines go.
fn to_classic(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|p| {
            let rest = line.strip_prefix(p)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{p}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

fn handle(mut stream: TcpStream, registry: &Registry, ready: &AtomicBool) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new((&stream).take(16 * 1024));
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut openmetrics = false;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        let lower = header.to_ascii_lowercase();
        if lower.starts_with("accept:") && lower.contains("application/openmetrics-text") {
            openmetrics = true;
        }
    }
    let (status, content_type, body) = match path.as_str() {
        "/healthz" => ("200 OK", "text/plain", "ok\n".to_owned()),
        "/readyz" if ready.load(Ordering::Acquire) => {
            ("200 OK", "text/plain", "ready\n".to_owned())
        }
        "/readyz" => (
            "503 Service Unavailable",
            "text/plain",
            "indexing\n".to_owned(),
        ),
        "/metrics" => {
            let mut body = String::new();
            prometheus_client::encoding::text::encode(&mut body, registry)
                .map_err(std::io::Error::other)?;
            if openmetrics {
                (
                    "200 OK",
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    body,
                )
            } else {
                (
                    "200 OK",
                    "text/plain; version=0.0.4; charset=utf-8",
                    to_classic(&body),
                )
            }
        }
        _ => ("404 Not Found", "text/plain", "not found\n".to_owned()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
