//! The pinned manifest of grammar *sources* that cst does not compile in
//! (`xtask/grammars/manifest.toml`, documented in `xtask/grammars/README.md`),
//! and fetching them with the registries' ordinary clients.
//!
//! Every entry names one grammar: a package on npm, PyPI (an sdist) or the
//! crate registry, its exact version, the file name of the archive as the
//! client saves it and that archive's sha256. Several entries may share one
//! archive (multi-grammar packages); each gets its own `subdir`.
//!
//! [`fetch_all`] brings every archive the selection needs into one directory,
//! checks its sha256 *before* using it (an archive with another digest is never
//! extracted), unpacks it into `<dir>/<archive stem>/` refusing entries that
//! would escape that directory, links and special files, and returns, per
//! entry, the directory that holds `src/parser.c`. Failures are per entry and
//! never panic: one missing package does not stop the others.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The registry a grammar package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registry {
    /// The npm registry (`npm pack`): a `.tgz` whose files sit under `package/`.
    Npm,
    /// PyPI, source distributions only (`pip download --no-binary`): a `.tar.gz`.
    Pypi,
    /// The crate registry (`cargo fetch` of a throwaway project): a `.crate`
    /// (gzipped tar) whose files sit under `<name>-<version>/`.
    Crates,
}

impl Registry {
    /// The name used in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Registry::Npm => "npm",
            Registry::Pypi => "pypi",
            Registry::Crates => "crates",
        }
    }
}

/// The whole manifest: `[[grammar]]` tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// One entry per grammar (not per package).
    #[serde(rename = "grammar", default)]
    pub grammars: Vec<Entry>,
}

/// One grammar of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Language id: lower case, `-` written `_`; never one of the compiled-in ids.
    pub id: String,
    /// The exported C function, `tree_sitter_<something>`.
    pub symbol: String,
    /// Where the package comes from.
    pub registry: Registry,
    /// The package name as the registry spells it.
    pub package: String,
    /// The exact version.
    pub version: String,
    /// Lower-case hex sha256 of the archive as downloaded.
    pub sha256: String,
    /// The archive's file name as the client saves it.
    pub archive: String,
    /// Path inside the extracted archive of the directory holding `src/`.
    pub subdir: String,
    /// File extensions (without the dot) the language is detected by.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// SPDX licence expression from the package metadata.
    #[serde(default)]
    pub license: String,
    /// Test corpus directory (tree-sitter `test/corpus` format), relative to
    /// the extracted archive root; empty when the package ships none.
    #[serde(default)]
    pub corpus: String,
    /// The external scanner is C++ (`scanner.cc`): it needs `c++` and `-lstdc++`.
    #[serde(default)]
    pub cpp_scanner: bool,
    /// `LANGUAGE_VERSION` of the generated parser (13..=15), as measured.
    #[serde(default)]
    pub abi: u32,
    /// Other sample inputs in the package (e.g. `examples`), relative to the
    /// extracted archive root; informative.
    #[serde(default)]
    pub samples: String,
    /// Where to get the grammar's `src/grammar.json` when the entry's own
    /// package ships none: another package of the same parser.
    #[serde(default)]
    pub grammar_json: Option<Companion>,
}

/// A *companion* source of a grammar's `grammar.json`: another registry
/// package of the same parser (see `xtask/grammars/README.md` for the rule
/// that pairs them), fetched and checked like an entry's own archive.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Companion {
    /// Where the package comes from.
    pub registry: Registry,
    /// The package name as the registry spells it.
    pub package: String,
    /// The exact version.
    pub version: String,
    /// Lower-case hex sha256 of the archive as downloaded.
    pub sha256: String,
    /// The archive's file name as the client saves it.
    pub archive: String,
    /// Path of the `grammar.json` inside the extracted archive.
    pub path: String,
}

/// What identifies one archive: where it comes from and its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Package<'a> {
    /// Where the package comes from.
    pub registry: Registry,
    /// The package name as the registry spells it.
    pub package: &'a str,
    /// The exact version.
    pub version: &'a str,
    /// Lower-case hex sha256 of the archive as downloaded.
    pub sha256: &'a str,
    /// The archive's file name as the client saves it.
    pub archive: &'a str,
}

impl Package<'_> {
    fn archive_stem(&self) -> &str {
        archive_stem(self.archive)
    }
}

impl Companion {
    /// The archive this companion comes in.
    pub fn package(&self) -> Package<'_> {
        Package {
            registry: self.registry,
            package: &self.package,
            version: &self.version,
            sha256: &self.sha256,
            archive: &self.archive,
        }
    }
}

impl Entry {
    /// The archive this entry comes in.
    pub fn package(&self) -> Package<'_> {
        Package {
            registry: self.registry,
            package: &self.package,
            version: &self.version,
            sha256: &self.sha256,
            archive: &self.archive,
        }
    }

    /// The archive's name without its `.tgz` / `.tar.gz` / `.crate` suffix:
    /// the directory it is extracted into.
    pub fn archive_stem(&self) -> &str {
        archive_stem(&self.archive)
    }
}

fn archive_stem(archive: &str) -> &str {
    [".tar.gz", ".tgz", ".crate"]
        .iter()
        .find_map(|s| archive.strip_suffix(s))
        .unwrap_or(archive)
}

/// Reads and checks the manifest: every field is well formed, ids and
/// symbols are unique, and entries sharing an archive agree on its package,
/// version and digest.
pub fn load_manifest(path: &Path) -> anyhow::Result<Manifest> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_manifest(&text).with_context(|| format!("in {}", path.display()))
}

/// [`load_manifest`] on text.
pub fn parse_manifest(text: &str) -> anyhow::Result<Manifest> {
    let manifest: Manifest = toml::from_str(text)?;
    let mut ids = BTreeMap::new();
    let mut symbols = BTreeMap::new();
    let mut archives: BTreeMap<&str, (&str, Package<'_>)> = BTreeMap::new();
    for e in &manifest.grammars {
        check_entry(e).with_context(|| format!("grammar {:?}", e.id))?;
        if ids.insert(e.id.as_str(), ()).is_some() {
            bail!("duplicate id {:?}", e.id);
        }
        if symbols.insert(e.symbol.as_str(), ()).is_some() {
            bail!("duplicate symbol {:?}", e.symbol);
        }
        let packages =
            std::iter::once(e.package()).chain(e.grammar_json.iter().map(Companion::package));
        for p in packages {
            if let Some((first, q)) = archives.insert(p.archive, (e.id.as_str(), p))
                && q != p
            {
                bail!(
                    "entries {first:?} and {:?} share archive {:?} but disagree on its package, version or sha256",
                    e.id,
                    p.archive
                );
            }
        }
    }
    Ok(manifest)
}

fn check_entry(e: &Entry) -> anyhow::Result<()> {
    check_package(&e.package())?;
    if let Some(c) = &e.grammar_json {
        check_package(&c.package()).context("grammar_json")?;
        if !relative_inside(&c.path) || !c.path.ends_with("grammar.json") {
            bail!(
                "grammar_json path {:?} must be a relative path without `..` ending in grammar.json",
                c.path
            );
        }
        if (c.registry, &c.package, &c.version) == (e.registry, &e.package, &e.version) {
            bail!("grammar_json names the entry's own package");
        }
    }
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if !ident(&e.id) {
        bail!("id must be lower-case [a-z0-9_]+");
    }
    match e.symbol.strip_prefix("tree_sitter_") {
        Some(rest)
            if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => {
        }
        _ => bail!("symbol {:?} is not tree_sitter_<name>", e.symbol),
    }
    for (what, p) in [
        ("subdir", &e.subdir),
        ("corpus", &e.corpus),
        ("samples", &e.samples),
    ] {
        if !p.is_empty() && !relative_inside(p) {
            bail!("{what} {p:?} must be a relative path without `..`");
        }
    }
    if e.subdir.is_empty() {
        bail!("subdir is empty (use the archive's top directory)");
    }
    if !(e.abi == 0 || (13..=15).contains(&e.abi)) {
        bail!("abi {} outside 13..=15", e.abi);
    }
    Ok(())
}

/// The fields naming an archive: digest, names, file name.
fn check_package(e: &Package<'_>) -> anyhow::Result<()> {
    if e.sha256.len() != 64
        || !e
            .sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        bail!("sha256 must be 64 lower-case hex digits");
    }
    let safe_name = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-@/+!".contains(&b))
            && !s.split('/').any(|c| c.is_empty() || c == "." || c == "..")
    };
    if !safe_name(e.package) || !safe_name(e.version) || e.version.contains('/') {
        bail!("package or version has unexpected characters");
    }
    if !safe_name(e.archive) || e.archive.contains('/') || archive_stem(e.archive) == e.archive {
        bail!(
            "archive {:?} must be a plain .tgz/.tar.gz/.crate file name",
            e.archive
        );
    }
    Ok(())
}

fn relative_inside(p: &str) -> bool {
    Path::new(p)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Lower-case hex sha256 of a file.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut f = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Fails unless the file's sha256 is `expected`.
pub fn verify_sha256(path: &Path, expected: &str) -> anyhow::Result<()> {
    let got = sha256_file(path)?;
    if got != expected {
        bail!(
            "sha256 mismatch for {}: manifest says {expected}, file has {got}",
            path.display()
        );
    }
    Ok(())
}

/// Fetches (unless already present with the right sha256) every distinct
/// archive that the selected entries need into `dir`, verifies it, extracts it
/// into `dir/<archive stem>/` and returns, for each selected entry in manifest
/// order, the absolute path of its grammar directory (the one holding
/// `src/parser.c`) or that entry's error.
///
/// `only` selects entries by id (or by package name); `None` takes them all.
pub fn fetch_all(
    manifest: &Manifest,
    dir: &Path,
    only: Option<&[String]>,
) -> Vec<(Entry, anyhow::Result<PathBuf>)> {
    fetch_all_with(manifest, dir, only, &fetch_with_client)
}

/// A downloader: brings the entry's archive into the (empty) staging
/// directory and returns the path of the file it wrote.
type Fetcher<'a> = dyn Fn(&Package<'_>, &Path) -> anyhow::Result<PathBuf> + 'a;

fn fetch_all_with(
    manifest: &Manifest,
    dir: &Path,
    only: Option<&[String]>,
    fetcher: &Fetcher<'_>,
) -> Vec<(Entry, anyhow::Result<PathBuf>)> {
    let selected: Vec<&Entry> = manifest
        .grammars
        .iter()
        .filter(|e| only.is_none_or(|o| o.iter().any(|s| *s == e.id || *s == e.package)))
        .collect();
    let mut archives: BTreeMap<&str, Result<PathBuf, String>> = BTreeMap::new();
    if let Err(e) = fs::create_dir_all(dir) {
        let msg = format!("creating {}: {e}", dir.display());
        return selected
            .into_iter()
            .map(|e| (e.clone(), Err(anyhow!(msg.clone()))))
            .collect();
    }
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    for e in &selected {
        if !archives.contains_key(e.archive.as_str()) {
            let r = prepare_archive(&e.package(), &dir, fetcher).map_err(|err| format!("{err:#}"));
            archives.insert(e.archive.as_str(), r);
        }
    }
    selected
        .into_iter()
        .map(|e| {
            let r = match &archives[e.archive.as_str()] {
                Err(msg) => Err(anyhow!("{}: {msg}", e.archive)),
                Ok(root) => grammar_dir(e, root),
            };
            (e.clone(), r)
        })
        .collect()
}

/// Fetches (unless already there with the right sha256), verifies and
/// extracts the archive of an entry's companion into `dir` like
/// [`fetch_all`] does, and returns the absolute path of its `grammar.json`.
pub fn fetch_companion(c: &Companion, dir: &Path) -> anyhow::Result<PathBuf> {
    fetch_companion_with(c, dir, &fetch_with_client)
}

fn fetch_companion_with(
    c: &Companion,
    dir: &Path,
    fetcher: &Fetcher<'_>,
) -> anyhow::Result<PathBuf> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let root = prepare_archive(&c.package(), &dir, fetcher).with_context(|| c.archive.clone())?;
    let path = root.join(&c.path);
    if !path.is_file() {
        bail!("{} has no {}", c.archive, c.path);
    }
    Ok(path)
}

fn grammar_dir(e: &Entry, root: &Path) -> anyhow::Result<PathBuf> {
    let g = root.join(&e.subdir);
    if !g.join("src").join("parser.c").is_file() {
        bail!("{} has no src/parser.c", g.display());
    }
    if !e.corpus.is_empty() && !root.join(&e.corpus).is_dir() {
        bail!("corpus {} missing in {}", e.corpus, root.display());
    }
    Ok(g)
}

/// Makes sure `dir/<archive>` exists with the right digest and is extracted;
/// returns the extraction root `dir/<stem>`.
fn prepare_archive(e: &Package<'_>, dir: &Path, fetcher: &Fetcher<'_>) -> anyhow::Result<PathBuf> {
    let archive = dir.join(e.archive);
    let root = dir.join(e.archive_stem());
    let marker = root.join(".cst-archive-sha256");
    if fs::read_to_string(&marker).is_ok_and(|s| s.trim() == e.sha256) {
        return Ok(root);
    }
    let have = archive.is_file() && sha256_file(&archive).is_ok_and(|s| s == e.sha256);
    if !have {
        let staging = dir.join(format!(".fetch-{}", e.archive_stem()));
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging)?;
        let result = (|| {
            let got = fetcher(e, &staging).with_context(|| {
                format!(
                    "fetching {} {} from {}",
                    e.package,
                    e.version,
                    e.registry.as_str()
                )
            })?;
            verify_sha256(&got, e.sha256)?;
            fs::rename(&got, &archive)
                .with_context(|| format!("moving {} into place", got.display()))?;
            anyhow::Ok(())
        })();
        let _ = fs::remove_dir_all(&staging);
        result?;
    }
    // Re-check what is on disk now: the digest is what makes it trusted.
    verify_sha256(&archive, e.sha256)?;
    let tmp = dir.join(format!(".extract-{}", e.archive_stem()));
    let _ = fs::remove_dir_all(&tmp);
    extract_tar_gz(&archive, &tmp)?;
    fs::write(tmp.join(".cst-archive-sha256"), format!("{}\n", e.sha256))?;
    let _ = fs::remove_dir_all(&root);
    fs::rename(&tmp, &root).with_context(|| format!("moving extraction to {}", root.display()))?;
    Ok(root)
}

/// Unpacks a gzipped tar into `dest` (created). Refuses absolute paths, `..`,
/// links and device files: a grammar archive needs none of them.
pub fn extract_tar_gz(archive: &Path, dest: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dest)?;
    let f = fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(f)));
    tar.set_preserve_permissions(false);
    tar.set_unpack_xattrs(false);
    tar.set_overwrite(true);
    for entry in tar
        .entries()
        .with_context(|| format!("reading {}", archive.display()))?
    {
        let mut entry = entry.with_context(|| format!("reading {}", archive.display()))?;
        let path = entry.path()?.into_owned();
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink()
        {
            continue;
        }
        if !(kind.is_file() || kind.is_dir() || kind == tar::EntryType::Continuous) {
            bail!(
                "{}: refusing {:?} entry {}",
                archive.display(),
                kind,
                path.display()
            );
        }
        if !path.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        }) {
            bail!(
                "{}: refusing path {} (escapes the destination)",
                archive.display(),
                path.display()
            );
        }
        if !entry
            .unpack_in(dest)
            .with_context(|| format!("unpacking {}", path.display()))?
        {
            bail!(
                "{}: refusing path {} (escapes the destination)",
                archive.display(),
                path.display()
            );
        }
    }
    Ok(())
}

/// Runs a client command quietly; its output goes into the error on failure.
fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String = err
            .chars()
            .rev()
            .take(1500)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        bail!("{cmd:?} failed ({}): {tail}", out.status);
    }
    Ok(())
}

/// The real downloader: npm pack / pip download / cargo fetch.
fn fetch_with_client(e: &Package<'_>, staging: &Path) -> anyhow::Result<PathBuf> {
    let spec_ok = |s: &str| !s.starts_with('-');
    if !spec_ok(e.package) || !spec_ok(e.version) {
        bail!("package or version starts with '-'");
    }
    let want = staging.join(e.archive);
    match e.registry {
        Registry::Npm => {
            run(Command::new("npm")
                .args(["pack", "--silent", "--pack-destination"])
                .arg(staging)
                .arg(format!("{}@{}", e.package, e.version))
                .current_dir(staging))?;
        }
        Registry::Pypi => {
            // `--no-binary <pkg>`: the sdist of this package only (its build
            // requirements may come as wheels: pip prepares the sdist's
            // metadata, which needs them).
            // `$PIP` may name another pip (e.g. `pip3`).
            let pip = std::env::var_os("PIP").unwrap_or_else(|| "pip".into());
            run(Command::new(pip)
                .args([
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--ignore-requires-python",
                    "--no-binary",
                ])
                .arg(e.package)
                .arg("--dest")
                .arg(staging)
                .arg(format!("{}=={}", e.package, e.version))
                .current_dir(staging))?;
        }
        Registry::Crates => {
            let proj = staging.join("fetch-project");
            fs::create_dir_all(proj.join("src"))?;
            fs::write(
                proj.join("Cargo.toml"),
                format!(
                    "[package]\nname = \"grammar-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
                     [dependencies]\n{:?} = {{ version = \"={}\", default-features = false }}\n\n[workspace]\n",
                    e.package, e.version
                ),
            )?;
            fs::write(proj.join("src").join("main.rs"), "fn main() {}\n")?;
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            run(Command::new(cargo)
                .args(["fetch", "--quiet", "--manifest-path"])
                .arg(proj.join("Cargo.toml"))
                .current_dir(&proj))?;
            let found = crate_in_cargo_cache(e.archive).ok_or_else(|| {
                anyhow!(
                    "cargo fetch did not leave {} in the registry cache",
                    e.archive
                )
            })?;
            fs::copy(&found, &want)?;
        }
    }
    if !want.is_file() {
        let listing: Vec<String> = fs::read_dir(staging)
            .map(|rd| {
                rd.flatten()
                    .map(|d| d.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        bail!("expected {} from the client, got {listing:?}", e.archive);
    }
    Ok(want)
}

/// `$CARGO_HOME/registry/cache/<index>/<file>` (any index).
fn crate_in_cargo_cache(file: &str) -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    fs::read_dir(home.join("registry").join("cache"))
        .ok()?
        .flatten()
        .map(|d| d.path().join(file))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("cst-grammar-sources-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// A gzipped tar of (path, contents) written with raw headers, so that a
    /// test can also produce names the tar crate's builder would refuse.
    fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (path, body) in files {
            let mut h = tar::Header::new_gnu();
            {
                let gnu = h.as_gnu_mut().unwrap();
                gnu.name[..path.len()].copy_from_slice(path.as_bytes());
            }
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            tar.append(&h, body.as_bytes()).unwrap();
        }
        let raw = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        gz.finish().unwrap()
    }

    fn sha(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    fn manifest_for(archive: &str, sha256: &str) -> Manifest {
        parse_manifest(&format!(
            r#"
[[grammar]]
id = "demo"
symbol = "tree_sitter_demo"
registry = "npm"
package = "tree-sitter-demo"
version = "1.0.0"
sha256 = "{sha256}"
archive = "{archive}"
subdir = "package"
extensions = ["demo"]
license = "MIT"
corpus = "package/test/corpus"
"#
        ))
        .unwrap()
    }

    #[test]
    fn the_manifest_parses_and_names_no_compiled_in_language() {
        let m =
            load_manifest(&Path::new(env!("CARGO_MANIFEST_DIR")).join("grammars/manifest.toml"))
                .expect("xtask/grammars/manifest.toml parses");
        assert!(m.grammars.len() >= 60, "{} entries", m.grammars.len());
        for e in &m.grammars {
            assert!(
                !cst_grammars::all().iter().any(|g| g.id() == e.id),
                "{} is a compiled-in id",
                e.id
            );
            assert!((13..=15).contains(&e.abi), "{}: abi {}", e.id, e.abi);
        }
    }

    #[test]
    fn manifest_parse_checks_fields() {
        let good = "a".repeat(64);
        let m = manifest_for("tree-sitter-demo-1.0.0.tgz", &good);
        assert_eq!(m.grammars.len(), 1);
        let e = &m.grammars[0];
        assert_eq!(
            (e.registry, e.archive_stem()),
            (Registry::Npm, "tree-sitter-demo-1.0.0")
        );
        assert_eq!(e.extensions, ["demo"]);
        assert!(!e.cpp_scanner);
        // Bad digests, symbols, paths and duplicates are refused.
        for bad in [
            ("sha256 = \"", "sha256 = \"x"),
            ("symbol = \"tree_sitter_demo\"", "symbol = \"demo\""),
            ("subdir = \"package\"", "subdir = \"../package\""),
            (
                "archive = \"tree-sitter-demo-1.0.0.tgz\"",
                "archive = \"a/b.tgz\"",
            ),
            ("registry = \"npm\"", "registry = \"maven\""),
            ("license = \"MIT\"", "licence = \"MIT\""),
        ] {
            let text = format!(
                "[[grammar]]\nid = \"demo\"\nsymbol = \"tree_sitter_demo\"\nregistry = \"npm\"\npackage = \"p\"\nversion = \"1\"\nsha256 = \"{good}\"\narchive = \"tree-sitter-demo-1.0.0.tgz\"\nsubdir = \"package\"\nlicense = \"MIT\"\n"
            );
            assert!(parse_manifest(&text).is_ok());
            let broken = text.replacen(bad.0, bad.1, 1);
            assert_ne!(broken, text, "{bad:?}");
            assert!(parse_manifest(&broken).is_err(), "accepted {bad:?}");
            let twice = format!("{text}{text}");
            assert!(
                parse_manifest(&twice)
                    .unwrap_err()
                    .to_string()
                    .contains("duplicate")
            );
        }
    }

    #[test]
    fn a_sha_mismatch_is_detected_and_nothing_is_extracted() {
        let dir = scratch("mismatch");
        let bytes = tar_gz(&[("package/src/parser.c", "/* parser */")]);
        let m = manifest_for("tree-sitter-demo-1.0.0.tgz", &"0".repeat(64));
        let fetcher = |e: &Package<'_>, staging: &Path| {
            let p = staging.join(e.archive);
            fs::write(&p, &bytes)?;
            Ok(p)
        };
        let out = fetch_all_with(&m, &dir, None, &fetcher);
        assert_eq!(out.len(), 1);
        let err = format!("{:#}", out[0].1.as_ref().unwrap_err());
        assert!(err.contains("sha256 mismatch"), "{err}");
        assert!(!dir.join("tree-sitter-demo-1.0.0").exists());
        assert!(!dir.join("tree-sitter-demo-1.0.0.tgz").exists());
        // verify_sha256 on its own.
        let f = dir.join("f");
        fs::write(&f, b"abc").unwrap();
        verify_sha256(
            &f,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        )
        .unwrap();
        assert!(verify_sha256(&f, &"0".repeat(64)).is_err());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_good_archive_is_fetched_once_and_extracted() {
        let dir = scratch("good");
        let bytes = tar_gz(&[
            ("package/src/parser.c", "/* parser */"),
            ("package/test/corpus/a.txt", "==\nx\n==\nx\n--\n(x)\n"),
        ]);
        let m = manifest_for("tree-sitter-demo-1.0.0.tgz", &sha(&bytes));
        let calls = std::cell::Cell::new(0);
        let fetcher = |e: &Package<'_>, staging: &Path| {
            calls.set(calls.get() + 1);
            let p = staging.join(e.archive);
            fs::write(&p, &bytes)?;
            Ok(p)
        };
        let out = fetch_all_with(&m, &dir, None, &fetcher);
        let g = out[0].1.as_ref().unwrap();
        assert!(g.is_absolute());
        assert!(g.join("src/parser.c").is_file());
        // Second run: already there, no fetch.
        let out = fetch_all_with(&m, &dir, Some(&["demo".to_string()]), &fetcher);
        assert!(out[0].1.is_ok());
        assert_eq!(calls.get(), 1);
        // Selection by an unknown id selects nothing.
        assert!(fetch_all_with(&m, &dir, Some(&["nope".to_string()]), &fetcher).is_empty());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_companion_grammar_json_is_parsed_checked_and_fetched() {
        let dir = scratch("companion");
        let bytes = tar_gz(&[
            ("demo-2.0.0/src/grammar.json", "{\"name\": \"demo\"}"),
            ("demo-2.0.0/src/parser.c", "/* parser */"),
        ]);
        let entry = |path: &str, sha: &str| {
            format!(
                "[[grammar]]\nid = \"demo\"\nsymbol = \"tree_sitter_demo\"\nregistry = \"pypi\"\npackage = \"tree-sitter-demo\"\nversion = \"2.0.0\"\nsha256 = \"{}\"\narchive = \"tree_sitter_demo-2.0.0.tar.gz\"\nsubdir = \"tree_sitter_demo-2.0.0\"\n\
                 grammar_json = {{ registry = \"crates\", package = \"demo\", version = \"2.0.0\", sha256 = \"{sha}\", archive = \"demo-2.0.0.crate\", path = \"{path}\" }}\n",
                "b".repeat(64)
            )
        };
        let m = parse_manifest(&entry("demo-2.0.0/src/grammar.json", &sha(&bytes))).unwrap();
        let c = m.grammars[0]
            .grammar_json
            .clone()
            .expect("companion parsed");
        assert_eq!(
            (c.registry, c.package.as_str(), c.path.as_str()),
            (Registry::Crates, "demo", "demo-2.0.0/src/grammar.json")
        );
        // Entries without one have none.
        assert!(
            manifest_for("tree-sitter-demo-1.0.0.tgz", &"a".repeat(64)).grammars[0]
                .grammar_json
                .is_none()
        );
        // Escaping or non-grammar.json paths, bad digests, unknown keys are refused.
        for bad in [
            entry("../src/grammar.json", &sha(&bytes)),
            entry("demo-2.0.0/src/parser.c", &sha(&bytes)),
            entry("demo-2.0.0/src/grammar.json", "xyz"),
            entry("demo-2.0.0/src/grammar.json", &sha(&bytes)).replace("path =", "file ="),
        ] {
            assert!(parse_manifest(&bad).is_err(), "accepted {bad}");
        }
        // Fetched once, sha-checked, extracted; the path is returned.
        let calls = std::cell::Cell::new(0);
        let fetcher = |e: &Package<'_>, staging: &Path| {
            calls.set(calls.get() + 1);
            let p = staging.join(e.archive);
            fs::write(&p, &bytes)?;
            Ok(p)
        };
        let got = fetch_companion_with(&c, &dir, &fetcher).unwrap();
        assert!(got.is_absolute() && got.ends_with("demo-2.0.0/src/grammar.json"));
        assert_eq!(fs::read_to_string(&got).unwrap(), "{\"name\": \"demo\"}");
        fetch_companion_with(&c, &dir, &fetcher).unwrap();
        assert_eq!(calls.get(), 1);
        // A missing file inside the archive and a wrong digest are errors.
        let missing = Companion {
            path: "demo-2.0.0/grammar.json".into(),
            ..c.clone()
        };
        assert!(fetch_companion_with(&missing, &dir, &fetcher).is_err());
        let wrong = Companion {
            sha256: "0".repeat(64),
            archive: "demo-3.0.0.crate".into(),
            ..c.clone()
        };
        let err = format!(
            "{:#}",
            fetch_companion_with(&wrong, &dir, &fetcher).unwrap_err()
        );
        assert!(err.contains("sha256 mismatch"), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn extraction_refuses_paths_escaping_the_destination() {
        let dir = scratch("escape");
        for evil in ["package/../../evil.c", "/tmp/evil.c"] {
            let bytes = tar_gz(&[("package/src/parser.c", "x"), (evil, "boom")]);
            let a = dir.join("a.tgz");
            fs::write(&a, &bytes).unwrap();
            let dest = dir.join("out");
            let err = extract_tar_gz(&a, &dest).unwrap_err();
            assert!(format!("{err:#}").contains("refusing"), "{evil}: {err:#}");
            assert!(!dir.join("evil.c").exists());
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
