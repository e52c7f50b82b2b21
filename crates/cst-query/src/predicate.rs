//! Text predicates, evaluated exactly as the `tree-sitter` Rust binding
//! evaluates them (`QueryMatch::satisfies_text_predicates`), quirks
//! included:
//!
//! - with no captured node, every predicate holds;
//! - `any-eq?` / `any-match?` against a string hold when no node matches too
//!   (the loop only returns early on a hit);
//! - capture against capture compares nodes pairwise and fails when the
//!   counts differ;
//! - `any-of?` needs every node in the list.
//!
//! `is?`, `is-not?`, `set!` and unknown predicates never filter; they are
//! exposed as tree-sitter exposes them.

use crate::raw::PredicateArg;

/// A text predicate of one pattern (the binding's `TextPredicateCapture`).
#[derive(Debug)]
pub(crate) enum TextPredicate {
    EqString(u32, Box<str>, bool, bool),
    EqCapture(u32, u32, bool, bool),
    MatchString(u32, regex::bytes::Regex, bool, bool),
    AnyString(u32, Box<[Box<str>]>, bool),
}

/// The text predicates among a pattern's predicates, as the binding picks
/// them. The query compiled with tree-sitter's `Query::new`, which already
/// rejected malformed ones, so nothing here can fail but a regex that
/// tree-sitter accepted (then the predicate is left out, never panics).
pub(crate) fn text_predicates(predicates: &[Vec<PredicateArg>]) -> Vec<TextPredicate> {
    let mut out = Vec::new();
    for p in predicates {
        let Some(PredicateArg::String(op)) = p.first() else {
            continue;
        };
        let capture = |k: usize| match p.get(k) {
            Some(PredicateArg::Capture(c)) => Some(*c),
            _ => None,
        };
        let string = |k: usize| match p.get(k) {
            Some(PredicateArg::String(s)) => Some(s.clone()),
            _ => None,
        };
        match &**op {
            "eq?" | "not-eq?" | "any-eq?" | "any-not-eq?" => {
                let positive = matches!(&**op, "eq?" | "any-eq?");
                let all = matches!(&**op, "eq?" | "not-eq?");
                let (Some(a), true) = (capture(1), p.len() == 3) else {
                    continue;
                };
                if let Some(b) = capture(2) {
                    out.push(TextPredicate::EqCapture(a, b, positive, all));
                } else if let Some(s) = string(2) {
                    out.push(TextPredicate::EqString(a, s, positive, all));
                }
            }
            "match?" | "not-match?" | "any-match?" | "any-not-match?" => {
                let positive = matches!(&**op, "match?" | "any-match?");
                let all = matches!(&**op, "match?" | "not-match?");
                let (Some(a), Some(r), true) = (capture(1), string(2), p.len() == 3) else {
                    continue;
                };
                if let Ok(regex) = regex::bytes::Regex::new(&r) {
                    out.push(TextPredicate::MatchString(a, regex, positive, all));
                }
            }
            "any-of?" | "not-any-of?" => {
                let Some(a) = capture(1) else { continue };
                let values = p[2..]
                    .iter()
                    .filter_map(|v| match v {
                        PredicateArg::String(s) => Some(s.clone()),
                        PredicateArg::Capture(_) => None,
                    })
                    .collect();
                out.push(TextPredicate::AnyString(a, values, &**op == "any-of?"));
            }
            _ => {}
        }
    }
    out
}

/// Whether a match satisfies `predicates`. `captures` are the match's
/// (capture index, node text) pairs in match order.
pub(crate) fn satisfies(predicates: &[TextPredicate], captures: &[(u32, &[u8])]) -> bool {
    let nodes = |i: u32| captures.iter().filter(move |c| c.0 == i).map(|c| c.1);
    predicates.iter().all(|p| match p {
        TextPredicate::EqCapture(i, j, positive, all) => {
            let mut a = nodes(*i).peekable();
            let mut b = nodes(*j).peekable();
            while a.peek().is_some() && b.peek().is_some() {
                let (x, y) = (a.next().unwrap_or_default(), b.next().unwrap_or_default());
                let hit = x == y;
                if hit != *positive && *all {
                    return false;
                }
                if hit == *positive && !*all {
                    return true;
                }
            }
            a.next().is_none() && b.next().is_none()
        }
        TextPredicate::EqString(i, s, positive, all) => {
            for text in nodes(*i) {
                let hit = text == s.as_bytes();
                if hit != *positive && *all {
                    return false;
                }
                if hit == *positive && !*all {
                    return true;
                }
            }
            true
        }
        TextPredicate::MatchString(i, r, positive, all) => {
            for text in nodes(*i) {
                let hit = r.is_match(text);
                if hit != *positive && *all {
                    return false;
                }
                if hit == *positive && !*all {
                    return true;
                }
            }
            true
        }
        TextPredicate::AnyString(i, values, positive) => {
            for text in nodes(*i) {
                if values.iter().any(|v| text == v.as_bytes()) != *positive {
                    return false;
                }
            }
            true
        }
    })
}
