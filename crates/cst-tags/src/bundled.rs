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

macro_rules! bundled {
    ($($id:literal),* $(,)?) => {
        const BUNDLED: &[(&str, &str)] = &[
            $(($id, include_str!(concat!("../queries/", $id, "/tags.scm"))),)*
        ];
    };
}

bundled!["bash", "kotlin", "scala", "haskell", "zig"];
