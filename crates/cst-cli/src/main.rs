//! The `cst` command. Built on the `cst` facade only.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` that hands a write error back (`?`) instead of panicking: a
/// closed stdout (`cst … | head`) then ends the command quietly.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod navigate;
mod serve;
use cst::{Cache, Config, grammars};
use serde_json::json;

/// cst — compact, lossless tree-sitter trees for a whole workspace.
#[derive(Parser)]
#[command(
    version,
    about,
    after_help = "Exit codes: 0 ok; 1 a check failed (verify found a mismatch, a file's language is unknown); \
                  2 usage error; 3 I/O error; 4 corrupt or locked store."
)]
struct Cli {
    /// Cache directory (default: a per-workspace folder under $XDG_CACHE_HOME/cst or ~/.cache/cst).
    #[arg(long, global = true)]
    cache_dir: Option<PathBuf>,
    /// Configuration file (default: cst.toml in the workspace, if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Print error details.
    #[arg(long, short, global = true)]
    verbose: bool,
    /// Commands that write the cache (index, gc, serve, and tags, outline,
    /// chunks and query, which keep what they compute): wait for another
    /// writer to finish instead of failing. `show`, `stats` and `verify`
    /// only read, beside any writer.
    #[arg(long, global = true)]
    wait: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Index a workspace: parse every file of a known language, keep the trees.
    Index {
        /// Workspace directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Read and hash every file (by default a file whose status is the
        /// one noted when it was last read is not read again).
        #[arg(long)]
        verify_content: bool,
    },
    /// Print the stored tree of a file (indexing it first if needed).
    Show {
        /// The file.
        file: PathBuf,
        /// tree-sitter's S-expression (the default).
        #[arg(long, group = "format")]
        sexp: bool,
        /// The tree as JSON (named and anonymous nodes, ranges, fields).
        #[arg(long, group = "format")]
        json: bool,
        /// The file's outline (as `cst outline`).
        #[arg(long, group = "format")]
        outline: bool,
    },
    /// Definitions and references (tree-sitter-tags semantics) from the
    /// stored trees of files or directories.
    Tags {
        /// Files or directories (default: the current directory).
        paths: Vec<PathBuf>,
        /// One JSON object per line.
        #[arg(long, group = "format")]
        json: bool,
        /// Write a ctags-format `tags` file an editor can load (definitions;
        /// with --references, references too).
        #[arg(long, group = "format")]
        ctags: bool,
        /// Where --ctags writes (`-` for stdout; default `tags`).
        #[arg(long, short, requires = "ctags")]
        output: Option<PathBuf>,
        /// Definitions only (text and JSON; --ctags has them by default).
        #[arg(long)]
        definitions: bool,
        /// With --ctags: references too.
        #[arg(long, requires = "ctags")]
        references: bool,
        /// Index the paths again first (default: answer from the index,
        /// indexing only paths it does not know).
        #[arg(long)]
        index: bool,
    },
    /// A file's definitions, nested (from its tags and the tree).
    Outline {
        /// The file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// AST-aware chunks for retrieval: exact slices that tile each file,
    /// cut at node boundaries, with symbol paths and stable ids.
    Chunks {
        /// Files or directories (default: the current directory).
        paths: Vec<PathBuf>,
        /// Budget per chunk.
        #[arg(long, default_value_t = 1500)]
        max: usize,
        /// What the budget counts: nws (non-whitespace characters), bytes or
        /// tokens (cl100k; needs the `tokens` feature).
        #[arg(long, default_value = "nws")]
        unit: String,
        /// Lines of preceding context per chunk (JSON `context_bytes`).
        #[arg(long, default_value_t = 0)]
        overlap_lines: usize,
        /// One JSON object per chunk and line, with its text.
        #[arg(long)]
        json: bool,
        /// Index the paths again first.
        #[arg(long)]
        index: bool,
    },
    /// Run a tree-sitter query over the stored trees of files or
    /// directories; prints `path:line:col: line` per capture, like ripgrep.
    Query {
        /// The query (tree-sitter's query language), with at least one capture.
        pattern: String,
        /// Files or directories (default: the current directory).
        paths: Vec<PathBuf>,
        /// Only files of this language (id, name or alias).
        #[arg(long)]
        lang: Option<String>,
        /// Report only this capture (name without `@`).
        #[arg(long)]
        capture: Option<String>,
        /// One JSON object per capture and line.
        #[arg(long)]
        json: bool,
        /// Index the paths again first.
        #[arg(long)]
        index: bool,
    },
    /// Compare every stored tree with a fresh parse, node by node.
    Verify {
        /// Workspace directory (selects the default cache).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Counters of the cache and its tiers.
    Stats {
        /// Workspace directory (selects the default cache).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the languages of the registry.
    Languages {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Include languages that are known but not compiled into this binary.
        #[arg(long)]
        all: bool,
    },
    /// Serve the workspace over HTTP: trees, nodes, outlines, tags, chunks,
    /// queries and open buffers under /v1 (docs/API.md), /healthz, /readyz
    /// and /metrics; kept current by watching the files.
    Serve {
        /// Workspace directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Address to listen on: ip:port (loopback unless a token is
        /// given) or unix:/path/to/socket.
        #[arg(long, default_value = "127.0.0.1:9464")]
        addr: String,
        /// Watch the files and keep the index current (the default).
        #[arg(long, overrides_with = "no_watch")]
        watch: bool,
        /// Do not watch: the index is as fresh as the last reconcile.
        #[arg(long)]
        no_watch: bool,
        /// A file holding the bearer token requests must carry (required
        /// for an address that is not loopback).
        #[arg(long)]
        token_file: Option<PathBuf>,
    },
    /// Remove stored trees no file refers to and compact the store.
    Gc {
        /// Workspace directory (selects the default cache).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

/// An error with its exit code.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let error = e.into();
        let kind = error
            .downcast_ref::<cst::Error>()
            .map(cst::Error::kind)
            .or_else(|| {
                error
                    .downcast_ref::<cst_workspace::Error>()
                    .map(cst_workspace::Error::kind)
            });
        // The exit codes of `--help`, from the one classification.
        let code = match kind {
            Some(cst::ErrorKind::Unsupported) => 1,
            Some(cst::ErrorKind::InvalidInput) => 2,
            Some(cst::ErrorKind::Busy | cst::ErrorKind::Corrupt) => 4,
            _ => 3,
        };
        Failure { code, error }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = cli.verbose;
    // Logs go to stderr: warnings by default, debug detail with --verbose.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(if verbose {
            tracing_subscriber::filter::LevelFilter::DEBUG
        } else {
            tracing_subscriber::filter::LevelFilter::WARN
        })
        .without_time()
        .init();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        // A closed stdout (`cst tags | head`) ends the command quietly, as
        // ripgrep does.
        Err(f) if is_broken_pipe(&f.error) => ExitCode::SUCCESS,
        Err(f) => {
            if verbose {
                eprintln!("cst: {:?}", f.error);
            } else {
                eprintln!("cst: {}", f.error);
            }
            ExitCode::from(f.code)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn load_config(cli_config: Option<&Path>, workspace: &Path) -> Result<Config, Failure> {
    // An explicit --config must exist; the workspace's cst.toml is optional.
    if let Some(p) = cli_config
        && !p.is_file()
    {
        return Err(Failure {
            code: 2,
            error: anyhow::anyhow!("--config {}: no such file", p.display()),
        });
    }
    let default = workspace.join("cst.toml");
    let path = cli_config.map(Path::to_path_buf).unwrap_or(default);
    Ok(Config::load(Some(&path)).map_err(cst::Error::from)?)
}

/// How a command opens the cache.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// To write (waiting for another writer with `--wait`).
    Write,
    /// To write if no other process does, else to read (with a note): what
    /// it computes is then not kept.
    WriteOrRead,
    /// To read, beside any writer.
    Read,
}

/// Ends a command that only read the cache. A read-only cache has nothing
/// to write back, and freeing the maps of a large store (every path, every
/// record) took a fifth of `cst show` on the Linux kernel's; the process
/// exits next, which frees them at once.
fn done_reading(cache: Cache) {
    debug_assert!(cache.is_read_only());
    std::mem::forget(cache);
}

/// Ends a command that wrote the cache: makes everything durable, waits for
/// a background compaction it started (as dropping the cache would), then
/// leaves the memory to the exiting process, as [`done_reading`] does.
fn done_writing(cache: Cache) -> Result<(), Failure> {
    cache.flush()?;
    cache.wait_for_maintenance();
    std::mem::forget(cache);
    Ok(())
}

/// Ends a command that may have written or only read the cache.
pub(crate) fn finish(cache: Cache) -> Result<(), Failure> {
    if cache.is_read_only() {
        done_reading(cache);
        Ok(())
    } else {
        done_writing(cache)
    }
}

fn open(cli: &Cli, workspace: &Path) -> Result<Cache, Failure> {
    open_as(cli, workspace, Access::Write)
}

pub(crate) fn open_as(cli: &Cli, workspace: &Path, access: Access) -> Result<Cache, Failure> {
    let config = load_config(cli.config.as_deref(), workspace)?;
    let dir = cli
        .cache_dir
        .clone()
        .unwrap_or_else(|| cst::default_cache_dir(workspace));
    let cache = match access {
        Access::Read => Cache::open_read_only(&dir, config)?,
        Access::Write | Access::WriteOrRead if cli.wait => Cache::open_waiting(&dir, config)?,
        Access::Write => Cache::open(&dir, config)?,
        Access::WriteOrRead => match Cache::open(&dir, config.clone()) {
            Err(cst::Error::Store(cst::tiers::FrozenError::Locked(_))) => {
                eprintln!(
                    "cst: another process writes the cache; reading it as it is (results are not kept; --wait to queue)"
                );
                Cache::open_read_only(&dir, config)?
            }
            other => other?,
        },
    };
    Ok(cache)
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match &cli.command {
        Command::Languages { json, all } => {
            languages(*json, *all)?;
            Ok(0)
        }
        Command::Index {
            dir,
            json,
            verify_content,
        } => index(&cli, dir, *json, *verify_content),
        Command::Show {
            file,
            json,
            outline,
            ..
        } => {
            if *outline {
                navigate::outline(&cli, file, false)
            } else {
                show(&cli, file, *json)
            }
        }
        Command::Tags {
            paths,
            json,
            ctags,
            output,
            definitions,
            references,
            index,
        } => {
            let format = if *ctags {
                navigate::TagsFormat::Ctags
            } else if *json {
                navigate::TagsFormat::Json
            } else {
                navigate::TagsFormat::Text
            };
            let definitions_only = if *ctags { !*references } else { *definitions };
            navigate::tags(
                &cli,
                paths,
                format,
                output.as_deref(),
                definitions_only,
                *index,
            )
        }
        Command::Outline { file, json } => navigate::outline(&cli, file, *json),
        Command::Chunks {
            paths,
            max,
            unit,
            overlap_lines,
            json,
            index,
        } => {
            let unit = unit.parse().map_err(|e: String| Failure {
                code: 2,
                error: anyhow::anyhow!(e),
            })?;
            let options = cst::tags::ChunkOptions {
                max: *max,
                unit,
                overlap_lines: *overlap_lines,
            };
            navigate::chunks(&cli, paths, &options, *json, *index)
        }
        Command::Query {
            pattern,
            paths,
            lang,
            capture,
            json,
            index,
        } => navigate::query(
            &cli,
            pattern,
            paths,
            lang.as_deref(),
            capture.as_deref(),
            *json,
            *index,
        ),
        Command::Verify { dir } => {
            let cache = open_as(&cli, dir, Access::Read)?;
            let opened = cache.open_report();
            for line in opened.lines() {
                outln!("{line}");
            }
            let r = cache.verify_all()?;
            for (path, m) in &r.mismatches {
                outln!("MISMATCH {}: {m}", path.display());
            }
            for path in &r.missing {
                outln!("MISSING {}", path.display());
            }
            // Records that failed their checksum when read (a damaged tree
            // is parsed again, but it was lost).
            let damaged = cache.stats().tiers[3].checksum_failures;
            if damaged > 0 {
                outln!("store: {damaged} records failed their checksum when read");
            }
            outln!(
                "{} files, {} nodes, {} mismatches, {} missing",
                r.files,
                r.nodes,
                r.mismatches.len(),
                r.missing.len()
            );
            let lost = opened.lost_data() || damaged > 0;
            if lost {
                outln!("the store lost data: re-index to restore it (`cst index`)");
            }
            done_reading(cache);
            Ok(if r.mismatches.is_empty() && !lost {
                0
            } else {
                1
            })
        }
        Command::Stats { dir, json } => {
            let cache = open_as(&cli, dir, Access::Read)?;
            let s = cache.stats();
            let u = cache.disk_usage();
            let per_line = |b: u64| (u.per_line(b) * 100.0).round() / 100.0;
            let tiers = cst::TIER_NAMES;
            if *json {
                let t: serde_json::Map<String, serde_json::Value> = tiers
                    .iter()
                    .zip(&s.tiers)
                    .map(|(n, t)| {
                        (n.to_string(), json!({"entries": t.entries, "bytes": t.bytes, "hits": t.hits, "misses": t.misses, "promotions": t.promotions, "demotions": t.demotions, "evictions": t.evictions, "checksum_failures": t.checksum_failures}))
                    })
                    .collect();
                let o = cache.open_report();
                let opened = json!({
                    "lost_data": o.lost_data(), "path_map": format!("{:?}", o.path_map),
                    "paths_dropped": o.paths_dropped, "corrupt_records": o.store.corrupt_records,
                    "index_entries_dropped": o.store.index_entries_dropped,
                    "torn_tail_bytes": o.store.torn_tail_bytes, "index_rebuilt": o.store.index_rebuilt,
                });
                let dictionaries: Vec<_> = u
                    .dictionary_list
                    .iter()
                    .map(|d| json!({"language": d.language, "kind": d.kind, "id": d.id, "bytes": d.bytes}))
                    .collect();
                let disk = json!({
                    "files": u.files_bytes, "dead": u.dead, "trees": u.trees, "sources": u.sources,
                    "tags": u.tags, "dictionaries": u.dictionaries, "other": u.other,
                    "unreferenced": u.unreferenced, "lines": u.lines,
                    "trees_per_line": per_line(u.trees), "sources_per_line": per_line(u.sources),
                    "files_per_line": per_line(u.files_bytes), "dictionary_list": dictionaries,
                    "languages": u.languages.iter().map(|(l, x)| (l.to_string(), json!({"files": x.files, "lines": x.lines, "trees": x.trees, "sources": x.sources}))).collect::<serde_json::Map<_, _>>(),
                });
                let v = json!({"paths": s.paths, "disk_bytes": s.disk_bytes, "disk": disk, "hits": s.hits, "misses": s.misses,
                    "promotions": s.promotions, "demotions": s.demotions, "evictions": s.evictions, "parses": s.parses,
                    "tags_computed": s.tags_computed, "tags_reused": s.tags_reused, "open": opened, "tiers": t});
                outln!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
            } else {
                for line in cache.open_report().lines() {
                    outln!("{line}");
                }
                outln!(
                    "paths {}  disk {} B  hits {}  misses {}  promotions {}  demotions {}  evictions {}",
                    s.paths,
                    s.disk_bytes,
                    s.hits,
                    s.misses,
                    s.promotions,
                    s.demotions,
                    s.evictions
                );
                for (n, t) in tiers.iter().zip(&s.tiers) {
                    outln!(
                        "{n:<7} entries {:>8}  bytes {:>12}  checksum failures {}",
                        t.entries,
                        t.bytes,
                        t.checksum_failures
                    );
                }
                outln!(
                    "disk    {} lines: trees {} B ({} B/line), sources {} B ({} B/line), tags {} B, dictionaries {} B, unreferenced {} B, dead {} B; {} B/line in all",
                    u.lines,
                    u.trees,
                    per_line(u.trees),
                    u.sources,
                    per_line(u.sources),
                    u.tags,
                    u.dictionaries,
                    u.unreferenced,
                    u.dead,
                    per_line(u.files_bytes)
                );
                for (l, x) in &u.languages {
                    let pl = |b: u64| {
                        if x.lines == 0 {
                            0.0
                        } else {
                            b as f64 / x.lines as f64
                        }
                    };
                    outln!(
                        "  {l:<12} {:>7} files {:>10} lines  trees {:>6.2} B/line  sources {:>6.2} B/line",
                        x.files,
                        x.lines,
                        pl(x.trees),
                        pl(x.sources)
                    );
                }
                for d in &u.dictionary_list {
                    outln!(
                        "dictionary {} {}: {:#010x}, {} B",
                        d.language,
                        d.kind,
                        d.id,
                        d.bytes
                    );
                }
            }
            done_reading(cache);
            Ok(0)
        }
        Command::Serve {
            dir,
            addr,
            no_watch,
            token_file,
            ..
        } => serve::serve(
            &cli,
            &serve::ServeArgs {
                dir,
                addr,
                watch: !*no_watch,
                token_file: token_file.as_deref(),
            },
        ),
        Command::Gc { dir } => {
            let cache = open(&cli, dir)?;
            let gc = cache.gc()?;
            let (removed, reclaimed) = (gc.removed, gc.reclaimed_bytes);
            outln!("removed {removed} unreferenced records, reclaimed {reclaimed} bytes");
            Ok(0)
        }
    }
}

fn index(cli: &Cli, dir: &Path, as_json: bool, verify_content: bool) -> Result<u8, Failure> {
    let workspace = dir
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let cache_dir = cli
        .cache_dir
        .clone()
        .unwrap_or_else(|| cst::default_cache_dir(&workspace));
    // A server writes this cache: it reconciles, on our behalf.
    if let Some(server) = serve::running_server(&cache_dir) {
        let v = serve::ask_reconcile(&server)?;
        if as_json {
            outln!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
        } else {
            outln!(
                "{} files in {} ms; {} parsed, {} cached, {} forgotten (reconciled by the server at {}, generation {})",
                v["files"],
                v["millis"],
                v["parsed"],
                v["hits"],
                v["removed"],
                server.addr,
                v["generation"]
            );
        }
        return Ok(0);
    }
    let cache = open(cli, &workspace)?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} files {wide_bar} {eta}")
                .expect("valid template"),
        );
        b
    });
    let options = if verify_content {
        cst::IndexOptions::verify_content()
    } else {
        cst::IndexOptions::default()
    };
    let report = cache.index_with(&workspace, &options, &|p| {
        if let Some(b) = &bar {
            b.set_length(p.total);
            b.set_position(p.done);
        }
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    cache.flush()?;
    let s = cache.stats();
    let secs = report.elapsed.as_secs_f64();
    let lines = report.lines();
    let memory: u64 = s.tiers[..3].iter().map(|t| t.bytes).sum();
    let lines_per_mb = if memory > 0 {
        lines as f64 / (memory as f64 / 1e6)
    } else {
        0.0
    };
    if as_json {
        let langs: serde_json::Map<String, serde_json::Value> = report
            .languages
            .iter()
            .map(|(id, l)| {
                (
                    id.to_string(),
                    json!({"files": l.files, "lines": l.lines, "nodes": l.nodes, "bytes": l.bytes}),
                )
            })
            .collect();
        let skipped: serde_json::Map<String, serde_json::Value> = report
            .skipped
            .iter()
            .map(|(r, n)| (r.as_str().to_string(), json!(n)))
            .collect();
        let v = json!({
            "files": report.files(), "lines": lines, "nodes": report.nodes(),
            "parsed": report.parsed, "hits": report.hits, "unread": report.unread, "removed": report.removed,
            "skipped": skipped, "languages": langs,
            "seconds": (secs * 1000.0).round() / 1000.0,
            "lines_per_second": if secs > 0.0 { (lines as f64 / secs).round() } else { 0.0 },
            "bytes": {"hot": s.tiers[0].bytes, "warm": s.tiers[1].bytes, "cold": s.tiers[2].bytes, "frozen": s.tiers[3].bytes, "disk": s.disk_bytes},
            "lines_per_mb": lines_per_mb.round(),
        });
        outln!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
        done_writing(cache)?;
        return Ok(0);
    }
    outln!(
        "{:<20} {:>8} {:>10} {:>12}",
        "language",
        "files",
        "lines",
        "nodes"
    );
    for (id, l) in &report.languages {
        outln!("{id:<20} {:>8} {:>10} {:>12}", l.files, l.lines, l.nodes);
    }
    outln!(
        "{} files, {} lines, {} nodes in {:.2} s ({:.0} lines/s); {} parsed, {} cached ({} unread: status unchanged)",
        report.files(),
        lines,
        report.nodes(),
        secs,
        lines as f64 / secs.max(1e-9),
        report.parsed,
        report.hits,
        report.unread
    );
    for (reason, n) in &report.skipped {
        outln!("skipped {n} files: {}", reason.as_str());
    }
    if report.removed > 0 {
        outln!(
            "forgot {} paths indexed earlier (deleted, now ignored or skipped)",
            report.removed
        );
    }
    outln!(
        "bytes: hot {} warm {} cold {} frozen {} (disk {}); {:.0} lines per MB of memory",
        s.tiers[0].bytes,
        s.tiers[1].bytes,
        s.tiers[2].bytes,
        s.tiers[3].bytes,
        s.disk_bytes,
        lines_per_mb
    );
    done_writing(cache)?;
    Ok(0)
}

fn show(cli: &Cli, file: &Path, as_json: bool) -> Result<u8, Failure> {
    let file = file
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let workspace = navigate::workspace_of(cli, &file);
    // Read-only: beside a writer; a file not stored yet is parsed in memory.
    let cache = open_as(cli, &workspace, Access::Read)?;
    let source = std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    // Index the file first if it is new or changed.
    let tree = match cache.get(&file) {
        Ok(Some(t)) if t.source() == Some(&source[..]) => t,
        _ => {
            cache.insert(&file, source)?;
            cache
                .get(&file)?
                .ok_or_else(|| anyhow::anyhow!("{}: not cached after indexing", file.display()))?
        }
    };
    let root = tree.root();
    if as_json {
        outln!("{}", serde_json::to_string(&node_json(root)).expect("JSON"));
    } else {
        outln!("{}", root.to_sexp());
    }
    drop(tree);
    done_reading(cache);
    Ok(0)
}

/// A node as JSON, built iteratively (deep trees must not overflow the stack).
fn node_json(root: cst::bytecode::Node<'_>) -> serde_json::Value {
    fn one(n: cst::bytecode::Node<'_>) -> serde_json::Value {
        let (s, e) = (n.start_position(), n.end_position());
        let mut v = json!({
            "kind": n.kind(), "named": n.is_named(),
            "start": [s.row, s.column], "end": [e.row, e.column],
            "bytes": [n.start_byte(), n.end_byte()],
        });
        if let Some(f) = n.field_name() {
            v["field"] = json!(f);
        }
        if n.is_error() {
            v["error"] = json!(true);
        }
        if n.is_missing() {
            v["missing"] = json!(true);
        }
        v
    }
    // Post-order: build children first, then attach.
    let nodes: Vec<cst::bytecode::Node<'_>> = root.preorder().collect();
    let base = root.id();
    let mut built: Vec<Option<serde_json::Value>> = vec![None; nodes.len()];
    for n in nodes.iter().rev() {
        let mut v = one(*n);
        if n.child_count() > 0 {
            let children: Vec<serde_json::Value> = n
                .children()
                .map(|c| {
                    built[c.id() - base]
                        .take()
                        .expect("children are built first")
                })
                .collect();
            v["children"] = serde_json::Value::Array(children);
        }
        built[n.id() - base] = Some(v);
    }
    built[0].take().expect("root")
}

fn languages(as_json: bool, all: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let list: Vec<&grammars::Grammar> = grammars::all()
        .iter()
        .filter(|g| all || g.is_compiled())
        .collect();
    if as_json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|g| {
                json!({
                    "id": g.id(), "name": g.name(), "role": format!("{:?}", g.role()),
                    "crate": g.crate_name(), "version": g.crate_version(), "license": g.license(),
                    "compiled": g.is_compiled(), "extensions": g.extensions(), "file_names": g.file_names(),
                    "interpreters": g.interpreters(), "aliases": g.aliases(),
                })
            })
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&rows).expect("JSON values serialise")
        )?;
        return out.flush();
    }
    writeln!(
        out,
        "{:<18} {:<30} {:<36} extensions",
        "id", "name", "crate"
    )?;
    for g in &list {
        let krate = format!("{}@{}", g.crate_name(), g.crate_version());
        writeln!(
            out,
            "{:<18} {:<30} {:<36} {}",
            g.id(),
            g.name(),
            krate,
            g.extensions().join(" ")
        )?;
    }
    writeln!(out, "{} languages", list.len())?;
    out.flush()
}
