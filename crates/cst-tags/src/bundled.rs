//! Tags queries written by cst for grammars whose crates ship no `tags.scm`.
//!
//! Each query lives in `queries/<language-id>/tags.scm` beside this crate and
//! follows tree-sitter-tags' capture conventions (`@name`, `@doc`,
//! `@definition.<kind>`, `@reference.<kind>`, `@local.*`, `@ignore`).

/// The tags query cst bundles for a language id, if any.
pub fn tags_query(language_id: &str) -> Option<&'static str> {
    BUNDLED
        .iter()
        .find(|(id, _)| *id == language_id)
        .map(|(_, q)| *q)
}

/// Language ids with a bundled tags query.
pub fn languages() -> impl Iterator<Item = &'static str> {
    BUNDLED.iter().map(|(id, _)| *id)
}

/// Where a tags query comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The grammar crate's `tags.scm` with its `locals.scm`.
    Shipped,
    /// The grammar crate's `tags.scm` without its `locals.scm` (some
    /// crates ship a `locals.scm` tree-sitter-tags rejects, such as Swift's
    /// `@local.definition.import`).
    ShippedWithoutLocals,
    /// The query cst bundles.
    Bundled,
}

/// The tags queries to try for a language, in order: `(origin, tags,
/// locals)`. Use the first that compiles ([`crate::TagsConfig::new`]).
pub fn candidates(
    language_id: &str,
    shipped_tags: Option<&'static str>,
    shipped_locals: Option<&'static str>,
) -> Vec<(Origin, &'static str, &'static str)> {
    let mut out = Vec::new();
    if let Some(tags) = shipped_tags {
        out.push((Origin::Shipped, tags, shipped_locals.unwrap_or("")));
        if shipped_locals.is_some_and(|l| !l.is_empty()) {
            out.push((Origin::ShippedWithoutLocals, tags, ""));
        }
    }
    if let Some(tags) = tags_query(language_id) {
        out.push((Origin::Bundled, tags, ""));
    }
    out
}

macro_rules! bundled {
    ($($id:literal),* $(,)?) => {
        const BUNDLED: &[(&str, &str)] = &[
            $(($id, include_str!(concat!("../queries/", $id, "/tags.scm"))),)*
        ];
    };
}

bundled![
    "c_sharp",
    "bash",
    "kotlin",
    "scala",
    "haskell",
    "zig",
    "erlang",
    "julia",
    "perl",
    "css",
    "scss",
    "html",
    "yaml",
    "toml",
    "json",
    "make",
    "sql",
    "hcl",
    "nix",
    "proto",
    "graphql",
    "cmake",
    "objc",
    "fish",
    "powershell",
    "groovy",
    "d",
    "fortran",
    "starlark",
    "nim",
    "vim",
];
