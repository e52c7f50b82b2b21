//! Invariants of the registry table.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use cst_grammars::{AMBIGUITY_RULES, Role, all, by_id, by_name, compiled};

#[test]
fn at_least_one_hundred_languages() {
    // Injection grammars (regex, JSDoc, comment tags, printf) are languages of
    // their own; sub-grammars are parts of another language.
    let languages: BTreeSet<&str> = all()
        .iter()
        .filter(|g| g.role() != Role::SubGrammar)
        .map(|g| g.id())
        .collect();
    assert!(languages.len() >= 100, "only {} languages", languages.len());
}

#[test]
fn ids_are_unique_lowercase_identifiers() {
    let mut seen = HashSet::new();
    for g in all() {
        assert!(seen.insert(g.id()), "duplicate id {}", g.id());
        assert!(
            g.id()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "id {:?} is not a lower-case identifier",
            g.id()
        );
        assert_eq!(by_id(g.id()).map(|x| x.id()), Some(g.id()));
    }
}

#[test]
fn names_and_aliases_resolve_to_one_grammar() {
    let mut owner: BTreeMap<String, &str> = BTreeMap::new();
    for g in all() {
        let mut names = vec![g.id(), g.name()];
        names.extend(g.aliases());
        for n in names {
            let key = n.to_ascii_lowercase();
            if let Some(prev) = owner.insert(key.clone(), g.id()) {
                assert_eq!(
                    prev,
                    g.id(),
                    "name {n:?} is claimed by {prev} and {}",
                    g.id()
                );
            }
            assert_eq!(by_name(n).map(|x| x.id()), Some(g.id()), "by_name({n:?})");
            assert_eq!(
                by_name(&n.to_ascii_uppercase()).map(|x| x.id()),
                Some(g.id()),
                "by_name is case-insensitive"
            );
        }
    }
    assert!(by_name("no-such-language").is_none());
}

#[test]
fn no_extension_is_claimed_twice_without_a_rule() {
    let mut claims: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for g in all() {
        for e in g.extensions() {
            assert!(
                !e.starts_with('.') && !e.is_empty(),
                "{}: extension {e:?} must not start with a dot",
                g.id()
            );
            assert_eq!(
                *e,
                e.to_ascii_lowercase(),
                "{}: extensions are stored lower-case",
                g.id()
            );
            claims.entry(e).or_default().insert(g.id());
        }
    }
    for (ext, ids) in &claims {
        let rule = AMBIGUITY_RULES.iter().find(|r| r.extension == *ext);
        if ids.len() > 1 {
            let rule = rule.unwrap_or_else(|| {
                panic!(".{ext} is claimed by {ids:?} without an ambiguity rule")
            });
            let candidates: BTreeSet<&str> = rule.candidates.iter().copied().collect();
            assert_eq!(
                &candidates, ids,
                "rule for .{ext} must name exactly its claimants"
            );
        } else {
            assert!(rule.is_none(), "rule for .{ext} but only {ids:?} claims it");
        }
    }
    for rule in AMBIGUITY_RULES {
        assert!(
            claims.contains_key(rule.extension),
            "rule for unclaimed .{}",
            rule.extension
        );
    }
}

#[test]
fn file_names_and_interpreters_are_unique() {
    let mut files = HashSet::new();
    let mut interps = HashSet::new();
    for g in all() {
        for f in g.file_names() {
            assert!(files.insert(*f), "file name {f} claimed twice");
        }
        for i in g.interpreters() {
            assert!(interps.insert(*i), "interpreter {i} claimed twice");
        }
    }
}

#[test]
fn licences_are_in_the_allow_list() {
    let allowed = ["MIT", "Apache-2.0", "ISC", "MIT OR Apache-2.0", "WTFPL"];
    for g in all() {
        assert!(
            allowed.contains(&g.license()),
            "{}: licence {} not in the allow-list of deny.toml",
            g.id(),
            g.license()
        );
    }
}

#[test]
fn grammar_crates_are_pinned_exactly() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    for g in all() {
        let line = format!(
            "{} = {{ version = \"={}\", optional = true }}",
            g.crate_name(),
            g.crate_version()
        );
        assert!(manifest.contains(&line), "Cargo.toml must pin `{line}`");
        assert!(
            manifest.contains(&format!("\n{} = [\"dep:{}\"]", g.feature(), g.crate_name())),
            "feature {}",
            g.feature()
        );
    }
}

#[test]
fn compiled_grammars_load_and_fingerprint_stably() {
    let mut fingerprints = HashSet::new();
    for g in compiled() {
        let language = g.language().unwrap_or_else(|e| panic!("{}: {e}", g.id()));
        assert!(language.node_kind_count() > 0);
        assert!(
            language.node_kind_count() <= usize::from(u16::MAX),
            "{}: kind ids must fit in u16",
            g.id()
        );
        let fp = g.fingerprint().unwrap();
        assert_eq!(fp, g.fingerprint().unwrap(), "cached fingerprint is stable");
        assert!(
            fingerprints.insert(fp),
            "{} shares its fingerprint with another grammar",
            g.id()
        );
        assert_eq!(fp.to_string().len(), 32);
        g.parser().unwrap();
    }
}

#[test]
fn uncompiled_grammars_say_which_feature_to_enable() {
    for g in all().iter().filter(|g| !g.is_compiled()) {
        let err = g.language().unwrap_err();
        assert!(err.to_string().contains(g.feature()), "{err}");
        assert_eq!(g.queries(), &cst_grammars::Queries::NONE);
    }
}

#[cfg(feature = "all-langs")]
#[test]
fn all_langs_compiles_every_grammar() {
    let missing: Vec<&str> = all()
        .iter()
        .filter(|g| !g.is_compiled())
        .map(|g| g.id())
        .collect();
    assert!(
        missing.is_empty(),
        "not compiled with all-langs: {missing:?}"
    );
}

#[cfg(feature = "all-langs")]
#[test]
fn shipped_queries_compile_against_their_grammar() {
    // Only queries that belong to this grammar alone: injections and locals
    // of some crates refer to nodes of other grammars, so highlights and tags
    // are the ones a user runs directly.
    let mut checked = 0;
    let mut failures = Vec::new();
    for g in compiled() {
        let language = g.language().unwrap();
        for (what, q) in [
            ("highlights", g.queries().highlights),
            ("tags", g.queries().tags),
        ] {
            if let Some(src) = q {
                if let Err(e) = tree_sitter::Query::new(&language, src) {
                    failures.push(format!("{} {what}: {e}", g.id()));
                }
                checked += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "queries that do not compile:\n{}",
        failures.join("\n")
    );
    assert!(checked >= 100, "only {checked} queries checked");
}
