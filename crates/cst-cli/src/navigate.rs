//! `cst tags`, `cst outline`, `cst chunks` and `cst query`: answers from the
//! stored trees of an indexed workspace, computed in parallel, never by
//! parsing again (a path that was never indexed is indexed first).

use std::io::Write;
use std::path::{Path, PathBuf};

use cst::tags::{Chunk, ChunkOptions, OutlineItem, Tag, Unit};
use cst::{Cache, FileTags, grammars};
use serde_json::json;

use crate::{Access, Cli, Failure, open_as};

/// The indexed files under `paths` (files or directories), and the cache.
pub(crate) struct Selection {
    pub cache: Cache,
    pub files: Vec<PathBuf>,
    /// Where printed paths are relative to.
    pub base: PathBuf,
}

/// The workspace of `path`: the nearest ancestor (or itself) with a cache,
/// else with `.git` or `cst.toml`, else the directory itself.
pub(crate) fn workspace_of(cli: &Cli, path: &Path) -> PathBuf {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("/"))
    };
    if cli.cache_dir.is_none()
        && let Some(a) = dir.ancestors().find(|a| cst::default_cache_dir(a).exists())
    {
        return a.to_path_buf();
    }
    dir.ancestors()
        .find(|d| d.join(".git").exists() || d.join("cst.toml").exists())
        .unwrap_or(dir)
        .to_path_buf()
}

fn canonical(p: &Path) -> Result<PathBuf, Failure> {
    p.canonicalize()
        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()).into())
}

/// Opens the workspace cache of `paths` and lists its indexed files under
/// them, indexing the ones with nothing indexed (or all with `reindex`).
pub(crate) fn select(cli: &Cli, paths: &[PathBuf], reindex: bool) -> Result<Selection, Failure> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let paths: Vec<PathBuf> = paths
        .iter()
        .map(|p| canonical(p))
        .collect::<Result<_, _>>()?;
    let workspace = workspace_of(cli, &paths[0]);
    let cache = open_as(cli, &workspace, Access::WriteOrRead)?;
    let mut indexed = cache.paths();
    let mut changed = false;
    for p in &paths {
        let known = indexed.iter().any(|f| f.starts_with(p));
        if known && !reindex {
            continue;
        }
        if p.is_dir() {
            cache.index(p, &|_| {})?;
        } else {
            let source = std::fs::read(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            cache.insert(p, source)?;
        }
        changed = true;
    }
    if changed {
        cache.flush()?;
        indexed = cache.paths();
    }
    let files = indexed
        .into_iter()
        .filter(|f| paths.iter().any(|p| f.starts_with(p)))
        .collect();
    let base = std::env::current_dir()
        .ok()
        .and_then(|d| d.canonicalize().ok())
        .unwrap_or_default();
    Ok(Selection { cache, files, base })
}

/// `path` relative to `base` when it is under it.
pub(crate) fn shown(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// How `cst tags` prints.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagsFormat {
    Text,
    Json,
    Ctags,
}

/// `cst tags`.
pub(crate) fn tags(
    cli: &Cli,
    paths: &[PathBuf],
    format: TagsFormat,
    output: Option<&Path>,
    definitions_only: bool,
    reindex: bool,
) -> Result<u8, Failure> {
    let sel = select(cli, paths, reindex)?;
    let cache = &sel.cache;
    if format == TagsFormat::Ctags {
        return ctags(sel, output, definitions_only);
    }
    // Stored tags are read with the source only; others are computed from
    // the stored tree (and kept for next time).
    let results = cache.par_each(&sel.files, |path| match cache.tags(path) {
        Err(cst::Error::NoTagsQuery(_)) => Ok(None),
        other => other,
    });
    let mut skipped = 0usize;
    let mut rows: Vec<(&Path, FileTags)> = Vec::new();
    for (path, r) in sel.files.iter().zip(results) {
        match r {
            Ok(Some(t)) => rows.push((path, t)),
            Ok(None) => skipped += 1,
            Err(e) => {
                eprintln!("cst: {}: {e}", path.display());
                skipped += 1;
            }
        }
    }
    // Keep the tags computed on the way (the next run reads them back).
    cache.flush()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut count = 0usize;
    for (path, ft) in &rows {
        let shown = shown(path, &sel.base);
        let source = ft.source();
        for t in ft.tags() {
            if definitions_only && !t.is_definition {
                continue;
            }
            count += 1;
            if format == TagsFormat::Json {
                writeln!(out, "{}", tag_json(&shown, ft, t))?;
            } else {
                // One line per tag: a name spanning lines is escaped.
                writeln!(
                    out,
                    "{shown}:{}:{}: {} {} {}",
                    t.span.start.row + 1,
                    t.span.start.column + 1,
                    if t.is_definition { "def" } else { "ref" },
                    ft.kind(t),
                    one_line(&t.name(source))
                )?;
            }
        }
    }
    out.flush()?;
    if format == TagsFormat::Text {
        eprintln!(
            "{count} tags in {} files ({skipped} files without a tags query)",
            rows.len()
        );
    }
    drop(rows);
    crate::finish(sel.cache)?;
    Ok(0)
}

/// The whole line holding byte `at` (whose column is `column`), without
/// its line break.
fn line_at(source: &[u8], at: usize, column: usize) -> &[u8] {
    let start = at - column.min(at);
    let end = source[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(source.len(), |n| start + n);
    &source[start..end]
}

/// `s` with line breaks and tabs escaped (`\n`, `\r`, `\t`).
fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['\n', '\r', '\t']) {
        return s.into();
    }
    s.replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t")
        .into()
}

fn tag_json(path: &str, ft: &FileTags, t: &Tag) -> serde_json::Value {
    let source = ft.source();
    json!({
        "path": path,
        "language": ft.language().id(),
        "name": t.name(source),
        "kind": ft.kind(t),
        "is_definition": t.is_definition,
        "start": {"line": t.span.start.row + 1, "column": t.span.start.column + 1},
        "end": {"line": t.span.end.row + 1, "column": t.span.end.column + 1},
        "name_bytes": [t.name_range.start, t.name_range.end],
        "bytes": [t.range.start, t.range.end],
        "utf16_columns": [t.utf16_column_range.start, t.utf16_column_range.end],
        "line": t.line(source),
        "docs": t.docs,
    })
}

/// `cst tags --ctags`: a ctags-format (extended format 2) `tags` file,
/// sorted by name as Universal Ctags sorts it (`LC_ALL=C`), with paths
/// relative to the file's directory. Each file's lines are made on the
/// worker that read its tags, and its source is let go at once.
fn ctags(sel: Selection, output: Option<&Path>, definitions_only: bool) -> Result<u8, Failure> {
    let target = output.unwrap_or(Path::new("tags"));
    let to_stdout = target == Path::new("-");
    let base = if to_stdout {
        std::env::current_dir()?
    } else {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        canonical(parent)?
    };
    let cache = &sel.cache;
    let results = cache.par_each(&sel.files, |path| match cache.tags(path) {
        Ok(Some(ft)) => Ok(ctags_lines(&shown(path, &base), &ft, definitions_only)),
        Ok(None) | Err(cst::Error::NoTagsQuery(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    });
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for (path, r) in sel.files.iter().zip(results) {
        match r {
            Ok(l) => lines.extend(l),
            Err(e) => eprintln!("cst: {}: {e}", path.display()),
        }
    }
    let n = write_ctags(lines, target)?;
    if !to_stdout {
        eprintln!("wrote {n} tags to {}", target.display());
    }
    // Keeps the tags computed on the way (the next run reads them back).
    crate::finish(sel.cache)?;
    Ok(0)
}

/// The ctags lines of one file's tags (`file` as the tags file names it).
fn ctags_lines(file: &str, ft: &FileTags, definitions_only: bool) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let source = ft.source();
    for t in ft.tags() {
        // Editors jump to definitions; references are kept with
        // `--references`.
        if definitions_only && !t.is_definition {
            continue;
        }
        let name = &source[t.name_range.clone()];
        if name.is_empty() || name.iter().any(|&b| b == b'\t' || b == b'\n') {
            continue;
        }
        let mut line = Vec::new();
        line.extend_from_slice(name);
        line.push(b'\t');
        line.extend_from_slice(file.as_bytes());
        line.extend_from_slice(b"\t/^");
        // The whole source line, as a search pattern (`\` and `/`
        // escaped); cut at 256 bytes without the `$` anchor.
        let full = line_at(source, t.name_range.start, t.span.start.column);
        let full = full.strip_suffix(b"\r").unwrap_or(full);
        let cut = full.len() > 256;
        for &b in &full[..full.len().min(256)] {
            if b == b'\\' || b == b'/' {
                line.push(b'\\');
            }
            line.push(b);
        }
        line.extend_from_slice(if cut { b"/;\"\t" } else { b"$/;\"\t" });
        line.extend_from_slice(ft.kind(t).as_bytes());
        line.extend_from_slice(format!("\tline:{}", t.span.start.row + 1).as_bytes());
        if !t.is_definition {
            line.extend_from_slice(b"\troles:ref");
        }
        line.extend_from_slice(format!("\tlanguage:{}", ft.language().id()).as_bytes());
        lines.push(line);
    }
    lines
}

/// Writes the sorted `lines` under the ctags header to `target` (`-`:
/// stdout), atomically for a file. Returns the number of tags.
fn write_ctags(mut lines: Vec<Vec<u8>>, target: &Path) -> Result<usize, Failure> {
    let to_stdout = target == Path::new("-");
    lines.sort();
    let mut buf: Vec<u8> = Vec::new();
    buf.extend_from_slice(
        b"!_TAG_FILE_FORMAT\t2\t/extended format; --format=1 will not append ;\" to lines/\n",
    );
    buf.extend_from_slice(b"!_TAG_FILE_SORTED\t1\t/0=unsorted, 1=sorted, 2=foldcase/\n");
    buf.extend_from_slice(b"!_TAG_PROGRAM_NAME\tcst\t//\n");
    buf.extend_from_slice(
        format!("!_TAG_PROGRAM_VERSION\t{}\t//\n", env!("CARGO_PKG_VERSION")).as_bytes(),
    );
    for l in &lines {
        buf.extend_from_slice(l);
        buf.push(b'\n');
    }
    if to_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(&buf)?;
        out.flush()?;
    } else {
        // Written beside, then renamed: an editor never reads half a file.
        let tmp = target.with_extension("cst-tmp");
        std::fs::write(&tmp, &buf).map_err(|e| anyhow::anyhow!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, target).map_err(|e| anyhow::anyhow!("{}: {e}", target.display()))?;
    }
    Ok(lines.len())
}

/// `cst outline FILE`.
pub(crate) fn outline(cli: &Cli, file: &Path, as_json: bool) -> Result<u8, Failure> {
    let file = canonical(file)?;
    let sel = select(cli, std::slice::from_ref(&file), false)?;
    let cache = &sel.cache;
    let tree = fresh_tree(cache, &file)?;
    let language = tree.language();
    let items = match cache.tags_for(tree) {
        Ok(t) => t.outline(),
        Err(cst::Error::NoTagsQuery(id)) => {
            return Err(Failure {
                code: 1,
                error: anyhow::anyhow!("{}: no tags query for {id}", file.display()),
            });
        }
        Err(e) => return Err(e.into()),
    };
    cache.flush()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if as_json {
        let v = json!({
            "path": shown(&file, &sel.base),
            "language": language.id(),
            "items": items.iter().map(item_json).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v).expect("JSON"))?;
    } else {
        for root in &items {
            for (depth, it) in root.walk() {
                writeln!(
                    out,
                    "{}{} {}  {}-{}",
                    "  ".repeat(depth),
                    it.kind,
                    it.name,
                    it.start.row + 1,
                    end_line(it)
                )?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}

/// The last line an item covers (one-based).
fn end_line(it: &OutlineItem) -> usize {
    if it.end.column == 0 && it.end.row > it.start.row {
        it.end.row
    } else {
        it.end.row + 1
    }
}

fn item_json(it: &OutlineItem) -> serde_json::Value {
    // Iterative: a deeply nested outline must not overflow the stack.
    let walk = it.walk();
    let mut built: Vec<Option<serde_json::Value>> = vec![None; walk.len()];
    // Children of walk[i] are the following entries at depth d+1 until one
    // at depth <= d; build from the end.
    for i in (0..walk.len()).rev() {
        let (d, item) = walk[i];
        let mut children = Vec::new();
        let mut j = i + 1;
        while j < walk.len() && walk[j].0 > d {
            if walk[j].0 == d + 1 {
                children.push(built[j].take().expect("built"));
            }
            j += 1;
        }
        built[i] = Some(json!({
            "kind": item.kind, "name": item.name,
            "start": {"line": item.start.row + 1, "column": item.start.column + 1},
            "end": {"line": end_line(item), "column": item.end.column + 1},
            "bytes": [item.range.start, item.range.end],
            "name_bytes": [item.name_range.start, item.name_range.end],
            "children": children,
        }));
    }
    built[0].take().expect("root")
}

/// The stored tree of `file`, indexed again first if the file changed.
fn fresh_tree(cache: &Cache, file: &Path) -> Result<cst::Tree, Failure> {
    let source = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    match cache.get(file) {
        Ok(Some(t)) if t.source() == Some(&source[..]) => Ok(t),
        _ => {
            cache.insert(file, source)?;
            cache.flush()?;
            Ok(cache
                .get(file)?
                .ok_or_else(|| anyhow::anyhow!("{}: not cached after indexing", file.display()))?)
        }
    }
}

/// `cst chunks`.
pub(crate) fn chunks(
    cli: &Cli,
    paths: &[PathBuf],
    options: &ChunkOptions,
    as_json: bool,
    reindex: bool,
) -> Result<u8, Failure> {
    let sel = select(cli, paths, reindex)?;
    let cache = &sel.cache;
    let results = cache.par_map(&sel.files, |_, tree| {
        let chunks = cache.chunks_for(&tree, options)?;
        Ok((tree, chunks))
    });
    cache.flush()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut files, mut total) = (0usize, 0usize);
    for (path, r) in sel.files.iter().zip(results) {
        let (tree, list) = match r {
            Ok(Some(x)) => x,
            Ok(None) => continue,
            Err(cst::Error::Chunk(e)) => return Err(usage(e)),
            Err(e) => {
                eprintln!("cst: {}: {e}", path.display());
                continue;
            }
        };
        files += 1;
        total += list.len();
        let shown = shown(path, &sel.base);
        let source = tree.source().unwrap_or_default();
        for c in &list {
            let (first, last) = c.lines();
            if as_json {
                writeln!(out, "{}", chunk_json(&shown, tree.language(), c, source))?;
            } else {
                writeln!(
                    out,
                    "{shown}:{first}-{last}\t{}\t{} {}{}\t{}",
                    c.id,
                    c.size,
                    unit_name(options.unit),
                    if c.oversized { " (oversized)" } else { "" },
                    c.symbol_path_string()
                )?;
            }
        }
    }
    out.flush()?;
    if !as_json {
        eprintln!("{total} chunks in {files} files");
    }
    Ok(0)
}

fn unit_name(u: Unit) -> &'static str {
    match u {
        Unit::Bytes => "bytes",
        Unit::NonWhitespace => "nws",
        #[allow(unreachable_patterns)]
        _ => "tokens",
    }
}

fn chunk_json(path: &str, g: &grammars::Grammar, c: &Chunk, source: &[u8]) -> serde_json::Value {
    let (first, last) = c.lines();
    json!({
        "path": path, "language": g.id(), "id": c.id,
        "bytes": [c.range.start, c.range.end],
        "context_bytes": [c.context.start, c.context.end],
        "lines": [first, last], "size": c.size, "oversized": c.oversized,
        "symbol_path": c.symbol_path.iter().map(|s| json!({"kind": s.kind, "name": s.name})).collect::<Vec<_>>(),
        "text": String::from_utf8_lossy(&source[c.range.clone()]),
    })
}

fn usage(e: impl std::fmt::Display) -> Failure {
    Failure {
        code: 2,
        error: anyhow::anyhow!("{e}"),
    }
}

/// `cst query`.
pub(crate) fn query(
    cli: &Cli,
    pattern: &str,
    paths: &[PathBuf],
    lang: Option<&str>,
    capture: Option<&str>,
    as_json: bool,
    reindex: bool,
) -> Result<u8, Failure> {
    let only = match lang {
        Some(l) => Some(
            grammars::by_name(l)
                .or_else(|| grammars::by_id(l))
                .ok_or_else(|| usage(format!("unknown language `{l}`")))?,
        ),
        None => None,
    };
    if let Some(g) = only {
        // Compile first: a bad pattern fails before any file is read.
        compile(g, pattern, capture).map_err(|f| f.failure)?;
    }
    let sel = select(cli, paths, reindex)?;
    let cache = &sel.cache;
    // Compile per language present; a pattern that names kinds of another
    // language simply does not apply to this one.
    let mut langs: Vec<&'static grammars::Grammar> = Vec::new();
    for f in &sel.files {
        if let Some(g) = cache.language_of(f)
            && !langs.iter().any(|x| x.id() == g.id())
        {
            langs.push(g);
        }
    }
    let mut compiled: Vec<(&'static str, std::sync::Arc<cst::query::Query>)> = Vec::new();
    let mut first_error: Option<Failure> = None;
    for g in langs {
        if only.is_some_and(|o| o.id() != g.id()) {
            continue;
        }
        match compile(g, pattern, capture) {
            Ok(()) => compiled.push((g.id(), cache.query(g, pattern)?)),
            Err(f) => {
                // A syntax error is the same in every language.
                if f.syntax {
                    return Err(f.failure);
                }
                first_error.get_or_insert(f.failure);
            }
        }
    }
    if compiled.is_empty()
        && let Some(f) = first_error
    {
        return Err(f);
    }
    let results = cache.par_each(&sel.files, |path| {
        let Some(g) = cache.language_of(path) else {
            return Ok(Vec::new());
        };
        let Some((_, q)) = compiled.iter().find(|(id, _)| *id == g.id()) else {
            return Ok(Vec::new());
        };
        // The source first: a literal the query needs may be absent, and
        // then the tree is not even loaded.
        match cache.source(path)? {
            Some(source) if q.could_match(&source) => {}
            _ => return Ok(Vec::new()),
        }
        let Some(tree) = cache.get(path)? else {
            return Ok(Vec::new());
        };
        let wanted = capture.and_then(|c| q.capture_index_for_name(c));
        let source = tree.source().unwrap_or_default();
        let mut hits = Vec::new();
        for m in tree.query(q)? {
            for c in &m.captures {
                if wanted.is_some_and(|w| w != c.index) {
                    continue;
                }
                let (s, e) = (c.node.start_position(), c.node.end_position());
                hits.push(Hit {
                    pattern: m.pattern_index,
                    capture: q.capture_names()[c.index as usize].to_string(),
                    start: (s.row, s.column, c.node.start_byte()),
                    end: (e.row, e.column, c.node.end_byte()),
                    line: String::from_utf8_lossy(line_at(source, c.node.start_byte(), s.column))
                        .trim_end()
                        .to_string(),
                    text: as_json.then(|| {
                        String::from_utf8_lossy(&source[c.node.byte_range()]).into_owned()
                    }),
                });
            }
        }
        Ok(hits)
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut total = 0usize;
    for (path, r) in sel.files.iter().zip(results) {
        let hits = match r {
            Ok(h) => h,
            Err(e) => {
                eprintln!("cst: {}: {e}", path.display());
                continue;
            }
        };
        let shown = shown(path, &sel.base);
        let language = cache.language_of(path).map_or("", |g| g.id());
        for h in hits {
            total += 1;
            if as_json {
                let v = json!({
                    "path": shown, "language": language, "pattern": h.pattern, "capture": h.capture,
                    "start": {"line": h.start.0 + 1, "column": h.start.1 + 1, "byte": h.start.2},
                    "end": {"line": h.end.0 + 1, "column": h.end.1 + 1, "byte": h.end.2},
                    "text": h.text,
                });
                writeln!(out, "{v}")?;
            } else {
                writeln!(
                    out,
                    "{shown}:{}:{}: {}",
                    h.start.0 + 1,
                    h.start.1 + 1,
                    h.line
                )?;
            }
        }
    }
    out.flush()?;
    Ok(if total > 0 { 0 } else { 1 })
}

struct Hit {
    pattern: usize,
    capture: String,
    start: (usize, usize, usize),
    end: (usize, usize, usize),
    line: String,
    text: Option<String>,
}

struct CompileFailure {
    failure: Failure,
    syntax: bool,
}

/// Compiles `pattern` for `g` and checks `capture`; errors say where, as
/// tree-sitter does (`Query error at ROW:COL. MESSAGE`, one-based), with
/// exit status 2.
fn compile(
    g: &'static grammars::Grammar,
    pattern: &str,
    capture: Option<&str>,
) -> Result<(), CompileFailure> {
    let language = g.language().map_err(|e| CompileFailure {
        failure: usage(e),
        syntax: false,
    })?;
    match cst::query::Query::new(&language, pattern) {
        Ok(q) => {
            if q.capture_names().is_empty() {
                return Err(CompileFailure {
                    failure: usage(
                        "the pattern has no capture: add one (e.g. `@match`) to the node to report",
                    ),
                    syntax: true,
                });
            }
            if let Some(c) = capture
                && q.capture_index_for_name(c).is_none()
            {
                return Err(CompileFailure {
                    failure: usage(format!(
                        "the pattern has no capture @{c} (it has {})",
                        q.capture_names()
                            .iter()
                            .map(|n| format!("@{n}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    syntax: true,
                });
            }
            Ok(())
        }
        Err(cst::query::Error::Query(e)) => {
            let syntax = matches!(
                e.kind,
                cst::query::QueryErrorKind::Syntax | cst::query::QueryErrorKind::Predicate
            );
            // tree-sitter's own wording, then where in bytes and for what.
            Err(CompileFailure {
                failure: usage(format!(
                    "{e} (byte offset {}, language {})",
                    e.offset,
                    g.id()
                )),
                syntax,
            })
        }
        Err(e) => Err(CompileFailure {
            failure: usage(e),
            syntax: false,
        }),
    }
}
