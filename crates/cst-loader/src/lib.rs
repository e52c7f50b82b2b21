//! # cst-loader — tree-sitter grammars loaded at run time
//!
//! cst compiles ~100 grammars in; users' editors parse ~300 languages. This
//! crate brings the others in, under rules that keep a bad grammar from
//! taking cst down or misreading stored trees:
//!
//! - **From sources** ([`Loader::add`]): a grammar directory, a `.crate`, an
//!   npm `.tgz` or an sdist. `src/parser.c` (+ `scanner.c`; a C++
//!   `scanner.cc` only with [`Options::allow_cpp`]) is compiled with the `cc`
//!   crate into a content-addressed directory of the grammar cache (the
//!   digest covers the sources, the flags and the compiler; the result is
//!   renamed into place atomically and never rebuilt by modification time).
//! - **Compiled parsers** ([`Loader::import`]) from editors' parser
//!   directories ([`presets`]: nvim, Helix, Emacs, the tree-sitter CLI's
//!   cache): never from inside the workspace, never a group- or
//!   world-writable file, never one owned by another user. The library is
//!   copied into the cache and the copy is what gets loaded.
//! - **Probed, then approved.** Before the process trusts a library it is
//!   loaded in a child process ([`Options::probe`], [`probe`]) that checks
//!   the ABI and the symbol and parses samples; a crash, a hang or a refusal
//!   there refuses the grammar with the child's message. The approval (file,
//!   digest, ABI, table fingerprint) is recorded ([`Approval`]); a library
//!   whose bytes changed is refused until approved again ([`Loader::check`]).
//! - **Loaded for good** ([`Loader::load_approved`]): `RTLD_NOW |
//!   RTLD_LOCAL`, the ABI checked (13..=15) before anything else is read,
//!   never unloaded; registered with [`cst_grammars::register`], whose
//!   fingerprint then hashes the artifact's digest, so an updated parser
//!   re-parses stored trees instead of misreading them.
//! - **Queries** ([`queries`]): a grammar's own `queries/*.scm`, validated
//!   against it; patterns with predicates cst does not evaluate are dropped
//!   and counted.
//!
//! The trust rules are written down in `docs/GRAMMARS.md`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod archive;
mod build;
mod cat;
mod dl;
mod loader;
pub mod presets;
pub mod probe;
pub mod queries;
mod source;
mod trust;

pub use loader::{AddOptions, LoadReport, Loader};
pub use presets::{Found, Preset};
pub use source::GrammarSource;
pub use trust::{Approval, ArtifactKind};

/// Errors of the loader.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The path holds no grammar sources (`src/parser.c`).
    #[error("{0}: no grammar sources (src/parser.c) found")]
    NoSources(PathBuf),
    /// An archive could not be read, or holds something refused (a path
    /// leaving the destination, too many or too large entries).
    #[error("archive {path}: {reason}")]
    Archive {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The grammar has a C++ scanner and [`Options::allow_cpp`] is off.
    #[error(
        "{0}: the external scanner is C++ (scanner.cc); pass --allow-cpp to compile it with the C++ compiler"
    )]
    CppScanner(PathBuf),
    /// Compiling or linking failed.
    #[error("compiling {grammar} failed: {message}")]
    Compile {
        /// The grammar's id.
        grammar: String,
        /// The compiler's message.
        message: String,
    },
    /// A file refused by the trust rules (inside the workspace, writable by
    /// others, owned by another user, not a regular file).
    #[error("{path}: refused: {reason}")]
    Untrusted {
        /// The file.
        path: PathBuf,
        /// Which rule refused it.
        reason: String,
    },
    /// The library could not be loaded or lacks the grammar's symbol.
    #[error("{path}: {message}")]
    Load {
        /// The library.
        path: PathBuf,
        /// The dynamic loader's message.
        message: String,
    },
    /// The grammar's ABI version is outside what the linked tree-sitter reads.
    #[error("{path}: ABI {abi} is outside {min}..={max} (tree-sitter {ts})", ts = tree_sitter_version())]
    Abi {
        /// The library.
        path: PathBuf,
        /// Its ABI version.
        abi: usize,
        /// Oldest supported.
        min: usize,
        /// Newest supported.
        max: usize,
    },
    /// The child-process probe refused the grammar (it crashed, hung or
    /// reported an error).
    #[error("probe of {grammar} refused it: {reason}")]
    Probe {
        /// The grammar's id.
        grammar: String,
        /// The child's exit status and message.
        reason: String,
    },
    /// The library's bytes no longer match its approval.
    #[error(
        "grammar `{0}` changed since it was approved; approve it again with `cst grammar check {0}`"
    )]
    Changed(String),
    /// The id is a grammar compiled into cst.
    #[error("`{0}` is compiled into cst; add this grammar under another id with --id")]
    Taken(String),
    /// No approved grammar has this id.
    #[error("no grammar `{0}` was added")]
    NotApproved(String),
    /// The approvals file is malformed.
    #[error("{path}: {reason}")]
    Approvals {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The registry refused the grammar (its id is taken or invalid).
    #[error(transparent)]
    Registry(#[from] cst_grammars::Error),
    /// Loading libraries is not supported on this platform.
    #[error("loading grammars at run time is supported on Unix only")]
    Unsupported,
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

fn tree_sitter_version() -> &'static str {
    "0.26"
}

/// How the child-process probe is started: `program args… LIBRARY SYMBOL
/// [SAMPLE…]` (see [`probe::child_main`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeCommand {
    /// The executable (the `cst` binary, or `cst-grammar-probe`).
    pub program: PathBuf,
    /// Arguments before the library (`["grammar", "probe"]` for `cst`).
    pub args: Vec<OsString>,
}

/// Options of a [`Loader`].
#[derive(Debug, Clone)]
pub struct Options {
    /// The grammar cache: compiled libraries, copies of imported ones, the
    /// approvals and the grammars' queries. See [`default_dir`].
    pub dir: PathBuf,
    /// The child process that probes a grammar before it is approved.
    pub probe: ProbeCommand,
    /// How long the probe may take before it is killed and the grammar
    /// refused.
    pub probe_timeout: Duration,
    /// Compile C++ external scanners (`scanner.cc`) with the C++ compiler.
    pub allow_cpp: bool,
    /// Directories no library may be loaded or imported from (the workspace
    /// being indexed).
    pub forbidden: Vec<PathBuf>,
}

impl Options {
    /// Options with the grammar cache `dir` and the probe `probe`; a
    /// 60-second probe timeout, no C++ scanners, no forbidden directory.
    pub fn new(dir: impl Into<PathBuf>, probe: ProbeCommand) -> Options {
        Options {
            dir: dir.into(),
            probe,
            probe_timeout: Duration::from_secs(60),
            allow_cpp: false,
            forbidden: Vec::new(),
        }
    }
}

/// The default grammar cache: `$CST_GRAMMAR_DIR`, else
/// `$XDG_DATA_HOME/cst/grammars`, else `~/.local/share/cst/grammars`. It is
/// the user's, never the workspace's: a repository cannot bring grammars in.
pub fn default_dir() -> Option<PathBuf> {
    let abs = |v: OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    if let Some(dir) = std::env::var_os("CST_GRAMMAR_DIR").and_then(abs) {
        return Some(dir);
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .and_then(abs)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(abs)
                .map(|h| h.join(".local/share"))
        })?;
    Some(data.join("cst/grammars"))
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses 64 hexadecimal digits.
pub(crate) fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Clears the group and other write bits of `path` (a directory or file of
/// the grammar cache), whatever the umask made them: the trust rules refuse
/// libraries others could write.
pub(crate) fn not_writable_by_others(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(Error::io(path))?
            .permissions()
            .mode();
        if mode & 0o022 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & !0o022))
                .map_err(Error::io(path))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The BLAKE3 digest of a file's bytes.
pub(crate) fn file_digest(path: &Path) -> Result<[u8; 32], Error> {
    let mut h = blake3::Hasher::new();
    let mut f = std::fs::File::open(path).map_err(Error::io(path))?;
    std::io::copy(&mut f, &mut h).map_err(Error::io(path))?;
    Ok(*h.finalize().as_bytes())
}
