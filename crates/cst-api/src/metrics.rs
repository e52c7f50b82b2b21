//! `/metrics`: the cache's counters and tiers, the workspace's state, the
//! shared remote's counters (from [`RemoteStatus`]), and latency
//! histograms of the requests per endpoint (Prometheus text, or
//! OpenMetrics when the scraper asks for it).

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use cst_workspace::Workspace;

/// The label of a request histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Endpoint {
    pub(crate) endpoint: &'static str,
}

/// Latency buckets in seconds: 50 µs to 10 s.
const BUCKETS: [f64; 14] = [
    5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.5, 1.0, 10.0,
];

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<Endpoint, Histogram, fn() -> Histogram>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish()
    }
}

impl Metrics {
    pub(crate) fn new(ws: Workspace, remote: Option<Arc<dyn RemoteStatus>>) -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<Endpoint, Histogram, fn() -> Histogram>::new_with_constructor(
            histogram as fn() -> Histogram,
        );
        registry.register_with_unit(
            "cst_http_request_duration",
            "Time to answer an HTTP request, per endpoint (to the first byte for streams)",
            Unit::Seconds,
            requests.clone(),
        );
        registry.register_collector(Box::new(WorkspaceCollector(ws)));
        registry.register_collector(Box::new(RemoteCollector(remote)));
        Metrics { registry, requests }
    }

    /// Records one request to `endpoint` that took `d`.
    pub(crate) fn observe(&self, endpoint: &'static str, d: Duration) {
        self.requests
            .get_or_create(&Endpoint { endpoint })
            .observe(d.as_secs_f64());
    }

    /// The metrics, as OpenMetrics text or in the classic format.
    pub(crate) fn render(&self, openmetrics: bool) -> Result<String, std::fmt::Error> {
        let mut body = String::new();
        prometheus_client::encoding::text::encode(&mut body, &self.registry)?;
        Ok(if openmetrics { body } else { to_classic(&body) })
    }
}

/// Exports the cache's and the workspace's state on each scrape.
#[derive(Debug)]
struct WorkspaceCollector(Workspace);

impl Collector for WorkspaceCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let ws = &self.0;
        let s = ws.cache().stats();
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
                ConstGauge::new(v).encode(family.encode_family(&[("tier", *tier)])?)?;
            }
        }
        let status = ws.status();
        let (watched, polling) = status.watch.as_ref().map_or((0, 0), |w| {
            (w.watched_dirs as i64, i64::from(w.mode == "polling"))
        });
        let gauges: [(&str, &str, i64); 8] = [
            (
                "cst_disk_bytes",
                "Bytes of the store's files",
                s.disk_bytes as i64,
            ),
            ("cst_paths", "Indexed paths", s.paths as i64),
            (
                "cst_generation",
                "The workspace's generation (grows with every change applied)",
                status.meta.generation as i64,
            ),
            (
                "cst_stale_paths",
                "Paths changed on disk and not reconciled yet",
                status.meta.stale_count as i64,
            ),
            ("cst_open_buffers", "Open buffers", status.buffers as i64),
            ("cst_watched_dirs", "Directories watched natively", watched),
            (
                "cst_watch_polling",
                "1 when the watcher fell back to polling",
                polling,
            ),
            (
                "cst_ready",
                "1 when the first index has finished",
                i64::from(status.ready),
            ),
        ];
        for (name, help, v) in gauges {
            let g = ConstGauge::new(v);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
        }
        for (name, help, h) in [
            ("cst_get_latency", "Latency of get", &s.get_latency),
            (
                "cst_insert_latency",
                "Latency of inserting a file",
                &s.insert_latency,
            ),
        ] {
            let mut cumulative = 0;
            let buckets: Vec<(f64, u64)> = cst_workspace::cst::LATENCY_BUCKETS
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

/// The shared remote tier's counters, for `/metrics` (`docs/API.md`
/// lists the metrics). This crate knows no remote: whoever drives one (the
/// `cst` command) fills this from its client and its pulls on each scrape,
/// through the [`RemoteStatus`] given in
/// [`ServerOptions::remote`](crate::ServerOptions::remote).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteMetrics {
    /// A remote is configured (`[remote] url` in cst.toml, `CST_REMOTE_URL`).
    pub configured: bool,
    /// Why a configured remote is not used, as a short code: `flag`
    /// (`--no-remote`), `config` (an unusable configuration),
    /// `no_public_key` (refs cannot be checked, so nothing is read),
    /// `breaker_open` (repeated outages), `credentials` (refused).
    pub disabled: Option<&'static str>,
    /// Requests made to the remote's store.
    pub requests: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Pulls run (each before a first index).
    pub pulls: u64,
    /// Pulls that failed as a whole (a miss: the files were parsed).
    pub pull_failures: u64,
    /// Bundles fetched, checked and kept in the local store.
    pub bundles_fetched: u64,
    /// Bundles the remote lists that the local store held already.
    pub bundles_present: u64,
    /// Packs some of whose bundles were kept.
    pub packs_fetched: u64,
    /// Packs refused (damaged, or after a tree that differed from a
    /// fresh parse).
    pub packs_refused: u64,
    /// Objects the client refused, by reason (`signature`, `hash`,
    /// `malformed`, `version`, `record`).
    pub rejected_objects: Vec<(&'static str, u64)>,
    /// Bundles refused by the checks against this build, by reason.
    pub rejected_bundles: Vec<(String, u64)>,
    /// Errors, by kind (`outage`, `timeout`, `auth`, `disabled`…).
    pub errors: Vec<(&'static str, u64)>,
    /// The breaker's state: `closed`, `read_only`, `open` or `off`.
    pub breaker: &'static str,
    /// Times the breaker opened.
    pub breaker_trips: u64,
}

/// A source of [`RemoteMetrics`], asked on each scrape of `/metrics` (on
/// a blocking thread).
pub trait RemoteStatus: Send + Sync + std::fmt::Debug {
    /// The counters now.
    fn remote_metrics(&self) -> RemoteMetrics;
}

/// The breaker states, as `cst_remote_breaker_state{state=...}` names them.
const BREAKER_STATES: [&str; 4] = ["closed", "read_only", "open", "off"];

/// Exports the shared remote's counters on each scrape: without a
/// [`RemoteStatus`], only `cst_remote_configured 0`.
#[derive(Debug)]
struct RemoteCollector(Option<Arc<dyn RemoteStatus>>);

impl Collector for RemoteCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let m = self
            .0
            .as_ref()
            .map(|r| r.remote_metrics())
            .unwrap_or_default();
        let g = ConstGauge::new(i64::from(m.configured));
        g.encode(encoder.encode_descriptor(
            "cst_remote_configured",
            "1 when a shared remote is configured",
            None,
            g.metric_type(),
        )?)?;
        if !m.configured {
            return Ok(());
        }
        {
            let mut family = encoder.encode_descriptor(
                "cst_remote_disabled",
                "1, with the reason, when the configured remote is not used",
                None,
                MetricType::Gauge,
            )?;
            if let Some(reason) = m.disabled {
                ConstGauge::new(1i64).encode(family.encode_family(&[("reason", reason)])?)?;
            }
        }
        let counters: [(&str, &str, u64); 10] = [
            (
                "cst_remote_requests",
                "Requests made to the remote's store",
                m.requests,
            ),
            (
                "cst_remote_bytes_in",
                "Bytes received from the remote",
                m.bytes_in,
            ),
            (
                "cst_remote_bytes_out",
                "Bytes sent to the remote",
                m.bytes_out,
            ),
            ("cst_remote_pulls", "Pulls from the remote", m.pulls),
            (
                "cst_remote_pull_failures",
                "Pulls that failed (a miss: the files were parsed)",
                m.pull_failures,
            ),
            (
                "cst_remote_bundles_fetched",
                "Bundles fetched, checked and kept in the local store",
                m.bundles_fetched,
            ),
            (
                "cst_remote_bundles_present",
                "Bundles the remote lists that the local store held already",
                m.bundles_present,
            ),
            (
                "cst_remote_packs_fetched",
                "Packs some of whose bundles were kept",
                m.packs_fetched,
            ),
            (
                "cst_remote_packs_refused",
                "Packs refused (damaged, or after a tree that differed from a fresh parse)",
                m.packs_refused,
            ),
            (
                "cst_remote_breaker_trips",
                "Times the remote's breaker opened",
                m.breaker_trips,
            ),
        ];
        for (name, help, v) in counters {
            let c = ConstCounter::new(v);
            c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)?;
        }
        for (name, help, label, values) in [
            (
                "cst_remote_rejected_objects",
                "Objects the remote client refused, by reason",
                "reason",
                m.rejected_objects
                    .iter()
                    .map(|(k, v)| (*k, *v))
                    .collect::<Vec<_>>(),
            ),
            (
                "cst_remote_rejected_bundles",
                "Bundles refused by the checks against this build, by reason",
                "reason",
                m.rejected_bundles
                    .iter()
                    .map(|(k, v)| (k.as_str(), *v))
                    .collect(),
            ),
            (
                "cst_remote_errors",
                "Remote errors, by kind (each a miss)",
                "kind",
                m.errors.iter().map(|(k, v)| (*k, *v)).collect(),
            ),
        ] {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (value, n) in values {
                ConstCounter::new(n).encode(family.encode_family(&[(label, value)])?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "cst_remote_breaker_state",
            "1 on the remote breaker's current state",
            None,
            MetricType::Gauge,
        )?;
        for state in BREAKER_STATES {
            ConstGauge::new(i64::from(state == m.breaker))
                .encode(family.encode_family(&[("state", state)])?)?;
        }
        Ok(())
    }
}

/// The classic Prometheus text format (0.0.4) from OpenMetrics text, for
/// scrapers that do not ask for OpenMetrics: counter descriptors take the
/// `_total` name of their samples, `# UNIT` and `# EOF` lines go.
pub(crate) fn to_classic(openmetrics: &str) -> String {
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
