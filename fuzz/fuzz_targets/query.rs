//! Queries (generated from a grammar's kinds and fields, or raw text) over
//! arbitrary source in one of six grammars: both compilers must agree, then
//! tree-sitter's `QueryCursor` on the live tree and cst-query on the stored
//! view, in matches and captures mode, under cursor settings drawn from the
//! input. See `cst_query::fuzzing::query_and_compare`.
#![no_main]

use std::sync::OnceLock;

use cst_query::fuzzing::{Lang, query_and_compare};
use libfuzzer_sys::fuzz_target;

const GRAMMARS: &[&str] = &["rust", "python", "javascript", "c", "json", "go"];

fn langs() -> &'static Vec<Lang> {
    static L: OnceLock<Vec<Lang>> = OnceLock::new();
    L.get_or_init(|| {
        GRAMMARS
            .iter()
            .map(|id| {
                let g = cst_grammars::by_id(id).unwrap();
                Lang::new(g.language().unwrap(), g.fingerprint().unwrap().0)
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    query_and_compare(data, langs());
});
