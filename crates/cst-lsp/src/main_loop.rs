//! The main loop: the handshake, then every message in order. Notifications
//! that change state are applied here, in order; requests go to the worker
//! pool with the snapshot of the document they name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use cst_workspace::cst::{grammars::Grammar, tree_sitter};
use cst_workspace::{Change, Encoding, FileTree, LineIndex, Workspace, WorkspaceOptions};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId};
use lsp_types::notification::{self as notif, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    InitializeParams, InitializeResult, SemanticTokens, SemanticTokensDelta, SemanticTokensEdit,
    SemanticTokensFullDeltaResult, SemanticTokensRangeResult, SemanticTokensResult, ServerInfo,
    Url,
};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;

use crate::convert::{self, TextLines};
use crate::dispatch::{InFlight, Out, Outcome, Pool, error, respond};
use crate::docs::{Doc, LastTokens, OutlineSlot, stored_snapshot};
use crate::handlers::highlight::{self, Locals};
use crate::handlers::semantic::Highlights;
use crate::handlers::{diagnostics, folding, selection, semantic, symbols};
use crate::provider::{SymbolLocation, SymbolProvider};
use crate::syntax::{CompiledQuery, Snapshot, Tree};
use crate::{Error, LspOptions};

/// What the workers share.
struct Shared {
    ws: Workspace,
    encoding: Encoding,
    out: Out,
    inflight: InFlight,
    highlights: Mutex<HashMap<&'static str, Option<Arc<Highlights>>>>,
    /// Per language: its locals query, compiled (`None`: answered
    /// syntactically).
    locals: Mutex<HashMap<&'static str, Option<Arc<Locals>>>>,
    symbols: Option<Box<dyn SymbolProvider>>,
    next_result: std::sync::atomic::AtomicU64,
}

/// The workspace root a client names: `rootUri`, else the first workspace
/// folder, else `rootPath`; `file:` URIs only.
#[allow(deprecated)]
fn root_of(params: &InitializeParams) -> Result<PathBuf, Error> {
    if let Some(uri) = &params.root_uri {
        return convert::uri_to_path(uri).map_err(Error::NoRoot);
    }
    if let Some(f) = params.workspace_folders.as_ref().and_then(|f| f.first()) {
        return convert::uri_to_path(&f.uri).map_err(Error::NoRoot);
    }
    if let Some(p) = &params.root_path {
        return Ok(PathBuf::from(p));
    }
    Err(Error::NoRoot(
        "the client sent no rootUri, workspace folder or rootPath".into(),
    ))
}

/// Serves one client (see [`crate::run`]).
pub fn run(connection: Connection, options: LspOptions) -> Result<(), Error> {
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams = match serde_json::from_value(params) {
        Ok(p) => p,
        Err(e) => {
            let _ = connection.sender.send(Message::Response(error(
                id,
                ErrorCode::InvalidParams,
                format!("initialize: {e}"),
            )));
            return Err(Error::Protocol(format!("initialize: {e}")));
        }
    };
    let encoding = convert::negotiate(
        params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_deref()),
    );
    let root = match root_of(&params) {
        Ok(r) => r,
        Err(e) => {
            let _ = connection.sender.send(Message::Response(error(
                id,
                ErrorCode::InvalidParams,
                e.to_string(),
            )));
            return Err(e);
        }
    };
    let ws = match Workspace::open(
        &root,
        None,
        WorkspaceOptions {
            open: options.open.clone(),
            watch: options.watch,
            index_on_open: options.index_on_open,
            grammar_reload: options.grammar_reload.clone(),
            ..WorkspaceOptions::default()
        },
    ) {
        Ok(ws) => ws,
        Err(source) => {
            let _ = connection.sender.send(Message::Response(error(
                id,
                ErrorCode::RequestFailed,
                format!("{}: {source}", root.display()),
            )));
            return Err(Error::Workspace {
                root,
                source: Box::new(source),
            });
        }
    };
    let result = InitializeResult {
        capabilities: crate::caps::server_capabilities(encoding, options.symbols.is_some()),
        server_info: Some(ServerInfo {
            name: "cst".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| Error::Protocol(e.to_string()))?;
    connection.initialize_finish(id, result)?;
    tracing::info!(root = %ws.root().display(), ?encoding, "initialized");

    let shared = Arc::new(Shared {
        ws: ws.clone(),
        encoding,
        out: Arc::new(connection.sender.clone()),
        inflight: InFlight::default(),
        highlights: Mutex::new(HashMap::new()),
        locals: Mutex::new(HashMap::new()),
        symbols: options.symbols,
        next_result: std::sync::atomic::AtomicU64::new(1),
    });
    let pool = Pool::new(options.workers);
    let mut state = State {
        shared,
        pool,
        docs: HashMap::new(),
    };
    let outcome = state.serve(&connection);
    drop(state);
    if let Err(e) = ws.shutdown() {
        tracing::warn!(error = %e, "flushing the workspace");
    }
    outcome
}

struct State {
    shared: Arc<Shared>,
    pool: Pool,
    docs: HashMap<Url, Doc>,
}

fn parse<P: DeserializeOwned>(params: serde_json::Value) -> Result<P, String> {
    serde_json::from_value(params).map_err(|e| e.to_string())
}

impl State {
    fn serve(&mut self, connection: &Connection) -> Result<(), Error> {
        for msg in &connection.receiver {
            match msg {
                Message::Request(r) => {
                    if r.method == req::Shutdown::METHOD {
                        let _ = connection.sender.send(Message::Response(respond(
                            r.id,
                            Ok(serde_json::Value::Null),
                        )));
                        // Then only `exit` matters.
                        for m in &connection.receiver {
                            if let Message::Notification(n) = &m
                                && n.method == notif::Exit::METHOD
                            {
                                return Ok(());
                            }
                            // Requests after shutdown are refused.
                            if let Message::Request(r) = &m {
                                let _ = connection.sender.send(Message::Response(error(
                                    r.id.clone(),
                                    ErrorCode::InvalidRequest,
                                    "shutting down",
                                )));
                            }
                        }
                        return Ok(());
                    }
                    self.request(r);
                }
                Message::Notification(n) => {
                    if n.method == notif::Exit::METHOD {
                        // Exit without shutdown.
                        return Ok(());
                    }
                    self.notification(n);
                }
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    fn notification(&mut self, n: Notification) {
        let ws = self.shared.ws.clone();
        match n.method.as_str() {
            notif::DidOpenTextDocument::METHOD => {
                let Ok(p) = parse::<lsp_types::DidOpenTextDocumentParams>(n.params)
                    .inspect_err(|e| tracing::warn!(error = %e, "didOpen: bad params"))
                else {
                    return;
                };
                let uri = p.text_document.uri;
                let path = match convert::uri_to_path(&uri) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, "didOpen");
                        return;
                    }
                };
                // The path as the workspace knows it (canonical inside the
                // root); outside the root, as given.
                let path = canonical_path(&ws, &path);
                if let Some(old) = self.docs.remove(&uri) {
                    let _ = old.close(&ws);
                }
                match Doc::open(
                    &ws,
                    path,
                    p.text_document.text,
                    p.text_document.version,
                    &p.text_document.language_id,
                ) {
                    Ok(doc) => {
                        self.publish(&uri, &doc.snapshot);
                        self.warm(&doc);
                        self.docs.insert(uri, doc);
                    }
                    Err(e) => tracing::warn!(error = %e, %uri, "didOpen"),
                }
            }
            notif::DidChangeTextDocument::METHOD => {
                let Ok(p) = parse::<lsp_types::DidChangeTextDocumentParams>(n.params)
                    .inspect_err(|e| tracing::warn!(error = %e, "didChange: bad params"))
                else {
                    return;
                };
                let uri = p.text_document.uri;
                let Some(doc) = self.docs.get_mut(&uri) else {
                    tracing::warn!(%uri, "didChange of a document not open");
                    return;
                };
                let changes: Vec<Change> = p
                    .content_changes
                    .into_iter()
                    .map(|c| match c.range {
                        Some(r) => Change::Range {
                            range: cst_workspace::Range {
                                start: convert::position_in(r.start),
                                end: convert::position_in(r.end),
                            },
                            range_length: None,
                            text: c.text,
                        },
                        None => Change::Full { text: c.text },
                    })
                    .collect();
                match doc.change(&ws, &changes, self.shared.encoding, p.text_document.version) {
                    Ok(()) => {
                        let snap = doc.snapshot.clone();
                        self.publish(&uri, &snap);
                        if let Some(doc) = self.docs.get(&uri) {
                            self.warm(doc);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, %uri, "didChange refused");
                        self.show_error(format!("cst: {uri}: change refused ({e})"));
                    }
                }
            }
            notif::DidCloseTextDocument::METHOD => {
                let Ok(p) = parse::<lsp_types::DidCloseTextDocumentParams>(n.params) else {
                    return;
                };
                if let Some(doc) = self.docs.remove(&p.text_document.uri) {
                    if let Err(e) = doc.close(&ws) {
                        tracing::warn!(error = %e, "didClose");
                    }
                    // The diagnostics were the buffer's.
                    self.send_diagnostics(p.text_document.uri, Vec::new(), None);
                }
            }
            notif::DidSaveTextDocument::METHOD => {
                // The watcher (or the next didChangeWatchedFiles) brings the
                // saved file into the store; the buffer shadows it meanwhile.
            }
            notif::DidChangeWatchedFiles::METHOD => {
                let Ok(p) = parse::<lsp_types::DidChangeWatchedFilesParams>(n.params) else {
                    return;
                };
                let paths: Vec<PathBuf> = p
                    .changes
                    .iter()
                    .filter_map(|c| convert::uri_to_path(&c.uri).ok())
                    .filter(|p| p.starts_with(ws.root()))
                    .collect();
                if !paths.is_empty() {
                    self.pool.spawn(move || {
                        if let Err(e) = ws.reconcile_paths(&paths) {
                            tracing::warn!(error = %e, "didChangeWatchedFiles");
                        }
                    });
                }
            }
            notif::Cancel::METHOD => {
                if let Ok(p) = parse::<lsp_types::CancelParams>(n.params) {
                    let id: RequestId = match p.id {
                        lsp_types::NumberOrString::Number(n) => n.into(),
                        lsp_types::NumberOrString::String(s) => s.into(),
                    };
                    self.shared.inflight.cancel(&id);
                }
            }
            _ => {}
        }
    }

    fn show_error(&self, message: String) {
        let n = Notification::new(
            notif::ShowMessage::METHOD.to_string(),
            lsp_types::ShowMessageParams {
                typ: lsp_types::MessageType::ERROR,
                message,
            },
        );
        let _ = self.shared.out.send(Message::Notification(n));
    }

    fn publish(&self, uri: &Url, snap: &Snapshot) {
        let lines = TextLines {
            text: &snap.text,
            lines: &snap.lines,
            encoding: self.shared.encoding,
        };
        let diags = diagnostics::diagnostics(snap, lines);
        self.send_diagnostics(uri.clone(), diags, Some(snap.version));
    }

    fn send_diagnostics(&self, uri: Url, diagnostics: Vec<lsp_types::Diagnostic>, v: Option<i32>) {
        let n = Notification::new(
            notif::PublishDiagnostics::METHOD.to_string(),
            lsp_types::PublishDiagnosticsParams {
                uri,
                diagnostics,
                version: v,
            },
        );
        let _ = self.shared.out.send(Message::Notification(n));
    }

    /// Compiles the language's highlights and locals queries and computes
    /// the outline of the document's new version in the background, so
    /// that requests find them ready.
    fn warm(&self, doc: &Doc) {
        let shared = self.shared.clone();
        let snap = doc.snapshot.clone();
        let slot = doc.outline.clone();
        let current = doc.current.clone();
        let path = doc.path.clone();
        self.pool.spawn(move || {
            let _ = shared.highlights_for(snap.grammar);
            let _ = shared.locals_for(snap.grammar);
            if current.load(Ordering::Acquire) == snap.version {
                let _ = shared.outline(&path, &snap, &slot);
            }
        });
    }

    fn request(&mut self, r: Request) {
        let Request { id, method, params } = r;
        let shared = self.shared.clone();
        macro_rules! params {
            ($t:ty) => {
                match parse::<$t>(params) {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = shared.out.send(Message::Response(error(
                            id,
                            ErrorCode::InvalidParams,
                            format!("{method}: {e}"),
                        )));
                        return;
                    }
                }
            };
        }
        // The document a request names, as of now.
        macro_rules! doc {
            ($uri:expr) => {
                match self.document(&$uri) {
                    Ok(d) => d,
                    Err(e) => {
                        let _ = shared.out.send(Message::Response(error(
                            id,
                            ErrorCode::RequestFailed,
                            e,
                        )));
                        return;
                    }
                }
            };
        }
        let job: Box<dyn FnOnce(&Shared) -> Outcome + Send> = match method.as_str() {
            req::DocumentSymbolRequest::METHOD => {
                let p = params!(lsp_types::DocumentSymbolParams);
                let d = doc!(p.text_document.uri);
                Box::new(move |s| {
                    let symbols = s.outline(&d.path, &d.snap, &d.outline).map_err(failed)?;
                    d.check()?;
                    to_value(lsp_types::DocumentSymbolResponse::Nested(
                        symbols.as_ref().clone(),
                    ))
                })
            }
            req::FoldingRangeRequest::METHOD => {
                let p = params!(lsp_types::FoldingRangeParams);
                let d = doc!(p.text_document.uri);
                Box::new(move |_| {
                    let folds = folding::folding_ranges(&d.snap);
                    d.check()?;
                    to_value(folds)
                })
            }
            req::SelectionRangeRequest::METHOD => {
                let p = params!(lsp_types::SelectionRangeParams);
                let d = doc!(p.text_document.uri);
                Box::new(move |s| {
                    let ranges =
                        selection::selection_ranges(&d.snap, s.lines(&d.snap), &p.positions)
                            .map_err(|e| (ErrorCode::InvalidParams, e))?;
                    d.check()?;
                    to_value(ranges)
                })
            }
            req::DocumentHighlightRequest::METHOD => {
                let p = params!(lsp_types::DocumentHighlightParams);
                let position = p.text_document_position_params;
                let d = doc!(position.text_document.uri);
                Box::new(move |s| {
                    let lines = s.lines(&d.snap);
                    let offset = lines
                        .offset(position.position)
                        .map_err(|e| (ErrorCode::InvalidParams, e))?;
                    let locals = s.locals_for(d.snap.grammar);
                    let found =
                        highlight::document_highlights(&d.snap, locals.as_deref(), lines, offset)
                            .map_err(failed)?;
                    d.check()?;
                    to_value(found)
                })
            }
            req::SemanticTokensFullRequest::METHOD => {
                let p = params!(lsp_types::SemanticTokensParams);
                let d = doc!(p.text_document.uri);
                Box::new(move |s| {
                    let data = s.tokens(&d.snap, None)?;
                    d.check()?;
                    let result_id = s.keep_tokens(&d.tokens, data.clone());
                    to_value(SemanticTokensResult::Tokens(SemanticTokens {
                        result_id: Some(result_id),
                        data: decode(&data),
                    }))
                })
            }
            req::SemanticTokensFullDeltaRequest::METHOD => {
                let p = params!(lsp_types::SemanticTokensDeltaParams);
                let d = doc!(p.text_document.uri);
                Box::new(move |s| {
                    let data = s.tokens(&d.snap, None)?;
                    d.check()?;
                    let previous = d.tokens.lock().clone();
                    let result_id = s.keep_tokens(&d.tokens, data.clone());
                    match previous {
                        Some((prev_id, old)) if prev_id == p.previous_result_id => {
                            let (start, delete_count, inserted) = semantic::delta(&old, &data);
                            let edits = if delete_count == 0 && inserted.is_empty() {
                                Vec::new()
                            } else {
                                vec![SemanticTokensEdit {
                                    start,
                                    delete_count,
                                    data: Some(decode(&inserted)),
                                }]
                            };
                            to_value(SemanticTokensFullDeltaResult::TokensDelta(
                                SemanticTokensDelta {
                                    result_id: Some(result_id),
                                    edits,
                                },
                            ))
                        }
                        _ => to_value(SemanticTokensFullDeltaResult::Tokens(SemanticTokens {
                            result_id: Some(result_id),
                            data: decode(&data),
                        })),
                    }
                })
            }
            req::SemanticTokensRangeRequest::METHOD => {
                let p = params!(lsp_types::SemanticTokensRangeParams);
                let d = doc!(p.text_document.uri);
                Box::new(move |s| {
                    let (a, b) = (p.range.start.line, p.range.end.line.max(p.range.start.line));
                    let data = s.tokens(&d.snap, Some((a, b)))?;
                    d.check()?;
                    to_value(SemanticTokensRangeResult::Tokens(SemanticTokens {
                        result_id: None,
                        data: decode(&data),
                    }))
                })
            }
            req::WorkspaceSymbolRequest::METHOD if self.shared.symbols.is_some() => {
                let p = params!(lsp_types::WorkspaceSymbolParams);
                Box::new(move |s| {
                    let Some(provider) = &s.symbols else {
                        return Err((ErrorCode::MethodNotFound, "no symbol provider".into()));
                    };
                    let hits = provider
                        .workspace_symbols(&s.ws, &p.query)
                        .map_err(failed)?;
                    let mut out = Vec::new();
                    let mut texts = Texts::default();
                    for h in hits {
                        #[allow(deprecated)]
                        out.push(lsp_types::SymbolInformation {
                            name: h.name,
                            kind: convert::symbol_kind(&h.kind),
                            tags: None,
                            deprecated: None,
                            location: s.location(&h.location, &mut texts).map_err(failed)?,
                            container_name: h.container,
                        });
                    }
                    to_value(lsp_types::WorkspaceSymbolResponse::Flat(out))
                })
            }
            req::GotoDefinition::METHOD | req::References::METHOD
                if self.shared.symbols.is_some() =>
            {
                let (position, include_declaration, is_definition) =
                    if method == req::GotoDefinition::METHOD {
                        let p = params!(lsp_types::GotoDefinitionParams);
                        (p.text_document_position_params, false, true)
                    } else {
                        let p = params!(lsp_types::ReferenceParams);
                        (
                            p.text_document_position,
                            p.context.include_declaration,
                            false,
                        )
                    };
                let d = doc!(position.text_document.uri);
                Box::new(move |s| {
                    let Some(provider) = &s.symbols else {
                        return Err((ErrorCode::MethodNotFound, "no symbol provider".into()));
                    };
                    let offset = s
                        .lines(&d.snap)
                        .offset(position.position)
                        .map_err(|e| (ErrorCode::InvalidParams, e))?;
                    let found = if is_definition {
                        provider.definition(&s.ws, &d.path, offset)
                    } else {
                        provider.references(&s.ws, &d.path, offset, include_declaration)
                    }
                    .map_err(failed)?;
                    d.check()?;
                    let mut texts = Texts::default();
                    let locations = found
                        .iter()
                        .map(|l| s.location(l, &mut texts))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(failed)?;
                    to_value(locations)
                })
            }
            _ => {
                let _ = shared.out.send(Message::Response(error(
                    id,
                    ErrorCode::MethodNotFound,
                    format!("unknown method {method}"),
                )));
                return;
            }
        };
        shared.inflight.queue(id.clone());
        self.pool.spawn(move || {
            let s = &*shared;
            let response = if !s.inflight.start(&id) {
                error(id, ErrorCode::RequestCanceled, "cancelled")
            } else {
                // A handler that panics (a bug) still answers: the client
                // must never wait for a response that will not come.
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(s))) {
                    Ok(outcome) => respond(id, outcome),
                    Err(panic) => {
                        let what = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        tracing::error!(%method, panic = %what, "a request handler panicked");
                        error(
                            id,
                            ErrorCode::InternalError,
                            format!("{method}: internal error: {what}"),
                        )
                    }
                }
            };
            let _ = s.out.send(Message::Response(response));
        });
    }

    /// The open document of `uri`, or the stored file.
    fn document(&self, uri: &Url) -> Result<DocRef, String> {
        if let Some(doc) = self.docs.get(uri) {
            return Ok(DocRef {
                path: doc.path.clone(),
                snap: doc.snapshot.clone(),
                current: Some(doc.current.clone()),
                tokens: doc.tokens.clone(),
                outline: doc.outline.clone(),
            });
        }
        let path = convert::uri_to_path(uri)?;
        let path = self
            .shared
            .ws
            .resolve(&path.to_string_lossy())
            .map_err(|e| e.to_string())?;
        let snap = stored_snapshot(&self.shared.ws, &path)?;
        Ok(DocRef {
            path,
            snap: Arc::new(snap),
            current: None,
            tokens: Arc::default(),
            outline: Arc::default(),
        })
    }
}

/// The path of a document as the workspace knows it.
fn canonical_path(ws: &Workspace, path: &Path) -> PathBuf {
    ws.resolve(&path.to_string_lossy())
        .unwrap_or_else(|_| path.to_path_buf())
}

/// A request's document: its snapshot and what tells whether it is still
/// current.
struct DocRef {
    path: PathBuf,
    snap: Arc<Snapshot>,
    current: Option<Arc<std::sync::atomic::AtomicI32>>,
    tokens: Arc<LastTokens>,
    outline: Arc<OutlineSlot>,
}

impl DocRef {
    /// `ContentModified` when the document moved on since the request.
    fn check(&self) -> Result<(), (ErrorCode, String)> {
        match &self.current {
            Some(c) if c.load(Ordering::Acquire) != self.snap.version => Err((
                ErrorCode::ContentModified,
                "the document changed".to_string(),
            )),
            _ => Ok(()),
        }
    }
}

/// Texts read for one request, by path.
type Texts = HashMap<PathBuf, (Arc<[u8]>, Arc<LineIndex>)>;

fn failed(e: impl ToString) -> (ErrorCode, String) {
    (ErrorCode::RequestFailed, e.to_string())
}

fn to_value(v: impl serde::Serialize) -> Outcome {
    serde_json::to_value(v).map_err(failed)
}

fn decode(data: &[u32]) -> Vec<lsp_types::SemanticToken> {
    data.chunks_exact(5)
        .map(|c| lsp_types::SemanticToken {
            delta_line: c[0],
            delta_start: c[1],
            length: c[2],
            token_type: c[3],
            token_modifiers_bitset: c[4],
        })
        .collect()
}

impl Shared {
    fn lines<'a>(&self, snap: &'a Snapshot) -> TextLines<'a> {
        TextLines {
            text: &snap.text,
            lines: &snap.lines,
            encoding: self.encoding,
        }
    }

    /// The language's highlights, compiled once for both engines.
    fn highlights_for(&self, g: &'static Grammar) -> Result<Option<Arc<Highlights>>, String> {
        if let Some(h) = self.highlights.lock().get(g.id()) {
            return Ok(h.clone());
        }
        let compiled = match g.queries().highlights {
            None => None,
            Some(source) => {
                let stored = self
                    .ws
                    .cache()
                    .query(g, source)
                    .map_err(|e| e.to_string())?;
                let language = g.language().map_err(|e| e.to_string())?;
                let live = tree_sitter::Query::new(&language, source).map_err(|e| e.to_string())?;
                Some(Arc::new(Highlights::new(CompiledQuery { stored, live })))
            }
        };
        self.highlights
            .lock()
            .entry(g.id())
            .or_insert(compiled)
            .clone()
            .map_or(Ok(None), |h| Ok(Some(h)))
    }

    /// The language's locals query, compiled once for both engines;
    /// `None` (answered syntactically) when it has none, or one that does
    /// not compile or resolves nothing (said once, in the log).
    fn locals_for(&self, g: &'static Grammar) -> Option<Arc<Locals>> {
        if let Some(l) = self.locals.lock().get(g.id()) {
            return l.clone();
        }
        let compiled = highlight::locals_source(g).and_then(|source| {
            let compile = || -> Result<CompiledQuery, String> {
                let stored = self
                    .ws
                    .cache()
                    .query(g, &source)
                    .map_err(|e| e.to_string())?;
                let language = g.language().map_err(|e| e.to_string())?;
                let live =
                    tree_sitter::Query::new(&language, &source).map_err(|e| e.to_string())?;
                Ok(CompiledQuery { stored, live })
            };
            compile()
                .inspect_err(|e| tracing::warn!(language = g.id(), error = %e, "locals query"))
                .ok()
                .and_then(Locals::new)
                .map(Arc::new)
        });
        self.locals.lock().entry(g.id()).or_insert(compiled).clone()
    }

    fn tokens(
        &self,
        snap: &Snapshot,
        lines: Option<(u32, u32)>,
    ) -> Result<Vec<u32>, (ErrorCode, String)> {
        let Some(hl) = self.highlights_for(snap.grammar).map_err(failed)? else {
            return Ok(Vec::new());
        };
        semantic::tokens(snap, &hl, self.lines(snap), lines).map_err(failed)
    }

    fn keep_tokens(&self, slot: &LastTokens, data: Vec<u32>) -> String {
        let id = self.next_result.fetch_add(1, Ordering::Relaxed).to_string();
        *slot.lock() = Some((id.clone(), Arc::new(data)));
        id
    }

    /// The outline of `snap`, computed once per version.
    fn outline(
        &self,
        path: &Path,
        snap: &Snapshot,
        slot: &OutlineSlot,
    ) -> Result<Arc<Vec<lsp_types::DocumentSymbol>>, String> {
        let mut slot = slot.lock();
        if let Some((v, symbols)) = &*slot
            && *v == snap.version
        {
            return Ok(symbols.clone());
        }
        let file = match &snap.tree {
            Tree::Stored(t) => FileTree {
                path: path.to_path_buf(),
                rel: self.ws.rel(path),
                tree: (**t).clone(),
                buffer_version: None,
            },
            Tree::Live(_) => {
                let f = self.ws.file_at(path).map_err(|e| e.to_string())?;
                if f.buffer_version != Some(Some(snap.version as i64)) {
                    return Err("the document changed".into());
                }
                f
            }
        };
        let items = match self.ws.outline(&file) {
            Ok(o) => o.items,
            // A language without a tags query has no outline.
            Err(cst_workspace::Error::Cache(cst_workspace::cst::Error::NoTagsQuery(_))) => {
                Vec::new()
            }
            Err(e) => return Err(e.to_string()),
        };
        let symbols = Arc::new(symbols::document_symbols(&items, self.lines(snap)));
        *slot = Some((snap.version, symbols.clone()));
        Ok(symbols)
    }

    /// A provider's location in the client's terms: from its lines and
    /// byte columns where those are the client's columns (UTF-8
    /// negotiated, or an ASCII file), else from the file's current text
    /// (its open buffer's, or the stored source: no tree is read), read
    /// once per request and file.
    fn location(
        &self,
        l: &SymbolLocation,
        texts: &mut Texts,
    ) -> Result<lsp_types::Location, String> {
        let uri = convert::path_to_uri(&l.path)?;
        if let Some(span) = l.lines
            && (self.encoding == Encoding::Utf8 || span.ascii)
        {
            let at = |line, character| lsp_types::Position { line, character };
            return Ok(lsp_types::Location {
                uri,
                range: lsp_types::Range {
                    start: at(span.start_line, span.start_column),
                    end: at(span.end_line, span.end_column),
                },
            });
        }
        let (text, lines) = match texts.get(&l.path) {
            Some(t) => t.clone(),
            None => {
                let t = self.text_of(&l.path)?;
                texts.insert(l.path.clone(), t.clone());
                t
            }
        };
        let lines = TextLines {
            text: &text,
            lines: &lines,
            encoding: self.encoding,
        };
        Ok(lsp_types::Location {
            uri,
            range: lines.range(l.start_byte, l.end_byte),
        })
    }

    /// The current text of `path` and its line index: its open buffer's,
    /// else the stored source, else (not stored yet) the file indexed now.
    fn text_of(&self, path: &Path) -> Result<(Arc<[u8]>, Arc<LineIndex>), String> {
        if let Some(t) = self
            .ws
            .with_buffer(path, |b| (b.text().clone(), Arc::new(b.lines().clone())))
        {
            return Ok(t);
        }
        if let Ok(Some(text)) = self.ws.cache().source(path) {
            let lines = Arc::new(LineIndex::new(&text));
            return Ok((text, lines));
        }
        let snap = stored_snapshot(&self.ws, path)?;
        Ok((snap.text, snap.lines))
    }
}
