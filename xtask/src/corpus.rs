//! `cargo xtask corpus fetch --tier ci|full [--lang L]`: downloads the pinned
//! artifacts of `corpora/manifest.toml` with the registries' ordinary
//! clients, checks their sha256 and unpacks them under `$CST_CORPORA`
//! (default `target/corpora`). Also lists a tier's files per language for
//! `bench` and `verify-corpus --tier`.
//!
//! Layout of the cache: `downloads/<file>` (verified artifacts),
//! `src/<id>/` (unpacked; `src/<id>.ok` holds the sha256 it was unpacked
//! from, so a second run does nothing), `cargo-home/` (the crates.io
//! corpora), `apt/` (a private apt configuration and package lists: Debian
//! artifacts are fetched without touching the system's apt state).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

/// `corpora/manifest.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    artifact: Vec<Artifact>,
    corpus: Vec<Corpus>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Artifact {
    id: String,
    tiers: Vec<String>,
    registry: String,
    name: String,
    version: String,
    file: String,
    sha256: String,
    #[serde(default)]
    unpack: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    lang: String,
    tiers: Vec<String>,
    artifacts: Vec<String>,
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

/// The files of one language in a tier.
pub(crate) struct LangFiles {
    pub(crate) lang: &'static cst_grammars::Grammar,
    pub(crate) files: Vec<PathBuf>,
}

/// Where corpora are cached: `$CST_CORPORA`, default `target/corpora`.
pub(crate) fn corpora_dir() -> PathBuf {
    std::env::var_os("CST_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target/corpora"))
}

pub(crate) fn load() -> Result<Manifest> {
    let path = crate::root().join("corpora/manifest.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let m: Manifest =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    m.check()?;
    Ok(m)
}

impl Manifest {
    fn check(&self) -> Result<()> {
        let mut ids = std::collections::HashSet::new();
        for a in &self.artifact {
            ensure!(ids.insert(&a.id), "artifact `{}` appears twice", a.id);
            ensure!(
                a.sha256.len() == 64 && a.sha256.bytes().all(|b| b.is_ascii_hexdigit()),
                "artifact `{}`: sha256 must be 64 hex digits",
                a.id
            );
            ensure!(
                ["crates", "npm", "pypi", "deb", "deb-src"].contains(&a.registry.as_str()),
                "artifact `{}`: unknown registry `{}`",
                a.id,
                a.registry
            );
        }
        for c in &self.corpus {
            ensure!(
                cst_grammars::by_id(&c.lang).is_some(),
                "corpus `{}`: not a grammar of this build",
                c.lang
            );
            for a in &c.artifacts {
                let art = self
                    .artifact
                    .iter()
                    .find(|x| &x.id == a)
                    .with_context(|| format!("corpus `{}`: unknown artifact `{a}`", c.lang))?;
                for t in &c.tiers {
                    ensure!(
                        art.tiers.contains(t),
                        "corpus `{}` in tier {t} uses artifact `{a}`, which is not in that tier",
                        c.lang
                    );
                }
            }
        }
        Ok(())
    }

    fn corpora(&self, tier: &str, lang: Option<&str>) -> Vec<&Corpus> {
        self.corpus
            .iter()
            .filter(|c| c.tiers.iter().any(|t| t == tier) && lang.is_none_or(|l| l == c.lang))
            .collect()
    }

    /// Artifacts needed by `tier` (limited to `lang`'s corpus if given).
    fn artifacts(&self, tier: &str, lang: Option<&str>) -> Vec<&Artifact> {
        let wanted: std::collections::BTreeSet<&str> = self
            .corpora(tier, lang)
            .iter()
            .flat_map(|c| c.artifacts.iter().map(String::as_str))
            .collect();
        self.artifact
            .iter()
            .filter(|a| wanted.contains(a.id.as_str()))
            .collect()
    }

    /// The files of each language of `tier` (fetched already), sorted.
    pub(crate) fn files(&self, tier: &str, lang: Option<&str>) -> Result<Vec<LangFiles>> {
        let base = corpora_dir();
        let mut out: Vec<LangFiles> = Vec::new();
        for c in self.corpora(tier, lang) {
            let include = globs(&c.include)?;
            let exclude = globs(&c.exclude)?;
            let g = cst_grammars::by_id(&c.lang).expect("checked");
            let mut files = Vec::new();
            for a in &c.artifacts {
                let art = self.artifact.iter().find(|x| &x.id == a).expect("checked");
                let root = unpacked_root(&base, art)?;
                ensure!(
                    root.is_dir(),
                    "artifact `{a}` is not fetched: run `cargo xtask corpus fetch --tier {tier}`"
                );
                for entry in walk(&root) {
                    let rel = entry.strip_prefix(&root).unwrap_or(&entry);
                    if include.is_match(rel) && !exclude.is_match(rel) {
                        files.push(entry);
                    }
                }
            }
            files.sort();
            files.dedup();
            match out.iter_mut().find(|l| l.lang.id() == g.id()) {
                Some(l) => l.files.extend(files),
                None => out.push(LangFiles { lang: g, files }),
            }
        }
        Ok(out)
    }
}

fn globs(patterns: &[String]) -> Result<globset::GlobSet> {
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        b.add(
            globset::GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .with_context(|| format!("glob `{p}`"))?,
        );
    }
    Ok(b.build()?)
}

/// Regular files under `dir` (symbolic links are not followed).
pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.push(e.path());
            }
        }
    }
    out
}

/// The directory holding an artifact's files.
fn unpacked_root(base: &Path, a: &Artifact) -> Result<PathBuf> {
    if a.registry == "crates" {
        // cargo unpacks into registry/src/<index-dir>/<crate>-<version>/.
        let src = base.join("cargo-home").join(&a.id).join("registry/src");
        let Ok(mut rd) = std::fs::read_dir(&src) else {
            return Ok(src.join("missing"));
        };
        return Ok(rd
            .next()
            .and_then(|e| e.ok())
            .map_or(src.join("missing"), |e| e.path()));
    }
    Ok(base.join("src").join(&a.id))
}

/// `cargo xtask corpus fetch`.
pub(crate) fn fetch(tier: &str, lang: Option<&str>) -> Result<bool> {
    let m = load()?;
    let arts = m.artifacts(tier, lang);
    ensure!(
        !arts.is_empty(),
        "no artifacts for tier `{tier}`{}",
        lang.map(|l| format!(" and language `{l}`"))
            .unwrap_or_default()
    );
    let base = corpora_dir();
    std::fs::create_dir_all(base.join("downloads"))?;
    std::fs::create_dir_all(base.join("src"))?;
    let started = std::time::Instant::now();
    let mut downloaded = 0u64;
    let mut apt: Option<PathBuf> = None;
    for a in arts {
        let stamp = base.join("src").join(format!("{}.ok", a.id));
        if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == a.sha256) {
            println!("{:<16} ok (cached)", a.id);
            continue;
        }
        let t0 = std::time::Instant::now();
        let bytes = match a.registry.as_str() {
            "crates" => fetch_crates(&base, a)?,
            _ => {
                let file = base.join("downloads").join(&a.file);
                if !sha_ok(&file, &a.sha256)? {
                    let _ = std::fs::remove_file(&file);
                    match a.registry.as_str() {
                        "npm" => fetch_npm(&base, a)?,
                        "pypi" => fetch_pypi(&base, a)?,
                        "deb" | "deb-src" => {
                            if apt.is_none() {
                                apt = Some(apt_config(&base)?);
                            }
                            fetch_deb(&base, apt.as_deref().expect("set"), a)?
                        }
                        _ => unreachable!("checked"),
                    }
                    ensure!(
                        file.is_file(),
                        "{}: the client did not produce {}",
                        a.id,
                        a.file
                    );
                    if !sha_ok(&file, &a.sha256)? {
                        bail!(
                            "{}: sha256 of {} is {}, the manifest pins {}: the registry changed the artifact; bump the manifest",
                            a.id,
                            a.file,
                            sha256_file(&file)?,
                            a.sha256
                        );
                    }
                }
                let dest = base.join("src").join(&a.id);
                let _ = std::fs::remove_dir_all(&dest);
                std::fs::create_dir_all(&dest)?;
                unpack(&file, &dest, &a.unpack).with_context(|| format!("unpacking {}", a.id))?;
                std::fs::metadata(&file)?.len()
            }
        };
        downloaded += bytes;
        std::fs::write(&stamp, &a.sha256)?;
        println!(
            "{:<16} {} {} {}: {:.1} MB, {:.1} s",
            a.id,
            a.registry,
            a.name,
            a.version,
            bytes as f64 / 1e6,
            t0.elapsed().as_secs_f64()
        );
    }
    println!(
        "tier {tier}: {:.1} MB fetched in {:.1} s into {}",
        downloaded as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        base.display()
    );
    Ok(true)
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("{what}: could not start {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut f = std::fs::File::open(path)?;
    std::io::copy(&mut f, &mut h)?;
    Ok(format!("{:x}", h.finalize()))
}

fn sha_ok(path: &Path, want: &str) -> Result<bool> {
    Ok(path.is_file() && sha256_file(path)? == want)
}

/// crates.io: `cargo fetch --locked` of the pinned lock, private CARGO_HOME.
fn fetch_crates(base: &Path, a: &Artifact) -> Result<u64> {
    let locks = crate::root().join("corpora/locks");
    let lock = locks.join(format!("{}.Cargo.lock", a.name));
    let toml = locks.join(format!("{}.Cargo.toml", a.name));
    ensure!(
        sha256_file(&lock)? == a.sha256,
        "{}: {} does not match the manifest's sha256",
        a.id,
        lock.display()
    );
    let scratch = base.join("scratch").join(&a.id);
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("src"))?;
    // Its own workspace: $CST_CORPORA may sit inside this repository.
    let manifest = std::fs::read_to_string(&toml)? + "\n[workspace]\n";
    std::fs::write(scratch.join("Cargo.toml"), manifest)?;
    std::fs::copy(&lock, scratch.join("Cargo.lock"))?;
    std::fs::write(scratch.join("src/lib.rs"), "")?;
    let home = base.join("cargo-home").join(&a.id);
    run(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["fetch", "--locked", "--target", "x86_64-unknown-linux-gnu"])
            .arg("--manifest-path")
            .arg(scratch.join("Cargo.toml"))
            .env("CARGO_HOME", &home)
            .env("CARGO_TARGET_DIR", scratch.join("target")),
        &format!(
            "{}: cargo fetch (if a crate is gone from crates.io, bump the manifest)",
            a.id
        ),
    )?;
    let cache = home.join("registry/cache");
    Ok(walk(&cache)
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum())
}

fn fetch_npm(base: &Path, a: &Artifact) -> Result<()> {
    run(
        Command::new("npm")
            .args(["pack", "--silent", &format!("{}@{}", a.name, a.version)])
            .arg("--pack-destination")
            .arg(base.join("downloads"))
            .current_dir(base.join("downloads")),
        &format!(
            "{}: npm pack (a vanished version means: bump the manifest)",
            a.id
        ),
    )
}

fn fetch_pypi(base: &Path, a: &Artifact) -> Result<()> {
    let spec = format!("{}=={}", a.name, a.version);
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "pip", "download", "--no-deps", "-q", "-d"])
        .arg(base.join("downloads"));
    if a.file.ends_with(".whl") {
        cmd.args(["--only-binary", ":all:"]);
    } else {
        // Only this package from source; never `:all:` (build deps too).
        cmd.args(["--no-binary", &a.name]);
    }
    cmd.arg(&spec);
    run(
        &mut cmd,
        &format!(
            "{}: pip download (a vanished version means: bump the manifest)",
            a.id
        ),
    )
}

/// A private apt configuration (bookworm main, updates and security, binary
/// and source indexes) and a fresh `apt-get update` into it.
fn apt_config(base: &Path) -> Result<PathBuf> {
    let dir = base.join("apt");
    for d in ["lists/partial", "cache/archives/partial", "parts"] {
        std::fs::create_dir_all(dir.join(d))?;
    }
    std::fs::write(
        dir.join("sources.list"),
        "deb http://deb.debian.org/debian bookworm main\n\
         deb http://deb.debian.org/debian bookworm-updates main\n\
         deb http://deb.debian.org/debian-security bookworm-security main\n\
         deb-src http://deb.debian.org/debian bookworm main\n\
         deb-src http://deb.debian.org/debian-security bookworm-security main\n",
    )?;
    let conf = dir.join("apt.conf");
    std::fs::write(
        &conf,
        format!(
            "Dir::Etc::SourceList \"{0}/sources.list\";\n\
             Dir::Etc::SourceParts \"{0}/parts\";\n\
             Dir::State::Lists \"{0}/lists\";\n\
             Dir::Cache \"{0}/cache\";\n\
             Debug::NoLocking \"true\";\n",
            dir.display()
        ),
    )?;
    run(
        Command::new("apt-get")
            .args(["update", "-q"])
            .env("APT_CONFIG", &conf),
        "apt-get update (private configuration)",
    )?;
    Ok(conf)
}

/// Debian: the URL and SHA256 from `apt-get download|source --print-uris`,
/// fetched and verified by `apt-helper download-file`.
fn fetch_deb(base: &Path, conf: &Path, a: &Artifact) -> Result<()> {
    let spec = format!("{}={}", a.name, a.version);
    let mut cmd = Command::new("apt-get");
    cmd.env("APT_CONFIG", conf);
    if a.registry == "deb" {
        cmd.args(["download", "--print-uris", "-q", &spec]);
    } else {
        cmd.args(["source", "--print-uris", "-q", &spec]);
    }
    let out = cmd.output().context("running apt-get")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|f| f == a.file || f.replace("%3a", ":") == a.file.replace("%3a", ":"))
        })
        .with_context(|| {
            format!(
                "{}: Debian no longer offers {spec} ({}): bump the manifest\n{}",
                a.id,
                a.file,
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
    let url = line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .trim_matches('\'');
    run(
        Command::new("/usr/lib/apt/apt-helper")
            .env("APT_CONFIG", conf)
            .args(["download-file", url])
            .arg(base.join("downloads").join(&a.file))
            .arg(format!("SHA256:{}", a.sha256)),
        &format!("{}: download {url} (a 404 means: bump the manifest)", a.id),
    )
}

fn unpack(file: &Path, dest: &Path, steps: &[String]) -> Result<()> {
    for step in steps {
        match step.as_str() {
            "deb" => run(
                Command::new("dpkg-deb").arg("-x").arg(file).arg(dest),
                "dpkg-deb -x",
            )?,
            "tar" => run(
                Command::new("tar")
                    .arg("-xf")
                    .arg(file)
                    .arg("-C")
                    .arg(dest)
                    .arg("--no-same-owner"),
                "tar -x",
            )?,
            "zip" => run(
                Command::new("python3")
                    .args(["-m", "zipfile", "-e"])
                    .arg(file)
                    .arg(dest),
                "python3 -m zipfile -e",
            )?,
            s if s.starts_with("tar:") => {
                let inner = globs(&[s["tar:".len()..].to_owned()])?;
                for f in walk(dest) {
                    let rel = f.strip_prefix(dest).unwrap_or(&f).to_path_buf();
                    if inner.is_match(&rel) {
                        run(
                            Command::new("tar")
                                .arg("-xf")
                                .arg(&f)
                                .arg("-C")
                                .arg(dest)
                                .arg("--no-same-owner"),
                            "tar -x (inner)",
                        )?;
                    }
                }
            }
            other => bail!("unknown unpack step `{other}`"),
        }
    }
    Ok(())
}

/// Per-language totals of a tier (for `corpus list`).
pub(crate) fn list(tier: &str) -> Result<bool> {
    let m = load()?;
    let mut total = (0usize, 0usize, 0u64);
    let mut rows = BTreeMap::new();
    for l in m.files(tier, None)? {
        let mut lines = 0;
        let mut bytes = 0u64;
        for f in &l.files {
            if let Ok(s) = std::fs::read(f) {
                lines += cst_grammars::smoke::count_lines(&s);
                bytes += s.len() as u64;
            }
        }
        rows.insert(l.lang.id(), (l.files.len(), lines, bytes));
    }
    println!("| language | files | lines | MB |\n|---|---:|---:|---:|");
    for (id, (f, l, b)) in &rows {
        println!("| {id} | {f} | {l} | {:.1} |", *b as f64 / 1e6);
        total = (total.0 + f, total.1 + l, total.2 + b);
    }
    println!(
        "| **total** | {} | {} | {:.1} |",
        total.0,
        total.1,
        total.2 as f64 / 1e6
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_is_consistent_and_locks_match_their_pins() {
        let m = load().expect("corpora/manifest.toml parses and checks");
        for tier in ["ci", "full"] {
            assert!(!m.corpora(tier, None).is_empty(), "tier {tier} is empty");
        }
        // The ci tier stays a small download: sum the pinned sizes we know
        // by registry file (crates are counted by their lock, not here).
        let langs = |t: &str| {
            let mut v: Vec<&str> = m.corpora(t, None).iter().map(|c| c.lang.as_str()).collect();
            v.sort_unstable();
            v.dedup();
            v.len()
        };
        assert!(langs("ci") >= 17, "ci covers {} languages", langs("ci"));
        assert!(
            langs("full") >= 20,
            "full covers {} languages",
            langs("full")
        );
        for a in m.artifact.iter().filter(|a| a.registry == "crates") {
            let lock = crate::root().join(format!("corpora/locks/{}.Cargo.lock", a.name));
            assert_eq!(sha256_file(&lock).unwrap(), a.sha256, "{}", lock.display());
            let toml = crate::root().join(format!("corpora/locks/{}.Cargo.toml", a.name));
            assert!(toml.is_file(), "{}", toml.display());
        }
        for a in &m.artifact {
            assert!(!a.tiers.is_empty(), "{} is in no tier", a.id);
            if a.registry != "crates" {
                assert!(!a.unpack.is_empty(), "{} has no unpack step", a.id);
            }
        }
    }

    #[test]
    fn globs_match_relative_paths_across_directories() {
        let g = globs(&["**/*.rs".to_owned(), "usr/share/x/*".to_owned()]).unwrap();
        assert!(g.is_match("a/b/c.rs"));
        assert!(g.is_match("c.rs"));
        assert!(g.is_match("usr/share/x/git"));
        assert!(!g.is_match("usr/share/x/y/git"));
        assert!(!g.is_match("a/b/c.rsx"));
    }
}
