//! Arbitrary text in one of several grammars (byte 0 picks it): parse, encode,
//! open, and compare with the live tree (`verify`, `to_sexp`, range queries);
//! any difference is a finding. See `cst_bytecode::fuzzing::encode_and_verify`.
#![no_main]

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use cst_bytecode::Symbols;
use cst_bytecode::fuzzing::{ENCODE_GRAMMARS, encode_and_verify, split_encode_input};
use libfuzzer_sys::fuzz_target;

type Grammars = HashMap<&'static str, (tree_sitter::Language, Arc<Symbols>)>;

fn grammars() -> &'static Grammars {
    static G: OnceLock<Grammars> = OnceLock::new();
    G.get_or_init(|| {
        ENCODE_GRAMMARS
            .iter()
            .map(|&id| {
                let g = cst_grammars::by_id(id).unwrap();
                let lang = g.language().unwrap();
                let symbols = Arc::new(Symbols::from_language(&lang, g.fingerprint().unwrap().0));
                (id, (lang, symbols))
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Some((id, source)) = split_encode_input(data) {
        let (lang, symbols) = &grammars()[id];
        encode_and_verify(source, lang, symbols);
    }
});
