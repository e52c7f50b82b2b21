//! Chunks tile the source, respect the budget except for single tokens,
//! never cut a token, carry symbol paths, and keep their ids when another
//! part of the file changes. Outlines nest definitions.

use crate::common;

use cst_tags::{Chunk, ChunkOptions, TagsConfig, Unit, chunks, outline};

fn rust_tags() -> TagsConfig {
    let g = cst_grammars::by_id("rust").unwrap();
    TagsConfig::new(&g.language().unwrap(), g.queries().tags.unwrap(), "").unwrap()
}

fn chunk(
    id: &str,
    source: &[u8],
    config: Option<&TagsConfig>,
    options: &ChunkOptions,
) -> Vec<Chunk> {
    let parsed = common::parse(id, source);
    let items = match config {
        Some(c) => outline(
            c,
            &c.tags(parsed.view.root(), source).unwrap(),
            &parsed.view,
            source,
        ),
        None => Vec::new(),
    };
    chunks(&parsed.view, source, &items, id, options).unwrap()
}

/// Every byte in exactly one chunk, in order; every boundary between two
/// chunks is a token boundary of the live tree.
fn check_tiling(id: &str, source: &[u8], list: &[Chunk], options: &ChunkOptions) {
    let mut pos = 0;
    for c in list {
        assert_eq!(c.range.start, pos, "{id}: gap or overlap at {pos}");
        assert!(c.range.end > c.range.start, "{id}: empty chunk");
        assert!(c.context.start <= c.range.start && c.context.end == c.range.end);
        if !c.oversized {
            assert!(
                c.size <= options.max,
                "{id}: chunk of {} over {}",
                c.size,
                options.max
            );
        }
        pos = c.range.end;
    }
    assert_eq!(pos, source.len(), "{id}: chunks end before the source");
    // Boundaries fall between tokens: never strictly inside a leaf.
    let parsed = common::parse(id, source);
    let leaves: Vec<(usize, usize)> = parsed
        .view
        .root()
        .preorder()
        .filter(|n| n.child_count() == 0)
        .map(|n| (n.start_byte(), n.end_byte()))
        .collect();
    for c in &list[1..] {
        let b = c.range.start;
        assert!(
            !leaves.iter().any(|&(s, e)| s < b && b < e),
            "{id}: boundary {b} cuts a token"
        );
    }
}

#[test]
fn chunks_tile_every_sample_under_several_budgets() {
    let mut files = 0;
    for g in cst_grammars::compiled() {
        for source in common::samples(g.id()) {
            for (max, unit) in [
                (200, Unit::NonWhitespace),
                (1500, Unit::NonWhitespace),
                (300, Unit::Bytes),
                (1, Unit::Bytes),
            ] {
                let options = ChunkOptions {
                    max,
                    unit,
                    overlap_lines: 2,
                };
                let list = chunk(g.id(), &source, None, &options);
                check_tiling(g.id(), &source, &list, &options);
            }
            files += 1;
        }
    }
    assert!(files >= 100, "only {files} samples");
}

const CACHE: &str = r#"use std::collections::HashMap;

/// A cache.
pub struct Cache {
    map: HashMap<String, String>,
}

impl Cache {
    /// Gets a value.
    pub fn get(&self, key: &str) -> Option<&String> {
        let value = self.map.get(key);
        if value.is_none() {
            println!("miss for {key}: the value is not in the map at this time");
        }
        value
    }

    /// Puts a value.
    pub fn put(&mut self, key: String, value: String) {
        self.map.insert(key, value);
    }
}

fn main() {
    let mut c = Cache { map: HashMap::new() };
    c.put("a".into(), "b".into());
    println!("{:?}", c.get("a"));
}
"#;

#[test]
fn chunks_carry_symbol_paths_and_ids_that_survive_edits_elsewhere() {
    let config = rust_tags();
    let options = ChunkOptions {
        max: 120,
        unit: Unit::NonWhitespace,
        overlap_lines: 0,
    };
    let before = chunk("rust", CACHE.as_bytes(), Some(&config), &options);
    check_tiling("rust", CACHE.as_bytes(), &before, &options);
    let paths: Vec<String> = before.iter().map(|c| c.symbol_path_string()).collect();
    assert!(
        paths
            .iter()
            .any(|p| p == "implementation Cache > method get"),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .filter(|p| p.starts_with("implementation Cache"))
            .count()
            >= 2,
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| p == "function main"), "{paths:?}");

    // Edit `main` only: the chunks of `impl Cache` keep their ids.
    let edited = CACHE.replace("c.get(\"a\")", "c.get(\"zzz\")");
    let after = chunk("rust", edited.as_bytes(), Some(&config), &options);
    let text = |s: &str, c: &Chunk| s[c.range.clone()].to_string();
    let mut kept = 0;
    for c in &before {
        let t = text(CACHE, c);
        if t.contains("c.get(") {
            // The edited chunk: a new id.
            assert!(
                !after.iter().any(|a| a.id == c.id),
                "edited chunk kept its id"
            );
            continue;
        }
        let same = after
            .iter()
            .find(|a| text(&edited, a) == t)
            .expect("unchanged chunk still there");
        assert_eq!(same.id, c.id, "the id of {t:?} changed");
        kept += 1;
    }
    assert!(kept >= 3, "only {kept} chunks unchanged");

    // Insert lines at the top: every position shifts, no id of an
    // unchanged chunk changes.
    let shifted = format!("// header\n// more\n{CACHE}");
    let moved = chunk("rust", shifted.as_bytes(), Some(&config), &options);
    let ids: Vec<&str> = moved.iter().map(|c| c.id.as_str()).collect();
    let unchanged = before
        .iter()
        .filter(|c| ids.contains(&c.id.as_str()))
        .count();
    assert!(
        unchanged + 1 >= before.len(),
        "{unchanged} of {} ids kept",
        before.len()
    );
}

#[test]
fn ids_are_distinct_for_repeated_text() {
    let source = b"fn a() {}\nfn a() {}\nfn a() {}\n";
    let options = ChunkOptions {
        max: 5,
        unit: Unit::NonWhitespace,
        overlap_lines: 0,
    };
    let list = chunk("rust", source, Some(&rust_tags()), &options);
    let mut ids: Vec<&str> = list.iter().map(|c| c.id.as_str()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate ids");
}

#[test]
fn a_token_over_the_budget_is_one_oversized_chunk() {
    let long = format!("x = \"{}\"\ny = 1\n", "a".repeat(5000));
    let options = ChunkOptions {
        max: 100,
        unit: Unit::Bytes,
        overlap_lines: 0,
    };
    let list = chunk("python", long.as_bytes(), None, &options);
    check_tiling("python", long.as_bytes(), &list, &options);
    assert!(
        list.iter().any(|c| c.oversized && c.size >= 5000),
        "{list:?}"
    );
}

#[test]
fn deep_trees_do_not_overflow_the_stack() {
    let depth = 20_000;
    let source = format!("x = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
    let options = ChunkOptions {
        max: 50,
        unit: Unit::Bytes,
        overlap_lines: 0,
    };
    let list = chunk("python", source.as_bytes(), None, &options);
    check_tiling("python", source.as_bytes(), &list, &options);
}

#[test]
fn a_zero_budget_and_a_foreign_source_are_errors() {
    let parsed = common::parse("rust", b"fn f() {}\n");
    let zero = ChunkOptions {
        max: 0,
        ..ChunkOptions::default()
    };
    assert!(matches!(
        chunks(&parsed.view, b"fn f() {}\n", &[], "rust", &zero),
        Err(cst_tags::ChunkError::ZeroBudget)
    ));
    assert!(matches!(
        chunks(
            &parsed.view,
            b"fn f() {}\n\n\n",
            &[],
            "rust",
            &ChunkOptions::default()
        ),
        Err(cst_tags::ChunkError::SourceMismatch { .. })
    ));
    assert!(
        chunks(
            &common::parse("rust", b"").view,
            b"",
            &[],
            "rust",
            &ChunkOptions::default()
        )
        .unwrap()
        .is_empty()
    );
}

#[test]
fn the_outline_nests_methods_in_their_impl() {
    let config = rust_tags();
    let parsed = common::parse("rust", CACHE.as_bytes());
    let tags = config.tags(parsed.view.root(), CACHE.as_bytes()).unwrap();
    let items = outline(&config, &tags, &parsed.view, CACHE.as_bytes());
    let flat: Vec<(usize, String, String)> = items
        .iter()
        .flat_map(|i| i.walk())
        .map(|(d, i)| (d, i.kind.clone(), i.name.clone()))
        .collect();
    assert_eq!(
        flat,
        vec![
            (0, "class".into(), "Cache".into()),
            (0, "implementation".into(), "Cache".into()),
            (1, "method".into(), "get".into()),
            (1, "method".into(), "put".into()),
            (0, "function".into(), "main".into()),
        ]
    );
    // Without the tree (points from the source's lines): the same outline.
    assert_eq!(
        cst_tags::outline_with(config.syntax_type_names(), &tags, CACHE.as_bytes()),
        items
    );
    let get = &items[1].children[0];
    assert_eq!((get.start.row, get.end.row), (9, 15));
}

#[cfg(feature = "tokens")]
#[test]
fn token_budgets_hold() {
    let source = CACHE.repeat(4);
    let options = ChunkOptions {
        max: 60,
        unit: Unit::Tokens,
        overlap_lines: 0,
    };
    let list = chunk("rust", source.as_bytes(), None, &options);
    check_tiling("rust", source.as_bytes(), &list, &options);
    assert!(list.len() >= 8, "{} chunks", list.len());
    assert!(list.iter().all(|c| c.size > 0));
}
