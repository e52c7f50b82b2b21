//! Language detection by name, by path and by path plus the first bytes.
//!
//! Order for a path: exact file name, then the name patterns below, then the
//! longest matching (compound) extension, exactly and then lower-cased; an
//! extension claimed by several grammars is settled by its [`AmbiguityRule`].
//! When the path says nothing, a `#!` line names the interpreter.
//!
//! Name patterns: `requirements*.txt` is pip requirements; a `*.txt` file in a
//! directory named `corpus` whose parent is `test` is a tree-sitter test corpus.

use std::path::Path;

use crate::{Grammar, all, by_id, resolve};

/// The first of the table's descriptors, then of the grammars loaded at run
/// time, that `pred` accepts.
fn find_known(pred: impl Fn(&Grammar) -> bool) -> Option<&'static Grammar> {
    // A table descriptor that can parse (compiled in, or standing for a
    // loaded grammar of its id), else a loaded grammar, else a descriptor
    // that cannot parse (so the file reads as "not compiled in").
    let mut unavailable = None;
    for g in all().iter().filter(|g| pred(g)) {
        if resolve(g).is_available() {
            return Some(g);
        }
        unavailable.get_or_insert(g);
    }
    crate::loaded::find_map(|g| pred(g).then_some(g)).or(unavailable)
}

/// How an extension claimed by several grammars is settled.
#[derive(Debug, Clone, Copy)]
pub struct AmbiguityRule {
    /// The extension (without dot).
    pub extension: &'static str,
    /// Every grammar id that claims it.
    pub candidates: &'static [&'static str],
    /// The rule, in words (shown in docs).
    pub description: &'static str,
    /// Picks a candidate from the first bytes of the file (may be empty).
    pub decide: fn(&[u8]) -> &'static str,
}

/// Every extension that more than one grammar claims, with its rule.
pub static AMBIGUITY_RULES: &[AmbiguityRule] = &[
    AmbiguityRule {
        extension: "h",
        candidates: &["c", "cpp", "objc"],
        description: "Objective-C if it has `@interface`, `@protocol`, `@end` or `#import`; C++ if it has \
                      `class`, `namespace`, `template`, `::` or an access specifier; otherwise C",
        decide: decide_h,
    },
    AmbiguityRule {
        extension: "m",
        candidates: &["objc", "matlab"],
        description: "Objective-C if it has `@interface`, `@implementation`, `@protocol`, `#import` or \
                      `#include`; otherwise MATLAB",
        decide: decide_m,
    },
    AmbiguityRule {
        extension: "v",
        candidates: &["verilog", "systemverilog"],
        description: "Verilog (Coq and V have no grammar here; SystemVerilog files use `.sv`)",
        decide: |_| "verilog",
    },
    AmbiguityRule {
        extension: "vh",
        candidates: &["verilog", "systemverilog"],
        description: "Verilog (SystemVerilog headers use `.svh`)",
        decide: |_| "verilog",
    },
    AmbiguityRule {
        extension: "pp",
        candidates: &["pascal", "puppet"],
        description: "Pascal if a line starts with `program`, `unit`, `library`, `uses` or `interface` \
                      (any case); otherwise Puppet",
        decide: decide_pp,
    },
];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn any_line_starts_with_word(head: &[u8], words: &[&str]) -> bool {
    head.split(|&b| b == b'\n').any(|line| {
        let line = line.trim_ascii_start();
        words.iter().any(|w| {
            line.len() >= w.len()
                && line[..w.len()].eq_ignore_ascii_case(w.as_bytes())
                && line
                    .get(w.len())
                    .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'_')
        })
    })
}

fn decide_h(head: &[u8]) -> &'static str {
    if [&b"@interface"[..], b"@protocol", b"@end", b"#import"]
        .iter()
        .any(|n| contains(head, n))
    {
        "objc"
    } else if [
        &b"class "[..],
        b"namespace ",
        b"template",
        b"::",
        b"public:",
        b"private:",
        b"protected:",
    ]
    .iter()
    .any(|n| contains(head, n))
    {
        "cpp"
    } else {
        "c"
    }
}

fn decide_m(head: &[u8]) -> &'static str {
    if [
        &b"@interface"[..],
        b"@implementation",
        b"@protocol",
        b"#import",
        b"#include",
    ]
    .iter()
    .any(|n| contains(head, n))
    {
        "objc"
    } else {
        "matlab"
    }
}

fn decide_pp(head: &[u8]) -> &'static str {
    if any_line_starts_with_word(head, &["program", "unit", "library", "uses", "interface"]) {
        "pascal"
    } else {
        "puppet"
    }
}

/// The grammar with this id, alias or display name (case-insensitive).
pub fn by_name(name: &str) -> Option<&'static Grammar> {
    let eq = |s: &str| s.eq_ignore_ascii_case(name);
    find_known(|g| eq(g.id) || eq(g.name) || g.aliases.iter().any(|a| eq(a))).map(resolve)
}

/// Detects a grammar from the path alone. Ambiguous extensions get their
/// rule's answer for an empty file. See [`detect`] to also use the content.
pub fn detect_path(path: &Path) -> Option<&'static Grammar> {
    detect(path, b"")
}

/// Detects a grammar from the path and the first bytes of the file (a few KiB
/// are plenty; pass `b""` when the content is not at hand).
pub fn detect(path: &Path, head: &[u8]) -> Option<&'static Grammar> {
    detect_in_table(path, head).map(resolve)
}

fn detect_in_table(path: &Path, head: &[u8]) -> Option<&'static Grammar> {
    if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
        if let Some(g) = find_known(|g| g.file_names.contains(&name)) {
            return Some(g);
        }
        if let Some(g) = by_pattern(path, name) {
            return Some(g);
        }
        if let Some(g) = by_extension(name, head) {
            return Some(g);
        }
    }
    by_shebang(head)
}

fn by_pattern(path: &Path, name: &str) -> Option<&'static Grammar> {
    if name.starts_with("requirements") && name.ends_with(".txt") {
        return by_id("requirements");
    }
    if name.ends_with(".txt") {
        let mut parents = path.parent()?.components().rev().map(|c| c.as_os_str());
        if parents.next()? == "corpus" && parents.next()? == "test" {
            return by_id("tree_sitter_test");
        }
    }
    None
}

fn by_extension(name: &str, head: &[u8]) -> Option<&'static Grammar> {
    // Every suffix after a dot, longest first: "x.d.ts" tries "d.ts" then "ts".
    // A leading dot (".bashrc") is a hidden file, not an extension.
    let body = name.strip_prefix('.').unwrap_or(name);
    let mut candidates: Vec<&str> = body
        .match_indices('.')
        .map(|(i, _)| &body[i + 1..])
        .collect();
    candidates.retain(|e| !e.is_empty());
    for ext in candidates {
        if let Some(g) = lookup_extension(ext, head) {
            return Some(g);
        }
        let lower = ext.to_ascii_lowercase();
        if lower != ext
            && let Some(g) = lookup_extension(&lower, head)
        {
            return Some(g);
        }
    }
    None
}

fn lookup_extension(ext: &str, head: &[u8]) -> Option<&'static Grammar> {
    if let Some(rule) = AMBIGUITY_RULES.iter().find(|r| r.extension == ext) {
        return by_id((rule.decide)(head));
    }
    find_known(|g| g.extensions.contains(&ext))
}

/// The interpreter named on a `#!` line: `#!/bin/sh` → `sh`,
/// `#!/usr/bin/env -S python3 -u` → `python3`.
pub(crate) fn shebang_interpreter(head: &[u8]) -> Option<&str> {
    let rest = head.strip_prefix(b"#!")?;
    let line = rest.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim();
    let mut words = line.split_ascii_whitespace();
    let mut program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        program = words.find(|w| !w.starts_with('-') && !w.contains('='))?;
        program = program.rsplit('/').next()?;
    }
    Some(program)
}

fn by_shebang(head: &[u8]) -> Option<&'static Grammar> {
    let program = shebang_interpreter(head)?;
    let find = |p: &str| find_known(|g| g.interpreters.contains(&p));
    // `python3.12` → `python3` → `python`.
    find(program)
        .or_else(|| find(program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')))
        .or_else(|| {
            let base =
                program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
            find(base)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_forms() {
        assert_eq!(shebang_interpreter(b"#!/bin/sh\necho"), Some("sh"));
        assert_eq!(
            shebang_interpreter(b"#!/usr/bin/env python3\n"),
            Some("python3")
        );
        assert_eq!(
            shebang_interpreter(b"#! /usr/bin/env -S deno run --allow-all\n"),
            Some("deno")
        );
        assert_eq!(
            shebang_interpreter(b"#!/usr/bin/env FOO=1 node\n"),
            Some("node")
        );
        assert_eq!(shebang_interpreter(b"# not a shebang"), None);
        assert_eq!(shebang_interpreter(b"#!\n"), None);
        assert_eq!(shebang_interpreter(b"#!\xff\xfe\n"), None);
        assert_eq!(
            by_shebang(b"#!/usr/bin/python3.12\n").map(Grammar::id),
            Some("python")
        );
    }

    #[test]
    fn pascal_words_need_word_boundary() {
        assert_eq!(decide_pp(b"program Hello;\nbegin end."), "pascal");
        assert_eq!(decide_pp(b"  UNIT Foo;"), "pascal");
        assert_eq!(decide_pp(b"class programs {\n}"), "puppet");
        assert_eq!(decide_pp(b"units { }"), "puppet");
    }
}
