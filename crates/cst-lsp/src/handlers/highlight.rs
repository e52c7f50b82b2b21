//! `textDocument/documentHighlight`: the other occurrences, in the same
//! document, of the name under the cursor.
//!
//! **The name under the cursor** is the smallest node at the cursor, or
//! else the one that ends at it (a cursor just past a name). It must be a
//! *name*: a named leaf whose kind contains `identifier` (`identifier`,
//! `field_identifier`, `type_identifier`, `property_identifier`, …), or a
//! node the language's locals query captures as a definition or a
//! reference. Anything else (whitespace, punctuation, keywords, comments,
//! strings) gives no highlight: `[]`, not an error.
//!
//! **Languages with a locals query** (the grammar ships `locals.scm`; see
//! [`locals_source`]; one that captures no definitions or no references,
//! such as Swift's, Objective-C's or Svelte's, counts as none) follow
//! tree-sitter's locals semantics, as tree-sitter-highlight applies them.
//! Captures are read under both spellings: `@local.scope` / `@scope`; `@local.definition[.<kind>]` /
//! `@definition[.<kind>]` (except `.associated`, which names the object a
//! definition hangs off, not a definition); `@local.reference` /
//! `@reference`; any other capture, and any with a component starting
//! with `_`, is ignored. The captures over the whole document are walked
//! in document order (outer nodes first; of one range, scope, then
//! definition, then reference; nodes are told apart by their byte range):
//!
//! - a scope opens at its node and closes before the first capture that
//!   starts at or after its end (tree-sitter-highlight keeps it open for
//!   one that starts exactly at its end); a root scope spans the document;
//! - a definition is recorded in the innermost open scope (in the one
//!   around it with nvim-treesitter's `(#set! definition.<kind>.scope
//!   "parent")`, in the root with `"global"`);
//! - a reference resolves to the latest definition of the same text
//!   recorded so far in the innermost open scope that has one, walking
//!   outward; a scope captured with `(#set! local.scope-inherits false)`
//!   ends the walk. A node captured as both is a definition.
//!
//! On a definition, or on a reference that resolves to one, the answer is
//! that definition (kind `Write`) and every reference resolving to it
//! (`Read`). On a name that is not a local (a reference that resolves to
//! nothing, or a name the query does not capture) it is the syntactic
//! answer below, less the occurrences that are locals (definitions and
//! references that resolve).
//!
//! **Other languages** (C, Rust, Python, Go, …) get a syntactic answer:
//! every named leaf of the document whose text equals the name's and whose
//! kind is exactly the name's kind (a field `x`, `field_identifier`, is not
//! highlighted with a variable `x`, `identifier`), kind `Text`. It knows
//! nothing of scopes: two unrelated variables of one name in two functions
//! are highlighted together.

use std::cmp::Reverse;
use std::collections::HashSet;

use cst_workspace::cst::grammars::{self, Grammar};
use lsp_types::{DocumentHighlight, DocumentHighlightKind};

use crate::convert::TextLines;
use crate::syntax::{Capture, CompiledQuery, Snapshot, SyntaxNode, with_root};

/// Grammars whose `locals.scm` extends another grammar's, which is read
/// first: tree-sitter-typescript's only adds TypeScript's parameters to
/// tree-sitter-javascript's (its `package.json` lists both).
const LOCALS_BASES: [(&str, &str); 2] = [("typescript", "javascript"), ("tsx", "javascript")];

/// The locals query of `g`: its `locals.scm`, after its base's where it
/// extends one ([`LOCALS_BASES`], when the base is compiled in).
pub(crate) fn locals_source(g: &Grammar) -> Option<String> {
    let own = g.queries().locals?;
    let base = LOCALS_BASES
        .iter()
        .find(|(id, _)| *id == g.id())
        .and_then(|(_, base)| grammars::by_id(base))
        .and_then(|b| b.queries().locals);
    Some(match base {
        Some(base) => format!("{base}\n{own}"),
        None => own.to_string(),
    })
}

/// What a capture of a locals query says about its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Scope,
    Definition,
    Reference,
    Ignored,
}

/// The role of a capture name (see the module documentation).
fn role_of(name: &str) -> Role {
    if name.split('.').any(|part| part.starts_with('_')) {
        return Role::Ignored;
    }
    match bare(name) {
        "scope" => Role::Scope,
        "reference" => Role::Reference,
        "definition" => Role::Definition,
        "definition.associated" => Role::Ignored,
        b if b.starts_with("definition.") => Role::Definition,
        _ => Role::Ignored,
    }
}

/// A capture name without its `local.` prefix.
fn bare(name: &str) -> &str {
    name.strip_prefix("local.").unwrap_or(name)
}

/// Where a definition is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// The scope around the innermost one (`"parent"`).
    Parent,
    /// The root scope (`"global"`).
    Global,
}

/// A compiled locals query and what its captures and patterns say.
pub(crate) struct Locals {
    query: CompiledQuery,
    /// Per capture index.
    roles: Vec<Role>,
    /// Per pattern: whether the scopes it captures inherit.
    inherits: Vec<bool>,
    /// `(pattern, definition capture without "local.", placement)` of the
    /// patterns that place a definition outside the innermost scope.
    placements: Vec<(usize, String, Placement)>,
}

impl Locals {
    /// The locals of `query`; `None` when it captures no definitions or
    /// no references (such a query resolves nothing: Swift's,
    /// Objective-C's and Svelte's, or TypeScript's without JavaScript's).
    pub(crate) fn new(query: CompiledQuery) -> Option<Locals> {
        let roles: Vec<Role> = query.capture_names().iter().map(|n| role_of(n)).collect();
        if !roles.contains(&Role::Definition) || !roles.contains(&Role::Reference) {
            return None;
        }
        let patterns = query.live.pattern_count();
        let mut inherits = vec![true; patterns];
        let mut placements = Vec::new();
        for (p, inherit) in inherits.iter_mut().enumerate() {
            for prop in query.live.property_settings(p) {
                let value = prop.value.as_deref();
                if &*prop.key == "local.scope-inherits" {
                    // tree-sitter-highlight's reading: no value is `true`.
                    *inherit = value.is_none_or(|v| v == "true");
                } else if let Some(stem) = prop.key.strip_suffix(".scope") {
                    let placement = match value {
                        Some("parent") => Placement::Parent,
                        Some("global") => Placement::Global,
                        _ => continue,
                    };
                    placements.push((p, bare(stem).to_string(), placement));
                }
            }
        }
        Some(Locals {
            query,
            roles,
            inherits,
            placements,
        })
    }

    fn role(&self, c: &Capture) -> Role {
        self.roles
            .get(c.capture as usize)
            .copied()
            .unwrap_or(Role::Ignored)
    }

    /// Where the definition capture `c` is recorded, if not in the
    /// innermost scope.
    fn placement(&self, c: &Capture) -> Option<Placement> {
        let name = bare(self.query.capture_names().get(c.capture as usize)?);
        self.placements
            .iter()
            .find(|(p, stem, _)| *p == c.pattern && stem == name)
            .map(|x| x.2)
    }
}

/// A byte range.
type Span = (usize, usize);

/// The locals of one document: each definition, and each reference with
/// the definition (an index into `defs`) it resolves to.
#[derive(Debug, Default)]
struct Resolved {
    defs: Vec<Span>,
    refs: Vec<(Span, Option<usize>)>,
}

impl Resolved {
    /// Whether a definition or reference has exactly these bytes.
    fn captures(&self, span: Span) -> bool {
        self.defs.contains(&span) || self.refs.iter().any(|r| r.0 == span)
    }

    /// The definition `span` is, or resolves to; `None` for a non-local.
    fn definition_of(&self, span: Span) -> Option<usize> {
        self.defs
            .iter()
            .position(|d| *d == span)
            .or_else(|| self.refs.iter().find(|r| r.0 == span).and_then(|r| r.1))
    }

    /// The occurrences that are locals.
    fn local_spans(&self) -> HashSet<Span> {
        let refs = self.refs.iter().filter(|r| r.1.is_some()).map(|r| r.0);
        self.defs.iter().copied().chain(refs).collect()
    }
}

/// An open scope while the captures are walked.
struct Scope {
    end: usize,
    inherits: bool,
    /// Indices into [`Resolved::defs`], in the order recorded.
    defs: Vec<usize>,
}

/// Walks the captures of the locals query over the whole document (see
/// the module documentation).
fn resolve(snap: &Snapshot, locals: &Locals) -> Result<Resolved, String> {
    let text = &snap.text[..];
    let mut caps: Vec<(Capture, Role)> = snap
        .captures(&locals.query, 0..text.len())?
        .into_iter()
        .map(|c| (c, locals.role(&c)))
        .filter(|(_, r)| *r != Role::Ignored)
        .collect();
    caps.sort_by_key(|(c, r)| (c.range.0, Reverse(c.range.1), *r));
    let name = |s: Span| &text[s.0..s.1];
    let mut stack = vec![Scope {
        end: usize::MAX,
        inherits: true,
        defs: Vec::new(),
    }];
    let mut out = Resolved::default();
    for group in caps.chunk_by(|a, b| a.0.range == b.0.range) {
        let span = group[0].0.range;
        while stack.len() > 1 && stack.last().is_some_and(|s| s.end <= span.0) {
            stack.pop();
        }
        for (c, _) in group.iter().filter(|(_, r)| *r == Role::Scope) {
            if span.0 < span.1 {
                stack.push(Scope {
                    end: span.1,
                    inherits: locals.inherits.get(c.pattern).copied().unwrap_or(true),
                    defs: Vec::new(),
                });
            }
        }
        if let Some((c, _)) = group.iter().find(|(_, r)| *r == Role::Definition) {
            let top = stack.len() - 1;
            let at = match locals.placement(c) {
                None => top,
                Some(Placement::Parent) => top.saturating_sub(1),
                Some(Placement::Global) => 0,
            };
            stack[at].defs.push(out.defs.len());
            out.defs.push(span);
        } else if group.iter().any(|(_, r)| *r == Role::Reference) {
            let def = lookup(&stack, &out.defs, |d| name(d) == name(span));
            out.refs.push((span, def));
        }
    }
    Ok(out)
}

/// The latest definition `matches` accepts in the innermost scope that
/// has one, walking outward up to a scope that does not inherit.
fn lookup(stack: &[Scope], defs: &[Span], matches: impl Fn(Span) -> bool) -> Option<usize> {
    for scope in stack.iter().rev() {
        if let Some(&d) = scope.defs.iter().rev().find(|&&d| matches(defs[d])) {
            return Some(d);
        }
        if !scope.inherits {
            break;
        }
    }
    None
}

/// Whether a node is identifier-like: a named leaf (not MISSING) whose
/// kind contains `identifier`.
fn is_identifier<N: SyntaxNode>(n: &N) -> bool {
    n.is_named() && !n.is_missing() && n.kind().contains("identifier") && n.children().is_empty()
}

/// The name at byte `offset`: the smallest node there, else the one
/// ending there, if `is_name` accepts it.
fn name_at<N: SyntaxNode>(root: N, offset: usize, is_name: impl Fn(&N) -> bool) -> Option<N> {
    let here = root
        .descendant_for_byte_range(offset, offset)
        .filter(|n| is_name(n));
    here.or_else(|| {
        let before = root.descendant_for_byte_range(offset.checked_sub(1)?, offset - 1)?;
        (before.end_byte() == offset && is_name(&before)).then_some(before)
    })
}

/// Every named leaf of kind `kind` whose text is `name`, in document
/// order.
fn same_names<N: SyntaxNode>(root: N, text: &[u8], kind: &str, name: &[u8]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        let children = n.children();
        if children.is_empty() {
            let span = (n.start_byte(), n.end_byte());
            if n.is_named() && !n.is_missing() && n.kind() == kind && &text[span.0..span.1] == name
            {
                out.push(span);
            }
        } else if n.end_byte() - n.start_byte() >= name.len() {
            stack.extend(children.into_iter().rev());
        }
    }
    out
}

/// The highlights of the name at byte `offset`, as byte ranges and
/// kinds, in document order.
fn highlights_at<N: SyntaxNode>(
    root: N,
    text: &[u8],
    resolved: Option<&Resolved>,
    offset: usize,
) -> Vec<(Span, DocumentHighlightKind)> {
    let is_name = |n: &N| {
        is_identifier(n) || resolved.is_some_and(|r| r.captures((n.start_byte(), n.end_byte())))
    };
    let Some(node) = name_at(root, offset, is_name) else {
        return Vec::new();
    };
    let span = (node.start_byte(), node.end_byte());
    if let Some(r) = resolved
        && let Some(def) = r.definition_of(span)
    {
        let refs = r.refs.iter().filter(|x| x.1 == Some(def));
        let mut out: Vec<_> = refs.map(|x| (x.0, DocumentHighlightKind::READ)).collect();
        out.push((r.defs[def], DocumentHighlightKind::WRITE));
        out.sort_by_key(|x| x.0);
        return out;
    }
    let locals = resolved.map(Resolved::local_spans).unwrap_or_default();
    same_names(root, text, node.kind(), &text[span.0..span.1])
        .into_iter()
        .filter(|s| !locals.contains(s))
        .map(|s| (s, DocumentHighlightKind::TEXT))
        .collect()
}

/// The answer to `textDocument/documentHighlight` at byte `offset` (an
/// error only when the locals query fails to run).
pub(crate) fn document_highlights(
    snap: &Snapshot,
    locals: Option<&Locals>,
    lines: TextLines<'_>,
    offset: usize,
) -> Result<Vec<DocumentHighlight>, String> {
    let resolved = locals.map(|l| resolve(snap, l)).transpose()?;
    let text = &snap.text[..];
    let found = with_root!(snap, |root| highlights_at(
        root,
        text,
        resolved.as_ref(),
        offset
    ));
    Ok(found
        .into_iter()
        .map(|((s, e), kind)| DocumentHighlight {
            range: lines.range(s, e),
            kind: Some(kind),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_names_in_both_spellings() {
        assert_eq!(role_of("local.scope"), Role::Scope);
        assert_eq!(role_of("scope"), Role::Scope);
        assert_eq!(role_of("local.definition"), Role::Definition);
        assert_eq!(role_of("local.definition.var"), Role::Definition);
        assert_eq!(role_of("definition.function"), Role::Definition);
        assert_eq!(role_of("local.definition.associated"), Role::Ignored);
        assert_eq!(role_of("local.definition-value"), Role::Ignored);
        assert_eq!(role_of("local.reference"), Role::Reference);
        assert_eq!(role_of("reference"), Role::Reference);
        assert_eq!(role_of("reference._let"), Role::Ignored);
        assert_eq!(role_of("_fn"), Role::Ignored);
        assert_eq!(role_of("constructor"), Role::Ignored);
    }

    /// Every shipped locals query compiles for both engines, and the ones
    /// that resolve anything are known.
    #[test]
    fn shipped_locals_queries_compile() {
        let mut used = Vec::new();
        for g in grammars::compiled() {
            let Some(source) = locals_source(g) else {
                continue;
            };
            let language = g.language().expect("a language");
            let live = cst_workspace::cst::tree_sitter::Query::new(&language, &source)
                .unwrap_or_else(|e| panic!("{}: {e}", g.id()));
            let stored = std::sync::Arc::new(
                cst_workspace::cst::query::Query::new(&language, &source)
                    .unwrap_or_else(|e| panic!("{}: {e}", g.id())),
            );
            if Locals::new(CompiledQuery { stored, live }).is_some() {
                used.push(g.id());
            }
        }
        for id in ["javascript", "typescript", "tsx", "ruby", "lua"] {
            if grammars::by_id(id).is_some_and(|g| g.is_available()) {
                assert!(used.contains(&id), "{id} resolves locals: {used:?}");
            }
        }
        eprintln!("locals queries in use: {}", used.join(" "));
    }
}
