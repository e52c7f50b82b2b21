//! The integration tests of `cst-grammars`, in one binary: every test binary links
//! the grammars (~200 MB each in a debug build), so one binary per file cost
//! gigabytes of `target/` and a link per file. Run one file's tests with
//! `cargo test -p cst-grammars --test it <module>::`.

mod detection;
mod listing;
mod registry;
mod smoke;
