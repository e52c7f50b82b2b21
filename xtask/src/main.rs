//! `cargo xtask` — project automation (see `cargo xtask --help`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod bench_ab;
mod bench_remote;
mod catalogue;
mod compare;
mod corpus;
mod fuzz;
mod grammar_gen;
mod grammar_sources;
mod grammars_breadth;
mod languages_table;
mod notices;
mod policy_sim;
mod s3;
mod scale;
mod smoke;
#[cfg(test)]
mod tidy;
mod verify_corpus;
mod verify_queries;
mod verify_tags;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "cst project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse every sample of every compiled language; fail on a missing sample
    /// or any ERROR/MISSING node.
    Smoke {
        /// Only these languages (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        lang: Vec<String>,
        /// Samples directory (default: corpora/samples).
        #[arg(long)]
        samples: Option<PathBuf>,
    },
    /// Encode → decode → verify every file of a directory tree (languages
    /// detected by the registry) or of a corpus tier (languages from
    /// corpora/manifest.toml), and pack → unpack each tree (the disk form);
    /// exit non-zero on any mismatch.
    VerifyCorpus {
        /// Directories to walk.
        #[arg(required_unless_present = "tier")]
        dirs: Vec<PathBuf>,
        /// A corpus tier of corpora/manifest.toml (`ci` or `full`; fetch it first).
        #[arg(long)]
        tier: Option<String>,
        /// Only this language of the tier.
        #[arg(long, requires = "tier")]
        lang: Option<String>,
        /// Skip files larger than this many bytes.
        #[arg(long, default_value_t = 4 << 20)]
        max_bytes: u64,
        /// Also compare `to_sexp()` of the decoded and the live tree.
        #[arg(long)]
        sexp: bool,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Run queries with tree-sitter and with cst-query on every file (live
    /// tree vs decoded view, matches and captures mode, whole tree and random
    /// ranges); exit 1 on any difference. Default queries: all the grammar
    /// crates ship.
    VerifyQueries {
        /// Files or directories (languages detected by the registry).
        #[arg(required_unless_present = "tier")]
        paths: Vec<PathBuf>,
        /// A corpus tier of corpora/manifest.toml (`ci` or `full`; fetch it first).
        #[arg(long)]
        tier: Option<String>,
        /// Only this language.
        #[arg(long)]
        lang: Option<String>,
        /// Editor-style query directory: `<language>/<name>.scm` (registry id or alias).
        #[arg(long)]
        query_dir: Option<PathBuf>,
        /// Random byte ranges and point ranges per file and query.
        #[arg(long, default_value_t = 2)]
        ranges: usize,
        /// Skip files larger than this many bytes.
        #[arg(long, default_value_t = 4 << 20)]
        max_bytes: u64,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Compute tags with tree-sitter-tags (parsing each file) and with
    /// cst-tags (from the stored tree) on every file of a language with a
    /// tags query; print languages, files, tags and differences; exit 1 on
    /// any difference.
    VerifyTags {
        /// Files or directories (languages detected by the registry).
        #[arg(required_unless_present = "tier")]
        paths: Vec<PathBuf>,
        /// A corpus tier of corpora/manifest.toml (`ci` or `full`; fetch it first).
        #[arg(long)]
        tier: Option<String>,
        /// Only this language.
        #[arg(long)]
        lang: Option<String>,
        /// Skip files larger than this many bytes.
        #[arg(long, default_value_t = 4 << 20)]
        max_bytes: u64,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// The store at the size of a real tree (release build): cold index,
    /// warm re-index beside `git status`, show, stats, verify (time and peak
    /// RSS), disk bytes per line, open time against store size.
    Scale {
        /// The tree (a git work tree, for the `git status` comparison).
        dir: PathBuf,
        /// Subdirectories of DIR indexed into stores of their own, for open
        /// time against store size (comma-separated).
        #[arg(long, value_delimiter = ',')]
        subsets: Vec<PathBuf>,
        /// File (relative to DIR) that `cst show` prints.
        #[arg(long)]
        show: Option<PathBuf>,
        /// Runs per timed step (the best is kept).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Also index without sources (`store_source = false`).
        #[arg(long)]
        without_sources: bool,
    },
    /// The remote tier on a real tree (release build, s3s-fs on loopback
    /// behind a latency proxy): A indexes cold and pushes per pack size; a
    /// fresh B indexes from the remote per pack size and added latency
    /// (parses, requests, bytes, time against A's); optionally one object
    /// per record instead of packs. Writes target/bench-remote/results.json.
    BenchRemote {
        /// The tree.
        dir: PathBuf,
        /// Pack sizes in MiB (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
        packs: Vec<u64>,
        /// Milliseconds the proxy adds per request (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "0,10,30")]
        latency: Vec<u64>,
        /// Also store and fetch one object per record.
        #[arg(long)]
        per_record: bool,
        /// Work directory (emptied first; default target/bench-remote).
        #[arg(long)]
        work: Option<PathBuf>,
    },
    /// cst beside the tools users would pick instead, same files, same run:
    /// tags vs Universal Ctags and tree-sitter-tags, query vs ast-grep,
    /// chunks vs semantic-text-splitter, repo map vs aider's RepoMap (peers
    /// missing are skipped, loudly).
    Compare {
        /// Corpus tier (fetch it first).
        #[arg(long, default_value = "ci")]
        tier: String,
        /// Languages (comma-separated ids).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "rust,python,go,c,javascript"
        )]
        lang: Vec<String>,
        /// Runs per timed step (the best is kept).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Only these steps (comma-separated): `tier` (index, tags, query,
        /// outline, chunks on the corpus tier), `map` (`cst map` vs
        /// aider's repo map) and `kernel` (one-pattern `cst query` vs
        /// `ast-grep` over `--kernel`). Default: all.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// A Linux source tree for the `kernel` step (e.g. the
        /// `linux-source-6.1` package's, unpacked); without it the step
        /// says it skipped.
        #[arg(long)]
        kernel: Option<std::path::PathBuf>,
    },
    /// Pinned real-code corpora (corpora/manifest.toml).
    Corpus {
        #[command(subcommand)]
        command: CorpusCommand,
    },
    /// An S3 server on loopback for the remote tier (s3s-fs, SigV4
    /// checked): `eval "$(cargo xtask s3 start)"`, then `cargo xtask s3
    /// stop`.
    S3 {
        #[command(subcommand)]
        command: S3Command,
    },
    /// Benchmark cst against raw tree-sitter on a corpus tier, per language,
    /// in one run; write bench-results/<tier>-<time>.json and print a table.
    Bench {
        /// Corpus tier: ci or full.
        #[arg(long, default_value = "ci")]
        tier: String,
        /// Only these languages (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        lang: Vec<String>,
        /// A previous JSON result: flag regressions over 10% and exit non-zero.
        #[arg(long, conflicts_with = "ab")]
        compare: Option<PathBuf>,
        /// Regression threshold for --compare and --ab, in percent.
        #[arg(long, default_value_t = 10.0)]
        threshold: f64,
        /// A/B: build this revision too (a worktree under target/ab/) and
        /// run both builds alternately; exit non-zero on a regression of
        /// this checkout against it (best against best past the threshold,
        /// and worse than every run of the revision).
        #[arg(long, value_name = "REV")]
        ab: Option<String>,
        /// Rounds per build with --ab.
        #[arg(long, default_value_t = 3, requires = "ab")]
        rounds: usize,
    },
    /// Run the cargo-fuzz targets for a while each; report execs and findings.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Only this target.
        #[arg(long)]
        target: Option<String>,
    },
    /// Replay cache traces through the cst-policy policies; print hit ratios
    /// per policy and capacity.
    #[command(after_help = policy_sim::HELP)]
    PolicySim {
        /// Trace file or synthetic stream (repeatable; see below).
        #[arg(long, required = true)]
        trace: Vec<String>,
        /// Capacities in entries (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        capacity: Vec<u64>,
        /// Policies (comma-separated; default: s3fifo,lru,arc,opt).
        #[arg(long, value_delimiter = ',')]
        policy: Vec<String>,
        /// Trace file format: auto, arc or plain.
        #[arg(long, default_value = "auto")]
        format: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Regenerate NOTICES (or check it is current with --check).
    Notices {
        /// Exit non-zero if NOTICES is out of date instead of writing it.
        #[arg(long)]
        check: bool,
    },
    /// Regenerate crates/cst-grammars/data/catalogue.tsv from the pinned
    /// linguist-languages and tree-sitter-language-pack archives in DIR (or
    /// --check it); see xtask/src/catalogue.rs for fetching them.
    Catalogue {
        /// Directory holding the input archives.
        #[arg(long)]
        from: PathBuf,
        /// Exit non-zero if the catalogue is out of date instead of writing it.
        #[arg(long)]
        check: bool,
    },
    /// Fetch the pinned grammar sources of xtask/grammars/manifest.toml,
    /// compile, probe and load each with cst-loader, smoke-test it on its test
    /// corpus, samples and Pygments' example files, and verify every input
    /// through the stored form; exit non-zero on any mismatch or when fewer
    /// than 60 grammars load and verify.
    Grammars {
        /// The manifest (default xtask/grammars/manifest.toml; its inputs.toml beside it).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Work directory for archives and the grammar cache (default target/grammars).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Only these ids or packages (comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Write the report as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Use Pygments' example files (the default).
        #[arg(long, overrides_with = "no_pygments")]
        pygments: bool,
        /// Do not use Pygments' example files.
        #[arg(long)]
        no_pygments: bool,
        /// Do not evaluate a package's grammar.js (node, xtask/grammars/dsl.js)
        /// when it ships no src/grammar.json.
        #[arg(long)]
        no_node: bool,
    },
    /// The grammar probe child of `grammars` (cst-loader's protocol).
    #[command(hide = true)]
    GrammarProbe {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// One grammar's check, the child of `grammars`.
    #[command(hide = true)]
    GrammarCheck {
        #[arg(long)]
        cache: PathBuf,
        #[arg(long)]
        id: String,
        #[arg(long)]
        corpus: Option<PathBuf>,
        #[arg(long)]
        sample: Vec<PathBuf>,
        #[arg(long)]
        pygments: Vec<PathBuf>,
        #[arg(long)]
        grammar_json: Option<PathBuf>,
    },
    /// Regenerate the supported-languages table in README.md (or --check it).
    LanguagesTable {
        /// Exit non-zero if README.md is out of date instead of writing it.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
enum S3Command {
    /// Start the server in the background (a bucket `cst` ready) and print
    /// the `export` lines for the remote tier.
    Start {
        /// The data directory (default target/s3/data).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The port (default: any free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Stop the server `start` started.
    Stop,
    /// Run the server in the foreground (what `start` runs).
    #[command(hide = true)]
    Serve {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[arg(long)]
        addr_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CorpusCommand {
    /// Download, verify (sha256) and unpack a tier's artifacts into
    /// $CST_CORPORA (default target/corpora); idempotent.
    Fetch {
        /// ci (< 20 MB of downloads) or full.
        #[arg(long, default_value = "ci")]
        tier: String,
        /// Only the artifacts of this language's corpus.
        #[arg(long)]
        lang: Option<String>,
    },
    /// Files, lines and bytes per language of a fetched tier.
    List {
        /// ci or full.
        #[arg(long, default_value = "ci")]
        tier: String,
    },
}

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace root")
        .to_path_buf()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Smoke { lang, samples } => smoke::run(
            &samples.unwrap_or_else(|| root().join("corpora/samples")),
            &lang,
        ),
        Command::VerifyCorpus {
            dirs,
            tier,
            lang,
            max_bytes,
            sexp,
            threads,
        } => verify_corpus::jobs(&dirs, tier.as_deref(), lang.as_deref())
            .and_then(|jobs| verify_corpus::run(jobs, max_bytes, sexp, threads)),
        Command::VerifyQueries {
            paths,
            tier,
            lang,
            query_dir,
            ranges,
            max_bytes,
            threads,
        } => verify_queries::jobs(&paths, tier.as_deref(), lang.as_deref()).and_then(|jobs| {
            verify_queries::run(
                jobs,
                &verify_queries::Options {
                    query_dir,
                    ranges,
                    max_bytes,
                    threads,
                    lang,
                },
            )
        }),
        Command::VerifyTags {
            paths,
            tier,
            lang,
            max_bytes,
            threads,
        } => verify_queries::jobs(&paths, tier.as_deref(), lang.as_deref())
            .and_then(|jobs| verify_tags::run(jobs, lang.as_deref(), max_bytes, threads)),
        Command::Compare {
            tier,
            lang,
            runs,
            only,
            kernel,
        } => compare::run(&tier, &lang, runs, &only, kernel.as_deref()).map(|()| true),
        Command::Scale {
            dir,
            subsets,
            show,
            runs,
            without_sources,
        } => scale::run(
            &dir,
            &scale::Options {
                subsets,
                show,
                runs,
                without_sources,
            },
        )
        .map(|()| true),
        Command::BenchRemote {
            dir,
            packs,
            latency,
            per_record,
            work,
        } => bench_remote::run(
            &dir,
            &bench_remote::Options {
                packs,
                latencies: latency,
                per_record,
                work,
            },
        )
        .map(|()| true),
        Command::Corpus { command } => match command {
            CorpusCommand::Fetch { tier, lang } => corpus::fetch(&tier, lang.as_deref()),
            CorpusCommand::List { tier } => corpus::list(&tier),
        },
        Command::S3 { command } => match command {
            S3Command::Start { dir, port } => s3::start(dir.as_deref(), port),
            S3Command::Stop => s3::stop(),
            S3Command::Serve {
                dir,
                port,
                addr_file,
            } => s3::serve(&dir, port, addr_file.as_deref()),
        },
        Command::Bench {
            tier,
            lang,
            threshold,
            ab: Some(rev),
            rounds,
            ..
        } => bench_ab::run(&tier, &lang, &rev, rounds, threshold),
        Command::Bench {
            tier,
            lang,
            compare,
            threshold,
            ab: None,
            ..
        } => bench::run(&tier, &lang, compare.as_deref(), threshold),
        Command::Fuzz { seconds, target } => fuzz::run(seconds, target),
        Command::PolicySim {
            trace,
            capacity,
            policy,
            format,
            json,
            threads,
        } => policy_sim::run(&trace, &capacity, &policy, &format, json, threads),
        Command::Notices { check } => notices::run(check),
        Command::LanguagesTable { check } => languages_table::run(check),
        Command::Grammars {
            manifest,
            dir,
            only,
            json,
            pygments: _,
            no_pygments,
            no_node,
        } => grammars_breadth::run(&grammars_breadth::Options {
            manifest: manifest.unwrap_or_else(|| root().join("xtask/grammars/manifest.toml")),
            dir: dir.unwrap_or_else(|| root().join("target/grammars")),
            only,
            json,
            pygments: !no_pygments,
            node: !no_node,
        }),
        Command::GrammarProbe { args } => std::process::exit(cst_loader::probe::child_main(&args)),
        Command::GrammarCheck {
            cache,
            id,
            corpus,
            sample,
            pygments,
            grammar_json,
        } => {
            return grammars_breadth::check_main(
                &cache,
                &id,
                corpus.as_deref(),
                &sample,
                &pygments,
                grammar_json.as_deref(),
            );
        }
        Command::Catalogue { from, check } => catalogue::run(&from, check),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::from(2)
        }
    }
}
