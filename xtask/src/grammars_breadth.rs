//! `cargo xtask grammars`: the grammars of `xtask/grammars/manifest.toml`
//! (beyond the compiled-in set) fetched, compiled, probed and loaded with
//! `cst-loader`, smoke-tested on real inputs and verified through the stored
//! form (issue #24 item 7).
//!
//! Per manifest entry:
//! 1. fetch its archive ([`grammar_sources::fetch_all`], sha256 checked);
//! 2. [`Loader::add`] it (compile into the content-addressed cache under
//!    `<dir>/cache`, probe in a child process — the xtask binary itself,
//!    `grammar-probe` — and approve) under the manifest's id and extensions;
//! 3. in a child process of its own (`grammar-check`, so that a grammar that
//!    crashes on an input costs its own row, not the run): [`Loader::load`]
//!    it, gather its inputs — (a) the examples of its own test corpus
//!    ([`parse_corpus`]), (b) the files under the manifest's `samples`, (c)
//!    Pygments' example files with one of its extensions
//!    (`xtask/grammars/inputs.toml`), and (d) a few synthetic inputs —;
//!    smoke-test the real inputs (a–c; ERROR/MISSING nodes counted with
//!    [`cst_grammars::smoke::check_sample`]; corpus examples that expect
//!    errors are left out of the smoke count) and verify every input (a–d)
//!    as `verify-corpus` does: encode, open, validate, pack/unpack, compare
//!    node by node ([`cst_bytecode::verify`]) and compare `to_sexp()`;
//!    inputs generated from the grammar's `grammar.json`
//!    ([`crate::grammar_gen`]) are smoke-counted apart. A package without
//!    `src/grammar.json` takes the one of its manifest entry's companion
//!    package (`grammar_json`, [`grammar_sources::fetch_companion`]) when it
//!    has one, else, with a `grammar.js`, gets one from
//!    `node xtask/grammars/dsl.js` (unless `--no-node`).
//!
//! Exit status: non-zero when any input mismatches, or (for the whole
//! manifest) when fewer than [`TARGET`] grammars load and verify, or (with
//! `--only`) when a selected grammar does not.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use cst_bytecode::{Symbols, TreeView};
use cst_grammars::Grammar;
use cst_loader::{AddOptions, Loader, Options as LoaderOptions, ProbeCommand};
use serde::{Deserialize, Serialize};

use crate::grammar_sources::{self, Entry};

/// Grammars that must load and verify in a run over the whole manifest.
pub(crate) const TARGET: usize = 60;
/// Inputs larger than this are not used.
const MAX_INPUT_BYTES: u64 = 4 << 20;
/// How long one grammar's check (child process) may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(900);
/// The child's result line on stdout starts with this.
const RESULT_TAG: &str = "GRAMMAR-CHECK ";
/// How long `node dsl.js grammar.js` may take.
const DSL_TIMEOUT: Duration = Duration::from_secs(30);

/// What `cargo xtask grammars` was asked to do.
pub(crate) struct Options {
    /// `xtask/grammars/manifest.toml` or another.
    pub manifest: PathBuf,
    /// Work directory: `sources/` (archives, extracted), `cache/` (the grammar
    /// cache) and `work/` (`grammar.json` files evaluated by dsl.js).
    pub dir: PathBuf,
    /// Only these ids (or package names).
    pub only: Vec<String>,
    /// Write the report as JSON here.
    pub json: Option<PathBuf>,
    /// Use Pygments' example files.
    pub pygments: bool,
    /// Evaluate a `grammar.js` with node and `xtask/grammars/dsl.js` when a
    /// package ships no `src/grammar.json`.
    pub node: bool,
}

/// `xtask/grammars/inputs.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputsFile {
    pygments: PygmentsSource,
}

/// The pinned Pygments sdist and how its example files map to grammars.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PygmentsSource {
    registry: String,
    package: String,
    version: String,
    archive: String,
    sha256: String,
    license: String,
    /// The example directory, relative to the extracted archive.
    examples: String,
    /// Lexer directories never used.
    #[serde(default)]
    exclude: Vec<String>,
    /// Lexer directory → grammar id, beyond the extension match.
    #[serde(default)]
    map: BTreeMap<String, String>,
}

/// One row of the report.
#[derive(Debug, Default, Serialize)]
struct Row {
    id: String,
    registry: String,
    package: String,
    version: String,
    abi: Option<usize>,
    fetched: bool,
    /// Built into the cache.
    compiled: bool,
    /// The probe passed and the grammar was approved.
    approved: bool,
    /// Seconds of `Loader::add` (compile, probe, approve).
    compile_s: Option<f64>,
    loaded: bool,
    check: Option<CheckResult>,
    /// Seconds of the check (child process).
    check_s: Option<f64>,
    /// Where the `grammar.json` of the generated inputs came from:
    /// `shipped` (`src/grammar.json`), `companion` (the manifest entry's
    /// `grammar_json` package, when its own ships none), `dsl.js` (the
    /// package's `grammar.js` evaluated by `xtask/grammars/dsl.js`) or none.
    grammar_json: Option<&'static str>,
    /// Why evaluating the package's `grammar.js` failed.
    dsl_error: Option<String>,
    /// Why fetching the entry's companion `grammar.json` failed.
    companion_error: Option<String>,
    error: Option<String>,
}

impl Row {
    fn verified(&self) -> bool {
        self.loaded && self.check.as_ref().is_some_and(|c| c.mismatches == 0)
    }
    fn mismatches(&self) -> usize {
        self.check.as_ref().map_or(0, |c| c.mismatches)
    }
}

/// What the check of one grammar found (the child's answer).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct CheckResult {
    /// Corpus examples used.
    corpus: usize,
    /// Corpus examples skipped (`:skip`, `:language(…)`, unreadable).
    corpus_skipped: usize,
    /// Corpus examples that expect errors (`:error`, or ERROR/MISSING in the
    /// expected tree): verified, not smoke-counted.
    corpus_expect_error: usize,
    /// Files of the manifest's `samples`.
    samples: usize,
    /// Pygments example files.
    pygments: usize,
    /// Real inputs smoke-counted (corpus without expected errors, samples, Pygments).
    real: usize,
    /// Of those, parsed without ERROR/MISSING nodes.
    real_clean: usize,
    /// Synthetic inputs (verify only).
    synthetic: usize,
    /// Inputs generated from the grammar's `grammar.json`.
    #[serde(default)]
    generated: usize,
    /// Of those, parsed without ERROR/MISSING nodes.
    #[serde(default)]
    generated_clean: usize,
    /// Generation attempts dropped (externals it cannot write, size).
    #[serde(default)]
    generated_skipped: usize,
    /// Inputs verified (every input).
    verified_inputs: usize,
    /// Nodes compared.
    nodes: usize,
    /// Inputs whose stored form differs from the live tree (must be 0).
    mismatches: usize,
    /// The first problems (mismatches, first unclean real input).
    notes: Vec<String>,
}

/// The whole report (`--json`).
#[derive(Debug, Serialize)]
struct Report {
    command: String,
    manifest_entries: usize,
    totals: Totals,
    wall_s: f64,
    grammars: Vec<Row>,
}

#[derive(Debug, Default, Serialize)]
struct Totals {
    selected: usize,
    fetched: usize,
    compiled: usize,
    approved: usize,
    loaded: usize,
    verified: usize,
    mismatches: usize,
    with_real_input: usize,
    smoke_clean: usize,
    mostly_clean: usize,
    real_inputs: usize,
    real_clean: usize,
    synthetic_inputs: usize,
    /// Grammars with at least [`MIN_GENERATED`] generated inputs.
    with_generated: usize,
    /// Of those, grammars whose generated inputs parse clean at
    /// [`GENERATED_CLEAN_PERCENT`] or more.
    generated_clean: usize,
    generated_inputs: usize,
    generated_clean_inputs: usize,
    /// Grammars whose `grammar.json` is the package's own.
    grammar_json_shipped: usize,
    /// Grammars whose `grammar.json` came from a companion package.
    grammar_json_companion: usize,
    /// Grammars whose companion could not be fetched.
    companion_failed: usize,
    /// Grammars whose `grammar.json` came from their `grammar.js` (dsl.js).
    grammar_json_dsl: usize,
    /// Grammars whose `grammar.js` dsl.js could not evaluate.
    dsl_failed: usize,
    /// Verified grammars smoke-clean on their real inputs (all clean) or,
    /// when they have none, on their generated inputs.
    smoke_ok: usize,
    compile_s: f64,
}

/// A grammar's generated inputs count for the smoke test from this many.
const MIN_GENERATED: usize = 20;
/// The share of generated inputs that must parse clean (the generator
/// reaches 88–100% on the compiled-in grammars it can render; it cannot see
/// precedences and conflicts).
const GENERATED_CLEAN_PERCENT: usize = 90;

impl CheckResult {
    fn generated_ok(&self) -> bool {
        self.generated >= MIN_GENERATED
            && self.generated_clean * 100 >= self.generated * GENERATED_CLEAN_PERCENT
    }
}

fn loader(cache: &Path) -> Result<Loader> {
    let probe = ProbeCommand {
        program: std::env::current_exe().context("locating the xtask binary (the probe)")?,
        args: vec!["grammar-probe".into()],
    };
    let mut options = LoaderOptions::new(cache, probe);
    // Two manifest grammars (talon, vue) have a C++ scanner.
    options.allow_cpp = true;
    Ok(Loader::open(options)?)
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| p.to_path_buf(), |d| d.join(p))
    }
}

/// `cargo xtask grammars`.
pub(crate) fn run(opts: &Options) -> Result<bool> {
    let started = Instant::now();
    let manifest = grammar_sources::load_manifest(&opts.manifest)?;
    let dir = absolute(&opts.dir);
    let sources = dir.join("sources");
    let cache = dir.join("cache");
    let work = dir.join("work");
    let only = (!opts.only.is_empty()).then_some(opts.only.as_slice());
    if let Some(only) = only {
        for o in only {
            anyhow::ensure!(
                manifest
                    .grammars
                    .iter()
                    .any(|e| &e.id == o || &e.package == o),
                "`{o}` is no id or package of {}",
                opts.manifest.display()
            );
        }
    }

    let examples = if opts.pygments {
        let inputs = load_inputs(&opts.manifest.with_file_name("inputs.toml"))?;
        let t = Instant::now();
        match fetch_pygments(&inputs.pygments, &sources) {
            Ok(d) => {
                eprintln!(
                    "pygments {} ({}): {} ({:.1} s)",
                    inputs.pygments.version,
                    inputs.pygments.license,
                    d.display(),
                    t.elapsed().as_secs_f64()
                );
                Some((inputs.pygments, d))
            }
            Err(e) => bail!("fetching pygments: {e:#}"),
        }
    } else {
        None
    };

    eprintln!(
        "fetching {} …",
        only.map_or(manifest.grammars.len(), <[_]>::len)
    );
    let t = Instant::now();
    let fetched = grammar_sources::fetch_all(&manifest, &sources, only);
    eprintln!("fetched in {:.1} s", t.elapsed().as_secs_f64());
    let loader = loader(&cache)?;

    let mut rows = Vec::new();
    for (entry, dir_result) in fetched {
        let mut row = Row {
            id: entry.id.clone(),
            registry: entry.registry.as_str().to_string(),
            package: entry.package.clone(),
            version: entry.version.clone(),
            ..Row::default()
        };
        let gdir = match dir_result {
            Ok(d) => d,
            Err(e) => {
                row.error = Some(format!("fetch: {e:#}"));
                eprintln!("{}: {}", row.id, row.error.as_deref().unwrap_or_default());
                rows.push(row);
                continue;
            }
        };
        row.fetched = true;
        let root = sources.join(entry.archive_stem());
        let t = Instant::now();
        let added = loader.add(
            &gdir,
            &AddOptions {
                id: Some(entry.id.clone()),
                extensions: Some(entry.extensions.clone()),
            },
        );
        row.compile_s = Some(t.elapsed().as_secs_f64());
        match added {
            Ok(approvals) if approvals.len() == 1 => {
                row.compiled = true;
                row.approved = true;
                row.abi = Some(approvals[0].abi);
            }
            Ok(approvals) => {
                row.error = Some(format!("add gave {} grammars", approvals.len()));
            }
            Err(e) => {
                // The library was built; the probe child refused it.
                row.compiled = matches!(e, cst_loader::Error::Probe { .. });
                // Name files relative to the work directory.
                let prefix = format!("{}/", sources.display());
                row.error = Some(format!("add: {e}").replace(&prefix, ""));
            }
        }
        if row.approved {
            let mut files = Vec::new();
            if !entry.samples.is_empty() {
                // Files of the language only (a package's `examples` may
                // hold other things: openscad's has PNGs, C++ and CMake).
                files.extend(
                    walk_files(&root.join(&entry.samples))
                        .into_iter()
                        .filter(|f| {
                            entry.extensions.is_empty() || has_extension(f, &entry.extensions)
                        })
                        .map(|f| ("sample", f)),
                );
            }
            if let Some((pyg, dir)) = &examples {
                files.extend(
                    pygments_files(pyg, dir, &entry)
                        .into_iter()
                        .map(|f| ("pygments", f)),
                );
            }
            let corpus = (!entry.corpus.is_empty()).then(|| root.join(&entry.corpus));
            let grammar_json = gdir.join("src/grammar.json");
            if grammar_json.is_file() {
                row.grammar_json = Some("shipped");
                files.push(("grammar-json", grammar_json));
            } else if let Some(c) = &entry.grammar_json {
                // Another package of the same parser (README: the companion rule).
                match grammar_sources::fetch_companion(c, &sources) {
                    Ok(path) => {
                        row.grammar_json = Some("companion");
                        files.push(("grammar-json", path));
                    }
                    Err(e) => {
                        let e = format!("companion grammar.json: {e:#}");
                        eprintln!("{}: {e}", row.id);
                        row.companion_error = Some(e);
                    }
                }
            } else if opts.node
                && let Some(js) = find_grammar_js(&gdir, &root)
            {
                match run_dsl(&js, &work, &entry.id) {
                    Ok(path) => {
                        row.grammar_json = Some("dsl.js");
                        files.push(("grammar-json", path));
                    }
                    Err(e) => {
                        let e = format!("dsl.js: {e:#}");
                        eprintln!("{}: {e}", row.id);
                        row.dsl_error = Some(e);
                    }
                }
            }
            let t = Instant::now();
            match spawn_check(&cache, &entry.id, corpus.as_deref(), &files) {
                Ok(mut c) => {
                    // Notes name inputs relative to the work directory.
                    let prefix = format!("{}/", sources.display());
                    for n in &mut c.notes {
                        *n = n.replace(&prefix, "");
                    }
                    row.loaded = true;
                    row.check = Some(c);
                }
                Err(e) => row.error = Some(format!("check: {e:#}")),
            }
            row.check_s = Some(t.elapsed().as_secs_f64());
        }
        eprintln!("{}", progress_line(&row));
        rows.push(row);
    }

    let wall = started.elapsed().as_secs_f64();
    let totals = totals(&rows);
    print_table(&rows);
    print_totals(&totals, manifest.grammars.len(), wall);
    let report = Report {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        manifest_entries: manifest.grammars.len(),
        totals,
        wall_s: wall,
        grammars: rows,
    };
    if let Some(path) = &opts.json {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    let t = &report.totals;
    let enough = if only.is_some() {
        t.verified == t.selected
    } else {
        t.verified >= TARGET
    };
    if !enough {
        eprintln!(
            "FAIL: {} grammars loaded and verified, {} required",
            t.verified,
            if only.is_some() { t.selected } else { TARGET }
        );
    }
    if t.mismatches > 0 {
        eprintln!("FAIL: {} mismatching inputs", t.mismatches);
    }
    Ok(enough && t.mismatches == 0)
}

fn progress_line(r: &Row) -> String {
    match (&r.check, &r.error) {
        (Some(c), _) => format!(
            "{}: compile {:.2} s, real {}/{} clean, synthetic {}, mismatches {} ({:.1} s)",
            r.id,
            r.compile_s.unwrap_or(0.0),
            c.real_clean,
            c.real,
            c.synthetic,
            c.mismatches,
            r.check_s.unwrap_or(0.0)
        ),
        (None, Some(e)) => format!("{}: FAILED {e}", r.id),
        (None, None) => format!("{}: ?", r.id),
    }
}

fn totals(rows: &[Row]) -> Totals {
    let mut t = Totals {
        selected: rows.len(),
        ..Totals::default()
    };
    for r in rows {
        t.fetched += usize::from(r.fetched);
        t.compiled += usize::from(r.compiled);
        t.approved += usize::from(r.approved);
        t.loaded += usize::from(r.loaded);
        t.verified += usize::from(r.verified());
        t.mismatches += r.mismatches();
        t.compile_s += r.compile_s.unwrap_or(0.0);
        t.grammar_json_shipped += usize::from(r.grammar_json == Some("shipped"));
        t.grammar_json_dsl += usize::from(r.grammar_json == Some("dsl.js"));
        t.grammar_json_companion += usize::from(r.grammar_json == Some("companion"));
        t.companion_failed += usize::from(r.companion_error.is_some());
        t.dsl_failed += usize::from(r.dsl_error.is_some());
        if let Some(c) = &r.check {
            t.real_inputs += c.real;
            t.real_clean += c.real_clean;
            t.synthetic_inputs += c.synthetic;
            if c.real > 0 {
                t.with_real_input += 1;
                t.smoke_clean += usize::from(c.real_clean == c.real);
                t.mostly_clean += usize::from(c.real_clean * 10 >= c.real * 9);
            }
            t.generated_inputs += c.generated;
            t.generated_clean_inputs += c.generated_clean;
            if c.generated >= MIN_GENERATED {
                t.with_generated += 1;
                t.generated_clean += usize::from(c.generated_ok());
            }
            let smoke = if c.real > 0 {
                c.real_clean == c.real
            } else {
                c.generated_ok()
            };
            t.smoke_ok += usize::from(r.verified() && smoke);
        }
    }
    t
}

fn print_table(rows: &[Row]) {
    println!(
        "| id | registry | abi | compile s | inputs real/synthetic (corpus+samples+pygments) | clean real | grammar.json | clean generated | mismatches | note |"
    );
    println!("|---|---|---:|---:|---|---:|---|---:|---:|---|");
    for r in rows {
        let abi = r.abi.map_or("—".into(), |a| a.to_string());
        let compile = r.compile_s.map_or("—".into(), |s| format!("{s:.2}"));
        let (inputs, clean, generated, mismatches, note) = match &r.check {
            Some(c) => (
                format!(
                    "{}/{} ({}+{}+{})",
                    c.real, c.synthetic, c.corpus, c.samples, c.pygments
                ),
                if c.real == 0 {
                    "—".to_string()
                } else {
                    format!("{}/{}", c.real_clean, c.real)
                },
                if c.generated == 0 {
                    "—".to_string()
                } else {
                    format!("{}/{}", c.generated_clean, c.generated)
                },
                c.mismatches.to_string(),
                c.notes.first().cloned().unwrap_or_default(),
            ),
            None => (
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                r.error.clone().unwrap_or_default(),
            ),
        };
        let note = if note.is_empty() {
            r.dsl_error
                .clone()
                .or_else(|| r.companion_error.clone())
                .unwrap_or_default()
        } else {
            note
        };
        let note: String = note.replace('|', "\\|").chars().take(140).collect();
        let source = r.grammar_json.unwrap_or("—");
        println!(
            "| {} | {} | {abi} | {compile} | {inputs} | {clean} | {source} | {generated} | {mismatches} | {note} |",
            r.id, r.registry
        );
    }
}

fn print_totals(t: &Totals, entries: usize, wall: f64) {
    println!();
    println!(
        "manifest entries {entries}, selected {}, fetched {}, compiled {}, probed and approved {}, loaded {}, verified with 0 mismatches {}",
        t.selected, t.fetched, t.compiled, t.approved, t.loaded, t.verified
    );
    println!(
        "with ≥1 real input {}, smoke-clean (every real input clean) {}, mostly clean (≥ 90%) {}",
        t.with_real_input, t.smoke_clean, t.mostly_clean
    );
    println!(
        "real inputs {} ({} clean), synthetic inputs {}, mismatching inputs {}",
        t.real_inputs, t.real_clean, t.synthetic_inputs, t.mismatches
    );
    println!(
        "generated inputs {} ({} clean); grammars with ≥ {MIN_GENERATED} generated {}, of them ≥ {GENERATED_CLEAN_PERCENT}% clean {}",
        t.generated_inputs, t.generated_clean_inputs, t.with_generated, t.generated_clean
    );
    println!(
        "grammar.json: shipped {}, companion package {} (companion failed on {}), from grammar.js via dsl.js {} (dsl.js failed on {}), none {}",
        t.grammar_json_shipped,
        t.grammar_json_companion,
        t.companion_failed,
        t.grammar_json_dsl,
        t.dsl_failed,
        t.selected - t.grammar_json_shipped - t.grammar_json_companion - t.grammar_json_dsl
    );
    println!(
        "verified and smoke-clean (every real input clean, or without real inputs ≥ {GENERATED_CLEAN_PERCENT}% of generated ones) {}",
        t.smoke_ok
    );
    println!(
        "compile (add) total {:.1} s, wall {:.1} s",
        t.compile_s, wall
    );
}

fn load_inputs(path: &Path) -> Result<InputsFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let inputs: InputsFile =
        toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
    let p = &inputs.pygments;
    anyhow::ensure!(
        p.registry == "pypi",
        "{}: pygments comes from pypi",
        path.display()
    );
    anyhow::ensure!(
        p.sha256.len() == 64 && p.sha256.bytes().all(|b| b.is_ascii_hexdigit()),
        "{}: sha256 must be 64 hex digits",
        path.display()
    );
    anyhow::ensure!(
        p.archive.ends_with(".tar.gz") && !p.archive.contains('/'),
        "{}: archive must be a .tar.gz file name",
        path.display()
    );
    anyhow::ensure!(
        Path::new(&p.examples)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_))),
        "{}: examples must be a relative path without `..`",
        path.display()
    );
    Ok(inputs)
}

/// Brings the Pygments sdist into `dir` (pip, sha256 checked before it is
/// extracted) and returns its example directory.
fn fetch_pygments(p: &PygmentsSource, dir: &Path) -> Result<PathBuf> {
    let stem = p.archive.trim_end_matches(".tar.gz");
    let root = dir.join(stem);
    let examples = root.join(&p.examples);
    let marker = root.join(".cst-archive-sha256");
    if std::fs::read_to_string(&marker).is_ok_and(|s| s.trim() == p.sha256) && examples.is_dir() {
        return Ok(examples);
    }
    std::fs::create_dir_all(dir)?;
    let archive = dir.join(&p.archive);
    let have =
        archive.is_file() && grammar_sources::sha256_file(&archive).is_ok_and(|s| s == p.sha256);
    if !have {
        let staging = dir.join(format!(".fetch-{stem}"));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging)?;
        let pip = std::env::var_os("PIP").unwrap_or_else(|| "pip".into());
        let out = Command::new(pip)
            .args([
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                &p.package,
                "--dest",
            ])
            .arg(&staging)
            .arg(format!("{}=={}", p.package, p.version))
            .current_dir(&staging)
            .stdin(Stdio::null())
            .output()
            .context("running pip")?;
        if !out.status.success() {
            let _ = std::fs::remove_dir_all(&staging);
            bail!(
                "pip download failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let got = staging.join(&p.archive);
        let checked = grammar_sources::verify_sha256(&got, &p.sha256)
            .and_then(|()| Ok(std::fs::rename(&got, &archive)?));
        let _ = std::fs::remove_dir_all(&staging);
        checked?;
    }
    grammar_sources::verify_sha256(&archive, &p.sha256)?;
    let tmp = dir.join(format!(".extract-{stem}"));
    let _ = std::fs::remove_dir_all(&tmp);
    grammar_sources::extract_tar_gz(&archive, &tmp)?;
    std::fs::write(tmp.join(".cst-archive-sha256"), format!("{}\n", p.sha256))?;
    let _ = std::fs::remove_dir_all(&root);
    std::fs::rename(&tmp, &root)?;
    anyhow::ensure!(examples.is_dir(), "{} has no {}", p.archive, p.examples);
    Ok(examples)
}

/// The package's `grammar.js`: in the grammar directory or one of its
/// parents inside the extracted archive `root` (the package root).
fn find_grammar_js(gdir: &Path, root: &Path) -> Option<PathBuf> {
    gdir.ancestors()
        .take_while(|d| d.starts_with(root) && *d != root)
        .map(|d| d.join("grammar.js"))
        .find(|f| f.is_file())
}

/// Evaluates `grammar_js` with `node xtask/grammars/dsl.js` (`$NODE`
/// overrides `node`; at most [`DSL_TIMEOUT`]) into `<work>/<id>.grammar.json`.
fn run_dsl(grammar_js: &Path, work: &Path, id: &str) -> Result<PathBuf> {
    let dsl = Path::new(env!("CARGO_MANIFEST_DIR")).join("grammars/dsl.js");
    std::fs::create_dir_all(work)?;
    let out = work.join(format!("{id}.grammar.json"));
    let err = work.join(format!("{id}.dsl-stderr.txt"));
    let _ = std::fs::remove_file(&out);
    let node = std::env::var_os("NODE").unwrap_or_else(|| "node".into());
    let mut child = Command::new(node)
        .arg(&dsl)
        .arg(grammar_js)
        .current_dir(grammar_js.parent().unwrap_or(work))
        .env_remove("NODE_OPTIONS")
        .env_remove("NODE_PATH")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out)?)
        .stderr(std::fs::File::create(&err)?)
        .spawn()
        .context("starting node")?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() > DSL_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(&out);
            bail!("no answer within {} s (killed)", DSL_TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if !status.success() {
        let _ = std::fs::remove_file(&out);
        let text = std::fs::read_to_string(&err).unwrap_or_default();
        let first = text.lines().next().unwrap_or("").trim();
        bail!("{status}: {first}");
    }
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out)?)
        .with_context(|| format!("{} is no JSON", out.display()))?;
    anyhow::ensure!(
        json.get("rules").is_some_and(serde_json::Value::is_object),
        "{} has no rules",
        out.display()
    );
    let _ = std::fs::remove_file(&err);
    Ok(out)
}

/// Regular files under `dir`, recursively, sorted; hidden ones left out.
fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => out.push(e.path()),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// The Pygments example files for `entry`: `<lexer>/<file>` whose extension
/// is one of the entry's (case-insensitive) or whose lexer `map` gives to it;
/// never `*.output` nor an excluded lexer.
fn pygments_files(p: &PygmentsSource, examples: &Path, entry: &Entry) -> Vec<PathBuf> {
    walk_files(examples)
        .into_iter()
        .filter(|f| {
            let Ok(rel) = f.strip_prefix(examples) else {
                return false;
            };
            let lexer = rel
                .components()
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".output") || p.exclude.contains(&lexer) {
                return false;
            }
            if p.map.get(&lexer) == Some(&entry.id) {
                return true;
            }
            has_extension(f, &entry.extensions)
        })
        .collect()
}

/// Whether the file name ends in `.<one of extensions>` (case-insensitive;
/// a dot file's name is no extension).
fn has_extension(file: &Path, extensions: &[String]) -> bool {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && extensions.iter().any(|e| e.eq_ignore_ascii_case(ext))
    })
}

/// Runs `xtask grammar-check` for one grammar and reads its answer.
fn spawn_check(
    cache: &Path,
    id: &str,
    corpus: Option<&Path>,
    files: &[(&str, PathBuf)],
) -> Result<CheckResult> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("grammar-check")
        .arg("--cache")
        .arg(cache)
        .arg("--id")
        .arg(id);
    if let Some(c) = corpus {
        cmd.arg("--corpus").arg(c);
    }
    for (kind, f) in files {
        cmd.arg(format!("--{kind}")).arg(f);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting grammar-check")?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(16 << 20).read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() > CHECK_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("no answer within {} s (killed)", CHECK_TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let last = stderr.trim().lines().last().unwrap_or("").to_string();
    if !status.success() {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if let Some(sig) = status.signal() {
                bail!("crashed (signal {sig}) {last}");
            }
        }
        bail!("{status}: {last}");
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_TAG))
        .ok_or_else(|| anyhow!("no result ({last})"))?;
    Ok(serde_json::from_str(line)?)
}

/// The hidden `grammar-check` subcommand (the child of [`spawn_check`]).
pub(crate) fn check_main(
    cache: &Path,
    id: &str,
    corpus: Option<&Path>,
    samples: &[PathBuf],
    pygments: &[PathBuf],
    grammar_json: Option<&Path>,
) -> ExitCode {
    let result = loader(cache).and_then(|loader| {
        let approval = loader
            .approvals()?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| anyhow!("grammar `{id}` is not approved in {}", cache.display()))?;
        let grammar = loader.load(&approval)?;
        // tree-sitter's `to_sexp` recurses per level: a deep tree needs a
        // large stack.
        let (corpus, samples, pygments, grammar_json) = (
            corpus.map(Path::to_path_buf),
            samples.to_vec(),
            pygments.to_vec(),
            grammar_json.map(Path::to_path_buf),
        );
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(move || {
                check_grammar(
                    grammar,
                    corpus.as_deref(),
                    &samples,
                    &pygments,
                    grammar_json.as_deref(),
                )
            })?
            .join()
            .map_err(|_| anyhow!("the check panicked"))?
    });
    match result {
        Ok(r) => {
            println!(
                "{RESULT_TAG}{}",
                serde_json::to_string(&r).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::from(2)
        }
    }
}

/// What an input is counted as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Real code (corpus without expected errors, samples, Pygments):
    /// smoke-counted.
    Real,
    /// Derived from the grammar's own `grammar.json` (`grammar_gen`):
    /// smoke-counted apart.
    Generated,
    /// Verified only (synthetic noise, corpus tests expecting errors).
    VerifyOnly,
}

/// One input of a check.
struct Input {
    /// Where it comes from (for notes).
    label: String,
    bytes: Vec<u8>,
    kind: Kind,
}

/// Inputs generated per grammar from its `grammar.json`, and the seed.
const GENERATED: usize = 100;
const GENERATED_SEED: u64 = 1;

fn check_grammar(
    g: &'static Grammar,
    corpus: Option<&Path>,
    samples: &[PathBuf],
    pygments: &[PathBuf],
    grammar_json: Option<&Path>,
) -> Result<CheckResult> {
    let mut r = CheckResult::default();
    let mut inputs = Vec::new();
    if let Some(dir) = corpus {
        for f in walk_files(dir) {
            let Ok(text) = std::fs::read(&f) else {
                r.corpus_skipped += 1;
                continue;
            };
            let parsed = parse_corpus(&text);
            r.corpus_skipped += parsed.skipped;
            let name = f.file_name().unwrap_or_default().to_string_lossy();
            for t in parsed.tests {
                r.corpus += 1;
                r.corpus_expect_error += usize::from(t.expect_error);
                inputs.push(Input {
                    label: format!("corpus {name}: {}", t.name),
                    bytes: t.input,
                    kind: if t.expect_error {
                        Kind::VerifyOnly
                    } else {
                        Kind::Real
                    },
                });
            }
        }
    }
    for (files, count) in [(samples, &mut r.samples), (pygments, &mut r.pygments)] {
        for f in files {
            if !matches!(std::fs::metadata(f), Ok(m) if m.len() <= MAX_INPUT_BYTES) {
                continue;
            }
            let Ok(bytes) = std::fs::read(f) else {
                continue;
            };
            *count += 1;
            inputs.push(Input {
                label: f.display().to_string(),
                bytes,
                kind: Kind::Real,
            });
        }
    }
    for (label, bytes) in synthetic_inputs() {
        r.synthetic += 1;
        inputs.push(Input {
            label: label.to_string(),
            bytes,
            kind: Kind::VerifyOnly,
        });
    }
    if let Some(path) = grammar_json {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let options = crate::grammar_gen::GenOptions {
            seed: GENERATED_SEED,
            count: GENERATED,
            ..crate::grammar_gen::GenOptions::default()
        };
        match crate::grammar_gen::generate_with_stats(&text, &options) {
            Ok(g) => {
                r.generated_skipped = g.skipped;
                for (i, bytes) in g.inputs.into_iter().enumerate() {
                    inputs.push(Input {
                        label: format!("generated #{i}"),
                        bytes,
                        kind: Kind::Generated,
                    });
                }
            }
            Err(e) => r.notes.push(format!("grammar.json: {e:#}")),
        }
    }

    let fingerprint = g.fingerprint()?.0;
    let symbols = Arc::new(Symbols::from_language(&g.language()?, fingerprint));
    let mut parser = g.parser()?;
    let mut first_unclean = None;
    let mut first_unclean_generated = None;
    for input in &inputs {
        if input.kind == Kind::Generated {
            r.generated += 1;
            let report = cst_grammars::smoke::check_sample(g, &input.bytes)?;
            if report.is_clean() {
                r.generated_clean += 1;
            } else if first_unclean_generated.is_none() {
                first_unclean_generated = Some(format!(
                    "unclean generated input: {:?}",
                    String::from_utf8_lossy(&input.bytes[..input.bytes.len().min(120)])
                ));
            }
        }
        if input.kind == Kind::Real {
            r.real += 1;
            let report = cst_grammars::smoke::check_sample(g, &input.bytes)?;
            if report.is_clean() {
                r.real_clean += 1;
            } else if first_unclean.is_none() {
                let (row, col) = report.first_problem.unwrap_or_default();
                first_unclean = Some(format!(
                    "unclean: {}:{}:{} ({} ERROR, {} MISSING)",
                    input.label,
                    row + 1,
                    col + 1,
                    report.errors,
                    report.missing
                ));
            }
        }
        r.verified_inputs += 1;
        match verify_input(&mut parser, &symbols, fingerprint, &input.bytes) {
            Ok(nodes) => r.nodes += nodes,
            Err(e) => {
                r.mismatches += 1;
                if r.notes.len() < 5 {
                    r.notes.push(format!("MISMATCH {}: {e}", input.label));
                }
            }
        }
    }
    r.notes.extend(first_unclean);
    r.notes.extend(first_unclean_generated);
    Ok(r)
}

/// Empty, a line of text, random bytes and random printable text (fixed seeds).
fn synthetic_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let bytes: Vec<u8> = (0..2048).map(|_| (next() >> 24) as u8).collect();
    const TOKENS: &[&str] = &[
        "a", "x1", "=", "(", ")", "{", "}", "[", "]", ";", ",", ".", ":", "\"s\"", "'c'", "42",
        "-", "+", "*", "/", "#", "<", ">", "if", "end", "\n", " ", "  ", "\t", "//", "--",
    ];
    let mut text = String::new();
    while text.len() < 4096 {
        text.push_str(TOKENS[(next() % TOKENS.len() as u64) as usize]);
        if next() % 3 == 0 {
            text.push(' ');
        }
    }
    vec![
        ("synthetic: empty", Vec::new()),
        ("synthetic: a line of text", b"hello world 123\n".to_vec()),
        ("synthetic: random bytes", bytes),
        ("synthetic: random tokens", text.into_bytes()),
    ]
}

/// Parses, encodes, opens, validates, packs/unpacks and compares the stored
/// tree with the live one (node by node and `to_sexp`); returns the node count.
fn verify_input(
    parser: &mut tree_sitter::Parser,
    symbols: &Arc<Symbols>,
    fingerprint: [u8; 16],
    source: &[u8],
) -> Result<usize> {
    let tree = parser
        .parse(source, None)
        .ok_or_else(|| anyhow!("no tree"))?;
    let bytes = cst_bytecode::encode(&tree, source, fingerprint)?;
    let view = TreeView::open(&bytes, symbols.clone())?;
    view.validate()?;
    let packed = cst_bytecode::pack(&bytes)?;
    anyhow::ensure!(
        cst_bytecode::unpack(&packed)? == bytes,
        "pack/unpack does not give back the same bytes"
    );
    cst_bytecode::verify(&tree, &view).map_err(|m| {
        let live = nth_node(&tree, m.node).map_or(String::new(), |n| {
            let lang = tree.language();
            format!(
                " [live node: kind id {} of {} kinds, is_named {}, the table says named {}]",
                n.kind_id(),
                lang.node_kind_count(),
                n.is_named(),
                lang.node_kind_is_named(n.kind_id())
            )
        });
        anyhow!("{m}{live}")
    })?;
    let (ours, theirs) = (view.root().to_sexp(), tree.root_node().to_sexp());
    if ours != theirs {
        let at = ours
            .bytes()
            .zip(theirs.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(theirs.len()));
        bail!("to_sexp differs at byte {at}");
    }
    Ok(view.node_count())
}

/// The node at preorder index `n` (as [`cst_bytecode::verify`] counts).
fn nth_node(tree: &tree_sitter::Tree, n: usize) -> Option<tree_sitter::Node<'_>> {
    let mut cursor = tree.walk();
    let mut i = 0;
    loop {
        if i == n {
            return Some(cursor.node());
        }
        i += 1;
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return None;
            }
        }
    }
}

/// One example of a tree-sitter test corpus file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CorpusTest {
    /// The name lines of the header.
    pub name: String,
    /// The input, exactly as tree-sitter feeds it to the parser.
    pub input: Vec<u8>,
    /// The expected tree (trimmed).
    pub expected: String,
    /// `:error`, or ERROR/MISSING in the expected tree.
    pub expect_error: bool,
}

/// A corpus file read with [`parse_corpus`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CorpusFile {
    /// The examples used.
    pub tests: Vec<CorpusTest>,
    /// Examples left out: `:skip`, `:language(…)` (another grammar), or not
    /// read with confidence (no divider, mismatched header suffixes).
    pub skipped: usize,
}

/// `(start, end without the line break, start of the next line)` of every line.
fn lines(text: &[u8]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let nl = text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |p| start + p);
        let mut end = nl;
        if end > start && text[end - 1] == b'\r' {
            end -= 1;
        }
        out.push((start, end, (nl + 1).min(text.len())));
        start = nl + 1;
    }
    out
}

/// A run of at least three `c` and the rest of the line (the suffix), or
/// `None`. `(dashes, suffix)`.
fn delimiter(line: &[u8], c: u8) -> Option<(usize, &[u8])> {
    let n = line.iter().take_while(|&&b| b == c).count();
    (n >= 3).then(|| (n, &line[n..]))
}

/// Reads a tree-sitter test corpus file: each example is a header (a line of
/// `===`, name and attribute lines, a line of `===`, both `===` lines with the
/// same optional suffix such as `|||`), the input, a divider (a line of at
/// least three `-` with that suffix; the longest one in the example wins) and
/// the expected tree. The input runs from after the header to the line break
/// before the divider, as tree-sitter takes it. Attributes: `:skip` and
/// `:language(…)` skip the example, `:error` marks it as expecting errors;
/// `:platform(…)`, `:fail-fast` and `:cst` are ignored. What cannot be read
/// with confidence is skipped, never guessed.
pub(crate) fn parse_corpus(text: &[u8]) -> CorpusFile {
    let ls = lines(text);
    // Headers: (first line index, line index after the header, suffix).
    let mut headers: Vec<(usize, usize, &[u8], bool)> = Vec::new();
    let mut file_suffix: Option<&[u8]> = None;
    let mut i = 0;
    while i < ls.len() {
        let line = &text[ls[i].0..ls[i].1];
        if let Some((_, s1)) = delimiter(line, b'=')
            && file_suffix.is_none_or(|f| f == s1)
        {
            let mut k = i + 1;
            while k < ls.len() {
                let l = &text[ls[k].0..ls[k].1];
                if l.is_empty() || l[0] == b'=' {
                    break;
                }
                k += 1;
            }
            if k > i + 1
                && k < ls.len()
                && let Some((_, s2)) = delimiter(&text[ls[k].0..ls[k].1], b'=')
            {
                file_suffix.get_or_insert(s1);
                headers.push((i, k + 1, s1, s1 == s2));
                i = k + 1;
                continue;
            }
        }
        i += 1;
    }
    let suffix = file_suffix.unwrap_or_default();
    let mut out = CorpusFile::default();
    for (h, &(first, body, _, suffixes_agree)) in headers.iter().enumerate() {
        let end_line = headers.get(h + 1).map_or(ls.len(), |n| n.0);
        let mut name = Vec::new();
        let (mut skip, mut expect_error) = (!suffixes_agree, false);
        for &(s, e, _) in &ls[first + 1..body - 1] {
            let l = String::from_utf8_lossy(&text[s..e]).trim().to_string();
            match l.as_str() {
                ":skip" => skip = true,
                ":error" => expect_error = true,
                ":fail-fast" | ":cst" => {}
                _ if l.starts_with(":language(") => skip = true,
                _ if l.starts_with(":platform(") => {}
                _ => name.push(l),
            }
        }
        // The longest divider with the file's suffix.
        let divider = (body..end_line)
            .filter_map(|j| {
                let (n, s) = delimiter(&text[ls[j].0..ls[j].1], b'-')?;
                (s == suffix).then_some((n, j))
            })
            .fold(None::<(usize, usize)>, |best, (n, j)| match best {
                Some((bn, _)) if bn >= n => best,
                _ => Some((n, j)),
            });
        let Some((_, d)) = divider else {
            out.skipped += 1;
            continue;
        };
        if skip {
            out.skipped += 1;
            continue;
        }
        let input_start = ls.get(body).map_or(text.len(), |l| l.0);
        // Up to the line break before the divider (`\r\n` or `\n`).
        let mut input_end = ls[d].0;
        if input_end > input_start {
            input_end -= 1;
            if input_end > input_start && text[input_end - 1] == b'\r' {
                input_end -= 1;
            }
        }
        let expected_end = ls.get(end_line).map_or(text.len(), |l| l.0);
        let expected = String::from_utf8_lossy(&text[ls[d].2.min(expected_end)..expected_end])
            .trim()
            .to_string();
        expect_error |= expected.contains("(ERROR") || expected.contains("(MISSING");
        out.tests.push(CorpusTest {
            name: name.join(" "),
            input: text[input_start..input_end.max(input_start)].to_vec(),
            expected,
            expect_error,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_with_two_tests_one_skipped() {
        let text = "\
================
Numbers
================

1 + 2

---

(program (binary (number) (number)))

================
Not yet
:skip
================

x
---
(program)
";
        let c = parse_corpus(text.as_bytes());
        assert_eq!(c.skipped, 1);
        assert_eq!(c.tests.len(), 1);
        let t = &c.tests[0];
        assert_eq!(t.name, "Numbers");
        assert_eq!(t.input, b"\n1 + 2\n");
        assert_eq!(t.expected, "(program (binary (number) (number)))");
        assert!(!t.expect_error);
    }

    #[test]
    fn corpus_attributes_suffixes_and_the_longest_divider() {
        let text = "\
==================|||
Markdown-ish
:error
:platform(linux)
==================|||
Title
=====
- item
---
text
-----------------|||
(document (ERROR))
==================|||
Other grammar
:language(html)
==================|||
<p>
---|||
(fragment)
==================|||
Dashes inside
==================|||
a
---|||
b
--------|||

(doc)
";
        let c = parse_corpus(text.as_bytes());
        assert_eq!(c.skipped, 1, "{c:?}");
        assert_eq!(c.tests.len(), 2);
        assert_eq!(c.tests[0].name, "Markdown-ish");
        assert_eq!(c.tests[0].input, b"Title\n=====\n- item\n---\ntext");
        assert!(c.tests[0].expect_error);
        assert_eq!(c.tests[0].expected, "(document (ERROR))");
        // The longest divider separates input and tree.
        assert_eq!(c.tests[1].input, b"a\n---|||\nb");
        assert_eq!(c.tests[1].expected, "(doc)");
    }

    #[test]
    fn corpus_crlf_missing_divider_and_expected_errors() {
        let text = "===\r\nA\r\n===\r\nx y\r\n---\r\n(s (MISSING))\r\n===\r\nB\r\n===\r\nno divider here\r\n";
        let c = parse_corpus(text.as_bytes());
        assert_eq!(c.skipped, 1);
        assert_eq!(c.tests.len(), 1);
        assert_eq!(c.tests[0].input, b"x y");
        assert!(c.tests[0].expect_error, "MISSING in the expected tree");
        // No header at all: nothing.
        assert_eq!(
            parse_corpus(b"just text\n---\n(x)\n"),
            CorpusFile::default()
        );
    }

    #[test]
    fn synthetic_inputs_are_fixed() {
        assert_eq!(synthetic_inputs(), synthetic_inputs());
        assert_eq!(synthetic_inputs()[0].1, b"");
    }

    /// `node` runs here (else the dsl.js tests are skipped).
    fn have_node() -> bool {
        Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()))
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    #[test]
    fn dsl_js_evaluates_a_grammar_js_with_a_sibling_module() {
        if !have_node() {
            eprintln!("SKIPPED: node is not installed; the dsl.js test needs it");
            return;
        }
        let dir = std::env::temp_dir().join(format!("cst-dsl-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let pkg = dir.join("sources/pkg-1.0/pkg-1.0");
        std::fs::create_dir_all(pkg.join("lang/src")).unwrap();
        std::fs::create_dir_all(pkg.join("common")).unwrap();
        std::fs::write(
            pkg.join("common/define.js"),
            "module.exports = (name) => grammar({ name, word: $ => $.id, \
               extras: $ => [/\\s/, $.comment], externals: $ => [$.heredoc], \
               conflicts: $ => [[$.a, $.id]], inline: $ => [$.a], supertypes: $ => [$.a], \
               rules: { doc: $ => repeat(choice($.a, $.comment)), \
                 a: $ => prec.left(1, seq(field('x', $.id), optional(alias('=', $.eq)), token.immediate(/[0-9]+/i))), \
                 id: _ => /[a-z]+/, comment: _ => token(seq('#', /.*/)) } });\n",
        )
        .unwrap();
        std::fs::write(
            pkg.join("lang/grammar.js"),
            "module.exports = require('../common/define')('lang');\n",
        )
        .unwrap();
        let js = find_grammar_js(&pkg.join("lang"), &dir.join("sources/pkg-1.0")).unwrap();
        assert_eq!(js, pkg.join("lang/grammar.js"));
        let out = run_dsl(&js, &dir.join("work"), "lang").unwrap();
        assert_eq!(out, dir.join("work/lang.grammar.json"));
        let g: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(g["name"], "lang");
        assert_eq!(g["word"], "id");
        // serde_json's map sorts keys: read the rule order from the text.
        let text = std::fs::read_to_string(&out).unwrap();
        let at = |rule: &str| text.find(&format!("\n    \"{rule}\": {{")).unwrap();
        assert!(at("doc") < at("a") && at("a") < at("id") && at("id") < at("comment"));
        assert_eq!(
            g["rules"]["a"],
            serde_json::json!({"type": "PREC_LEFT", "value": 1, "content": {"type": "SEQ", "members": [
                {"type": "FIELD", "name": "x", "content": {"type": "SYMBOL", "name": "id"}},
                {"type": "CHOICE", "members": [
                    {"type": "ALIAS", "content": {"type": "STRING", "value": "="}, "named": true, "value": "eq"},
                    {"type": "BLANK"}]},
                {"type": "IMMEDIATE_TOKEN", "content": {"type": "PATTERN", "value": "[0-9]+", "flags": "i"}}]}})
        );
        assert_eq!(
            g["extras"],
            serde_json::json!([{"type": "PATTERN", "value": "\\s"}, {"type": "SYMBOL", "name": "comment"}])
        );
        assert_eq!(
            g["externals"],
            serde_json::json!([{"type": "SYMBOL", "name": "heredoc"}])
        );
        assert_eq!(g["conflicts"], serde_json::json!([["a", "id"]]));
        assert_eq!(g["inline"], serde_json::json!(["a"]));
        assert_eq!(g["supertypes"], serde_json::json!(["a"]));
        // The generator reads it.
        let generated = crate::grammar_gen::generate_with_stats(
            &std::fs::read_to_string(&out).unwrap(),
            &crate::grammar_gen::GenOptions {
                seed: 1,
                count: 5,
                ..crate::grammar_gen::GenOptions::default()
            },
        )
        .unwrap();
        assert!(!generated.inputs.is_empty());

        // A grammar.js that throws: an error naming the cause, no output.
        std::fs::write(
            pkg.join("lang/grammar.js"),
            "module.exports = grammar({ name: 'bad', rules: { a: $ => choice(undefined) } });\n",
        )
        .unwrap();
        let e = run_dsl(&js, &dir.join("work"), "bad").unwrap_err();
        assert!(format!("{e:#}").contains("rule `a`"), "{e:#}");
        assert!(!dir.join("work/bad.grammar.json").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_inputs_file_parses() {
        let inputs =
            load_inputs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("grammars/inputs.toml"))
                .expect("xtask/grammars/inputs.toml parses");
        assert_eq!(inputs.pygments.version, "2.19.2");
        assert!(inputs.pygments.exclude.iter().any(|e| e == "blitzbasic"));
    }
}
