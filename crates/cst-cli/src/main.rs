//! The `cst` command. Built on the `cst` facade only.
//!
//! Today it lists and detects languages; indexing and the cache commands
//! arrive with the facade issue.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cst::grammars;

/// cst — compact, lossless tree-sitter trees for a whole workspace.
///
/// Exit codes: 0 ok, 1 check failed (e.g. a file's language is unknown),
/// 2 usage error, 3 I/O error.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the languages of the registry.
    Languages {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Include languages that are known but not compiled into this binary.
        #[arg(long)]
        all: bool,
    },
    /// Print the language detected for each file.
    Detect {
        /// Files to detect (their first 4 KiB are read for shebangs and rules).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Languages { json, all } => {
            languages(json, all);
            ExitCode::SUCCESS
        }
        Command::Detect { files } => detect(&files),
    }
}

fn languages(json: bool, all: bool) {
    let list: Vec<&grammars::Grammar> = grammars::all()
        .iter()
        .filter(|g| all || g.is_compiled())
        .collect();
    if json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|g| {
                serde_json::json!({
                    "id": g.id(),
                    "name": g.name(),
                    "role": format!("{:?}", g.role()),
                    "crate": g.crate_name(),
                    "version": g.crate_version(),
                    "license": g.license(),
                    "compiled": g.is_compiled(),
                    "extensions": g.extensions(),
                    "file_names": g.file_names(),
                    "interpreters": g.interpreters(),
                    "aliases": g.aliases(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("JSON values serialise")
        );
        return;
    }
    println!("{:<18} {:<30} {:<36} extensions", "id", "name", "crate");
    for g in &list {
        let krate = format!("{}@{}", g.crate_name(), g.crate_version());
        println!(
            "{:<18} {:<30} {:<36} {}",
            g.id(),
            g.name(),
            krate,
            g.extensions().join(" ")
        );
    }
    println!("{} languages", list.len());
}

fn detect(files: &[PathBuf]) -> ExitCode {
    use std::io::Read;
    let mut code = ExitCode::SUCCESS;
    for path in files {
        let mut head = Vec::with_capacity(4096);
        match std::fs::File::open(path).and_then(|f| f.take(4096).read_to_end(&mut head)) {
            Ok(_) => {}
            Err(e) => {
                eprintln!("cst: {}: {e}", path.display());
                return ExitCode::from(3);
            }
        }
        match grammars::detect(path, &head) {
            Some(g) => println!("{}\t{}", path.display(), g.id()),
            None => {
                println!("{}\tunknown", path.display());
                code = ExitCode::from(1);
            }
        }
    }
    code
}
