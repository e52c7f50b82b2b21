//! # cst-policy — cache policy for cst (placeholder)
//!
//! Will hold admission, eviction, promotion and demotion decisions under byte
//! budgets: pure logic, generic over keys and byte weights, with no I/O and no
//! knowledge of trees. Nothing is implemented yet; the tiers/policy issue
//! fills this crate.
