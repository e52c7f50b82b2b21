//! The language catalogue: its size and shape, its agreement with the
//! registry, names and detection.

use std::collections::HashSet;
use std::path::Path;

use cst_grammars::catalogue::{self, Entry};

fn detected(path: &str) -> Option<&'static str> {
    catalogue::detect_path(Path::new(path)).map(Entry::id)
}

#[test]
fn has_over_300_well_formed_entries_with_unique_ids() {
    let entries = catalogue::entries();
    assert!(entries.len() >= 300, "{} entries", entries.len());
    let mut ids = HashSet::new();
    for e in entries {
        assert!(ids.insert(e.id()), "duplicate id {}", e.id());
        assert!(
            !e.id().is_empty()
                && e.id()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "id {:?}",
            e.id()
        );
        assert!(!e.name().trim().is_empty(), "{} has no name", e.id());
        let suffix = e.symbol().strip_prefix("tree_sitter_");
        assert!(
            suffix.is_some_and(|s| !s.is_empty()),
            "{}: symbol {}",
            e.id(),
            e.symbol()
        );
        assert!(!e.sources().is_empty(), "{} has no source", e.id());
        for item in e
            .aliases()
            .iter()
            .chain(e.extensions())
            .chain(e.file_names())
            .chain(e.interpreters())
        {
            assert!(
                !item.is_empty() && !item.contains([',', '\t', '\n']),
                "{}: item {item:?}",
                e.id()
            );
            assert!(!item.starts_with('.') || e.file_names().contains(item));
        }
        assert!(
            e.aliases().iter().all(|a| *a == a.to_lowercase()),
            "{}: aliases are lower case",
            e.id()
        );
        assert_eq!(catalogue::by_id(e.id()), Some(e));
    }
    let sorted = entries.windows(2).all(|w| w[0].id() < w[1].id());
    assert!(sorted, "entries are sorted by id");
    assert_eq!(catalogue::by_id("no_such_language"), None);
}

#[test]
fn every_registry_grammar_is_in_the_catalogue_under_its_id() {
    for g in cst_grammars::all() {
        let e = catalogue::by_id(g.id())
            .unwrap_or_else(|| panic!("registry id {} is not in the catalogue", g.id()));
        assert_eq!(e.grammar().map(|g| g.id()), Some(g.id()));
        assert!(e.sources().contains(&"cst"), "{}: sources", g.id());
        // The registry's own detection data is all there.
        for ext in g.extensions() {
            assert!(e.extensions().contains(ext), "{}: .{ext}", g.id());
        }
        for f in g.file_names() {
            assert!(e.file_names().contains(f), "{}: {f}", g.id());
        }
    }
    let in_registry = catalogue::entries()
        .iter()
        .filter(|e| e.grammar().is_some())
        .count();
    assert_eq!(in_registry, cst_grammars::all().len());
}

#[test]
fn detection_agrees_with_the_registry_on_its_extensions_and_file_names() {
    for g in cst_grammars::all() {
        let paths = g
            .extensions()
            .iter()
            .map(|e| format!("dir/x.{e}"))
            .chain(g.file_names().iter().map(|f| format!("dir/{f}")));
        for path in paths {
            let registry = cst_grammars::detect_path(Path::new(&path)).map(|g| g.id());
            assert_eq!(detected(&path), registry, "{path}");
        }
    }
    // Ambiguous extensions follow the registry's rule on the content too.
    let objc = catalogue::detect(Path::new("x.h"), b"@interface Foo\n@end\n");
    assert_eq!(objc.map(Entry::id), Some("objc"));
    let cpp = catalogue::detect(Path::new("x.h"), b"namespace a {}\n");
    assert_eq!(cpp.map(Entry::id), Some("cpp"));
}

#[test]
fn detects_languages_without_a_registry_grammar() {
    let nu = catalogue::detect_path(Path::new("scripts/env.nu")).unwrap();
    assert_eq!(nu.id(), "nushell");
    assert_eq!(nu.name(), "Nushell");
    assert_eq!(nu.symbol(), "tree_sitter_nu");
    assert!(nu.grammar().is_none());
    assert!(cst_grammars::detect_path(Path::new("scripts/env.nu")).is_none());

    assert_eq!(detected("Dockerfile"), Some("dockerfile"));
    assert_eq!(detected("build/Containerfile"), Some("dockerfile"));
    assert_eq!(detected("x.dockerfile"), Some("dockerfile"));
    assert_eq!(detected("main.tf"), Some("hcl"));
    assert_eq!(detected("src/main.zig"), Some("zig"));
    assert_eq!(detected("build.zig.zon"), Some("zig"));
    assert_eq!(detected("x.tsx"), Some("tsx"));
    assert_eq!(detected("Program.cs"), Some("c_sharp"));
    assert_eq!(detected("lib.ex"), Some("elixir"));
    assert_eq!(detected("shader.wgsl"), Some("wgsl"));
    assert_eq!(detected("a.jl"), Some("julia"));
    assert_eq!(
        detected("README.MD"),
        Some("markdown"),
        "lower-cased extension"
    );
    assert_eq!(detected("x.d.ts"), Some("typescript"), "compound extension");
    assert_eq!(detected("x.unknownext"), None);
    assert_eq!(detected("notes.txt"), None, "txt is too generic");
    assert_eq!(detected(".hidden"), None);
}

#[test]
fn detects_by_shebang_when_the_path_says_nothing() {
    let nu = catalogue::detect(Path::new("bin/tool"), b"#!/usr/bin/env nu\nprint hi\n");
    assert_eq!(nu.map(Entry::id), Some("nushell"));
    let py = catalogue::detect(Path::new("bin/tool"), b"#!/usr/bin/python3.11\n");
    assert_eq!(py.map(Entry::id), Some("python"));
    let awk = catalogue::detect(Path::new("bin/tool"), b"#!/usr/bin/awk -f\n");
    assert_eq!(awk.map(Entry::id), Some("awk"));
    assert_eq!(
        catalogue::detect(Path::new("bin/tool"), b"plain text"),
        None
    );
    assert_eq!(
        catalogue::detect(Path::new("bin/tool"), b"#!/opt/nonesuch\n"),
        None
    );
    // The path wins over the shebang.
    let zig = catalogue::detect(Path::new("x.zig"), b"#!/usr/bin/env nu\n");
    assert_eq!(zig.map(Entry::id), Some("zig"));
}

#[test]
fn names_and_aliases_resolve_case_insensitively() {
    let id = |name: &str| catalogue::by_name(name).map(Entry::id);
    assert_eq!(id("nushell"), Some("nushell"));
    assert_eq!(id("NuShell"), Some("nushell"));
    assert_eq!(id("nu"), Some("nushell"), "the symbol suffix is an alias");
    assert_eq!(id("C#"), Some("c_sharp"));
    assert_eq!(id("csharp"), Some("c_sharp"));
    assert_eq!(id("C++"), Some("cpp"));
    assert_eq!(id("Containerfile"), Some("dockerfile"));
    assert_eq!(
        id("terraform"),
        Some("terraform"),
        "an id wins over an alias"
    );
    assert_eq!(id("Emacs Lisp"), Some("elisp"));
    assert_eq!(id("no such language"), None);
    // Every id, name and alias leads back to its own entry.
    for e in catalogue::entries() {
        assert_eq!(id(e.id()), Some(e.id()));
        assert_eq!(id(e.name()), Some(e.id()), "name {}", e.name());
        for a in e.aliases() {
            assert_eq!(id(a), Some(e.id()), "alias {a}");
        }
    }
}

#[test]
fn detection_data_is_owned_by_one_entry() {
    let ambiguous: HashSet<&str> = cst_grammars::AMBIGUITY_RULES
        .iter()
        .map(|r| r.extension)
        .collect();
    let mut exts = HashSet::new();
    let mut names = HashSet::new();
    let mut interpreters = HashSet::new();
    for e in catalogue::entries() {
        for x in e.extensions() {
            assert!(exts.insert(*x) || ambiguous.contains(x), ".{x} twice");
        }
        for f in e.file_names() {
            assert!(names.insert(*f), "{f} twice");
        }
        for i in e.interpreters() {
            assert!(interpreters.insert(*i), "#!{i} twice");
        }
    }
}
