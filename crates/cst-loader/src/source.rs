//! Grammar sources in a directory: where `src/parser.c` is, the C symbol it
//! exports, its scanner, and the metadata the package carries
//! (`tree-sitter.json`, `package.json`, `Cargo.toml`).

use std::path::{Path, PathBuf};

use crate::Error;

/// How deep below the given root grammar directories are looked for
/// (`tree-sitter-typescript/typescript/src/parser.c` is 2 below the root of
/// an unpacked npm package).
const MAX_DEPTH: usize = 4;
/// At most this many sample files are handed to the probe.
const MAX_SAMPLES: usize = 16;
/// Sample files larger than this are not handed to the probe.
const MAX_SAMPLE_BYTES: u64 = 1 << 20;

/// One grammar found in a source tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrammarSource {
    /// The directory holding `src/parser.c`.
    pub dir: PathBuf,
    /// The package it was found in (the directory or unpacked archive given
    /// to [`find`]): headers outside `src/` (tree-sitter-typescript's
    /// `common/scanner.h`) count toward the build digest.
    pub root: PathBuf,
    /// The C function `parser.c` exports (`tree_sitter_json`).
    pub symbol: String,
    /// The ABI `parser.c` declares (`#define LANGUAGE_VERSION`), if found.
    pub abi: Option<u32>,
    /// `src/scanner.c` or `src/scanner.cc`, if any.
    pub scanner: Option<PathBuf>,
    /// Package name, version and licence from the package's metadata (empty
    /// when absent).
    pub package: String,
    /// See [`GrammarSource::package`].
    pub version: String,
    /// See [`GrammarSource::package`].
    pub license: String,
    /// File extensions from `tree-sitter.json` or `package.json`.
    pub file_types: Vec<String>,
    /// Query files found: (`tags` | `highlights` | `locals` | `injections`,
    /// path).
    pub queries: Vec<(String, PathBuf)>,
    /// Sample inputs for the probe: test corpus files and examples.
    pub samples: Vec<PathBuf>,
}

impl GrammarSource {
    /// The id the symbol suggests: `tree_sitter_c_sharp` → `c_sharp`.
    pub fn default_id(&self) -> String {
        self.symbol
            .strip_prefix("tree_sitter_")
            .unwrap_or(&self.symbol)
            .to_ascii_lowercase()
    }

    /// Whether the scanner is C++.
    pub fn cpp_scanner(&self) -> bool {
        self.scanner
            .as_ref()
            .is_some_and(|s| s.extension().is_some_and(|e| e == "cc"))
    }
}

/// Every grammar under `root` (a directory), in path order.
pub fn find(root: &Path) -> Result<Vec<GrammarSource>, Error> {
    let mut dirs = Vec::new();
    collect(root, 0, &mut dirs)?;
    dirs.sort();
    dirs.iter().map(|d| describe(root, d)).collect()
}

fn collect(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    if dir.join("src/parser.c").is_file() {
        out.push(dir.to_path_buf());
    }
    if depth == MAX_DEPTH {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(Error::io(dir))?;
    for entry in entries {
        let entry = entry.map_err(Error::io(dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // `src` holds the parser itself, not more grammars.
        if matches!(
            name.as_ref(),
            "node_modules" | ".git" | "src" | "target" | "test" | "queries" | "bindings"
        ) {
            continue;
        }
        // Never follow links out of the tree.
        if entry.file_type().map_err(Error::io(dir))?.is_dir() {
            collect(&entry.path(), depth + 1, out)?;
        }
    }
    Ok(())
}

/// The exported `tree_sitter_*` function and the declared ABI of `parser.c`.
fn scan_parser(parser: &Path) -> Result<(String, Option<u32>), Error> {
    let text = std::fs::read(parser).map_err(Error::io(parser))?;
    let text = String::from_utf8_lossy(&text);
    let abi = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("#define LANGUAGE_VERSION"))
        .and_then(|v| v.trim().parse().ok());
    let re = regex::Regex::new(
        r"TSLanguage\s*\*\s*(tree_sitter_[A-Za-z0-9_]+)\s*\(\s*(?:void)?\s*\)\s*\{",
    )
    .expect("valid regex");
    // The function is the last thing in the file.
    let symbol = re
        .captures_iter(&text)
        .last()
        .map(|c| c[1].to_string())
        .ok_or_else(|| Error::Compile {
            grammar: parser.display().to_string(),
            message: "parser.c exports no `tree_sitter_*` function".into(),
        })?;
    Ok((symbol, abi))
}

fn describe(root: &Path, dir: &Path) -> Result<GrammarSource, Error> {
    let (symbol, abi) = scan_parser(&dir.join("src/parser.c"))?;
    let scanner = ["scanner.c", "scanner.cc"]
        .iter()
        .map(|n| dir.join("src").join(n))
        .find(|p| p.is_file());
    let mut g = GrammarSource {
        dir: dir.to_path_buf(),
        root: root.to_path_buf(),
        symbol,
        abi,
        scanner,
        package: String::new(),
        version: String::new(),
        license: String::new(),
        file_types: Vec::new(),
        queries: Vec::new(),
        samples: Vec::new(),
    };
    // Metadata from the grammar directory up to the root, nearest first.
    let mut levels: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| a.starts_with(root))
        .collect();
    if levels.is_empty() {
        levels.push(dir);
    }
    for level in &levels {
        read_tree_sitter_json(level, dir, &mut g);
        read_package_json(level, dir, &mut g);
        read_cargo_toml(level, &mut g);
    }
    for kind in ["tags", "highlights", "locals", "injections"] {
        if g.queries.iter().any(|(k, _)| k == kind) {
            continue;
        }
        if let Some(p) = levels
            .iter()
            .map(|l| l.join("queries").join(format!("{kind}.scm")))
            .find(|p| p.is_file())
        {
            g.queries.push((kind.to_string(), p));
        }
    }
    for level in &levels {
        for sub in ["test/corpus", "corpus", "examples"] {
            let Ok(entries) = std::fs::read_dir(level.join(sub)) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter(|e| e.metadata().is_ok_and(|m| m.len() <= MAX_SAMPLE_BYTES))
                .map(|e| e.path())
                .collect();
            files.sort();
            g.samples.extend(files);
        }
        if !g.samples.is_empty() {
            break;
        }
    }
    g.samples.truncate(MAX_SAMPLES);
    Ok(g)
}

fn json(path: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

fn set_if_empty(slot: &mut String, value: Option<&str>) {
    if slot.is_empty()
        && let Some(v) = value
    {
        *slot = v.to_string();
    }
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The entry of a grammar list (`tree-sitter.json`'s `grammars`,
/// `package.json`'s `tree-sitter`) whose `path` is `dir`.
fn entry_for<'a>(
    list: &'a serde_json::Value,
    level: &Path,
    dir: &Path,
) -> Option<&'a serde_json::Value> {
    list.as_array()?.iter().find(|e| {
        let path = e.get("path").and_then(|p| p.as_str()).unwrap_or(".");
        let target = level.join(path);
        target == dir || target.canonicalize().ok() == dir.canonicalize().ok()
    })
}

fn read_tree_sitter_json(level: &Path, dir: &Path, g: &mut GrammarSource) {
    let Some(v) = json(&level.join("tree-sitter.json")) else {
        return;
    };
    if let Some(meta) = v.get("metadata") {
        set_if_empty(&mut g.version, meta.get("version").and_then(|x| x.as_str()));
        set_if_empty(&mut g.license, meta.get("license").and_then(|x| x.as_str()));
    }
    let Some(entry) = v.get("grammars").and_then(|l| entry_for(l, level, dir)) else {
        return;
    };
    if g.file_types.is_empty()
        && let Some(ft) = entry.get("file-types")
    {
        g.file_types = strings(ft);
    }
    for kind in ["tags", "highlights", "locals", "injections"] {
        if g.queries.iter().any(|(k, _)| k == kind) {
            continue;
        }
        // Paths are relative to the file; several files are concatenated,
        // which the loader does when it reads them: keep the first here and
        // the rest in order.
        if let Some(list) = entry.get(kind) {
            for p in strings(list) {
                let path = level.join(p);
                if path.is_file() {
                    g.queries.push((kind.to_string(), path));
                }
            }
        }
    }
}

fn read_package_json(level: &Path, dir: &Path, g: &mut GrammarSource) {
    let Some(v) = json(&level.join("package.json")) else {
        return;
    };
    set_if_empty(&mut g.package, v.get("name").and_then(|x| x.as_str()));
    set_if_empty(&mut g.version, v.get("version").and_then(|x| x.as_str()));
    set_if_empty(&mut g.license, v.get("license").and_then(|x| x.as_str()));
    if g.file_types.is_empty()
        && let Some(entry) = v.get("tree-sitter").and_then(|l| entry_for(l, level, dir))
        && let Some(ft) = entry.get("file-types")
    {
        g.file_types = strings(ft);
    }
}

fn read_cargo_toml(level: &Path, g: &mut GrammarSource) {
    let Ok(text) = std::fs::read_to_string(level.join("Cargo.toml")) else {
        return;
    };
    let Ok(v) = text.parse::<toml::Table>() else {
        return;
    };
    let Some(p) = v.get("package").and_then(|p| p.as_table()) else {
        return;
    };
    set_if_empty(&mut g.package, p.get("name").and_then(|x| x.as_str()));
    set_if_empty(&mut g.version, p.get("version").and_then(|x| x.as_str()));
    set_if_empty(&mut g.license, p.get("license").and_then(|x| x.as_str()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_symbol_abi_and_metadata() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("package");
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::create_dir_all(dir.join("queries")).unwrap();
        std::fs::create_dir_all(dir.join("test/corpus")).unwrap();
        std::fs::write(
            dir.join("src/parser.c"),
            "#define LANGUAGE_VERSION 14\n\nTS_PUBLIC const TSLanguage *tree_sitter_foo_bar(void) {\n  return &language;\n}\n",
        )
        .unwrap();
        std::fs::write(dir.join("src/scanner.c"), "").unwrap();
        std::fs::write(dir.join("queries/tags.scm"), "(x) @name").unwrap();
        std::fs::write(dir.join("test/corpus/a.txt"), "===\na\n===\nx\n---\n(x)\n").unwrap();
        std::fs::write(
            dir.join("package.json"),
            r#"{"name":"tree-sitter-foo-bar","version":"1.2.3","license":"MIT","tree-sitter":[{"scope":"source.foo","file-types":["foo","fb"]}]}"#,
        )
        .unwrap();
        let found = find(root.path()).unwrap();
        assert_eq!(found.len(), 1);
        let g = &found[0];
        assert_eq!(g.symbol, "tree_sitter_foo_bar");
        assert_eq!(g.default_id(), "foo_bar");
        assert_eq!(g.abi, Some(14));
        assert!(!g.cpp_scanner());
        assert_eq!(g.package, "tree-sitter-foo-bar");
        assert_eq!(g.version, "1.2.3");
        assert_eq!(g.file_types, ["foo", "fb"]);
        assert_eq!(g.queries.len(), 1);
        assert_eq!(g.samples.len(), 1);
    }

    #[test]
    fn a_parser_without_the_function_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("src")).unwrap();
        std::fs::write(root.path().join("src/parser.c"), "int x;\n").unwrap();
        assert!(matches!(find(root.path()), Err(Error::Compile { .. })));
    }
}
