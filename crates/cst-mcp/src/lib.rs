//! `cst mcp`: a Model Context Protocol server for agents over a cst
//! workspace, with the official Rust SDK (`rmcp`, pinned).
//!
//! Tools: `outline`, `symbols`, `definition`, `references`, `query`,
//! `chunks`, `repo_map`, `status`. Every answer is a compact text for the
//! model plus the same answer as structured content, and carries the
//! workspace's generation and its stale paths; lists are paginated
//! (`offset`, `limit`, and `next_offset` while more remain). There is no
//! "update the index" tool: the workspace's watcher keeps the store
//! current, and the symbol index and repo-map ranking follow its
//! generation (`cst_symbols::LiveIndex`).
//!
//! The async runtime stays inside this crate: [`serve_stdio`] builds its
//! own and blocks until the client closes the connection; the tools run the
//! workspace's synchronous calls on its blocking pool. [`http_router`] is
//! the same server over MCP's streamable HTTP transport, for `cst serve`
//! to mount at `/mcp` (behind its own token, Host check and limits).

mod render;
mod server;

use cst_workspace::Workspace;

pub use server::CstServer;

/// How the server answers.
#[derive(Debug, Clone)]
pub struct McpOptions {
    /// The most items a list answer holds when the call gives no `limit`.
    pub page_size: usize,
    /// The largest `limit` a call may ask for.
    pub max_page_size: usize,
}

impl Default for McpOptions {
    fn default() -> Self {
        McpOptions {
            page_size: 50,
            max_page_size: 1000,
        }
    }
}

/// Errors of running the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The runtime could not be built.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The MCP session could not start or ended with an error.
    #[error("MCP session: {0}")]
    Session(String),
}

/// The server over MCP's streamable HTTP transport, as a router answering
/// at `path` (e.g. `/mcp`), to be merged into the HTTP server's router
/// (which runs it on its runtime). One [`CstServer`] serves every session,
/// so they share the symbol index. `check_host`: accept only loopback
/// names in `Host` (DNS rebinding); without it, the host embedding this
/// router checks requests itself (a bearer token).
pub fn http_router(server: CstServer, path: &str, check_host: bool) -> axum::Router {
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService,
    };
    let mut config = StreamableHttpServerConfig::default();
    if !check_host {
        config.allowed_hosts.clear();
    }
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        std::sync::Arc::new(LocalSessionManager::default()),
        config,
    );
    axum::Router::new().nest_service(path, service)
}

/// Serves MCP over standard input and output (newline-delimited JSON-RPC)
/// until the client closes the connection.
pub fn serve_stdio(ws: Workspace, options: McpOptions) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cst-mcp")
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(async move {
        use rmcp::ServiceExt;
        let service = CstServer::new(ws, options)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| Error::Session(e.to_string()))?;
        service
            .waiting()
            .await
            .map_err(|e| Error::Session(e.to_string()))?;
        Ok(())
    })
}
