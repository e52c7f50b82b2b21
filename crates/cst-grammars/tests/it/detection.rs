//! Detection: every extension, file name, shebang interpreter and ambiguity
//! rule of the table, plus the documented special cases.

use std::path::Path;

use cst_grammars::{AMBIGUITY_RULES, all, by_id, detect, detect_path};

fn id_of(path: &str, head: &[u8]) -> Option<&'static str> {
    detect(Path::new(path), head).map(|g| g.id())
}

fn rule_default(ext: &str) -> Option<&'static str> {
    AMBIGUITY_RULES
        .iter()
        .find(|r| r.extension == ext)
        .map(|r| (r.decide)(b""))
}

#[test]
fn every_extension_detects_its_grammar() {
    for g in all() {
        for ext in g.extensions() {
            let expected = rule_default(ext).unwrap_or(g.id());
            for path in [
                format!("x.{ext}"),
                format!("dir/sub/some-file.name.{ext}"),
                format!("X.{}", ext.to_uppercase()),
            ] {
                assert_eq!(
                    detect_path(Path::new(&path)).map(|g| g.id()),
                    Some(expected),
                    "{path}"
                );
            }
        }
    }
}

#[test]
fn every_file_name_detects_its_grammar() {
    for g in all() {
        for name in g.file_names() {
            assert_eq!(id_of(name, b""), Some(g.id()), "{name}");
            assert_eq!(
                id_of(&format!("/some/where/{name}"), b""),
                Some(g.id()),
                "{name} in a directory"
            );
        }
    }
}

#[test]
fn every_interpreter_detects_its_grammar_from_a_shebang() {
    for g in all() {
        for interp in g.interpreters() {
            for line in [
                format!("#!/usr/bin/env {interp}\n"),
                format!("#!/usr/local/bin/{interp}\nrest"),
                format!("#!/usr/bin/env -S {interp} --flag\n"),
                format!("#! /opt/bin/{interp}"),
            ] {
                assert_eq!(id_of("bin/tool", line.as_bytes()), Some(g.id()), "{line:?}");
            }
        }
    }
    // Versioned interpreters fall back to their base name.
    assert_eq!(id_of("run", b"#!/usr/bin/python3.12\n"), Some("python"));
    assert_eq!(id_of("run", b"#!/usr/bin/env ruby2.7\n"), Some("ruby"));
    assert_eq!(id_of("run", b"#!/bin/sh\nset -e\n"), Some("bash"));
}

#[test]
fn the_path_wins_over_the_shebang() {
    assert_eq!(id_of("script.py", b"#!/bin/sh\n"), Some("python"));
    assert_eq!(id_of("Makefile", b"#!/usr/bin/env python3\n"), Some("make"));
}

#[test]
fn unknown_inputs_detect_nothing() {
    assert_eq!(id_of("notes.unknownext", b""), None);
    assert_eq!(id_of("README", b"hello"), None);
    assert_eq!(
        id_of("bin/tool", b"#!/usr/bin/env no-such-interpreter\n"),
        None
    );
    assert_eq!(id_of("", b""), None);
    assert_eq!(id_of(".gitignore", b""), None);
    assert_eq!(id_of("trailing.", b""), None);
    assert_eq!(id_of("binary", &[0x7f, b'E', b'L', b'F', 0, 0]), None);
}

#[test]
fn compound_and_hidden_names() {
    assert_eq!(id_of("types/index.d.ts", b""), Some("typescript"));
    assert_eq!(
        id_of("src/app.src", b""),
        None,
        "app.src needs a name before it"
    );
    assert_eq!(id_of("src/foo.app.src", b""), Some("erlang"));
    assert_eq!(id_of("component.tsx", b""), Some("tsx"));
    assert_eq!(id_of("home/.bashrc", b""), Some("bash"));
    assert_eq!(id_of(".emacs", b""), Some("elisp"));
    assert_eq!(id_of("analysis.R", b""), Some("r"));
    assert_eq!(id_of("README.md", b""), Some("markdown"));
}

#[test]
fn name_patterns() {
    assert_eq!(id_of("requirements-dev.txt", b""), Some("requirements"));
    assert_eq!(id_of("requirements.txt", b""), Some("requirements"));
    assert_eq!(
        id_of("grammar/test/corpus/expressions.txt", b""),
        Some("tree_sitter_test")
    );
    assert_eq!(id_of("notes/corpus/expressions.txt", b""), None);
    assert_eq!(id_of("notes.txt", b""), None);
}

#[test]
fn ambiguity_rules_pick_by_content() {
    // .h
    assert_eq!(id_of("a.h", b"int f(void);\n"), Some("c"));
    assert_eq!(id_of("a.h", b"namespace x { class Y {}; }\n"), Some("cpp"));
    assert_eq!(
        id_of("a.h", b"template <typename T> T id(T);\n"),
        Some("cpp")
    );
    assert_eq!(
        id_of(
            "a.h",
            b"#import <Foundation/Foundation.h>\n@interface A : NSObject\n@end\n"
        ),
        Some("objc")
    );
    // .m
    assert_eq!(
        id_of("a.m", b"#import \"A.h\"\n@implementation A\n@end\n"),
        Some("objc")
    );
    assert_eq!(
        id_of("a.m", b"function y = f(x)\n  y = x + 1;\nend\n"),
        Some("matlab")
    );
    assert_eq!(id_of("a.m", b"% comment\nx = [1 2 3];\n"), Some("matlab"));
    // .v / .vh
    assert_eq!(id_of("top.v", b"module top; endmodule\n"), Some("verilog"));
    assert_eq!(id_of("defs.vh", b"`define W 8\n"), Some("verilog"));
    assert_eq!(id_of("top.sv", b""), Some("systemverilog"));
    // .pp
    assert_eq!(
        id_of("a.pp", b"program Hello;\nbegin\n  writeln('hi');\nend.\n"),
        Some("pascal")
    );
    assert_eq!(
        id_of("a.pp", b"{ header }\nunit Utils;\ninterface\n"),
        Some("pascal")
    );
    assert_eq!(
        id_of(
            "a.pp",
            b"class nginx {\n  package { 'nginx': ensure => installed }\n}\n"
        ),
        Some("puppet")
    );
    // Every rule's answer is one of its candidates, and each candidate is reachable.
    for rule in AMBIGUITY_RULES {
        assert!(
            rule.candidates.contains(&(rule.decide)(b"")),
            ".{}",
            rule.extension
        );
        for c in rule.candidates {
            assert!(by_id(c).is_some(), "rule candidate {c} is not a grammar");
        }
    }
}

#[test]
fn each_sample_is_detected_as_its_language() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora/samples");
    let mut checked = 0;
    for g in all() {
        if g.extensions().is_empty() && g.file_names().is_empty() {
            continue; // sub-grammars and injections are chosen by name
        }
        let Ok(dir) = std::fs::read_dir(samples.join(g.id())) else {
            continue;
        };
        for entry in dir {
            let path = entry.unwrap().path();
            let head = std::fs::read(&path).unwrap();
            assert_eq!(
                detect(&path, &head).map(|x| x.id()),
                Some(g.id()),
                "{}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 0 || !samples.exists());
}
