//! Queries over many files: tree-sitter's query language (a pattern, or a
//! query the grammar ships: `highlights`, `tags`, `locals`, `injections`)
//! over paths, globs and a language, streamed match by match to a sink
//! with caps on matches and wall time, and closed by a summary.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cst::grammars::{self, Grammar};
use cst::query::{Query, QueryCursor};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::answers::{CaptureOut, MatchOut, Place};
use crate::workspace::Workspace;

/// A query over files of the workspace.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// The query, in tree-sitter's query language, with a capture.
    pub pattern: Option<String>,
    /// Instead of a pattern: the name of a query the grammars ship
    /// (`highlights`, `tags`, `locals`, `injections`).
    pub query: Option<String>,
    /// Files or directories (relative to the root, or absolute inside it);
    /// default: the whole workspace.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Only paths (relative to the root) matching one of these globs.
    #[serde(default)]
    pub globs: Vec<String>,
    /// Only files of this language (id, name or alias).
    pub language: Option<String>,
    /// Only this capture (name without `@`).
    pub capture: Option<String>,
    /// Stop after this many matches (at most [`QueryLimits::max_matches`]).
    pub max_matches: Option<usize>,
    /// Stop after this many milliseconds (at most
    /// [`QueryLimits::max_wall`]).
    pub max_wall_ms: Option<u64>,
    /// Include each capture's text.
    #[serde(default)]
    pub text: bool,
}

/// The server's caps, which a request can lower but not raise.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Most matches per request.
    pub max_matches: usize,
    /// Longest wall time per request.
    pub max_wall: Duration,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_matches: 100_000,
            max_wall: Duration::from_secs(30),
        }
    }
}

/// One record of a query's stream.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum QueryRecord {
    /// A match.
    Match(MatchOut),
    /// A file that could not be queried (the stream goes on).
    Error {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The last record.
    Summary(QuerySummary),
}

/// How a query ended.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QuerySummary {
    /// Files whose trees were searched.
    pub files: usize,
    /// Matches sent.
    pub matches: usize,
    /// Captures sent.
    pub captures: usize,
    /// Files that could not be searched.
    pub errors: usize,
    /// Stopped at the match cap.
    pub limit_hit: bool,
    /// Stopped at the wall-time cap.
    pub deadline_hit: bool,
    /// Milliseconds taken.
    pub millis: u64,
    /// The generation the query ran at.
    pub generation: u64,
}

/// A query compiled for the languages it applies to, and its files.
pub struct PreparedQuery {
    compiled: Vec<(&'static str, Arc<Query>)>,
    files: Vec<PathBuf>,
    capture: Option<String>,
    text: bool,
    max_matches: usize,
    max_wall: Duration,
}

impl PreparedQuery {
    /// The longest the query may run.
    pub fn max_wall(&self) -> Duration {
        self.max_wall
    }

    /// The files it will search.
    pub fn files(&self) -> usize {
        self.files.len()
    }
}

impl std::fmt::Debug for PreparedQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedQuery")
            .field("languages", &self.compiled.len())
            .field("files", &self.files.len())
            .finish()
    }
}

/// The longest pattern a request may send (compiled queries are cached).
const MAX_PATTERN_BYTES: usize = 64 * 1024;

const NAMED: [&str; 4] = ["highlights", "tags", "locals", "injections"];

fn named_source(g: &Grammar, name: &str) -> Option<&'static str> {
    let q = g.queries();
    match name {
        "highlights" => q.highlights,
        "tags" => q.tags,
        "locals" => q.locals,
        "injections" => q.injections,
        _ => None,
    }
}

impl Workspace {
    /// Checks and compiles a query and lists its files; a request that
    /// cannot run (no pattern, a pattern that does not compile in any of
    /// the languages present, a path outside the workspace) fails here,
    /// before anything is streamed.
    pub fn prepare_query(
        &self,
        req: &QueryRequest,
        limits: &QueryLimits,
    ) -> Result<PreparedQuery, Error> {
        if req
            .pattern
            .as_ref()
            .is_some_and(|p| p.len() > MAX_PATTERN_BYTES)
        {
            return Err(Error::Invalid(format!(
                "the pattern is over {MAX_PATTERN_BYTES} bytes"
            )));
        }
        match (&req.pattern, &req.query) {
            (Some(_), Some(_)) => {
                return Err(Error::Invalid("give `pattern` or `query`, not both".into()));
            }
            (None, None) => return Err(Error::Invalid("give `pattern` or `query`".into())),
            (None, Some(n)) if !NAMED.contains(&n.as_str()) => {
                return Err(Error::Invalid(format!(
                    "unknown query `{n}` (one of {})",
                    NAMED.join(", ")
                )));
            }
            _ => {}
        }
        let only = match &req.language {
            Some(l) => Some(
                grammars::by_id(l)
                    .or_else(|| grammars::by_name(l))
                    .ok_or_else(|| Error::UnknownLanguage(l.clone()))?,
            ),
            None => None,
        };
        let globs = if req.globs.is_empty() {
            None
        } else {
            let mut b = globset::GlobSetBuilder::new();
            for g in &req.globs {
                b.add(
                    globset::Glob::new(g)
                        .map_err(|e| Error::Invalid(format!("glob `{g}`: {e}")))?,
                );
            }
            Some(
                b.build()
                    .map_err(|e| Error::Invalid(format!("globs: {e}")))?,
            )
        };
        let roots: Vec<PathBuf> = if req.paths.is_empty() {
            vec![self.root().to_path_buf()]
        } else {
            req.paths
                .iter()
                .map(|p| self.resolve(p))
                .collect::<Result<_, _>>()?
        };
        let mut files: Vec<PathBuf> = self
            .cache()
            .paths()
            .into_iter()
            .chain(self.buffers())
            .filter(|f| roots.iter().any(|r| f.starts_with(r)))
            .filter(|f| {
                globs
                    .as_ref()
                    .is_none_or(|g| g.is_match(f.strip_prefix(self.root()).unwrap_or(f)))
            })
            .collect();
        files.sort();
        files.dedup();
        // Each file's language, looked up once; the languages present, each
        // compiled once.
        let mut langs: Vec<&'static Grammar> = Vec::new();
        let files: Vec<(PathBuf, &'static Grammar)> = files
            .into_iter()
            .filter_map(|f| {
                let g = self
                    .with_buffer(&f, |b| b.language())
                    .or_else(|| self.cache().language_of(&f))?;
                if only.is_some_and(|o| o.id() != g.id()) {
                    return None;
                }
                if !langs.iter().any(|x| x.id() == g.id()) {
                    langs.push(g);
                }
                Some((f, g))
            })
            .collect();
        let mut compiled = Vec::new();
        let mut first_error: Option<Error> = None;
        for g in langs {
            let source = match (&req.pattern, &req.query) {
                (Some(p), _) => p.as_str(),
                (None, Some(n)) => match named_source(g, n) {
                    Some(s) => s,
                    None => continue,
                },
                (None, None) => unreachable!("checked above"),
            };
            match self.cache().query(g, source) {
                Ok(q) => {
                    if let Some(c) = &req.capture
                        && q.capture_index_for_name(c).is_none()
                    {
                        if req.pattern.is_some() {
                            return Err(Error::Invalid(format!("the pattern has no capture @{c}")));
                        }
                        continue;
                    }
                    if q.capture_names().is_empty() {
                        return Err(Error::Invalid(
                            "the pattern has no capture: add one (e.g. `@match`)".into(),
                        ));
                    }
                    compiled.push((g.id(), q));
                }
                Err(cst::Error::Query(cst::query::Error::Query(e)))
                    if matches!(
                        e.kind,
                        cst::query::QueryErrorKind::Syntax | cst::query::QueryErrorKind::Predicate
                    ) =>
                {
                    // The same in every language.
                    return Err(Error::Invalid(format!("{e} (byte offset {})", e.offset)));
                }
                Err(e) => {
                    // Kinds or fields of another language: not this one.
                    first_error.get_or_insert(Error::Invalid(format!("{}: {e}", g.id())));
                }
            }
        }
        if compiled.is_empty()
            && let Some(e) = first_error
        {
            return Err(e);
        }
        let files = files
            .into_iter()
            .filter(|(_, g)| compiled.iter().any(|(id, _)| *id == g.id()))
            .map(|(f, _)| f)
            .collect();
        Ok(PreparedQuery {
            compiled,
            files,
            capture: req.capture.clone(),
            text: req.text,
            max_matches: req
                .max_matches
                .unwrap_or(limits.max_matches)
                .min(limits.max_matches),
            max_wall: req
                .max_wall_ms
                .map_or(limits.max_wall, Duration::from_millis)
                .min(limits.max_wall),
        })
    }

    /// Runs a prepared query, file by file in path order, handing each
    /// record to `sink` (which returns `false` to stop: the client went
    /// away). Ends with the summary, which it also returns.
    pub fn run_query(
        &self,
        q: &PreparedQuery,
        sink: &mut dyn FnMut(QueryRecord) -> bool,
    ) -> QuerySummary {
        let started = Instant::now();
        let mut summary = QuerySummary {
            generation: self.generation(),
            ..QuerySummary::default()
        };
        'files: for path in &q.files {
            if started.elapsed() >= q.max_wall {
                summary.deadline_hit = true;
                break;
            }
            let file = match self.file_at(path) {
                Ok(f) => f,
                Err(e) => {
                    summary.errors += 1;
                    if !sink(QueryRecord::Error {
                        path: self.rel(path),
                        message: e.to_string(),
                    }) {
                        break;
                    }
                    continue;
                }
            };
            let g = file.tree.language();
            let Some((_, query)) = q.compiled.iter().find(|(id, _)| *id == g.id()) else {
                continue;
            };
            summary.files += 1;
            let wanted = q
                .capture
                .as_deref()
                .and_then(|c| query.capture_index_for_name(c));
            let source = file.tree.source().unwrap_or_default();
            // Match by match (not collected): the caps hold inside a file
            // too, however many matches it has.
            if !query.could_match(source) {
                continue;
            }
            let mut cursor = QueryCursor::new();
            let mut matches = match cursor.matches(query, file.tree.root(), source) {
                Ok(m) => m,
                Err(e) => {
                    summary.errors += 1;
                    if !sink(QueryRecord::Error {
                        path: file.rel.clone(),
                        message: e.to_string(),
                    }) {
                        break;
                    }
                    continue;
                }
            };
            while let Some(m) = matches.next_match() {
                if summary.matches >= q.max_matches {
                    summary.limit_hit = true;
                    break 'files;
                }
                if started.elapsed() >= q.max_wall {
                    summary.deadline_hit = true;
                    break 'files;
                }
                let captures: Vec<CaptureOut> = m
                    .captures
                    .iter()
                    .filter(|c| wanted.is_none_or(|w| w == c.index))
                    .map(|c| CaptureOut {
                        name: query.capture_names()[c.index as usize].to_string(),
                        kind: c.node.kind().to_string(),
                        start: Place::new(c.node.start_position(), c.node.start_byte()),
                        end: Place::new(c.node.end_position(), c.node.end_byte()),
                        text: q.text.then(|| {
                            String::from_utf8_lossy(&source[c.node.byte_range()]).into_owned()
                        }),
                    })
                    .collect();
                if captures.is_empty() {
                    continue;
                }
                summary.matches += 1;
                summary.captures += captures.len();
                if !sink(QueryRecord::Match(MatchOut {
                    path: file.rel.clone(),
                    language: g.id(),
                    pattern: m.pattern_index,
                    captures,
                })) {
                    break 'files;
                }
            }
        }
        summary.millis = started.elapsed().as_millis() as u64;
        sink(QueryRecord::Summary(summary.clone()));
        summary
    }
}
