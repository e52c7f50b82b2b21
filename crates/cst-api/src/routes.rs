//! The routes of `/v1` and the probes. Every handler does its work off the
//! runtime's workers (the workspace is synchronous): a per-file request on
//! the blocking pool, a query and the symbol look-ups (`symbols.rs`) on
//! the bulk lane (`bulk.rs`). Answers are JSON, text or an NDJSON stream;
//! every error is a JSON error (see `error.rs`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path as UrlPath, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::error::TrySendError;

use cst_workspace::cst::tags::{ChunkOptions, Unit};
use cst_workspace::{
    Change, Encoding, Meta, NodeRequest, QueryLimits, QueryRecord, QueryRequest, TreeFormat,
    Workspace,
};

use crate::error::ApiError;
use crate::metrics::Metrics;

/// What every handler shares.
pub(crate) struct AppState {
    pub(crate) ws: Workspace,
    pub(crate) metrics: Metrics,
    pub(crate) limits: QueryLimits,
    /// Where queries and the symbol look-ups run.
    pub(crate) bulk: crate::bulk::Bulk,
    /// The symbol index, when the server has one (see `symbols.rs`).
    pub(crate) symbols: Option<Arc<cst_symbols::LiveIndex>>,
}

pub(crate) type Shared = Arc<AppState>;

/// The query string, parsed, with a JSON error when it does not parse.
pub(crate) struct Params<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Params(q.0))
            .map_err(|e| ApiError::invalid(e.body_text()))
    }
}

/// `body` parsed as JSON of `T`, with a JSON error when it does not parse.
fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("request body: {e}")))
}

/// A JSON answer.
fn json<T: serde::Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut r = Response::new(Body::from(body));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            .into_response(),
    }
}

/// A JSON answer carrying the generation and the stale paths beside `value`'s fields.
pub(crate) fn answer<T: serde::Serialize>(meta: Meta, value: T) -> Response {
    #[derive(serde::Serialize)]
    struct With<T> {
        #[serde(flatten)]
        meta: Meta,
        #[serde(flatten)]
        value: T,
    }
    let generation = meta.generation;
    let mut r = json(&With { meta, value });
    with_generation(&mut r, generation);
    r
}

fn with_generation(r: &mut Response, generation: u64) {
    if let Ok(v) = HeaderValue::from_str(&generation.to_string()) {
        r.headers_mut().insert("x-cst-generation", v);
    }
}

/// Runs `f` on the blocking pool and records its latency for `endpoint`.
async fn blocking<F>(state: &Shared, endpoint: &'static str, f: F) -> Response
where
    F: FnOnce(&Workspace) -> Result<Response, ApiError> + Send + 'static,
{
    let started = Instant::now();
    let s = state.clone();
    let r = tokio::task::spawn_blocking(move || f(&s.ws)).await;
    let response = match r {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the request's task failed: {e}"),
        )
        .into_response(),
    };
    state.metrics.observe(endpoint, started.elapsed());
    response
}

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/status", get(status))
        .route("/v1/stats", get(stats))
        .route("/v1/reconcile", post(reconcile))
        .route("/v1/gc", post(gc))
        .route("/v1/tree", get(tree))
        .route("/v1/node", get(node))
        .route("/v1/outline", get(outline))
        .route("/v1/tags", get(tags))
        .route("/v1/chunks", get(chunks))
        .route("/v1/query", post(query))
        .route("/v1/map", get(crate::symbols::map))
        .route("/v1/symbols", get(crate::symbols::symbols))
        .route("/v1/definitions", get(crate::symbols::definitions))
        .route("/v1/references", get(crate::symbols::references))
        .route("/v1/buffers", get(list_buffers))
        .route(
            "/v1/buffers/{*path}",
            put(put_buffer)
                .patch(patch_buffer)
                .delete(delete_buffer)
                .get(get_buffer),
        )
        .with_state(state)
}

async fn readyz(State(s): State<Shared>) -> Response {
    if s.ws.is_ready() {
        "ready\n".into_response()
    } else {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "indexing", "indexing").into_response()
    }
}

async fn metrics(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    let st = s.clone();
    let rendered = tokio::task::spawn_blocking(move || st.metrics.render(openmetrics)).await;
    match rendered {
        Ok(Ok(body)) => {
            let ct = if openmetrics {
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            } else {
                "text/plain; version=0.0.4; charset=utf-8"
            };
            ([(header::CONTENT_TYPE, ct)], body).into_response()
        }
        _ => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "metrics failed",
        )
        .into_response(),
    }
}

async fn status(State(s): State<Shared>) -> Response {
    blocking(&s, "status", |ws| Ok(json(&ws.status()))).await
}

async fn stats(State(s): State<Shared>) -> Response {
    blocking(&s, "stats", |ws| {
        let st = ws.cache().stats();
        let tiers: serde_json::Map<String, serde_json::Value> = cst_workspace::cst::TIER_NAMES
            .iter()
            .zip(&st.tiers)
            .map(|(n, t)| {
                (
                    n.to_string(),
                    serde_json::json!({"entries": t.entries, "bytes": t.bytes, "hits": t.hits,
                        "misses": t.misses, "promotions": t.promotions, "demotions": t.demotions,
                        "evictions": t.evictions, "checksum_failures": t.checksum_failures}),
                )
            })
            .collect();
        let v = serde_json::json!({
            "paths": st.paths, "disk_bytes": st.disk_bytes, "hits": st.hits, "misses": st.misses,
            "promotions": st.promotions, "demotions": st.demotions, "evictions": st.evictions,
            "parses": st.parses, "tags_computed": st.tags_computed, "tags_reused": st.tags_reused,
            "tiers": tiers,
        });
        Ok(answer(ws.meta(), v))
    })
    .await
}

async fn reconcile(State(s): State<Shared>) -> Response {
    blocking(&s, "reconcile", |ws| {
        let summary = ws.reconcile()?;
        ws.flush()?;
        Ok(answer(ws.meta(), summary))
    })
    .await
}

/// `POST /v1/gc`: what `cst gc` does, by the store's writer (`cst gc`
/// beside a server asks it).
async fn gc(State(s): State<Shared>) -> Response {
    blocking(&s, "gc", |ws| {
        if ws.cache().is_read_only() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "busy",
                "this server reads the store beside another writer",
            ));
        }
        let r = ws.cache().gc()?;
        #[derive(serde::Serialize)]
        struct Out {
            removed: u64,
            reclaimed_bytes: u64,
        }
        Ok(answer(
            ws.meta(),
            Out {
                removed: r.removed,
                reclaimed_bytes: r.reclaimed_bytes,
            },
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeParams {
    path: String,
    #[serde(default)]
    format: TreeFormat,
    byte: Option<usize>,
    row: Option<usize>,
    column: Option<usize>,
    end_byte: Option<usize>,
}

async fn tree(State(s): State<Shared>, Params(p): Params<TreeParams>) -> Response {
    blocking(&s, "tree", move |ws| {
        let meta = ws.meta();
        let file = ws.file(&p.path)?;
        let range =
            (p.byte.is_some() || p.row.is_some() || p.column.is_some()).then_some(NodeRequest {
                byte: p.byte,
                row: p.row,
                column: p.column,
                end_byte: p.end_byte,
                anonymous: true,
            });
        let text = ws.print_tree(&file, p.format, range.as_ref())?;
        let ct = match p.format {
            TreeFormat::Sexp => "text/plain; charset=utf-8",
            TreeFormat::Json => "application/json",
        };
        let mut r = ([(header::CONTENT_TYPE, ct)], text).into_response();
        with_generation(&mut r, meta.generation);
        Ok(r)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeParams {
    path: String,
    byte: Option<usize>,
    row: Option<usize>,
    column: Option<usize>,
    end_byte: Option<usize>,
    #[serde(default)]
    anonymous: bool,
}

async fn node(State(s): State<Shared>, Params(p): Params<NodeParams>) -> Response {
    blocking(&s, "node", move |ws| {
        let meta = ws.meta();
        let file = ws.file(&p.path)?;
        let at = ws.node_at(
            &file,
            &NodeRequest {
                byte: p.byte,
                row: p.row,
                column: p.column,
                end_byte: p.end_byte,
                anonymous: p.anonymous,
            },
        )?;
        #[derive(serde::Serialize)]
        struct Out {
            path: String,
            #[serde(flatten)]
            at: cst_workspace::answers::NodeAt,
        }
        Ok(answer(meta, Out { path: file.rel, at }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathParams {
    path: String,
}

async fn outline(State(s): State<Shared>, Params(p): Params<PathParams>) -> Response {
    blocking(&s, "outline", move |ws| {
        let meta = ws.meta();
        let file = ws.file(&p.path)?;
        Ok(answer(meta, ws.outline(&file)?))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsParams {
    path: String,
    #[serde(default)]
    definitions: bool,
}

async fn tags(State(s): State<Shared>, Params(p): Params<TagsParams>) -> Response {
    blocking(&s, "tags", move |ws| {
        let meta = ws.meta();
        let file = ws.file(&p.path)?;
        let tags = ws.tags(&file, p.definitions)?;
        #[derive(serde::Serialize)]
        struct Out {
            path: String,
            language: &'static str,
            tags: Vec<cst_workspace::answers::TagOut>,
        }
        Ok(answer(
            meta,
            Out {
                language: file.tree.language().id(),
                path: file.rel,
                tags,
            },
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChunksParams {
    path: String,
    max: Option<usize>,
    unit: Option<String>,
    overlap_lines: Option<usize>,
}

async fn chunks(State(s): State<Shared>, Params(p): Params<ChunksParams>) -> Response {
    blocking(&s, "chunks", move |ws| {
        let unit: Unit = p
            .unit
            .as_deref()
            .unwrap_or("nws")
            .parse()
            .map_err(ApiError::invalid)?;
        let options = ChunkOptions {
            max: p.max.unwrap_or(1500),
            unit,
            overlap_lines: p.overlap_lines.unwrap_or(0),
        };
        let meta = ws.meta();
        let file = ws.file(&p.path)?;
        let chunks = ws.chunks(&file, &options)?;
        #[derive(serde::Serialize)]
        struct Out {
            path: String,
            language: &'static str,
            chunks: Vec<cst_workspace::answers::ChunkOut>,
        }
        Ok(answer(
            meta,
            Out {
                language: file.tree.language().id(),
                path: file.rel,
                chunks,
            },
        ))
    })
    .await
}

/// How long past its deadline a query's stream may wait for a client that
/// does not read.
const STREAM_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// `POST /v1/query`: NDJSON, one record per line, closed by a summary.
async fn query(State(s): State<Shared>, body: Bytes) -> Response {
    let started = Instant::now();
    let req: QueryRequest = match json_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let st = s.clone();
    let prepared = tokio::task::spawn_blocking(move || st.ws.prepare_query(&req, &st.limits)).await;
    let prepared = match prepared {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return ApiError::from(e).into_response(),
        Err(e) => {
            return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
                .into_response();
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    let st = s.clone();
    let job = move || {
        // A client that stops reading holds the stream no longer than the
        // query's own time plus a grace period; then the query stops and
        // its thread is free again.
        let deadline = Instant::now() + prepared.max_wall() + STREAM_GRACE;
        let mut sink = |record: QueryRecord| {
            let mut line = match serde_json::to_vec(&record) {
                Ok(l) => l,
                Err(_) => return true,
            };
            line.push(b'\n');
            // A closed channel (the client went away) or a client that
            // does not read: stop. No runtime timer here: this thread is not
            // the runtime's, and may outlive it.
            let mut item = Bytes::from(line);
            loop {
                match tx.try_send(item) {
                    Ok(()) => return true,
                    Err(TrySendError::Closed(_)) => return false,
                    Err(TrySendError::Full(back)) => {
                        if Instant::now() >= deadline {
                            return false;
                        }
                        item = back;
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                }
            }
        };
        st.ws.run_query(&prepared, &mut sink);
    };
    // On the bulk lane: a query's cost grows with the workspace, and it
    // must not hold up the per-file requests.
    if let Err(job) = s.bulk.run(Box::new(job)) {
        drop(tokio::task::spawn_blocking(job));
    }
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<Bytes, Infallible>(b), rx))
    });
    s.metrics.observe("query", started.elapsed());
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    with_generation(&mut r, s.ws.generation());
    r
}

async fn list_buffers(State(s): State<Shared>) -> Response {
    blocking(&s, "buffers", |ws| {
        let list: Vec<String> = ws.buffers().iter().map(|p| ws.rel(p)).collect();
        #[derive(serde::Serialize)]
        struct Out {
            buffers: Vec<String>,
        }
        Ok(answer(ws.meta(), Out { buffers: list }))
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BufferParams {
    version: Option<i64>,
    language: Option<String>,
}

/// The media type of a list of edits sent with `PUT`.
pub const EDITS_MEDIA_TYPE: &str = "application/vnd.cst.edits+json";

/// A list of edits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edits {
    version: Option<i64>,
    #[serde(default)]
    encoding: Encoding,
    edits: Vec<Change>,
}

async fn put_buffer(
    State(s): State<Shared>,
    UrlPath(path): UrlPath<String>,
    Params(p): Params<BufferParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_edits = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(EDITS_MEDIA_TYPE));
    if is_edits {
        return edit(s, path, body).await;
    }
    blocking(&s, "buffer_put", move |ws| {
        let text = String::from_utf8(body.to_vec())
            .map_err(|e| ApiError::invalid(format!("the text is not UTF-8: {e}")))?;
        let path = ws.resolve(&path)?;
        let state = ws.open_buffer(&path, text, p.version, p.language.as_deref())?;
        Ok(answer(ws.meta(), state))
    })
    .await
}

async fn patch_buffer(
    State(s): State<Shared>,
    UrlPath(path): UrlPath<String>,
    body: Bytes,
) -> Response {
    edit(s, path, body).await
}

async fn edit(s: Shared, path: String, body: Bytes) -> Response {
    blocking(&s, "buffer_edit", move |ws| {
        let edits: Edits = json_body(&body)?;
        let path = ws.resolve(&path)?;
        let state = ws.edit_buffer(&path, &edits.edits, edits.encoding, edits.version)?;
        Ok(answer(ws.meta(), state))
    })
    .await
}

async fn delete_buffer(State(s): State<Shared>, UrlPath(path): UrlPath<String>) -> Response {
    blocking(&s, "buffer_close", move |ws| {
        let path = ws.resolve(&path)?;
        let rel = ws.rel(&path);
        if !ws.close(&path)? {
            return Err(cst_workspace::Error::NotOpen(rel).into());
        }
        #[derive(serde::Serialize)]
        struct Out {
            path: String,
            closed: bool,
        }
        Ok(answer(
            ws.meta(),
            Out {
                path: rel,
                closed: true,
            },
        ))
    })
    .await
}

async fn get_buffer(State(s): State<Shared>, UrlPath(path): UrlPath<String>) -> Response {
    blocking(&s, "buffer_get", move |ws| {
        let path = ws.resolve(&path)?;
        let rel = ws.rel(&path);
        #[derive(serde::Serialize)]
        struct Out {
            path: String,
            language: &'static str,
            version: Option<i64>,
            text: String,
        }
        let out = ws
            .with_buffer(&path, |b| Out {
                path: rel.clone(),
                language: b.language().id(),
                version: b.version(),
                text: String::from_utf8_lossy(b.text()).into_owned(),
            })
            .ok_or_else(|| cst_workspace::Error::NotOpen(rel.clone()))?;
        Ok(answer(ws.meta(), out))
    })
    .await
}
