//! `cst lsp`: a language server over stdin/stdout (crate `cst-lsp`) on the
//! workspace the client names (`rootUri`, or its first workspace folder).
//! Stdout is the protocol's channel: nothing else is printed there; logs
//! go to stderr.

use cst_workspace::discover::Access;

use crate::Failure;
use crate::flags::{Cli, LspArgs};
use crate::session;

pub(crate) fn run(cli: &Cli, args: &LspArgs) -> Result<u8, Failure> {
    let options = cst_lsp::LspOptions {
        open: session::open_options(cli, Access::WriteOrRead),
        watch: !args.no_watch,
        index_on_open: !args.no_index,
        // workspace/symbol, definition and references from the name index.
        symbols: Some(Box::new(cst_lsp::IndexProvider::default())),
        grammar_reload: crate::cmd::grammar::reload(cli),
        ..cst_lsp::LspOptions::default()
    };
    cst_lsp::stdio(options).map_err(|e| anyhow::anyhow!(e))?;
    Ok(0)
}
