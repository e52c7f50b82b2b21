//! `cst mcp`: the workspace served to an agent over the Model Context
//! Protocol on stdin/stdout (crate `cst-mcp`), kept current by watching
//! the files. Beside a running `cst serve` (the store's writer), it reads
//! the store and keeps what it computes in memory.

use cst_workspace::discover::Access;
use cst_workspace::{Workspace, WorkspaceOptions};

use crate::Failure;
use crate::flags::{Cli, McpArgs};
use crate::session;

pub(crate) fn run(cli: &Cli, args: &McpArgs) -> Result<u8, Failure> {
    let root = session::canonical(&args.dir)?;
    let ws = Workspace::open(
        &root,
        None,
        WorkspaceOptions {
            open: session::open_options(cli, Access::WriteOrRead),
            watch: !args.no_watch,
            grammar_reload: crate::cmd::grammar::reload(cli),
            ..WorkspaceOptions::default()
        },
    )?;
    // stdout is the protocol's: nothing else is printed there.
    cst_mcp::serve_stdio(ws.clone(), cst_mcp::McpOptions::default())
        .map_err(|e| anyhow::anyhow!(e))?;
    ws.shutdown()?;
    Ok(0)
}
