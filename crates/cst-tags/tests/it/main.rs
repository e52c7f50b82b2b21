//! The integration tests of `cst-tags`, in one binary: every test binary links
//! the grammars (~200 MB each in a debug build), so one binary per file cost
//! gigabytes of `target/` and a link per file. Run one file's tests with
//! `cargo test -p cst-tags --test it <module>::`.

#[path = "../../../cst-query/tests/common/mod.rs"]
mod common;

mod bundled_queries;
mod chunks;
#[cfg(feature = "differential")]
mod differential;
