//! `cargo xtask policy-sim`: deterministic replay of cache traces through the
//! policies of `cst-policy`, printing hit ratios per policy and capacity.
//!
//! Traces: the ARC format (`start_block block_count ignored request_id`, each
//! block one access), a plain one-key-per-line format (zstd-compressed or
//! not), or a built-in synthetic stream (see [`HELP`]). Every entry has
//! weight 1, the convention of the published results.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cst_policy::sim::{ReplayStats, Zipf, replay};
use cst_policy::{Arc, Lru, S3Fifo, S3FifoConfig, belady_hits};

/// Extra help for `--trace`, `--policy` and `--format` (shown by `--help`).
pub(crate) const HELP: &str = "\
TRACES (--trace, repeatable or comma-free list):
  PATH                     a trace file, zstd-compressed (detected by magic) or plain text
  zipf:ALPHA:KEYS:LEN[:SEED]
                           LEN accesses drawn from Zipf(ALPHA) over KEYS keys (seed 1)
  scan:KEYS:LEN            a loop over KEYS distinct keys, LEN accesses in all
  zipfscan:ALPHA:KEYS:LEN:SCAN[:SEED]
                           the Zipf stream with one scan of SCAN never-seen keys at its midpoint
FORMATS (--format, for files):
  auto   (default) `arc` if the first line has four numeric fields, else `plain`
  arc    `start_block block_count ignored request_id`; each block is one access
  plain  one key per line (a u64, or any other text, hashed to 64 bits)
POLICIES (--policy, comma-separated; default: all of s3fifo,lru,arc,opt):
  s3fifo  the default policy with its default parameters
  s3fifo:SMALL:GHOST:MAXFREQ:THRESHOLD
          S3-FIFO with explicit parameters (e.g. s3fifo:0.1:0.9:3:1), for tuning
  lru     exact LRU
  arc     ARC (Megiddo & Modha)
  opt     Belady's MIN, the offline optimum (unit weights; every miss admitted)
  opt-bypass
          MIN that may refuse to admit a miss (the optimum with admission control)
CAPACITY is in entries (every access has weight 1); capacities run in parallel threads.";

#[derive(Clone, Debug)]
enum PolicySpec {
    S3Fifo(Option<S3FifoConfig>),
    Lru,
    Arc,
    Opt,
    OptBypass,
}

impl PolicySpec {
    fn parse(s: &str) -> Result<Self> {
        let mut parts = s.split(':');
        Ok(match parts.next().unwrap_or_default() {
            "s3fifo" => {
                let rest: Vec<&str> = parts.collect();
                if rest.is_empty() {
                    PolicySpec::S3Fifo(None)
                } else {
                    if rest.len() != 4 {
                        bail!("expected s3fifo:SMALL:GHOST:MAXFREQ:THRESHOLD, got {s}");
                    }
                    PolicySpec::S3Fifo(Some(S3FifoConfig {
                        small_ratio: rest[0].parse()?,
                        ghost_ratio: rest[1].parse()?,
                        max_freq: rest[2].parse()?,
                        promote_threshold: rest[3].parse()?,
                    }))
                }
            }
            "lru" => PolicySpec::Lru,
            "arc" => PolicySpec::Arc,
            "opt" => PolicySpec::Opt,
            "opt-bypass" => PolicySpec::OptBypass,
            other => bail!("unknown policy {other:?} (s3fifo, lru, arc, opt, opt-bypass)"),
        })
    }

    fn run(&self, trace: &[u64], capacity: u64) -> ReplayStats {
        let it = trace.iter().copied();
        match self {
            PolicySpec::S3Fifo(None) => replay(&mut S3Fifo::new(capacity), it),
            PolicySpec::S3Fifo(Some(cfg)) => replay(&mut S3Fifo::with_config(capacity, *cfg), it),
            PolicySpec::Lru => replay(&mut Lru::new(capacity), it),
            PolicySpec::Arc => replay(&mut Arc::new(capacity), it),
            PolicySpec::OptBypass => ReplayStats {
                accesses: trace.len() as u64,
                hits: cst_policy::belady_hits_bypass(trace, capacity as usize),
            },
            PolicySpec::Opt => ReplayStats {
                accesses: trace.len() as u64,
                hits: belady_hits(trace, capacity as usize),
            },
        }
    }
}

/// Load or generate the access stream named by `spec`.
fn load(spec: &str, format: &str) -> Result<Vec<u64>> {
    let num = |s: &str, what: &str| -> Result<u64> {
        s.replace('_', "")
            .parse()
            .with_context(|| format!("{what} in {spec:?}"))
    };
    let fields: Vec<&str> = spec.split(':').collect();
    match fields[0] {
        "zipf" | "zipfscan" if fields.len() >= 4 && !Path::new(spec).exists() => {
            let alpha: f64 = fields[1].parse().context("ALPHA")?;
            let keys = num(fields[2], "KEYS")?;
            let len = num(fields[3], "LEN")? as usize;
            let (scan, seed_at) = if fields[0] == "zipfscan" {
                (num(fields.get(4).context("SCAN")?, "SCAN")?, 5)
            } else {
                (0, 4)
            };
            let seed = fields.get(seed_at).map(|s| num(s, "SEED")).transpose()?;
            let mut out: Vec<u64> = Zipf::new(alpha, keys, seed.unwrap_or(1))
                .take(len)
                .collect();
            if scan > 0 {
                let mid = out.len() / 2;
                out.splice(mid..mid, keys..keys + scan);
            }
            Ok(out)
        }
        "scan" if fields.len() == 3 && !Path::new(spec).exists() => {
            let keys = num(fields[1], "KEYS")?.max(1);
            let len = num(fields[2], "LEN")?;
            Ok((0..len).map(|i| i % keys).collect())
        }
        _ => load_file(Path::new(spec), format),
    }
}

fn load_file(path: &Path, format: &str) -> Result<Vec<u64>> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic)?;
    drop(file);
    let file = std::fs::File::open(path)?;
    let reader: Box<dyn BufRead> = if n == 4 && magic == [0x28, 0xB5, 0x2F, 0xFD] {
        Box::new(BufReader::with_capacity(
            1 << 20,
            zstd::Decoder::new(file).context("zstd")?,
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, file))
    };
    let mut out = Vec::new();
    let mut arc: Option<bool> = match format {
        "arc" => Some(true),
        "plain" => Some(false),
        "auto" => None,
        other => bail!("unknown --format {other:?} (auto, arc, plain)"),
    };
    for (lineno, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let is_arc = *arc.get_or_insert_with(|| {
            let f: Vec<&str> = line.split_whitespace().collect();
            f.len() == 4 && f.iter().all(|x| x.parse::<i64>().is_ok())
        });
        if is_arc {
            let mut f = line.split_whitespace();
            let bad = || {
                format!(
                    "{}:{}: not `start count ignored id`",
                    path.display(),
                    lineno + 1
                )
            };
            let start: u64 = f.next().and_then(|s| s.parse().ok()).with_context(bad)?;
            let count: u64 = f.next().and_then(|s| s.parse().ok()).with_context(bad)?;
            out.extend(start..start + count);
        } else {
            out.push(
                line.parse::<u64>()
                    .unwrap_or_else(|_| fnv1a(line.as_bytes())),
            );
        }
    }
    Ok(out)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

struct Row {
    trace: String,
    policy: String,
    capacity: u64,
    stats: ReplayStats,
    seconds: f64,
}

/// Run the simulator; prints a table (or JSON) and returns success.
pub(crate) fn run(
    traces: &[String],
    capacities: &[u64],
    policies: &[String],
    format: &str,
    json: bool,
    threads: Option<usize>,
) -> Result<bool> {
    let names: Vec<String> = if policies.is_empty() {
        ["s3fifo", "lru", "arc", "opt"].map(String::from).to_vec()
    } else {
        policies.to_vec()
    };
    let specs: Vec<PolicySpec> = names
        .iter()
        .map(|n| PolicySpec::parse(n))
        .collect::<Result<_>>()?;
    if capacities.is_empty() {
        bail!("--capacity needs at least one value");
    }
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let mut rows: Vec<Row> = Vec::new();
    for spec in traces {
        let t0 = Instant::now();
        let trace = load(spec, format)?;
        let unique = {
            let mut s: rustc_hash::FxHashSet<u64> = Default::default();
            s.extend(trace.iter().copied());
            s.len()
        };
        if !json {
            println!(
                "{spec}: {} accesses, {unique} unique keys (loaded in {:.1} s)",
                trace.len(),
                t0.elapsed().as_secs_f64()
            );
        }
        // Longest jobs first: OPT and large capacities.
        let mut jobs: Vec<(usize, u64)> = (0..specs.len())
            .flat_map(|p| capacities.iter().map(move |&c| (p, c)))
            .collect();
        jobs.sort_by_key(|&(p, c)| {
            std::cmp::Reverse((
                matches!(specs[p], PolicySpec::Opt | PolicySpec::OptBypass),
                c,
            ))
        });
        let next = AtomicUsize::new(0);
        let done: Mutex<Vec<Row>> = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..threads.min(jobs.len()) {
                s.spawn(|| {
                    loop {
                        let j = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(p, c)) = jobs.get(j) else { break };
                        let t = Instant::now();
                        let stats = specs[p].run(&trace, c);
                        let row = Row {
                            trace: spec.clone(),
                            policy: names[p].clone(),
                            capacity: c,
                            stats,
                            seconds: t.elapsed().as_secs_f64(),
                        };
                        done.lock().expect("no panics while held").push(row);
                    }
                });
            }
        });
        let mut done = done.into_inner().expect("no panics while held");
        done.sort_by_key(|r| {
            (
                r.capacity,
                names.iter().position(|n| *n == r.policy).unwrap_or(0),
            )
        });
        if !json {
            print_table(&names, capacities, &done);
        }
        rows.extend(done);
    }
    if json {
        let out: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "trace": r.trace,
                    "policy": r.policy,
                    "capacity": r.capacity,
                    "accesses": r.stats.accesses,
                    "hits": r.stats.hits,
                    "hit_ratio": (r.stats.hit_ratio() * 100.0).round() / 100.0,
                    "seconds": (r.seconds * 1000.0).round() / 1000.0,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(true)
}

fn print_table(names: &[String], capacities: &[u64], rows: &[Row]) {
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0).max(7);
    print!("{:>10}", "capacity");
    for n in names {
        print!("  {n:>width$}");
    }
    println!();
    for &c in capacities {
        print!("{c:>10}");
        for n in names {
            let r = rows
                .iter()
                .find(|r| r.capacity == c && r.policy == *n)
                .expect("every job ran");
            print!("  {:>width$}", format!("{:.2}", r.stats.hit_ratio()));
        }
        println!();
    }
    let total: f64 = rows.iter().map(|r| r.seconds).sum();
    let slowest = rows
        .iter()
        .max_by(|a, b| a.seconds.total_cmp(&b.seconds))
        .map_or(0.0, |r| r.seconds);
    println!("(hit ratio %, {total:.1} s of replay in all, slowest job {slowest:.1} s)\n");
}
