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
        let bad = |what: &str| Error::Approvals {
            path: path.clone(),
            reason: format!("grammar `{}`: {what}", a.id),
        };
        // Every path names a file the loader wrote: `lib/<digest>/<file>`
        // and `queries/<digest>/<kind>.scm`, nothing else (remove deletes
        // them).
        if !cache_path(&a.library, "lib") {
            return Err(bad("library is not lib/<digest>/<file> in the cache"));
        }
        if a.queries.values().any(|q| !cache_path(q, "queries")) {
            return Err(bad("a query is not queries/<digest>/<file> in the cache"));
        }
        if crate::unhex32(&a.digest).is_none() || crate::unhex32(&a.artifact).is_none() {
            return Err(bad("digest or artifact is not 64 hexadecimal digits"));
        }
    }
    Ok(file.grammars)
}

/// Whether `p` is `<top>/<64 hex digits>/<file name>`.
pub(crate) fn cache_path(p: &Path, top: &str) -> bool {
    let parts: Vec<_> = p.components().collect();
    match parts.as_slice() {
        [
            std::path::Component::Normal(t),
            std::path::Component::Normal(d),
            std::path::Component::Normal(f),
        ] => {
            *t == top
                && d.to_str().and_then(crate::unhex32).is_some()
                && !f.to_string_lossy().starts_with('.')
        }
        _ => false,
    }
}

/// Holds the lock of the approvals of `dir` while it lives: a read-modify-
/// write of `approved.toml` by another `cst grammar` command waits.
pub(crate) struct Lock {
    _file: std::fs::File,
}

/// Takes the approvals lock of `dir` (`approved.toml.lock`), waiting for it.
pub(crate) fn lock(dir: &Path) -> Result<Lock, Error> {
    let path = dir.join("approved.toml.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io(&path))?;
    file.lock().map_err(Error::io(&path))?;
    Ok(Lock { _file: file })
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

/// Refuses `meta` (of `what`: the file, its directory) when the group or
/// others can write it or it belongs to a user other than this one or root.
#[cfg(unix)]
fn check_owner_and_mode(meta: &std::fs::Metadata, what: &str) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{what} is writable by the group or others (mode {:o})",
            meta.mode() & 0o777
        ));
    }
    if meta.uid() != crate::dl::effective_uid() && meta.uid() != 0 {
        return Err(format!(
            "{what} belongs to user {}, not to this user or root",
            meta.uid()
        ));
    }
    Ok(())
}

/// The largest library [`read_trusted`] reads (generated parsers reach
/// ~60 MB of C; their libraries are smaller).
const MAX_LIBRARY_BYTES: u64 = 1 << 30;

/// Reads a library to import through one descriptor, after the rules of
/// [`check_file`] hold for that descriptor: the file checked is the file
/// read (opened without following a link at the last step, `fstat` on the
/// descriptor), so it cannot be swapped in between.
pub(crate) fn read_trusted(path: &Path, forbidden: &[PathBuf]) -> Result<Vec<u8>, Error> {
    check_file(path, forbidden)?;
    let canonical = path.canonicalize().map_err(Error::io(path))?;
    let refuse = |reason: String| Error::Untrusted {
        path: path.to_path_buf(),
        reason,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let file = options.open(&canonical).map_err(Error::io(&canonical))?;
    let meta = file.metadata().map_err(Error::io(&canonical))?;
    if !meta.is_file() {
        return Err(refuse("not a regular file".into()));
    }
    #[cfg(unix)]
    check_owner_and_mode(&meta, "the file").map_err(refuse)?;
    if meta.len() > MAX_LIBRARY_BYTES {
        return Err(refuse(format!("larger than {MAX_LIBRARY_BYTES} bytes")));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::io::Read::read_to_end(
        &mut std::io::Read::take(&file, MAX_LIBRARY_BYTES + 1),
        &mut bytes,
    )
    .map_err(Error::io(&canonical))?;
    if bytes.len() as u64 > MAX_LIBRARY_BYTES {
        return Err(refuse(format!("larger than {MAX_LIBRARY_BYTES} bytes")));
    }
    Ok(bytes)
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
        let parent = canonical.parent().unwrap_or(Path::new("/"));
        let dir = std::fs::metadata(parent).map_err(Error::io(parent))?;
        check_owner_and_mode(&meta, "the file").map_err(refuse)?;
        check_owner_and_mode(&dir, "its directory").map_err(refuse)?;
    }
    Ok(())
}
