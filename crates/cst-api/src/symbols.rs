//! The symbol endpoints: the ranked repo map (`/v1/map`), workspace symbol
//! search (`/v1/symbols`), and definitions and references by name
//! (`/v1/definitions`, `/v1/references`), answered by crate `cst-symbols`
//! through the [`LiveIndex`] the server was given (one per process: MCP at
//! `/mcp` shares it).
//!
//! Their cost grows with the workspace — the first request builds the
//! index, a request after a change refreshes it, a map ranks the whole
//! graph — so they run on the bulk lane (`bulk.rs`) at the lowest
//! priority, as queries do, never on a runtime worker nor ahead of the
//! per-file requests. The parameters are checked before anything runs.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use cst_symbols::{LiveIndex, MapOptions, MatchKind, Symbol};
use cst_workspace::Workspace;

use crate::error::ApiError;
use crate::routes::{Shared, answer};

/// The token budget of a map when the request gives none.
const DEFAULT_MAP_TOKENS: usize = 1024;
/// The largest token budget of a map.
const MAX_MAP_TOKENS: usize = 65536;
/// The most `focus` and the most `mention` parameters of a map.
const MAX_MAP_LIST: usize = 1024;
/// Symbol hits when the request gives no `limit`, and the most it may ask.
const DEFAULT_SYMBOLS: usize = 50;
const MAX_SYMBOLS: usize = 1000;
/// Definitions or references when the request gives no `limit`, and the
/// most it may ask.
const DEFAULT_LOCATIONS: usize = 200;
const MAX_LOCATIONS: usize = 5000;

/// The query string as `T` (unknown parameters refused).
fn params<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::invalid(e.body_text()))
}

/// `limit`, or `default`; refused outside `1..=max`.
fn limit(given: Option<usize>, default: usize, max: usize) -> Result<usize, ApiError> {
    match given {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::invalid(format!(
            "limit {n}: must be between 1 and {max}"
        ))),
    }
}

/// The answer of a server without a symbol index.
fn disabled() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "symbols_disabled",
        "this server has no symbol index: the repo map and symbol look-ups are not enabled \
         (cst-api's ServerOptions::symbols)",
    )
}

/// Checks the parameters, then runs `f` on the bulk lane with the symbol
/// index, and records the latency for `endpoint`.
async fn on_lane<P, F>(
    s: Shared,
    endpoint: &'static str,
    params: Result<P, ApiError>,
    f: F,
) -> Response
where
    P: Send + 'static,
    F: FnOnce(&Workspace, &LiveIndex, P) -> Result<Response, ApiError> + Send + 'static,
{
    let started = Instant::now();
    let response = match (s.symbols.clone(), params) {
        (None, _) => disabled().into_response(),
        (Some(_), Err(e)) => e.into_response(),
        (Some(index), Ok(p)) => {
            let (tx, rx) = tokio::sync::oneshot::channel::<Result<Response, ApiError>>();
            let st = s.clone();
            let job = move || {
                // A panic answers 500 and leaves the lane's thread alive
                // (the index recovers its lock: see `LiveIndex::with`).
                let r = std::panic::catch_unwind(AssertUnwindSafe(|| f(&st.ws, &index, p)))
                    .unwrap_or_else(|_| {
                        Err(ApiError::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "internal",
                            "the request's task failed",
                        ))
                    });
                // The client may have gone (a timeout): nobody to tell.
                let _ = tx.send(r);
            };
            if let Err(job) = s.bulk.run(Box::new(job)) {
                drop(tokio::task::spawn_blocking(job));
            }
            match rx.await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => e.into_response(),
                Err(_) => ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the request's task failed",
                )
                .into_response(),
            }
        }
    };
    s.metrics.observe(endpoint, started.elapsed());
    response
}

/// A place: one-based line and byte column, zero-based byte offset (as
/// every place of the API).
#[derive(Serialize)]
struct Place {
    line: u32,
    column: u32,
    byte: usize,
}

/// A definition or reference: its name's place and the tagged node's bytes.
#[derive(Serialize)]
struct Location {
    name: String,
    kind: String,
    path: String,
    start: Place,
    end: Place,
    bytes: [usize; 2],
}

impl Location {
    fn of(ws: &Workspace, s: &Symbol) -> Location {
        Location {
            name: s.name.clone(),
            kind: s.kind.clone(),
            path: ws.rel(&s.path),
            start: Place {
                line: s.line,
                column: s.column.saturating_add(1),
                byte: s.bytes.start,
            },
            end: Place {
                line: s.end_line,
                column: s.end_column.saturating_add(1),
                byte: s.bytes.end,
            },
            bytes: [s.node_bytes.start, s.node_bytes.end],
        }
    }
}

/// `GET /v1/map` parameters, checked.
struct MapParams {
    tokens: usize,
    focus: Vec<String>,
    mention: Vec<String>,
}

/// `tokens=N&focus=P&focus=Q&mention=IDENT…` (lists by repetition).
fn map_params(uri: &Uri) -> Result<MapParams, ApiError> {
    let pairs: Vec<(String, String)> = params(uri)?;
    let mut tokens = None;
    let (mut focus, mut mention) = (Vec::new(), Vec::new());
    for (k, v) in pairs {
        match k.as_str() {
            "tokens" => {
                if tokens.is_some() {
                    return Err(ApiError::invalid("tokens: given more than once"));
                }
                let n: usize = v.parse().map_err(|_| {
                    ApiError::invalid(format!("tokens: {v:?} is not a number of tokens"))
                })?;
                if !(1..=MAX_MAP_TOKENS).contains(&n) {
                    return Err(ApiError::invalid(format!(
                        "tokens {n}: must be between 1 and {MAX_MAP_TOKENS}"
                    )));
                }
                tokens = Some(n);
            }
            "focus" => focus.push(v),
            "mention" => mention.push(v),
            _ => {
                return Err(ApiError::invalid(format!(
                    "unknown parameter `{k}`, expected one of `tokens`, `focus`, `mention`"
                )));
            }
        }
    }
    if focus.len() > MAX_MAP_LIST || mention.len() > MAX_MAP_LIST {
        return Err(ApiError::invalid(format!(
            "at most {MAX_MAP_LIST} `focus` and {MAX_MAP_LIST} `mention` parameters"
        )));
    }
    if mention.iter().any(String::is_empty) {
        return Err(ApiError::invalid("mention: an empty identifier"));
    }
    Ok(MapParams {
        tokens: tokens.unwrap_or(DEFAULT_MAP_TOKENS),
        focus,
        mention,
    })
}

/// `GET /v1/map`: the ranked repo map, as `cst map --json` prints it.
pub(crate) async fn map(State(s): State<Shared>, uri: Uri) -> Response {
    on_lane(s, "map", map_params(&uri), |ws, index, p| {
        let meta = ws.meta();
        let focus = p
            .focus
            .iter()
            .map(|f| ws.resolve(f))
            .collect::<Result<Vec<_>, _>>()?;
        let options = MapOptions {
            tokens: p.tokens,
            focus,
            mention: p.mention,
        };
        let map = index.with(ws, |index, ranker| ranker.map(index, ws, &options))??;
        Ok(answer(meta, map))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SymbolsParams {
    query: String,
    limit: Option<usize>,
}

/// `GET /v1/symbols`: definitions whose name matches `query`, best first.
pub(crate) async fn symbols(State(s): State<Shared>, uri: Uri) -> Response {
    let p = params::<SymbolsParams>(&uri).and_then(|p| {
        if p.query.is_empty() {
            return Err(ApiError::invalid("query: empty"));
        }
        let n = limit(p.limit, DEFAULT_SYMBOLS, MAX_SYMBOLS)?;
        Ok((p.query, n))
    });
    on_lane(s, "symbols", p, |ws, index, (query, limit)| {
        #[derive(Serialize)]
        struct Hit {
            #[serde(flatten)]
            location: Location,
            #[serde(rename = "match")]
            kind: MatchKind,
            score: u32,
        }
        #[derive(Serialize)]
        struct Out {
            query: String,
            symbols: Vec<Hit>,
            truncated: bool,
        }
        let meta = ws.meta();
        // One more than asked: whether more remain.
        let mut hits = index.with(ws, |index, _| index.search(&query, limit + 1))?;
        let truncated = hits.len() > limit;
        hits.truncate(limit);
        let symbols = hits
            .into_iter()
            .map(|h| Hit {
                location: Location::of(ws, &h.symbol),
                kind: h.kind,
                score: h.score,
            })
            .collect();
        Ok(answer(
            meta,
            Out {
                query,
                symbols,
                truncated,
            },
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameParams {
    name: String,
    from: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/definitions`.
pub(crate) async fn definitions(State(s): State<Shared>, uri: Uri) -> Response {
    by_name(s, &uri, true).await
}

/// `GET /v1/references`.
pub(crate) async fn references(State(s): State<Shared>, uri: Uri) -> Response {
    by_name(s, &uri, false).await
}

/// The definitions or references of `name`, ranked from `from` outwards.
async fn by_name(s: Shared, uri: &Uri, definitions: bool) -> Response {
    let p = params::<NameParams>(uri).and_then(|p| {
        if p.name.is_empty() {
            return Err(ApiError::invalid("name: empty"));
        }
        let n = limit(p.limit, DEFAULT_LOCATIONS, MAX_LOCATIONS)?;
        Ok((p, n))
    });
    let endpoint = if definitions {
        "definitions"
    } else {
        "references"
    };
    on_lane(s, endpoint, p, move |ws, index, (p, limit)| {
        #[derive(Serialize)]
        struct Out {
            name: String,
            #[serde(rename = "definitions", skip_serializing_if = "Option::is_none")]
            defs: Option<Vec<Location>>,
            #[serde(rename = "references", skip_serializing_if = "Option::is_none")]
            refs: Option<Vec<Location>>,
            total: usize,
            truncated: bool,
        }
        let meta = ws.meta();
        let from = p.from.as_deref().map(|f| ws.resolve(f)).transpose()?;
        let (list, total) = index.with(ws, |index, _| {
            let all = if definitions {
                index.definitions(&p.name, from.as_deref())
            } else {
                index.references(&p.name, from.as_deref())
            };
            let total = all.len();
            let list: Vec<Location> = all
                .into_iter()
                .take(limit)
                .map(|s| Location::of(ws, s))
                .collect();
            (list, total)
        })?;
        let (defs, refs) = if definitions {
            (Some(list), None)
        } else {
            (None, Some(list))
        };
        Ok(answer(
            meta,
            Out {
                name: p.name,
                defs,
                refs,
                total,
                truncated: total > limit,
            },
        ))
    })
    .await
}
