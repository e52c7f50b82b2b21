//! `cst query`: a tree-sitter query over the stored trees, printed like
//! ripgrep (`path:line:col: line`) or as JSON lines; exit 1 without a match.

use std::io::Write;
use std::sync::Arc;

use cst::grammars::{self, Grammar};
use cst_workspace::answers::Place;
use serde::Serialize;

use crate::Failure;
use crate::flags::{Cli, QueryArgs};
use crate::output::{json_line, line_at, shown};
use crate::session;

/// One capture, as a worker finds it.
struct Hit {
    pattern: usize,
    capture: String,
    start: Place,
    end: Place,
    /// The line it starts on (text output).
    line: String,
    /// The captured text (JSON output).
    text: Option<String>,
}

/// One line of `cst query --json`.
#[derive(Serialize)]
struct CaptureLine<'a> {
    path: &'a str,
    language: &'a str,
    pattern: usize,
    capture: &'a str,
    start: Place,
    end: Place,
    text: Option<&'a str>,
}

pub(crate) fn run(cli: &Cli, args: &QueryArgs) -> Result<u8, Failure> {
    let pattern = args.pattern.as_str();
    let capture = args.capture.as_deref();
    let as_json = args.json;
    let only = match &args.lang {
        Some(l) => Some(
            grammars::by_name(l)
                .or_else(|| grammars::by_id(l))
                .ok_or_else(|| Failure::usage(format!("unknown language `{l}`")))?,
        ),
        None => None,
    };
    if let Some(g) = only {
        // Compile first: a bad pattern fails before any file is read.
        compile(g, pattern, capture).map_err(|f| f.failure)?;
    }
    let sel = session::select(cli, &args.paths, args.index)?;
    let cache = &sel.cache;
    // Compile per language present; a pattern that names kinds of another
    // language simply does not apply to this one.
    let mut langs: Vec<&'static Grammar> = Vec::new();
    for f in &sel.files {
        if let Some(g) = cache.language_of(f)
            && !langs.iter().any(|x| x.id() == g.id())
        {
            langs.push(g);
        }
    }
    let mut compiled: Vec<(&'static str, Arc<cst::query::Query>)> = Vec::new();
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
                    start: Place::new(s, c.node.start_byte()),
                    end: Place::new(e, c.node.end_byte()),
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
                let line = CaptureLine {
                    path: &shown,
                    language,
                    pattern: h.pattern,
                    capture: &h.capture,
                    start: h.start,
                    end: h.end,
                    text: h.text.as_deref(),
                };
                json_line(&mut out, &line)?;
            } else {
                writeln!(
                    out,
                    "{shown}:{}:{}: {}",
                    h.start.line, h.start.column, h.line
                )?;
            }
        }
    }
    out.flush()?;
    Ok(if total > 0 { 0 } else { 1 })
}

/// A pattern that does not compile for a language, and whether it would
/// fail the same way in every language.
struct CompileFailure {
    failure: Failure,
    syntax: bool,
}

/// Compiles `pattern` for `g` and checks `capture`; errors say where, as
/// tree-sitter does (`Query error at ROW:COL. MESSAGE`, one-based), with
/// exit status 2.
fn compile(
    g: &'static Grammar,
    pattern: &str,
    capture: Option<&str>,
) -> Result<(), CompileFailure> {
    let language = g.language().map_err(|e| CompileFailure {
        failure: Failure::usage(e),
        syntax: false,
    })?;
    match cst::query::Query::new(&language, pattern) {
        Ok(q) => {
            if q.capture_names().is_empty() {
                return Err(CompileFailure {
                    failure: Failure::usage(
                        "the pattern has no capture: add one (e.g. `@match`) to the node to report",
                    ),
                    syntax: true,
                });
            }
            if let Some(c) = capture
                && q.capture_index_for_name(c).is_none()
            {
                return Err(CompileFailure {
                    failure: Failure::usage(format!(
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
                failure: Failure::usage(format!(
                    "{e} (byte offset {}, language {})",
                    e.offset,
                    g.id()
                )),
                syntax,
            })
        }
        Err(e) => Err(CompileFailure {
            failure: Failure::usage(e),
            syntax: false,
        }),
    }
}
