//! Decode and fully walk arbitrary bytes as an encoded tree: `Ok` or a typed
//! error, never a panic. See `cst_bytecode::fuzzing::decode_and_walk`.
#![no_main]

use std::sync::{Arc, OnceLock};

use cst_bytecode::Symbols;
use libfuzzer_sys::fuzz_target;

fn symbols() -> &'static Arc<Symbols> {
    static S: OnceLock<Arc<Symbols>> = OnceLock::new();
    S.get_or_init(|| {
        let g = cst_grammars::by_id("rust").unwrap();
        Arc::new(Symbols::from_language(&g.language().unwrap(), g.fingerprint().unwrap().0))
    })
}

fuzz_target!(|data: &[u8]| cst_bytecode::fuzzing::decode_and_walk(data, symbols()));
