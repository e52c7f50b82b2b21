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
    "cst-loader",
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
fn loader_registers_grammars_and_composes_nothing_else() {
    let m = members();
    for (dep, _, _) in normal_deps(&m["cst-loader"]) {
        if OURS.contains(&dep.as_str()) {
            assert_eq!(
                dep, "cst-grammars",
                "cst-loader may use only the registry it adds grammars to, not {dep}"
            );
        }
        for banned in ["tokio", "axum", "hyper", "memmap2", "zstd"] {
            assert_ne!(dep, banned, "cst-loader must not depend on {banned}");
        }
    }
    // Only the facade (and the crates above it) may use the loader.
    for name in PLUMBING.iter().chain(&["cst-query", "cst-tags"]) {
        for (dep, _, _) in normal_deps(&m[*name]) {
            assert_ne!(
                dep, "cst-loader",
                "{name} depends on cst-loader: only the facade composes it"
            );
        }
    }
    // Its `unsafe` (opening libraries, calling their constructor) is in
    // dl.rs alone: see `unsafe_code_stays_in_the_allow_list`.
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
    // Its `unsafe` code (tree-sitter's query internals, read in one place
    // for the pinned version) is in raw.rs alone: see
    // `unsafe_code_stays_in_the_allow_list`.
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
    // It has no `unsafe` code: see `unsafe_code_stays_in_the_allow_list`.
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

/// The only files of the library crates (`crates/*/src`) that may hold
/// `unsafe` code: the memory map of the frozen store, the copy of
/// tree-sitter's compiled query, tree-sitter's cursor internals read
/// for the query facts, and the opening of grammar libraries loaded at run
/// time (cst-loader's dl.rs). Every crate denies `unsafe_code` (workspace lints),
/// so each item there says `#[allow(unsafe_code)]` itself; each file
/// denies `clippy::undocumented_unsafe_blocks`, and each `unsafe` block has
/// a `// SAFETY:` comment just above it. Benchmarks and tests may have
/// their own (`mallinfo2`).
const UNSAFE_ALLOW_LIST: &[&str] = &[
    "crates/cst-tiers/src/frozen/segment.rs",
    "crates/cst-query/src/raw.rs",
    "crates/cst-bytecode/src/live_facts.rs",
    "crates/cst-loader/src/dl.rs",
];

#[test]
fn unsafe_code_stays_in_the_allow_list() {
    let root = crate::root();
    // The lint that makes every `#[allow(unsafe_code)]` necessary.
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let rust_lints = manifest
        .split("[workspace.lints.rust]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("the workspace has [workspace.lints.rust]");
    assert!(
        rust_lints
            .lines()
            .any(|l| l.replace(' ', "") == r#"unsafe_code="deny""#
                || l.replace(' ', "") == r#"unsafe_code="forbid""#),
        "[workspace.lints.rust] must deny unsafe_code"
    );
    let mut crates: Vec<_> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    crates.sort();
    let mut problems = Vec::new();
    for dir in &crates {
        let toml = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let inherits = toml
            .split("[lints]")
            .nth(1)
            .is_some_and(|rest| rest.trim_start().starts_with("workspace = true"));
        if !inherits {
            problems.push(format!(
                "{}: needs `[lints] workspace = true` (which denies unsafe_code)",
                dir.join("Cargo.toml").display()
            ));
        }
        let mut files = walk(&dir.join("src"));
        files.sort();
        for file in files {
            let rel = file
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&file).unwrap();
            problems.extend(unsafe_problems(
                &rel,
                &text,
                UNSAFE_ALLOW_LIST.contains(&rel.as_str()),
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "`unsafe` outside the allow-list or undocumented:\n{}",
        problems.join("\n")
    );
}

/// What is wrong with `text` (the file `path`) as to `unsafe` code: any of
/// it (the `unsafe` keyword, an `allow(unsafe_code)`) outside the
/// allow-list; in an allow-listed file, a module-wide allow, a missing
/// `#![deny(clippy::undocumented_unsafe_blocks)]`, or an `unsafe` block
/// without a `// SAFETY:` comment above it. Comments, strings and
/// character literals are not code; `deny(unsafe_code)` and
/// `forbid(unsafe_code)` are fine anywhere.
fn unsafe_problems(path: &str, text: &str, allowed: bool) -> Vec<String> {
    let code: Vec<char> = code_only(text).chars().collect();
    let lines: Vec<&str> = text.lines().collect();
    let line_of = |at: usize| code[..at].iter().filter(|&&c| c == '\n').count();
    let mut problems = Vec::new();
    for at in words(&code, "unsafe") {
        let after = code[at + 6..].iter().find(|c| !c.is_whitespace());
        if !allowed {
            problems.push(format!(
                "{path}:{}: `unsafe` outside the allow-list",
                line_of(at) + 1
            ));
        } else if after == Some(&'{') && !safety_comment_above(&lines, line_of(at)) {
            problems.push(format!(
                "{path}:{}: `unsafe` block without a `// SAFETY:` comment above it",
                line_of(at) + 1
            ));
        }
    }
    for at in words(&code, "unsafe_code") {
        let Some((attribute, inner)) = enclosing_attribute(&code, at) else {
            continue;
        };
        if !["allow", "expect"].contains(&attribute.as_str()) {
            continue;
        }
        if !allowed {
            problems.push(format!(
                "{path}:{}: `{attribute}(unsafe_code)` outside the allow-list",
                line_of(at) + 1
            ));
        } else if inner {
            problems.push(format!(
                "{path}:{}: module-wide `#![{attribute}(unsafe_code)]`: allow it per item",
                line_of(at) + 1
            ));
        }
    }
    let flat: String = code.iter().filter(|c| !c.is_whitespace()).collect();
    if allowed && !flat.contains("#![deny(clippy::undocumented_unsafe_blocks)]") {
        problems.push(format!(
            "{path}: lacks `#![deny(clippy::undocumented_unsafe_blocks)]`"
        ));
    }
    problems
}

/// Whether line `line` (0-based) has a `// SAFETY:` comment above it: on
/// the comment lines (and attributes) just above, or above the lines of
/// the expression the block is part of (up to three, none ending a
/// statement or opening a block), or before the block on its own line.
fn safety_comment_above(lines: &[&str], line: usize) -> bool {
    let own = lines[line];
    if own[..own.find("unsafe").unwrap_or(0)].contains("SAFETY:") {
        return true;
    }
    let mut continuation = 3;
    for l in lines[..line].iter().rev() {
        let t = l.trim();
        if t.starts_with("//") {
            if t.contains("SAFETY:") {
                return true;
            }
        } else if t.starts_with("#[") {
        } else if t.is_empty() || t.ends_with([';', '{', '}']) || continuation == 0 {
            return false;
        } else {
            continuation -= 1;
        }
    }
    false
}

/// Start indices of the identifier `word` in `code`.
fn words(code: &[char], word: &str) -> Vec<usize> {
    let w: Vec<char> = word.chars().collect();
    let ident = |c: Option<&char>| c.is_some_and(|&c| c.is_alphanumeric() || c == '_');
    (0..code.len().saturating_sub(w.len() - 1))
        .filter(|&i| {
            code[i..i + w.len()] == w[..]
                && !ident(i.checked_sub(1).and_then(|p| code.get(p)))
                && !ident(code.get(i + w.len()))
        })
        .collect()
}

/// The lint attribute (`allow`, `deny`, …) whose parentheses hold the
/// word at `at`, and whether it is an inner attribute (`#![…]`).
fn enclosing_attribute(code: &[char], at: usize) -> Option<(String, bool)> {
    let open = code[..at].iter().rposition(|&c| c == '(' || c == ')')?;
    if code[open] != '(' {
        return None;
    }
    let before: Vec<char> = code[..open]
        .iter()
        .rev()
        .skip_while(|c| c.is_whitespace())
        .copied()
        .collect();
    let name: String = before
        .iter()
        .take_while(|c| c.is_alphanumeric() || **c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let rest: String = before[name.len()..]
        .iter()
        .filter(|c| !c.is_whitespace())
        .take(3)
        .collect();
    Some((name, rest == "[!#"))
}

/// `text` with its comments and the contents of its string and character
/// literals blanked (line breaks kept, so line numbers hold).
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = c.clone();
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for ch in &mut out[from..to.min(c.len())] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
    };
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            let end = c[i..]
                .iter()
                .position(|&x| x == '\n')
                .map_or(c.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if c[i] == '/' && next == Some('*') {
            let (mut depth, mut j) = (0, i);
            while j < c.len() {
                if c[j] == '/' && c.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if c[j] == '*' && c.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c[i] == '\'' {
            // A character literal, or a lifetime or label (left as is).
            let end = if next == Some('\\') {
                c.get(i + 3..)
                    .and_then(|rest| rest.iter().position(|&x| x == '\''))
                    .map(|p| i + 3 + p)
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    blank(&mut out, i, e + 1);
                    i = e + 1;
                }
                None => i += 1,
            }
        } else if ident(c[i]) {
            let mut j = i;
            while j < c.len() && ident(c[j]) {
                j += 1;
            }
            let word: String = c[i..j].iter().collect();
            let hashes = c[j..].iter().take_while(|&&x| x == '#').count();
            if ["r", "br", "cr"].contains(&word.as_str()) && c.get(j + hashes) == Some(&'"') {
                // A raw string: to a quote followed by as many hashes.
                let mut k = j + hashes + 1;
                while k < c.len()
                    && !(c[k] == '"'
                        && c[k + 1..].iter().take_while(|&&x| x == '#').count() >= hashes)
                {
                    k += 1;
                }
                blank(&mut out, i, k + 1 + hashes);
                i = k + 1 + hashes;
            } else {
                i = j;
            }
        } else {
            i += 1;
        }
    }
    out.into_iter().collect()
}

#[test]
fn the_unsafe_check_reads_code_not_comments_or_strings() {
    let ok = |path: &str, text: &str, allowed: bool| unsafe_problems(path, text, allowed);
    // Outside the allow-list: the keyword and allows are found in code
    // only; deny and forbid are fine.
    let clean = "#![forbid(unsafe_code)]\n#![deny(unsafe_code)]\n// unsafe { x }\n\
                 /* unsafe fn f() {} /* nested */ unsafe impl */\n\
                 let s = \"unsafe { }\"; let r = r#\"allow(unsafe_code) \" unsafe\"#;\n\
                 let c = '\"'; let q = '\\''; fn f<'a>(x: &'a u8) {}\n\
                 #[deny(unsafe_op_in_unsafe_fn)] fn g() { let not_unsafe = 1; }\n";
    assert_eq!(ok("a.rs", clean, false), Vec::<String>::new());
    for bad in [
        "fn f() { unsafe { g() } }",
        "unsafe fn f() {}",
        "unsafe impl Send for S {}",
        "unsafe extern \"C\" { fn f(); }",
        "let s = \"x\"; unsafe{ g() }",
    ] {
        assert_eq!(ok("a.rs", bad, false).len(), 1, "{bad}");
    }
    for bad in [
        "#[allow(unsafe_code)]\nfn f() {}",
        "#![allow(dead_code, unsafe_code)]",
        "#[cfg_attr(test, expect(unsafe_code))] fn f() {}",
    ] {
        let p = ok("a.rs", bad, false);
        assert!(
            p.len() == 1 && p[0].contains("(unsafe_code)` outside"),
            "{bad}: {p:?}"
        );
    }
    // In the allow-list: per-item allows, the lint, SAFETY comments.
    let documented = "//! Docs.\n#![deny(clippy::undocumented_unsafe_blocks)]\n\n\
                      #[allow(unsafe_code)]\nfn f() {\n    // SAFETY: why.\n    let a = unsafe { g() };\n\
                      \x20   // SAFETY: why, at length,\n    // over two lines.\n    let b =\n        unsafe { g() };\n\
                      \x20   // SAFETY: why.\n    #[allow(clippy::x)]\n    drop(unsafe { g() });\n}\n\
                      #[allow(unsafe_code)]\nunsafe fn h() {}\n";
    assert_eq!(ok("s.rs", documented, true), Vec::<String>::new());
    let p = ok(
        "s.rs",
        "#![allow(unsafe_code)]\nfn f() {\n    // SAFETY: for a.\n    let a = unsafe { g() };\n    \
         let b = unsafe { g() };\n\n    // SAFETY: too far.\n\n    unsafe { g() }\n}\n",
        true,
    );
    assert_eq!(
        p,
        [
            "s.rs:5: `unsafe` block without a `// SAFETY:` comment above it",
            "s.rs:9: `unsafe` block without a `// SAFETY:` comment above it",
            "s.rs:1: module-wide `#![allow(unsafe_code)]`: allow it per item",
            "s.rs: lacks `#![deny(clippy::undocumented_unsafe_blocks)]`",
        ]
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
