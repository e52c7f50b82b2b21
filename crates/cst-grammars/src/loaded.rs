//! Grammars loaded at run time: their descriptors and the list the registry
//! consults after its static table.
//!
//! A loaded grammar's descriptor lives as long as the process (its library
//! is never unloaded, so its `Language` stays valid): [`register`] leaks it
//! and hands out a `&'static Grammar` like the table's.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use crate::{Error, Grammar, Queries, Role, Source};

/// What describes a grammar loaded at run time (crate `cst-loader` fills it).
#[derive(Debug, Clone, Default)]
pub struct LoadedSpec {
    /// Language id: lower-case letters, digits and `_`.
    pub id: String,
    /// Display name (the id when empty).
    pub name: String,
    /// The package the grammar was built from (`tree-sitter-json`), or empty.
    pub package: String,
    /// The package's version, or empty.
    pub version: String,
    /// SPDX licence expression, or empty when unknown.
    pub license: String,
    /// File extensions without the dot.
    pub extensions: Vec<String>,
    /// Exact file names.
    pub file_names: Vec<String>,
    /// Interpreters recognised on a `#!` line.
    pub interpreters: Vec<String>,
    /// Other names accepted by [`crate::by_name`].
    pub aliases: Vec<String>,
    /// `tags.scm`, validated against the grammar.
    pub tags: Option<String>,
    /// `highlights.scm`, validated against the grammar.
    pub highlights: Option<String>,
    /// `locals.scm`, validated against the grammar.
    pub locals: Option<String>,
    /// `injections.scm`, validated against the grammar.
    pub injections: Option<String>,
}

/// The loaded grammars: a snapshot replaced whole on each registration, so
/// readers (detection runs per file) take an `Arc` and no allocation.
#[derive(Default)]
struct Loaded {
    list: Vec<&'static Grammar>,
    by_id: HashMap<&'static str, &'static Grammar>,
}

fn state() -> &'static RwLock<Arc<Loaded>> {
    static STATE: OnceLock<RwLock<Arc<Loaded>>> = OnceLock::new();
    STATE.get_or_init(|| RwLock::new(Arc::new(Loaded::default())))
}

fn snapshot() -> Arc<Loaded> {
    state().read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The grammars loaded at run time so far, in the order they were registered.
pub fn loaded() -> Vec<&'static Grammar> {
    snapshot().list.clone()
}

/// Calls `f` on each loaded grammar until it returns `Some`.
pub(crate) fn find_map<T>(mut f: impl FnMut(&'static Grammar) -> Option<T>) -> Option<T> {
    snapshot().list.iter().find_map(|g| f(g))
}

pub(crate) fn by_id(id: &str) -> Option<&'static Grammar> {
    snapshot().by_id.get(id).copied()
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn leak_all(v: Vec<String>) -> &'static [&'static str] {
    Box::leak(
        v.into_iter()
            .map(leak)
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

/// Whether `id` can name a loaded grammar: 1 to 64 of `[a-z0-9_]`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Adds a grammar loaded at run time to the registry and returns its
/// descriptor. `language` must come from a library that stays loaded for the
/// life of the process; `digest` identifies the artifact (it goes into the
/// [`crate::Fingerprint`]).
///
/// Registering the same id with the same digest again returns the first
/// descriptor. An id compiled into this build, or registered with another
/// digest, is refused ([`Error::AlreadyRegistered`]), as is an ABI outside
/// what the linked tree-sitter reads ([`Error::IncompatibleAbi`]).
pub fn register(
    spec: LoadedSpec,
    language: tree_sitter::Language,
    digest: [u8; 32],
) -> Result<&'static Grammar, Error> {
    if !is_valid_id(&spec.id) {
        return Err(Error::InvalidId(spec.id));
    }
    if crate::all()
        .iter()
        .any(|g| g.id == spec.id && g.is_compiled())
    {
        return Err(Error::AlreadyRegistered(spec.id));
    }
    let abi = language.abi_version();
    let (min, max) = (
        tree_sitter::MIN_COMPATIBLE_LANGUAGE_VERSION,
        tree_sitter::LANGUAGE_VERSION,
    );
    if !(min..=max).contains(&abi) {
        return Err(Error::IncompatibleAbi {
            id: leak(spec.id),
            abi,
            min,
            max,
        });
    }
    let mut state = state().write().unwrap_or_else(|e| e.into_inner());
    if let Some(g) = state.by_id.get(spec.id.as_str()) {
        return match g.source {
            Source::Loaded { digest: d, .. } if d == digest => Ok(g),
            _ => Err(Error::AlreadyRegistered(spec.id)),
        };
    }
    let id = leak(spec.id);
    let name = if spec.name.is_empty() {
        id
    } else {
        leak(spec.name)
    };
    let queries = Queries {
        highlights: spec.highlights.map(leak),
        tags: spec.tags.map(leak),
        locals: spec.locals.map(leak),
        injections: spec.injections.map(leak),
    };
    let grammar: &'static Grammar = Box::leak(Box::new(Grammar {
        id,
        name,
        role: Role::Language,
        crate_name: leak(spec.package),
        crate_version: leak(spec.version),
        feature: "",
        license: leak(spec.license),
        extensions: leak_all(spec.extensions),
        file_names: leak_all(spec.file_names),
        interpreters: leak_all(spec.interpreters),
        aliases: leak_all(spec.aliases),
        source: Source::Loaded { language, digest },
        queries,
        fingerprint: OnceLock::new(),
    }));
    let mut next = Loaded {
        list: state.list.clone(),
        by_id: state.by_id.clone(),
    };
    next.list.push(grammar);
    next.by_id.insert(grammar.id, grammar);
    *state = Arc::new(next);
    Ok(grammar)
}
