//! The HTTP API against a real server on loopback, with a real client.

mod buffers;
mod common;
mod docs;
mod files;
mod load;
mod security;
mod symbols;
mod watch;
