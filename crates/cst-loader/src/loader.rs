//! The grammar cache: add (build), import (copy), probe, approve, load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cst_grammars::{Grammar, LoadedSpec};

use crate::source::GrammarSource;
use crate::trust::{self, Approval, ArtifactKind};
use crate::{Error, Options, archive, build, file_digest, hex, presets, probe, queries, unhex32};

/// The grammar cache of one user: see the crate documentation.
#[derive(Debug)]
pub struct Loader {
    options: Options,
}

/// What [`Loader::load_approved`] did.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Grammars loaded and registered (or already registered).
    pub loaded: Vec<&'static Grammar>,
    /// Grammars refused, with the reason (a changed library, a taken id…).
    pub refused: Vec<(String, Error)>,
}

/// Overrides for [`Loader::add`] and [`Loader::import`].
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// The id to register the grammar under, instead of the one its symbol
    /// or file name gives (needed to load a second build of a compiled-in
    /// grammar). Only with a single grammar.
    pub id: Option<String>,
    /// Extensions, instead of the package's or the catalogue's.
    pub extensions: Option<Vec<String>>,
}

/// The query files an editor keeps beside its parsers for the language
/// `name`: nvim's `site/parser/<lang>.so` has `site/queries/<lang>/`,
/// Helix's `runtime/grammars/<lang>.so` has `runtime/queries/<lang>/`.
fn editor_queries(library: &Path, name: &str) -> Vec<(String, PathBuf)> {
    let Some(root) = library.parent().and_then(Path::parent) else {
        return Vec::new();
    };
    let mut names = vec![name.to_string(), name.replace('-', "_")];
    names.dedup();
    let Some(dir) = names
        .iter()
        .map(|n| root.join("queries").join(n))
        .find(|d| d.is_dir())
    else {
        return Vec::new();
    };
    ["tags", "highlights", "locals", "injections"]
        .iter()
        .map(|kind| (kind.to_string(), dir.join(format!("{kind}.scm"))))
        .filter(|(_, p)| p.is_file())
        .collect()
}

/// A grammar compiled into cst keeps its id: a loaded one could never be
/// registered under it. Nor can an id that is not `[a-z0-9_]+`.
fn refuse_compiled_in(id: &str) -> Result<(), Error> {
    if !cst_grammars::is_valid_id(id) {
        return Err(cst_grammars::Error::InvalidId(id.to_string()).into());
    }
    if cst_grammars::by_id(id).is_some_and(|g| g.is_compiled()) {
        return Err(Error::Taken(id.to_string()));
    }
    Ok(())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Loader {
    /// A loader over the grammar cache `options.dir` (created if needed,
    /// private to the user).
    pub fn open(options: Options) -> Result<Loader, Error> {
        let dir = &options.dir;
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir)
                .map_err(Error::io(dir))?
                .permissions();
            if mode.mode() & 0o022 != 0 {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(Error::io(dir))?;
            }
        }
        for f in &options.forbidden {
            let f = f.canonicalize().unwrap_or_else(|_| f.clone());
            let d = dir.canonicalize().map_err(Error::io(dir))?;
            if d.starts_with(&f) {
                return Err(Error::Untrusted {
                    path: d,
                    reason: format!(
                        "the grammar cache is inside {}, the workspace; it must be the user's",
                        f.display()
                    ),
                });
            }
        }
        Ok(Loader { options })
    }

    /// The options the loader was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The approved grammars.
    pub fn approvals(&self) -> Result<Vec<Approval>, Error> {
        trust::read(&self.options.dir)
    }

    fn save(&self, approval: Approval) -> Result<(), Error> {
        let _lock = trust::lock(&self.options.dir)?;
        let mut all = self.approvals()?;
        all.retain(|a| a.id != approval.id);
        all.push(approval);
        trust::write(&self.options.dir, &all)
    }

    /// Builds the grammars of `path` (a source directory, a `.crate`, an npm
    /// `.tgz` or a `.tar.gz` sdist), probes each and approves it. Returns the
    /// approvals in path order. A grammar already approved with the same
    /// artifact is approved again (its probe rerun), not rebuilt.
    pub fn add(&self, path: &Path, options: &AddOptions) -> Result<Vec<Approval>, Error> {
        let unpacked;
        let root = if archive::is_archive(path) && path.is_file() {
            let tmp_root = self.options.dir.join("tmp");
            std::fs::create_dir_all(&tmp_root).map_err(Error::io(&tmp_root))?;
            unpacked = tempfile::Builder::new()
                .prefix("unpack-")
                .tempdir_in(&tmp_root)
                .map_err(Error::io(&tmp_root))?;
            archive::unpack(path, unpacked.path())?;
            unpacked.path().to_path_buf()
        } else if path.is_dir() {
            path.to_path_buf()
        } else {
            return Err(Error::NoSources(path.to_path_buf()));
        };
        let sources = crate::source::find(&root)?;
        if sources.is_empty() {
            return Err(Error::NoSources(path.to_path_buf()));
        }
        if options.id.is_some() && sources.len() > 1 {
            return Err(Error::Compile {
                grammar: path.display().to_string(),
                message: format!(
                    "--id names one grammar, the package holds {}",
                    sources.len()
                ),
            });
        }
        let origin = path
            .canonicalize()
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string();
        sources
            .iter()
            .map(|g| self.add_one(g, &origin, options))
            .collect()
    }

    fn add_one(
        &self,
        g: &GrammarSource,
        origin: &str,
        options: &AddOptions,
    ) -> Result<Approval, Error> {
        // The catalogue's id for the exported symbol (`tree_sitter_nu` →
        // `nushell`), else the symbol's own name.
        let mut id = crate::cat::by_symbol(&g.symbol).map_or_else(|| g.default_id(), |k| k.id);
        if let Some(forced) = &options.id {
            id.clone_from(forced);
        }
        refuse_compiled_in(&id)?;
        let built = build::build(g, &self.options.dir, self.options.allow_cpp)?;
        let digest = file_digest(&built.library)?;
        let report = probe::run(
            &self.options.probe,
            self.options.probe_timeout,
            &id,
            &built.library,
            &g.symbol,
            &g.samples,
        )?;
        let mut approval = self.describe(&id, &g.symbol, &built.library, digest, &report)?;
        approval.kind = ArtifactKind::Built;
        approval.artifact = hex(&built.digest);
        approval.origin = origin.to_string();
        approval.package.clone_from(&g.package);
        approval.version.clone_from(&g.version);
        approval.license.clone_from(&g.license);
        if approval.extensions.is_empty() || options.id.is_some() {
            approval.extensions.clone_from(&g.file_types);
        }
        if options.id.is_some() {
            // A second build of a known language claims nothing by default.
            approval.file_names.clear();
            approval.interpreters.clear();
            approval.aliases.clear();
        }
        if let Some(ext) = &options.extensions {
            approval.extensions.clone_from(ext);
        }
        self.keep_queries(&mut approval, &g.queries, &built.digest)?;
        self.save(approval.clone())?;
        Ok(approval)
    }

    /// A first approval record from the probe's report and the catalogue.
    fn describe(
        &self,
        id: &str,
        symbol: &str,
        library: &Path,
        digest: [u8; 32],
        report: &probe::ProbeReport,
    ) -> Result<Approval, Error> {
        let library = library
            .strip_prefix(&self.options.dir)
            .map_err(|_| Error::Untrusted {
                path: library.to_path_buf(),
                reason: "not inside the grammar cache".into(),
            })?
            .to_path_buf();
        let known = crate::cat::lookup(id)
            .filter(|k| k.id == id)
            .unwrap_or_default();
        Ok(Approval {
            id: id.to_string(),
            name: if known.name.is_empty() {
                id.to_string()
            } else {
                known.name
            },
            symbol: symbol.to_string(),
            library,
            digest: hex(&digest),
            artifact: hex(&digest),
            kind: ArtifactKind::Imported,
            abi: report.abi,
            tables: report.tables.clone(),
            origin: String::new(),
            package: String::new(),
            version: String::new(),
            license: String::new(),
            extensions: known.extensions,
            file_names: known.file_names,
            interpreters: known.interpreters,
            aliases: known.aliases,
            queries: BTreeMap::new(),
            query_notes: Vec::new(),
            approved_at: now(),
        })
    }

    /// Validates a grammar's query files against its language (opened from
    /// the approved library once the probe passed) and keeps what passes in
    /// the cache: patterns with predicates cst does not evaluate removed, a
    /// file that does not compile for this grammar left out. Records both
    /// in `approval`.
    fn keep_queries(
        &self,
        approval: &mut Approval,
        found: &[(String, PathBuf)],
        digest: &[u8; 32],
    ) -> Result<(), Error> {
        approval.queries.clear();
        approval.query_notes.clear();
        if found.is_empty() {
            return Ok(());
        }
        let library = self.options.dir.join(&approval.library);
        let language = crate::dl::open(&library, &approval.symbol)?;
        let rel = PathBuf::from("queries").join(hex(digest));
        let dir = self.options.dir.join(&rel);
        std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        let mut texts: BTreeMap<&str, String> = BTreeMap::new();
        for (kind, path) in found {
            let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
            let slot = texts.entry(kind.as_str()).or_default();
            slot.push_str(&text);
            slot.push('\n');
        }
        for (kind, text) in texts {
            match queries::validate(&language, kind, &text) {
                Ok(v) => {
                    if v.dropped > 0 {
                        approval.query_notes.push(format!(
                            "{kind}: {} of {} patterns dropped (predicates cst does not evaluate)",
                            v.dropped,
                            v.kept + v.dropped
                        ));
                    }
                    if v.inherits {
                        approval
                            .query_notes
                            .push(format!("{kind}: `; inherits:` not followed"));
                    }
                    if v.kept == 0 {
                        continue;
                    }
                    let name = format!("{kind}.scm");
                    std::fs::write(dir.join(&name), v.text).map_err(Error::io(dir.join(&name)))?;
                    approval.queries.insert(kind.to_string(), rel.join(name));
                }
                Err(e) => approval.query_notes.push(format!(
                    "{kind}: left out, it does not compile for this grammar: {e}"
                )),
            }
        }
        Ok(())
    }

    /// Imports the compiled parser `library` (from an editor's directory):
    /// checks the file rules, copies it into the cache, probes the copy and
    /// approves it. `name` is the language name (`c-sharp`); the id and
    /// symbol follow from it ([`presets::id_and_symbol`]).
    pub fn import(
        &self,
        library: &Path,
        name: &str,
        options: &AddOptions,
    ) -> Result<Approval, Error> {
        let (mut id, symbol) = presets::id_and_symbol(name);
        if let Some(forced) = &options.id {
            id.clone_from(forced);
        }
        refuse_compiled_in(&id)?;
        // The bytes checked are the bytes copied (one descriptor), and the
        // copy in the cache is what is probed, approved and loaded.
        let bytes = trust::read_trusted(library, &self.options.forbidden)?;
        let digest = *blake3::hash(&bytes).as_bytes();
        let dir = self.options.dir.join("lib").join(hex(&digest));
        let copy = dir.join(build::library_name(&symbol));
        if !copy.is_file() {
            // Written under a temporary name, then renamed: a reader never
            // sees a half-written library.
            std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
            crate::not_writable_by_others(&dir)?;
            let tmp = dir.join(format!(".{}.tmp", std::process::id()));
            std::fs::write(&tmp, &bytes).map_err(Error::io(&tmp))?;
            crate::not_writable_by_others(&tmp)?;
            std::fs::rename(&tmp, &copy).map_err(Error::io(&copy))?;
        }
        if file_digest(&copy)? != digest {
            return Err(Error::Untrusted {
                path: copy,
                reason: "the copy in the grammar cache differs from the library read".into(),
            });
        }
        let report = probe::run(
            &self.options.probe,
            self.options.probe_timeout,
            &id,
            &copy,
            &symbol,
            &[],
        )?;
        let mut approval = self.describe(&id, &symbol, &copy, digest, &report)?;
        approval.origin = library
            .canonicalize()
            .unwrap_or_else(|_| library.to_path_buf())
            .display()
            .to_string();
        if let Some(ext) = &options.extensions {
            approval.extensions.clone_from(ext);
        }
        self.keep_queries(&mut approval, &editor_queries(library, name), &digest)?;
        self.save(approval.clone())?;
        Ok(approval)
    }

    /// Probes the approved grammar `id` again and renews its approval when
    /// its library is unchanged or the probe passes on the changed bytes.
    pub fn check(&self, id: &str) -> Result<Approval, Error> {
        let mut approval = self
            .approvals()?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| Error::NotApproved(id.to_string()))?;
        let library = self.options.dir.join(&approval.library);
        trust::check_file(&library, &self.options.forbidden)?;
        let digest = file_digest(&library)?;
        let report = probe::run(
            &self.options.probe,
            self.options.probe_timeout,
            id,
            &library,
            &approval.symbol,
            &[],
        )?;
        if hex(&digest) != approval.digest {
            // Other bytes are another artifact, whatever made them.
            approval.artifact = hex(&digest);
        }
        approval.digest = hex(&digest);
        approval.abi = report.abi;
        let tables_changed = approval.tables != report.tables;
        approval.tables = report.tables;
        approval.approved_at = now();
        if tables_changed {
            // The kept queries were validated against other tables: again.
            let kept: Vec<(String, PathBuf)> = approval
                .queries
                .iter()
                .map(|(k, rel)| (k.clone(), self.options.dir.join(rel)))
                .collect();
            let scratch =
                tempfile::tempdir_in(&self.options.dir).map_err(Error::io(&self.options.dir))?;
            let copies: Vec<(String, PathBuf)> = kept
                .iter()
                .filter_map(|(k, p)| {
                    let copy = scratch.path().join(format!("{k}.scm"));
                    std::fs::copy(p, &copy).ok().map(|_| (k.clone(), copy))
                })
                .collect();
            let artifact = unhex32(&approval.artifact).unwrap_or(digest);
            self.keep_queries(&mut approval, &copies, &artifact)?;
        }
        self.save(approval.clone())?;
        Ok(approval)
    }

    /// Drops the approval of `id`, and its library and query files when no
    /// other approval names them. Returns whether there was one.
    pub fn remove(&self, id: &str) -> Result<bool, Error> {
        let _lock = trust::lock(&self.options.dir)?;
        let mut all = self.approvals()?;
        let Some(at) = all.iter().position(|a| a.id == id) else {
            return Ok(false);
        };
        let gone = all.remove(at);
        trust::write(&self.options.dir, &all)?;
        // Only files the approvals name (checked to be `lib/<digest>/…` and
        // `queries/<digest>/…` in the cache), then their directories if
        // empty. A process that loaded the library keeps its mapping.
        let mut files = Vec::new();
        if !all.iter().any(|a| a.library == gone.library) {
            files.push(gone.library.clone());
        }
        for rel in gone.queries.values() {
            if !all.iter().any(|a| a.queries.values().any(|q| q == rel)) {
                files.push(rel.clone());
            }
        }
        for rel in files {
            let path = self.options.dir.join(&rel);
            let _ = std::fs::remove_file(&path);
            if let Some(parent) = path.parent() {
                let _ = std::fs::remove_dir(parent);
            }
        }
        Ok(true)
    }

    /// Opens the library of `approval` after checking that its bytes are the
    /// approved ones, without registering it.
    pub fn open_language(&self, approval: &Approval) -> Result<tree_sitter::Language, Error> {
        let library = self.options.dir.join(&approval.library);
        trust::check_file(&library, &self.options.forbidden)?;
        if hex(&file_digest(&library)?) != approval.digest {
            return Err(Error::Changed(approval.id.clone()));
        }
        let language = crate::dl::open(&library, &approval.symbol)?;
        let tables = hex(&cst_grammars::table_fingerprint(&language).0);
        if tables != approval.tables {
            return Err(Error::Changed(approval.id.clone()));
        }
        Ok(language)
    }

    /// Loads and registers one approved grammar; its queries are validated
    /// against it (see [`queries`]).
    pub fn load(&self, approval: &Approval) -> Result<&'static Grammar, Error> {
        if let Some(g) = cst_grammars::loaded()
            .into_iter()
            .find(|g| g.id() == approval.id)
        {
            let same = matches!(g.origin(), cst_grammars::Origin::Loaded { digest }
                if hex(&digest) == approval.artifact);
            return if same {
                Ok(g)
            } else {
                Err(cst_grammars::Error::AlreadyRegistered(approval.id.clone()).into())
            };
        }
        let artifact = unhex32(&approval.artifact).ok_or_else(|| Error::Approvals {
            path: trust::approvals_path(&self.options.dir),
            reason: format!("grammar `{}`: artifact digest is not hex", approval.id),
        })?;
        let language = self.open_language(approval)?;
        let mut spec = LoadedSpec {
            id: approval.id.clone(),
            name: approval.name.clone(),
            package: approval.package.clone(),
            version: approval.version.clone(),
            license: approval.license.clone(),
            extensions: approval.extensions.clone(),
            file_names: approval.file_names.clone(),
            interpreters: approval.interpreters.clone(),
            aliases: approval.aliases.clone(),
            ..LoadedSpec::default()
        };
        // The queries were validated against these tables when approved.
        for (kind, rel) in &approval.queries {
            let path = self.options.dir.join(rel);
            let Ok(text) = std::fs::read_to_string(&path) else {
                tracing::warn!(
                    grammar = approval.id,
                    kind,
                    "query file missing: {}",
                    path.display()
                );
                continue;
            };
            let slot = match kind.as_str() {
                "tags" => &mut spec.tags,
                "highlights" => &mut spec.highlights,
                "locals" => &mut spec.locals,
                "injections" => &mut spec.injections,
                _ => continue,
            };
            *slot = Some(text);
        }
        Ok(cst_grammars::register(spec, language, artifact)?)
    }

    /// Loads every approved grammar; refusals are reported, not fatal.
    pub fn load_approved(&self) -> Result<LoadReport, Error> {
        let mut report = LoadReport::default();
        for approval in self.approvals()? {
            match self.load(&approval) {
                Ok(g) => report.loaded.push(g),
                Err(e) => report.refused.push((approval.id.clone(), e)),
            }
        }
        Ok(report)
    }
}
