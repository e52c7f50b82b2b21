//! `cst serve`: the workspace's long-running process — the HTTP/JSON API
//! (crate `cst-api`) and MCP at `/mcp` (crate `cst-mcp`) over a workspace
//! kept current by its watcher (crate `cst-workspace`), and the file in
//! the cache directory through which other `cst` commands find it. Like
//! `cst index`, it pulls from the shared remote before its first index
//! (`cmd/remote.rs`), and `/metrics` counts the remote's use.

use std::io::Write;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use cst_workspace::discover::{Access, ServerFile};
use cst_workspace::{BeforeIndex, Workspace, WorkspaceOptions};

use crate::Failure;
use crate::cmd::remote;
use crate::flags::{Cli, ServeArgs};
use crate::session;

pub(crate) fn run(cli: &Cli, args: &ServeArgs) -> Result<u8, Failure> {
    let root = args
        .dir
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.dir.display()))?;
    let listen: cst_api::Listen = args.addr.parse().map_err(Failure::usage::<String>)?;
    let token = match &args.token_file {
        Some(f) => {
            let t = std::fs::read_to_string(f)
                .map_err(|e| anyhow::anyhow!("--token-file {}: {e}", f.display()))?;
            let t = t.trim().to_string();
            if t.len() < 16 {
                return Err(Failure::usage(format!(
                    "--token-file {}: a token of at least 16 characters is required",
                    f.display()
                )));
            }
            Some(t)
        }
        None => None,
    };
    if !cst_api::is_local(&listen) && token.is_none() {
        return Err(Failure::usage(format!(
            "{listen} is not a loopback address: give --token-file"
        )));
    }
    let open = session::open_options(cli, Access::Write);
    let cache_dir: PathBuf = open.cache_dir_of(&root);
    let config = session::load_config(cli, &root)?;
    // The shared remote, as `cst index` consults it: pulled from before
    // the first index, on the workspace's thread (the server listens
    // meanwhile and is ready after); a remote that fails is a miss.
    let remote = Arc::new(remote::ServeRemote::new(&config, args.no_remote, &root));
    let before_index = remote.is_open().then(|| {
        let remote = remote.clone();
        BeforeIndex::new(move |cache| remote.pull(cache))
    });
    let ws = Workspace::open(
        &root,
        Some(config),
        WorkspaceOptions {
            open,
            watch: !args.no_watch,
            before_index,
            grammar_reload: crate::cmd::grammar::reload(cli),
            ..WorkspaceOptions::default()
        },
    )?;
    // One symbol index for the process: the API's map and symbol
    // look-ups and MCP's tools share it (built on the first request that
    // needs it, then kept current with the workspace's generation).
    let symbols = std::sync::Arc::new(cst_symbols::LiveIndex::default());
    let running = cst_api::start(
        ws.clone(),
        cst_api::ServerOptions {
            listen,
            token: token.clone(),
            // MCP for agents at /mcp, on the same workspace (and the same
            // token, limits and symbol index).
            extra_routes: Some(cst_mcp::http_router(
                cst_mcp::CstServer::with_symbols(
                    ws.clone(),
                    cst_mcp::McpOptions::default(),
                    symbols.clone(),
                ),
                "/mcp",
                token.is_none(),
            )),
            symbols: Some(symbols),
            remote: Some(remote),
            ..cst_api::ServerOptions::default()
        },
        true,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let local = running.local().to_string();
    let file = ServerFile {
        addr: local.clone(),
        token,
        pid: std::process::id(),
    };
    if let Err(e) = file.write(&cache_dir) {
        eprintln!(
            "cst: {}: {e} (other commands will not find this server)",
            cache_dir.display()
        );
    }
    match running.local() {
        cst_api::Listen::Tcp(_) => println!("listening on http://{local}"),
        cst_api::Listen::Unix(_) => println!("listening on {local}"),
    }
    std::io::stdout().flush()?;
    running.wait();
    file.remove(&cache_dir);
    ws.shutdown()?;
    Ok(0)
}

/// The server running for the workspace whose cache is `cache_dir`, if
/// one answers.
pub(crate) fn running_server(cache_dir: &Path) -> Option<ServerFile> {
    let f = ServerFile::read(cache_dir)?;
    (f.is_alive() && !f.addr.starts_with("unix:")).then_some(f)
}

/// Asks the server to reconcile the workspace with the disk (what
/// `cst index` does beside a server). Returns its JSON answer.
pub(crate) fn ask_reconcile(server: &ServerFile) -> Result<serde_json::Value, Failure> {
    ask(server, "/v1/reconcile")
}

/// Sends `POST route` to the server; its JSON answer, or its JSON error
/// as a failure with the exit code of the error's kind.
pub(crate) fn ask(server: &ServerFile, route: &str) -> Result<serde_json::Value, Failure> {
    let url = format!("http://{}{route}", server.addr);
    let mut req = agent().post(&url);
    if let Some(t) = &server.token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let resp = req
        .send_empty()
        .map_err(|e| anyhow::anyhow!("asking the server at {}: {e}", server.addr))?;
    answer(server, resp)
}

/// Sends `GET route?query` to the server (the pairs encoded); as [`ask`].
pub(crate) fn ask_get(
    server: &ServerFile,
    route: &str,
    query: &[(&str, String)],
) -> Result<serde_json::Value, Failure> {
    let url = format!("http://{}{route}", server.addr);
    let mut req = agent().get(&url);
    for (k, v) in query {
        req = req.query(k, v);
    }
    if let Some(t) = &server.token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let resp = req
        .call()
        .map_err(|e| anyhow::anyhow!("asking the server at {}: {e}", server.addr))?;
    answer(server, resp)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// The server's JSON answer, or its JSON error as a failure.
fn answer(
    server: &ServerFile,
    mut resp: ureq::http::Response<ureq::Body>,
) -> Result<serde_json::Value, Failure> {
    let status = resp.status().as_u16();
    let v: serde_json::Value = resp
        .body_mut()
        .read_json()
        .map_err(|e| anyhow::anyhow!("the server's answer: {e}"))?;
    if status != 200 {
        let code = match status {
            400 | 413 => 2,
            409 | 503 => 4,
            422 => 1,
            _ => 3,
        };
        return Err(Failure {
            code,
            error: anyhow::anyhow!(
                "the server at {}: {}",
                server.addr,
                v["error"]["message"].as_str().unwrap_or("failed")
            ),
        });
    }
    Ok(v)
}
