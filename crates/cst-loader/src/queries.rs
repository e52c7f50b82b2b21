//! Queries for loaded grammars, validated against them.
//!
//! A query file written for another revision of a grammar may name kinds or
//! fields it lacks: tree-sitter refuses the whole file, and so does this
//! module. A pattern with a predicate cst does not evaluate (nvim's
//! `#lua-match?`, `#offset!`, …) would over-match if kept, so it is dropped
//! and counted; `; inherits:` lines (nvim, Helix) are not followed.

/// Predicates outside tree-sitter's own text predicates that cst evaluates,
/// per query kind: tree-sitter-tags' two directives for tags, none for the
/// others.
fn evaluated(kind: &str) -> &'static [&'static str] {
    match kind {
        "tags" => &["select-adjacent!", "strip!"],
        _ => &[],
    }
}

/// A query kept for a loaded grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    /// The query text with the dropped patterns removed.
    pub text: String,
    /// Patterns kept.
    pub kept: usize,
    /// Patterns dropped for predicates cst does not evaluate.
    pub dropped: usize,
    /// Whether the source had `; inherits:` lines (not followed).
    pub inherits: bool,
}

/// Validates `source`, a query of kind `kind` (`tags`, `highlights`,
/// `locals`, `injections`), against `language`. `Err` carries tree-sitter's
/// message when the file does not compile for this grammar.
pub fn validate(
    language: &tree_sitter::Language,
    kind: &str,
    source: &str,
) -> Result<Validated, String> {
    let inherits = source
        .lines()
        .any(|l| l.trim_start().starts_with("; inherits"));
    let query = tree_sitter::Query::new(language, source).map_err(|e| e.to_string())?;
    let allowed = evaluated(kind);
    let mut text = String::new();
    let (mut kept, mut dropped) = (0, 0);
    for i in 0..query.pattern_count() {
        let unsupported = query
            .general_predicates(i)
            .iter()
            .any(|p| !allowed.contains(&p.operator.as_ref()));
        if unsupported {
            dropped += 1;
            continue;
        }
        kept += 1;
        let (start, end) = (
            query.start_byte_for_pattern(i),
            query.end_byte_for_pattern(i),
        );
        text.push_str(&source[start..end]);
        text.push('\n');
    }
    // What remains must compile on its own (it is a subset of patterns).
    tree_sitter::Query::new(language, &text).map_err(|e| e.to_string())?;
    Ok(Validated {
        text,
        kept,
        dropped,
        inherits,
    })
}
