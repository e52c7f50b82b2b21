//! # cst-grammars — the language registry of cst
//!
//! A static table of tree-sitter grammars from crates.io: one descriptor per
//! language (id, display name, grammar crate and exact version, licence,
//! extensions, file names, shebang interpreters, aliases, shipped queries) and
//! the means to find one for a file ([`detect`], [`detect_path`], [`by_name`]).
//!
//! Every grammar crate sits behind a cargo feature named after it without the
//! `tree-sitter-` prefix (`rust`, `typescript`, `md`, `toml-ng`, …), with the
//! bundles `core-langs` (default) and `all-langs`. Descriptors exist for every
//! language whether it is compiled in or not; [`Grammar::language`] says which.
//! Listing or detecting languages never constructs a parser.
//!
//! Each compiled grammar has a [`Fingerprint`]: a hash of the crate name and
//! version, the ABI version and the node-kind and field tables. Anything that
//! stores kind or field ids keys its data with it, so a grammar upgrade that
//! could renumber them invalidates exactly what it affects.
//!
//! Grammars loaded at run time (crate `cst-loader`) join the registry through
//! [`register`]: they are found by [`by_id`], [`by_name`] and [`detect`] like
//! compiled-in ones, and their fingerprint hashes the loaded artifact's digest
//! instead of a crate name and version ([`Origin::Loaded`]). A compiled-in
//! grammar always wins over a loaded one of the same id.
//!
//! ```
//! let rust = cst_grammars::by_name("Rust").unwrap();
//! assert_eq!(rust.id(), "rust");
//! let py = cst_grammars::detect("tools/run".as_ref(), b"#!/usr/bin/env python3\n").unwrap();
//! assert_eq!(py.id(), "python");
//! ```

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub mod catalogue;
mod detect;
mod loaded;
pub mod smoke;
mod table;

pub use detect::{AMBIGUITY_RULES, AmbiguityRule, by_name, detect, detect_path};
pub use loaded::{LoadedSpec, is_valid_id, loaded, register};

/// Errors of the registry.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No grammar is known under this name, alias or path.
    #[error("unknown language `{0}`")]
    UnknownLanguage(String),
    /// The grammar is known but its cargo feature was not enabled.
    #[error("language `{id}` is not compiled in (enable the `{feature}` feature of cst-grammars)")]
    NotCompiled {
        /// Language id.
        id: &'static str,
        /// The cargo feature that compiles it in.
        feature: &'static str,
    },
    /// A loaded grammar would take the id of one compiled in, or of another
    /// loaded grammar with a different artifact.
    #[error("language `{0}` is already registered")]
    AlreadyRegistered(String),
    /// A loaded grammar's id is not a lower-case identifier (`[a-z0-9_]+`).
    #[error("`{0}` is not a valid language id (lower-case letters, digits and `_`)")]
    InvalidId(String),
    /// The grammar's ABI version is outside what the linked tree-sitter supports.
    #[error("language `{id}` has ABI {abi}, tree-sitter supports {min}..={max}")]
    IncompatibleAbi {
        /// Language id.
        id: &'static str,
        /// The grammar's ABI version.
        abi: usize,
        /// Oldest supported ABI.
        min: usize,
        /// Newest supported ABI.
        max: usize,
    },
}

/// What a grammar is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A language of its own, with files of its own.
    Language,
    /// A second grammar of a crate for part of a language (`.mli`, `.fsi`,
    /// markdown's inline grammar, PHP without `<?php` tags…).
    SubGrammar,
    /// A grammar meant to be injected into other languages (regex, JSDoc,
    /// comment tags, printf formats); no files of its own.
    Injection,
}

/// Query sources shipped by a grammar crate, where it ships them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Queries {
    /// `highlights.scm`.
    pub highlights: Option<&'static str>,
    /// `tags.scm` (definitions and references, as used by tree-sitter-tags).
    pub tags: Option<&'static str>,
    /// `locals.scm`.
    pub locals: Option<&'static str>,
    /// `injections.scm`.
    pub injections: Option<&'static str>,
}

impl Queries {
    /// No queries.
    pub const NONE: Queries = Queries {
        highlights: None,
        tags: None,
        locals: None,
        injections: None,
    };
}

/// A stable 128-bit hash identifying a grammar's node-kind and field numbering.
///
/// It covers the grammar id, the crate name and version, the ABI version, and for every kind id
/// its name, namedness and visibility, and every field name. Format: the first
/// 16 bytes of a BLAKE3 hash over a length-prefixed serialisation of those.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 16]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Where a grammar comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A crate of the registry's table, compiled in (or not: see
    /// [`Grammar::is_compiled`]).
    Builtin,
    /// A shared library loaded at run time, identified by the digest of its
    /// artifact (the sources it was built from, or the library's bytes).
    Loaded {
        /// BLAKE3 digest of the artifact.
        digest: [u8; 32],
    },
}

/// How a descriptor gets its `tree_sitter::Language`.
pub(crate) enum Source {
    /// The table's constructor, present when the cargo feature is on.
    Builtin(Option<fn() -> tree_sitter::Language>),
    /// A language loaded at run time (its library is never unloaded).
    Loaded {
        language: tree_sitter::Language,
        digest: [u8; 32],
    },
}

/// The descriptor of one grammar. Obtain one from [`all`], [`compiled`],
/// [`by_name`] or [`detect`]; they are `'static`.
pub struct Grammar {
    id: &'static str,
    name: &'static str,
    role: Role,
    crate_name: &'static str,
    crate_version: &'static str,
    feature: &'static str,
    license: &'static str,
    extensions: &'static [&'static str],
    file_names: &'static [&'static str],
    interpreters: &'static [&'static str],
    aliases: &'static [&'static str],
    source: Source,
    queries: Queries,
    fingerprint: OnceLock<Fingerprint>,
}

static LANGUAGES_LOADED: AtomicUsize = AtomicUsize::new(0);

impl Grammar {
    /// Stable id, lower case (`"rust"`, `"tsx"`, `"c_sharp"`). Used in keys and on disk.
    pub fn id(&self) -> &'static str {
        self.id
    }
    /// Display name (`"C#"`).
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// Whether this is a language, a sub-grammar or an injection grammar.
    pub fn role(&self) -> Role {
        self.role
    }
    /// The crates.io crate providing the grammar (for a loaded grammar, the
    /// package it was built from when known, else empty).
    pub fn crate_name(&self) -> &'static str {
        self.crate_name
    }
    /// The exact crate version the registry pins.
    pub fn crate_version(&self) -> &'static str {
        self.crate_version
    }
    /// The cargo feature of cst-grammars that compiles this grammar in
    /// (empty for a loaded grammar).
    pub fn feature(&self) -> &'static str {
        self.feature
    }
    /// SPDX licence expression of the grammar crate.
    pub fn license(&self) -> &'static str {
        self.license
    }
    /// File extensions without the dot; compound ones (`d.ts`) included.
    pub fn extensions(&self) -> &'static [&'static str] {
        self.extensions
    }
    /// Exact file names (`Makefile`, `CMakeLists.txt`).
    pub fn file_names(&self) -> &'static [&'static str] {
        self.file_names
    }
    /// Interpreter names recognised on a `#!` line.
    pub fn interpreters(&self) -> &'static [&'static str] {
        self.interpreters
    }
    /// Other names accepted by [`by_name`], besides the id and display name.
    pub fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }
    /// Query sources the grammar crate ships (empty when not compiled in).
    pub fn queries(&self) -> &Queries {
        &self.queries
    }
    /// Whether the grammar is compiled into this build.
    pub fn is_compiled(&self) -> bool {
        matches!(self.source, Source::Builtin(Some(_)))
    }
    /// Whether a parser can be made: compiled in, or loaded at run time.
    pub fn is_available(&self) -> bool {
        !matches!(self.source, Source::Builtin(None))
    }
    /// Where the grammar comes from.
    pub fn origin(&self) -> Origin {
        match self.source {
            Source::Builtin(_) => Origin::Builtin,
            Source::Loaded { digest, .. } => Origin::Loaded { digest },
        }
    }

    /// The tree-sitter language, created on demand.
    pub fn language(&self) -> Result<tree_sitter::Language, Error> {
        let language = match &self.source {
            Source::Builtin(Some(loader)) => loader(),
            Source::Builtin(None) => {
                return Err(Error::NotCompiled {
                    id: self.id,
                    feature: self.feature,
                });
            }
            Source::Loaded { language, .. } => language.clone(),
        };
        LANGUAGES_LOADED.fetch_add(1, Ordering::Relaxed);
        let abi = language.abi_version();
        let (min, max) = (
            tree_sitter::MIN_COMPATIBLE_LANGUAGE_VERSION,
            tree_sitter::LANGUAGE_VERSION,
        );
        if !(min..=max).contains(&abi) {
            return Err(Error::IncompatibleAbi {
                id: self.id,
                abi,
                min,
                max,
            });
        }
        Ok(language)
    }

    /// The ABI version of the compiled grammar.
    pub fn abi_version(&self) -> Result<usize, Error> {
        Ok(self.language()?.abi_version())
    }

    /// A parser set to this grammar.
    pub fn parser(&self) -> Result<tree_sitter::Parser, Error> {
        let language = self.language()?;
        let mut parser = tree_sitter::Parser::new();
        let abi = language.abi_version();
        parser
            .set_language(&language)
            .map_err(|_| Error::IncompatibleAbi {
                id: self.id,
                abi,
                min: tree_sitter::MIN_COMPATIBLE_LANGUAGE_VERSION,
                max: tree_sitter::LANGUAGE_VERSION,
            })?;
        Ok(parser)
    }

    /// The grammar fingerprint (computed once, then cached).
    pub fn fingerprint(&self) -> Result<Fingerprint, Error> {
        if let Some(fp) = self.fingerprint.get() {
            return Ok(*fp);
        }
        let language = self.language()?;
        let fp = match &self.source {
            Source::Loaded { digest, .. } => {
                compute_fingerprint(self.id, "dyn", &hex(digest), &language)
            }
            Source::Builtin(_) => {
                compute_fingerprint(self.id, self.crate_name, self.crate_version, &language)
            }
        };
        Ok(*self.fingerprint.get_or_init(|| fp))
    }

    /// A hash of the grammar's tables alone (ABI version, node kinds with
    /// namedness and visibility, field names), without its id or origin: the
    /// same grammar compiled in and loaded at run time hash alike.
    pub fn table_fingerprint(&self) -> Result<Fingerprint, Error> {
        Ok(table_fingerprint(&self.language()?))
    }
}

/// Lower-case hexadecimal of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// See [`Grammar::table_fingerprint`].
pub fn table_fingerprint(language: &tree_sitter::Language) -> Fingerprint {
    let mut h = blake3::Hasher::new();
    h.update(b"cst-grammar-tables/1");
    hash_tables(&mut h, language);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize().as_bytes()[..16]);
    Fingerprint(out)
}

impl fmt::Debug for Grammar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grammar")
            .field("id", &self.id)
            .field(
                "crate",
                &format_args!("{}@{}", self.crate_name, self.crate_version),
            )
            .field("compiled", &self.is_compiled())
            .finish()
    }
}

fn put(h: &mut blake3::Hasher, bytes: &[u8]) {
    h.update(&(bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn compute_fingerprint(
    id: &str,
    crate_name: &str,
    version: &str,
    language: &tree_sitter::Language,
) -> Fingerprint {
    let mut h = blake3::Hasher::new();
    put(&mut h, b"cst-grammar-fingerprint/1");
    put(&mut h, id.as_bytes());
    put(&mut h, crate_name.as_bytes());
    put(&mut h, version.as_bytes());
    hash_tables(&mut h, language);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize().as_bytes()[..16]);
    Fingerprint(out)
}

/// The ABI version, every kind's name, namedness and visibility, and every
/// field name, length-prefixed (the byte layout fingerprints have used since
/// version 1: changing it re-keys every stored tree).
fn hash_tables(h: &mut blake3::Hasher, language: &tree_sitter::Language) {
    h.update(&(language.abi_version() as u64).to_le_bytes());
    let kinds = language.node_kind_count();
    h.update(&(kinds as u64).to_le_bytes());
    for id in 0..kinds {
        // Kind ids are u16 in tree-sitter's API; node_kind_count fits.
        let id = id as u16;
        put(h, language.node_kind_for_id(id).unwrap_or("").as_bytes());
        h.update(&[
            u8::from(language.node_kind_is_named(id)),
            u8::from(language.node_kind_is_visible(id)),
        ]);
    }
    let fields = language.field_count();
    h.update(&(fields as u64).to_le_bytes());
    for id in 1..=fields {
        put(
            h,
            language
                .field_name_for_id(id as u16)
                .unwrap_or("")
                .as_bytes(),
        );
    }
}

/// Every grammar the registry knows, compiled in or not, in a stable order.
pub fn all() -> &'static [Grammar] {
    &table::GRAMMARS
}

/// The grammars compiled into this build.
pub fn compiled() -> impl Iterator<Item = &'static Grammar> {
    all().iter().filter(|g| g.is_compiled())
}

/// The grammar with exactly this id: the compiled-in one, else a loaded
/// one, else the table's descriptor of a grammar not compiled in.
pub fn by_id(id: &str) -> Option<&'static Grammar> {
    // A hash lookup, not a scan of the registry: the cache resolves the
    // grammar of a path on every get.
    static INDEX: OnceLock<std::collections::HashMap<&'static str, &'static Grammar>> =
        OnceLock::new();
    let builtin = INDEX
        .get_or_init(|| all().iter().map(|g| (g.id, g)).collect())
        .get(id)
        .copied();
    match builtin {
        Some(g) if g.is_compiled() => Some(g),
        _ => loaded::by_id(id).or(builtin),
    }
}

/// `g`, or the loaded grammar that stands in for it when `g` is a table
/// descriptor whose crate is not compiled in.
pub(crate) fn resolve(g: &'static Grammar) -> &'static Grammar {
    if matches!(g.source, Source::Builtin(None)) {
        loaded::by_id(g.id).unwrap_or(g)
    } else {
        g
    }
}

/// How many times a `tree_sitter::Language` was created through this registry.
/// Lets tests prove that listing and detecting construct no parser.
#[doc(hidden)]
pub fn languages_loaded() -> usize {
    LANGUAGES_LOADED.load(Ordering::Relaxed)
}
