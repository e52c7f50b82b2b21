//! `cst grammar add | import | list | check | remove`: grammars loaded at
//! run time (crate `cst-loader`, through the facade), and the loading of
//! the approved ones before every command.

use std::io::Write;
use std::path::{Path, PathBuf};

use cst::loader::{AddOptions, Approval, Loader, Options, Preset, ProbeCommand};

use crate::Failure;
use crate::flags::{
    Cli, GrammarAddArgs, GrammarCheckArgs, GrammarCommand, GrammarImportArgs, GrammarListArgs,
};

/// The grammar cache of `--grammar-dir` or the default one.
fn grammar_dir(cli: &Cli) -> Option<PathBuf> {
    cli.grammar_dir.clone().or_else(cst::loader::default_dir)
}

/// The probe is this binary's hidden `cst grammar probe`.
fn probe_command() -> Result<ProbeCommand, Failure> {
    let program = std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("cannot find the cst binary to probe with: {e}"))?;
    Ok(ProbeCommand {
        program,
        args: vec!["grammar".into(), "probe".into()],
    })
}

/// The workspace cst runs in, where no grammar is ever taken from: the
/// nearest ancestor of the current directory with `.git` or `cst.toml`.
fn workspace_root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .find(|d| d.join(".git").exists() || d.join("cst.toml").exists())
        .map(Path::to_path_buf)
}

fn loader(cli: &Cli, allow_cpp: bool) -> Result<Loader, Failure> {
    let dir = grammar_dir(cli).ok_or_else(|| {
        Failure::usage("no grammar directory: set --grammar-dir, CST_GRAMMAR_DIR or HOME")
    })?;
    let mut options = Options::new(dir, probe_command()?);
    options.allow_cpp = allow_cpp;
    options.forbidden.extend(workspace_root());
    Ok(Loader::open(options)?)
}

/// What identifies a version of `approved.toml` (it is replaced by a
/// rename at every change): modification time, length and, on Unix, inode;
/// `None` when there is none.
type Stamp = Option<(Option<std::time::SystemTime>, u64, u64)>;

fn stamp(dir: &Path) -> Stamp {
    let m = std::fs::metadata(dir.join("approved.toml")).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some((m.modified().ok(), m.len(), inode))
}

/// The stamp of `approved.toml` taken before the load that precedes the
/// command: where the long-running commands' reload starts from.
static LOADED_AT_START: std::sync::OnceLock<Stamp> = std::sync::OnceLock::new();

/// Loads the approved grammars before a command; a refusal is a warning.
pub(crate) fn load_approved(cli: &Cli) {
    if let Some(dir) = grammar_dir(cli) {
        // Taken before loading: a change made during the load is seen by
        // the first poll of a long-running command.
        let before = stamp(&dir);
        if load_approved_in(&dir, None).is_some() {
            let _ = LOADED_AT_START.set(before);
        }
    }
}

/// Loads the approvals of the grammar cache `dir`, if it has any, never
/// from inside the workspace of the current directory nor `root`; a
/// refusal is a warning. `None` when nothing could be loaded at all (the
/// probe program is missing or the approvals cannot be read: said on
/// stderr).
fn load_approved_in(dir: &Path, root: Option<&Path>) -> Option<()> {
    if !dir.join("approved.toml").is_file() {
        return Some(());
    }
    let probe = match probe_command() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cst: no grammar loaded at run time: {}", e.error);
            return None;
        }
    };
    // The same rule as for imports: a grammar cache inside the workspace
    // (a repository's own `approved.toml` and library) is never loaded.
    let mut options = Options::new(dir.to_path_buf(), probe);
    options.forbidden.extend(workspace_root());
    options.forbidden.extend(root.map(Path::to_path_buf));
    match Loader::open(options).and_then(|l| l.load_approved()) {
        Ok(report) => {
            for (id, e) in report.refused {
                if matches!(
                    &e,
                    cst::loader::Error::Registry(cst::grammars::Error::AlreadyRegistered(_))
                ) {
                    eprintln!(
                        "cst: grammar `{id}` was approved again; its new build applies when this process restarts"
                    );
                } else {
                    eprintln!("cst: grammar `{id}` not loaded: {e}");
                }
            }
            Some(())
        }
        Err(e) => {
            eprintln!("cst: no grammar loaded at run time: {e}");
            None
        }
    }
}

/// For the long-running commands (`serve`, `lsp`, `mcp`): loads the
/// grammars approved after the command started (`cst grammar add` in
/// another shell) when `approved.toml` changes. The workspace then sees
/// the new grammars in the registry and reconciles its root. A grammar
/// already loaded keeps its first build until the process restarts: loaded
/// code is never unloaded. The workspace's root is never a place grammars
/// are loaded from.
pub(crate) fn reload(cli: &Cli) -> Option<cst_workspace::GrammarReload> {
    if cli.no_dynamic_grammars {
        return None;
    }
    let dir = grammar_dir(cli)?;
    // From the load before the command (if it ran). A load that fails (a
    // damaged `approved.toml`, a missing probe program) says so once and is
    // tried again when the file changes, not every poll.
    let seen: std::sync::Mutex<Option<Stamp>> =
        std::sync::Mutex::new(LOADED_AT_START.get().cloned());
    Some(cst_workspace::GrammarReload::new(move |root: &Path| {
        let now = stamp(&dir);
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.as_ref() == Some(&now) {
            return;
        }
        let before = cst::grammars::loaded().len();
        *seen = Some(now);
        let _ = load_approved_in(&dir, Some(root));
        let added = cst::grammars::loaded().len().saturating_sub(before);
        if added > 0 {
            eprintln!("cst: {added} grammar(s) added at run time; reconciling the workspace");
        }
    }))
}

pub(crate) fn run(cli: &Cli, command: &GrammarCommand) -> Result<u8, Failure> {
    match command {
        GrammarCommand::Add(args) => add(cli, args),
        GrammarCommand::Import(args) => import(cli, args),
        GrammarCommand::List(args) => list(cli, args),
        GrammarCommand::Check(args) => check(cli, args),
        GrammarCommand::Remove(args) => {
            if loader(cli, false)?.remove(&args.id)? {
                println!("removed {}", args.id);
                Ok(0)
            } else {
                Err(Failure::usage(format!(
                    "no grammar `{}` was added",
                    args.id
                )))
            }
        }
        // Handled before any grammar is loaded (see main.rs).
        GrammarCommand::Probe(args) => {
            Ok(cst::loader::probe::child_main(&args.args).clamp(0, 255) as u8)
        }
    }
}

fn add_options(id: &Option<String>, extensions: &[String]) -> AddOptions {
    AddOptions {
        id: id.clone(),
        extensions: (!extensions.is_empty()).then(|| {
            extensions
                .iter()
                .map(|e| e.trim_start_matches('.').to_string())
                .collect()
        }),
    }
}

fn add(cli: &Cli, args: &GrammarAddArgs) -> Result<u8, Failure> {
    let loader = loader(cli, args.allow_cpp)?;
    let approvals = loader.add(&args.path, &add_options(&args.id, &args.extensions))?;
    let mut refused = 0;
    for a in &approvals {
        // Load it here too: a problem shows now, not at the next command.
        match loader.load(a) {
            Ok(_) => {}
            // This process loaded the approval it replaces before the
            // command ran; the next command loads the new one.
            Err(cst::loader::Error::Registry(cst::grammars::Error::AlreadyRegistered(_)))
                if cst::grammars::loaded().iter().any(|g| g.id() == a.id) =>
            {
                eprintln!(
                    "cst: grammar `{}` replaced; the new build is used from the next command on",
                    a.id
                );
            }
            Err(e) => {
                eprintln!("cst: grammar `{}` approved but not loaded: {e}", a.id);
                refused += 1;
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&approvals)?)?;
    } else {
        for a in &approvals {
            writeln!(out, "{}", a.id)?;
        }
    }
    Ok(u8::from(refused > 0))
}

fn import(cli: &Cli, args: &GrammarImportArgs) -> Result<u8, Failure> {
    let loader = loader(cli, false)?;
    let found: Vec<(PathBuf, String)> = match &args.library {
        Some(lib) => {
            let name = match &args.name {
                Some(n) => n.clone(),
                None => Preset::ALL
                    .iter()
                    .find_map(|p| p.language_of(&lib.file_name()?.to_string_lossy()))
                    .ok_or_else(|| {
                        Failure::usage(format!(
                            "{}: cannot tell the language from the file name; pass --name",
                            lib.display()
                        ))
                    })?,
            };
            vec![(lib.clone(), name)]
        }
        None => {
            let presets: Vec<Preset> = if args.presets.is_empty() && args.dirs.is_empty() {
                Preset::ALL.to_vec()
            } else {
                args.presets
                    .iter()
                    .map(|n| {
                        Preset::from_name(n).ok_or_else(|| {
                            Failure::usage(format!(
                                "unknown preset `{n}` (nvim, helix, emacs, tree-sitter)"
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?
            };
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .ok_or_else(|| Failure::usage("HOME is not set"))?;
            let env = |k: &str| std::env::var(k).ok();
            let mut dirs: Vec<(Preset, PathBuf)> = args
                .dirs
                .iter()
                .map(|d| (Preset::Custom, d.clone()))
                .collect();
            for p in presets {
                dirs.extend(p.dirs(&home, &env).into_iter().map(|d| (p, d)));
            }
            cst::loader::presets::discover_in(&dirs)
                .into_iter()
                // A compiled-in grammar needs no import.
                .filter(|f| !cst::grammars::by_id(&f.id).is_some_and(|g| g.is_compiled()))
                .map(|f| (f.path, f.id))
                .collect()
        }
    };
    if found.is_empty() {
        eprintln!("cst: no parser to import");
        return Ok(1);
    }
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    for (path, name) in found {
        if args.dry_run {
            writeln!(out, "{name}\t{}", path.display())?;
            continue;
        }
        match loader.import(&path, &name, &AddOptions::default()) {
            Ok(a) => writeln!(out, "{}", a.id)?,
            Err(e) => {
                eprintln!("cst: {}: {e}", path.display());
                failed += 1;
            }
        }
    }
    Ok(u8::from(failed > 0))
}

fn list(cli: &Cli, args: &GrammarListArgs) -> Result<u8, Failure> {
    let approvals: Vec<Approval> = loader(cli, false)?.approvals()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&approvals)?)?;
        return Ok(0);
    }
    writeln!(
        out,
        "{:<20} {:<4} {:<9} {:<18} origin",
        "id", "abi", "kind", "digest"
    )?;
    for a in &approvals {
        let loaded = cst::grammars::loaded().iter().any(|g| g.id() == a.id);
        writeln!(
            out,
            "{:<20} {:<4} {:<9} {:<18} {}{}",
            a.id,
            a.abi,
            format!("{:?}", a.kind).to_lowercase(),
            a.digest.get(..16).unwrap_or(&a.digest),
            a.origin,
            if loaded { "" } else { "  (not loaded)" }
        )?;
    }
    writeln!(out, "{} grammars", approvals.len())?;
    Ok(0)
}

fn check(cli: &Cli, args: &GrammarCheckArgs) -> Result<u8, Failure> {
    let loader = loader(cli, false)?;
    let ids: Vec<String> = if args.ids.is_empty() {
        loader.approvals()?.into_iter().map(|a| a.id).collect()
    } else {
        args.ids.clone()
    };
    let mut failed = 0;
    for id in ids {
        match loader.check(&id) {
            Ok(a) => println!(
                "{id}: ok (ABI {}, {})",
                a.abi,
                a.digest.get(..16).unwrap_or(&a.digest)
            ),
            Err(e) => {
                eprintln!("cst: {id}: {e}");
                failed += 1;
            }
        }
    }
    Ok(u8::from(failed > 0))
}
