//! One module per command, each with a `run` that takes the parsed flags
//! and returns the exit code. JSON output comes from `Serialize` structs:
//! the workspace layer's answers (`cst_workspace::answers`) where the HTTP
//! API shares them, else structs local to the command.

pub(crate) mod chunks;
pub(crate) mod gc;
pub(crate) mod grammar;
pub(crate) mod index;
pub(crate) mod languages;
pub(crate) mod lsp;
pub(crate) mod map;
pub(crate) mod mcp;
pub(crate) mod outline;
pub(crate) mod query;
pub(crate) mod remote;
pub(crate) mod serve;
pub(crate) mod show;
pub(crate) mod stats;
pub(crate) mod tags;
pub(crate) mod verify;
