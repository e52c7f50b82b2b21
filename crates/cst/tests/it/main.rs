//! The integration tests of `cst`, in one binary: every test binary links
//! the grammars (~200 MB each in a debug build), so one binary per file cost
//! gigabytes of `target/` and a link per file. Run one file's tests with
//! `cargo test -p cst --test it <module>::`. Tests that measure the process
//! (`hot_estimate`, `soak`, `bad_input`) or re-run it (`crash`, `readers`)
//! keep binaries of their own.

#[path = "../common/mod.rs"]
mod common;

mod cache;
mod corruption;
mod damage;
mod exactness;
mod huge;
mod incremental;
mod navigate;
mod reindex;
mod remote;
mod store;
