//! The facade's use of stored trees: queries, tags (kept beside the tree
//! and read back, also after a reopen), outlines, chunks, parallel maps.

use std::path::PathBuf;

use cst::{Cache, Config};

const LIB: &str =
    "struct S;\nimpl S {\n    fn a(&self) { b(); }\n    fn c(&self) {}\n}\nfn b() {}\n";

fn workspace() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for i in 0..6 {
        let p = dir.path().join(format!("m{i}.rs"));
        std::fs::write(&p, format!("{LIB}fn only{i}() {{}}\n")).unwrap();
        paths.push(p);
    }
    let p = dir.path().join("tool.py");
    std::fs::write(&p, "def main():\n    print(1)\n").unwrap();
    paths.push(p);
    (dir, paths)
}

#[test]
fn tags_are_computed_once_then_read_back_also_after_reopen() {
    let (ws, paths) = workspace();
    let store = tempfile::tempdir().unwrap();
    let first: Vec<Vec<cst::tags::Tag>>;
    {
        let cache = Cache::open(store.path(), Config::default()).unwrap();
        cache.index(ws.path(), &|_| {}).unwrap();
        first = paths
            .iter()
            .map(|p| cache.tags(p).unwrap().unwrap().tags().to_vec())
            .collect();
        assert_eq!(cache.stats().tags_computed, 7);
        // The tags equal cst-tags run on the tree directly.
        let tree = cache.get(&paths[0]).unwrap().unwrap();
        let g = tree.language();
        let config =
            cst::tags::TagsConfig::new(&g.language().unwrap(), g.queries().tags.unwrap(), "")
                .unwrap();
        assert_eq!(
            config.tags(tree.root(), tree.source().unwrap()).unwrap(),
            first[0]
        );
        let again = cache.tags(&paths[0]).unwrap().unwrap();
        assert_eq!(again.tags(), &first[0][..]);
        assert_eq!(
            (cache.stats().tags_computed, cache.stats().tags_reused),
            (7, 1)
        );
        let names: Vec<(String, &str)> = again
            .tags()
            .iter()
            .map(|t| (t.name(again.source()).into_owned(), again.kind(t)))
            .collect();
        assert!(names.contains(&("a".into(), "method")), "{names:?}");
        assert!(names.contains(&("only0".into(), "function")), "{names:?}");
        cache.flush().unwrap();
    }
    let cache = Cache::open(store.path(), Config::default()).unwrap();
    for (p, want) in paths.iter().zip(&first) {
        assert_eq!(cache.tags(p).unwrap().unwrap().tags(), &want[..]);
    }
    let s = cache.stats();
    assert_eq!(
        (s.tags_computed, s.tags_reused),
        (0, 7),
        "all read back after reopen"
    );

    // A forgotten path takes its tags with it; the same content indexed
    // again computes them again.
    assert!(cache.remove(&paths[6]).unwrap());
    cache.gc().unwrap();
    cache
        .insert(&paths[6], std::fs::read(&paths[6]).unwrap())
        .unwrap();
    cache.tags(&paths[6]).unwrap().unwrap();
    assert_eq!(cache.stats().tags_computed, 1);
}

#[test]
fn queries_outlines_chunks_and_parallel_maps() {
    let (ws, paths) = workspace();
    let cache = Cache::in_memory(Config::default());
    cache.index(ws.path(), &|_| {}).unwrap();
    let rust = cst::grammars::by_id("rust").unwrap();
    let q = cache
        .query(rust, "(function_item name: (identifier) @n)")
        .unwrap();
    assert!(std::sync::Arc::ptr_eq(
        &q,
        &cache
            .query(rust, "(function_item name: (identifier) @n)")
            .unwrap()
    ));
    let tree = cache.get(&paths[1]).unwrap().unwrap();
    let src = tree.source().unwrap();
    let names: Vec<&str> = tree
        .query(&q)
        .unwrap()
        .iter()
        .map(|m| m.captures[0].node.utf8_text(src).unwrap())
        .collect();
    assert_eq!(names, ["a", "c", "b", "only1"]);
    // The same matches as tree-sitter's QueryCursor on a live parse.
    let live = cache.live_tree(&paths[1]).unwrap().unwrap();
    // The facade's tree-sitter is the one the grammars are built for.
    let _: &cst::tree_sitter::Tree = &live;
    let tsq = tree_sitter::Query::new(
        &rust.language().unwrap(),
        "(function_item name: (identifier) @n)",
    )
    .unwrap();
    let mut cursor = tree_sitter::QueryCursor::new();
    use tree_sitter::StreamingIterator;
    let mut it = cursor.matches(&tsq, live.root_node(), src);
    let mut theirs = Vec::new();
    while let Some(m) = it.next() {
        theirs.push(m.captures[0].node.utf8_text(src).unwrap().to_string());
    }
    assert_eq!(names, theirs);
    // A query for another language is refused.
    let py = cst::grammars::by_id("python").unwrap();
    let pyq = cache.query(py, "(identifier) @i").unwrap();
    assert!(matches!(tree.query(&pyq), Err(cst::Error::Query(_))));
    assert!(matches!(
        cache.query(rust, "(nope) @x"),
        Err(cst::Error::Query(_))
    ));

    let outline = cache.outline(&paths[2]).unwrap().unwrap();
    let top: Vec<(&str, &str, usize)> = outline
        .iter()
        .map(|i| (i.kind.as_str(), i.name.as_str(), i.children.len()))
        .collect();
    assert_eq!(
        top,
        [
            ("class", "S", 0),
            ("implementation", "S", 2),
            ("function", "b", 0),
            ("function", "only2", 0)
        ]
    );

    let options = cst::tags::ChunkOptions {
        max: 20,
        ..Default::default()
    };
    let chunks = cache.chunks(&paths[3], &options).unwrap().unwrap();
    let own = cache.get(&paths[3]).unwrap().unwrap();
    let text: Vec<u8> = chunks
        .iter()
        .flat_map(|c| own.source().unwrap()[c.range.clone()].to_vec())
        .collect();
    assert_eq!(text, own.source().unwrap(), "chunks tile the file");
    let paths_of: Vec<String> = chunks.iter().map(|c| c.symbol_path_string()).collect();
    assert!(
        paths_of.iter().any(|p| p == "implementation S"),
        "{paths_of:?}"
    );
    assert!(
        paths_of.iter().any(|p| p == "function only3"),
        "{paths_of:?}"
    );
    assert!(
        cache
            .chunks(ws.path().join("missing.rs"), &options)
            .unwrap()
            .is_none()
    );

    // par_map: results in input order, `None` for unknown paths.
    let mut asked = paths.clone();
    asked.push(ws.path().join("nope.rs"));
    let counts = cache.par_map(&asked, |_, t| Ok(t.view().node_count()));
    assert_eq!(counts.len(), asked.len());
    for (p, c) in asked.iter().zip(&counts) {
        match cache.get(p).unwrap() {
            Some(t) => assert_eq!(c.as_ref().unwrap(), &Some(t.view().node_count())),
            None => assert!(matches!(c, Ok(None))),
        }
    }
    // A language without a tags query.
    let md = ws.path().join("x.md");
    std::fs::write(&md, "# T\n").unwrap();
    cache.insert(&md, b"# T\n".to_vec()).unwrap();
    assert!(matches!(
        cache.tags(&md),
        Err(cst::Error::NoTagsQuery("markdown"))
    ));
}
