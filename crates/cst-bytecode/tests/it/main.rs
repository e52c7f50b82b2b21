//! The integration tests of `cst-bytecode`, in one binary: every test binary links
//! the grammars (~200 MB each in a debug build), so one binary per file cost
//! gigabytes of `target/` and a link per file. Run one file's tests with
//! `cargo test -p cst-bytecode --test it <module>::`.

#[path = "../common/mod.rs"]
mod common;

mod cursor;
mod fuzz_regressions;
mod golden;
mod hardening;
mod peer_suites;
mod roundtrip;
