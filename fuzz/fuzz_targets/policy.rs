//! Operation sequences on S3-FIFO, LRU and ARC, alone or as the tiers of a
//! `TierPolicy`, checked against a reference model: budgets hold, every key is
//! resident or reported gone exactly once, weights and counts agree.
//! See `cst_policy::fuzzing::policy`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cst_policy::fuzzing::policy(data));
