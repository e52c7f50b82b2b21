//! The loader end to end, with grammar sources already in the lock
//! (tree-sitter-json at ABI 14, tree-sitter-comment at ABI 15 with an
//! external scanner) compiled into temporary caches, and negative fixtures
//! made from them: other ABIs, a missing scanner, a wrong symbol, a dashed
//! name, a crash, a hang, a library inside the workspace, a replaced file,
//! a file others may write; and a fake home laid out as nvim, Helix and
//! Emacs directories.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cst_loader::{AddOptions, Error, Loader, Options, Preset, ProbeCommand};

#[path = "common/lock.rs"]
mod lock;

/// A copy of a package's grammar (src/, queries/, test/corpus) that a test
/// may edit.
fn copy_grammar(name: &str, into: &Path) -> PathBuf {
    let from = lock::package_dir(name).unwrap();
    let to = into.join(name);
    fn copy_dir(from: &Path, to: &Path) {
        let Ok(entries) = std::fs::read_dir(from) else {
            return;
        };
        std::fs::create_dir_all(to).unwrap();
        for e in entries {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                copy_dir(&e.path(), &to.join(e.file_name()));
            } else if t.is_file() {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    for sub in ["src", "queries", "test/corpus"] {
        copy_dir(&from.join(sub), &to.join(sub));
    }
    for f in ["package.json", "tree-sitter.json"] {
        let _ = std::fs::copy(from.join(f), to.join(f));
    }
    to
}

fn probe() -> ProbeCommand {
    ProbeCommand {
        program: env!("CARGO_BIN_EXE_cst-grammar-probe").into(),
        args: Vec::new(),
    }
}

struct Setup {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    loader: Loader,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let mut options = Options::new(root.join("grammars"), probe());
    options.probe_timeout = Duration::from_secs(20);
    options.forbidden = vec![root.join("workspace")];
    std::fs::create_dir_all(root.join("workspace")).unwrap();
    let loader = Loader::open(options).unwrap();
    Setup {
        _tmp: tmp,
        root,
        loader,
    }
}

fn with_id(id: &str, ext: &str) -> AddOptions {
    AddOptions {
        id: Some(id.into()),
        extensions: Some(vec![ext.into()]),
    }
}

fn sexp(g: &cst_grammars::Grammar, source: &[u8]) -> String {
    let mut parser = g.parser().unwrap();
    parser.parse(source, None).unwrap().root_node().to_sexp()
}

/// Parses `source` with the loaded grammar, stores the tree in the format
/// and checks the stored tree node by node against tree-sitter's.
fn store_and_verify(g: &cst_grammars::Grammar, source: &[u8]) {
    let mut parser = g.parser().unwrap();
    let tree = parser.parse(source, None).unwrap();
    let fp = g.fingerprint().unwrap().0;
    let bytes = cst_bytecode::encode(&tree, source, fp).unwrap();
    let symbols = Arc::new(cst_bytecode::Symbols::from_language(
        &g.language().unwrap(),
        fp,
    ));
    let view = cst_bytecode::TreeView::open(&bytes, symbols).unwrap();
    cst_bytecode::verify(&tree, &view).unwrap();
    assert_eq!(view.root().to_sexp(), tree.root_node().to_sexp());
}

#[test]
fn json_from_sources_equals_the_compiled_in_crate() {
    let s = setup();
    let dir = copy_grammar("tree-sitter-json", &s.root);
    let added = s.loader.add(&dir, &with_id("json_dyn", "jsondyn")).unwrap();
    assert_eq!(added.len(), 1);
    let a = &added[0];
    assert_eq!(
        (a.id.as_str(), a.symbol.as_str()),
        ("json_dyn", "tree_sitter_json")
    );
    assert_eq!(a.abi, 14);
    let builtin = cst_grammars::by_id("json").unwrap();
    assert!(builtin.is_compiled());
    assert_eq!(
        a.tables,
        builtin.table_fingerprint().unwrap().to_string(),
        "the loaded tables hash as the compiled-in crate's"
    );
    let g = s.loader.load(a).unwrap();
    assert_eq!(g.id(), "json_dyn");
    assert!(g.is_available() && !g.is_compiled());
    assert_eq!(
        g.table_fingerprint().unwrap(),
        builtin.table_fingerprint().unwrap()
    );
    // The fingerprint keys stored trees by the artifact, not the crate.
    assert_ne!(g.fingerprint().unwrap(), builtin.fingerprint().unwrap());
    assert!(matches!(g.origin(), cst_grammars::Origin::Loaded { .. }));
    let text = br#"{"a": [1, 2.5, true, null, "x\n"], "b": {"c": -3e4}}"#;
    assert_eq!(sexp(g, text), sexp(builtin, text));
    store_and_verify(g, text);
    // Detection and names find it like a compiled-in grammar.
    assert_eq!(
        cst_grammars::detect_path("data/x.jsondyn".as_ref()).map(|g| g.id()),
        Some("json_dyn")
    );
    assert_eq!(
        cst_grammars::by_name("JSON_DYN").map(|g| g.id()),
        Some("json_dyn")
    );
    // Its queries came along, validated (json ships highlights).
    assert!(g.queries().highlights.is_some());

    // Content-addressed: adding again reuses the library, whatever the
    // sources' modification times say.
    let lib = s.loader.options().dir.join(&a.library);
    let before = std::fs::metadata(&lib).unwrap().modified().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let parser_c = dir.join("src/parser.c");
    let text_c = std::fs::read(&parser_c).unwrap();
    std::fs::write(&parser_c, &text_c).unwrap(); // a newer mtime, same bytes
    let again = s.loader.add(&dir, &with_id("json_dyn", "jsondyn")).unwrap();
    assert_eq!(again[0].library, a.library);
    assert_eq!(std::fs::metadata(&lib).unwrap().modified().unwrap(), before);
    // Loading the same approval again is the same descriptor.
    assert!(std::ptr::eq(s.loader.load(&again[0]).unwrap(), g));

    // The id of a compiled-in grammar is not taken over.
    let taken = s.loader.add(&dir, &AddOptions::default()).unwrap_err();
    assert!(
        matches!(&taken, Error::Taken(id) if id == "json"),
        "{taken}"
    );
    assert!(s.loader.approvals().unwrap().iter().all(|a| a.id != "json"));
}

#[test]
fn comment_with_a_scanner_at_abi_15_from_an_npm_style_tarball() {
    let s = setup();
    let dir = copy_grammar("tree-sitter-comment", &s.root);
    // Pack it as `npm pack` does: everything under `package/`.
    let tgz = s.root.join("tree-sitter-comment-0.3.0.tgz");
    {
        let file = std::fs::File::create(&tgz).unwrap();
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        tar.append_dir_all("package", &dir).unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    let added = s
        .loader
        .add(&tgz, &with_id("comment_dyn", "commentdyn"))
        .unwrap();
    let a = &added[0];
    assert_eq!(a.abi, 15);
    assert!(a.origin.ends_with(".tgz"));
    let builtin = cst_grammars::by_id("comment").unwrap();
    assert_eq!(a.tables, builtin.table_fingerprint().unwrap().to_string());
    let g = s.loader.load(a).unwrap();
    let text = b"TODO(alice): fix this\nNOTE: https://example.com and FIXME: later\n";
    assert_eq!(sexp(g, text), sexp(builtin, text));
    store_and_verify(g, text);
}

#[test]
fn other_abis_are_refused_by_the_probe() {
    let s = setup();
    for abi in [12, 16] {
        let dir = copy_grammar("tree-sitter-json", &s.root.join(format!("abi{abi}")));
        let parser_c = dir.join("src/parser.c");
        let text = std::fs::read_to_string(&parser_c).unwrap();
        let edited = text.replace(
            "#define LANGUAGE_VERSION 14",
            &format!("#define LANGUAGE_VERSION {abi}"),
        );
        assert_ne!(edited, text);
        std::fs::write(&parser_c, edited).unwrap();
        let err = s
            .loader
            .add(&dir, &with_id(&format!("json_abi{abi}"), "x"))
            .unwrap_err();
        match &err {
            Error::Probe { reason, .. } => {
                assert!(reason.contains(&format!("ABI {abi}")), "{err}")
            }
            other => panic!("ABI {abi}: {other}"),
        }
        assert!(s.loader.approvals().unwrap().is_empty());
    }
}

#[test]
fn a_missing_scanner_fails_to_link() {
    let s = setup();
    let dir = copy_grammar("tree-sitter-comment", &s.root);
    std::fs::remove_file(dir.join("src/scanner.c")).unwrap();
    let err = s
        .loader
        .add(&dir, &with_id("comment_noscan", "x"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Compile { message, .. } if message.contains("external_scanner")),
        "{err}"
    );
}

/// Builds a shared library from one C file with the system compiler, as an
/// editor would, for the import tests.
fn cc_shared(c: &Path, out: &Path, extra: &[&str]) {
    let status = std::process::Command::new("cc")
        .args(["-O1", "-w", "-fPIC", "-shared", "-o"])
        .arg(out)
        .arg(c)
        .args(extra)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn crashing_hanging_and_unlinked_libraries_are_refused() {
    let s = setup();
    let dir = s.root.join("fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    let bodies = [
        ("crash", "volatile int *p = 0; *p = 1; return 0;"),
        ("hang", "for (;;) {} return 0;"),
        (
            "unlinked",
            "return (const TSLanguage *)(long)missing_symbol();",
        ),
    ];
    for (name, body) in bodies {
        let c = dir.join(format!("{name}.c"));
        std::fs::write(
            &c,
            format!(
                "typedef struct TSLanguage TSLanguage;\nextern int missing_symbol(void);\n\
                 const TSLanguage *tree_sitter_{name}(void) {{ {body} }}\n"
            ),
        )
        .unwrap();
        let lib = dir.join(format!("{name}.so"));
        cc_shared(&c, &lib, &[]);
        let mut options = s.loader.options().clone();
        options.probe_timeout = Duration::from_secs(3);
        let loader = Loader::open(options).unwrap();
        let err = loader
            .import(&lib, name, &AddOptions::default())
            .unwrap_err();
        let reason = match &err {
            Error::Probe { reason, .. } => reason.clone(),
            other => panic!("{name}: {other}"),
        };
        let expected = match name {
            "crash" => "crashed (signal",
            "hang" => "no answer within",
            _ => "undefined symbol",
        };
        assert!(reason.contains(expected), "{name}: {reason}");
    }
    assert!(s.loader.approvals().unwrap().is_empty());
}

/// json compiled as an editor does, exporting `symbol`, at `out`.
fn editor_json(s: &Setup, symbol: &str, out: &Path) {
    let dir = copy_grammar("tree-sitter-json", &s.root.join(format!("ed-{symbol}")));
    let parser_c = dir.join("src/parser.c");
    let text = std::fs::read_to_string(&parser_c).unwrap();
    std::fs::write(
        &parser_c,
        text.replace("tree_sitter_json(", &format!("{symbol}(")),
    )
    .unwrap();
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    cc_shared(
        &parser_c,
        out,
        &["-I", &dir.join("src").display().to_string()],
    );
}

#[test]
fn a_wrong_symbol_is_refused_and_a_dashed_name_finds_its_symbol() {
    let s = setup();
    let home = s.root.join("home");
    let emacs = home.join(".emacs.d/tree-sitter/libtree-sitter-json-five.so");
    editor_json(&s, "tree_sitter_json_five", &emacs);
    // Under another name the symbol is not there.
    let err = s
        .loader
        .import(&emacs, "yaml_x", &AddOptions::default())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Probe { reason, .. } if reason.contains("tree_sitter_yaml_x")),
        "{err}"
    );
    // Discovered under its file's name: `json-five` → `json_five`.
    let found = cst_loader::presets::discover(&[Preset::Emacs], &home, &|_| None);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].id.as_str(), found[0].symbol.as_str()),
        ("json_five", "tree_sitter_json_five")
    );
    let a = s
        .loader
        .import(&found[0].path, "json-five", &AddOptions::default())
        .unwrap();
    assert_eq!(a.id, "json_five");
    // The copy in the cache is what is loaded, not the editor's file.
    assert!(
        s.loader
            .options()
            .dir
            .join(&a.library)
            .starts_with(&s.loader.options().dir)
    );
    let g = s.loader.load(&a).unwrap();
    let builtin = cst_grammars::by_id("json").unwrap();
    assert_eq!(
        sexp(g, b"[1, {\"a\": 2}]"),
        sexp(builtin, b"[1, {\"a\": 2}]")
    );
}

#[test]
fn trust_rules_refuse_the_workspace_others_writable_files_and_replaced_ones() {
    let s = setup();
    // Inside the workspace.
    let inside = s.root.join("workspace/parsers/json.so");
    editor_json(&s, "tree_sitter_json", &inside);
    let err = s
        .loader
        .import(&inside, "json", &with_id("json_ws", "x"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Untrusted { reason, .. } if reason.contains("workspace")),
        "{err}"
    );
    // A grammar cache inside the workspace is refused too.
    let mut options = s.loader.options().clone();
    options.dir = s.root.join("workspace/.grammars");
    assert!(matches!(
        Loader::open(options),
        Err(Error::Untrusted { .. })
    ));

    // Group-writable.
    let outside = s.root.join("parsers/json.so");
    editor_json(&s, "tree_sitter_json", &outside);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o664)).unwrap();
        let err = s
            .loader
            .import(&outside, "json", &with_id("json_gw", "x"))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Untrusted { reason, .. } if reason.contains("writable")),
            "{err}"
        );
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    // Approved, then replaced in the cache: refused until checked again.
    let a = s
        .loader
        .import(&outside, "json", &with_id("json_rep", "x"))
        .unwrap();
    let lib = s.loader.options().dir.join(&a.library);
    let mut bytes = std::fs::read(&lib).unwrap();
    bytes.extend_from_slice(b"\0appended");
    std::fs::write(&lib, bytes).unwrap();
    let err = s.loader.load(&a).unwrap_err();
    assert!(
        matches!(&err, Error::Changed(id) if id == "json_rep"),
        "{err}"
    );
    let report = s.loader.load_approved().unwrap();
    assert!(report.loaded.is_empty());
    assert_eq!(report.refused.len(), 1);
    // `check` probes the new bytes and approves them with a new artifact.
    let renewed = s.loader.check("json_rep").unwrap();
    assert_ne!(renewed.digest, a.digest);
    assert_ne!(renewed.artifact, a.artifact);
    let g = s.loader.load(&renewed).unwrap();
    assert_eq!(g.id(), "json_rep");

    // Removal takes the library along.
    let lib = s.loader.options().dir.join(&renewed.library);
    assert!(lib.is_file());
    assert!(s.loader.remove("json_rep").unwrap());
    assert!(!lib.exists());
    assert!(!s.loader.remove("json_rep").unwrap());
    assert!(s.loader.approvals().unwrap().is_empty());
}

#[test]
fn a_fake_home_laid_out_as_nvim_helix_and_emacs() {
    let s = setup();
    let home = s.root.join("home");
    let so = std::env::consts::DLL_SUFFIX;
    let nvim = home.join(format!(".local/share/nvim/site/parser/json{so}"));
    let helix = home.join(format!(".config/helix/runtime/grammars/json{so}"));
    let helix_rt = s.root.join(format!("helix-runtime/grammars/jsonc_x{so}"));
    let emacs = home.join(format!(
        ".config/emacs/tree-sitter/libtree-sitter-json-emacs{so}"
    ));
    for (path, symbol) in [
        (&nvim, "tree_sitter_json"),
        (&helix, "tree_sitter_json"),
        (&helix_rt, "tree_sitter_jsonc_x"),
        (&emacs, "tree_sitter_json_emacs"),
    ] {
        editor_json(&s, symbol, path);
    }
    std::fs::write(home.join(".local/share/nvim/site/parser/README.md"), "x").unwrap();
    let runtime = s.root.join("helix-runtime").display().to_string();
    let env = move |k: &str| (k == "HELIX_RUNTIME").then(|| runtime.clone());
    let found = cst_loader::presets::discover(&Preset::ALL, &home, &env);
    let ids: Vec<(&str, Preset)> = found.iter().map(|f| (f.id.as_str(), f.preset)).collect();
    assert_eq!(
        ids,
        [
            ("json", Preset::Nvim),
            ("jsonc_x", Preset::Helix),
            ("json_emacs", Preset::Emacs),
        ],
        "each language once, first preset first; non-libraries ignored"
    );
    // Importing each works (under ids free in this build).
    for f in &found[1..] {
        let a = s
            .loader
            .import(&f.path, &f.id, &AddOptions::default())
            .unwrap();
        assert_eq!(a.symbol, f.symbol);
    }
}

#[test]
fn an_editors_queries_come_along_validated_and_filtered() {
    let s = setup();
    let home = s.root.join("home");
    let so = std::env::consts::DLL_SUFFIX;
    let site = home.join(".local/share/nvim/site");
    let lib = site.join(format!("parser/json_nvim{so}"));
    editor_json(&s, "tree_sitter_json_nvim", &lib);
    let queries = site.join("queries/json_nvim");
    std::fs::create_dir_all(&queries).unwrap();
    // nvim-style highlights: one plain pattern, one with a predicate cst
    // does not evaluate (dropped), one with `#eq?` (kept), `; inherits`.
    std::fs::write(
        queries.join("highlights.scm"),
        "; inherits: jsonc\n\
         (number) @number\n\
         ((string) @string.special (#lua-match? @string.special \"^x\"))\n\
         ((pair key: (string) @keyword) (#eq? @keyword \"\\\"k\\\"\"))\n",
    )
    .unwrap();
    // A locals file written for another grammar: refused whole.
    std::fs::write(queries.join("locals.scm"), "(function_definition) @scope\n").unwrap();
    let found = cst_loader::presets::discover(&[Preset::Nvim], &home, &|_| None);
    assert_eq!(found.len(), 1);
    let a = s
        .loader
        .import(&found[0].path, "json_nvim", &AddOptions::default())
        .unwrap();
    // Validated when approved: the locals file is left out, one highlights
    // pattern dropped, `; inherits` noted.
    assert_eq!(
        a.queries.keys().map(String::as_str).collect::<Vec<_>>(),
        ["highlights"]
    );
    assert_eq!(a.query_notes.len(), 3, "{:?}", a.query_notes);
    assert!(
        a.query_notes
            .iter()
            .any(|n| n.starts_with("highlights: 1 of 3 patterns dropped"))
    );
    assert!(
        a.query_notes
            .iter()
            .any(|n| n.starts_with("locals: left out"))
    );
    let g = s.loader.load(&a).unwrap();
    let highlights = g.queries().highlights.expect("validated highlights");
    assert!(highlights.contains("(number) @number"));
    assert!(highlights.contains("#eq?"));
    assert!(!highlights.contains("lua-match"), "{highlights}");
    assert!(
        g.queries().locals.is_none(),
        "a query for other kinds is refused"
    );
    let language = g.language().unwrap();
    let v = cst_loader::queries::validate(
        &language,
        "highlights",
        &std::fs::read_to_string(queries.join("highlights.scm")).unwrap(),
    )
    .unwrap();
    assert_eq!((v.kept, v.dropped, v.inherits), (2, 1, true));
    assert!(
        cst_loader::queries::validate(&language, "locals", "(function_definition) @scope").is_err()
    );
}

#[test]
fn a_cpp_scanner_needs_allow_cpp_and_then_builds_with_the_cpp_compiler() {
    let s = setup();
    let dir = copy_grammar("tree-sitter-json", &s.root.join("cpp"));
    // A C++ translation unit beside the parser: it only compiles as C++.
    std::fs::write(
        dir.join("src/scanner.cc"),
        "#include <vector>\nextern \"C\" int cst_cpp_probe() { std::vector<int> v{1, 2}; return v.size(); }\n",
    )
    .unwrap();
    let err = s.loader.add(&dir, &with_id("json_cpp", "x")).unwrap_err();
    assert!(matches!(&err, Error::CppScanner(_)), "{err}");
    let mut options = s.loader.options().clone();
    options.allow_cpp = true;
    let loader = Loader::open(options).unwrap();
    let a = loader.add(&dir, &with_id("json_cpp", "x")).unwrap();
    assert_eq!(a[0].abi, 14);
    let g = loader.load(&a[0]).unwrap();
    assert_eq!(
        sexp(g, b"[1]"),
        sexp(cst_grammars::by_id("json").unwrap(), b"[1]")
    );
}

#[test]
fn a_header_shared_outside_src_is_part_of_the_build_digest() {
    let s = setup();
    // A package of one grammar under `json/` whose parser includes a header
    // of the package's `common/` (as tree-sitter-typescript's scanners do).
    let pkg = s.root.join("pkg");
    let dir = copy_grammar("tree-sitter-json", &pkg);
    let grammar = pkg.join("json");
    std::fs::rename(&dir, &grammar).unwrap();
    std::fs::create_dir_all(pkg.join("common")).unwrap();
    std::fs::write(pkg.join("common/extra.h"), "#define CST_EXTRA 1\n").unwrap();
    let parser_c = grammar.join("src/parser.c");
    let text = std::fs::read_to_string(&parser_c).unwrap();
    std::fs::write(
        &parser_c,
        format!("#include \"../../common/extra.h\"\n{text}"),
    )
    .unwrap();
    let first = s.loader.add(&pkg, &with_id("json_common", "x")).unwrap();
    let again = s.loader.add(&pkg, &with_id("json_common", "x")).unwrap();
    assert_eq!(
        first[0].library, again[0].library,
        "same sources, same build"
    );
    std::fs::write(pkg.join("common/extra.h"), "#define CST_EXTRA 2\n").unwrap();
    let changed = s.loader.add(&pkg, &with_id("json_common", "x")).unwrap();
    assert_ne!(
        first[0].library, changed[0].library,
        "an edited shared header is a new build"
    );
    assert_ne!(first[0].artifact, changed[0].artifact);
}

#[test]
fn a_hostile_archive_is_refused_within_bounds() {
    let s = setup();
    // A GNU long-name header of 300 MiB of 'a': a few hundred KiB packed.
    let bomb = s.root.join("bomb.tgz");
    {
        use std::io::Write;
        let file = std::fs::File::create(&bomb).unwrap();
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let size: u64 = 300 << 20;
        let mut header = tar::Header::new_gnu();
        header.set_path("././@LongLink").unwrap();
        header.set_entry_type(tar::EntryType::GNULongName);
        header.set_size(size);
        header.set_cksum();
        gz.write_all(header.as_bytes()).unwrap();
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..300 {
            gz.write_all(&chunk).unwrap();
        }
        gz.finish().unwrap();
    }
    assert!(std::fs::metadata(&bomb).unwrap().len() < 8 << 20);
    let err = s.loader.add(&bomb, &AddOptions::default()).unwrap_err();
    match &err {
        Error::Archive { reason, .. } => assert!(reason.len() < 1000, "{}", reason.len()),
        other => panic!("{other}"),
    }
    // A path escaping the destination.
    let escape = s.root.join("escape.tgz");
    {
        use std::io::Write;
        let file = std::fs::File::create(&escape).unwrap();
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut header = tar::Header::new_gnu();
        let name = b"../outside.txt";
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_size(2);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        gz.write_all(header.as_bytes()).unwrap();
        gz.write_all(b"x\n").unwrap();
        gz.write_all(&[0u8; 510]).unwrap();
        gz.write_all(&[0u8; 1024]).unwrap();
        gz.finish().unwrap();
    }
    let err = s.loader.add(&escape, &AddOptions::default()).unwrap_err();
    assert!(matches!(&err, Error::Archive { .. }), "{err}");
    assert!(!s.root.join("grammars/tmp/outside.txt").exists());
}

#[test]
fn approvals_naming_paths_outside_their_place_are_refused() {
    let s = setup();
    let dir = &s.loader.options().dir;
    let digest = "ab".repeat(32);
    for (library, query) in [
        ("tree_sitter_x.so".to_string(), None),
        (format!("lib/{digest}/../../x.so"), None),
        (
            format!("lib/{digest}/tree_sitter_x.so"),
            Some("/tmp/victim"),
        ),
        (
            format!("lib/{digest}/tree_sitter_x.so"),
            Some("queries/zz/tags.scm"),
        ),
    ] {
        let queries = query
            .map(|q| format!("\n[grammar.queries]\ntags = \"{q}\"\n"))
            .unwrap_or_default();
        std::fs::write(
            dir.join("approved.toml"),
            format!(
                "[[grammar]]\nid = \"x\"\nsymbol = \"tree_sitter_x\"\nlibrary = \"{library}\"\n\
                 digest = \"{digest}\"\nartifact = \"{digest}\"\nkind = \"imported\"\nabi = 14\n\
                 tables = \"00\"\norigin = \"\"\n{queries}"
            ),
        )
        .unwrap();
        assert!(
            matches!(s.loader.approvals(), Err(Error::Approvals { .. })),
            "{library} {query:?}"
        );
        assert!(s.loader.remove("x").is_err(), "nothing is deleted");
    }
}

#[test]
fn concurrent_adds_keep_every_approval() {
    let s = setup();
    let dir = copy_grammar("tree-sitter-json", &s.root);
    // Build once, so the parallel adds race on the approvals, not the compiler.
    s.loader.add(&dir, &with_id("json_c0", "x")).unwrap();
    std::thread::scope(|scope| {
        for i in 1..8 {
            let (loader, dir) = (&s.loader, &dir);
            scope.spawn(move || {
                loader
                    .add(dir, &with_id(&format!("json_c{i}"), "x"))
                    .unwrap();
            });
        }
    });
    let mut ids: Vec<String> = s
        .loader
        .approvals()
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        (0..8).map(|i| format!("json_c{i}")).collect::<Vec<_>>()
    );
}
