//! Tidy tests: the layering invariants of ARCHITECTURE.md, checked from
//! `cargo metadata` and the sources, plus README/CI consistency.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

/// Declared dependencies of each workspace member: name -> (dep name, optional, kind).
fn members() -> BTreeMap<String, Vec<(String, bool, Option<String>)>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(crate::root())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["name"].as_str().unwrap().to_owned(),
                        d["optional"].as_bool().unwrap_or(false),
                        d["kind"].as_str().map(str::to_owned),
                    )
                })
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

const PLUMBING: &[&str] = &[
    "cst-grammars",
    "cst-bytecode",
    "cst-tiers",
    "cst-policy",
    "cst-remote",
];
const OURS: &[&str] = &[
    "cst-grammars",
    "cst-bytecode",
    "cst-tiers",
    "cst-policy",
    "cst-remote",
    "cst-query",
    "cst-tags",
    "cst",
    "cst-watch",
    "cst-workspace",
    "cst-symbols",
    "cst-api",
    "cst-lsp",
    "cst-mcp",
    "cst-cli",
];

/// The crates of the library: everything below the protocol crates and the
/// command. None of them has an async runtime or a protocol's types.
/// (`cst-remote` is the one exception the facade may stand on: it owns a
/// tokio runtime privately and its public API is synchronous; see
/// `remote_stores_opaque_records_behind_a_synchronous_api`.)
const LIBRARY: &[&str] = &[
    "cst-grammars",
    "cst-bytecode",
    "cst-tiers",
    "cst-policy",
    "cst-query",
    "cst-tags",
    "cst",
    "cst-watch",
    "cst-workspace",
    "cst-symbols",
];

/// An async runtime, an HTTP stack, or a protocol's serialisation: only in
/// the protocol crates (and the command, tools and benchmarks).
const PROTOCOL_DEPS: &[&str] = &[
    "tokio",
    "axum",
    "hyper",
    "tower",
    "tower-http",
    "serde_json",
    "lsp-types",
    "lsp-server",
    "rmcp",
    "ureq",
];

fn normal_deps(
    deps: &[(String, bool, Option<String>)],
) -> impl Iterator<Item = &(String, bool, Option<String>)> {
    deps.iter().filter(|d| d.2.is_none())
}

#[test]
fn every_crate_of_the_design_exists() {
    let m = members();
    for name in OURS {
        assert!(m.contains_key(*name), "workspace lacks {name}");
    }
}

#[test]
fn plumbing_crates_do_not_compose_each_other() {
    let m = members();
    for name in PLUMBING {
        for (dep, _, _) in normal_deps(&m[*name]) {
            assert!(
                !OURS.contains(&dep.as_str()),
                "{name} depends on {dep}: only the facade `cst` composes crates"
            );
        }
    }
}

#[test]
fn query_reads_views_and_composes_nothing() {
    let m = members();
    for (dep, _, _) in normal_deps(&m["cst-query"]) {
        if OURS.contains(&dep.as_str()) {
            assert_eq!(
                dep, "cst-bytecode",
                "cst-query may use only the format (it reads views), not {dep}"
            );
        }
        for banned in [
            "memmap2",
            "zstd",
            "lz4_flex",
            "cst-tiers",
            "cst-policy",
            "cst-grammars",
        ] {
            assert_ne!(dep, banned, "cst-query must not depend on {banned}");
        }
    }
    // tree-sitter's query internals are read in one place, for the pinned version.
    let src = crate::root().join("crates/cst-query/src");
    for entry in walk(&src) {
        let text = std::fs::read_to_string(&entry).unwrap();
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        if name != "raw.rs" {
            assert!(
                !text.contains("unsafe"),
                "{}: cst-query keeps its unsafe code in raw.rs",
                entry.display()
            );
        }
    }
}

#[test]
fn tags_read_views_through_queries_and_compose_nothing() {
    let m = members();
    for (dep, optional, _) in normal_deps(&m["cst-tags"]) {
        if OURS.contains(&dep.as_str()) {
            assert!(
                ["cst-bytecode", "cst-query"].contains(&dep.as_str()),
                "cst-tags may use only the format and the query engine, not {dep}"
            );
        }
        for banned in [
            "memmap2",
            "zstd",
            "lz4_flex",
            "cst-tiers",
            "cst-policy",
            "cst-grammars",
        ] {
            assert_ne!(dep, banned, "cst-tags must not depend on {banned}");
        }
        if dep == "tree-sitter-tags" {
            assert!(
                *optional,
                "tree-sitter-tags is the peer: behind `differential` only"
            );
        }
    }
    for entry in walk(&crate::root().join("crates/cst-tags/src")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(
            !text.contains("unsafe"),
            "{}: cst-tags has no unsafe code",
            entry.display()
        );
    }
}

#[test]
fn bytecode_needs_no_storage_and_tree_sitter_only_behind_a_feature() {
    let m = members();
    for (dep, optional, _) in normal_deps(&m["cst-bytecode"]) {
        for banned in ["memmap2", "cst-tiers", "cst-policy"] {
            assert_ne!(dep, banned, "cst-bytecode must not depend on {banned}");
        }
        if dep.starts_with("tree-sitter") {
            assert!(
                *optional,
                "cst-bytecode's {dep} dependency must be optional (behind the encoder feature)"
            );
        }
    }
}

#[test]
fn policy_is_pure_logic() {
    let m = members();
    for (dep, _, _) in normal_deps(&m["cst-policy"]) {
        for banned in [
            "tree-sitter",
            "memmap2",
            "zstd",
            "lz4_flex",
            "bytes",
            "tokio",
        ] {
            assert!(
                !dep.starts_with(banned),
                "cst-policy must not depend on {dep}: no I/O, no trees"
            );
        }
    }
    // And no I/O or wall clock in its sources.
    let src = crate::root().join("crates/cst-policy/src");
    for entry in walk(&src) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for banned in [
            "std::fs",
            "std::net",
            "std::io::",
            "SystemTime",
            "Instant::now",
            "tree_sitter",
        ] {
            assert!(
                !text.contains(banned),
                "{} uses {banned}: cst-policy does no I/O and knows no trees",
                entry.display()
            );
        }
    }
}

#[test]
fn tiers_store_opaque_bytes() {
    let m = members();
    for (dep, _, _) in normal_deps(&m["cst-tiers"]) {
        assert!(
            !["cst-bytecode", "cst-grammars", "cst-policy"].contains(&dep.as_str()),
            "cst-tiers depends on {dep}: it stores opaque bytes and takes no policy"
        );
        assert!(
            !dep.starts_with("tree-sitter"),
            "cst-tiers depends on {dep}: live trees and key derivation belong to the facade"
        );
    }
    for entry in walk(&crate::root().join("crates/cst-tiers/src")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(
            !text.contains("tree_sitter::"),
            "{} names tree-sitter: cst-tiers stores opaque bytes",
            entry.display()
        );
    }
}

#[test]
fn remote_stores_opaque_records_behind_a_synchronous_api() {
    let m = members();
    for (dep, _, _) in normal_deps(&m["cst-remote"]) {
        assert!(
            !OURS.contains(&dep.as_str()) && !dep.starts_with("tree-sitter"),
            "cst-remote depends on {dep}: it stores opaque records (no cst, \
             cst-bytecode, cst-workspace or tree-sitter)"
        );
    }
    // Only the facade and the crates above it may use the remote.
    for name in [
        "cst-grammars",
        "cst-bytecode",
        "cst-tiers",
        "cst-policy",
        "cst-query",
        "cst-tags",
        "cst-watch",
    ] {
        for (dep, _, _) in normal_deps(&m[name]) {
            assert_ne!(
                dep, "cst-remote",
                "{name} depends on cst-remote: only the facade and the crates above it may"
            );
        }
    }
    // Its runtime stays inside: no async function in its public API, no
    // trees in its sources.
    for entry in walk(&crate::root().join("crates/cst-remote/src")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for banned in ["pub async fn", "tree_sitter"] {
            assert!(
                !text.contains(banned),
                "{} contains `{banned}`: cst-remote is synchronous and stores opaque records",
                entry.display()
            );
        }
    }
}

#[test]
fn cli_uses_the_facade_and_the_layers_above_it() {
    let m = members();
    let mut ours: Vec<&str> = normal_deps(&m["cst-cli"])
        .map(|d| d.0.as_str())
        .filter(|d| OURS.contains(d) || d.starts_with("tree-sitter"))
        .collect();
    ours.sort();
    assert_eq!(
        ours,
        [
            "cst",
            "cst-api",
            "cst-lsp",
            "cst-mcp",
            "cst-symbols",
            "cst-workspace"
        ],
        "cst-cli may depend on the facade, the workspace layer and the protocol crates only"
    );
}

#[test]
fn service_code_lives_above_the_facade() {
    let m = members();
    // The facade and everything below it know nothing of the service.
    for name in [
        "cst-grammars",
        "cst-bytecode",
        "cst-tiers",
        "cst-policy",
        "cst-query",
        "cst-tags",
        "cst",
    ] {
        for (dep, _, _) in normal_deps(&m[name]) {
            assert!(
                ![
                    "cst-watch",
                    "cst-workspace",
                    "cst-symbols",
                    "cst-api",
                    "cst-lsp",
                    "cst-mcp"
                ]
                .contains(&dep.as_str()),
                "{name} depends on {dep}: service code lives above the facade"
            );
        }
    }
    // The watcher composes nothing of ours; the workspace stands on the
    // facade and the watcher; the API on the workspace.
    let ours_of = |name: &str| -> Vec<String> {
        normal_deps(&m[name])
            .map(|d| d.0.clone())
            .filter(|d| OURS.contains(&d.as_str()))
            .collect()
    };
    assert!(
        ours_of("cst-watch").is_empty(),
        "cst-watch composes nothing"
    );
    assert_eq!(ours_of("cst-workspace"), ["cst", "cst-watch"]);
    // Symbols (names, definitions, references, the repo map) stand on the
    // workspace; each protocol on the workspace and the symbols, never on
    // another protocol.
    assert_eq!(ours_of("cst-symbols"), ["cst-workspace"]);
    for protocol in ["cst-api", "cst-lsp", "cst-mcp"] {
        for dep in ours_of(protocol) {
            assert!(
                ["cst-workspace", "cst-symbols"].contains(&dep.as_str()),
                "{protocol} depends on {dep}: a protocol crate stands on the workspace \
                 and the symbols only"
            );
        }
    }
}

#[test]
fn async_runtimes_and_protocols_stay_in_the_protocol_crates() {
    let m = members();
    for name in LIBRARY {
        for (dep, _, _) in normal_deps(&m[*name]) {
            assert!(
                !PROTOCOL_DEPS.contains(&dep.as_str()),
                "{name} depends on {dep}: the library stays synchronous and protocol-free \
                 (tokio, axum, serde_json… belong to cst-api and the command)"
            );
        }
    }
    // In their sources too (a re-export would hide a dependency).
    for name in LIBRARY {
        for entry in walk(&crate::root().join("crates").join(name).join("src")) {
            let text = std::fs::read_to_string(&entry).unwrap();
            for banned in ["tokio::", "axum::", "serde_json::", "lsp_types::"] {
                assert!(
                    !text.contains(banned),
                    "{} uses {banned}: the library stays synchronous and protocol-free",
                    entry.display()
                );
            }
        }
    }
}

#[test]
fn ci_runs_the_readme_test_command() {
    let readme = std::fs::read_to_string(crate::root().join("README.md")).unwrap();
    let ci = std::fs::read_to_string(crate::root().join(".ci/run")).unwrap();
    // The README names the test command in a block after "Run the tests".
    let after = readme
        .split("Run the tests")
        .nth(1)
        .expect("README has a 'Run the tests' section");
    let command = after
        .lines()
        .skip_while(|l| !l.starts_with("```"))
        .nth(1)
        .expect("a code block follows 'Run the tests'")
        .trim();
    assert!(
        ci.contains(command),
        ".ci/run must run the README's test command `{command}`"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}
