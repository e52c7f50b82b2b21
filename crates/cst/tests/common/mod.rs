//! Helpers shared by the facade's reliability tests (crash, corruption, bad
//! input, soak): a seeded generator, generated workspaces, and the check that
//! a served tree equals a fresh tree-sitter parse.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cst::Cache;

/// `CST_LONG_TESTS=1` (anything but empty or `0`) selects the long mode.
pub fn long_mode() -> bool {
    std::env::var("CST_LONG_TESTS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// xorshift64*: deterministic, seedable, good enough for test choices.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Relative names of the files a generated workspace may hold: Rust, Python,
/// JavaScript, JSON and Go, in nested directories.
pub fn universe(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 5 {
            0 => format!("src/m{i}.rs"),
            1 => format!("src/deep/er/p{i}.py"),
            2 => format!("web/s{i}.js"),
            3 => format!("data/d{i}.json"),
            _ => format!("go/g{i}.go"),
        })
        .collect()
}

/// A source for `rel` (by its extension), different for each `variant`; one
/// variant in eleven has a syntax error, so ERROR and MISSING nodes occur.
pub fn source_for(rel: &str, variant: u64) -> String {
    let n = 1 + variant % 6;
    let broken = variant.is_multiple_of(11);
    let mut s = String::new();
    match rel.rsplit('.').next() {
        Some("rs") => {
            for f in 0..n {
                s += &format!(
                    "/// f{f}\npub fn f{f}_{variant}(x: u64) -> u64 {{\n    let y = x.wrapping_mul({variant});\n    if y > {f} {{ y - {f} }} else {{ [y, {f}].iter().sum() }}\n}}\n\n"
                );
            }
            if broken {
                s += "fn broken( {\n";
            }
        }
        Some("py") => {
            for f in 0..n {
                s += &format!(
                    "def f{f}_{variant}(x):\n    \"\"\"f{f}\"\"\"\n    return [i * {variant} for i in range(x) if i % {} == 0]\n\n",
                    f + 2
                );
            }
            if broken {
                s += "def broken(:\n";
            }
        }
        Some("js") => {
            for f in 0..n {
                s += &format!(
                    "export function f{f}_{variant}(x) {{\n  const y = x * {variant};\n  return y > {f} ? `${{y}}` : {{ a: [y, {f}] }};\n}}\n\n"
                );
            }
            if broken {
                s += "function broken( {\n";
            }
        }
        Some("json") => {
            s += "{\n";
            for f in 0..n {
                s += &format!("  \"k{f}\": [{variant}, {f}, {{\"n\": null, \"t\": true}}],\n");
            }
            s += &format!("  \"last\": \"{variant}\"\n}}\n");
            if broken {
                s.insert(0, ',');
            }
        }
        _ => {
            s += "package g\n\n";
            for f in 0..n {
                s += &format!(
                    "func F{f}V{variant}(x int) int {{\n\tif x > {f} {{\n\t\treturn x * {variant}\n\t}}\n\treturn {f}\n}}\n\n"
                );
            }
            if broken {
                s += "func broken( {\n";
            }
        }
    }
    s
}

/// A small change of `old`: a line inserted, a line removed, or a digit
/// changed, at a position `rng` picks.
pub fn mutate(rel: &str, old: &[u8], rng: &mut Rng) -> Vec<u8> {
    let lines: Vec<&[u8]> = old.split_inclusive(|&b| b == b'\n').collect();
    if lines.is_empty() {
        return source_for(rel, rng.next()).into_bytes();
    }
    let at = rng.below(lines.len() as u64) as usize;
    let mut out: Vec<u8> = Vec::with_capacity(old.len() + 64);
    for (i, l) in lines.iter().enumerate() {
        match (i == at, rng.below(3)) {
            (true, 0) => {
                let comment = match rel.rsplit('.').next() {
                    Some("py") => format!("# edit {}\n", rng.next() % 1000),
                    Some("json") => String::new(),
                    _ => format!("// edit {}\n", rng.next() % 1000),
                };
                out.extend_from_slice(comment.as_bytes());
                out.extend_from_slice(l);
            }
            (true, 1) if lines.len() > 1 => {}
            (true, _) => out.extend(l.iter().map(|&b| {
                if b.is_ascii_digit() {
                    b'0' + (b - b'0' + 1) % 10
                } else {
                    b
                }
            })),
            (false, _) => out.extend_from_slice(l),
        }
    }
    out
}

/// Creates the first `present` files of a universe of `n` under `root`.
pub fn generate_workspace(root: &Path, n: usize, present: usize, seed: u64) -> Vec<String> {
    let names = universe(n);
    for (i, rel) in names.iter().enumerate().take(present) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, source_for(rel, seed.wrapping_add(i as u64))).unwrap();
    }
    names
}

/// The row and column of byte `at` of `text`.
fn point(text: &[u8], at: usize) -> tree_sitter::Point {
    let before = &text[..at];
    let row = before.iter().filter(|&&b| b == b'\n').count();
    let column = at
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
    tree_sitter::Point { row, column }
}

/// The `InputEdit` turning `old` into `new` (one changed range, found from
/// the common prefix and suffix).
pub fn input_edit(old: &[u8], new: &[u8]) -> tree_sitter::InputEdit {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    let (old_end, new_end) = (old.len() - suffix, new.len() - suffix);
    tree_sitter::InputEdit {
        start_byte: prefix,
        old_end_byte: old_end,
        new_end_byte: new_end,
        start_position: point(old, prefix),
        old_end_position: point(old, old_end),
        new_end_position: point(new, new_end),
    }
}

/// A fresh tree-sitter parse of `source` as `path`'s language (`None` when no
/// grammar claims it).
pub fn fresh_parse(path: &Path, source: &[u8]) -> Option<tree_sitter::Tree> {
    let head = &source[..source.len().min(8192)];
    let g = cst::grammars::detect(path, head)?;
    g.parser().ok()?.parse(source, None)
}

/// Checks that the tree `cache` serves for `path` equals a fresh parse of
/// `content`, node by node and as an S-expression, with `content` as its
/// source (when the tree carries one).
pub fn check_served(cache: &Cache, path: &Path, content: &[u8]) -> Result<(), String> {
    let tree = match cache.get(path) {
        Ok(Some(t)) => t,
        Ok(None) => return Err(format!("{}: not served", path.display())),
        Err(e) => return Err(format!("{}: get failed: {e}", path.display())),
    };
    if let Some(src) = tree.source()
        && src != content
    {
        return Err(format!(
            "{}: served source differs from the file",
            path.display()
        ));
    }
    check_tree(path, &tree, content)
}

/// Checks that `tree` equals a fresh parse of `content`.
pub fn check_tree(path: &Path, tree: &cst::Tree, content: &[u8]) -> Result<(), String> {
    let live = fresh_parse(path, content).ok_or_else(|| format!("{}: no parse", path.display()))?;
    cst::bytecode::verify(&live, tree.view())
        .map_err(|m| format!("{}: served tree differs: {m}", path.display()))?;
    if tree.root().to_sexp() != live.root_node().to_sexp() {
        return Err(format!("{}: S-expressions differ", path.display()));
    }
    Ok(())
}

/// Regular files under `root` (recursively, skipping hidden entries).
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => out.push(e.path()),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// Resident and file-backed resident ("shared": mapped store segments,
/// the binary) bytes of this process (`/proc/self/statm`).
pub fn rss_and_file_bytes() -> (u64, u64) {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let field = |i: usize| -> u64 {
        statm
            .split_whitespace()
            .nth(i)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field(1) * 4096, field(2) * 4096)
}

/// Resident set size of this process in bytes (`/proc/self/statm`).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}
