//! The integration tests of `cst-cli`, in one binary: every test binary links
//! the grammars (~200 MB each in a debug build), so one binary per file cost
//! gigabytes of `target/` and a link per file. Run one file's tests with
//! `cargo test -p cst-cli --test it <module>::`.

mod cli;
mod grammar;
mod map;
mod mcp;
mod navigate;
mod nvim;
mod remote;
mod remote_s3;
mod serve;
