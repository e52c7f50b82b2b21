//! The `cst` command: flags ([`flags`]), one module per command ([`cmd`]),
//! and here the dispatch and the exit codes. Built on the `cst` facade and
//! the workspace layer (`cst-workspace`) only: a command formats what they
//! answer and decides its exit code, nothing more.

use std::process::ExitCode;

use clap::Parser;

#[macro_use]
mod output;
mod cmd;
mod flags;
mod session;

use flags::{Cli, Command};

/// An error with its exit code.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    /// A usage error (exit code 2).
    fn usage<M: std::fmt::Display>(message: M) -> Failure {
        Failure {
            code: 2,
            error: anyhow::anyhow!("{message}"),
        }
    }
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
        // A grammar the loader refuses is a failed check; a path without
        // grammar sources or an unknown id, a usage error.
        if let Some(e) = error.downcast_ref::<cst::loader::Error>() {
            use cst::loader::Error as L;
            let code = match e {
                L::NoSources(_) | L::NotApproved(_) | L::Taken(_) => 2,
                L::Io { .. } | L::Approvals { .. } => 3,
                _ => 1,
            };
            return Failure { code, error };
        }
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
    match run(&cli) {
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

/// Runs the command; returns its exit code.
fn run(cli: &Cli) -> Result<u8, Failure> {
    if let Command::Grammar(flags::GrammarCommand::Probe(args)) = &cli.command {
        // The child of a probe loads one library and nothing else.
        return Ok(cst::loader::probe::child_main(&args.args).clamp(0, 255) as u8);
    }
    if !cli.no_dynamic_grammars {
        cmd::grammar::load_approved(cli);
    }
    match &cli.command {
        Command::Grammar(command) => cmd::grammar::run(cli, command),
        Command::Index(args) => cmd::index::run(cli, args),
        Command::Show(args) => cmd::show::run(cli, args),
        Command::Tags(args) => cmd::tags::run(cli, args),
        Command::Outline(args) => cmd::outline::run(cli, &args.file, args.json),
        Command::Chunks(args) => cmd::chunks::run(cli, args),
        Command::Query(args) => cmd::query::run(cli, args),
        Command::Verify(args) => cmd::verify::run(cli, args),
        Command::Stats(args) => cmd::stats::run(cli, args),
        Command::Languages(args) => cmd::languages::run(args),
        Command::Serve(args) => cmd::serve::run(cli, args),
        Command::Gc(args) => cmd::gc::run(cli, args),
        Command::Map(args) => cmd::map::run(cli, args),
        Command::Push(args) => cmd::remote::push(cli, args),
        Command::Pull(args) => cmd::remote::pull(cli, args),
        Command::Remote(flags::RemoteCommand::Keygen(args)) => cmd::remote::keygen(args),
        Command::Remote(flags::RemoteCommand::Gc(args)) => cmd::remote::gc(cli, args),
        Command::Mcp(args) => cmd::mcp::run(cli, args),
        Command::Lsp(args) => cmd::lsp::run(cli, args),
    }
}
