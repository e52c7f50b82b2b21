//! # cst-api — the HTTP/JSON API of `cst serve`
//!
//! axum routes over a [`Workspace`]: trees, nodes, outlines, tags, chunks,
//! streamed queries and open buffers under `/v1`, the probes `/healthz`
//! and `/readyz`, and `/metrics`; with a symbol index
//! ([`ServerOptions::symbols`]), the ranked repo map and workspace symbol
//! search, definitions and references (`/v1/map`, `/v1/symbols`,
//! `/v1/definitions`, `/v1/references`). `docs/API.md` documents every
//! route with examples that the tests replay.
//!
//! This is the one crate of cst with a public async runtime: [`start`]
//! builds its own tokio runtime on its own threads and returns a
//! synchronous handle, so its users (the `cst` command, an embedding
//! application) stay synchronous.
//!
//! Security: loopback (or a Unix socket) by default; any other address
//! needs a bearer token (compared in constant time); every path is confined
//! to the workspace; bodies, results, time and concurrency are bounded;
//! every error is JSON with a stable code.

mod bulk;
mod error;
mod metrics;
mod routes;
mod symbols;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cst_workspace::{QueryLimits, Workspace};

pub use error::{ApiError, status_of};
pub use metrics::{RemoteMetrics, RemoteStatus};
pub use routes::EDITS_MEDIA_TYPE;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// A TCP address (`127.0.0.1:9464`; port 0 picks a free one).
    Tcp(SocketAddr),
    /// A Unix socket path.
    Unix(PathBuf),
}

impl std::str::FromStr for Listen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(p) = s.strip_prefix("unix:") {
            return Ok(Listen::Unix(PathBuf::from(p)));
        }
        s.parse()
            .map(Listen::Tcp)
            .map_err(|e| format!("{s}: not an address (ip:port or unix:/path): {e}"))
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Tcp(a) => write!(f, "{a}"),
            Listen::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where to listen.
    pub listen: Listen,
    /// The bearer token requests must carry (all but `/healthz` and
    /// `/readyz`); required for an address that is not loopback.
    pub token: Option<String>,
    /// Largest request body (a buffer's text, a query).
    pub max_body_bytes: usize,
    /// Longest time to the first byte of an answer.
    pub request_timeout: Duration,
    /// Requests handled at once (more wait for a slot); also the most
    /// queries run at once, on their own low-priority threads.
    pub max_concurrency: usize,
    /// Caps of a query's matches and time.
    pub query_limits: QueryLimits,
    /// Worker threads of the runtime (the blocking pool is sized from
    /// `max_concurrency`).
    pub threads: usize,
    /// More routes to serve beside `/v1` (e.g. MCP at `/mcp`, from the
    /// crate that speaks it), behind the same token, Host check, limits
    /// and error shape.
    pub extra_routes: Option<axum::Router>,
    /// The workspace's symbol index, for `/v1/map`, `/v1/symbols`,
    /// `/v1/definitions` and `/v1/references` (without it they answer 404
    /// `symbols_disabled`). Share one with the other servers of the
    /// process (MCP at `/mcp`): it is built once and follows the
    /// workspace's generation.
    pub symbols: Option<Arc<cst_symbols::LiveIndex>>,
    /// The shared remote's counters for `/metrics` (`cst_remote_*`), from
    /// whoever drives the remote; without it `/metrics` says
    /// `cst_remote_configured 0`.
    pub remote: Option<Arc<dyn RemoteStatus>>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            listen: Listen::Tcp(SocketAddr::from(([127, 0, 0, 1], 9464))),
            token: None,
            max_body_bytes: 32 << 20,
            request_timeout: Duration::from_secs(60),
            max_concurrency: 64,
            query_limits: QueryLimits::default(),
            threads: 2,
            extra_routes: None,
            symbols: None,
            remote: None,
        }
    }
}

/// Errors of starting the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Binding the address failed.
    #[error("listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The error.
        source: std::io::Error,
    },
    /// A non-loopback address without a token.
    #[error("{0} is not a loopback address: a token is required (--token-file)")]
    TokenRequired(String),
    /// The runtime could not start.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// A running server (see [`start`]).
#[derive(Debug)]
pub struct Running {
    local: Listen,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Where it listens (the port chosen, for port 0).
    pub fn local(&self) -> &Listen {
        &self.local
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    /// Waits until the server stops (after a signal: Ctrl-C or SIGTERM,
    /// when `start` was asked to handle them).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn stop_inner(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// The router of a workspace, with every layer (limits, auth, JSON
/// errors), for embedding in another axum application or testing.
pub fn router(ws: Workspace, options: &ServerOptions) -> axum::Router {
    let state = Arc::new(routes::AppState {
        metrics: metrics::Metrics::new(ws.clone(), options.remote.clone()),
        ws,
        limits: options.query_limits,
        bulk: bulk::Bulk::new(options.max_concurrency),
        symbols: options.symbols.clone(),
    });
    let token: Option<Arc<[u8]>> = options.token.as_ref().map(|t| t.as_bytes().into());
    // Without a token, only requests that name this machine: a web page
    // that rebinds its own name to 127.0.0.1 (DNS rebinding) sends its own
    // name as Host, and is refused.
    let check_host = options.token.is_none() && matches!(options.listen, Listen::Tcp(_));
    // Layers wrap outward: the last added runs first. The timeout is
    // outside the concurrency limit, so a request waiting for a slot
    // times out too.
    let mut routes = routes::router(state);
    if let Some(extra) = options.extra_routes.clone() {
        routes = routes.merge(extra);
    }
    routes
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(axum::middleware::from_fn(move |req, next| {
            let token = token.clone();
            authorize(token, req, next)
        }))
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            options.max_concurrency.max(1),
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            options.request_timeout,
        ))
        .layer(axum::middleware::from_fn(move |req, next| {
            local_host(check_host, req, next)
        }))
        .layer(axum::middleware::map_response(error::json_errors))
}

/// Without a token, a request's `Host` must name this machine (`localhost`
/// or a loopback address; a request without one, such as a Unix socket's
/// client may send, passes).
async fn local_host(check: bool, req: Request, next: Next) -> Response {
    if check
        && let Some(host) = req.headers().get(header::HOST)
        && !is_local_host(host.as_bytes())
    {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            "the Host header must name this machine (localhost or a loopback address)",
        )
        .into_response();
    }
    next.run(req).await
}

/// Whether `host` (with or without a port) is `localhost` or a loopback
/// address.
fn is_local_host(host: &[u8]) -> bool {
    let Ok(host) = std::str::from_utf8(host) else {
        return false;
    };
    // `[::1]:9464`, `[::1]`, `127.0.0.1:9464`, `localhost`.
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Requests must carry `Authorization: Bearer <token>` when the server has
/// one (the probes excepted), compared in constant time.
async fn authorize(token: Option<Arc<[u8]>>, req: Request, next: Next) -> Response {
    if let Some(token) = token
        && !matches!(req.uri().path(), "/healthz" | "/readyz")
    {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .unwrap_or_default();
        let ok: bool = subtle::ConstantTimeEq::ct_eq(given, &token[..]).into();
        if !ok {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a bearer token is required",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Whether `listen` is reachable from this machine only.
pub fn is_local(listen: &Listen) -> bool {
    match listen {
        Listen::Tcp(a) => a.ip().is_loopback(),
        Listen::Unix(_) => true,
    }
}

/// Starts serving `ws` on a runtime of its own (threads `cst-http-*`).
/// Binds before returning, so [`Running::local`] is the real address.
/// With `handle_signals`, Ctrl-C and SIGTERM stop it gracefully.
pub fn start(
    ws: Workspace,
    options: ServerOptions,
    handle_signals: bool,
) -> Result<Running, Error> {
    if !is_local(&options.listen) && options.token.is_none() {
        return Err(Error::TokenRequired(options.listen.to_string()));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads.max(1))
        .max_blocking_threads(options.max_concurrency.max(4) + 4)
        .thread_name("cst-http")
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let router = router(ws, &options);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let stop = async move {
        let signal = async {
            if handle_signals {
                wait_for_signal().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = rx => {}
            _ = signal => {}
        }
        let _ = stopping_tx.send(());
    };
    let (local, serve): (
        Listen,
        std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    ) = match &options.listen {
        Listen::Tcp(addr) => {
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind(addr))
                .map_err(|source| Error::Bind {
                    addr: addr.to_string(),
                    source,
                })?;
            let local = listener.local_addr().map_err(|source| Error::Bind {
                addr: addr.to_string(),
                source,
            })?;
            (
                Listen::Tcp(local),
                Box::pin(serve_on(listener, router, stop)),
            )
        }
        Listen::Unix(path) => {
            // A stale socket of a process that is gone is replaced (a
            // socket only: never another kind of file).
            if std::fs::symlink_metadata(path)
                .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
            {
                let _ = std::fs::remove_file(path);
            }
            let listener = {
                let _guard = runtime.enter();
                tokio::net::UnixListener::bind(path)
            }
            .map_err(|source| Error::Bind {
                addr: path.display().to_string(),
                source,
            })?;
            // Its owner's only: the socket needs no token.
            std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .map_err(|source| Error::Bind {
                    addr: path.display().to_string(),
                    source,
                })?;
            (
                Listen::Unix(path.clone()),
                Box::pin(serve_on(listener, router, stop)),
            )
        }
    };
    let thread = std::thread::Builder::new()
        .name("cst-http-main".into())
        .spawn(move || {
            runtime.block_on(async move {
                // Once told to stop, connections that do not finish (a
                // stream nobody reads) get a bounded time.
                tokio::select! {
                    _ = serve => {}
                    _ = async {
                        let _ = stopping_rx.await;
                        tokio::time::sleep(SHUTDOWN_GRACE).await;
                    } => {}
                }
            });
            // Requests still on the blocking pool get a moment to finish.
            runtime.shutdown_timeout(Duration::from_secs(5));
        })
        .map_err(Error::Runtime)?;
    Ok(Running {
        local,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

/// Serves `router` on `listener` until `stop` completes.
async fn serve_on<L>(
    listener: L,
    router: axum::Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    if let Err(e) = axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!(error = %e, "the server failed");
    }
}

/// How long a stopping server waits for connections that do not finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
