//! `Query::could_match` is conservative: when it says no, tree-sitter finds
//! no match either; and it does say no where a required literal is absent.

use crate::common;

use cst_query::Query;
use tree_sitter::StreamingIterator;

fn ts_matches(q: &tree_sitter::Query, tree: &tree_sitter::Tree, src: &[u8]) -> usize {
    let mut cursor = tree_sitter::QueryCursor::new();
    let mut it = cursor.matches(q, tree.root_node(), src);
    let mut n = 0;
    while it.next().is_some() {
        n += 1;
    }
    n
}

#[test]
fn a_no_is_never_wrong_and_literals_are_required() {
    let cases: &[(&str, &str)] = &[
        (
            "rust",
            r#"(call_expression function: (field_expression field: (field_identifier) @m) (#eq? @m "unwrap")) @c"#,
        ),
        (
            "rust",
            r#"((identifier) @i (#any-of? @i "main" "nothing_like_this"))"#,
        ),
        (
            "rust",
            r#"((identifier) @i (#eq? @i "zzz_not_here")) ((type_identifier) @t (#eq? @t "String"))"#,
        ),
        ("rust", r#"((identifier)? @i (#eq? @i "zzz_not_here")) @x"#),
        ("rust", r#"((identifier) @i (#not-eq? @i "zzz_not_here"))"#),
        ("rust", r#"((identifier) @i (#eq? @i ""))"#),
        ("rust", r#"((identifier) @i (#any-eq? @i "zzz_not_here"))"#),
        (
            "python",
            r#"(call function: (identifier) @f (#eq? @f "print")) @c"#,
        ),
        (
            "python",
            r#"(call function: (identifier) @f (#eq? @f "zzz_absent")) @c"#,
        ),
        (
            "javascript",
            r#"((identifier) @i (#eq? @i "zzz_absent") (#match? @i "z"))"#,
        ),
    ];
    let (mut skipped, mut kept) = (0, 0);
    for (id, pattern) in cases {
        let g = cst_grammars::by_id(id).unwrap();
        let language = g.language().unwrap();
        let ours = Query::new(&language, pattern).unwrap();
        let theirs = tree_sitter::Query::new(&language, pattern).unwrap();
        let mut inputs = common::samples(id);
        inputs.extend(common::peer_inputs(id).unwrap_or_default());
        for src in &inputs {
            let parsed = common::parse(id, src);
            let n = ts_matches(&theirs, &parsed.tree, src);
            if ours.could_match(src) {
                kept += 1;
            } else {
                assert_eq!(
                    n, 0,
                    "{id} {pattern}: could_match said no, tree-sitter found {n}"
                );
                skipped += 1;
            }
        }
    }
    assert!(skipped > 0 && kept > 0, "skipped {skipped}, kept {kept}");
    // Literals that vanish make a pattern impossible; an optional capture,
    // a negative predicate or an empty literal never does.
    let rust = cst_grammars::by_id("rust").unwrap().language().unwrap();
    let q = |p: &str| Query::new(&rust, p).unwrap();
    assert!(!q(r#"((identifier) @i (#eq? @i "needle"))"#).could_match(b"fn main() {}"));
    assert!(q(r#"((identifier) @i (#eq? @i "main"))"#).could_match(b"fn main() {}"));
    assert!(q(r#"((identifier)? @i (#eq? @i "needle")) @x"#).could_match(b"fn main() {}"));
    assert!(q(r#"((identifier) @i (#not-eq? @i "needle"))"#).could_match(b"fn main() {}"));
    // `#any-eq?` against a string never fails a match.
    assert!(q(r#"((identifier) @i (#any-eq? @i "needle"))"#).could_match(b"fn main() {}"));
    assert!(
        q(r#"((identifier) @i (#eq? @i "needle")) (identifier) @j"#).could_match(b"fn main() {}")
    );
    let mut disabled = q(r#"((identifier) @i (#eq? @i "needle")) (identifier) @j"#);
    disabled.disable_pattern(1);
    assert!(!disabled.could_match(b"fn main() {}"));
    let mut uncaptured = q(r#"((identifier) @i (#eq? @i "needle"))"#);
    uncaptured.disable_capture("i");
    assert!(uncaptured.could_match(b"fn main() {}"));
}
