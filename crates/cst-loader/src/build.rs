//! Compiling grammar sources into a shared library, content-addressed.
//!
//! The digest covers every C and C++ file of the package a compile may read
//! (the parser, the scanner, their headers, a `common/` directory shared by
//! several grammars), the flags and the compiler's identity. The library is
//! built in a private temporary directory and renamed to
//! `lib/<digest>/<symbol>.so`; an existing directory of that digest is
//! reused as it is, whatever the sources' modification times.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::source::GrammarSource;
use crate::{Error, hex};

/// Flags of every compile (the `cc` crate adds `-fPIC` and the target's own).
const C_FLAGS: &[&str] = &["-std=c11", "-w"];
const CPP_FLAGS: &[&str] = &["-w"];
const OPT_LEVEL: u32 = 2;

/// A built library.
#[derive(Debug, Clone)]
pub(crate) struct Built {
    /// The library inside the grammar cache.
    pub library: PathBuf,
    /// The digest of sources, flags and compiler.
    pub digest: [u8; 32],
}

fn cc_build(src: &Path, out: &Path, cpp: bool) -> cc::Build {
    let mut b = cc::Build::new();
    b.cargo_metadata(false)
        .cargo_warnings(false)
        .cargo_debug(false)
        .target(env!("CST_LOADER_TARGET"))
        .host(env!("CST_LOADER_HOST"))
        .opt_level(OPT_LEVEL)
        .debug(false)
        .pic(true)
        .warnings(false)
        .cpp(cpp)
        .out_dir(out)
        .include(src);
    for f in if cpp { CPP_FLAGS } else { C_FLAGS } {
        b.flag(f);
    }
    b
}

/// `cc --version`'s first line, or the path when it does not answer.
fn compiler_identity(tool: &cc::Tool) -> String {
    let version = Command::new(tool.path())
        .arg("--version")
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    format!("{} {version}", tool.path().display())
}

/// Whether a compile can read `path`: a C or C++ source or header.
fn is_c_source(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    matches!(ext, "c" | "cc" | "h" | "hh" | "hpp" | "cpp" | "inc")
}

/// The C and C++ files of the package `dir` that `grammar`'s compile may
/// read: everything under the package but the directories of its other
/// grammars, dependencies and build output.
fn sources_under(dir: &Path, grammar: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let entry = entry.map_err(Error::io(dir))?;
        let t = entry.file_type().map_err(Error::io(dir))?;
        let path = entry.path();
        if t.is_dir() {
            let name = entry.file_name();
            let other_grammar = path != grammar && path.join("src/parser.c").is_file();
            if !other_grammar && !matches!(name.to_str(), Some("node_modules" | ".git" | "target"))
            {
                sources_under(&path, grammar, out)?;
            }
        } else if t.is_file() && is_c_source(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// The digest of the sources the compile reads, the flags and the compiler.
pub(crate) fn digest(g: &GrammarSource, allow_cpp: bool) -> Result<[u8; 32], Error> {
    let src = g.dir.join("src");
    let scratch = std::env::temp_dir();
    let c = cc_build(&src, &scratch, false)
        .try_get_compiler()
        .map_err(|e| compile_error(g, e))?;
    let mut h = blake3::Hasher::new();
    let mut put = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    put(b"cst-grammar-build/1");
    put(g.symbol.as_bytes());
    put(compiler_identity(&c).as_bytes());
    // The flags, with the source directory itself left out (an archive is
    // unpacked into a new temporary directory each time: the same sources
    // must give the same digest).
    for a in c.args() {
        if Path::new(a) == src {
            put(b"<src>");
        } else {
            put(a.as_encoded_bytes());
        }
    }
    if g.cpp_scanner() && allow_cpp {
        let cpp = cc_build(&src, &scratch, true)
            .try_get_compiler()
            .map_err(|e| compile_error(g, e))?;
        put(compiler_identity(&cpp).as_bytes());
    }
    // Every C and C++ file of the package a compile may read (`src/` and,
    // say, a `common/` header shared by two grammars), by path relative to
    // the grammar.
    let root = if g.dir.starts_with(&g.root) {
        &g.root
    } else {
        &g.dir
    };
    let mut files = Vec::new();
    sources_under(root, &g.dir, &mut files)?;
    files.sort();
    for f in files {
        let rel = f.strip_prefix(root).unwrap_or(&f);
        put(rel.to_string_lossy().as_bytes());
        put(&std::fs::read(&f).map_err(Error::io(&f))?);
    }
    Ok(*h.finalize().as_bytes())
}

/// Compiles one source file into `objs`, keeping the compiler's message
/// (its last lines) when it fails.
fn compile_one(
    g: &GrammarSource,
    tool: &cc::Tool,
    file: &Path,
    objs: &Path,
) -> Result<PathBuf, Error> {
    let stem = file.file_stem().map_or("x".into(), |s| s.to_string_lossy());
    let obj = objs.join(format!("{stem}.o"));
    let output = tool
        .to_command()
        .arg("-c")
        .arg(file)
        .arg("-o")
        .arg(&obj)
        .output()
        .map_err(Error::io(tool.path()))?;
    if !output.status.success() {
        return Err(compile_error(
            g,
            format!("{}: {}", file.display(), tail(&output.stderr)),
        ));
    }
    Ok(obj)
}

/// The last lines of a compiler's output.
fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.trim().lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}

fn compile_error(g: &GrammarSource, e: impl std::fmt::Display) -> Error {
    Error::Compile {
        grammar: g.symbol.clone(),
        message: e.to_string(),
    }
}

/// The library's file name inside its digest directory.
pub(crate) fn library_name(symbol: &str) -> String {
    format!("{symbol}{}", std::env::consts::DLL_SUFFIX)
}

/// Builds `g` into the grammar cache `cache` (or finds it built).
pub(crate) fn build(g: &GrammarSource, cache: &Path, allow_cpp: bool) -> Result<Built, Error> {
    if g.cpp_scanner() && !allow_cpp {
        return Err(Error::CppScanner(g.dir.clone()));
    }
    let digest = digest(g, allow_cpp)?;
    let final_dir = cache.join("lib").join(hex(&digest));
    let library = final_dir.join(library_name(&g.symbol));
    if library.is_file() {
        return Ok(Built { library, digest });
    }
    let tmp_root = cache.join("tmp");
    std::fs::create_dir_all(&tmp_root).map_err(Error::io(&tmp_root))?;
    std::fs::create_dir_all(cache.join("lib")).map_err(Error::io(cache.join("lib")))?;
    crate::not_writable_by_others(&cache.join("lib"))?;
    let tmp = tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(&tmp_root)
        .map_err(Error::io(&tmp_root))?;
    let objs = tmp.path().join("obj");
    let out = tmp.path().join("out");
    for d in [&objs, &out] {
        std::fs::create_dir_all(d).map_err(Error::io(d))?;
    }
    let src = g.dir.join("src");
    let c = cc_build(&src, &objs, false)
        .try_get_compiler()
        .map_err(|e| compile_error(g, e))?;
    let mut objects = vec![compile_one(g, &c, &src.join("parser.c"), &objs)?];
    let mut linker = c;
    match &g.scanner {
        Some(s) if g.cpp_scanner() => {
            let cpp = cc_build(&src, &objs, true)
                .try_get_compiler()
                .map_err(|e| compile_error(g, e))?;
            objects.push(compile_one(g, &cpp, s, &objs)?);
            linker = cpp;
        }
        Some(s) => objects.push(compile_one(g, &linker, s, &objs)?),
        None => {}
    }
    let built = out.join(library_name(&g.symbol));
    let mut cmd = linker.to_command();
    cmd.arg("-shared").arg("-o").arg(&built).args(&objects);
    if cfg!(target_os = "macos") {
        cmd.arg("-undefined").arg("error");
    } else {
        cmd.arg("-Wl,--no-undefined");
    }
    let output = cmd.output().map_err(Error::io(linker.path()))?;
    if !output.status.success() {
        return Err(compile_error(
            g,
            format!("linking failed: {}", tail(&output.stderr)),
        ));
    }
    for p in [&built, &out] {
        crate::not_writable_by_others(p)?;
    }
    // Atomic: the digest directory appears whole or not at all. Another
    // process may have renamed the same digest in first: theirs is as good.
    match std::fs::rename(&out, &final_dir) {
        Ok(()) => {}
        Err(_) if library.is_file() => {}
        Err(e) => return Err(Error::io(&final_dir)(e)),
    }
    Ok(Built { library, digest })
}
