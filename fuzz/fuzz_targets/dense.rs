//! Decompress arbitrary bytes as a dense container: `Ok` or a typed error,
//! never a panic, never an allocation beyond the documented ratio bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cst_bytecode::dictionary_id(data);
    if let Ok(raw) = cst_bytecode::decompress(data, None) {
        assert!(raw.len() <= cst_bytecode::MAX_RAW_LEN as usize);
    }
});
