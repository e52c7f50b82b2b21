//! Decompress arbitrary bytes as a dense container: `Ok` or a typed error,
//! never a panic, never an allocation beyond the documented ratio bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cst_bytecode::fuzzing::decompress(data));
