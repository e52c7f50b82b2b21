//! The symbol index, search, definitions and references, refresh and the
//! repo map over real workspaces in temporary directories (Python, Rust
//! and C files that reference each other), indexed by the real store.

use std::path::Path;
use std::time::Duration;

use cst_symbols::{MapOptions, MatchKind, Ranker, RepoMap, SymbolIndex};
use cst_workspace::discover::OpenOptions;
use cst_workspace::{Workspace, WorkspaceOptions};

struct Fixture {
    ws: Workspace,
    _dir: tempfile::TempDir,
    _cache: tempfile::TempDir,
}

impl Fixture {
    fn root(&self) -> &Path {
        self.ws.root()
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
}

fn open(files: &[(&str, &str)]) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let cache = tempfile::tempdir().expect("tempdir");
    let ws = Workspace::open(
        dir.path(),
        None,
        WorkspaceOptions {
            open: OpenOptions {
                cache_dir: Some(cache.path().to_path_buf()),
                ..OpenOptions::default()
            },
            watch: false,
            ..WorkspaceOptions::default()
        },
    )
    .expect("workspace opens");
    assert!(ws.wait_ready(Duration::from_secs(120)), "never ready");
    Fixture {
        ws,
        _dir: dir,
        _cache: cache,
    }
}

const UTIL: &str = "\
def compute_total(values):
    return sum(values)


def helper():
    return 1


class Widget:
    def render(self):
        return compute_total([1, 2])
";

const LONELY: &str = "\
def never_called_function():
    return 0
";

const FACTORY: &str = "\
def special_widget_factory():
    return None
";

const LIB_RS: &str = "\
pub fn parse_config() -> u32 {
    1
}

fn main() {
    parse_config();
}
";

const OTHER_RS: &str = "\
fn load() -> u32 {
    parse_config()
}
";

const MATH_C: &str = "\
int add_numbers(int a, int b) {
    return a + b;
}
";

const MAIN_C: &str = "\
int add_numbers(int a, int b);

int main(void) {
    return add_numbers(1, 2);
}
";

fn project() -> Fixture {
    open(&[
        ("core/util.py", UTIL),
        (
            "core/a.py",
            "from util import compute_total\n\ndef run_a():\n    return compute_total([1])\n",
        ),
        (
            "app/b.py",
            "def run_b():\n    compute_total([2])\n    special_widget_factory()\n    return Widget()\n",
        ),
        ("app/c.py", "def run_c():\n    return compute_total([3])\n"),
        ("lonely.py", LONELY),
        ("lib/factory.py", FACTORY),
        ("src/lib.rs", LIB_RS),
        ("src/other.rs", OTHER_RS),
        ("native/math.c", MATH_C),
        ("native/main.c", MAIN_C),
    ])
}

fn map(fx: &Fixture, index: &SymbolIndex, options: MapOptions) -> RepoMap {
    Ranker::new().map(index, &fx.ws, &options).expect("a map")
}

fn tokens(n: usize) -> MapOptions {
    MapOptions {
        tokens: n,
        ..MapOptions::default()
    }
}

fn position(m: &RepoMap, path: &str) -> Option<usize> {
    m.files.iter().position(|f| f.path == path)
}

fn file_rank(m: &RepoMap, path: &str) -> f64 {
    m.files.iter().find(|f| f.path == path).map_or_else(
        || panic!("{path} not in the map: {:#?}", m.files),
        |f| f.rank,
    )
}

fn def_rank(m: &RepoMap, name: &str) -> f64 {
    m.files
        .iter()
        .flat_map(|f| &f.definitions)
        .find(|d| d.name == name)
        .map_or_else(|| panic!("{name} not in the map"), |d| d.rank)
}

#[test]
fn index_holds_every_language_s_definitions_and_references() {
    let fx = project();
    let index = SymbolIndex::build(&fx.ws).expect("index");
    assert_eq!(index.files(), 10);
    assert!(index.symbols() > 15, "{}", index.symbols());
    let defs = index.definitions("compute_total", None);
    assert_eq!(defs.len(), 1);
    let d = defs[0];
    assert!(d.is_definition);
    assert_eq!(d.path, fx.root().join("core/util.py"));
    assert_eq!((d.line, d.column), (1, 4));
    assert_eq!(d.kind, "function");
    let source = std::fs::read(&d.path).expect("read");
    assert_eq!(&source[d.bytes.clone()], b"compute_total");
    // Rust and C are indexed too.
    assert_eq!(index.definitions("parse_config", None).len(), 1);
    assert_eq!(index.references("parse_config", None).len(), 2);
    // (tree-sitter-c's tags query tags definitions and declarations, no
    // references.)
    let c = index.definitions("add_numbers", None);
    assert_eq!(c.len(), 2, "{c:?}");
    assert!(c.iter().any(|s| s.path.ends_with("native/math.c")), "{c:?}");
    let refs = index.references("compute_total", None);
    assert!(refs.len() >= 4, "{refs:?}");
    assert!(refs.iter().all(|s| !s.is_definition));
}

#[test]
fn search_ranks_exact_prefix_substring_then_fuzzy() {
    let fx = open(&[(
        "s.py",
        "def parse():\n    pass\n\ndef Parse():\n    pass\n\ndef parser_main():\n    pass\n\n\
         def ParserX():\n    pass\n\ndef reparse():\n    pass\n\ndef p_a_r_s_e():\n    pass\n\n\
         def unrelated():\n    pass\n",
    )]);
    let index = SymbolIndex::build(&fx.ws).expect("index");
    let hits = index.search("parse", 50);
    let got: Vec<(&str, MatchKind)> = hits
        .iter()
        .map(|h| (h.symbol.name.as_str(), h.kind))
        .collect();
    assert_eq!(
        got,
        vec![
            ("parse", MatchKind::Exact),
            ("Parse", MatchKind::CaseInsensitiveExact),
            ("parser_main", MatchKind::Prefix),
            ("ParserX", MatchKind::CaseInsensitivePrefix),
            ("reparse", MatchKind::Substring),
            ("p_a_r_s_e", MatchKind::Fuzzy),
        ]
    );
    assert!(hits.iter().all(|h| h.symbol.is_definition));
    // The limit keeps the best.
    let two: Vec<String> = index
        .search("parse", 2)
        .into_iter()
        .map(|h| h.symbol.name)
        .collect();
    assert_eq!(two, ["parse", "Parse"]);
    assert!(index.search("", 10).is_empty());
    assert!(index.search("zzzz", 10).is_empty());
}

#[test]
fn search_ties_go_to_the_shorter_name_then_the_path() {
    let fx = open(&[
        (
            "b/x.py",
            "def load_all():\n    pass\n\ndef load():\n    pass\n",
        ),
        ("a/y.py", "def load_all():\n    pass\n"),
    ]);
    let index = SymbolIndex::build(&fx.ws).expect("index");
    let hits = index.search("loa", 10);
    let got: Vec<(String, String)> = hits
        .iter()
        .map(|h| {
            let rel = h
                .symbol
                .path
                .strip_prefix(fx.root())
                .expect("under the root");
            (h.symbol.name.clone(), rel.to_string_lossy().into_owned())
        })
        .collect();
    assert_eq!(
        got,
        [
            ("load".to_string(), "b/x.py".to_string()),
            ("load_all".to_string(), "a/y.py".to_string()),
            ("load_all".to_string(), "b/x.py".to_string()),
        ]
    );
    assert!(hits.iter().all(|h| h.kind == MatchKind::Prefix));
}

#[test]
fn definitions_and_references_rank_same_file_then_directory_then_the_rest() {
    let def = "def shared_name():\n    return shared_name\n";
    let fx = open(&[
        (
            "x/one.py",
            "def shared_name():\n    pass\n\nshared_name()\n",
        ),
        (
            "x/two.py",
            "def shared_name():\n    pass\n\nshared_name()\n",
        ),
        ("x/sub/four.py", def),
        (
            "y/three.py",
            "def shared_name():\n    pass\n\nshared_name()\n",
        ),
    ]);
    let index = SymbolIndex::build(&fx.ws).expect("index");
    let root = fx.root();
    let rel = |s: &cst_symbols::Symbol| {
        s.path
            .strip_prefix(root)
            .expect("under the root")
            .to_string_lossy()
            .into_owned()
    };
    let from = root.join("x/one.py");
    let defs: Vec<String> = index
        .definitions("shared_name", Some(&from))
        .into_iter()
        .map(rel)
        .collect();
    assert_eq!(
        defs,
        ["x/one.py", "x/two.py", "x/sub/four.py", "y/three.py"]
    );
    // Relative to the root works too; from y/, y first.
    let defs: Vec<String> = index
        .definitions("shared_name", Some(Path::new("y/three.py")))
        .into_iter()
        .map(rel)
        .collect();
    assert_eq!(defs[0], "y/three.py");
    let refs: Vec<String> = index
        .references("shared_name", Some(&root.join("x/two.py")))
        .into_iter()
        .map(rel)
        .collect();
    assert_eq!(refs, ["x/two.py", "x/one.py", "y/three.py"]);
    assert!(index.definitions("no_such_name", Some(&from)).is_empty());
}

#[test]
fn refresh_rereads_only_what_changed() {
    let fx = project();
    let mut index = SymbolIndex::build(&fx.ws).expect("index");
    let files = index.files();

    // Nothing changed: nothing read, not even looked at.
    let r = index.refresh(&fx.ws).expect("refresh");
    assert_eq!((r.read, r.checked, r.changed), (0, 0, false), "{r:?}");
    let generation = index.generation();

    // One file changes (and the workspace reconciles it).
    fx.write(
        "lonely.py",
        "def renamed_lonely_function():\n    return 1\n",
    );
    fx.ws
        .reconcile_paths(&[fx.root().join("lonely.py")])
        .expect("reconcile");
    let r = index.refresh(&fx.ws).expect("refresh");
    assert_eq!((r.read, r.added, r.removed), (1, 0, 0), "{r:?}");
    assert_eq!(r.checked, files, "{r:?}");
    assert!(r.changed && index.generation() > generation);
    assert!(index.definitions("never_called_function", None).is_empty());
    assert_eq!(index.definitions("renamed_lonely_function", None).len(), 1);
    assert_eq!(index.search("renamed_lonely", 5).len(), 1);

    // A file is added.
    fx.write("extra/new.py", "def brand_new_function():\n    pass\n");
    fx.ws
        .reconcile_paths(&[fx.root().join("extra/new.py")])
        .expect("reconcile");
    let r = index.refresh(&fx.ws).expect("refresh");
    assert_eq!((r.read, r.added, r.removed), (1, 1, 0), "{r:?}");
    assert_eq!(index.files(), files + 1);
    assert_eq!(index.definitions("brand_new_function", None).len(), 1);

    // A file is removed.
    std::fs::remove_file(fx.root().join("lib/factory.py")).expect("rm");
    fx.ws
        .reconcile_paths(&[fx.root().join("lib/factory.py")])
        .expect("reconcile");
    let r = index.refresh(&fx.ws).expect("refresh");
    assert_eq!((r.read, r.added, r.removed), (0, 0, 1), "{r:?}");
    assert_eq!(index.files(), files);
    assert!(index.definitions("special_widget_factory", None).is_empty());

    // A buffer is opened over a file: its text wins, only it is read.
    let b = fx.root().join("app/c.py");
    fx.ws
        .open_buffer(
            &b,
            "def from_the_buffer():\n    pass\n".into(),
            Some(1),
            None,
        )
        .expect("open");
    let r = index.refresh(&fx.ws).expect("refresh");
    assert_eq!((r.read, r.added, r.removed), (1, 0, 0), "{r:?}");
    assert_eq!(index.definitions("from_the_buffer", None).len(), 1);
    assert!(index.definitions("run_c", None).is_empty());

    // Nothing more: nothing read.
    let r = index.refresh(&fx.ws).expect("refresh");
    assert_eq!(r.read, 0, "{r:?}");

    // A buffer of a new file counts as added.
    let nb = fx.root().join("scratch.py");
    fx.ws
        .open_buffer(&nb, "def scratch_fn():\n    pass\n".into(), Some(1), None)
        .expect("open");
    let r = index.refresh(&fx.ws).expect("refresh");
    assert_eq!((r.read, r.added), (1, 1), "{r:?}");
    assert_eq!(index.definitions("scratch_fn", None).len(), 1);

    // Closed: the file's stored tags again (the new file's buffer is gone).
    fx.ws.close(&b).expect("close");
    fx.ws.close(&nb).expect("close");
    let r = index.refresh(&fx.ws).expect("refresh");
    assert_eq!((r.read, r.removed), (1, 1), "{r:?}");
    assert_eq!(index.definitions("run_c", None).len(), 1);
    assert!(index.definitions("from_the_buffer", None).is_empty());
    assert!(index.definitions("scratch_fn", None).is_empty());
}

#[test]
fn map_ranks_the_referenced_file_above_the_unreferenced_one() {
    let fx = project();
    let index = SymbolIndex::build(&fx.ws).expect("index");
    let m = map(&fx, &index, tokens(4096));
    let util = position(&m, "core/util.py").expect("util.py shown");
    let lonely = position(&m, "lonely.py").expect("lonely.py shown (a large budget)");
    assert!(util < lonely, "{:#?}", m.files);
    assert!(file_rank(&m, "core/util.py") > file_rank(&m, "lonely.py"));
    assert!(def_rank(&m, "compute_total") > def_rank(&m, "never_called_function"));
    // Files come best first by their best definition.
    let firsts: Vec<f64> = m
        .files
        .iter()
        .map(|f| f.definitions.iter().map(|d| d.rank).fold(0.0, f64::max))
        .collect();
    assert!(firsts.windows(2).all(|w| w[0] >= w[1]), "{firsts:?}");
    // The text: path lines, the definitions' lines, their scopes.
    assert!(m.text.contains("core/util.py:\n"), "{}", m.text);
    assert!(
        m.text.contains("│def compute_total(values):\n"),
        "{}",
        m.text
    );
    let class = m.text.find("│class Widget:").expect("the class line");
    let method = m
        .text
        .find("│    def render(self):")
        .expect("the method line");
    assert!(class < method, "{}", m.text);
    assert!(m.text.contains("⋮\n"), "{}", m.text);
    assert_eq!(m.tokens, cst_symbols::estimate_tokens(&m.text));
}

#[test]
fn focus_files_lean_the_ranking_and_are_left_out() {
    let fx = project();
    let index = SymbolIndex::build(&fx.ws).expect("index");
    let plain = map(&fx, &index, tokens(4096));
    assert!(position(&plain, "app/b.py").is_some());
    let focused = map(
        &fx,
        &index,
        MapOptions {
            tokens: 4096,
            focus: vec!["app/b.py".into()],
            mention: Vec::new(),
        },
    );
    assert_eq!(position(&focused, "app/b.py"), None, "{:#?}", focused.files);
    // Only b.py references the factory: focusing b.py raises it.
    assert!(
        file_rank(&focused, "lib/factory.py") > file_rank(&plain, "lib/factory.py"),
        "{} vs {}",
        file_rank(&focused, "lib/factory.py"),
        file_rank(&plain, "lib/factory.py")
    );
    // Files b.py does not reference lose.
    assert!(file_rank(&focused, "native/math.c") < file_rank(&plain, "native/math.c"));
    // An absolute focus path is the same focus.
    let absolute = map(
        &fx,
        &index,
        MapOptions {
            tokens: 4096,
            focus: vec![fx.root().join("app/b.py")],
            mention: Vec::new(),
        },
    );
    assert_eq!(
        serde_json::to_value(&absolute.files).expect("json"),
        serde_json::to_value(&focused.files).expect("json")
    );
}

#[test]
fn mentions_weigh_names_and_files() {
    let fx = project();
    let index = SymbolIndex::build(&fx.ws).expect("index");
    let plain = map(&fx, &index, tokens(4096));
    let mentioned = map(
        &fx,
        &index,
        MapOptions {
            tokens: 4096,
            focus: Vec::new(),
            mention: vec!["parse_config".into()],
        },
    );
    // The mentioned name's edges weigh ×10: its share grows against the
    // others'.
    let ratio = |m: &RepoMap| def_rank(m, "parse_config") / def_rank(m, "compute_total");
    assert!(
        ratio(&mentioned) > ratio(&plain),
        "{} vs {}",
        ratio(&mentioned),
        ratio(&plain)
    );
    // A file named after a mentioned identifier is personalised.
    let by_stem = map(
        &fx,
        &index,
        MapOptions {
            tokens: 4096,
            focus: Vec::new(),
            mention: vec!["lonely".into()],
        },
    );
    assert!(file_rank(&by_stem, "lonely.py") > file_rank(&plain, "lonely.py"));
}

#[test]
fn map_json_has_files_with_paths_and_definitions() {
    let fx = project();
    let index = SymbolIndex::build(&fx.ws).expect("index");
    let m = map(&fx, &index, tokens(1024));
    let v = serde_json::to_value(&m).expect("json");
    let files = v["files"].as_array().expect("files");
    assert!(!files.is_empty());
    for f in files {
        let path = f["path"].as_str().expect("path");
        assert!(!path.starts_with('/'), "{path}");
        assert!(fx.root().join(path).is_file(), "{path}");
        assert!(f["rank"].is_f64());
        let defs = f["definitions"].as_array().expect("definitions");
        assert!(!defs.is_empty());
        for d in defs {
            let name = d["name"].as_str().expect("name");
            let line = d["line"].as_u64().expect("line");
            // The line holds the name.
            let text = std::fs::read_to_string(fx.root().join(path)).expect("read");
            let l = text.lines().nth(line as usize - 1).expect("the line");
            assert!(l.contains(name), "{path}:{line}: {l:?} lacks {name}");
        }
    }
    assert!(v["text"].is_string());
    assert!(v["tokens"].is_u64());
}

#[test]
fn the_budget_is_kept_and_a_larger_one_shows_more() {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut main = String::new();
    for i in 0..30 {
        let mut text = String::new();
        for j in 0..8 {
            text.push_str(&format!(
                "def module_{i}_function_number_{j}(argument_value):\n    return argument_value\n\n"
            ));
            main.push_str(&format!("module_{i}_function_number_{j}({j})\n"));
        }
        files.push((format!("pkg/mod_{i}.py"), text));
    }
    files.push(("main.py".to_string(), main));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let fx = open(&refs);
    let index = SymbolIndex::build(&fx.ws).expect("index");
    let count = |m: &RepoMap| m.files.iter().map(|f| f.definitions.len()).sum::<usize>();
    let mut last = 0;
    for budget in [64usize, 256, 1024] {
        let m = map(&fx, &index, tokens(budget));
        assert!(
            m.tokens as f64 <= budget as f64 * 1.15,
            "{} tokens for {budget}",
            m.tokens
        );
        assert!(m.tokens > 0);
        let n = count(&m);
        assert!(n > last, "{n} definitions for {budget}, {last} before");
        last = n;
    }
    assert!(map(&fx, &index, tokens(0)).files.is_empty());
}

#[test]
fn a_ranker_keeps_its_graph_until_the_index_changes() {
    let fx = project();
    let mut index = SymbolIndex::build(&fx.ws).expect("index");
    let mut ranker = Ranker::new();
    let a = ranker.map(&index, &fx.ws, &tokens(2048)).expect("map");
    let b = ranker.map(&index, &fx.ws, &tokens(2048)).expect("map");
    assert_eq!(a.text, b.text);
    // The index changes: the same ranker sees it.
    fx.write(
        "app/d.py",
        "def run_d():\n    never_called_function()\n    never_called_function()\n",
    );
    fx.ws
        .reconcile_paths(&[fx.root().join("app/d.py")])
        .expect("reconcile");
    index.refresh(&fx.ws).expect("refresh");
    let c = ranker.map(&index, &fx.ws, &tokens(2048)).expect("map");
    let fresh = Ranker::new()
        .map(&index, &fx.ws, &tokens(2048))
        .expect("map");
    assert_eq!(c.text, fresh.text);
    assert_ne!(c.text, a.text);
    assert!(position(&c, "app/d.py").is_some(), "{}", c.text);
}

/// Every definition and reference of `names`, as plain tuples.
fn dump(index: &SymbolIndex, names: &[&str]) -> Vec<(String, String, u32, u32, String, bool)> {
    let mut out = Vec::new();
    for name in names {
        for s in index
            .definitions(name, None)
            .into_iter()
            .chain(index.references(name, None))
        {
            out.push((
                s.name.clone(),
                s.path.display().to_string(),
                s.line,
                s.column,
                s.kind.clone(),
                s.is_definition,
            ));
        }
    }
    out
}

fn snapshot_files(cache: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(cache.join("symbols"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

#[test]
fn a_snapshot_gives_the_index_a_fresh_build_gives() {
    let fx = project();
    let cache = fx._cache.path().to_path_buf();
    let names = [
        "compute_total",
        "helper",
        "Widget",
        "render",
        "run_a",
        "special_widget_factory",
        "never_called_function",
        "renamed_lonely_function",
        "add",
        "main",
    ];
    let first = SymbolIndex::build(&fx.ws).expect("index");
    assert_eq!(first.built_from_snapshot(), 0);
    let snaps = snapshot_files(&cache);
    assert_eq!(snaps.len(), 1, "one snapshot written: {snaps:?}");
    let want = dump(&first, &names);
    assert!(want.len() > 10, "{want:?}");
    let want_map = serde_json::to_string(&map(&fx, &first, tokens(2000))).expect("json");

    // Warm: every stored file from the snapshot, the same answers.
    let warm = SymbolIndex::build(&fx.ws).expect("index");
    assert_eq!(warm.built_from_snapshot(), warm.files());
    assert_eq!(dump(&warm, &names), want);
    assert_eq!(warm.search("compute", 10), first.search("compute", 10));
    let warm_map = serde_json::to_string(&map(&fx, &warm, tokens(2000))).expect("json");
    assert_eq!(warm_map, want_map);

    // One file changes: only it is read; the rest still come from the
    // snapshot, and the answers are those of a build without one.
    fx.write(
        "lonely.py",
        "def renamed_lonely_function():\n    return compute_total([])\n",
    );
    fx.ws
        .reconcile_paths(&[fx.root().join("lonely.py")])
        .expect("reconcile");
    let changed = SymbolIndex::build(&fx.ws).expect("index");
    assert_eq!(changed.built_from_snapshot(), changed.files() - 1);
    assert_eq!(
        changed.definitions("renamed_lonely_function", None).len(),
        1
    );
    assert!(
        changed
            .definitions("never_called_function", None)
            .is_empty()
    );
    for s in snapshot_files(&cache) {
        std::fs::remove_file(s).expect("rm");
    }
    let fresh = SymbolIndex::build(&fx.ws).expect("index");
    assert_eq!(fresh.built_from_snapshot(), 0);
    assert_eq!(dump(&changed, &names), dump(&fresh, &names));

    // A damaged snapshot is ignored: read from the store, same answers,
    // and written again whole.
    let snap = snapshot_files(&cache).pop().expect("written again");
    let mut bytes = std::fs::read(&snap).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(&snap, &bytes).expect("write");
    let after = SymbolIndex::build(&fx.ws).expect("index");
    assert_eq!(after.built_from_snapshot(), 0);
    assert_eq!(dump(&after, &names), dump(&fresh, &names));
    let again = SymbolIndex::build(&fx.ws).expect("index");
    assert_eq!(again.built_from_snapshot(), again.files());
    assert_eq!(dump(&again, &names), dump(&fresh, &names));
}
