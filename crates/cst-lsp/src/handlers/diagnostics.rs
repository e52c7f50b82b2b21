//! Syntax diagnostics: one Error per ERROR node ("syntax error") and per
//! MISSING node ("missing X", X its kind), in document order. Only
//! subtrees that hold an error are walked.

use lsp_types::{Diagnostic, DiagnosticSeverity, NumberOrString};

use crate::convert::TextLines;
use crate::syntax::{Snapshot, SyntaxNode, with_root};

pub(crate) fn diagnostics(snap: &Snapshot, lines: TextLines<'_>) -> Vec<Diagnostic> {
    let found = with_root!(snap, |root| errors(root));
    found
        .into_iter()
        .map(|(s, e, missing)| Diagnostic {
            range: lines.range(s, e),
            severity: Some(DiagnosticSeverity::ERROR),
            code: Some(NumberOrString::String(
                if missing.is_some() {
                    "missing"
                } else {
                    "syntax-error"
                }
                .into(),
            )),
            source: Some("cst".into()),
            message: match missing {
                Some(kind) => format!("missing {kind}"),
                None => "syntax error".into(),
            },
            ..Diagnostic::default()
        })
        .collect()
}

/// Bytes and, for a MISSING node, its kind.
fn errors<N: SyntaxNode>(root: N) -> Vec<(usize, usize, Option<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if n.is_missing() {
            out.push((n.start_byte(), n.end_byte(), Some(n.kind().to_string())));
        } else if n.is_error() {
            out.push((n.start_byte(), n.end_byte(), None));
        }
        let kids = n.children();
        stack.extend(
            kids.into_iter()
                .rev()
                .filter(|k| k.has_error() || k.is_error() || k.is_missing()),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use cst_workspace::cst::grammars;

    #[test]
    fn finds_missing_and_error_nodes() {
        let g = grammars::by_id("c").expect("c");
        let text = "int main(void)\n{\n\treturn 0\n}\n";
        let tree = g.parser().expect("parser").parse(text, None).expect("tree");
        let found = super::errors(tree.root_node());
        assert_eq!(
            found,
            vec![(26, 26, Some(";".to_string()))],
            "{}",
            tree.root_node().to_sexp()
        );
    }
}
