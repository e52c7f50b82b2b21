//! `cargo xtask` — project automation (see `cargo xtask --help`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod fuzz;
mod languages_table;
mod notices;
mod policy_sim;
mod smoke;
#[cfg(test)]
mod tidy;
mod verify_corpus;

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
    /// detected by the registry); exit non-zero on any mismatch.
    VerifyCorpus {
        /// Directories to walk.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
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
    /// Regenerate the supported-languages table in README.md (or --check it).
    LanguagesTable {
        /// Exit non-zero if README.md is out of date instead of writing it.
        #[arg(long)]
        check: bool,
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
            max_bytes,
            sexp,
            threads,
        } => verify_corpus::run(&dirs, max_bytes, sexp, threads),
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
