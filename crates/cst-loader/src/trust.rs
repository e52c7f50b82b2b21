//! Approvals and the file rules of trust.
//!
//! `approved.toml` in the grammar cache lists the grammars the user added:
//! for each, the library (a path inside the cache), the digest of its bytes,
//! the artifact digest that goes into the fingerprint, the ABI and the table
//! fingerprint the probe saw. It is rewritten whole through a temporary file
//! and a rename.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// How an approved library came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// Compiled by cst from sources (`cst grammar add`).
    Built,
    /// Copied from a compiled parser (`cst grammar import`).
    Imported,
}

/// One approved grammar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Language id in the registry.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The exported function.
    pub symbol: String,
    /// The library, relative to the grammar cache.
    pub library: PathBuf,
    /// BLAKE3 of the library's bytes, checked before every load.
    pub digest: String,
    /// The artifact's digest, which goes into the fingerprint: of the
    /// sources, flags and compiler when built, of the library when imported.
    pub artifact: String,
    /// How the library came to be.
    pub kind: ArtifactKind,
    /// ABI version.
    pub abi: usize,
    /// Table fingerprint reported by the probe.
    pub tables: String,
    /// Where it came from (a source directory, archive or library path).
    pub origin: String,
    /// Package, version and licence, when known.
    #[serde(default)]
    pub package: String,
    /// See [`Approval::package`].
    #[serde(default)]
    pub version: String,
    /// See [`Approval::package`].
    #[serde(default)]
    pub license: String,
    /// File extensions, without the dot.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Exact file names.
    #[serde(default)]
    pub file_names: Vec<String>,
    /// Interpreters of `#!` lines.
    #[serde(default)]
    pub interpreters: Vec<String>,
    /// Other names.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Query files kept beside the library: kind → path relative to the
    /// grammar cache.
    #[serde(default)]
    pub queries: std::collections::BTreeMap<String, PathBuf>,
    /// What validating the queries against the grammar left out (dropped
    /// patterns, files that do not compile for it, `; inherits:` lines).
    #[serde(default)]
    pub query_notes: Vec<String>,
    /// Seconds since the Unix epoch when it was approved.
    #[serde(default)]
    pub approved_at: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default, rename = "grammar")]
    grammars: Vec<Approval>,
}

pub(crate) fn approvals_path(dir: &Path) -> PathBuf {
    dir.join("approved.toml")
}

/// The approvals in `dir` (none when the file does not exist).
pub(crate) fn read(dir: &Path) -> Result<Vec<Approval>, Error> {
    let path = approvals_path(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&path)(e)),
    };
    let file: File = toml::from_str(&text).map_err(|e| Error::Approvals {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    for a in &file.grammars {
        // A library path must stay inside the cache.
        if a.library.is_absolute()
            || a.library
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(Error::Approvals {
                path,
                reason: format!("grammar `{}`: library path leaves the cache", a.id),
            });
        }
    }
    Ok(file.grammars)
}

/// Writes `approvals` to `dir`, atomically.
pub(crate) fn write(dir: &Path, approvals: &[Approval]) -> Result<(), Error> {
    let path = approvals_path(dir);
    let mut list = approvals.to_vec();
    list.sort_by(|a, b| a.id.cmp(&b.id));
    let text = toml::to_string(&File { grammars: list }).map_err(|e| Error::Approvals {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let tmp = dir.join(format!("approved.toml.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text).map_err(Error::io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(Error::io(&path))
}

/// Refuses a library file that others could have written: not a regular
/// file, group- or world-writable (it or its directory), or owned by a user
/// other than this one or root; or inside one of `forbidden` (the
/// workspace).
pub(crate) fn check_file(path: &Path, forbidden: &[PathBuf]) -> Result<(), Error> {
    let refuse = |reason: String| Error::Untrusted {
        path: path.to_path_buf(),
        reason,
    };
    let canonical = path.canonicalize().map_err(Error::io(path))?;
    for f in forbidden {
        let f = f.canonicalize().unwrap_or_else(|_| f.clone());
        if canonical.starts_with(&f) {
            return Err(refuse(format!(
                "it is inside {}, the workspace; grammars are never loaded from a workspace",
                f.display()
            )));
        }
    }
    let meta = std::fs::symlink_metadata(&canonical).map_err(Error::io(&canonical))?;
    if !meta.is_file() {
        return Err(refuse("not a regular file".into()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = crate::dl::effective_uid();
        let parent = canonical.parent().unwrap_or(Path::new("/"));
        let dir = std::fs::metadata(parent).map_err(Error::io(parent))?;
        for (what, m) in [("the file", &meta), ("its directory", &dir)] {
            if m.mode() & 0o022 != 0 {
                return Err(refuse(format!(
                    "{what} is writable by the group or others (mode {:o})",
                    m.mode() & 0o777
                )));
            }
            if m.uid() != me && m.uid() != 0 {
                return Err(refuse(format!(
                    "{what} belongs to user {}, not to this user or root",
                    m.uid()
                )));
            }
        }
    }
    Ok(())
}
