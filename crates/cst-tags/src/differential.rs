//! Differential checking against `tree-sitter-tags` (feature
//! `differential`): the same tags query over the same file, computed by
//! `tree_sitter_tags::TagsContext` (which parses the source itself) and by
//! [`TagsConfig::tags`] over the stored view, compared field by field.
//! Shared by the tests and `cargo xtask verify-tags`.

use std::fmt;

use cst_bytecode::TreeView;

use crate::{Tag, TagsConfig};

/// Both engines' configurations for one language and query.
pub struct Pair {
    /// cst-tags.
    pub ours: TagsConfig,
    /// tree-sitter-tags.
    pub theirs: tree_sitter_tags::TagsConfiguration,
}

impl Pair {
    /// Compiles the query for both. An error says whether both rejected it
    /// (with both messages) or only one did (a difference).
    pub fn new(
        language: &tree_sitter::Language,
        tags_query: &str,
        locals_query: &str,
    ) -> Result<Pair, String> {
        let theirs =
            tree_sitter_tags::TagsConfiguration::new(language.clone(), tags_query, locals_query);
        let ours = TagsConfig::new(language, tags_query, locals_query);
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => {
                let names: Vec<&str> = (0..ours.syntax_type_names().len() as u32)
                    .map(|i| theirs.syntax_type_name(i))
                    .collect();
                if names != ours.syntax_type_names() {
                    return Err(format!(
                        "syntax types differ: tree-sitter-tags {names:?}, cst {:?}",
                        ours.syntax_type_names()
                    ));
                }
                Ok(Pair { ours, theirs })
            }
            (Err(a), Err(b)) => Err(format!(
                "both reject the query: cst `{a}`, tree-sitter-tags `{b}`"
            )),
            (a, b) => Err(format!(
                "DIFFERENCE compiling: cst {:?}, tree-sitter-tags {:?}",
                a.err().map(|e| e.to_string()),
                b.err().map(|e| e.to_string())
            )),
        }
    }
}

/// The first tag where the engines disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Index of the first differing tag.
    pub index: usize,
    /// tree-sitter-tags' tag there (`None`: it had no more).
    pub tree_sitter: Option<String>,
    /// cst-tags' tag there.
    pub cst: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tag #{}: tree-sitter-tags {}, cst {}",
            self.index,
            self.tree_sitter.as_deref().unwrap_or("(end)"),
            self.cst.as_deref().unwrap_or("(end)")
        )
    }
}

fn show(t: &Tag, kind: &str) -> String {
    format!(
        "{} {kind} range {:?} name {:?} line {:?} span ({},{})-({},{}) utf16 {:?} docs {:?}",
        if t.is_definition { "def" } else { "ref" },
        t.range,
        t.name_range,
        t.line_range,
        t.span.start.row,
        t.span.start.column,
        t.span.end.row,
        t.span.end.column,
        t.utf16_column_range,
        t.docs
    )
}

fn theirs_to_ours(t: &tree_sitter_tags::Tag) -> Tag {
    let p = |p: tree_sitter::Point| cst_bytecode::Point {
        row: p.row,
        column: p.column,
    };
    Tag {
        range: t.range.clone(),
        name_range: t.name_range.clone(),
        line_range: t.line_range.clone(),
        span: p(t.span.start)..p(t.span.end),
        utf16_column_range: t.utf16_column_range.clone(),
        docs: t.docs.clone(),
        is_definition: t.is_definition,
        syntax_type_id: t.syntax_type_id,
    }
}

/// What both engines agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// Tags, equal field by field.
    pub tags: usize,
    /// `@ignore` placeholders tree-sitter-tags handed out and cst did not:
    /// its final drain of the queue does not skip them (the loop before it
    /// does), so a placeholder still queued at the end of the file comes out
    /// as a tag with range `usize::MAX..usize::MAX`. cst drops them, as the
    /// rest of tree-sitter-tags does; they are counted, not compared.
    pub leaked_placeholders: usize,
}

/// Computes the tags of `source` with both engines (tree-sitter-tags parses
/// it; cst reads `view`, which must be the stored tree of `source`) and
/// returns what they agree on, or the first difference.
pub fn check(
    pair: &Pair,
    context: &mut tree_sitter_tags::TagsContext,
    view: &TreeView,
    source: &[u8],
) -> Result<Agreement, Difference> {
    let mut leaked = 0;
    let theirs: Vec<Tag> = match context.generate_tags(&pair.theirs, source, None) {
        Ok((iter, _)) => match iter.collect::<Result<Vec<_>, _>>() {
            Ok(tags) => tags
                .iter()
                .filter(|t| {
                    let placeholder = t.range.start == usize::MAX;
                    leaked += usize::from(placeholder);
                    !placeholder
                })
                .map(theirs_to_ours)
                .collect(),
            Err(e) => {
                return Err(Difference {
                    index: 0,
                    tree_sitter: Some(format!("error {e}")),
                    cst: None,
                });
            }
        },
        Err(e) => {
            return Err(Difference {
                index: 0,
                tree_sitter: Some(format!("error {e}")),
                cst: None,
            });
        }
    };
    let ours = pair
        .ours
        .tags(view.root(), source)
        .map_err(|e| Difference {
            index: 0,
            tree_sitter: None,
            cst: Some(format!("error {e}")),
        })?;
    let kind = |t: &Tag| pair.ours.syntax_type_name(t.syntax_type_id).to_string();
    for i in 0..theirs.len().max(ours.len()) {
        let (a, b) = (theirs.get(i), ours.get(i));
        if a != b {
            return Err(Difference {
                index: i,
                tree_sitter: a.map(|t| show(t, &kind(t))),
                cst: b.map(|t| show(t, &kind(t))),
            });
        }
    }
    Ok(Agreement {
        tags: ours.len(),
        leaked_placeholders: leaked,
    })
}
